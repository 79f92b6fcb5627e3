//! API bearer tokens, stored as SHA-256 hashes of random secrets.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{api_tokens, users};
use crate::db::{DbConn, DbError, now};

use super::User;

/// A token row (the secret itself is never stored).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub created_at: PrimitiveDateTime,
    pub last_used_at: Option<PrimitiveDateTime>,
}

/// Stores a token hash for a user; returns the token id.
pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    token_hash: &str,
) -> Result<i64, DbError> {
    Ok(diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::created_at.eq(now()),
        ))
        .returning(api_tokens::id)
        .get_result(conn)?)
}

/// The user holding the token with this hash.
pub fn find_user(conn: &mut DbConn, token_hash: &str) -> Result<Option<(ApiToken, User)>, DbError> {
    Ok(crate::on_backend!(conn, c => api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((ApiToken::as_select(), User::as_select()))
        .get_result(c)
        .optional())?)
}

/// Tokens of a user, newest first.
pub fn list_for_user(conn: &mut DbConn, user_id: i64) -> Result<Vec<ApiToken>, DbError> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)?)
}

/// Revokes one token of a user.
pub fn delete(conn: &mut DbConn, user_id: i64, token_id: i64) -> Result<bool, DbError> {
    Ok(diesel::delete(
        api_tokens::table
            .filter(api_tokens::id.eq(token_id))
            .filter(api_tokens::user_id.eq(user_id)),
    )
    .execute(conn)?
        > 0)
}

/// Revokes every token of a user.
pub fn delete_for_user(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute(conn)?)
}

//! Server-side login sessions. The cookie carries a random token; the database keeps only
//! its SHA-256, so a leaked database does not hand out live sessions.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{sessions, users};
use crate::db::{DbConn, DbError, now};

use super::User;

/// A live session row.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
}

/// Stores a new session under `id_hash`.
pub fn create(
    conn: &mut DbConn,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: PrimitiveDateTime,
) -> Result<(), DbError> {
    let at = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(csrf_token),
            sessions::created_at.eq(at),
            sessions::expires_at.eq(expires_at),
            sessions::last_seen_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired session with this hash and its user.
pub fn find_with_user(
    conn: &mut DbConn,
    id_hash: &str,
) -> Result<Option<(Session, User)>, DbError> {
    let at = now();
    Ok(crate::on_backend!(conn, c => sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id_hash))
        .filter(sessions::expires_at.gt(at))
        .select((Session::as_select(), User::as_select()))
        .get_result(c)
        .optional())?)
}

/// Extends a session's expiry (sliding sessions), at most once a minute per session.
pub fn touch(
    conn: &mut DbConn,
    id_hash: &str,
    expires_at: PrimitiveDateTime,
) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id_hash))
        .set((
            sessions::last_seen_at.eq(now()),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends one session.
pub fn delete(conn: &mut DbConn, id_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Ends every session of a user.
pub fn delete_for_user(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// Removes expired sessions.
pub fn purge_expired(conn: &mut DbConn) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(conn)?)
}

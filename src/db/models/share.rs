//! Share links: a file or a folder reachable without an account through a random token
//! (stored hashed), for downloads or as an upload-only drop.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::shares;
use crate::db::{DbConn, DbError, now};

/// A share row.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = shares)]
pub struct Share {
    pub id: i64,
    pub token_hash: String,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    /// `download` or `upload`.
    pub kind: String,
    pub label: String,
    pub created_by: i64,
    pub password_hash: Option<String>,
    pub expires_at: Option<PrimitiveDateTime>,
    pub max_downloads: Option<i64>,
    pub downloads: i64,
    pub revoked_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
}

/// A share about to be recorded.
#[derive(Clone, Debug)]
pub struct NewShare {
    pub token_hash: String,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub kind: &'static str,
    pub label: String,
    pub created_by: i64,
    pub password_hash: Option<String>,
    pub expires_at: Option<PrimitiveDateTime>,
    pub max_downloads: Option<i64>,
}

/// Records a share.
pub fn insert(conn: &mut DbConn, new: &NewShare) -> Result<Share, DbError> {
    Ok(diesel::insert_into(shares::table)
        .values((
            shares::token_hash.eq(&new.token_hash),
            shares::file_id.eq(new.file_id),
            shares::folder_id.eq(new.folder_id),
            shares::kind.eq(new.kind),
            shares::label.eq(&new.label),
            shares::created_by.eq(new.created_by),
            shares::password_hash.eq(&new.password_hash),
            shares::expires_at.eq(new.expires_at),
            shares::max_downloads.eq(new.max_downloads),
            shares::downloads.eq(0_i64),
            shares::created_at.eq(now()),
        ))
        .returning(shares::all_columns)
        .get_result::<Share>(conn)?)
}

/// The share whose token hashes to `token_hash`.
pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> Result<Option<Share>, DbError> {
    Ok(shares::table
        .filter(shares::token_hash.eq(token_hash))
        .select(Share::as_select())
        .first(conn)
        .optional()?)
}

/// One share.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Share>, DbError> {
    Ok(shares::table
        .filter(shares::id.eq(id))
        .select(Share::as_select())
        .first(conn)
        .optional()?)
}

/// Shares, newest first: `creator`'s, or every one for `None`.
pub fn list(conn: &mut DbConn, creator: Option<i64>) -> Result<Vec<Share>, DbError> {
    let mut q = shares::table
        .select(Share::as_select())
        .order(shares::id.desc())
        .into_boxed();
    if let Some(c) = creator {
        q = q.filter(shares::created_by.eq(c));
    }
    Ok(q.load(conn)?)
}

/// The shares of one file or folder, newest first.
pub fn of_item(
    conn: &mut DbConn,
    file_id: Option<i64>,
    folder_id: Option<i64>,
) -> Result<Vec<Share>, DbError> {
    let q = shares::table
        .select(Share::as_select())
        .order(shares::id.desc())
        .into_boxed();
    let q = match (file_id, folder_id) {
        (Some(f), _) => q.filter(shares::file_id.eq(f)),
        (None, Some(f)) => q.filter(shares::folder_id.eq(f)),
        (None, None) => return Ok(Vec::new()),
    };
    Ok(q.load(conn)?)
}

/// Marks a share revoked (once).
pub fn revoke(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::update(
        shares::table
            .filter(shares::id.eq(id))
            .filter(shares::revoked_at.is_null()),
    )
    .set(shares::revoked_at.eq(Some(now())))
    .execute(conn)?)
}

/// Adds `n` completed downloads (links without a maximum, written in batches).
pub fn add_downloads(conn: &mut DbConn, id: i64, n: i64) -> Result<usize, DbError> {
    Ok(diesel::update(shares::table.filter(shares::id.eq(id)))
        .set(shares::downloads.eq(shares::downloads + n))
        .execute(conn)?)
}

/// Gives a started download's slot back (the transfer did not complete).
pub fn release_download(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::update(
        shares::table
            .filter(shares::id.eq(id))
            .filter(shares::downloads.gt(0)),
    )
    .set(shares::downloads.eq(shares::downloads - 1))
    .execute(conn)?)
}

/// Takes one download slot, unless the share reached its maximum; returns whether it did.
/// One conditional UPDATE: parallel downloads never take more slots than the maximum.
pub fn count_download(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    Ok(diesel::update(
        shares::table.filter(shares::id.eq(id)).filter(
            shares::max_downloads
                .is_null()
                .or(shares::downloads.lt(shares::max_downloads.assume_not_null())),
        ),
    )
    .set(shares::downloads.eq(shares::downloads + 1))
    .execute(conn)?
        > 0)
}

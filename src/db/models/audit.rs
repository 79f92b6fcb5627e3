//! The download audit: one row per delivery of a private file's bytes or refusal of one.
//! Rows are written in batches (`library::audit`); they name what they are about by id and
//! by name as it was, without foreign keys, so an entry outlives its file, user or share.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::download_audit;
use crate::db::{DbConn, DbError};

/// An audit row.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = download_audit)]
pub struct Entry {
    pub id: i64,
    pub at: PrimitiveDateTime,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub token_id: Option<i64>,
    pub share_id: Option<i64>,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub file_name: String,
    /// How the bytes were asked for: `private-url`, `stable-url`, `version`, `share`, `zip`.
    pub via: String,
    /// The file's size in bytes.
    pub size: i64,
    /// The `Range` header asked for, if any.
    pub byte_range: Option<String>,
    /// The HTTP status Coffer answered (for a ZIP entry, the archive's).
    pub status: i32,
    /// `sent`, `partial`, `not-modified`, `handed-off`, `head`, `refused` or `failed`.
    pub outcome: String,
    /// The server backend that delivered the bytes (`default`, `nginx`, …).
    pub backend: String,
    pub client_addr: String,
    pub user_agent: String,
}

/// An entry about to be written. `None` binds NULL rather than asking for the column's
/// default, so a batch is one multi-row INSERT on SQLite too (diesel inserts rows one by one
/// there when a value may be DEFAULT, which costs about twice as much per row).
#[derive(Insertable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = download_audit, treat_none_as_default_value = false)]
pub struct NewEntry {
    pub at: PrimitiveDateTime,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub token_id: Option<i64>,
    pub share_id: Option<i64>,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub file_name: String,
    pub via: &'static str,
    pub size: i64,
    pub byte_range: Option<String>,
    pub status: i32,
    pub outcome: &'static str,
    pub backend: &'static str,
    pub client_addr: String,
    pub user_agent: String,
}

/// Rows per multi-row INSERT. A fixed number makes it one statement text, prepared once per
/// connection and then reused from diesel's statement cache (preparing a statement this
/// long costs more than inserting its rows); the rows beyond the last full batch go one by
/// one, through another cached statement.
const BATCH: usize = 100;

/// Writes `entries` in one transaction.
pub fn insert_all(conn: &mut DbConn, entries: &[NewEntry]) -> Result<(), DbError> {
    conn.transaction(|conn| {
        let batches = entries.chunks_exact(BATCH);
        let rest = batches.remainder();
        for batch in batches {
            let batch: &[NewEntry; BATCH] = batch
                .try_into()
                .map_err(|_| DbError::Blocking("an audit batch of the wrong length".into()))?;
            crate::on_backend!(conn, c => diesel::insert_into(download_audit::table)
                .values(batch)
                .execute(c))?;
        }
        for entry in rest {
            crate::on_backend!(conn, c => diesel::insert_into(download_audit::table)
                .values(entry)
                .execute(c))?;
        }
        Ok(())
    })
}

/// Which entries to read. `folders` (when set) limits to files in those folders.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub file_id: Option<i64>,
    pub folders: Option<Vec<i64>>,
    pub user_id: Option<i64>,
    pub share_id: Option<i64>,
    pub since: Option<PrimitiveDateTime>,
    pub until: Option<PrimitiveDateTime>,
    /// Only entries with a smaller id (the next page, newest first).
    pub before_id: Option<i64>,
}

/// Entries matching `filter`, newest first, at most `limit`.
pub fn list(conn: &mut DbConn, filter: &Filter, limit: i64) -> Result<Vec<Entry>, DbError> {
    let mut q = download_audit::table
        .select(Entry::as_select())
        .order(download_audit::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = filter.file_id {
        q = q.filter(download_audit::file_id.eq(id));
    }
    if let Some(ids) = &filter.folders {
        q = q.filter(download_audit::folder_id.eq_any(ids.clone()));
    }
    if let Some(id) = filter.user_id {
        q = q.filter(download_audit::user_id.eq(id));
    }
    if let Some(id) = filter.share_id {
        q = q.filter(download_audit::share_id.eq(id));
    }
    if let Some(t) = filter.since {
        q = q.filter(download_audit::at.ge(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(download_audit::at.lt(t));
    }
    if let Some(id) = filter.before_id {
        q = q.filter(download_audit::id.lt(id));
    }
    Ok(q.load(conn)?)
}

/// Deletes entries older than `before`; how many.
pub fn prune(conn: &mut DbConn, before: PrimitiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(download_audit::table.filter(download_audit::at.lt(before)))
            .execute(conn)?,
    )
}

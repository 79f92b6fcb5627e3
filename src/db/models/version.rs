//! Versions: a file's earlier contents, kept when it is replaced. A version's object lives
//! in the file's storage (moved with it) under a key of its own.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{file_versions, files};
use crate::db::{DbConn, DbError, now};

use super::File;

/// A kept earlier content of a file.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = file_versions)]
pub struct Version {
    pub id: i64,
    pub file_id: i64,
    pub storage_key: String,
    pub original_filename: String,
    pub size: i64,
    pub sha256: String,
    pub mime_type: String,
    pub created_at: PrimitiveDateTime,
    pub replaced_at: PrimitiveDateTime,
    pub replaced_by: Option<i64>,
}

/// Keeps `f`'s current content (its key, name, size, hash and type) as a version, replaced
/// now by `by`.
pub fn keep_current(conn: &mut DbConn, f: &File, by: Option<i64>) -> Result<Version, DbError> {
    Ok(diesel::insert_into(file_versions::table)
        .values((
            file_versions::file_id.eq(f.id),
            file_versions::storage_key.eq(&f.storage_key),
            file_versions::original_filename.eq(&f.original_filename),
            file_versions::size.eq(f.size),
            file_versions::sha256.eq(&f.sha256),
            file_versions::mime_type.eq(&f.mime_type),
            file_versions::created_at.eq(f.modified_at),
            file_versions::replaced_at.eq(now()),
            file_versions::replaced_by.eq(by),
        ))
        .returning(file_versions::all_columns)
        .get_result::<Version>(conn)?)
}

/// A file's versions, newest first.
pub fn for_file(conn: &mut DbConn, file_id: i64) -> Result<Vec<Version>, DbError> {
    Ok(file_versions::table
        .filter(file_versions::file_id.eq(file_id))
        .select(Version::as_select())
        .order((file_versions::replaced_at.desc(), file_versions::id.desc()))
        .load(conn)?)
}

/// Version `id` of file `file_id`.
pub fn find(conn: &mut DbConn, file_id: i64, id: i64) -> Result<Option<Version>, DbError> {
    Ok(file_versions::table
        .filter(file_versions::id.eq(id))
        .filter(file_versions::file_id.eq(file_id))
        .select(Version::as_select())
        .first(conn)
        .optional()?)
}

/// Forgets a version row (its object is the caller's to schedule).
pub fn delete(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(file_versions::table.filter(file_versions::id.eq(id))).execute(conn)?)
}

/// Points a version at its object's new key (after a move between storages).
pub fn set_key(conn: &mut DbConn, id: i64, key: &str) -> Result<usize, DbError> {
    Ok(
        diesel::update(file_versions::table.filter(file_versions::id.eq(id)))
            .set(file_versions::storage_key.eq(key))
            .execute(conn)?,
    )
}

/// Every version key with its file's `is_public`: for the integrity check.
pub fn all_keys(conn: &mut DbConn) -> Result<Vec<(String, bool)>, DbError> {
    Ok(file_versions::table
        .inner_join(files::table)
        .select((file_versions::storage_key, files::is_public))
        .load(conn)?)
}

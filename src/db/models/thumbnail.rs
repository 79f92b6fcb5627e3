//! Thumbnail rows: which generated variants of a file exist, and under which key. The
//! storage they live in follows the source file's `is_public`.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::thumbnails;
use crate::db::{DbConn, DbError, now};

/// A generated thumbnail.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = thumbnails)]
pub struct Thumbnail {
    pub id: i64,
    pub file_id: i64,
    pub spec: String,
    pub storage_key: String,
    pub mime_type: String,
    pub size: i64,
    pub created_at: PrimitiveDateTime,
}

/// Records a thumbnail whose bytes are in place.
pub fn insert(
    conn: &mut DbConn,
    file_id: i64,
    spec: &str,
    key: &str,
    mime_type: &str,
    size: i64,
) -> Result<Thumbnail, DbError> {
    Ok(diesel::insert_into(thumbnails::table)
        .values((
            thumbnails::file_id.eq(file_id),
            thumbnails::spec.eq(spec),
            thumbnails::storage_key.eq(key),
            thumbnails::mime_type.eq(mime_type),
            thumbnails::size.eq(size),
            thumbnails::created_at.eq(now()),
        ))
        .returning(thumbnails::all_columns)
        .get_result(conn)?)
}

/// The thumbnail of one file for one spec key.
pub fn find_for_spec(
    conn: &mut DbConn,
    file_id: i64,
    spec: &str,
) -> Result<Option<Thumbnail>, DbError> {
    Ok(thumbnails::table
        .filter(thumbnails::file_id.eq(file_id))
        .filter(thumbnails::spec.eq(spec))
        .select(Thumbnail::as_select())
        .first(conn)
        .optional()?)
}

/// Every thumbnail with its source's `is_public` (for `coffer thumbnails clear`).
pub fn all_with_storage(conn: &mut DbConn) -> Result<Vec<(Thumbnail, bool)>, DbError> {
    use crate::db::schema::files;
    Ok(thumbnails::table
        .inner_join(files::table)
        .select((Thumbnail::as_select(), files::is_public))
        .order(thumbnails::id.asc())
        .load(conn)?)
}

/// Forgets one thumbnail row.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(thumbnails::table.find(id)).execute(conn)?)
}

/// Thumbnails of one file.
pub fn for_file(conn: &mut DbConn, file_id: i64) -> Result<Vec<Thumbnail>, DbError> {
    Ok(thumbnails::table
        .filter(thumbnails::file_id.eq(file_id))
        .order(thumbnails::id.asc())
        .select(Thumbnail::as_select())
        .load(conn)?)
}

/// Thumbnails of many files.
pub fn for_files(conn: &mut DbConn, file_ids: &[i64]) -> Result<Vec<Thumbnail>, DbError> {
    let mut out = Vec::new();
    for chunk in file_ids.chunks(500) {
        out.extend(
            thumbnails::table
                .filter(thumbnails::file_id.eq_any(chunk))
                .select(Thumbnail::as_select())
                .load::<Thumbnail>(conn)?,
        );
    }
    Ok(out)
}

/// The thumbnail stored under `key`.
pub fn find_by_key(conn: &mut DbConn, key: &str) -> Result<Option<Thumbnail>, DbError> {
    Ok(crate::on_backend!(conn, c => thumbnails::table
        .filter(thumbnails::storage_key.eq(key))
        .select(Thumbnail::as_select())
        .get_result(c)
        .optional())?)
}

/// Changes a thumbnail's key (after a storage move).
pub fn set_key(conn: &mut DbConn, id: i64, key: &str) -> Result<(), DbError> {
    diesel::update(thumbnails::table.find(id))
        .set(thumbnails::storage_key.eq(key))
        .execute(conn)?;
    Ok(())
}

/// Forgets every thumbnail of a file.
pub fn delete_for_file(conn: &mut DbConn, file_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(thumbnails::table.filter(thumbnails::file_id.eq(file_id))).execute(conn)?)
}

/// Every thumbnail key with its source's `is_public`: for the integrity check.
pub fn all_keys(conn: &mut DbConn) -> Result<Vec<(String, bool)>, DbError> {
    use crate::db::schema::files;
    Ok(thumbnails::table
        .inner_join(files::table)
        .select((thumbnails::storage_key, files::is_public))
        .load(conn)?)
}

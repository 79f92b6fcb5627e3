//! Why an image has no thumbnails: at most one recorded reason per file.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::thumbnail_failures;
use crate::db::{DbConn, DbError, now};

/// A recorded failure.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = thumbnail_failures)]
pub struct ThumbnailFailure {
    pub file_id: i64,
    pub reason: String,
    pub failed_at: PrimitiveDateTime,
}

/// Records (or replaces) the reason a file's thumbnails cannot be made.
pub fn record(conn: &mut DbConn, file_id: i64, reason: &str) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(thumbnail_failures::table.find(file_id)).execute(conn)?;
        diesel::insert_into(thumbnail_failures::table)
            .values((
                thumbnail_failures::file_id.eq(file_id),
                thumbnail_failures::reason.eq(reason),
                thumbnail_failures::failed_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The recorded failure of one file.
pub fn find(conn: &mut DbConn, file_id: i64) -> Result<Option<ThumbnailFailure>, DbError> {
    Ok(thumbnail_failures::table
        .find(file_id)
        .select(ThumbnailFailure::as_select())
        .first(conn)
        .optional()?)
}

/// The recorded failures of many files.
pub fn for_files(conn: &mut DbConn, file_ids: &[i64]) -> Result<Vec<ThumbnailFailure>, DbError> {
    let mut out = Vec::new();
    for chunk in file_ids.chunks(500) {
        out.extend(
            thumbnail_failures::table
                .filter(thumbnail_failures::file_id.eq_any(chunk))
                .select(ThumbnailFailure::as_select())
                .load::<ThumbnailFailure>(conn)?,
        );
    }
    Ok(out)
}

/// Forgets a file's failure (its thumbnails will be tried again).
pub fn clear(conn: &mut DbConn, file_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(thumbnail_failures::table.find(file_id)).execute(conn)?)
}

/// Forgets every recorded failure.
pub fn clear_all(conn: &mut DbConn) -> Result<usize, DbError> {
    Ok(diesel::delete(thumbnail_failures::table).execute(conn)?)
}

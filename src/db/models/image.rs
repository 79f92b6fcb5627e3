//! Image metadata, one row per image file.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::images;
use crate::db::{DbConn, DbError};

/// Width, height and the descriptive fields of an image.
#[derive(Queryable, Selectable, Insertable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = images)]
pub struct ImageMeta {
    pub file_id: i64,
    pub width: i32,
    pub height: i32,
    pub orientation: i16,
    pub subject_location: Option<String>,
    pub alt_text: String,
    pub caption: String,
    pub date_taken: Option<PrimitiveDateTime>,
}

/// Stores (or replaces) the metadata of an image.
pub fn upsert(conn: &mut DbConn, meta: &ImageMeta) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(images::table.find(meta.file_id)).execute(conn)?;
        diesel::insert_into(images::table)
            .values(meta.clone())
            .execute(conn)?;
        Ok(())
    })
}

/// The metadata of one file, if it is an image.
pub fn find(conn: &mut DbConn, file_id: i64) -> Result<Option<ImageMeta>, DbError> {
    Ok(images::table
        .find(file_id)
        .select(ImageMeta::as_select())
        .first(conn)
        .optional()?)
}

/// Removes image metadata (the file is no longer an image).
pub fn delete(conn: &mut DbConn, file_id: i64) -> Result<(), DbError> {
    diesel::delete(images::table.find(file_id)).execute(conn)?;
    Ok(())
}

/// A file id with its image metadata (if an image) and recorded thumbnail failure reason.
pub type WithFailure = (i64, Option<ImageMeta>, Option<String>);

/// The image metadata and recorded thumbnail failure of many files, in one query per 500
/// ids, for every id that names a file.
pub fn with_failures(conn: &mut DbConn, file_ids: &[i64]) -> Result<Vec<WithFailure>, DbError> {
    use crate::db::schema::{files, thumbnail_failures};
    let mut out = Vec::with_capacity(file_ids.len());
    for chunk in file_ids.chunks(500) {
        out.extend(
            files::table
                .left_join(images::table)
                .left_join(thumbnail_failures::table)
                .filter(files::id.eq_any(chunk))
                .select((
                    files::id,
                    Option::<ImageMeta>::as_select(),
                    thumbnail_failures::reason.nullable(),
                ))
                .load::<WithFailure>(conn)?,
        );
    }
    Ok(out)
}

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
    conn.transaction(|conn| {
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

//! Image metadata of files: read from the header when an image is uploaded (or its content
//! replaced) — size as displayed, EXIF orientation and date taken — and the fields people
//! edit: alt text, caption and the focal point that crops follow.

use std::collections::HashMap;

use super::Library;
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File};
use crate::db::models::image::{self, ImageMeta};
use crate::db::models::thumbnail_failure;
use crate::domain::focal::FocalPoint;
use crate::images::{self, Format, ImageError, ThumbnailSpec};
use crate::storage::StorageKey;

use super::{Error, Result, thumbnails};

/// What the header of a stored object says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    /// Not an image type Coffer reads (by its sniffed content type).
    NotAnImage,
    /// An image; `refused` says why it will get no thumbnails (over the limits).
    Image {
        meta: ImageMeta,
        refused: Option<String>,
    },
    /// Claims to be an image but its header cannot be read.
    Unreadable(String),
}

/// Reads the header of the object `key` in the main storage for `is_public` (blocking).
pub fn read_header(lib: &Library, key: &StorageKey, is_public: bool, mime_type: &str) -> Header {
    let Some(format) = Format::from_mime(mime_type) else {
        return Header::NotAnImage;
    };
    let opened = lib.storages.main(is_public).open_read(key);
    let probe = match opened {
        Ok(f) => images::probe(f, format),
        Err(e) => Err(ImageError::Io(std::io::Error::other(e.to_string()))),
    };
    match probe {
        Ok(p) => Header::Image {
            refused: lib
                .thumbnails
                .limits()
                .check_dimensions(p.stored_width, p.stored_height)
                .err()
                .map(|e| e.to_string()),
            meta: ImageMeta {
                file_id: 0,
                width: i32::try_from(p.width).unwrap_or(i32::MAX),
                height: i32::try_from(p.height).unwrap_or(i32::MAX),
                orientation: i16::from(p.orientation),
                subject_location: None,
                alt_text: String::new(),
                caption: String::new(),
                date_taken: p.date_taken,
            },
        },
        Err(e) if e.is_permanent() => Header::Unreadable(e.to_string()),
        Err(e) => {
            tracing::warn!(key = %key, error = %e, "could not read an image header");
            Header::NotAnImage
        }
    }
}

/// Records what [`read_header`] found for `file_id` (inside the caller's transaction).
/// Returns true when the eager thumbnails should be queued.
pub fn record_header(conn: &mut DbConn, file_id: i64, header: &Header) -> Result<bool> {
    match header {
        Header::NotAnImage => {
            image::delete(conn, file_id)?;
            Ok(false)
        }
        Header::Image { meta, refused } => {
            image::upsert(
                conn,
                &ImageMeta {
                    file_id,
                    ..meta.clone()
                },
            )?;
            if let Some(reason) = refused {
                thumbnail_failure::record(conn, file_id, reason)?;
            }
            Ok(refused.is_none())
        }
        Header::Unreadable(reason) => {
            image::delete(conn, file_id)?;
            thumbnail_failure::record(conn, file_id, reason)?;
            Ok(false)
        }
    }
}

/// After a file's content was replaced: reads the new header, keeps alt text and caption
/// (and the focal point if it still lies inside), drops the old thumbnails and queues the
/// eager ones.
pub fn refresh(lib: &Library, conn: &mut DbConn, file_id: i64) -> Result<()> {
    let f = file::find(conn, file_id)?.ok_or(Error::NotFound)?;
    let key = StorageKey::parse(&f.storage_key)
        .map_err(|_| Error::Invalid(format!("file {} has an invalid storage key", f.id)))?;
    let mut header = read_header(lib, &key, f.is_public, &f.mime_type);
    if let (Header::Image { meta, .. }, Some(old)) = (&mut header, image::find(conn, file_id)?) {
        meta.alt_text = old.alt_text;
        meta.caption = old.caption;
        meta.subject_location = FocalPoint::from_stored(old.subject_location.as_deref())
            .filter(|p| p.lies_within(meta.width, meta.height))
            .map(|p| p.to_string());
    }
    thumbnails::forget_thumbnails(&lib.thumbnails, conn, file_id, |_| true)?;
    let queue = crate::db::write_transaction(conn, |conn| record_header(conn, file_id, &header))?;
    if queue {
        thumbnails::queue(&lib.thumbnails, file_id);
    }
    Ok(())
}

/// Changes to an image's own fields; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ImageEdit {
    pub alt_text: Option<String>,
    pub caption: Option<String>,
    /// `Some(None)` removes the focal point.
    pub subject_location: Option<Option<FocalPoint>>,
}

impl ImageEdit {
    /// True when nothing is to change.
    pub fn is_empty(&self) -> bool {
        self.alt_text.is_none() && self.caption.is_none() && self.subject_location.is_none()
    }
}

fn check_text(value: &str, rule: crate::domain::text::TextRule) -> Result<String> {
    rule.parse(value).map_err(|e| Error::Invalid(e.to_string()))
}

/// Applies `edit` to an image (needs edit on the file). Moving the focal point drops the
/// crops made for the old one and queues new ones.
#[tracing::instrument(skip_all, fields(user_id = user.id, file_id))]
pub fn edit(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    file_id: i64,
    edit: &ImageEdit,
) -> Result<File> {
    if let Some(checked) = check_edit(lib, conn, user, file_id, edit)?
        && store_edit(conn, &checked)?
    {
        recrop(lib, conn, file_id)?;
    }
    file::find(conn, file_id)?.ok_or(Error::NotFound)
}

/// An image edit that passed every check, ready to be stored by [`store_edit`].
#[derive(Clone, Debug)]
pub struct CheckedEdit {
    meta: ImageMeta,
    moved: bool,
}

/// Checks `edit` (needs edit on the file; values within their limits; the focal point
/// inside the image) without storing anything. `None` when there is nothing to change.
#[tracing::instrument(skip_all, fields(user_id = user.id, file_id))]
pub fn check_edit(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    file_id: i64,
    edit: &ImageEdit,
) -> Result<Option<CheckedEdit>> {
    super::files::editable(lib, conn, user, crate::domain::ids::FileId::new(file_id))?;
    if edit.is_empty() {
        return Ok(None);
    }
    let mut meta = image::find(conn, file_id)?.ok_or_else(|| {
        Error::Invalid(format!(
            "file {file_id} is not an image: alt_text, caption and subject_location apply to images only"
        ))
    })?;
    if let Some(v) = &edit.alt_text {
        meta.alt_text = check_text(v, crate::domain::text::ALT_TEXT)?;
    }
    if let Some(v) = &edit.caption {
        meta.caption = check_text(v, crate::domain::text::CAPTION)?;
    }
    let mut moved = false;
    if let Some(subject) = edit.subject_location {
        if let Some(p) = subject
            && !p.lies_within(meta.width, meta.height)
        {
            return Err(Error::Invalid(format!(
                "subject_location ({}, {}) lies outside the {} × {} image",
                p.x, p.y, meta.width, meta.height
            )));
        }
        let new = subject.map(|p| p.to_string());
        moved = new != meta.subject_location;
        meta.subject_location = new;
    }
    Ok(Some(CheckedEdit { meta, moved }))
}

/// Stores a checked edit (one transaction). Returns true when the focal point moved; then
/// call [`recrop`].
pub fn store_edit(conn: &mut DbConn, checked: &CheckedEdit) -> Result<bool> {
    crate::db::write_transaction(conn, |conn| {
        image::upsert(conn, &checked.meta)?;
        file::update(conn, checked.meta.file_id, &file::FileChanges::default())?;
        Ok::<_, Error>(())
    })?;
    Ok(checked.moved)
}

/// After the focal point moved: drops the crops made for the old one (rows, then objects)
/// and queues the eager presets, whose crops are then made around the new one.
pub fn recrop(lib: &Library, conn: &mut DbConn, file_id: i64) -> Result<()> {
    thumbnails::forget_thumbnails(&lib.thumbnails, conn, file_id, |spec| {
        ThumbnailSpec::parse(spec).is_ok_and(|s| s.crop)
    })?;
    thumbnails::queue(&lib.thumbnails, file_id);
    Ok(())
}

/// Parses a focal point typed as `x,y` ([`FocalPoint::parse`]); empty means none.
pub fn parse_focal_point(input: &str) -> Result<Option<FocalPoint>> {
    FocalPoint::parse(input).map_err(|e| Error::Invalid(e.to_string()))
}

/// How a file is shown in the admin: its thumbnail, or its type icon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Look {
    /// An image with thumbnails: its size as displayed and its alt text.
    Thumbnail {
        width: u32,
        height: u32,
        alt_text: String,
    },
    /// An image whose thumbnails cannot be made: the type icon, and why.
    Failed(String),
    /// Not an image Coffer reads (SVG included): the type icon.
    Icon,
}

impl Look {
    /// The look of `f` given its image metadata and recorded thumbnail failure.
    pub fn of(f: &File, meta: Option<&ImageMeta>, failure: Option<&str>) -> Self {
        if let Some(reason) = failure {
            return Look::Failed(reason.to_owned());
        }
        match meta {
            Some(m) if Format::from_mime(&f.mime_type).is_some() => Look::Thumbnail {
                width: u32::try_from(m.width).unwrap_or(0),
                height: u32::try_from(m.height).unwrap_or(0),
                alt_text: m.alt_text.clone(),
            },
            _ => Look::Icon,
        }
    }
}

/// The looks of `files`, by file id, in one query (per 500 files).
pub fn looks(conn: &mut DbConn, files: &[File]) -> Result<HashMap<i64, Look>> {
    if files.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let mut found: HashMap<i64, (Option<ImageMeta>, Option<String>)> =
        image::with_failures(conn, &ids)?
            .into_iter()
            .map(|(id, meta, failure)| (id, (meta, failure)))
            .collect();
    Ok(files
        .iter()
        .map(|f| {
            let (meta, failure) = found.remove(&f.id).unwrap_or_default();
            (f.id, Look::of(f, meta.as_ref(), failure.as_deref()))
        })
        .collect())
}

/// `coffer thumbnails generate`: makes the missing thumbnails of every image in `folder`
/// and its subfolders (everywhere with `None`), for every preset or the one named.
pub fn generate_thumbnails(
    lib: &Library,
    folder: Option<i64>,
    preset: Option<&str>,
    progress: impl FnMut(thumbnails::Progress<'_>) + Send,
) -> Result<thumbnails::GenerateReport> {
    let folders = match folder {
        Some(id) => {
            let mut conn = lib
                .pool
                .get()
                .map_err(|e| Error::Db(crate::db::DbError::Pool(e)))?;
            crate::db::models::folder::find(&mut conn, id)?
                .ok_or_else(|| Error::Invalid(format!("folder {id} does not exist")))?;
            let mut ids = lib.access(&mut conn, None)?.tree().descendants(id);
            ids.push(id);
            Some(ids)
        }
        None => None,
    };
    thumbnails::generate(&lib.thumbnails, folders.as_deref(), preset, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focal_points_parse_or_say_why_not() {
        assert_eq!(parse_focal_point("").unwrap(), None);
        assert_eq!(parse_focal_point("  ").unwrap(), None);
        assert_eq!(
            parse_focal_point("12,34").unwrap(),
            Some(FocalPoint { x: 12, y: 34 })
        );
        assert_eq!(
            parse_focal_point(" (12, 34) ").unwrap(),
            Some(FocalPoint { x: 12, y: 34 })
        );
        for bad in [
            "12",
            "12,",
            "a,b",
            "-1,3",
            "1.5,2",
            "1,2,3",
            "(1,2",
            "9999999999,1",
        ] {
            let e = parse_focal_point(bad).unwrap_err().to_string();
            assert!(e.contains("two whole numbers"), "{bad}: {e}");
        }
    }
}

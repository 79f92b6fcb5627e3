//! A file's page for the people who read it: where it lies, its facts, the files before and
//! after it in its folder, and, for text, its first bytes to show.

use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File};
use crate::db::models::image;
use crate::domain::ids::FileId;
use crate::permissions::Right;
use crate::storage::StorageKey;

use super::{Library, Result};

/// How much of a text file its page shows.
pub const TEXT_PREVIEW_BYTES: usize = 64 * 1024;

/// Everything a file's page shows, decided for the person looking at it.
pub struct FileView {
    pub file: File,
    /// The folder's path, root first, ending with the folder itself: (id, name), `None` for
    /// a folder the viewer may not read. Empty for an unsorted upload.
    pub place: Vec<Option<(i64, String)>>,
    pub owner_name: String,
    /// The readable files before and after it in its folder, by name: (id, label).
    pub previous: Option<(i64, String)>,
    pub next: Option<(i64, String)>,
    pub image: Option<image::ImageMeta>,
    pub can_edit: bool,
    /// Earlier contents, newest first (downloaded with the file's read check).
    pub versions: Vec<super::versions::Listed>,
}

/// The page of file `id` for `viewer`, who must be able to read it (else `NotFound`).
#[tracing::instrument(skip_all, fields(user_id = viewer.id, %id))]
pub fn view(lib: &Library, conn: &mut DbConn, viewer: &User, id: FileId) -> Result<FileView> {
    let (f, access) = super::files::with_right(lib, conn, Some(viewer), id, Right::Read)?;
    let readable = access.folders_with(Right::Read);
    let place = match f.folder_id {
        Some(folder_id) => {
            let mut path = access.tree().ancestors(folder_id);
            path.push(folder_id);
            super::browse::named_path(conn, &readable, &path)?
        }
        None => Vec::new(),
    };
    // Unsorted uploads: one's own (a superuser's view: all of them).
    let owner_filter = match f.folder_id {
        None if !viewer.is_superuser => Some(viewer.id),
        _ => None,
    };
    let siblings: Vec<File> = file::in_folder(conn, f.folder_id, owner_filter)?
        .into_iter()
        .filter(|s| access.can(Right::Read, s))
        .collect();
    let at = siblings.iter().position(|s| s.id == f.id);
    let neighbour = |i: Option<usize>| {
        i.and_then(|i| siblings.get(i))
            .map(|s| (s.id, s.label().to_owned()))
    };
    let previous = neighbour(at.and_then(|i| i.checked_sub(1)));
    let next = neighbour(at.map(|i| i + 1));
    let owner_name = super::files::owner_name(conn, &f)?;
    Ok(FileView {
        versions: super::versions::listed(conn, f.id)?,
        image: image::find(conn, f.id)?,
        can_edit: access.can(Right::Edit, &f),
        file: f,
        place,
        owner_name,
        previous,
        next,
    })
}

/// The first [`TEXT_PREVIEW_BYTES`] of a text file (stored as text only when it is valid
/// UTF-8), cut at a character boundary, and whether there is more. `None` for other types
/// or when the bytes cannot be read. The caller has checked the read permission.
pub fn text_preview(lib: &Library, f: &File) -> Option<(String, bool)> {
    if !f.mime_type.starts_with("text/") {
        return None;
    }
    let key = StorageKey::parse(&f.storage_key).ok()?;
    let mut head = lib
        .storages
        .main(f.is_public)
        .read_prefix(&key, u64::try_from(TEXT_PREVIEW_BYTES).ok()? + 1)
        .ok()?;
    let more = head.len() > TEXT_PREVIEW_BYTES;
    head.truncate(TEXT_PREVIEW_BYTES);
    let text = match String::from_utf8(head) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
    };
    Some((text, more))
}

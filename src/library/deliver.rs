//! Which bytes a download may have: the file or thumbnail row behind a URL, the read
//! permission (public files: anyone), and the object in the storage the row names at that
//! instant. The web layer only opens what this module hands it, through a server backend.
//!
//! An object can vanish between reading its row and opening it (a move between storages
//! committed and deleted the source); a delivery that follows the row reads it again and
//! opens the new place, so a reader of an existing file never gets 404 from a race.

use crate::db::DbConn;
use crate::db::models::file::{self, File};
use crate::db::models::{User, thumbnail};
use crate::permissions::Right;
use crate::storage::{LocalStorage, StorageError, StorageKey, StorageRole};

use super::{Error, Library, Result};

/// What a delivery came to.
#[derive(Debug)]
pub enum Delivery<T> {
    /// Nothing there, or nothing this caller may know of: 404.
    Missing,
    /// Refused. The reason in names (only with `debug`; empty otherwise, when nothing more
    /// is looked up).
    Denied(String),
    /// The thumbnail was dropped since it was made (content replaced): the type icon.
    Dropped,
    /// What `open` returned.
    Ready(T),
}

/// An object to open, described for the download headers.
#[derive(Debug)]
pub struct Source<'a> {
    pub storage: &'a LocalStorage,
    pub key: StorageKey,
    pub mime: &'a str,
    pub download_name: String,
    /// What the strong ETag is made from.
    pub etag_source: String,
    /// In a private storage (served by the private backend) or a public one.
    pub private: bool,
    /// A thumbnail (the thumbnail backend) or a main file.
    pub thumbnail: bool,
}

/// What a delivery follows when its object vanished under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// The row, wherever it now points: the stable URL.
    Row,
    /// The key that was asked for: a key that moved is gone (404).
    Key,
}

/// How often the row is read again when its object vanished meanwhile. Each retry needs
/// another move to commit between reading the row and opening the object; a move takes
/// far longer than that window.
const MAX_ATTEMPTS: usize = 16;

/// `None` when `user` may read the file (public files: anyone), else the refusal.
pub fn refusal(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    f: &File,
) -> Result<Option<String>> {
    if f.is_public {
        return Ok(None);
    }
    let access = lib.access(conn, user)?;
    let decision = access.decide(Right::Read, f);
    if decision.allowed {
        return Ok(None);
    }
    // Without `debug` nothing more is looked up: the answer is a plain 404.
    let why = if lib.settings.debug {
        super::readers::explain(conn, &access, &decision)?
    } else {
        String::new()
    };
    Ok(Some(why))
}

/// The private file stored under `key` (`Follow::Key`) or the file `id` (`Follow::Row`,
/// public ones too), opened by `open` after the read check.
pub fn file<T>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    by: FileBy<'_>,
    mut open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    let (found, follow) = match by {
        FileBy::PrivateKey(key) => (file::find_by_key(conn, key.as_str(), false)?, Follow::Key),
        FileBy::Id(id) => (file::find(conn, id)?, Follow::Row),
    };
    let Some(mut f) = found else {
        return Ok(Delivery::Missing);
    };
    for _attempt in 0..MAX_ATTEMPTS {
        if let Some(why) = refusal(lib, conn, user, &f)? {
            return Ok(Delivery::Denied(why));
        }
        let Ok(key) = StorageKey::parse(&f.storage_key) else {
            return Ok(Delivery::Missing);
        };
        let source = Source {
            storage: lib.storages.main(f.is_public).local(),
            key,
            mime: &f.mime_type,
            download_name: f.original_filename.clone(),
            etag_source: f.sha256.clone(),
            private: !f.is_public,
            thumbnail: false,
        };
        match open(source) {
            Ok(t) => return Ok(Delivery::Ready(t)),
            Err(StorageError::NotFound) if follow == Follow::Row => match file::find(conn, f.id)? {
                Some(again) => f = again,
                None => return Ok(Delivery::Missing),
            },
            Err(StorageError::NotFound) => return Ok(Delivery::Missing),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Storage(StorageError::Io(std::io::Error::other(
        format!(
            "file {}: its object moved on every attempt to open it",
            f.id
        ),
    ))))
}

/// How a file delivery names its file.
#[derive(Clone, Copy, Debug)]
pub enum FileBy<'a> {
    /// A private storage key from a URL.
    PrivateKey(&'a StorageKey),
    /// The id of the stable URL.
    Id(i64),
}

/// The private thumbnail stored under `key`; the source file's read permission decides.
/// The thumbnail is found through its row, never by cutting the key.
pub fn private_thumbnail<T>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    key: &StorageKey,
    open: impl FnOnce(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    let Some(t) = thumbnail::find_by_key(conn, key.as_str())? else {
        return Ok(Delivery::Missing);
    };
    let Some(f) = file::find(conn, t.file_id)?.filter(|f| !f.is_public) else {
        return Ok(Delivery::Missing);
    };
    if let Some(why) = refusal(lib, conn, user, &f)? {
        return Ok(Delivery::Denied(why));
    }
    let source = Source {
        storage: lib.storages.get(StorageRole::PrivateThumbnails).local(),
        key: key.clone(),
        mime: &t.mime_type,
        download_name: thumbnail_name(&f, key),
        etag_source: format!("{}-{}", t.id, t.size),
        private: true,
        thumbnail: true,
    };
    match open(source) {
        Ok(obj) => Ok(Delivery::Ready(obj)),
        Err(StorageError::NotFound) => Ok(Delivery::Missing),
        Err(e) => Err(e.into()),
    }
}

/// The file `id` if `user` may read it: its content type (to pick an icon), before a preset
/// thumbnail is made.
pub fn readable_mime(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    id: i64,
) -> Result<Delivery<String>> {
    let Some(f) = file::find(conn, id)? else {
        return Ok(Delivery::Missing);
    };
    Ok(match refusal(lib, conn, user, &f)? {
        Some(why) => Delivery::Denied(why),
        None => Delivery::Ready(f.mime_type),
    })
}

/// The thumbnail `spec` of file `id` where its row names it now, after the source file's
/// read check. A thumbnail whose object vanished because a toggle moved it meanwhile is
/// looked up again.
pub fn preset_thumbnail<T>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    id: i64,
    spec: &str,
    mut open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    for _attempt in 0..MAX_ATTEMPTS {
        let Some(f) = file::find(conn, id)? else {
            return Ok(Delivery::Missing);
        };
        if let Some(why) = refusal(lib, conn, user, &f)? {
            return Ok(Delivery::Denied(why));
        }
        let Some(t) = thumbnail::find_for_spec(conn, id, spec)? else {
            // Dropped since it was made: the next request makes it again.
            return Ok(Delivery::Dropped);
        };
        let Ok(key) = StorageKey::parse(&t.storage_key) else {
            return Ok(Delivery::Missing);
        };
        let source = Source {
            storage: lib.storages.thumbnails(f.is_public).local(),
            download_name: thumbnail_name(&f, &key),
            key,
            mime: &t.mime_type,
            etag_source: format!("{}-{}", t.id, t.size),
            private: !f.is_public,
            thumbnail: true,
        };
        match open(source) {
            Ok(obj) => return Ok(Delivery::Ready(obj)),
            Err(StorageError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Storage(StorageError::Io(std::io::Error::other(
        format!("thumbnail {spec} of file {id}: its object moved on every attempt to open it"),
    ))))
}

/// A thumbnail's download name: the file's label with the thumbnail's extension.
fn thumbnail_name(f: &File, key: &StorageKey) -> String {
    format!(
        "{}.{}",
        f.label(),
        key.as_str().rsplit('.').next().unwrap_or("bin")
    )
}

//! Which bytes a download may have: the file or thumbnail row behind a URL, the read
//! permission (public files: anyone), and the object in the storage the row names at that
//! instant. The web layer only opens what this module hands it, through a server backend.
//!
//! An object can vanish between reading its row and opening it (a move between storages
//! committed and deleted the source); a delivery that follows the row reads it again and
//! opens the new place, so a reader of an existing file never gets 404 from a race.

use crate::db::changes::{Epoch, Memo};
use crate::db::models::file::{self, File};
use crate::db::models::{User, thumbnail, version};
use crate::db::{self, DbConn};
use crate::permissions::Right;
use crate::storage::{Storage, StorageError, StorageKey, StorageRole};

use super::audit::Subject;
use super::{Error, Library, Result};

/// What a delivery came to.
#[derive(Debug)]
pub enum Delivery<T> {
    /// Nothing there, or nothing this caller may know of: 404.
    Missing,
    /// Refused.
    Denied(Refusal),
    /// The thumbnail was dropped since it was made (content replaced): the type icon.
    Dropped,
    /// What `open` returned.
    Ready(T),
}

/// Why a delivery was refused, and of what.
#[derive(Debug)]
pub struct Refusal {
    /// The reason in names (only with `debug`; empty otherwise, when nothing more is
    /// looked up).
    pub why: String,
    /// The private file refused, for the download audit (`None` for thumbnails).
    pub audited: Option<Subject>,
}

impl Refusal {
    fn of(why: String, audited: Option<&File>) -> Self {
        Self {
            why,
            audited: audited.map(Subject::of),
        }
    }
}

/// An object to open, described for the download headers.
#[derive(Debug)]
pub struct Source<'a> {
    pub storage: &'a Storage,
    pub key: StorageKey,
    pub mime: &'a str,
    pub download_name: String,
    /// What the strong ETag is made from.
    pub etag_source: String,
    /// In a private storage (served by the private backend) or a public one.
    pub private: bool,
    /// A thumbnail (the thumbnail backend) or a main file.
    pub thumbnail: bool,
    /// The private file these bytes are the content of, for the download audit (`None` for
    /// public files and thumbnails).
    pub audited: Option<Subject>,
}

impl<'a> Source<'a> {
    /// A file's current content, in the storage its row names.
    pub fn content(lib: &'a Library, f: &'a File, key: StorageKey) -> Self {
        Source {
            storage: lib.storages.main(f.is_public),
            key,
            mime: &f.mime_type,
            download_name: f.original_filename.clone(),
            etag_source: f.sha256.clone(),
            private: !f.is_public,
            thumbnail: false,
            audited: (!f.is_public).then(|| Subject::of(f)),
        }
    }
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

/// File rows recent downloads read, by private storage key and by id, answered again
/// while the database has not changed (see `db::changes`).
#[derive(Debug)]
pub struct RecentFiles {
    by_key: Memo<String, File>,
    by_id: Memo<i64, File>,
}

/// How many rows [`RecentFiles`] keeps of each kind.
const RECENT_FILES: usize = 1024;

impl Default for RecentFiles {
    fn default() -> Self {
        Self {
            by_key: Memo::new(RECENT_FILES),
            by_id: Memo::new(RECENT_FILES),
        }
    }
}

/// `None` when `user` may read the file (public files: anyone), else the refusal.
pub fn refusal(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    f: &File,
) -> Result<Option<String>> {
    refusal_by(lib, conn, f, |conn| lib.access(conn, user))
}

/// [`refusal`] with the permission view `access` gives.
fn refusal_by<'u>(
    lib: &Library,
    conn: &mut DbConn,
    f: &File,
    access: impl FnOnce(&mut DbConn) -> Result<super::Access<'u>>,
) -> Result<Option<String>> {
    if f.is_public {
        return Ok(None);
    }
    let access = access(conn)?;
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

/// The file row behind `by`, from the recent rows when the database has not changed since
/// epoch `at`, else from the database with the permission generation in the same query.
fn look_up(
    lib: &Library,
    conn: &mut DbConn,
    by: FileBy<'_>,
    at: Option<Epoch>,
) -> Result<Option<(File, Option<i64>)>> {
    let recent = &lib.recent;
    match by {
        FileBy::PrivateKey(key) => {
            if let Some(f) = recent.by_key.get(at, key.as_str()) {
                return Ok(Some((f, None)));
            }
            let found = file::find_by_key_with_generation(conn, key.as_str(), false)?;
            if let Some((f, _)) = &found {
                recent.by_key.put(at, key.as_str().to_owned(), f.clone());
            }
            Ok(found.map(|(f, generation)| (f, Some(generation))))
        }
        FileBy::Id(id) => {
            if let Some(f) = recent.by_id.get(at, &id) {
                return Ok(Some((f, None)));
            }
            let found = file::find_with_generation(conn, id)?;
            if let Some((f, _)) = &found {
                recent.by_id.put(at, id, f.clone());
            }
            Ok(found.map(|(f, generation)| (f, Some(generation))))
        }
    }
}

/// The private file stored under `key` (`Follow::Key`) or the file `id` (`Follow::Row`,
/// public ones too), opened by `open` after the read check. `at` is the database epoch
/// taken when the request began (`db::changes`): rows read since and not changed are
/// answered from memory, and a checked download of a private file then asks the database
/// nothing. Otherwise the row and the permission generation come in one query.
pub fn file<T>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    by: FileBy<'_>,
    at: Option<Epoch>,
    mut open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    let follow = match by {
        FileBy::PrivateKey(_) => Follow::Key,
        FileBy::Id(_) => Follow::Row,
    };
    let Some((mut f, mut generation)) = look_up(lib, conn, by, at)? else {
        return Ok(Delivery::Missing);
    };
    for _attempt in 0..MAX_ATTEMPTS {
        let refused = refusal_by(lib, conn, &f, |conn| match generation {
            Some(generation) => lib.access_of(conn, user, generation, at),
            None => lib.access_at(conn, user, at),
        })?;
        if let Some(why) = refused {
            return Ok(Delivery::Denied(Refusal::of(why, Some(&f))));
        }
        let Ok(key) = StorageKey::parse(&f.storage_key) else {
            return Ok(Delivery::Missing);
        };
        match open(Source::content(lib, &f, key)) {
            Ok(t) => return Ok(Delivery::Ready(t)),
            Err(StorageError::NotFound) if follow == Follow::Row => {
                // Moved meanwhile: read the row again in a fresh read transaction.
                db::renew_read(conn)?;
                match file::find_with_generation(conn, f.id)? {
                    Some((again, g)) => (f, generation) = (again, Some(g)),
                    None => return Ok(Delivery::Missing),
                }
            }
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

/// A kept version of file `file_id`, checked like the file itself (read on the file; public
/// files: anyone), opened from the file's storage. A version that moved with its file
/// meanwhile is looked up again.
pub fn version<T>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&User>,
    file_id: i64,
    version_id: i64,
    mut open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    for _attempt in 0..MAX_ATTEMPTS {
        let Some(f) = file::find(conn, file_id)? else {
            return Ok(Delivery::Missing);
        };
        if let Some(why) = refusal(lib, conn, user, &f)? {
            return Ok(Delivery::Denied(Refusal::of(why, Some(&f))));
        }
        let Some(v) = version::find(conn, file_id, version_id)? else {
            return Ok(Delivery::Missing);
        };
        let Ok(key) = StorageKey::parse(&v.storage_key) else {
            return Ok(Delivery::Missing);
        };
        let source = Source {
            storage: lib.storages.main(f.is_public),
            key,
            mime: &v.mime_type,
            download_name: v.original_filename.clone(),
            etag_source: v.sha256.clone(),
            private: !f.is_public,
            thumbnail: false,
            audited: (!f.is_public).then(|| Subject {
                size: v.size,
                ..Subject::of(&f)
            }),
        };
        match open(source) {
            Ok(t) => return Ok(Delivery::Ready(t)),
            Err(StorageError::NotFound) => db::renew_read(conn)?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Delivery::Missing)
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
        return Ok(Delivery::Denied(Refusal::of(why, None)));
    }
    let source = Source {
        storage: lib.storages.get(StorageRole::PrivateThumbnails),
        key: key.clone(),
        mime: &t.mime_type,
        download_name: thumbnail_name(&f, key),
        etag_source: format!("{}-{}", t.id, t.size),
        private: true,
        thumbnail: true,
        audited: None,
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
        Some(why) => Delivery::Denied(Refusal::of(why, None)),
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
    open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    thumbnail_checked(
        lib,
        conn,
        id,
        spec,
        |conn, f| refusal(lib, conn, user, f),
        open,
    )
}

/// The preset `spec` of file `id` through a signed embed URL: the signature over
/// (file, content version, preset, expiry) is the permission.
pub fn embedded_thumbnail<T>(
    lib: &Library,
    conn: &mut DbConn,
    id: i64,
    spec: &str,
    signed: (&str, i64, &str),
    open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    let (preset, expires, sig) = signed;
    thumbnail_checked(
        lib,
        conn,
        id,
        spec,
        |_, f| {
            Ok(
                (!super::embed::valid(&lib.settings.embed_key, f, preset, expires, sig))
                    .then(String::new),
            )
        },
        open,
    )
}

/// The preset `spec` of file `id` through a download link: the link must reach the file
/// now (its creator still reads it; for a folder link, it lies in the folder's tree).
pub fn shared_thumbnail<T>(
    lib: &Library,
    conn: &mut DbConn,
    opened: &super::shares::Opened,
    id: i64,
    spec: &str,
    open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    thumbnail_checked(
        lib,
        conn,
        id,
        spec,
        |conn, _| match super::shares::file_by_id(lib, conn, opened, id) {
            Ok(_) => Ok(None),
            Err(Error::NotFound) => Ok(Some(String::new())),
            Err(e) => Err(e),
        },
        open,
    )
}

fn thumbnail_checked<T>(
    lib: &Library,
    conn: &mut DbConn,
    id: i64,
    spec: &str,
    refused: impl Fn(&mut DbConn, &File) -> Result<Option<String>>,
    mut open: impl FnMut(Source<'_>) -> std::result::Result<T, StorageError>,
) -> Result<Delivery<T>> {
    for _attempt in 0..MAX_ATTEMPTS {
        let Some(f) = file::find(conn, id)? else {
            return Ok(Delivery::Missing);
        };
        if let Some(why) = refused(conn, &f)? {
            return Ok(Delivery::Denied(Refusal::of(why, None)));
        }
        let Some(t) = thumbnail::find_for_spec(conn, id, spec)? else {
            // Dropped since it was made: the next request makes it again.
            return Ok(Delivery::Dropped);
        };
        let Ok(key) = StorageKey::parse(&t.storage_key) else {
            return Ok(Delivery::Missing);
        };
        let source = Source {
            storage: lib.storages.thumbnails(f.is_public),
            download_name: thumbnail_name(&f, &key),
            key,
            mime: &t.mime_type,
            etag_source: format!("{}-{}", t.id, t.size),
            private: !f.is_public,
            thumbnail: true,
            audited: None,
        };
        match open(source) {
            Ok(obj) => return Ok(Delivery::Ready(obj)),
            // Moved meanwhile: read the rows again in a fresh read transaction.
            Err(StorageError::NotFound) => db::renew_read(conn)?,
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

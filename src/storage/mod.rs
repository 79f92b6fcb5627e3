//! The four storages (public and private main files, public and private thumbnails), the
//! keys that name objects in them, upload ingest and content sniffing.
//!
//! A storage is a local directory ([`LocalStorage`]) or the objects under a prefix of an
//! S3-compatible bucket ([`ObjectStorage`]). [`Storage`] is the one interface the library
//! uses: objects are written from streams or bytes (never replacing one), read whole or as
//! a reader, copied between storages of either kind, deleted idempotently; a filesystem path
//! exists only for local storages, for the backends that hand one to a web server.

mod ingest;
mod key;
mod local;
pub mod migrate;
pub mod object;
pub mod sniff;
mod temp_files;

use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use ingest::{IngestGuard, Ingested, ingest};
pub use key::{InvalidKey, MAX_KEY_LEN, StorageKey, clean_name};
pub use local::{LocalStorage, Transfer, WalkReport};
pub use object::{
    Audience, Bucket, BucketSettings, ObjectInfo, ObjectStorage, OpenedBody, OpenedObject,
    PendingBody, PendingUpload, SignedGet,
};
pub use temp_files::TempFiles;

/// Errors from storage operations.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    #[error("invalid storage key")]
    InvalidKey(#[from] InvalidKey),
    #[error("refusing to follow a symbolic link inside a storage")]
    Symlink,
    #[error("an object already exists under this key")]
    AlreadyExists,
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the copy does not match its source (hash mismatch)")]
    HashMismatch,
    #[error("storage I/O error: {0}")]
    Io(#[from] io::Error),
}

impl StorageError {
    pub(crate) fn from_io(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::NotFound {
            Self::NotFound
        } else {
            Self::Io(e)
        }
    }
}

/// Where one storage lives (validated by `config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageSettings {
    /// Absolute directory (a local storage's root; for an object storage, where uploads are
    /// staged before they go to the bucket).
    pub dir: PathBuf,
    /// Base URL, always ending in `/`.
    pub base_url: String,
    /// The key prefix in `[object_store]`'s bucket, for an object storage (empty or ending
    /// in `/`); `None` for a local one.
    pub prefix: Option<String>,
}

/// The settings of the four storages, by role (`config::Settings` is one).
pub trait StoragesSettings {
    fn storage(&self, role: StorageRole) -> &StorageSettings;
    /// The bucket of the object storages, when any storage is one.
    fn bucket(&self) -> Option<&BucketSettings>;
}

/// How keys for new uploads are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathGenerator {
    /// `ab/cd/<uuid>/<clean name>`, where `abcd` are the uuid's first characters.
    #[default]
    Randomized,
    /// `YYYY/MM/DD/<8 random hex>/<clean name>` (UTC date).
    ByDate,
}

impl PathGenerator {
    /// A fresh key for a file uploaded as `original_name`.
    pub fn generate(self, original_name: &str) -> StorageKey {
        let name = clean_name(original_name);
        let uuid = uuid::Uuid::new_v4().simple().to_string();
        let key = match self {
            PathGenerator::Randomized => {
                format!("{}/{}/{}/{}", &uuid[0..2], &uuid[2..4], uuid, name)
            }
            PathGenerator::ByDate => {
                let d = time::OffsetDateTime::now_utc().date();
                format!(
                    "{:04}/{:02}/{:02}/{}/{}",
                    d.year(),
                    u8::from(d.month()),
                    d.day(),
                    &uuid[..8],
                    name
                )
            }
        };
        // Every part is made of key characters, so this cannot fail; fall back to the uuid.
        StorageKey::parse(&key).unwrap_or(StorageKey(uuid))
    }
}

/// Which of the four storages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageRole {
    Public,
    PublicThumbnails,
    Private,
    PrivateThumbnails,
}

impl StorageRole {
    /// Every role, public ones first.
    pub const ALL: [StorageRole; 4] = [
        StorageRole::Public,
        StorageRole::PublicThumbnails,
        StorageRole::Private,
        StorageRole::PrivateThumbnails,
    ];

    /// The name used in journals and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageRole::Public => "public",
            StorageRole::PublicThumbnails => "public_thumbnails",
            StorageRole::Private => "private",
            StorageRole::PrivateThumbnails => "private_thumbnails",
        }
    }

    /// Parses `as_str` output.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The main-file storage for a file with this `is_public`.
    pub fn main(is_public: bool) -> Self {
        if is_public {
            Self::Public
        } else {
            Self::Private
        }
    }

    /// The thumbnail storage for a file with this `is_public`.
    pub fn thumbnails(is_public: bool) -> Self {
        if is_public {
            Self::PublicThumbnails
        } else {
            Self::PrivateThumbnails
        }
    }
}

/// How old an object in an object storage must be before `coffer check --repair` may take
/// it for an orphan: no upload takes this long between writing its object and committing
/// its row.
pub const UPLOAD_GRACE: Duration = Duration::from_secs(60 * 60);

/// A storage: a local directory or a prefix of a bucket.
#[derive(Clone, Debug)]
pub enum Storage {
    Local(LocalStorage),
    Object(ObjectStorage),
}

/// An object opened for reading: a local file, or an object's bytes copied into an
/// anonymous temporary file (so that image decoders can seek in it).
pub type Opened = std::fs::File;

/// What keeps a freshly written object from being taken for an orphan until its row is
/// committed: the local file, open and locked (object storages have no such lock; `coffer
/// check` leaves their recent objects alone instead).
#[derive(Debug)]
pub struct Held(#[allow(dead_code)] Option<std::fs::File>);

impl Storage {
    /// The local-directory implementation, for what only a directory has (paths handed to
    /// a web server, locks, temporary files); `None` for an object storage.
    pub fn as_local(&self) -> Option<&LocalStorage> {
        match self {
            Storage::Local(l) => Some(l),
            Storage::Object(_) => None,
        }
    }

    /// The object-storage implementation; `None` for a local storage.
    pub fn as_object(&self) -> Option<&ObjectStorage> {
        match self {
            Storage::Local(_) => None,
            Storage::Object(o) => Some(o),
        }
    }

    /// The base URL objects are reached at.
    pub fn base_url(&self) -> &str {
        match self {
            Storage::Local(l) => l.base_url(),
            Storage::Object(o) => o.base_url(),
        }
    }

    /// The URL the object is reached at (base URL + key).
    pub fn url(&self, key: &StorageKey) -> String {
        format!("{}{}", self.base_url(), key.as_str())
    }

    /// `"local"` or `"s3"`, as in the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            Storage::Local(_) => "local",
            Storage::Object(_) => "s3",
        }
    }

    /// Opens an object for reading (an object storage's is fetched whole into an anonymous
    /// temporary file first).
    pub fn open_read(&self, key: &StorageKey) -> Result<Opened, StorageError> {
        match self {
            Storage::Local(l) => l.open_read(key),
            Storage::Object(o) => {
                let mut reader = o.reader(key)?;
                let mut spooled = tempfile::tempfile()?;
                io::copy(&mut reader, &mut spooled)?;
                io::Seek::rewind(&mut spooled)?;
                Ok(spooled)
            }
        }
    }

    /// The whole object as a reader (streamed from an object storage, not spooled).
    pub fn reader(&self, key: &StorageKey) -> Result<Box<dyn io::Read + Send>, StorageError> {
        match self {
            Storage::Local(l) => Ok(Box::new(l.open_read(key)?)),
            Storage::Object(o) => Ok(Box::new(o.reader(key)?)),
        }
    }

    /// At most `limit` leading bytes of an object (previews).
    pub fn read_prefix(&self, key: &StorageKey, limit: u64) -> Result<Vec<u8>, StorageError> {
        let mut head = Vec::new();
        match self {
            Storage::Local(l) => {
                io::Read::read_to_end(&mut io::Read::take(l.open_read(key)?, limit), &mut head)?
            }
            Storage::Object(o) => io::Read::read_to_end(
                &mut io::Read::take(o.reader_range(key, 0..limit)?, limit),
                &mut head,
            )?,
        };
        Ok(head)
    }

    /// Whether an object is there (an error when an object store cannot tell).
    pub fn exists(&self, key: &StorageKey) -> Result<bool, StorageError> {
        match self {
            Storage::Local(l) => Ok(l.exists(key)),
            Storage::Object(o) => o.exists(key),
        }
    }

    /// Writes `bytes` under `key` (durably, never replacing an object); the result keeps a
    /// local object locked until dropped.
    pub fn put_bytes_held(&self, key: &StorageKey, bytes: &[u8]) -> Result<Held, StorageError> {
        match self {
            Storage::Local(l) => l.put_bytes_held(key, bytes).map(|f| Held(Some(f))),
            Storage::Object(o) => o
                .put_bytes(key, bytes::Bytes::copy_from_slice(bytes))
                .map(|()| Held(None)),
        }
    }

    /// Writes `bytes` under `key` (durably, never replacing an object).
    pub fn put_bytes(&self, key: &StorageKey, bytes: &[u8]) -> Result<(), StorageError> {
        self.put_bytes_held(key, bytes).map(drop)
    }

    /// Deletes an object; a missing one is fine.
    pub fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.delete(key),
            Storage::Object(o) => o.delete(key),
        }
    }

    /// Puts a copy of `from` under `to` in `target`, never replacing an object; the source
    /// stays. Local to local on one filesystem: a hard link; object to object in one
    /// bucket: a copy inside the engine, checked by size and SHA-256; otherwise the bytes
    /// are streamed and their SHA-256 checked.
    pub fn transfer_to(
        &self,
        from: &StorageKey,
        target: &Storage,
        to: &StorageKey,
    ) -> Result<Transfer, StorageError> {
        match (self, target) {
            (Storage::Local(a), Storage::Local(b)) => a.transfer_to(from, b, to),
            (Storage::Object(a), Storage::Object(b)) if a.same_bucket(b) => {
                a.copy_within(from, b, to).map(|()| Transfer::Copied)
            }
            _ => self.stream_to(from, target, to).map(|()| Transfer::Copied),
        }
    }

    /// Streams a copy of `from` into `target` under `to` (never a link), checked by hash.
    pub fn copy_to(
        &self,
        from: &StorageKey,
        target: &Storage,
        to: &StorageKey,
    ) -> Result<(), StorageError> {
        match (self, target) {
            (Storage::Local(a), Storage::Local(b)) => a.copy_to(from, b, to),
            (Storage::Object(a), Storage::Object(b)) if a.same_bucket(b) => {
                a.copy_within(from, b, to)
            }
            _ => self.stream_to(from, target, to),
        }
    }

    /// Copies between storages of different kinds (or buckets) through a local temporary
    /// file: the bytes are hashed on the way in, and the copy must match.
    fn stream_to(
        &self,
        from: &StorageKey,
        target: &Storage,
        to: &StorageKey,
    ) -> Result<(), StorageError> {
        use sha2::Digest;
        let mut source = self.open_read(from)?;
        let mut hasher = sha2::Sha256::new();
        let mut spooled = tempfile::tempfile()?;
        let len = io::copy(
            &mut HashingReader {
                inner: &mut source,
                hasher: &mut hasher,
            },
            &mut spooled,
        )?;
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = self.as_object().map(|o| o.head(from)).transpose()?
            && expected.sha256.as_deref().is_some_and(|h| h != sha256)
        {
            return Err(StorageError::HashMismatch);
        }
        io::Seek::rewind(&mut spooled)?;
        match target {
            Storage::Local(l) => {
                let mut temp = l.temp_file()?;
                io::copy(&mut spooled, temp.as_file_mut())?;
                temp.as_file().sync_all()?;
                l.persist(temp, to).map(drop)
            }
            Storage::Object(o) => o.put_reader(to, spooled, len, &sha256),
        }
    }

    /// The object under `key` claimed for a repair, unless an upload in progress may still
    /// own it: `None` then, or when it is gone. A local object is locked by its writer
    /// until the row naming it is committed (the claim is that lock, kept until dropped);
    /// an object storage has no locks, so an object younger than [`UPLOAD_GRACE`] is
    /// left alone.
    pub fn claim_if_unheld(&self, key: &StorageKey) -> Result<Option<Held>, StorageError> {
        match self {
            Storage::Local(l) => Ok(l.lock_if_unheld(key)?.map(|f| Held(Some(f)))),
            Storage::Object(o) => match o.head(key) {
                Ok(info) => {
                    let age = SystemTime::now()
                        .duration_since(info.modified)
                        .unwrap_or_default();
                    Ok((age >= UPLOAD_GRACE).then_some(Held(None)))
                }
                Err(StorageError::NotFound) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Removes an entry that is not an object (a planted link, a stray file or object).
    pub fn remove_foreign(&self, rel: &str) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.remove_foreign(rel),
            Storage::Object(o) => o.delete_name(rel),
        }
    }

    /// Whether the storage is there and writable (readiness).
    pub fn check_reachable(&self) -> Result<(), StorageError> {
        match self {
            Storage::Local(l) => l.check_reachable(),
            Storage::Object(o) => o.check_reachable(),
        }
    }

    /// The temporary files of uploads in progress: a local storage's `.tmp`, an object
    /// storage's staging directory on this machine.
    pub fn temp_files(&self) -> &TempFiles {
        match self {
            Storage::Local(l) => l.temp_files(),
            Storage::Object(o) => o.temp_files(),
        }
    }

    /// Every key the storage holds, and (local storages) what is not an object.
    pub fn walk(&self) -> Result<WalkReport, StorageError> {
        match self {
            Storage::Local(l) => l.walk(),
            Storage::Object(o) => {
                let mut report = WalkReport::default();
                for name in o.keys()? {
                    if StorageKey::parse(&name).is_ok() {
                        report.keys.push(name);
                    } else {
                        report.foreign.push(name);
                    }
                }
                report.keys.sort();
                report.foreign.sort();
                Ok(report)
            }
        }
    }
}

/// A reader that hashes what passes through it.
struct HashingReader<'a, R> {
    inner: &'a mut R,
    hasher: &'a mut sha2::Sha256,
}

impl<R: io::Read> io::Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        sha2::Digest::update(self.hasher, &buf[..n]);
        Ok(n)
    }
}

/// The four storages of an installation.
#[derive(Clone, Debug)]
pub struct Storages {
    pub public: Storage,
    pub public_thumbnails: Storage,
    pub private: Storage,
    pub private_thumbnails: Storage,
}

impl Storages {
    /// Opens the storages configured in `settings` (directories must exist; the bucket is
    /// connected to lazily).
    pub fn open(settings: &impl StoragesSettings) -> Result<Self, StorageError> {
        let bucket = settings
            .bucket()
            .cloned()
            .map(Bucket::connect)
            .transpose()?;
        let open = |role| {
            let s = settings.storage(role);
            match (&s.prefix, &bucket) {
                (Some(prefix), Some(bucket)) => Ok(Storage::Object(ObjectStorage::new(
                    bucket.clone(),
                    prefix.clone(),
                    s.base_url.clone(),
                    role,
                    s.dir.clone(),
                ))),
                (Some(_), None) => Err(StorageError::Io(io::Error::other(format!(
                    "storage.{} is kind \"s3\" but [object_store] is not configured",
                    role.as_str()
                )))),
                (None, _) => {
                    LocalStorage::open(s.dir.clone(), s.base_url.clone(), role).map(Storage::Local)
                }
            }
        };
        Ok(Self {
            public: open(StorageRole::Public)?,
            public_thumbnails: open(StorageRole::PublicThumbnails)?,
            private: open(StorageRole::Private)?,
            private_thumbnails: open(StorageRole::PrivateThumbnails)?,
        })
    }

    /// The storage playing `role`.
    pub fn get(&self, role: StorageRole) -> &Storage {
        match role {
            StorageRole::Public => &self.public,
            StorageRole::PublicThumbnails => &self.public_thumbnails,
            StorageRole::Private => &self.private,
            StorageRole::PrivateThumbnails => &self.private_thumbnails,
        }
    }

    /// Main-file storage for `is_public`.
    pub fn main(&self, is_public: bool) -> &Storage {
        self.get(StorageRole::main(is_public))
    }

    /// Thumbnail storage for `is_public`.
    pub fn thumbnails(&self, is_public: bool) -> &Storage {
        self.get(StorageRole::thumbnails(is_public))
    }

    /// Whether every storage is there and writable (readiness).
    pub fn check_reachable(&self) -> Result<(), StorageError> {
        StorageRole::ALL
            .iter()
            .try_for_each(|r| self.get(*r).check_reachable())
    }

    /// Root directories of the local storages, for diagnostics.
    pub fn roots(&self) -> Vec<(StorageRole, PathBuf)> {
        StorageRole::ALL
            .iter()
            .filter_map(|r| Some((*r, self.get(*r).as_local()?.root().to_path_buf())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = PathGenerator::Randomized.generate("Mein Bild.JPG");
        let parts: Vec<_> = k.as_str().split('/').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], &parts[2][0..2]);
        assert_eq!(parts[1], &parts[2][2..4]);
        assert_eq!(parts[3], "mein_bild.jpg");
        let d = PathGenerator::ByDate.generate("a.txt");
        let parts: Vec<_> = d.as_str().split('/').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[0].len(), 4);
        assert_eq!(parts[4], "a.txt");
    }
}

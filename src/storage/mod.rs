//! The four storages (public and private main files, public and private thumbnails), the
//! keys that name objects in them, upload ingest and content sniffing.
//!
//! Storages are local directories today. The interface is shaped so an object-store variant
//! fits later: objects are written from streams, read through `open`, and a filesystem path
//! is only handed out by `local_path` for the backends that need one.

mod ingest;
mod key;
mod local;
pub mod sniff;

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use ingest::{IngestGuard, Ingested, ingest};
pub use key::{InvalidKey, MAX_KEY_LEN, StorageKey, clean_name};
pub use local::{LocalStorage, Transfer, WalkReport};

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
    /// Absolute directory.
    pub dir: PathBuf,
    /// Base URL, always ending in `/`.
    pub base_url: String,
}

/// The settings of the four storages, by role (`config::Settings` is one).
pub trait StoragesSettings {
    fn storage(&self, role: StorageRole) -> &StorageSettings;
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

/// A storage. One variant today; an object-store variant would join it.
#[derive(Clone, Debug)]
pub enum Storage {
    Local(LocalStorage),
}

impl Storage {
    /// The local-directory implementation (every storage today).
    pub fn local(&self) -> &LocalStorage {
        match self {
            Storage::Local(l) => l,
        }
    }

    /// The URL the object is reached at (base URL + key).
    pub fn url(&self, key: &StorageKey) -> String {
        format!("{}{}", self.local().base_url(), key.as_str())
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
    /// Opens the storages configured in `settings` (directories must exist).
    pub fn open(settings: &impl StoragesSettings) -> Result<Self, StorageError> {
        let open = |role| {
            let s = settings.storage(role);
            LocalStorage::open(s.dir.clone(), s.base_url.clone(), role).map(Storage::Local)
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
            .try_for_each(|r| self.get(*r).local().check_reachable())
    }

    /// Root directories, for diagnostics.
    pub fn roots(&self) -> Vec<(StorageRole, PathBuf)> {
        StorageRole::ALL
            .iter()
            .map(|r| (*r, self.get(*r).local().root().to_path_buf()))
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

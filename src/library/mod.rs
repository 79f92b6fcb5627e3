//! What Coffer does with files and folders, independent of HTTP: uploads, edits, moves
//! between public and private storage, deletion, start-up recovery, integrity checks and
//! imports. Functions take the [`Library`] context (not the whole application state), the
//! caller and a connection, and run on blocking threads. Every permission decision is made
//! here, through [`Access`].

pub mod access;
pub mod archive;
pub mod audit;
pub mod browse;
pub mod bulk;
pub mod check;
pub mod delete;
pub mod deliver;
pub mod effective;
pub mod embed;
pub mod files;
pub mod folders;
pub mod image_files;
pub mod import;
pub mod picker;
pub mod quota;
pub mod readers;
pub mod recover;
pub mod relocate;
pub mod rules;
pub mod shares;
pub mod thumbnails;
pub mod trash;
pub mod tree;
pub mod upload;
pub mod usage;
pub mod versions;
pub mod viewer;
pub mod visible;

use std::sync::Arc;

pub use access::Access;
pub use thumbnails::Thumbnailer;

use crate::access::AccessControl;
use crate::db::changes::{Changes, Epoch};
use crate::db::models::User;
use crate::db::{DbConn, DbError, DbPool};
use crate::permissions::Decision;
use crate::storage::{PathGenerator, StorageError, Storages};

/// The rules of the library taken from the configuration.
#[derive(Clone, Debug)]
pub struct LibrarySettings {
    /// A denied read answers 403 with the reason instead of 404.
    pub debug: bool,
    /// Whether new uploads are public unless the upload says otherwise.
    pub is_public_default: bool,
    pub max_upload_size: u64,
    pub path_generator: PathGenerator,
    /// Deepest level a folder may be created or moved to (1 = top level).
    pub max_folder_depth: usize,
    /// Days a trashed item is kept before it is purged (`trash.retention_days`).
    pub trash_retention_days: u32,
    /// Days a download audit entry is kept (`audit.retention_days`).
    pub audit_retention_days: u32,
    /// Earlier contents kept per file (`versions.keep`; 0 keeps none).
    pub versions_keep: usize,
    /// Who may make share links (`shares.allowed`).
    pub shares_allowed: shares::Allowed,
    /// `zip.max_files`, `zip.max_bytes`.
    pub zip_limits: archive::Limits,
    /// Signs embed URLs of private thumbnails.
    pub embed_key: embed::EmbedKey,
}

/// What library operations work with: the database, the storages, the permission snapshots,
/// the thumbnailer and the library's settings — nothing of HTTP, sessions or passwords.
/// Cheap to clone.
#[derive(Clone)]
pub struct Library {
    pub pool: DbPool,
    pub storages: Arc<Storages>,
    pub access: Arc<AccessControl>,
    pub thumbnails: Thumbnailer,
    pub settings: Arc<LibrarySettings>,
    /// Whether the database changed since a moment (SQLite; see `db::changes`).
    pub changes: Arc<Changes>,
    /// File rows the checked download read recently, answered again while the database
    /// has not changed.
    pub recent: Arc<deliver::RecentFiles>,
    /// Share links opened recently (and their use counts waiting to be written).
    pub links: Arc<shares::RecentLinks>,
    /// The download audit's entries waiting to be written.
    pub audit: Arc<audit::AuditLog>,
}

/// Runs `work` on `target` once a second, on a thread named `name`, until `target` is
/// dropped (the in-memory batches written once a second: share link counts, the audit).
pub(crate) fn every_second<T: Send + Sync + 'static>(
    name: &str,
    target: &Arc<T>,
    work: impl Fn(&T) + Send + 'static,
) -> std::io::Result<()> {
    let weak = Arc::downgrade(target);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let Some(target) = weak.upgrade() else { break };
                work(&target);
            }
        })
        .map(|_| ())
}

impl Library {
    /// Whether permissions are enforced (`enable_permissions`), for pages that say so.
    pub fn permissions_enabled(&self) -> bool {
        self.access.policy().enable_permissions
    }

    /// The permission view of `caller` for one operation (reads the generation; reloads the
    /// snapshot only after a change).
    pub fn access<'u>(&self, conn: &mut DbConn, caller: Option<&'u User>) -> Result<Access<'u>> {
        Access::load(&self.access, conn, caller, self.settings.debug)
    }

    /// [`access`](Self::access) without reading the generation when the database has not
    /// changed since the snapshot was last found current (`at`: see `db::changes`).
    pub fn access_at<'u>(
        &self,
        conn: &mut DbConn,
        caller: Option<&'u User>,
        at: Option<Epoch>,
    ) -> Result<Access<'u>> {
        Ok(Access::of(
            &self.access,
            self.access.snapshot_at(conn, at)?,
            caller,
            self.settings.debug,
        ))
    }

    /// [`access`](Self::access) at a generation just read with another query, in epoch
    /// `at`.
    pub fn access_of<'u>(
        &self,
        conn: &mut DbConn,
        caller: Option<&'u User>,
        generation: i64,
        at: Option<Epoch>,
    ) -> Result<Access<'u>> {
        let loaded = self.access.snapshot_of(conn, generation)?;
        self.access.found_current(at, &loaded);
        Ok(Access::of(
            &self.access,
            loaded,
            caller,
            self.settings.debug,
        ))
    }
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Missing, or hidden from this user.
    #[error("not found")]
    NotFound,
    /// Visible but not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The owner's quota would be exceeded; nothing was stored.
    #[error("{0}")]
    OverQuota(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Result of library operations.
pub type Result<T> = std::result::Result<T, Error>;

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(DbError::Query(e))
    }
}

/// The answer to a denied write on something the user can see.
pub fn forbidden(decision: &Decision) -> Error {
    Error::Forbidden(format!("permission denied ({})", decision.summary()))
}

/// Folder and file names go through [`crate::domain::name::ItemName`]: trimmed, NFC,
/// non-empty, at most 255 characters, no control characters, no `/`, no bidirectional or
/// zero-width characters, not `.` or `..`. The error names `what` ("folder", "file").
pub fn check_name(name: &str, what: &str) -> Result<String> {
    crate::domain::name::ItemName::parse(name)
        .map(crate::domain::name::ItemName::into_string)
        .map_err(|e| Error::Invalid(format!("the {what} name {e}")))
}

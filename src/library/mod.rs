//! What Coffer does with files and folders, independent of HTTP: uploads, edits, moves
//! between public and private storage, deletion, start-up recovery, integrity checks and
//! imports. Functions take the shared state and a connection and run on blocking threads.

pub mod browse;
pub mod bulk;
pub mod check;
pub mod delete;
pub mod effective;
pub mod files;
pub mod folders;
pub mod images;
pub mod import;
pub mod picker;
pub mod readers;
pub mod recover;
pub mod relocate;
pub mod rules;
pub mod thumbnails;
pub mod tree;
pub mod upload;
pub mod visible;

use crate::db::DbError;
use crate::permissions::Decision;
use crate::state::AppState;
use crate::storage::StorageError;

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

/// The answer to a denied read: 404 hides existence; with `debug` it says 403 and why.
pub fn hidden(state: &AppState, decision: &Decision) -> Error {
    if state.settings.debug {
        Error::Forbidden(decision.summary())
    } else {
        Error::NotFound
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

//! Integrity check (`coffer check`): rows whose bytes are missing, objects no row names
//! (orphans), anything inside a storage that is not an object (links, stray names), storage
//! moves whose owner is gone, temporary uploads no live process holds, and multipart uploads
//! to an object storage that were never completed.
//!
//! It runs beside a live server. The storages are walked before the journal and the rows
//! are read, so an object that a move or an upload is creating is always seen with what
//! names it: an open journal entry (from or to key, whatever its lease), a row, or the lock
//! an upload holds on its object until its row is committed. Repairs check all three again
//! right before deleting anything.

use std::collections::HashSet;
use std::time::Duration;

use crate::db::DbConn;
use crate::db::models::{file, journal, thumbnail};
use crate::storage::{PendingUpload, StorageKey, StorageRole, Storages};

use super::Result;

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A file row whose object is missing.
    MissingFile {
        file_id: i64,
        storage: StorageRole,
        key: String,
    },
    /// A thumbnail row whose object is missing.
    MissingThumbnail { storage: StorageRole, key: String },
    /// A kept version whose object is missing.
    MissingVersion { storage: StorageRole, key: String },
    /// An object no row names.
    Orphan { storage: StorageRole, key: String },
    /// A symbolic link or a name no key can have.
    Foreign { storage: StorageRole, path: String },
    /// A storage move whose owner stopped renewing its lease (it crashed).
    InterruptedMove { move_id: i64, file_id: i64 },
    /// A temporary upload no live process holds (a crash mid-upload): in a local storage's
    /// `.tmp`, or in the staging directory `staged_in` of an object storage.
    AbandonedUpload {
        storage: StorageRole,
        name: String,
        staged_in: Option<std::path::PathBuf>,
    },
    /// A multipart upload to an object storage that was never completed (its process
    /// died): parts the engine keeps, and bills, until it is aborted.
    AbandonedMultipart {
        storage: StorageRole,
        upload: PendingUpload,
    },
    /// A folder-tree problem: a cycle, or a parent that is missing (`library::tree`).
    Tree(super::tree::Problem),
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::MissingFile {
                file_id,
                storage,
                key,
            } => {
                write!(f, "missing  {}/{key} (file {file_id})", storage.as_str())
            }
            Finding::MissingThumbnail { storage, key } => {
                write!(f, "missing  {}/{key} (thumbnail)", storage.as_str())
            }
            Finding::MissingVersion { storage, key } => {
                write!(f, "missing  {}/{key} (version)", storage.as_str())
            }
            Finding::Orphan { storage, key } => write!(f, "orphan   {}/{key}", storage.as_str()),
            Finding::Foreign { storage, path } => write!(
                f,
                "foreign  {}/{path} (not a Coffer object)",
                storage.as_str()
            ),
            Finding::InterruptedMove { move_id, file_id } => write!(
                f,
                "interrupted move {move_id} of file {file_id} (its owner is gone)"
            ),
            Finding::AbandonedUpload {
                storage,
                name,
                staged_in: None,
            } => write!(
                f,
                "abandoned {}/.tmp/{name} (an interrupted upload)",
                storage.as_str()
            ),
            Finding::AbandonedUpload {
                storage,
                name,
                staged_in: Some(dir),
            } => write!(
                f,
                "abandoned {}/{name} (an upload interrupted before it reached the {} storage)",
                dir.display(),
                storage.as_str()
            ),
            Finding::AbandonedMultipart { storage, upload } => write!(
                f,
                "abandoned {}/{} (an interrupted multipart upload, {})",
                storage.as_str(),
                upload.key,
                upload.upload_id
            ),
            Finding::Tree(problem) => write!(f, "{problem}"),
        }
    }
}

/// Every key an open storage move names, from and to, whatever its lease.
fn journal_keys(conn: &mut DbConn) -> Result<HashSet<String>> {
    let mut keys = HashSet::new();
    for entry in journal::moves(conn)? {
        for item in entry.items {
            keys.insert(item.from_key);
            keys.insert(item.to_key);
        }
    }
    Ok(keys)
}

/// Whether a row names `key` in `role` right now.
fn named_by_row(conn: &mut DbConn, role: StorageRole, key: &str) -> Result<bool> {
    Ok(match role {
        StorageRole::Public | StorageRole::Private => {
            file::key_in_use(conn, key, role == StorageRole::Public)?
        }
        StorageRole::PublicThumbnails | StorageRole::PrivateThumbnails => {
            thumbnail::find_by_key(conn, key)?.is_some()
        }
    })
}

/// Compares the rows with the four storages.
#[tracing::instrument(skip_all)]
pub fn check(storages: &Storages, conn: &mut DbConn) -> Result<Vec<Finding>> {
    let index = |r: StorageRole| StorageRole::ALL.iter().position(|x| *x == r).unwrap_or(0);
    let mut findings: Vec<Finding> = super::tree::check(conn)?
        .into_iter()
        .map(Finding::Tree)
        .collect();
    // Walk first: whatever names an object seen here was written before it existed.
    let mut walks = Vec::new();
    for role in StorageRole::ALL {
        let storage = storages.get(role);
        walks.push(storage.walk()?);
        let staged_in = storage.as_object().map(|o| o.temp_files().dir().to_owned());
        for name in storage.temp_files().abandoned()? {
            findings.push(Finding::AbandonedUpload {
                storage: role,
                name,
                staged_in: staged_in.clone(),
            });
        }
    }
    findings.extend(abandoned_multipart(storages, MULTIPART_GRACE)?);
    fail::fail_point!("check::after-walk");
    let in_flight = journal_keys(conn)?;
    for entry in journal::moves(conn)? {
        if entry.expired() {
            findings.push(Finding::InterruptedMove {
                move_id: entry.id,
                file_id: entry.file_id,
            });
        }
    }
    let mut expected: Vec<HashSet<String>> = vec![HashSet::new(); 4];
    for (id, public, key) in file::all_keys(conn)? {
        let role = StorageRole::main(public);
        let present = exists(storages, role, &key)?;
        // A move may have repointed the row meanwhile: look again before reporting.
        if !present && still_missing_file(storages, conn, id)? {
            findings.push(Finding::MissingFile {
                file_id: id,
                storage: role,
                key: key.clone(),
            });
        }
        expected[index(role)].insert(key);
    }
    for (key, public) in crate::db::models::version::all_keys(conn)? {
        let role = StorageRole::main(public);
        let present = exists(storages, role, &key)?;
        if !present && file::key_in_use(conn, &key, public)? {
            findings.push(Finding::MissingVersion {
                storage: role,
                key: key.clone(),
            });
        }
        expected[index(role)].insert(key);
    }
    for (key, public) in thumbnail::all_keys(conn)? {
        let role = StorageRole::thumbnails(public);
        if !exists(storages, role, &key)?
            && thumbnail::find_by_key(conn, &key)?.is_some()
            && !exists(storages, role, &key)?
        {
            findings.push(Finding::MissingThumbnail {
                storage: role,
                key: key.clone(),
            });
        }
        expected[index(role)].insert(key);
    }
    for (role, report) in StorageRole::ALL.into_iter().zip(walks) {
        let storage = storages.get(role);
        for key in report.keys {
            if expected[index(role)].contains(&key) || in_flight.contains(&key) {
                continue;
            }
            // An upload in progress, its row not committed yet.
            let held = match StorageKey::parse(&key) {
                Ok(k) => storage.claim_if_unheld(&k)?.is_none(),
                Err(_) => false,
            };
            if !held {
                findings.push(Finding::Orphan { storage: role, key });
            }
        }
        for path in report.foreign {
            findings.push(Finding::Foreign {
                storage: role,
                path,
            });
        }
    }
    Ok(findings)
}

/// How long a multipart upload may run before it counts as abandoned: its bytes were all
/// staged before it began, so it lasts as long as the transfer to the engine.
pub const MULTIPART_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// The multipart uploads of the object storages begun more than `older_than` ago.
pub fn abandoned_multipart(storages: &Storages, older_than: Duration) -> Result<Vec<Finding>> {
    let mut found = Vec::new();
    for role in StorageRole::ALL {
        if let Some(object) = storages.get(role).as_object() {
            for upload in object.pending_uploads(older_than)? {
                found.push(Finding::AbandonedMultipart {
                    storage: role,
                    upload,
                });
            }
        }
    }
    Ok(found)
}

/// Aborts the multipart uploads of the object storages begun more than `older_than` ago
/// (their process died: the engine keeps, and bills, their parts until then); returns how
/// many.
pub fn abort_abandoned_multipart(storages: &Storages, older_than: Duration) -> Result<usize> {
    let mut aborted = 0;
    for finding in abandoned_multipart(storages, older_than)? {
        if let Finding::AbandonedMultipart { storage, upload } = finding
            && let Some(object) = storages.get(storage).as_object()
        {
            object.abort_upload(&upload)?;
            aborted += 1;
        }
    }
    Ok(aborted)
}

/// Whether file `id`'s row, read again, still names a missing object.
fn still_missing_file(storages: &Storages, conn: &mut DbConn, id: i64) -> Result<bool> {
    let Some(f) = file::find_any(conn, id)? else {
        return Ok(false);
    };
    let role = StorageRole::main(f.is_public);
    Ok(!exists(storages, role, &f.storage_key)?)
}

/// Whether `key` is a valid key with an object under it in the storage playing `role`.
fn exists(storages: &Storages, role: StorageRole, key: &str) -> Result<bool> {
    match StorageKey::parse(key) {
        Ok(k) => Ok(storages.get(role).exists(&k)?),
        Err(_) => Ok(false),
    }
}

/// Removes orphans, foreign entries and abandoned temporary uploads, and aborts abandoned
/// multipart uploads; missing objects cannot
/// be repaired and are left in the report, interrupted moves are `recover`'s. An orphan is
/// only deleted if, right then, no live upload holds it, no open move names it and no row
/// names it. Returns how many entries were removed.
#[tracing::instrument(skip_all)]
pub fn repair(storages: &Storages, conn: &mut DbConn, findings: &[Finding]) -> Result<usize> {
    let mut removed = 0;
    let in_flight = journal_keys(conn)?;
    for finding in findings {
        match finding {
            Finding::Orphan { storage, key } => {
                let Ok(k) = StorageKey::parse(key) else {
                    continue;
                };
                if in_flight.contains(key) {
                    continue;
                }
                let target = storages.get(*storage);
                // Held while the rows are read again and the object goes.
                let Some(_lock) = target.claim_if_unheld(&k)? else {
                    continue;
                };
                if named_by_row(conn, *storage, key)? {
                    continue;
                }
                target.delete(&k)?;
                removed += 1;
            }
            Finding::Foreign { storage, path } => {
                storages.get(*storage).remove_foreign(path)?;
                removed += 1;
            }
            Finding::AbandonedMultipart { storage, upload } => {
                if let Some(object) = storages.get(*storage).as_object() {
                    object.abort_upload(upload)?;
                    removed += 1;
                }
            }
            Finding::AbandonedUpload { storage, name, .. }
                if storages.get(*storage).temp_files().remove_abandoned(name)? =>
            {
                removed += 1;
            }
            _ => {}
        }
    }
    Ok(removed)
}

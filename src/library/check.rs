//! Integrity check (`coffer check`): rows whose bytes are missing, objects no row names
//! (orphans), and anything inside a storage that is not an object (links, stray names).

use std::collections::HashSet;

use crate::db::DbConn;
use crate::db::models::{file, thumbnail};
use crate::storage::{StorageKey, StorageRole, Storages};

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
    /// An object no row names.
    Orphan { storage: StorageRole, key: String },
    /// A symbolic link or a name no key can have.
    Foreign { storage: StorageRole, path: String },
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
            Finding::Orphan { storage, key } => write!(f, "orphan   {}/{key}", storage.as_str()),
            Finding::Foreign { storage, path } => write!(
                f,
                "foreign  {}/{path} (not a Coffer object)",
                storage.as_str()
            ),
            Finding::Tree(problem) => write!(f, "{problem}"),
        }
    }
}

/// Compares the rows with the four storages.
pub fn check(storages: &Storages, conn: &mut DbConn) -> Result<Vec<Finding>> {
    let mut expected: Vec<HashSet<String>> = vec![HashSet::new(); 4];
    let index = |r: StorageRole| StorageRole::ALL.iter().position(|x| *x == r).unwrap_or(0);
    let mut findings: Vec<Finding> = super::tree::check(conn)?
        .into_iter()
        .map(Finding::Tree)
        .collect();
    for (id, public, key) in file::all_keys(conn)? {
        let role = StorageRole::main(public);
        let present = StorageKey::parse(&key).is_ok_and(|k| storages.get(role).local().exists(&k));
        if !present {
            findings.push(Finding::MissingFile {
                file_id: id,
                storage: role,
                key: key.clone(),
            });
        }
        expected[index(role)].insert(key);
    }
    for (key, public) in thumbnail::all_keys(conn)? {
        let role = StorageRole::thumbnails(public);
        let present = StorageKey::parse(&key).is_ok_and(|k| storages.get(role).local().exists(&k));
        if !present {
            findings.push(Finding::MissingThumbnail {
                storage: role,
                key: key.clone(),
            });
        }
        expected[index(role)].insert(key);
    }
    for role in StorageRole::ALL {
        let report = storages.get(role).local().walk()?;
        for key in report.keys {
            if !expected[index(role)].contains(&key) {
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

/// Removes orphans and foreign entries; missing objects cannot be repaired and are left in
/// the report. Returns how many entries were removed.
pub fn repair(storages: &Storages, findings: &[Finding]) -> Result<usize> {
    let mut removed = 0;
    for finding in findings {
        match finding {
            Finding::Orphan { storage, key } => {
                if let Ok(k) = StorageKey::parse(key) {
                    storages.get(*storage).local().delete(&k)?;
                    removed += 1;
                }
            }
            Finding::Foreign { storage, path } => {
                storages.get(*storage).local().remove_foreign(path)?;
                removed += 1;
            }
            _ => {}
        }
    }
    Ok(removed)
}

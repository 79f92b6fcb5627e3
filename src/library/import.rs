//! `coffer import DIR`: a directory tree becomes folders and files. Folders that already
//! exist are reused and files whose name is already in their folder are skipped, so an
//! interrupted import can simply be run again. Symbolic links are not followed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Library;
use crate::db;
use crate::db::models::User;
use crate::db::models::file;
use crate::db::models::folder::{self};

use super::upload::{UploadTarget, authorize, store};
use super::{Error, Result};

/// Progress events for the caller's progress bar.
#[derive(Debug)]
pub enum Event<'a> {
    /// The number of files found.
    Total(u64),
    /// One file done (imported, skipped or failed).
    File(&'a Path, Outcome),
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    Skipped,
    Failed(String),
}

/// Totals of an import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub folders_created: usize,
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
}

struct Entry {
    path: PathBuf,
    /// Folder names from the import root down to the file's directory.
    dirs: Vec<String>,
}

/// Lists the files under `root`, depth first, each directory's entries by name. Iterative
/// (an explicit stack, so a deep tree cannot exhaust the thread's stack); links are not
/// followed, and a directory met twice (a bind mount inside itself) is walked once.
fn walk(root: &Path, dirs: &[String], out: &mut Vec<Entry>) -> std::io::Result<()> {
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(PathBuf, Vec<String>)> = vec![(root.to_path_buf(), dirs.to_vec())];
    while let Some((dir, dirs)) = stack.pop() {
        if !seen.insert(dir_identity(&dir)?) {
            continue;
        }
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let ft = entry.file_type()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if ft.is_dir() {
                let mut sub = dirs.clone();
                sub.push(name);
                subdirs.push((entry.path(), sub));
            } else if ft.is_file() {
                out.push(Entry {
                    path: entry.path(),
                    dirs: dirs.clone(),
                });
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

#[cfg(unix)]
fn dir_identity(dir: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(dir)?;
    Ok((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_identity(dir: &Path) -> std::io::Result<PathBuf> {
    Ok(dir.to_path_buf())
}

/// Imports `dir` as a folder named after it, under `parent` (None = top level), owned by
/// `user`, with the same permission checks as an upload.
#[tracing::instrument(skip_all, fields(user_id = user.id, parent = ?parent))]
pub async fn import(
    lib: &Library,
    user: &User,
    dir: &Path,
    parent: Option<i64>,
    is_public: Option<bool>,
    mut progress: impl FnMut(Event<'_>),
) -> Result<Report> {
    let root_name = dir
        .canonicalize()
        .map_err(|e| Error::Invalid(format!("{}: {e}", dir.display())))?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    let mut entries = Vec::new();
    walk(dir, &[root_name], &mut entries)
        .map_err(|e| Error::Invalid(format!("{}: {e}", dir.display())))?;
    progress(Event::Total(entries.len() as u64));
    let mut report = Report::default();
    let mut folder_ids: std::collections::HashMap<Vec<String>, i64> = Default::default();
    for entry in entries {
        let folder_id =
            ensure_folders(lib, user, parent, &entry.dirs, &mut folder_ids, &mut report).await;
        let name = entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let outcome = match folder_id {
            Ok(folder_id) => import_file(lib, user, &entry.path, &name, folder_id, is_public).await,
            // A folder that may not be made (too deep, a bad name) fails its files only.
            Err(Error::Invalid(why)) => Outcome::Failed(why),
            Err(e) => return Err(e),
        };
        match &outcome {
            Outcome::Imported => report.imported += 1,
            Outcome::Skipped => report.skipped += 1,
            Outcome::Failed(_) => report.failed += 1,
        }
        progress(Event::File(&entry.path, outcome));
    }
    Ok(report)
}

async fn ensure_folders(
    lib: &Library,
    user: &User,
    parent: Option<i64>,
    dirs: &[String],
    cache: &mut std::collections::HashMap<Vec<String>, i64>,
    report: &mut Report,
) -> Result<i64> {
    let mut current = parent;
    for depth in 1..=dirs.len() {
        let path = dirs[..depth].to_vec();
        if let Some(id) = cache.get(&path) {
            current = Some(*id);
            continue;
        }
        // The name as it will be stored (NFC), so that a second run finds the folder.
        let name = super::check_name(&dirs[depth - 1], "folder")?;
        let (st, u) = (lib.clone(), user.clone());
        let (id, created) = db::run(&lib.pool, move |conn| {
            match folder::find_child_by_name(conn, current, &name)? {
                Some(f) => Ok((f.id, false)),
                None => super::folders::create(
                    &st,
                    conn,
                    &u,
                    &name,
                    current.map(crate::domain::ids::FolderId::new),
                    None,
                )
                .map(|f| (f.id, true)),
            }
        })
        .await?;
        if created {
            report.folders_created += 1;
        }
        cache.insert(path, id);
        current = Some(id);
    }
    current.ok_or_else(|| Error::Invalid("nothing to import".into()))
}

async fn import_file(
    lib: &Library,
    user: &User,
    path: &Path,
    name: &str,
    folder_id: i64,
    is_public: Option<bool>,
) -> Outcome {
    let target = UploadTarget {
        folder_id: Some(folder_id),
        is_public,
        ..UploadTarget::default()
    };
    // Compared as it will be stored, so that a second run skips it.
    let stored_name = super::upload::clean_original_name(name);
    let (st, u, t, n) = (lib.clone(), user.clone(), target.clone(), stored_name);
    let checked = db::run(&lib.pool, move |conn| {
        authorize(&st, conn, &u, &t)?;
        Ok::<_, Error>(file::exists_in_folder(conn, folder_id, &n)?)
    })
    .await;
    match checked {
        Ok(true) => return Outcome::Skipped,
        Ok(false) => {}
        Err(e) => return Outcome::Failed(e.to_string()),
    }
    let opened = std::fs::File::open(path).and_then(|f| {
        let len = f.metadata()?.len();
        Ok((f, len))
    });
    let (f, len) = match opened {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let body = crate::serve::file_stream(Arc::new(f), 0, len);
    match store(lib, user, &target, name, body).await {
        Ok(_) => Outcome::Imported,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

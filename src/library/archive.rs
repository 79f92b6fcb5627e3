//! ZIP downloads: what goes into an archive of a folder (as a reader, or through a folder
//! share link) or of a selection (in the admin). Only files the downloader may read go in;
//! the folder structure is kept; every name is made safe on Windows and macOS (reserved
//! names and characters replaced, duplicates suffixed); the limits (`zip.max_files`,
//! `zip.max_bytes`) refuse an archive up front, with the numbers. The bytes are written
//! while they are sent (see `web::zip_download`).

use std::collections::{HashMap, HashSet};

use super::access::{Access, Target};
use super::bulk::Item;
use super::shares::Opened;
use super::{Error, Library, Result};
use crate::db::DbConn;
use crate::db::models::{File, User, file, folder};
use crate::domain::ids::FolderId;
use crate::permissions::Right;

/// The limits of one archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
}

/// One file of an archive, at its path inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub file: File,
}

/// What an archive will hold.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The archive's download name, `name.zip`.
    pub name: String,
    pub entries: Vec<Entry>,
    pub bytes: u64,
}

/// A folder's tree as `viewer` may read it.
#[tracing::instrument(skip_all, fields(user_id = viewer.id, %id))]
pub fn of_folder(lib: &Library, conn: &mut DbConn, viewer: &User, id: FolderId) -> Result<Plan> {
    let root = super::folders::readable(lib, conn, viewer, id)?;
    let access = lib.access(conn, Some(viewer))?;
    let mut names = Names::default();
    let entries = tree(conn, &access, root.id, &safe(&root.name), &mut names)?;
    finish(lib, format!("{}.zip", safe(&root.name)), entries)
}

/// A folder share link's tree, as its creator may read it now.
pub fn of_share(lib: &Library, conn: &mut DbConn, opened: &Opened) -> Result<Plan> {
    let (super::shares::Kind::Download, Some(root)) = (opened.kind, &opened.folder) else {
        return Err(Error::NotFound);
    };
    let access = lib.access(conn, Some(&opened.creator))?;
    let mut names = Names::default();
    let entries = tree(conn, &access, root.id, &safe(&root.name), &mut names)?;
    finish(lib, format!("{}.zip", safe(&root.name)), entries)
}

/// A selection of files and folders (each folder with its tree) as `user` may read them.
pub fn of_selection(lib: &Library, conn: &mut DbConn, user: &User, items: &[Item]) -> Result<Plan> {
    let access = lib.access(conn, Some(user))?;
    let mut names = Names::default();
    let mut entries = Vec::new();
    for item in items {
        match *item {
            Item::File(id) => {
                let Some(f) = file::find(conn, id)?.filter(|f| access.can(Right::Read, f)) else {
                    return Err(Error::NotFound);
                };
                let path = names.unique("", &safe(f.label()));
                entries.push(Entry { path, file: f });
            }
            Item::Folder(id) => {
                let Some(f) = folder::find(conn, id)?
                    .filter(|f| access.can(Right::Read, Target::Folder(f.id)))
                else {
                    return Err(Error::NotFound);
                };
                let top = names.unique("", &safe(&f.name));
                entries.extend(tree(conn, &access, f.id, &top, &mut names)?);
            }
        }
    }
    finish(lib, "selection.zip".to_owned(), entries)
}

/// The readable files of `root`'s tree, at paths below `prefix`.
fn tree(
    conn: &mut DbConn,
    access: &Access<'_>,
    root: i64,
    prefix: &str,
    names: &mut Names,
) -> Result<Vec<Entry>> {
    let mut ids = vec![root];
    ids.extend(access.tree().descendants(root));
    let readable: Vec<i64> = ids
        .into_iter()
        .filter(|id| access.can(Right::Read, Target::Folder(*id)))
        .collect();
    let folders: HashMap<i64, crate::db::models::Folder> = folder::find_many(conn, &readable)?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    // Each folder's path, from the root down (parents before children: ancestors first).
    let mut paths: HashMap<i64, String> = HashMap::from([(root, prefix.to_owned())]);
    let mut order: Vec<i64> = readable.clone();
    order.sort_by_key(|id| access.tree().ancestors(*id).len());
    for id in &order {
        if *id == root {
            continue;
        }
        let Some(f) = folders.get(id) else { continue };
        let Some(parent) = f.parent_id.and_then(|p| paths.get(&p).cloned()) else {
            continue; // below a folder the viewer may not read
        };
        let path = names.unique(&parent, &safe(&f.name));
        paths.insert(*id, path);
    }
    let mut entries = Vec::new();
    for f in super::tree::files_in(conn, &readable)? {
        if !access.can(Right::Read, &f) {
            continue;
        }
        let Some(dir) = f.folder_id.and_then(|d| paths.get(&d)) else {
            continue;
        };
        let path = names.unique(dir, &safe(f.label()));
        entries.push(Entry { path, file: f });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

fn finish(lib: &Library, name: String, entries: Vec<Entry>) -> Result<Plan> {
    let bytes: u64 = entries
        .iter()
        .map(|e| u64::try_from(e.file.size).unwrap_or(0))
        .sum();
    let limits = lib.settings.zip_limits;
    if entries.len() > limits.max_files || bytes > limits.max_bytes {
        return Err(Error::Invalid(format!(
            "this ZIP would hold {} file(s), {}; one ZIP holds at most {} files and {} — download fewer at a time",
            entries.len(),
            super::quota::human(i64::try_from(bytes).unwrap_or(i64::MAX)),
            limits.max_files,
            super::quota::human(i64::try_from(limits.max_bytes).unwrap_or(i64::MAX)),
        )));
    }
    Ok(Plan {
        name,
        entries,
        bytes,
    })
}

/// The paths already used in an archive, compared as Windows and macOS compare names
/// (without case).
#[derive(Default)]
struct Names {
    used: HashSet<String>,
}

impl Names {
    /// `name` in directory `dir` (empty: the top), suffixed `name (2).ext`, `name (3).ext`, …
    /// when taken.
    fn unique(&mut self, dir: &str, name: &str) -> String {
        let join = |n: &str| {
            if dir.is_empty() {
                n.to_owned()
            } else {
                format!("{dir}/{n}")
            }
        };
        let mut candidate = join(name);
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => name.split_at(i),
            _ => (name, ""),
        };
        let mut n = 2;
        while !self.used.insert(candidate.to_lowercase()) {
            candidate = join(&format!("{stem} ({n}){ext}"));
            n += 1;
        }
        candidate
    }
}

/// Names Windows reserves, whatever the extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// One path component that unpacks the same on Windows, macOS and Linux: the characters
/// Windows forbids (`<>:"/\|?*` and controls) become `_`, trailing dots and spaces go, a
/// reserved device name gets a `_` in front, never empty, `.` or `..`, at most 200
/// characters.
pub fn safe(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    while out.ends_with(['.', ' ']) {
        out.pop();
    }
    let out = out.trim_start().to_owned();
    if out.is_empty() {
        return "_".to_owned();
    }
    let stem = out
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        return format!("_{out}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_everywhere_and_unique_without_case() {
        for (given, kept) in [
            ("report.pdf", "report.pdf"),
            ("a:b*c?.txt", "a_b_c_.txt"),
            ("CON", "_CON"),
            ("con.txt", "_con.txt"),
            ("lpt9.tar.gz", "_lpt9.tar.gz"),
            ("name. . ", "name"),
            ("...", "_"),
            ("..", "_"),
            ("tab\there", "tab_here"),
            ("résumé.txt", "résumé.txt"),
        ] {
            assert_eq!(safe(given), kept, "{given:?}");
        }
        let mut names = Names::default();
        assert_eq!(names.unique("", "a.txt"), "a.txt");
        assert_eq!(names.unique("", "A.TXT"), "A (2).TXT");
        assert_eq!(names.unique("", "a.txt"), "a (3).txt");
        assert_eq!(names.unique("dir", "a.txt"), "dir/a.txt");
    }
}

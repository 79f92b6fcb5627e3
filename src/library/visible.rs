//! What a user may know exists. An item the user may not read is the same thing as a missing
//! one: these helpers answer `None` for both, decide from the permission snapshot before any
//! query touches the item's contents (so a refusal walks nothing below it), and count only
//! what the user may read.

use crate::db::DbConn;
use crate::db::models::file::{self, File};
use crate::db::models::folder::{self, Folder};
use crate::permissions::Right;

use super::Result;
use super::access::{Access, Target};

/// Whether the caller may read the folder (false for a missing one).
pub fn can_read_folder(access: &Access<'_>, id: i64) -> bool {
    access.can(Right::Read, Target::Folder(id))
}

/// The folder, if it exists and the caller may read it; `None` otherwise, whichever the
/// reason.
pub fn folder(conn: &mut DbConn, access: &Access<'_>, id: i64) -> Result<Option<Folder>> {
    // The decision comes from the snapshot: an unreadable folder is never even loaded.
    if !can_read_folder(access, id) {
        return Ok(None);
    }
    Ok(folder::find(conn, id)?)
}

/// The file, if it exists and the caller may read it; `None` otherwise, whichever the reason.
pub fn file(conn: &mut DbConn, access: &Access<'_>, id: i64) -> Result<Option<File>> {
    Ok(file::find(conn, id)?.filter(|f| access.can(Right::Read, f)))
}

/// The private files the user may read in a folder's subtree (0 when the folder is missing
/// or unreadable).
pub fn private_files_in_tree(conn: &mut DbConn, access: &Access<'_>, id: i64) -> Result<usize> {
    if folder(conn, access, id)?.is_none() {
        return Ok(0);
    }
    let mut ids = access.tree().descendants(id);
    ids.push(id);
    Ok(file::in_folders(conn, &ids)?
        .iter()
        .filter(|f| !f.is_public && access.can(Right::Read, *f))
        .count())
}

/// The readable part of a folder's subtree: (folders including itself, files). `None` when
/// the folder is missing or unreadable — nothing below it is walked then.
pub fn count_tree(
    conn: &mut DbConn,
    access: &Access<'_>,
    id: i64,
) -> Result<Option<(usize, usize)>> {
    if folder(conn, access, id)?.is_none() {
        return Ok(None);
    }
    let readable = access.folders_with(Right::Read);
    let mut ids = access.tree().descendants(id);
    ids.push(id);
    let folders = ids.iter().filter(|f| readable.contains(**f)).count();
    let files = file::in_folders(conn, &ids)?
        .iter()
        .filter(|f| access.can(Right::Read, *f))
        .count();
    Ok(Some((folders, files)))
}

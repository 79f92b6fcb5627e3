//! What a user may know exists. An item the user may not read is the same thing as a missing
//! one: these helpers answer `None` for both, decide from the permission snapshot before any
//! query touches the item's contents (so a refusal walks nothing below it), and count only
//! what the user may read.

use crate::access::Loaded;
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File};
use crate::db::models::folder::{self, Folder};
use crate::permissions::Right;
use crate::state::AppState;

use super::Result;

/// Whether `user` may read the folder (false for a missing one).
pub fn can_read_folder(state: &AppState, loaded: &Loaded, user: &User, id: i64) -> bool {
    loaded
        .folder(state.access.policy(), Some(user), id, Right::Read)
        .allowed
}

/// The folder, if it exists and `user` may read it; `None` otherwise, whichever the reason.
pub fn folder(
    state: &AppState,
    conn: &mut DbConn,
    loaded: &Loaded,
    user: &User,
    id: i64,
) -> Result<Option<Folder>> {
    // The decision comes from the snapshot: an unreadable folder is never even loaded.
    if !can_read_folder(state, loaded, user, id) {
        return Ok(None);
    }
    Ok(folder::find(conn, id)?)
}

/// The file, if it exists and `user` may read it; `None` otherwise, whichever the reason.
pub fn file(
    state: &AppState,
    conn: &mut DbConn,
    loaded: &Loaded,
    user: &User,
    id: i64,
) -> Result<Option<File>> {
    Ok(file::find(conn, id)?.filter(|f| {
        loaded
            .file(state.access.policy(), Some(user), f, Right::Read)
            .allowed
    }))
}

/// The readable part of a folder's subtree: (folders including itself, files). `None` when
/// the folder is missing or unreadable — nothing below it is walked then.
pub fn count_tree(
    state: &AppState,
    conn: &mut DbConn,
    loaded: &Loaded,
    user: &User,
    id: i64,
) -> Result<Option<(usize, usize)>> {
    if folder(state, conn, loaded, user, id)?.is_none() {
        return Ok(None);
    }
    let policy = state.access.policy();
    let readable = loaded.snapshot.folders_with(
        policy,
        crate::access::actor(Some(user)).as_ref(),
        Right::Read,
    );
    let mut ids = loaded.snapshot.descendants(id);
    ids.push(id);
    let folders = ids.iter().filter(|f| readable.contains(**f)).count();
    let files = file::in_folders(conn, &ids)?
        .iter()
        .filter(|f| loaded.file(policy, Some(user), f, Right::Read).allowed)
        .count();
    Ok(Some((folders, files)))
}

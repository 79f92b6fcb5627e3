//! Usage totals for the admin: what a user's files hold, and what a folder tree holds.

use super::Library;
use crate::db::DbConn;
use crate::db::models::usage::{self, Usage};
use crate::db::models::{User, trash};
use crate::domain::ids::FolderId;

use super::Result;

/// What `owner`'s files hold, with their quota.
pub fn of_user(conn: &mut DbConn, owner: i64) -> Result<(Usage, Option<i64>)> {
    let quota = crate::db::models::user::find(conn, owner)?.and_then(|u| u.quota_bytes);
    Ok((usage::of_owner(conn, owner)?, quota))
}

/// What a folder and everything under it holds (files and versions of the live items, and
/// the trash entries that came from this tree). Needs read on the folder.
pub fn of_folder(lib: &Library, conn: &mut DbConn, user: &User, id: FolderId) -> Result<Usage> {
    let f = super::folders::readable(lib, conn, user, id)?;
    let access = lib.access(conn, Some(user))?;
    let mut ids = access.tree().descendants(f.id);
    ids.push(f.id);
    let mut out = usage::of_folders(conn, &ids)?;
    out.trash = trash::size_from(conn, &ids)?;
    Ok(out)
}

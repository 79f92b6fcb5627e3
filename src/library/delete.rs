//! Deleting files and folder trees. Rows go first, in one transaction that also schedules
//! every object (files and thumbnails) in the garbage journal; the objects are removed right
//! after the commit, or at the next start if Coffer stops in between.

use super::Library;
use crate::db::DbConn;
use crate::db::models::file::{self, File};
use crate::db::models::{User, folder, journal, thumbnail, trash, version};
use crate::domain::ids::{FileId, FolderId};
use crate::permissions::Right;
use crate::storage::{StorageKey, StorageRole, Storages};

use super::access::Target;
use super::{Error, Result, forbidden};

fn schedule_file(conn: &mut DbConn, f: &File) -> Result<()> {
    if journal::move_in_progress(conn, f.id)? {
        return Err(Error::Conflict(format!(
            "file {} is being moved between storages; try again in a moment",
            f.id
        )));
    }
    journal::add_garbage(
        conn,
        StorageRole::main(f.is_public).as_str(),
        &f.storage_key,
    )?;
    for t in thumbnail::for_file(conn, f.id)? {
        journal::add_garbage(
            conn,
            StorageRole::thumbnails(f.is_public).as_str(),
            &t.storage_key,
        )?;
    }
    for v in version::for_file(conn, f.id)? {
        journal::add_garbage(
            conn,
            StorageRole::main(f.is_public).as_str(),
            &v.storage_key,
        )?;
    }
    Ok(())
}

/// Permanent deletion is for the item's owner and superusers.
fn require_owner(user: &User, owner: Option<i64>) -> Result<()> {
    if user.is_superuser || owner == Some(user.id) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only its owner or a superuser may delete this permanently; move it to the trash instead"
                .into(),
        ))
    }
}

/// Deletes one file permanently, with its versions and thumbnails (needs edit on it, and to
/// be its owner or a superuser). Deleting moves to the trash: see `trash::trash_file`.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn delete_file(lib: &Library, conn: &mut DbConn, user: &User, id: FileId) -> Result<()> {
    let f = super::files::editable(lib, conn, user, id)?;
    require_owner(user, f.owner_id)?;
    destroy_file(lib, conn, &f)
}

/// Deletes a file's rows and schedules its objects, without a permission check.
pub(super) fn destroy_file(lib: &Library, conn: &mut DbConn, f: &File) -> Result<()> {
    crate::db::write_transaction(conn, |conn| {
        schedule_file(conn, f)?;
        file::delete_row(conn, f.id)?;
        trash::forget_orphans(conn)?;
        Ok::<_, Error>(())
    })?;
    collect_garbage(&lib.storages, conn)?;
    Ok(())
}

/// What deleting a folder removes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeCounts {
    pub folders: usize,
    pub files: usize,
}

/// Counts the folders (including itself) and files a folder deletion would remove.
pub fn count_tree(lib: &Library, conn: &mut DbConn, folder_id: i64) -> Result<TreeCounts> {
    let access = lib.access(conn, None)?;
    let mut ids = access.tree().descendants(folder_id);
    ids.push(folder_id);
    Ok(TreeCounts {
        folders: ids.len(),
        files: super::tree::files_in(conn, &ids)?.len(),
    })
}

/// Deletes a folder with its whole subtree permanently (trashed items in it too). Like
/// django-filer's delete action, it needs edit on the folder, every subfolder and every file
/// in them; and to own the folder or be a superuser. Deleting moves to the trash: see
/// `trash::trash_folder`.
#[tracing::instrument(skip_all, fields(user_id = user.id, folder_id))]
pub fn delete_folder(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    folder_id: FolderId,
) -> Result<TreeCounts> {
    let folder_id = folder_id.get();
    let root = folder::find(conn, folder_id)?.ok_or(Error::NotFound)?;
    let access = lib.access(conn, Some(user))?;
    access.require(Right::Read, &root)?;
    require_owner(user, root.owner_id)?;
    let (ids, files) = editable_tree(conn, &access, folder_id)?;
    // Read the subtree again from the rows, by levels, in the tree transaction that deletes
    // it: what goes is exactly what was checked, and the deepest level goes first (no
    // cascade recursing through the levels, whatever the depth, and no loop in a cycle).
    crate::db::tree_transaction(conn, |conn| {
        let levels = folder::levels(conn, folder_id, None)?;
        let mut now: Vec<i64> = levels.iter().flatten().copied().collect();
        let mut checked = ids.clone();
        now.sort_unstable();
        checked.sort_unstable();
        let mut now_files: Vec<i64> = super::tree::files_in(conn, &now)?
            .iter()
            .map(|f| f.id)
            .collect();
        let mut checked_files: Vec<i64> = files.iter().map(|f| f.id).collect();
        now_files.sort_unstable();
        checked_files.sort_unstable();
        if now != checked || now_files != checked_files {
            return Err(Error::Conflict(
                "the folder changed while it was being deleted; try again".into(),
            ));
        }
        destroy_rows(conn, folder_id)?;
        Ok::<_, Error>(())
    })?;
    collect_garbage(&lib.storages, conn)?;
    Ok(TreeCounts {
        folders: ids.len(),
        files: files.len(),
    })
}

/// The folders of `folder_id`'s subtree (itself last) and the files in them, when the caller
/// may edit every one of them (a deletion, like django-filer's, needs all of it); otherwise
/// `Forbidden` naming the first that refuses.
pub(super) fn editable_tree(
    conn: &mut DbConn,
    access: &super::Access<'_>,
    folder_id: i64,
) -> Result<(Vec<i64>, Vec<File>)> {
    let mut ids = access.tree().descendants(folder_id);
    ids.push(folder_id);
    for id in &ids {
        let d = access.decide(Right::Edit, Target::Folder(*id));
        if !d.allowed {
            return Err(forbidden(&d));
        }
    }
    let files = super::tree::files_in(conn, &ids)?;
    for f in &files {
        let d = access.decide(Right::Edit, f);
        if !d.allowed {
            return Err(Error::Forbidden(format!(
                "permission denied on file {} in the folder ({d})",
                f.id
            )));
        }
    }
    Ok((ids, files))
}

/// Inside a tree transaction: deletes the subtree of `folder_id` with every row in it,
/// trashed ones included, scheduling every object, and forgets the trash entries of the
/// items that went.
pub(super) fn destroy_rows(conn: &mut DbConn, folder_id: i64) -> Result<()> {
    let levels = folder::levels_of(conn, folder_id, None, folder::Rows::All)?;
    let ids: Vec<i64> = levels.iter().flatten().copied().collect();
    for f in file::in_folders_any(conn, &ids)? {
        schedule_file(conn, &f)?;
    }
    folder::delete_levels(conn, &levels)?;
    trash::forget_orphans(conn)?;
    Ok(())
}

/// Removes every scheduled object and forgets the schedule. Objects that cannot be removed
/// stay scheduled for the next run.
pub fn collect_garbage(storages: &Storages, conn: &mut DbConn) -> Result<usize> {
    let mut done = Vec::new();
    for (id, storage, key) in journal::garbage(conn)? {
        let Some(role) = StorageRole::parse(&storage) else {
            done.push(id);
            continue;
        };
        let Ok(key) = StorageKey::parse(&key) else {
            done.push(id);
            continue;
        };
        // A key that a live row names again (never reused today) must not be deleted.
        let public = matches!(role, StorageRole::Public | StorageRole::PublicThumbnails);
        let still_used = match role {
            StorageRole::Public | StorageRole::Private => {
                file::key_in_use(conn, key.as_str(), public)?
            }
            _ => thumbnail::find_by_key(conn, key.as_str())?.is_some(),
        };
        if still_used {
            done.push(id);
            continue;
        }
        match storages.get(role).delete(&key) {
            Ok(()) => done.push(id),
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "could not delete an object; will retry")
            }
        }
    }
    journal::clear_garbage(conn, &done)?;
    Ok(done.len())
}

//! The trash: deleting a file or a folder moves it here instead of destroying it.
//!
//! Trashing keeps the rows (marked with the trash entry, see `db::models::trash`) and the
//! bytes. A public file is first moved to private storage (the web server must not serve a
//! trashed file), and remembered as public. A marked row is missing from every listing,
//! search, count and download. Restoring takes the marks off, puts the item back in its
//! folder (at the top level if that folder is gone or in the trash), and makes the files
//! that were public public again; every permission check then applies as before. Purging
//! (by hand, or once `trash.retention_days` passed) deletes the rows and the objects.

use time::Duration;

use super::Library;
use crate::db::DbConn;
use crate::db::models::trash::{self, NewEntry, TrashEntry};
use crate::db::models::{User, file, folder, generation, journal, user};
use crate::domain::ids::{FileId, FolderId};
use crate::permissions::Right;

use super::{Error, Result, forbidden};

/// Moves a file to the trash (needs edit on it).
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn trash_file(lib: &Library, conn: &mut DbConn, user: &User, id: FileId) -> Result<()> {
    let f = super::files::editable(lib, conn, user, id)?;
    if f.is_public {
        super::relocate::set_public(lib, conn, f.id, false)?;
    }
    crate::db::write_transaction(conn, |conn| {
        let now = file::find(conn, f.id)?.ok_or(Error::NotFound)?;
        if now.is_public || journal::move_in_progress(conn, f.id)? {
            return Err(Error::Conflict(
                "the file was made public again meanwhile; try again".into(),
            ));
        }
        let size = trash::bytes_of(conn, std::slice::from_ref(&now))?;
        let entry = trash::insert(
            conn,
            &NewEntry {
                file_id: Some(now.id),
                folder_id: None,
                name: now.label().to_owned(),
                original_folder_id: now.folder_id,
                owner_id: now.owner_id,
                trashed_by: user.id,
                size,
            },
        )?;
        trash::mark_file(conn, now.id, entry.id, f.is_public)?;
        Ok(())
    })
}

/// What trashing a folder took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub folders: usize,
    pub files: usize,
}

/// Moves a folder with its whole subtree to the trash. Like a deletion, it needs edit on the
/// folder, every subfolder and every file in them.
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn trash_folder(lib: &Library, conn: &mut DbConn, user: &User, id: FolderId) -> Result<Taken> {
    let folder_id = id.get();
    let root = folder::find(conn, folder_id)?.ok_or(Error::NotFound)?;
    let access = lib.access(conn, Some(user))?;
    access.require(Right::Read, &root)?;
    let (ids, files) = super::delete::editable_tree(conn, &access, folder_id)?;
    // Public files leave the public storage first: a trashed file is never served.
    let mut were_public = Vec::new();
    for f in files.iter().filter(|f| f.is_public) {
        super::relocate::set_public(lib, conn, f.id, false)?;
        were_public.push(f.id);
    }
    let (mut checked, mut checked_files): (Vec<i64>, Vec<i64>) =
        (ids.clone(), files.iter().map(|f| f.id).collect());
    checked.sort_unstable();
    checked_files.sort_unstable();
    crate::db::tree_transaction(conn, |conn| {
        let mut now: Vec<i64> = folder::levels(conn, folder_id, None)?
            .into_iter()
            .flatten()
            .collect();
        now.sort_unstable();
        let rows = super::tree::files_in(conn, &now)?;
        let mut now_files: Vec<i64> = rows.iter().map(|f| f.id).collect();
        now_files.sort_unstable();
        if now != checked || now_files != checked_files {
            return Err(Error::Conflict(
                "the folder changed while it was being moved to the trash; try again".into(),
            ));
        }
        for f in &rows {
            if f.is_public || journal::move_in_progress(conn, f.id)? {
                return Err(Error::Conflict(format!(
                    "file {} was made public again meanwhile; try again",
                    f.id
                )));
            }
        }
        let size = trash::bytes_of(conn, &rows)?;
        let entry = trash::insert(
            conn,
            &NewEntry {
                file_id: None,
                folder_id: Some(folder_id),
                name: root.name.clone(),
                original_folder_id: root.parent_id,
                owner_id: root.owner_id,
                trashed_by: user.id,
                size,
            },
        )?;
        trash::mark_tree(conn, &now, entry.id, &were_public)?;
        generation::bump(conn)?;
        Ok::<_, Error>(())
    })?;
    Ok(Taken {
        folders: ids.len(),
        files: files.len(),
    })
}

/// One item in the trash, for the trash page.
#[derive(Clone, Debug)]
pub struct TrashItem {
    pub entry: TrashEntry,
    pub is_folder: bool,
    /// Who deleted it.
    pub trashed_by: String,
    pub owner: String,
    /// Where it goes back: the folder's name, or `None` for the top level.
    pub restores_to: Option<String>,
    /// Whether the caller may delete it permanently (its owner, or a superuser).
    pub may_purge: bool,
}

/// The trash as `user` sees it: the items they deleted or own (every item for superusers),
/// newest first.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn list(lib: &Library, conn: &mut DbConn, user: &User) -> Result<Vec<TrashItem>> {
    let entries = trash::visible_to(conn, (!user.is_superuser).then_some(user.id))?;
    let mut people: Vec<i64> = entries
        .iter()
        .flat_map(|e| [e.trashed_by, e.owner_id])
        .flatten()
        .collect();
    people.sort_unstable();
    people.dedup();
    let names = user::usernames(conn, &people)?;
    let name_of = |id: Option<i64>| {
        id.and_then(|id| names.iter().find(|(i, _)| *i == id))
            .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
    };
    let access = lib.access(conn, Some(user))?;
    // The folders the entries go back to, in one query.
    let origins: Vec<i64> = entries
        .iter()
        .filter_map(|e| e.original_folder_id)
        .collect();
    let origins = folder::find_many(conn, &origins)?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let restores_to = e
            .original_folder_id
            .and_then(|id| origins.iter().find(|f| f.id == id))
            .filter(|f| access.can(Right::Read, *f))
            .map(|f| f.name.clone());
        out.push(TrashItem {
            is_folder: e.folder_id.is_some(),
            trashed_by: name_of(e.trashed_by),
            owner: name_of(e.owner_id),
            restores_to,
            may_purge: user.is_superuser || e.owner_id == Some(user.id),
            entry: e,
        });
    }
    Ok(out)
}

/// An entry `user` may see (a hidden one answers like a missing one).
fn visible(conn: &mut DbConn, user: &User, id: i64) -> Result<TrashEntry> {
    let e = trash::find(conn, id)?.ok_or(Error::NotFound)?;
    if user.is_superuser || e.trashed_by == Some(user.id) || e.owner_id == Some(user.id) {
        Ok(e)
    } else {
        Err(Error::NotFound)
    }
}

/// Where a restored item went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub name: String,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    /// The folder it is in now (`None`: the top level, or the owner's unsorted uploads).
    pub parent: Option<i64>,
    /// Files that were public and could not be made public again (they stay private).
    pub left_private: Vec<(i64, String)>,
}

/// Puts a trashed item back where it was: into its folder if that still exists (the caller
/// needs add-children there), else at the top level (a folder there needs a superuser; a
/// file goes to its owner's unsorted uploads). A folder whose name was taken meanwhile gets
/// a free one ("name (restored)"). An owner over their quota cannot restore.
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn restore(lib: &Library, conn: &mut DbConn, user: &User, id: i64) -> Result<Restored> {
    let e = visible(conn, user, id)?;
    // Everything is decided inside the transaction, on the tree it changes: a folder or
    // permission change committed while it waited is taken into account, never a reason
    // to refuse.
    let (name, were_public, parent_id) = crate::db::tree_transaction(conn, |conn| {
        let parent = match e.original_folder_id {
            Some(p) => folder::find(conn, p)?,
            None => None,
        };
        let access = lib.access(conn, Some(user))?;
        match &parent {
            // Back into a folder: the caller may add there, or edit there.
            Some(p) => {
                let d = access.decide(Right::AddChildren, p);
                if !d.allowed && !access.can(Right::Edit, p) {
                    return Err(forbidden(&d));
                }
            }
            // Its folder is gone (trashed or deleted): back to the top level.
            None if e.original_folder_id.is_some()
                && e.folder_id.is_some()
                && !user.is_superuser =>
            {
                return Err(Error::Forbidden(
                    "its folder is gone, and only superusers may restore a folder to the top \
                     level"
                        .into(),
                ));
            }
            None => {}
        }
        if let Some(owner) = e.owner_id {
            // The trash counts toward the quota: restoring adds nothing, but an owner over
            // their quota (lowered meanwhile) makes room first.
            super::quota::check_room(conn, owner, 0)?;
        }
        let parent_id = parent.as_ref().map(|p| p.id);
        trash::find(conn, e.id)?.ok_or(Error::NotFound)?;
        let mut name = e.name.clone();
        if let Some(folder_id) = e.folder_id {
            name = free_folder_name(conn, parent_id, &e.name)?;
            folder::update(conn, folder_id, Some(&name), Some(parent_id), None)?;
        }
        if let Some(file_id) = e.file_id
            && parent_id.is_none()
            && e.original_folder_id.is_some()
        {
            file::update(
                conn,
                file_id,
                &file::FileChanges {
                    folder_id: Some(None),
                    ..file::FileChanges::default()
                },
            )?;
        }
        let were_public = trash::unmark(conn, e.id)?;
        trash::delete(conn, e.id)?;
        generation::bump(conn)?;
        Ok::<_, Error>((name, were_public, parent_id))
    })?;
    let mut left_private = Vec::new();
    for f in were_public {
        if let Err(why) = super::relocate::set_public(lib, conn, f, true) {
            left_private.push((f, why.to_string()));
        }
    }
    Ok(Restored {
        name,
        file_id: e.file_id,
        folder_id: e.folder_id,
        parent: parent_id,
        left_private,
    })
}

/// A name for a restored folder that no live sibling has.
fn free_folder_name(conn: &mut DbConn, parent: Option<i64>, name: &str) -> Result<String> {
    if folder::find_child_by_name(conn, parent, name)?.is_none() {
        return Ok(name.to_owned());
    }
    for n in 1..1000 {
        let candidate = if n == 1 {
            format!("{name} (restored)")
        } else {
            format!("{name} (restored {n})")
        };
        if folder::find_child_by_name(conn, parent, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(Error::Conflict(format!(
        "no free name for {name:?} in its folder"
    )))
}

/// Deletes a trashed item permanently (its owner or a superuser).
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn purge(lib: &Library, conn: &mut DbConn, user: &User, id: i64) -> Result<String> {
    let e = visible(conn, user, id)?;
    if !(user.is_superuser || e.owner_id == Some(user.id)) {
        return Err(Error::Forbidden(
            "only its owner or a superuser may delete this permanently".into(),
        ));
    }
    purge_entry(lib, conn, &e)?;
    Ok(e.name)
}

/// Deletes an entry's item with its rows and objects (no permission check).
fn purge_entry(lib: &Library, conn: &mut DbConn, e: &TrashEntry) -> Result<()> {
    if let Some(file_id) = e.file_id {
        match file::find_any(conn, file_id)? {
            Some(f) => super::delete::destroy_file(lib, conn, &f)?,
            None => {
                trash::delete(conn, e.id)?;
            }
        }
    } else if let Some(folder_id) = e.folder_id {
        crate::db::tree_transaction(conn, |conn| {
            super::delete::destroy_rows(conn, folder_id)?;
            trash::delete(conn, e.id)?;
            Ok::<_, Error>(())
        })?;
        super::delete::collect_garbage(&lib.storages, conn)?;
    }
    Ok(())
}

/// Purges every item trashed more than `retention_days` ago; returns how many.
#[tracing::instrument(skip_all)]
pub fn purge_expired(lib: &Library, conn: &mut DbConn, retention_days: u32) -> Result<usize> {
    let cutoff = crate::db::now() - Duration::days(i64::from(retention_days));
    let mut n = 0;
    for e in trash::older_than(conn, cutoff)? {
        // Gone meanwhile (restored, or purged with a folder): nothing to do.
        let Some(e) = trash::find(conn, e.id)? else {
            continue;
        };
        match purge_entry(lib, conn, &e) {
            Ok(()) => n += 1,
            Err(err) => {
                tracing::warn!(entry = e.id, error = %err, "could not purge a trash entry")
            }
        }
    }
    Ok(n)
}

/// How a deletion goes: to the trash (the default everywhere), or for good.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Removal {
    #[default]
    Trash,
    /// Its owner or a superuser only.
    Permanent,
}

/// Deletes a file: to the trash, or permanently.
pub fn remove_file(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FileId,
    how: Removal,
) -> Result<()> {
    match how {
        Removal::Trash => trash_file(lib, conn, user, id),
        Removal::Permanent => super::delete::delete_file(lib, conn, user, id),
    }
}

/// Deletes a folder with its subtree: to the trash, or permanently.
pub fn remove_folder(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FolderId,
    how: Removal,
) -> Result<Taken> {
    match how {
        Removal::Trash => trash_folder(lib, conn, user, id),
        Removal::Permanent => super::delete::delete_folder(lib, conn, user, id).map(|c| Taken {
            folders: c.folders,
            files: c.files,
        }),
    }
}

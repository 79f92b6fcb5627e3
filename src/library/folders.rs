//! Creating, reading, renaming and moving folders, and listing what a user may see in one.

use super::Library;
use crate::db::DbConn;
use crate::db::models::file::{self, File};
use crate::db::models::folder::{self, Folder};
use crate::db::models::{User, user};
use crate::domain::ids::{FolderId, UserId};
use crate::permissions::Right;

use super::{Error, Result, check_name};

fn name_taken(e: crate::db::DbError, name: &str) -> Error {
    if e.is_unique_violation() {
        Error::Conflict(format!("a folder named {name:?} already exists there"))
    } else {
        Error::Db(e)
    }
}

/// A folder the user may read.
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn readable(lib: &Library, conn: &mut DbConn, user: &User, id: FolderId) -> Result<Folder> {
    let f = folder::find(conn, id.get())?.ok_or(Error::NotFound)?;
    lib.access(conn, Some(user))?.require(Right::Read, &f)?;
    Ok(f)
}

fn require_on_parent(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    parent: Option<i64>,
) -> Result<()> {
    match parent {
        Some(p) => {
            let parent = folder::find(conn, p)?.ok_or(Error::NotFound)?;
            lib.access(conn, Some(user))?
                .require(Right::AddChildren, &parent)
        }
        None if user.is_superuser => Ok(()),
        None => Err(Error::Forbidden(
            "only superusers may create top-level folders".into(),
        )),
    }
}

/// Creates a folder: needs add-children on the parent (top level: superusers). The owner is
/// the creator unless a superuser names another.
#[tracing::instrument(skip_all, fields(user_id = user.id, parent = ?parent))]
pub fn create(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    name: &str,
    parent: Option<FolderId>,
    owner: Option<UserId>,
) -> Result<Folder> {
    let (parent, owner) = (parent.map(FolderId::get), owner.map(UserId::get));
    let name = check_name(name, "folder")?;
    require_on_parent(lib, conn, user, parent)?;
    let owner = match owner {
        Some(o) if o != user.id => {
            if !user.is_superuser {
                return Err(Error::Forbidden(
                    "only superusers may set another owner".into(),
                ));
            }
            user::find(conn, o)?
                .ok_or_else(|| Error::Invalid(format!("user {o} does not exist")))?;
            o
        }
        _ => user.id,
    };
    // The depth check and the insert in one tree transaction: a concurrent move cannot make
    // the parent deeper in between.
    let max = lib.settings.max_folder_depth;
    crate::db::tree_transaction(conn, |conn| {
        super::tree::check_create(conn, parent, max)?;
        folder::create(conn, parent, Some(owner), &name).map_err(|e| name_taken(e, &name))
    })
}

/// Requested folder changes.
#[derive(Clone, Debug, Default)]
pub struct Edit {
    pub name: Option<String>,
    /// `Some(None)` moves the folder to the top level.
    pub parent_id: Option<Option<FolderId>>,
    pub owner_id: Option<Option<UserId>>,
}

/// Renames, moves or re-owns a folder: needs edit on it; a move needs add-children on the
/// destination (top level: superusers) and may not go into the folder's own subtree.
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub fn update(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FolderId,
    edit: &Edit,
) -> Result<Folder> {
    let id = id.get();
    let current = folder::find(conn, id)?.ok_or(Error::NotFound)?;
    let access = lib.access(conn, Some(user))?;
    access.require(Right::Edit, &current)?;
    let name = edit
        .name
        .as_deref()
        .map(|n| check_name(n, "folder"))
        .transpose()?;
    let mut parent = None;
    if let Some(target) = edit.parent_id.map(|t| t.map(FolderId::get))
        && target != current.parent_id
    {
        if let Some(t) = target {
            // A folder the user may not read is refused like a missing one.
            if super::visible::folder(conn, &access, t)?.is_none() {
                return Err(Error::Invalid(format!("folder {t} does not exist")));
            }
            if access.tree().is_ancestor_or_self(id, t) {
                return Err(Error::Invalid(
                    "a folder cannot be moved into itself or one of its subfolders".into(),
                ));
            }
        }
        require_on_parent(lib, conn, user, target)?;
        parent = Some(target);
    }
    let mut owner = None;
    if let Some(o) = edit.owner_id.map(|o| o.map(UserId::get))
        && o != current.owner_id
    {
        if !user.is_superuser {
            return Err(Error::Forbidden(
                "only superusers may change a folder's owner".into(),
            ));
        }
        if let Some(uid) = o {
            user::find(conn, uid)?
                .ok_or_else(|| Error::Invalid(format!("user {uid} does not exist")))?;
        }
        owner = Some(o);
    }
    let shown = name.clone().unwrap_or_else(|| current.name.clone());
    // The checks above used the permission snapshot; the tree checks that keep it a tree run
    // again on the rows, in the transaction that moves (serialised with every other change
    // to the tree), so two concurrent moves cannot close a loop.
    let max = lib.settings.max_folder_depth;
    crate::db::tree_transaction(conn, |conn| {
        if let Some(target) = parent {
            super::tree::check_move(conn, id, target, max)?;
        }
        folder::update(conn, id, name.as_deref(), parent, owner).map_err(|e| name_taken(e, &shown))
    })?;
    folder::find(conn, id)?.ok_or(Error::NotFound)
}

/// What a user sees inside a folder (or at the top level / in their unsorted uploads).
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub folders: Vec<Folder>,
    pub files: Vec<File>,
}

/// The readable subfolders and files of `parent` (`None`: top-level folders and the user's
/// unsorted uploads; superusers see every unsorted upload). Filtered in bulk against one
/// snapshot, whatever the number of items.
#[tracing::instrument(skip_all, fields(user_id = user.id, parent = ?parent))]
pub fn children(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    parent: Option<FolderId>,
) -> Result<Listing> {
    if let Some(p) = parent {
        readable(lib, conn, user, p)?;
    }
    let parent = parent.map(FolderId::get);
    let access = lib.access(conn, Some(user))?;
    let folders = folder::children(conn, parent)?
        .into_iter()
        .filter(|f| access.can(Right::Read, f))
        .collect();
    let owner_filter = match parent {
        None if !user.is_superuser => Some(user.id),
        _ => None,
    };
    let files = file::in_folder(conn, parent, owner_filter)?
        .into_iter()
        .filter(|f| access.can(Right::Read, f))
        .collect();
    Ok(Listing { folders, files })
}

/// (folders including itself, files) of the folder's subtree that `user` may read; `None`
/// when the folder is missing or unreadable.
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub fn readable_counts(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FolderId,
) -> Result<Option<(usize, usize)>> {
    let access = lib.access(conn, Some(user))?;
    super::visible::count_tree(conn, &access, id.get())
}

/// What the page that renames, moves or re-owns a folder shows.
pub struct EditPage {
    pub folder: Folder,
    /// Where it may move: folders the user may add to, outside its own subtree, with its
    /// current place first (so saving a rename never moves it).
    pub destinations: Vec<super::picker::Destination>,
    /// Everyone, for a superuser choosing an owner: (id, username). Empty otherwise.
    pub users: Vec<(i64, String)>,
    /// What the folder and everything under it holds.
    pub usage: crate::db::models::usage::Usage,
    /// The folder's share links the viewer may see (theirs; all for superusers).
    pub shares: Vec<super::shares::Listed>,
}

/// The [`EditPage`] of folder `id` for `user` (who must be able to read it).
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn edit_page(lib: &Library, conn: &mut DbConn, user: &User, id: FolderId) -> Result<EditPage> {
    use super::picker;
    let folder = readable(lib, conn, user, id)?;
    let mut destinations = picker::destinations(lib, conn, user, &[id.get()])?;
    if let Some(p) = folder.parent_id
        && !destinations.iter().any(|d| d.id == p)
    {
        let place = picker::path(lib, conn, user, p)?.unwrap_or_else(|| picker::GAP.into());
        destinations.insert(
            0,
            picker::Destination {
                id: p,
                path: format!("{place} (current)"),
            },
        );
    }
    let users = if user.is_superuser {
        user::list(conn)?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect()
    } else {
        Vec::new()
    };
    let usage = super::usage::of_folder(lib, conn, user, id)?;
    let shares = super::shares::of_item(conn, user, super::shares::Item::Folder(id))?;
    Ok(EditPage {
        usage,
        shares,
        folder,
        destinations,
        users,
    })
}

//! Folder listings and search for the admin and the end-user browser: only what the user may
//! read, ordered and paginated, in a constant number of queries whatever the folder's size.

use std::collections::{HashMap, HashSet};

use super::Library;
use crate::db::DbConn;
use crate::db::models::file::{self, File, Order};
use crate::db::models::folder::{self, Folder};
use crate::db::models::{User, user};
use crate::permissions::{FolderSet, Right};

use super::access::Access;
use super::image_files::{self, Look};
use super::{Error, Result};

/// Files per page.
pub const PER_PAGE: i64 = 100;
/// Most search results considered.
pub const SEARCH_CAP: i64 = 5_000;

/// Where a listing is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The top level: folders and the virtual "Unsorted uploads".
    Root,
    /// Files without a folder (the user's own; every one for superusers).
    Unsorted,
    /// The reader's top level: the top-level folders of `Root` with the files of `Unsorted`.
    Home,
    Folder(i64),
}

/// What to list.
#[derive(Clone, Debug)]
pub struct Query {
    pub place: Place,
    /// Search terms (all must match); `None` lists the place.
    pub search: Option<String>,
    /// Search everywhere instead of in the place and below it.
    pub everywhere: bool,
    pub order: Order,
    pub descending: bool,
    /// 1-based.
    pub page: i64,
}

/// A subfolder row with its item counts.
#[derive(Clone, Debug)]
pub struct FolderItem {
    pub folder: Folder,
    pub subfolders: i64,
    pub files: i64,
}

/// One page of a listing.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// The folder listed (None at the root and in unsorted uploads).
    pub folder: Option<Folder>,
    /// Readable ancestors of the folder, root first: (id, name); `None` for an ancestor the
    /// user may not read (shown as an ellipsis, never by name).
    pub crumbs: Vec<Option<(i64, String)>>,
    pub folders: Vec<FolderItem>,
    pub files: Vec<File>,
    /// Files in the whole listing (all pages).
    pub total_files: i64,
    pub page: i64,
    pub pages: i64,
    /// Usernames of the owners shown.
    pub owners: HashMap<i64, String>,
    /// How each file shown looks (thumbnail or type icon), by id.
    pub looks: HashMap<i64, Look>,
    /// Files the user may edit (for edit links and bulk actions).
    pub editable: HashSet<i64>,
    /// Whether the user may create folders and upload here.
    pub can_add: bool,
    /// Whether the user may edit (rename, move, delete) the folder listed.
    pub can_edit: bool,
    pub searching: bool,
    /// While searching: where each file shown lies (its folder's path, root first, ending
    /// with the folder itself; `None` for a folder the user may not read; empty for an
    /// unsorted upload), by file id.
    pub file_places: HashMap<i64, Vec<Option<(i64, String)>>>,
    /// While searching: where each folder shown lies (its parents' path), by folder id.
    pub folder_places: HashMap<i64, Vec<Option<(i64, String)>>>,
}

fn terms(search: &str) -> Vec<String> {
    search
        .split_whitespace()
        .take(10)
        .map(str::to_owned)
        .collect()
}

/// Lists `q` for `user`. A folder the user may not read is `NotFound` (403 with `debug`).
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn list(lib: &Library, conn: &mut DbConn, user: &User, q: &Query) -> Result<Listing> {
    let access = lib.access(conn, Some(user))?;
    let readable = access.folders_with(Right::Read);
    let mut out = Listing {
        page: q.page.max(1),
        ..Listing::default()
    };
    match q.place {
        Place::Folder(id) => {
            let f = folder::find(conn, id)?.ok_or(Error::NotFound)?;
            access.require(Right::Read, &f)?;
            out.can_add = access.can(Right::AddChildren, &f);
            out.can_edit = access.can(Right::Edit, &f);
            out.crumbs = named_path(conn, &readable, &access.tree().ancestors(id))?;
            out.folder = Some(f);
        }
        Place::Root | Place::Home => out.can_add = user.is_superuser,
        Place::Unsorted => out.can_add = true,
    }
    let owner_filter = (!user.is_superuser).then_some(user.id);
    if let Some(search) = q.search.as_deref().filter(|s| !s.trim().is_empty()) {
        out.searching = true;
        search_into(conn, &access, q, &terms(search), &readable, &mut out)?;
    } else {
        // Subfolders: every one is on the first page.
        let subfolders = match q.place {
            Place::Folder(id) => folder::children(conn, Some(id))?
                .into_iter()
                .filter(|f| readable.contains(f.id))
                .collect(),
            Place::Root | Place::Home => root_folders(conn, access.tree(), &readable)?,
            Place::Unsorted => Vec::new(),
        };
        let (files, total) = match q.place {
            Place::Folder(id) => file::page_in_folder(
                conn,
                Some(id),
                None,
                q.order,
                q.descending,
                (out.page - 1) * PER_PAGE,
                PER_PAGE,
            )?,
            Place::Unsorted | Place::Home => file::page_in_folder(
                conn,
                None,
                owner_filter,
                q.order,
                q.descending,
                (out.page - 1) * PER_PAGE,
                PER_PAGE,
            )?,
            Place::Root => (Vec::new(), 0),
        };
        out.total_files = total;
        out.files = files;
        if out.page == 1 {
            out.folders = with_counts(conn, access.tree(), &readable, subfolders)?;
        }
    }
    out.pages = ((out.total_files + PER_PAGE - 1) / PER_PAGE).max(1);
    for f in &out.files {
        if access.can(Right::Edit, f) {
            out.editable.insert(f.id);
        }
    }
    let mut owner_ids: Vec<i64> = out
        .files
        .iter()
        .filter_map(|f| f.owner_id)
        .chain(out.folders.iter().filter_map(|f| f.folder.owner_id))
        .collect();
    owner_ids.sort_unstable();
    owner_ids.dedup();
    out.owners = user::usernames(conn, &owner_ids)?.into_iter().collect();
    out.looks = image_files::looks(conn, &out.files)?;
    Ok(out)
}

/// The folders of `path` by name, in order; `None` for one the user may not read (shown as
/// an ellipsis, never named). One query.
pub fn named_path(
    conn: &mut DbConn,
    readable: &FolderSet,
    path: &[i64],
) -> Result<Vec<Option<(i64, String)>>> {
    let named = folder::find_many(conn, path)?;
    Ok(path
        .iter()
        .map(|id| {
            named
                .iter()
                .find(|n| n.id == *id && readable.contains(*id))
                .map(|n| (n.id, n.name.clone()))
        })
        .collect())
}

/// Readable folders shown at the top level: the top-level ones, and those whose parent the
/// user cannot read (so a folder shared deep in a tree is still reachable).
fn root_folders(
    conn: &mut DbConn,
    snapshot: &crate::permissions::Snapshot,
    readable: &FolderSet,
) -> Result<Vec<Folder>> {
    let ids: Vec<i64> = match readable {
        FolderSet::Every => return Ok(folder::children(conn, None)?),
        FolderSet::Some(set) => set
            .iter()
            .copied()
            .filter(|id| {
                snapshot
                    .folder(*id)
                    .is_some_and(|n| n.parent_id.is_none_or(|p| !set.contains(&p)))
            })
            .collect(),
    };
    let mut found = folder::find_many(conn, &ids)?;
    found.sort_by_key(|a| a.name.to_lowercase());
    Ok(found)
}

/// Each folder with the number of subfolders the user may read (from the snapshot: a
/// subfolder the user may not read is not counted, as if it did not exist) and of files
/// (all readable: a file in a readable folder is).
fn with_counts(
    conn: &mut DbConn,
    snapshot: &crate::permissions::Snapshot,
    readable: &FolderSet,
    folders: Vec<Folder>,
) -> Result<Vec<FolderItem>> {
    let ids: Vec<i64> = folders.iter().map(|f| f.id).collect();
    let counts = folder::item_counts(conn, &ids)?;
    Ok(folders
        .into_iter()
        .map(|f| {
            let n = counts.iter().find(|c| c.0 == f.id).map_or(0, |c| c.2);
            let s = snapshot
                .children(f.id)
                .filter(|c| readable.contains(*c))
                .count();
            FolderItem {
                folder: f,
                subfolders: i64::try_from(s).unwrap_or(i64::MAX),
                files: n,
            }
        })
        .collect())
}

fn search_into(
    conn: &mut DbConn,
    access: &Access<'_>,
    q: &Query,
    terms: &[String],
    readable: &FolderSet,
    out: &mut Listing,
) -> Result<()> {
    let user = access.caller().ok_or(Error::NotFound)?;
    // The place and everything below it, unless searching everywhere.
    let within: Option<HashSet<i64>> = match (q.everywhere, q.place) {
        (false, Place::Folder(id)) => {
            let mut set: HashSet<i64> = access.tree().descendants(id).into_iter().collect();
            set.insert(id);
            Some(set)
        }
        _ => None,
    };
    let in_scope_folder = |id: i64| within.as_ref().is_none_or(|w| w.contains(&id));
    let unsorted_in_scope =
        q.everywhere || matches!(q.place, Place::Root | Place::Unsorted | Place::Home);
    let folders: Vec<Folder> = folder::search(conn, terms, SEARCH_CAP)?
        .into_iter()
        .filter(|f| {
            readable.contains(f.id)
                && in_scope_folder(f.id)
                && Some(f.id) != out.folder.as_ref().map(|c| c.id)
        })
        .collect();
    let mut files: Vec<File> = file::search(conn, terms, SEARCH_CAP)?
        .into_iter()
        .filter(|f| match f.folder_id {
            Some(fid) => {
                in_scope_folder(fid)
                    && (readable.contains(fid) || f.owner_id == Some(user.id) || user.is_superuser)
            }
            // Someone else's unsorted uploads stay hidden, in search too.
            None => unsorted_in_scope && (user.is_superuser || f.owner_id == Some(user.id)),
        })
        .collect();
    sort_files(&mut files, q.order, q.descending, conn)?;
    out.total_files = files.len() as i64;
    let start = ((out.page - 1) * PER_PAGE) as usize;
    out.files = files
        .into_iter()
        .skip(start)
        .take(PER_PAGE as usize)
        .collect();
    if out.page == 1 {
        out.folders = with_counts(conn, access.tree(), readable, folders)?;
    }
    places_of_hits(conn, access, readable, out)
}

/// Fills in where each search hit lies, naming only the folders the user may read (one
/// query for all the names).
fn places_of_hits(
    conn: &mut DbConn,
    access: &Access<'_>,
    readable: &FolderSet,
    out: &mut Listing,
) -> Result<()> {
    let tree = access.tree();
    let path_to = |id: i64| {
        let mut path = tree.ancestors(id);
        path.push(id);
        path
    };
    let file_paths: Vec<(i64, Vec<i64>)> = out
        .files
        .iter()
        .map(|f| (f.id, f.folder_id.map(path_to).unwrap_or_default()))
        .collect();
    let folder_paths: Vec<(i64, Vec<i64>)> = out
        .folders
        .iter()
        .map(|f| (f.folder.id, tree.ancestors(f.folder.id)))
        .collect();
    let mut ids: Vec<i64> = file_paths
        .iter()
        .chain(&folder_paths)
        .flat_map(|(_, path)| path.iter().copied())
        .filter(|id| readable.contains(*id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = folder::find_many(conn, &ids)?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let named = |path: Vec<i64>| -> Vec<Option<(i64, String)>> {
        path.into_iter()
            .map(|id| names.get(&id).map(|n| (id, n.clone())))
            .collect()
    };
    out.file_places = file_paths
        .into_iter()
        .map(|(id, path)| (id, named(path)))
        .collect();
    out.folder_places = folder_paths
        .into_iter()
        .map(|(id, path)| (id, named(path)))
        .collect();
    Ok(())
}

fn sort_files(files: &mut [File], order: Order, descending: bool, conn: &mut DbConn) -> Result<()> {
    match order {
        Order::Name => files.sort_by_cached_key(|f| (f.label().to_lowercase(), f.id)),
        Order::Size => files.sort_by_key(|f| (f.size, f.id)),
        Order::Modified => files.sort_by_key(|f| (f.modified_at, f.id)),
        Order::Owner => {
            let mut ids: Vec<i64> = files.iter().filter_map(|f| f.owner_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let names: HashMap<i64, String> = user::usernames(conn, &ids)?.into_iter().collect();
            files.sort_by_cached_key(|f| {
                (
                    f.owner_id
                        .and_then(|o| names.get(&o))
                        .map(|n| n.to_lowercase())
                        .unwrap_or_default(),
                    f.id,
                )
            });
        }
    }
    if descending {
        files.reverse();
    }
    Ok(())
}

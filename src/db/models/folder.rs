//! Folders: a purely logical tree (never mirrored on disk), names unique among siblings.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::generation;
use crate::db::schema::folders;
use crate::db::{DbConn, DbError, now, tree_transaction};

/// A folder row.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = folders)]
pub struct Folder {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub name: String,
    pub created_at: PrimitiveDateTime,
    pub modified_at: PrimitiveDateTime,
}

/// Creates a folder; a name taken among its siblings is a unique violation. Runs in a
/// [`tree_transaction`] (a savepoint of the caller's, when the caller already holds one).
pub fn create(
    conn: &mut DbConn,
    parent_id: Option<i64>,
    owner_id: Option<i64>,
    name: &str,
) -> Result<Folder, DbError> {
    let at = now();
    tree_transaction(conn, |conn| {
        let folder = diesel::insert_into(folders::table)
            .values((
                folders::parent_id.eq(parent_id),
                folders::owner_id.eq(owner_id),
                folders::name.eq(name),
                folders::created_at.eq(at),
                folders::modified_at.eq(at),
            ))
            .returning((
                folders::id,
                folders::parent_id,
                folders::owner_id,
                folders::name,
                folders::created_at,
                folders::modified_at,
            ))
            .get_result::<Folder>(conn)?;
        generation::bump(conn)?;
        Ok(folder)
    })
}

/// Not in the trash (a trashed folder's whole subtree is marked with it). Every query for
/// live folders filters on it: a trashed folder is missing from the tree, listings, search
/// and counts.
pub fn is_live() -> diesel::dsl::IsNull<folders::trash_id> {
    folders::trash_id.is_null()
}

/// Finds a live folder by id.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Folder>, DbError> {
    Ok(folders::table
        .filter(folders::id.eq(id))
        .filter(is_live())
        .select(Folder::as_select())
        .first(conn)
        .optional()?)
}

/// Folders with these ids.
pub fn find_many(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<Folder>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(folders::table
        .filter(folders::id.eq_any(ids))
        .filter(is_live())
        .select(Folder::as_select())
        .load(conn)?)
}

/// The folder with this name directly under `parent_id` (None = top level).
pub fn find_child_by_name(
    conn: &mut DbConn,
    parent_id: Option<i64>,
    name: &str,
) -> Result<Option<Folder>, DbError> {
    let query = folders::table
        .filter(folders::name.eq(name))
        .filter(is_live())
        .select(Folder::as_select())
        .into_boxed();
    let query = match parent_id {
        Some(p) => query.filter(folders::parent_id.eq(p)),
        None => query.filter(folders::parent_id.is_null()),
    };
    Ok(query.first(conn).optional()?)
}

/// Direct subfolders of `parent_id` (None = top level), by name.
pub fn children(conn: &mut DbConn, parent_id: Option<i64>) -> Result<Vec<Folder>, DbError> {
    let query = folders::table
        .filter(is_live())
        .select(Folder::as_select())
        .order(folders::name.asc())
        .into_boxed();
    let query = match parent_id {
        Some(p) => query.filter(folders::parent_id.eq(p)),
        None => query.filter(folders::parent_id.is_null()),
    };
    Ok(query.load(conn)?)
}

/// A folder's place in the tree: (id, parent id, owner id).
pub type Node = (i64, Option<i64>, Option<i64>);

/// Every folder as a [`Node`]: the tree for the permission snapshot.
pub fn all_nodes(conn: &mut DbConn) -> Result<Vec<Node>, DbError> {
    Ok(folders::table
        .filter(is_live())
        .select((folders::id, folders::parent_id, folders::owner_id))
        .load(conn)?)
}

/// Renames, re-parents and/or re-owns a folder, in a [`tree_transaction`]. Cycle and depth
/// checks are the caller's job, inside the same tree transaction.
pub fn update(
    conn: &mut DbConn,
    id: i64,
    name: Option<&str>,
    parent_id: Option<Option<i64>>,
    owner_id: Option<Option<i64>>,
) -> Result<(), DbError> {
    tree_transaction(conn, |conn| {
        let target = folders::table.find(id);
        if let Some(name) = name {
            diesel::update(target)
                .set(folders::name.eq(name))
                .execute(conn)?;
        }
        if let Some(parent) = parent_id {
            diesel::update(target)
                .set(folders::parent_id.eq(parent))
                .execute(conn)?;
        }
        if let Some(owner) = owner_id {
            diesel::update(target)
                .set(folders::owner_id.eq(owner))
                .execute(conn)?;
        }
        diesel::update(target)
            .set(folders::modified_at.eq(now()))
            .execute(conn)?;
        generation::bump(conn)?;
        Ok(())
    })
}

/// Deletes a subtree given by [`levels`], deepest level first, so that no row deleted has a
/// subfolder left to cascade to (a cascade through a deep chain would recurse once per
/// level inside the database). Files and rules cascade. Call inside a tree transaction that
/// has already scheduled the bytes of every file in the subtree for deletion.
pub fn delete_levels(conn: &mut DbConn, levels: &[Vec<i64>]) -> Result<usize, DbError> {
    let mut n = 0;
    for level in levels.iter().rev() {
        for chunk in level.chunks(CHUNK) {
            n += diesel::delete(folders::table.filter(folders::id.eq_any(chunk))).execute(conn)?;
        }
    }
    if n > 0 {
        generation::bump(conn)?;
    }
    Ok(n)
}

/// Most ids bound in one `IN (…)` list.
const CHUNK: usize = 5_000;

/// The parent of folder `id`: `None` when there is no such folder, `Some(None)` at the top.
pub fn parent_of(conn: &mut DbConn, id: i64) -> Result<Option<Option<i64>>, DbError> {
    Ok(folders::table
        .filter(folders::id.eq(id))
        .filter(is_live())
        .select(folders::parent_id)
        .first(conn)
        .optional()?)
}

/// The ids of the live direct subfolders of any of `ids`.
pub fn child_ids(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<i64>, DbError> {
    children_among(conn, ids, Rows::Live)
}

/// Which rows a tree walk follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Folders not in the trash.
    Live,
    /// Every row, trashed ones included (permanent deletion).
    All,
}

fn children_among(conn: &mut DbConn, ids: &[i64], rows: Rows) -> Result<Vec<i64>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let q = folders::table
            .filter(folders::parent_id.eq_any(chunk))
            .select(folders::id)
            .order(folders::id.asc())
            .into_boxed();
        let q = match rows {
            Rows::Live => q.filter(is_live()),
            Rows::All => q,
        };
        out.extend(q.load::<i64>(conn)?);
    }
    Ok(out)
}

/// The subtree of `root` read from the database by levels: `[[root], children, grandchildren,
/// …]`, one query per level, each folder once even if the rows form a cycle. At most
/// `max_levels` levels when given (the caller only needs to know the subtree is deeper).
/// Empty when `root` does not exist.
pub fn levels(
    conn: &mut DbConn,
    root: i64,
    max_levels: Option<usize>,
) -> Result<Vec<Vec<i64>>, DbError> {
    levels_of(conn, root, max_levels, Rows::Live)
}

/// [`levels`] over `rows`: with [`Rows::All`], trashed folders under `root` (and `root`
/// itself, trashed or not) are included.
pub fn levels_of(
    conn: &mut DbConn,
    root: i64,
    max_levels: Option<usize>,
    rows: Rows,
) -> Result<Vec<Vec<i64>>, DbError> {
    let exists = match rows {
        Rows::Live => parent_of(conn, root)?.is_some(),
        Rows::All => {
            folders::table
                .filter(folders::id.eq(root))
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
    };
    if !exists {
        return Ok(Vec::new());
    }
    let mut seen = std::collections::HashSet::from([root]);
    let mut out = vec![vec![root]];
    while max_levels.is_none_or(|m| out.len() < m) {
        let Some(last) = out.last() else { break };
        let next: Vec<i64> = children_among(conn, last, rows)?
            .into_iter()
            .filter(|id| seen.insert(*id))
            .collect();
        if next.is_empty() {
            break;
        }
        out.push(next);
    }
    Ok(out)
}

/// Where a folder sits, read from the database by following parents (at most `limit` steps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Depth {
    /// The folder's depth: 1 for a top-level folder. `ancestors` are its ancestors, nearest
    /// first.
    Known { depth: usize, ancestors: Vec<i64> },
    /// More than `limit` levels (or a cycle, which never reaches the top); `ancestors` are
    /// the ones followed.
    Deeper { ancestors: Vec<i64> },
    /// No such folder.
    Missing,
}

/// Follows `id`'s parents up to `limit` levels (one query per level).
pub fn depth(conn: &mut DbConn, id: i64, limit: usize) -> Result<Depth, DbError> {
    let mut ancestors = Vec::new();
    let mut seen = std::collections::HashSet::from([id]);
    let Some(mut parent) = parent_of(conn, id)? else {
        return Ok(Depth::Missing);
    };
    loop {
        match parent {
            None => {
                return Ok(Depth::Known {
                    depth: ancestors.len() + 1,
                    ancestors,
                });
            }
            Some(p) => {
                if ancestors.len() + 1 >= limit || !seen.insert(p) {
                    return Ok(Depth::Deeper { ancestors });
                }
                ancestors.push(p);
                // A parent id without a row: the chain ends there (`coffer check` reports it).
                parent = parent_of(conn, p)?.unwrap_or(None);
            }
        }
    }
}

/// Number of folders.
pub fn count(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(folders::table.filter(is_live()).count().get_result(conn)?)
}

/// Folders whose name or owner's username contains every term (case-insensitive); at most
/// `cap` of them.
pub fn search(conn: &mut DbConn, terms: &[String], cap: i64) -> Result<Vec<Folder>, DbError> {
    use super::file::{like_escape, lower};
    use crate::db::schema::users;
    let mut q = folders::table
        .left_join(users::table.on(folders::owner_id.eq(users::id.nullable())))
        .filter(is_live())
        .select(Folder::as_select())
        .into_boxed();
    for term in terms {
        let pattern = format!("%{}%", like_escape(&term.to_lowercase()));
        q = q.filter(
            lower(folders::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::username.nullable().assume_not_null())
                    .like(pattern)
                    .escape('\\')
                    .nullable()
                    .assume_not_null()),
        );
    }
    Ok(q.order(folders::name.asc()).limit(cap).load(conn)?)
}

/// For each of `ids`: (folder id, number of direct subfolders, number of files directly in it).
pub fn item_counts(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, i64, i64)>, DbError> {
    use crate::db::schema::files;
    use diesel::dsl::count_star;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sub: Vec<(Option<i64>, i64)> = folders::table
        .filter(folders::parent_id.eq_any(ids))
        .filter(is_live())
        .group_by(folders::parent_id)
        .select((folders::parent_id, count_star()))
        .load(conn)?;
    let fil: Vec<(Option<i64>, i64)> = files::table
        .filter(files::folder_id.eq_any(ids))
        .filter(super::file::is_live())
        .group_by(files::folder_id)
        .select((files::folder_id, count_star()))
        .load(conn)?;
    Ok(ids
        .iter()
        .map(|id| {
            let s = sub
                .iter()
                .find(|(p, _)| *p == Some(*id))
                .map_or(0, |(_, n)| *n);
            let f = fil
                .iter()
                .find(|(p, _)| *p == Some(*id))
                .map_or(0, |(_, n)| *n);
            (*id, s, f)
        })
        .collect())
}

//! The folder tree as a whole: the depth limit (`max_folder_depth`) checked by every change
//! that creates or moves folders, and the integrity analysis behind `coffer check` — parent
//! links that form a cycle, folders whose parent is missing — with its repair.
//!
//! Every walk here is iterative and bounded: parents are followed at most a given number of
//! steps with a visited set, subtrees are read by levels.

use std::collections::{HashMap, HashSet};

use crate::db::models::file::{self, File};
use crate::db::models::folder::{self, Depth, Node};
use crate::db::{DbConn, tree_transaction};

use super::{Error, Result};

fn too_deep(depth: Option<usize>, max: usize) -> Error {
    match depth {
        Some(d) => Error::Invalid(format!(
            "folders may be nested at most {max} levels deep (max_folder_depth); this would \
             put a folder at level {d}"
        )),
        None => Error::Invalid(format!(
            "folders may be nested at most {max} levels deep (max_folder_depth); this would \
             put a folder deeper than that"
        )),
    }
}

/// Refuses a new folder under `parent` that would sit deeper than `limit` (a top-level
/// folder is at level 1). Call inside a tree transaction, before the insert.
pub fn check_create(conn: &mut DbConn, parent: Option<i64>, limit: usize) -> Result<()> {
    let Some(p) = parent else {
        return if limit >= 1 {
            Ok(())
        } else {
            Err(too_deep(None, limit))
        };
    };
    if limit < 2 {
        return Err(too_deep(None, limit));
    }
    match folder::depth(conn, p, limit - 1)? {
        Depth::Known { .. } => Ok(()),
        Depth::Deeper { .. } => Err(too_deep(None, limit)),
        Depth::Missing => Err(Error::NotFound),
    }
}

/// Refuses moving folder `id` under `target` (None: the top level) when the target is the
/// folder itself or inside its subtree, or when the subtree's deepest folder would end up
/// deeper than `max`. Reads the tree from the database: call inside the tree transaction
/// that makes the move.
pub fn check_move(conn: &mut DbConn, id: i64, target: Option<i64>, max: usize) -> Result<()> {
    let into_itself =
        || Error::Invalid("a folder cannot be moved into itself or one of its subfolders".into());
    // Levels of the moved subtree, the folder itself included (at most max + 1 are read).
    let height = folder::levels(conn, id, Some(max.saturating_add(1)))?.len();
    if height == 0 {
        return Err(Error::NotFound);
    }
    let Some(t) = target else {
        return if height > max {
            Err(too_deep(None, max))
        } else {
            Ok(())
        };
    };
    if t == id {
        return Err(into_itself());
    }
    match folder::depth(conn, t, max)? {
        Depth::Missing => Err(Error::Invalid(format!("folder {t} does not exist"))),
        Depth::Deeper { ancestors } if ancestors.contains(&id) => Err(into_itself()),
        Depth::Deeper { .. } => Err(too_deep(None, max)),
        Depth::Known { ancestors, .. } if ancestors.contains(&id) => Err(into_itself()),
        Depth::Known { depth, .. } if depth + height > max => {
            Err(too_deep(Some(depth + height), max))
        }
        Depth::Known { .. } => Ok(()),
    }
}

/// The level of folder `id` (1 at the top), or `None` when its parents form a cycle or it
/// does not exist.
pub fn level_of(conn: &mut DbConn, id: i64) -> Result<Option<usize>> {
    Ok(match folder::depth(conn, id, usize::MAX)? {
        Depth::Known { depth, .. } => Some(depth),
        _ => None,
    })
}

/// Files directly in any of `ids`, queried in chunks (no bound-parameter limit is hit,
/// whatever the size of a subtree).
pub fn files_in(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<File>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(5_000) {
        out.extend(file::in_folders(conn, chunk)?);
    }
    Ok(out)
}

/// Something wrong with the tree's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Parent links that lead back to themselves: the folders of the loop, in parent order
    /// starting at the lowest id.
    Cycle { ids: Vec<i64> },
    /// A folder whose parent id names no folder.
    MissingParent { id: i64, parent: i64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Cycle { ids } => {
                let chain: Vec<String> = ids.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "cycle    folders {} → {} (parent links form a loop)",
                    chain.join(" → "),
                    chain.first().map_or("", String::as_str)
                )
            }
            Problem::MissingParent { id, parent } => {
                write!(
                    f,
                    "orphan   folder {id} (its parent folder {parent} is missing)"
                )
            }
        }
    }
}

/// Finds cycles and missing parents among `nodes`, in O(n), without recursion.
pub fn analyse(nodes: &[Node]) -> Vec<Problem> {
    let parent: HashMap<i64, Option<i64>> = nodes.iter().map(|(id, p, _)| (*id, *p)).collect();
    let mut out: Vec<Problem> = Vec::new();
    let mut missing: Vec<(i64, i64)> = nodes
        .iter()
        .filter_map(|(id, p, _)| p.filter(|p| !parent.contains_key(p)).map(|p| (*id, p)))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    // Colour: absent = unknown, 1 = on the current path, 2 = done.
    let mut state: HashMap<i64, u8> = HashMap::with_capacity(nodes.len());
    let mut ids: Vec<i64> = parent.keys().copied().collect();
    ids.sort_unstable();
    for start in ids {
        if state.contains_key(&start) {
            continue;
        }
        let mut path: Vec<i64> = Vec::new();
        let mut cur = Some(start);
        while let Some(c) = cur {
            match state.get(&c) {
                None => {
                    state.insert(c, 1);
                    path.push(c);
                    cur = parent.get(&c).copied().flatten();
                }
                Some(1) => {
                    // `c` is on this path: the path from `c` on is a loop.
                    if let Some(pos) = path.iter().position(|x| *x == c) {
                        let mut cycle = path[pos..].to_vec();
                        if let Some(min) = cycle.iter().enumerate().min_by_key(|(_, v)| **v) {
                            let at = min.0;
                            cycle.rotate_left(at);
                        }
                        out.push(Problem::Cycle { ids: cycle });
                    }
                    break;
                }
                Some(_) => break,
            }
        }
        for p in path {
            state.insert(p, 2);
        }
    }
    out.extend(
        missing
            .into_iter()
            .map(|(id, parent)| Problem::MissingParent { id, parent }),
    );
    out
}

/// The tree's problems, read from the database.
pub fn check(conn: &mut DbConn) -> Result<Vec<Problem>> {
    Ok(analyse(&folder::all_nodes(conn)?))
}

/// Moves to the top level every folder whose parent is missing and, for each cycle, its
/// folder with the lowest id (which breaks the loop and keeps the rest below it). A name
/// already taken at the top level gets " (repaired N)". One tree transaction; bumps the
/// permission generation. Returns the folders moved.
pub fn repair(conn: &mut DbConn) -> Result<Vec<i64>> {
    tree_transaction(conn, |conn| {
        let problems = check(conn)?;
        let mut moved = Vec::new();
        let mut done = HashSet::new();
        for p in problems {
            let id = match p {
                Problem::Cycle { ids } => match ids.first() {
                    Some(id) => *id,
                    None => continue,
                },
                Problem::MissingParent { id, .. } => id,
            };
            if !done.insert(id) {
                continue;
            }
            let Some(current) = folder::find(conn, id)? else {
                continue;
            };
            let mut name = current.name.clone();
            let mut n = 0;
            while folder::find_child_by_name(conn, None, &name)?.is_some_and(|f| f.id != id) {
                n += 1;
                name = format!("{} (repaired {n})", current.name);
            }
            let rename = (name != current.name).then_some(name.as_str());
            folder::update(conn, id, rename, Some(None), None)?;
            moved.push(id);
        }
        Ok(moved)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_loops_and_missing_parents_without_recursing() {
        // 1 → 2 → 3 → 1 loop; 4 hangs below the loop; 5 → missing 99; 6 → 7 → top.
        let nodes = vec![
            (2, Some(1), None),
            (1, Some(3), None),
            (3, Some(2), None),
            (4, Some(3), None),
            (5, Some(99), None),
            (6, Some(7), None),
            (7, None, None),
            (8, Some(8), None),
        ];
        let found = analyse(&nodes);
        assert!(found.contains(&Problem::Cycle { ids: vec![1, 3, 2] }));
        assert!(found.contains(&Problem::Cycle { ids: vec![8] }));
        assert!(found.contains(&Problem::MissingParent { id: 5, parent: 99 }));
        assert_eq!(found.len(), 3, "{found:?}");
        // A 100,000-long chain and a 100,000-long loop.
        let mut long: Vec<Node> = (1..100_000).map(|i| (i, Some(i + 1), None)).collect();
        long.push((100_000, None, None));
        assert!(analyse(&long).is_empty());
        long.pop();
        long.push((100_000, Some(1), None));
        assert_eq!(analyse(&long).len(), 1);
    }
}

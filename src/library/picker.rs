//! The destination picker: the folders a user may move or copy things into, each with a
//! readable path ("Clients / … / 2024 / Invoices"). Built in one pass over the folder tree per
//! page: each path is made from its parent's (kept short: the first segments, "…", the last
//! ones), iteratively, so a deep tree costs linear time and a linear page; folders caught in
//! a parent cycle are still offered once. A folder the user may not read never shows its name:
//! it is "…" in every path (several in a row are one "…"), and is never offered.

use std::collections::{HashMap, HashSet};

use super::Library;
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::folder;
use crate::permissions::{FolderSet, Right, Snapshot};

use super::Result;

/// Segments kept at the start of a long path.
const HEAD: usize = 2;
/// Segments kept at the end of a long path (the folder itself included).
const TAIL: usize = 4;
/// What stands for unreadable or left-out folders.
pub const GAP: &str = "…";

/// A folder offered as a destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub id: i64,
    /// Its path from the top level, shortened, "…" for what the user may not read.
    pub path: String,
}

/// A shortened path: the first `HEAD` segments, whether some were left out, the last `TAIL`.
/// `None` segments are folders the user may not read.
#[derive(Clone, Debug, Default)]
struct Trail {
    head: Vec<Option<usize>>,
    gap: bool,
    tail: std::collections::VecDeque<Option<usize>>,
}

impl Trail {
    fn last(&self) -> Option<Option<usize>> {
        self.tail.back().or_else(|| self.head.last()).copied()
    }

    /// This trail followed by `seg`; consecutive hidden segments collapse into one.
    fn with(&self, seg: Option<usize>) -> Trail {
        let mut t = self.clone();
        if seg.is_none() && t.last() == Some(None) {
            return t;
        }
        if !t.gap && t.tail.is_empty() && t.head.len() < HEAD {
            t.head.push(seg);
        } else {
            t.tail.push_back(seg);
            if t.tail.len() > TAIL {
                t.tail.pop_front();
                t.gap = true;
            }
        }
        t
    }

    fn render(&self, names: &HashMap<usize, String>) -> String {
        let name = |seg: &Option<usize>| -> &str {
            seg.and_then(|i| names.get(&i)).map_or(GAP, String::as_str)
        };
        let all = self
            .head
            .iter()
            .map(name)
            .chain(self.gap.then_some(GAP))
            .chain(self.tail.iter().map(name));
        let mut parts: Vec<&str> = Vec::with_capacity(HEAD + TAIL + 1);
        for s in all {
            if !(s == GAP && parts.last() == Some(&GAP)) {
                parts.push(s);
            }
        }
        parts.join(" / ")
    }
}

/// The folder tree as the snapshot holds it, by dense index.
struct Tree {
    ids: Vec<i64>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
}

impl Tree {
    fn of(snapshot: &Snapshot) -> Tree {
        let ids: Vec<i64> = snapshot.folders().map(|n| n.id).collect();
        let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut children = vec![Vec::new(); ids.len()];
        let mut roots = Vec::new();
        for (i, n) in snapshot.folders().enumerate() {
            // A parent that is not there (or the folder itself) makes a top-level folder.
            match n.parent_id.and_then(|p| index.get(&p)).copied() {
                Some(p) if p != i => children[p].push(i),
                _ => roots.push(i),
            }
        }
        Tree {
            ids,
            children,
            roots,
        }
    }
}

/// Names of the folders `readable` holds, by dense index (chunked queries).
fn readable_names(
    conn: &mut DbConn,
    tree: &Tree,
    readable: &FolderSet,
) -> Result<HashMap<usize, String>> {
    let index: HashMap<i64, usize> = tree
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let wanted: Vec<i64> = tree
        .ids
        .iter()
        .copied()
        .filter(|id| readable.contains(*id))
        .collect();
    let mut names = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        for f in folder::find_many(conn, chunk)? {
            if let Some(i) = index.get(&f.id) {
                names.insert(*i, f.name);
            }
        }
    }
    Ok(names)
}

/// The folders `user` may read and add to, excluding `exclude` and everything below them,
/// in tree order (siblings by name), each with its shortened path.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn destinations(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    exclude: &[i64],
) -> Result<Vec<Destination>> {
    let access = lib.access(conn, Some(user))?;
    let readable = access.folders_with(Right::Read);
    let addable = access.folders_with(Right::AddChildren);
    let tree = Tree::of(access.tree());
    let names = readable_names(conn, &tree, &readable)?;
    // The excluded folders and everything below them (cycle-safe walks).
    let mut excluded: HashSet<i64> = HashSet::new();
    for x in exclude {
        if excluded.insert(*x) {
            excluded.extend(access.tree().descendants(*x));
        }
    }
    let sort_key = |i: usize| {
        (
            names.get(&i).map(|n| n.to_lowercase()).unwrap_or_default(),
            tree.ids[i],
        )
    };
    let mut roots = tree.roots.clone();
    roots.sort_by_cached_key(|i| sort_key(*i));
    let mut seen = vec![false; tree.ids.len()];
    let mut out = Vec::new();
    // Top-level folders first; then whatever a parent cycle keeps out of their reach, under
    // an unknown ancestry ("…").
    let starts = roots
        .into_iter()
        .map(|r| (r, Trail::default()))
        .chain((0..tree.ids.len()).map(|i| (i, Trail::default().with(None))));
    for (start, trail) in starts {
        if seen[start] {
            continue;
        }
        // (folder, path of its parent)
        let mut stack = vec![(start, trail)];
        while let Some((i, above)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let id = tree.ids[i];
            let here = above.with(names.contains_key(&i).then_some(i));
            if !excluded.contains(&id) && readable.contains(id) && addable.contains(id) {
                out.push(Destination {
                    id,
                    path: here.render(&names),
                });
            }
            let mut kids: Vec<usize> = tree.children[i]
                .iter()
                .copied()
                .filter(|c| !seen[*c])
                .collect();
            kids.sort_by_cached_key(|c| std::cmp::Reverse(sort_key(*c)));
            for c in kids {
                stack.push((c, here.clone()));
            }
        }
    }
    Ok(out)
}

/// The path of one folder as the picker would show it (for "the current place"); `None`
/// when the folder is missing. The folder itself is "…" when the user may not read it. One
/// walk up the (cycle-safe) ancestor chain and one query for the names shown.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn path(lib: &Library, conn: &mut DbConn, user: &User, id: i64) -> Result<Option<String>> {
    let access = lib.access(conn, Some(user))?;
    if access.tree().folder(id).is_none() {
        return Ok(None);
    }
    let readable = access.folders_with(Right::Read);
    let mut chain = access.tree().ancestors(id);
    chain.push(id);
    let mut trail = Trail::default();
    for (i, f) in chain.iter().enumerate() {
        trail = trail.with(readable.contains(*f).then_some(i));
    }
    let shown: Vec<usize> = trail
        .head
        .iter()
        .chain(&trail.tail)
        .flatten()
        .copied()
        .collect();
    let ids: Vec<i64> = shown.iter().map(|i| chain[*i]).collect();
    let rows = folder::find_many(conn, &ids)?;
    let names: HashMap<usize, String> = shown
        .iter()
        .filter_map(|i| {
            rows.iter()
                .find(|r| r.id == chain[*i])
                .map(|r| (*i, r.name.clone()))
        })
        .collect();
    Ok(Some(trail.render(&names)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(segs: &[Option<usize>]) -> String {
        let names: HashMap<usize, String> = (0..100).map(|i| (i, format!("n{i}"))).collect();
        let mut t = Trail::default();
        for s in segs {
            t = t.with(*s);
        }
        t.render(&names)
    }

    #[test]
    fn short_paths_are_whole_and_hidden_runs_are_one_gap() {
        assert_eq!(render(&[Some(0)]), "n0");
        assert_eq!(render(&[Some(0), Some(1), Some(2)]), "n0 / n1 / n2");
        assert_eq!(render(&[None, None, None, Some(3)]), "… / n3");
        assert_eq!(
            render(&[Some(0), None, None, Some(3), None]),
            "n0 / … / n3 / …"
        );
    }

    #[test]
    fn long_paths_keep_their_start_and_end() {
        let segs: Vec<Option<usize>> = (0..50).map(Some).collect();
        assert_eq!(render(&segs), "n0 / n1 / … / n46 / n47 / n48 / n49");
        // A hidden segment next to the left-out middle is one gap.
        let mut segs: Vec<Option<usize>> = (0..10).map(Some).collect();
        segs[5] = None;
        segs[2] = None;
        assert_eq!(render(&segs), "n0 / n1 / … / n6 / n7 / n8 / n9");
        segs[6] = None;
        assert_eq!(render(&segs), "n0 / n1 / … / n7 / n8 / n9");
    }
}

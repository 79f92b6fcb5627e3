//! Indexed, immutable snapshot of folders, rules and memberships, and the permission evaluator.

use std::collections::{HashMap, HashSet};

use super::model::{
    Actor, AppliedRule, Decision, FileRef, FolderId, FolderNode, FolderSet, Grant, GroupId, Policy,
    Principal, Reason, Right, Rule, RuleMatch, UserId,
};

/// Marker for "no parent" in the dense parent table.
const NONE: usize = usize::MAX;

/// Buckets up to this size are scanned linearly; larger ones are binary-searched by principal.
const LINEAR_MAX: usize = 16;

/// Sort key of a rule inside a bucket: everybody first, then users by id, then groups by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    kind: u8,
    id: i64,
}

impl Key {
    const EVERYBODY: u8 = 0;
    const USER: u8 = 1;
    const GROUP: u8 = 2;

    fn of(p: Principal) -> Self {
        match p {
            Principal::Everybody => Key {
                kind: Self::EVERYBODY,
                id: 0,
            },
            Principal::User(id) => Key {
                kind: Self::USER,
                id,
            },
            Principal::Group(id) => Key {
                kind: Self::GROUP,
                id,
            },
        }
    }
}

/// A rule reference inside a bucket.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: Key,
    rule: usize,
}

/// Calls `f` with the index of every rule in `bucket` whose principal matches the user.
/// Visits rules in bucket order whichever strategy is used.
fn for_each_matching(bucket: &[Entry], user: UserId, groups: &[GroupId], mut f: impl FnMut(usize)) {
    if bucket.len() <= LINEAR_MAX {
        for e in bucket {
            let hit = match e.key.kind {
                Key::EVERYBODY => true,
                Key::USER => e.key.id == user,
                _ => groups.binary_search(&e.key.id).is_ok(),
            };
            if hit {
                f(e.rule);
            }
        }
        return;
    }
    let everybody_end = bucket.partition_point(|e| e.key.kind == Key::EVERYBODY);
    bucket[..everybody_end].iter().for_each(|e| f(e.rule));
    let mut emit = |key: Key| {
        let lo = bucket.partition_point(|e| e.key < key);
        for e in bucket[lo..].iter().take_while(|e| e.key == key) {
            f(e.rule);
        }
    };
    emit(Key::of(Principal::User(user)));
    for &g in groups {
        emit(Key::of(Principal::Group(g)));
    }
}

/// Iterator over the dense indices of a folder's strict ancestors, nearest first.
/// Allocation-free for folders whose parent chain reaches a root; uses a visited set otherwise.
struct AncestorIdx<'a> {
    parent: &'a [usize],
    cur: usize,
    seen: Option<HashSet<usize>>,
}

impl Iterator for AncestorIdx<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let p = *self.parent.get(self.cur)?;
        if p == NONE {
            return None;
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(p)
        {
            self.cur = NONE;
            return None;
        }
        self.cur = p;
        Some(p)
    }
}

/// Immutable, indexed view of folders, rules and group memberships; answers permission questions.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Folders by dense index (first occurrence of each id wins).
    nodes: Vec<FolderNode>,
    /// Folder id -> dense index.
    index: HashMap<FolderId, usize>,
    /// Dense parent index, `NONE` for top-level folders and dangling parent ids.
    parent: Vec<usize>,
    /// Whether the parent chain reaches a top-level folder without a cycle.
    clean: Vec<bool>,
    /// Top-level folders (parent `NONE`).
    roots: Vec<usize>,
    /// CSR children: children of `i` are `child_list[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<usize>,
    child_list: Vec<usize>,
    /// CSR rules per folder, each bucket sorted by principal key then rule id.
    rule_start: Vec<usize>,
    rule_entries: Vec<Entry>,
    /// Rules without folder (cover every folder), sorted like a bucket.
    folderless: Vec<Entry>,
    /// All rules as given.
    rules: Vec<Rule>,
    /// User -> sorted, deduplicated group ids.
    groups: HashMap<UserId, Vec<GroupId>>,
}

impl Snapshot {
    /// Builds the indexes. Duplicate folder ids: the first wins. A parent id that is not in
    /// `folders` makes the folder top-level. Rules on unknown folders cover nothing.
    pub fn new(
        folders: Vec<FolderNode>,
        rules: Vec<Rule>,
        memberships: Vec<(GroupId, UserId)>,
    ) -> Self {
        let mut index = HashMap::with_capacity(folders.len());
        let mut nodes = Vec::with_capacity(folders.len());
        for f in folders {
            if let std::collections::hash_map::Entry::Vacant(v) = index.entry(f.id) {
                v.insert(nodes.len());
                nodes.push(f);
            }
        }
        let n = nodes.len();
        let parent: Vec<usize> = nodes
            .iter()
            .map(|f| {
                f.parent_id
                    .and_then(|p| index.get(&p).copied())
                    .unwrap_or(NONE)
            })
            .collect();
        let clean = compute_clean(&parent);
        let roots = (0..n).filter(|&i| parent[i] == NONE).collect();

        // Children, CSR.
        let mut child_start = vec![0usize; n + 1];
        for &p in &parent {
            if p != NONE {
                child_start[p + 1] += 1;
            }
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut child_list = vec![0usize; child_start[n]];
        for (i, &p) in parent.iter().enumerate() {
            if p != NONE {
                child_list[fill[p]] = i;
                fill[p] += 1;
            }
        }

        // Rules, CSR per folder plus the folder-less list.
        let mut placed: Vec<(usize, Entry)> = Vec::with_capacity(rules.len());
        let mut folderless = Vec::new();
        for (ri, r) in rules.iter().enumerate() {
            let e = Entry {
                key: Key::of(r.principal),
                rule: ri,
            };
            match r.folder_id {
                None => folderless.push(e),
                Some(fid) => {
                    if let Some(&fi) = index.get(&fid) {
                        placed.push((fi, e));
                    }
                }
            }
        }
        placed.sort_by_key(|(fi, e)| (*fi, e.key, rules[e.rule].id));
        folderless.sort_by_key(|e| (e.key, rules[e.rule].id));
        let mut rule_start = vec![0usize; n + 1];
        for (fi, _) in &placed {
            rule_start[fi + 1] += 1;
        }
        for i in 0..n {
            rule_start[i + 1] += rule_start[i];
        }
        let rule_entries = placed.into_iter().map(|(_, e)| e).collect();

        let mut groups: HashMap<UserId, Vec<GroupId>> = HashMap::new();
        for (g, u) in memberships {
            groups.entry(u).or_default().push(g);
        }
        for gs in groups.values_mut() {
            gs.sort_unstable();
            gs.dedup();
        }

        Snapshot {
            nodes,
            index,
            parent,
            clean,
            roots,
            child_start,
            child_list,
            rule_start,
            rule_entries,
            folderless,
            rules,
            groups,
        }
    }

    /// The folder with this id, if present.
    pub fn folder(&self, id: FolderId) -> Option<&FolderNode> {
        self.index.get(&id).map(|&i| &self.nodes[i])
    }

    /// Every folder in the snapshot (one per id), in input order.
    pub fn folders(&self) -> impl Iterator<Item = &FolderNode> {
        self.nodes.iter()
    }

    /// Direct children of a folder (empty for an unknown id).
    pub fn children(&self, id: FolderId) -> impl Iterator<Item = FolderId> + '_ {
        let kids = match self.index.get(&id) {
            Some(&i) => &self.child_list[self.child_start[i]..self.child_start[i + 1]],
            None => &[][..],
        };
        kids.iter().map(|&c| self.nodes[c].id)
    }

    /// Sorted group ids of a user (empty when the user is in no group).
    pub fn groups_of(&self, user: UserId) -> &[GroupId] {
        self.groups.get(&user).map_or(&[], Vec::as_slice)
    }

    /// Dense-index ancestor iterator (nearest first).
    fn ancestor_idx(&self, idx: usize) -> AncestorIdx<'_> {
        let seen = if self.clean[idx] {
            None
        } else {
            Some(HashSet::from([idx]))
        };
        AncestorIdx {
            parent: &self.parent,
            cur: idx,
            seen,
        }
    }

    /// Ancestors from the root down to the folder's parent (empty for a top-level folder). Must terminate even if the data has a cycle.
    pub fn ancestors(&self, id: FolderId) -> Vec<FolderId> {
        let Some(&idx) = self.index.get(&id) else {
            return Vec::new();
        };
        let mut out: Vec<FolderId> = self.ancestor_idx(idx).map(|a| self.nodes[a].id).collect();
        out.reverse();
        out
    }

    /// True when `ancestor == id` or `ancestor` is on `id`'s parent chain (refuse such moves).
    pub fn is_ancestor_or_self(&self, ancestor: FolderId, id: FolderId) -> bool {
        if ancestor == id {
            return true;
        }
        let Some(&idx) = self.index.get(&id) else {
            return false;
        };
        self.ancestor_idx(idx).any(|a| self.nodes[a].id == ancestor)
    }

    /// Whole subtree excluding `id`, any order (empty for an unknown id).
    pub fn descendants(&self, id: FolderId) -> Vec<FolderId> {
        let Some(&start) = self.index.get(&id) else {
            return Vec::new();
        };
        // Below a clean folder everything is a tree; otherwise guard against cycles.
        let mut seen: Option<HashSet<usize>> = (!self.clean[start]).then(|| HashSet::from([start]));
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for &c in &self.child_list[self.child_start[i]..self.child_start[i + 1]] {
                if let Some(s) = &mut seen
                    && !s.insert(c)
                {
                    continue;
                }
                out.push(self.nodes[c].id);
                stack.push(c);
            }
        }
        out
    }

    /// Every rule, in input order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    fn bucket(&self, idx: usize) -> &[Entry] {
        &self.rule_entries[self.rule_start[idx]..self.rule_start[idx + 1]]
    }

    /// Rules that apply to `folder`: folder-less ones, the ones on the folder itself, and the All/Children ones on its ancestors — each tagged with whether it is inherited and from which folder. For the admin's "rules on this folder and inherited" panel.
    ///
    /// Order: the folder's own rules, then ancestors nearest first, then folder-less rules.
    /// Rules whose grants are all `Inherit` are included. An unknown folder gets only the
    /// folder-less rules.
    pub fn rules_affecting(&self, folder: FolderId) -> Vec<AppliedRule> {
        let mut out = Vec::new();
        let applied = |e: &Entry, inherited: bool, from: Option<FolderId>| AppliedRule {
            rule: self.rules[e.rule].clone(),
            inherited,
            from_folder: from,
        };
        if let Some(&idx) = self.index.get(&folder) {
            out.extend(
                self.bucket(idx)
                    .iter()
                    .map(|e| applied(e, false, Some(folder))),
            );
            for a in self.ancestor_idx(idx) {
                let from = Some(self.nodes[a].id);
                out.extend(
                    self.bucket(a)
                        .iter()
                        .filter(|e| self.rules[e.rule].scope.reaches_descendants())
                        .map(|e| applied(e, true, from)),
                );
            }
        }
        out.extend(self.folderless.iter().map(|e| applied(e, true, None)));
        out
    }

    /// Decides `right` on a folder for `actor` (`None` = anonymous).
    pub fn folder_decision(
        &self,
        policy: Policy,
        actor: Option<&Actor>,
        folder: FolderId,
        right: Right,
    ) -> Decision {
        let done = |allowed: bool, reason: Reason| Decision {
            allowed,
            right,
            reason,
        };
        let Some(actor) = actor else {
            return done(false, Reason::Anonymous);
        };
        if !actor.is_active {
            return done(false, Reason::Inactive);
        }
        if actor.is_superuser {
            return done(true, Reason::Superuser);
        }
        let Some(&idx) = self.index.get(&folder) else {
            return done(false, Reason::UnknownFolder);
        };
        if self.nodes[idx].owner_id == Some(actor.user_id) {
            return done(true, Reason::FolderOwner);
        }
        if !policy.enable_permissions {
            return done(true, Reason::PermissionsDisabled);
        }
        self.rule_decision(idx, actor.user_id, right)
    }

    /// The rule-based part of a folder decision (after all short-circuits).
    fn rule_decision(&self, idx: usize, user: UserId, right: Right) -> Decision {
        let groups = self.groups_of(user);
        let mut allowed_by = Vec::new();
        let mut denied_by = Vec::new();
        let mut record = |ri: usize, inherited: bool, require_reach: bool| {
            let rule = &self.rules[ri];
            if require_reach && !rule.scope.reaches_descendants() {
                return;
            }
            match rule.grant(right) {
                Grant::Allow => allowed_by.push(RuleMatch::new(rule, right, inherited)),
                Grant::Deny => denied_by.push(RuleMatch::new(rule, right, inherited)),
                Grant::Inherit => {}
            }
        };
        for_each_matching(self.bucket(idx), user, groups, |ri| {
            record(ri, false, false)
        });
        for a in self.ancestor_idx(idx) {
            for_each_matching(self.bucket(a), user, groups, |ri| record(ri, true, true));
        }
        for_each_matching(&self.folderless, user, groups, |ri| record(ri, true, false));
        Decision {
            allowed: !allowed_by.is_empty() && denied_by.is_empty(),
            right,
            reason: Reason::Rules {
                allowed_by,
                denied_by,
            },
        }
    }

    /// Decides `right` on a file for `actor` (`None` = anonymous).
    pub fn file_decision(
        &self,
        policy: Policy,
        actor: Option<&Actor>,
        file: FileRef,
        right: Right,
    ) -> Decision {
        let done = |allowed: bool, reason: Reason| Decision {
            allowed,
            right,
            reason,
        };
        let Some(a) = actor else {
            return done(false, Reason::Anonymous);
        };
        if !a.is_active {
            return done(false, Reason::Inactive);
        }
        if a.is_superuser {
            return done(true, Reason::Superuser);
        }
        if file.owner_id == Some(a.user_id) {
            return done(true, Reason::FileOwner);
        }
        match file.folder_id {
            Some(folder) => self.folder_decision(policy, actor, folder, right),
            None => done(false, Reason::UnsortedNotOwner),
        }
    }

    /// Bulk: the set of folder ids on which the actor has `right` (for listings/search). Computed top-down in O(folders + rules), not one ancestor walk per folder.
    ///
    /// Agrees with [`Snapshot::folder_decision`] for every folder in the snapshot.
    /// [`FolderSet::Every`] (superuser, permissions disabled) is only meaningful for folders
    /// that exist.
    pub fn folders_with(&self, policy: Policy, actor: Option<&Actor>, right: Right) -> FolderSet {
        let Some(actor) = actor else {
            return FolderSet::Some(HashSet::new());
        };
        if !actor.is_active {
            return FolderSet::Some(HashSet::new());
        }
        if actor.is_superuser || !policy.enable_permissions {
            return FolderSet::Every;
        }
        let user = actor.user_id;
        let groups = self.groups_of(user);
        let grant_of = |ri: usize| {
            let r = &self.rules[ri];
            (r.grant(right), r.scope.reaches_descendants())
        };

        let (mut all_allow, mut all_deny) = (false, false);
        for_each_matching(&self.folderless, user, groups, |ri| match grant_of(ri).0 {
            Grant::Allow => all_allow = true,
            Grant::Deny => all_deny = true,
            Grant::Inherit => {}
        });

        let mut out = HashSet::new();
        // (folder, allow inherited from above, deny inherited from above)
        let mut stack: Vec<(usize, bool, bool)> = self
            .roots
            .iter()
            .map(|&r| (r, all_allow, all_deny))
            .collect();
        while let Some((i, inh_allow, inh_deny)) = stack.pop() {
            let (mut allow, mut deny) = (inh_allow, inh_deny);
            let (mut down_allow, mut down_deny) = (inh_allow, inh_deny);
            for_each_matching(self.bucket(i), user, groups, |ri| match grant_of(ri) {
                (Grant::Allow, reach) => {
                    allow = true;
                    down_allow |= reach;
                }
                (Grant::Deny, reach) => {
                    deny = true;
                    down_deny |= reach;
                }
                (Grant::Inherit, _) => {}
            });
            if self.nodes[i].owner_id == Some(user) || (allow && !deny) {
                out.insert(self.nodes[i].id);
            }
            for &c in &self.child_list[self.child_start[i]..self.child_start[i + 1]] {
                stack.push((c, down_allow, down_deny));
            }
        }
        // Folders caught in (or hanging below) a parent cycle are not reachable from a root.
        for (i, node) in self.nodes.iter().enumerate() {
            if !self.clean[i]
                && self
                    .folder_decision(policy, Some(actor), node.id, right)
                    .allowed
            {
                out.insert(node.id);
            }
        }
        FolderSet::Some(out)
    }
}

/// For each folder: does its parent chain reach a top-level folder without a cycle?
fn compute_clean(parent: &[usize]) -> Vec<bool> {
    const UNKNOWN: u8 = 0;
    const ON_PATH: u8 = 1;
    const CLEAN: u8 = 2;
    const CYCLIC: u8 = 3;
    let mut state = vec![UNKNOWN; parent.len()];
    let mut path = Vec::new();
    for start in 0..parent.len() {
        if state[start] != UNKNOWN {
            continue;
        }
        let mut cur = start;
        let result = loop {
            match state[cur] {
                UNKNOWN => {
                    state[cur] = ON_PATH;
                    path.push(cur);
                    if parent[cur] == NONE {
                        break CLEAN;
                    }
                    cur = parent[cur];
                }
                ON_PATH => break CYCLIC,
                known => break known,
            }
        };
        for p in path.drain(..) {
            state[p] = result;
        }
    }
    state.into_iter().map(|s| s == CLEAN).collect()
}

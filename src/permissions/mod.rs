//! Folder/file permission engine: django-filer's read / edit / add-children decisions, pure and cache-free.
//!
//! Semantics (django-filer 3.5 §2.1–2.3, with Coffer's deliberate differences):
//! - Anonymous and inactive users are always denied, even by "everybody" rules.
//! - Superusers are always allowed; owners of a folder (or of a file) are allowed on it.
//! - `enable_permissions = false`: every active logged-in user may do everything on every
//!   folder and every file in a folder; unsorted files stay owner + superuser only.
//! - Otherwise a folder right is granted iff some matching rule covering the folder allows it
//!   and none denies it (deny wins; no precedence between user, group and everybody rules, no
//!   "closer folder wins"). A rule covers the folder it sits on; with scope All or Children also
//!   every descendant; a rule without folder covers every folder whatever its scope.
//! - No Django model permissions and no cache: decisions always reflect the given snapshot.
//!
//! Build a [`Snapshot`] from the current folders, rules and memberships, then ask
//! [`Snapshot::folder_decision`], [`Snapshot::file_decision`] or [`Snapshot::folders_with`].

mod explain;
mod model;
mod snapshot;

#[cfg(test)]
mod tests;

pub use explain::{Namer, describe_reach, principal_in_words, reach_in_words};
pub use model::{
    Actor, AppliedRule, Decision, FileRef, FolderId, FolderNode, FolderSet, Grant, GroupId, Policy,
    Principal, Reason, Right, Rule, RuleId, RuleMatch, Scope, UserId,
};
pub use snapshot::Snapshot;

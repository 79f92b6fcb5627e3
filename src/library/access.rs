//! [`Access`]: every permission question of one operation, asked of one snapshot on behalf of
//! one caller. Library functions load it once and call [`Access::require`] or
//! [`Access::can`]; nothing above the library asks the permission engine itself.

use std::sync::Arc;

use crate::access::{AccessControl, Loaded, actor, file_ref};
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::File;
use crate::db::models::folder::Folder;
use crate::permissions::{Decision, FolderSet, Policy, Right, Snapshot};

use super::{Error, Result};

/// What a permission question is about.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    File(&'a File),
    /// A folder by id (a missing id is answered like an unreadable folder).
    Folder(i64),
}

impl<'a> From<&'a File> for Target<'a> {
    fn from(f: &'a File) -> Self {
        Target::File(f)
    }
}

impl From<&Folder> for Target<'_> {
    fn from(f: &Folder) -> Self {
        Target::Folder(f.id)
    }
}

/// The snapshot, the policy and the caller of one operation.
#[derive(Clone)]
pub struct Access<'u> {
    loaded: Arc<Loaded>,
    policy: Policy,
    caller: Option<&'u User>,
    /// A denied read answers 403 with the reason instead of 404 (`debug`).
    explain_denials: bool,
}

impl<'u> Access<'u> {
    /// The current snapshot (one generation read; a reload only after a change) for `caller`
    /// (`None`: an anonymous visitor).
    pub fn load(
        control: &AccessControl,
        conn: &mut DbConn,
        caller: Option<&'u User>,
        explain_denials: bool,
    ) -> Result<Self> {
        Ok(Self {
            loaded: control.snapshot(conn)?,
            policy: control.policy(),
            caller,
            explain_denials,
        })
    }

    /// A snapshot the caller already holds, for `caller`.
    pub fn of(
        control: &AccessControl,
        loaded: Arc<Loaded>,
        caller: Option<&'u User>,
        explain_denials: bool,
    ) -> Self {
        Self {
            loaded,
            policy: control.policy(),
            caller,
            explain_denials,
        }
    }

    /// The same snapshot asked on behalf of someone else (e.g. the subject of a check).
    pub fn for_caller<'v>(&self, caller: Option<&'v User>) -> Access<'v> {
        Access {
            loaded: Arc::clone(&self.loaded),
            policy: self.policy,
            caller,
            explain_denials: self.explain_denials,
        }
    }

    /// The permission generation the snapshot was read at.
    pub fn generation(&self) -> i64 {
        self.loaded.generation
    }

    /// Who is asking.
    pub fn caller(&self) -> Option<&'u User> {
        self.caller
    }

    /// The folder tree and rules the answers come from (for walks: ancestors, descendants).
    pub fn tree(&self) -> &Snapshot {
        &self.loaded.snapshot
    }

    /// The snapshot with its generation (for the rule listings of `library::rules`).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The policy in force (`enable_permissions`).
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The decision, with its reasons.
    pub fn decide<'a>(&self, right: Right, item: impl Into<Target<'a>>) -> Decision {
        let actor = actor(self.caller);
        match item.into() {
            Target::File(f) => {
                self.loaded
                    .snapshot
                    .file_decision(self.policy, actor.as_ref(), file_ref(f), right)
            }
            Target::Folder(id) => {
                self.loaded
                    .snapshot
                    .folder_decision(self.policy, actor.as_ref(), id, right)
            }
        }
    }

    /// Whether the caller has `right` on the item.
    pub fn can<'a>(&self, right: Right, item: impl Into<Target<'a>>) -> bool {
        self.decide(right, item).allowed
    }

    /// `Ok` when the caller has `right` on the item. An item the caller may not read is
    /// answered as missing ([`Error::NotFound`]; 403 with the reason under `debug`); a
    /// readable item without the right is [`Error::Forbidden`].
    pub fn require<'a>(&self, right: Right, item: impl Into<Target<'a>>) -> Result<()> {
        let item = item.into();
        let read = self.decide(Right::Read, item);
        if !read.allowed {
            return Err(self.hidden(&read));
        }
        if right == Right::Read {
            return Ok(());
        }
        let decision = self.decide(right, item);
        if decision.allowed {
            Ok(())
        } else {
            Err(super::forbidden(&decision))
        }
    }

    /// Every folder on which the caller has `right` (one pass over the tree).
    pub fn folders_with(&self, right: Right) -> FolderSet {
        self.loaded
            .snapshot
            .folders_with(self.policy, actor(self.caller).as_ref(), right)
    }

    /// The answer to a denied read: missing, or with `debug` 403 and why.
    pub fn hidden(&self, decision: &Decision) -> Error {
        if self.explain_denials {
            Error::Forbidden(decision.summary())
        } else {
            Error::NotFound
        }
    }
}

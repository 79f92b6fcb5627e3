//! Plain data types of the folder-permission model (rights, scopes, grants, rules, actors, decisions).

use std::collections::HashSet;

/// Identifier of a user.
pub type UserId = i64;
/// Identifier of a group.
pub type GroupId = i64;
/// Identifier of a folder.
pub type FolderId = i64;
/// Identifier of a permission rule.
pub type RuleId = i64;

/// One of the three rights a rule can grant or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Right {
    /// See the folder / download its files.
    Read,
    /// Change, move, rename, delete.
    Edit,
    /// Create subfolders and upload files into the folder.
    AddChildren,
}

impl Right {
    /// Every right, in a fixed order.
    pub const ALL: [Right; 3] = [Right::Read, Right::Edit, Right::AddChildren];

    /// Stable lowercase name: "read", "edit" or "add_children".
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Read => "read",
            Right::Edit => "edit",
            Right::AddChildren => "add_children",
        }
    }

    /// Inverse of [`Right::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How far a rule attached to a folder reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// "All items": with no folder every folder; with a folder, like [`Scope::Children`].
    All,
    /// Only the folder itself (and so the files directly in it).
    This,
    /// The folder and its whole subtree.
    Children,
}

impl Scope {
    /// Stable lowercase name: "all", "this" or "children".
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::This => "this",
            Scope::Children => "children",
        }
    }

    /// Inverse of [`Scope::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Scope::All, Scope::This, Scope::Children]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Whether a rule with this scope on a folder also covers the folder's descendants.
    pub fn reaches_descendants(self) -> bool {
        matches!(self, Scope::All | Scope::Children)
    }
}

/// What a rule says about one right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// The rule grants the right.
    Allow,
    /// The rule denies the right; a deny beats every allow.
    Deny,
    /// The rule says nothing about the right.
    Inherit,
}

impl Grant {
    /// Stable lowercase name: "allow", "deny" or "inherit".
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Allow => "allow",
            Grant::Deny => "deny",
            Grant::Inherit => "inherit",
        }
    }

    /// Inverse of [`Grant::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Grant::Allow, Grant::Deny, Grant::Inherit]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl From<Option<bool>> for Grant {
    fn from(v: Option<bool>) -> Self {
        match v {
            Some(true) => Grant::Allow,
            Some(false) => Grant::Deny,
            None => Grant::Inherit,
        }
    }
}

impl From<Grant> for Option<bool> {
    fn from(g: Grant) -> Self {
        match g {
            Grant::Allow => Some(true),
            Grant::Deny => Some(false),
            Grant::Inherit => None,
        }
    }
}

/// Whom a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// One user.
    User(UserId),
    /// Every member of a group.
    Group(GroupId),
    /// Every active logged-in user (never anonymous).
    Everybody,
}

/// One folder-permission row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Rule id.
    pub id: RuleId,
    /// Folder the rule is attached to; `None` means every folder, whatever the scope.
    pub folder_id: Option<FolderId>,
    /// Reach of the rule below its folder.
    pub scope: Scope,
    /// Who the rule applies to.
    pub principal: Principal,
    /// Grant for [`Right::Read`].
    pub read: Grant,
    /// Grant for [`Right::Edit`].
    pub edit: Grant,
    /// Grant for [`Right::AddChildren`].
    pub add_children: Grant,
}

impl Rule {
    /// The rule's grant for `right`.
    pub fn grant(&self, right: Right) -> Grant {
        match right {
            Right::Read => self.read,
            Right::Edit => self.edit,
            Right::AddChildren => self.add_children,
        }
    }

    /// Whether the rule applies to a user with the given (sorted) group ids.
    pub fn matches(&self, user: UserId, sorted_groups: &[GroupId]) -> bool {
        match self.principal {
            Principal::Everybody => true,
            Principal::User(u) => u == user,
            Principal::Group(g) => sorted_groups.binary_search(&g).is_ok(),
        }
    }
}

/// One folder of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderNode {
    /// Folder id.
    pub id: FolderId,
    /// Parent folder; `None` for a top-level folder.
    pub parent_id: Option<FolderId>,
    /// Owner, who always has every right on the folder and its direct files.
    pub owner_id: Option<UserId>,
}

/// Who is asking. `None` user = anonymous.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The logged-in user.
    pub user_id: UserId,
    /// Inactive users are treated like anonymous ones.
    pub is_active: bool,
    /// Active superusers are allowed everything.
    pub is_superuser: bool,
}

/// Deployment-wide switches.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// `false`: every active logged-in user may do everything on folders and foldered files.
    pub enable_permissions: bool,
}

/// What a file needs for a decision.
#[derive(Clone, Copy, Debug)]
pub struct FileRef {
    /// Uploader / owner of the file.
    pub owner_id: Option<UserId>,
    /// Containing folder; `None` = "unsorted uploads".
    pub folder_id: Option<FolderId>,
}

/// A set of folder ids produced by [`super::Snapshot::folders_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderSet {
    /// Every folder (superuser or permissions disabled).
    Every,
    /// Exactly these folders.
    Some(HashSet<FolderId>),
}

impl FolderSet {
    /// Whether `id` is in the set ([`FolderSet::Every`] answers `true` for any id).
    pub fn contains(&self, id: FolderId) -> bool {
        match self {
            FolderSet::Every => true,
            FolderSet::Some(ids) => ids.contains(&id),
        }
    }

    /// Whether the set is [`FolderSet::Every`].
    pub fn is_every(&self) -> bool {
        matches!(self, FolderSet::Every)
    }
}

/// The outcome of one permission check, with the reason behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the right is granted.
    pub allowed: bool,
    /// The right that was asked about (used by explanations).
    pub right: Right,
    /// Why.
    pub reason: Reason,
}

/// Why a [`Decision`] came out the way it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No logged-in user: always denied.
    Anonymous,
    /// The user is inactive: always denied.
    Inactive,
    /// Superuser: always allowed.
    Superuser,
    /// Permissions are disabled: allowed for any logged-in user.
    PermissionsDisabled,
    /// The actor owns the file: allowed.
    FileOwner,
    /// The actor owns the folder (or the file's folder): allowed.
    FolderOwner,
    /// File without folder, actor is not its owner: denied.
    UnsortedNotOwner,
    /// Folder id not in the snapshot: denied.
    UnknownFolder,
    /// Decided by rules: allowed iff `allowed_by` is non-empty and `denied_by` is empty.
    /// Each list is ordered: rules on the folder itself, then on ancestors nearest first, then
    /// folder-less rules; within one folder by principal (everybody, users, groups) then id.
    Rules {
        /// Matching rules that allow the right.
        allowed_by: Vec<RuleMatch>,
        /// Matching rules that deny the right.
        denied_by: Vec<RuleMatch>,
    },
}

/// A rule that took part in a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleMatch {
    /// Rule id.
    pub rule_id: RuleId,
    /// Folder the rule is attached to (`None` = every folder).
    pub folder_id: Option<FolderId>,
    /// Scope of the rule.
    pub scope: Scope,
    /// Principal of the rule.
    pub principal: Principal,
    /// The rule's grant for the right in question (never `Inherit`).
    pub grant: Grant,
    /// True when the rule sits on an ancestor or on no folder.
    pub inherited: bool,
}

impl RuleMatch {
    /// Builds a match record for `rule` and `right`.
    pub fn new(rule: &Rule, right: Right, inherited: bool) -> Self {
        RuleMatch {
            rule_id: rule.id,
            folder_id: rule.folder_id,
            scope: rule.scope,
            principal: rule.principal,
            grant: rule.grant(right),
            inherited,
        }
    }
}

/// A rule that applies to a folder, as listed by [`super::Snapshot::rules_affecting`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedRule {
    /// The rule.
    pub rule: Rule,
    /// True when the rule sits on an ancestor or on no folder.
    pub inherited: bool,
    /// Folder the rule comes from (`None` = a folder-less rule).
    pub from_folder: Option<FolderId>,
}

//! Human-readable explanations of decisions (`Display` impls); ids are shown raw for callers to map.

use std::fmt;

use super::model::{Decision, FolderId, Principal, Reason, Right, RuleMatch, Scope};

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(u) => write!(f, "user {u}"),
            Principal::Group(g) => write!(f, "group {g}"),
            Principal::Everybody => f.write_str("everybody"),
        }
    }
}

/// Describes what a rule with this folder and scope covers, e.g. "folder 12 and its subfolders".
pub fn describe_reach(folder_id: Option<FolderId>, scope: Scope) -> String {
    match (folder_id, scope) {
        (None, _) => "all folders".to_owned(),
        (Some(f), Scope::This) => format!("folder {f} only"),
        (Some(f), Scope::All | Scope::Children) => format!("folder {f} and its subfolders"),
    }
}

impl fmt::Display for RuleMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule #{} ({}, {})",
            self.rule_id,
            self.principal,
            describe_reach(self.folder_id, self.scope)
        )
    }
}

/// Label of a right inside an English sentence.
fn right_label(right: Right) -> &'static str {
    match right {
        Right::Read => "read",
        Right::Edit => "edit",
        Right::AddChildren => "add children",
    }
}

/// "rule #7 (...)" or "rule #7 (...) and 2 other rules"; `None` for an empty list.
fn first_and_count(list: &[RuleMatch]) -> Option<(String, bool)> {
    let (first, rest) = list.split_first()?;
    let text = match rest.len() {
        0 => first.to_string(),
        1 => format!("{first} and 1 other rule"),
        n => format!("{first} and {n} other rules"),
    };
    Some((text, rest.is_empty()))
}

impl Decision {
    /// One English sentence explaining the decision (same as `to_string()`).
    pub fn explain(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.allowed {
            "allowed: "
        } else {
            "denied: "
        })?;
        let right = right_label(self.right);
        match &self.reason {
            Reason::Anonymous => f.write_str("anonymous users have no access"),
            Reason::Inactive => f.write_str("the user account is inactive"),
            Reason::Superuser => f.write_str("superuser"),
            Reason::PermissionsDisabled => {
                f.write_str("folder permissions are disabled, every logged-in user has access")
            }
            Reason::FileOwner => f.write_str("owner of the file"),
            Reason::FolderOwner => f.write_str("owner of the folder"),
            Reason::UnsortedNotOwner => {
                f.write_str("the file is unsorted (in no folder) and belongs to someone else")
            }
            Reason::UnknownFolder => f.write_str("unknown folder"),
            Reason::Rules {
                allowed_by,
                denied_by,
            } => match (first_and_count(denied_by), first_and_count(allowed_by)) {
                (Some((deny, single)), allow) => {
                    let verb = if single { "denies" } else { "deny" };
                    write!(f, "{deny} {verb} {right}")?;
                    match allow {
                        Some((allow, _)) => write!(f, ", which beats {allow} allowing it"),
                        None => Ok(()),
                    }
                }
                (None, Some((allow, single))) => {
                    let verb = if single { "allows" } else { "allow" };
                    write!(f, "{allow} {verb} {right}")
                }
                (None, None) => write!(f, "no rule grants {right}"),
            },
        }
    }
}

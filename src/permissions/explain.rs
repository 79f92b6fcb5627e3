//! Explanations of decisions. People read them with names ([`Decision::explain_with`] and
//! a [`Namer`]: users, groups and folders by name, no internal ids); the `Display` impls
//! keep ids, for logs and tests of the engine.

use std::fmt;

use super::model::{
    Decision, FolderId, GroupId, Principal, Reason, Right, RuleMatch, Scope, UserId,
};

/// Names for the ids in a decision; the caller loads them (the engine knows none).
pub trait Namer {
    /// A user's name.
    fn user(&self, id: UserId) -> String;
    /// A group's name.
    fn group(&self, id: GroupId) -> String;
    /// A folder as people know it (its name, or its path).
    fn folder(&self, id: FolderId) -> String;
}

/// Whom a rule is for, in words: `user “eve”`, `group “Staff”`, `everybody logged in`.
pub fn principal_in_words(p: Principal, names: &dyn Namer) -> String {
    match p {
        Principal::User(u) => format!("user “{}”", names.user(u)),
        Principal::Group(g) => format!("group “{}”", names.group(g)),
        Principal::Everybody => "everybody logged in".to_owned(),
    }
}

/// Where a rule reaches, in words: `folder “Projects / Reports” and its subfolders`,
/// `folder “Reports” only`, `all folders`.
pub fn reach_in_words(folder_id: Option<FolderId>, scope: Scope, names: &dyn Namer) -> String {
    match (folder_id, scope) {
        (None, _) => "all folders".to_owned(),
        (Some(f), Scope::This) => format!("folder “{}” only", names.folder(f)),
        (Some(f), Scope::All | Scope::Children) => {
            format!("folder “{}” and its subfolders", names.folder(f))
        }
    }
}

/// A matching rule in words: `the rule for group “Staff” on folder “Reports” and its
/// subfolders`.
fn rule_in_words(m: &RuleMatch, names: &dyn Namer) -> String {
    format!(
        "the rule for {} on {}",
        principal_in_words(m.principal, names),
        reach_in_words(m.folder_id, m.scope, names)
    )
}

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

impl Decision {
    /// One English sentence explaining the decision, with ids (same as `to_string()`).
    pub fn explain(&self) -> String {
        self.to_string()
    }

    /// One English sentence explaining the decision to people: users, groups and folders
    /// by name, e.g. "allowed: the rule for group “Staff” on folder “Reports” and its
    /// subfolders allows read".
    pub fn explain_with(&self, names: &dyn Namer) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = write_decision(&mut out, self, &|m| rule_in_words(m, names));
        out
    }
}

impl Decision {
    /// The decision told to the user it is about, without any name or id ("denied: a rule
    /// for you denies edit"), for refusals made where no names are at hand (writes).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = write_decision(&mut out, self, &|m| {
            let whom = match m.principal {
                Principal::User(_) => "you",
                Principal::Group(_) => "one of your groups",
                Principal::Everybody => "everybody logged in",
            };
            format!("a rule for {whom}")
        });
        out
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decision(f, self, &|m| m.to_string())
    }
}

/// "X" or "X and 2 other rules", with `describe` naming the first rule.
fn first_and_count_with(
    list: &[RuleMatch],
    describe: &dyn Fn(&RuleMatch) -> String,
) -> Option<(String, bool)> {
    let (first, rest) = list.split_first()?;
    let first = describe(first);
    let text = match rest.len() {
        0 => first,
        1 => format!("{first} and 1 other rule"),
        n => format!("{first} and {n} other rules"),
    };
    Some((text, rest.is_empty()))
}

fn write_decision(
    f: &mut dyn fmt::Write,
    d: &Decision,
    describe: &dyn Fn(&RuleMatch) -> String,
) -> fmt::Result {
    let first_and_count = |list: &[RuleMatch]| first_and_count_with(list, describe);
    f.write_str(if d.allowed { "allowed: " } else { "denied: " })?;
    let right = right_label(d.right);
    match &d.reason {
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

#[cfg(test)]
mod named {
    use super::*;

    struct Book;

    impl Namer for Book {
        fn user(&self, _: UserId) -> String {
            "una".into()
        }
        fn group(&self, _: GroupId) -> String {
            "Staff".into()
        }
        fn folder(&self, _: FolderId) -> String {
            "Reports".into()
        }
    }

    fn m(
        rule_id: i64,
        principal: Principal,
        folder_id: Option<FolderId>,
        scope: Scope,
    ) -> RuleMatch {
        RuleMatch {
            rule_id,
            principal,
            folder_id,
            scope,
            grant: crate::permissions::Grant::Deny,
            inherited: false,
        }
    }

    #[test]
    fn people_read_names_and_never_ids() {
        let d = Decision {
            allowed: false,
            right: Right::Read,
            reason: Reason::Rules {
                denied_by: vec![m(7, Principal::Group(3), Some(12), Scope::Children)],
                allowed_by: vec![
                    m(2, Principal::Everybody, None, Scope::All),
                    m(8, Principal::User(2), Some(13), Scope::This),
                ],
            },
        };
        let named = d.explain_with(&Book);
        assert_eq!(
            named,
            "denied: the rule for group “Staff” on folder “Reports” and its subfolders denies \
             read, which beats the rule for everybody logged in on all folders and 1 other \
             rule allowing it"
        );
        let summary = d.summary();
        assert_eq!(
            summary,
            "denied: a rule for one of your groups denies read, which beats a rule for \
             everybody logged in and 1 other rule allowing it"
        );
        for text in [named, summary] {
            assert!(!text.contains('#'), "{text}");
            assert!(
                !text.chars().any(|c| c.is_ascii_digit() && c != '1'),
                "{text}"
            );
        }
    }
}

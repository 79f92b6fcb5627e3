//! "Effective permissions": what one user may do in one folder (read, edit, add children)
//! and exactly what decided each right — a short-circuit (inactive account, superuser, owner
//! of the folder, permissions disabled in the configuration) or the rules that allow and
//! deny it, described with names. Decisions come from the same engine as every download.

use crate::access::Loaded;
use crate::db::DbConn;
use crate::db::models::user;
use crate::permissions::{Grant, Policy, Reason, Right, Rule, RuleMatch};

use super::Result;
use super::rules::{FolderRules, RuleView};

/// The user the panel is about.
#[derive(Clone, Debug)]
pub struct Subject {
    pub id: i64,
    pub username: String,
    pub is_active: bool,
    pub is_superuser: bool,
    /// Names of the user's groups, sorted.
    pub groups: Vec<String>,
}

/// What decided one right.
#[derive(Clone, Debug)]
pub enum Cause {
    /// The account is inactive: denied everything.
    Inactive,
    /// A superuser: allowed everything.
    Superuser,
    /// The user owns the folder: allowed everything on it.
    Owner,
    /// `enable_permissions = false`: every active user is allowed everything.
    PermissionsDisabled,
    /// Some rules allow the right and none denies it.
    Allowed { by: Vec<RuleView> },
    /// Some rules deny the right; `overruled` are the rules that allow it, beaten by the deny.
    Denied {
        by: Vec<RuleView>,
        overruled: Vec<RuleView>,
    },
    /// No rule for this user allows the right.
    NoRule,
    /// Anything else the engine answers (anonymous, unknown folder): its sentence says it.
    Other,
}

/// The decision on one right.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub right: Right,
    /// "read", "edit" or "add children".
    pub label: &'static str,
    pub allowed: bool,
    pub cause: Cause,
    /// The engine's sentence in names (as the JSON API gives it).
    pub sentence: String,
}

/// The panel: a user and a verdict per right.
#[derive(Clone, Debug)]
pub struct Effective {
    pub subject: Subject,
    pub verdicts: Vec<Verdict>,
}

/// A right in words.
pub fn right_label(right: Right) -> &'static str {
    match right {
        Right::Read => "read",
        Right::Edit => "edit",
        Right::AddChildren => "add children",
    }
}

/// Decides the three rights of user `user_id` on the folder of `rules`, with the causes;
/// `None` when there is no such user.
pub fn explain(
    conn: &mut DbConn,
    loaded: &Loaded,
    policy: Policy,
    rules: &FolderRules,
    user_id: i64,
) -> Result<Option<Effective>> {
    let Some(u) = user::find(conn, user_id)? else {
        return Ok(None);
    };
    let mut groups: Vec<String> = loaded
        .snapshot
        .groups_of(u.id)
        .iter()
        .map(|g| rules.names.group(*g))
        .collect();
    groups.sort_by_key(|g| g.to_lowercase());
    // Every rule in a decision is one of the folder's rules (same snapshot); the fallback
    // only guards against a mismatch.
    let view = |m: &RuleMatch, right: Right| -> RuleView {
        rules
            .own
            .iter()
            .chain(&rules.inherited)
            .find(|r| r.id == m.rule_id)
            .cloned()
            .unwrap_or_else(|| {
                let grant = |r: Right| if r == right { m.grant } else { Grant::Inherit };
                let rule = Rule {
                    id: m.rule_id,
                    folder_id: m.folder_id,
                    scope: m.scope,
                    principal: m.principal,
                    read: grant(Right::Read),
                    edit: grant(Right::Edit),
                    add_children: grant(Right::AddChildren),
                };
                rules.names.describe(&rule, m.inherited)
            })
    };
    let verdicts = Right::ALL
        .into_iter()
        .map(|right| {
            let d = loaded.folder(policy, Some(&u), rules.folder.id, right);
            let cause = match &d.reason {
                Reason::Inactive => Cause::Inactive,
                Reason::Superuser => Cause::Superuser,
                Reason::FolderOwner => Cause::Owner,
                Reason::PermissionsDisabled => Cause::PermissionsDisabled,
                Reason::Rules {
                    allowed_by,
                    denied_by,
                } => match (allowed_by.is_empty(), denied_by.is_empty()) {
                    (_, false) => Cause::Denied {
                        by: denied_by.iter().map(|m| view(m, right)).collect(),
                        overruled: allowed_by.iter().map(|m| view(m, right)).collect(),
                    },
                    (false, true) => Cause::Allowed {
                        by: allowed_by.iter().map(|m| view(m, right)).collect(),
                    },
                    (true, true) => Cause::NoRule,
                },
                _ => Cause::Other,
            };
            Verdict {
                right,
                label: right_label(right),
                allowed: d.allowed,
                cause,
                sentence: d.explain_with(&rules.names),
            }
        })
        .collect();
    Ok(Some(Effective {
        subject: Subject {
            id: u.id,
            username: u.username,
            is_active: u.is_active,
            is_superuser: u.is_superuser,
            groups,
        },
        verdicts,
    }))
}

/// One right of a [`check`]: allowed or not, and why, said to the viewer.
#[derive(Clone, Debug)]
pub struct Checked {
    pub right: Right,
    pub allowed: bool,
    /// In names, only names the viewer may see.
    pub why: String,
}

/// What `subject_id` may do on a file or a folder (exactly one of them), as `viewer` may be
/// told it: a viewer who is not a superuser asks about themselves, and an item they may not
/// read answers like a missing one (its decisions would tell it exists and which rules sit
/// on it). A missing subject is [`super::Error::Invalid`].
#[tracing::instrument(skip_all)]
pub fn check(
    lib: &super::Library,
    conn: &mut DbConn,
    viewer: &crate::db::models::User,
    subject_id: i64,
    target: CheckTarget,
) -> Result<Vec<Checked>> {
    use super::Error;
    use super::access::Target;
    let Some(subject) = user::find(conn, subject_id)? else {
        return Err(Error::Invalid(format!("user {subject_id} does not exist")));
    };
    let viewing = lib.access(conn, Some(viewer))?;
    let asked = viewing.for_caller(Some(&subject));
    let file;
    let on: Target<'_> = match target {
        CheckTarget::File(id) => {
            file = crate::db::models::file::find(conn, id)?.ok_or(Error::NotFound)?;
            Target::File(&file)
        }
        CheckTarget::Folder(id) => {
            crate::db::models::folder::find(conn, id)?.ok_or(Error::NotFound)?;
            Target::Folder(id)
        }
    };
    let decisions: Vec<_> = Right::ALL
        .into_iter()
        .map(|right| (right, asked.decide(right, on)))
        .collect();
    if let Some((_, read)) = decisions.iter().find(|(r, _)| *r == Right::Read)
        && !viewer.is_superuser
        && !read.allowed
    {
        return Err(asked.hidden(read));
    }
    decisions
        .into_iter()
        .map(|(right, d)| {
            Ok(Checked {
                right,
                allowed: d.allowed,
                why: super::readers::explain(conn, &viewing, &d)?,
            })
        })
        .collect()
}

/// What a [`check`] is about.
#[derive(Clone, Copy, Debug)]
pub enum CheckTarget {
    File(i64),
    Folder(i64),
}

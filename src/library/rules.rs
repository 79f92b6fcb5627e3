//! Folder permission rules as administrators manage them: the validation shared by the JSON
//! API and the admin pages, saving and deleting (superusers only, with existence checks), and
//! rules described with names instead of ids: who, where, how far and what they say.

use std::collections::HashMap;

use crate::access::Loaded;
use crate::db::DbConn;
use crate::db::models::folder::{self, Folder};
use crate::db::models::permission::{self, NewRule};
use crate::db::models::{User, group, user};
use crate::permissions::{AppliedRule, FolderId, Grant, Principal, Rule, Scope};

use super::{Error, Result};

/// A rule as submitted, before validation: the form or JSON fields, typed.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The folder the rule sits on; `None` = all folders.
    pub folder_id: Option<i64>,
    pub scope: Scope,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub everybody: bool,
    pub read: Grant,
    pub edit: Grant,
    pub add_children: Grant,
}

/// Checks the combinations: type `all` has no folder, `this`/`children` need one; exactly
/// one of user, group and everybody.
pub fn validate(d: Draft) -> Result<NewRule> {
    match (d.scope, d.folder_id) {
        (Scope::All, Some(_)) => {
            return Err(Error::Invalid(
                "a rule of type \"all\" reaches all folders, so it cannot sit on one folder: \
                 place it on all folders, or use type \"this\" (this folder only) or \
                 \"children\" (this folder and its subfolders)"
                    .into(),
            ));
        }
        (Scope::This, None) => {
            return Err(Error::Invalid(
                "a rule of type \"this\" (one folder only) needs a folder: for all folders use \
                 type \"all\""
                    .into(),
            ));
        }
        (Scope::Children, None) => {
            return Err(Error::Invalid(
                "a rule of type \"children\" (a folder and its subfolders) needs a folder: for \
                 all folders use type \"all\""
                    .into(),
            ));
        }
        _ => {}
    }
    let principal = match (d.user_id, d.group_id, d.everybody) {
        (Some(u), None, false) => Principal::User(u),
        (None, Some(g), false) => Principal::Group(g),
        (None, None, true) => Principal::Everybody,
        _ => {
            return Err(Error::Invalid(
                "a rule is for exactly one of: a user, a group or everybody".into(),
            ));
        }
    };
    Ok(NewRule {
        folder_id: d.folder_id,
        scope: d.scope,
        principal,
        read: d.read,
        edit: d.edit,
        add_children: d.add_children,
    })
}

fn require_superuser(actor: &User) -> Result<()> {
    if actor.is_superuser {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only superusers may manage folder permissions".into(),
        ))
    }
}

/// Refuses a rule naming a folder, user or group that does not exist.
fn check_targets(conn: &mut DbConn, rule: &NewRule) -> Result<()> {
    if let Some(f) = rule.folder_id
        && folder::find(conn, f)?.is_none()
    {
        return Err(Error::Invalid(format!("folder {f} does not exist")));
    }
    match rule.principal {
        Principal::User(u) if user::find(conn, u)?.is_none() => {
            Err(Error::Invalid(format!("user {u} does not exist")))
        }
        Principal::Group(g) if group::find(conn, g)?.is_none() => {
            Err(Error::Invalid(format!("group {g} does not exist")))
        }
        _ => Ok(()),
    }
}

/// Saves a new rule (superusers); returns its id. Takes effect on the next request.
#[tracing::instrument(skip_all, fields(actor_id = actor.id))]
pub fn create(conn: &mut DbConn, actor: &User, rule: &NewRule) -> Result<i64> {
    require_superuser(actor)?;
    crate::db::write_transaction(conn, |conn| {
        check_targets(conn, rule)?;
        Ok(permission::create(conn, rule)?)
    })
}

/// Replaces a rule's contents (superusers).
#[tracing::instrument(skip_all, fields(actor_id = actor.id, id))]
pub fn update(conn: &mut DbConn, actor: &User, id: i64, rule: &NewRule) -> Result<()> {
    require_superuser(actor)?;
    crate::db::write_transaction(conn, |conn| {
        if permission::find(conn, id)?.is_none() {
            return Err(Error::NotFound);
        }
        check_targets(conn, rule)?;
        permission::update(conn, id, rule)?;
        Ok(())
    })
}

/// Deletes a rule (superusers); returns the folder it sat on.
#[tracing::instrument(skip_all, fields(actor_id = actor.id))]
pub fn delete(conn: &mut DbConn, actor: &User, id: i64) -> Result<Option<FolderId>> {
    require_superuser(actor)?;
    crate::db::write_transaction(conn, |conn| {
        let row = permission::find(conn, id)?.ok_or(Error::NotFound)?;
        permission::delete(conn, id)?;
        Ok(row.folder_id)
    })
}

/// One rule in the snapshot (`None`: no such rule, or a row naming nobody).
pub fn find(loaded: &Loaded, id: i64) -> Option<Rule> {
    loaded.snapshot.rules().find(|r| r.id == id).cloned()
}

/// A user or group offered in a picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
    /// "superuser", "inactive" or empty (users only).
    pub note: &'static str,
}

/// A folder shown by its path, e.g. "Projects / 2026 / Reports".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderRef {
    pub id: FolderId,
    pub path: String,
}

/// Whom a rule is for, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    User(String),
    Group(String),
    Everybody,
}

impl Who {
    /// "user", "group" or "everybody" (a CSS class and a word).
    pub fn kind(&self) -> &'static str {
        match self {
            Who::User(_) => "user",
            Who::Group(_) => "group",
            Who::Everybody => "everybody",
        }
    }

    /// The user or group name; empty for everybody.
    pub fn name(&self) -> &str {
        match self {
            Who::User(n) | Who::Group(n) => n,
            Who::Everybody => "",
        }
    }
}

/// A rule described for people: names instead of ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleView {
    pub id: i64,
    pub who: Who,
    /// Where the rule sits; `None` = all folders.
    pub folder: Option<FolderRef>,
    pub scope: Scope,
    pub read: Grant,
    pub edit: Grant,
    pub add_children: Grant,
    /// Shown on a folder's page: the rule sits on an ancestor or on all folders.
    pub inherited: bool,
}

impl RuleView {
    /// How far the rule reaches, in words: "this folder only", "this folder and its
    /// subfolders" or "all folders".
    pub fn reach(&self) -> &'static str {
        match (&self.folder, self.scope) {
            (None, _) => "all folders",
            (Some(_), Scope::This) => "this folder only",
            (Some(_), Scope::All | Scope::Children) => "this folder and its subfolders",
        }
    }

    /// Whether the rule covers its folder only (type `this`), not the subfolders.
    pub fn this_only(&self) -> bool {
        self.folder.is_some() && self.scope == Scope::This
    }
}

/// User names, group names and folder paths for describing rules.
#[derive(Debug, Default)]
pub struct Names {
    users: HashMap<i64, String>,
    /// Users as pickers offer them.
    user_choices: Vec<Choice>,
    groups: HashMap<i64, String>,
    folder_names: HashMap<FolderId, String>,
    paths: HashMap<FolderId, String>,
}

impl Names {
    /// Loads the names of every user and group, and the paths of `folders` (with their
    /// ancestors' names): three queries whatever the number of rules.
    pub fn load(conn: &mut DbConn, loaded: &Loaded, folders: &[FolderId]) -> Result<Self> {
        let all_users = user::list(conn)?;
        let mut user_choices: Vec<Choice> = all_users
            .iter()
            .map(|u| Choice {
                id: u.id,
                name: u.username.clone(),
                note: match (u.is_active, u.is_superuser) {
                    (false, _) => "inactive",
                    (true, true) => "superuser",
                    (true, false) => "",
                },
            })
            .collect();
        user_choices.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id));
        let users = all_users.into_iter().map(|u| (u.id, u.username)).collect();
        let groups = group::list(conn)?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        let mut ids: Vec<FolderId> = folders
            .iter()
            .flat_map(|f| loaded.snapshot.ancestors(*f))
            .chain(folders.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let folder_names: HashMap<FolderId, String> = folder::find_many(conn, &ids)?
            .into_iter()
            .map(|f| (f.id, f.name))
            .collect();
        let name = |id: &FolderId| folder_names.get(id).map_or("…", String::as_str);
        let paths = folders
            .iter()
            .map(|f| {
                let mut parts: Vec<&str> = loaded.snapshot.ancestors(*f).iter().map(name).collect();
                parts.push(name(f));
                (*f, parts.join(" / "))
            })
            .collect();
        Ok(Self {
            users,
            user_choices,
            groups,
            folder_names,
            paths,
        })
    }

    /// Every user, by name, for a picker.
    pub fn user_choices(&self) -> &[Choice] {
        &self.user_choices
    }

    /// Every group, by name, for a picker.
    pub fn group_choices(&self) -> Vec<Choice> {
        let mut out: Vec<Choice> = self
            .groups
            .iter()
            .map(|(id, name)| Choice {
                id: *id,
                name: name.clone(),
                note: "",
            })
            .collect();
        out.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id));
        out
    }

    /// A user's name ("user #7" if unknown).
    pub fn user(&self, id: i64) -> String {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user #{id}"))
    }

    /// A group's name ("group #7" if unknown).
    pub fn group(&self, id: i64) -> String {
        self.groups
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("group #{id}"))
    }

    /// A folder's own name (for one given to [`Names::load`] or an ancestor of one).
    pub fn folder_name(&self, id: FolderId) -> String {
        self.folder_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "…".to_owned())
    }

    /// A folder with its path (given to [`Names::load`]).
    pub fn folder(&self, id: FolderId) -> FolderRef {
        FolderRef {
            id,
            path: self
                .paths
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("folder #{id}")),
        }
    }

    /// A rule in words.
    pub fn describe(&self, rule: &Rule, inherited: bool) -> RuleView {
        RuleView {
            id: rule.id,
            who: match rule.principal {
                Principal::User(u) => Who::User(self.user(u)),
                Principal::Group(g) => Who::Group(self.group(g)),
                Principal::Everybody => Who::Everybody,
            },
            folder: rule.folder_id.map(|f| self.folder(f)),
            scope: rule.scope,
            read: rule.read,
            edit: rule.edit,
            add_children: rule.add_children,
            inherited,
        }
    }
}

/// The rules that apply to one folder, as its permissions page shows them.
#[derive(Debug)]
pub struct FolderRules {
    pub folder: Folder,
    /// The folder's ancestors, root first, then the folder itself.
    pub path: Vec<FolderRef>,
    /// The owner's name.
    pub owner: Option<String>,
    /// Rules sitting on this folder.
    pub own: Vec<RuleView>,
    /// Rules from ancestors (type `children`) and rules for all folders, nearest first.
    pub inherited: Vec<RuleView>,
    pub names: Names,
}

/// The rules on `folder_id` and those it inherits ([`Error::NotFound`] for no such folder).
pub fn for_folder(conn: &mut DbConn, loaded: &Loaded, folder_id: FolderId) -> Result<FolderRules> {
    let folder = folder::find(conn, folder_id)?.ok_or(Error::NotFound)?;
    let applied: Vec<AppliedRule> = loaded.snapshot.rules_affecting(folder_id);
    let mut chain = loaded.snapshot.ancestors(folder_id);
    chain.push(folder_id);
    let names = Names::load(conn, loaded, &chain)?;
    let path = chain
        .iter()
        .map(|f| FolderRef {
            id: *f,
            path: names.folder_name(*f),
        })
        .collect();
    let (own, inherited): (Vec<_>, Vec<_>) = applied.iter().partition(|a| !a.inherited);
    Ok(FolderRules {
        owner: folder.owner_id.map(|o| names.user(o)),
        own: own.iter().map(|a| names.describe(&a.rule, false)).collect(),
        inherited: inherited
            .iter()
            .map(|a| names.describe(&a.rule, true))
            .collect(),
        path,
        folder,
        names,
    })
}

/// Every rule, for the overview page.
#[derive(Debug)]
pub struct Overview {
    /// Rules without a folder.
    pub all_folders: Vec<RuleView>,
    /// Folders that have rules, by path, each with its rules by id.
    pub by_folder: Vec<(FolderRef, Vec<RuleView>)>,
}

/// Every rule: those for all folders, then per folder (sorted by path).
pub fn overview(conn: &mut DbConn, loaded: &Loaded) -> Result<Overview> {
    let mut rules: Vec<&Rule> = loaded.snapshot.rules().collect();
    rules.sort_by_key(|r| r.id);
    let mut folders: Vec<FolderId> = rules.iter().filter_map(|r| r.folder_id).collect();
    folders.sort_unstable();
    folders.dedup();
    let names = Names::load(conn, loaded, &folders)?;
    let all_folders = rules
        .iter()
        .filter(|r| r.folder_id.is_none())
        .map(|r| names.describe(r, false))
        .collect();
    let mut grouped: HashMap<FolderId, Vec<RuleView>> = HashMap::new();
    for r in &rules {
        if let Some(f) = r.folder_id {
            grouped.entry(f).or_default().push(names.describe(r, false));
        }
    }
    let mut by_folder: Vec<(FolderRef, Vec<RuleView>)> = grouped
        .into_iter()
        .map(|(f, list)| (names.folder(f), list))
        .collect();
    by_folder.sort_by_cached_key(|(f, _)| (f.path.to_lowercase(), f.id));
    Ok(Overview {
        all_folders,
        by_folder,
    })
}

/// What the admin's page of one folder's rules shows: the rules that apply there, and the
/// "Effective permissions" of one user when one is picked.
pub struct FolderPanel {
    pub rules: FolderRules,
    pub effective: Option<super::effective::Effective>,
}

/// The rules on and above `folder_id`, and what `subject` may do there (superusers).
pub fn folder_panel(
    lib: &super::Library,
    conn: &mut DbConn,
    actor: &User,
    folder_id: FolderId,
    subject: Option<i64>,
) -> Result<FolderPanel> {
    require_superuser(actor)?;
    let access = lib.access(conn, Some(actor))?;
    let rules = for_folder(conn, access.loaded(), folder_id)?;
    let effective = match subject {
        Some(u) => super::effective::explain(conn, access.loaded(), access.policy(), &rules, u)?,
        None => None,
    };
    Ok(FolderPanel { rules, effective })
}

/// Every rule, grouped by folder (superusers).
pub fn overview_of(lib: &super::Library, conn: &mut DbConn, actor: &User) -> Result<Overview> {
    require_superuser(actor)?;
    let access = lib.access(conn, Some(actor))?;
    overview(conn, access.loaded())
}

/// The choices of the rule form: the folder offered (if it exists) and the names of users,
/// groups and that folder (superusers).
pub struct FormChoices {
    pub names: Names,
    pub folder: Option<FolderId>,
}

/// [`FormChoices`] for a form about `folder`.
pub fn form_choices(
    lib: &super::Library,
    conn: &mut DbConn,
    actor: &User,
    folder: Option<FolderId>,
) -> Result<FormChoices> {
    require_superuser(actor)?;
    let access = lib.access(conn, Some(actor))?;
    let folder = folder.filter(|f| access.tree().folder(*f).is_some());
    let folders: Vec<FolderId> = folder.into_iter().collect();
    let names = Names::load(conn, access.loaded(), &folders)?;
    Ok(FormChoices { names, folder })
}

/// The rule `id` as the snapshot holds it (superusers); `NotFound` otherwise.
pub fn rule(lib: &super::Library, conn: &mut DbConn, actor: &User, id: i64) -> Result<Rule> {
    require_superuser(actor)?;
    find(lib.access(conn, Some(actor))?.loaded(), id).ok_or(Error::NotFound)
}

/// The rule `id` described in names (superusers), for the page that confirms its deletion.
pub fn described(
    lib: &super::Library,
    conn: &mut DbConn,
    actor: &User,
    id: i64,
) -> Result<RuleView> {
    require_superuser(actor)?;
    let access = lib.access(conn, Some(actor))?;
    let rule = find(access.loaded(), id).ok_or(Error::NotFound)?;
    let folders: Vec<FolderId> = rule.folder_id.into_iter().collect();
    Ok(Names::load(conn, access.loaded(), &folders)?.describe(&rule, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(folder_id: Option<i64>, scope: Scope) -> Draft {
        Draft {
            folder_id,
            scope,
            user_id: Some(1),
            group_id: None,
            everybody: false,
            read: Grant::Allow,
            edit: Grant::Inherit,
            add_children: Grant::Deny,
        }
    }

    #[test]
    fn scope_and_folder_must_fit() {
        assert!(validate(draft(None, Scope::All)).is_ok());
        assert!(validate(draft(Some(3), Scope::This)).is_ok());
        assert!(validate(draft(Some(3), Scope::Children)).is_ok());
        for bad in [
            draft(Some(3), Scope::All),
            draft(None, Scope::This),
            draft(None, Scope::Children),
        ] {
            assert!(matches!(validate(bad), Err(Error::Invalid(_))));
        }
    }

    #[test]
    fn exactly_one_principal() {
        let with = |user_id, group_id, everybody| Draft {
            user_id,
            group_id,
            everybody,
            ..draft(Some(3), Scope::This)
        };
        let principal = |d| validate(d).map(|r| r.principal).ok();
        assert_eq!(
            principal(with(Some(1), None, false)),
            Some(Principal::User(1))
        );
        assert_eq!(
            principal(with(None, Some(2), false)),
            Some(Principal::Group(2))
        );
        assert_eq!(
            principal(with(None, None, true)),
            Some(Principal::Everybody)
        );
        for (u, g, e) in [
            (None, None, false),
            (Some(1), Some(2), false),
            (Some(1), None, true),
            (None, Some(2), true),
        ] {
            assert_eq!(principal(with(u, g, e)), None, "{u:?} {g:?} {e}");
        }
    }

    #[test]
    fn grants_are_kept() {
        let rule = validate(draft(Some(3), Scope::This)).ok();
        let grants = rule.map(|r| (r.read, r.edit, r.add_children));
        assert_eq!(grants, Some((Grant::Allow, Grant::Inherit, Grant::Deny)));
    }
}

//! "Who can read this?": who may download a file, said to people — anyone with the link for
//! a public file; for a private one every user who may read it, with what grants it, and
//! the groups and everybody-rules that grant read on its folder, all by name (users, groups
//! and the folders the rules are on), never by internal id.

use super::access::{Access, Target};
use super::rules::Names;
use super::{Library, Result};
use crate::db::DbConn;
use crate::db::models::{File, User, group, user};
use crate::permissions::{Decision, FolderId, Grant, Namer, Principal, Reason, Right};

impl Namer for Names {
    fn user(&self, id: i64) -> String {
        Names::user(self, id)
    }

    fn group(&self, id: i64) -> String {
        Names::group(self, id)
    }

    fn folder(&self, id: FolderId) -> String {
        Names::folder(self, id).path
    }
}

/// The names a viewer may see: every name for a superuser; for anyone else a folder's own
/// name only when the viewer may read that folder ("…" otherwise, as breadcrumbs show it).
struct Shown<'a> {
    names: &'a Names,
    /// `None`: every folder.
    readable: Option<std::collections::HashSet<FolderId>>,
}

impl Namer for Shown<'_> {
    fn user(&self, id: i64) -> String {
        self.names.user(id)
    }

    fn group(&self, id: i64) -> String {
        self.names.group(id)
    }

    fn folder(&self, id: FolderId) -> String {
        match &self.readable {
            None => self.names.folder(id).path,
            Some(ok) if ok.contains(&id) => self.names.folder_name(id),
            Some(_) => "…".to_owned(),
        }
    }
}

/// A decision explained to `viewer` (who may not be the subject of the decision): the
/// names of the users, groups and folders it mentions (loaded here), never their ids, and
/// no name of a folder the viewer may not read.
pub fn explain(conn: &mut DbConn, access: &Access<'_>, decision: &Decision) -> Result<String> {
    let viewer = access.caller();
    let folders: Vec<FolderId> = match &decision.reason {
        Reason::Rules {
            allowed_by,
            denied_by,
        } => allowed_by
            .iter()
            .chain(denied_by)
            .filter_map(|m| m.folder_id)
            .collect(),
        _ => Vec::new(),
    };
    let names = Names::load(conn, access.loaded(), &folders)?;
    let readable = match viewer {
        Some(v) if v.is_superuser && v.is_active => None,
        _ => Some(
            folders
                .iter()
                .copied()
                .filter(|f| access.can(Right::Read, Target::Folder(*f)))
                .collect(),
        ),
    };
    Ok(decision.explain_with(&Shown {
        names: &names,
        readable,
    }))
}

/// One line of the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// A user name, "group NAME", "everybody logged in" or "Anyone with the link".
    pub who: String,
    /// Why, in words.
    pub why: String,
}

/// Most users listed one by one.
pub const MAX_USERS: usize = 500;

/// Who may read `file` now, told to `viewer` (folder names only of folders the viewer may
/// read). Users are evaluated one by one with the same engine as the downloads, so the list
/// is exact; groups and everybody-rules are listed from the rules.
#[tracing::instrument(skip_all, fields(viewer_id = viewer.id))]
pub fn who_can_read(
    lib: &Library,
    conn: &mut DbConn,
    viewer: &User,
    file: &File,
) -> Result<Vec<Reader>> {
    if file.is_public {
        return Ok(vec![Reader {
            who: "Anyone with the link".into(),
            why: "this file is public: no log-in and no rule is needed to download it".into(),
        }]);
    }
    let access = lib.access(conn, Some(viewer))?;
    let mut out = Vec::new();
    let mut folders: Vec<FolderId> = file.folder_id.into_iter().collect();
    let applied = match file.folder_id {
        Some(folder_id) => access.tree().rules_affecting(folder_id),
        None => Vec::new(),
    };
    folders.extend(applied.iter().filter_map(|a| a.rule.folder_id));
    let all = Names::load(conn, access.loaded(), &folders)?;
    let names = Shown {
        names: &all,
        readable: (!viewer.is_superuser).then(|| {
            folders
                .iter()
                .copied()
                .filter(|f| access.can(Right::Read, Target::Folder(*f)))
                .collect()
        }),
    };
    if !applied.is_empty() {
        let groups = group::list(conn)?;
        for applied in applied {
            if applied.rule.read != Grant::Allow {
                continue;
            }
            let who = match applied.rule.principal {
                Principal::Everybody => "everybody logged in".to_owned(),
                Principal::Group(g) => match groups.iter().find(|x| x.id == g) {
                    Some(x) => format!("group {}", x.name),
                    None => continue,
                },
                Principal::User(_) => continue,
            };
            let on = crate::permissions::reach_in_words(
                applied.rule.folder_id,
                applied.rule.scope,
                &names,
            );
            let place = if applied.inherited {
                "inherited by this folder"
            } else {
                "on this folder"
            };
            out.push(Reader {
                who,
                why: format!(
                    "a rule on {on} allows read ({place}); a deny for a member still wins"
                ),
            });
        }
    }
    let users = user::list(conn)?;
    let mut listed = 0;
    for u in users.iter().filter(|u| u.is_active) {
        if listed >= MAX_USERS {
            out.push(Reader {
                who: "…".into(),
                why: format!("only the first {MAX_USERS} users are listed"),
            });
            break;
        }
        let d = access.for_caller(Some(u)).decide(Right::Read, file);
        if !d.allowed {
            continue;
        }
        let why = match &d.reason {
            Reason::Superuser => "superuser: may read everything".to_owned(),
            Reason::FileOwner => "owns the file".to_owned(),
            Reason::FolderOwner => match file.folder_id {
                Some(f) => format!("owns the folder “{}”", Namer::folder(&names, f)),
                None => "owns the folder".to_owned(),
            },
            Reason::PermissionsDisabled => {
                "permissions are disabled in the configuration: everybody logged in may read"
                    .to_owned()
            }
            _ => d.explain_with(&names),
        };
        out.push(Reader {
            who: u.username.clone(),
            why,
        });
        listed += 1;
    }
    Ok(out)
}

//! "Who can read this?": every user who may read a file, with what grants it, and the
//! groups and everybody-rules that grant read on its folder.

use crate::db::DbConn;
use crate::db::models::{File, group, user};
use crate::permissions::{Grant, Principal, Reason, Right};
use crate::state::AppState;

use super::Result;

/// One line of the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// A user name, "group NAME" or "every logged-in user".
    pub who: String,
    /// Why, in words.
    pub why: String,
}

/// Most users listed one by one.
pub const MAX_USERS: usize = 500;

/// Who may read `file` now. Users are evaluated one by one with the same engine as the
/// downloads, so the list is exact; groups and everybody-rules are listed from the rules.
pub fn who_can_read(state: &AppState, conn: &mut DbConn, file: &File) -> Result<Vec<Reader>> {
    let loaded = state.access.snapshot(conn)?;
    let policy = state.access.policy();
    let mut out = Vec::new();
    if let Some(folder_id) = file.folder_id {
        let groups = group::list(conn)?;
        for applied in loaded.snapshot.rules_affecting(folder_id) {
            if applied.rule.read != Grant::Allow {
                continue;
            }
            let who = match applied.rule.principal {
                Principal::Everybody => "every logged-in user".to_owned(),
                Principal::Group(g) => match groups.iter().find(|x| x.id == g) {
                    Some(x) => format!("group {}", x.name),
                    None => continue,
                },
                Principal::User(_) => continue,
            };
            let place = if applied.inherited {
                "inherited"
            } else {
                "on this folder"
            };
            out.push(Reader {
                who,
                why: format!(
                    "rule #{} allows read ({place}); a deny for a member still wins",
                    applied.rule.id
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
        let d = loaded.file(policy, Some(u), file, Right::Read);
        if !d.allowed {
            continue;
        }
        let why = match &d.reason {
            Reason::Superuser => "superuser".to_owned(),
            Reason::FileOwner => "owns the file".to_owned(),
            Reason::FolderOwner => "owns the folder".to_owned(),
            Reason::PermissionsDisabled => {
                "permissions are disabled in the configuration".to_owned()
            }
            _ => d.to_string(),
        };
        out.push(Reader {
            who: u.username.clone(),
            why,
        });
        listed += 1;
    }
    Ok(out)
}

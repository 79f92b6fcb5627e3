//! Reading and editing file rows with permission checks.

use crate::access::Loaded;
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File, FileChanges};
use crate::permissions::Right;
use crate::state::AppState;

use super::{Error, Result, forbidden, hidden};

/// A file the user may read, or `NotFound` (403 with `debug`).
pub fn readable(
    state: &AppState,
    conn: &mut DbConn,
    user: Option<&User>,
    id: i64,
) -> Result<(File, std::sync::Arc<Loaded>)> {
    let f = file::find(conn, id)?.ok_or(Error::NotFound)?;
    let loaded = state.access.snapshot(conn)?;
    let decision = loaded.file(state.access.policy(), user, &f, Right::Read);
    if !decision.allowed {
        return Err(hidden(state, &decision));
    }
    Ok((f, loaded))
}

/// A file the user may read and edit.
pub fn editable(
    state: &AppState,
    conn: &mut DbConn,
    user: &User,
    id: i64,
) -> Result<(File, std::sync::Arc<Loaded>)> {
    let (f, loaded) = readable(state, conn, Some(user), id)?;
    let decision = loaded.file(state.access.policy(), Some(user), &f, Right::Edit);
    if !decision.allowed {
        return Err(forbidden(&decision));
    }
    Ok((f, loaded))
}

/// Requested metadata changes, already parsed.
#[derive(Clone, Debug, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` moves the file to the unsorted uploads.
    pub folder_id: Option<Option<i64>>,
    pub owner_id: Option<Option<i64>>,
}

/// Applies metadata changes: needs edit on the file; a move needs add-children on the
/// destination (moving to unsorted uploads: only the file's owner or a superuser); a new
/// owner needs a superuser.
pub fn update(
    state: &AppState,
    conn: &mut DbConn,
    user: &User,
    id: i64,
    edit: &Edit,
) -> Result<File> {
    let (f, loaded) = editable(state, conn, user, id)?;
    let mut changes = FileChanges {
        description: edit.description.clone(),
        ..FileChanges::default()
    };
    if let Some(name) = &edit.name {
        changes.name = Some(if name.trim().is_empty() {
            String::new()
        } else {
            super::check_name(name, "file")?
        });
    }
    if let Some(target) = edit.folder_id
        && target != f.folder_id
    {
        match target {
            Some(folder_id) => {
                if crate::db::models::folder::find(conn, folder_id)?.is_none() {
                    return Err(Error::Invalid(format!("folder {folder_id} does not exist")));
                }
                let d = loaded.folder(
                    state.access.policy(),
                    Some(user),
                    folder_id,
                    Right::AddChildren,
                );
                if !d.allowed {
                    return Err(forbidden(&d));
                }
            }
            None => {
                if !user.is_superuser && f.owner_id != Some(user.id) {
                    return Err(Error::Forbidden(
                        "only the file's owner or a superuser may move it to the unsorted uploads"
                            .into(),
                    ));
                }
            }
        }
        changes.folder_id = Some(target);
    }
    if let Some(owner) = edit.owner_id
        && owner != f.owner_id
    {
        if !user.is_superuser {
            return Err(Error::Forbidden(
                "only superusers may change a file's owner".into(),
            ));
        }
        if let Some(o) = owner
            && crate::db::models::user::find(conn, o)?.is_none()
        {
            return Err(Error::Invalid(format!("user {o} does not exist")));
        }
        changes.owner_id = Some(owner);
    }
    file::update(conn, id, &changes)?;
    file::find(conn, id)?.ok_or(Error::NotFound)
}

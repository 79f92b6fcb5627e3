//! How many bytes a user's files or a folder tree hold: current contents, kept versions and
//! the trash, each summed in SQL.

use diesel::prelude::*;

use crate::db::schema::{file_versions, files};
use crate::db::{DbConn, DbError};

use super::sum_bytes;

/// Bytes held, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Current contents of live files.
    pub files: i64,
    /// Kept earlier contents of live files.
    pub versions: i64,
    /// Trashed files with their versions.
    pub trash: i64,
}

impl Usage {
    /// Everything counted against a quota.
    pub fn total(&self) -> i64 {
        self.files + self.versions + self.trash
    }
}

/// What `user`'s files hold.
pub fn of_owner(conn: &mut DbConn, user: i64) -> Result<Usage, DbError> {
    let live: i64 = files::table
        .filter(files::owner_id.eq(user))
        .filter(files::trash_id.is_null())
        .select(sum_bytes("files.size"))
        .first(conn)?;
    let trashed: i64 = files::table
        .filter(files::owner_id.eq(user))
        .filter(files::trash_id.is_not_null())
        .select(sum_bytes("files.size"))
        .first(conn)?;
    let live_versions: i64 = file_versions::table
        .inner_join(files::table)
        .filter(files::owner_id.eq(user))
        .filter(files::trash_id.is_null())
        .select(sum_bytes("file_versions.size"))
        .first(conn)?;
    let trashed_versions: i64 = file_versions::table
        .inner_join(files::table)
        .filter(files::owner_id.eq(user))
        .filter(files::trash_id.is_not_null())
        .select(sum_bytes("file_versions.size"))
        .first(conn)?;
    Ok(Usage {
        files: live,
        versions: live_versions,
        trash: trashed + trashed_versions,
    })
}

/// What the files directly in `folder_ids` hold (live files with their versions; `trash`
/// is the caller's, from the trash entries that came from these folders).
pub fn of_folders(conn: &mut DbConn, folder_ids: &[i64]) -> Result<Usage, DbError> {
    let mut out = Usage::default();
    for chunk in folder_ids.chunks(5_000) {
        out.files += files::table
            .filter(files::folder_id.eq_any(chunk))
            .filter(files::trash_id.is_null())
            .select(sum_bytes("files.size"))
            .first::<i64>(conn)?;
        out.versions += file_versions::table
            .inner_join(files::table)
            .filter(files::folder_id.eq_any(chunk))
            .filter(files::trash_id.is_null())
            .select(sum_bytes("file_versions.size"))
            .first::<i64>(conn)?;
    }
    Ok(out)
}

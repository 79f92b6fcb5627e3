//! Versions: replacing a file's content keeps the previous bytes as a version, in the
//! file's storage (moved with it when it is toggled), `versions.keep` deep. A version is
//! downloaded with the file's read check (`deliver::version`) and restored with its edit
//! check: the current content becomes a version in turn, so nothing is lost by a restore.

use crate::db::DbConn;
use crate::db::models::version::{self, Version};
use crate::db::models::{File, User, journal, user};
use crate::domain::ids::FileId;
use crate::permissions::Right;
use crate::storage::StorageRole;

use super::{Error, Library, Result};

/// Inside the transaction that repoints `replaced` to new content: keeps its old content as
/// a version by `by`, then drops the versions beyond `keep` (their objects are scheduled
/// for deletion). With `keep == 0` the old content is scheduled at once.
pub(super) fn keep(conn: &mut DbConn, replaced: &File, by: i64, keep: usize) -> Result<()> {
    let role = StorageRole::main(replaced.is_public).as_str();
    if keep == 0 {
        journal::add_garbage(conn, role, &replaced.storage_key)?;
    } else {
        version::keep_current(conn, replaced, Some(by))?;
    }
    for old in version::for_file(conn, replaced.id)?.into_iter().skip(keep) {
        journal::add_garbage(conn, role, &old.storage_key)?;
        version::delete(conn, old.id)?;
    }
    Ok(())
}

/// A version as the file page lists it.
#[derive(Clone, Debug)]
pub struct Listed {
    pub version: Version,
    /// Who replaced these bytes ("—" when unknown).
    pub replaced_by: String,
}

/// The versions of a file `user` may read, newest first.
pub fn list(lib: &Library, conn: &mut DbConn, user: &User, id: FileId) -> Result<Vec<Listed>> {
    let f = super::files::readable(lib, conn, Some(user), id)?;
    listed(conn, f.id)
}

/// The versions of file `file_id` with who replaced them (the caller checked read).
pub(super) fn listed(conn: &mut DbConn, file_id: i64) -> Result<Vec<Listed>> {
    let versions = version::for_file(conn, file_id)?;
    let mut ids: Vec<i64> = versions.iter().filter_map(|v| v.replaced_by).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = user::usernames(conn, &ids)?;
    Ok(versions
        .into_iter()
        .map(|v| Listed {
            replaced_by: v
                .replaced_by
                .and_then(|id| names.iter().find(|(i, _)| *i == id))
                .map_or_else(|| "—".to_owned(), |(_, n)| n.clone()),
            version: v,
        })
        .collect())
}

/// Makes version `version_id` the file's content again (needs edit on the file). The
/// current content is kept as a version in its place; thumbnails are made again.
#[tracing::instrument(skip_all, fields(user_id = user.id, %id, version_id))]
pub fn restore(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FileId,
    version_id: i64,
) -> Result<File> {
    use diesel::prelude::*;
    let f = crate::db::write_transaction(conn, |conn| {
        use crate::db::schema::files;
        // Decided inside the transaction, on the state it commits on: a permission change
        // committed while it waited for the write lock is taken into account, never a
        // reason to refuse.
        let (f, _) = super::files::with_right(lib, conn, Some(user), id, Right::Edit)?;
        let v = version::find(conn, f.id, version_id)?.ok_or(Error::NotFound)?;
        if journal::move_in_progress(conn, f.id)? {
            return Err(Error::Conflict(
                "the file changed or is being moved; try again".into(),
            ));
        }
        let n = diesel::update(
            files::table
                .filter(files::id.eq(f.id))
                .filter(files::storage_key.eq(&f.storage_key))
                .filter(files::is_public.eq(f.is_public))
                .filter(crate::db::models::file::is_live()),
        )
        .set((
            files::storage_key.eq(&v.storage_key),
            files::original_filename.eq(&v.original_filename),
            files::size.eq(v.size),
            files::sha256.eq(&v.sha256),
            files::mime_type.eq(&v.mime_type),
            files::modified_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(Error::Conflict(
                "the file changed or is being moved; try again".into(),
            ));
        }
        version::delete(conn, v.id)?;
        version::keep_current(conn, &f, Some(user.id))?;
        Ok(f)
    })?;
    super::image_files::refresh(lib, conn, f.id)?;
    crate::db::models::file::find(conn, f.id)?.ok_or(Error::NotFound)
}

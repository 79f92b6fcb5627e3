//! Toggling "Permissions disabled": moving a file and all its thumbnails between the public
//! and the private storages, crash-safely.
//!
//! 1. A journal row lists every object's old and new key (and locks the file: one move per
//!    file at a time).
//! 2. Each object is put in the other storage: hard-linked when both storages share a
//!    filesystem, otherwise streamed, fsynced and hash-checked. The sources stay.
//! 3. One transaction repoints the file and thumbnail rows and marks the journal committed;
//!    it only succeeds if the row still names the old location.
//! 4. The sources are deleted; the journal row is removed.
//!
//! So the location a row names always holds the bytes, for concurrent downloads too. Any
//! error before the commit rolls the objects back; a crash at any point is finished or
//! rolled back by [`super::recover`] once the move's lease expired. When a make-private
//! call returns, the public storage no longer holds the file or its thumbnails.
//!
//! The journal row is leased to this instance: a [`LeaseKeeper`] renews it while the move
//! runs, and the commit only succeeds if the row is still ours (recovery that took over an
//! expired lease changed its owner), so a live move and a recovery never both decide.

use std::sync::mpsc;
use std::thread::JoinHandle;

use diesel::prelude::*;

use super::Library;
use crate::db::models::file::{self, File};
use crate::db::models::journal::{self, MoveEntry, MoveItem};
use crate::db::models::{User, thumbnail, version};
use crate::db::schema::files;
use crate::db::{DbConn, DbError, DbPool};
use crate::domain::ids::FileId;
use crate::permissions::Right;
use crate::storage::{StorageKey, StorageRole, Storages, Transfer};

use super::{Error, Result, forbidden};

/// Makes a file public or private, checking that `user` may edit it.
#[tracing::instrument(skip_all, fields(user_id = user.id, file_id))]
pub fn set_public_checked(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    file_id: FileId,
    public: bool,
) -> Result<File> {
    super::files::editable(lib, conn, user, file_id)?;
    set_public(lib, conn, file_id.get(), public)
}

/// Makes a file public or private (no permission check: callers check).
pub fn set_public(lib: &Library, conn: &mut DbConn, file_id: i64, public: bool) -> Result<File> {
    let f = file::find(conn, file_id)?.ok_or(Error::NotFound)?;
    if f.is_public == public {
        return Ok(f);
    }
    let old_key = StorageKey::parse(&f.storage_key)
        .map_err(|_| Error::Invalid(format!("file {} has an invalid storage key", f.id)))?;
    let new_key = lib.settings.path_generator.generate(&f.original_filename);
    let mut items = vec![MoveItem {
        thumbnail_id: None,
        version_id: None,
        from_key: old_key.to_string(),
        to_key: new_key.to_string(),
    }];
    for t in thumbnail::for_file(conn, f.id)? {
        let suffix = t
            .storage_key
            .strip_prefix(&format!("{}__", f.storage_key))
            .map(str::to_owned)
            .unwrap_or_else(|| t.spec.clone());
        let to = new_key
            .derived(&suffix)
            .map_err(|_| Error::Invalid(format!("thumbnail {} has an invalid key", t.id)))?;
        items.push(MoveItem {
            thumbnail_id: Some(t.id),
            version_id: None,
            from_key: t.storage_key,
            to_key: to.to_string(),
        });
    }
    for v in version::for_file(conn, f.id)? {
        items.push(MoveItem {
            thumbnail_id: None,
            version_id: Some(v.id),
            from_key: v.storage_key,
            to_key: lib
                .settings
                .path_generator
                .generate(&v.original_filename)
                .to_string(),
        });
    }
    let move_id = journal::begin_move(conn, f.id, public, &items).map_err(|e| {
        if e.is_unique_violation() {
            Error::Conflict("this file is already being moved; try again in a moment".into())
        } else {
            Error::Db(e)
        }
    })?;
    let _lease = LeaseKeeper::start(lib.pool.clone(), move_id, journal::instance_id());
    let mut entry = MoveEntry {
        id: move_id,
        file_id: f.id,
        to_public: public,
        committed: false,
        items,
        owner: journal::instance_id().to_owned(),
        lease_expires_at: crate::db::now() + journal::LEASE,
    };
    fail::fail_point!("relocate::after-journal");

    let mut missing_thumbnails = Vec::new();
    for item in &entry.items {
        fail::fail_point!("relocate::transfer-error", |_| {
            rollback(&lib.storages, conn, &entry)?;
            Err(Error::Storage(crate::storage::StorageError::Io(
                std::io::Error::other("injected transfer failure"),
            )))
        });
        match transfer(&lib.storages, item, public) {
            Ok(Transfer::Copied | Transfer::Linked) => {}
            // A thumbnail lost from disk is forgotten (it is regenerated on demand).
            Err(crate::storage::StorageError::NotFound) if item.thumbnail_id.is_some() => {
                missing_thumbnails.push(item.thumbnail_id);
            }
            Err(e) => {
                rollback(&lib.storages, conn, &entry)?;
                return Err(e.into());
            }
        }
        fail::fail_point!("relocate::after-transfer");
    }
    entry
        .items
        .retain(|i| !missing_thumbnails.contains(&i.thumbnail_id) || i.thumbnail_id.is_none());

    let committed = crate::db::write_transaction(conn, |conn| {
        // Still ours? Recovery that took over an expired lease changed the owner.
        if !journal::mark_committed(conn, move_id, &entry.owner)? {
            return Err(Abort::Lost);
        }
        let n = diesel::update(
            files::table
                .filter(files::id.eq(f.id))
                .filter(files::storage_key.eq(&f.storage_key))
                .filter(files::is_public.eq(f.is_public))
                .filter(file::is_live()),
        )
        .set((
            files::is_public.eq(public),
            files::storage_key.eq(new_key.as_str()),
            files::modified_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(Abort::Changed);
        }
        for item in &entry.items {
            if let Some(tid) = item.thumbnail_id {
                thumbnail::set_key(conn, tid, &item.to_key)?;
            }
            if let Some(vid) = item.version_id {
                version::set_key(conn, vid, &item.to_key)?;
            }
        }
        for tid in missing_thumbnails.iter().flatten() {
            diesel::delete(crate::db::schema::thumbnails::table.find(*tid)).execute(conn)?;
        }
        // A thumbnail recorded after the list was taken was not moved: its object stays in
        // the old storage, so the row goes and the object is scheduled for deletion.
        for t in thumbnail::for_file(conn, f.id)? {
            if !entry.items.iter().any(|i| i.thumbnail_id == Some(t.id)) {
                journal::add_garbage(
                    conn,
                    StorageRole::thumbnails(f.is_public).as_str(),
                    &t.storage_key,
                )?;
                thumbnail::delete(conn, t.id)?;
            }
        }
        Ok(())
    });
    match committed {
        Ok(()) => {}
        Err(Abort::Changed) => {
            rollback(&lib.storages, conn, &entry)?;
            return Err(Error::Conflict(
                "the file changed while it was being moved; try again".into(),
            ));
        }
        Err(Abort::Lost) => {
            // Recovery owns the row now and rolls it back; the copies made meanwhile go too.
            undo_objects(&lib.storages, &entry)?;
            return Err(Error::Conflict(
                "the move took too long and was rolled back; try again".into(),
            ));
        }
        Err(Abort::Db(e)) => {
            rollback(&lib.storages, conn, &entry)?;
            return Err(e.into());
        }
    }
    fail::fail_point!("relocate::after-commit");
    complete(&lib.storages, conn, &entry)?;
    super::delete::collect_garbage(&lib.storages, conn)?;
    file::find(conn, file_id)?.ok_or(Error::NotFound)
}

fn roles(item: &MoveItem, to_public: bool) -> (StorageRole, StorageRole) {
    if item.thumbnail_id.is_some() {
        (
            StorageRole::thumbnails(!to_public),
            StorageRole::thumbnails(to_public),
        )
    } else {
        (StorageRole::main(!to_public), StorageRole::main(to_public))
    }
}

fn keys(
    item: &MoveItem,
) -> std::result::Result<(StorageKey, StorageKey), crate::storage::StorageError> {
    Ok((
        StorageKey::parse(&item.from_key)?,
        StorageKey::parse(&item.to_key)?,
    ))
}

fn transfer(
    storages: &Storages,
    item: &MoveItem,
    to_public: bool,
) -> std::result::Result<Transfer, crate::storage::StorageError> {
    let (from_role, to_role) = roles(item, to_public);
    let (from, to) = keys(item)?;
    storages
        .get(from_role)
        .transfer_to(&from, storages.get(to_role), &to)
}

/// Finishes a committed move (right after the commit, or at start-up after a crash): every
/// source still present is deleted, once its copy is in place under the key the rows name.
pub fn complete(storages: &Storages, conn: &mut DbConn, entry: &MoveEntry) -> Result<()> {
    for item in &entry.items {
        let (from_role, to_role) = roles(item, entry.to_public);
        let (from, to) = keys(item)?;
        let source = storages.get(from_role);
        let target = storages.get(to_role);
        if source.exists(&from)? {
            if !target.exists(&to)? {
                source.transfer_to(&from, target, &to)?;
            }
            source.delete(&from)?;
        }
    }
    fail::fail_point!("relocate::after-cleanup");
    journal::finish_move(conn, entry.id, &entry.owner)?;
    Ok(())
}

/// Undoes an uncommitted move: each object ends up under its old key in its old storage,
/// and nothing is left under the new keys. The journal row goes if `entry.owner` holds it.
pub fn rollback(storages: &Storages, conn: &mut DbConn, entry: &MoveEntry) -> Result<()> {
    undo_objects(storages, entry)?;
    journal::finish_move(conn, entry.id, &entry.owner)?;
    Ok(())
}

/// The object half of [`rollback`].
fn undo_objects(storages: &Storages, entry: &MoveEntry) -> Result<()> {
    for item in entry.items.iter().rev() {
        let (from_role, to_role) = roles(item, entry.to_public);
        let (from, to) = keys(item)?;
        let source = storages.get(from_role);
        let target = storages.get(to_role);
        match (source.exists(&from)?, target.exists(&to)?) {
            (true, true) => target.delete(&to)?,
            (false, true) => {
                target.transfer_to(&to, source, &from)?;
                target.delete(&to)?;
            }
            (true, false) => {}
            (false, false) => {
                tracing::error!(file_id = entry.file_id, key = %from, "object missing from both storages during rollback");
            }
        }
    }
    Ok(())
}

/// Why the commit transaction was abandoned.
enum Abort {
    /// The file row no longer names the old location.
    Changed,
    /// The journal row is no longer ours: recovery took over an expired lease.
    Lost,
    Db(DbError),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Db(e.into())
    }
}

impl From<DbError> for Abort {
    fn from(e: DbError) -> Self {
        Abort::Db(e)
    }
}

/// Renews a move's lease every [`journal::RENEW_EVERY`] until dropped, on its own
/// connection, so a long transfer keeps the move ours.
pub struct LeaseKeeper {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LeaseKeeper {
    /// Starts renewing the lease `owner` holds on move `id`.
    pub fn start(pool: DbPool, id: i64, owner: &str) -> Self {
        Self::start_every(pool, id, owner, journal::RENEW_EVERY)
    }

    /// [`start`](Self::start) with another period. It stops by itself once the lease is lost.
    pub fn start_every(pool: DbPool, id: i64, owner: &str, every: std::time::Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let owner = owner.to_owned();
        let thread = std::thread::Builder::new()
            .name("coffer-lease".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let renewed = pool
                        .get()
                        .map_err(|e| e.to_string())
                        .and_then(|mut c| {
                            journal::renew_move(&mut c, id, &owner).map_err(|e| e.to_string())
                        });
                    match renewed {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(move_id = id, error = %e, "could not renew a move's lease")
                        }
                    }
                }
            })
            .ok();
        Self {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            drop(t.join());
        }
    }
}

/// What a bulk toggle did.
#[derive(Clone, Debug, Default)]
pub struct BulkReport {
    /// Files now in the requested storage (moved, or already there).
    pub done: Vec<i64>,
    /// Files left where they were, with the reason.
    pub refused: Vec<(i64, String)>,
}

/// Makes files, and every file in the given folders' subtrees, public or private. Like
/// django-filer's bulk action, the whole selection is checked first (edit on every file and
/// on every folder, recursively) and nothing moves if any check fails; then each file moves
/// on its own, and a file that cannot move is reported without stopping the others.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn set_public_many(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    file_ids: &[i64],
    folder_ids: &[i64],
    public: bool,
) -> Result<BulkReport> {
    let access = lib.access(conn, Some(user))?;
    let mut folders = Vec::new();
    for id in folder_ids {
        folders.push(*id);
        folders.extend(access.tree().descendants(*id));
    }
    for id in &folders {
        let d = access.decide(Right::Edit, super::access::Target::Folder(*id));
        if !d.allowed {
            return Err(forbidden(&d));
        }
    }
    let mut files = file::find_many(conn, file_ids)?;
    if files.len() != file_ids.len() {
        return Err(Error::NotFound);
    }
    files.extend(file::in_folders(conn, &folders)?);
    files.sort_by_key(|f| f.id);
    files.dedup_by_key(|f| f.id);
    for f in &files {
        let d = access.decide(Right::Edit, f);
        if !d.allowed {
            return Err(Error::Forbidden(format!(
                "permission denied on file {} ({d})",
                f.id
            )));
        }
    }
    let mut report = BulkReport::default();
    for f in files {
        match set_public(lib, conn, f.id, public) {
            Ok(_) => report.done.push(f.id),
            Err(e) => report.refused.push((f.id, e.to_string())),
        }
    }
    Ok(report)
}

//! Repair of interrupted work whose owner is gone: storage moves and scheduled deletions
//! whose lease expired, temporary uploads no live process holds, and multipart uploads to an
//! object store begun more than a day ago (`check::MULTIPART_GRACE`). Run by `coffer serve`
//! at start and then periodically, and by `coffer check --repair`; never by other commands.
//!
//! Each journal row is claimed first (one conditional UPDATE: the lease must have expired),
//! so a move a live instance is working on is never touched, and of two recoverers only one
//! acts on a row.

use crate::db::DbConn;
use crate::db::models::journal;
use crate::storage::{StorageRole, Storages};

use super::Result;

/// What recovery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub moves_completed: usize,
    pub moves_rolled_back: usize,
    pub objects_deleted: usize,
    pub temp_files_removed: usize,
    pub multipart_aborted: usize,
}

/// Finishes or rolls back every move whose lease expired, deletes the scheduled objects
/// whose lease expired, removes abandoned temporary uploads and aborts abandoned multipart
/// uploads.
#[tracing::instrument(skip_all)]
pub fn recover(storages: &Storages, conn: &mut DbConn) -> Result<Recovered> {
    let mut out = Recovered::default();
    let claimer = journal::recovery_owner();
    for mut entry in journal::moves(conn)? {
        if !entry.expired() || !journal::claim_move(conn, entry.id, &claimer)? {
            continue;
        }
        entry.owner.clone_from(&claimer);
        if entry.committed {
            super::relocate::complete(storages, conn, &entry)?;
            out.moves_completed += 1;
        } else {
            super::relocate::rollback(storages, conn, &entry)?;
            out.moves_rolled_back += 1;
        }
        tracing::info!(
            file_id = entry.file_id,
            committed = entry.committed,
            "repaired an interrupted storage move"
        );
    }
    journal::claim_expired_garbage(conn)?;
    out.objects_deleted = super::delete::collect_garbage(storages, conn)?;
    for role in StorageRole::ALL {
        out.temp_files_removed += storages.get(role).temp_files().clean()?;
    }
    out.multipart_aborted =
        super::check::abort_abandoned_multipart(storages, super::check::MULTIPART_GRACE)?;
    Ok(out)
}

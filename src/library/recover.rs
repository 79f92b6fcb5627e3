//! Start-up repair: finishes committed storage moves, rolls back uncommitted ones, removes
//! scheduled garbage and stale temporary uploads.

use std::time::Duration;

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
}

/// Repairs whatever an interrupted run left. `temp_age` is how old a temporary upload must
/// be to count as abandoned (uploads of a live instance sharing the storage are younger).
pub fn recover(storages: &Storages, conn: &mut DbConn, temp_age: Duration) -> Result<Recovered> {
    let mut out = Recovered::default();
    for entry in journal::moves(conn)? {
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
    out.objects_deleted = super::delete::collect_garbage(storages, conn)?;
    for role in StorageRole::ALL {
        out.temp_files_removed += storages.get(role).local().clean_temp(temp_age)?;
    }
    Ok(out)
}

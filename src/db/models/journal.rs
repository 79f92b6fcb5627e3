//! Crash-safety journals: storage moves in progress and bytes waiting to be deleted.
//!
//! A move is written here before any byte moves and marked `committed` in the same
//! transaction that repoints the file row; recovery at start-up finishes committed moves and
//! rolls back pending ones. Garbage rows are written in the transaction that deletes (or
//! repoints) a row, and the bytes are removed after the commit, so a crash in between leaves
//! a to-do, never an orphan.
//!
//! Every row carries a lease: the instance working on it (`owner`, random per process) and
//! `lease_expires_at`. The owner renews the lease while it works; recovery takes over only
//! rows whose lease expired, each with one conditional UPDATE that changes the owner, so two
//! recoverers never both act and an owner that lost its row finds out at its next write.

use std::sync::LazyLock;
use std::time::Duration;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{storage_garbage, storage_moves};
use crate::db::{DbConn, DbError, now};

/// How long a lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often a live owner renews its leases.
pub const RENEW_EVERY: Duration = Duration::from_secs(20);

static INSTANCE: LazyLock<String> = LazyLock::new(|| format!("{}", uuid::Uuid::new_v4().simple()));

/// This process's instance id: the owner it writes into the rows it works on.
pub fn instance_id() -> &'static str {
    &INSTANCE
}

/// The owner recovery writes into a row it took over: never equal to any mover's owner,
/// so a mover that lost its lease cannot commit, even in the same process.
pub fn recovery_owner() -> String {
    format!("{}/recovery", instance_id())
}

/// When a lease taken or renewed now expires.
fn lease_end() -> time::PrimitiveDateTime {
    now() + LEASE
}

/// One object to move: the file itself, one of its kept versions or one of its thumbnails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveItem {
    /// The thumbnail row id for a thumbnail.
    pub thumbnail_id: Option<i64>,
    /// The version row id for a kept version (it moves between the main storages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<i64>,
    pub from_key: String,
    pub to_key: String,
}

/// A journaled move.
#[derive(Clone, Debug)]
pub struct MoveEntry {
    pub id: i64,
    pub file_id: i64,
    pub to_public: bool,
    pub committed: bool,
    pub items: Vec<MoveItem>,
    /// The instance (or recovery) working on it.
    pub owner: String,
    pub lease_expires_at: time::PrimitiveDateTime,
}

impl MoveEntry {
    /// Whether its owner stopped renewing the lease (is gone).
    pub fn expired(&self) -> bool {
        self.lease_expires_at < now()
    }
}

#[derive(Queryable)]
struct MoveRow {
    id: i64,
    file_id: i64,
    to_public: bool,
    state: String,
    items: String,
    #[expect(dead_code, reason = "kept for operators reading the table")]
    created_at: time::PrimitiveDateTime,
    owner: String,
    lease_expires_at: time::PrimitiveDateTime,
}

fn decode(row: MoveRow) -> Result<MoveEntry, DbError> {
    let items = serde_json::from_str(&row.items)
        .map_err(|e| DbError::Migration(format!("corrupt storage_moves row {}: {e}", row.id)))?;
    Ok(MoveEntry {
        id: row.id,
        file_id: row.file_id,
        to_public: row.to_public,
        committed: row.state == "committed",
        items,
        owner: row.owner,
        lease_expires_at: row.lease_expires_at,
    })
}

/// Writes a pending move owned by this instance, with a fresh lease; returns its id.
pub fn begin_move(
    conn: &mut DbConn,
    file_id: i64,
    to_public: bool,
    items: &[MoveItem],
) -> Result<i64, DbError> {
    let json = serde_json::to_string(items).map_err(|e| DbError::Blocking(e.to_string()))?;
    Ok(diesel::insert_into(storage_moves::table)
        .values((
            storage_moves::file_id.eq(file_id),
            storage_moves::to_public.eq(to_public),
            storage_moves::state.eq("pending"),
            storage_moves::items.eq(json),
            storage_moves::created_at.eq(now()),
            storage_moves::owner.eq(instance_id()),
            storage_moves::lease_expires_at.eq(lease_end()),
        ))
        .returning(storage_moves::id)
        .get_result(conn)?)
}

/// Lets every lease `owner` holds expire now (an instance that stops): another instance
/// takes its moves and deletions over at its next repair instead of a lease length later.
/// Returns how many rows it held.
pub fn release_leases(conn: &mut DbConn, owner: &str) -> Result<usize, DbError> {
    let past = now() - Duration::from_secs(1);
    let moves = diesel::update(storage_moves::table.filter(storage_moves::owner.eq(owner)))
        .set(storage_moves::lease_expires_at.eq(past))
        .execute(conn)?;
    let garbage = diesel::update(storage_garbage::table.filter(storage_garbage::owner.eq(owner)))
        .set(storage_garbage::lease_expires_at.eq(past))
        .execute(conn)?;
    Ok(moves + garbage)
}

/// Extends the lease of a move `owner` still holds; false if it lost it.
pub fn renew_move(conn: &mut DbConn, id: i64, owner: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        storage_moves::table
            .find(id)
            .filter(storage_moves::owner.eq(owner)),
    )
    .set(storage_moves::lease_expires_at.eq(lease_end()))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes over a move whose lease expired, for `claimer`. Atomic: of several recoverers
/// claiming the same row, one gets true.
pub fn claim_move(conn: &mut DbConn, id: i64, claimer: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        storage_moves::table
            .find(id)
            .filter(storage_moves::lease_expires_at.lt(now())),
    )
    .set((
        storage_moves::owner.eq(claimer),
        storage_moves::lease_expires_at.eq(lease_end()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks a move committed if `owner` still holds it (call first in the transaction that
/// repoints the rows, and abandon the transaction on false).
pub fn mark_committed(conn: &mut DbConn, id: i64, owner: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        storage_moves::table
            .find(id)
            .filter(storage_moves::owner.eq(owner)),
    )
    .set((
        storage_moves::state.eq("committed"),
        storage_moves::lease_expires_at.eq(lease_end()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Forgets a finished (or rolled back) move, if `owner` still holds it.
pub fn finish_move(conn: &mut DbConn, id: i64, owner: &str) -> Result<bool, DbError> {
    let n = diesel::delete(
        storage_moves::table
            .find(id)
            .filter(storage_moves::owner.eq(owner)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Every journaled move, oldest first.
pub fn moves(conn: &mut DbConn) -> Result<Vec<MoveEntry>, DbError> {
    storage_moves::table
        .order(storage_moves::id.asc())
        .load::<MoveRow>(conn)?
        .into_iter()
        .map(decode)
        .collect()
}

/// Whether a move of this file is in progress.
pub fn move_in_progress(conn: &mut DbConn, file_id: i64) -> Result<bool, DbError> {
    let n: i64 = storage_moves::table
        .filter(storage_moves::file_id.eq(file_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Schedules the deletion of an object (storage name as in `StorageRole::as_str`), owned by
/// this instance, which deletes it right after the commit.
pub fn add_garbage(conn: &mut DbConn, storage: &str, key: &str) -> Result<(), DbError> {
    diesel::insert_into(storage_garbage::table)
        .values((
            storage_garbage::storage.eq(storage),
            storage_garbage::storage_key.eq(key),
            storage_garbage::created_at.eq(now()),
            storage_garbage::owner.eq(instance_id()),
            storage_garbage::lease_expires_at.eq(lease_end()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes over, for this instance, the scheduled deletions whose lease expired (their
/// owner is gone); returns how many. One UPDATE: a row goes to one claimer only.
pub fn claim_expired_garbage(conn: &mut DbConn) -> Result<usize, DbError> {
    Ok(
        diesel::update(storage_garbage::table.filter(storage_garbage::lease_expires_at.lt(now())))
            .set((
                storage_garbage::owner.eq(instance_id()),
                storage_garbage::lease_expires_at.eq(lease_end()),
            ))
            .execute(conn)?,
    )
}

/// How many scheduled deletions wait with an expired lease.
pub fn expired_garbage(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(storage_garbage::table
        .filter(storage_garbage::lease_expires_at.lt(now()))
        .count()
        .get_result(conn)?)
}

/// This instance's scheduled deletions as (id, storage, key).
pub fn garbage(conn: &mut DbConn) -> Result<Vec<(i64, String, String)>, DbError> {
    Ok(storage_garbage::table
        .filter(storage_garbage::owner.eq(instance_id()))
        .order(storage_garbage::id.asc())
        .select((
            storage_garbage::id,
            storage_garbage::storage,
            storage_garbage::storage_key,
        ))
        .load(conn)?)
}

/// Removes garbage rows once their objects are gone.
pub fn clear_garbage(conn: &mut DbConn, ids: &[i64]) -> Result<(), DbError> {
    for chunk in ids.chunks(500) {
        diesel::delete(storage_garbage::table.filter(storage_garbage::id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(())
}

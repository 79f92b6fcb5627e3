//! Crash-safety journals: storage moves in progress and bytes waiting to be deleted.
//!
//! A move is written here before any byte moves and marked `committed` in the same
//! transaction that repoints the file row; recovery at start-up finishes committed moves and
//! rolls back pending ones. Garbage rows are written in the transaction that deletes (or
//! repoints) a row, and the bytes are removed after the commit, so a crash in between leaves
//! a to-do, never an orphan.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{storage_garbage, storage_moves};
use crate::db::{DbConn, DbError, now};

/// One object to move: the file itself or one of its thumbnails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveItem {
    /// `None` for the main file, the thumbnail row id otherwise.
    pub thumbnail_id: Option<i64>,
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
    })
}

/// Writes a pending move; returns its id.
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
        ))
        .returning(storage_moves::id)
        .get_result(conn)?)
}

/// Marks a move committed (call in the transaction that repoints the rows).
pub fn mark_committed(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    diesel::update(storage_moves::table.find(id))
        .set(storage_moves::state.eq("committed"))
        .execute(conn)?;
    Ok(())
}

/// Forgets a finished (or rolled back) move.
pub fn finish_move(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    diesel::delete(storage_moves::table.find(id)).execute(conn)?;
    Ok(())
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

/// Schedules the deletion of an object (storage name as in `StorageRole::as_str`).
pub fn add_garbage(conn: &mut DbConn, storage: &str, key: &str) -> Result<(), DbError> {
    diesel::insert_into(storage_garbage::table)
        .values((
            storage_garbage::storage.eq(storage),
            storage_garbage::storage_key.eq(key),
            storage_garbage::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Scheduled deletions as (id, storage, key).
pub fn garbage(conn: &mut DbConn) -> Result<Vec<(i64, String, String)>, DbError> {
    Ok(storage_garbage::table
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

//! Permission decisions against the database's current state. The rules, memberships and
//! folder tree are held as an in-memory [`Snapshot`] tagged with the database's permission
//! generation; every request reads that counter (one indexed row) and reloads the snapshot
//! when another transaction — from this instance or any other sharing the database — has
//! changed it. So decisions never lag behind a commit, and no query runs per ancestor.

use std::sync::{Arc, Mutex, RwLock};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::changes::{Epoch, Memo};
use crate::db::models::{User, file::File, folder, generation, group, permission};
use crate::db::{DbConn, DbError};
use crate::permissions::{Actor, Decision, FileRef, FolderNode, Policy, Right, Snapshot};

/// A snapshot and the generation it was read at.
#[derive(Debug)]
pub struct Loaded {
    pub generation: i64,
    pub snapshot: Snapshot,
}

/// Holds the current snapshot and the policy (`enable_permissions`).
#[derive(Debug)]
pub struct AccessControl {
    policy: Policy,
    current: RwLock<Option<Arc<Loaded>>>,
    reload: Mutex<()>,
    /// The snapshot last found current, by the database epoch it was found current in.
    validated: Memo<(), Arc<Loaded>>,
}

impl AccessControl {
    /// Nothing loaded yet; the first request loads.
    pub fn new(enable_permissions: bool) -> Self {
        Self {
            policy: Policy { enable_permissions },
            current: RwLock::new(None),
            reload: Mutex::new(()),
            validated: Memo::new(1),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    fn cached(&self, generation: i64) -> Option<Arc<Loaded>> {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|l| l.generation == generation)
            .cloned()
    }

    /// The snapshot matching the database's current generation (reloading if needed).
    pub fn snapshot(&self, conn: &mut DbConn) -> Result<Arc<Loaded>, DbError> {
        let generation = generation::current(conn)?;
        self.snapshot_of(conn, generation)
    }

    /// [`snapshot`](Self::snapshot) without reading the generation when the database has
    /// not changed since the snapshot was last found current (`at`: the epoch taken when
    /// the request began; see `db::changes`).
    pub fn snapshot_at(
        &self,
        conn: &mut DbConn,
        at: Option<Epoch>,
    ) -> Result<Arc<Loaded>, DbError> {
        if let Some(loaded) = self.validated.get(at, &()) {
            return Ok(loaded);
        }
        let loaded = self.snapshot(conn)?;
        self.validated.put(at, (), Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Records that `loaded` was found current in epoch `at` (its generation was read then).
    pub fn found_current(&self, at: Option<Epoch>, loaded: &Arc<Loaded>) {
        self.validated.put(at, (), Arc::clone(loaded));
    }

    /// The snapshot of `generation`, just read from the database with whatever else the
    /// caller needed in the same query (reloading if the held one is older).
    pub fn snapshot_of(&self, conn: &mut DbConn, generation: i64) -> Result<Arc<Loaded>, DbError> {
        if let Some(loaded) = self.cached(generation) {
            return Ok(loaded);
        }
        // One loader at a time; the others wait and then find the fresh snapshot.
        let _one = self.reload.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(loaded) = self.cached(generation) {
            return Ok(loaded);
        }
        let loaded = Arc::new(load(conn)?);
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        let newer = guard
            .as_ref()
            .is_none_or(|old| old.generation <= loaded.generation);
        if newer {
            *guard = Some(Arc::clone(&loaded));
        }
        Ok(loaded)
    }
}

/// Reads the generation, folders, rules and memberships in one consistent snapshot of the
/// database: in a read transaction of its own (REPEATABLE READ on PostgreSQL), or, called
/// inside the caller's transaction (a write that decides under its own lock), there. On
/// SQLite that transaction sees one state. On PostgreSQL each of its statements sees the
/// latest commit; every change to these inputs bumps the generation in its own transaction,
/// so the parts are of one state when the generation read after them is the one read first.
pub fn load(conn: &mut DbConn) -> Result<Loaded, DbError> {
    if !crate::db::in_transaction(conn) {
        return conn.transaction(|conn| {
            if let DbConn::Postgres(pg) = conn {
                pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")?;
            }
            read_parts(conn)
        });
    }
    for _ in 0..LOAD_TRIES {
        let loaded = read_parts(conn)?;
        if matches!(conn, DbConn::Sqlite(_)) || generation::current(conn)? == loaded.generation {
            return Ok(loaded);
        }
    }
    Err(DbError::Blocking(
        "the permissions kept changing while they were read".into(),
    ))
}

/// Reads of the permission inputs inside a transaction before giving up (each retry means
/// another change committed meanwhile).
const LOAD_TRIES: usize = 16;

fn read_parts(conn: &mut DbConn) -> Result<Loaded, DbError> {
    let generation = generation::current(conn)?;
    let folders = folder::all_nodes(conn)?
        .into_iter()
        .map(|(id, parent_id, owner_id)| FolderNode {
            id,
            parent_id,
            owner_id,
        })
        .collect();
    let rules = permission::list(conn)?
        .iter()
        .filter_map(|row| row.to_rule())
        .collect();
    let memberships = group::all_memberships(conn)?;
    Ok(Loaded {
        generation,
        snapshot: Snapshot::new(folders, rules, memberships),
    })
}

/// The evaluator's view of a user (None = anonymous).
pub fn actor(user: Option<&User>) -> Option<Actor> {
    user.map(|u| Actor {
        user_id: u.id,
        is_active: u.is_active,
        is_superuser: u.is_superuser,
    })
}

/// What the evaluator needs of a file.
pub fn file_ref(file: &File) -> FileRef {
    FileRef {
        owner_id: file.owner_id,
        folder_id: file.folder_id,
    }
}

impl Loaded {
    /// A decision on a file.
    pub fn file(&self, policy: Policy, user: Option<&User>, file: &File, right: Right) -> Decision {
        self.snapshot
            .file_decision(policy, actor(user).as_ref(), file_ref(file), right)
    }

    /// A decision on a folder.
    pub fn folder(
        &self,
        policy: Policy,
        user: Option<&User>,
        folder_id: i64,
        right: Right,
    ) -> Decision {
        self.snapshot
            .folder_decision(policy, actor(user).as_ref(), folder_id, right)
    }
}

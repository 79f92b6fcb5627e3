//! Knowing, without asking the database, that it has not changed: what lets the checked
//! download answer from memory rows it read before (the caller's session or token and
//! user, the file's row, the permission snapshot's generation) instead of running queries
//! that each take SQLite's file locks.
//!
//! On SQLite every committed change reaches the disk through a `write` of the database or
//! its write-ahead log, by whichever process makes it (this server, another `coffer serve`
//! on the same file, a `coffer` command). [`Changes`] watches the database's directory with
//! inotify: the kernel queues the event before the writing call returns, so a change
//! committed before a request began is always seen by that request's [`Changes::now`] — one
//! non-blocking `read` that finds nothing when nothing changed. Every change moves the
//! [`Epoch`] on, and a [`Memo`] answers only for the epoch its entries were read in: a
//! revoked token, a deactivated user, a moved file or a new rule is never answered from
//! memory after it committed.
//!
//! On PostgreSQL changes cannot be seen this way (other instances write through the
//! network), so there is no epoch and every lookup asks the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use rustix::fs::inotify;

use super::Backend;

/// A moment between two database changes. Rows read at an epoch stay true until the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Epoch(u64);

/// Watches a SQLite database for changes (see the module's comment).
#[derive(Debug)]
pub struct Changes {
    watch: Option<Watch>,
}

#[derive(Debug)]
struct Watch {
    fd: OwnedFd,
    /// The file name of the database; its `-wal`, `-shm` and `-journal` files share it as
    /// a prefix.
    name: Vec<u8>,
    /// The file name of the audit's database (`db::audit_file`), whose files are not the
    /// database's even where they share its name as a prefix: the audit's writes change
    /// nothing a download is answered from.
    audit: Vec<u8>,
    epoch: AtomicU64,
    /// Held while the queue is read and the epoch moved on, so a request that finds the
    /// queue empty never reads the epoch while another one has taken an event off the
    /// queue and not yet counted it.
    draining: Mutex<()>,
    /// The watch ended (the directory was removed or renamed): nothing is answered from
    /// memory any more.
    lost: AtomicBool,
}

impl Changes {
    /// No watching: every lookup asks the database.
    pub fn unwatched() -> Self {
        Self { watch: None }
    }

    /// Watches the database of `backend` when it is a SQLite file and inotify is available;
    /// otherwise (PostgreSQL, an in-memory database, no inotify) [`Changes::unwatched`].
    pub fn watch(backend: &Backend) -> Self {
        let Backend::Sqlite(path) = backend else {
            return Self::unwatched();
        };
        match Watch::new(Path::new(path)) {
            Ok(watch) => Self { watch: Some(watch) },
            Err(e) => {
                tracing::info!(error = %e, database = %path,
                    "not watching the database for changes: every download asks it");
                Self::unwatched()
            }
        }
    }

    /// The current epoch, after taking in every change committed so far; `None` when
    /// changes cannot be seen (then nothing may be answered from memory).
    pub fn now(&self) -> Option<Epoch> {
        let watch = self.watch.as_ref()?;
        let _draining = watch.draining.lock().unwrap_or_else(|p| p.into_inner());
        if watch.lost.load(Ordering::SeqCst) {
            return None;
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(&watch.fd, &mut buf);
        let mut changed = false;
        loop {
            match events.next() {
                Ok(event) => {
                    let flags = event.events();
                    if flags.intersects(
                        inotify::ReadFlags::IGNORED
                            | inotify::ReadFlags::DELETE_SELF
                            | inotify::ReadFlags::MOVE_SELF
                            | inotify::ReadFlags::UNMOUNT,
                    ) {
                        watch.lost.store(true, Ordering::SeqCst);
                        tracing::warn!(
                            "the database's directory went away: no longer answering downloads from memory"
                        );
                        return None;
                    }
                    // A lost event (queue overflow) counts as a change, as does any event
                    // on the database's own files.
                    let ours = event.file_name().is_none_or(|n| {
                        let n = n.to_bytes();
                        n.starts_with(&watch.name) && !n.starts_with(&watch.audit)
                    });
                    changed |= ours || flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW);
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    watch.lost.store(true, Ordering::SeqCst);
                    tracing::warn!(error = %e, "reading database change events failed: no longer answering downloads from memory");
                    return None;
                }
            }
        }
        let epoch = if changed {
            watch.epoch.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            watch.epoch.load(Ordering::SeqCst)
        };
        Some(Epoch(epoch))
    }
}

impl Watch {
    fn new(database: &Path) -> rustix::io::Result<Self> {
        let name = database
            .file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .filter(|n| !n.is_empty() && n.as_slice() != b":memory:")
            .ok_or(rustix::io::Errno::INVAL)?;
        let audit = super::audit_file::path_for(&database.to_string_lossy())
            .and_then(|p| p.file_name().map(|n| n.as_encoded_bytes().to_vec()))
            .ok_or(rustix::io::Errno::INVAL)?;
        let dir = match database.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
        inotify::add_watch(
            &fd,
            dir,
            inotify::WatchFlags::MODIFY
                | inotify::WatchFlags::ATTRIB
                | inotify::WatchFlags::CREATE
                | inotify::WatchFlags::DELETE
                | inotify::WatchFlags::MOVED_FROM
                | inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::DELETE_SELF
                | inotify::WatchFlags::MOVE_SELF
                | inotify::WatchFlags::ONLYDIR,
        )?;
        Ok(Self {
            fd,
            name,
            audit,
            epoch: AtomicU64::new(0),
            draining: Mutex::new(()),
            lost: AtomicBool::new(false),
        })
    }
}

/// Rows read at one epoch, answered again while the epoch lasts. Bounded: when full, a new
/// row is simply not kept.
#[derive(Debug)]
pub struct Memo<K, V> {
    inner: RwLock<(Option<Epoch>, HashMap<K, V>)>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo keeping at most `capacity` rows.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new((None, HashMap::new())),
            capacity,
        }
    }

    /// The row kept for `key`, if it was read at epoch `at`.
    pub fn get<Q>(&self, at: Option<Epoch>, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = at?;
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if guard.0 != Some(at) {
            return None;
        }
        guard.1.get(key).cloned()
    }

    /// Keeps `value`, read from the database at epoch `at` (taken before the read began).
    /// Rows of an earlier epoch are dropped; a row of an epoch already past is not kept.
    pub fn put(&self, at: Option<Epoch>, key: K, value: V) {
        let Some(at) = at else { return };
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        match guard.0 {
            Some(current) if current > at => return,
            Some(current) if current == at => {}
            _ => {
                guard.0 = Some(at);
                guard.1.clear();
            }
        }
        if guard.1.len() < self.capacity || guard.1.contains_key(&key) {
            guard.1.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use super::*;

    fn sqlite_in(dir: &Path) -> Backend {
        Backend::Sqlite(dir.join("coffer.db").to_string_lossy().into_owned())
    }

    #[test]
    fn a_write_to_the_database_or_its_log_moves_the_epoch_on() {
        let dir = tempfile::tempdir().unwrap();
        let changes = Changes::watch(&sqlite_in(dir.path()));
        let first = changes.now().unwrap();
        assert_eq!(changes.now(), Some(first), "nothing happened");
        std::fs::write(dir.path().join("coffer.db-wal"), b"frame").unwrap();
        let second = changes.now().unwrap();
        assert!(second > first);
        assert_eq!(changes.now(), Some(second));
        std::fs::write(dir.path().join("coffer.db"), b"page").unwrap();
        assert!(changes.now().unwrap() > second);
    }

    #[test]
    fn other_files_beside_the_database_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let changes = Changes::watch(&sqlite_in(dir.path()));
        let first = changes.now().unwrap();
        std::fs::write(dir.path().join("upload.tmp"), b"bytes").unwrap();
        std::fs::create_dir(dir.path().join("private")).unwrap();
        std::fs::write(dir.path().join("private").join("f.bin"), b"x").unwrap();
        assert_eq!(changes.now(), Some(first));
    }

    #[test]
    fn the_audits_files_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let changes = Changes::watch(&sqlite_in(dir.path()));
        let first = changes.now().unwrap();
        for name in [
            "coffer-audit.db",
            "coffer-audit.db-wal",
            "coffer-audit.db-shm",
        ] {
            std::fs::write(dir.path().join(name), b"rows").unwrap();
        }
        assert_eq!(changes.now(), Some(first));

        // A database whose name is a prefix of its audit's: the audit still does not count,
        // the database's own log does.
        let bare = Changes::watch(&Backend::Sqlite(
            dir.path().join("db").to_string_lossy().into_owned(),
        ));
        let first = bare.now().unwrap();
        std::fs::write(dir.path().join("db-audit-wal"), b"rows").unwrap();
        assert_eq!(bare.now(), Some(first));
        std::fs::write(dir.path().join("db-wal"), b"frame").unwrap();
        assert!(bare.now().unwrap() > first);
    }

    #[test]
    fn a_removed_directory_ends_the_watch() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("data");
        std::fs::create_dir(&inner).unwrap();
        let changes = Changes::watch(&sqlite_in(&inner));
        assert!(changes.now().is_some());
        std::fs::remove_dir(&inner).unwrap();
        assert_eq!(changes.now(), None);
        assert_eq!(changes.now(), None, "and stays ended");
    }

    #[test]
    fn postgres_is_not_watched() {
        let changes = Changes::watch(&Backend::Postgres("postgres://x/y".into()));
        assert_eq!(changes.now(), None);
    }

    #[test]
    fn a_memo_answers_only_for_the_epoch_it_was_filled_in() {
        let memo = Memo::<String, i64>::new(2);
        let (e1, e2) = (Some(Epoch(1)), Some(Epoch(2)));
        memo.put(e1, "a".into(), 1);
        assert_eq!(memo.get(e1, "a"), Some(1));
        assert_eq!(memo.get(e2, "a"), None, "a later epoch");
        assert_eq!(memo.get(None, "a"), None, "no epoch");
        memo.put(e2, "b".into(), 2);
        assert_eq!(memo.get(e2, "a"), None, "dropped with its epoch");
        memo.put(e1, "c".into(), 3);
        assert_eq!(memo.get(e2, "c"), None, "read before the change: not kept");
        memo.put(e2, "c".into(), 3);
        memo.put(e2, "d".into(), 4);
        assert_eq!(memo.get(e2, "d"), None, "full");
        memo.put(None, "e".into(), 5);
        assert_eq!(memo.get(None, "e"), None);
    }
}

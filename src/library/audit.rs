//! The download audit: who got which private file's bytes, or was refused them, when, from
//! where and through which backend.
//!
//! A delivery only appends an entry to memory ([`AuditLog::record`]: one uncontended lock);
//! a writer thread stores what gathered once a second in one transaction (on a SQLite file
//! through a connection of its own, `db::audit_appender`), so the audit adds no database
//! work to a download, and on SQLite the database changes (which makes
//! downloads read their rows again, see `db::changes`) at most once a second. A crash loses
//! at most the last second's entries; `coffer serve` writes what is left when it stops.
//! Public files are not audited: the web server sends them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use time::PrimitiveDateTime;

use crate::db::Backend;
use crate::db::audit_appender::Appender;
use crate::db::models::User;
use crate::db::models::audit::{self, Entry, Filter, NewEntry};
use crate::db::models::file::File;
use crate::db::{DbConn, DbPool, now};

use super::{Error, Library, Result};

/// The file an entry is about, as it was when delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub file_id: i64,
    pub folder_id: Option<i64>,
    pub name: String,
    pub size: i64,
}

impl Subject {
    /// `f` as an audit subject.
    pub fn of(f: &File) -> Self {
        Self {
            file_id: f.id,
            folder_id: f.folder_id,
            name: f.label().to_owned(),
            size: f.size,
        }
    }
}

/// The private file `id` as an audit subject, if there is one: a refusal to name it.
pub fn subject_of(conn: &mut DbConn, id: i64) -> Result<Option<Subject>> {
    Ok(crate::db::models::file::find(conn, id)?
        .filter(|f| !f.is_public)
        .map(|f| Subject::of(&f)))
}

/// Who asked: a user (through a session or an API token), or a share link's visitor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub token_id: Option<i64>,
    pub share_id: Option<i64>,
}

/// How the bytes were asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The private storage URL.
    PrivateUrl,
    /// `/files/{id}/{name}`.
    StableUrl,
    /// A kept version.
    Version,
    /// A share link.
    Share,
    /// An entry of a ZIP download.
    Zip,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::PrivateUrl => "private-url",
            Via::StableUrl => "stable-url",
            Via::Version => "version",
            Via::Share => "share",
            Via::Zip => "zip",
        }
    }
}

/// What came of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The whole content went out (from Coffer).
    Sent,
    /// A range of it.
    Partial,
    /// 304/412: the client's copy was current, or its condition failed; no content.
    NotModified,
    /// A HEAD request: headers only.
    Head,
    /// Named to the web server, which sends the bytes (and answers Range itself).
    HandedOff,
    /// Begun, but the client went away before the end.
    Interrupted,
    /// Refused: the caller may not read it.
    Refused,
    /// Not delivered for another reason (416, an error while writing a ZIP entry).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Partial => "partial",
            Outcome::NotModified => "not-modified",
            Outcome::Head => "head",
            Outcome::HandedOff => "handed-off",
            Outcome::Interrupted => "interrupted",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// One delivery or refusal, as the web layer saw it.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub who: Who,
    pub subject: Subject,
    pub via: Via,
    pub byte_range: Option<String>,
    pub status: u16,
    pub outcome: Outcome,
    pub backend: &'static str,
    pub client_addr: String,
    pub user_agent: String,
}

/// Longest user agent kept.
const USER_AGENT_MAX: usize = 512;
/// Longest `Range` header kept.
const RANGE_MAX: usize = 256;
/// Most entries kept in memory while the database cannot take them; beyond, the oldest
/// are dropped (and said so in the log).
const PENDING_MAX: usize = 1_000_000;

/// The entries gathered since the last write, and whether the audit is on.
pub struct AuditLog {
    enabled: bool,
    pending: Mutex<Vec<NewEntry>>,
    /// The vector the last batch was written from, emptied, with its room: the next
    /// second's entries go into memory already in use instead of a vector that grows from
    /// nothing (copying itself, and touching new pages) while downloads append to it.
    spare: Mutex<Vec<NewEntry>>,
    /// On SQLite, the audit's own file, and the writer's connection to it once opened.
    file: Option<(PathBuf, Mutex<Option<Appender>>)>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// The audit of the database `backend`; when `enabled`, with its writer, which stops
    /// once the log is dropped.
    pub fn start(pool: DbPool, backend: &Backend, enabled: bool) -> Arc<Self> {
        let file = match backend {
            Backend::Sqlite(main) => crate::db::audit_file::path_for(main),
            Backend::Postgres(_) => None,
        };
        let log = Arc::new(Self {
            enabled,
            pending: Mutex::new(Vec::new()),
            spare: Mutex::new(Vec::new()),
            file: file.map(|f| (f, Mutex::new(None))),
        });
        if !enabled {
            return log;
        }
        if let Err(e) = super::every_second("coffer-audit", &log, move |log| log.write(&pool)) {
            tracing::error!(error = %e, "the download audit cannot be written");
        }
        log
    }

    /// Whether deliveries are recorded (`audit.enabled`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Adds one delivery or refusal; written within a second.
    pub fn record(&self, d: Delivered) {
        if !self.enabled {
            return;
        }
        let entry = NewEntry {
            at: now(),
            user_id: d.who.user_id,
            username: d.who.username,
            token_id: d.who.token_id,
            share_id: d.who.share_id,
            file_id: Some(d.subject.file_id),
            folder_id: d.subject.folder_id,
            file_name: d.subject.name,
            via: d.via.as_str(),
            size: d.subject.size,
            byte_range: d.byte_range.map(|r| truncate(r, RANGE_MAX)),
            status: i32::from(d.status),
            outcome: d.outcome.as_str(),
            backend: d.backend,
            client_addr: d.client_addr,
            user_agent: truncate(d.user_agent, USER_AGENT_MAX),
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= PENDING_MAX {
            let dropped = pending.len() / 10;
            pending.drain(..dropped);
            tracing::error!(
                dropped,
                "the download audit could not be written for too long: dropped its oldest entries"
            );
        }
        pending.push(entry);
    }

    /// Writes the entries gathered so far (kept for the next try if the database refuses).
    pub fn write(&self, pool: &DbPool) {
        let room = std::mem::take(&mut *self.spare.lock().unwrap_or_else(|p| p.into_inner()));
        let mut batch = std::mem::replace(
            &mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()),
            room,
        );
        if batch.is_empty() {
            *self.spare.lock().unwrap_or_else(|p| p.into_inner()) = batch;
            return;
        }
        let written = match &self.file {
            Some((file, appender)) => Self::append(file, appender, &batch),
            None => pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                audit::insert_all(&mut conn, &batch).map_err(|e| e.to_string())
            }),
        };
        match written {
            Ok(()) => {
                // Room for a second like this one, not for the busiest second ever.
                let rows = batch.len();
                batch.clear();
                batch.shrink_to(rows.saturating_mul(2));
                *self.spare.lock().unwrap_or_else(|p| p.into_inner()) = batch;
            }
            Err(e) => {
                tracing::warn!(error = %e, entries = batch.len(), "could not write the download audit; keeping it");
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                let newer = std::mem::replace(&mut *pending, batch);
                pending.extend(newer);
            }
        }
    }
}

impl AuditLog {
    /// Writes `batch` into the audit's file `file` through the writer's connection (opened
    /// when missing, and again after an error).
    fn append(
        file: &std::path::Path,
        appender: &Mutex<Option<Appender>>,
        batch: &[NewEntry],
    ) -> std::result::Result<(), String> {
        let mut slot = appender.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(Appender::open(file).map_err(|e| e.to_string())?);
        }
        let Some(open) = slot.as_mut() else {
            return Err("the audit's file is not open".into());
        };
        open.append(batch).map_err(|e| {
            *slot = None;
            e.to_string()
        })
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Which entries to show: any combination; `folder_id` covers the folder's whole tree.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub user_id: Option<i64>,
    pub share_id: Option<i64>,
    pub since: Option<PrimitiveDateTime>,
    pub until: Option<PrimitiveDateTime>,
    /// Entries older than this one (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Most entries in one page.
pub const PAGE_MAX: i64 = 1000;

/// A page of entries, newest first.
#[derive(Clone, Debug)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

/// The entries `q` selects; superusers only (anyone else: `Forbidden`).
#[tracing::instrument(skip(lib, conn, caller), fields(caller = caller.id))]
pub fn list(lib: &Library, conn: &mut DbConn, caller: &User, q: &Query) -> Result<Page> {
    if !caller.is_superuser {
        return Err(Error::Forbidden(
            "Only superusers may read the download audit.".into(),
        ));
    }
    let folders = match q.folder_id {
        Some(id) => {
            let access = lib.access(conn, Some(caller))?;
            let mut ids = access.tree().descendants(id);
            ids.push(id);
            Some(ids)
        }
        None => None,
    };
    let filter = Filter {
        file_id: q.file_id,
        folders,
        user_id: q.user_id,
        share_id: q.share_id,
        since: q.since,
        until: q.until,
        before_id: q.before,
    };
    let limit = q.limit.clamp(1, PAGE_MAX);
    let rows = audit::list(conn, &filter, limit)?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok(Page {
        entries: rows,
        next_before,
    })
}

/// Deletes entries older than `days` (`audit.retention_days`); how many.
pub fn prune_expired(conn: &mut DbConn, days: u32) -> Result<usize> {
    let before = now() - time::Duration::days(i64::from(days));
    Ok(audit::prune(conn, before)?)
}

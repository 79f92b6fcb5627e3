//! The download audit's writer on SQLite: a connection of its own to the audit's file
//! (`db::audit_file`), through which the once-a-second batch goes as prepared multi-row
//! INSERTs whose values are bound straight to SQLite.
//!
//! At full load a batch holds tens of thousands of rows of sixteen values. Through diesel,
//! building, checking and binding each statement's values took about as much CPU as SQLite
//! storing them (a profile of the writer: diesel ~28 %, SQLite's B-trees and pages ~30 %),
//! CPU taken from the downloads on the same cores. rusqlite, on the same bundled SQLite
//! library, binds each value with one call. Rows are stored exactly as diesel stores them
//! (the timestamp as diesel's text), so every query reads them alike. PostgreSQL, and an
//! in-memory SQLite database (whose audit only its own connection sees), keep the diesel
//! path (`db::models::audit::insert_all`).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Statement, TransactionBehavior};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::db::models::audit::NewEntry;

/// Rows per multi-row INSERT: one statement, prepared once per batch, bound and run per
/// `ROWS` entries; the rows beyond the last full one go one by one.
const ROWS: usize = 100;
/// Values per row.
const COLUMNS: usize = 16;

/// diesel's text for a timestamp on SQLite, with and without a fraction of a second.
const AT_WHOLE_SECOND: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const AT_SUBSECOND: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");

/// The writer's connection to the audit's file.
#[derive(Debug)]
pub struct Appender {
    conn: Connection,
}

impl Appender {
    /// Opens the audit's file `file` (made by the migrations).
    pub fn open(file: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(file)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
        )?;
        Ok(Self { conn })
    }

    /// Writes `entries` in one transaction.
    pub fn append(&mut self, entries: &[NewEntry]) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let batches = entries.chunks_exact(ROWS);
            let rest = batches.remainder();
            if entries.len() >= ROWS {
                let mut many = tx.prepare(&insert_sql(ROWS))?;
                for batch in batches {
                    for (row, entry) in batch.iter().enumerate() {
                        bind(&mut many, row * COLUMNS, entry)?;
                    }
                    many.raw_execute()?;
                }
            }
            if !rest.is_empty() {
                let mut one = tx.prepare(&insert_sql(1))?;
                for entry in rest {
                    bind(&mut one, 0, entry)?;
                    one.raw_execute()?;
                }
            }
        }
        tx.commit()
    }
}

/// `INSERT … VALUES (?, …), …` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; COLUMNS].join(", "));
    format!(
        "INSERT INTO download_audit (at, user_id, username, token_id, share_id, file_id, \
         folder_id, file_name, via, size, byte_range, status, outcome, backend, client_addr, \
         user_agent) VALUES {}",
        vec![row; rows].join(", ")
    )
}

/// Binds `e` to the sixteen parameters after the first `before`.
fn bind(stmt: &mut Statement<'_>, before: usize, e: &NewEntry) -> rusqlite::Result<()> {
    let at =
        e.at.format(if e.at.nanosecond() == 0 {
            AT_WHOLE_SECOND
        } else {
            AT_SUBSECOND
        })
        .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
    let i = before + 1;
    stmt.raw_bind_parameter(i, at)?;
    stmt.raw_bind_parameter(i + 1, e.user_id)?;
    stmt.raw_bind_parameter(i + 2, e.username.as_deref())?;
    stmt.raw_bind_parameter(i + 3, e.token_id)?;
    stmt.raw_bind_parameter(i + 4, e.share_id)?;
    stmt.raw_bind_parameter(i + 5, e.file_id)?;
    stmt.raw_bind_parameter(i + 6, e.folder_id)?;
    stmt.raw_bind_parameter(i + 7, e.file_name.as_str())?;
    stmt.raw_bind_parameter(i + 8, e.via)?;
    stmt.raw_bind_parameter(i + 9, e.size)?;
    stmt.raw_bind_parameter(i + 10, e.byte_range.as_deref())?;
    stmt.raw_bind_parameter(i + 11, e.status)?;
    stmt.raw_bind_parameter(i + 12, e.outcome)?;
    stmt.raw_bind_parameter(i + 13, e.backend)?;
    stmt.raw_bind_parameter(i + 14, e.client_addr.as_str())?;
    stmt.raw_bind_parameter(i + 15, e.user_agent.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use super::*;
    use crate::db::models::audit::{self, Filter};
    use crate::db::{Backend, establish, migrate};

    fn entry(i: i64, at: time::PrimitiveDateTime) -> NewEntry {
        NewEntry {
            at,
            user_id: (i % 2 == 0).then_some(i),
            username: (i % 2 == 0).then(|| format!("user {i}")),
            token_id: (i % 3 == 0).then_some(i * 10),
            share_id: (i % 5 == 0).then_some(i * 100),
            file_id: Some(1000 + i),
            folder_id: (i % 7 != 0).then_some(7),
            file_name: format!("report é {i}.pdf"),
            via: "stable-url",
            size: 4096 + i,
            byte_range: (i % 4 == 0).then(|| "bytes=0-99".to_owned()),
            status: 200,
            outcome: "sent",
            backend: "default",
            client_addr: "192.0.2.7".into(),
            user_agent: "curl/8 'quoted'".into(),
        }
    }

    /// What the appender writes reads back through diesel exactly as what diesel writes:
    /// every column, NULLs, the timestamp with and without a fraction of a second (and
    /// time filters compare it alike), for full statements and the rows after them.
    /// A migrated database in a temporary directory, a connection to it, and an appender
    /// to its audit's file.
    fn migrated() -> (tempfile::TempDir, crate::db::DbConn, Appender) {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("coffer.sqlite3").display().to_string();
        let mut conn = establish(&Backend::Sqlite(main.clone())).unwrap();
        migrate(&mut conn).unwrap();
        let file = crate::db::audit_file::path_for(&main).unwrap();
        (dir, conn, Appender::open(&file).unwrap())
    }

    #[test]
    fn rows_appended_read_back_as_diesels_own() {
        let (_dir, mut conn, mut appender) = migrated();

        let base = time::macros::datetime!(2026-12-05 10:00:00);
        let entries: Vec<NewEntry> = (0..(2 * ROWS as i64 + 7))
            .map(|i| {
                let at = if i % 2 == 0 {
                    base + time::Duration::seconds(i)
                } else {
                    base + time::Duration::seconds(i) + time::Duration::microseconds(120_400)
                };
                entry(i, at)
            })
            .collect();
        appender.append(&entries).unwrap();

        let read = audit::list(&mut conn, &Filter::default(), 1000).unwrap();
        assert_eq!(read.len(), entries.len());
        for (got, want) in read.iter().rev().zip(&entries) {
            let as_written = NewEntry {
                at: got.at,
                user_id: got.user_id,
                username: got.username.clone(),
                token_id: got.token_id,
                share_id: got.share_id,
                file_id: got.file_id,
                folder_id: got.folder_id,
                file_name: got.file_name.clone(),
                via: want.via,
                size: got.size,
                byte_range: got.byte_range.clone(),
                status: got.status,
                outcome: want.outcome,
                backend: want.backend,
                client_addr: got.client_addr.clone(),
                user_agent: got.user_agent.clone(),
            };
            assert_eq!(&as_written, want);
            assert_eq!(
                (got.via.as_str(), got.outcome.as_str(), got.backend.as_str()),
                (want.via, want.outcome, want.backend)
            );
        }

        // The same rows through diesel: both texts of a time are the same text.
        audit::insert_all(&mut conn, &entries).unwrap();
        let texts = |conn: &mut crate::db::DbConn| {
            #[derive(diesel::QueryableByName)]
            struct At {
                #[diesel(sql_type = diesel::sql_types::Text)]
                at: String,
            }
            let crate::db::DbConn::Sqlite(c) = conn else {
                unreachable!()
            };
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT CAST(at AS TEXT) AS at FROM download_audit ORDER BY id")
                .load::<At>(c)
                .unwrap()
                .into_iter()
                .map(|a| a.at)
                .collect::<Vec<_>>()
        };
        let all = texts(&mut conn);
        let (mine, diesels) = all.split_at(entries.len());
        assert_eq!(mine, diesels);
        assert!(
            mine.contains(&"2026-12-05 10:00:01.1204".to_owned()),
            "{mine:?}"
        );

        // A time filter finds an appended row (and diesel's) at its exact time: from it,
        // until (excluded) one microsecond later.
        let exact = base + time::Duration::seconds(1) + time::Duration::microseconds(120_400);
        let filter = Filter {
            since: Some(exact),
            until: Some(exact + time::Duration::microseconds(1)),
            ..Filter::default()
        };
        assert_eq!(audit::list(&mut conn, &filter, 10).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_batch_writes_nothing() {
        let (_dir, mut conn, mut appender) = migrated();
        let base = time::macros::datetime!(2026-12-05 10:00:00);
        let mut entries: Vec<NewEntry> = (0..150).map(|i| entry(i, base)).collect();
        // A row SQLite refuses (a NOT NULL column without a value cannot be bound from
        // NewEntry, so break the table instead): the file's table made read-only by a
        // trigger that fails the 120th insert.
        appender
            .conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON download_audit \
                 WHEN NEW.file_id = 1119 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        assert!(appender.append(&entries).is_err());
        assert!(
            audit::list(&mut conn, &Filter::default(), 1000)
                .unwrap()
                .is_empty()
        );
        entries.truncate(100);
        appender.append(&entries).unwrap();
        assert_eq!(
            audit::list(&mut conn, &Filter::default(), 1000)
                .unwrap()
                .len(),
            100
        );
    }
}

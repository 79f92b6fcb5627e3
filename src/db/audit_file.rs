//! On SQLite the download audit lives in a database file of its own, beside the main one
//! and attached to every connection as `audit` (SQLite finds `download_audit` there by its
//! plain name, so queries do not change). The audit takes many rows a second: in its own
//! file, writing them never holds the main database's write lock (uploads and edits do not
//! wait behind a batch), and never counts as a change of the main database for the checked
//! downloads that answer from memory until it changes (`db::changes`). On PostgreSQL the
//! table is an ordinary one of the database.
//!
//! The file's table is created here when missing, before the migrations run: a database
//! whose audit was in the main file (the first schema) has its rows moved by a migration.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::result::ConnectionResult;

/// The audit's file for the main database file `main`: `coffer.sqlite3` →
/// `coffer-audit.sqlite3`, in the same directory. `None` for an in-memory database.
pub fn path_for(main: &str) -> Option<PathBuf> {
    if main == ":memory:" || main.is_empty() {
        return None;
    }
    let main = Path::new(main);
    let stem = main.file_stem()?.to_string_lossy();
    let name = match main.extension() {
        Some(ext) => format!("{stem}-audit.{}", ext.to_string_lossy()),
        None => format!("{stem}-audit"),
    };
    Some(main.with_file_name(name))
}

/// Attaches the audit's database to a new SQLite connection to `main`, in WAL mode like
/// the main file.
pub fn attach(conn: &mut diesel::SqliteConnection, main: &str) -> ConnectionResult<()> {
    let file = path_for(main).map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
    conn.batch_execute(&format!(
        "ATTACH DATABASE '{}' AS audit; \
         PRAGMA audit.journal_mode = WAL; PRAGMA audit.synchronous = NORMAL;",
        file.replace('\'', "''")
    ))
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
}

/// Creates the audit's table and indexes in the attached file when they are missing. What
/// the audit is read by: time (and pruning), file, user, share link; partial indexes where
/// most rows hold NULL. A folder's tree is found through the file's folder at the time,
/// read newest first without an index of its own. Few indexes keep the once-a-second batch
/// cheap.
pub fn ensure_schema(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS audit.download_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TIMESTAMP NOT NULL,
            user_id BIGINT,
            username TEXT,
            token_id BIGINT,
            share_id BIGINT,
            file_id BIGINT,
            folder_id BIGINT,
            file_name TEXT NOT NULL,
            via TEXT NOT NULL,
            size BIGINT NOT NULL,
            byte_range TEXT,
            status INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            backend TEXT NOT NULL,
            client_addr TEXT NOT NULL,
            user_agent TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS audit.download_audit_at ON download_audit(at);
        CREATE INDEX IF NOT EXISTS audit.download_audit_file ON download_audit(file_id);
        CREATE INDEX IF NOT EXISTS audit.download_audit_user ON download_audit(user_id)
            WHERE user_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS audit.download_audit_share ON download_audit(share_id)
            WHERE share_id IS NOT NULL;",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;
    use diesel_migrations::MigrationHarness;

    use super::*;
    use crate::db::{Backend, DbConn, SQLITE_MIGRATIONS, establish, migrate};

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(c: &mut diesel::SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(c).unwrap().n
    }

    fn tables_named(c: &mut diesel::SqliteConnection, schema: &str) -> i64 {
        count(
            c,
            &format!(
                "SELECT count(*) AS n FROM {schema}.sqlite_master \
                 WHERE type = 'table' AND name = 'download_audit'"
            ),
        )
    }

    #[test]
    fn the_audit_is_kept_in_its_own_file_and_older_rows_move_there() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("coffer.sqlite3").display().to_string();
        let mut conn = establish(&Backend::Sqlite(main.clone())).unwrap();
        migrate(&mut conn).unwrap();
        let DbConn::Sqlite(c) = &mut conn else {
            unreachable!()
        };
        assert!(dir.path().join("coffer-audit.sqlite3").is_file());
        assert_eq!((tables_named(c, "main"), tables_named(c, "audit")), (0, 1));

        // A database of the first schema, its audit in the main file with a row.
        c.revert_last_migration(SQLITE_MIGRATIONS).unwrap();
        assert_eq!(tables_named(c, "main"), 1);
        diesel::sql_query(
            "INSERT INTO main.download_audit (at, file_name, via, size, status, outcome, \
             backend, client_addr, user_agent) VALUES ('2026-12-01 10:00:00', 'a.pdf', \
             'stable-url', 4, 200, 'sent', 'default', '127.0.0.1', 'curl')",
        )
        .execute(c)
        .unwrap();

        migrate(&mut conn).unwrap();
        let DbConn::Sqlite(c) = &mut conn else {
            unreachable!()
        };
        assert_eq!((tables_named(c, "main"), tables_named(c, "audit")), (0, 1));
        assert_eq!(
            count(
                c,
                "SELECT count(*) AS n FROM download_audit WHERE file_name = 'a.pdf'"
            ),
            1,
            "the row moved with its table"
        );

        // Another connection finds it by the plain name too.
        let mut other = establish(&Backend::Sqlite(main)).unwrap();
        let DbConn::Sqlite(o) = &mut other else {
            unreachable!()
        };
        assert_eq!(count(o, "SELECT count(*) AS n FROM download_audit"), 1);
    }

    #[test]
    fn the_audit_file_sits_beside_the_database() {
        assert_eq!(
            path_for("/var/lib/coffer/coffer.sqlite3"),
            Some(PathBuf::from("/var/lib/coffer/coffer-audit.sqlite3"))
        );
        assert_eq!(path_for("data/db"), Some(PathBuf::from("data/db-audit")));
        assert_eq!(path_for(":memory:"), None);
    }
}

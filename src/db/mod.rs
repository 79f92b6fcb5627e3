//! The metadata database: one diesel connection type over SQLite and PostgreSQL, the pool,
//! embedded migrations, transactions, and (`work`) where a piece of database work runs.

pub mod audit_appender;
pub mod audit_file;
pub mod changes;
pub mod models;
pub mod schema;
mod work;

pub use work::{read_blocking, read_inline, renew_read, run};

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; the variant is chosen from the database URL.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs one diesel expression on the concrete connection of either backend. Used for the
/// queries on the download hot path, where each concrete backend's own statement cache and
/// query building are cheaper than the multi-backend wrapper's. Those queries look rows up
/// by a unique key without `LIMIT ?`: SQLite re-plans a statement whose LIMIT is a bound
/// parameter every time the parameter is bound again.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}

/// Which database a URL points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (or `:memory:`).
    Sqlite(String),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Backend {
    /// `postgres://…`/`postgresql://…` → PostgreSQL; `sqlite://path` or a bare path → SQLite.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// URL without a path".into());
            }
            Ok(Self::Sqlite(path.to_owned()))
        } else if url.contains("://") {
            Err(format!(
                "unsupported database URL scheme in {:?} (use sqlite://PATH or postgres://…)",
                redact_url(url)
            ))
        } else if url.is_empty() {
            Err("empty database URL".into())
        } else {
            Ok(Self::Sqlite(url.to_owned()))
        }
    }

    /// A short name for logs: "sqlite" or "postgres".
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Hides the password of a URL like `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens one connection, applying the SQLite pragmas Coffer relies on.
pub fn establish(backend: &Backend) -> ConnectionResult<DbConn> {
    match backend {
        Backend::Postgres(url) => {
            // libpq speaks TLS through the system OpenSSL, which by default frees its global
            // state in an exit handler: a pooled connection closed by another thread while the
            // process exits would then use freed memory (a crash at exit). Initialising OpenSSL
            // first, as rust-openssl does, without that handler leaves the cleanup to the OS.
            openssl_sys::init();
            Ok(DbConn::Postgres(diesel::PgConnection::establish(url)?))
        }
        Backend::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(path)?;
            conn.batch_execute(
                // The busy timeout first: switching to WAL may itself wait for a lock.
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                 PRAGMA temp_store = MEMORY;",
            )
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
            audit_file::attach(&mut conn, path)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// The r2d2 manager: picks the backend from the URL instead of trying each in turn.
#[derive(Debug)]
pub struct Manager(Backend);

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        establish(&self.0).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The shared connection pool.
pub type DbPool = r2d2::Pool<Manager>;

/// Errors from the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database connection: {0}")]
    Connection(#[from] ConnectionError),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("blocking task failed: {0}")]
    Blocking(String),
}

impl DbError {
    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// True when PostgreSQL refused a NUL character in a text parameter (SQLite would store
    /// it): request text that no input check caught, answered 400 rather than 500.
    pub fn is_nul_in_text(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("0x00")
        )
    }

    /// True when the error is a foreign-key violation: a row that was checked a moment
    /// earlier (a folder, a user, a group) was deleted before the write.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        )
    }
}

/// Builds the pool. SQLite gets a smaller pool: one writer at a time anyway.
pub fn pool(backend: &Backend, max_size: u32) -> Result<DbPool, DbError> {
    if let Backend::Sqlite(path) = backend
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        return Err(DbError::Connection(ConnectionError::BadConnection(
            format!("directory {} does not exist", parent.display()),
        )));
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size.max(1))
        // No background connection building: connections are opened on demand by the
        // thread that needs one. (A background connect still running when the process exits
        // can crash libpq's teardown.)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(Manager(backend.clone()))?;
    Ok(pool)
}

/// One trivial query: whether the database answers (readiness).
pub fn ping(conn: &mut DbConn) -> Result<(), DbError> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

/// The PostgreSQL advisory-lock key held while migrating.
pub const MIGRATION_LOCK: i64 = 0x436f_6666_6572_4d67; // "CofferMg"

/// Runs every pending migration; returns the names of those applied. Several instances
/// starting at once run them once: on PostgreSQL under an advisory lock, on SQLite in one
/// `BEGIN IMMEDIATE` transaction (the others wait, then find nothing left to do). A database
/// migrated by a newer Coffer (a migration this binary does not know) is refused.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    let applied = match conn {
        DbConn::Sqlite(c) => {
            refuse_unknown(c, SQLITE_MIGRATIONS)?;
            c.immediate_transaction(|c| {
                audit_file::ensure_schema(c)?;
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .map_err(|e| DbError::Migration(e.to_string()))
            })?
        }
        DbConn::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let ran = refuse_unknown(c, POSTGRES_MIGRATIONS).and_then(|()| {
                c.run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .map_err(migration_error)
            });
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            ran?
        }
    };
    Ok(applied)
}

/// Refuses a database that holds a migration `known` does not have: a newer Coffer
/// migrated it, and this one would misread its tables.
fn refuse_unknown<C>(conn: &mut C, known: EmbeddedMigrations) -> Result<(), DbError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    use diesel::migration::MigrationSource;
    let known: Vec<String> = MigrationSource::<C::Backend>::migrations(&known)
        .map_err(|e| DbError::Migration(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = conn
        .applied_migrations()
        .map_err(|e| DbError::Migration(e.to_string()))?;
    if let Some(newer) = applied
        .iter()
        .map(ToString::to_string)
        .find(|v| !known.contains(v))
    {
        return Err(DbError::Migration(format!(
            "the database was migrated by a newer Coffer (migration {newer}, which this version \
             does not know): run the newer version, or restore a backup taken before it"
        )));
    }
    Ok(())
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all(conn: &mut DbConn) -> Result<(), DbError> {
    match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}

/// The PostgreSQL advisory-lock key that serialises changes to the folder tree.
pub const TREE_LOCK: i64 = 0x436f_6666_6572_5472; // "CofferTr"

/// Runs `f` in a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the database's
/// write lock is taken (waiting up to the busy timeout) before the first read, so a
/// transaction never fails with "database is locked" when it turns from reading to writing
/// while another one commits — a deferred transaction cannot wait there and fails at once. On
/// PostgreSQL it is an ordinary transaction. Called inside another transaction it becomes a
/// savepoint of it.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(c) = conn else {
        return conn.transaction(f);
    };
    match AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
        Ok(()) => {}
        Err(diesel::result::Error::AlreadyInTransaction) => return conn.transaction(f),
        Err(e) => return Err(e.into()),
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        return Err(diesel::result::Error::BrokenTransactionManager.into());
    };
    type Manager = AnsiTransactionManager;
    match result {
        Ok(value) => {
            match <Manager as TransactionManager<diesel::SqliteConnection>>::commit_transaction(c) {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = <Manager as TransactionManager<diesel::SqliteConnection>>::rollback_transaction(c);
                    Err(e.into())
                }
            }
        }
        Err(e) => {
            let _ =
                <Manager as TransactionManager<diesel::SqliteConnection>>::rollback_transaction(c);
            Err(e)
        }
    }
}

/// Whether `conn` is inside a transaction (begun by diesel on this connection).
pub fn in_transaction(conn: &mut DbConn) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let depth = match conn {
        DbConn::Sqlite(c) => <AnsiTransactionManager as TransactionManager<
            diesel::SqliteConnection,
        >>::transaction_manager_status_mut(c)
        .transaction_depth(),
        DbConn::Postgres(c) => <AnsiTransactionManager as TransactionManager<
            diesel::PgConnection,
        >>::transaction_manager_status_mut(c)
        .transaction_depth(),
    };
    matches!(depth, Ok(Some(_)))
}

/// A [`write_transaction`] that no other transaction holding the same `key` runs beside: on
/// SQLite every write transaction already excludes the others; on PostgreSQL it takes the
/// transaction-level advisory lock `key` before its first read (read-committed statements
/// after it see every change committed before it).
pub fn locked_transaction<T, E, F>(conn: &mut DbConn, key: i64, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    write_transaction(conn, |conn| {
        if let DbConn::Postgres(pg) = conn {
            pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))?;
        }
        f(conn)
    })
}

/// Runs `f` in a transaction that serialises changes to the folder tree: every check of the
/// tree (ancestors, depth) made inside it stays true until it commits
/// ([`locked_transaction`] on [`TREE_LOCK`]). Called inside another transaction it becomes a
/// savepoint of it (on PostgreSQL it still takes the lock; on SQLite the outer transaction
/// must itself be a write transaction).
pub fn tree_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    locked_transaction(conn, TREE_LOCK, f)
}

/// The current UTC time without offset, as stored in the database.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    // Microsecond precision: PostgreSQL keeps no more, so both backends round-trip equally.
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    time::PrimitiveDateTime::new(now.date(), now.time())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_url() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Backend::from_url("sqlite://data/c.db").unwrap(),
            Backend::Sqlite("data/c.db".into())
        );
        assert_eq!(
            Backend::from_url("data/c.db").unwrap(),
            Backend::Sqlite("data/c.db".into())
        );
        assert!(Backend::from_url("mysql://x").is_err());
        assert!(Backend::from_url("").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://bob:secret@localhost/db"),
            "postgres://bob:***@localhost/db"
        );
        assert_eq!(
            redact_url("postgres://bob@localhost/db"),
            "postgres://bob@localhost/db"
        );
    }
}

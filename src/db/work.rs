//! Where a piece of database work runs: on the blocking thread pool with a pooled connection
//! ([`run`]), or, for the hot read paths on SQLite, on a connection of the running thread's
//! own ([`read_inline`] on an actix worker, [`read_blocking`] on the blocking pool).

use diesel::Connection;

use super::{Backend, DbConn, DbError, DbPool, establish};

/// Runs `f` with a pooled connection on the blocking thread pool. `f` returns its caller's
/// own error type `E`; a failed checkout or a failed blocking task arrive as `E` too, so the
/// caller gets one flat `Result<T, E>`.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    on_blocking_pool(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        f(&mut conn)
    })
    .await
}

/// Runs `f` on the blocking thread pool, in the caller's span (a request's id).
async fn on_blocking_pool<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    let span = tracing::Span::current();
    let task = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        f()
    });
    match task.await {
        Ok(result) => result,
        Err(e) => Err(DbError::Blocking(e.to_string()).into()),
    }
}

thread_local! {
    /// This thread's own SQLite connection for [`read_inline`], with the path it was opened on.
    static LOCAL_SQLITE: std::cell::RefCell<Option<(String, DbConn)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs a short, read-only `f` for a hot path (the checked download view). On SQLite it runs
/// right here, on a connection owned by this thread: in WAL mode a reader never waits for a
/// writer, an indexed lookup takes microseconds, and skipping the hand-off to the blocking
/// pool is what keeps small downloads fast. On PostgreSQL a query is a network round trip,
/// so `f` goes to the blocking pool like [`run`]. `f` must not write.
///
/// On SQLite `f` runs in one deferred read transaction: its statements share one set of
/// file locks (each statement on its own would take and release them), and a transaction
/// whose lookups are all answered from memory takes none.
pub async fn read_inline<T, F>(pool: &DbPool, backend: &Backend, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
{
    let Backend::Sqlite(path) = backend else {
        return run(pool, f).await;
    };
    on_local_sqlite(path, backend, f)
}

/// [`read_inline`] for a step that may wait on the network (it opens an object in an
/// object store, whose engine answers in milliseconds at best, or not at all): on SQLite it
/// runs on the blocking pool, on that thread's own connection, so an actix worker (which
/// serves every other request of its connections meanwhile) never waits for an engine,
/// and no pooled connection is held while the engine answers. On PostgreSQL like
/// [`read_inline`] (the blocking pool with a pooled connection).
pub async fn read_blocking<T, F>(pool: &DbPool, backend: &Backend, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
{
    let Backend::Sqlite(path) = backend else {
        return run(pool, f).await;
    };
    let (path, backend) = (path.clone(), backend.clone());
    on_blocking_pool(move || on_local_sqlite(&path, &backend, f)).await
}

/// Runs `f` in a read transaction on this thread's own connection to the SQLite file
/// `path` (opened on first use).
fn on_local_sqlite<T, F>(path: &String, backend: &Backend, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConn) -> Result<T, DbError>,
{
    LOCAL_SQLITE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = !matches!(&*slot, Some((p, _)) if p == path);
        if stale {
            *slot = Some((path.clone(), establish(backend)?));
        }
        let Some((_, conn)) = slot.as_mut() else {
            return Err(DbError::Blocking("no thread-local connection".into()));
        };
        let result = conn.transaction(f);
        if result.is_err() {
            // Start afresh next time rather than reuse a connection in an unknown state.
            *slot = None;
        }
        result
    })
}

/// Inside [`read_inline`]'s read transaction on SQLite: ends it and begins another, so the
/// statements that follow see every change committed meanwhile (e.g. a row read again
/// because its object moved). Elsewhere nothing: outside a transaction each statement
/// already sees the latest commit.
pub fn renew_read(conn: &mut DbConn) -> Result<(), DbError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = AnsiTransactionManager;
    let DbConn::Sqlite(c) = conn else {
        return Ok(());
    };
    let depth =
        <Manager as TransactionManager<diesel::SqliteConnection>>::transaction_manager_status_mut(
            c,
        )
        .transaction_depth()?;
    if depth.map(std::num::NonZeroU32::get) == Some(1) {
        <Manager as TransactionManager<diesel::SqliteConnection>>::commit_transaction(c)?;
        <Manager as TransactionManager<diesel::SqliteConnection>>::begin_transaction(c)?;
    }
    Ok(())
}

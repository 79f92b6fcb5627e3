//! Bringing Coffer up: directories, database, migrations, the first superuser and the HTTP
//! server, shared by `coffer serve`, the other commands and the tests; and, for `coffer
//! serve` only, the repair of interrupted work whose owner is gone ([`start_repairs`]).

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::config::Settings;
use crate::db;
use crate::library::recover;
use crate::state::AppState;
use crate::storage::Storages;

/// Prepares directories, opens the pool and migrates. Repairs nothing: work in progress may
/// belong to a live server on the same database (see [`start_repairs`]).
pub fn bootstrap(settings: Settings) -> anyhow::Result<AppState> {
    settings.prepare_directories()?;
    let pool = db::pool(&settings.database, settings.database_pool_size)
        .with_context(|| format!("opening the {} database", settings.database.name()))?;
    let mut conn = pool.get().context("connecting to the database")?;
    let applied = db::migrate(&mut conn)?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    let storages = Storages::open(&settings)?;
    for role in crate::storage::StorageRole::ALL {
        if let Some(object) = storages.get(role).as_object() {
            object.check_on_start().map_err(|e| {
                anyhow::anyhow!(
                    "storage.{} (kind \"s3\", prefix {:?}): {e}",
                    role.as_str(),
                    object.prefix()
                )
            })?;
        }
    }
    drop(conn);
    AppState::new(settings, pool, storages)
}

/// Repairs, once, the interrupted work whose owner is gone: moves and scheduled deletions
/// whose lease expired, temporary uploads no live process holds, multipart uploads begun
/// more than a day ago. Then purges the trash of
/// items older than `trash.retention_days` and the download audit of entries older than
/// `audit.retention_days`.
pub fn repair(state: &AppState) -> anyhow::Result<recover::Recovered> {
    let mut conn = state.pool.get().context("connecting to the database")?;
    let repaired = recover::recover(&state.library.storages, &mut conn)?;
    if repaired != recover::Recovered::default() {
        tracing::info!(?repaired, "repaired interrupted work");
    }
    let days = state.library.settings.trash_retention_days;
    let purged = crate::library::trash::purge_expired(&state.library, &mut conn, days)?;
    if purged > 0 {
        tracing::info!(purged, "purged old items from the trash");
    }
    let days = state.library.settings.audit_retention_days;
    let pruned = crate::library::audit::prune_expired(&mut conn, days)?;
    if pruned > 0 {
        tracing::info!(pruned, "pruned old download audit entries");
    }
    Ok(repaired)
}

/// After a serving instance stopped (SIGTERM, SIGINT; the requests in flight finished or
/// `server.shutdown_timeout_secs` passed): writes what the download audit and the share
/// link counts gathered since their last write, and lets this instance's leases expire
/// so another instance takes its unfinished work over at once.
pub fn stopped(state: &AppState) {
    state.library.audit.write(&state.pool);
    state.library.links.write(&state.pool);
    let owner = crate::db::models::journal::instance_id();
    let released = state
        .pool
        .get()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| {
            crate::db::models::journal::release_leases(&mut conn, owner).map_err(|e| e.to_string())
        });
    match released {
        Ok(0) => {}
        Ok(n) => tracing::info!(leases = n, "released this instance's leases"),
        Err(e) => tracing::warn!(error = %e, "could not release this instance's leases"),
    }
    tracing::info!("Coffer stopped");
}

/// The periodic repair of a serving instance; stops when dropped.
pub struct Repairs {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// For `coffer serve`: repairs at once, then every `every` (the lease length, so work left
/// by an instance that died meanwhile is taken over soon after its leases expire).
pub fn start_repairs(state: &AppState, every: Duration) -> anyhow::Result<Repairs> {
    repair(state)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let state = state.clone();
    let thread = std::thread::Builder::new()
        .name("coffer-repairs".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                if let Err(e) = repair(&state) {
                    tracing::warn!(error = %format!("{e:#}"), "periodic repair failed");
                }
            }
        })?;
    Ok(Repairs {
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Drop for Repairs {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            drop(t.join());
        }
    }
}

/// On a database without users, creates the superuser `admin` with a random password and
/// returns that password (to be shown once).
pub fn ensure_first_admin(state: &AppState) -> anyhow::Result<Option<String>> {
    let mut conn = state.pool.get()?;
    Ok(crate::accounts::create_first_admin(
        &mut conn,
        &state.passwords,
    )?)
}

/// A bound, not yet running HTTP server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `listener` (or the configured address) and builds the server.
    pub fn build(state: AppState, listener: Option<TcpListener>) -> anyhow::Result<Self> {
        let listener = match listener {
            Some(l) => l,
            None => TcpListener::bind(state.settings.bind)
                .with_context(|| format!("binding {}", state.settings.bind))?,
        };
        let port = listener.local_addr()?.port();
        let workers = state.settings.workers;
        let blocking_threads = state.settings.database_pool_size as usize + 8;
        let max_body = state.settings.max_upload_size;
        let (header_timeout, body_idle, shutdown_timeout) = (
            state.settings.header_timeout,
            state.settings.body_idle_timeout,
            state.settings.shutdown_timeout,
        );
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            let settings = data.settings.clone();
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(
                    usize::try_from(max_body).unwrap_or(usize::MAX),
                ))
                .app_data(web::JsonConfig::default().limit(1024 * 1024))
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    crate::web::timeout::body_idle_timeout(body_idle, req, next)
                }))
                .wrap(actix_web::middleware::from_fn(
                    crate::telemetry::trace_requests,
                ))
                .configure(|cfg| crate::web::configure(cfg, &settings))
        })
        .workers(workers)
        // Blocking work is database calls (bounded by the pool) and file reads.
        .worker_max_blocking_threads(blocking_threads)
        .tcp_nodelay(true)
        // Slow clients: the headers of a request must arrive within this time (408, then
        // the connection is closed); the body's idle limit is the middleware above.
        .client_request_timeout(header_timeout)
        .client_disconnect_timeout(Duration::from_secs(2))
        // SIGTERM/SIGINT: stop accepting, let what is in flight finish up to this long.
        .shutdown_timeout(shutdown_timeout.as_secs())
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until the server stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server handle (to run it in the background in tests).
    pub fn into_server(self) -> Server {
        self.server
    }
}

//! Probes for load balancers and orchestrators, without authentication and without saying
//! anything about the installation: `GET /healthz` (the process answers) and `GET /readyz`
//! (the database answers and every storage is there and writable; 503 otherwise, the cause
//! only in the log).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::db;
use crate::state::AppState;

/// How long the database may take to answer the readiness query.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the storages may take to show they are writable (an object store: a probe
/// object written, read and deleted).
const STORAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `check` of `what` succeeds within `limit`; why not is logged.
async fn passes<E: std::fmt::Display>(
    what: &str,
    limit: Duration,
    check: impl std::future::Future<Output = Result<(), E>>,
) -> bool {
    match tokio::time::timeout(limit, check).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: {what} failed its check");
            false
        }
        Err(_) => {
            tracing::warn!("not ready: {what} took longer than {limit:?}");
            false
        }
    }
}

/// `GET|HEAD /healthz`: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    answer(true)
}

/// `GET|HEAD /readyz`: 200 when this instance can do its work, 503 when it cannot.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let database = passes("the database", DATABASE_TIMEOUT, db::run(&pool, db::ping)).await;
    // On the blocking pool: for an object store the check is requests to its engine, which
    // an actix worker must not wait for (its other connections would wait behind it).
    let storages = state.library.storages.clone();
    let storages = passes("the storages", STORAGE_TIMEOUT, async move {
        web::block(move || storages.check_reachable())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    })
    .await;
    answer(database && storages)
}

fn answer(ok: bool) -> HttpResponse {
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"status": if ok { "ok" } else { "unavailable" }}))
}

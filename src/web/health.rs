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

/// `GET|HEAD /healthz`: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    answer(true)
}

/// `GET|HEAD /readyz`: 200 when this instance can do its work, 503 when it cannot.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let database = tokio::time::timeout(DATABASE_TIMEOUT, db::run(&pool, db::ping)).await;
    let database = match database {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            false
        }
        Err(_) => {
            tracing::warn!("not ready: the database took longer than {DATABASE_TIMEOUT:?}");
            false
        }
    };
    let storages = match state.library.storages.check_reachable() {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "not ready: a storage is not reachable");
            false
        }
    };
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

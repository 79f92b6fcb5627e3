//! `GET /uploads/taken`: which names of an upload about to be sent are already taken where
//! it goes, so that the browser can ask "replace, keep both or skip?" before sending.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::db;
use crate::library::upload;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::caller;

/// `folder` (empty: the caller's unsorted uploads) and `name`, repeated.
struct TakenQuery {
    folder: String,
    name: Vec<String>,
}

/// `{"taken": [names]}`; 401 without a session, 404 for a folder the caller may not
/// upload to.
pub async fn taken(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let Some(identity) = caller(&state, &req).await? else {
        return Err(AppError::Unauthenticated);
    };
    let mut q = TakenQuery {
        folder: String::new(),
        name: Vec::new(),
    };
    for (k, v) in query.into_inner() {
        match k.as_str() {
            "folder" => q.folder = v,
            "name" => q.name.push(v),
            _ => {}
        }
    }
    let folder = match q.folder.trim() {
        "" => None,
        v => Some(v.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let st = state.get_ref().clone();
    let taken = db::run(&state.pool, move |conn| {
        upload::taken_names(&st.library, conn, &identity.user, folder, &q.name)
    })
    .await
    .map_err(|e| match e {
        crate::library::Error::Forbidden(_) => AppError::NotFound,
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "taken": taken })))
}

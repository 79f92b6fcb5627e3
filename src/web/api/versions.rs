//! A file's kept earlier contents.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::domain::ids::FileId;
use crate::library::versions;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{ErrorJson, FileJson, file_json, timestamp};

/// One kept version.
#[derive(Serialize, ToSchema)]
pub struct VersionJson {
    id: i64,
    original_filename: String,
    size: i64,
    sha256: String,
    mime_type: String,
    /// When these bytes became the content (RFC 3339).
    created_at: String,
    /// When they were replaced, and by whom.
    replaced_at: String,
    replaced_by: String,
    /// The checked download URL of these bytes.
    url: String,
}

/// `GET /api/v1/files/{id}/versions`: newest first.
#[utoipa::path(
    get, path = "/api/v1/files/{id}/versions", tag = "files", operation_id = "listVersions",
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "The file's earlier contents", body = Vec<VersionJson>),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 404, description = "No such file, or the caller may not read it", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FileId>,
) -> Result<HttpResponse, AppError> {
    let (st, id) = (state.get_ref().clone(), id.into_inner());
    let listed = db::run(&state.pool, move |conn| {
        versions::list(&st.library, conn, &me.user, id)
    })
    .await?;
    let body: Vec<VersionJson> = listed
        .into_iter()
        .map(|l| VersionJson {
            url: format!("/files/{id}/versions/{}", l.version.id),
            id: l.version.id,
            original_filename: l.version.original_filename,
            size: l.version.size,
            sha256: l.version.sha256,
            mime_type: l.version.mime_type,
            created_at: timestamp(l.version.created_at),
            replaced_at: timestamp(l.version.replaced_at),
            replaced_by: l.replaced_by,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `POST /api/v1/files/{id}/versions/{version}/restore`: that content becomes the file's
/// again; the current content is kept as a version.
#[utoipa::path(
    post, path = "/api/v1/files/{id}/versions/{version}/restore", tag = "files",
    operation_id = "restoreVersion",
    params(
        ("id" = i64, Path, description = "File id"),
        ("version" = i64, Path, description = "Version id"),
    ),
    responses(
        (status = 200, description = "The file, with the restored content", body = FileJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No edit right on the file; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such file or version, or the caller may not read it", body = ErrorJson),
        (status = 409, description = "The file changed or is being moved", body = ErrorJson),
    ),
)]
pub async fn restore(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    path: web::Path<(FileId, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        versions::restore(&st.library, conn, &me.user, id, version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(file_json(&state, f).await?))
}

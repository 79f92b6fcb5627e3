//! The trash: what the caller deleted or owns (everything for superusers).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::library::trash::{self, TrashItem};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{ErrorJson, timestamp};

/// One trashed item.
#[derive(Serialize, ToSchema)]
pub struct TrashJson {
    /// The trash entry's id (for restore and permanent deletion).
    id: i64,
    /// `"file"` or `"folder"`.
    kind: &'static str,
    /// The file's or folder's own id.
    item_id: i64,
    name: String,
    /// Bytes held (a folder: everything in it, versions included).
    size: i64,
    /// RFC 3339.
    trashed_at: String,
    trashed_by: String,
    owner: String,
    /// The folder it goes back to; `null`: the top level.
    original_folder_id: Option<i64>,
    /// Whether the caller may delete it permanently.
    may_delete: bool,
}

impl From<TrashItem> for TrashJson {
    fn from(t: TrashItem) -> Self {
        TrashJson {
            id: t.entry.id,
            kind: if t.is_folder { "folder" } else { "file" },
            item_id: t.entry.file_id.or(t.entry.folder_id).unwrap_or_default(),
            name: t.entry.name,
            size: t.entry.size,
            trashed_at: timestamp(t.entry.trashed_at),
            trashed_by: t.trashed_by,
            owner: t.owner,
            original_folder_id: t.entry.original_folder_id,
            may_delete: t.may_purge,
        }
    }
}

/// Where a restored item went.
#[derive(Serialize, ToSchema)]
pub struct RestoredJson {
    name: String,
    file_id: Option<i64>,
    folder_id: Option<i64>,
    /// The folder it is in now; `null`: the top level (a file: its owner's unsorted uploads).
    parent_id: Option<i64>,
    /// Files that were public but stay private for now (they could not be moved back).
    left_private: Vec<i64>,
}

/// `GET /api/v1/trash`: newest first.
#[utoipa::path(
    get, path = "/api/v1/trash", tag = "trash", operation_id = "listTrash",
    responses(
        (status = 200, description = "The items the caller deleted or owns (all for superusers)", body = Vec<TrashJson>),
        (status = 401, description = "Not authenticated", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    let st = state.get_ref().clone();
    let items = db::run(&state.pool, move |conn| {
        trash::list(&st.library, conn, &me.user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(items.into_iter().map(TrashJson::from).collect::<Vec<_>>()))
}

/// `POST /api/v1/trash/{id}/restore`.
#[utoipa::path(
    post, path = "/api/v1/trash/{id}/restore", tag = "trash", operation_id = "restoreFromTrash",
    params(("id" = i64, Path, description = "Trash entry id")),
    responses(
        (status = 200, description = "Restored", body = RestoredJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No right to add to its folder; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such entry, or not the caller's", body = ErrorJson),
        (status = 409, description = "Something changed meanwhile", body = ErrorJson),
        (status = 507, description = "The owner is over quota", body = ErrorJson),
    ),
)]
pub async fn restore(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (st, id) = (state.get_ref().clone(), id.into_inner());
    let r = db::run(&state.pool, move |conn| {
        trash::restore(&st.library, conn, &me.user, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RestoredJson {
        name: r.name,
        file_id: r.file_id,
        folder_id: r.folder_id,
        parent_id: r.parent,
        left_private: r.left_private.into_iter().map(|(id, _)| id).collect(),
    }))
}

/// `DELETE /api/v1/trash/{id}`: permanently.
#[utoipa::path(
    delete, path = "/api/v1/trash/{id}", tag = "trash", operation_id = "deleteFromTrash",
    params(("id" = i64, Path, description = "Trash entry id")),
    responses(
        (status = 204, description = "Deleted for good"),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not its owner nor a superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such entry, or not the caller's", body = ErrorJson),
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (st, id) = (state.get_ref().clone(), id.into_inner());
    db::run(&state.pool, move |conn| {
        trash::purge(&st.library, conn, &me.user, id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

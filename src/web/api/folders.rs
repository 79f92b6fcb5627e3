//! Folders: create, read, edit, delete, list children.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db;
use crate::domain::ids::{FolderId, UserId};
use crate::library::{folders, trash};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::double_option;
use super::json::{Created, Deleted, ErrorJson, FolderJson, Listing, files_json};

/// A new folder.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolder {
    /// Trimmed; 1–255 characters, no `/`, no control characters.
    #[serde(deserialize_with = "super::text")]
    name: String,
    /// Absent or `null`: the top level (superusers only).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    parent_id: Option<FolderId>,
    /// Absent, `null` or the caller's own id: the caller; another user: superusers only.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<UserId>,
}

/// `POST /api/v1/folders` → `{id}`.
#[utoipa::path(
    post, path = "/api/v1/folders", tag = "folders", operation_id = "createFolder",
    request_body = NewFolder,
    responses(
        (status = 201, description = "Created; only the id", body = Created),
        (status = 400, description = "Invalid body or name; the owner does not exist", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No add-children right on the parent; a top-level folder or another owner by a non-superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "The parent does not exist or the caller may not read it", body = ErrorJson),
        (status = 409, description = "A sibling has this name", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewFolder>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let st = state.get_ref().clone();
    let created = db::run(&state.pool, move |conn| {
        folders::create(
            &st.library,
            conn,
            &me.user,
            &body.name,
            body.parent_id,
            body.owner_id,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(Created { id: created.id }))
}

/// `GET /api/v1/folders/{id}`.
#[utoipa::path(
    get, path = "/api/v1/folders/{id}", tag = "folders", operation_id = "getFolder",
    params(("id" = i64, Path, description = "Folder id")),
    responses(
        (status = 200, description = "The folder", body = FolderJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 404, description = "No such folder, or the caller may not read it", body = ErrorJson),
    ),
)]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FolderId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        folders::readable(&st.library, conn, &me.user, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FolderJson::from(&f)))
}

/// Changes to a folder: an absent field stays unchanged.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderPatch {
    /// `null`: unchanged.
    #[serde(default, deserialize_with = "super::optional_text")]
    name: Option<String>,
    /// `null`: move to the top level (superusers only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    parent_id: Option<Option<FolderId>>,
    /// `null`: remove the owner (superusers only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Option<UserId>>,
}

/// `PATCH /api/v1/folders/{id}`: rename, move (`parent_id`, null = top level), re-own.
#[utoipa::path(
    patch, path = "/api/v1/folders/{id}", tag = "folders", operation_id = "updateFolder",
    params(("id" = i64, Path, description = "Folder id")),
    request_body = FolderPatch,
    responses(
        (status = 200, description = "The updated folder", body = FolderJson),
        (status = 400, description = "Invalid body or name; the target or owner does not exist; a move into itself or a subfolder", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No edit right on the folder or add-children right on the target; moving to the top level or re-owning by a non-superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such folder or target, or the caller may not read it", body = ErrorJson),
        (status = 409, description = "A sibling at the destination has this name", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FolderId>,
    body: web::Json<FolderPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let edit = folders::Edit {
        name: body.name,
        parent_id: body.parent_id,
        owner_id: body.owner_id,
    };
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        folders::update(&st.library, conn, &me.user, id, &edit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FolderJson::from(&f)))
}

/// `DELETE /api/v1/folders/{id}`: the folder, its subfolders and files, and their bytes.
#[utoipa::path(
    delete, path = "/api/v1/folders/{id}", tag = "folders", operation_id = "deleteFolder",
    params(
        ("id" = i64, Path, description = "Folder id"),
        ("permanent" = Option<bool>, Query, description = "Delete for good instead of moving to the trash (the folder's owner or a superuser)"),
    ),
    responses(
        (status = 200, description = "Moved to the trash (or deleted), with the counts", body = Deleted),
        (status = 400, description = "Invalid query (`permanent` is `true` or `false`, once)", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No edit right on the folder or on something inside it (nothing is deleted); CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such folder, or the caller may not read it", body = ErrorJson),
        (status = 409, description = "A file inside is being moved between storages", body = ErrorJson),
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FolderId>,
    query: web::Query<super::RemoveQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let how = query.removal();
    let counts = db::run(&state.pool, move |conn| {
        trash::remove_folder(&st.library, conn, &me.user, id, how)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Deleted {
        deleted_folders: counts.folders,
        deleted_files: counts.files,
        trashed: how == trash::Removal::Trash,
    }))
}

async fn listing(
    state: web::Data<AppState>,
    me: crate::auth::Identity,
    parent: Option<FolderId>,
) -> Result<HttpResponse, AppError> {
    let st = state.get_ref().clone();
    let listing = db::run(&state.pool, move |conn| {
        folders::children(&st.library, conn, &me.user, parent)
    })
    .await?;
    let folders = listing
        .folders
        .iter()
        .map(FolderJson::from)
        .collect::<Vec<_>>();
    let files = files_json(&state, listing.files).await?;
    Ok(HttpResponse::Ok().json(Listing { folders, files }))
}

/// `GET /api/v1/folders/{id}/children` → `{folders, files}` the caller may read.
#[utoipa::path(
    get, path = "/api/v1/folders/{id}/children", tag = "folders", operation_id = "listFolderChildren",
    params(("id" = i64, Path, description = "Folder id")),
    responses(
        (status = 200, description = "The subfolders and files the caller may read", body = Listing),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 404, description = "No such folder, or the caller may not read it", body = ErrorJson),
    ),
)]
pub async fn children(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FolderId>,
) -> Result<HttpResponse, AppError> {
    listing(state, me, Some(id.into_inner())).await
}

/// `GET /api/v1/folders`: the top-level folders and the caller's unsorted uploads.
#[utoipa::path(
    get, path = "/api/v1/folders", tag = "folders", operation_id = "listTopLevel",
    responses(
        (status = 200, description = "The top-level folders the caller may read and the unsorted uploads (a non-superuser's own only)", body = Listing),
        (status = 401, description = "Not authenticated", body = ErrorJson),
    ),
)]
pub async fn top_level(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    listing(state, me, None).await
}

//! Folders: create, read, edit, delete, list children.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::db;
use crate::error::AppError;
use crate::library::{delete, folders};
use crate::state::AppState;
use crate::web::identity::ApiUser;

use super::double_option;
use super::json::{FolderJson, files_json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFolder {
    name: String,
    #[serde(default)]
    parent_id: Option<i64>,
    #[serde(default)]
    owner_id: Option<i64>,
}

/// `POST /api/v1/folders` → `{id}`.
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewFolder>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let st = state.get_ref().clone();
    let created = db::run(&state.pool, move |conn| {
        Ok(folders::create(
            &st,
            conn,
            &me.user,
            &body.name,
            body.parent_id,
            body.owner_id,
        ))
    })
    .await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": created.id })))
}

/// `GET /api/v1/folders/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        Ok(folders::readable(&st, conn, &me.user, id))
    })
    .await??;
    Ok(HttpResponse::Ok().json(FolderJson::from(&f)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    owner_id: Option<Option<i64>>,
}

/// `PATCH /api/v1/folders/{id}`: rename, move (`parent_id`, null = top level), re-own.
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
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
        Ok(folders::update(&st, conn, &me.user, id, &edit))
    })
    .await??;
    Ok(HttpResponse::Ok().json(FolderJson::from(&f)))
}

/// `DELETE /api/v1/folders/{id}`: the folder, its subfolders and files, and their bytes.
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let counts = db::run(&state.pool, move |conn| {
        Ok(delete::delete_folder(&st, conn, &me.user, id))
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "deleted_folders": counts.folders,
        "deleted_files": counts.files,
    })))
}

async fn listing(
    state: web::Data<AppState>,
    me: crate::auth::Identity,
    parent: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let st = state.get_ref().clone();
    let listing = db::run(&state.pool, move |conn| {
        Ok(folders::children(&st, conn, &me.user, parent))
    })
    .await??;
    let folders = listing
        .folders
        .iter()
        .map(FolderJson::from)
        .collect::<Vec<_>>();
    let files = files_json(&state, listing.files).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "folders": folders,
        "files": files,
    })))
}

/// `GET /api/v1/folders/{id}/children` → `{folders, files}` the caller may read.
pub async fn children(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    listing(state, me, Some(id.into_inner())).await
}

/// `GET /api/v1/folders`: the top-level folders and the caller's unsorted uploads.
pub async fn top_level(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    listing(state, me, None).await
}

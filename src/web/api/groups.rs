//! Groups and memberships (superusers).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::accounts;
use crate::db::{self, models::group, models::user};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::identity::ApiUser;

use super::require_superuser;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    name: String,
}

/// `POST /api/v1/groups` → `{id}`.
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewGroup>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let name = body.into_inner().name;
    let id = db::run(&state.pool, move |conn| {
        Ok(accounts::create_group(conn, &name, &[]))
    })
    .await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Members {
    user_ids: Vec<i64>,
}

/// `PUT /api/v1/groups/{id}/members` → `{id, user_ids}`.
pub async fn set_members(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
    body: web::Json<Members>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let id = id.into_inner();
    let ids = body.into_inner().user_ids;
    let members = db::run(&state.pool, move |conn| {
        if group::find(conn, id)?.is_none() {
            return Ok(Err(AppError::NotFound));
        }
        for uid in &ids {
            if user::find(conn, *uid)?.is_none() {
                return Ok(Err(AppError::BadRequest(format!(
                    "user {uid} does not exist"
                ))));
            }
        }
        group::set_members(conn, id, &ids)?;
        Ok(Ok(group::members(conn, id)?))
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "id": id, "user_ids": members })))
}

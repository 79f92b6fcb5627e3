//! Groups and memberships (superusers).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts;
use crate::db;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{Created, ErrorJson, GroupMembers};
use super::require_superuser;

/// A new group.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Trimmed; 1–150 characters.
    #[serde(deserialize_with = "super::text")]
    name: String,
}

/// `POST /api/v1/groups` → `{id}`.
#[utoipa::path(
    post, path = "/api/v1/groups", tag = "groups", operation_id = "createGroup",
    request_body = NewGroup,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Invalid body or name", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser; CSRF token missing", body = ErrorJson),
        (status = 409, description = "A group has this name", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewGroup>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let name = body.into_inner().name;
    let id = db::run(&state.pool, move |conn| {
        accounts::create_group(conn, &name, &[])
    })
    .await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// A group's new members.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// Duplicates are ignored; empty removes every member.
    user_ids: Vec<i64>,
}

/// `PUT /api/v1/groups/{id}/members` → `{id, user_ids}`.
#[utoipa::path(
    put, path = "/api/v1/groups/{id}/members", tag = "groups", operation_id = "setGroupMembers",
    params(("id" = i64, Path, description = "Group id")),
    request_body = Members,
    responses(
        (status = 200, description = "The members now in the group", body = GroupMembers),
        (status = 400, description = "Invalid body; a user does not exist (nothing changes)", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such group", body = ErrorJson),
        (status = 409, description = "The group or a user was deleted meanwhile", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
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
        accounts::set_members(conn, id, &ids)
    })
    .await?;
    Ok(HttpResponse::Ok().json(GroupMembers {
        id,
        user_ids: members,
    }))
}

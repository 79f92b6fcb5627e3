//! Users (superusers manage them).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts;
use crate::db::{self, models::user};
use crate::domain::account::{Email, Username};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{Created, ErrorJson, UserJson};
use super::require_superuser;

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewUser)]
pub struct NewUserRequest {
    /// 1–150 letters, digits or `@.+-_`.
    #[serde(deserialize_with = "super::text")]
    username: String,
    /// 8–1024 characters.
    #[serde(deserialize_with = "super::text")]
    password: String,
    /// Default `""`.
    #[serde(default, deserialize_with = "super::optional_text")]
    email: Option<String>,
    /// Default `false`.
    #[serde(default)]
    is_staff: Option<bool>,
    /// Default `false`.
    #[serde(default)]
    is_superuser: Option<bool>,
    /// Default `true`.
    #[serde(default)]
    is_active: Option<bool>,
}

/// `POST /api/v1/users` → `{id}`.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", operation_id = "createUser",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Invalid body, username or password", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser; CSRF token missing", body = ErrorJson),
        (status = 409, description = "The username is taken", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewUserRequest>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let body = body.into_inner();
    let new = accounts::NewAccount {
        username: Username::parse(&body.username)?,
        email: Email::parse_optional(body.email.as_deref().unwrap_or_default())?,
        is_active: body.is_active.unwrap_or(true),
        is_staff: body.is_staff.unwrap_or(false),
        is_superuser: body.is_superuser.unwrap_or(false),
        group_ids: Vec::new(),
    };
    let passwords = state.passwords.clone();
    let id = db::run(&state.pool, move |conn| {
        accounts::create_account(conn, &passwords, &new, &body.password)
    })
    .await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// `GET /api/v1/users` (superusers).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", operation_id = "listUsers",
    responses(
        (status = 200, description = "Every user, ordered by username", body = Vec<UserJson>),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let users = db::run(&state.pool, user::list).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(UserJson::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/users/me`.
#[utoipa::path(
    get, path = "/api/v1/users/me", tag = "users", operation_id = "getMe",
    responses(
        (status = 200, description = "The caller", body = UserJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
    ),
)]
pub async fn me(ApiUser(me): ApiUser) -> HttpResponse {
    HttpResponse::Ok().json(UserJson::from(&me.user))
}

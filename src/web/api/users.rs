//! Users (superusers manage them).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::accounts;
use crate::db::{self, models::user};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::identity::ApiUser;

use super::json::timestamp;
use super::require_superuser;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    username: String,
    password: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    is_staff: Option<bool>,
    #[serde(default)]
    is_superuser: Option<bool>,
    #[serde(default)]
    is_active: Option<bool>,
}

/// `POST /api/v1/users` → `{id}`.
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewUserRequest>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let body = body.into_inner();
    accounts::check_username(&body.username)?;
    let passwords = state.passwords.clone();
    let hash = web::block(move || passwords.hash(&body.password))
        .await
        .map_err(AppError::unexpected)?
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let new = user::NewUser {
        username: body.username,
        email: body.email.unwrap_or_default(),
        password_hash: hash,
        is_active: body.is_active.unwrap_or(true),
        is_staff: body.is_staff.unwrap_or(false),
        is_superuser: body.is_superuser.unwrap_or(false),
    };
    let id = db::run(&state.pool, move |conn| user::create(conn, &new))
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                AppError::Conflict("this username is taken".into())
            } else {
                e.into()
            }
        })?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

fn user_json(u: &user::User) -> serde_json::Value {
    serde_json::json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "is_active": u.is_active,
        "is_staff": u.is_staff,
        "is_superuser": u.is_superuser,
        "created_at": timestamp(u.created_at),
    })
}

/// `GET /api/v1/users` (superusers).
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let users = db::run(&state.pool, user::list).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(user_json).collect::<Vec<_>>()))
}

/// `GET /api/v1/users/me`.
pub async fn me(ApiUser(me): ApiUser) -> HttpResponse {
    HttpResponse::Ok().json(user_json(&me.user))
}

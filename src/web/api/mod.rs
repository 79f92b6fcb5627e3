//! The JSON API under `/api/v1` (see `docs/api.md`). Bearer tokens or the session cookie
//! (with `X-CSRF-Token` on writes) identify the caller; errors are `{"error": "..."}`.

pub mod audit;
mod files;
mod folders;
mod groups;
pub mod json;
pub mod openapi;
mod permissions;
pub mod shares;
mod tokens;
mod trash;
pub mod users;
mod versions;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::web;
use serde::Deserialize;

use crate::web::error::AppError;

/// Registers the API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::JsonConfig::default().error_handler(|e, _| json_error(e).into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .route("/openapi.json", web::get().to(openapi::document))
            .route("/tokens", web::post().to(tokens::create))
            .route("/users", web::post().to(users::create))
            .route("/users", web::get().to(users::list))
            .route("/users/me", web::get().to(users::me))
            .route("/groups", web::post().to(groups::create))
            .route("/groups/{id}/members", web::put().to(groups::set_members))
            .route("/folders", web::post().to(folders::create))
            .route("/folders", web::get().to(folders::top_level))
            .route("/folders/{id}", web::get().to(folders::get))
            .route("/folders/{id}", web::patch().to(folders::update))
            .route("/folders/{id}", web::delete().to(folders::delete))
            .route("/folders/{id}/children", web::get().to(folders::children))
            .route("/files", web::post().to(files::upload))
            .route("/files/{id}", web::get().to(files::get))
            .route("/files/{id}", web::patch().to(files::update))
            .route("/files/{id}", web::delete().to(files::delete))
            .route("/files/{id}/versions", web::get().to(versions::list))
            .route(
                "/files/{id}/versions/{version}/restore",
                web::post().to(versions::restore),
            )
            .route("/folder-permissions", web::post().to(permissions::create))
            .route("/folder-permissions", web::get().to(permissions::list))
            .route("/folder-permissions/{id}", web::get().to(permissions::get))
            .route(
                "/folder-permissions/{id}",
                web::delete().to(permissions::delete),
            )
            .route("/permissions/check", web::get().to(permissions::check))
            .route("/audit", web::get().to(audit::list))
            .route("/shares", web::post().to(shares::create))
            .route("/shares", web::get().to(shares::list))
            .route("/shares/{id}", web::get().to(shares::get))
            .route("/shares/{id}", web::delete().to(shares::revoke))
            .route("/trash", web::get().to(trash::list))
            .route("/trash/{id}/restore", web::post().to(trash::restore))
            .route("/trash/{id}", web::delete().to(trash::delete))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(AppError::NotFound)
            })),
    );
}

/// A JSON body that cannot be read: 415 for another content type, 413 for one over the
/// limit, 400 for the rest.
fn json_error(e: JsonPayloadError) -> AppError {
    match e {
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::PayloadTooLarge(limit as u64)
        }
        e => AppError::BadRequest(format!("invalid JSON body: {e}")),
    }
}

fn query_error(e: QueryPayloadError) -> AppError {
    AppError::BadRequest(format!("invalid query: {e}"))
}

/// Refuses non-superusers.
pub fn require_superuser(user: &crate::db::models::User) -> Result<(), AppError> {
    if user.is_superuser {
        Ok(())
    } else {
        Err(AppError::Forbidden("only superusers may do this".into()))
    }
}

/// Distinguishes an absent JSON field from an explicit `null` (for PATCH bodies).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

const NUL_REFUSED: &str = "text may not contain NUL characters";

/// A JSON string without NUL characters (PostgreSQL refuses them in text columns, SQLite
/// would store them): refused alike on both databases, before anything is looked up.
pub fn text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let s = String::deserialize(de)?;
    if s.contains('\0') {
        return Err(serde::de::Error::custom(NUL_REFUSED));
    }
    Ok(s)
}

/// [`text`] for optional fields.
pub fn optional_text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(de)?;
    if s.as_deref().is_some_and(|s| s.contains('\0')) {
        return Err(serde::de::Error::custom(NUL_REFUSED));
    }
    Ok(s)
}

/// `?permanent=true` on a `DELETE`: for good instead of to the trash.
#[derive(Deserialize, Default)]
pub struct RemoveQuery {
    #[serde(default)]
    permanent: bool,
}

impl RemoveQuery {
    fn removal(&self) -> crate::library::trash::Removal {
        if self.permanent {
            crate::library::trash::Removal::Permanent
        } else {
            crate::library::trash::Removal::Trash
        }
    }
}

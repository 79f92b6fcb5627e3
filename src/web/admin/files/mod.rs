//! The file page (details, "Permissions disabled", move, owner, replace, delete, who can
//! read it; for images the preview, size, date taken, alt text, caption and focal point) and
//! uploads from the admin (plain form and per-file XHR with progress).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::db;
use crate::db::models::File;
use crate::db::models::ImageMeta;
use crate::domain::ids::{FileId, FolderId, UserId};
use crate::library::image_files::{self, Look};
use crate::library::picker::Destination;
use crate::library::readers::Reader;
use crate::library::{self, files, trash, upload};
use crate::state::AppState;
use crate::web::admin::context::{
    Layout, RemoveForm, Staff, check_csrf, page, redirect_with_flash,
};
use crate::web::api::json::{ImageJson, file_url, timestamp};
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;
use crate::web::listing::{Thumb, no_thumbnail_reason, stable_url, type_icon};
use crate::web::viewer::Shown;

mod detail;
mod remove;
mod replace;
mod uploads;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/files/{id}", web::get().to(detail::show))
        .route("/admin/files/{id}", web::post().to(detail::update))
        .route(
            "/admin/files/{id}/replace",
            web::post().to(replace::replace),
        )
        .route(
            "/admin/files/{id}/versions/{version}/restore",
            web::post().to(replace::restore_version),
        )
        .route(
            "/admin/files/{id}/delete",
            web::get().to(remove::delete_confirm),
        )
        .route(
            "/admin/files/{id}/delete",
            web::post().to(remove::delete_file),
        )
        .route("/admin/upload", web::post().to(uploads::upload_files));
}

fn back_to(f: &File) -> String {
    f.folder_id.map_or_else(
        || "/admin/folders/unsorted".to_owned(),
        |id| format!("/admin/folders/{id}"),
    )
}

/// Reads the first multipart field, which must be the CSRF token (so that no file is
/// streamed for a forged request).
async fn csrf_first(form: &mut Multipart, staff: &Staff) -> Result<(), AppError> {
    let bad =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("invalid upload: {e}"));
    let mut field = form.try_next().await.map_err(bad)?.ok_or(AppError::Csrf)?;
    if field.name() != Some("csrf_token") {
        return Err(AppError::Csrf);
    }
    let mut value = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(bad)? {
        value.extend_from_slice(&chunk);
        if value.len() > 256 {
            return Err(AppError::Csrf);
        }
    }
    check_csrf(staff, &String::from_utf8_lossy(&value))
}

async fn small_field(field: &mut actix_multipart::Field) -> Result<String, AppError> {
    let mut value = Vec::new();
    while let Some(chunk) = field
        .try_next()
        .await
        .map_err(|e| AppError::BadRequest(format!("invalid upload: {e}")))?
    {
        value.extend_from_slice(&chunk);
        if value.len() > 4096 {
            return Err(AppError::BadRequest("form field too long".into()));
        }
    }
    String::from_utf8(value).map_err(|_| AppError::BadRequest("form field is not UTF-8".into()))
}

fn file_body(
    field: actix_multipart::Field,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())))
}

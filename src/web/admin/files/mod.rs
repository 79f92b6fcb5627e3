//! The file page (details, "Permissions disabled", move, owner, replace, delete, who can
//! read it; for images the preview, size, date taken, alt text, caption and focal point) and
//! uploads from the admin (plain form and per-file XHR with progress).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::TryStreamExt;
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
mod embed;
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
        .route("/admin/files/{id}/embed", web::post().to(embed::embed_link))
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

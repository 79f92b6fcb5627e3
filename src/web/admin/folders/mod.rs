//! The folder browser and folder actions: list (root, unsorted uploads, a folder; sort,
//! search, views, pages; images with their thumbnails), create, rename or move, delete.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::file::Order;
use crate::db::models::folder;
use crate::domain::ids::{FolderId, UserId};
use crate::library::browse::{self, Place, Query};
use crate::library::image_files::Look;
use crate::library::picker::Destination;
use crate::library::{delete, folders, trash};
use crate::state::AppState;
use crate::web::admin::context::{
    Layout, RemoveForm, Staff, check_csrf, page, redirect_with_flash,
};
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;
use crate::web::listing::{
    PlaceStep, Thumb, download_url, no_thumbnail_reason, place_steps, type_icon,
};

mod form;
mod listing;
mod remove;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/folders/", web::get().to(listing::root))
        .route("/admin/folders/unsorted", web::get().to(listing::unsorted))
        .route("/admin/folders/new", web::get().to(form::new_form))
        .route("/admin/folders/new", web::post().to(form::create))
        .route("/admin/folders/{id}", web::get().to(listing::show))
        .route("/admin/folders/{id}/edit", web::get().to(form::edit_form))
        .route("/admin/folders/{id}/edit", web::post().to(form::update))
        .route(
            "/admin/folders/{id}/delete",
            web::get().to(remove::delete_confirm),
        )
        .route(
            "/admin/folders/{id}/delete",
            web::post().to(remove::delete_folder),
        );
}

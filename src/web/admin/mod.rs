//! The admin pages under `/admin`: folder browser, uploads, file pages, bulk actions,
//! folder permissions, users and groups. Active staff only; managing users, groups and
//! permissions is for superusers. Every POST form carries the session's CSRF token.

mod audit;
mod bulk;
mod context;
mod files;
mod folders;
mod groups;
mod permissions;
mod trash;
mod users;

use actix_web::web;

pub use context::{
    Flash, Layout, Staff, Superuser, check_csrf, forget_flash, read_flash, redirect,
    redirect_with_flash, refusal,
};

/// Registers the admin routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin",
        web::get().to(|| async { context::redirect("/admin/folders/") }),
    )
    .route(
        "/admin/",
        web::get().to(|| async { context::redirect("/admin/folders/") }),
    )
    .configure(folders::configure)
    .configure(files::configure)
    .configure(bulk::configure)
    .configure(permissions::configure)
    .configure(users::configure)
    .configure(groups::configure)
    .configure(trash::configure)
    .configure(audit::configure);
}

//! HTTP: routes, pages, the checked download view and the JSON API. Handlers are thin:
//! they parse, identify the caller, call into `library` and render.

mod account;
pub mod admin;
pub mod api;
pub mod audit_trail;
mod body_end;
mod contribute;
mod downloads;
pub mod error;
pub mod errors;
mod health;
mod icons;
pub mod identity;
mod listing;
mod pages;
mod share_downloads;
mod share_links;
mod share_manage;
mod share_previews;
pub mod timeout;
mod upload_names;
pub mod uploads;
mod viewer;
pub mod zip_download;

use std::path::Path;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{guard, web};

use crate::config::Settings;
use crate::storage::{StorageRole, StorageSettings, sniff};

pub use pages::human_size;

/// The largest urlencoded form a page accepts.
const FORM_LIMIT: usize = 64 * 1024;

/// Security headers of Coffer's own pages.
pub(crate) fn page_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
}

/// Registers every route for `settings`.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/healthz", web::head().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/readyz", web::head().to(health::readyz));
    api::configure(cfg);
    let private = settings.private.base_url.clone();
    let private_thumbs = settings.private_thumbnails.base_url.clone();
    let get_or_head = || guard::Any(guard::Get()).or(guard::Head());
    cfg.service(
        web::scope("")
            .wrap(from_fn(errors::with_site_header))
            // Extractor failures of pages and downloads are pages too.
            .app_data(web::PathConfig::default().error_handler(|_, _| errors::not_found()))
            .app_data(web::QueryConfig::default().error_handler(errors::query))
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT)
                    .error_handler(errors::form),
            )
            .service(
                web::scope(private.trim_end_matches('/'))
                    .default_service(web::to(downloads::private_file)),
            )
            .service(
                web::scope(private_thumbs.trim_end_matches('/'))
                    .default_service(web::to(downloads::private_thumbnail)),
            )
            // Share links before every other pattern: a visitor's download is matched
            // by a plain prefix, then against few patterns.
            .configure(share_links::configure)
            .service(
                web::resource("/files/{id}/thumbnails/{preset}")
                    .route(
                        web::route()
                            .guard(get_or_head())
                            .to(downloads::preset_thumbnail),
                    )
                    .default_service(web::to(downloads::method_not_allowed)),
            )
            .service(
                web::resource("/embed/{id}/{preset}")
                    .route(
                        web::route()
                            .guard(get_or_head())
                            .to(downloads::embedded_thumbnail),
                    )
                    .default_service(web::to(downloads::method_not_allowed)),
            )
            .service(
                web::resource("/files/{id}/versions/{version}")
                    .route(web::route().guard(get_or_head()).to(downloads::version))
                    .default_service(web::to(downloads::method_not_allowed)),
            )
            .service(
                web::resource("/files/{id}/{name:.*}")
                    .route(web::route().guard(get_or_head()).to(downloads::stable))
                    .default_service(web::to(downloads::method_not_allowed)),
            )
            .configure(|cfg| public_storage(cfg, &settings.public, StorageRole::Public))
            .configure(|cfg| {
                public_storage(
                    cfg,
                    &settings.public_thumbnails,
                    StorageRole::PublicThumbnails,
                )
            })
            .service(
                web::scope("")
                    .wrap(page_headers())
                    .route("/", web::get().to(pages::browse))
                    .route("/folders/{id}", web::get().to(pages::browse))
                    .route("/folders/{id}/zip", web::get().to(zip_download::folder))
                    .route("/admin/zip", web::get().to(zip_download::selection))
                    .route(
                        "/folders/{id}/upload",
                        web::post().to(contribute::upload_files),
                    )
                    .route(
                        "/folders/{id}/folders",
                        web::post().to(contribute::create_folder),
                    )
                    .route("/files/{id}", web::get().to(viewer::file_page))
                    .route("/login", web::get().to(pages::login_form))
                    .route("/login", web::post().to(pages::login))
                    .route("/logout", web::post().to(pages::logout))
                    .route("/account/password", web::get().to(account::password_form))
                    .route(
                        "/account/password",
                        web::post().to(account::change_password),
                    )
                    .route("/uploads/taken", web::get().to(upload_names::taken))
                    .route("/shares", web::post().to(share_manage::create))
                    .route("/shares/{id}/revoke", web::post().to(share_manage::revoke))
                    .route("/account/shares", web::get().to(share_manage::page))
                    .route("/static/coffer.css", web::get().to(pages::stylesheet))
                    .route("/static/coffer.js", web::get().to(pages::script))
                    .route("/static/icons/{name}", web::get().to(icons::icon))
                    .configure(admin::configure),
            ),
    );
}

/// Serves a public storage directly, so a standalone Coffer works without a web server in
/// front (in production the web server serves these paths). Hidden names (`.tmp`) and
/// anything reached through a symbolic link are refused; active types are sent as
/// attachments and every response is sandboxed.
///
/// A public storage of kind `"s3"` at a path URL is streamed from the bucket the same way
/// (`downloads::public_object`), with Range and conditional requests.
fn public_storage(cfg: &mut web::ServiceConfig, settings: &StorageSettings, role: StorageRole) {
    let (base_url, dir) = (settings.base_url.as_str(), settings.dir.as_path());
    if !base_url.starts_with('/') {
        return; // Served elsewhere (an absolute URL, e.g. a CDN).
    }
    if settings.prefix.is_some() {
        cfg.service(
            web::scope(base_url.trim_end_matches('/'))
                .app_data(web::Data::new(role))
                .service(
                    web::resource("/{key:.*}")
                        .route(
                            web::route()
                                .guard(guard::Any(guard::Get()).or(guard::Head()))
                                .to(downloads::public_object),
                        )
                        .default_service(web::to(downloads::method_not_allowed)),
                ),
        );
        return;
    }
    let root = dir.to_path_buf();
    let ranges_root = dir.to_path_buf();
    let mount = base_url.trim_end_matches('/').to_owned();
    cfg.service(
        web::scope(&mount)
            .wrap(from_fn(move |req, next| {
                downloads::public_range(ranges_root.clone(), req, next)
            }))
            .wrap(from_fn(attachment_unless_safe))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Content-Security-Policy", "default-src 'none'; sandbox")),
            )
            .service(
                actix_files::Files::new("", dir)
                    .path_filter(move |path, _| no_links_below(&root, path)),
            ),
    );
}

/// Public files of an active type (HTML, SVG, XML, unknown…) go out as attachments.
async fn attachment_unless_safe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if res.status().is_success() && !sniff::is_inline_safe(&content_type) {
        let disposition = res
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.replacen("inline", "attachment", 1))
            .unwrap_or_else(|| "attachment".into());
        if let Ok(value) = header::HeaderValue::from_str(&disposition) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(res)
}

/// True when no component of `rel` below `root` is a symbolic link.
fn no_links_below(root: &Path, rel: &Path) -> bool {
    let mut cur = root.to_path_buf();
    for part in rel.components() {
        cur.push(part);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(_) => {}
            Err(_) => return true, // missing: actix-files answers 404 itself
        }
    }
    true
}

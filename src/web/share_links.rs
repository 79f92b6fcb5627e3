//! The visitor's side of share links, `/s/<token>`: the pages, the password form and the
//! drop form. No account, nothing to learn from a link that does not work (a plain 404
//! page), the admin's security headers plus `Referrer-Policy: no-referrer` and `noindex`.
//! The downloads are in `share_downloads`, the previews in `share_previews`.

use actix_multipart::Multipart;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::csrf;
use crate::db;
use crate::library::image_files::Look;
use crate::library::shares::{self, Kind, Opened, Unlock};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;
use crate::web::listing::{Thumb, no_thumbnail_reason, type_icon};
use crate::web::uploads::{self, Sender};
use crate::web::{share_downloads, share_previews};

/// Registers `/s/…`: one scope behind a plain prefix, so no other request is matched
/// against these patterns and a link's request against few (downloads first).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| {
        web::resource(path).default_service(web::to(|| async {
            Err::<HttpResponse, PageError>(AppError::NotFound.into())
        }))
    };
    cfg.service(
        web::scope("/s")
            .wrap(super::page_headers())
            .service(
                resource("/{token}/download")
                    .route(web::get().to(share_downloads::download))
                    .route(web::head().to(share_downloads::download)),
            )
            .service(
                resource("/{token}/files/{id}")
                    .route(web::get().to(share_downloads::file_in_folder))
                    .route(web::head().to(share_downloads::file_in_folder)),
            )
            .service(
                resource("/{token}/thumbnails/{id}/{preset}")
                    .route(web::get().to(super::share_previews::thumbnail))
                    .route(web::head().to(super::share_previews::thumbnail)),
            )
            .service(
                resource("/{token}")
                    .route(web::get().to(page))
                    .route(web::post().to(unlock)),
            )
            .service(resource("/{token}/folders/{id}").route(web::get().to(folder_page)))
            .service(resource("/{token}/upload").route(web::post().to(drop_files)))
            .service(resource("/{token}/zip").route(web::get().to(share_downloads::zip))),
    );
}

/// The double-submit token of the visitor's forms (they have no session).
const FORM_COOKIE: &str = "coffer_share_form";

fn proof_cookie(share_id: i64) -> String {
    format!("coffer_share_{share_id}")
}

/// A visitor's answer: `noindex`, no referrer.
pub(super) fn visitor(mut res: HttpResponse) -> HttpResponse {
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        header::HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    res
}

/// The link, if it works now; 404 otherwise, whatever the reason.
pub(super) async fn opened(state: &web::Data<AppState>, token: &str) -> Result<Opened, AppError> {
    let (st, token) = (state.get_ref().clone(), token.to_owned());
    let at = state.library.changes.now();
    db::read_inline(&state.pool, &state.settings.database, move |conn| {
        Ok(shares::open_at(&st.library, conn, &token, at))
    })
    .await?
    .map_err(|e| match e {
        crate::library::Error::NotFound => AppError::NotFound,
        other => other.into(),
    })
}

/// Whether the visitor unlocked a password-protected link.
pub(super) fn unlocked(req: &HttpRequest, o: &Opened) -> bool {
    match shares::proof(&o.share) {
        None => true,
        Some(proof) => req
            .cookie(&proof_cookie(o.share.id))
            .is_some_and(|c| csrf::matches(&proof, Some(c.value()))),
    }
}

/// A file or folder row of a folder link's listing.
struct Row {
    id: i64,
    name: String,
    size: String,
    icon: &'static str,
    /// An image's thumbnail through the link.
    thumb: Option<Thumb>,
    /// Why an image has no thumbnail.
    failure: Option<String>,
}

#[derive(Template)]
#[template(path = "share.html")]
struct SharePage {
    token: String,
    label: String,
    /// Needs the password first.
    locked: bool,
    /// Why the last password was refused.
    refusal: Option<String>,
    form_token: String,
    kind: &'static str,
    /// A file link's file: (name, size, type, icon).
    file: Option<(String, String, String, &'static str)>,
    /// A file link's image, previewed through the link.
    preview: Option<Thumb>,
    /// A folder link: the folder shown, its path below the shared folder.
    folder_name: String,
    /// The shared folder's name (the first step of the path).
    root_name: String,
    /// Whether the folder shown is a subfolder of the shared one.
    below_root: bool,
    crumbs: Vec<(i64, String)>,
    folders: Vec<Row>,
    files: Vec<Row>,
    max_upload_human: String,
    max_upload: u64,
    flash: Option<crate::web::admin::Flash>,
}

impl SharePage {
    fn new(token: &str, o: &Opened, form_token: String, max_upload: u64) -> Self {
        SharePage {
            token: token.to_owned(),
            label: o.share.label.clone(),
            locked: false,
            refusal: None,
            form_token,
            kind: o.kind.as_str(),
            file: o.file.as_ref().map(|f| {
                (
                    f.label().to_owned(),
                    human_size(f.size),
                    f.mime_type.clone(),
                    type_icon(&f.mime_type),
                )
            }),
            preview: None,
            folder_name: o
                .folder
                .as_ref()
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            root_name: o
                .folder
                .as_ref()
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            below_root: false,
            crumbs: Vec::new(),
            folders: Vec::new(),
            files: Vec::new(),
            max_upload_human: human_size(i64::try_from(max_upload).unwrap_or(i64::MAX)),
            max_upload,
            flash: None,
        }
    }
}

/// The form token the visitor's browser holds, or a new one (set by [`render`]).
fn form_token(req: &HttpRequest) -> (String, bool) {
    match req.cookie(FORM_COOKIE) {
        Some(c) if c.value().len() == 64 => (c.value().to_owned(), false),
        _ => (crate::auth::random_secret(), true),
    }
}

fn render(
    page: SharePage,
    status: StatusCode,
    new_form_token: bool,
) -> Result<HttpResponse, PageError> {
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?);
    if new_form_token {
        let c = Cookie::build(FORM_COOKIE, page.form_token.clone())
            .path("/s/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .finish();
        let _ = res.add_cookie(&c);
    }
    if page.flash.is_some() {
        crate::web::admin::forget_flash(&mut res);
    }
    Ok(visitor(res))
}

/// `GET /s/{token}`: the item, a password form, or the drop form.
async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let o = opened(&state, &token).await?;
    let (form, new) = form_token(&req);
    let mut p = SharePage::new(&token, &o, form, state.settings.max_upload_size);
    p.flash = crate::web::admin::read_flash(&req);
    if !unlocked(&req, &o) {
        p.locked = true;
        return render(p, StatusCode::OK, new);
    }
    if o.kind == Kind::Download && o.folder.is_some() {
        fill_listing(&state, &o, None, &mut p).await?;
    }
    if let (Kind::Download, Some(f)) = (o.kind, &o.file) {
        let o2 = o.clone();
        let look = db::run(&state.pool, move |conn| shares::look_of(conn, &o2)).await?;
        p.preview = look.and_then(|look| {
            Thumb::at(&state, f, &look, ("preview-420", "preview-420"), |preset| {
                share_previews::url(&token, f.id, preset)
            })
        });
    }
    render(p, StatusCode::OK, new)
}

async fn fill_listing(
    state: &web::Data<AppState>,
    o: &Opened,
    folder: Option<i64>,
    p: &mut SharePage,
) -> Result<(), PageError> {
    let (st, o2) = (state.get_ref().clone(), o.clone());
    let l = db::run(&state.pool, move |conn| {
        shares::listing(&st.library, conn, &o2, folder)
    })
    .await
    .map_err(|e| match e {
        crate::library::Error::NotFound => AppError::NotFound,
        other => other.into(),
    })?;
    p.below_root = o.folder.as_ref().is_some_and(|r| r.id != l.folder.id);
    p.folder_name = l.folder.name.clone();
    p.crumbs = l.crumbs;
    p.folders = l
        .folders
        .into_iter()
        .map(|f| Row {
            id: f.id,
            name: f.name,
            size: String::new(),
            icon: "folder",
            thumb: None,
            failure: None,
        })
        .collect();
    let token = p.token.clone();
    p.files = l
        .files
        .into_iter()
        .map(|f| {
            let look = l.looks.get(&f.id).cloned().unwrap_or(Look::Icon);
            Row {
                id: f.id,
                name: f.label().to_owned(),
                size: human_size(f.size),
                icon: type_icon(&f.mime_type),
                thumb: Thumb::at(state, &f, &look, ("icon-120", "icon-240"), |preset| {
                    share_previews::url(&token, f.id, preset)
                }),
                failure: no_thumbnail_reason(&look),
            }
        })
        .collect();
    Ok(())
}

/// `GET /s/{token}/folders/{id}`: a subfolder of a folder link.
async fn folder_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, PageError> {
    let (token, id) = path.into_inner();
    let o = opened(&state, &token).await?;
    if !unlocked(&req, &o) {
        return Ok(visitor(crate::web::admin::redirect(&format!("/s/{token}"))));
    }
    let (form, new) = form_token(&req);
    let mut p = SharePage::new(&token, &o, form, state.settings.max_upload_size);
    fill_listing(&state, &o, Some(id), &mut p).await?;
    render(p, StatusCode::OK, new)
}

/// The password form.
#[derive(Deserialize)]
struct UnlockForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    password: String,
}

/// `POST /s/{token}`: the link's password.
async fn unlock(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<UnlockForm>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let o = opened(&state, &token).await?;
    let (expected, _) = form_token(&req);
    if req.cookie(FORM_COOKIE).is_none() || !csrf::matches(&expected, Some(&form.form_token)) {
        return Err(AppError::Csrf.into());
    }
    let address = crate::web::identity::client_address(
        &req,
        state.settings.session.client_address_header.as_deref(),
    );
    let (st, share, password) = (
        state.get_ref().clone(),
        o.share.clone(),
        form.password.clone(),
    );
    let answer = db::run(&state.pool, move |conn| {
        shares::unlock(
            conn,
            &st.passwords,
            &st.throttle(),
            &share,
            &password,
            &address,
        )
    })
    .await?;
    match answer {
        Unlock::Open(proof) => {
            let mut res = crate::web::admin::redirect(&format!("/s/{token}"));
            let c = Cookie::build(proof_cookie(o.share.id), proof)
                .path(format!("/s/{token}"))
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(state.settings.session.cookie_secure)
                .finish();
            let _ = res.add_cookie(&c);
            Ok(visitor(res))
        }
        Unlock::Refused | Unlock::Throttled(_) => {
            let mut p = SharePage::new(&token, &o, expected, state.settings.max_upload_size);
            p.locked = true;
            p.refusal = Some(match answer {
                Unlock::Throttled(wait) => crate::auth::throttle::refusal_message(wait),
                _ => "That password is not right.".to_owned(),
            });
            let status = if matches!(answer, Unlock::Throttled(_)) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::FORBIDDEN
            };
            render(p, status, false)
        }
    }
}

/// `POST /s/{token}/upload`: a drop link's upload (multipart: `csrf_token` — the visitor's
/// form token — first, then the files). The files belong to the link's creator; the visitor
/// sees nothing in the folder.
async fn drop_files(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let o = opened(&state, &token).await?;
    if !unlocked(&req, &o) {
        return Err(AppError::NotFound.into());
    }
    let target = shares::drop_target(&o).map_err(|_| AppError::NotFound)?;
    let Some(expected) = req.cookie(FORM_COOKIE).map(|c| c.value().to_owned()) else {
        return Err(AppError::Csrf.into());
    };
    let back: fn(&crate::library::upload::UploadTarget) -> String = |_| String::new();
    let res = uploads::receive(
        &req,
        &state,
        Sender {
            user: &o.creator,
            csrf_token: &expected,
            fields: crate::library::upload::FieldNames::Drop,
            discreet: true,
        },
        form,
        target,
        back,
        |_| String::new(),
    )
    .await?;
    // Back to the link's page (the plain form), never to the folder.
    if res.status() == StatusCode::SEE_OTHER {
        let mut to = crate::web::admin::redirect(&format!("/s/{token}"));
        for c in res.cookies() {
            let _ = to.add_cookie(&c);
        }
        return Ok(visitor(to));
    }
    Ok(visitor(res))
}

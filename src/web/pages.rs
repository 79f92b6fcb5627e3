//! The plain HTML pages: log in, log out, and a read-only browser of what the user may read.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::login::{self, Attempt};
use crate::auth::{self, csrf, throttle};
use crate::db;
use crate::db::models::file::Order;
use crate::library::browse::{self, Place, Query};
use crate::library::image_files::Look;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::errors::PageError;

use super::identity::{caller, client_address, credentials};
use super::listing::{PlaceStep, Thumb, download_url, no_thumbnail_reason, place_steps, type_icon};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// The `next` a log-in form carries (only paths on this site are followed after log-in,
/// no open redirect: see [`crate::domain::next`]): a path on this site, or empty when none was asked for
/// (then the log-in lands where the user works: [`landing`]).
fn asked_next(next: Option<&str>) -> String {
    next.and_then(crate::domain::next::local_path)
        .unwrap_or_default()
}

/// Where a log-in without `next` lands: the admin for staff, the reader's browser for the
/// others.
pub fn landing(is_staff: bool) -> &'static str {
    if is_staff { "/admin/folders/" } else { "/" }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// Set by the redirect after a password change.
    password_changed: Option<String>,
}

fn login_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(csrf::LOGIN_COOKIE, token.to_owned())
        .path("/login")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

/// `GET /login`.
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let token = req
        .cookie(csrf::LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64)
        .unwrap_or_else(auth::random_secret);
    let next = asked_next(q.next.as_deref());
    let page = LoginPage {
        csrf_token: &token,
        next: &next,
        username: "",
        error: None,
        notice: q
            .password_changed
            .is_some()
            .then_some("Your password has been changed. Log in with the new one."),
    }
    .render()?;
    let mut res = html(page);
    res.add_cookie(&login_cookie(&token, state.settings.session.cookie_secure))
        .map_err(AppError::unexpected)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
    next: Option<String>,
}

/// What a log-in attempt on the form came to.
enum LogIn {
    /// The password was right: a new session, with this cookie value, for a staff member
    /// or not.
    Started(String, bool),
    /// Wrong username or password, or an inactive account.
    Refused,
    /// Too many recent failures: the password was not checked.
    Throttled { retry_after: time::Duration },
}

/// `POST /login`: checks the CSRF pair and the password; a new session replaces any old one.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let cookie = req.cookie(csrf::LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !cookie
        .as_deref()
        .is_some_and(|c| csrf::matches(c, Some(&form.csrf_token)))
    {
        return Err(AppError::Csrf.into());
    }
    let old = credentials(&req, &state.settings.session.cookie_name).session;
    let address = client_address(
        &req,
        state.settings.session.client_address_header.as_deref(),
    );
    let st = state.get_ref().clone();
    let (username, password) = (form.username.clone(), form.password.clone());
    let ttl = state.session_ttl();
    let result = db::run(&state.pool, move |conn| {
        let u = match login::attempt(
            conn,
            &st.passwords,
            &st.throttle(),
            &username,
            &password,
            &address,
        )? {
            Attempt::Accepted(u) => u,
            Attempt::Refused => return Ok(LogIn::Refused),
            Attempt::Throttled { retry_after } => return Ok(LogIn::Throttled { retry_after }),
        };
        // A new session every time: an old one (maybe planted) is never reused.
        let secret = auth::session::start(conn, u.id, old.as_deref(), ttl)?;
        Ok::<_, AppError>(LogIn::Started(secret, u.is_staff || u.is_superuser))
    })
    .await?;
    let (secret, is_staff) = match result {
        LogIn::Started(secret, is_staff) => (secret, is_staff),
        refused @ (LogIn::Refused | LogIn::Throttled { .. }) => {
            let throttled = match refused {
                LogIn::Throttled { retry_after } => Some(retry_after),
                LogIn::Refused | LogIn::Started(..) => None,
            };
            let message = match throttled {
                Some(retry_after) => throttle::refusal_message(retry_after),
                None => "Invalid username or password.".to_owned(),
            };
            let page = LoginPage {
                csrf_token: &form.csrf_token,
                next: &asked_next(form.next.as_deref()),
                username: &form.username,
                error: Some(&message),
                notice: None,
            }
            .render()?;
            let mut res = match throttled {
                Some(retry_after) => {
                    let mut res = HttpResponse::TooManyRequests();
                    res.insert_header((
                        header::RETRY_AFTER,
                        retry_after.whole_seconds().max(1).to_string(),
                    ));
                    res
                }
                None => HttpResponse::Unauthorized(),
            };
            return Ok(res
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(page));
        }
    };
    let cookie = Cookie::build(state.settings.session.cookie_name.clone(), secret)
        .path("/")
        .http_only(true)
        .secure(state.settings.session.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(
            i64::try_from(state.settings.session.ttl_hours).unwrap_or(24),
        ))
        .finish();
    let mut expired = login_cookie("", state.settings.session.cookie_secure);
    expired.make_removal();
    let to = match asked_next(form.next.as_deref()) {
        next if next.is_empty() => landing(is_staff).to_owned(),
        next => next,
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .cookie(cookie)
        .cookie(expired)
        .finish())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: Option<String>,
}

/// `POST /logout`: ends the session (server-side) and clears the cookie.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let identity = caller(&state, &req).await?;
    if let Some(identity) = identity {
        let expected = identity.csrf_token().unwrap_or_default().to_owned();
        if !csrf::matches(&expected, form.csrf_token.as_deref()) {
            return Err(AppError::Csrf.into());
        }
        if let Some(s) = identity.session {
            db::run(&state.pool, move |conn| auth::session::end(conn, &s)).await?;
        }
    }
    let mut gone = Cookie::build(state.settings.session.cookie_name.clone(), "")
        .path("/")
        .finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(gone)
        .finish())
}

/// One file line on the browse page.
struct FileRow {
    id: i64,
    name: String,
    url: String,
    size: String,
    mime_type: String,
    is_public: bool,
    icon: &'static str,
    /// The thumbnail, for images that have them.
    thumb: Option<Thumb>,
    /// Why an image has no thumbnail (shown on its type icon).
    failure: Option<String>,
    /// While searching: the folder it lies in.
    place: Option<Vec<PlaceStep>>,
}

/// A folder in the reader's listing.
struct FolderLink {
    id: i64,
    name: String,
    /// While searching: where it lies.
    place: Option<Vec<PlaceStep>>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct BrowsePage {
    title: String,
    username: String,
    /// Staff see a link to the admin in the header.
    is_staff: bool,
    csrf_token: String,
    /// The folder listed (`None` at the top level).
    folder_id: Option<i64>,
    /// Whether the user may upload and create folders here (add-children).
    can_add: bool,
    max_upload: u64,
    max_upload_human: String,
    /// A message left by the last action (upload, new folder).
    flash: Option<crate::web::admin::Flash>,
    /// The new folder's name as typed, when the form was refused.
    typed_name: String,
    /// Readable ancestors, root first; `None` for one the user may not read (never named).
    crumbs: Vec<Option<(i64, String)>>,
    folders: Vec<FolderLink>,
    files: Vec<FileRow>,
    /// The search box's text; a search runs when it is not blank.
    search: String,
    searching: bool,
    /// Where a search looks: "in this folder" or "everywhere".
    scope: &'static str,
    total_files: i64,
    page: i64,
    pages: i64,
}

/// A byte count for people: `1.5 MiB`.
pub fn human_size(bytes: i64) -> String {
    crate::library::quota::human(bytes)
}

#[derive(Deserialize)]
pub struct BrowseParams {
    /// Search terms: in the folder and below it, or everywhere from the top.
    q: Option<String>,
    /// 1-based page of the files.
    page: Option<i64>,
    /// A refused new-folder form's name, typed again into the form.
    name: Option<String>,
}

/// `GET /` and `GET /folders/{id}`: the folders and files the user may read, a page of files
/// at a time, with a search. The top level shows the readable top-level folders and the
/// user's own unsorted uploads (every unsorted upload for superusers).
pub async fn browse(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: Option<web::Path<i64>>,
    params: web::Query<BrowseParams>,
) -> Result<HttpResponse, PageError> {
    let Some(identity) = caller(&state, &req).await? else {
        let next = req.uri().path().to_owned();
        return Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                ),
            ))
            .finish());
    };
    let parent = path.map(|p| p.into_inner());
    let search = params.q.clone().unwrap_or_default();
    let query = Query {
        place: parent.map_or(Place::Home, Place::Folder),
        search: Some(search.clone()).filter(|s| !s.trim().is_empty()),
        everywhere: parent.is_none(),
        order: Order::Name,
        descending: false,
        page: params.page.unwrap_or(1).max(1),
    };
    let st = state.get_ref().clone();
    let u = identity.user.clone();
    let l = db::run(&state.pool, move |conn| {
        browse::list(&st.library, conn, &u, &query)
    })
    .await?;
    let files = l
        .files
        .iter()
        .map(|f| {
            let look = l.looks.get(&f.id).unwrap_or(&Look::Icon);
            FileRow {
                id: f.id,
                name: f.label().to_owned(),
                url: download_url(&state, f),
                size: human_size(f.size),
                mime_type: f.mime_type.clone(),
                is_public: f.is_public,
                icon: type_icon(&f.mime_type),
                thumb: Thumb::new(&state, f, look, "icon-40", "icon-80"),
                failure: no_thumbnail_reason(look),
                place: place_steps(l.file_places.get(&f.id), "/folders/", ("/", "All folders")),
            }
        })
        .collect();
    let folders = l
        .folders
        .iter()
        .map(|f| FolderLink {
            id: f.folder.id,
            name: f.folder.name.clone(),
            place: place_steps(
                l.folder_places.get(&f.folder.id),
                "/folders/",
                ("/", "All folders"),
            ),
        })
        .collect();
    let (title, mut crumbs) = match &l.folder {
        Some(f) => (f.name.clone(), l.crumbs.clone()),
        None => ("All folders".to_owned(), Vec::new()),
    };
    if let Some(f) = &l.folder {
        crumbs.push(Some((f.id, f.name.clone())));
    }
    let flash = crate::web::admin::read_flash(&req);
    let page = BrowsePage {
        folder_id: parent,
        can_add: parent.is_some() && l.can_add,
        max_upload: state.settings.max_upload_size,
        max_upload_human: human_size(
            i64::try_from(state.settings.max_upload_size).unwrap_or(i64::MAX),
        ),
        typed_name: params.name.clone().unwrap_or_default(),
        title,
        username: identity.user.username.clone(),
        is_staff: identity.user.is_staff || identity.user.is_superuser,
        csrf_token: identity.csrf_token().unwrap_or_default().to_owned(),
        crumbs,
        folders,
        files,
        search,
        searching: l.searching,
        scope: if parent.is_some() {
            "in this folder"
        } else {
            "everywhere"
        },
        total_files: l.total_files,
        page: l.page,
        pages: l.pages,
        flash,
    };
    let shown = page.flash.is_some();
    let mut res = html(page.render()?);
    if shown {
        crate::web::admin::forget_flash(&mut res);
    }
    Ok(res)
}

/// `GET /static/coffer.css` (embedded, so the binary needs no files beside it).
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/coffer.css"))
}

/// `GET /static/coffer.js` (embedded).
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/coffer.js"))
}

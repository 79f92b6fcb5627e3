//! What every admin page shares: the staff/superuser extractors, the layout (user, CSRF
//! token, flash message), CSRF checking and redirects with a flash.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::{Identity, csrf};
use crate::db::models::User;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::caller;

/// Cookie carrying a one-shot message to the next page.
const FLASH_COOKIE: &str = "coffer_flash";

/// A one-shot message shown at the top of the next page.
#[derive(Clone, Debug)]
pub struct Flash {
    /// `ok` or `error`: the CSS class.
    pub kind: &'static str,
    pub text: String,
}

/// What the admin base template needs.
#[derive(Clone, Debug)]
pub struct Layout {
    pub username: String,
    pub user_id: i64,
    pub is_superuser: bool,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    /// Which top-level section is active: "files", "permissions", "users", "groups", "account".
    pub section: &'static str,
}

impl Layout {
    /// The layout for `staff` on a page of `section`.
    pub fn new(staff: &Staff, section: &'static str) -> Self {
        Self {
            username: staff.user.username.clone(),
            user_id: staff.user.id,
            is_superuser: staff.user.is_superuser,
            csrf_token: staff.csrf_token.clone(),
            flash: staff.flash.clone(),
            section,
        }
    }
}

/// An active staff member using the admin with a session (admin pages are for browsers:
/// bearer tokens are for the API).
#[derive(Clone, Debug)]
pub struct Staff {
    pub user: User,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

/// A superuser (see [`Staff`]).
#[derive(Clone, Debug)]
pub struct Superuser(pub Staff);

/// The flash message a redirect left for this page, if any.
pub fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let raw = req.cookie(FLASH_COOKIE)?;
    let decoded = percent_encoding::percent_decode_str(raw.value())
        .decode_utf8()
        .ok()?;
    let (kind, text) = decoded.split_once(':')?;
    let kind = if kind == "ok" { "ok" } else { "error" };
    Some(Flash {
        kind,
        text: text.chars().take(500).collect(),
    })
}

async fn staff_from(req: HttpRequest) -> Result<Staff, PageError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::unexpected(anyhow::anyhow!("application state missing")))?;
    let Some(Identity { user, session, .. }) = caller(state, &req).await? else {
        return Err(PageError::login_required(req.path()));
    };
    let Some(session) = session else {
        return Err(PageError::login_required(req.path()));
    };
    if !user.is_staff && !user.is_superuser {
        return Err(AppError::Forbidden(
            "The admin is for staff members. Your files are at the start page.".into(),
        )
        .into());
    }
    Ok(Staff {
        user,
        csrf_token: session.csrf_token,
        flash: read_flash(&req),
    })
}

impl FromRequest for Staff {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(staff_from(req.clone()))
    }
}

impl FromRequest for Superuser {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let staff = staff_from(req).await?;
            if !staff.user.is_superuser {
                return Err(AppError::Forbidden("Only superusers may manage this.".into()).into());
            }
            Ok(Superuser(staff))
        })
    }
}

/// Refuses a form whose token is not the session's.
pub fn check_csrf(staff: &Staff, given: &str) -> Result<(), AppError> {
    if csrf::matches(&staff.csrf_token, Some(given)) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// A 303 to `to`.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

/// A 303 to `to` that shows `text` there once (`kind`: "ok" or "error").
pub fn redirect_with_flash(to: &str, kind: &'static str, text: &str) -> HttpResponse {
    let value = percent_encoding::utf8_percent_encode(
        &format!("{kind}:{text}"),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let cookie = Cookie::build(FLASH_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    let mut res = redirect(to);
    let _ = res.add_cookie(&cookie);
    res
}

/// Clears the flash cookie once a page has shown it.
pub fn clear_flash(res: &mut HttpResponse, layout: &Layout) {
    if layout.flash.is_some() {
        forget_flash(res);
    }
}

/// Removes the flash cookie (its message was shown).
pub fn forget_flash(res: &mut HttpResponse) {
    let mut gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
    gone.make_removal();
    let _ = res.add_cookie(&gone);
}

/// Renders a page template into a response (no caching; clears a shown flash).
pub fn page(layout: &Layout, html: String) -> HttpResponse {
    let mut res = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html);
    clear_flash(&mut res, layout);
    res
}

/// A form that carries nothing but the CSRF token (deletions, revocations).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf_token: String,
}

/// A delete form: the CSRF token, and `permanent=on` to skip the trash.
#[derive(serde::Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub permanent: Option<String>,
}

impl RemoveForm {
    /// Where the item goes.
    pub fn removal(&self) -> crate::library::trash::Removal {
        match self.permanent.as_deref() {
            Some("on" | "true" | "1") => crate::library::trash::Removal::Permanent,
            _ => crate::library::trash::Removal::Trash,
        }
    }
}

/// Reads a posted form into its typed struct (`serde_html_form`: repeated fields such as
/// lists of checkboxes deserialise into a `Vec`); a body that does not fit is a 400.
pub fn read_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_html_form::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("invalid form: {e}")))
}

/// A checkbox: ticked when present (whatever its value), unticked when absent (with
/// `#[serde(default)]`).
pub fn ticked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(|_| true)
}

/// The message of a refusal the person can act on (shown as a sentence), or the error
/// when it is not theirs to fix.
pub fn refusal<E: Refusal>(e: E) -> Result<String, AppError> {
    match e.person_can_act() {
        Ok(m) => {
            let mut chars = m.chars();
            Ok(match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
                None => String::new(),
            })
        }
        Err(other) => Err(other),
    }
}

/// An error that may be the person's to fix (a refused value, a taken name, a missing
/// right), said in a sentence on the page they came from.
pub trait Refusal {
    /// The message when the person can act on it; the error otherwise.
    fn person_can_act(self) -> Result<String, AppError>;
}

impl Refusal for crate::library::Error {
    fn person_can_act(self) -> Result<String, AppError> {
        use crate::library::Error;
        match self {
            Error::Invalid(m) | Error::Conflict(m) | Error::Forbidden(m) => Ok(m),
            other => Err(other.into()),
        }
    }
}

impl Refusal for crate::accounts::Error {
    fn person_can_act(self) -> Result<String, AppError> {
        use crate::accounts::Error;
        match self {
            Error::Invalid(m) | Error::Conflict(m) => Ok(m),
            other => Err(other.into()),
        }
    }
}

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
use crate::web::identity::identify;

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

fn read_flash(req: &HttpRequest) -> Option<Flash> {
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
    let Some(Identity { user, session }) = identify(state, &req).await? else {
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
        let mut gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
        gone.make_removal();
        let _ = res.add_cookie(&gone);
    }
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

/// A urlencoded form body whose fields may repeat (lists of checkboxes).
pub struct FormBody(Vec<(String, String)>);

impl FormBody {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or "".
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Whether the checkbox `name` was ticked (present at all).
    pub fn ticked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every value of `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, as ids.
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, AppError> {
        self.values(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| AppError::BadRequest(format!("“{v}” is not a valid {name} id")))
            })
            .collect()
    }
}

/// The message of a refusal the person can act on (shown as a sentence), or the error
/// when it is not theirs to fix.
pub fn refusal(e: crate::library::Error) -> Result<String, AppError> {
    use crate::library::Error;
    match e {
        Error::Invalid(m) | Error::Conflict(m) | Error::Forbidden(m) => {
            let mut chars = m.chars();
            Ok(match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
                None => String::new(),
            })
        }
        other => Err(other.into()),
    }
}

//! Error responses of page and download routes, rendered as HTML pages (the API keeps its
//! JSON bodies): handlers of those scopes fail with [`PageError`], whose response is the
//! page itself.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpResponse};
use askama::Template;

use crate::telemetry::RequestId;
use crate::web::error::AppError;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    /// On a 500: the request's id, for a report that finds the log.
    request_id: Option<String>,
    /// The person logged in, for the site's header (see [`with_site_header`]).
    viewer: Option<Viewer<'a>>,
}

/// Who sees an error page, for its header: their name, the admin link for staff, and the
/// log-out form (which needs the session's CSRF token).
struct Viewer<'a> {
    username: &'a str,
    is_staff: bool,
    csrf_token: &'a str,
}

/// What an error page says, kept on its response so that [`with_site_header`] can render it
/// again with the site's header once it knows who is asking.
#[derive(Clone, Debug)]
struct ErrorContent {
    status: u16,
    reason: &'static str,
    message: String,
    request_id: Option<String>,
}

impl ErrorContent {
    fn render(&self, viewer: Option<Viewer<'_>>) -> String {
        ErrorPage {
            status: self.status,
            reason: self.reason,
            message: &self.message,
            request_id: self.request_id.clone(),
            viewer,
        }
        .render()
        .unwrap_or_else(|_| self.message.clone())
    }
}

/// The error in words for the person who met it.
fn in_words(error: &AppError) -> String {
    match error {
        AppError::NotFound => {
            "There is nothing at this address, or nothing you may see.".to_owned()
        }
        AppError::Forbidden(why) if why.is_empty() => "You may not do this.".to_owned(),
        AppError::Forbidden(why) => format!("You may not do this: {why}"),
        AppError::Csrf => "This form has expired or did not come from this site (its CSRF \
                           token is missing or wrong). Go back, reload the page and send it \
                           again."
            .to_owned(),
        AppError::TooManyRequests => "Too many attempts. Wait a moment, then try again.".to_owned(),
        AppError::PayloadTooLarge(limit) => format!(
            "The upload is larger than the limit of {}.",
            bytesize::ByteSize(*limit).display().iec()
        ),
        AppError::Unexpected(e) => {
            tracing::error!(error = ?e, "request failed");
            "Something went wrong on our side.".to_owned()
        }
        other => sentence(&other.to_string()),
    }
}

/// `text` with a capital letter and a full stop (a message shown on a page).
pub fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// What a path keeps unescaped as the log-in form's `next`: letters, digits, `/-_.~`.
const NEXT_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A failure of a page or download route, answered with an HTML page; a missing log-in is a
/// redirect to the log-in form. Every lower error converts into it as into `AppError`.
#[derive(Debug)]
pub struct PageError {
    error: AppError,
    /// Where the log-in form returns to, for a missing log-in.
    next: Option<String>,
}

impl PageError {
    /// A missing log-in on the page at `path`: the log-in form, then back.
    pub fn login_required(path: &str) -> Self {
        Self {
            error: AppError::Unauthenticated,
            next: Some(path.to_owned()),
        }
    }
}

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self {
            error: e.into(),
            next: None,
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if matches!(self.error, AppError::Unauthenticated) {
            let to = match &self.next {
                Some(next) => format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(next, NEXT_PATH)
                ),
                None => "/login".to_owned(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish();
        }
        let content = ErrorContent {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            message: in_words(&self.error),
            request_id: status
                .is_server_error()
                .then(RequestId::current)
                .flatten()
                .map(|id| id.to_string()),
        };
        let mut res = HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(content.render(None));
        res.extensions_mut().insert(content);
        res
    }
}

/// A path that does not parse (an id that is not a number): the 404 page.
pub fn not_found() -> actix_web::Error {
    PageError::from(AppError::NotFound).into()
}

/// A query string that does not parse: the 400 page.
pub fn query(
    e: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    PageError::from(AppError::BadRequest(format!("invalid query: {e}"))).into()
}

/// A form body that cannot be read: too large (413), not a form (415), or malformed (400).
pub fn form(e: actix_web::error::UrlencodedError, _: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError;
    let error = match e {
        UrlencodedError::Overflow { limit, .. } => AppError::PayloadTooLarge(limit as u64),
        UrlencodedError::ContentType => {
            AppError::UnsupportedMediaType("the form must be sent as a urlencoded body".into())
        }
        other => AppError::BadRequest(format!("invalid form: {other}")),
    };
    PageError::from(error).into()
}

/// Middleware of the page and download routes: an error page for someone logged in keeps
/// the site's header — their name, "Your files", "Admin" for staff and the log-out button.
/// Who is asking is looked up only for error pages, and not at all when the handler left the
/// caller's identity in the request (the checked downloads do).
pub async fn with_site_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let content = res.response().extensions().get::<ErrorContent>().cloned();
    let state = res
        .request()
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .cloned();
    let (Some(content), Some(state)) = (content, state) else {
        return Ok(res.map_into_boxed_body());
    };
    // A download already knows its caller; a page is asked again (only for an error page).
    let known = res
        .request()
        .extensions()
        .get::<crate::auth::Identity>()
        .cloned();
    let identity = match known {
        Some(identity) => identity,
        None => match crate::web::identity::caller(&state, res.request()).await {
            Ok(Some(identity)) => identity,
            _ => return Ok(res.map_into_boxed_body()),
        },
    };
    let page = content.render(Some(Viewer {
        username: &identity.user.username,
        is_staff: identity.user.is_staff || identity.user.is_superuser,
        csrf_token: identity.csrf_token().unwrap_or_default(),
    }));
    Ok(res.map_body(|_, _| actix_web::body::BoxBody::new(page)))
}

//! Error responses of page and download routes, rendered as HTML pages (the API keeps its
//! JSON bodies): handlers of those scopes fail with [`PageError`], whose response is the
//! page itself.

use actix_web::HttpResponse;
use actix_web::http::header;
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
        let message = match &self.error {
            AppError::Unexpected(e) => {
                tracing::error!(error = ?e, "request failed");
                "Something went wrong on our side.".to_owned()
            }
            other => other.to_string(),
        };
        let request_id = status
            .is_server_error()
            .then(RequestId::current)
            .flatten()
            .map(|id| id.to_string());
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            message: &message,
            request_id,
        }
        .render()
        .unwrap_or_else(|_| message.clone());
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(page)
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

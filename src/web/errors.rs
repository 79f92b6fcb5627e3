//! Error responses of page and download routes, rendered as HTML pages (the API keeps its
//! JSON bodies): handlers of those scopes fail with [`PageError`], whose response is the
//! page itself.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
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
}

/// A failure of a page or download route, answered with an HTML page; a missing log-in is a
/// redirect to the log-in form. Every lower error converts into it as into `AppError`.
#[derive(Debug)]
pub struct PageError {
    error: AppError,
    /// Where the log-in form returns to, for a missing log-in.
    next: Option<String>,
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
                    percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
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

/// Replaces an error response's body with an HTML page; 401 on a page becomes a redirect to
/// the login form.
pub fn render<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Responses a handler built on purpose (a login form with status 401, an empty 405)
    // are left alone; only errors get a page.
    let already_a_page = res
        .response()
        .error()
        .is_some_and(|e| e.as_error::<PageError>().is_some());
    if res.response().error().is_none() || already_a_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| match e {
            AppError::Unexpected(_) => "Something went wrong on our side.".to_owned(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    let (req, res) = res.into_parts();
    if status.as_u16() == 401 && !req.path().starts_with("/api/") {
        let to = format!(
            "/login?next={}",
            percent_encoding::utf8_percent_encode(req.path(), percent_encoding::NON_ALPHANUMERIC)
        );
        let redirect = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish();
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, redirect).map_into_right_body(),
        ));
    }
    let request_id = (status.is_server_error())
        .then(|| req.extensions().get::<RequestId>().map(ToString::to_string))
        .flatten();
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or(""),
        message: &message,
        request_id,
    }
    .render()
    .unwrap_or_else(|_| message.clone());
    let mut builder = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let new: HttpResponse<BoxBody> = builder.content_type("text/html; charset=utf-8").body(page);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

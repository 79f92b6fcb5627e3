//! Error responses of page and download routes, rendered as HTML pages (the API keeps its
//! JSON bodies).

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::telemetry::RequestId;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    /// On a 500: the request's id, for a report that finds the log.
    request_id: Option<String>,
}

/// Replaces an error response's body with an HTML page; 401 on a page becomes a redirect to
/// the login form.
pub fn render<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Responses a handler built on purpose (a login form with status 401, an empty 405)
    // are left alone; only errors get a page.
    if res.response().error().is_none() {
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

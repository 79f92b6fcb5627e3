//! The one error type at the HTTP boundary: the lower layers' errors (`library::Error`,
//! `DbError`, `StorageError`, …) convert into it here and nowhere else. As a JSON API error
//! it answers with a fitting status and a body `{"error": "..."}` (a 500 adds
//! `"request_id"`); page and download routes wrap it in `web::errors::PageError`, which
//! answers with an HTML page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::db::DbError;
use crate::library;
use crate::storage::StorageError;
use crate::telemetry::RequestId;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Denied; shown as 404 unless `debug` is on (the caller decides, see `AppState::deny`).
    #[error("{0}")]
    Forbidden(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the upload is larger than the limit of {0} bytes")]
    PayloadTooLarge(u64),
    /// The owner's quota would be exceeded (507), with the numbers.
    #[error("{0}")]
    OverQuota(String),
    /// A body of a type the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("too many attempts; try again later")]
    TooManyRequests,
    #[error("internal error")]
    Unexpected(#[source] anyhow::Error),
}

impl AppError {
    /// An unexpected failure with context, logged in full and shown as a generic 500.
    pub fn unexpected(e: impl Into<anyhow::Error>) -> Self {
        AppError::Unexpected(e.into())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::OverQuota(_) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let AppError::Unexpected(e) = self {
            tracing::error!(error = ?e, "request failed");
            // The id that finds this line in the log (see `telemetry::trace_requests`).
            if let Some(id) = RequestId::current() {
                body["request_id"] = id.to_string().into();
            }
        }
        HttpResponse::build(self.status_code())
            .insert_header(("Cache-Control", "no-store"))
            .json(body)
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_unique_violation() {
            AppError::Conflict("an item with this name already exists".into())
        } else if e.is_foreign_key_violation() {
            AppError::Conflict("an item this request refers to was deleted meanwhile".into())
        } else if e.is_nul_in_text() {
            AppError::BadRequest("text may not contain NUL characters".into())
        } else {
            AppError::Unexpected(e.into())
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound | StorageError::InvalidKey(_) | StorageError::Symlink => {
                AppError::NotFound
            }
            StorageError::TooLarge { limit } => AppError::PayloadTooLarge(limit),
            other => AppError::Unexpected(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Unexpected(e.into())
    }
}

impl From<library::Error> for AppError {
    fn from(e: library::Error) -> Self {
        match e {
            library::Error::NotFound => AppError::NotFound,
            library::Error::Forbidden(m) => AppError::Forbidden(m),
            library::Error::Invalid(m) => AppError::BadRequest(m),
            library::Error::Conflict(m) => AppError::Conflict(m),
            library::Error::OverQuota(m) => AppError::OverQuota(m),
            library::Error::Db(e) => e.into(),
            library::Error::Storage(e) => e.into(),
        }
    }
}

impl From<crate::domain::ids::BadId> for AppError {
    fn from(e: crate::domain::ids::BadId) -> Self {
        AppError::BadRequest(e.to_string())
    }
}

impl From<crate::domain::account::BadUsername> for AppError {
    fn from(e: crate::domain::account::BadUsername) -> Self {
        AppError::BadRequest(e.to_string())
    }
}

impl From<crate::domain::account::BadEmail> for AppError {
    fn from(e: crate::domain::account::BadEmail) -> Self {
        AppError::BadRequest(e.to_string())
    }
}

impl From<crate::accounts::Error> for AppError {
    fn from(e: crate::accounts::Error) -> Self {
        use crate::accounts::Error;
        match e {
            Error::NotFound => AppError::NotFound,
            Error::Invalid(m) => AppError::BadRequest(m),
            Error::Conflict(m) => AppError::Conflict(m),
            Error::Db(e) => e.into(),
        }
    }
}

//! `POST /api/v1/tokens`: trade a username and password for a bearer token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts;
use crate::auth::login::{self, Attempt};
use crate::auth::throttle;
use crate::db;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::client_address;

use super::json::{ErrorJson, TokenCreated};

/// A username and password to trade for a token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(deserialize_with = "super::text")]
    username: String,
    #[serde(deserialize_with = "super::text")]
    password: String,
    /// A label for the token; default `api`.
    #[serde(default, deserialize_with = "super::optional_text")]
    name: Option<String>,
}

/// What a request for a token came to (a wrong password is `AppError::Unauthenticated`).
enum Issue {
    /// A new token: its id, its user and the secret, shown this once.
    Issued {
        id: i64,
        user_id: i64,
        secret: String,
    },
    /// Too many recent failures: the password was not checked.
    Throttled { retry_after: time::Duration },
}

/// Checks the password (argon2 on a blocking thread) and returns a new token once.
/// Throttled like the log-in page (429 with `Retry-After`).
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens", operation_id = "createToken",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 201, description = "A new token, shown once", body = TokenCreated),
        (status = 400, description = "Invalid body", body = ErrorJson),
        (status = 401, description = "Wrong username or password, or an inactive user", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
        (status = 429, description = "Too many failed log-ins for this username or from this address", body = ErrorJson,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let st = state.get_ref().clone();
    let address = client_address(
        &req,
        state.settings.session.client_address_header.as_deref(),
    );
    let issued = db::run(&state.pool, move |conn| {
        let u = match login::attempt(
            conn,
            &st.passwords,
            &st.throttle(),
            &body.username,
            &body.password,
            &address,
        )? {
            Attempt::Accepted(u) => u,
            Attempt::Refused => return Err(AppError::Unauthenticated),
            Attempt::Throttled { retry_after } => return Ok(Issue::Throttled { retry_after }),
        };
        let name = body.name.unwrap_or_default();
        let (id, secret) = accounts::issue_token(conn, u.id, &name)?;
        Ok(Issue::Issued {
            id,
            user_id: u.id,
            secret,
        })
    })
    .await?;
    let (id, user_id, secret) = match issued {
        Issue::Issued {
            id,
            user_id,
            secret,
        } => (id, user_id, secret),
        Issue::Throttled { retry_after } => {
            return Ok(HttpResponse::TooManyRequests()
                .insert_header((
                    header::RETRY_AFTER,
                    retry_after.whole_seconds().max(1).to_string(),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(ErrorJson {
                    error: throttle::refusal_message(retry_after),
                }));
        }
    };
    Ok(HttpResponse::Created().json(TokenCreated {
        id,
        user_id,
        token: secret,
    }))
}

//! Reading credentials off a request and resolving them to a user.

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::{self, Credentials, Identity, csrf};
use crate::db;
use crate::state::AppState;
use crate::web::error::AppError;

/// The session cookie and bearer token a request carries.
pub fn credentials(req: &HttpRequest, cookie_name: &str) -> Credentials {
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .filter(|t| !t.is_empty());
    let session = req
        .cookie(cookie_name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    Credentials { session, bearer }
}

/// Resolves the request's user, if any.
pub async fn caller(state: &AppState, req: &HttpRequest) -> Result<Option<Identity>, AppError> {
    let creds = credentials(req, &state.settings.session.cookie_name);
    if creds.is_empty() {
        return Ok(None);
    }
    let ttl = state.session_ttl();
    Ok(db::run(&state.pool, move |conn| {
        auth::authenticate(conn, &creds, ttl)
    })
    .await?)
}

/// An authenticated API caller. Requests authenticated by the session cookie (not by a
/// bearer token) must carry the session's CSRF token in `X-CSRF-Token` for every method
/// other than GET and HEAD.
pub struct ApiUser(pub Identity);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
                AppError::unexpected(anyhow::anyhow!("application state missing"))
            })?;
            let identity = caller(state, &req)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            if let Some(expected) = identity.csrf_token() {
                let safe = matches!(*req.method(), Method::GET | Method::HEAD);
                let given = req
                    .headers()
                    .get(csrf::HEADER)
                    .and_then(|v| v.to_str().ok());
                if !safe && !csrf::matches(expected, given) {
                    return Err(AppError::Csrf);
                }
            }
            Ok(ApiUser(identity))
        })
    }
}

/// A page's caller, logged in with a session, and the session's CSRF token. Nobody logged
/// in is sent to log in; a bearer token is no page session: a page asked for with one
/// only is sent to log in too, a form sent with one is refused (403).
pub struct SessionUser {
    pub identity: Identity,
    pub csrf_token: String,
}

impl FromRequest for SessionUser {
    type Error = crate::web::errors::PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        use crate::web::errors::PageError;
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
                AppError::unexpected(anyhow::anyhow!("application state missing"))
            })?;
            let Some(identity) = caller(state, &req).await? else {
                return Err(PageError::login_required(req.path()));
            };
            match identity.csrf_token().map(str::to_owned) {
                Some(csrf_token) => Ok(SessionUser {
                    identity,
                    csrf_token,
                }),
                None if matches!(*req.method(), Method::GET | Method::HEAD) => {
                    Err(PageError::login_required(req.path()))
                }
                None => Err(AppError::Csrf.into()),
            }
        })
    }
}

/// The client's address, for throttling: the last address in the configured proxy header
/// (the one the trusted proxy added), or the connection's peer.
pub fn client_address(req: &HttpRequest, header: Option<&str>) -> String {
    if let Some(name) = header {
        let from_header = req
            .headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        if let Some(addr) = from_header {
            return addr.chars().take(64).collect();
        }
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

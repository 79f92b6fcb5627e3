//! `POST /api/v1/tokens`: trade a username and password for a bearer token.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth;
use crate::db::{self, models::token, models::user};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    username: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

/// Checks the password (argon2 on a blocking thread) and returns a new token once.
pub async fn create(
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let st = state.get_ref().clone();
    let issued = db::run(&state.pool, move |conn| {
        let found = user::find_by_username(conn, &body.username)?;
        let ok = st.passwords.verify(
            &body.password,
            found.as_ref().map(|u| u.password_hash.as_str()),
        );
        let Some(u) = found.filter(|u| ok && u.is_active) else {
            return Ok(None);
        };
        let secret = auth::new_api_token();
        let name = body.name.unwrap_or_else(|| "api".into());
        let id = token::create(conn, u.id, &name, &auth::secret_hash(&secret))?;
        Ok(Some((id, u.id, secret)))
    })
    .await?;
    let (id, user_id, secret) = issued.ok_or(AppError::Unauthenticated)?;
    Ok(HttpResponse::Created()
        .json(serde_json::json!({ "id": id, "user_id": user_id, "token": secret })))
}

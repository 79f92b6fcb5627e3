//! `/account/password`: any logged-in user changes their own password. Every session of
//! the account ends (this one too) and the next page is the log-in form.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts;
use crate::auth::{Identity, csrf};
use crate::db;
use crate::state::AppState;
use crate::web::admin::refusal;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::SessionUser;
use actix_web::FromRequest;

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage<'a> {
    username: &'a str,
    is_staff: bool,
    csrf_token: &'a str,
    error: Option<&'a str>,
}

fn render(identity: &Identity, error: Option<&str>) -> Result<HttpResponse, PageError> {
    let html = PasswordPage {
        username: &identity.user.username,
        is_staff: identity.user.is_staff || identity.user.is_superuser,
        csrf_token: identity.csrf_token().unwrap_or_default(),
        error,
    }
    .render()?;
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// `GET /account/password`.
pub async fn password_form(user: SessionUser) -> Result<HttpResponse, PageError> {
    render(&user.identity, None)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

/// `POST /account/password`.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token,
    } = SessionUser::extract(&req).await?;
    if !csrf::matches(&csrf_token, Some(&form.csrf_token)) {
        return Err(AppError::Csrf.into());
    }
    let form = form.into_inner();
    let (st, me) = (state.get_ref().clone(), identity.user.clone());
    let result = db::run(&state.pool, move |conn| {
        accounts::change_own_password(
            conn,
            &st.passwords,
            &me,
            &form.current,
            &form.password,
            &form.password2,
        )
    })
    .await;
    match result {
        Ok(()) => {
            let mut gone =
                actix_web::cookie::Cookie::build(state.settings.session.cookie_name.clone(), "")
                    .path("/")
                    .finish();
            gone.make_removal();
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login?password_changed=1"))
                .cookie(gone)
                .finish())
        }
        Err(e) => render(&identity, Some(&refusal(e)?)),
    }
}

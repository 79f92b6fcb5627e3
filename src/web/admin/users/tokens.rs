//! API tokens of a user, and lifting a log-in lock.

use super::*;

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// Issues a token and shows its secret on the answer page itself (never in a redirect,
/// a cookie or a log): it is shown once.
pub(super) async fn create_token(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let name = form.into_inner().name;
    let throttle = state.throttle();
    let issued = db::run(&state.pool, move |conn| {
        accounts::issue_token(conn, id, &name)
    })
    .await;
    let (token_id, secret) = match issued {
        Ok(issued) => issued,
        Err(accounts::Error::NotFound) => return Err(AppError::NotFound.into()),
        Err(e) => {
            return Ok(redirect_with_flash(
                &format!("/admin/users/{id}"),
                "error",
                &refusal(e)?,
            ));
        }
    };
    let loaded = db::run(&state.pool, move |conn| load_account(conn, &throttle, id)).await?;
    match loaded {
        Some(loaded) => {
            let name = loaded
                .tokens
                .iter()
                .find(|t| t.id == token_id)
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let mut layout = Layout::new(&me, "users");
            layout.flash = Some(Flash {
                kind: "ok",
                text: format!("API token “{name}” created. Copy it now: it is not shown again."),
            });
            edit_page(
                layout,
                &me.user,
                &state.throttle(),
                loaded,
                Some((name, secret)),
            )
        }
        None => Err(AppError::NotFound.into()),
    }
}

pub(super) async fn revoke_token(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    path: web::Path<(i64, i64)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let (id, token_id) = path.into_inner();
    db::run(&state.pool, move |conn| {
        accounts::revoke_token(conn, id, token_id)
    })
    .await?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "ok",
        "API token revoked.",
    ))
}

/// Clears the account's failed log-ins from every address: its pairs and its back-off are
/// lifted at once (other usernames' failures from the same addresses stay).
pub(super) async fn unlock(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let cleared = db::run(&state.pool, move |conn| {
        let Some(u) = user::find(conn, id)? else {
            return Ok(None);
        };
        let cleared = throttle::unlock(conn, Some(&u.username), None)?;
        Ok::<_, AppError>(Some((u.username, cleared)))
    })
    .await?;
    let (username, cleared) = cleared.ok_or(AppError::NotFound)?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "ok",
        &format!(
            "Cleared {cleared} failed log-in{} for “{username}”.",
            if cleared == 1 { "" } else { "s" }
        ),
    ))
}

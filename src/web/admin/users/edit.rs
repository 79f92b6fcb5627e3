//! Editing a user and setting their password.

use super::*;

pub(super) async fn edit_form(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let throttle = state.throttle();
    let loaded = db::run(&state.pool, move |conn| load_account(conn, &throttle, id))
        .await?
        .ok_or(AppError::NotFound)?;
    edit_page(
        Layout::new(&me, "users"),
        &me.user,
        &state.throttle(),
        loaded,
        None,
    )
}

pub(super) async fn update(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = parse_form(&body)?;
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let actor = me.user.clone();
    let fields = account_fields(&form);
    let result = db::run(&state.pool, move |conn| {
        accounts::update_user(conn, &actor, id, &fields)
    })
    .await;
    let back = format!("/admin/users/{id}");
    match result {
        Ok(()) => {
            let text = if form.is_active {
                "Saved.".to_owned()
            } else {
                "Saved. The account is inactive: its sessions and API tokens are revoked and it cannot log in.".to_owned()
            };
            Ok(redirect_with_flash(&back, "ok", &text))
        }
        Err(accounts::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Ok(redirect_with_flash(&back, "error", &refusal(e)?)),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

pub(super) async fn set_password(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let st = state.get_ref().clone();
    let result = db::run(&state.pool, move |conn| {
        accounts::set_password(conn, &st.passwords, id, &form.password, &form.password2)
    })
    .await;
    let back = format!("/admin/users/{id}");
    match result {
        Ok(()) if id == me.user.id => Ok(crate::web::admin::context::redirect(
            "/login?password_changed=1",
        )),
        Ok(()) => Ok(redirect_with_flash(
            &back,
            "ok",
            "Password set. The account's sessions have ended.",
        )),
        Err(accounts::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Ok(redirect_with_flash(&back, "error", &refusal(e)?)),
    }
}

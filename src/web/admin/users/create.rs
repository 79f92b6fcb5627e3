//! Creating a user.

use super::*;
use crate::web::errors::sentence;

pub(super) async fn new_form(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
) -> Result<HttpResponse, PageError> {
    let groups = db::run(&state.pool, group::list).await?;
    render_new(Layout::new(&me, "users"), groups, &[], None)
}

/// The "new user" form: blank (active, not staff), or refilled after a refusal with the
/// reason on top and status 400. Passwords are never sent back.
fn render_new(
    mut layout: Layout,
    groups: Vec<Group>,
    ticked: &[i64],
    refused: Option<(&AccountForm, String)>,
) -> Result<HttpResponse, PageError> {
    let fields = match &refused {
        Some((form, _)) => Fields {
            username: form.username.clone(),
            email: form.email.clone(),
            is_active: form.is_active,
            is_staff: form.is_staff,
            is_superuser: form.is_superuser,
            quota: String::new(),
            usage: None,
        },
        None => Fields {
            username: String::new(),
            email: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            quota: String::new(),
            usage: None,
        },
    };
    let failed = refused.is_some();
    // Every problem on a line of its own (`accounts::create_user` finds them all).
    let problems: Vec<String> = refused
        .map(|(_, message)| message.split("; ").map(sentence).collect())
        .unwrap_or_default();
    layout.flash = None;
    let html = FormPage {
        layout: layout.clone(),
        user_id: None,
        is_self: false,
        fields,
        groups: group_choices(groups, ticked),
        tokens: Vec::new(),
        created: String::new(),
        last_login: None,
        new_token: None,
        failures: Vec::new(),
        window_minutes: 0,
        problems,
    }
    .render()?;
    let mut res = page(&layout, html);
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

pub(super) async fn create(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = parse_form(&body)?;
    check_csrf(&me, &form.csrf_token)?;
    let st = state.get_ref().clone();
    let fields = account_fields(&form);
    let (username, password, password2) = (
        form.username.clone(),
        form.password.clone(),
        form.password2.clone(),
    );
    let created = db::run(&state.pool, move |conn| {
        accounts::create_user(
            conn,
            &st.passwords,
            &username,
            &fields,
            &password,
            &password2,
        )
    })
    .await;
    match created {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "ok",
            &format!("User “{}” created.", form.username.trim()),
        )),
        Err(e) => {
            let message = refusal(e)?;
            let groups = db::run(&state.pool, accounts::group_choices).await?;
            render_new(
                Layout::new(&me, "users"),
                groups,
                &account_fields(&form).group_ids,
                Some((&form, message)),
            )
        }
    }
}

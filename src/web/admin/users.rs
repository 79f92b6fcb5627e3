//! Users (superusers): list, create, edit (active, staff, superuser, groups), set a
//! password, delete, API tokens (shown once at creation, revocable), and clearing the
//! account's failed log-ins (log-in throttling).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::{self, AccountFields};
use crate::auth::{Throttle, throttle};
use crate::db::models::{ApiToken, Group, User, group, login_failure, token, user};
use crate::db::{self, DbConn};
use crate::domain::ids::GroupId;
use crate::library;
use crate::state::AppState;
use crate::web::admin::context::{
    CsrfOnly, Flash, Layout, Superuser, check_csrf, page, read_form, redirect_with_flash, refusal,
    ticked,
};
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users/", web::get().to(list))
        .route("/admin/users/new", web::get().to(new_form))
        .route("/admin/users/new", web::post().to(create))
        .route("/admin/users/{id}", web::get().to(edit_form))
        .route("/admin/users/{id}", web::post().to(update))
        .route("/admin/users/{id}/password", web::post().to(set_password))
        .route("/admin/users/{id}/unlock", web::post().to(unlock))
        .route("/admin/users/{id}/delete", web::get().to(delete_confirm))
        .route("/admin/users/{id}/delete", web::post().to(delete_user))
        .route("/admin/users/{id}/tokens", web::post().to(create_token))
        .route(
            "/admin/users/{id}/tokens/{token_id}/revoke",
            web::post().to(revoke_token),
        );
}

/// A line of the user list.
struct UserRow {
    id: i64,
    username: String,
    email: String,
    is_active: bool,
    is_staff: bool,
    is_superuser: bool,
    groups: String,
    last_login: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users/list.html")]
struct ListPage {
    layout: Layout,
    users: Vec<UserRow>,
}

async fn list(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
) -> Result<HttpResponse, PageError> {
    let directory = db::run(&state.pool, accounts::Directory::load).await?;
    let rows = directory
        .users
        .iter()
        .map(|u| UserRow {
            id: u.id,
            groups: directory.group_names_of(u.id).join(", "),
            username: u.username.clone(),
            email: u.email.clone(),
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            last_login: u.last_login_at.map(timestamp),
        })
        .collect();
    let layout = Layout::new(&me, "users");
    let html = ListPage {
        layout: layout.clone(),
        users: rows,
    }
    .render()?;
    Ok(page(&layout, html))
}

/// A group to tick, and whether it is ticked.
struct GroupChoice {
    id: i64,
    name: String,
    checked: bool,
}

fn group_choices(groups: Vec<Group>, ticked: &[i64]) -> Vec<GroupChoice> {
    groups
        .into_iter()
        .map(|g| GroupChoice {
            checked: ticked.contains(&g.id),
            id: g.id,
            name: g.name,
        })
        .collect()
}

/// A token line on the user page.
struct TokenRow {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
}

fn token_rows(tokens: Vec<ApiToken>) -> Vec<TokenRow> {
    tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: timestamp(t.created_at),
            last_used: t.last_used_at.map(timestamp),
        })
        .collect()
}

/// The account form's values.
struct Fields {
    username: String,
    email: String,
    is_active: bool,
    is_staff: bool,
    is_superuser: bool,
}

#[derive(Template)]
#[template(path = "admin/users/form.html")]
struct FormPage {
    layout: Layout,
    /// None on the "new user" page.
    user_id: Option<i64>,
    is_self: bool,
    fields: Fields,
    groups: Vec<GroupChoice>,
    tokens: Vec<TokenRow>,
    created: String,
    last_login: Option<String>,
    /// A token secret just issued: shown once.
    new_token: Option<(String, String)>,
    /// Failed log-ins for the username within the throttling window, per address.
    failures: Vec<FailureRow>,
    window_minutes: u64,
}

/// Failed log-ins from one address (for the unlock card).
struct FailureRow {
    address: String,
    count: i64,
    /// The (username, address) pair is blocked.
    blocked: bool,
}

/// The posted account form. Unticked boxes are absent; `group` repeats.
#[derive(serde::Deserialize)]
struct AccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default, deserialize_with = "ticked")]
    is_active: bool,
    #[serde(default, deserialize_with = "ticked")]
    is_staff: bool,
    #[serde(default, deserialize_with = "ticked")]
    is_superuser: bool,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    #[serde(default, rename = "group")]
    group_ids: Vec<GroupId>,
}

fn parse_form(body: &[u8]) -> Result<AccountForm, AppError> {
    read_form(body)
}

fn account_fields(form: &AccountForm) -> AccountFields {
    AccountFields::from(form)
}

impl From<&AccountForm> for AccountFields {
    fn from(form: &AccountForm) -> Self {
        AccountFields {
            email: form.email.clone(),
            is_active: form.is_active,
            is_staff: form.is_staff,
            is_superuser: form.is_superuser,
            group_ids: form.group_ids.iter().map(|g| g.get()).collect(),
        }
    }
}

/// What the edit page shows of an account.
struct LoadedAccount {
    user: User,
    groups: Vec<Group>,
    ticked: Vec<i64>,
    tokens: Vec<ApiToken>,
    /// (address, failures) within the throttling window.
    failures: Vec<(String, i64)>,
}

/// Loads what the edit page shows of account `id`.
fn load_account(
    conn: &mut DbConn,
    throttle: &Throttle,
    id: i64,
) -> Result<Option<LoadedAccount>, db::DbError> {
    let Some(u) = user::find(conn, id)? else {
        return Ok(None);
    };
    let groups = group::list(conn)?;
    let ticked = group::all_memberships(conn)?
        .into_iter()
        .filter(|(_, uid)| *uid == id)
        .map(|(gid, _)| gid)
        .collect();
    let tokens = token::list_for_user(conn, id)?;
    let failures = login_failure::by_address(
        conn,
        &throttle::key(&u.username),
        db::now() - throttle.window(),
    )?;
    Ok(Some(LoadedAccount {
        user: u,
        groups,
        ticked,
        tokens,
        failures,
    }))
}

fn edit_page(
    layout: Layout,
    me: &User,
    throttle: &Throttle,
    loaded: LoadedAccount,
    new_token: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let LoadedAccount {
        user: u,
        groups,
        ticked,
        tokens,
        failures,
    } = loaded;
    let limit = i64::from(throttle.max_failures());
    let failures = failures
        .into_iter()
        .map(|(address, count)| FailureRow {
            blocked: throttle.enabled() && count >= limit,
            address,
            count,
        })
        .collect();
    let html = FormPage {
        layout: layout.clone(),
        user_id: Some(u.id),
        is_self: u.id == me.id,
        created: timestamp(u.created_at),
        last_login: u.last_login_at.map(timestamp),
        fields: Fields {
            username: u.username,
            email: u.email,
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
        },
        groups: group_choices(groups, &ticked),
        tokens: token_rows(tokens),
        new_token,
        failures,
        window_minutes: u64::try_from(throttle.window().whole_minutes()).unwrap_or(0),
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn new_form(
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
        },
        None => Fields {
            username: String::new(),
            email: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
        },
    };
    let failed = refused.is_some();
    if let Some((_, message)) = refused {
        layout.flash = Some(Flash {
            kind: "error",
            text: message,
        });
    }
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
    }
    .render()?;
    let mut res = page(&layout, html);
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

async fn create(
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
    let (created, groups) = db::run(&state.pool, move |conn| {
        let created = accounts::create_user(
            conn,
            &st.passwords,
            &username,
            &fields,
            &password,
            &password2,
        );
        Ok::<_, AppError>((created, group::list(conn)?))
    })
    .await?;
    match created {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "ok",
            &format!("User “{}” created.", form.username.trim()),
        )),
        Err(e) => {
            let message = refusal(e)?;
            render_new(
                Layout::new(&me, "users"),
                groups,
                &account_fields(&form).group_ids,
                Some((&form, message)),
            )
        }
    }
}

async fn edit_form(
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

async fn update(
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
        Err(library::Error::NotFound) => Err(AppError::NotFound.into()),
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

async fn set_password(
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
        Ok(()) if id == me.user.id => Ok(super::context::redirect("/login?password_changed=1")),
        Ok(()) => Ok(redirect_with_flash(
            &back,
            "ok",
            "Password set. The account's sessions have ended.",
        )),
        Err(library::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Ok(redirect_with_flash(&back, "error", &refusal(e)?)),
    }
}

#[derive(Template)]
#[template(path = "admin/users/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    username: String,
    folders: i64,
    files: i64,
}

async fn delete_confirm(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (u, (folders, files)) = db::run(&state.pool, move |conn| {
        let Some(u) = user::find(conn, id)? else {
            return Ok(None);
        };
        Ok::<_, AppError>(Some((u, user::owned_counts(conn, id)?)))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if u.id == me.user.id {
        return Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "error",
            "You cannot delete your own account; another superuser can.",
        ));
    }
    let layout = Layout::new(&me, "users");
    let html = DeletePage {
        layout: layout.clone(),
        id,
        username: u.username,
        folders,
        files,
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn delete_user(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let actor = me.user.clone();
    let result = db::run(&state.pool, move |conn| {
        accounts::delete_user(conn, &actor, id)
    })
    .await;
    match result {
        Ok(gone) => Ok(redirect_with_flash(
            "/admin/users/",
            "ok",
            &format!("User “{}” deleted.", gone.username),
        )),
        Err(library::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "error",
            &refusal(e)?,
        )),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// Issues a token and shows its secret on the answer page itself (never in a redirect,
/// a cookie or a log): it is shown once.
async fn create_token(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let name = form.into_inner().name;
    let throttle = state.throttle();
    let result = db::run(&state.pool, move |conn| {
        let issued = accounts::issue_token(conn, id, &name);
        Ok::<_, AppError>((issued, load_account(conn, &throttle, id)?))
    })
    .await?;
    match result {
        (Ok((token_id, secret)), Some(loaded)) => {
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
        (Err(library::Error::NotFound), _) | (_, None) => Err(AppError::NotFound.into()),
        (Err(e), Some(_)) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "error",
            &refusal(e)?,
        )),
    }
}

async fn revoke_token(
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
async fn unlock(
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

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
use crate::state::AppState;
use crate::web::admin::context::{
    CsrfOnly, Flash, Layout, Superuser, check_csrf, page, read_form, redirect_with_flash, refusal,
    ticked,
};
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;

mod create;
mod delete;
mod edit;
mod list;
mod tokens;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users/", web::get().to(list::list))
        .route("/admin/users/new", web::get().to(create::new_form))
        .route("/admin/users/new", web::post().to(create::create))
        .route("/admin/users/{id}", web::get().to(edit::edit_form))
        .route("/admin/users/{id}", web::post().to(edit::update))
        .route(
            "/admin/users/{id}/password",
            web::post().to(edit::set_password),
        )
        .route("/admin/users/{id}/unlock", web::post().to(tokens::unlock))
        .route(
            "/admin/users/{id}/delete",
            web::get().to(delete::delete_confirm),
        )
        .route(
            "/admin/users/{id}/delete",
            web::post().to(delete::delete_user),
        )
        .route(
            "/admin/users/{id}/tokens",
            web::post().to(tokens::create_token),
        )
        .route(
            "/admin/users/{id}/tokens/{token_id}/revoke",
            web::post().to(tokens::revoke_token),
        );
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
    /// The quota as shown in the form (empty: none).
    quota: String,
    /// What the user's files hold, for the edit page: (files, versions, trash, total).
    usage: Option<(String, String, String, String)>,
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
    /// Why the form was refused, every problem at once.
    problems: Vec<String>,
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
    #[serde(default)]
    quota: String,
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
            quota: form.quota.clone(),
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
    /// What the account's files hold.
    usage: crate::db::models::usage::Usage,
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
    let (usage, _) = crate::library::usage::of_user(conn, id).map_err(|e| match e {
        crate::library::Error::Db(e) => e,
        other => db::DbError::Blocking(other.to_string()),
    })?;
    Ok(Some(LoadedAccount {
        user: u,
        groups,
        ticked,
        tokens,
        failures,
        usage,
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
        usage,
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
            quota: u
                .quota_bytes
                .map(crate::library::quota::human)
                .unwrap_or_default(),
            usage: Some((
                crate::library::quota::human(usage.files),
                crate::library::quota::human(usage.versions),
                crate::library::quota::human(usage.trash),
                crate::library::quota::human(usage.total()),
            )),
        },
        groups: group_choices(groups, &ticked),
        tokens: token_rows(tokens),
        new_token,
        failures,
        window_minutes: u64::try_from(throttle.window().whole_minutes()).unwrap_or(0),
        problems: Vec::new(),
    }
    .render()?;
    Ok(page(&layout, html))
}

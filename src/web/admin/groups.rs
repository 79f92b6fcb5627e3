//! Groups (superusers): list, create, edit the name and members, delete.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::accounts;
use crate::db;
use crate::db::models::{User, group, user};
use crate::domain::ids::UserId;
use crate::state::AppState;
use crate::web::admin::context::{
    CsrfOnly, Flash, Layout, Superuser, check_csrf, page, read_form, redirect_with_flash, refusal,
};
use crate::web::error::AppError;
use crate::web::errors::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/groups/", web::get().to(list))
        .route("/admin/groups/new", web::get().to(new_form))
        .route("/admin/groups/new", web::post().to(create))
        .route("/admin/groups/{id}", web::get().to(edit_form))
        .route("/admin/groups/{id}", web::post().to(update))
        .route("/admin/groups/{id}/delete", web::get().to(delete_confirm))
        .route("/admin/groups/{id}/delete", web::post().to(delete_group));
}

struct GroupRow {
    id: i64,
    name: String,
    members: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "admin/groups/list.html")]
struct ListPage {
    layout: Layout,
    groups: Vec<GroupRow>,
}

async fn list(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
) -> Result<HttpResponse, PageError> {
    let directory = db::run(&state.pool, accounts::Directory::load).await?;
    let rows = directory
        .groups
        .iter()
        .map(|g| {
            let names = directory.member_names_of(g.id);
            GroupRow {
                id: g.id,
                name: g.name.clone(),
                count: names.len(),
                members: names.join(", "),
            }
        })
        .collect();
    let layout = Layout::new(&me, "groups");
    let html = ListPage {
        layout: layout.clone(),
        groups: rows,
    }
    .render()?;
    Ok(page(&layout, html))
}

/// A user to tick as a member.
struct MemberChoice {
    id: i64,
    username: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/groups/form.html")]
struct FormPage {
    layout: Layout,
    group_id: Option<i64>,
    name: String,
    users: Vec<MemberChoice>,
}

fn render_form(
    mut layout: Layout,
    group_id: Option<i64>,
    name: String,
    users: Vec<User>,
    members: &[i64],
    refused: Option<String>,
) -> Result<HttpResponse, PageError> {
    let failed = refused.is_some();
    if let Some(text) = refused {
        layout.flash = Some(Flash {
            kind: "error",
            text,
        });
    }
    let html = FormPage {
        layout: layout.clone(),
        group_id,
        name,
        users: users
            .into_iter()
            .map(|u| MemberChoice {
                checked: members.contains(&u.id),
                id: u.id,
                username: u.username,
            })
            .collect(),
    }
    .render()?;
    let mut res = page(&layout, html);
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

async fn new_form(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
) -> Result<HttpResponse, PageError> {
    let users = db::run(&state.pool, user::list).await?;
    render_form(
        Layout::new(&me, "groups"),
        None,
        String::new(),
        users,
        &[],
        None,
    )
}

/// The posted group form; `member` repeats.
#[derive(serde::Deserialize)]
struct GroupForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    member: Vec<UserId>,
}

impl GroupForm {
    fn member_ids(&self) -> Vec<i64> {
        self.member.iter().map(|u| u.get()).collect()
    }
}

async fn create(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: GroupForm = read_form(&body)?;
    check_csrf(&me, &form.csrf_token)?;
    let name = form.name.clone();
    let members = form.member_ids();
    let (n, m) = (name.clone(), members.clone());
    match db::run(&state.pool, move |conn| {
        accounts::create_group(conn, &n, &m)
    })
    .await
    {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/groups/{id}"),
            "ok",
            &format!("Group “{}” created.", name.trim()),
        )),
        Err(e) => {
            let refused = refusal(e)?;
            let users = db::run(&state.pool, accounts::member_choices).await?;
            render_form(
                Layout::new(&me, "groups"),
                None,
                name,
                users,
                &members,
                Some(refused),
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
    let accounts::GroupPage {
        group,
        members,
        users,
    } = db::run(&state.pool, move |conn| accounts::group_page(conn, id)).await?;
    render_form(
        Layout::new(&me, "groups"),
        Some(id),
        group.name,
        users,
        &members,
        None,
    )
}

async fn update(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: GroupForm = read_form(&body)?;
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let name = form.name.clone();
    let members = form.member_ids();
    let (n, m) = (name.clone(), members.clone());
    match db::run(&state.pool, move |conn| {
        accounts::update_group(conn, id, &n, &m)
    })
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/admin/groups/{id}"),
            "ok",
            "Saved.",
        )),
        Err(accounts::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let refused = refusal(e)?;
            let users = db::run(&state.pool, accounts::member_choices).await?;
            render_form(
                Layout::new(&me, "groups"),
                Some(id),
                name,
                users,
                &members,
                Some(refused),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "admin/groups/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    name: String,
    members: usize,
}

async fn delete_confirm(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (g, members) = db::run(&state.pool, move |conn| {
        let Some(g) = group::find(conn, id)? else {
            return Ok(None);
        };
        Ok::<_, AppError>(Some((g, group::members(conn, id)?.len())))
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let layout = Layout::new(&me, "groups");
    let html = DeletePage {
        layout: layout.clone(),
        id,
        name: g.name,
        members,
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn delete_group(
    state: web::Data<AppState>,
    Superuser(me): Superuser,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&me, &form.csrf_token)?;
    let id = id.into_inner();
    let gone = db::run(&state.pool, move |conn| accounts::delete_group(conn, id)).await?;
    Ok(redirect_with_flash(
        "/admin/groups/",
        "ok",
        &format!("Group “{}” deleted.", gone.name),
    ))
}

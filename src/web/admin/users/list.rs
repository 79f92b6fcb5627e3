//! The list of users.

use super::*;

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

pub(super) async fn list(
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

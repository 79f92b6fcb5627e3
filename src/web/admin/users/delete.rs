//! Deleting a user.

use super::*;

#[derive(Template)]
#[template(path = "admin/users/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    username: String,
    folders: i64,
    files: i64,
}

pub(super) async fn delete_confirm(
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

pub(super) async fn delete_user(
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
        Err(accounts::Error::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Ok(redirect_with_flash(
            &format!("/admin/users/{id}"),
            "error",
            &refusal(e)?,
        )),
    }
}

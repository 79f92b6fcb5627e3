//! Deleting a file.

use super::*;

#[derive(Template)]
#[template(path = "admin/files/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    label: String,
    /// Whether the user may delete it permanently (its owner, or a superuser).
    may_purge: bool,
}

pub(super) async fn delete_confirm(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let f = db::run(&state.pool, move |conn| {
        files::editable(&st.library, conn, &user, id)
    })
    .await?;
    let layout = Layout::new(&staff, "files");
    let html = DeletePage {
        id: id.get(),
        may_purge: staff.user.is_superuser || f.owner_id == Some(staff.user.id),
        label: f.label().to_owned(),
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

pub(super) async fn delete_file(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let permanent = form.removal() == trash::Removal::Permanent;
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let result = db::run(&state.pool, move |conn| {
        let f = crate::db::models::file::find(conn, id.get())?;
        trash::remove_file(&st.library, conn, &user, id, form.removal()).map(|()| f)
    })
    .await;
    match result {
        Ok(f) => {
            let back = f
                .as_ref()
                .map_or_else(|| "/admin/folders/".to_owned(), back_to);
            let label = f.as_ref().map_or("the file", |f| f.label()).to_owned();
            Ok(redirect_with_flash(
                &back,
                "ok",
                &if permanent {
                    format!("Deleted “{label}” permanently.")
                } else {
                    format!("Moved “{label}” to the trash. Restore it from the trash.")
                },
            ))
        }
        Err(e @ (library::Error::Conflict(_) | library::Error::Forbidden(_))) => {
            Ok(redirect_with_flash(
                &format!("/admin/files/{id}"),
                "error",
                &format!("Not deleted: {e}"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

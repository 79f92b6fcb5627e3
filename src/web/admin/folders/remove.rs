//! Deleting a folder with its subtree.

use super::*;

#[derive(Template)]
#[template(path = "admin/folders/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    name: String,
    folders: usize,
    files: usize,
    /// Whether the user may delete it permanently (its owner, or a superuser).
    may_purge: bool,
}

pub(super) async fn delete_confirm(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let (f, counts) = db::run(&state.pool, move |conn| {
        let f = folders::readable(&st.library, conn, &user, id).map_err(AppError::from)?;
        // Only what the user may read is counted.
        let counts = folders::readable_counts(&st.library, conn, &user, id);
        counts
            .map(|c| {
                let (folders, files) = c.unwrap_or_default();
                (f, delete::TreeCounts { folders, files })
            })
            .map_err(AppError::from)
    })
    .await?;
    let layout = Layout::new(&staff, "files");
    let html = DeletePage {
        id: id.get(),
        may_purge: staff.user.is_superuser || f.owner_id == Some(staff.user.id),
        name: f.name,
        folders: counts.folders,
        files: counts.files,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

pub(super) async fn delete_folder(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let how = form.removal();
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let parent = db::run(&state.pool, move |conn| {
        Ok::<_, AppError>(folder::find(conn, id.get())?.and_then(|f| f.parent_id))
    })
    .await?;
    let result = db::run(&state.pool, move |conn| {
        trash::remove_folder(&st.library, conn, &user, id, how)
    })
    .await;
    let back = parent.map_or_else(
        || "/admin/folders/".to_owned(),
        |p| format!("/admin/folders/{p}"),
    );
    match result {
        Ok(c) => Ok(redirect_with_flash(
            &back,
            "ok",
            &if how == trash::Removal::Permanent {
                format!(
                    "Deleted {} folder(s) and {} file(s) permanently.",
                    c.folders, c.files
                )
            } else {
                format!(
                    "Moved {} folder(s) and {} file(s) to the trash. Restore them from the trash.",
                    c.folders, c.files
                )
            },
        )),
        Err(e @ (crate::library::Error::Forbidden(_) | crate::library::Error::Conflict(_))) => {
            Ok(redirect_with_flash(
                &format!("/admin/folders/{id}"),
                "error",
                &format!("Nothing was deleted: {e}"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

//! The trash: what the user deleted (or owns), to restore or delete permanently.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db;
use crate::library::trash::{self, TrashItem};
use crate::state::AppState;
use crate::web::admin::context::{CsrfOnly, Layout, Staff, check_csrf, page, redirect_with_flash};
use crate::web::api::json::timestamp;
use crate::web::errors::PageError;
use crate::web::human_size;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/trash/", web::get().to(list))
        .route("/admin/trash/{id}/restore", web::post().to(restore))
        .route("/admin/trash/{id}/delete", web::post().to(purge));
}

struct Row {
    id: i64,
    name: String,
    is_folder: bool,
    size: String,
    trashed_at: String,
    trashed_by: String,
    owner: String,
    restores_to: String,
    may_purge: bool,
}

impl From<TrashItem> for Row {
    fn from(t: TrashItem) -> Self {
        Row {
            id: t.entry.id,
            name: t.entry.name,
            is_folder: t.is_folder,
            size: human_size(t.entry.size),
            trashed_at: timestamp(t.entry.trashed_at),
            trashed_by: t.trashed_by,
            owner: t.owner,
            restores_to: t.restores_to.unwrap_or_else(|| "the top level".to_owned()),
            may_purge: t.may_purge,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/trash.html")]
struct TrashPage {
    layout: Layout,
    rows: Vec<Row>,
    retention_days: u32,
}

/// `GET /admin/trash/`: the items the user deleted or owns (all for superusers).
async fn list(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, PageError> {
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let items = db::run(&state.pool, move |conn| {
        trash::list(&st.library, conn, &user)
    })
    .await?;
    let layout = Layout::new(&staff, "trash");
    let html = TrashPage {
        layout: layout.clone(),
        rows: items.into_iter().map(Row::from).collect(),
        retention_days: state.library.settings.trash_retention_days,
    }
    .render()?;
    Ok(page(&layout, html))
}

/// `POST /admin/trash/{id}/restore`.
async fn restore(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let (st, user, id) = (state.get_ref().clone(), staff.user.clone(), id.into_inner());
    let done = db::run(&state.pool, move |conn| {
        trash::restore(&st.library, conn, &user, id)
    })
    .await;
    Ok(match done {
        Ok(r) => {
            let mut message = format!("Restored “{}”.", r.name);
            if !r.left_private.is_empty() {
                message.push_str(&format!(
                    " {} file(s) that were public stay private for now: make them public from their page.",
                    r.left_private.len()
                ));
            }
            redirect_with_flash("/admin/trash/", "ok", &message)
        }
        Err(e @ crate::library::Error::NotFound) => return Err(e.into()),
        Err(e) => redirect_with_flash("/admin/trash/", "error", &format!("Not restored: {e}")),
    })
}

/// `POST /admin/trash/{id}/delete`: permanently (its owner or a superuser).
async fn purge(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let (st, user, id) = (state.get_ref().clone(), staff.user.clone(), id.into_inner());
    let done = db::run(&state.pool, move |conn| {
        trash::purge(&st.library, conn, &user, id)
    })
    .await;
    Ok(match done {
        Ok(name) => redirect_with_flash(
            "/admin/trash/",
            "ok",
            &format!("Deleted “{name}” permanently."),
        ),
        Err(e @ crate::library::Error::NotFound) => return Err(e.into()),
        Err(e) => redirect_with_flash("/admin/trash/", "error", &format!("Not deleted: {e}")),
    })
}

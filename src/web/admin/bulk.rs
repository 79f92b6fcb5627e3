//! Bulk actions on the items selected in a listing: move and copy (with a destination
//! picker), delete (with a confirmation), make public or private; each ends on a summary of
//! what was done and what was refused and why.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db;
use crate::library::bulk::{self, Item, Summary};
use crate::state::AppState;
use crate::web::admin::context::{Layout, Staff, check_csrf, page, read_form, ticked};
use crate::web::error::AppError;
use crate::web::errors::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/bulk", web::post().to(bulk_action));
}

/// The bulk form (`item` repeats).
#[derive(serde::Deserialize)]
struct BulkForm {
    #[serde(default)]
    csrf_token: String,
    /// `file-ID` or `folder-ID`, one per ticked row.
    #[serde(default, rename = "item")]
    items: Vec<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    destination: Option<String>,
    #[serde(default)]
    suffix: String,
    #[serde(default, deserialize_with = "ticked")]
    confirm: bool,
}

/// Only admin listing paths are followed back.
fn safe_from(from: &str) -> String {
    match crate::domain::next::local_path(from) {
        Some(p) if p.starts_with("/admin/folders/") => p,
        _ => "/admin/folders/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "admin/bulk/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    action: String,
    heading: String,
    items: Vec<String>,
    from: String,
    destinations: Vec<crate::library::picker::Destination>,
    needs_destination: bool,
    is_copy: bool,
    allow_top_level: bool,
    counts: Option<(usize, usize)>,
    /// Making public: how many private files it exposes.
    exposes: Option<usize>,
}

#[derive(Template)]
#[template(path = "admin/bulk/summary.html")]
struct SummaryPage {
    layout: Layout,
    heading: String,
    summary: Summary,
    from: String,
}

async fn bulk_action(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: BulkForm = read_form(&body)?;
    check_csrf(&staff, &form.csrf_token)?;
    let from = safe_from(&form.from);
    let items: Vec<Item> = form.items.iter().filter_map(|s| Item::parse(s)).collect();
    let layout = Layout::new(&staff, "files");
    if items.is_empty() {
        return Ok(crate::web::admin::context::redirect_with_flash(
            &from,
            "error",
            "Select one or more items first.",
        ));
    }
    let heading = match form.action.as_str() {
        "move" => "Move",
        "copy" => "Copy",
        "delete" => "Delete",
        "make_public" => "Make public",
        "make_private" => "Make private",
        _ => return Err(AppError::BadRequest("unknown action".into()).into()),
    };
    let needs_destination = matches!(form.action.as_str(), "move" | "copy");
    let asks_first = needs_destination || matches!(form.action.as_str(), "delete" | "make_public");
    if asks_first && !form.confirm {
        let (st, user, its) = (state.get_ref().clone(), staff.user.clone(), items.clone());
        let action = match form.action.as_str() {
            "move" => bulk::ConfirmedAction::Move,
            "copy" => bulk::ConfirmedAction::Copy,
            "make_public" => bulk::ConfirmedAction::MakePublic,
            _ => bulk::ConfirmedAction::Delete,
        };
        let confirmation = db::run(&state.pool, move |conn| {
            bulk::confirmation(&st.library, conn, &user, &its, action)
        })
        .await?;
        let (dest, counts, exposes) = match confirmation {
            bulk::Confirmation::Destinations(d) => (d, None, None),
            bulk::Confirmation::Removes(folders, files) => {
                (Vec::new(), Some((folders, files)), None)
            }
            bulk::Confirmation::Exposes(files) => (Vec::new(), None, Some(files)),
        };
        let html = ConfirmPage {
            action: form.action.clone(),
            heading: heading.to_owned(),
            items: form.items.clone(),
            from,
            destinations: dest,
            needs_destination,
            is_copy: form.action == "copy",
            allow_top_level: true,
            counts,
            exposes,
            layout: layout.clone(),
        }
        .render()?;
        return Ok(page(&layout, html));
    }
    let destination = match form.destination.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(
            d.parse::<i64>()
                .map_err(|_| AppError::BadRequest("invalid destination".into()))?,
        ),
    };
    let (st, user, action, suffix) = (
        state.get_ref().clone(),
        staff.user.clone(),
        form.action.clone(),
        form.suffix.clone(),
    );
    let summary = db::run(&state.pool, move |conn| match action.as_str() {
        "move" => bulk::move_items(&st.library, conn, &user, &items, destination),
        "copy" => bulk::copy_items(&st.library, conn, &user, &items, destination, &suffix),
        "delete" => bulk::delete_items(&st.library, conn, &user, &items),
        "make_public" => bulk::set_public_items(&st.library, conn, &user, &items, true),
        _ => bulk::set_public_items(&st.library, conn, &user, &items, false),
    })
    .await?;
    let html = SummaryPage {
        heading: heading.to_owned(),
        summary,
        from,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

//! The folder browser and folder actions: list (root, unsorted uploads, a folder; sort,
//! search, views, pages; images with their thumbnails), create, rename or move, delete.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::file::Order;
use crate::db::models::folder::{self, Folder};
use crate::domain::ids::{FolderId, UserId};
use crate::library::browse::{self, Place, Query};
use crate::library::images::Look;
use crate::library::picker::{self, Destination};
use crate::library::{delete, folders};
use crate::state::AppState;
use crate::web::admin::context::{CsrfOnly, Layout, Staff, check_csrf, page, redirect_with_flash};
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;
use crate::web::listing::{Thumb, download_url, no_thumbnail_reason, type_icon};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/folders/", web::get().to(root))
        .route("/admin/folders/unsorted", web::get().to(unsorted))
        .route("/admin/folders/new", web::get().to(new_form))
        .route("/admin/folders/new", web::post().to(create))
        .route("/admin/folders/{id}", web::get().to(show))
        .route("/admin/folders/{id}/edit", web::get().to(edit_form))
        .route("/admin/folders/{id}/edit", web::post().to(update))
        .route("/admin/folders/{id}/delete", web::get().to(delete_confirm))
        .route("/admin/folders/{id}/delete", web::post().to(delete_folder));
}

/// Query string of a listing.
#[derive(Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    everywhere: Option<String>,
    sort: Option<String>,
    view: Option<String>,
    page: Option<i64>,
}

/// The sort keys offered: label, value.
const SORTS: [(&str, &str); 8] = [
    ("name", "name"),
    ("name ↓", "-name"),
    ("size", "size"),
    ("size ↓", "-size"),
    ("modified", "modified"),
    ("newest", "-modified"),
    ("owner", "owner"),
    ("owner ↓", "-owner"),
];

fn parse_sort(s: &str) -> (Order, bool, &'static str) {
    let (desc, key) = match s.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, s),
    };
    match (key, desc) {
        ("size", false) => (Order::Size, false, "size"),
        ("size", true) => (Order::Size, true, "-size"),
        ("modified", false) => (Order::Modified, false, "modified"),
        ("modified", true) => (Order::Modified, true, "-modified"),
        ("owner", false) => (Order::Owner, false, "owner"),
        ("owner", true) => (Order::Owner, true, "-owner"),
        (_, true) => (Order::Name, true, "-name"),
        _ => (Order::Name, false, "name"),
    }
}

/// A subfolder line.
pub struct FolderRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub counts: String,
    pub modified: String,
}

/// A file line.
pub struct FileRow {
    pub id: i64,
    pub name: String,
    pub original_filename: String,
    pub owner: String,
    pub size: String,
    pub modified: String,
    pub is_public: bool,
    pub download: String,
    pub icon: &'static str,
    /// The thumbnail, for images that have them.
    pub thumb: Option<Thumb>,
    /// Why an image has no thumbnail (shown on its type icon).
    pub failure: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/folders/list.html")]
struct ListPage {
    layout: Layout,
    title: String,
    here: String,
    folder_id: Option<i64>,
    crumbs: Vec<Option<(i64, String)>>,
    folders: Vec<FolderRow>,
    files: Vec<FileRow>,
    show_unsorted: bool,
    can_edit: bool,
    can_new_folder: bool,
    can_upload: bool,
    upload_folder: String,
    max_upload: u64,
    max_upload_human: String,
    search: String,
    everywhere: bool,
    searching: bool,
    total_files: i64,
    sort: &'static str,
    sorts: Vec<(&'static str, &'static str, bool)>,
    view: &'static str,
    page: i64,
    pages: i64,
}

async fn listing(
    state: web::Data<AppState>,
    staff: Staff,
    place: Place,
    params: ListParams,
) -> Result<HttpResponse, PageError> {
    let (order, descending, sort) = parse_sort(params.sort.as_deref().unwrap_or("name"));
    let view = if params.view.as_deref() == Some("thumbs") {
        "thumbs"
    } else {
        "table"
    };
    let search = params.q.clone().unwrap_or_default();
    let query = Query {
        place,
        search: Some(search.clone()).filter(|s| !s.trim().is_empty()),
        everywhere: params.everywhere.is_some(),
        order,
        descending,
        page: params.page.unwrap_or(1).max(1),
    };
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let l = db::run(&state.pool, move |conn| {
        browse::list(&st.library, conn, &user, &query)
    })
    .await?;
    let owner = |id: Option<i64>| {
        id.and_then(|i| l.owners.get(&i).cloned())
            .unwrap_or_else(|| "—".into())
    };
    let folders = l
        .folders
        .iter()
        .map(|f| FolderRow {
            id: f.folder.id,
            name: f.folder.name.clone(),
            owner: owner(f.folder.owner_id),
            counts: format!("{} folder(s), {} file(s)", f.subfolders, f.files),
            modified: timestamp(f.folder.modified_at),
        })
        .collect();
    let (preset, double) = if view == "thumbs" {
        ("icon-120", "icon-240")
    } else {
        ("icon-40", "icon-80")
    };
    let files = l
        .files
        .iter()
        .map(|f| {
            let look = l.looks.get(&f.id).unwrap_or(&Look::Icon);
            FileRow {
                id: f.id,
                name: f.label().to_owned(),
                original_filename: f.original_filename.clone(),
                owner: owner(f.owner_id),
                size: human_size(f.size),
                modified: timestamp(f.modified_at),
                is_public: f.is_public,
                download: download_url(&state, f),
                icon: type_icon(&f.mime_type),
                thumb: Thumb::new(&state, f, look, preset, double),
                failure: no_thumbnail_reason(look),
            }
        })
        .collect();
    let (title, here, folder_id, upload_folder) = match (place, &l.folder) {
        (Place::Folder(id), Some(f)) => (
            f.name.clone(),
            format!("/admin/folders/{id}"),
            Some(id),
            id.to_string(),
        ),
        (Place::Unsorted, _) => (
            "Unsorted uploads".to_owned(),
            "/admin/folders/unsorted".to_owned(),
            None,
            String::new(),
        ),
        _ => (
            "All folders".to_owned(),
            "/admin/folders/".to_owned(),
            None,
            String::new(),
        ),
    };
    let layout = Layout::new(&staff, "files");
    let page_html = ListPage {
        title,
        here,
        folder_id,
        crumbs: l.crumbs.clone(),
        folders,
        files,
        show_unsorted: place == Place::Root && !l.searching,
        can_edit: l.can_edit,
        can_new_folder: l.can_add && place != Place::Unsorted,
        can_upload: l.can_add && place != Place::Root,
        upload_folder,
        max_upload: state.settings.max_upload_size,
        max_upload_human: human_size(
            i64::try_from(state.settings.max_upload_size).unwrap_or(i64::MAX),
        ),
        search,
        everywhere: params.everywhere.is_some(),
        searching: l.searching,
        total_files: l.total_files,
        sort,
        sorts: SORTS
            .iter()
            .map(|(label, value)| (*label, *value, *value == sort))
            .collect(),
        view,
        page: l.page,
        pages: l.pages,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, page_html))
}

async fn root(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    listing(state, staff, Place::Root, q.into_inner()).await
}

async fn unsorted(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    listing(state, staff, Place::Unsorted, q.into_inner()).await
}

async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    listing(
        state,
        staff,
        Place::Folder(id.into_inner().get()),
        q.into_inner(),
    )
    .await
}

#[derive(Template)]
#[template(path = "admin/folders/form.html")]
struct FolderForm {
    layout: Layout,
    heading: String,
    action: String,
    name: String,
    parent: Option<i64>,
    /// (id, path) of every folder the folder may be moved into; empty when creating.
    destinations: Vec<Destination>,
    is_edit: bool,
    owner_id: Option<i64>,
    users: Vec<(i64, String)>,
}

#[derive(Deserialize)]
pub struct NewParams {
    parent: Option<i64>,
}

async fn new_form(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<NewParams>,
) -> Result<HttpResponse, PageError> {
    if let Some(p) = q.parent {
        let (st, user) = (state.get_ref().clone(), staff.user.clone());
        db::run(&state.pool, move |conn| {
            folders::readable(&st.library, conn, &user, FolderId::new(p))
        })
        .await?;
    }
    let layout = Layout::new(&staff, "files");
    let html = FolderForm {
        heading: "New folder".into(),
        action: "/admin/folders/new".into(),
        name: String::new(),
        parent: q.parent,
        destinations: Vec::new(),
        is_edit: false,
        owner_id: None,
        users: Vec::new(),
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

#[derive(Deserialize)]
pub struct FolderFields {
    #[serde(default)]
    csrf_token: String,
    name: String,
    parent: Option<String>,
    owner: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<FolderFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let parent = FolderId::parse_optional(form.parent.as_deref())?;
    let (st, user, name) = (
        state.get_ref().clone(),
        staff.user.clone(),
        form.name.clone(),
    );
    let created = db::run(&state.pool, move |conn| {
        folders::create(&st.library, conn, &user, &name, parent, None)
    })
    .await;
    match created {
        Ok(f) => Ok(redirect_with_flash(
            &format!("/admin/folders/{}", f.id),
            "ok",
            &format!("Folder “{}” created.", f.name),
        )),
        Err(
            e @ (crate::library::Error::Invalid(_)
            | crate::library::Error::Conflict(_)
            | crate::library::Error::Forbidden(_)),
        ) => {
            let back = match parent {
                Some(p) => format!("/admin/folders/new?parent={p}"),
                None => "/admin/folders/new".into(),
            };
            Ok(redirect_with_flash(&back, "error", &e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let (f, dest, users): (Folder, _, _) = db::run(&state.pool, move |conn| {
        let f = folders::readable(&st.library, conn, &user, id)?;
        let mut dest = picker::destinations(&st.library, conn, &user, &[id.get()])?;
        // The current place is always offered, so saving a rename never moves the folder.
        if let Some(p) = f.parent_id
            && !dest.iter().any(|d| d.id == p)
        {
            let place =
                picker::path(&st.library, conn, &user, p)?.unwrap_or_else(|| picker::GAP.into());
            dest.insert(
                0,
                Destination {
                    id: p,
                    path: format!("{place} (current)"),
                },
            );
        }
        let users = if user.is_superuser {
            crate::db::models::user::list(conn)?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, AppError>((f, dest, users))
    })
    .await?;
    let layout = Layout::new(&staff, "files");
    let html = FolderForm {
        heading: format!("Rename or move “{}”", f.name),
        action: format!("/admin/folders/{id}/edit"),
        name: f.name.clone(),
        parent: f.parent_id,
        destinations: dest,
        is_edit: true,
        owner_id: f.owner_id,
        users,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn update(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
    form: web::Form<FolderFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let id = id.into_inner();
    let edit = folders::Edit {
        name: Some(form.name.clone()),
        parent_id: Some(FolderId::parse_optional(form.parent.as_deref())?),
        owner_id: match form.owner.as_deref() {
            None => None,
            Some(o) => Some(UserId::parse_optional(Some(o))?),
        },
    };
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let result = db::run(&state.pool, move |conn| {
        folders::update(&st.library, conn, &user, id, &edit)
    })
    .await;
    match result {
        Ok(f) => Ok(redirect_with_flash(
            &format!("/admin/folders/{}", f.id),
            "ok",
            "Folder saved.",
        )),
        Err(
            e @ (crate::library::Error::Invalid(_)
            | crate::library::Error::Conflict(_)
            | crate::library::Error::Forbidden(_)),
        ) => Ok(redirect_with_flash(
            &format!("/admin/folders/{id}/edit"),
            "error",
            &e.to_string(),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/folders/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    name: String,
    folders: usize,
    files: usize,
}

async fn delete_confirm(
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
        name: f.name,
        folders: counts.folders,
        files: counts.files,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn delete_folder(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let parent = db::run(&state.pool, move |conn| {
        Ok::<_, AppError>(folder::find(conn, id.get())?.and_then(|f| f.parent_id))
    })
    .await?;
    let result = db::run(&state.pool, move |conn| {
        delete::delete_folder(&st.library, conn, &user, id)
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
            &format!("Deleted {} folder(s) and {} file(s).", c.folders, c.files),
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

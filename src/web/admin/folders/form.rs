//! Creating, renaming and moving folders.

use super::*;

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
    /// What the folder's tree holds (edit page): (files, versions, trash, total).
    usage: Option<(String, String, String, String)>,
    csrf_token: String,
    /// The folder's share links (edit page).
    share_rows: Vec<crate::web::share_manage::ShareRow>,
    /// Links to each share's download audit (superusers).
    may_audit: bool,
    share_field: &'static str,
    share_id: i64,
    share_back: String,
}

#[derive(Deserialize)]
pub struct NewParams {
    parent: Option<i64>,
}

pub(super) async fn new_form(
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
        usage: None,
        csrf_token: layout.csrf_token.clone(),
        share_rows: Vec::new(),
        may_audit: false,
        share_field: "folder_id",
        share_id: 0,
        share_back: String::new(),
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

pub(super) async fn create(
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

pub(super) async fn edit_form(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FolderId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let folders::EditPage {
        folder: f,
        destinations: dest,
        users,
        usage,
        shares,
    } = db::run(&state.pool, move |conn| {
        folders::edit_page(&st.library, conn, &user, id)
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
        usage: Some((
            human_size(usage.files),
            human_size(usage.versions),
            human_size(usage.trash),
            human_size(usage.total()),
        )),
        csrf_token: layout.csrf_token.clone(),
        share_rows: shares.into_iter().map(Into::into).collect(),
        may_audit: layout.is_superuser,
        share_field: "folder_id",
        share_id: f.id,
        share_back: format!("/admin/folders/{}/edit", f.id),
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

pub(super) async fn update(
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

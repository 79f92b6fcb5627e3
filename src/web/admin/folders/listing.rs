//! The folder browser: a folder, the top level, the unsorted uploads, search and sorting.

use super::*;

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
    /// While searching: where it lies.
    pub place: Option<Vec<PlaceStep>>,
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
    /// While searching: the folder it lies in.
    pub place: Option<Vec<PlaceStep>>,
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

pub(super) async fn listing(
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
            place: place_steps(
                l.folder_places.get(&f.folder.id),
                "/admin/folders/",
                ("/admin/folders/", "All folders"),
            ),
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
                place: place_steps(
                    l.file_places.get(&f.id),
                    "/admin/folders/",
                    ("/admin/folders/unsorted", "Unsorted uploads"),
                ),
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

pub(super) async fn root(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    listing(state, staff, Place::Root, q.into_inner()).await
}

pub(super) async fn unsorted(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    listing(state, staff, Place::Unsorted, q.into_inner()).await
}

pub(super) async fn show(
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

//! The file page: details, edit, move, owner, "Permissions disabled", image fields.

use super::*;

#[derive(Template)]
#[template(path = "admin/files/detail.html")]
struct DetailPage {
    layout: Layout,
    id: i64,
    name: String,
    label: String,
    original_filename: String,
    description: String,
    is_public: bool,
    url: String,
    stable: String,
    size: String,
    bytes: i64,
    mime_type: String,
    sha256: String,
    created: String,
    modified: String,
    icon: &'static str,
    preview: Option<Thumb>,
    /// The image itself, for the enlarged preview: the stable URL of an image type browsers
    /// draw (never SVG), else none (the preview thumbnail is enlarged).
    full_image: Option<String>,
    /// Files without an image preview: how the reader's page shows them (text, a player).
    shown: Option<Shown>,
    /// Why an image has no thumbnails.
    failure: Option<String>,
    image: Option<ImageFacts>,
    folder_id: Option<i64>,
    back: String,
    destinations: Vec<Destination>,
    may_unsort: bool,
    owner_id: Option<i64>,
    owner_name: String,
    users: Vec<(i64, String)>,
    can_edit: bool,
    readers: Vec<Reader>,
    max_upload_human: String,
    versions: Vec<VersionRow>,
    csrf_token: String,
    share_rows: Vec<crate::web::share_manage::ShareRow>,
    /// Links to each share's download audit (superusers).
    may_audit: bool,
    share_field: &'static str,
    share_id: i64,
    share_back: String,
    /// A private image: its thumbnails can be embedded through signed links.
    embeddable: bool,
    embed_presets: [&'static str; 3],
}

/// A kept earlier content, as the file page lists it.
pub(super) struct VersionRow {
    id: i64,
    name: String,
    size: String,
    /// When these bytes became the content, and when they were replaced (RFC 3339).
    created: String,
    replaced: String,
    replaced_by: String,
    url: String,
}

impl VersionRow {
    fn new(file_id: i64, l: crate::library::versions::Listed) -> Self {
        let v = l.version;
        VersionRow {
            id: v.id,
            url: format!("/files/{file_id}/versions/{}", v.id),
            name: v.original_filename,
            size: human_size(v.size),
            created: timestamp(v.created_at),
            replaced: timestamp(v.replaced_at),
            replaced_by: l.replaced_by,
        }
    }
}

/// What the file page shows and edits of an image.
struct ImageFacts {
    width: i32,
    height: i32,
    date_taken: Option<String>,
    alt_text: String,
    caption: String,
    /// The focal point as typed in the form (`x,y`), empty for none.
    subject: String,
}

impl ImageFacts {
    fn new(meta: &ImageMeta) -> Self {
        let json = ImageJson::from(meta);
        Self {
            width: meta.width,
            height: meta.height,
            date_taken: json.date_taken.map(|d| d.replacen('T', " ", 1)),
            alt_text: meta.alt_text.clone(),
            caption: meta.caption.clone(),
            subject: json
                .subject_location
                .map_or_else(String::new, |p| format!("{},{}", p.x, p.y)),
        }
    }
}

pub(super) async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let files::FilePage {
        file: f,
        can_edit,
        destinations,
        users,
        readers,
        owner_name,
        image: meta,
        thumbnail_failure: failed,
        versions,
        shares,
    } = db::run(&state.pool, move |conn| {
        files::page(&st.library, conn, &user, id)
    })
    .await?;
    let text = {
        let (st, f) = (state.get_ref().clone(), f.clone());
        web::block(move || crate::library::viewer::text_preview(&st.library, &f))
            .await
            .map_err(AppError::unexpected)?
    };
    let look = Look::of(&f, meta.as_ref(), failed.as_deref());
    let shown = Shown::of(&f, text, f.label().to_owned());
    // An image browsers draw is enlarged from itself; the others keep the thumbnail.
    let full_image = matches!(shown, Shown::Image(_)).then(|| stable_url(&f));
    let layout = Layout::new(&staff, "files");
    let html = DetailPage {
        id: f.id,
        name: f.name.clone(),
        label: f.label().to_owned(),
        original_filename: f.original_filename.clone(),
        description: f.description.clone(),
        is_public: f.is_public,
        url: file_url(&state, &f),
        stable: stable_url(&f),
        size: human_size(f.size),
        bytes: f.size,
        mime_type: f.mime_type.clone(),
        sha256: f.sha256.clone(),
        created: timestamp(f.created_at),
        modified: timestamp(f.modified_at),
        icon: type_icon(&f.mime_type),
        shown: match shown {
            // Images show their thumbnail preview (with the focal point), others their type.
            Shown::Image(_) | Shown::Label(_) => None,
            other => Some(other),
        },
        preview: Thumb::new(&state, &f, &look, "preview-210", "preview-420"),
        full_image,
        failure: no_thumbnail_reason(&look),
        image: meta.as_ref().map(ImageFacts::new),
        folder_id: f.folder_id,
        back: back_to(&f),
        destinations,
        may_unsort: staff.user.is_superuser || f.owner_id == Some(staff.user.id),
        owner_id: f.owner_id,
        owner_name,
        users,
        can_edit,
        readers,
        max_upload_human: human_size(
            i64::try_from(state.settings.max_upload_size).unwrap_or(i64::MAX),
        ),
        versions: versions
            .into_iter()
            .map(|v| VersionRow::new(f.id, v))
            .collect(),
        csrf_token: layout.csrf_token.clone(),
        share_rows: shares.into_iter().map(Into::into).collect(),
        may_audit: layout.is_superuser,
        share_field: "file_id",
        share_id: f.id,
        share_back: format!("/admin/files/{}", f.id),
        embeddable: !f.is_public && meta.is_some() && f.mime_type != "image/svg+xml",
        embed_presets: super::embed::PRESETS,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

#[derive(Deserialize)]
pub struct FileFields {
    #[serde(default)]
    csrf_token: String,
    name: String,
    description: String,
    folder: Option<String>,
    owner: Option<String>,
    /// The "Permissions disabled" checkbox: present = public.
    permissions_disabled: Option<String>,
    /// Images only, like the two below.
    alt_text: Option<String>,
    caption: Option<String>,
    /// The focal point, `x,y`; empty removes it.
    subject_location: Option<String>,
}

pub(super) async fn update(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    form: web::Form<FileFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let id = id.into_inner();
    let edit = files::Edit {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        folder_id: match form.folder.as_deref() {
            None => None,
            Some(v) => Some(FolderId::parse_optional(Some(v))?),
        },
        owner_id: match form.owner.as_deref() {
            None => None,
            Some(v) => Some(UserId::parse_optional(Some(v))?),
        },
    };
    let public = form.permissions_disabled.is_some();
    let (alt_text, caption, subject) = (
        form.alt_text.clone(),
        // Browsers send a textarea's line breaks as CR LF.
        form.caption.as_ref().map(|c| c.replace("\r\n", "\n")),
        form.subject_location.clone(),
    );
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let result = db::run(&state.pool, move |conn| {
        let image_edit = image_files::ImageEdit {
            alt_text,
            caption,
            subject_location: subject
                .as_deref()
                .map(image_files::parse_focal_point)
                .transpose()?,
        };
        files::save(
            &st.library,
            conn,
            &user,
            id,
            &edit,
            &image_edit,
            Some(public),
        )
    })
    .await;
    let here = format!("/admin/files/{id}");
    match result {
        Ok(files::Saved { file: f, moved }) => {
            let text = match (moved, f.is_public) {
                (true, true) => format!("Saved. The file and its thumbnails are now public, at {}", file_url(&state, &f)),
                (true, false) => "Saved. The file and its thumbnails are now private: only people who may read them can download them.".to_owned(),
                (false, _) => "Saved.".to_owned(),
            };
            Ok(redirect_with_flash(&here, "ok", &text))
        }
        Err(
            e @ (library::Error::Invalid(_)
            | library::Error::Conflict(_)
            | library::Error::Forbidden(_)),
        ) => Ok(redirect_with_flash(
            &here,
            "error",
            &format!("Not saved: {e}"),
        )),
        Err(e) => Err(e.into()),
    }
}

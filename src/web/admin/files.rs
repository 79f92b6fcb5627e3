//! The file page (details, "Permissions disabled", move, owner, replace, delete, who can
//! read it; for images the preview, size, date taken, alt text, caption and focal point) and
//! uploads from the admin (plain form and per-file XHR with progress).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::db;
use crate::db::models::File;
use crate::db::models::ImageMeta;
use crate::domain::ids::{FileId, FolderId, UserId};
use crate::library::images::{self, Look};
use crate::library::picker::Destination;
use crate::library::readers::Reader;
use crate::library::{self, delete, files, relocate, upload};
use crate::state::AppState;
use crate::web::admin::context::{CsrfOnly, Layout, Staff, check_csrf, page, redirect_with_flash};
use crate::web::api::json::{ImageJson, file_url, timestamp};
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;
use crate::web::listing::{Thumb, no_thumbnail_reason, stable_url, type_icon};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/files/{id}", web::get().to(show))
        .route("/admin/files/{id}", web::post().to(update))
        .route("/admin/files/{id}/replace", web::post().to(replace))
        .route("/admin/files/{id}/delete", web::get().to(delete_confirm))
        .route("/admin/files/{id}/delete", web::post().to(delete_file))
        .route("/admin/upload", web::post().to(upload_files));
}

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

fn back_to(f: &File) -> String {
    f.folder_id.map_or_else(
        || "/admin/folders/unsorted".to_owned(),
        |id| format!("/admin/folders/{id}"),
    )
}

async fn show(
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
    } = db::run(&state.pool, move |conn| {
        files::page(&st.library, conn, &user, id)
    })
    .await?;
    let look = Look::of(&f, meta.as_ref(), failed.as_deref());
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
        preview: Thumb::new(&state, &f, &look, "preview-210", "preview-420"),
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

async fn update(
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
        let run = || -> library::Result<(File, bool)> {
            let image_edit = images::ImageEdit {
                alt_text,
                caption,
                subject_location: subject
                    .as_deref()
                    .map(images::parse_focal_point)
                    .transpose()?,
            };
            let before =
                files::update_with_image(&st.library, conn, &user, id, &edit, &image_edit)?;
            let moved = before.is_public != public;
            let after = relocate::set_public_checked(&st.library, conn, &user, id, public)?;
            Ok((after, moved))
        };
        run()
    })
    .await;
    let here = format!("/admin/files/{id}");
    match result {
        Ok((f, moved)) => {
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

/// Reads the first multipart field, which must be the CSRF token (so that no file is
/// streamed for a forged request).
async fn csrf_first(form: &mut Multipart, staff: &Staff) -> Result<(), AppError> {
    let bad =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("invalid upload: {e}"));
    let mut field = form.try_next().await.map_err(bad)?.ok_or(AppError::Csrf)?;
    if field.name() != Some("csrf_token") {
        return Err(AppError::Csrf);
    }
    let mut value = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(bad)? {
        value.extend_from_slice(&chunk);
        if value.len() > 256 {
            return Err(AppError::Csrf);
        }
    }
    check_csrf(staff, &String::from_utf8_lossy(&value))
}

async fn small_field(field: &mut actix_multipart::Field) -> Result<String, AppError> {
    let mut value = Vec::new();
    while let Some(chunk) = field
        .try_next()
        .await
        .map_err(|e| AppError::BadRequest(format!("invalid upload: {e}")))?
    {
        value.extend_from_slice(&chunk);
        if value.len() > 4096 {
            return Err(AppError::BadRequest("form field too long".into()));
        }
    }
    String::from_utf8(value).map_err(|_| AppError::BadRequest("form field is not UTF-8".into()))
}

fn file_body(
    field: actix_multipart::Field,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())))
}

async fn replace(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    mut form: Multipart,
) -> Result<HttpResponse, PageError> {
    csrf_first(&mut form, &staff).await?;
    let id = id.into_inner();
    let here = format!("/admin/files/{id}");
    let bad =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("invalid upload: {e}"));
    while let Some(field) = form.try_next().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            return Ok(redirect_with_flash(
                &here,
                "error",
                "Choose a file to upload first.",
            ));
        }
        return match files::replace_content(
            &state.library,
            &staff.user,
            id,
            &name,
            file_body(field),
        )
        .await
        {
            Ok(_) => Ok(redirect_with_flash(
                &here,
                "ok",
                "Content replaced. The old bytes and thumbnails are gone; the stable link still works.",
            )),
            Err(library::Error::Storage(crate::storage::StorageError::TooLarge { limit })) => {
                Ok(redirect_with_flash(
                    &here,
                    "error",
                    &format!(
                        "Not replaced: the file is larger than the limit of {}.",
                        human_size(i64::try_from(limit).unwrap_or(i64::MAX))
                    ),
                ))
            }
            Err(e @ (library::Error::Conflict(_) | library::Error::Forbidden(_))) => Ok(
                redirect_with_flash(&here, "error", &format!("Not replaced: {e}")),
            ),
            Err(e) => Err(e.into()),
        };
    }
    Ok(redirect_with_flash(
        &here,
        "error",
        "Choose a file to upload first.",
    ))
}

#[derive(Template)]
#[template(path = "admin/files/delete.html")]
struct DeletePage {
    layout: Layout,
    id: i64,
    label: String,
}

async fn delete_confirm(
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
        label: f.label().to_owned(),
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

async fn delete_file(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let id = id.into_inner();
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let result = db::run(&state.pool, move |conn| {
        let f = crate::db::models::file::find(conn, id.get())?;
        delete::delete_file(&st.library, conn, &user, id).map(|()| f)
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
                &format!("Deleted “{label}”."),
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

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get("X-Requested-With")
        .is_some_and(|v| v == "XMLHttpRequest")
}

/// `POST /admin/upload`: multipart with `csrf_token` first, then `folder` (empty = unsorted
/// uploads) at most once, then one or more `file` parts. Scripts send one file per request
/// and get JSON back; the plain form sends several and is redirected to the folder with a
/// summary. All or nothing: a `folder` after a file or given twice, a refused target or a
/// file over the limit stores none of the request's files.
async fn upload_files(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    mut form: Multipart,
) -> Result<HttpResponse, PageError> {
    let json = wants_json(&req);
    csrf_first(&mut form, &staff).await?;
    let bad =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("invalid upload: {e}"));
    let mut fields =
        upload::TargetFields::new(upload::FieldNames::Admin, upload::UploadTarget::default());
    let mut staged: Vec<upload::Staged> = Vec::new();
    while let Some(mut field) = form.try_next().await.map_err(bad)? {
        if field.name() != Some("file") {
            let name = field.name().unwrap_or_default().to_owned();
            let value = small_field(&mut field).await?;
            if let Err(e) = fields.field(&name, &value) {
                // Back to the unsorted uploads: the folder named so far may be any.
                return upload_refused(json, &upload::UploadTarget::default(), e);
            }
            continue;
        }
        let target = fields.file().clone();
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            continue; // the empty part a form sends when no file was chosen
        }
        if staged.is_empty() {
            // Before reading any bytes (the target is fixed from the first file part on);
            // checked again when the rows are inserted.
            let (st, u, t) = (state.get_ref().clone(), staff.user.clone(), target.clone());
            let check = db::run(&state.pool, move |conn| {
                Ok::<_, db::DbError>(upload::authorize(&st.library, conn, &u, &t))
            })
            .await?;
            if let Err(e) = check {
                return upload_refused(json, &target, e);
            }
        }
        match upload::stage(&state.library, &target, &name, file_body(field)).await {
            Ok(s) => staged.push(s),
            Err(library::Error::Storage(crate::storage::StorageError::TooLarge { limit })) => {
                let msg = format!(
                    "{name} is larger than the limit of {}",
                    human_size(i64::try_from(limit).unwrap_or(i64::MAX))
                );
                if json {
                    return Ok(
                        HttpResponse::PayloadTooLarge().json(serde_json::json!({ "error": msg }))
                    );
                }
                return upload_refused(json, &target, library::Error::Invalid(msg));
            }
            Err(e) => return upload_refused(json, &target, e),
        }
    }
    let target = fields.target().clone();
    if staged.is_empty() {
        if json {
            return Err(AppError::BadRequest("no file in the upload".into()).into());
        }
        return Ok(redirect_with_flash(
            &back_to_target(&target),
            "error",
            "Choose one or more files to upload first.",
        ));
    }
    let stored = match upload::commit(&state.library, &staff.user, &target, staged).await {
        Ok(stored) => stored,
        Err(e) => return upload_refused(json, &target, e),
    };
    if json {
        let Some(f) = stored.first() else {
            return Err(AppError::BadRequest("no file in the upload".into()).into());
        };
        return Ok(HttpResponse::Created().json(serde_json::json!({
            "id": f.id,
            "name": f.label(),
            "url": format!("/admin/files/{}", f.id),
        })));
    }
    Ok(redirect_with_flash(
        &back_to_target(&target),
        "ok",
        &format!("Uploaded {} file(s).", stored.len()),
    ))
}

fn back_to_target(target: &upload::UploadTarget) -> String {
    target.folder_id.map_or_else(
        || "/admin/folders/unsorted".to_owned(),
        |id| format!("/admin/folders/{id}"),
    )
}

fn upload_refused(
    json: bool,
    target: &upload::UploadTarget,
    e: library::Error,
) -> Result<HttpResponse, PageError> {
    if json {
        return Err(e.into());
    }
    let back = back_to_target(target);
    match e {
        library::Error::NotFound => Err(AppError::NotFound.into()),
        other => Ok(redirect_with_flash(
            &back,
            "error",
            &format!("Nothing uploaded: {other}"),
        )),
    }
}

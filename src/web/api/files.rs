//! Files: multipart upload, read, edit (including `is_public`, which moves the bytes), delete.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::db;
use crate::domain::ids::{FileId, FolderId, UserId};
use crate::library::{files, image_files, trash, upload};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::double_option;
use super::json::{ErrorJson, FileJson, Point, file_json};

/// Query parameters accepted by the upload (the same names as the form fields, which
/// override them).
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The folder to upload into; absent: the uploader's unsorted uploads.
    folder_id: Option<i64>,
    /// Absent: the configured `is_public_default`.
    is_public: Option<bool>,
    /// Another user as the owner: superusers only.
    owner_id: Option<i64>,
    /// When the folder already has a file of that name: `rename` (keep both, the new one
    /// suffixed: the default), `version` (replace its content, keeping the old one as a
    /// version), `fail` (409, nothing stored) or `skip`.
    on_conflict: Option<ConflictChoice>,
}

/// What an upload does with a name already taken in its folder.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug)]
#[serde(rename_all = "lowercase")]
pub enum ConflictChoice {
    Rename,
    Version,
    Fail,
    Skip,
}

impl From<ConflictChoice> for upload::OnConflict {
    fn from(c: ConflictChoice) -> Self {
        match c {
            ConflictChoice::Rename => upload::OnConflict::Rename,
            ConflictChoice::Version => upload::OnConflict::Version,
            ConflictChoice::Fail => upload::OnConflict::Fail,
            ConflictChoice::Skip => upload::OnConflict::Skip,
        }
    }
}

/// The multipart body of an upload: the fields, then one `file` part.
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the multipart body in the OpenAPI document"
)]
pub struct UploadForm {
    /// Empty or absent: the uploader's unsorted uploads.
    folder_id: Option<i64>,
    /// `true`/`1`/`on`/`yes` or `false`/`0`/`off`/`no`/empty; absent: `is_public_default`.
    is_public: Option<bool>,
    /// Another user's id: superusers only.
    owner_id: Option<i64>,
    /// Default `""`.
    description: Option<String>,
    /// `rename` (default), `version`, `fail` or `skip`: see the query parameter.
    on_conflict: Option<ConflictChoice>,
    /// The content; its `filename` becomes `original_filename`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /api/v1/files` (multipart: `file`, and `folder_id`, `is_public`, `owner_id`,
/// `description` sent before the file part, or as query parameters) → the file object.
/// All or nothing: a field after the file part, a field given twice (or in both the query
/// and the body), a second file part or a refused target stores nothing.
#[utoipa::path(
    post, path = "/api/v1/files", tag = "files", operation_id = "uploadFile",
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = FileJson),
        (status = 400, description = "Invalid multipart body, field or query; no `file` part; a field after the file part; the folder or owner does not exist", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No add-children right on the folder; another owner by a non-superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "The folder does not exist any more, or the caller may not read it", body = ErrorJson),
        (status = 200, description = "Stored as the new content of the file of that name (`on_conflict=version`)", body = FileJson),
        (status = 204, description = "Skipped: a file of that name is there (`on_conflict=skip`)"),
        (status = 409, description = "The folder changed while the file was stored; a file of that name is there (`on_conflict=fail`)", body = ErrorJson),
        (status = 507, description = "The owner's quota would be exceeded; nothing is stored", body = ErrorJson),
        (status = 413, description = "Larger than `max_upload_size`; nothing is stored", body = ErrorJson),
        (status = 415, description = "The body is not multipart/form-data", body = ErrorJson),
    ),
)]
pub async fn upload(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    query: web::Query<UploadQuery>,
    mut form: Multipart,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let mut fields = upload::TargetFields::new(
        upload::FieldNames::Api,
        upload::UploadTarget {
            folder_id: query.folder_id,
            is_public: query.is_public,
            owner_id: query.owner_id,
            description: String::new(),
            on_conflict: query.on_conflict.map(Into::into).unwrap_or_default(),
        },
    );
    let bad = |e: actix_multipart::MultipartError| match e {
        actix_multipart::MultipartError::ContentTypeMissing
        | actix_multipart::MultipartError::ContentTypeParse
        | actix_multipart::MultipartError::ContentTypeIncompatible => {
            AppError::UnsupportedMediaType("send the upload as multipart/form-data".into())
        }
        e => AppError::BadRequest(format!("invalid multipart body: {e}")),
    };
    let mut staged = None;
    while let Some(mut field) = form.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if staged.is_some() {
                return Err(AppError::BadRequest(
                    "send one file per request; nothing was uploaded".into(),
                ));
            }
            let target = fields.file().clone();
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .unwrap_or("upload")
                .to_owned();
            let (st, u, t) = (state.get_ref().clone(), me.user.clone(), target.clone());
            db::run(&state.pool, move |conn| {
                upload::authorize(&st.library, conn, &u, &t)
            })
            .await?;
            let body = field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
            staged = Some(upload::stage(&state.library, &me.user, &target, &filename, body).await?);
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(bad)? {
            if value.len() + chunk.len() > 64 * 1024 {
                return Err(AppError::BadRequest(format!("field {name} is too long")));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| AppError::BadRequest(format!("field {name} is not UTF-8")))?;
        if value.contains('\0') {
            return Err(AppError::BadRequest(format!(
                "field {name} may not contain NUL characters"
            )));
        }
        fields.field(&name, &value)?;
    }
    let staged = staged
        .ok_or_else(|| AppError::BadRequest("the multipart body has no `file` part".into()))?;
    let outcome = upload::commit_reporting(&state.library, &me.user, fields.target(), vec![staged])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(match outcome {
        upload::Outcome::Created { file, .. } => {
            HttpResponse::Created().json(file_json(&state, file).await?)
        }
        upload::Outcome::Replaced(file) => HttpResponse::Ok().json(file_json(&state, file).await?),
        upload::Outcome::Skipped(_) => HttpResponse::NoContent().finish(),
    })
}

/// `GET /api/v1/files/{id}`.
#[utoipa::path(
    get, path = "/api/v1/files/{id}", tag = "files", operation_id = "getFile",
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "The file", body = FileJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 404, description = "No such file, or the caller may not read it", body = ErrorJson),
    ),
)]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FileId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        files::readable(&st.library, conn, Some(&me.user), id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(file_json(&state, f).await?))
}

/// Changes to a file: an absent field stays unchanged.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilePatch {
    /// Empty or blank: remove the custom name; `null`: unchanged.
    #[serde(default, deserialize_with = "super::optional_text")]
    name: Option<String>,
    /// `null`: unchanged.
    #[serde(default, deserialize_with = "super::optional_text")]
    description: Option<String>,
    /// `null`: move to the unsorted uploads (the owner or a superuser).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    folder_id: Option<Option<FolderId>>,
    /// Moves the bytes and thumbnails to the other storage; `null`: unchanged.
    #[serde(default)]
    is_public: Option<bool>,
    /// `null`: remove the owner (superusers only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Option<UserId>>,
    /// Images only.
    #[serde(default, deserialize_with = "super::optional_text")]
    alt_text: Option<String>,
    /// Images only.
    #[serde(default, deserialize_with = "super::optional_text")]
    caption: Option<String>,
    /// Images only: `{x, y}` in displayed pixels, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Point>)]
    subject_location: Option<Option<Point>>,
}

/// `PATCH /api/v1/files/{id}`: `name`, `description`, `folder_id` (null = unsorted),
/// `is_public` (moves the file and its thumbnails), `owner_id` (superusers), and for images
/// `alt_text`, `caption` and `subject_location` (the focal point crops follow).
#[utoipa::path(
    patch, path = "/api/v1/files/{id}", tag = "files", operation_id = "updateFile",
    params(("id" = i64, Path, description = "File id")),
    request_body = FilePatch,
    responses(
        (status = 200, description = "The updated file", body = FileJson),
        (status = 400, description = "Invalid body or field; the folder or owner does not exist; image fields on a file that is not an image", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No edit right on the file or add-children right on the target folder; re-owning by a non-superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such file, or the caller may not read it", body = ErrorJson),
        (status = 409, description = "The file is being moved between storages, or changed during the move", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FileId>,
    body: web::Json<FilePatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let st = state.get_ref().clone();
    let f = db::run(&state.pool, move |conn| {
        let edit = files::Edit {
            name: body.name,
            description: body.description,
            folder_id: body.folder_id,
            owner_id: body.owner_id,
        };
        let image_edit = image_files::ImageEdit {
            alt_text: body.alt_text,
            caption: body.caption,
            subject_location: body.subject_location,
        };
        files::save(
            &st.library,
            conn,
            &me.user,
            id,
            &edit,
            &image_edit,
            body.is_public,
        )
        .map(|saved| saved.file)
    })
    .await?;
    Ok(HttpResponse::Ok().json(file_json(&state, f).await?))
}

/// `DELETE /api/v1/files/{id}`: moves the file to the trash; `?permanent=true` deletes
/// the row, the bytes, the versions and the thumbnails for good (owner or superuser).
#[utoipa::path(
    delete, path = "/api/v1/files/{id}", tag = "files", operation_id = "deleteFile",
    params(
        ("id" = i64, Path, description = "File id"),
        ("permanent" = Option<bool>, Query, description = "Delete for good instead of moving to the trash (the file's owner or a superuser)"),
    ),
    responses(
        (status = 204, description = "Moved to the trash, or deleted"),
        (status = 400, description = "Invalid query (`permanent` is `true` or `false`, once)", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "No edit right on the file; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such file, or the caller may not read it", body = ErrorJson),
        (status = 409, description = "The file is being moved between storages", body = ErrorJson),
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<FileId>,
    query: web::Query<super::RemoveQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let how = query.removal();
    db::run(&state.pool, move |conn| {
        trash::remove_file(&st.library, conn, &me.user, id, how)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

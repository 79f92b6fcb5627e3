//! Files: multipart upload, read, edit (including `is_public`, which moves the bytes), delete.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::db;
use crate::error::AppError;
use crate::library::{delete, files, images, relocate, upload};
use crate::state::AppState;
use crate::web::identity::ApiUser;

use super::double_option;
use super::json::{Point, file_json};

/// Query parameters accepted by the upload (the same names as the form fields).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    folder_id: Option<i64>,
    is_public: Option<bool>,
    owner_id: Option<i64>,
}

/// `POST /api/v1/files` (multipart: `file`, and `folder_id`, `is_public`, `owner_id`,
/// `description` sent before the file part, or as query parameters) → the file object.
/// All or nothing: a field after the file part, a field given twice (or in both the query
/// and the body), a second file part or a refused target stores nothing.
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
        },
    );
    let bad = |e: actix_multipart::MultipartError| {
        AppError::BadRequest(format!("invalid multipart body: {e}"))
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
                Ok(upload::authorize(&st, conn, &u, &t))
            })
            .await??;
            let body = field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
            staged = Some(upload::stage(&state, &target, &filename, body).await?);
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
        fields.field(&name, &value)?;
    }
    let staged = staged
        .ok_or_else(|| AppError::BadRequest("the multipart body has no `file` part".into()))?;
    let stored = upload::commit(&state, &me.user, fields.target(), vec![staged])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Created().json(file_json(&state, stored).await?))
}

/// `GET /api/v1/files/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let (f, _) = db::run(&state.pool, move |conn| {
        Ok(files::readable(&st, conn, Some(&me.user), id))
    })
    .await??;
    Ok(HttpResponse::Ok().json(file_json(&state, f).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    folder_id: Option<Option<i64>>,
    #[serde(default)]
    is_public: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    owner_id: Option<Option<i64>>,
    /// Images only.
    #[serde(default)]
    alt_text: Option<String>,
    /// Images only.
    #[serde(default)]
    caption: Option<String>,
    /// Images only: `{x, y}` in displayed pixels, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    subject_location: Option<Option<Point>>,
}

/// `PATCH /api/v1/files/{id}`: `name`, `description`, `folder_id` (null = unsorted),
/// `is_public` (moves the file and its thumbnails), `owner_id` (superusers), and for images
/// `alt_text`, `caption` and `subject_location` (the focal point crops follow).
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
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
        let image_edit = images::ImageEdit {
            alt_text: body.alt_text,
            caption: body.caption,
            subject_location: body
                .subject_location
                .map(|p| p.map(|Point { x, y }| (x, y))),
        };
        let mut run = || -> crate::library::Result<_> {
            let mut f = files::update_with_image(&st, conn, &me.user, id, &edit, &image_edit)?;
            if let Some(public) = body.is_public {
                f = relocate::set_public_checked(&st, conn, &me.user, id, public)?;
            }
            Ok(f)
        };
        Ok(run())
    })
    .await??;
    Ok(HttpResponse::Ok().json(file_json(&state, f).await?))
}

/// `DELETE /api/v1/files/{id}`: the row, the bytes and the thumbnails.
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    db::run(&state.pool, move |conn| {
        Ok(delete::delete_file(&st, conn, &me.user, id))
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

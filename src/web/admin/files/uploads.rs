//! Uploads from the admin: the plain form and per-file XHR with progress.

use super::*;

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
pub(super) async fn upload_files(
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
        match upload::stage(
            &state.library,
            &staff.user,
            &target,
            &name,
            file_body(field),
        )
        .await
        {
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
    let outcomes =
        match upload::commit_reporting(&state.library, &staff.user, &target, staged).await {
            Ok(outcomes) => outcomes,
            Err(e) => return upload_refused(json, &target, e),
        };
    if json {
        let Some(o) = outcomes.first() else {
            return Err(AppError::BadRequest("no file in the upload".into()).into());
        };
        return Ok(match o {
            upload::Outcome::Skipped(name) => HttpResponse::Ok().json(serde_json::json!({
                "skipped": name,
                "message": upload::summary(&outcomes),
            })),
            _ => {
                let f = o.file().ok_or(AppError::NotFound)?;
                HttpResponse::Created().json(serde_json::json!({
                    "id": f.id,
                    "name": f.label(),
                    "url": format!("/admin/files/{}", f.id),
                    "message": upload::summary(&outcomes),
                }))
            }
        });
    }
    Ok(redirect_with_flash(
        &back_to_target(&target),
        "ok",
        &upload::summary(&outcomes),
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

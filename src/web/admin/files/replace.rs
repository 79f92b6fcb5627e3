//! Replacing a file's content.

use super::*;

pub(super) async fn replace(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    mut form: Multipart,
) -> Result<HttpResponse, PageError> {
    crate::web::uploads::csrf_first(&mut form, &staff.csrf_token).await?;
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
            crate::web::uploads::file_body(field),
        )
        .await
        {
            Ok(_) => Ok(redirect_with_flash(
                &here,
                "ok",
                "Content replaced. The earlier content is kept under Versions; the stable link still works.",
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
            Err(
                e @ (library::Error::Conflict(_)
                | library::Error::Forbidden(_)
                | library::Error::OverQuota(_)),
            ) => Ok(redirect_with_flash(
                &here,
                "error",
                &format!("Not replaced: {e}"),
            )),
            Err(e) => Err(e.into()),
        };
    }
    Ok(redirect_with_flash(
        &here,
        "error",
        "Choose a file to upload first.",
    ))
}

/// `POST /admin/files/{id}/versions/{version}/restore`: that content becomes the file's
/// again; the current one is kept as a version.
pub(super) async fn restore_version(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(FileId, i64)>,
    form: web::Form<crate::web::admin::context::CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let (id, version) = path.into_inner();
    let here = format!("/admin/files/{id}");
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let done = db::run(&state.pool, move |conn| {
        crate::library::versions::restore(&st.library, conn, &user, id, version)
    })
    .await;
    match done {
        Ok(f) => Ok(redirect_with_flash(
            &here,
            "ok",
            &format!(
                "Restored the earlier content “{}”. The content it replaced is kept under Versions.",
                f.original_filename
            ),
        )),
        Err(e @ (library::Error::Conflict(_) | library::Error::Forbidden(_))) => Ok(
            redirect_with_flash(&here, "error", &format!("Not restored: {e}")),
        ),
        Err(e) => Err(e.into()),
    }
}

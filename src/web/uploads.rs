//! Uploads from pages (the admin's and the reader's): multipart with the CSRF token first,
//! then the target fields, then the files. Scripts send one file per request and get JSON
//! back; the plain form sends several and is redirected back with a summary. All or
//! nothing: a field after a file or given twice, a refused target, a file over the limit or
//! over the owner's quota stores none of the request's files.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::{StreamExt, TryStreamExt};

use crate::auth::csrf;
use crate::db;
use crate::db::models::User;
use crate::library::{self, upload};
use crate::state::AppState;
use crate::web::admin::redirect_with_flash;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;

/// Who sends an upload from a page, and the session's CSRF token it must carry.
pub struct Sender<'a> {
    pub user: &'a User,
    pub csrf_token: &'a str,
    /// Which fields the form may send.
    pub fields: upload::FieldNames,
    /// A visitor of a drop link: the answers say how many files went in and nothing about
    /// the folder (no names taken, no file pages, no usage).
    pub discreet: bool,
}

/// Reads the first multipart field, which must be the CSRF token (so that no file is
/// streamed for a forged request).
pub async fn csrf_first(form: &mut Multipart, expected: &str) -> Result<(), AppError> {
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
    if csrf::matches(expected, Some(&String::from_utf8_lossy(&value))) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
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

/// A multipart file part as a byte stream for `storage::ingest`.
pub fn file_body(
    field: actix_multipart::Field,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    field.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())))
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get("X-Requested-With")
        .is_some_and(|v| v == "XMLHttpRequest")
}

/// Receives an upload for `sender`, starting from `initial` (a field the form sends may not
/// change what `initial` set), and answers with JSON (scripts) or a redirect to
/// `back(target)` with a summary. `page` is where an uploaded file's page is.
pub async fn receive(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    sender: Sender<'_>,
    mut form: Multipart,
    initial: upload::UploadTarget,
    back: fn(&upload::UploadTarget) -> String,
    page: fn(i64) -> String,
) -> Result<HttpResponse, PageError> {
    let json = wants_json(req);
    csrf_first(&mut form, sender.csrf_token).await?;
    let discreet = sender.discreet;
    let refused = |target: &upload::UploadTarget, e: library::Error| {
        let e = match e {
            library::Error::NotFound | library::Error::Invalid(_) => e,
            _ if discreet => library::Error::Invalid("nothing was sent; try again later".into()),
            other => other,
        };
        if json {
            return Err(e.into());
        }
        match e {
            library::Error::NotFound => Err(AppError::NotFound.into()),
            other => Ok(redirect_with_flash(
                &back(target),
                "error",
                &format!("Nothing uploaded: {other}"),
            )),
        }
    };
    let bad =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("invalid upload: {e}"));
    let mut fields = upload::TargetFields::new(sender.fields, initial.clone());
    let mut staged: Vec<upload::Staged> = Vec::new();
    while let Some(mut field) = form.try_next().await.map_err(bad)? {
        if field.name() != Some("file") {
            let name = field.name().unwrap_or_default().to_owned();
            let value = small_field(&mut field).await?;
            if let Err(e) = fields.field(&name, &value) {
                // Back to where the form started: the folder named so far may be any.
                return refused(&initial, e);
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
            let (st, u, t) = (state.get_ref().clone(), sender.user.clone(), target.clone());
            let check = db::run(&state.pool, move |conn| {
                Ok::<_, db::DbError>(upload::authorize(&st.library, conn, &u, &t))
            })
            .await?;
            if let Err(e) = check {
                return refused(&target, e);
            }
        }
        match upload::stage(
            &state.library,
            sender.user,
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
                return refused(&target, library::Error::Invalid(msg));
            }
            Err(e) => return refused(&target, e),
        }
    }
    let target = fields.target().clone();
    if staged.is_empty() {
        if json {
            return Err(AppError::BadRequest("no file in the upload".into()).into());
        }
        return Ok(redirect_with_flash(
            &back(&target),
            "error",
            "Choose one or more files to upload first.",
        ));
    }
    let outcomes =
        match upload::commit_reporting(&state.library, sender.user, &target, staged).await {
            Ok(outcomes) => outcomes,
            Err(e) => return refused(&target, e),
        };
    if discreet {
        let sent = outcomes.iter().filter(|o| o.file().is_some()).count();
        let message = format!("Thank you: {sent} file(s) sent.");
        return Ok(if json {
            HttpResponse::Created().json(serde_json::json!({ "message": message }))
        } else {
            redirect_with_flash(&back(&target), "ok", &message)
        });
    }
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
                    "url": page(f.id),
                    "message": upload::summary(&outcomes),
                }))
            }
        });
    }
    Ok(redirect_with_flash(
        &back(&target),
        "ok",
        &upload::summary(&outcomes),
    ))
}

//! Adding to a folder from the reader's browser: uploads and new subfolders, for anyone
//! with add-children on the folder (the files and folders are theirs). Both need the
//! session cookie and its CSRF token. Without the right nothing is stored: a folder the
//! caller may read answers with its page and the reason, any other with 404.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::csrf;
use crate::db;
use crate::domain::ids::FolderId;
use crate::library::{self, folders, upload};
use crate::state::AppState;
use crate::web::admin::redirect_with_flash;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::SessionUser;
use crate::web::uploads::{self, Sender};
use actix_web::FromRequest;

/// The logged-in caller of a page form, with the session's CSRF token; a bearer token is
/// not a page session.
/// `POST /folders/{id}/upload`: multipart with `csrf_token` first, then `on_conflict` at
/// most once, then the `file` parts; the folder is the one in the address (a `folder`
/// field refuses the request).
pub async fn upload_files(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<FolderId>,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token: token,
    } = SessionUser::extract(&req).await?;
    uploads::receive(
        &req,
        &state,
        Sender {
            user: &identity.user,
            csrf_token: &token,
            fields: upload::FieldNames::Admin,
            discreet: false,
        },
        form,
        upload::UploadTarget {
            folder_id: Some(id.into_inner().get()),
            ..upload::UploadTarget::default()
        },
        |t| {
            t.folder_id
                .map_or_else(|| "/".to_owned(), |f| format!("/folders/{f}"))
        },
        |id| format!("/files/{id}"),
    )
    .await
}

/// The new-folder form.
#[derive(Deserialize)]
pub struct NewFolder {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// `POST /folders/{id}/folders`: a subfolder, owned by the caller; a refused name comes
/// back to the folder's page with the reason and the name as typed.
pub async fn create_folder(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<FolderId>,
    form: web::Form<NewFolder>,
) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token: token,
    } = SessionUser::extract(&req).await?;
    if !csrf::matches(&token, Some(&form.csrf_token)) {
        return Err(AppError::Csrf.into());
    }
    let parent = id.into_inner();
    let (st, name) = (state.get_ref().clone(), form.name.clone());
    let created = db::run(&state.pool, move |conn| {
        folders::create(&st.library, conn, &identity.user, &name, Some(parent), None)
    })
    .await;
    match created {
        Ok(f) => Ok(redirect_with_flash(
            &format!("/folders/{}", f.id),
            "ok",
            &format!("Folder “{}” created.", f.name),
        )),
        Err(
            e @ (library::Error::Invalid(_)
            | library::Error::Conflict(_)
            | library::Error::Forbidden(_)),
        ) => {
            let typed = percent_encoding::utf8_percent_encode(
                &form.name,
                percent_encoding::NON_ALPHANUMERIC,
            );
            Ok(redirect_with_flash(
                &format!("/folders/{parent}?name={typed}"),
                "error",
                &format!("No folder created: {e}"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

//! Uploads from the admin: the plain form and per-file XHR with progress
//! (`web::uploads::receive`).

use super::*;
use crate::web::uploads::{self, Sender};

/// `POST /admin/upload`: multipart with `csrf_token` first, then `folder` (empty = unsorted
/// uploads) and `on_conflict` at most once each, then one or more `file` parts.
pub(super) async fn upload_files(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    uploads::receive(
        &req,
        &state,
        Sender {
            user: &staff.user,
            csrf_token: &staff.csrf_token,
            fields: upload::FieldNames::Admin,
            discreet: false,
        },
        form,
        upload::UploadTarget::default(),
        back_to_target,
        |id| format!("/admin/files/{id}"),
    )
    .await
}

fn back_to_target(target: &upload::UploadTarget) -> String {
    target.folder_id.map_or_else(
        || "/admin/folders/unsorted".to_owned(),
        |id| format!("/admin/folders/{id}"),
    )
}

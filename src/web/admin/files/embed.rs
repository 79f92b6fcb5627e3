//! "Copy embed link": a signed URL of a private image's thumbnail, for a chosen lifetime.

use super::*;

/// The embed form.
#[derive(Deserialize)]
pub(super) struct EmbedForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    preset: String,
    /// Hours the link lives (at most 30 days).
    #[serde(default)]
    hours: i64,
}

/// The presets offered (the admin's, which every installation has).
pub(super) const PRESETS: [&str; 3] = ["preview-420", "preview-210", "icon-240"];

/// `POST /admin/files/{id}/embed`: shows the signed URL once, on the file page.
pub(super) async fn embed_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<FileId>,
    form: web::Form<EmbedForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &form.csrf_token)?;
    let id = id.into_inner();
    let here = format!("/admin/files/{id}");
    let preset = PRESETS
        .iter()
        .find(|p| **p == form.preset)
        .copied()
        .unwrap_or(PRESETS[0]);
    let lifetime = time::Duration::hours(form.hours.clamp(1, 24 * 30));
    let (st, user) = (state.get_ref().clone(), staff.user.clone());
    let signed = db::run(&state.pool, move |conn| {
        crate::library::embed::sign(&st.library, conn, &user, id, preset, lifetime)
    })
    .await;
    match signed {
        Ok((path, expires)) => {
            let info = req.connection_info();
            let url = format!("{}://{}{path}", info.scheme(), info.host());
            Ok(redirect_with_flash(
                &here,
                "ok",
                &format!(
                    "Embed link, valid until {} UTC: {url}",
                    expires
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                ),
            ))
        }
        Err(e @ library::Error::Invalid(_)) => Ok(redirect_with_flash(
            &here,
            "error",
            &format!("No embed link: {e}"),
        )),
        Err(e) => Err(e.into()),
    }
}

//! Thumbnails on a share link's pages: `GET /s/{token}/thumbnails/{id}/{preset}` — the
//! file link's file, or a file of the folder link's tree, while the link reaches it (the
//! same checks as its download, again when the bytes are opened). Previews are not
//! downloads: they do not count toward the link's maximum and are not audited.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::db;
use crate::library::deliver::{self, Delivery};
use crate::library::shares;
use crate::serve;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::errors::PageError;

use super::downloads::{made_preset, open};
use super::share_links::{opened, unlocked, visitor};

/// The URL of `preset` of file `id` on the page of link `token`.
pub fn url(token: &str, id: i64, preset: &str) -> String {
    format!("/s/{token}/thumbnails/{id}/{preset}")
}

/// `GET|HEAD /s/{token}/thumbnails/{id}/{preset}`.
pub async fn thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
) -> Result<HttpResponse, PageError> {
    let (token, id, name) = path.into_inner();
    let preset = state
        .settings
        .thumbnails
        .preset(&name)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let o = opened(&state, &token).await?;
    if !unlocked(&req, &o) {
        return Err(AppError::NotFound.into());
    }
    let (st, o2) = (state.get_ref().clone(), o.clone());
    let f = db::run(&state.pool, move |conn| {
        shares::file_by_id(&st.library, conn, &o2, id)
    })
    .await
    .map_err(|e| match e {
        crate::library::Error::NotFound => AppError::NotFound,
        other => other.into(),
    })?;
    let icon = crate::storage::sniff::icon_url(&f.mime_type);
    let spec = match made_preset(&state, id, preset, &icon).await? {
        Ok(spec) => spec,
        Err(answer) => return Ok(visitor(answer)),
    };
    let st = state.get_ref().clone();
    let delivery = db::run(&state.pool, move |conn| {
        deliver::shared_thumbnail(&st.library, conn, &o, id, &spec, |s| open(&st, s))
    })
    .await?;
    match delivery {
        Delivery::Ready(object) => Ok(visitor(serve::respond(&req, object))),
        Delivery::Dropped => Ok(visitor(super::downloads::icon_redirect(&icon))),
        Delivery::Missing | Delivery::Denied(_) => Err(AppError::NotFound.into()),
    }
}

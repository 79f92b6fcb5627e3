//! Managing share links from pages: the "Share" form and the item's links on the admin's
//! file and folder pages (`POST /shares`, `POST /shares/{id}/revoke`), and
//! `/account/shares`, one's own links (every link for superusers).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::csrf;
use crate::db;
use crate::domain::ids::{FileId, FolderId};
use crate::domain::next::local_path;
use crate::library::shares::{self, Item, Kind, Listed, Request};
use crate::state::AppState;
use crate::web::admin::redirect_with_flash;
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::SessionUser;
use actix_web::FromRequest;

/// A link as the pages list it.
pub struct ShareRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub label: String,
    pub creator: String,
    pub created: String,
    pub expires: String,
    pub uses: String,
    pub has_password: bool,
    pub active: bool,
    pub revoked: bool,
}

impl From<Listed> for ShareRow {
    fn from(l: Listed) -> Self {
        let s = l.share;
        ShareRow {
            id: s.id,
            name: l.item_name,
            kind: if s.kind == "upload" {
                "upload only".into()
            } else {
                "download".into()
            },
            label: s.label,
            creator: l.creator,
            created: timestamp(s.created_at),
            expires: s.expires_at.map_or_else(|| "never".into(), timestamp),
            uses: match s.max_downloads {
                Some(max) => format!("{} of {max}", s.downloads),
                None => s.downloads.to_string(),
            },
            has_password: s.password_hash.is_some(),
            active: l.active,
            revoked: s.revoked_at.is_some(),
        }
    }
}

/// The "Share" form.
#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    file_id: Option<FileId>,
    #[serde(default)]
    folder_id: Option<FolderId>,
    #[serde(default)]
    kind: String,
    /// `YYYY-MM-DDTHH:MM` (UTC) or empty.
    #[serde(default)]
    expires_at: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    max_downloads: String,
    #[serde(default)]
    label: String,
    /// The page to go back to (a path on this site).
    #[serde(default)]
    back: String,
}

fn parse_local(s: &str) -> Result<Option<time::PrimitiveDateTime>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let with_seconds = if s.len() == 16 {
        format!("{s}:00Z")
    } else {
        format!("{s}Z")
    };
    crate::web::api::shares::parse_time(&with_seconds).map(Some)
}

/// `POST /shares`: makes a link and shows it once, on the page it came from.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ShareForm>,
) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token: token,
    } = SessionUser::extract(&req).await?;
    if !csrf::matches(&token, Some(&form.csrf_token)) {
        return Err(AppError::Csrf.into());
    }
    let back = local_path(&form.back).unwrap_or_else(|| "/account/shares".to_owned());
    let item = match (form.file_id, form.folder_id) {
        (Some(f), None) => Item::File(f),
        (None, Some(f)) => Item::Folder(f),
        _ => return Err(AppError::BadRequest("share a file or a folder".into()).into()),
    };
    let parsed = (|| {
        let kind = match form.kind.as_str() {
            "" | "download" => Kind::Download,
            "upload" => Kind::Upload,
            _ => return Err(AppError::BadRequest("unknown kind of link".into())),
        };
        let max_downloads = match form.max_downloads.trim() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| {
                AppError::BadRequest("the maximum number of downloads is a whole number".into())
            })?),
        };
        Ok(Request {
            item,
            kind,
            expires_at: parse_local(&form.expires_at)?,
            password: Some(form.password.clone()).filter(|p| !p.is_empty()),
            max_downloads,
            label: form.label.clone(),
        })
    })();
    let request = match parsed {
        Ok(r) => r,
        Err(e) => {
            return Ok(redirect_with_flash(
                &back,
                "error",
                &format!("No link made: {e}"),
            ));
        }
    };
    let st = state.get_ref().clone();
    let user = identity.user.clone();
    let made = db::run(&state.pool, move |conn| {
        shares::create(&st.library, conn, &st.passwords, &user, &request)
    })
    .await;
    match made {
        Ok(c) => {
            let info = req.connection_info();
            let url = format!("{}://{}/s/{}", info.scheme(), info.host(), c.token);
            Ok(redirect_with_flash(
                &back,
                "ok",
                &format!("Link made — copy it now, it is shown only once: {url}"),
            ))
        }
        Err(e @ (crate::library::Error::Invalid(_) | crate::library::Error::Forbidden(_))) => Ok(
            redirect_with_flash(&back, "error", &format!("No link made: {e}")),
        ),
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// The revoke form.
#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    back: String,
}

/// `POST /shares/{id}/revoke` (its creator or a superuser).
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token: token,
    } = SessionUser::extract(&req).await?;
    if !csrf::matches(&token, Some(&form.csrf_token)) {
        return Err(AppError::Csrf.into());
    }
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        shares::revoke(conn, &identity.user, id)
    })
    .await?;
    let back = local_path(&form.back).unwrap_or_else(|| "/account/shares".to_owned());
    Ok(redirect_with_flash(
        &back,
        "ok",
        "Link revoked: it no longer opens.",
    ))
}

#[derive(Template)]
#[template(path = "account/shares.html")]
struct SharesPage {
    username: String,
    is_staff: bool,
    is_superuser: bool,
    csrf_token: String,
    share_rows: Vec<ShareRow>,
    /// Links to each share's download audit (superusers).
    may_audit: bool,
    flash: Option<crate::web::admin::Flash>,
}

/// `GET /account/shares`: one's links (every link for superusers) with their use counts.
pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let SessionUser {
        identity,
        csrf_token: token,
    } = SessionUser::extract(&req).await?;
    let user = identity.user.clone();
    let rows = db::run(&state.pool, move |conn| shares::list(conn, &user, false)).await?;
    let flash = crate::web::admin::read_flash(&req);
    let shown = flash.is_some();
    let html = SharesPage {
        username: identity.user.username.clone(),
        is_staff: identity.user.is_staff || identity.user.is_superuser,
        is_superuser: identity.user.is_superuser,
        csrf_token: token,
        share_rows: rows.into_iter().map(ShareRow::from).collect(),
        may_audit: identity.user.is_superuser,
        flash,
    }
    .render()?;
    let mut res = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(html);
    if shown {
        crate::web::admin::forget_flash(&mut res);
    }
    Ok(res)
}

//! Share links: make, list, read and revoke.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::db;
use crate::domain::ids::{FileId, FolderId};
use crate::library::shares::{self, Item, Kind, Listed, Request};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{ErrorJson, timestamp};

/// A new share link: `file_id` or `folder_id`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareJson {
    file_id: Option<i64>,
    folder_id: Option<i64>,
    /// `download` (default) or `upload` (a drop into a folder: visitors upload and see
    /// nothing).
    #[serde(default)]
    kind: Option<String>,
    /// RFC 3339; absent: never.
    expires_at: Option<String>,
    /// Absent or empty: none.
    password: Option<String>,
    /// At least 1; absent: no limit.
    max_downloads: Option<i64>,
    #[serde(default)]
    label: Option<String>,
}

/// A share link.
#[derive(Serialize, ToSchema)]
pub struct ShareJson {
    id: i64,
    /// The link itself: only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    file_id: Option<i64>,
    folder_id: Option<i64>,
    /// The shared item's name.
    name: String,
    kind: String,
    label: String,
    created_by: String,
    created_at: String,
    expires_at: Option<String>,
    has_password: bool,
    max_downloads: Option<i64>,
    downloads: i64,
    revoked_at: Option<String>,
    /// Usable now: not revoked, expired or used up.
    active: bool,
}

impl ShareJson {
    fn of(l: Listed, url: Option<String>) -> Self {
        let s = l.share;
        ShareJson {
            id: s.id,
            url,
            file_id: s.file_id,
            folder_id: s.folder_id,
            name: l.item_name,
            kind: s.kind,
            label: s.label,
            created_by: l.creator,
            created_at: timestamp(s.created_at),
            expires_at: s.expires_at.map(timestamp),
            has_password: s.password_hash.is_some(),
            max_downloads: s.max_downloads,
            downloads: s.downloads,
            revoked_at: s.revoked_at.map(timestamp),
            active: l.active,
        }
    }
}

/// Parses an RFC 3339 time into the database's UTC.
pub fn parse_time(s: &str) -> Result<time::PrimitiveDateTime, AppError> {
    let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| AppError::BadRequest(format!("{s:?} is not an RFC 3339 time")))?
        .to_offset(time::UtcOffset::UTC);
    Ok(time::PrimitiveDateTime::new(t.date(), t.time()))
}

/// `POST /api/v1/shares` → the link, with its `url` (the only time it is shown).
#[utoipa::path(
    post, path = "/api/v1/shares", tag = "shares", operation_id = "createShare",
    request_body = NewShareJson,
    responses(
        (status = 201, description = "Made; `url` is shown only now", body = ShareJson),
        (status = 400, description = "Invalid body: both or neither of file_id and folder_id, a past expiry, a bad password or label", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not allowed to share this (`shares.allowed`; a drop needs add-children); CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such item, or the caller may not read it", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewShareJson>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let item = match (body.file_id, body.folder_id) {
        (Some(f), None) => Item::File(FileId::new(f)),
        (None, Some(f)) => Item::Folder(FolderId::new(f)),
        _ => {
            return Err(AppError::BadRequest(
                "give exactly one of file_id and folder_id".into(),
            ));
        }
    };
    let kind = match body.kind.as_deref() {
        None => Kind::Download,
        Some(k) => Kind::parse(k)
            .ok_or_else(|| AppError::BadRequest("kind is \"download\" or \"upload\"".into()))?,
    };
    let req = Request {
        item,
        kind,
        expires_at: body.expires_at.as_deref().map(parse_time).transpose()?,
        password: body.password,
        max_downloads: body.max_downloads,
        label: body.label.unwrap_or_default(),
    };
    let st = state.get_ref().clone();
    let (listed, token) = db::run(&state.pool, move |conn| {
        let made = shares::create(&st.library, conn, &st.passwords, &me.user, &req)?;
        Ok::<_, crate::library::Error>((shares::get(conn, &me.user, made.share.id)?, made.token))
    })
    .await?;
    Ok(HttpResponse::Created().json(ShareJson::of(listed, Some(format!("/s/{token}")))))
}

/// `GET /api/v1/shares`: the caller's links (every link for superusers), newest first.
#[utoipa::path(
    get, path = "/api/v1/shares", tag = "shares", operation_id = "listShares",
    responses(
        (status = 200, description = "Links, without their URLs", body = Vec<ShareJson>),
        (status = 401, description = "Not authenticated", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    let all = db::run(&state.pool, move |conn| shares::list(conn, &me.user, false)).await?;
    Ok(HttpResponse::Ok().json(
        all.into_iter()
            .map(|l| ShareJson::of(l, None))
            .collect::<Vec<_>>(),
    ))
}

/// `GET /api/v1/shares/{id}`.
#[utoipa::path(
    get, path = "/api/v1/shares/{id}", tag = "shares", operation_id = "getShare",
    params(("id" = i64, Path, description = "Share id")),
    responses(
        (status = 200, description = "The link, without its URL", body = ShareJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 404, description = "No such link of the caller's", body = ErrorJson),
    ),
)]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let l = db::run(&state.pool, move |conn| shares::get(conn, &me.user, id)).await?;
    Ok(HttpResponse::Ok().json(ShareJson::of(l, None)))
}

/// `DELETE /api/v1/shares/{id}`: revokes the link at once.
#[utoipa::path(
    delete, path = "/api/v1/shares/{id}", tag = "shares", operation_id = "revokeShare",
    params(("id" = i64, Path, description = "Share id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such link of the caller's", body = ErrorJson),
    ),
)]
pub async fn revoke(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| shares::revoke(conn, &me.user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

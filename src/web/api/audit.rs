//! The download audit (superusers): `GET /api/v1/audit`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db;
use crate::db::models::audit::Entry;
use crate::library::audit::{self, PAGE_MAX, Query};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{ErrorJson, timestamp};
use super::shares::parse_time;

/// Which entries: any combination; times are RFC 3339.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    file_id: Option<i64>,
    /// Files anywhere in this folder's tree.
    folder_id: Option<i64>,
    user_id: Option<i64>,
    share_id: Option<i64>,
    /// From this time on (inclusive).
    since: Option<String>,
    /// Before this time.
    until: Option<String>,
    /// Entries older than this id: `next_before` of the previous page.
    before: Option<i64>,
    /// Entries per page, 1 to 1000 (default 100).
    limit: Option<i64>,
}

impl AuditQuery {
    /// Into the library's query; a malformed time is a 400.
    pub fn parse(&self) -> Result<Query, AppError> {
        Ok(Query {
            file_id: self.file_id,
            folder_id: self.folder_id,
            user_id: self.user_id,
            share_id: self.share_id,
            since: self.since.as_deref().map(parse_time).transpose()?,
            until: self.until.as_deref().map(parse_time).transpose()?,
            before: self.before,
            limit: self.limit.unwrap_or(100).clamp(1, PAGE_MAX),
        })
    }
}

/// One delivery of a private file's bytes, or one refusal.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryJson {
    id: i64,
    /// RFC 3339, UTC.
    at: String,
    user_id: Option<i64>,
    /// The user's name when it happened.
    username: Option<String>,
    /// The API token used, if any.
    token_id: Option<i64>,
    /// The share link used, if any (then no user).
    share_id: Option<i64>,
    file_id: Option<i64>,
    /// The file's folder when it happened (absent: unsorted uploads).
    folder_id: Option<i64>,
    /// The file's name when it happened.
    file_name: String,
    /// `private-url`, `stable-url`, `version`, `share` or `zip`.
    via: String,
    /// The file's size in bytes.
    size: i64,
    /// The `Range` header asked for.
    range: Option<String>,
    /// The HTTP status answered.
    status: i32,
    /// `sent`, `partial`, `not-modified`, `head`, `handed-off` (to the web server),
    /// `interrupted` (the client left), `refused` or `failed`.
    outcome: String,
    /// The server backend: `default`, `nginx`, `apache`, `lighttpd` or `caddy`.
    backend: String,
    /// The client's address (as `session.client_address_header` says).
    client_addr: String,
    user_agent: String,
}

impl From<Entry> for AuditEntryJson {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            at: timestamp(e.at),
            user_id: e.user_id,
            username: e.username,
            token_id: e.token_id,
            share_id: e.share_id,
            file_id: e.file_id,
            folder_id: e.folder_id,
            file_name: e.file_name,
            via: e.via,
            size: e.size,
            range: e.byte_range,
            status: e.status,
            outcome: e.outcome,
            backend: e.backend,
            client_addr: e.client_addr,
            user_agent: e.user_agent,
        }
    }
}

/// A page of the audit, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPageJson {
    entries: Vec<AuditEntryJson>,
    /// Pass as `before` for the next page; absent on the last one.
    next_before: Option<i64>,
}

/// `GET /api/v1/audit`: deliveries and refusals of private files, newest first.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit", operation_id = "listAudit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPageJson),
        (status = 400, description = "A parameter is not valid (a time that is not RFC 3339, an unknown parameter)", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.parse()?;
    let st = state.get_ref().clone();
    let page = db::run(&state.pool, move |conn| {
        audit::list(&st.library, conn, &me.user, &q)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditPageJson {
        entries: page.entries.into_iter().map(AuditEntryJson::from).collect(),
        next_before: page.next_before,
    }))
}

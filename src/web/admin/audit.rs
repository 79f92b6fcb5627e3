//! The download audit in the admin (superusers): `/admin/audit/` filtered by file, folder,
//! user or share and by time, and the same selection as CSV, `/admin/audit.csv`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use time::PrimitiveDateTime;

use crate::db;
use crate::db::models::audit::Entry;
use crate::library::audit::{self, PAGE_MAX, Query};
use crate::state::AppState;
use crate::web::admin::context::{Layout, Superuser, page};
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::human_size;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit/", web::get().to(list))
        .route("/admin/audit.csv", web::get().to(export));
}

/// Most entries in one CSV export (narrow the time range for more).
pub const EXPORT_MAX: usize = 100_000;

/// The filter, as the page's form and links send it. Times are a date (`YYYY-MM-DD`, UTC;
/// `until` takes the whole day) or RFC 3339.
#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default, deserialize_with = "blank_as_none")]
    file_id: Option<i64>,
    #[serde(default, deserialize_with = "blank_as_none")]
    folder_id: Option<i64>,
    #[serde(default, deserialize_with = "blank_as_none")]
    user_id: Option<i64>,
    #[serde(default, deserialize_with = "blank_as_none")]
    share_id: Option<i64>,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default, deserialize_with = "blank_as_none")]
    before: Option<i64>,
}

/// An empty form field is no filter.
fn blank_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s = String::deserialize(d)?;
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

/// A date (midnight UTC; the next midnight for the end of a range) or an RFC 3339 time.
fn parse_when(s: &str, end_of_day: bool) -> Result<Option<PrimitiveDateTime>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &day) {
        let d = if end_of_day {
            d.next_day().unwrap_or(d)
        } else {
            d
        };
        return Ok(Some(d.midnight()));
    }
    crate::web::api::shares::parse_time(s).map(Some)
}

impl Filter {
    fn query(&self, limit: i64) -> Result<Query, AppError> {
        Ok(Query {
            file_id: self.file_id,
            folder_id: self.folder_id,
            user_id: self.user_id,
            share_id: self.share_id,
            since: parse_when(&self.since, false)?,
            until: parse_when(&self.until, true)?,
            before: self.before,
            limit,
        })
    }

    /// The filter as a query string (without `before`), for the CSV link and next page.
    fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("file_id", self.file_id),
            ("folder_id", self.folder_id),
            ("user_id", self.user_id),
            ("share_id", self.share_id),
        ] {
            if let Some(v) = v {
                q.append_pair(k, &v.to_string());
            }
        }
        for (k, v) in [("since", &self.since), ("until", &self.until)] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }
}

struct Row {
    at: String,
    who: String,
    user_id: Option<i64>,
    share_id: Option<i64>,
    token_id: Option<i64>,
    file_id: Option<i64>,
    folder_id: Option<i64>,
    file_name: String,
    via: String,
    size: String,
    range: String,
    outcome: String,
    refused: bool,
    status: i32,
    backend: String,
    client_addr: String,
    user_agent: String,
}

impl From<Entry> for Row {
    fn from(e: Entry) -> Self {
        let who = match (&e.username, e.share_id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => format!("share link #{id}"),
            (None, None) => "anonymous".to_owned(),
        };
        Row {
            at: timestamp(e.at),
            who,
            user_id: e.user_id,
            share_id: e.share_id,
            token_id: e.token_id,
            file_id: e.file_id,
            folder_id: e.folder_id,
            file_name: e.file_name,
            via: e.via,
            size: human_size(e.size),
            range: e.byte_range.unwrap_or_default(),
            refused: e.outcome == "refused",
            outcome: e.outcome,
            status: e.status,
            backend: e.backend,
            client_addr: e.client_addr,
            user_agent: e.user_agent,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Row>,
    file_id: String,
    folder_id: String,
    user_id: String,
    share_id: String,
    since: String,
    until: String,
    /// The filter as a query string.
    filter: String,
    next_before: Option<i64>,
    enabled: bool,
    retention_days: u32,
}

/// Entries per page.
const PAGE: i64 = 100;

/// `GET /admin/audit/`.
async fn list(
    state: web::Data<AppState>,
    admin: Superuser,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, PageError> {
    let filter = filter.into_inner();
    let q = filter.query(PAGE)?;
    let (st, user) = (state.get_ref().clone(), admin.0.user.clone());
    let found = db::run(&state.pool, move |conn| {
        audit::list(&st.library, conn, &user, &q)
    })
    .await?;
    let layout = Layout::new(&admin.0, "audit");
    let show = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let html = AuditPage {
        layout: layout.clone(),
        rows: found.entries.into_iter().map(Row::from).collect(),
        file_id: show(filter.file_id),
        folder_id: show(filter.folder_id),
        user_id: show(filter.user_id),
        share_id: show(filter.share_id),
        since: filter.since.trim().to_owned(),
        until: filter.until.trim().to_owned(),
        filter: filter.query_string(),
        next_before: found.next_before,
        enabled: state.library.audit.enabled(),
        retention_days: state.library.settings.audit_retention_days,
    }
    .render()?;
    Ok(page(&layout, html))
}

/// `GET /admin/audit.csv`: the filtered entries, newest first, at most [`EXPORT_MAX`].
async fn export(
    state: web::Data<AppState>,
    admin: Superuser,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, PageError> {
    let mut q = filter.query(PAGE_MAX)?;
    let (st, user) = (state.get_ref().clone(), admin.0.user.clone());
    let entries = db::run(&state.pool, move |conn| {
        let mut all = Vec::new();
        loop {
            let found = audit::list(&st.library, conn, &user, &q)?;
            all.extend(found.entries);
            match found.next_before {
                Some(before) if all.len() < EXPORT_MAX => q.before = Some(before),
                _ => break,
            }
        }
        Ok::<_, crate::library::Error>(all)
    })
    .await?;
    let csv = web::block(move || to_csv(&entries))
        .await
        .map_err(AppError::unexpected)?
        .map_err(AppError::unexpected)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::serve::content_disposition("download-audit.csv", false),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(csv))
}

/// `entries` as CSV, with a header row.
fn to_csv(entries: &[Entry]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)?;
    for e in entries {
        out.write_record(record(e))?;
    }
    Ok(out.into_inner()?)
}

/// The CSV columns.
const HEADER: [&str; 17] = [
    "id",
    "at",
    "user_id",
    "username",
    "token_id",
    "share_id",
    "file_id",
    "folder_id",
    "file_name",
    "via",
    "size",
    "range",
    "status",
    "outcome",
    "backend",
    "client_addr",
    "user_agent",
];

/// One entry as CSV cells. Text a visitor chose (names, user agents, ranges) never starts
/// like a spreadsheet formula: such a cell gets a leading `'`.
fn record(e: &Entry) -> [String; 17] {
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        e.id.to_string(),
        timestamp(e.at),
        n(e.user_id),
        inert(e.username.as_deref().unwrap_or_default()),
        n(e.token_id),
        n(e.share_id),
        n(e.file_id),
        n(e.folder_id),
        inert(&e.file_name),
        e.via.clone(),
        e.size.to_string(),
        inert(e.byte_range.as_deref().unwrap_or_default()),
        e.status.to_string(),
        e.outcome.clone(),
        e.backend.clone(),
        inert(&e.client_addr),
        inert(&e.user_agent),
    ]
}

/// `s`, with a `'` before it when a spreadsheet would read it as a formula.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_made_inert() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("-2"), "'-2");
        assert_eq!(inert("report.pdf"), "report.pdf");
    }

    #[test]
    fn a_date_ends_at_the_next_midnight() {
        let until = parse_when("2026-12-04", true).ok().flatten();
        assert_eq!(
            until.map(|t| t.to_string()),
            Some("2026-12-05 0:00:00.0".to_owned())
        );
        let since = parse_when("2026-12-04", false).ok().flatten();
        assert_eq!(
            since.map(|t| t.to_string()),
            Some("2026-12-04 0:00:00.0".to_owned())
        );
        assert!(parse_when("yesterday", false).is_err());
        assert_eq!(parse_when(" ", false).ok().flatten(), None);
    }
}

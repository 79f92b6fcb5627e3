//! `GET /files/{id}`: a file's page in the reader's browser — its place, facts and a
//! download button; images shown large, audio and video in the browser's own player from
//! the checked stable URL (Range works there), text shown as text (escaped, the first
//! 64 KiB); previous and next through its folder. Unreadable answers like missing.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db;
use crate::domain::ids::FileId;
use crate::library::viewer::{self, FileView};
use crate::state::AppState;
use crate::storage::sniff;
use crate::web::api::json::timestamp;
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::caller;
use crate::web::listing::stable_url;
use crate::web::pages::human_size;

/// How a page shows the file itself (`partials/viewer.html`, with `stable` in scope).
pub enum Shown {
    /// Drawn by the browser from the stable URL, with this alternative text.
    Image(String),
    Audio,
    Video,
    /// The first bytes, and whether there are more.
    Text(String, bool),
    /// The type's label only.
    Label(&'static str),
}

impl Shown {
    /// How `f` is shown, given its text preview (`library::viewer::text_preview`) and the
    /// alternative text of an image. Only types browsers draw safely are drawn: SVG, HTML
    /// and the other active types get their label.
    pub fn of(f: &crate::db::models::File, text: Option<(String, bool)>, alt: String) -> Self {
        let essence = f.mime_type.split(';').next().unwrap_or("").trim();
        match (essence.split('/').next(), text) {
            (_, Some((text, more))) => Shown::Text(text, more),
            (Some("image"), _) if sniff::is_inline_safe(essence) && essence != "image/tiff" => {
                Shown::Image(alt)
            }
            (Some("audio"), _) => Shown::Audio,
            (Some("video"), _) => Shown::Video,
            _ => Shown::Label(crate::web::listing::type_icon(&f.mime_type)),
        }
    }
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    username: String,
    is_staff: bool,
    csrf_token: String,
    view: FileView,
    name: String,
    stable: String,
    shown: Shown,
    size: String,
    uploaded: String,
    modified: String,
}

pub async fn file_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = FileId::parse(&path).map_err(|_| AppError::NotFound)?;
    let Some(identity) = caller(&state, &req).await? else {
        return Err(PageError::login_required(req.path()));
    };
    let (st, u) = (state.get_ref().clone(), identity.user.clone());
    let (view, text) = db::run(&state.pool, move |conn| {
        let view = viewer::view(&st.library, conn, &u, id)?;
        let text = viewer::text_preview(&st.library, &view.file);
        Ok::<_, AppError>((view, text))
    })
    .await?;
    let f = &view.file;
    let alt = view
        .image
        .as_ref()
        .map(|i| i.alt_text.clone())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| f.label().to_owned());
    let shown = Shown::of(f, text, alt);
    let page = FilePage {
        username: identity.user.username.clone(),
        is_staff: identity.user.is_staff || identity.user.is_superuser,
        csrf_token: identity.csrf_token().unwrap_or_default().to_owned(),
        name: f.label().to_owned(),
        stable: stable_url(f),
        size: human_size(f.size),
        uploaded: timestamp(f.created_at),
        modified: timestamp(f.modified_at),
        shown,
        view,
    }
    .render()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(page))
}

//! Type icons (`/static/icons/<name>.svg`): what a file without a thumbnail shows. They are
//! Coffer's own SVG files, compiled in.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::web::error::AppError;
use crate::web::errors::PageError;

fn svg(name: &str) -> Option<&'static str> {
    Some(match name {
        "archive" => include_str!("../../static/icons/archive.svg"),
        "audio" => include_str!("../../static/icons/audio.svg"),
        "document" => include_str!("../../static/icons/document.svg"),
        "file" => include_str!("../../static/icons/file.svg"),
        "image" => include_str!("../../static/icons/image.svg"),
        "pdf" => include_str!("../../static/icons/pdf.svg"),
        "text" => include_str!("../../static/icons/text.svg"),
        "vector" => include_str!("../../static/icons/vector.svg"),
        "video" => include_str!("../../static/icons/video.svg"),
        _ => return None,
    })
}

/// `GET /static/icons/{name}.svg`.
pub async fn icon(name: web::Path<String>) -> Result<HttpResponse, PageError> {
    let name = name.strip_suffix(".svg").ok_or(AppError::NotFound)?;
    let body = svg(name).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_icon_is_compiled_in() {
        for name in crate::storage::sniff::ICONS {
            assert!(super::svg(name).is_some(), "{name}");
        }
    }
}

//! How a file shows in a listing or on its page, in the admin and in the reader's browser:
//! its thumbnail through the checked URL, or the short label of its type (with the reason,
//! when an image has no thumbnail), and the URL that downloads it.

use crate::db::models::File;
use crate::library::image_files::Look;
use crate::library::thumbnails::deferred_url;
use crate::state::AppState;
use crate::web::api::json::file_url;

/// The stable, permission-checked URL of a file: `/files/<id>/<original name>`.
pub fn stable_url(f: &File) -> String {
    format!(
        "/files/{}/{}",
        f.id,
        percent_encoding::utf8_percent_encode(
            &f.original_filename,
            percent_encoding::NON_ALPHANUMERIC
        )
    )
}

/// Where a listing links a file: the public storage's URL for a public file (served by the
/// web server), the stable checked URL for a private one.
pub fn download_url(state: &AppState, f: &File) -> String {
    if f.is_public {
        file_url(state, f)
    } else {
        stable_url(f)
    }
}

/// A thumbnail `<img>`: a preset through the checked URL `/files/{id}/thumbnails/{preset}`
/// (public and private files alike), its double-size preset for 2× screens, and its size.
pub struct Thumb {
    pub src: String,
    pub srcset: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

impl Thumb {
    /// The `preset` (with `double` at 2×) of `f`, if it looks like a thumbnail.
    pub fn new(
        state: &AppState,
        f: &File,
        look: &Look,
        preset: &str,
        double: &str,
    ) -> Option<Self> {
        let Look::Thumbnail {
            width,
            height,
            alt_text,
        } = look
        else {
            return None;
        };
        let presets = &state.settings.thumbnails;
        let (w, h) = presets.preset(preset)?.output_size((*width, *height));
        presets.preset(double)?;
        Some(Thumb {
            src: deferred_url(f.id, preset),
            srcset: format!("{} 2x", deferred_url(f.id, double)),
            width: w,
            height: h,
            alt: if alt_text.trim().is_empty() {
                f.label().to_owned()
            } else {
                alt_text.clone()
            },
        })
    }
}

/// The reason shown on the type icon of an image without thumbnails.
pub fn no_thumbnail_reason(look: &Look) -> Option<String> {
    match look {
        Look::Failed(reason) => Some(format!("No thumbnail: {reason}")),
        _ => None,
    }
}

/// A short label standing for a content type in listings (until a thumbnail exists).
pub fn type_icon(mime: &str) -> &'static str {
    let (kind, sub) = mime.split_once('/').unwrap_or((mime, ""));
    match (kind, sub) {
        ("image", _) => "IMG",
        ("video", _) => "VID",
        ("audio", _) => "AUD",
        (_, "pdf") => "PDF",
        ("text", "csv") => "CSV",
        ("text", "html") => "HTML",
        ("text", _) => "TXT",
        (_, s)
            if s.contains("zip")
                || s.contains("compressed")
                || s.contains("tar")
                || s.contains("gzip") =>
        {
            "ZIP"
        }
        (_, s) if s.contains("word") || s.contains("opendocument.text") => "DOC",
        (_, s) if s.contains("sheet") || s.contains("excel") => "XLS",
        (_, s) if s.contains("presentation") || s.contains("powerpoint") => "PPT",
        _ => "FILE",
    }
}

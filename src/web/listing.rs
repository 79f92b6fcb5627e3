//! How a file shows in a listing or on its page, in the admin and in the reader's browser:
//! its thumbnail through the checked URL, or the short label of its type (with the reason,
//! when an image has no thumbnail), and the URL that downloads it.

use crate::db::models::File;
use crate::library::image_files::Look;
use crate::library::thumbnails::deferred_url;
use crate::state::AppState;
use crate::web::api::json::file_url;

/// What is percent-encoded in the name part of a stable URL: what a path segment cannot
/// hold (controls, space, `"`, `#`, `%`, `/`, `<`, `>`, `?`, `` ` ``, `{`, `}`) and what
/// clients are known to rewrite (`\`, `^`, `|`, `[`, `]`). Letters, digits, `-`, `.`, `_`,
/// `~` and the other sub-delimiters stay readable; other characters go as UTF-8 bytes.
const NAME_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// The stable, permission-checked URL of a file: `/files/<id>/<original name>`, with only
/// what must be encoded in the name (`/files/1/alps-sunset.jpg`).
pub fn stable_url(f: &File) -> String {
    format!("/files/{}/{}", f.id, name_segment(&f.original_filename))
}

/// `name` as one path segment; `.` and `..` (which a browser would resolve as steps up
/// the path) and an empty name are encoded in full.
fn name_segment(name: &str) -> String {
    match name {
        "" => "%20".to_owned(),
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => percent_encoding::utf8_percent_encode(name, NAME_SEGMENT).to_string(),
    }
}

/// One step of where a search hit lies: a folder's link, or (`href` None) a folder the
/// viewer may not read, shown as an ellipsis and never named.
pub struct PlaceStep {
    pub href: Option<String>,
    pub name: String,
}

/// The place of a search hit (`library::browse::Listing::file_places` or `folder_places`)
/// as links under `base` (`/folders/` or `/admin/folders/`); `top` (href, name) for an
/// empty path (the top level, or unsorted uploads).
pub fn place_steps(
    path: Option<&Vec<Option<(i64, String)>>>,
    base: &str,
    top: (&str, &str),
) -> Option<Vec<PlaceStep>> {
    let path = path?;
    if path.is_empty() {
        return Some(vec![PlaceStep {
            href: Some(top.0.to_owned()),
            name: top.1.to_owned(),
        }]);
    }
    Some(
        path.iter()
            .map(|step| match step {
                Some((id, name)) => PlaceStep {
                    href: Some(format!("{base}{id}")),
                    name: name.clone(),
                },
                None => PlaceStep {
                    href: None,
                    name: "…".to_owned(),
                },
            })
            .collect(),
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
        Self::at(state, f, look, (preset, double), |p| deferred_url(f.id, p))
    }

    /// [`Thumb::new`] with the URLs `url` gives for a preset's name (a share link's page
    /// has its own).
    pub fn at(
        state: &AppState,
        f: &File,
        look: &Look,
        (preset, double): (&str, &str),
        url: impl Fn(&str) -> String,
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
            src: url(preset),
            srcset: format!("{} 2x", url(double)),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use super::name_segment as encoded;

    #[test]
    fn stable_links_encode_only_what_a_path_segment_cannot_hold() {
        assert_eq!(encoded("alps-sunset.jpg"), "alps-sunset.jpg");
        assert_eq!(
            encoded("Report_2026 (final)~v2.pdf"),
            "Report_2026%20(final)~v2.pdf"
        );
        assert_eq!(encoded("été.txt"), "%C3%A9t%C3%A9.txt");
        assert_eq!(encoded("a/b?c#d%e"), "a%2Fb%3Fc%23d%25e");
        assert_eq!(
            encoded("<x>\"q\"`{}|^[]\\"),
            "%3Cx%3E%22q%22%60%7B%7D%7C%5E%5B%5D%5C"
        );
        // Whatever the name, the URL has exactly the three slashes of /files/<id>/<name>
        // and decodes back to the name.
        assert_eq!(encoded(".."), "%2E%2E");
        assert_eq!(encoded("."), "%2E");
        for name in ["../../etc/passwd", "a/b", "..", ".", "x\ny", "%2F"] {
            let e = encoded(name);
            assert!(!e.contains('/') && e != ".." && e != ".", "{name:?} → {e}");
            let back = percent_encoding::percent_decode_str(&e)
                .decode_utf8()
                .unwrap();
            assert_eq!(back, name);
        }
    }
}

//! Content types: sniffed from the bytes, never trusted from the client, and classified as
//! safe to show inline or active (served only as an attachment).

/// The content type of an upload whose first bytes are `head`. Binary formats are
/// recognised by their signatures; text is told apart from binary by its bytes, and only
/// then does the name's extension refine the text type (so a text file named `.jpg` is
/// `text/plain`, and an unrecognised binary file is `application/octet-stream`).
pub fn sniff(head: &[u8], original_name: &str) -> String {
    let by_name = mime_guess::from_path(original_name).first();
    if let Some(kind) = infer::get(head) {
        let sniffed = kind.mime_type();
        // infer calls any XML document text/xml; an .svg name makes it SVG (still active).
        if sniffed == "text/xml"
            && let Some(m) = &by_name
            && m.essence_str() == "image/svg+xml"
        {
            return "image/svg+xml".into();
        }
        return sniffed.to_owned();
    }
    if looks_like_text(head) {
        return match by_name {
            Some(m) if is_textual(m.essence_str()) => m.essence_str().to_owned(),
            _ => "text/plain".into(),
        };
    }
    "application/octet-stream".into()
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sniffed prefix is still text.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

fn is_textual(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/xhtml+xml"
                | "image/svg+xml"
                | "application/x-sh"
                | "application/toml"
                | "application/x-yaml"
        )
}

/// Whether a type may be shown inline. Everything else (HTML, SVG, XML, JavaScript, unknown
/// types) is sent as an attachment, so a browser never renders it from Coffer's origin.
pub fn is_inline_safe(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    matches!(
        essence,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "image/avif"
            | "image/tiff"
            | "image/x-icon"
            | "image/vnd.microsoft.icon"
            | "application/pdf"
            | "text/plain"
            | "text/csv"
    ) || essence.starts_with("audio/")
        || essence.starts_with("video/")
}

/// Type icons Coffer ships (`/static/icons/<name>.svg`).
pub const ICONS: &[&str] = &[
    "archive", "audio", "document", "file", "image", "pdf", "text", "vector", "video",
];

/// The name of the type icon for a content type.
pub fn icon_name(mime: &str) -> &'static str {
    let essence = mime.split(';').next().unwrap_or("").trim();
    match essence {
        "image/svg+xml" => "vector",
        "application/pdf" => "pdf",
        "application/zip"
        | "application/gzip"
        | "application/x-tar"
        | "application/x-7z-compressed"
        | "application/x-bzip2"
        | "application/x-xz"
        | "application/vnd.rar"
        | "application/zstd" => "archive",
        "application/msword"
        | "application/rtf"
        | "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint" => "document",
        e if e.starts_with("image/") => "image",
        e if e.starts_with("audio/") => "audio",
        e if e.starts_with("video/") => "video",
        e if e.starts_with("text/") || e == "application/json" => "text",
        _ => "file",
    }
}

/// The URL of the type icon for a content type.
pub fn icon_url(mime: &str) -> String {
    format!("/static/icons/{}.svg", icon_name(mime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_wins_over_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, "x.txt"), "image/png");
        assert_eq!(sniff(b"just some text", "photo.jpg"), "text/plain");
        assert_eq!(sniff(b"a,b\n1,2\n", "data.csv"), "text/csv");
        assert_eq!(
            sniff(b"\x00\x01\x02\x03", "x.bin"),
            "application/octet-stream"
        );
        assert_eq!(
            sniff(b"\x00\x01\x02\x03", "x.pdf"),
            "application/octet-stream"
        );
        assert_eq!(sniff(b"%PDF-1.7\n", "x"), "application/pdf");
    }

    #[test]
    fn active_content_is_detected() {
        let html = sniff(b"<!DOCTYPE html><html><script>alert(1)</script>", "a.txt");
        assert_eq!(html, "text/html");
        assert!(!is_inline_safe(&html));
        let svg = sniff(
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "a.svg",
        );
        assert_eq!(svg, "image/svg+xml");
        assert!(!is_inline_safe(&svg));
        assert!(!is_inline_safe("application/octet-stream"));
        assert!(!is_inline_safe("application/javascript"));
        assert!(is_inline_safe("image/jpeg"));
        assert!(is_inline_safe("text/plain; charset=utf-8"));
    }

    #[test]
    fn every_type_has_a_shipped_icon() {
        for mime in [
            "image/jpeg",
            "image/svg+xml",
            "text/plain",
            "application/pdf",
            "x/y",
            "video/mp4",
            "application/zip",
        ] {
            assert!(ICONS.contains(&icon_name(mime)), "{mime}");
        }
        assert_eq!(icon_name("image/svg+xml"), "vector");
    }

    #[test]
    fn cut_utf8_is_still_text() {
        let mut head = "é".repeat(10).into_bytes();
        head.pop();
        assert!(looks_like_text(&head));
    }
}

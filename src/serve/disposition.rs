//! `Content-Disposition` for downloads: an ASCII fallback `filename` and the exact name in an
//! RFC 5987 `filename*`, built from the original name (never from an escaped copy of it).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 5987 `attr-char`s stay as they are; everything else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The header value for `name`, `inline` or `attachment`.
pub fn content_disposition(name: &str, inline: bool) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let name = if name.trim().is_empty() {
        "download"
    } else {
        name
    };
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        utf8_percent_encode(name, ATTR_CHAR)
    )
}

/// A quoted-string-safe ASCII rendering: letters transliterated, controls dropped, quotes
/// and backslashes replaced.
fn ascii_fallback(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii() {
            match c {
                '"' | '\\' => out.push('_'),
                c if c.is_ascii_control() => {}
                c => out.push(c),
            }
        } else if !c.is_control() {
            let t = deunicode::deunicode_char(c).unwrap_or("_");
            out.extend(
                t.chars()
                    .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\'),
            );
        }
    }
    if out.trim().is_empty() {
        "download".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    fn star(header: &str) -> String {
        let enc = header.split("filename*=UTF-8''").nth(1).unwrap();
        percent_decode_str(enc).decode_utf8().unwrap().into_owned()
    }

    #[test]
    fn every_name_round_trips_through_filename_star() {
        for name in [
            "a b.pdf",
            "100%.txt",
            "%20literally.txt",
            "what?.txt",
            "#1.txt",
            "semi;colon.txt",
            "\"q\".txt",
            "back\\slash.txt",
            "été.pdf",
            "日本.pdf",
            "cr\r\nlf.txt",
            "Rapport été (final).pdf",
        ] {
            let h = content_disposition(name, false);
            assert_eq!(star(&h), name, "{h}");
            assert!(!h.contains('\r') && !h.contains('\n'), "{h}");
            assert!(h.is_ascii());
            let fallback = h
                .split("filename=\"")
                .nth(1)
                .unwrap()
                .split("\"; filename*")
                .next()
                .unwrap();
            assert!(!fallback.contains('"') && !fallback.contains('\\'), "{h}");
        }
    }

    #[test]
    fn fallback_is_readable() {
        assert_eq!(
            content_disposition("été.pdf", true),
            "inline; filename=\"ete.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9.pdf"
        );
        assert!(content_disposition("", false).contains("filename=\"download\""));
    }
}

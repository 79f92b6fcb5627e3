//! Where a log-in (or any other form) may send the browser afterwards: only a path on this
//! site. Every redirect whose target comes from input goes through [`local_path`].

use url::Url;

/// A base no request can name; only its origin matters.
const BASE: &str = "http://coffer.invalid/";

/// The target used when the requested one is refused.
pub const DEFAULT: &str = "/";

/// `raw` as a path (and query) on this site, re-serialised by a URL parser, or `None`.
///
/// Accepted: a path that starts with one `/`, in printable ASCII (no white space, no
/// control characters, no backslash), whose first segment is not a percent-encoded slash or
/// backslash, and which a URL parser resolves against the site's origin to the same origin.
/// What comes back is the parser's path and query (no fragment), checked again, so that
/// `/.//evil` (which the parser turns into `//evil`) is refused too.
pub fn local_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/') || !plain(raw) || starts_like_authority(raw) {
        return None;
    }
    let base = Url::parse(BASE).ok()?;
    let url = base.join(raw).ok()?;
    if url.origin() != base.origin()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.cannot_be_a_base()
    {
        return None;
    }
    let mut out = url.path().to_owned();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    (out.starts_with('/') && plain(&out) && !starts_like_authority(&out)).then_some(out)
}

/// [`local_path`] of an optional value, else [`DEFAULT`].
pub fn safe_next(raw: Option<&str>) -> String {
    raw.and_then(local_path)
        .unwrap_or_else(|| DEFAULT.to_owned())
}

/// Printable ASCII without space or backslash.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// `//`, `/\`, or a first segment that starts with an encoded slash, backslash, white
/// space or control character (some servers, proxies and browsers decode those).
fn starts_like_authority(s: &str) -> bool {
    let rest = s.get(1..).unwrap_or_default();
    if rest.starts_with('/') || rest.starts_with('\\') {
        return true;
    }
    let Some(hex) = rest.strip_prefix('%').and_then(|h| h.get(..2)) else {
        return false;
    };
    match u8::from_str_radix(hex, 16) {
        Ok(b) => b == b'/' || b == b'\\' || b <= b' ' || b == 0x7f,
        Err(_) => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Known tricks, each refused (→ the default).
    const TRICKS: &[&str] = &[
        "//evil.example",
        "//evil.example/x",
        "///evil.example",
        "////evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/%2f%2fevil.example",
        "/%2F/evil.example",
        "/%5cevil.example",
        "/%5C%5Cevil.example",
        "/\t/evil.example/x",
        "/%09/evil.example/x",
        "/%0a/evil.example",
        "/%0D%0A/evil.example",
        "/%20//evil.example",
        "/%zz",
        "/\n/evil.example",
        "/\r/evil.example",
        "/ /evil.example",
        "https:evil.example",
        "https://evil.example",
        "http://evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "／／evil.example",
        "/／evil.example",
        "/.//evil.example",
        "/./\\evil.example",
        "/x/..//evil.example",
        "/../..//evil.example",
        "evil.example",
        "",
        "/\u{0}",
        "/\u{2028}//evil",
        "/@evil.example",
    ];

    #[test]
    fn the_tricks_are_refused() {
        for t in TRICKS {
            let got = local_path(t);
            // "/@evil.example" is a path on this site: accepted as such.
            if *t == "/@evil.example" {
                assert_eq!(got.as_deref(), Some("/@evil.example"));
                continue;
            }
            assert_eq!(got, None, "{t:?}");
            assert_eq!(safe_next(Some(t)), "/");
        }
    }

    #[test]
    fn site_paths_are_kept() {
        for (raw, want) in [
            ("/", "/"),
            ("/admin/folders/3", "/admin/folders/3"),
            ("/folders/2?page=3&q=a%20b", "/folders/2?page=3&q=a%20b"),
            ("/%2e%2e/", "/"),
            ("/a/../b", "/b"),
            ("/x#frag", "/x"),
            (
                "/files/1/r%C3%A9sum%C3%A9.pdf",
                "/files/1/r%C3%A9sum%C3%A9.pdf",
            ),
        ] {
            assert_eq!(local_path(raw).as_deref(), Some(want), "{raw:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever is asked for, what is accepted stays on the site when a browser resolves
        /// it against this site or any other page.
        #[test]
        fn accepted_targets_keep_the_origin(raw in prop_oneof![
            any::<String>(),
            "[/\\\\%.a-z0-9:@?#\t ]{0,12}",
            "/[/\\\\%25fF5cC.:@\t]{0,8}[a-z.]{0,6}",
        ]) {
            let next = safe_next(Some(&raw));
            for base in [BASE, "https://site.example/a/b/c", "http://site.example:8080/x/"] {
                let base = Url::parse(base).unwrap();
                let resolved = base.join(&next).unwrap();
                prop_assert_eq!(resolved.origin(), base.origin(), "{:?} -> {:?}", raw, next);
            }
            prop_assert!(next.starts_with('/') && !next.starts_with("//"));
            prop_assert!(plain(&next));
            prop_assert_eq!(safe_next(Some(&next)), next.clone());
        }
    }
}

//! Folder and file names. Every name a user gives (create, rename, edit, upload, import, the
//! API and the admin) becomes an [`ItemName`] through [`ItemName::parse`], which refuses what
//! would make a name ambiguous or deceptive, and normalises it to NFC so that the same name
//! typed on two systems is the same string.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// The longest name, in characters (after normalisation).
pub const MAX_CHARS: usize = 255;

/// A checked, trimmed, NFC-normalised folder or file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemName(String);

/// Why a name was refused. The messages complete "the folder name …".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("must not contain '/'")]
    Slash,
    #[error("must not contain control characters or line breaks")]
    Control,
    #[error(
        "must not contain invisible direction marks (U+{0:04X}): they make a name read differently from what it is"
    )]
    Bidi(u32),
    #[error("must not contain invisible zero-width characters (U+{0:04X})")]
    ZeroWidth(u32),
    #[error("must not be \".\" or \"..\"")]
    Dots,
}

/// Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates
/// (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Invisible characters that join, separate or hide text: U+200B–U+200D, the word joiner
/// and invisible operators (U+2060–U+2064), the byte-order mark U+FEFF.
pub fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Control characters and the Unicode line and paragraph separators.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `c` may never appear in a name (anything [`ItemName::parse`] refuses per
/// character).
pub fn is_forbidden(c: char) -> bool {
    c == '/' || is_control(c) || is_bidi_control(c) || is_zero_width(c)
}

fn check_char(c: char) -> Result<(), NameError> {
    if c == '/' {
        Err(NameError::Slash)
    } else if is_control(c) {
        Err(NameError::Control)
    } else if is_bidi_control(c) {
        Err(NameError::Bidi(u32::from(c)))
    } else if is_zero_width(c) {
        Err(NameError::ZeroWidth(u32::from(c)))
    } else {
        Ok(())
    }
}

impl ItemName {
    /// Trims surrounding white space, normalises to NFC and checks the rules: not empty, at
    /// most [`MAX_CHARS`] characters, no `/`, no control characters or line separators, no
    /// bidirectional controls, no zero-width characters, not `.` or `..`.
    pub fn parse(raw: &str) -> Result<ItemName, NameError> {
        let trimmed = raw.trim();
        // Checked before normalising too, so that what is refused does not depend on it.
        trimmed.chars().try_for_each(check_char)?;
        let nfc: String = trimmed.nfc().collect();
        let name = nfc.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name == "." || name == ".." {
            return Err(NameError::Dots);
        }
        if name.chars().count() > MAX_CHARS {
            return Err(NameError::TooLong);
        }
        name.chars().try_for_each(check_char)?;
        Ok(ItemName(name.to_owned()))
    }

    /// A name made from untrusted text that must not be refused (an uploaded file's
    /// original name): forbidden characters are dropped, the result cut to [`MAX_CHARS`];
    /// `fallback` when nothing usable is left. The result always passes [`ItemName::parse`].
    pub fn sanitize(raw: &str, fallback: &str) -> ItemName {
        let kept: String = raw.chars().filter(|c| !is_forbidden(*c)).collect();
        let nfc: String = kept.trim().nfc().collect();
        let cut: String = nfc.trim().chars().take(MAX_CHARS).collect();
        ItemName::parse(&cut)
            .or_else(|_| ItemName::parse(fallback))
            .unwrap_or_else(|_| ItemName("upload".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ItemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ItemName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

    use super::*;

    #[test]
    fn refuses_each_class_with_a_clear_message() {
        for (raw, err) in [
            ("", NameError::Empty),
            ("   ", NameError::Empty),
            (".", NameError::Dots),
            ("..", NameError::Dots),
            (" .. ", NameError::Dots),
            ("a/b", NameError::Slash),
            ("a\nb", NameError::Control),
            ("a\u{7f}", NameError::Control),
            ("a\u{2028}b", NameError::Control),
            ("invoice\u{202E}fdp.exe", NameError::Bidi(0x202E)),
            ("a\u{2066}b", NameError::Bidi(0x2066)),
            ("a\u{200F}", NameError::Bidi(0x200F)),
            ("a\u{061C}", NameError::Bidi(0x061C)),
            ("ad\u{200B}min", NameError::ZeroWidth(0x200B)),
            ("\u{FEFF}x", NameError::ZeroWidth(0xFEFF)),
            ("a\u{2060}", NameError::ZeroWidth(0x2060)),
        ] {
            assert_eq!(ItemName::parse(raw), Err(err), "{raw:?}");
        }
        assert_eq!(ItemName::parse(&"é".repeat(256)), Err(NameError::TooLong));
        assert!(
            NameError::Bidi(0x202E)
                .to_string()
                .contains("direction marks (U+202E)")
        );
    }

    #[test]
    fn trims_and_normalises_to_nfc() {
        assert_eq!(
            ItemName::parse("  Caf\u{65}\u{301} ").unwrap().as_str(),
            "Café"
        );
        assert_eq!(
            ItemName::parse("Café").unwrap(),
            ItemName::parse("Cafe\u{301}").unwrap()
        );
        // 255 decomposed characters that compose into 255 fit.
        assert!(ItemName::parse(&"e\u{301}".repeat(255)).is_ok());
        for ok in ["...", ".hidden", "a.b", "x..", "日本語", "a b"] {
            assert_eq!(ItemName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn sanitize_strips_rather_than_refuses() {
        assert_eq!(
            ItemName::sanitize("a\u{202E}b\u{200B}c\n.txt", "upload").as_str(),
            "abc.txt"
        );
        assert_eq!(ItemName::sanitize("..", "upload").as_str(), "upload");
        assert_eq!(ItemName::sanitize("\u{200B}", "upload").as_str(), "upload");
        assert_eq!(
            ItemName::sanitize(&"x".repeat(300), "upload")
                .as_str()
                .len(),
            255
        );
    }

    fn names() -> impl Strategy<Value = String> {
        let interesting = prop::sample::select(vec![
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
            '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{301}', '\u{308}', 'e', 'A', '.',
            '/', ' ', '\t', '\n', '\u{0}', '\u{85}', '\u{2028}', '\u{3000}', '\u{1100}',
            '\u{1161}', '\u{11A8}', '\u{AC00}', '\u{212B}', '\u{FB01}',
        ]);
        prop_oneof![
            prop::collection::vec(interesting, 0..12).prop_map(|v| v.into_iter().collect()),
            any::<String>(),
            "[ .]{0,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_never_panics_and_holds_its_rules(raw in names()) {
            if let Ok(n) = ItemName::parse(&raw) {
                let s = n.as_str();
                prop_assert!(is_nfc(s));
                prop_assert!(!s.chars().any(is_forbidden));
                prop_assert!(!s.is_empty() && s != "." && s != "..");
                prop_assert!(s.chars().count() <= MAX_CHARS);
                prop_assert_eq!(s.trim(), s);
                prop_assert_eq!(ItemName::parse(s), Ok(n.clone()));
            }
        }

        #[test]
        fn parse_is_idempotent(raw in names()) {
            let once = ItemName::parse(&raw);
            let twice = once.as_ref().map(|n| ItemName::parse(n.as_str()));
            if let Ok(again) = twice {
                prop_assert_eq!(again, once);
            }
        }

        #[test]
        fn sanitize_always_gives_a_valid_name(raw in names()) {
            let n = ItemName::sanitize(&raw, "upload");
            prop_assert_eq!(ItemName::parse(n.as_str()), Ok(n.clone()));
        }
    }
}

//! Free text people write beside an item: descriptions, alt text, captions. Bounded, and
//! without control characters (line breaks and tabs only where the text may span lines), so
//! that NUL never reaches the database (PostgreSQL refuses it in text columns, SQLite would
//! store it) and no escape sequence reaches a terminal or a log.

/// How a text field may look.
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    /// The field's name, as the messages say it.
    pub what: &'static str,
    /// The longest text, in characters.
    pub max_chars: usize,
    /// Whether line breaks and tabs are allowed.
    pub multiline: bool,
}

/// A file's description.
pub const DESCRIPTION: TextRule = TextRule {
    what: "description",
    max_chars: 10_000,
    multiline: true,
};
/// An image's alternative text.
pub const ALT_TEXT: TextRule = TextRule {
    what: "alt_text",
    max_chars: 255,
    multiline: false,
};
/// An image's caption.
pub const CAPTION: TextRule = TextRule {
    what: "caption",
    max_chars: 2_000,
    multiline: true,
};

/// Why a text was refused; the message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} must be at most {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} must not contain control characters")]
    Control { what: &'static str },
}

impl TextRule {
    /// `value` if it keeps the rule.
    pub fn parse(&self, value: &str) -> Result<String, TextError> {
        if value.chars().count() > self.max_chars {
            return Err(TextError::TooLong {
                what: self.what,
                max: self.max_chars,
            });
        }
        let allowed = |c: char| self.multiline && matches!(c, '\n' | '\r' | '\t');
        if value.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(TextError::Control { what: self.what });
        }
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn line_breaks_only_where_the_text_spans_lines() {
        assert_eq!(DESCRIPTION.parse("a\r\nb\tc"), Ok("a\r\nb\tc".to_owned()));
        assert_eq!(
            ALT_TEXT.parse("a\nb"),
            Err(TextError::Control { what: "alt_text" })
        );
        for bad in ["\0", "a\u{1b}[31m", "\u{7f}", "\u{85}"] {
            assert!(DESCRIPTION.parse(bad).is_err(), "{bad:?}");
        }
        assert!(ALT_TEXT.parse(&"x".repeat(255)).is_ok());
        assert_eq!(
            ALT_TEXT.parse(&"é".repeat(256)),
            Err(TextError::TooLong {
                what: "alt_text",
                max: 255
            })
        );
    }

    proptest! {
        #[test]
        fn accepted_text_never_holds_nul_or_escapes(s in any::<String>()) {
            for rule in [DESCRIPTION, ALT_TEXT, CAPTION] {
                if let Ok(t) = rule.parse(&s) {
                    prop_assert!(!t.contains(['\0', '\u{1b}']), "{:?}", t);
                    prop_assert!(t.chars().count() <= rule.max_chars);
                    prop_assert_eq!(&t, &s);
                }
            }
        }
    }
}

//! Storage keys: relative object names that Coffer generates itself. A key is a `/`-joined
//! list of segments made of ASCII letters, digits, `.`, `_` and `-`; no segment is empty,
//! starts with a dot or holds two dots in a row, so a key can never climb out of its storage
//! or name a hidden file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 1024;

/// A validated storage key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey(pub(super) String);

/// Why a string is not a key.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid storage key")]
pub struct InvalidKey;

impl StorageKey {
    /// Accepts only keys of the shape described in the module documentation.
    pub fn parse(s: &str) -> Result<Self, InvalidKey> {
        if s.is_empty() || s.len() > MAX_KEY_LEN {
            return Err(InvalidKey);
        }
        for segment in s.split('/') {
            let valid = !segment.is_empty()
                && !segment.starts_with('.')
                && !segment.contains("..")
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !valid {
                return Err(InvalidKey);
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The key of a derived object (a thumbnail): `<key>__<suffix>`.
    pub fn derived(&self, suffix: &str) -> Result<Self, InvalidKey> {
        Self::parse(&format!("{}__{}", self.0, suffix))
    }
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for StorageKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StorageKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        StorageKey::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Turns a user's file name into the ASCII name part of a key: transliterated, lower-case,
/// spaces to `_`, other characters dropped, no `__` (reserved for derived keys), at most
/// 100 bytes with the extension kept. Never empty.
pub fn clean_name(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let ascii = deunicode::deunicode(base).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        let c = match c {
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            ' ' | '_' => '_',
            _ => continue,
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        if c == '.' && out.ends_with('.') {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_matches(|c| c == '.' || c == '_' || c == '-');
    let (stem, ext) = match trimmed.rfind('.') {
        Some(i) if i > 0 && i + 1 < trimmed.len() && trimmed.len() - i <= 11 => {
            (&trimmed[..i], &trimmed[i..])
        }
        _ => (trimmed, ""),
    };
    let stem = stem.trim_end_matches(['.', '_', '-']);
    let stem = if stem.is_empty() { "file" } else { stem };
    let max_stem = 100 - ext.len();
    let stem = &stem[..stem.len().min(max_stem)];
    let stem = stem.trim_end_matches(['.', '_', '-']);
    let stem = if stem.is_empty() { "file" } else { stem };
    format!("{stem}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_or_hide() {
        for bad in [
            "", "/abs", "a//b", "../x", "a/../b", "a/./b", ".hidden", "a/.tmp/x", "a\\b", "a b",
            "a%2e", "é", "a\0b", "a/", "a..b", "a/b../c", "x/..",
        ] {
            assert_eq!(StorageKey::parse(bad), Err(InvalidKey), "{bad:?}");
        }
        for good in [
            "ab/cd/0f3e/name.txt",
            "2026/11/26/x.tar.gz",
            "a/b__icon-40.jpg",
        ] {
            assert!(StorageKey::parse(good).is_ok(), "{good:?}");
        }
        assert!(StorageKey::parse(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("Mein Bild.JPG"), "mein_bild.jpg");
        assert_eq!(
            clean_name("Rapport été (final).pdf"),
            "rapport_ete_final.pdf"
        );
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\evil.exe"), "evil.exe");
        assert_eq!(clean_name("日本.pdf"), "ri_ben.pdf");
        assert_eq!(clean_name("...."), "file");
        assert_eq!(clean_name("a__b.txt"), "a_b.txt");
        assert_eq!(clean_name(".bashrc"), "bashrc");
        assert_eq!(clean_name("100%.txt"), "100.txt");
        assert_eq!(clean_name("what?.txt"), "what.txt");
        let long = clean_name(&format!("{}.tar", "x".repeat(300)));
        assert_eq!(long.len(), 100);
        assert!(long.ends_with(".tar"));
        for n in [
            "a b.pdf",
            "#1.txt",
            "semi;colon.txt",
            "\"q\".txt",
            "back\\slash.txt",
            "a\r\nb",
        ] {
            assert!(StorageKey::parse(&clean_name(n)).is_ok(), "{n:?}");
        }
    }

    mod properties {
        use std::path::{Component, Path};

        use proptest::prelude::*;

        use super::super::*;

        /// Strings made mostly of the characters that matter to paths, and any text.
        fn candidates() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z0-9./\\\\_\\- \\x00%é:~]{0,40}",
                "([a-z.]{1,4}/){0,6}[a-z._-]{0,6}",
                any::<String>(),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn parse_never_panics_and_accepts_only_safe_keys(s in candidates()) {
                let Ok(key) = StorageKey::parse(&s) else { return Ok(()); };
                prop_assert!(!s.contains(".."), "{s:?}");
                prop_assert!(!s.starts_with('/') && !s.ends_with('/'), "{s:?}");
                prop_assert!(!s.contains('\\') && !s.contains('\0'), "{s:?}");
                prop_assert!(s.len() <= MAX_KEY_LEN);
                for segment in s.split('/') {
                    prop_assert!(!segment.is_empty() && !segment.starts_with('.'), "{s:?}");
                }
                // Round trip through Display (and serde's form).
                prop_assert_eq!(key.to_string(), s.clone());
                prop_assert_eq!(StorageKey::parse(&key.to_string()), Ok(key.clone()));
                // Joined to a base directory, it stays beneath it: only normal components.
                let base = Path::new("/srv/coffer/private");
                let joined = base.join(key.as_str());
                prop_assert!(joined.starts_with(base));
                prop_assert!(
                    Path::new(key.as_str()).components().all(|c| matches!(c, Component::Normal(_))),
                    "{s:?}"
                );
                prop_assert_eq!(joined.components().count(), base.components().count() + s.split('/').count());
            }

            #[test]
            fn cleaned_names_and_derived_keys_are_keys(name in any::<String>(), suffix in "[a-z0-9_-]{1,12}(\\.[a-z]{1,4})?") {
                let cleaned = clean_name(&name);
                let key = StorageKey::parse(&format!("ab/cd/0f3e/{cleaned}"));
                prop_assert!(key.is_ok(), "{name:?} → {cleaned:?}");
                let key = key.unwrap_or_else(|_| unreachable!());
                prop_assert!(key.derived(&suffix).is_ok(), "{cleaned:?} + {suffix:?}");
            }
        }
    }
}

//! Storage keys: relative object names that Coffer generates itself. A key is a `/`-joined
//! list of segments made of ASCII letters, digits, `.`, `_` and `-`; no segment is empty or
//! starts with a dot, so a key can never climb out of its storage or name a hidden file.

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
            "a%2e", "é", "a\0b", "a/",
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
}

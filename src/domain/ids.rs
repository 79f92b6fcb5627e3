//! Ids of the things Coffer stores, as types: a `FileId` cannot be passed where a
//! `FolderId` is meant. Each parses once from what a URL or a form sends (a positive whole
//! number, surrounding spaces ignored) and reads and writes as a bare number in JSON and
//! paths.

use serde::{Deserialize, Serialize};

/// Why a typed id was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{shown:?} is not {what} id")]
pub struct BadId {
    /// What was sent, shortened.
    pub shown: String,
    /// "a file", "a folder", "a user", "a group".
    pub what: &'static str,
}

/// The one parser behind every id type: a positive whole number.
fn parse_positive(input: &str, what: &'static str) -> Result<i64, BadId> {
    let s = input.trim();
    match s.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(BadId {
            shown: s.chars().take(40).collect(),
            what,
        }),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// An id as the database holds it.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The number, for queries.
            pub const fn get(self) -> i64 {
                self.0
            }

            /// Parses what a URL or form sent: a positive whole number.
            pub fn parse(input: &str) -> Result<Self, BadId> {
                parse_positive(input, $what).map(Self)
            }

            /// An optional form field: empty (or only spaces) is `None`; anything else must
            /// parse.
            pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, BadId> {
                match input.map(str::trim).filter(|v| !v.is_empty()) {
                    None => Ok(None),
                    Some(v) => Self::parse(v).map(Some),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = BadId;

            fn from_str(s: &str) -> Result<Self, BadId> {
                Self::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// A file's id.
    FileId,
    "a file"
);
id_type!(
    /// A folder's id.
    FolderId,
    "a folder"
);
id_type!(
    /// A user's id.
    UserId,
    "a user"
);
id_type!(
    /// A group's id.
    GroupId,
    "a group"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positive_whole_numbers_only() {
        assert_eq!(FileId::parse("12"), Ok(FileId::new(12)));
        assert_eq!(FolderId::parse(" 7 "), Ok(FolderId::new(7)));
        for bad in [
            "",
            "0",
            "-3",
            "1.5",
            "1e3",
            "x",
            "12a",
            "99999999999999999999",
        ] {
            let e = UserId::parse(bad).unwrap_err();
            assert_eq!(e.what, "a user", "{bad}");
            assert!(e.to_string().ends_with("is not a user id"), "{bad}: {e}");
        }
        assert_eq!(GroupId::parse(&"9".repeat(80)).unwrap_err().shown.len(), 40);
    }

    #[test]
    fn optional_fields() {
        assert_eq!(FolderId::parse_optional(None), Ok(None));
        assert_eq!(FolderId::parse_optional(Some("  ")), Ok(None));
        assert_eq!(
            FolderId::parse_optional(Some("4")),
            Ok(Some(FolderId::new(4)))
        );
        assert!(FolderId::parse_optional(Some("four")).is_err());
    }

    #[test]
    fn bare_numbers_in_json_and_display() {
        let id: FileId = serde_json::from_str("42").unwrap();
        assert_eq!(id, FileId::new(42));
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(id.to_string(), "42");
        assert_eq!(i64::from(id), 42);
        assert_eq!("42".parse::<FileId>(), Ok(id));
    }
}

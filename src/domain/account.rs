//! What identifies an account: its username and its e-mail address, each parsed once.

/// The longest username accepted.
pub const MAX_USERNAME: usize = 150;
/// The longest e-mail address accepted.
pub const MAX_EMAIL: usize = 254;

/// Why a username was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the username must be 1-150 letters, digits or @.+-_")]
pub struct BadUsername;

/// A username: 1–150 letters, digits or `@.+-_`, surrounding spaces removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// The one check of a username.
    pub fn parse(input: &str) -> Result<Self, BadUsername> {
        let name = input.trim();
        let ok = !name.is_empty()
            && name.chars().count() <= MAX_USERNAME
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "@.+-_".contains(c));
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(BadUsername)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an e-mail address was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("“{shown}” is not an e-mail address")]
pub struct BadEmail {
    /// What was given, shortened.
    pub shown: String,
}

/// An e-mail address: one `@` with something on both sides, no spaces or control
/// characters, at most 254 characters, surrounding spaces removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// The one check of an address; empty (or only spaces) is `None`, an account without
    /// one.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, BadEmail> {
        let email = input.trim();
        if email.is_empty() {
            return Ok(None);
        }
        let valid = email.chars().count() <= MAX_EMAIL
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if valid {
            Ok(Some(Self(email.to_owned())))
        } else {
            Err(BadEmail {
                shown: email.chars().take(60).collect(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As stored: the address, or empty for none.
    pub fn stored(email: Option<&Self>) -> String {
        email.map(|e| e.0.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" alice ").unwrap().as_str(), "alice");
        assert_eq!(
            Username::parse("a.b+c-d_e@x").unwrap().as_str(),
            "a.b+c-d_e@x"
        );
        assert_eq!(Username::parse("zoë").unwrap().as_str(), "zoë");
        assert!(Username::parse("ada.lovelace+1@x_y-z").is_ok());
        let longest = "u".repeat(MAX_USERNAME);
        assert!(Username::parse(&longest).is_ok());
        for bad in [
            "",
            "   ",
            "a b",
            "<script>",
            "a/b",
            "tab\tname",
            &"u".repeat(151),
        ] {
            assert_eq!(Username::parse(bad), Err(BadUsername), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse_optional("  "), Ok(None));
        assert_eq!(
            Email::parse_optional(" a@example.org ")
                .unwrap()
                .unwrap()
                .as_str(),
            "a@example.org"
        );
        for bad in [
            "ada",
            "@example.org",
            "ada@",
            "a da@example.org",
            "a@b@c",
            "a b@c",
            "a@b\u{7}",
            &format!("{}@b", "a".repeat(260)),
        ] {
            let e = Email::parse_optional(bad).unwrap_err();
            assert!(
                e.to_string().ends_with("is not an e-mail address"),
                "{bad:?}"
            );
        }
        assert_eq!(Email::stored(None), "");
    }
}

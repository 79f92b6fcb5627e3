//! CSRF tokens. Logged-in forms carry the session's token; the login form, used before any
//! session exists, carries a token that must equal a `SameSite=Strict` cookie set with it.
//! Comparisons are constant-time.

use subtle::ConstantTimeEq;

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Header for scripts and API calls made with a session cookie.
pub const HEADER: &str = "X-CSRF-Token";
/// Cookie carrying the pre-login token.
pub const LOGIN_COOKIE: &str = "coffer_login_csrf";

/// Whether `given` matches `expected` (both non-empty).
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(given) if !expected.is_empty() && !given.is_empty() => {
            expected.as_bytes().ct_eq(given.as_bytes()).into()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_must_match_exactly() {
        assert!(super::matches("abc", Some("abc")));
        assert!(!super::matches("abc", Some("abd")));
        assert!(!super::matches("abc", None));
        assert!(!super::matches("", Some("")));
    }
}

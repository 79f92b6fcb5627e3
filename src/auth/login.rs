//! Checking a username and password, throttled: the one way in for the log-in page and
//! for trading a password for an API token.

use time::Duration;

use crate::db::models::{User, user};
use crate::db::{DbConn, DbError};

use super::{Gate, PasswordHasher, Throttle};

/// What a log-in attempt came to.
#[derive(Debug)]
pub enum Attempt {
    /// The password is right and the account active.
    Accepted(User),
    /// Wrong username or password, or an inactive account (indistinguishable on purpose).
    Refused,
    /// Too many recent failures: the password was not even checked.
    Throttled { retry_after: Duration },
}

/// Longer than any username an account may have (`accounts::check_username`).
const MAX_USERNAME_CHARS: usize = 150;
/// What an implausible name is counted as: no username may contain a space.
const IMPLAUSIBLE_NAME: &str = "(not a username)";

/// Checks `password` for `username`, throttled: the attempt is reserved first (counted as a
/// failure, atomically with the decision), and the reservation is dropped only when the
/// password is right. Runs argon2: call it on a blocking thread.
pub fn attempt(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    throttle: &Throttle,
    username: &str,
    password: &str,
    address: &str,
) -> Result<Attempt, DbError> {
    // A name no account can have (NUL, longer than any username) is refused like an unknown
    // one, and counted under one placeholder no account can have either: it reaches neither
    // a lookup nor the failures table as typed.
    let plausible = !username.contains('\0') && username.chars().count() <= MAX_USERNAME_CHARS;
    let counted = if plausible {
        username
    } else {
        IMPLAUSIBLE_NAME
    };
    let reservation = match throttle.reserve(conn, counted, address)? {
        Gate::Open { reservation } => reservation,
        Gate::Closed { retry_after } => return Ok(Attempt::Throttled { retry_after }),
    };
    let found = if plausible {
        user::find_by_username(conn, username)?
    } else {
        None
    };
    let ok = passwords.verify(password, found.as_ref().map(|u| u.password_hash.as_str()));
    match found.filter(|u| ok && u.is_active) {
        Some(u) => {
            throttle.succeeded(conn, reservation, &u, address)?;
            Ok(Attempt::Accepted(u))
        }
        // The reservation stays: it is the failure.
        None => Ok(Attempt::Refused),
    }
}

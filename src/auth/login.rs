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

/// Checks `password` for `username`, asking `throttle` first and telling it the outcome.
/// Runs argon2: call it on a blocking thread.
pub fn attempt(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    throttle: &Throttle,
    username: &str,
    password: &str,
    address: &str,
) -> Result<Attempt, DbError> {
    if let Gate::Closed { retry_after } = throttle.check(conn, username, address)? {
        return Ok(Attempt::Throttled { retry_after });
    }
    let found = user::find_by_username(conn, username)?;
    let ok = passwords.verify(password, found.as_ref().map(|u| u.password_hash.as_str()));
    match found.filter(|u| ok && u.is_active) {
        Some(u) => {
            throttle.succeeded(conn, username)?;
            Ok(Attempt::Accepted(u))
        }
        None => {
            throttle.failed(conn, username, address)?;
            Ok(Attempt::Refused)
        }
    }
}

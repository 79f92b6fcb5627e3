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
    let reservation = match throttle.reserve(conn, username, address)? {
        Gate::Open { reservation } => reservation,
        Gate::Closed { retry_after } => return Ok(Attempt::Throttled { retry_after }),
    };
    let found = user::find_by_username(conn, username)?;
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

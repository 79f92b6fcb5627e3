//! Log-in throttling: after `login_max_failures` failed log-ins for one username, or from
//! one client address, within `login_window_minutes`, further attempts are refused without
//! checking the password until the oldest failure ages out. Counted in the database, so
//! every instance sharing it agrees. Unknown usernames count like known ones: the answer
//! never tells whether an account exists.

use time::Duration;

use crate::config::SessionConfig;
use crate::db::models::login_failure;
use crate::db::{DbConn, DbError, now};

/// The throttling rules.
#[derive(Clone, Copy, Debug)]
pub struct Throttle {
    max_failures: u32,
    window: Duration,
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Refused; the earliest time, from now, at which an attempt may succeed.
    Closed {
        retry_after: Duration,
    },
}

/// Usernames are stored at most this long (longer ones cannot exist).
const MAX_USERNAME: usize = 150;

fn key(username: &str) -> String {
    username.chars().take(MAX_USERNAME).collect()
}

impl Throttle {
    pub fn new(session: &SessionConfig) -> Self {
        let minutes = i64::try_from(session.login_window_minutes).unwrap_or(i64::MAX / 60);
        Self {
            max_failures: session.login_max_failures,
            window: Duration::minutes(minutes),
        }
    }

    fn enabled(&self) -> bool {
        self.max_failures > 0
    }

    /// May `username` try to log in from `address` now?
    pub fn check(&self, conn: &mut DbConn, username: &str, address: &str) -> Result<Gate, DbError> {
        if !self.enabled() {
            return Ok(Gate::Open);
        }
        let username = key(username);
        let since = now() - self.window;
        let (by_name, by_address) = login_failure::counts_since(conn, &username, address, since)?;
        let limit = i64::from(self.max_failures);
        if by_name < limit && by_address < limit {
            return Ok(Gate::Open);
        }
        let oldest = login_failure::oldest_since(conn, &username, address, since)?;
        let retry_after = oldest
            .map(|t| (t + self.window) - now())
            .filter(|d| d.is_positive())
            .unwrap_or(Duration::seconds(1));
        Ok(Gate::Closed { retry_after })
    }

    /// Counts a failed attempt.
    pub fn failed(&self, conn: &mut DbConn, username: &str, address: &str) -> Result<(), DbError> {
        if !self.enabled() {
            return Ok(());
        }
        login_failure::record(conn, &key(username), address, now() - self.window)
    }

    /// A successful log-in clears the username's failures (not the address's).
    pub fn succeeded(&self, conn: &mut DbConn, username: &str) -> Result<(), DbError> {
        if !self.enabled() {
            return Ok(());
        }
        login_failure::clear_username(conn, &key(username)).map(|_| ())
    }
}

/// The message shown when an attempt is refused.
pub fn refusal_message(retry_after: Duration) -> String {
    let minutes = (retry_after.whole_seconds() + 59) / 60;
    let minutes = minutes.max(1);
    format!(
        "Too many failed log-in attempts. Try again in {minutes} minute{}.",
        if minutes == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_rounds_up_to_whole_minutes() {
        assert_eq!(
            refusal_message(Duration::seconds(1)),
            "Too many failed log-in attempts. Try again in 1 minute."
        );
        assert_eq!(
            refusal_message(Duration::seconds(61)),
            "Too many failed log-in attempts. Try again in 2 minutes."
        );
        assert_eq!(
            refusal_message(Duration::minutes(15)),
            "Too many failed log-in attempts. Try again in 15 minutes."
        );
    }

    #[test]
    fn long_usernames_are_cut_to_the_longest_possible_one() {
        assert_eq!(key(&"x".repeat(500)).len(), MAX_USERNAME);
        assert_eq!(key("ada"), "ada");
    }
}

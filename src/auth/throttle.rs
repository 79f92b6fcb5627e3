//! Log-in throttling, in the manner of OWASP's guidance and fail2ban / django-axes: failed
//! log-ins are counted in the database (so every instance sharing it agrees) within
//! `session.login_window_minutes`, and an attempt is **blocked** — answered 429 without
//! checking the password — when one of these holds:
//!
//! 1. **the pair**: its (username, address) pair has `login_max_failures` failures;
//! 2. **the address**: its address has `login_max_failures_per_address` failures over all
//!    usernames (password spraying);
//! 3. **the username's back-off**, for an address the username has never logged in from:
//!    once the username has `login_max_failures` failures from anywhere, each further
//!    attempt from such an address waits 2^k seconds after the username's latest failure
//!    (k = failures beyond the limit), at most [`MAX_NAME_DELAY`] (and the window).
//!
//! So one user's failures never block another user from the same address (an office behind
//! one NAT) below the address limit, and failures from elsewhere never block a user from an
//! address they have logged in from before; a new address waits a few minutes at most. A
//! correct password from a (username, address) that is not blocked always logs in.
//!
//! Each attempt is **reserved** before the password is checked: one transaction that holds
//! the throttle's lock (SQLite: `BEGIN IMMEDIATE`, the write lock from the start;
//! PostgreSQL: a transaction-level advisory lock) counts and, if the attempt may go ahead,
//! records it as a failure. A right password then deletes that row again, and the pair's
//! other failures with it. Parallel attempts therefore never get more password checks than
//! the limits allow (a reservation whose process dies stays a failure until it ages out).
//! Unknown usernames count like known ones: the answer never tells whether an account
//! exists.

use time::Duration;

use super::settings::SessionConfig;
use crate::db::models::User;
use crate::db::models::login_failure::{self, Scope};
use crate::db::{DbConn, DbError, now};

/// The longest the username's back-off makes an attempt from a new address wait.
pub const MAX_NAME_DELAY: Duration = Duration::minutes(5);

/// The longest window honoured (a larger setting would overflow date arithmetic).
const MAX_WINDOW_MINUTES: u64 = 366 * 24 * 60;

/// The throttling rules.
#[derive(Clone, Copy, Debug)]
pub struct Throttle {
    max_failures: u32,
    max_per_address: u32,
    window: Duration,
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead; `Some(id)` is the reservation (a failure row) to settle with
    /// [`Throttle::succeeded`] when the password is right.
    Open { reservation: Option<i64> },
    /// Refused; the earliest time, from now, at which an attempt may go ahead.
    Closed { retry_after: Duration },
}

/// Usernames are stored at most this long (longer ones cannot exist).
const MAX_USERNAME: usize = 150;
/// Addresses are stored at most this long.
const MAX_ADDRESS: usize = 64;

/// The username as stored in the throttle's tables.
pub fn key(username: &str) -> String {
    username.chars().take(MAX_USERNAME).collect()
}

fn address_key(address: &str) -> String {
    address.chars().take(MAX_ADDRESS).collect()
}

/// Clears the failed log-ins of `username`, from `address`, or of the pair when both are
/// given, each keyed as the throttle stores it (`None` for both clears nothing). Returns how
/// many went.
pub fn unlock(
    conn: &mut DbConn,
    username: Option<&str>,
    address: Option<&str>,
) -> Result<usize, DbError> {
    login_failure::clear(
        conn,
        username.map(key).as_deref(),
        address.map(address_key).as_deref(),
    )
}

impl Throttle {
    pub fn new(session: &SessionConfig) -> Self {
        let minutes = session.login_window_minutes.min(MAX_WINDOW_MINUTES);
        Self {
            max_failures: session.login_max_failures,
            max_per_address: session.login_max_failures_per_address,
            window: Duration::minutes(i64::try_from(minutes).unwrap_or(0)),
        }
    }

    /// Throttling is off with `login_max_failures = 0` or `login_window_minutes = 0`.
    pub fn enabled(&self) -> bool {
        self.max_failures > 0 && self.window.is_positive()
    }

    /// How long failures count.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The pair limit (`login_max_failures`).
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// Decides whether `username` may try to log in from `address` now and, if so, records
    /// the attempt as a failure in the same transaction (the reservation).
    pub fn reserve(
        &self,
        conn: &mut DbConn,
        username: &str,
        address: &str,
    ) -> Result<Gate, DbError> {
        if !self.enabled() {
            return Ok(Gate::Open { reservation: None });
        }
        let (username, address) = (key(username), address_key(address));
        login_failure::exclusive(conn, |conn| {
            let now = now();
            let since = now - self.window;
            login_failure::purge(conn, since)?;
            let mut frees = Vec::new();
            let pair = Scope::Pair(&username, &address);
            frees.extend(login_failure::frees_at(
                conn,
                pair,
                since,
                self.max_failures,
            )?);
            if self.max_per_address > 0 {
                let scope = Scope::Address(&address);
                frees.extend(login_failure::frees_at(
                    conn,
                    scope,
                    since,
                    self.max_per_address,
                )?);
            }
            let mut wait = frees
                .into_iter()
                .map(|t| (t + self.window - now).max(Duration::seconds(1)))
                .max()
                .unwrap_or(Duration::ZERO);
            if !login_failure::is_known(conn, &username, &address)? {
                let (failures, latest) = login_failure::name_failures(conn, &username, since)?;
                if let (Some(delay), Some(latest)) = (self.name_delay(failures), latest) {
                    wait = wait.max(latest + delay - now);
                }
            }
            if wait.is_positive() {
                return Ok(Gate::Closed { retry_after: wait });
            }
            let id = login_failure::insert(conn, &username, &address, now)?;
            Ok(Gate::Open {
                reservation: Some(id),
            })
        })
    }

    /// The username's back-off after `failures` from anywhere: none below the limit, then
    /// 1, 2, 4 … seconds, at most [`MAX_NAME_DELAY`] and the window.
    pub fn name_delay(&self, failures: i64) -> Option<Duration> {
        let beyond = failures - i64::from(self.max_failures);
        if beyond < 0 {
            return None;
        }
        let cap = MAX_NAME_DELAY.min(self.window);
        let seconds = 1i64.checked_shl(u32::try_from(beyond).unwrap_or(u32::MAX).min(62));
        Some(seconds.map_or(cap, |s| Duration::seconds(s).min(cap)))
    }

    /// A right password for something that is not an account (a share link's): the
    /// reservation goes.
    pub fn forget(&self, conn: &mut DbConn, reservation: Option<i64>) -> Result<(), DbError> {
        if let Some(id) = reservation {
            login_failure::delete(conn, id)?;
        }
        Ok(())
    }

    /// The password was right: the reservation goes, with the pair's other failures, and
    /// the address becomes one the username has logged in from.
    pub fn succeeded(
        &self,
        conn: &mut DbConn,
        reservation: Option<i64>,
        user: &User,
        address: &str,
    ) -> Result<(), DbError> {
        if !self.enabled() {
            return Ok(());
        }
        login_failure::settle_success(
            conn,
            reservation,
            user.id,
            &key(&user.username),
            &address_key(address),
        )
    }
}

/// The message shown when an attempt is refused.
pub fn refusal_message(retry_after: Duration) -> String {
    let seconds = retry_after.whole_seconds().max(1);
    if seconds < 60 {
        return format!(
            "Too many failed log-in attempts. Try again in {seconds} second{}.",
            if seconds == 1 { "" } else { "s" }
        );
    }
    let minutes = (seconds + 59) / 60;
    format!(
        "Too many failed log-in attempts. Try again in {minutes} minute{}.",
        if minutes == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_rounds_up_to_whole_minutes_or_says_seconds() {
        assert_eq!(
            refusal_message(Duration::milliseconds(10)),
            "Too many failed log-in attempts. Try again in 1 second."
        );
        assert_eq!(
            refusal_message(Duration::seconds(8)),
            "Too many failed log-in attempts. Try again in 8 seconds."
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

    fn rules(max: u32, window_minutes: u64) -> Throttle {
        Throttle::new(&SessionConfig {
            login_max_failures: max,
            login_window_minutes: window_minutes,
            ..SessionConfig::default()
        })
    }

    #[test]
    fn the_username_delay_doubles_and_is_capped() {
        let t = rules(5, 15);
        assert_eq!(t.name_delay(4), None);
        assert_eq!(t.name_delay(5), Some(Duration::seconds(1)));
        assert_eq!(t.name_delay(6), Some(Duration::seconds(2)));
        assert_eq!(t.name_delay(10), Some(Duration::seconds(32)));
        assert_eq!(t.name_delay(14), Some(MAX_NAME_DELAY));
        assert_eq!(t.name_delay(i64::MAX), Some(MAX_NAME_DELAY));
        assert_eq!(rules(5, 1).name_delay(40), Some(Duration::minutes(1)));
    }

    #[test]
    fn zero_turns_throttling_off_and_huge_windows_do_not_overflow() {
        assert!(!rules(0, 15).enabled());
        assert!(!rules(5, 0).enabled());
        assert!(rules(5, 15).enabled());
        let t = rules(5, u64::MAX);
        assert!(t.enabled());
        assert!(now().checked_sub(t.window()).is_some());
    }
}

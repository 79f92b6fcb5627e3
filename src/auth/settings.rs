//! The settings of log-ins, sessions and password hashing, as the configuration file
//! spells them (`[session]`, `[argon2]`).

use serde::{Deserialize, Serialize};

/// `[session]`: the login cookie and log-in throttling.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub cookie_name: String,
    /// Send the cookie only over HTTPS; turn on behind TLS.
    pub cookie_secure: bool,
    /// Idle lifetime; every request within it extends the session.
    pub ttl_hours: u64,
    /// Failed log-ins for one (username, address) pair before that pair is refused with 429
    /// until they age out; also how many failures for a username, from anywhere, start its
    /// growing delay (see `auth::throttle`). 0 turns throttling off.
    pub login_max_failures: u32,
    /// Failed log-ins from one address, over all usernames, before the address is refused
    /// (password spraying). 0 turns this limit off.
    pub login_max_failures_per_address: u32,
    /// How long failed log-ins count (0 turns throttling off).
    pub login_window_minutes: u64,
    /// Behind a reverse proxy: the request header carrying the client's address (the last
    /// address in it counts, e.g. `X-Forwarded-For` as nginx appends to it). Unset: the
    /// address of the connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_address_header: Option<String>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            cookie_name: "coffer_session".into(),
            cookie_secure: false,
            ttl_hours: 24 * 14,
            login_max_failures: 5,
            login_max_failures_per_address: 50,
            login_window_minutes: 15,
            client_address_header: None,
        }
    }
}

/// `[argon2]`: password hashing cost (argon2id).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Password hashes computed at once, each on its own thread that keeps one work area of
    /// `memory_kib` resident: more allows more log-ins per second and costs memory.
    pub threads: usize,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            threads: 1,
        }
    }
}

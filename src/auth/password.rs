//! Password hashing with argon2id (PHC strings), parameters from the configuration.
//!
//! Every hash and verification runs on the password threads (`argon2.threads`, one by
//! default): a burst of log-ins queues there instead of putting one argon2 work area
//! (`argon2.memory_kib`, 19 MiB by default) on every request thread at once. After each
//! check the thread gives the freed work area back to the system (`memory::release_freed`),
//! so a log-in leaves no 19 MiB behind in the server's resident memory.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};

use super::settings::Argon2Config;

/// Hashes and verifies passwords.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Params,
    /// A real hash of a random password, verified against when the user does not exist so
    /// that a failed login takes as long whether or not the username is known. Made on
    /// first use.
    dummy: Arc<OnceLock<String>>,
    /// The password threads.
    threads: Arc<rayon::ThreadPool>,
}

/// Why a password was refused at creation.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {0} characters long")]
    TooShort(usize),
    #[error("the password must be at most 1024 characters long")]
    TooLong,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The length rules of a new password: at least [`MIN_PASSWORD_LEN`] characters, at most
/// 1024.
pub fn check_length(password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort(MIN_PASSWORD_LEN));
    }
    if len > 1024 {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

impl PasswordHasher {
    /// A hasher with the configured cost.
    pub fn new(cfg: &Argon2Config) -> Result<Self, PasswordError> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads.max(1))
            .thread_name(|i| format!("coffer-passwords-{i}"))
            .build()
            .map_err(|e| PasswordError::Hash(format!("cannot start the password threads: {e}")))?;
        Ok(Self {
            params,
            dummy: Arc::new(OnceLock::new()),
            threads: Arc::new(threads),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_unchecked(&self, password: &str) -> Result<String, PasswordError> {
        self.threads.install(|| {
            let hashed = self
                .argon2()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()));
            crate::memory::release_freed();
            hashed
        })
    }

    /// Checks the length rules and hashes.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        self.hash_unchecked(password)
    }

    /// Verifies a password against a stored PHC string (or the dummy when `None`).
    /// A malformed stored hash never verifies.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let (stored, real) = match stored {
            Some(s) => (s, true),
            None => {
                let dummy = self.dummy.get_or_init(|| {
                    self.hash_unchecked(&crate::auth::random_secret())
                        .unwrap_or_default()
                });
                (dummy.as_str(), false)
            }
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        // Hashes carry their own parameters, so older hashes keep verifying after a change.
        let ok = self.threads.install(|| {
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            crate::memory::release_freed();
            ok
        });
        ok && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(&Argon2Config {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            threads: 1,
        })
        .unwrap()
    }

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let h = cheap();
        let stored = h.hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("correct horse", Some(&stored)));
        assert!(!h.verify("wrong horse!", Some(&stored)));
        assert!(!h.verify("correct horse", None));
        assert!(!h.verify("x", Some("not a hash")));
        assert!(matches!(h.hash("short"), Err(PasswordError::TooShort(_))));
    }
}

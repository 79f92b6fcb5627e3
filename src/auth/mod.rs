//! Who is asking: passwords (argon2id), server-side sessions, API tokens and CSRF tokens.

pub mod csrf;
pub mod login;
pub mod password;
pub mod session;
pub mod settings;
pub mod throttle;

pub use password::PasswordHasher;
pub use session::{Credentials, Identity, authenticate};
pub use throttle::{Gate, Throttle};

use sha2::{Digest, Sha256};

/// A fresh random secret: 32 bytes as 64 hex characters.
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The SHA-256 of a secret, as stored in the database (secrets are 256-bit random values,
/// so a fast hash is enough; passwords use argon2id).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Prefix of API tokens, so secret scanners can recognise them.
pub const TOKEN_PREFIX: &str = "coffer_";

/// A new API token secret.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

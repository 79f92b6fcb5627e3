//! Everything a request or a command needs, built once at start and shared.

use std::sync::Arc;

use time::Duration;

use crate::access::AccessControl;
use crate::auth::PasswordHasher;
use crate::config::Settings;
use crate::db::DbPool;
use crate::library::thumbnails::Thumbnailer;
use crate::storage::Storages;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub storages: Arc<Storages>,
    pub access: Arc<AccessControl>,
    pub passwords: Arc<PasswordHasher>,
    /// Makes thumbnails: one at a time per thumbnail, a bounded number at once.
    pub thumbnails: Arc<Thumbnailer>,
}

impl AppState {
    /// Assembles the state from validated settings and an open pool.
    pub fn new(settings: Settings, pool: DbPool, storages: Storages) -> anyhow::Result<Self> {
        let passwords = PasswordHasher::new(&settings.argon2)?;
        let storages = Arc::new(storages);
        let thumbnails = Arc::new(Thumbnailer::new(&settings.thumbnails));
        Ok(Self {
            access: Arc::new(AccessControl::new(settings.enable_permissions)),
            settings: Arc::new(settings),
            pool,
            storages,
            passwords: Arc::new(passwords),
            thumbnails,
        })
    }

    /// The log-in throttling rules.
    pub fn throttle(&self) -> crate::auth::Throttle {
        crate::auth::Throttle::new(&self.settings.session)
    }

    /// How long an idle session lives.
    pub fn session_ttl(&self) -> Duration {
        Duration::hours(i64::try_from(self.settings.session.ttl_hours).unwrap_or(i64::MAX / 3600))
    }
}

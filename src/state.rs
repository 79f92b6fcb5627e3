//! Everything a request or a command needs, built once at start and shared.

use std::sync::Arc;

use time::Duration;

use crate::access::AccessControl;
use crate::auth::PasswordHasher;
use crate::auth::session::{RECENT_IDENTITIES, RecentIdentities};
use crate::config::Settings;
use crate::db::DbPool;
use crate::db::changes::Changes;
use crate::library::{Library, LibrarySettings, Thumbnailer};
use crate::storage::Storages;

/// Shared application state (cheap to clone), assembled bottom-up: each part is built from
/// its own settings, and the library gets only what it works with.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub passwords: Arc<PasswordHasher>,
    /// Storages, permission snapshots, the thumbnailer and the library's rules.
    pub library: Library,
    /// Identities the checked download resolved recently (see `db::changes`).
    pub identities: Arc<RecentIdentities>,
}

impl AppState {
    /// Assembles the state from validated settings and an open pool.
    pub fn new(settings: Settings, pool: DbPool, storages: Storages) -> anyhow::Result<Self> {
        let passwords = PasswordHasher::new(&settings.argon2)?;
        let storages = Arc::new(storages);
        let thumbnails = Thumbnailer::new(
            settings.thumbnails.clone(),
            settings.images,
            pool.clone(),
            Arc::clone(&storages),
        );
        let library = Library {
            pool: pool.clone(),
            storages,
            access: Arc::new(AccessControl::new(settings.enable_permissions)),
            thumbnails,
            settings: Arc::new(LibrarySettings {
                debug: settings.debug,
                is_public_default: settings.is_public_default,
                max_upload_size: settings.max_upload_size,
                path_generator: settings.path_generator,
                max_folder_depth: settings.max_folder_depth,
                trash_retention_days: settings.trash_retention_days,
                audit_retention_days: settings.audit_retention_days,
                versions_keep: settings.versions_keep,
                shares_allowed: settings.shares_allowed,
                zip_limits: settings.zip_limits,
                embed_key: crate::library::embed::EmbedKey::load_or_create(
                    &settings.data_dir,
                    settings.embed_key.as_deref(),
                )?,
            }),
            changes: Arc::new(Changes::watch(&settings.database)),
            recent: Arc::default(),
            links: crate::library::shares::RecentLinks::start(pool.clone()),
            audit: crate::library::audit::AuditLog::start(
                pool.clone(),
                &settings.database,
                settings.audit_enabled,
            ),
        };
        Ok(Self {
            settings: Arc::new(settings),
            pool,
            passwords: Arc::new(passwords),
            library,
            identities: Arc::new(RecentIdentities::new(RECENT_IDENTITIES)),
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

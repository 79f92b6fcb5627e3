//! Configuration: defaults → TOML file (`--config`) → `COFFER_*` environment → CLI flags,
//! validated at start into [`Settings`]. Unknown keys are rejected and every error names
//! the key it is about.

mod file;
mod images;
mod layout;
mod object_store;
mod serving;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use crate::db::Backend;
use crate::storage::{PathGenerator, StorageRole, StoragesSettings};
use images::{images_limits, thumbnail_settings};
use layout::{absolute, check_base_url, check_dir_layout, check_url_layout};
use serving::serve_backend;

pub use file::{
    Argon2Config, ConfigFile, DatabaseConfig, ObjectStoreConfig, ServeBackendConfig, ServersConfig,
    SessionConfig, StorageConfig, StorageKind, StoragesConfig,
};
pub use file::{ImagesConfig, PresetConfig, ThumbnailsConfig};

/// Errors found while loading or validating the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("{0}")]
    Io(String),
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Values given on the command line; they win over the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
}

/// One storage after validation.
pub use crate::storage::StorageSettings;

pub use crate::serve::ServeBackend;

/// Default internal locations of the nginx and Caddy backends.
pub const DEFAULT_INTERNAL_LOCATIONS: [&str; 2] =
    ["/_coffer/private/", "/_coffer/private-thumbnails/"];

pub use crate::images::ThumbnailSettings;

/// The validated configuration the application runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub debug: bool,
    pub enable_permissions: bool,
    pub is_public_default: bool,
    pub max_upload_size: u64,
    pub path_generator: PathGenerator,
    /// Deepest level a folder may be created or moved to (1 = top level).
    pub max_folder_depth: usize,
    /// `trash.retention_days`.
    pub trash_retention_days: u32,
    /// `audit.enabled`.
    pub audit_enabled: bool,
    /// `audit.retention_days`.
    pub audit_retention_days: u32,
    /// `versions.keep`.
    pub versions_keep: usize,
    /// `shares.allowed`.
    pub shares_allowed: crate::library::shares::Allowed,
    /// `[zip]`.
    pub zip_limits: crate::library::archive::Limits,
    /// `embed_key` (secret; see `library::embed`).
    pub embed_key: Option<String>,
    pub database: Backend,
    pub database_pool_size: u32,
    pub public: StorageSettings,
    pub public_thumbnails: StorageSettings,
    pub private: StorageSettings,
    pub private_thumbnails: StorageSettings,
    pub serve_private: ServeBackend,
    pub serve_private_thumbnails: ServeBackend,
    /// `[object_store]` with the credentials from the environment, when a storage is of
    /// kind `"s3"`.
    pub object_store: Option<crate::storage::BucketSettings>,
    /// `server.header_timeout_secs`: time to send a request's headers.
    pub header_timeout: std::time::Duration,
    /// `server.shutdown_timeout_secs`: time the requests in flight get when stopping.
    pub shutdown_timeout: std::time::Duration,
    /// `server.body_idle_timeout_secs`: longest silence inside a request body.
    pub body_idle_timeout: std::time::Duration,
    pub session: SessionConfig,
    pub argon2: Argon2Config,
    pub workers: usize,
    /// Image limits, checked before any decode.
    pub images: crate::images::Limits,
    pub thumbnails: ThumbnailSettings,
    /// The merged configuration as given, for `print-config`.
    pub raw: ConfigFile,
}

/// Maps `COFFER_*` variable names (lower-cased, prefix removed) to configuration keys:
/// `SECTION__KEY` nests with double underscores, and the documented short forms
/// `COFFER_DATABASE_URL`, `COFFER_SESSION_*` and `COFFER_ARGON2_*` map into their sections.
fn env_key(name: &str) -> String {
    if name.contains("__") {
        return name.replace("__", ".");
    }
    for section in ["database", "session", "argon2"] {
        if let Some(rest) = name.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return format!("{section}.{rest}");
        }
    }
    name.to_owned()
}

impl StoragesSettings for Settings {
    fn storage(&self, role: StorageRole) -> &StorageSettings {
        match role {
            StorageRole::Public => &self.public,
            StorageRole::PublicThumbnails => &self.public_thumbnails,
            StorageRole::Private => &self.private,
            StorageRole::PrivateThumbnails => &self.private_thumbnails,
        }
    }

    fn bucket(&self) -> Option<&crate::storage::BucketSettings> {
        self.object_store.as_ref()
    }
}

impl Settings {
    /// Loads and validates a configuration file alone: the defaults and the file, without
    /// the `COFFER_*` variables, which describe the current installation (`coffer storage
    /// migrate --from`). Object store credentials still come from the environment.
    pub fn load_file(path: &Path) -> Result<Settings, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::Io(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        let raw: ConfigFile = Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::file_exact(path))
            .extract()
            .map_err(Box::new)?;
        Settings::from_file(raw)
    }

    /// Loads and validates the configuration from the usual layers.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(ConfigFile::default()));
        if let Some(path) = &overrides.config_file {
            if !path.is_file() {
                return Err(ConfigError::Io(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("COFFER_")
                .filter(|k| {
                    let k = k.as_str().to_ascii_lowercase();
                    // The object store's credentials are read by `bucket_settings`, never
                    // merged into the configuration (so never printed).
                    !matches!(
                        k.as_str(),
                        "config" | "log" | "s3_access_key_id" | "s3_secret_access_key"
                    )
                })
                .map(|k| env_key(&k.as_str().to_ascii_lowercase()).into()),
        );
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(("data_dir", dir));
        }
        if let Some(bind) = &overrides.bind {
            figment = figment.merge(("bind", bind));
        }
        let raw: ConfigFile = figment.extract().map_err(Box::new)?;
        Settings::from_file(raw)
    }

    /// Validates an already merged configuration (tests build one in code); an object
    /// store's credentials come from the process's environment.
    pub fn from_file(raw: ConfigFile) -> Result<Settings, ConfigError> {
        Self::from_file_with_env(raw, |name| std::env::var(name).ok())
    }

    /// [`from_file`](Self::from_file) with the credentials looked up in `env`.
    pub(crate) fn from_file_with_env(
        raw: ConfigFile,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let data_dir = absolute(&raw.data_dir, "data_dir")?;
        let bind: SocketAddr = raw
            .bind
            .parse()
            .map_err(|e| invalid("bind", format!("{:?} is not ADDR:PORT ({e})", raw.bind)))?;
        let database_url =
            raw.database.url.clone().unwrap_or_else(|| {
                format!("sqlite://{}", data_dir.join("coffer.sqlite3").display())
            });
        let database = Backend::from_url(&database_url).map_err(|m| invalid("database.url", m))?;
        if raw.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        let storage =
            |cfg: &StorageConfig, name: &str, default_dir: &str, may_be_absolute_url: bool| {
                let key = format!("storage.{name}");
                // An object storage's directory is where its uploads are staged.
                let dir = match (&cfg.dir, cfg.kind) {
                    (Some(d), _) => absolute(d, &format!("{key}.dir"))?,
                    (None, StorageKind::Local) => data_dir.join(default_dir),
                    (None, StorageKind::S3) => data_dir.join("staging").join(default_dir),
                };
                let base_url = check_base_url(&cfg.base_url, may_be_absolute_url)
                    .map_err(|m| invalid(&format!("{key}.base_url"), m))?;
                let prefix = match cfg.kind {
                    StorageKind::Local => {
                        if cfg.prefix.is_some() {
                            return Err(invalid(
                                &format!("{key}.prefix"),
                                "only a storage of kind \"s3\" has a prefix",
                            ));
                        }
                        None
                    }
                    StorageKind::S3 => {
                        if raw.object_store.is_none() {
                            return Err(invalid(
                                &format!("{key}.kind"),
                                "kind \"s3\" needs an [object_store] section",
                            ));
                        }
                        let prefix = cfg.prefix.as_deref().ok_or_else(|| {
                            invalid(
                                &format!("{key}.prefix"),
                                "a storage of kind \"s3\" needs one",
                            )
                        })?;
                        Some(
                            object_store::check_prefix(prefix)
                                .map_err(|m| invalid(&format!("{key}.prefix"), m))?,
                        )
                    }
                };
                Ok::<_, ConfigError>(StorageSettings {
                    dir,
                    base_url,
                    prefix,
                })
            };
        let public = storage(&raw.storage.public, "public", "public", true)?;
        let public_thumbnails = storage(
            &raw.storage.public_thumbnails,
            "public_thumbnails",
            "public-thumbnails",
            true,
        )?;
        let private = storage(&raw.storage.private, "private", "private", false)?;
        let private_thumbnails = storage(
            &raw.storage.private_thumbnails,
            "private_thumbnails",
            "private-thumbnails",
            false,
        )?;
        object_store::check_prefix_layout(&[
            ("storage.public.prefix", &public.prefix, false),
            (
                "storage.public_thumbnails.prefix",
                &public_thumbnails.prefix,
                false,
            ),
            ("storage.private.prefix", &private.prefix, true),
            (
                "storage.private_thumbnails.prefix",
                &private_thumbnails.prefix,
                true,
            ),
        ])?;
        let serve_private = serve_backend(
            &raw.server.private,
            "server.private",
            DEFAULT_INTERNAL_LOCATIONS[0],
            &private,
        )?;
        let serve_private_thumbnails = serve_backend(
            &raw.server.private_thumbnails,
            "server.private_thumbnails",
            DEFAULT_INTERNAL_LOCATIONS[1],
            &private_thumbnails,
        )?;
        let public_endpoint = object_store::public_endpoint(&raw.server)?;
        let object_store = match &raw.object_store {
            Some(cfg)
                if [&public, &public_thumbnails, &private, &private_thumbnails]
                    .iter()
                    .any(|s| s.prefix.is_some()) =>
            {
                Some(object_store::bucket_settings(cfg, public_endpoint, env)?)
            }
            _ => None,
        };
        let mut urls = vec![
            ("storage.public.base_url", &public.base_url),
            (
                "storage.public_thumbnails.base_url",
                &public_thumbnails.base_url,
            ),
            ("storage.private.base_url", &private.base_url),
            (
                "storage.private_thumbnails.base_url",
                &private_thumbnails.base_url,
            ),
        ];
        let locations = [
            ("server.private.location", &serve_private),
            (
                "server.private_thumbnails.location",
                &serve_private_thumbnails,
            ),
        ]
        .map(|(key, backend)| (key, backend.internal_location().map(str::to_owned)));
        for (key, location) in &locations {
            if let Some(location) = location {
                urls.push((*key, location));
            }
        }
        check_url_layout(&urls)?;
        check_dir_layout(&[
            ("storage.public.dir", &public.dir, false),
            (
                "storage.public_thumbnails.dir",
                &public_thumbnails.dir,
                false,
            ),
            ("storage.private.dir", &private.dir, true),
            (
                "storage.private_thumbnails.dir",
                &private_thumbnails.dir,
                true,
            ),
        ])?;
        if raw.max_upload_size.as_u64() == 0 {
            return Err(invalid("max_upload_size", "must be more than 0 bytes"));
        }
        if raw.max_folder_depth == 0 {
            return Err(invalid("max_folder_depth", "must be at least 1"));
        }
        if let Some(h) = &raw.session.client_address_header
            && !is_header_name(h)
        {
            return Err(invalid(
                "session.client_address_header",
                "must be an HTTP header name",
            ));
        }
        if raw.session.ttl_hours == 0 {
            return Err(invalid("session.ttl_hours", "must be at least 1"));
        }
        if raw.session.cookie_name.is_empty()
            || !raw
                .session
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(invalid(
                "session.cookie_name",
                "use letters, digits, '_' and '-' only",
            ));
        }
        let a = &raw.argon2;
        argon2::Params::new(a.memory_kib, a.iterations, a.parallelism, None)
            .map_err(|e| invalid("argon2", e.to_string()))?;
        if !(1..=64).contains(&a.threads) {
            return Err(invalid("argon2.threads", "must be between 1 and 64"));
        }
        for (key, secs) in [
            ("server.header_timeout_secs", raw.server.header_timeout_secs),
            (
                "server.shutdown_timeout_secs",
                raw.server.shutdown_timeout_secs,
            ),
            (
                "server.body_idle_timeout_secs",
                raw.server.body_idle_timeout_secs,
            ),
        ] {
            if !(1..=3600).contains(&secs) {
                return Err(invalid(key, "must be between 1 and 3600 seconds"));
            }
        }
        if !(1..=36_500).contains(&raw.trash.retention_days) {
            return Err(invalid(
                "trash.retention_days",
                "must be between 1 and 36500 days",
            ));
        }
        if !(1..=36_500).contains(&raw.audit.retention_days) {
            return Err(invalid(
                "audit.retention_days",
                "must be between 1 and 36500 days",
            ));
        }
        if raw.versions.keep > 1_000 {
            return Err(invalid("versions.keep", "must be at most 1000"));
        }
        let images = images_limits(&raw.images)?;
        let thumbnails = thumbnail_settings(&raw.thumbnails)?;
        Ok(Settings {
            bind,
            debug: raw.debug,
            enable_permissions: raw.enable_permissions,
            is_public_default: raw.is_public_default,
            max_upload_size: raw.max_upload_size.as_u64(),
            path_generator: raw.path_generator,
            max_folder_depth: raw.max_folder_depth,
            trash_retention_days: raw.trash.retention_days,
            audit_enabled: raw.audit.enabled,
            audit_retention_days: raw.audit.retention_days,
            versions_keep: raw.versions.keep,
            shares_allowed: raw.shares.allowed,
            embed_key: raw.embed_key.clone(),
            zip_limits: crate::library::archive::Limits {
                max_files: raw.zip.max_files,
                max_bytes: raw.zip.max_bytes.as_u64(),
            },
            database,
            database_pool_size: raw.database.pool_size,
            public,
            public_thumbnails,
            private,
            private_thumbnails,
            serve_private,
            serve_private_thumbnails,
            object_store,
            header_timeout: std::time::Duration::from_secs(raw.server.header_timeout_secs),
            shutdown_timeout: std::time::Duration::from_secs(raw.server.shutdown_timeout_secs),
            body_idle_timeout: std::time::Duration::from_secs(raw.server.body_idle_timeout_secs),
            session: raw.session.clone(),
            argon2: raw.argon2.clone(),
            workers: raw
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            images,
            thumbnails,
            data_dir,
            raw,
        })
    }

    /// Creates the data directory and the four storage roots, then re-checks their layout
    /// with symlinks resolved (a private root reached through a link into a public one is
    /// refused too).
    pub fn prepare_directories(&self) -> Result<(), ConfigError> {
        let dirs = [
            ("storage.public.dir", &self.public.dir, false),
            (
                "storage.public_thumbnails.dir",
                &self.public_thumbnails.dir,
                false,
            ),
            ("storage.private.dir", &self.private.dir, true),
            (
                "storage.private_thumbnails.dir",
                &self.private_thumbnails.dir,
                true,
            ),
        ];
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            ConfigError::Io(format!("cannot create {}: {e}", self.data_dir.display()))
        })?;
        let mut resolved = Vec::new();
        for (key, dir, private) in dirs {
            std::fs::create_dir_all(dir)
                .map_err(|e| invalid(key, format!("cannot create {}: {e}", dir.display())))?;
            let real = dir
                .canonicalize()
                .map_err(|e| invalid(key, format!("cannot resolve {}: {e}", dir.display())))?;
            resolved.push((key, real, private));
        }
        let refs: Vec<_> = resolved.iter().map(|(k, d, p)| (*k, d, *p)).collect();
        check_dir_layout(&refs)
    }

    /// The configuration as TOML with secrets hidden.
    pub fn redacted_toml(&self) -> String {
        let mut raw = self.raw.clone();
        raw.data_dir = self.data_dir.clone();
        raw.bind = self.bind.to_string();
        let url = match &self.database {
            Backend::Sqlite(p) => format!("sqlite://{p}"),
            Backend::Postgres(u) => crate::db::redact_url(u),
        };
        raw.database.url = Some(url);
        raw.storage.public.dir = Some(self.public.dir.clone());
        raw.storage.public_thumbnails.dir = Some(self.public_thumbnails.dir.clone());
        raw.storage.private.dir = Some(self.private.dir.clone());
        raw.storage.private_thumbnails.dir = Some(self.private_thumbnails.dir.clone());
        raw.workers = Some(self.workers);
        toml::to_string_pretty(&raw).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// A header name as the `http` crate takes it: an RFC 9110 `token` (letters, digits and
/// ``!#$%&'*+-.^_`|~``) in which it also allows `"`, at most 65,535 bytes.
fn is_header_name(s: &str) -> bool {
    (1..=0xFFFF).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!\"#$%&'*+-.^_`|~".contains(&b))
}

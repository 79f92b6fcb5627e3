//! Configuration: defaults → TOML file (`--config`) → `COFFER_*` environment → CLI flags,
//! validated at start into [`Settings`]. Unknown keys are rejected and every error names
//! the key it is about.

mod file;
mod object_store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use crate::db::Backend;
use crate::storage::{PathGenerator, StorageRole, StoragesSettings};

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

/// Validates one `[server.*]` table. `dir` is the storage the backend serves from: the
/// X-Sendfile backends put its absolute path in a header, so it must be representable there.
fn serve_backend(
    cfg: &ServeBackendConfig,
    key: &str,
    default_location: &str,
    storage: &StorageSettings,
) -> Result<ServeBackend, ConfigError> {
    let dir = &storage.dir;
    let backend = serve_backend_of(cfg, key, default_location, dir)?;
    let object = storage.prefix.is_some();
    if object && !backend.serves_object_stores() {
        return Err(invalid(
            &format!("{key}.backend"),
            format!(
                "{:?} sends files from a directory; a storage of kind \"s3\" takes \"default\", \"s3-redirect\" or \"nginx-s3\"",
                backend.name()
            ),
        ));
    }
    if !object && !backend.serves_local_storages() {
        return Err(invalid(
            &format!("{key}.backend"),
            format!("{:?} needs a storage of kind \"s3\"", backend.name()),
        ));
    }
    Ok(backend)
}

fn serve_backend_of(
    cfg: &ServeBackendConfig,
    key: &str,
    default_location: &str,
    dir: &Path,
) -> Result<ServeBackend, ConfigError> {
    let location = |given: &Option<String>| {
        let location = given.as_deref().unwrap_or(default_location);
        check_base_url(location, false).map_err(|m| invalid(&format!("{key}.location"), m))
    };
    let header_safe = || {
        use std::os::unix::ffi::OsStrExt;
        if dir
            .as_os_str()
            .as_bytes()
            .iter()
            .any(|b| b.is_ascii_control())
        {
            return Err(invalid(
                key,
                format!(
                    "{} contains control characters, which cannot travel in an X-Sendfile header",
                    dir.display()
                ),
            ));
        }
        Ok(())
    };
    Ok(match cfg {
        ServeBackendConfig::Default {} => ServeBackend::Default,
        ServeBackendConfig::Nginx { location: l } => ServeBackend::Nginx {
            location: location(l)?,
        },
        ServeBackendConfig::Caddy { location: l } => ServeBackend::Caddy {
            location: location(l)?,
        },
        ServeBackendConfig::Apache { unescape } => {
            header_safe()?;
            ServeBackend::Apache {
                unescape: *unescape,
            }
        }
        ServeBackendConfig::Lighttpd {} => {
            header_safe()?;
            ServeBackend::Lighttpd
        }
        ServeBackendConfig::NginxS3 {
            location: l,
            expires_secs,
        } => ServeBackend::NginxS3 {
            location: location(l)?,
            expires: object_store::presigned_lifetime(key, *expires_secs)?,
        },
        ServeBackendConfig::S3Redirect { expires_secs, .. } => ServeBackend::S3Redirect {
            expires: object_store::presigned_lifetime(key, *expires_secs)?,
        },
    })
}

fn images_limits(cfg: &ImagesConfig) -> Result<crate::images::Limits, ConfigError> {
    if cfg.max_width == 0 {
        return Err(invalid("images.max_width", "must be at least 1"));
    }
    if cfg.max_height == 0 {
        return Err(invalid("images.max_height", "must be at least 1"));
    }
    if cfg.max_pixels == 0 {
        return Err(invalid("images.max_pixels", "must be at least 1"));
    }
    if cfg.max_decode_memory.as_u64() < 1024 * 1024 {
        return Err(invalid(
            "images.max_decode_memory",
            "must be at least 1 MiB",
        ));
    }
    Ok(crate::images::Limits {
        max_width: cfg.max_width,
        max_height: cfg.max_height,
        max_pixels: cfg.max_pixels,
        max_memory: cfg.max_decode_memory.as_u64(),
    })
}

fn thumbnail_settings(cfg: &ThumbnailsConfig) -> Result<ThumbnailSettings, ConfigError> {
    use crate::images::Preset;
    let mut presets = Preset::admin();
    for (name, p) in &cfg.presets {
        let key = format!("thumbnails.presets.{name}");
        if !Preset::valid_name(name) {
            return Err(invalid(
                &key,
                "preset names use lower-case letters, digits and '-', and start with a letter",
            ));
        }
        if presets.iter().any(|a| &a.name == name) {
            return Err(invalid(&key, "this name belongs to a built-in preset"));
        }
        let preset = Preset {
            name: name.clone(),
            width: p.width,
            height: p.height,
            crop: p.crop,
            upscale: p.upscale,
            quality: p.quality,
            format: p.format,
            eager: p.eager,
        };
        preset.spec(None).validate().map_err(|m| invalid(&key, m))?;
        presets.push(preset);
    }
    let concurrency = match cfg.concurrency {
        Some(0) => return Err(invalid("thumbnails.concurrency", "must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let secs = cfg.time_limit_secs.unwrap_or(30.0);
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(invalid(
            "thumbnails.time_limit_secs",
            "must be more than 0 and at most 3600",
        ));
    }
    Ok(ThumbnailSettings {
        presets,
        concurrency,
        time_limit: std::time::Duration::from_secs_f64(secs),
    })
}

fn absolute(path: &Path, key: &str) -> Result<PathBuf, ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    std::path::absolute(path).map_err(|e| invalid(key, e.to_string()))
}

/// A base URL is a path (`/media/`) or, for public storages only, an absolute http(s) URL.
/// It gains a trailing slash when missing.
fn check_base_url(url: &str, may_be_absolute_url: bool) -> Result<String, String> {
    let is_absolute_url = url.starts_with("http://") || url.starts_with("https://");
    if is_absolute_url && !may_be_absolute_url {
        return Err("must be a path on this site (the checked view is served by Coffer)".into());
    }
    if !is_absolute_url && !url.starts_with('/') {
        return Err(format!("{url:?} must start with '/'"));
    }
    if url.contains(['?', '#', '\\', ' ']) || url.contains("/../") || url.contains("/./") {
        return Err(format!("{url:?} must be a plain path"));
    }
    if !is_absolute_url && url == "/" {
        return Err("must not be the site root".into());
    }
    let mut url = url.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// Paths Coffer itself routes; storage base URLs must not shadow them.
const RESERVED_PREFIXES: &[&str] = &[
    "/api/", "/files/", "/login", "/logout", "/static/", "/admin/",
];

fn check_url_layout(urls: &[(&str, &String)]) -> Result<(), ConfigError> {
    for (i, (key, url)) in urls.iter().enumerate() {
        if url.starts_with('/') {
            for reserved in RESERVED_PREFIXES {
                if url.starts_with(reserved) || reserved.starts_with(url.as_str()) {
                    return Err(invalid(
                        key,
                        format!("{url} collides with Coffer's own {reserved}"),
                    ));
                }
            }
        }
        for (other_key, other) in &urls[i + 1..] {
            if url.starts_with(other.as_str()) || other.starts_with(url.as_str()) {
                return Err(invalid(
                    key,
                    format!("{url} overlaps {other_key} ({other})"),
                ));
            }
        }
    }
    Ok(())
}

/// Private storage must never lie inside (or be) a public storage, and the reverse; no two
/// storages may share or nest directories at all.
fn check_dir_layout(dirs: &[(&str, &PathBuf, bool)]) -> Result<(), ConfigError> {
    for (i, (key, dir, private)) in dirs.iter().enumerate() {
        for (other_key, other, other_private) in &dirs[i + 1..] {
            if dir.starts_with(other) || other.starts_with(dir) {
                let what = if private != other_private {
                    "a private storage must not be inside, contain or equal a public one"
                } else {
                    "storages must not be inside, contain or equal one another"
                };
                return Err(invalid(
                    key,
                    format!(
                        "{} and {other_key} ({}): {what}",
                        dir.display(),
                        other.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A header name as the `http` crate takes it: an RFC 9110 `token` (letters, digits and
/// ``!#$%&'*+-.^_`|~``) in which it also allows `"`, at most 65,535 bytes.
fn is_header_name(s: &str) -> bool {
    (1..=0xFFFF).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!\"#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_what_http_takes() {
        let mut names: Vec<String> = (0u8..=255).map(|b| format!("X-{}", b as char)).collect();
        names.extend(["", "X-Forwarded-For", "x real ip", "Ünïcode"].map(String::from));
        names.push("a".repeat(0xFFFF));
        names.push("a".repeat(0x10000));
        for name in names {
            assert_eq!(
                is_header_name(&name),
                actix_web::http::header::HeaderName::try_from(name.as_str()).is_ok(),
                "{name:?}"
            );
        }
    }

    fn base() -> ConfigFile {
        ConfigFile {
            data_dir: PathBuf::from("/tmp/coffer-config-test"),
            ..ConfigFile::default()
        }
    }

    #[test]
    fn defaults_validate() {
        let s = Settings::from_file(base()).unwrap();
        assert!(s.enable_permissions);
        assert!(!s.is_public_default);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(
            s.private.dir,
            PathBuf::from("/tmp/coffer-config-test/private")
        );
        assert!(matches!(s.database, Backend::Sqlite(ref p) if p.ends_with("coffer.sqlite3")));
    }

    #[test]
    fn private_inside_public_is_refused() {
        let mut raw = base();
        raw.storage.public.dir = Some("/srv/media".into());
        raw.storage.private.dir = Some("/srv/media/private".into());
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("storage.public.dir"), "{err}");
        assert!(err.contains("private storage must not be inside"), "{err}");
    }

    #[test]
    fn equal_storages_are_refused() {
        let mut raw = base();
        raw.storage.public_thumbnails.dir = Some("/srv/x".into());
        raw.storage.private_thumbnails.dir = Some("/srv/x".into());
        assert!(Settings::from_file(raw).is_err());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::string("[database]\nurll = \"x\"\n"))
            .extract::<ConfigFile>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("urll"), "{err}");
    }

    #[test]
    fn server_backends_parse_and_refuse_stray_keys() {
        let parse = |toml: &str| {
            Figment::from(Serialized::defaults(ConfigFile::default()))
                .merge(Toml::string(toml))
                .extract::<ConfigFile>()
                .map_err(|e| e.to_string())
                .and_then(|mut raw| {
                    raw.data_dir = PathBuf::from("/tmp/coffer-config-test");
                    Settings::from_file(raw).map_err(|e| e.to_string())
                })
        };
        let s = parse("[server.private]\nbackend = \"nginx\"\n[server.private_thumbnails]\nbackend = \"apache\"\nunescape = true\n").unwrap();
        assert_eq!(
            s.serve_private,
            ServeBackend::Nginx {
                location: "/_coffer/private/".into()
            }
        );
        assert_eq!(
            s.serve_private_thumbnails,
            ServeBackend::Apache { unescape: true }
        );
        let s = parse("[server.private]\nbackend = \"caddy\"\nlocation = \"/_int\"\n").unwrap();
        assert_eq!(s.serve_private.internal_location(), Some("/_int/"));
        for (toml, needle) in [
            (
                "[server.private]\nbackend = \"lighttpd\"\nunescape = true\n",
                "unescape",
            ),
            (
                "[server.private]\nbackend = \"default\"\nlocation = \"/x/\"\n",
                "location",
            ),
            ("[server.private]\nbackend = \"apache\"\n", "unescape"),
            ("[server.private]\nbackend = \"iis\"\n", "iis"),
            (
                "[server.private]\nbackend = \"nginx\"\nlocation = \"/private/files/x/\"\n",
                "server.private.location",
            ),
            (
                "[server.private]\nbackend = \"nginx\"\nlocation = \"/media/\"\n",
                "server.private.location",
            ),
            (
                "[server.private]\nbackend = \"nginx\"\nlocation = \"/i/\"\n[server.private_thumbnails]\nbackend = \"nginx\"\nlocation = \"/i/t/\"\n",
                "server.private",
            ),
        ] {
            let err = parse(toml).unwrap_err();
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }

    #[test]
    fn request_timeouts_default_parse_and_refuse_zero() {
        let parse = |toml: &str| {
            Figment::from(Serialized::defaults(ConfigFile::default()))
                .merge(Toml::string(toml))
                .extract::<ConfigFile>()
                .map_err(|e| e.to_string())
                .and_then(|mut raw| {
                    raw.data_dir = PathBuf::from("/tmp/coffer-config-test");
                    Settings::from_file(raw).map_err(|e| e.to_string())
                })
        };
        let s = parse("").unwrap();
        assert_eq!(s.header_timeout, std::time::Duration::from_secs(10));
        assert_eq!(s.body_idle_timeout, std::time::Duration::from_secs(60));
        let s = parse("[server]\nheader_timeout_secs = 3\nbody_idle_timeout_secs = 7\n").unwrap();
        assert_eq!(s.header_timeout, std::time::Duration::from_secs(3));
        assert_eq!(s.body_idle_timeout, std::time::Duration::from_secs(7));
        for key in ["header_timeout_secs", "body_idle_timeout_secs"] {
            for value in ["0", "3601"] {
                let err = parse(&format!("[server]\n{key} = {value}\n")).unwrap_err();
                assert!(err.contains(&format!("server.{key}")), "{err}");
            }
        }
    }

    #[test]
    fn env_names_map_to_keys() {
        assert_eq!(env_key("database_url"), "database.url");
        assert_eq!(env_key("storage__private__dir"), "storage.private.dir");
        assert_eq!(env_key("session_cookie_secure"), "session.cookie_secure");
        assert_eq!(env_key("enable_permissions"), "enable_permissions");
    }

    #[test]
    fn thumbnail_presets_and_image_limits_are_validated() {
        let preset = |width, height, crop| PresetConfig {
            width,
            height,
            crop,
            upscale: false,
            quality: 85,
            format: crate::images::OutputFormat::Auto,
            eager: false,
        };
        let mut raw = base();
        raw.thumbnails
            .presets
            .insert("banner".into(), preset(1200, 400, true));
        let s = Settings::from_file(raw).unwrap();
        assert_eq!(s.thumbnails.presets.len(), 7);
        assert_eq!(s.thumbnails.preset("banner").map(|p| p.width), Some(1200));
        assert_eq!(s.images.max_pixels, 100_000_000);
        for (name, p, needle) in [
            ("icon-40", preset(10, 10, false), "built-in"),
            ("Big", preset(10, 10, false), "lower-case"),
            ("zero", preset(0, 0, false), "both be 0"),
            ("half", preset(100, 0, true), "crop needs both"),
        ] {
            let mut raw = base();
            raw.thumbnails.presets.insert(name.into(), p);
            let err = Settings::from_file(raw).unwrap_err().to_string();
            assert!(err.contains(&format!("thumbnails.presets.{name}")), "{err}");
            assert!(err.contains(needle), "{err}");
        }
        let mut raw = base();
        raw.thumbnails.time_limit_secs = Some(0.0);
        assert!(
            Settings::from_file(raw)
                .unwrap_err()
                .to_string()
                .contains("time_limit_secs")
        );
        let mut raw = base();
        raw.images.max_pixels = 0;
        assert!(
            Settings::from_file(raw)
                .unwrap_err()
                .to_string()
                .contains("images.max_pixels")
        );
        let from_toml: ConfigFile = Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::string(
                "[images]\nmax_decode_memory = \"64 MiB\"\n[thumbnails.presets.wide]\nwidth = 800\nformat = \"webp\"\n",
            ))
            .extract()
            .unwrap();
        assert_eq!(
            from_toml.images.max_decode_memory.as_u64(),
            64 * 1024 * 1024
        );
        assert_eq!(from_toml.thumbnails.presets["wide"].quality, 85);
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(check_base_url("/media", true).unwrap(), "/media/");
        assert!(check_base_url("https://cdn.example/m/", true).is_ok());
        assert!(check_base_url("https://cdn.example/m/", false).is_err());
        assert!(check_base_url("media/", true).is_err());
        assert!(check_base_url("/", false).is_err());
        let mut raw = base();
        raw.storage.private.base_url = "/files/".into();
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("storage.private.base_url"), "{err}");
    }

    #[test]
    fn max_folder_depth_defaults_to_64_and_must_be_positive() {
        let s = Settings::from_file(base()).unwrap();
        assert_eq!(s.max_folder_depth, 64);
        assert!(s.redacted_toml().contains("max_folder_depth = 64"));
        let mut raw = base();
        raw.max_folder_depth = 0;
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("max_folder_depth"), "{err}");
        let from_toml: ConfigFile = Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::string("max_folder_depth = 200\n"))
            .extract()
            .unwrap();
        assert_eq!(from_toml.max_folder_depth, 200);
    }
}

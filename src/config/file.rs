//! The configuration file's shape (TOML), with the defaults documented in the README.

use std::path::PathBuf;

use bytesize::ByteSize;
use serde::{Deserialize, Serialize};

use crate::storage::PathGenerator;

/// Everything that can be set in the TOML file or through `COFFER_*` variables.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    pub data_dir: PathBuf,
    pub bind: String,
    pub debug: bool,
    pub enable_permissions: bool,
    pub is_public_default: bool,
    pub max_upload_size: ByteSize,
    pub path_generator: PathGenerator,
    /// Deepest folder level a new or moved folder may reach (1 = top level).
    pub max_folder_depth: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    pub database: DatabaseConfig,
    pub storage: StoragesConfig,
    pub server: ServersConfig,
    pub session: SessionConfig,
    pub argon2: Argon2Config,
    pub images: ImagesConfig,
    pub thumbnails: ThumbnailsConfig,
    pub trash: TrashConfig,
    pub versions: VersionsConfig,
    pub shares: SharesConfig,
    pub zip: ZipConfig,
    pub audit: AuditConfig,
    /// `[object_store]`: the S3-compatible bucket of the storages of kind `"s3"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectStoreConfig>,
    /// The key that signs embed URLs (at least 32 characters; best from the environment,
    /// `COFFER_EMBED_KEY`); absent: `<data_dir>/embed.key`, made on first start. Never
    /// printed.
    #[serde(skip_serializing)]
    pub embed_key: Option<String>,
}

/// `[zip]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZipConfig {
    /// Most files in one ZIP download.
    pub max_files: usize,
    /// Most bytes (before compression) in one ZIP download.
    pub max_bytes: ByteSize,
}

impl Default for ZipConfig {
    fn default() -> Self {
        Self {
            max_files: 10_000,
            max_bytes: ByteSize::gib(10),
        }
    }
}

/// `[audit]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Record every delivery of a private file's bytes and every refusal.
    pub enabled: bool,
    /// Days an entry is kept (at least 1).
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            retention_days: 365,
        }
    }
}

/// `[shares]`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharesConfig {
    /// Who may make share links: "off", "staff", "editors" (edit on the item; the default)
    /// or "readers".
    pub allowed: crate::library::shares::Allowed,
}

/// `[trash]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrashConfig {
    /// Days a deleted item stays in the trash before it is purged (at least 1).
    pub retention_days: u32,
}

impl Default for TrashConfig {
    fn default() -> Self {
        Self { retention_days: 30 }
    }
}

/// `[versions]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VersionsConfig {
    /// Earlier contents kept per file when it is replaced (0 keeps none).
    pub keep: usize,
}

impl Default for VersionsConfig {
    fn default() -> Self {
        Self { keep: 10 }
    }
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("coffer-data"),
            bind: "127.0.0.1:8000".into(),
            debug: false,
            enable_permissions: true,
            is_public_default: false,
            max_upload_size: ByteSize::gib(1),
            path_generator: PathGenerator::Randomized,
            max_folder_depth: 64,
            workers: None,
            database: DatabaseConfig::default(),
            storage: StoragesConfig::default(),
            server: ServersConfig::default(),
            session: SessionConfig::default(),
            argon2: Argon2Config::default(),
            images: ImagesConfig::default(),
            thumbnails: ThumbnailsConfig::default(),
            trash: TrashConfig::default(),
            versions: VersionsConfig::default(),
            shares: SharesConfig::default(),
            zip: ZipConfig::default(),
            audit: AuditConfig::default(),
            object_store: None,
            embed_key: None,
        }
    }
}

/// `[database]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH`, a bare path, or `postgres://…`; default `<data_dir>/coffer.sqlite3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub pool_size: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 8,
        }
    }
}

/// `[object_store]`: one S3-compatible endpoint for the storages that use it. The
/// credentials come only from the environment (`COFFER_S3_ACCESS_KEY_ID`,
/// `COFFER_S3_SECRET_ACCESS_KEY`, else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// e.g. `https://s3.internal:9000`.
    pub endpoint: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub bucket: String,
    /// Path-style addressing (most self-hosted engines).
    #[serde(default = "yes")]
    pub path_style: bool,
    /// `true` only for loopback and tests.
    #[serde(default)]
    pub allow_http: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn yes() -> bool {
    true
}

/// Where a storage keeps its objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// A directory (`dir`).
    #[default]
    Local,
    /// The objects under `prefix` in `[object_store]`'s bucket.
    S3,
}

/// One storage: a directory or a bucket prefix, and the URL its objects are reached at.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default)]
    pub kind: StorageKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dir: Option<PathBuf>,
    /// For `kind = "s3"`: the key prefix in the bucket (ending in `/`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prefix: Option<String>,
    pub base_url: String,
}

impl StorageConfig {
    fn at(base_url: &str) -> Self {
        Self {
            kind: StorageKind::Local,
            dir: None,
            prefix: None,
            base_url: base_url.into(),
        }
    }
}

/// `[storage.*]`: the four storages.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoragesConfig {
    pub public: StorageConfig,
    pub public_thumbnails: StorageConfig,
    pub private: StorageConfig,
    pub private_thumbnails: StorageConfig,
}

impl Default for StoragesConfig {
    fn default() -> Self {
        Self {
            public: StorageConfig::at("/media/public/"),
            public_thumbnails: StorageConfig::at("/media/thumbnails/"),
            private: StorageConfig::at("/private/files/"),
            private_thumbnails: StorageConfig::at("/private/thumbnails/"),
        }
    }
}

/// A server backend for private bytes. (Variants without settings are empty structs, not
/// units: serde rejects unknown keys only in structs, so `backend = "lighttpd"` with a
/// stray `unescape` is an error rather than silently ignored.)
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum ServeBackendConfig {
    /// Coffer streams the bytes itself.
    Default {},
    /// nginx sends the bytes: `X-Accel-Redirect: <location><key>`, answered by an
    /// `internal` location aliased to the storage directory.
    Nginx {
        /// The internal location (default `/_coffer/private/` for files and
        /// `/_coffer/private-thumbnails/` for thumbnails).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
    /// Apache mod_xsendfile sends the bytes: `X-Sendfile: <absolute path>`.
    Apache {
        /// `true`: the path is percent-encoded (mod_xsendfile 1.0 code with
        /// `XSendFileUnescape On`); `false`: raw bytes (0.12, or `XSendFileUnescape Off`).
        unescape: bool,
    },
    /// lighttpd sends the bytes: `X-Sendfile: <percent-encoded absolute path>`.
    Lighttpd {},
    /// Caddy sends the bytes, following the X-Accel-Redirect contract through the
    /// `handle_response` block that `coffer caddy-config` prints.
    Caddy {
        /// The internal path prefix (same defaults as nginx).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
    /// For a storage of kind `"s3"`: after the check, a 302 to a presigned GET of the
    /// object, valid `expires_secs` (at most 300).
    /// For a storage of kind `"s3"` behind nginx: `X-Accel-Redirect` into an internal
    /// location (`coffer nginx-config` prints it) that proxies a presigned GET of the
    /// object, valid `expires_secs`, to the engine.
    #[serde(rename = "nginx-s3")]
    NginxS3 {
        /// The internal location (same defaults as nginx).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        #[serde(default = "default_expires_secs")]
        expires_secs: u64,
    },
    #[serde(rename = "s3-redirect")]
    S3Redirect {
        #[serde(default = "default_expires_secs")]
        expires_secs: u64,
        /// The engine's host as the clients reach it, when not `[object_store].endpoint`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_endpoint: Option<String>,
    },
}

fn default_expires_secs() -> u64 {
    30
}

impl Default for ServeBackendConfig {
    fn default() -> Self {
        ServeBackendConfig::Default {}
    }
}

/// `[server.*]`: which backend delivers private main files and private thumbnails, and
/// how long a client may take to send a request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServersConfig {
    pub private: ServeBackendConfig,
    pub private_thumbnails: ServeBackendConfig,
    /// Seconds a client has to send a request's headers (the first request on a
    /// connection, and each next one on a kept-alive connection) before it is answered 408
    /// and closed.
    pub header_timeout_secs: u64,
    /// Seconds a request body may go without a single byte before the request is answered
    /// 408 and everything it stored so far is dropped (uploads, forms, JSON).
    pub body_idle_timeout_secs: u64,
    /// Seconds a stopping instance (SIGTERM, SIGINT) gives the requests and uploads in
    /// flight to finish after it stopped accepting connections.
    pub shutdown_timeout_secs: u64,
}

impl Default for ServersConfig {
    fn default() -> Self {
        Self {
            private: ServeBackendConfig::default(),
            private_thumbnails: ServeBackendConfig::default(),
            header_timeout_secs: 10,
            body_idle_timeout_secs: 60,
            shutdown_timeout_secs: 30,
        }
    }
}

pub use crate::auth::settings::{Argon2Config, SessionConfig};

/// `[images]`: what an image may be before Coffer refuses to decode it. The dimensions are
/// checked from the header, before any decoding.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    pub max_width: u32,
    pub max_height: u32,
    /// Width × height (default 100 megapixels).
    pub max_pixels: u64,
    /// Memory one decode may allocate.
    pub max_decode_memory: ByteSize,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        Self {
            max_width: 65_535,
            max_height: 65_535,
            max_pixels: 100_000_000,
            max_decode_memory: ByteSize::mib(512),
        }
    }
}

/// `[thumbnails]`: how many are made at once, how long one may take, and named presets
/// besides the admin's own.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThumbnailsConfig {
    /// Thumbnail jobs running at once (default: the number of CPUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Seconds one job (decode and all its sizes) may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit_secs: Option<f64>,
    /// `[thumbnails.presets.NAME]`
    pub presets: std::collections::BTreeMap<String, PresetConfig>,
}

/// A named thumbnail size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetConfig {
    /// 0 = follow the height.
    #[serde(default)]
    pub width: u32,
    /// 0 = follow the width.
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub crop: bool,
    #[serde(default)]
    pub upscale: bool,
    #[serde(default = "default_quality")]
    pub quality: u8,
    #[serde(default)]
    pub format: crate::images::OutputFormat,
    /// Make it right after upload, like the admin's presets (default: on first request).
    #[serde(default)]
    pub eager: bool,
}

fn default_quality() -> u8 {
    crate::images::spec::DEFAULT_QUALITY
}

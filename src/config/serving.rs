//! The `[server.*]` tables: which server backend delivers each storage's files.

use std::path::Path;

use super::layout::check_base_url;
use super::{
    ConfigError, ServeBackend, ServeBackendConfig, StorageSettings, invalid, object_store,
};

/// Validates one `[server.*]` table. `dir` is the storage the backend serves from: the
/// X-Sendfile backends put its absolute path in a header, so it must be representable there.
pub(super) fn serve_backend(
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

pub(super) fn serve_backend_of(
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

//! Where storages lie: directories that must not nest, base URLs that must not overlap one
//! another or Coffer's own routes.

use std::path::{Path, PathBuf};

use super::{ConfigError, invalid};

pub(super) fn absolute(path: &Path, key: &str) -> Result<PathBuf, ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    std::path::absolute(path).map_err(|e| invalid(key, e.to_string()))
}

/// A base URL is a path (`/media/`) or, for public storages only, an absolute http(s) URL.
/// It gains a trailing slash when missing.
pub(super) fn check_base_url(url: &str, may_be_absolute_url: bool) -> Result<String, String> {
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
pub(super) const RESERVED_PREFIXES: &[&str] = &[
    "/api/", "/files/", "/login", "/logout", "/static/", "/admin/",
];

pub(super) fn check_url_layout(urls: &[(&str, &String)]) -> Result<(), ConfigError> {
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
pub(super) fn check_dir_layout(dirs: &[(&str, &PathBuf, bool)]) -> Result<(), ConfigError> {
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

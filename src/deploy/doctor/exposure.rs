//! Where a misconfigured web server would hand out private bytes: every URL the doctor
//! expects to answer 404.

use std::path::Path;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::Settings;

use super::probe::Probe;

/// Characters kept as they are in a URL path segment we build.
const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a URL might expose private bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Exposure {
    /// A public prefix mapped onto the private storage.
    PublicPrefix,
    /// A public location without its trailing slash: `/media/public../private/…`.
    MissingSlash,
    /// The internal location answering outside redirects.
    Internal,
    /// A document root at the storage or one of its parents.
    Root,
}

/// Every URL at which a misconfigured server would hand out the probe.
pub(super) fn exposure_candidates(s: &Settings, probe: &Probe) -> Vec<(String, Exposure)> {
    let key = probe.key.as_str();
    let mut out: Vec<(String, Exposure)> = Vec::new();
    for public in [&s.public, &s.public_thumbnails] {
        if !public.base_url.starts_with('/') {
            continue;
        }
        out.push((format!("{}{key}", public.base_url), Exposure::PublicPrefix));
        let public_dir = public
            .dir
            .canonicalize()
            .unwrap_or_else(|_| public.dir.clone());
        if let Some(rel) = public_dir
            .parent()
            .and_then(|parent| probe.dir.strip_prefix(parent).ok())
        {
            out.push((
                format!(
                    "{}../{}/{key}",
                    public.base_url.trim_end_matches('/'),
                    encode_path(rel)
                ),
                Exposure::MissingSlash,
            ));
        }
    }
    for backend in [&s.serve_private, &s.serve_private_thumbnails] {
        if let Some(location) = backend.internal_location() {
            out.push((format!("{location}{key}"), Exposure::Internal));
        }
    }
    // An object: its path at the engine, unsigned, through an internal location that
    // proxies to the engine and at the site's root.
    if let (Some(prefix), Some(bucket)) = (&probe.prefix, &s.object_store) {
        let object = format!("{}/{prefix}{key}", bucket.bucket);
        for backend in [&s.serve_private, &s.serve_private_thumbnails] {
            if let Some(location) = backend.internal_location() {
                out.push((format!("{location}{object}"), Exposure::Internal));
            }
        }
        out.push((format!("/{object}"), Exposure::Root));
    }
    let mut ancestor: Option<&Path> = Some(&probe.dir);
    while let Some(a) = ancestor {
        if let Ok(rel) = probe.dir.strip_prefix(a) {
            let rel = encode_path(rel);
            let url = if rel.is_empty() {
                format!("/{key}")
            } else {
                format!("/{rel}/{key}")
            };
            out.push((url, Exposure::Root));
        }
        ancestor = a.parent();
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(url, _)| seen.insert(url.clone()));
    out
}

/// A relative path as URL path segments, each percent-encoded.
fn encode_path(rel: &Path) -> String {
    rel.iter()
        .map(|part| utf8_percent_encode(&part.to_string_lossy(), SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_per_segment() {
        assert_eq!(
            encode_path(Path::new("a b/100%/\u{e9}")),
            "a%20b/100%25/%C3%A9"
        );
    }
}

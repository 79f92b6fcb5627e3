//! The offload backends: Coffer decides, names the file and the object, and the web server
//! in front sends the bytes (with its own Range, ETag, Last-Modified and Content-Length).
//!
//! - nginx and Caddy: `X-Accel-Redirect: <internal location><key>`, every key segment
//!   percent-encoded (RFC 3986) — built from the storage-relative key, never by rewriting an
//!   absolute path.
//! - Apache mod_xsendfile: `X-Sendfile: <absolute path>`, percent-encoded when the module
//!   unescapes (`unescape = true`, the 1.0 code), raw bytes otherwise (0.12).
//! - lighttpd: `X-Sendfile: <percent-encoded absolute path>` (decoded since 1.4.40).
//!
//! The response also carries Content-Type, Content-Disposition, Cache-Control and the
//! security headers, but no Content-Length, ETag or Last-Modified of the file: the server
//! computes those. nginx drops `X-Content-Type-Options` and `Content-Security-Policy` from
//! upstream responses it redirects, so the generated nginx configuration adds them again in
//! the internal location (see `deploy::nginx`).

use std::os::unix::ffi::OsStrExt;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

use super::ServeBackend;
use super::security_headers;
use crate::storage::{LocalStorage, StorageError, StorageKey};

/// Everything but RFC 3986 `unreserved` is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// In an encoded filesystem path the separators stay.
const PATH: &AsciiSet = &SEGMENT.remove(b'/');

/// nginx's and Caddy's redirect header.
pub const X_ACCEL_REDIRECT: &str = "x-accel-redirect";
/// Apache's and lighttpd's file header.
pub const X_SENDFILE: &str = "x-sendfile";

/// An offloaded object: the header that names it and the headers that describe it.
#[derive(Debug)]
pub struct Offload {
    pub header: HeaderName,
    pub value: HeaderValue,
    /// Full `Content-Type` value.
    pub content_type: String,
    /// Full `Content-Disposition` value.
    pub disposition: String,
}

/// `<location><key>` with each key segment percent-encoded; `location` ends with `/`.
pub fn accel_redirect_uri(location: &str, key: &StorageKey) -> String {
    let mut uri = location.to_owned();
    for (i, segment) in key.as_str().split('/').enumerate() {
        if i > 0 {
            uri.push('/');
        }
        uri.extend(percent_encode(segment.as_bytes(), SEGMENT));
    }
    uri
}

/// An absolute path percent-encoded byte by byte (UTF-8 names become `%XX` sequences,
/// `%` itself `%25`), separators kept.
pub fn encode_path(path: &std::path::Path) -> String {
    percent_encode(path.as_os_str().as_bytes(), PATH).to_string()
}

/// Checks that the object exists (no file is opened or read) and builds the header.
pub fn prepare(
    backend: &ServeBackend,
    storage: &LocalStorage,
    key: &StorageKey,
    content_type: String,
    disposition: String,
) -> Result<Offload, StorageError> {
    // `path` refuses links on the way; the object itself must be a regular file.
    let path = storage.path(key)?;
    let meta = std::fs::symlink_metadata(&path).map_err(StorageError::from_io)?;
    if !meta.is_file() {
        return Err(StorageError::NotFound);
    }
    let invalid = |e: header::InvalidHeaderValue| StorageError::Io(std::io::Error::other(e));
    let (name, value) = match backend {
        ServeBackend::Nginx { location } | ServeBackend::Caddy { location } => (
            X_ACCEL_REDIRECT,
            HeaderValue::from_str(&accel_redirect_uri(location, key)).map_err(invalid)?,
        ),
        ServeBackend::Apache { unescape: false } => (
            X_SENDFILE,
            HeaderValue::from_bytes(path.as_os_str().as_bytes()).map_err(invalid)?,
        ),
        ServeBackend::Apache { unescape: true } | ServeBackend::Lighttpd => (
            X_SENDFILE,
            HeaderValue::from_str(&encode_path(&path)).map_err(invalid)?,
        ),
        ServeBackend::Default | ServeBackend::S3Redirect { .. } | ServeBackend::NginxS3 { .. } => {
            return Err(StorageError::Io(std::io::Error::other(
                "this backend sends objects without the web server",
            )));
        }
    };
    Ok(Offload {
        header: HeaderName::from_static(name),
        value,
        content_type,
        disposition,
    })
}

/// `X-Accel-Redirect: <location><path>?<query>` of a presigned URL (signed for the host
/// nginx sends it to), for the `nginx-s3` backend: the internal location strips its own
/// prefix and proxies the rest, query and all, to the engine. The path is made of key
/// characters and `/` only, so nginx passes it on byte for byte.
pub fn s3_redirect(
    location: &str,
    signed: &url::Url,
    content_type: String,
    disposition: String,
) -> Result<Offload, StorageError> {
    let uri = format!(
        "{}{}?{}",
        location.trim_end_matches('/'),
        signed.path(),
        signed.query().unwrap_or_default()
    );
    let value =
        HeaderValue::from_str(&uri).map_err(|e| StorageError::Io(std::io::Error::other(e)))?;
    Ok(Offload {
        header: HeaderName::from_static(X_ACCEL_REDIRECT),
        value,
        content_type,
        disposition,
    })
}

/// The answer to the web server: an empty 200 carrying the offload header.
pub fn respond(offload: Offload) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    security_headers(&mut res);
    res.insert_header((header::CONTENT_TYPE, offload.content_type));
    res.insert_header((header::CONTENT_DISPOSITION, offload.disposition));
    res.insert_header((offload.header, offload.value));
    res.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn redirect_uri_is_location_plus_encoded_key() {
        let key = StorageKey::parse("ab/cd/0123/report_v2.pdf").unwrap();
        assert_eq!(
            accel_redirect_uri("/_coffer/private/", &key),
            "/_coffer/private/ab/cd/0123/report_v2.pdf"
        );
    }

    #[test]
    fn paths_are_encoded_per_rfc_3986_with_separators_kept() {
        assert_eq!(
            encode_path(Path::new("/srv/data 100%/na\u{ef}ve?#;\"\\/a.txt")),
            "/srv/data%20100%25/na%C3%AFve%3F%23%3B%22%5C/a.txt"
        );
        assert_eq!(
            encode_path(Path::new("/srv/%20literally")),
            "/srv/%2520literally"
        );
        assert_eq!(encode_path(Path::new("/a-b_c.d~e")), "/a-b_c.d~e");
    }

    #[test]
    fn missing_objects_are_not_found_and_nothing_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::open(
            dir.path().to_path_buf(),
            "/p/".into(),
            crate::storage::StorageRole::Private,
        )
        .unwrap();
        let key = StorageKey::parse("ab/x.txt").unwrap();
        let backend = ServeBackend::Nginx {
            location: "/_i/".into(),
        };
        assert!(matches!(
            prepare(
                &backend,
                &storage,
                &key,
                "text/plain".into(),
                "inline".into()
            ),
            Err(StorageError::NotFound)
        ));
        storage.put_bytes(&key, b"hello").unwrap();
        let path = storage.path(&key).unwrap();
        let o = prepare(
            &backend,
            &storage,
            &key,
            "text/plain".into(),
            "inline".into(),
        )
        .unwrap();
        assert_eq!(o.value, "/_i/ab/x.txt");
        let raw = prepare(
            &ServeBackend::Apache { unescape: false },
            &storage,
            &key,
            "text/plain".into(),
            "inline".into(),
        )
        .unwrap();
        assert_eq!(raw.value.as_bytes(), path.as_os_str().as_bytes());
    }
}

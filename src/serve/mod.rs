//! How private bytes leave the building, once the checked view has said yes: the server
//! backends (django-filer's `server/backends`). Only the default backend exists today; the
//! configuration (`[server.private]`, `[server.private_thumbnails]`) is shaped for more.

mod body;
mod default;
mod disposition;

use std::time::SystemTime;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;

pub use body::{file_range as file_stream, read_small};
pub use disposition::content_disposition;

use crate::config::ServeBackend;

/// Bodies up to this size are read in one go in the request's blocking call.
pub const PRELOAD_LIMIT: u64 = 64 * 1024;

/// An object about to be delivered.
#[derive(Debug)]
pub struct Object {
    /// The open file (opened without following links).
    pub file: std::fs::File,
    /// The whole body, when small enough to have been read already.
    pub preloaded: Option<Bytes>,
    pub len: u64,
    pub modified: SystemTime,
    /// Strong entity tag without quotes (derived from the content hash).
    pub etag: String,
    /// Full `Content-Type` value.
    pub content_type: String,
    /// Full `Content-Disposition` value.
    pub disposition: String,
}

/// The `Content-Type` to send for a stored type: text gets an explicit UTF-8 charset (text
/// is only recognised as such when it is valid UTF-8).
pub fn content_type_header(mime: &str) -> String {
    if mime.starts_with("text/") && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}

/// Headers every delivered user file carries: never cached by shared caches, revalidated by
/// the browser, never sniffed, and inert if it is active content.
pub fn security_headers(res: &mut HttpResponseBuilder) {
    res.insert_header((header::CACHE_CONTROL, "private, no-cache"));
    res.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    res.insert_header((
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    ));
}

/// Delivers `object` with the configured backend.
pub fn respond(backend: &ServeBackend, req: &HttpRequest, object: Object) -> HttpResponse {
    match backend {
        ServeBackend::Default => default::respond(req, object),
    }
}

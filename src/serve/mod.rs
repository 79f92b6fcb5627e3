//! How private bytes leave the building, once the checked view has said yes: the server
//! backends (django-filer's `server/backends`). The default backend streams the bytes
//! itself; the offload backends (nginx, Apache, lighttpd, Caddy) only name the object in a
//! header and let the web server in front send it (see `offload`). Which one applies is set
//! per storage in `[server.private]` and `[server.private_thumbnails]`.

mod backend;
mod body;
mod default;
mod disposition;
pub mod offload;
pub mod range;

use std::time::SystemTime;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;

pub use body::{file_range as file_stream, read_small};
pub use disposition::content_disposition;

use crate::storage::{LocalStorage, StorageError, StorageKey};
pub use backend::ServeBackend;

/// Bodies up to this size are read in one go in the request's blocking call.
pub const PRELOAD_LIMIT: u64 = 64 * 1024;

/// An object about to be delivered, as the configured backend wants it.
#[derive(Debug)]
pub enum Object {
    /// Opened, for Coffer to stream (the default backend).
    Stream(Stream),
    /// Named in a header, for the web server to send.
    Offload(offload::Offload),
}

/// What the checked view knows about the object it delivers.
#[derive(Clone, Copy, Debug)]
pub struct Described<'a> {
    /// The stored MIME type.
    pub mime: &'a str,
    /// The name the browser should save it under.
    pub download_name: &'a str,
    /// Source of the strong entity tag (the content hash); used by the default backend.
    pub etag_source: &'a str,
}

/// Prepares `key` of `storage` for delivery by `backend`: the default backend opens the
/// file (without following links) and reads small bodies at once; an offload backend only
/// checks that the object is there and builds its header, never reading the file. A missing
/// object is [`StorageError::NotFound`] either way, so the caller answers 404 itself rather
/// than sending the web server after a file that is not there.
pub fn prepare(
    backend: &ServeBackend,
    storage: &LocalStorage,
    key: &StorageKey,
    about: Described<'_>,
) -> Result<Object, StorageError> {
    let content_type = content_type_header(about.mime);
    let disposition = content_disposition(
        about.download_name,
        crate::storage::sniff::is_inline_safe(about.mime),
    );
    if backend.offloads() {
        return offload::prepare(backend, storage, key, content_type, disposition)
            .map(Object::Offload);
    }
    let (handle, meta) = storage.open_read_with_metadata(key)?;
    let len = meta.len();
    let preloaded = if len <= PRELOAD_LIMIT {
        Some(read_small(&handle, len)?)
    } else {
        None
    };
    Ok(Object::Stream(Stream {
        file: handle,
        preloaded,
        len,
        modified: meta.modified()?,
        etag: about.etag_source.chars().take(40).collect(),
        content_type,
        disposition,
    }))
}

/// An open object the default backend streams.
#[derive(Debug)]
pub struct Stream {
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

/// Answers with `object`, prepared by [`prepare`] for the configured backend.
pub fn respond(req: &HttpRequest, object: Object) -> HttpResponse {
    match object {
        Object::Stream(stream) => default::respond(req, stream),
        Object::Offload(offload) => offload::respond(offload),
    }
}

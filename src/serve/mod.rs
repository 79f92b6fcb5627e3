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

use crate::storage::{Audience, ObjectStorage, SignedGet, Storage, StorageError, StorageKey};
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
    /// A presigned URL of the object store, where the client fetches the bytes itself.
    Redirect(url::Url),
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
/// file (without following links) and reads small bodies at once, or asks the object store
/// for the object's size; an offload backend only checks that the object is there and
/// builds its header, never reading the file; `s3-redirect` checks it is there and signs a
/// short-lived URL. A missing object is [`StorageError::NotFound`] in every case, so the
/// caller answers 404 itself rather than sending anyone after an object that is not there.
pub fn prepare(
    backend: &ServeBackend,
    storage: &Storage,
    key: &StorageKey,
    about: Described<'_>,
) -> Result<Object, StorageError> {
    let content_type = content_type_header(about.mime);
    let disposition = content_disposition(
        about.download_name,
        crate::storage::sniff::is_inline_safe(about.mime),
    );
    let etag = about.etag_source.chars().take(40).collect();
    let local = match storage {
        Storage::Local(local) => local,
        Storage::Object(object) => {
            return prepare_object(backend, object, key, content_type, disposition, etag);
        }
    };
    if backend.offloads() {
        return offload::prepare(backend, local, key, content_type, disposition)
            .map(Object::Offload);
    }
    let (handle, meta) = local.open_read_with_metadata(key)?;
    let len = meta.len();
    let preloaded = if len <= PRELOAD_LIMIT {
        Some(read_small(&handle, len)?)
    } else {
        None
    };
    Ok(Object::Stream(Stream {
        body: Body::File(std::sync::Arc::new(handle)),
        preloaded,
        len,
        modified: meta.modified()?,
        etag,
        content_type,
        disposition,
    }))
}

/// A public object of an object storage, for Coffer to stream: typed by its name (as a
/// web server serving the bucket would), its ETag the SHA-256 stored with it.
pub fn prepare_public(storage: &Storage, key: &StorageKey) -> Result<Object, StorageError> {
    let Storage::Object(object) = storage else {
        return Err(StorageError::NotFound);
    };
    let info = object.head(key)?;
    let mime = mime_guess::from_path(key.as_str())
        .first_or_octet_stream()
        .essence_str()
        .to_owned();
    Ok(Object::Stream(Stream {
        body: Body::Object(object.clone(), key.clone()),
        preloaded: None,
        len: info.size,
        modified: info.modified,
        etag: info
            .sha256
            .unwrap_or_else(|| format!("{}-{}", key.as_str().len(), info.size))
            .chars()
            .take(40)
            .collect(),
        content_type: content_type_header(&mime),
        disposition: content_disposition(
            key.file_name(),
            crate::storage::sniff::is_inline_safe(&mime),
        ),
    }))
}

/// [`prepare`] for an object store: streamed by Coffer (`default`) or fetched by the client
/// through a presigned URL (`s3-redirect`).
fn prepare_object(
    backend: &ServeBackend,
    storage: &ObjectStorage,
    key: &StorageKey,
    content_type: String,
    disposition: String,
    etag: String,
) -> Result<Object, StorageError> {
    // The redirecting backends only sign (no request to the engine: the row says the
    // object is there, and a missing one is a 404 from the engine, which nginx-s3's
    // location turns into a plain 404); the default one needs the size and date first.
    match backend {
        ServeBackend::Default => {
            let info = storage.head(key)?;
            Ok(Object::Stream(Stream {
                body: Body::Object(storage.clone(), key.clone()),
                preloaded: None,
                len: info.size,
                modified: info.modified,
                etag,
                content_type,
                disposition,
            }))
        }
        ServeBackend::S3Redirect { expires } => storage
            .signed_get(
                key,
                &SignedGet {
                    content_type: &content_type,
                    content_disposition: &disposition,
                    cache_control: "private, no-store",
                    expires: *expires,
                    audience: Audience::Clients,
                },
            )
            .map(Object::Redirect),
        ServeBackend::NginxS3 { location, expires } => {
            let signed = storage.signed_get(
                key,
                &SignedGet {
                    content_type: &content_type,
                    content_disposition: &disposition,
                    cache_control: "private, no-cache",
                    expires: *expires,
                    audience: Audience::WebServer,
                },
            )?;
            offload::s3_redirect(location, &signed, content_type, disposition).map(Object::Offload)
        }
        other => Err(StorageError::Io(std::io::Error::other(format!(
            "the {} backend cannot send objects of an object store",
            other.name()
        )))),
    }
}

/// An open object the default backend streams.
#[derive(Debug)]
pub struct Stream {
    /// Where the bytes come from.
    pub body: Body,
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

/// Where a streamed body's bytes come from.
#[derive(Clone, Debug)]
pub enum Body {
    /// A local file, opened without following links.
    File(std::sync::Arc<std::fs::File>),
    /// An object, read from the object store when the response is sent.
    Object(ObjectStorage, StorageKey),
}

impl Body {
    /// `len` bytes from `offset`, as a response body stream.
    pub fn range(
        &self,
        offset: u64,
        len: u64,
    ) -> futures_util::stream::LocalBoxStream<'static, Result<Bytes, std::io::Error>> {
        use futures_util::{StreamExt, TryStreamExt};
        match self {
            Body::File(file) => file_stream(std::sync::Arc::clone(file), offset, len).boxed_local(),
            Body::Object(..) if len == 0 => futures_util::stream::empty().boxed_local(),
            Body::Object(storage, key) => {
                let (storage, key) = (storage.clone(), key.clone());
                futures_util::stream::once(async move {
                    let end = offset
                        .checked_add(len)
                        .ok_or_else(|| std::io::Error::other("range arithmetic overflowed"))?;
                    storage
                        .read_async(&key, Some(offset..end))
                        .await
                        .map_err(std::io::Error::other)
                })
                .try_flatten()
                .boxed_local()
            }
        }
    }
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
        Object::Redirect(url) => redirect(&url),
    }
}

/// The `s3-redirect` answer: a 302 to the presigned URL that no cache keeps and that sends
/// no Referer on to the engine (the URL is a capability until it expires).
fn redirect(url: &url::Url) -> HttpResponse {
    let mut res = HttpResponse::Found();
    res.insert_header((header::LOCATION, url.as_str()));
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res.insert_header((header::REFERRER_POLICY, "no-referrer"));
    res.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    res.finish()
}

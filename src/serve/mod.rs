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

use crate::storage::{
    Audience, ObjectStorage, OpenedBody, OpenedObject, PendingBody, SignedGet, Storage,
    StorageError, StorageKey,
};
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
    /// An object of an object store fetched through a presigned URL: by the client
    /// (`s3-redirect`) or by nginx (`nginx-s3`).
    Presigned(Presigned),
}

impl Object {
    /// Whether the bytes are sent by someone else (the web server, or the engine itself).
    pub fn handed_off(&self) -> bool {
        !matches!(self, Object::Stream(_))
    }
}

/// What a presigned GET needs, signed only when answered: a URL is signed for one method,
/// and a `HEAD` must be signed as such (the engine refuses a `HEAD` with a `GET` signature).
#[derive(Debug)]
pub struct Presigned {
    storage: ObjectStorage,
    key: StorageKey,
    content_type: String,
    disposition: String,
    expires: std::time::Duration,
    /// `Some(location)`: nginx fetches the URL through its internal location (`nginx-s3`);
    /// `None`: the client is redirected to it (`s3-redirect`).
    reproxy: Option<String>,
}

impl Presigned {
    /// Signs the URL for `method` (`HEAD`, else `GET`) and answers with it.
    fn answer(self, method: &actix_web::http::Method) -> HttpResponse {
        let (cache_control, audience) = match self.reproxy {
            None => ("private, no-store", Audience::Clients),
            Some(_) => ("private, no-cache", Audience::WebServer),
        };
        let method = if method == actix_web::http::Method::HEAD {
            http::Method::HEAD
        } else {
            http::Method::GET
        };
        let signed = self.storage.signed_get(
            &self.key,
            &SignedGet {
                method,
                content_type: &self.content_type,
                content_disposition: &self.disposition,
                cache_control,
                expires: self.expires,
                audience,
            },
        );
        let answer = signed.and_then(|url| match self.reproxy {
            None => Ok(redirect(&url)),
            Some(location) => {
                offload::s3_redirect(&location, &url, self.content_type, self.disposition)
                    .map(offload::respond)
            }
        });
        answer.unwrap_or_else(|e| {
            tracing::error!(error = %e, key = %self.key, "cannot sign the object's URL");
            HttpResponse::InternalServerError().finish()
        })
    }
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
/// for the object's size; an offload backend only checks that the file is there and builds
/// its header, never reading the file; `s3-redirect` and `nginx-s3` keep what a presigned
/// URL needs, signed when answering. A missing file, or a missing object for the default
/// backend, is [`StorageError::NotFound`], so the caller answers 404 itself rather than
/// sending anyone after it; the presigning backends trust the row (no request to the engine
/// per download) and a missing object is the engine's 404.
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
    let opened = object.open(key, PRELOAD_LIMIT)?;
    let info = opened.info.clone();
    let (body, preloaded) = Body::opened(object, key, opened);
    let mime = mime_guess::from_path(key.as_str())
        .first_or_octet_stream()
        .essence_str()
        .to_owned();
    Ok(Object::Stream(Stream {
        body,
        preloaded,
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

/// [`prepare`] for an object store: streamed by Coffer (`default`) or fetched through a
/// presigned URL by the client (`s3-redirect`) or by nginx (`nginx-s3`).
fn prepare_object(
    backend: &ServeBackend,
    storage: &ObjectStorage,
    key: &StorageKey,
    content_type: String,
    disposition: String,
    etag: String,
) -> Result<Object, StorageError> {
    // The redirecting backends only sign, when answering (no request to the engine: the
    // row says the object is there, and a missing one is a 404 from the engine, which
    // nginx-s3's location turns into a plain 404). The default one opens the object now,
    // as a file is opened: one GET whose answer gives the size and date, and whose bytes
    // (all of them when small) are what the response sends, whatever happens to the
    // object meanwhile.
    let presigned = |expires: &std::time::Duration, reproxy: Option<&String>| {
        Ok(Object::Presigned(Presigned {
            storage: storage.clone(),
            key: key.clone(),
            content_type: content_type.clone(),
            disposition: disposition.clone(),
            expires: *expires,
            reproxy: reproxy.cloned(),
        }))
    };
    match backend {
        ServeBackend::Default => {
            let opened = storage.open(key, PRELOAD_LIMIT)?;
            let info = opened.info.clone();
            let (body, preloaded) = Body::opened(storage, key, opened);
            Ok(Object::Stream(Stream {
                body,
                preloaded,
                len: info.size,
                modified: info.modified,
                etag,
                content_type,
                disposition,
            }))
        }
        ServeBackend::S3Redirect { expires } => presigned(expires, None),
        ServeBackend::NginxS3 { location, expires } => presigned(expires, Some(location)),
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
    /// A small object, read whole when it was opened.
    Memory(Bytes),
    /// An object: the rest of the GET that opened it, for the whole body; other ranges are
    /// read from the object store when the response is sent.
    Object {
        storage: ObjectStorage,
        key: StorageKey,
        size: u64,
        opened: std::sync::Arc<std::sync::Mutex<Option<PendingBody>>>,
    },
}

impl Body {
    /// The body of an object opened by [`ObjectStorage::open`], and its bytes when they
    /// all came already.
    fn opened(
        storage: &ObjectStorage,
        key: &StorageKey,
        opened: OpenedObject,
    ) -> (Self, Option<Bytes>) {
        match opened.body {
            OpenedBody::Whole(bytes) => (Body::Memory(bytes.clone()), Some(bytes)),
            OpenedBody::Streaming(rest) => {
                let body = Body::Object {
                    storage: storage.clone(),
                    key: key.clone(),
                    size: opened.info.size,
                    opened: std::sync::Arc::new(std::sync::Mutex::new(Some(rest))),
                };
                (body, None)
            }
        }
    }

    /// `len` bytes from `offset`, as a response body stream.
    pub fn range(
        &self,
        offset: u64,
        len: u64,
    ) -> futures_util::stream::LocalBoxStream<'static, Result<Bytes, std::io::Error>> {
        use futures_util::{StreamExt, TryStreamExt};
        match self {
            Body::File(file) => file_stream(std::sync::Arc::clone(file), offset, len).boxed_local(),
            Body::Memory(bytes) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|len| start.checked_add(len))
                    .map_or(bytes.len(), |end| end.min(bytes.len()));
                futures_util::stream::once(std::future::ready(Ok(bytes.slice(start..end))))
                    .boxed_local()
            }
            Body::Object { .. } if len == 0 => futures_util::stream::empty().boxed_local(),
            Body::Object {
                storage,
                key,
                size,
                opened,
            } => {
                if offset == 0 && len == *size {
                    let rest = opened
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    if let Some(PendingBody(rest)) = rest {
                        return rest.boxed_local();
                    }
                }
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
        Object::Presigned(presigned) => presigned.answer(req.method()),
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

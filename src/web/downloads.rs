//! The checked download view: private files and private thumbnails, and the stable
//! `/files/{id}/{name}` URL. Every request is authenticated, then `library::deliver` finds
//! the row, decides the read permission against the current snapshot and picks the object;
//! only then are the bytes handed to the configured server backend. Denied and missing look
//! the same (404; 403 with `debug`).

use actix_web::http::{Method, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use crate::auth;
use crate::db::changes::Epoch;
use crate::db::models::User;
use crate::db::{self, DbConn};
use crate::library::audit::{Subject, Via};
use crate::library::deliver::{self, Delivery, FileBy, Source};
use crate::library::thumbnails::{self, Ensured, JobError, Mode};
use crate::serve::ServeBackend;
use crate::serve::{self, Object};
use crate::state::AppState;
use crate::storage::{Storage, StorageError, StorageKey, StorageRole};
use crate::web::error::AppError;

use super::audit_trail;
use super::errors::PageError;
use super::identity::credentials;

/// The storage key in the path below a private base URL (mounted as a prefix scope: a
/// string comparison routes these requests, no pattern matching), fully percent-decoded.
/// `None` for a method other than GET and HEAD.
fn key_below_prefix(req: &HttpRequest) -> Result<Option<StorageKey>, AppError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(None);
    }
    let rest = req.match_info().unprocessed();
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .map_err(|_| AppError::NotFound)?;
    StorageKey::parse(&decoded)
        .map(Some)
        .map_err(|_| AppError::NotFound)
}

/// `GET|HEAD <private base URL>{key}`.
pub async fn private_file(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(key) = key_below_prefix(&req)? else {
        return Ok(method_not_allowed().await);
    };
    let delivery = run(
        &state,
        &req,
        &[StorageRole::Private],
        move |st, conn, user, at| {
            deliver::file(&st.library, conn, user, FileBy::PrivateKey(&key), at, |s| {
                opened(st, s)
            })
        },
    )
    .await?;
    finish(&state, &req, delivery, Some(Via::PrivateUrl))
}

/// `GET|HEAD <private thumbnails base URL>{key}`: the source file's read permission
/// decides; the thumbnail is found through its row, never by cutting the key.
pub async fn private_thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(key) = key_below_prefix(&req)? else {
        return Ok(method_not_allowed().await);
    };
    let reads = [StorageRole::PrivateThumbnails];
    let delivery = run(&state, &req, &reads, move |st, conn, user, _| {
        deliver::private_thumbnail(&st.library, conn, user, &key, |s| opened(st, s))
    })
    .await?;
    finish(&state, &req, delivery, None)
}

/// `GET|HEAD /files/{id}/{name}`: the stable URL of a file. It serves the bytes itself, from
/// the storage the row names at that instant (public files too: a redirect to the public
/// URL could arrive after a toggle moved the object). The name part is cosmetic.
pub async fn stable(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let id: i64 = path.0.parse().map_err(|_| AppError::NotFound)?;
    let reads = [StorageRole::Private, StorageRole::Public];
    let delivery = run(&state, &req, &reads, move |st, conn, user, at| {
        deliver::file(&st.library, conn, user, FileBy::Id(id), at, |s| {
            opened(st, s)
        })
    })
    .await?;
    finish(&state, &req, delivery, Some(Via::StableUrl))
}

/// `GET|HEAD /files/{id}/versions/{version}`: a kept earlier content of a file, checked
/// like the file (read on it; public files: anyone) and sent from here.
pub async fn version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let id: i64 = path.0.parse().map_err(|_| AppError::NotFound)?;
    let vid: i64 = path.1.parse().map_err(|_| AppError::NotFound)?;
    let reads = [StorageRole::Private, StorageRole::Public];
    let delivery = run(&state, &req, &reads, move |st, conn, user, _| {
        deliver::version(&st.library, conn, user, id, vid, |s| opened(st, s))
    })
    .await?;
    finish(&state, &req, delivery, Some(Via::Version))
}

/// `GET|HEAD /files/{id}/thumbnails/{preset}`: a preset of an image, made on first request
/// (waiting for a job already making it), then sent from here. The source file's read
/// permission decides (public files: anyone). An image whose thumbnails cannot be made
/// redirects to its type icon; a busy server answers 503 with `Retry-After`.
pub async fn preset_thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, name) = path.into_inner();
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let preset = state
        .settings
        .thumbnails
        .preset(&name)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let checked = run(&state, &req, &[], move |st, conn, user, _| {
        deliver::readable_mime(&st.library, conn, user, id)
    })
    .await?;
    let mime = match checked {
        Delivery::Ready(mime) => mime,
        Delivery::Missing => return Err(AppError::NotFound.into()),
        Delivery::Denied(r) => return Err(denied(&state, r.why).into()),
        Delivery::Dropped => return Err(AppError::NotFound.into()),
    };
    let icon = crate::storage::sniff::icon_url(&mime);
    let spec = match made_preset(&state, id, preset, &icon).await? {
        Ok(spec) => spec,
        Err(answer) => return Ok(answer),
    };
    // The bytes are sent from here, found again through the rows at this instant and
    // checked again: a redirect to the thumbnail's storage URL could arrive after a toggle
    // moved it, and the file may have turned private meanwhile.
    let reads = [
        StorageRole::PrivateThumbnails,
        StorageRole::PublicThumbnails,
    ];
    let delivery = run(&state, &req, &reads, move |st, conn, user, _| {
        deliver::preset_thumbnail(&st.library, conn, user, id, &spec, |s| opened(st, s))
    })
    .await?;
    match delivery {
        Delivery::Dropped => Ok(redirect(&icon, "private, no-cache")),
        other => finish(&state, &req, other, None),
    }
}

/// Makes the `preset` thumbnail of image `id` if it is not there yet (waiting for a job
/// already making it): its spec, or the answer to give instead — a redirect to the type
/// icon `icon` when thumbnails cannot be made, 503 with `Retry-After` when the server is
/// busy, 404 for a file that is not an image or is gone.
pub(crate) async fn made_preset(
    state: &AppState,
    id: i64,
    preset: crate::images::spec::Preset,
    icon: &str,
) -> Result<Result<String, HttpResponse>, AppError> {
    let jobs = state.library.thumbnails.clone();
    let made = tokio::task::spawn_blocking(move || {
        thumbnails::ensure(&jobs, id, std::slice::from_ref(&preset), Mode::Request)
    })
    .await
    .map_err(AppError::unexpected)?;
    Ok(match made {
        Ok(Ensured::Ready(list)) => match list.into_iter().next() {
            Some((_, t)) => Ok(t.spec),
            None => Err(redirect(icon, "private, no-cache")),
        },
        Ok(Ensured::NotAnImage) => return Err(AppError::NotFound),
        Ok(Ensured::Failed(_)) => Err(redirect(icon, "private, no-cache")),
        Err(JobError::Busy) => Err(HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "2"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"error": JobError::Busy.to_string()}))),
        Err(JobError::Library(crate::library::Error::NotFound)) => return Err(AppError::NotFound),
        Err(e) => {
            tracing::warn!(file_id = id, error = %e, "thumbnail not made");
            Err(redirect(icon, "no-store"))
        }
    })
}

/// The signature of an embed URL.
#[derive(serde::Deserialize)]
pub struct Signed {
    expires: i64,
    sig: String,
}

/// `GET|HEAD /embed/{id}/{preset}?expires=…&sig=…`: a private image's thumbnail through a
/// signed URL, without a session, until it expires (`library::embed`). Cached privately no
/// longer than the URL lives (a day at most).
pub async fn embedded_thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    signed: Option<web::Query<Signed>>,
) -> Result<HttpResponse, PageError> {
    let (id, name) = path.into_inner();
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let preset = state
        .settings
        .thumbnails
        .preset(&name)
        .cloned()
        .ok_or(AppError::NotFound)?;
    // No signature, or not one: nothing is there, as for any other URL.
    let Signed { expires, sig } = signed.ok_or(AppError::NotFound)?.into_inner();
    let (st, n, s) = (state.get_ref().clone(), name.clone(), sig.clone());
    let valid = db::run(&state.pool, move |conn| {
        crate::library::embed::check(&st.library, conn, id, &n, expires, &s)
    })
    .await?;
    if !valid {
        return Err(AppError::NotFound.into());
    }
    let jobs = state.library.thumbnails.clone();
    let made = tokio::task::spawn_blocking(move || {
        thumbnails::ensure(&jobs, id, std::slice::from_ref(&preset), Mode::Request)
    })
    .await
    .map_err(AppError::unexpected)?;
    let spec = match made {
        Ok(Ensured::Ready(list)) => match list.into_iter().next() {
            Some((_, t)) => t.spec,
            None => return Err(AppError::NotFound.into()),
        },
        Err(JobError::Busy) => {
            return Ok(HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "2"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish());
        }
        _ => return Err(AppError::NotFound.into()),
    };
    let st = state.get_ref().clone();
    let delivery = db::run(&state.pool, move |conn| {
        deliver::embedded_thumbnail(&st.library, conn, id, &spec, (&name, expires, &sig), |s| {
            opened(&st, s)
        })
    })
    .await?;
    let mut res = finish(&state, &req, delivery, None)?;
    let left = (expires - time::OffsetDateTime::now_utc().unix_timestamp()).clamp(0, 86_400);
    if let Ok(v) = header::HeaderValue::from_str(&format!("private, max-age={left}")) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    Ok(res)
}

/// A redirect to a type icon, for a thumbnail that was dropped since it was made.
pub(crate) fn icon_redirect(icon: &str) -> HttpResponse {
    redirect(icon, "private, no-cache")
}

fn redirect(to: &str, cache: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, cache))
        .finish()
}

/// Any other method on a download URL.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .finish()
}

/// Authenticates and runs `step` in one database call (`db::read_inline`: on this thread,
/// in one read transaction, on SQLite; `db::read_blocking` when `step` may open an object
/// of one of the storages it `reads` from an engine, see [`waits_on_engine`]). The database epoch is taken first (`db::changes`):
/// the caller's identity, and what `step` looks up with it, are answered from memory when
/// nothing changed since they were read. The session's sliding expiry, when due, is
/// extended afterwards in the background.
async fn run<T, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    reads: &[StorageRole],
    step: F,
) -> Result<Delivery<T>, AppError>
where
    T: Send + 'static,
    F: FnOnce(
            &AppState,
            &mut DbConn,
            Option<&User>,
            Option<Epoch>,
        ) -> crate::library::Result<Delivery<T>>
        + Send
        + 'static,
{
    let creds = credentials(req, &state.settings.session.cookie_name);
    let st = state.get_ref().clone();
    let at = state.library.changes.now();
    let work = move |conn: &mut DbConn| {
        let identity = auth::session::identify_at(conn, &creds, &st.identities, at)?;
        let outcome = step(&st, conn, identity.as_ref().map(|i| &i.user), at);
        Ok((identity, outcome))
    };
    let (pool, database) = (&state.pool, &state.settings.database);
    let (identity, outcome) = if waits_on_engine(state, reads) {
        db::read_blocking(pool, database, work).await?
    } else {
        db::read_inline(pool, database, work).await?
    };
    if let Some(identity) = &identity {
        // An error page's header names the caller without asking the database again
        // (`errors::with_site_header`).
        req.extensions_mut().insert(identity.clone());
    }
    if let Some(sess) = identity.and_then(|i| i.session)
        && auth::session::needs_touch(&sess)
    {
        let (pool, ttl) = (state.pool.clone(), state.session_ttl());
        actix_web::rt::spawn(async move {
            if let Err(e) =
                db::run(&pool, move |conn| auth::session::extend(conn, &sess, ttl)).await
            {
                tracing::warn!(error = %e, "could not extend a session");
            }
        });
    }
    Ok(outcome?)
}

/// Whether delivering from the storages `reads` may wait on an object store's engine: an
/// object storage whose bytes Coffer streams itself (the default backend; public storages
/// always) is opened with a GET before the answer. Such work never runs on an actix worker,
/// which serves every other request of its connections meanwhile. The presigning backends
/// only sign (no request to the engine).
pub(crate) fn waits_on_engine(state: &AppState, reads: &[StorageRole]) -> bool {
    reads.iter().any(|&role| {
        let streamed = match role {
            StorageRole::Private => matches!(state.settings.serve_private, ServeBackend::Default),
            StorageRole::PrivateThumbnails => {
                matches!(
                    state.settings.serve_private_thumbnails,
                    ServeBackend::Default
                )
            }
            StorageRole::Public | StorageRole::PublicThumbnails => true,
        };
        streamed && matches!(state.library.storages.get(role), Storage::Object(_))
    })
}

/// A refusal: 404, or with `debug` 403 and why.
fn denied(state: &AppState, why: String) -> AppError {
    if state.settings.debug {
        AppError::Forbidden(why)
    } else {
        AppError::NotFound
    }
}

/// The answer to a delivery, recorded in the download audit when it is a private file's
/// content asked for `via` a file URL (thumbnails, `None`, are not audited).
fn finish(
    state: &AppState,
    req: &HttpRequest,
    delivery: Delivery<(Object, Option<Subject>)>,
    via: Option<Via>,
) -> Result<HttpResponse, PageError> {
    match delivery {
        Delivery::Missing | Delivery::Dropped => Err(AppError::NotFound.into()),
        Delivery::Denied(refusal) => {
            let e = denied(state, refusal.why);
            if let (Some(via), Some(subject)) = (via, refusal.audited) {
                let status = actix_web::ResponseError::status_code(&e);
                audit_trail::refused(state, req, via, audit_trail::caller(req), subject, status);
            }
            Err(e.into())
        }
        Delivery::Ready((object, subject)) => {
            let (Some(via), Some(subject)) = (via, subject) else {
                return Ok(serve::respond(req, object));
            };
            let handed_off = object.handed_off();
            let res = serve::respond(req, object);
            let who = audit_trail::caller(req);
            Ok(audit_trail::delivered(
                state, req, via, who, subject, handed_off, res,
            ))
        }
    }
}

/// [`open`], with the private file the bytes are the content of (for the audit).
pub(crate) fn opened(
    state: &AppState,
    source: Source<'_>,
) -> Result<(Object, Option<Subject>), StorageError> {
    let audited = source.audited.clone();
    open(state, source).map(|object| (object, audited))
}

/// Opens an object through the server backend of its storage. Public bytes are sent by the
/// default backend: the offload locations only map the private storages.
pub(crate) fn open(state: &AppState, source: Source<'_>) -> Result<Object, StorageError> {
    let backend = match (source.private, source.thumbnail) {
        (false, _) => &ServeBackend::Default,
        (true, false) => &state.settings.serve_private,
        (true, true) => &state.settings.serve_private_thumbnails,
    };
    serve::prepare(
        backend,
        source.storage,
        &source.key,
        serve::Described {
            mime: source.mime,
            download_name: &source.download_name,
            etag_source: &source.etag_source,
        },
    )
}

/// A public object of a storage of kind `"s3"` (mounted at its base URL): streamed from
/// the bucket by the default backend, typed by its name as a web server would, active
/// types as attachments, sandboxed like every delivered file.
pub async fn public_object(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: web::Path<String>,
    role: web::Data<crate::storage::StorageRole>,
) -> Result<HttpResponse, PageError> {
    let key = StorageKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let storage = state.library.storages.get(**role).clone();
    let object = web::block(move || serve::prepare_public(&storage, &key))
        .await
        .map_err(AppError::unexpected)?;
    match object {
        Ok(object) => Ok(serve::respond(&req, object)),
        Err(StorageError::NotFound | StorageError::InvalidKey(_)) => Err(AppError::NotFound.into()),
        Err(e) => Err(AppError::unexpected(e).into()),
    }
}

/// Middleware for the public storages Coffer serves itself (through actix-files): the
/// `Range` header is parsed here, by the same checked parser as private downloads, and
/// handed on in a form actix-files cannot get wrong — one plain `first-last` range, a
/// `length-` range that it answers 416 `bytes */length`, or no header at all (the whole
/// file) for an invalid header, several ranges or a path that is not a plain file.
/// If-Range is still decided by actix-files, against its own validators.
pub async fn public_range(
    root: std::path::PathBuf,
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if let Some(value) = req.headers().get(header::RANGE).cloned() {
        let len = public_object_len(&root, req.match_info().unprocessed());
        let rewritten = match (value.to_str().ok(), len) {
            (Some(value), Some(len)) => match serve::range::parse(value, len) {
                serve::range::Ranges::Unsatisfiable => Some(format!("bytes={len}-")),
                serve::range::Ranges::Satisfiable(ranges) => match ranges.as_slice() {
                    [r] => Some(format!("bytes={}-{}", r.first, r.last)),
                    _ => None,
                },
                serve::range::Ranges::Ignore => None,
            },
            _ => None,
        };
        match rewritten.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
            Some(v) => {
                req.headers_mut().insert(header::RANGE, v);
            }
            None => {
                req.headers_mut().remove(header::RANGE);
            }
        }
    }
    next.call(req).await
}

/// The length of the regular file at `rel` (percent-encoded, below `root`), if it is one.
fn public_object_len(root: &std::path::Path, rel: &str) -> Option<u64> {
    let decoded = percent_encoding::percent_decode_str(rel.trim_start_matches('/'))
        .decode_utf8()
        .ok()?;
    let mut path = root.to_path_buf();
    for segment in decoded.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
            return None;
        }
        path.push(segment);
    }
    let meta = std::fs::symlink_metadata(&path).ok()?;
    meta.is_file().then_some(meta.len())
}

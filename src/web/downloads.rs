//! The checked download view: private files and private thumbnails, and the stable
//! `/files/{id}/{name}` URL. Every request is authenticated, the file row found by exact
//! key (or id), the read permission decided against the current snapshot, and only then
//! are the bytes handed to the configured server backend. Denied and missing look the same
//! (404; 403 with `debug`).

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth;
use crate::config::ServeBackend;
use crate::db::models::file::{self, File};
use crate::db::models::{User, session, thumbnail};
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::library::thumbnails::{self, Ensured, JobError, Mode};
use crate::permissions::Right;
use crate::serve::{self, Object};
use crate::state::AppState;
use crate::storage::{StorageError, StorageKey, StorageRole};

use super::identity::credentials;

/// What the blocking part of a request decided.
enum Outcome {
    Deliver(Object),
    Redirect(String),
    Denied(String),
}

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
) -> Result<HttpResponse, AppError> {
    let Some(key) = key_below_prefix(&req)? else {
        return Ok(method_not_allowed().await);
    };
    let outcome = run(&state, &req, move |st, conn, user| {
        let Some(f) = file::find_by_key(conn, key.as_str(), false)? else {
            return Ok(None);
        };
        deliver_file(st, conn, user, f, Follow::Key).map(Some)
    })
    .await?;
    finish(&state, &req, outcome)
}

/// `GET|HEAD <private thumbnails base URL>{key}`: the source file's read permission
/// decides; the thumbnail is found through its row, never by cutting the key.
pub async fn private_thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(key) = key_below_prefix(&req)? else {
        return Ok(method_not_allowed().await);
    };
    let outcome = run(&state, &req, move |st, conn, user| {
        let Some(t) = thumbnail::find_by_key(conn, key.as_str())? else {
            return Ok(None);
        };
        let Some(f) = file::find(conn, t.file_id)?.filter(|f| !f.is_public) else {
            return Ok(None);
        };
        let loaded = st.access.snapshot(conn)?;
        let decision = loaded.file(st.access.policy(), user, &f, Right::Read);
        if !decision.allowed {
            return denied(st, conn, &loaded, user, &decision).map(Some);
        }
        let storage = st.storages.get(StorageRole::PrivateThumbnails).local();
        let name = format!(
            "{}.{}",
            f.label(),
            key.as_str().rsplit('.').next().unwrap_or("bin")
        );
        match open(
            storage,
            &key,
            &t.mime_type,
            &name,
            &format!("{}-{}", t.id, t.size),
            &st.settings.serve_private_thumbnails,
        ) {
            Ok(obj) => Ok(Some(Outcome::Deliver(obj))),
            Err(StorageError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    finish(&state, &req, outcome)
}

/// `GET|HEAD /files/{id}/{name}`: the stable URL of a file. It serves the bytes itself, from
/// the storage the row names at that instant (public files too: a redirect to the public
/// URL could arrive after a toggle moved the object). The name part is cosmetic.
pub async fn stable(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id: i64 = path.0.parse().map_err(|_| AppError::NotFound)?;
    let outcome = run(&state, &req, move |st, conn, user| {
        let Some(f) = file::find(conn, id)? else {
            return Ok(None);
        };
        deliver_file(st, conn, user, f, Follow::Row).map(Some)
    })
    .await?;
    finish(&state, &req, outcome)
}

/// `GET|HEAD /files/{id}/thumbnails/{preset}`: a preset of an image, made on first request
/// (waiting for a job already making it), then sent from here. The source file's read
/// permission decides (public files: anyone). An image whose thumbnails cannot be made
/// redirects to its type icon; a busy server answers 503 with `Retry-After`.
pub async fn preset_thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let preset = state
        .settings
        .thumbnails
        .preset(&name)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let checked = run(&state, &req, move |st, conn, user| {
        let Some(f) = file::find(conn, id)? else {
            return Ok(None);
        };
        if !f.is_public {
            let loaded = st.access.snapshot(conn)?;
            let decision = loaded.file(st.access.policy(), user, &f, Right::Read);
            if !decision.allowed {
                return denied(st, conn, &loaded, user, &decision).map(Some);
            }
        }
        Ok(Some(Outcome::Redirect(f.mime_type)))
    })
    .await?;
    let mime = match checked {
        Some(Outcome::Redirect(mime)) => mime,
        other => {
            return finish(&state, &req, other);
        }
    };
    let icon = crate::storage::sniff::icon_url(&mime);
    let st = state.get_ref().clone();
    let made = tokio::task::spawn_blocking(move || {
        thumbnails::ensure(&st, id, std::slice::from_ref(&preset), Mode::Request)
    })
    .await
    .map_err(AppError::unexpected)?;
    let redirect = |to: &str| {
        HttpResponse::Found()
            .insert_header((header::LOCATION, to.to_owned()))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish()
    };
    match made {
        Ok(Ensured::Ready(list)) => {
            let Some((_, t)) = list.into_iter().next() else {
                return Ok(redirect(&icon));
            };
            // The bytes are sent from here, found again through the rows at this instant
            // and checked again: a redirect to the thumbnail's storage URL could arrive
            // after a toggle moved it, and the file may have turned private meanwhile.
            let (spec, gone) = (t.spec, icon.clone());
            let outcome = run(&state, &req, move |st, conn, user| {
                deliver_thumbnail(st, conn, user, id, &spec, gone)
            })
            .await?;
            finish(&state, &req, outcome)
        }
        Ok(Ensured::NotAnImage) => Err(AppError::NotFound),
        Ok(Ensured::Failed(_)) => Ok(redirect(&icon)),
        Err(JobError::Busy) => Ok(HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "2"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"error": JobError::Busy.to_string()}))),
        Err(JobError::Library(crate::library::Error::NotFound)) => Err(AppError::NotFound),
        Err(e) => {
            tracing::warn!(file_id = id, error = %e, "thumbnail not made");
            Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, icon))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
    }
}

/// Opens the thumbnail `spec` of file `id` where its row names it now, after checking the
/// source file's read permission (public files: anyone). A thumbnail whose object vanished
/// because a toggle moved it meanwhile is looked up again.
fn deliver_thumbnail(
    state: &AppState,
    conn: &mut DbConn,
    user: Option<&User>,
    id: i64,
    spec: &str,
    icon: String,
) -> Result<Option<Outcome>, AppError> {
    for _attempt in 0..MAX_ATTEMPTS {
        let Some(f) = file::find(conn, id)? else {
            return Ok(None);
        };
        if !f.is_public {
            let loaded = state.access.snapshot(conn)?;
            let decision = loaded.file(state.access.policy(), user, &f, Right::Read);
            if !decision.allowed {
                return denied(state, conn, &loaded, user, &decision).map(Some);
            }
        }
        let Some(t) = thumbnail::find_for_spec(conn, id, spec)? else {
            // Dropped since it was made (the content was replaced): the type icon, as for
            // a thumbnail that cannot be made; the next request makes it again.
            return Ok(Some(Outcome::Redirect(icon)));
        };
        let key = StorageKey::parse(&t.storage_key).map_err(|_| AppError::NotFound)?;
        let backend = if f.is_public {
            &ServeBackend::Default
        } else {
            &state.settings.serve_private_thumbnails
        };
        let name = format!(
            "{}.{}",
            f.label(),
            key.as_str().rsplit('.').next().unwrap_or("bin")
        );
        match open(
            state.storages.thumbnails(f.is_public).local(),
            &key,
            &t.mime_type,
            &name,
            &format!("{}-{}", t.id, t.size),
            backend,
        ) {
            Ok(obj) => return Ok(Some(Outcome::Deliver(obj))),
            Err(StorageError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::unexpected(anyhow::anyhow!(
        "thumbnail {spec} of file {id}: its object moved on every attempt to open it"
    )))
}

/// Any other method on a download URL.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .finish()
}

/// Authenticates and runs `step` in one database call (`db::read`: inline on SQLite). The
/// session's sliding expiry, when due, is extended afterwards in the background.
async fn run<F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    step: F,
) -> Result<Option<Outcome>, AppError>
where
    F: FnOnce(&AppState, &mut DbConn, Option<&User>) -> Result<Option<Outcome>, AppError>
        + Send
        + 'static,
{
    let creds = credentials(req, &state.settings.session.cookie_name);
    let st = state.get_ref().clone();
    let (identity, outcome) = db::read(&state.pool, &state.settings.database, move |conn| {
        let identity = if creds.is_empty() {
            None
        } else {
            auth::session::identify(conn, &creds)?
        };
        let outcome = step(&st, conn, identity.as_ref().map(|i| &i.user));
        Ok((identity, outcome))
    })
    .await?;
    if let Some(sess) = identity.and_then(|i| i.session)
        && auth::session::needs_touch(&sess)
    {
        let (pool, until) = (state.pool.clone(), crate::db::now() + state.session_ttl());
        actix_web::rt::spawn(async move {
            if let Err(e) = db::run(&pool, move |conn| session::touch(conn, &sess.id, until)).await
            {
                tracing::warn!(error = %e, "could not extend a session");
            }
        });
    }
    outcome
}

fn finish(
    state: &AppState,
    req: &HttpRequest,
    outcome: Option<Outcome>,
) -> Result<HttpResponse, AppError> {
    match outcome {
        None => Err(AppError::NotFound),
        Some(Outcome::Denied(why)) => {
            if state.settings.debug {
                Err(AppError::Forbidden(why))
            } else {
                Err(AppError::NotFound)
            }
        }
        Some(Outcome::Redirect(url)) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish()),
        Some(Outcome::Deliver(object)) => Ok(serve::respond(req, object)),
    }
}

/// A refusal. With `debug`, the reason is said in names (users, groups, folders) as the 403
/// shows it; without, nothing more is looked up: the answer is a plain 404.
fn denied(
    state: &AppState,
    conn: &mut DbConn,
    loaded: &crate::access::Loaded,
    user: Option<&User>,
    decision: &crate::permissions::Decision,
) -> Result<Outcome, AppError> {
    let why = if state.settings.debug {
        crate::library::readers::explain(conn, loaded, state.access.policy(), user, decision)?
    } else {
        String::new()
    };
    Ok(Outcome::Denied(why))
}

/// What a download follows when its object vanished under it (a move between storages
/// committed and deleted the source after the row was read).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// The row, wherever it now points: the stable URL.
    Row,
    /// The key that was asked for: a key that moved is gone (404).
    Key,
}

/// How often the row is read again when its object vanished meanwhile. Each retry needs
/// another move to commit between reading the row and opening the object; a move takes
/// far longer than that window.
const MAX_ATTEMPTS: usize = 16;

/// Checks read permission on a file (public files: anyone) and opens its object in the
/// storage the row names. If the object vanished because a concurrent toggle moved it,
/// the row is read again and its new location used (`Follow::Row`), so a reader of an
/// existing file never gets 404 from a race.
fn deliver_file(
    state: &AppState,
    conn: &mut DbConn,
    user: Option<&User>,
    mut f: File,
    follow: Follow,
) -> Result<Outcome, AppError> {
    for _attempt in 0..MAX_ATTEMPTS {
        if !f.is_public {
            let loaded = state.access.snapshot(conn)?;
            let decision = loaded.file(state.access.policy(), user, &f, Right::Read);
            if !decision.allowed {
                return denied(state, conn, &loaded, user, &decision);
            }
        }
        let key = StorageKey::parse(&f.storage_key).map_err(|_| AppError::NotFound)?;
        // Public bytes are sent by the default backend: the offload locations only map
        // the private storages.
        let (storage, backend) = if f.is_public {
            (state.storages.public.local(), &ServeBackend::Default)
        } else {
            (
                state.storages.get(StorageRole::Private).local(),
                &state.settings.serve_private,
            )
        };
        match open(
            storage,
            &key,
            &f.mime_type,
            &f.original_filename,
            &f.sha256,
            backend,
        ) {
            Ok(obj) => return Ok(Outcome::Deliver(obj)),
            Err(StorageError::NotFound) if follow == Follow::Row => match file::find(conn, f.id)? {
                Some(again) => f = again,
                None => return Err(AppError::NotFound),
            },
            Err(StorageError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::unexpected(anyhow::anyhow!(
        "file {}: its object moved on every attempt to open it",
        f.id
    )))
}

fn open(
    storage: &crate::storage::LocalStorage,
    key: &StorageKey,
    mime: &str,
    download_name: &str,
    etag_source: &str,
    backend: &ServeBackend,
) -> Result<Object, StorageError> {
    serve::prepare(
        backend,
        storage,
        key,
        serve::Described {
            mime,
            download_name,
            etag_source,
        },
    )
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

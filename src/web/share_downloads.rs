//! A share link's downloads: a file link's file, a folder link's files and its ZIP. Bytes
//! go through the configured server backend like a checked download; a download counts
//! toward the link's maximum once per completed transfer (a full GET whose body was sent to
//! its end; not a Range request, a HEAD or a page view), and every private file's delivery
//! or refusal is recorded in the download audit.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::db;
use crate::db::models::File;
use crate::library::audit::Via;
use crate::library::deliver::Source;
use crate::library::shares;
use crate::serve;
use crate::state::AppState;
use crate::storage::{StorageError, StorageKey, StorageRole};
use crate::web::audit_trail;
use crate::web::body_end::when_done;
use crate::web::downloads;
use crate::web::error::AppError;
use crate::web::errors::PageError;

use super::share_links::{opened, unlocked, visitor};

/// `GET|HEAD /s/{token}/download`: a file link's file.
pub(super) async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    send_file(req, state, token.into_inner(), None).await
}

/// `GET|HEAD /s/{token}/files/{id}`: a file of a folder link's tree.
pub(super) async fn file_in_folder(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, PageError> {
    let (token, id) = path.into_inner();
    send_file(req, state, token, Some(id)).await
}

async fn send_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: String,
    file_id: Option<i64>,
) -> Result<HttpResponse, PageError> {
    let mut o = opened(&state, &token).await?;
    if !unlocked(&req, &o) {
        return Err(AppError::NotFound.into());
    }
    for attempt in 0..4 {
        if attempt > 0 {
            // A move between storages took the object from under the row: its commit
            // changed the database, so the link (and a file link's row) is read again.
            o = opened(&state, &token).await?;
        }
        let found = match (shares::link_file(&o), file_id) {
            // A file link's file came with the link: nothing more to ask.
            (Some(f), None) => Ok(f.clone()),
            _ => {
                let (st, o2) = (state.get_ref().clone(), o.clone());
                db::read_inline(&state.pool, &state.settings.database, move |conn| {
                    Ok(shares::file_or_refusal(&st.library, conn, &o2, file_id))
                })
                .await?
                .map_err(AppError::from)?
            }
        };
        let f: File = match found {
            Ok(f) => f,
            Err(subject) => {
                if let Some(subject) = subject {
                    let who = audit_trail::visitor(o.share.id);
                    let status = StatusCode::NOT_FOUND;
                    audit_trail::refused(&state, &req, Via::Share, who, subject, status);
                }
                return Err(AppError::NotFound.into());
            }
        };
        let key = StorageKey::parse(&f.storage_key).map_err(|_| AppError::NotFound)?;
        let main = if f.is_public {
            StorageRole::Public
        } else {
            StorageRole::Private
        };
        // Opening an object an engine sends waits for it: on the blocking pool, never on
        // this worker (`downloads::waits_on_engine`).
        let opened = if downloads::waits_on_engine(&state, &[main]) {
            let st = state.get_ref().clone();
            web::block(move || downloads::opened(&st, Source::content(&st.library, &f, key)))
                .await
                .map_err(AppError::unexpected)?
        } else {
            downloads::opened(&state, Source::content(&state.library, &f, key))
        };
        match opened {
            Ok((object, audited)) => {
                let handed_off = object.handed_off();
                let res = serve::respond(&req, object);
                let who = audit_trail::visitor(o.share.id);
                let res = match (counted(&state, &req, &o.share, res).await, audited) {
                    (Ok(res), Some(subject)) => audit_trail::delivered(
                        &state,
                        &req,
                        Via::Share,
                        who,
                        subject,
                        handed_off,
                        res,
                    ),
                    (Ok(res), None) => res,
                    (Err(e), audited) => {
                        // Used up by parallel downloads meanwhile.
                        if let Some(subject) = audited {
                            let status = StatusCode::NOT_FOUND;
                            audit_trail::refused(&state, &req, Via::Share, who, subject, status);
                        }
                        return Err(e);
                    }
                };
                return Ok(visitor(res));
            }
            Err(StorageError::NotFound) => continue,
            Err(e) => return Err(AppError::from(e).into()),
        }
    }
    Err(AppError::NotFound.into())
}

/// A full GET takes one of the link's download slots before its first byte (none left:
/// 404), and gives it back if its body does not go out to the end, so a download counts
/// once per completed transfer and parallel downloads never pass the maximum. An offloaded
/// one counts when handed over (the web server sends it).
async fn counted(
    state: &AppState,
    req: &HttpRequest,
    share: &crate::db::models::share::Share,
    res: HttpResponse,
) -> Result<HttpResponse, PageError> {
    let share_id = share.id;
    // Not a whole transfer: HEAD, a Range or conditional request (an offloading web
    // server answers those itself, behind Coffer's 200), or anything but a 200.
    let partial = [
        header::RANGE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_RANGE,
    ]
    .iter()
    .any(|h| req.headers().contains_key(h));
    if req.method() != Method::GET || res.status() != StatusCode::OK || partial {
        return Ok(res);
    }
    if share.max_downloads.is_none() {
        // No maximum to hold: a completed transfer is counted in memory and written with
        // the others of the second.
        let links = state.library.links.clone();
        return Ok(when_done(res, move |sent| {
            if sent {
                links.used(share_id);
            }
        }));
    }
    let claimed = db::run(&state.pool, move |conn| {
        shares::claim_download(conn, share_id)
    })
    .await
    .map_err(AppError::from)?;
    if !claimed {
        return Err(AppError::NotFound.into());
    }
    // Offloaded (no body here: the web server sends the bytes): the hand-over counts.
    let pool = state.pool.clone();
    Ok(when_done(res, move |sent| {
        if sent {
            return;
        }
        actix_web::rt::spawn(async move {
            if let Err(e) =
                db::run(&pool, move |conn| shares::release_download(conn, share_id)).await
            {
                tracing::warn!(share_id, error = %e, "could not give back a share download");
            }
        });
    }))
}

/// `GET /s/{token}/zip`: a folder link's tree as one ZIP; it counts as one download once
/// sent to its end.
pub(super) async fn zip(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let o = opened(&state, &token).await?;
    if !unlocked(&req, &o) {
        return Err(AppError::NotFound.into());
    }
    let (st, o2) = (state.get_ref().clone(), o.clone());
    let plan = db::run(&state.pool, move |conn| {
        crate::library::archive::of_share(&st.library, conn, &o2)
    })
    .await
    .map_err(|e| match e {
        crate::library::Error::NotFound => AppError::NotFound,
        other => other.into(),
    })?;
    let trail = audit_trail::ZipContext::of(&state, &req, audit_trail::visitor(o.share.id));
    let res = crate::web::zip_download::respond(&state, plan, trail);
    Ok(visitor(counted(&state, &req, &o.share, res).await?))
}

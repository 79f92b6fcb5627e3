//! ZIP downloads, written while they are sent: a blocking thread writes the archive
//! (`zip`'s streaming writer, data descriptors, no seeking) into a bounded channel that is
//! the response body, so memory stays constant and no temporary file of the whole archive
//! exists. What goes in is decided before the first byte (`library::archive`).
//!
//! Routes: `GET /folders/{id}/zip` (the reader's folder, what they may read),
//! `GET /admin/zip?item=file-<id>&item=folder-<id>` (a selection in the admin) and
//! `GET /s/{token}/zip` (a folder share link; see `share_links`).

use std::io::Write;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::db;
use crate::db::models::file;
use crate::library::archive::{self, Plan};
use crate::library::audit::Subject;
use crate::library::bulk::Item;
use crate::state::AppState;
use crate::storage::{StorageError, StorageKey};
use crate::web::audit_trail::{self, ZipContext};
use crate::web::error::AppError;
use crate::web::errors::PageError;
use crate::web::identity::caller;

/// How much of the archive is buffered before it is handed to the connection.
const CHUNK: usize = 64 * 1024;

/// Chunks of the archive, on their way to the connection.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Types that are compressed already: stored as they are.
fn stored(mime: &str) -> bool {
    mime.starts_with("image/") && mime != "image/svg+xml" && mime != "image/bmp"
        || mime.starts_with("video/")
        || mime.starts_with("audio/")
        || mime.contains("zip")
        || mime.contains("compressed")
        || mime == "application/pdf"
}

/// Writes `plan` into `out`. Each file is read again through its row, so a file that moved
/// between storages since the plan was made is read from where it is now; one that is gone
/// (deleted meanwhile) is left out.
fn write_archive(
    state: &AppState,
    plan: &Plan,
    trail: &ZipContext,
    out: ChannelWriter,
) -> Result<(), String> {
    use zip::write::SimpleFileOptions;
    let mut zw = zip::ZipWriter::new_stream(out);
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    for entry in &plan.entries {
        let mut opened = None;
        for _ in 0..4 {
            let Some(f) = file::find(&mut conn, entry.file.id).map_err(|e| e.to_string())? else {
                break;
            };
            let Ok(key) = StorageKey::parse(&f.storage_key) else {
                break;
            };
            match state.library.storages.main(f.is_public).open_read(&key) {
                Ok(handle) => {
                    opened = Some((f, handle));
                    break;
                }
                Err(StorageError::NotFound) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        let Some((f, mut handle)) = opened else {
            continue;
        };
        let modified = zip::DateTime::try_from(f.modified_at).unwrap_or_default();
        let options = SimpleFileOptions::default()
            .compression_method(if stored(&f.mime_type) {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            })
            .last_modified_time(modified)
            .large_file(f.size >= i64::from(u32::MAX));
        zw.start_file(entry.path.as_str(), options)
            .map_err(|e| e.to_string())?;
        let copied = std::io::copy(&mut handle, &mut zw);
        if !f.is_public {
            audit_trail::zipped(state, trail, Subject::of(&f), copied.is_ok());
        }
        copied.map_err(|e| e.to_string())?;
    }
    let mut out = zw.finish().map_err(|e| e.to_string())?.into_inner();
    out.flush().map_err(|e| e.to_string())
}

/// The archive as a response, written while it is sent. Each private file written into it
/// is recorded in the download audit with `trail`.
pub fn respond(state: &web::Data<AppState>, plan: Plan, trail: ZipContext) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let st = state.get_ref().clone();
    let name = plan.name.clone();
    let errors = tx.clone();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_archive(&st, &plan, &trail, out) {
            tracing::warn!(error = %e, "a ZIP download stopped");
            // The client sees a broken transfer, never a truncated archive that looks whole.
            let _ = errors.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::serve::content_disposition(&name, false),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .streaming(body)
}

fn refused(e: crate::library::Error) -> PageError {
    match e {
        crate::library::Error::Forbidden(_) => AppError::NotFound.into(),
        other => AppError::from(other).into(),
    }
}

/// `GET /folders/{id}/zip`: the folder's tree, what the caller may read of it.
pub async fn folder(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<crate::domain::ids::FolderId>,
) -> Result<HttpResponse, PageError> {
    let Some(identity) = caller(&state, &req).await? else {
        return Err(PageError::login_required(req.path()));
    };
    let trail = ZipContext::of(&state, &req, audit_trail::user(&identity));
    let (st, id) = (state.get_ref().clone(), id.into_inner());
    let plan = db::run(&state.pool, move |conn| {
        archive::of_folder(&st.library, conn, &identity.user, id)
    })
    .await
    .map_err(refused)?;
    Ok(respond(&state, plan, trail))
}

/// `GET /admin/zip?item=file-<id>&item=folder-<id>`: a selection, what the caller may read.
pub async fn selection(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let Some(identity) = caller(&state, &req).await? else {
        return Err(PageError::login_required(req.path()));
    };
    let items: Vec<Item> = query
        .into_inner()
        .into_iter()
        .filter(|(k, _)| k == "item")
        .map(|(_, v)| Item::parse(&v).ok_or(AppError::NotFound))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(AppError::BadRequest("choose files or folders to download".into()).into());
    }
    let trail = ZipContext::of(&state, &req, audit_trail::user(&identity));
    let st = state.get_ref().clone();
    let plan = db::run(&state.pool, move |conn| {
        archive::of_selection(&st.library, conn, &identity.user, &items)
    })
    .await
    .map_err(refused)?;
    Ok(respond(&state, plan, trail))
}

//! Thumbnails of image files: made once per spec and recorded in the `thumbnails` table,
//! stored next to the source's storage (public thumbnails for public files, private ones
//! for private files), dropped with the source.
//!
//! - [`ensure`] makes what is missing for some presets: one decode of the source for all of
//!   them, in a bounded slot, under the time limit, and one job per thumbnail at a time.
//! - A thumbnail is recorded only if its source row still names the bytes it was made from
//!   (same key, same storage), in one transaction; a move that commits meanwhile drops the
//!   late row (see `relocate`).
//! - A failure that belongs to the file (refused by the limits, corrupt, truncated, too
//!   slow) is recorded with its reason and not retried on every request; `coffer
//!   thumbnails generate` retries.

mod generate;
mod media;
mod scheduler;

use diesel::prelude::*;

pub use generate::{GenerateReport, Progress, generate};
pub use media::{Media, deferred_url, media, thumbnail_url};
pub use scheduler::{Claim, FlightEnd, Scheduler};

use crate::db::models::file::{self, File};
use crate::db::models::image::{self, ImageMeta};
use crate::db::models::thumbnail::{self, Thumbnail};
use crate::db::models::{journal, thumbnail_failure};
use crate::db::schema::files;
use crate::db::{DbConn, DbError, DbPool};
use crate::images::decode::Deadline;
use crate::images::{self, Format, ImageError, Limits, Preset, ThumbnailSettings, ThumbnailSpec};
use crate::storage::{StorageError, StorageKey, StorageRole, Storages};

use super::{Error, Result};

/// Makes thumbnails: the scheduler (bounded slots, one job per thumbnail, the background
/// queue) and what a job reads and writes — the database, the storages, the presets and the
/// image limits — without the rest of the application. Cheap to clone.
#[derive(Clone)]
pub struct Thumbnailer {
    scheduler: Scheduler,
    pool: DbPool,
    storages: std::sync::Arc<Storages>,
    settings: std::sync::Arc<ThumbnailSettings>,
    limits: std::sync::Arc<Limits>,
}

impl std::fmt::Debug for Thumbnailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thumbnailer").finish_non_exhaustive()
    }
}

impl Thumbnailer {
    /// Built from its own settings and the pool and storages it works on.
    pub fn new(
        settings: ThumbnailSettings,
        limits: Limits,
        pool: DbPool,
        storages: std::sync::Arc<Storages>,
    ) -> Self {
        Self {
            scheduler: Scheduler::new(settings.concurrency),
            pool,
            storages,
            settings: std::sync::Arc::new(settings),
            limits: std::sync::Arc::new(limits),
        }
    }

    /// The presets and limits in force.
    pub fn settings(&self) -> &ThumbnailSettings {
        &self.settings
    }

    /// The image limits, checked before any decode.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The scheduler (slots, flights and the background queue).
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Files waiting in the background queue or being worked on.
    pub fn backlog(&self) -> usize {
        self.scheduler.backlog()
    }

    /// Waits until the background queue is empty and no background job runs.
    pub fn wait_idle(&self) {
        self.scheduler.wait_idle();
    }
}

/// Who is asking, which decides how long to wait for a slot and whether a recorded failure
/// is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The background queue: waits for a slot; respects recorded failures.
    Background,
    /// An HTTP request: waits for a slot at most the time limit; respects recorded failures.
    Request,
    /// `coffer thumbnails generate`: waits for a slot; tries recorded failures again.
    Command,
}

/// What [`ensure`] found or made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ensured {
    /// The thumbnails, by preset name.
    Ready(Vec<(String, Thumbnail)>),
    /// The file's thumbnails cannot be made; the recorded reason.
    Failed(String),
    /// The file is not an image Coffer reads.
    NotAnImage,
}

/// Errors that are not the image's fault.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("all thumbnail slots are busy; try again shortly")]
    Busy,
    #[error("the file changed while its thumbnails were made")]
    Changed,
    /// The image cannot be thumbnailed (recorded as the file's failure).
    #[error("{0}")]
    Image(String),
    #[error(transparent)]
    Library(#[from] Error),
    #[error("{0}")]
    Other(String),
}

impl From<DbError> for JobError {
    fn from(e: DbError) -> Self {
        JobError::Library(Error::Db(e))
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        JobError::Library(Error::from(e))
    }
}

impl From<StorageError> for JobError {
    fn from(e: StorageError) -> Self {
        JobError::Library(Error::Storage(e))
    }
}

impl From<diesel::r2d2::PoolError> for JobError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        JobError::Library(Error::Db(DbError::Pool(e)))
    }
}

/// The presets made right after upload.
pub fn eager_presets(thumbs: &Thumbnailer) -> Vec<Preset> {
    thumbs
        .settings
        .presets
        .iter()
        .filter(|p| p.eager)
        .cloned()
        .collect()
}

/// Queues the eager presets of a new image for the background workers.
pub fn queue(thumbs: &Thumbnailer, file_id: i64) {
    let jobs = thumbs.clone();
    thumbs.scheduler.enqueue(file_id, move |id| {
        if let Err(e) = make_eager(&jobs, id) {
            tracing::warn!(file_id = id, error = %e, "background thumbnails not made");
        }
    });
}

/// Makes the eager presets of one file (the background queue's job).
pub fn make_eager(thumbs: &Thumbnailer, file_id: i64) -> std::result::Result<Ensured, JobError> {
    ensure(thumbs, file_id, &eager_presets(thumbs), Mode::Background)
}

/// The spec a preset resolves to for an image (its focal point applies to crops).
pub fn spec_for(preset: &Preset, meta: &ImageMeta) -> ThumbnailSpec {
    preset.spec(
        crate::domain::focal::FocalPoint::from_stored(meta.subject_location.as_deref())
            .map(crate::domain::focal::FocalPoint::pair),
    )
}

/// Makes whatever is missing of `presets` for `file_id` and returns them all.
pub fn ensure(
    thumbs: &Thumbnailer,
    file_id: i64,
    presets: &[Preset],
    mode: Mode,
) -> std::result::Result<Ensured, JobError> {
    let mut conn = thumbs.pool.get()?;
    let f = file::find(&mut conn, file_id)?.ok_or(Error::NotFound)?;
    let Some(meta) = image::find(&mut conn, file_id)? else {
        return Ok(Ensured::NotAnImage);
    };
    if Format::from_mime(&f.mime_type).is_none() {
        return Ok(Ensured::NotAnImage);
    }
    match (thumbnail_failure::find(&mut conn, file_id)?, mode) {
        (Some(_), Mode::Command) => {
            thumbnail_failure::clear(&mut conn, file_id)?;
        }
        (Some(failure), _) => return Ok(Ensured::Failed(failure.reason)),
        (None, _) => {}
    }
    let wanted: Vec<(String, ThumbnailSpec)> = presets
        .iter()
        .map(|p| (p.name.clone(), spec_for(p, &meta)))
        .collect();
    let mut missing = Vec::new();
    for (_, spec) in &wanted {
        let key = spec.key();
        if thumbnail::find_for_spec(&mut conn, file_id, &key)?.is_none()
            && !missing.iter().any(|s: &ThumbnailSpec| s.key() == key)
        {
            missing.push(*spec);
        }
    }
    // No connection is held while pixels are crunched.
    drop(conn);
    if !missing.is_empty() {
        let mut mine = Vec::new();
        let mut theirs = Vec::new();
        for spec in &missing {
            match thumbs.scheduler.claim(file_id, &spec.key()) {
                Claim::Mine(flight) => mine.push((*spec, flight)),
                Claim::Theirs(flight) => theirs.push(flight),
            }
        }
        let mut failed = None;
        if !mine.is_empty()
            && let Some(reason) = make(thumbs, &f, mine, mode)?
        {
            failed = Some(reason);
        }
        for flight in theirs {
            match flight.wait() {
                FlightEnd::Done => {}
                FlightEnd::Failed(reason) => failed = Some(reason),
                FlightEnd::Error(e) => return Err(JobError::Other(e)),
            }
        }
        if let Some(reason) = failed {
            return Ok(Ensured::Failed(reason));
        }
    }
    let mut conn = thumbs.pool.get()?;
    let mut ready = Vec::new();
    for (name, spec) in wanted {
        match thumbnail::find_for_spec(&mut conn, file_id, &spec.key())? {
            Some(t) => ready.push((name, t)),
            None => return Err(JobError::Changed),
        }
    }
    Ok(Ensured::Ready(ready))
}

/// Runs one job: a slot, one decode, every owned spec rendered and stored. Returns
/// `Some(reason)` when the image cannot be thumbnailed (recorded), an error for everything
/// else.
fn make(
    thumbs: &Thumbnailer,
    f: &File,
    mine: Vec<(ThumbnailSpec, scheduler::OwnedFlight)>,
    mode: Mode,
) -> std::result::Result<Option<String>, JobError> {
    let limit = thumbs.settings.time_limit;
    let wait = match mode {
        Mode::Request => Some(limit),
        Mode::Background | Mode::Command => None,
    };
    let Some(slot) = thumbs.scheduler.slot(wait) else {
        for (_, flight) in mine {
            flight.finish(FlightEnd::Error(JobError::Busy.to_string()));
        }
        return Err(JobError::Busy);
    };
    let deadline = Deadline::after(limit);
    let specs: Vec<ThumbnailSpec> = mine.iter().map(|(s, _)| *s).collect();
    let rendered = render_all(thumbs, f, &specs, deadline);
    drop(slot);
    match rendered {
        Ok(outputs) => {
            let mut conn = thumbs.pool.get()?;
            let mut result = Ok(());
            for ((spec, flight), out) in mine.into_iter().zip(outputs) {
                match record(thumbs, &mut conn, f, &spec, &out) {
                    Ok(_) => flight.finish(FlightEnd::Done),
                    Err(e) => {
                        flight.finish(FlightEnd::Error(e.to_string()));
                        result = Err(e);
                    }
                }
            }
            result.map(|()| None)
        }
        Err(JobError::Image(reason)) => {
            let mut conn = thumbs.pool.get()?;
            thumbnail_failure::record(&mut conn, f.id, &reason)?;
            tracing::info!(file_id = f.id, %reason, "thumbnails cannot be made");
            for (_, flight) in mine {
                flight.finish(FlightEnd::Failed(reason.clone()));
            }
            Ok(Some(reason))
        }
        Err(e) => {
            for (_, flight) in mine {
                flight.finish(FlightEnd::Error(e.to_string()));
            }
            Err(e)
        }
    }
}

/// Decodes the source once and renders every spec. A failure that belongs to the image is
/// `JobError::Image(reason)`.
fn render_all(
    thumbs: &Thumbnailer,
    f: &File,
    specs: &[ThumbnailSpec],
    deadline: Deadline,
) -> std::result::Result<Vec<images::Rendered>, JobError> {
    let image_failure = |e: ImageError| {
        if e.is_permanent() {
            JobError::Image(e.to_string())
        } else {
            JobError::Other(e.to_string())
        }
    };
    let format = Format::from_mime(&f.mime_type)
        .ok_or_else(|| JobError::Image("the file is not an image Coffer reads".into()))?;
    let key = StorageKey::parse(&f.storage_key)
        .map_err(|_| JobError::Other(format!("file {} has an invalid storage key", f.id)))?;
    let source = thumbs.storages.main(f.is_public).open_read(&key)?;
    let probe = images::probe(source.try_clone().map_err(StorageError::Io)?, format)
        .map_err(image_failure)?;
    thumbs
        .limits
        .check_dimensions(probe.stored_width, probe.stored_height)
        .map_err(image_failure)?;
    let need = specs
        .iter()
        .map(|s| images::render::decode_size((probe.width, probe.height), s))
        .fold((1, 1), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    let mut source = source;
    std::io::Seek::rewind(&mut source).map_err(StorageError::Io)?;
    let decoded =
        images::decode(source, &probe, need, &thumbs.limits, deadline).map_err(image_failure)?;
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        deadline.check().map_err(image_failure)?;
        out.push(images::render(&decoded, spec).map_err(image_failure)?);
    }
    deadline.check().map_err(image_failure)?;
    Ok(out)
}

/// Stores a rendered thumbnail and records its row, if the source still is where it was.
fn record(
    thumbs: &Thumbnailer,
    conn: &mut DbConn,
    f: &File,
    spec: &ThumbnailSpec,
    out: &images::Rendered,
) -> std::result::Result<Thumbnail, JobError> {
    let spec_key = spec.key();
    let source = StorageKey::parse(&f.storage_key)
        .map_err(|_| JobError::Other(format!("file {} has an invalid storage key", f.id)))?;
    let key = source
        .derived(&format!("{spec_key}.{}", out.extension))
        .map_err(|_| JobError::Other("the thumbnail key would be invalid".into()))?;
    let storage = thumbs.storages.thumbnails(f.is_public);
    // Held (locked) until the row is recorded: `coffer check --repair` leaves it alone.
    let _held = match storage.put_bytes_held(&key, &out.bytes) {
        Ok(held) => held,
        Err(StorageError::AlreadyExists) => {
            if let Some(t) = thumbnail::find_by_key(conn, key.as_str())? {
                return Ok(t);
            }
            // Left by an interrupted job: no row names it, so it is ours to replace.
            storage.delete(&key)?;
            storage.put_bytes_held(&key, &out.bytes)?
        }
        Err(e) => return Err(e.into()),
    };
    let inserted = crate::db::write_transaction(conn, |conn| {
        // Locks the source row (PostgreSQL) and checks it still names these bytes.
        let still_there = diesel::update(
            files::table
                .filter(files::id.eq(f.id))
                .filter(files::storage_key.eq(&f.storage_key))
                .filter(files::is_public.eq(f.is_public)),
        )
        .set(files::modified_at.eq(files::modified_at))
        .execute(conn)?;
        if still_there == 0 {
            return Ok::<_, DbError>(None);
        }
        let size = i64::try_from(out.bytes.len()).unwrap_or(i64::MAX);
        thumbnail::insert(conn, f.id, &spec_key, key.as_str(), out.mime_type, size).map(Some)
    });
    match inserted {
        Ok(Some(t)) => Ok(t),
        Ok(None) => {
            storage.delete(&key)?;
            Err(JobError::Changed)
        }
        // Someone recorded it first (another process): theirs names the same object.
        Err(e) if e.is_unique_violation() => {
            thumbnail::find_for_spec(conn, f.id, &spec_key)?.ok_or(JobError::Changed)
        }
        Err(e) => {
            if thumbnail::find_by_key(conn, key.as_str())?.is_none() {
                storage.delete(&key)?;
            }
            Err(e.into())
        }
    }
}

/// Stores `bytes`, made elsewhere, as the thumbnail `spec` of file `file_id` (the object
/// beside the file's, in the thumbnail storage of its side, then its row): `coffer
/// doctor`'s probe image. Returns the object's key.
pub fn store_given(
    thumbs: &Thumbnailer,
    conn: &mut DbConn,
    file_id: i64,
    spec: &str,
    extension: &str,
    mime_type: &str,
    bytes: &[u8],
) -> Result<StorageKey> {
    let f = file::find(conn, file_id)?.ok_or(Error::NotFound)?;
    let key = StorageKey::parse(&f.storage_key)
        .and_then(|source| source.derived(&format!("{spec}.{extension}")))
        .map_err(|_| Error::Invalid(format!("file {file_id} has an invalid storage key")))?;
    thumbs
        .storages
        .thumbnails(f.is_public)
        .put_bytes(&key, bytes)?;
    thumbnail::insert(
        conn,
        f.id,
        spec,
        key.as_str(),
        mime_type,
        i64::try_from(bytes.len()).unwrap_or(i64::MAX),
    )?;
    Ok(key)
}

/// Drops thumbnails of a file (all of them, or those `which` selects by spec key): rows and
/// the failure record go in one transaction that schedules the objects for deletion, which
/// follows right after. Call it when a file's content is replaced; returns how many
/// thumbnails were dropped.
pub fn forget_thumbnails(
    thumbs: &Thumbnailer,
    conn: &mut DbConn,
    file_id: i64,
    which: impl Fn(&str) -> bool,
) -> Result<usize> {
    let f = file::find(conn, file_id)?.ok_or(Error::NotFound)?;
    let n = crate::db::write_transaction(conn, |conn| {
        let mut n = 0;
        for t in thumbnail::for_file(conn, f.id)? {
            if !which(&t.spec) {
                continue;
            }
            journal::add_garbage(
                conn,
                StorageRole::thumbnails(f.is_public).as_str(),
                &t.storage_key,
            )?;
            thumbnail::delete(conn, t.id)?;
            n += 1;
        }
        thumbnail_failure::clear(conn, f.id)?;
        Ok::<_, Error>(n)
    })?;
    super::delete::collect_garbage(&thumbs.storages, conn)?;
    Ok(n)
}

/// Drops every thumbnail and failure record (`coffer thumbnails clear`).
pub fn clear_all(thumbs: &Thumbnailer, conn: &mut DbConn) -> Result<usize> {
    let n = crate::db::write_transaction(conn, |conn| {
        let all = thumbnail::all_with_storage(conn)?;
        for (t, public) in &all {
            journal::add_garbage(
                conn,
                StorageRole::thumbnails(*public).as_str(),
                &t.storage_key,
            )?;
            thumbnail::delete(conn, t.id)?;
        }
        thumbnail_failure::clear_all(conn)?;
        Ok::<_, Error>(all.len())
    })?;
    super::delete::collect_garbage(&thumbs.storages, conn)?;
    Ok(n)
}

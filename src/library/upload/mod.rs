//! Uploads: the target (folder, owner, visibility) is fixed before the first byte of a file
//! is read ([`TargetFields`]), checked ([`authorize`]), then the bytes are ingested (see
//! `storage::ingest`) into staged objects ([`stage`]), and finally every row of the request
//! is inserted in one transaction that checks the target again where the rows landed
//! ([`commit`]). A refusal or failure at any step leaves no object and no row. Images then
//! get their eager thumbnails in the background.

use bytes::Bytes;
use futures_util::Stream;

use super::Library;
use crate::db::models::file::{self, File, NewFile};
use crate::db::models::{User, folder, generation, user};
use crate::db::{self, DbConn};
use crate::domain::name::ItemName;
use crate::permissions::Right;
use crate::storage::{self, StorageRole};

use super::access::{Access, Target};
use super::{Error, Result, image_files};

mod fields;

pub use fields::{FieldNames, TargetFields};

/// Where and how an upload is stored.
#[derive(Clone, Debug, Default)]
pub struct UploadTarget {
    /// `None` = unsorted uploads.
    pub folder_id: Option<i64>,
    /// `None` = the configured default.
    pub is_public: Option<bool>,
    /// `None` = the uploader. Superusers only.
    pub owner_id: Option<i64>,
    pub description: String,
    /// What happens when a file of the same name is already there.
    pub on_conflict: OnConflict,
}

/// What an upload does when the folder already holds a file shown under the same name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Keep both: the new file gets a free name, `notes (2).txt` (the default).
    #[default]
    Rename,
    /// Replace: the upload becomes the existing file's new content, and its current content
    /// a version (needs edit on the existing file).
    Version,
    /// Refuse the whole request; nothing is stored.
    Fail,
    /// Leave that file out; the others are stored.
    Skip,
}

impl OnConflict {
    /// `rename`, `version`, `fail` or `skip`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "" | "rename" => OnConflict::Rename,
            "version" => OnConflict::Version,
            "fail" => OnConflict::Fail,
            "skip" => OnConflict::Skip,
            _ => return None,
        })
    }
}

/// Checks that `user` may upload to `target`: add-children on the folder (any active user
/// may upload to their own unsorted uploads); a different owner needs a superuser. A missing
/// folder answers like a hidden one.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn authorize(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    target: &UploadTarget,
) -> Result<()> {
    let access = lib.access(conn, Some(user))?;
    authorize_with(conn, &access, target)
}

/// [`authorize`] against an already loaded permission snapshot (inside a transaction, where
/// the snapshot must not be reloaded).
fn authorize_with(conn: &mut DbConn, access: &Access<'_>, target: &UploadTarget) -> Result<()> {
    let user = access.caller().ok_or(Error::NotFound)?;
    if let Some(folder_id) = target.folder_id {
        folder::find(conn, folder_id)?.ok_or(Error::NotFound)?;
        access.require(Right::AddChildren, Target::Folder(folder_id))?;
    }
    if let Some(owner) = target.owner_id
        && owner != user.id
    {
        if !user.is_superuser {
            return Err(Error::Forbidden(
                "only superusers may upload on behalf of another user".into(),
            ));
        }
        user::find(conn, owner)?
            .ok_or_else(|| Error::Invalid(format!("user {owner} does not exist")))?;
    }
    // An owner whose quota is used up is refused before any byte is read.
    super::quota::check_not_full(conn, target.owner_id.unwrap_or(user.id))?;
    Ok(())
}

/// Which of `names` (as a browser would send them) are already shown in the place `user`
/// would upload them to: the question to ask before sending. Needs the right to upload
/// there, so it tells nothing to anyone else.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn taken_names(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    folder_id: Option<i64>,
    names: &[String],
) -> Result<Vec<String>> {
    let target = UploadTarget {
        folder_id,
        ..UploadTarget::default()
    };
    let access = lib.access(conn, Some(user))?;
    authorize_with(conn, &access, &target)?;
    let mut taken = Vec::new();
    for name in names.iter().take(1000) {
        let clean = clean_original_name(name);
        if file::find_labelled(conn, folder_id, Some(user.id), &clean)?.is_some() {
            taken.push(name.clone());
        }
    }
    Ok(taken)
}

/// The name kept for downloads: the last `/`-separated part (browsers uploading a folder send
/// relative paths), then [`ItemName::sanitize`]: characters a name may not hold are dropped
/// (control, bidirectional and zero-width characters), NFC, at most 255 characters, never
/// empty, `.` or `..` (those become "upload").
pub fn clean_original_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    ItemName::sanitize(base, "upload").into_string()
}

/// A file whose bytes are stored but that no row names yet: dropped, its object goes.
#[derive(Debug)]
pub struct Staged {
    ingested: storage::Ingested,
    original_filename: String,
    is_public: bool,
    header: image_files::Header,
}

/// Ingests `body` for `user`'s upload to `target` without inserting a row (see [`commit`]).
pub async fn stage<S, E>(
    lib: &Library,
    user: &User,
    target: &UploadTarget,
    original_filename: &str,
    body: S,
) -> Result<Staged>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let original_filename = clean_original_name(original_filename);
    let mut is_public = target.is_public.unwrap_or(lib.settings.is_public_default);
    if target.on_conflict == OnConflict::Version {
        // A new content goes where the file it replaces lives.
        let (t, name) = (target.clone(), original_filename.clone());
        let owner = target.owner_id.unwrap_or(user.id);
        let replaced = db::run(&lib.pool, move |conn| {
            Ok::<_, Error>(file::find_labelled(conn, t.folder_id, Some(owner), &name)?)
        })
        .await;
        if let Ok(Some(existing)) = replaced {
            is_public = existing.is_public;
        }
    }
    let storage = lib.storages.get(StorageRole::main(is_public));
    let ingested = storage::ingest(
        storage,
        body,
        lib.settings.max_upload_size,
        &original_filename,
        lib.settings.path_generator,
    )
    .await?;
    // Images: size, orientation and date from the header (no decode), recorded with the row.
    let header = {
        let (st, key, mime) = (
            lib.clone(),
            ingested.key.clone(),
            ingested.mime_type.clone(),
        );
        tokio::task::spawn_blocking(move || image_files::read_header(&st, &key, is_public, &mime))
            .await
            .map_err(|e| Error::Db(crate::db::DbError::Blocking(e.to_string())))?
    };
    Ok(Staged {
        ingested,
        original_filename,
        is_public,
        header,
    })
}

/// What became of one staged file.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A new file (under a free name if `renamed_from` is set).
    Created {
        file: File,
        renamed_from: Option<String>,
    },
    /// The new content of the file of that name; its old content is a version now.
    Replaced(File),
    /// Left out: a file of that name is there (`OnConflict::Skip`).
    Skipped(String),
}

impl Outcome {
    /// The file stored or replaced.
    pub fn file(&self) -> Option<&File> {
        match self {
            Outcome::Created { file, .. } | Outcome::Replaced(file) => Some(file),
            Outcome::Skipped(_) => None,
        }
    }
}

/// What an upload did, in words: "Uploaded 3 file(s). “a.txt” was stored as “a (2).txt”.
/// Replaced the content of “b.txt” (the old one is a version). Skipped “c.txt” (a file of
/// that name is there)."
pub fn summary(outcomes: &[Outcome]) -> String {
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Created { .. }))
        .count();
    let mut out = format!("Uploaded {created} file(s).");
    for o in outcomes {
        match o {
            Outcome::Created {
                file,
                renamed_from: Some(from),
            } => out.push_str(&format!(
                " A file named “{from}” was already there: the new one is “{}”.",
                file.label()
            )),
            Outcome::Replaced(file) => out.push_str(&format!(
                " Replaced the content of “{}” (the earlier content is kept as a version).",
                file.label()
            )),
            Outcome::Skipped(name) => out.push_str(&format!(
                " Skipped “{name}”: a file of that name is already there."
            )),
            Outcome::Created { .. } => {}
        }
    }
    out
}

/// [`commit_reporting`], keeping only the files stored or replaced.
pub async fn commit(
    lib: &Library,
    user: &User,
    target: &UploadTarget,
    staged: Vec<Staged>,
) -> Result<Vec<File>> {
    Ok(commit_reporting(lib, user, target, staged)
        .await?
        .into_iter()
        .filter_map(|o| o.file().cloned())
        .collect())
}

/// Inserts the rows of `staged` in one transaction, then checks `target` again with the rows
/// in place (the folder may have been deleted, or the rights changed, while the bytes
/// streamed): a missing folder answers `NotFound`, a refusal rolls everything back, and the
/// staged objects are deleted. A name already taken in the folder is handled as
/// `target.on_conflict` says. On success every object kept is named by a row; a skipped
/// file's object is deleted.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn commit_reporting(
    lib: &Library,
    user: &User,
    target: &UploadTarget,
    staged: Vec<Staged>,
) -> Result<Vec<Outcome>> {
    fail::fail_point!("upload::before-insert", |_| Err(Error::Invalid(
        "injected failure before the row insert".into()
    )));
    let rows: Vec<(NewFile, image_files::Header)> = staged
        .iter()
        .map(|s| {
            (
                NewFile {
                    folder_id: target.folder_id,
                    owner_id: Some(target.owner_id.unwrap_or(user.id)),
                    original_filename: s.original_filename.clone(),
                    name: String::new(),
                    description: target.description.clone(),
                    is_public: s.is_public,
                    storage_key: s.ingested.key.to_string(),
                    size: i64::try_from(s.ingested.size).unwrap_or(i64::MAX),
                    sha256: s.ingested.sha256.clone(),
                    mime_type: s.ingested.mime_type.clone(),
                },
                s.header.clone(),
            )
        })
        .collect();
    let (st, u, t) = (lib.clone(), user.clone(), target.clone());
    let keep = lib.settings.versions_keep;
    let inserted = db::run(&lib.pool, move |conn| {
        // The permission snapshot is read inside the transaction, so changes committed
        // while it waited for the write lock (another writer's new folder) are decided
        // on, not refused. On SQLite nothing changes until it commits; on PostgreSQL a
        // change committed before the rows are in rolls it back to be tried again.
        for _ in 0..COMMIT_TRIES {
            let tried = crate::db::write_transaction(conn, |conn| {
                let access = st.access(conn, Some(&u))?;
                // Rows first: on SQLite the insert takes the write lock, on PostgreSQL the
                // foreign key locks the folder row; the check below sees the latest state.
                let mut out = Vec::with_capacity(rows.len());
                for (new, header) in &rows {
                    out.push(place(conn, &access, &t, new, header, keep)?);
                }
                if generation::current(conn).map_err(Error::Db)? != access.generation() {
                    return Err(Tx::Retry);
                }
                authorize_with(conn, &access, &t)?;
                // The rows are in: the owner's usage counts them, so the quota must hold.
                super::quota::check_room(conn, t.owner_id.unwrap_or(u.id), 0)?;
                Ok(out)
            });
            match tried {
                Ok(out) => return Ok(out),
                Err(Tx::Retry) => continue,
                Err(Tx::Failed(e)) => return Err(e),
            }
        }
        Err(Error::Conflict(
            "the permissions kept changing during the upload; nothing was stored, try again".into(),
        ))
    })
    .await?;
    let mut outcomes = Vec::with_capacity(inserted.len());
    for (s, (outcome, queue)) in staged.into_iter().zip(inserted) {
        match &outcome {
            Outcome::Skipped(_) => drop(s), // its guard deletes the object
            Outcome::Created { file, .. } => {
                s.ingested.guard.disarm();
                if queue {
                    super::thumbnails::queue(&lib.thumbnails, file.id);
                }
            }
            Outcome::Replaced(file) => {
                s.ingested.guard.disarm();
                let (st, id) = (lib.clone(), file.id);
                db::run(&lib.pool, move |conn| {
                    super::delete::collect_garbage(&st.storages, conn)?;
                    image_files::refresh(&st, conn, id)
                })
                .await?;
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Inside the commit transaction: records one staged file, as `target.on_conflict` says
/// when the folder already shows a file under its name. Returns the outcome and whether
/// the new row's thumbnails are to be queued.
fn place(
    conn: &mut DbConn,
    access: &Access<'_>,
    target: &UploadTarget,
    new: &NewFile,
    header: &image_files::Header,
    keep: usize,
) -> std::result::Result<(Outcome, bool), Tx> {
    let existing = file::find_labelled(conn, new.folder_id, new.owner_id, &new.original_filename)?;
    let Some(existing) = existing else {
        let row = file::insert(conn, new).map_err(gone_folder)?;
        let queue = image_files::record_header(conn, row.id, header)?;
        return Ok((
            Outcome::Created {
                file: row,
                renamed_from: None,
            },
            queue,
        ));
    };
    match target.on_conflict {
        OnConflict::Skip => Ok((Outcome::Skipped(new.original_filename.clone()), false)),
        OnConflict::Fail => Err(Tx::Failed(Error::Conflict(format!(
            "a file named “{}” is already there; nothing was uploaded",
            new.original_filename
        )))),
        OnConflict::Rename => {
            let name = free_label(conn, new.folder_id, new.owner_id, &new.original_filename)?;
            let renamed = NewFile {
                original_filename: name,
                ..new.clone()
            };
            let row = file::insert(conn, &renamed).map_err(gone_folder)?;
            let queue = image_files::record_header(conn, row.id, header)?;
            Ok((
                Outcome::Created {
                    file: row,
                    renamed_from: Some(new.original_filename.clone()),
                },
                queue,
            ))
        }
        OnConflict::Version => {
            access.require(Right::Edit, &existing)?;
            if existing.is_public != new.is_public
                || crate::db::models::journal::move_in_progress(conn, existing.id)?
            {
                return Err(Tx::Failed(Error::Conflict(format!(
                    "“{}” is being moved between storages; nothing was uploaded, try again",
                    existing.label()
                ))));
            }
            file::set_content(
                conn,
                existing.id,
                &new.storage_key,
                &new.original_filename,
                new.size,
                &new.sha256,
                &new.mime_type,
            )?;
            super::versions::keep(conn, &existing, access.caller().map_or(0, |u| u.id), keep)?;
            let row = file::find(conn, existing.id)?.ok_or(Error::NotFound)?;
            Ok((Outcome::Replaced(row), false))
        }
    }
}

/// `name` made free among the files shown directly in the folder: `notes (2).txt`,
/// `notes (3).txt`, …
fn free_label(
    conn: &mut DbConn,
    folder_id: Option<i64>,
    owner: Option<i64>,
    name: &str,
) -> Result<String> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    for n in 2..10_000 {
        let candidate = format!("{stem} ({n}){ext}");
        if file::find_labelled(conn, folder_id, owner, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(Error::Conflict(format!("no free name for “{name}” here")))
}

const COMMIT_TRIES: usize = 5;

/// How a commit transaction ends early: rolled back to try again, or refused.
enum Tx {
    Retry,
    Failed(Error),
}

impl From<Error> for Tx {
    fn from(e: Error) -> Self {
        Tx::Failed(e)
    }
}

impl From<crate::db::DbError> for Tx {
    fn from(e: crate::db::DbError) -> Self {
        Tx::Failed(e.into())
    }
}

impl From<diesel::result::Error> for Tx {
    fn from(e: diesel::result::Error) -> Self {
        Tx::Failed(e.into())
    }
}

/// A foreign-key violation on insert: the folder (or owner) was deleted meanwhile.
fn gone_folder(e: crate::db::DbError) -> Error {
    match e {
        crate::db::DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => Error::NotFound,
        other => Error::Db(other),
    }
}

/// Stores `body` as one new file: [`stage`], then [`commit`]. The caller has called
/// [`authorize`] (so that a refused request reads no bytes); it is checked again at commit.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn store<S, E>(
    lib: &Library,
    user: &User,
    target: &UploadTarget,
    original_filename: &str,
    body: S,
) -> Result<File>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let staged = stage(lib, user, target, original_filename, body).await?;
    commit(lib, user, target, vec![staged])
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

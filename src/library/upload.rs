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
    Ok(())
}

/// The name kept for downloads: the last `/`-separated part (browsers uploading a folder send
/// relative paths), then [`ItemName::sanitize`]: characters a name may not hold are dropped
/// (control, bidirectional and zero-width characters), NFC, at most 255 characters, never
/// empty, `.` or `..` (those become "upload").
pub fn clean_original_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    ItemName::sanitize(base, "upload").into_string()
}

/// The fields that choose an upload's target, read from a multipart body part by part.
///
/// Every target field must come before the first file part and at most once (a repeated
/// field, or one after a file, refuses the whole request), so that the target checked
/// before the first file is the one every file of the request lands in.
#[derive(Debug)]
pub struct TargetFields {
    form: FieldNames,
    target: UploadTarget,
    seen: Vec<&'static str>,
    files: usize,
}

/// Which field names a form uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldNames {
    /// The admin's upload form: `folder` (empty = unsorted uploads); other fields ignored.
    Admin,
    /// The JSON API: `folder_id`, `is_public`, `owner_id`, `description`; others refused.
    Api,
}

impl TargetFields {
    /// Starts from `initial` (the API's query parameters); a field given there may not be
    /// given again in the body.
    pub fn new(form: FieldNames, initial: UploadTarget) -> Self {
        let mut seen = Vec::new();
        if initial.folder_id.is_some() {
            seen.push("folder");
        }
        if initial.is_public.is_some() {
            seen.push("is_public");
        }
        if initial.owner_id.is_some() {
            seen.push("owner_id");
        }
        TargetFields {
            form,
            target: initial,
            seen,
            files: 0,
        }
    }

    /// One non-file part.
    pub fn field(&mut self, name: &str, value: &str) -> Result<()> {
        let key: &'static str = match (self.form, name) {
            (FieldNames::Admin, "folder") | (FieldNames::Api, "folder_id") => "folder",
            (FieldNames::Api, "is_public") => "is_public",
            (FieldNames::Api, "owner_id") => "owner_id",
            (FieldNames::Api, "description") => "description",
            (FieldNames::Admin, _) => return Ok(()),
            (FieldNames::Api, other) => {
                return Err(Error::Invalid(format!("unknown field {other:?}")));
            }
        };
        if self.files > 0 {
            return Err(Error::Invalid(format!(
                "the {name} field must come before the file parts; nothing was uploaded"
            )));
        }
        if self.seen.contains(&key) {
            return Err(Error::Invalid(format!(
                "the {name} field is given more than once; nothing was uploaded"
            )));
        }
        self.seen.push(key);
        match key {
            "folder" => self.target.folder_id = parse_id(name, value)?,
            "is_public" => self.target.is_public = Some(parse_bool(name, value)?),
            "owner_id" => self.target.owner_id = parse_id(name, value)?,
            _ => {
                self.target.description = crate::domain::text::DESCRIPTION
                    .parse(value)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// A file part: from now on the target is fixed. [`authorize`] it before reading the
    /// first file's bytes.
    pub fn file(&mut self) -> &UploadTarget {
        self.files += 1;
        &self.target
    }

    /// The target so far (fixed once a file part was seen).
    pub fn target(&self) -> &UploadTarget {
        &self.target
    }
}

fn parse_id(name: &str, value: &str) -> Result<Option<i64>> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| Error::Invalid(format!("invalid value for {name}: {value:?}"))),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(Error::Invalid(format!(
            "invalid value for {name}: {value:?}"
        ))),
    }
}

/// A file whose bytes are stored but that no row names yet: dropped, its object goes.
#[derive(Debug)]
pub struct Staged {
    ingested: storage::Ingested,
    original_filename: String,
    is_public: bool,
    header: image_files::Header,
}

/// Ingests `body` for `target` without inserting a row (see [`commit`]).
pub async fn stage<S, E>(
    lib: &Library,
    target: &UploadTarget,
    original_filename: &str,
    body: S,
) -> Result<Staged>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let original_filename = clean_original_name(original_filename);
    let is_public = target.is_public.unwrap_or(lib.settings.is_public_default);
    let storage = lib.storages.get(StorageRole::main(is_public)).local();
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

/// Inserts the rows of `staged` in one transaction, then checks `target` again with the rows
/// in place (the folder may have been deleted, or the rights changed, while the bytes
/// streamed): a missing folder answers `NotFound`, a refusal rolls everything back, and the
/// staged objects are deleted. On success every object is kept.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn commit(
    lib: &Library,
    user: &User,
    target: &UploadTarget,
    staged: Vec<Staged>,
) -> Result<Vec<File>> {
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
    let inserted = db::run(&lib.pool, move |conn| {
        // The permission snapshot is loaded outside the transaction; if the permissions
        // change before the rows are in, the transaction is rolled back and tried again
        // with the new snapshot.
        for _ in 0..COMMIT_TRIES {
            let access = st.access(conn, Some(&u))?;
            let tried = crate::db::write_transaction(conn, |conn| {
                // Rows first: on SQLite the insert takes the write lock, on PostgreSQL the
                // foreign key locks the folder row; the check below sees the latest state.
                let mut out = Vec::with_capacity(rows.len());
                for (new, header) in &rows {
                    let row = file::insert(conn, new).map_err(gone_folder)?;
                    let queue = image_files::record_header(conn, row.id, header)?;
                    out.push((row, queue));
                }
                if generation::current(conn).map_err(Error::Db)? != access.generation() {
                    return Err(Tx::Retry);
                }
                authorize_with(conn, &access, &t)?;
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
    let mut files = Vec::with_capacity(inserted.len());
    for (s, (row, queue)) in staged.into_iter().zip(inserted) {
        s.ingested.guard.disarm();
        if queue {
            super::thumbnails::queue(&lib.thumbnails, row.id);
        }
        files.push(row);
    }
    Ok(files)
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
    let staged = stage(lib, target, original_filename, body).await?;
    commit(lib, user, target, vec![staged])
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Part {
        Field(&'static str, &'static str),
        File,
    }

    fn parts(names: &'static [&'static str]) -> impl Strategy<Value = Vec<Part>> {
        let values = prop::sample::select(vec!["4", "1", "", " 4 ", "x", "-1", "true", "no"]);
        let field = (prop::sample::select(names), values).prop_map(|(n, v)| Part::Field(n, v));
        prop::collection::vec(prop_oneof![field, Just(Part::File)], 0..10)
    }

    /// What a handler does with the parts: the target checked before the first file's bytes,
    /// the target each file is staged with, and the target its row is committed with; or
    /// the refusal of the whole request.
    fn run(
        form: FieldNames,
        initial: UploadTarget,
        seq: &[Part],
    ) -> Option<Vec<[UploadTarget; 3]>> {
        let mut fields = TargetFields::new(form, initial);
        let mut authorised = None;
        let mut staged = Vec::new();
        for part in seq {
            match part {
                Part::Field(n, v) => fields.field(n, v).ok()?,
                Part::File => {
                    let t = fields.file().clone();
                    authorised.get_or_insert_with(|| t.clone());
                    staged.push(t);
                }
            }
        }
        let committed = fields.target().clone();
        Some(
            staged
                .into_iter()
                .map(|s| [authorised.clone().unwrap(), s, committed.clone()])
                .collect(),
        )
    }

    fn same(a: &UploadTarget, b: &UploadTarget) -> bool {
        (a.folder_id, a.is_public, a.owner_id, &a.description)
            == (b.folder_id, b.is_public, b.owner_id, &b.description)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever the order, number or repetition of parts, every file lands where the
        /// check before the first file looked.
        #[test]
        fn no_part_order_moves_a_file_away_from_the_checked_target(
            admin in parts(&["folder", "folder", "csrf_token", "other"]),
            api in parts(&["folder_id", "is_public", "owner_id", "description", "unknown"]),
            query_folder in prop::option::of(prop::sample::select(vec![1_i64, 4])),
        ) {
            for (form, seq, initial) in [
                (FieldNames::Admin, &admin, UploadTarget::default()),
                (FieldNames::Api, &api, UploadTarget { folder_id: query_folder, ..UploadTarget::default() }),
            ] {
                if let Some(files) = run(form, initial, seq) {
                    for [checked, staged, committed] in &files {
                        prop_assert!(same(checked, staged) && same(checked, committed), "{seq:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_reported_sequence_and_repetitions_are_refused() {
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        f.field("csrf_token", "t").unwrap();
        f.field("folder", "4").unwrap();
        assert_eq!(f.file().folder_id, Some(4));
        assert!(matches!(f.field("folder", "1"), Err(Error::Invalid(_))));
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        f.field("folder", "4").unwrap();
        assert!(f.field("folder", "4").is_err());
        assert!(f.field("folder", "").is_err());
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        assert!(f.field("folder", "x").is_err());
        let mut f = TargetFields::new(
            FieldNames::Api,
            UploadTarget {
                folder_id: Some(4),
                ..UploadTarget::default()
            },
        );
        assert!(f.field("folder_id", "1").is_err());
        f.field("is_public", "true").unwrap();
        assert!(f.field("is_public", "false").is_err());
        assert!(f.field("bogus", "1").is_err());
    }
}

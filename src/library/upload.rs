//! Uploads: the permission check comes first, then the bytes are ingested (see
//! `storage::ingest`), then the row is inserted (with the image metadata, for images). A
//! failure at any step leaves no object and no row. Images then get their eager thumbnails
//! in the background.

use bytes::Bytes;
use diesel::Connection;
use futures_util::Stream;

use crate::db::models::file::{self, File, NewFile};
use crate::db::models::{User, folder, user};
use crate::db::{self, DbConn};
use crate::permissions::Right;
use crate::state::AppState;
use crate::storage::{self, StorageRole};

use super::{Error, Result, forbidden, hidden, images};

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
/// may upload to their own unsorted uploads); a different owner needs a superuser.
pub fn authorize(
    state: &AppState,
    conn: &mut DbConn,
    user: &User,
    target: &UploadTarget,
) -> Result<()> {
    if let Some(folder_id) = target.folder_id {
        folder::find(conn, folder_id)?
            .ok_or_else(|| Error::Invalid(format!("folder {folder_id} does not exist")))?;
        let loaded = state.access.snapshot(conn)?;
        let read = loaded.folder(state.access.policy(), Some(user), folder_id, Right::Read);
        if !read.allowed {
            return Err(hidden(state, &read));
        }
        let add = loaded.folder(
            state.access.policy(),
            Some(user),
            folder_id,
            Right::AddChildren,
        );
        if !add.allowed {
            return Err(forbidden(&add));
        }
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
/// relative paths), control characters dropped, at most 255 characters, never empty.
pub fn clean_original_name(name: &str) -> String {
    let base: String = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    if base.trim().is_empty() {
        "upload".to_owned()
    } else {
        base
    }
}

/// Stores `body` as a new file. The caller has called [`authorize`].
pub async fn store<S, E>(
    state: &AppState,
    user: &User,
    target: &UploadTarget,
    original_filename: &str,
    body: S,
) -> Result<File>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let original_filename = clean_original_name(original_filename);
    let is_public = target.is_public.unwrap_or(state.settings.is_public_default);
    let storage = state.storages.get(StorageRole::main(is_public)).local();
    let ingested = storage::ingest(
        storage,
        body,
        state.settings.max_upload_size,
        &original_filename,
        state.settings.path_generator,
    )
    .await?;
    let new = NewFile {
        folder_id: target.folder_id,
        owner_id: Some(target.owner_id.unwrap_or(user.id)),
        original_filename,
        name: String::new(),
        description: target.description.clone(),
        is_public,
        storage_key: ingested.key.to_string(),
        size: i64::try_from(ingested.size).unwrap_or(i64::MAX),
        sha256: ingested.sha256.clone(),
        mime_type: ingested.mime_type.clone(),
    };
    // Images: size, orientation and date from the header (no decode), recorded with the row.
    let header = {
        let (st, key, mime) = (
            state.clone(),
            ingested.key.clone(),
            ingested.mime_type.clone(),
        );
        tokio::task::spawn_blocking(move || images::read_header(&st, &key, is_public, &mime))
            .await
            .map_err(|e| Error::Db(crate::db::DbError::Blocking(e.to_string())))?
    };
    fail::fail_point!("upload::before-insert", |_| Err(Error::Invalid(
        "injected failure before the row insert".into()
    )));
    let (row, queue) = db::run(&state.pool, move |conn| {
        Ok(conn.transaction(|conn| {
            let row = file::insert(conn, &new)?;
            let queue = images::record_header(conn, row.id, &header)?;
            Ok::<_, Error>((row, queue))
        }))
    })
    .await??;
    ingested.guard.disarm();
    if queue {
        super::thumbnails::queue(state, row.id);
    }
    Ok(row)
}

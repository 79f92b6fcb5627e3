//! JSON shapes of the API (documented in `docs/api.md`; the field names are a contract).

use serde::Serialize;
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::models::{File, Folder, PermissionRow};
use crate::permissions::Grant;
use crate::state::AppState;
use crate::storage::StorageKey;

/// RFC 3339 in UTC, e.g. `2026-11-26T08:00:00.123456Z`.
pub fn timestamp(t: PrimitiveDateTime) -> String {
    t.assume_utc().format(&Rfc3339).unwrap_or_default()
}

/// A file object.
#[derive(Serialize)]
pub struct FileJson {
    pub id: i64,
    pub name: String,
    pub original_filename: String,
    pub description: String,
    pub folder_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub is_public: bool,
    pub size: i64,
    pub sha256: String,
    pub mime_type: String,
    /// Where the bytes are fetched now: the public URL or the checked URL.
    pub url: String,
    pub created_at: String,
    pub modified_at: String,
}

/// Where a file's bytes are fetched now.
pub fn file_url(state: &AppState, f: &File) -> String {
    match StorageKey::parse(&f.storage_key) {
        Ok(key) => state.storages.main(f.is_public).url(&key),
        Err(_) => String::new(),
    }
}

impl FileJson {
    pub fn new(state: &AppState, f: &File) -> Self {
        Self {
            id: f.id,
            name: f.label().to_owned(),
            original_filename: f.original_filename.clone(),
            description: f.description.clone(),
            folder_id: f.folder_id,
            owner_id: f.owner_id,
            is_public: f.is_public,
            size: f.size,
            sha256: f.sha256.clone(),
            mime_type: f.mime_type.clone(),
            url: file_url(state, f),
            created_at: timestamp(f.created_at),
            modified_at: timestamp(f.modified_at),
        }
    }
}

/// A folder object.
#[derive(Serialize)]
pub struct FolderJson {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub created_at: String,
    pub modified_at: String,
}

impl From<&Folder> for FolderJson {
    fn from(f: &Folder) -> Self {
        Self {
            id: f.id,
            name: f.name.clone(),
            parent_id: f.parent_id,
            owner_id: f.owner_id,
            created_at: timestamp(f.created_at),
            modified_at: timestamp(f.modified_at),
        }
    }
}

/// A folder permission object.
#[derive(Serialize)]
pub struct PermissionJson {
    pub id: i64,
    pub folder_id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub everybody: bool,
    pub can_read: &'static str,
    pub can_edit: &'static str,
    pub can_add_children: &'static str,
}

impl From<&PermissionRow> for PermissionJson {
    fn from(r: &PermissionRow) -> Self {
        Self {
            id: r.id,
            folder_id: r.folder_id,
            kind: r.scope.clone(),
            user_id: r.user_id,
            group_id: r.group_id,
            everybody: r.everybody,
            can_read: Grant::from(r.can_read).as_str(),
            can_edit: Grant::from(r.can_edit).as_str(),
            can_add_children: Grant::from(r.can_add_children).as_str(),
        }
    }
}

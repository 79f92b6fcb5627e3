//! JSON shapes of the API (documented in `docs/api.md`; the field names are a contract).

use serde::Serialize;
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::db::models::{File, Folder, ImageMeta, PermissionRow};
use crate::library::thumbnails::{self, Media};
use crate::permissions::Grant;
use crate::state::AppState;
use crate::storage::StorageKey;

/// RFC 3339 in UTC, e.g. `2026-11-26T08:00:00.123456Z`.
pub fn timestamp(t: PrimitiveDateTime) -> String {
    t.assume_utc().format(&Rfc3339).unwrap_or_default()
}

/// A file object.
#[derive(Serialize, ToSchema)]
#[schema(as = File)]
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
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub modified_at: String,
    /// Image metadata; `null` for files that are not images Coffer reads.
    pub image: Option<ImageJson>,
    /// Preset name → thumbnail URL (empty for non-images and images without thumbnails).
    pub thumbnails: std::collections::BTreeMap<String, String>,
    /// Why an image has no thumbnails (refused by the limits, unreadable, too slow).
    pub thumbnail_error: Option<String>,
    /// A type icon for the file (what to show when there is no thumbnail).
    pub icon: String,
}

/// The `image` part of a file object.
#[derive(Serialize, ToSchema)]
#[schema(as = Image)]
pub struct ImageJson {
    /// Width as displayed (after the EXIF orientation).
    pub width: i32,
    /// Height as displayed (after the EXIF orientation).
    pub height: i32,
    /// When the photo was taken (EXIF), the camera's local time without a zone.
    pub date_taken: Option<String>,
    /// The focal point crops follow, in displayed pixels.
    pub subject_location: Option<Point>,
    pub alt_text: String,
    pub caption: String,
}

/// A point in image pixels (the API's name for a focal point).
pub use crate::domain::focal::FocalPoint as Point;

impl From<&ImageMeta> for ImageJson {
    fn from(m: &ImageMeta) -> Self {
        let fmt =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        Self {
            width: m.width,
            height: m.height,
            date_taken: m.date_taken.and_then(|d| d.format(&fmt).ok()),
            subject_location: Point::from_stored(m.subject_location.as_deref()),
            alt_text: m.alt_text.clone(),
            caption: m.caption.clone(),
        }
    }
}

/// Where a file's bytes are fetched now.
pub fn file_url(state: &AppState, f: &File) -> String {
    match StorageKey::parse(&f.storage_key) {
        Ok(key) => state.library.storages.main(f.is_public).url(&key),
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
            image: None,
            thumbnails: Default::default(),
            thumbnail_error: None,
            icon: crate::storage::sniff::icon_url(&f.mime_type),
        }
    }

    /// Adds the image metadata and thumbnails (see `library::thumbnails::media`).
    pub fn with_media(mut self, media: Option<&Media>) -> Self {
        if let Some(m) = media {
            self.image = m.image.as_ref().map(ImageJson::from);
            self.thumbnails = m.thumbnails.clone();
            self.thumbnail_error = m.failure.clone();
        }
        self
    }
}

/// File objects with their media, for files already loaded (one blocking call).
pub async fn files_json(
    state: &AppState,
    files: Vec<File>,
) -> Result<Vec<FileJson>, crate::web::error::AppError> {
    let st = state.clone();
    let (files, media) = crate::db::run(&state.pool, move |conn| {
        thumbnails::media(&st.library.thumbnails, conn, &files).map(|m| (files, m))
    })
    .await?;
    Ok(files
        .iter()
        .map(|f| FileJson::new(state, f).with_media(media.get(&f.id)))
        .collect())
}

/// One file object with its media.
pub async fn file_json(state: &AppState, f: File) -> Result<FileJson, crate::web::error::AppError> {
    files_json(state, vec![f])
        .await?
        .pop()
        .ok_or(crate::web::error::AppError::NotFound)
}

/// A folder object.
#[derive(Serialize, ToSchema)]
#[schema(as = Folder)]
pub struct FolderJson {
    pub id: i64,
    pub name: String,
    /// `null`: a top-level folder.
    pub parent_id: Option<i64>,
    pub owner_id: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
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
#[derive(Serialize, ToSchema)]
#[schema(as = FolderPermission)]
pub struct PermissionJson {
    pub id: i64,
    /// `null` for a rule on all folders.
    pub folder_id: Option<i64>,
    #[serde(rename = "type")]
    #[schema(value_type = ScopeName)]
    pub kind: String,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub everybody: bool,
    #[schema(value_type = GrantName)]
    pub can_read: &'static str,
    #[schema(value_type = GrantName)]
    pub can_edit: &'static str,
    #[schema(value_type = GrantName)]
    pub can_add_children: &'static str,
}

/// Where a rule applies: all folders, the folder only, or the folder and its subtree.
/// (The names of `permissions::Scope`; only for the document.)
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ScopeName {
    All,
    This,
    Children,
}

/// What a rule says about one right. (The names of `permissions::Grant`; only for the
/// document.)
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum GrantName {
    Allow,
    Deny,
    Inherit,
}

/// Every error: `{"error": "<message for people>"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorJson {
    pub error: String,
}

/// The id of what was just created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// A user object (never the password hash).
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserJson {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&crate::db::models::User> for UserJson {
    fn from(u: &crate::db::models::User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            created_at: timestamp(u.created_at),
        }
    }
}

/// The inside of a folder (or the top level): what the caller may read.
#[derive(Serialize, ToSchema)]
pub struct Listing {
    pub folders: Vec<FolderJson>,
    pub files: Vec<FileJson>,
}

/// A new API token, shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    pub user_id: i64,
    /// `coffer_` and 64 hexadecimal characters.
    pub token: String,
}

/// A group's members after a change.
#[derive(Serialize, ToSchema)]
pub struct GroupMembers {
    pub id: i64,
    /// Ascending.
    pub user_ids: Vec<i64>,
}

/// What a folder deletion removed.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// The folder itself and its subfolders.
    pub deleted_folders: usize,
    pub deleted_files: usize,
    /// Whether they went to the trash (restorable) rather than being deleted for good.
    pub trashed: bool,
}

/// Whether a user may read, edit and add children, and why.
#[derive(Serialize, ToSchema)]
pub struct PermissionCheck {
    pub read: bool,
    pub edit: bool,
    pub add_children: bool,
    pub explain: Explanations,
}

/// One sentence per right (see `docs/permissions.md`).
#[derive(Serialize, ToSchema)]
pub struct Explanations {
    pub read: String,
    pub edit: String,
    pub add_children: String,
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

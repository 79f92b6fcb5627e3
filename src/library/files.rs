//! Reading and editing file rows with permission checks.

use diesel::prelude::*;

use super::Library;
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File, FileChanges};
use crate::domain::ids::{FileId, FolderId, UserId};
use crate::permissions::Right;

use super::{Access, Error, Result};

/// A file the user may read, or `NotFound` (403 with `debug`).
#[tracing::instrument(skip_all, fields(user_id = user.map(|u| u.id)))]
pub fn readable(lib: &Library, conn: &mut DbConn, user: Option<&User>, id: FileId) -> Result<File> {
    with_right(lib, conn, user, id, Right::Read).map(|(f, _)| f)
}

/// A file the user may read and edit.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn editable(lib: &Library, conn: &mut DbConn, user: &User, id: FileId) -> Result<File> {
    with_right(lib, conn, Some(user), id, Right::Edit).map(|(f, _)| f)
}

/// Whether `user` has `right` on the file.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn may(lib: &Library, conn: &mut DbConn, user: &User, right: Right, f: &File) -> Result<bool> {
    Ok(lib.access(conn, Some(user))?.can(right, f))
}

/// A file on which the user has `right` (unreadable answers like missing), with the access
/// it was checked with.
#[tracing::instrument(skip_all, fields(id))]
pub fn with_right<'u>(
    lib: &Library,
    conn: &mut DbConn,
    user: Option<&'u User>,
    id: FileId,
    right: Right,
) -> Result<(File, Access<'u>)> {
    let f = file::find(conn, id.get())?.ok_or(Error::NotFound)?;
    let access = lib.access(conn, user)?;
    access.require(right, &f)?;
    Ok((f, access))
}

/// Everything the admin's page of a file shows, decided for the user looking at it.
pub struct FilePage {
    pub file: File,
    /// Whether the viewer may edit the file (the form, the move and delete actions).
    pub can_edit: bool,
    /// Where the viewer may move it (empty without edit); the current folder first.
    pub destinations: Vec<super::picker::Destination>,
    /// Everyone, for a superuser choosing an owner: (id, username). Empty otherwise.
    pub users: Vec<(i64, String)>,
    /// Who can read the file, said in names the viewer may see.
    pub readers: Vec<super::readers::Reader>,
    /// The owner's username, "—" for none.
    pub owner_name: String,
    pub image: Option<crate::db::models::ImageMeta>,
    /// Why the image has no thumbnails.
    pub thumbnail_failure: Option<String>,
    /// Earlier contents, newest first.
    pub versions: Vec<super::versions::Listed>,
    /// The file's share links the viewer may see (theirs; all for superusers).
    pub shares: Vec<super::shares::Listed>,
}

/// The page of file `id` for `viewer` (who must be able to read it).
#[tracing::instrument(skip_all, fields(user_id = viewer.id, %id))]
pub fn page(lib: &Library, conn: &mut DbConn, viewer: &User, id: FileId) -> Result<FilePage> {
    let (f, access) = with_right(lib, conn, Some(viewer), id, Right::Read)?;
    let can_edit = access.can(Right::Edit, &f);
    let mut destinations = if can_edit {
        super::picker::destinations(lib, conn, viewer, &[])?
    } else {
        Vec::new()
    };
    if let Some(current) = f.folder_id
        && !destinations.iter().any(|d| d.id == current)
    {
        destinations.insert(
            0,
            super::picker::Destination {
                id: current,
                path: "(current folder)".into(),
            },
        );
    }
    let users = if viewer.is_superuser {
        crate::db::models::user::list(conn)?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect()
    } else {
        Vec::new()
    };
    let readers = super::readers::who_can_read(lib, conn, viewer, &f)?;
    let owner_name = owner_name(conn, &f)?;
    let versions = super::versions::listed(conn, f.id)?;
    let shares = super::shares::of_item(conn, viewer, super::shares::Item::File(id))?;
    Ok(FilePage {
        versions,
        shares,
        image: crate::db::models::image::find(conn, f.id)?,
        thumbnail_failure: crate::db::models::thumbnail_failure::find(conn, f.id)?
            .map(|t| t.reason),
        file: f,
        can_edit,
        destinations,
        users,
        readers,
        owner_name,
    })
}

/// The username of the file's owner, "—" for none.
pub fn owner_name(conn: &mut DbConn, f: &File) -> Result<String> {
    Ok(match f.owner_id {
        Some(o) => {
            crate::db::models::user::find(conn, o)?.map_or_else(|| "—".into(), |u| u.username)
        }
        None => "—".into(),
    })
}

/// Requested metadata changes, already parsed.
#[derive(Clone, Debug, Default)]
pub struct Edit {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` moves the file to the unsorted uploads.
    pub folder_id: Option<Option<FolderId>>,
    pub owner_id: Option<Option<UserId>>,
}

/// Applies metadata changes: needs edit on the file; a move needs add-children on the
/// destination (moving to unsorted uploads: only the file's owner or a superuser); a new
/// owner needs a superuser.
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub fn update(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FileId,
    edit: &Edit,
) -> Result<File> {
    let (f, access) = with_right(lib, conn, Some(user), id, Right::Edit)?;
    let description = edit
        .description
        .as_deref()
        .map(|d| crate::domain::text::DESCRIPTION.parse(d))
        .transpose()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let mut changes = FileChanges {
        description,
        ..FileChanges::default()
    };
    if let Some(name) = &edit.name {
        changes.name = Some(if name.trim().is_empty() {
            String::new()
        } else {
            super::check_name(name, "file")?
        });
    }
    if let Some(target) = edit.folder_id.map(|t| t.map(FolderId::get))
        && target != f.folder_id
    {
        match target {
            Some(folder_id) => {
                // A folder the user may not read is refused like a missing one.
                if super::visible::folder(conn, &access, folder_id)?.is_none() {
                    return Err(Error::Invalid(format!("folder {folder_id} does not exist")));
                }
                access.require(Right::AddChildren, super::access::Target::Folder(folder_id))?;
            }
            None => {
                if !user.is_superuser && f.owner_id != Some(user.id) {
                    return Err(Error::Forbidden(
                        "only the file's owner or a superuser may move it to the unsorted uploads"
                            .into(),
                    ));
                }
            }
        }
        changes.folder_id = Some(target);
    }
    if let Some(owner) = edit.owner_id.map(|o| o.map(UserId::get))
        && owner != f.owner_id
    {
        if !user.is_superuser {
            return Err(Error::Forbidden(
                "only superusers may change a file's owner".into(),
            ));
        }
        if let Some(o) = owner
            && crate::db::models::user::find(conn, o)?.is_none()
        {
            return Err(Error::Invalid(format!("user {o} does not exist")));
        }
        changes.owner_id = Some(owner);
    }
    file::update(conn, f.id, &changes)?;
    file::find(conn, f.id)?.ok_or(Error::NotFound)
}

/// Applies `edit` and, for an image, `image`: every value of both is checked before
/// anything is stored, so when one is refused nothing changes. A moved focal point then
/// drops the old crops and queues new ones.
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub fn update_with_image(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FileId,
    edit: &Edit,
    image: &super::image_files::ImageEdit,
) -> Result<File> {
    let checked = super::image_files::check_edit(lib, conn, user, id.get(), image)?;
    // Checks every field, then stores them in one statement.
    let mut after = update(lib, conn, user, id, edit)?;
    if let Some(checked) = checked {
        if super::image_files::store_edit(conn, &checked)? {
            super::image_files::recrop(lib, conn, id.get())?;
        }
        after = file::find(conn, id.get())?.ok_or(Error::NotFound)?;
    }
    Ok(after)
}

/// What [`save`] did.
pub struct Saved {
    pub file: File,
    /// Whether the file moved between public and private storage.
    pub moved: bool,
}

/// Saves a file's page or API edit: its fields and image fields ([`update_with_image`]),
/// then, when `public` is given, "Permissions disabled" (a move between storages, with its
/// thumbnails).
#[tracing::instrument(skip_all, fields(user_id = user.id, %id))]
pub fn save(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    id: FileId,
    edit: &Edit,
    image: &super::image_files::ImageEdit,
    public: Option<bool>,
) -> Result<Saved> {
    let before = update_with_image(lib, conn, user, id, edit, image)?;
    match public {
        Some(public) => Ok(Saved {
            moved: public != before.is_public,
            file: super::relocate::set_public_checked(lib, conn, user, id, public)?,
        }),
        None => Ok(Saved {
            file: before,
            moved: false,
        }),
    }
}

/// Replaces a file's bytes with `body` (needs edit). The new bytes go to the file's current
/// storage under a new key; in one transaction the row is repointed and the old bytes are
/// kept as a version (`versions.keep` deep: older versions, or the old bytes when none are
/// kept, are scheduled for deletion); the owner's quota must hold the new bytes. Then
/// [`super::image_files::refresh`] forgets the old thumbnails (rows, then objects), reads the image metadata again from the new header
/// (alt text and caption stay) and queues the eager thumbnails. The stable `/files/{id}/…`
/// URL keeps working; the direct URL changes.
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub async fn replace_content<S, E>(
    lib: &Library,
    user: &User,
    id: FileId,
    original_filename: &str,
    body: S,
) -> Result<File>
where
    S: futures_util::Stream<Item = std::result::Result<bytes::Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use crate::db::models::journal;
    use crate::storage;
    let (st, u) = (lib.clone(), user.clone());
    let f = crate::db::run(&lib.pool, move |conn| editable(&st, conn, &u, id)).await?;
    let name = super::upload::clean_original_name(original_filename);
    let storage = lib.storages.main(f.is_public);
    let ingested = storage::ingest(
        storage,
        body,
        lib.settings.max_upload_size,
        &name,
        lib.settings.path_generator,
    )
    .await?;
    let (key, size, sha, mime) = (
        ingested.key.to_string(),
        i64::try_from(ingested.size).unwrap_or(i64::MAX),
        ingested.sha256.clone(),
        ingested.mime_type.clone(),
    );
    let (st, u) = (lib.clone(), user.clone());
    let updated = crate::db::run(&lib.pool, move |conn| {
        let work = |conn: &mut crate::db::DbConn| -> Result<File> {
            let done = crate::db::write_transaction(conn, |conn| {
                // Still editable by this user now that the bytes are in, decided inside
                // the transaction: a permission change committed meanwhile is taken into
                // account, never a reason to refuse.
                with_right(&st, conn, Some(&u), FileId::new(f.id), Right::Edit)?;
                if journal::move_in_progress(conn, f.id)? {
                    return Ok::<_, Error>(None);
                }
                if let Some(owner) = f.owner_id {
                    super::quota::check_room(conn, owner, u64::try_from(size).unwrap_or(0))?;
                }
                let n = diesel::update(
                    crate::db::schema::files::table
                        .filter(crate::db::schema::files::id.eq(f.id))
                        .filter(crate::db::schema::files::storage_key.eq(&f.storage_key))
                        .filter(crate::db::schema::files::is_public.eq(f.is_public))
                        .filter(file::is_live()),
                )
                .set((
                    crate::db::schema::files::storage_key.eq(&key),
                    crate::db::schema::files::original_filename.eq(&name),
                    crate::db::schema::files::size.eq(size),
                    crate::db::schema::files::sha256.eq(&sha),
                    crate::db::schema::files::mime_type.eq(&mime),
                    crate::db::schema::files::modified_at.eq(crate::db::now()),
                ))
                .execute(conn)?;
                if n == 0 {
                    return Ok(None);
                }
                super::versions::keep(conn, &f, u.id, st.settings.versions_keep)?;
                Ok(Some(()))
            })?;
            if done.is_none() {
                return Err(Error::Conflict(
                    "the file changed or is being moved; try again".into(),
                ));
            }
            super::delete::collect_garbage(&st.storages, conn)?;
            // A thumbnail job of the old bytes that ends now records nothing: its source row
            // no longer names them.
            super::image_files::refresh(&st, conn, f.id)?;
            file::find(conn, f.id)?.ok_or(Error::NotFound)
        };
        work(conn)
    })
    .await?;
    ingested.guard.disarm();
    Ok(updated)
}

//! The trash: one entry per deleted file or folder. The item's rows stay, marked with the
//! entry's id (`files.trash_id`, `folders.trash_id`; a folder's whole subtree carries it),
//! so that every query for live items passes them by, until the entry is restored (the
//! marks go) or purged (the rows go).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{file_versions, files, folders, trash};
use crate::db::{DbConn, DbError, now};

use super::File;

/// A trash entry.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = trash)]
pub struct TrashEntry {
    pub id: i64,
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub name: String,
    pub original_folder_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub trashed_by: Option<i64>,
    pub trashed_at: PrimitiveDateTime,
    pub size: i64,
}

/// What a new entry records.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub file_id: Option<i64>,
    pub folder_id: Option<i64>,
    pub name: String,
    pub original_folder_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub trashed_by: i64,
    pub size: i64,
}

/// Records an entry (the caller marks the rows in the same transaction).
pub fn insert(conn: &mut DbConn, new: &NewEntry) -> Result<TrashEntry, DbError> {
    Ok(diesel::insert_into(trash::table)
        .values((
            trash::file_id.eq(new.file_id),
            trash::folder_id.eq(new.folder_id),
            trash::name.eq(&new.name),
            trash::original_folder_id.eq(new.original_folder_id),
            trash::owner_id.eq(new.owner_id),
            trash::trashed_by.eq(Some(new.trashed_by)),
            trash::trashed_at.eq(now()),
            trash::size.eq(new.size),
        ))
        .returning(trash::all_columns)
        .get_result::<TrashEntry>(conn)?)
}

/// One entry.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<TrashEntry>, DbError> {
    Ok(trash::table
        .filter(trash::id.eq(id))
        .select(TrashEntry::as_select())
        .first(conn)
        .optional()?)
}

/// The entries `user` sees (those they trashed or whose item they own), newest first; every
/// entry for `None` (superusers).
pub fn visible_to(conn: &mut DbConn, user: Option<i64>) -> Result<Vec<TrashEntry>, DbError> {
    let mut q = trash::table
        .select(TrashEntry::as_select())
        .order((trash::trashed_at.desc(), trash::id.desc()))
        .into_boxed();
    if let Some(u) = user {
        q = q.filter(trash::trashed_by.eq(u).or(trash::owner_id.eq(u)));
    }
    Ok(q.load(conn)?)
}

/// Entries trashed before `cutoff`, oldest first.
pub fn older_than(
    conn: &mut DbConn,
    cutoff: PrimitiveDateTime,
) -> Result<Vec<TrashEntry>, DbError> {
    Ok(trash::table
        .filter(trash::trashed_at.lt(cutoff))
        .select(TrashEntry::as_select())
        .order(trash::id.asc())
        .load(conn)?)
}

/// Marks a live file as trashed by `entry`, remembering whether it was public. Returns
/// whether the row was live.
pub fn mark_file(
    conn: &mut DbConn,
    file_id: i64,
    entry: i64,
    was_public: bool,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        files::table
            .filter(files::id.eq(file_id))
            .filter(files::trash_id.is_null()),
    )
    .set((
        files::trash_id.eq(Some(entry)),
        files::public_before_trash.eq(was_public),
    ))
    .execute(conn)?
        > 0)
}

/// Marks live folders (a subtree) and the live files in them as trashed by `entry`; `public`
/// lists the files that were public before the trash moved them.
pub fn mark_tree(
    conn: &mut DbConn,
    folder_ids: &[i64],
    entry: i64,
    public: &[i64],
) -> Result<(), DbError> {
    for chunk in folder_ids.chunks(5_000) {
        diesel::update(
            files::table
                .filter(files::folder_id.eq_any(chunk))
                .filter(files::trash_id.is_null()),
        )
        .set(files::trash_id.eq(Some(entry)))
        .execute(conn)?;
        diesel::update(
            folders::table
                .filter(folders::id.eq_any(chunk))
                .filter(folders::trash_id.is_null()),
        )
        .set(folders::trash_id.eq(Some(entry)))
        .execute(conn)?;
    }
    for chunk in public.chunks(5_000) {
        diesel::update(files::table.filter(files::id.eq_any(chunk)))
            .set(files::public_before_trash.eq(true))
            .execute(conn)?;
    }
    Ok(())
}

/// The rows an entry holds: (folder ids, files).
pub fn held(conn: &mut DbConn, entry: i64) -> Result<(Vec<i64>, Vec<File>), DbError> {
    let folders = folders::table
        .filter(folders::trash_id.eq(entry))
        .select(folders::id)
        .load(conn)?;
    let files = files::table
        .filter(files::trash_id.eq(entry))
        .select(File::as_select())
        .load(conn)?;
    Ok((folders, files))
}

/// Takes the marks of `entry` off its rows and returns the ids of the files that were public
/// before (their flag is cleared).
pub fn unmark(conn: &mut DbConn, entry: i64) -> Result<Vec<i64>, DbError> {
    let were_public = files::table
        .filter(files::trash_id.eq(entry))
        .filter(files::public_before_trash.eq(true))
        .select(files::id)
        .load(conn)?;
    diesel::update(files::table.filter(files::trash_id.eq(entry)))
        .set((
            files::trash_id.eq(None::<i64>),
            files::public_before_trash.eq(false),
        ))
        .execute(conn)?;
    diesel::update(folders::table.filter(folders::trash_id.eq(entry)))
        .set(folders::trash_id.eq(None::<i64>))
        .execute(conn)?;
    Ok(were_public)
}

/// Forgets an entry (its rows are unmarked or gone).
pub fn delete(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(trash::table.filter(trash::id.eq(id))).execute(conn)?)
}

/// Forgets entries whose item no longer exists (it went with a purged folder).
pub fn forget_orphans(conn: &mut DbConn) -> Result<usize, DbError> {
    let live_files = files::table.select(files::id.nullable());
    let live_folders = folders::table.select(folders::id.nullable());
    Ok(diesel::delete(
        trash::table.filter(
            (trash::file_id
                .is_not_null()
                .and(trash::file_id.ne_all(live_files)))
            .or(trash::folder_id
                .is_not_null()
                .and(trash::folder_id.ne_all(live_folders))),
        ),
    )
    .execute(conn)?)
}

/// The bytes `files` hold with their versions.
pub fn bytes_of(conn: &mut DbConn, files: &[File]) -> Result<i64, DbError> {
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let mut total: i64 = files.iter().map(|f| f.size).sum();
    for chunk in ids.chunks(5_000) {
        total += file_versions::table
            .filter(file_versions::file_id.eq_any(chunk))
            .select(super::sum_bytes("file_versions.size"))
            .first::<i64>(conn)?;
    }
    Ok(total)
}

/// The bytes of the entries trashed from any of `folder_ids`.
pub fn size_from(conn: &mut DbConn, folder_ids: &[i64]) -> Result<i64, DbError> {
    let mut total = 0;
    for chunk in folder_ids.chunks(5_000) {
        total += trash::table
            .filter(trash::original_folder_id.eq_any(chunk))
            .select(super::sum_bytes("trash.size"))
            .first::<i64>(conn)?;
    }
    Ok(total)
}

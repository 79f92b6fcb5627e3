//! File rows: what was uploaded, by whom, where it lives (`is_public` picks the storage,
//! `storage_key` the object inside it).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::files;
use crate::db::{DbConn, DbError, now};

/// A file row.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = files)]
pub struct File {
    pub id: i64,
    pub folder_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub original_filename: String,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    pub storage_key: String,
    pub size: i64,
    pub sha256: String,
    pub mime_type: String,
    pub created_at: PrimitiveDateTime,
    pub modified_at: PrimitiveDateTime,
}

impl File {
    /// The display name: `name` when set, else the original filename.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.original_filename
        } else {
            &self.name
        }
    }
}

/// A file about to be recorded; its bytes are already in place.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub folder_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub original_filename: String,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    pub storage_key: String,
    pub size: i64,
    pub sha256: String,
    pub mime_type: String,
}

/// Inserts a file row.
pub fn insert(conn: &mut DbConn, new: &NewFile) -> Result<File, DbError> {
    let at = now();
    Ok(diesel::insert_into(files::table)
        .values((
            files::folder_id.eq(new.folder_id),
            files::owner_id.eq(new.owner_id),
            files::original_filename.eq(&new.original_filename),
            files::name.eq(&new.name),
            files::description.eq(&new.description),
            files::is_public.eq(new.is_public),
            files::storage_key.eq(&new.storage_key),
            files::size.eq(new.size),
            files::sha256.eq(&new.sha256),
            files::mime_type.eq(&new.mime_type),
            files::created_at.eq(at),
            files::modified_at.eq(at),
        ))
        .returning((
            files::id,
            files::folder_id,
            files::owner_id,
            files::original_filename,
            files::name,
            files::description,
            files::is_public,
            files::storage_key,
            files::size,
            files::sha256,
            files::mime_type,
            files::created_at,
            files::modified_at,
        ))
        .get_result::<File>(conn)?)
}

/// Not in the trash. Every query that answers for live files (listings, search, counts,
/// lookups by id or key, downloads) filters on it; a trashed file is missing everywhere
/// but in the trash (`trash.rs`), the integrity check and permanent deletion.
pub fn is_live() -> diesel::dsl::IsNull<files::trash_id> {
    files::trash_id.is_null()
}

/// Finds a live file by id.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<File>, DbError> {
    Ok(crate::on_backend!(conn, c => files::table
        .filter(files::id.eq(id))
        .filter(is_live())
        .select(File::as_select())
        .get_result(c)
        .optional())?)
}

/// [`find`] with the permission generation, read in the same query (one round trip for
/// the checked download).
pub fn find_with_generation(conn: &mut DbConn, id: i64) -> Result<Option<(File, i64)>, DbError> {
    use crate::db::schema::permission_generation as g;
    Ok(crate::on_backend!(conn, c => files::table
        .inner_join(g::table.on(g::id.eq(1)))
        .filter(files::id.eq(id))
        .filter(is_live())
        .select((File::as_select(), g::generation))
        .get_result(c)
        .optional())?)
}

/// [`find_by_key`] with the permission generation, read in the same query.
pub fn find_by_key_with_generation(
    conn: &mut DbConn,
    key: &str,
    is_public: bool,
) -> Result<Option<(File, i64)>, DbError> {
    use crate::db::schema::permission_generation as g;
    Ok(crate::on_backend!(conn, c => files::table
        .inner_join(g::table.on(g::id.eq(1)))
        .filter(files::storage_key.eq(key))
        .filter(files::is_public.eq(is_public))
        .filter(is_live())
        .select((File::as_select(), g::generation))
        .get_result(c)
        .optional())?)
}

/// Files with these ids.
pub fn find_many(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<File>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(files::table
        .filter(files::id.eq_any(ids))
        .filter(is_live())
        .select(File::as_select())
        .load(conn)?)
}

/// The file stored under `key` in the given storage.
pub fn find_by_key(conn: &mut DbConn, key: &str, is_public: bool) -> Result<Option<File>, DbError> {
    Ok(crate::on_backend!(conn, c => files::table
        .filter(files::storage_key.eq(key))
        .filter(files::is_public.eq(is_public))
        .filter(is_live())
        .select(File::as_select())
        .get_result(c)
        .optional())?)
}

/// Files directly in a folder (None = unsorted uploads), optionally only those of one owner.
pub fn in_folder(
    conn: &mut DbConn,
    folder_id: Option<i64>,
    owner_id: Option<i64>,
) -> Result<Vec<File>, DbError> {
    let mut query = files::table
        .filter(is_live())
        .select(File::as_select())
        .order((
            files::name.asc(),
            files::original_filename.asc(),
            files::id.asc(),
        ))
        .into_boxed();
    query = match folder_id {
        Some(f) => query.filter(files::folder_id.eq(f)),
        None => query.filter(files::folder_id.is_null()),
    };
    if let Some(owner) = owner_id {
        query = query.filter(files::owner_id.eq(owner));
    }
    Ok(query.load(conn)?)
}

/// Files in any of these folders.
pub fn in_folders(conn: &mut DbConn, folder_ids: &[i64]) -> Result<Vec<File>, DbError> {
    if folder_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Chunked to stay under SQLite's bound-parameter limit.
    for chunk in folder_ids.chunks(500) {
        out.extend(
            files::table
                .filter(files::folder_id.eq_any(chunk))
                .filter(is_live())
                .select(File::as_select())
                .load::<File>(conn)?,
        );
    }
    Ok(out)
}

/// Every (is_public, storage key) pair, trashed files included: for the integrity check.
pub fn all_keys(conn: &mut DbConn) -> Result<Vec<(i64, bool, String)>, DbError> {
    Ok(files::table
        .select((files::id, files::is_public, files::storage_key))
        .load(conn)?)
}

/// Editable metadata; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct FileChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub folder_id: Option<Option<i64>>,
    pub owner_id: Option<Option<i64>>,
}

/// Applies metadata changes (not storage changes: see `storage::relocate`).
pub fn update(conn: &mut DbConn, id: i64, changes: &FileChanges) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        let target = files::table.find(id);
        if let Some(v) = &changes.name {
            diesel::update(target)
                .set(files::name.eq(v))
                .execute(conn)?;
        }
        if let Some(v) = &changes.description {
            diesel::update(target)
                .set(files::description.eq(v))
                .execute(conn)?;
        }
        if let Some(v) = changes.folder_id {
            diesel::update(target)
                .set(files::folder_id.eq(v))
                .execute(conn)?;
        }
        if let Some(v) = changes.owner_id {
            diesel::update(target)
                .set(files::owner_id.eq(v))
                .execute(conn)?;
        }
        diesel::update(target)
            .set(files::modified_at.eq(now()))
            .execute(conn)?;
        Ok(())
    })
}

/// Points a row at a new storage location (the bytes must already be there).
pub fn set_location(
    conn: &mut DbConn,
    id: i64,
    is_public: bool,
    key: &str,
) -> Result<usize, DbError> {
    Ok(diesel::update(files::table.find(id))
        .set((
            files::is_public.eq(is_public),
            files::storage_key.eq(key),
            files::modified_at.eq(now()),
        ))
        .execute(conn)?)
}

/// Replaces a file's content description after new bytes were stored under `key`.
pub fn set_content(
    conn: &mut DbConn,
    id: i64,
    key: &str,
    original_filename: &str,
    size: i64,
    sha256: &str,
    mime_type: &str,
) -> Result<usize, DbError> {
    Ok(diesel::update(files::table.find(id))
        .set((
            files::storage_key.eq(key),
            files::original_filename.eq(original_filename),
            files::size.eq(size),
            files::sha256.eq(sha256),
            files::mime_type.eq(mime_type),
            files::modified_at.eq(now()),
        ))
        .execute(conn)?)
}

/// Deletes the row (thumbnail and image rows cascade).
pub fn delete_row(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    Ok(diesel::delete(files::table.find(id)).execute(conn)? > 0)
}

diesel::define_sql_function! {
    /// SQL `lower()`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// How a listing is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Name,
    Size,
    Modified,
    Owner,
}

/// One page of the files directly in a folder (None = unsorted uploads, optionally only
/// `owner`'s), ordered in SQL, with the total count.
pub fn page_in_folder(
    conn: &mut DbConn,
    folder_id: Option<i64>,
    owner: Option<i64>,
    order: Order,
    descending: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<File>, i64), DbError> {
    use crate::db::schema::users;
    let filtered = || {
        let mut q = files::table
            .left_join(users::table.on(files::owner_id.eq(users::id.nullable())))
            .filter(is_live())
            .into_boxed();
        q = match folder_id {
            Some(f) => q.filter(files::folder_id.eq(f)),
            None => q.filter(files::folder_id.is_null()),
        };
        if let Some(o) = owner {
            q = q.filter(files::owner_id.eq(o));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let label = diesel::dsl::sql::<diesel::sql_types::Text>(
        "lower(CASE WHEN files.name = '' THEN files.original_filename ELSE files.name END)",
    );
    let q = filtered().select(File::as_select());
    let q = match (order, descending) {
        (Order::Name, false) => q.order((label.asc(), files::id.asc())),
        (Order::Name, true) => q.order((label.desc(), files::id.desc())),
        (Order::Size, false) => q.order((files::size.asc(), files::id.asc())),
        (Order::Size, true) => q.order((files::size.desc(), files::id.desc())),
        (Order::Modified, false) => q.order((files::modified_at.asc(), files::id.asc())),
        (Order::Modified, true) => q.order((files::modified_at.desc(), files::id.desc())),
        (Order::Owner, false) => q.order((
            lower(users::username.nullable().assume_not_null()).asc(),
            files::id.asc(),
        )),
        (Order::Owner, true) => q.order((
            lower(users::username.nullable().assume_not_null()).desc(),
            files::id.desc(),
        )),
    };
    let rows = q.offset(offset).limit(limit).load(conn)?;
    Ok((rows, total))
}

/// Files whose name, original name, description or owner's username contains every term
/// (case-insensitive); at most `cap` of them.
pub fn search(conn: &mut DbConn, terms: &[String], cap: i64) -> Result<Vec<File>, DbError> {
    use crate::db::schema::users;
    let mut q = files::table
        .left_join(users::table.on(files::owner_id.eq(users::id.nullable())))
        .filter(is_live())
        .select(File::as_select())
        .into_boxed();
    for term in terms {
        let pattern = format!("%{}%", like_escape(&term.to_lowercase()));
        q = q.filter(
            lower(files::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(files::original_filename)
                    .like(pattern.clone())
                    .escape('\\'))
                .or(lower(files::description).like(pattern.clone()).escape('\\'))
                .or(lower(users::username.nullable().assume_not_null())
                    .like(pattern)
                    .escape('\\')
                    .nullable()
                    .assume_not_null()),
        );
    }
    Ok(q.order(files::id.asc()).limit(cap).load(conn)?)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `\` as the escape character, and drops
/// NUL (no stored text holds one, and PostgreSQL refuses it in a parameter).
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| *c != '\0') {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether a live file with this original name is directly in `folder_id`.
pub fn exists_in_folder(
    conn: &mut DbConn,
    folder_id: i64,
    original_filename: &str,
) -> Result<bool, DbError> {
    use diesel::dsl::exists;
    Ok(diesel::select(exists(
        files::table
            .filter(files::folder_id.eq(folder_id))
            .filter(files::original_filename.eq(original_filename))
            .filter(is_live()),
    ))
    .get_result(conn)?)
}

/// Whether any row, trashed or live, or any kept version names `key` in the given storage:
/// such an object must never be deleted as garbage.
pub fn key_in_use(conn: &mut DbConn, key: &str, is_public: bool) -> Result<bool, DbError> {
    use crate::db::schema::file_versions;
    use diesel::dsl::exists;
    let file: bool = diesel::select(exists(
        files::table
            .filter(files::storage_key.eq(key))
            .filter(files::is_public.eq(is_public)),
    ))
    .get_result(conn)?;
    if file {
        return Ok(true);
    }
    Ok(diesel::select(exists(
        file_versions::table
            .inner_join(files::table)
            .filter(file_versions::storage_key.eq(key))
            .filter(files::is_public.eq(is_public)),
    ))
    .get_result(conn)?)
}

/// Every file directly in `folder_ids`, trashed or live (permanent deletion).
pub fn in_folders_any(conn: &mut DbConn, folder_ids: &[i64]) -> Result<Vec<File>, DbError> {
    let mut out = Vec::new();
    for chunk in folder_ids.chunks(500) {
        out.extend(
            files::table
                .filter(files::folder_id.eq_any(chunk))
                .select(File::as_select())
                .load::<File>(conn)?,
        );
    }
    Ok(out)
}

/// A file by id, trashed or live.
pub fn find_any(conn: &mut DbConn, id: i64) -> Result<Option<File>, DbError> {
    Ok(files::table
        .filter(files::id.eq(id))
        .select(File::as_select())
        .first(conn)
        .optional()?)
}

/// The live file shown as `label` (its name, or its original name when it has none)
/// directly in `folder_id`; for the unsorted uploads (`None`), among `owner`'s.
pub fn find_labelled(
    conn: &mut DbConn,
    folder_id: Option<i64>,
    owner: Option<i64>,
    label: &str,
) -> Result<Option<File>, DbError> {
    let mut q = files::table
        .filter(is_live())
        .filter(
            files::name
                .eq(label)
                .or(files::name.eq("").and(files::original_filename.eq(label))),
        )
        .select(File::as_select())
        .order(files::id.asc())
        .into_boxed();
    q = match folder_id {
        Some(f) => q.filter(files::folder_id.eq(f)),
        None => q
            .filter(files::folder_id.is_null())
            .filter(files::owner_id.eq(owner)),
    };
    Ok(q.first(conn).optional()?)
}

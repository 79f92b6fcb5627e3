//! Actions on a selection of files and folders: move, copy, delete, make public or
//! private. Rights are checked per selected item and recursively, as django-filer does
//! (move: read and edit on everything; copy: read; delete and public/private: edit); an item
//! that fails is refused with the reason and the others go ahead. The result says what was
//! done and what was refused and why. A selected item the user may not read is treated
//! exactly like one that does not exist (`library::visible`): never named, never counted, and
//! nothing below it is walked; a refusal caused by something unreadable inside a folder does
//! not name it either.

use std::collections::{HashMap, HashSet};

use super::Library;
use super::access::{Access, Target};
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File, NewFile};
use crate::db::models::folder::{self, Folder};
use crate::db::models::permission::{self, NewRule};
use crate::domain::ids::{FileId, FolderId};
use crate::permissions::Right;
use crate::storage::{StorageKey, StorageRole};

use super::{Error, Result};

/// A selected item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    File(i64),
    Folder(i64),
}

impl Item {
    /// Parses `file-12` / `folder-3`.
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once('-')?;
        let id = id.parse().ok()?;
        match kind {
            "file" => Some(Item::File(id)),
            "folder" => Some(Item::Folder(id)),
            _ => None,
        }
    }
}

/// What a bulk action did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Items done, by name.
    pub done: Vec<String>,
    /// Items refused: name and reason.
    pub refused: Vec<(String, String)>,
    /// Selected items that do not exist or that the user may not read (the same thing).
    pub not_found: usize,
}

/// Why something inside a selected folder stops the action, when the user may not read it.
pub const HIDDEN_INSIDE: &str =
    "it contains items you may not read, so it cannot be changed as a whole";

/// A selected item, loaded.
enum Selected {
    File(File),
    Folder(Folder),
}

/// The item if it exists and `user` may read it; `None` for both missing and unreadable.
fn load(lib: &Library, conn: &mut DbConn, user: &User, item: Item) -> Result<Option<Selected>> {
    let access = lib.access(conn, Some(user))?;
    Ok(match item {
        Item::File(id) => super::visible::file(conn, &access, id)?.map(Selected::File),
        Item::Folder(id) => super::visible::folder(conn, &access, id)?.map(Selected::Folder),
    })
}

/// The destination folder if it exists and `user` may read it; the same refusal otherwise.
fn load_destination(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    dest: Option<i64>,
) -> Result<()> {
    if let Some(d) = dest {
        let access = lib.access(conn, Some(user))?;
        super::visible::folder(conn, &access, d)?
            .ok_or_else(|| Error::Invalid("the destination folder does not exist".into()))?;
    }
    Ok(())
}

fn name_of(l: &Selected) -> String {
    match l {
        Selected::File(f) => f.label().to_owned(),
        Selected::Folder(f) => format!("{}/", f.name),
    }
}

/// What a check of rights over a folder or a subtree came to.
enum Verdict<T> {
    /// Every right holds; what was checked.
    Allowed(T),
    /// Refused, with a reason that names nothing the user may not read.
    Refused(String),
}

impl<T> Verdict<T> {
    /// The refusal as the `Err` a bulk item reports.
    fn into_result(self) -> std::result::Result<T, String> {
        match self {
            Verdict::Allowed(t) => Ok(t),
            Verdict::Refused(why) => Err(why),
        }
    }
}

/// Checks `rights` on a file; a file the user may not read is not named.
fn check_file(access: &Access<'_>, f: &File, rights: &[Right]) -> std::result::Result<(), String> {
    if !access.can(Right::Read, f) {
        return Err(HIDDEN_INSIDE.to_owned());
    }
    for right in rights {
        let d = access.decide(*right, f);
        if !d.allowed {
            return Err(format!("{}: {d}", f.label()));
        }
    }
    Ok(())
}

/// Checks `rights` on a folder, every subfolder and every file in them.
fn check_tree(
    conn: &mut DbConn,
    access: &Access<'_>,
    root: i64,
    rights: &[Right],
) -> Result<Verdict<Vec<i64>>> {
    // The folder itself first: a refusal there walks nothing below it.
    if let Verdict::Refused(why) = check_folder(conn, access, root, rights)? {
        return Ok(Verdict::Refused(why));
    }
    let mut ids = access.tree().descendants(root);
    for id in &ids {
        if let Verdict::Refused(why) = check_folder(conn, access, *id, rights)? {
            return Ok(Verdict::Refused(why));
        }
    }
    ids.insert(0, root);
    for f in super::tree::files_in(conn, &ids)? {
        if let Err(why) = check_file(access, &f, rights) {
            return Ok(Verdict::Refused(why));
        }
    }
    Ok(Verdict::Allowed(ids))
}

/// Checks `rights` on one folder; a folder the user may not read is not named.
fn check_folder(
    conn: &mut DbConn,
    access: &Access<'_>,
    id: i64,
    rights: &[Right],
) -> Result<Verdict<()>> {
    if !access.can(Right::Read, Target::Folder(id)) {
        return Ok(Verdict::Refused(HIDDEN_INSIDE.to_owned()));
    }
    for right in rights {
        let d = access.decide(*right, Target::Folder(id));
        if !d.allowed {
            let name = folder::find(conn, id)?.map_or_else(|| format!("folder {id}"), |f| f.name);
            return Ok(Verdict::Refused(format!("{name}/: {d}")));
        }
    }
    Ok(Verdict::Allowed(()))
}

/// Whether `user` may put things into `dest` (None = top level / unsorted uploads).
fn check_destination(access: &Access<'_>, dest: Option<i64>) -> std::result::Result<(), String> {
    match dest {
        Some(d) => {
            let decision = access.decide(Right::AddChildren, Target::Folder(d));
            if decision.allowed {
                Ok(())
            } else {
                Err(format!("the destination: {decision}"))
            }
        }
        None => Ok(()),
    }
}

/// Moves the items into `dest` (None: folders to the top level — superusers only; files to
/// the unsorted uploads — their owner or a superuser).
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn move_items(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
    dest: Option<i64>,
) -> Result<Summary> {
    let mut out = Summary::default();
    load_destination(lib, conn, user, dest)?;
    for item in items {
        let Some(l) = load(lib, conn, user, *item)? else {
            out.not_found += 1;
            continue;
        };
        let name = name_of(&l);
        let access = lib.access(conn, Some(user))?;
        if let Err(why) = check_destination(&access, dest) {
            out.refused.push((name, why));
            continue;
        }
        let result = match &l {
            Selected::File(f) => match check_file(&access, f, &[Right::Read, Right::Edit]) {
                Err(why) => Err(why),
                Ok(()) => super::files::update(
                    lib,
                    conn,
                    user,
                    FileId::new(f.id),
                    &super::files::Edit {
                        folder_id: Some(dest.map(FolderId::new)),
                        ..Default::default()
                    },
                )
                .map(|_| ())
                .map_err(|e| e.to_string()),
            },
            Selected::Folder(f) => {
                match check_tree(conn, &access, f.id, &[Right::Read, Right::Edit])?.into_result() {
                    Err(why) => Err(why),
                    Ok(_) => super::folders::update(
                        lib,
                        conn,
                        user,
                        FolderId::new(f.id),
                        &super::folders::Edit {
                            parent_id: Some(dest.map(FolderId::new)),
                            ..Default::default()
                        },
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                }
            }
        };
        match result {
            Ok(()) => out.done.push(name),
            Err(why) => out.refused.push((name, why)),
        }
    }
    Ok(out)
}

/// Copies the items into `dest` (needs read on everything copied and add-children on the
/// destination). Copies keep their source's owner and storage; names get `suffix` (file
/// names before the extension); a copied folder whose name is taken gets `_1`, `_2`…;
/// folder permission rules are copied with their folder.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn copy_items(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
    dest: Option<i64>,
    suffix: &str,
) -> Result<Summary> {
    let mut out = Summary::default();
    if suffix.chars().any(crate::domain::name::is_forbidden) {
        return Err(Error::Invalid(
            "the suffix must not contain '/', control, direction or zero-width characters".into(),
        ));
    }
    load_destination(lib, conn, user, dest)?;
    for item in items {
        let Some(l) = load(lib, conn, user, *item)? else {
            out.not_found += 1;
            continue;
        };
        let name = name_of(&l);
        let access = lib.access(conn, Some(user))?;
        let dest_ok = match (&l, dest) {
            (Selected::Folder(_), None) if !user.is_superuser => {
                Err("only superusers may create top-level folders".to_owned())
            }
            _ => check_destination(&access, dest),
        };
        if let Err(why) = dest_ok {
            out.refused.push((name, why));
            continue;
        }
        let result = match &l {
            Selected::File(f) => match check_file(&access, f, &[Right::Read]) {
                Err(why) => Err(why),
                Ok(()) => copy_file(lib, conn, f, dest, suffix)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            },
            Selected::Folder(f) => {
                match check_tree(conn, &access, f.id, &[Right::Read])?.into_result() {
                    Err(why) => Err(why),
                    Ok(_) => {
                        if dest.is_some_and(|d| access.tree().is_ancestor_or_self(f.id, d)) {
                            Err("a folder cannot be copied into itself".to_owned())
                        } else {
                            copy_folder(lib, conn, f, dest, suffix).map_err(|e| e.to_string())
                        }
                    }
                }
            }
        };
        match result {
            Ok(()) => out.done.push(name),
            Err(why) => out.refused.push((name, why)),
        }
    }
    Ok(out)
}

fn with_suffix(name: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        return name.to_owned();
    }
    match name.rfind('.') {
        Some(i) if i > 0 => format!("{}{suffix}{}", &name[..i], &name[i..]),
        _ => format!("{name}{suffix}"),
    }
}

fn copy_file(
    lib: &Library,
    conn: &mut DbConn,
    f: &File,
    dest: Option<i64>,
    suffix: &str,
) -> Result<File> {
    let original = with_suffix(&f.original_filename, suffix);
    let from = StorageKey::parse(&f.storage_key)
        .map_err(|_| Error::Invalid("invalid storage key".into()))?;
    let to = lib.settings.path_generator.generate(&original);
    let storage = lib.storages.get(StorageRole::main(f.is_public));
    storage.copy_to(&from, storage, &to)?;
    let inserted = file::insert(
        conn,
        &NewFile {
            folder_id: dest,
            owner_id: f.owner_id,
            original_filename: original,
            name: if f.name.is_empty() {
                String::new()
            } else {
                with_suffix(&f.name, suffix)
            },
            description: f.description.clone(),
            is_public: f.is_public,
            storage_key: to.to_string(),
            size: f.size,
            sha256: f.sha256.clone(),
            mime_type: f.mime_type.clone(),
        },
    );
    match inserted {
        Ok(row) => Ok(row),
        Err(e) => {
            // No row names the copy: remove it.
            let _ = storage.delete(&to);
            Err(e.into())
        }
    }
}

/// Copies a folder's subtree level by level (read from the rows once, each folder once even
/// if the rows hold a cycle; no recursion). The copy may reach as deep as the deeper of
/// `max_folder_depth` and the source's own deepest folder: an existing deep tree can be
/// copied, but a copy never makes the tree deeper than it was.
fn copy_folder(
    lib: &Library,
    conn: &mut DbConn,
    f: &Folder,
    dest: Option<i64>,
    suffix: &str,
) -> Result<()> {
    let levels = folder::levels(conn, f.id, None)?;
    if levels.is_empty() {
        return Err(Error::NotFound);
    }
    let height = levels.len();
    let source_deepest = super::tree::level_of(conn, f.id)?.map_or(0, |l| l + height - 1);
    let limit = lib.settings.max_folder_depth.max(source_deepest);
    let base = format!("{}{suffix}", f.name);
    let copy = crate::db::tree_transaction(conn, |conn| {
        // The copy's deepest folder: the copy's level + height - 1 <= limit.
        super::tree::check_create(conn, dest, limit.saturating_sub(height - 1))?;
        let mut name = base.clone();
        let mut n = 0;
        while folder::find_child_by_name(conn, dest, &name)?.is_some() {
            n += 1;
            name = format!("{base}_{n}");
        }
        Ok::<_, Error>(folder::create(conn, dest, f.owner_id, &name)?)
    })?;
    copy_contents(lib, conn, f.id, copy.id)?;
    let mut copies: HashMap<i64, i64> = HashMap::from([(f.id, copy.id)]);
    for level in levels.iter().skip(1) {
        for chunk in level.chunks(1_000) {
            for sub in folder::find_many(conn, chunk)? {
                let Some(parent) = sub.parent_id.and_then(|p| copies.get(&p).copied()) else {
                    continue;
                };
                let made = folder::create(conn, Some(parent), sub.owner_id, &sub.name)?;
                copy_contents(lib, conn, sub.id, made.id)?;
                copies.insert(sub.id, made.id);
            }
        }
    }
    Ok(())
}

/// Copies a folder's own rules and files (not its subfolders) into `to`.
fn copy_contents(lib: &Library, conn: &mut DbConn, from: i64, to: i64) -> Result<()> {
    for row in permission::on_folder(conn, Some(from))? {
        if let Some(rule) = row.to_rule() {
            permission::create(
                conn,
                &NewRule {
                    folder_id: Some(to),
                    scope: rule.scope,
                    principal: rule.principal,
                    read: rule.read,
                    edit: rule.edit,
                    add_children: rule.add_children,
                },
            )?;
        }
    }
    for child in file::in_folder(conn, Some(from), None)? {
        copy_file(lib, conn, &child, Some(to), "")?;
    }
    Ok(())
}

/// Deletes the items (edit on each, recursively).
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn delete_items(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
) -> Result<Summary> {
    let mut out = Summary::default();
    for item in items {
        let Some(l) = load(lib, conn, user, *item)? else {
            out.not_found += 1;
            continue;
        };
        let name = name_of(&l);
        if let Err(why) = precheck(lib, conn, user, &l, &[Right::Edit])? {
            out.refused.push((name, why));
            continue;
        }
        let result = match &l {
            Selected::File(f) => super::trash::trash_file(lib, conn, user, FileId::new(f.id)),
            Selected::Folder(f) => {
                super::trash::trash_folder(lib, conn, user, FolderId::new(f.id)).map(|_| ())
            }
        };
        match result {
            Ok(()) => out.done.push(name),
            Err(e) => out.refused.push((name, e.to_string())),
        }
    }
    Ok(out)
}

/// What the confirmation page of a bulk action shows.
pub enum Confirmation {
    /// For a move or a copy: where the items may go.
    Destinations(Vec<super::picker::Destination>),
    /// For a deletion: how many (folders, files) it would remove, counting only what the user
    /// may read.
    Removes(usize, usize),
    /// For making public: how many private files (that the user may read) it would expose.
    Exposes(usize),
}

/// The confirmation of moving (`is_move`), copying or deleting `items`.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn confirmation(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
    action: ConfirmedAction,
) -> Result<Confirmation> {
    Ok(match action {
        ConfirmedAction::Move => {
            Confirmation::Destinations(destinations(lib, conn, user, items, true)?)
        }
        ConfirmedAction::Copy => {
            Confirmation::Destinations(destinations(lib, conn, user, items, false)?)
        }
        ConfirmedAction::Delete => {
            let (folders, files) = count_items(lib, conn, user, items)?;
            Confirmation::Removes(folders, files)
        }
        ConfirmedAction::MakePublic => {
            Confirmation::Exposes(count_private_files(lib, conn, user, items)?)
        }
    })
}

/// How many private files the user can see among the items (folders recursively): what
/// making them public would expose.
pub fn count_private_files(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
) -> Result<usize> {
    let access = lib.access(conn, Some(user))?;
    let mut seen = HashSet::new();
    let mut private = 0;
    for item in items.iter().filter(|i| seen.insert(**i)) {
        match item {
            Item::File(id) => {
                private += usize::from(
                    super::visible::file(conn, &access, *id)?.is_some_and(|f| !f.is_public),
                );
            }
            Item::Folder(id) => {
                private += super::visible::private_files_in_tree(conn, &access, *id)?;
            }
        }
    }
    Ok(private)
}

/// The bulk actions asked to confirm first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmedAction {
    Move,
    Copy,
    Delete,
    /// Making files public exposes them to anyone with the link: say how many first.
    MakePublic,
}

/// The destination picker for moving (`is_move`: not into a selected folder) or copying the
/// items. Only selected folders the user may read shape it, so a hidden selection changes
/// nothing in it.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn destinations(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
    is_move: bool,
) -> Result<Vec<super::picker::Destination>> {
    let mut exclude = Vec::new();
    if is_move {
        let access = lib.access(conn, Some(user))?;
        for item in items {
            if let Item::Folder(id) = item
                && super::visible::can_read_folder(&access, *id)
            {
                exclude.push(*id);
            }
        }
    }
    super::picker::destinations(lib, conn, user, &exclude)
}

/// Checks `rights` on a selected item (on a folder: on everything in it, not naming what the
/// user may not read), so that a refusal says why without naming hidden things.
fn precheck(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    l: &Selected,
    rights: &[Right],
) -> Result<std::result::Result<(), String>> {
    let access = lib.access(conn, Some(user))?;
    Ok(match l {
        Selected::File(f) => check_file(&access, f, rights),
        Selected::Folder(f) => check_tree(conn, &access, f.id, rights)?
            .into_result()
            .map(|_| ()),
    })
}

/// What deleting the items would remove that `user` may read: (folders, files), counting
/// subtrees. Missing and unreadable items count nothing, and nothing below them is walked.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn count_items(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
) -> Result<(usize, usize)> {
    let access = lib.access(conn, Some(user))?;
    let (mut folders, mut files) = (0, 0);
    let mut seen = HashSet::new();
    for item in items.iter().filter(|i| seen.insert(**i)) {
        match item {
            Item::File(id) => {
                files += usize::from(super::visible::file(conn, &access, *id)?.is_some());
            }
            Item::Folder(id) => {
                if let Some((d, f)) = super::visible::count_tree(conn, &access, *id)? {
                    folders += d;
                    files += f;
                }
            }
        }
    }
    Ok((folders, files))
}

/// Makes the items (folders recursively) public or private: edit on each, recursively; each
/// file moves on its own.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn set_public_items(
    lib: &Library,
    conn: &mut DbConn,
    user: &User,
    items: &[Item],
    public: bool,
) -> Result<Summary> {
    let mut out = Summary::default();
    for item in items {
        let Some(l) = load(lib, conn, user, *item)? else {
            out.not_found += 1;
            continue;
        };
        let name = name_of(&l);
        if let Err(why) = precheck(lib, conn, user, &l, &[Right::Edit])? {
            out.refused.push((name, why));
            continue;
        }
        let (files, folders) = match item {
            Item::File(id) => (vec![*id], vec![]),
            Item::Folder(id) => (vec![], vec![*id]),
        };
        match super::relocate::set_public_many(lib, conn, user, &files, &folders, public) {
            Ok(report) if report.refused.is_empty() => out.done.push(name),
            Ok(report) => {
                let why = report
                    .refused
                    .iter()
                    .map(|(id, e)| format!("file {id}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                out.refused.push((name, why));
            }
            Err(e) => out.refused.push((name, e.to_string())),
        }
    }
    Ok(out)
}

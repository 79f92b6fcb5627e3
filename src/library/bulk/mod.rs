//! Actions on a selection of files and folders: move, copy, delete, make public or
//! private. Rights are checked per selected item and recursively, as django-filer does
//! (move: read and edit on everything; copy: read; delete and public/private: edit); an item
//! that fails is refused with the reason and the others go ahead. The result says what was
//! done and what was refused and why. A selected item the user may not read is treated
//! exactly like one that does not exist (`library::visible`): never named, never counted, and
//! nothing below it is walked; a refusal caused by something unreadable inside a folder does
//! not name it either.

use std::collections::HashSet;

use super::Library;
use super::access::{Access, Target};
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::File;
use crate::db::models::folder::{self, Folder};
use crate::domain::ids::{FileId, FolderId};
use crate::permissions::Right;

use super::{Error, Result};

mod copy;

pub use copy::copy_items;

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

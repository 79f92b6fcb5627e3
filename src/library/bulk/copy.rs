//! Copying a selection: files get new objects, folders their contents and permission rules.

use std::collections::HashMap;

use crate::library::{Error, Library, Result};

use super::{
    Item, Selected, Summary, check_destination, check_file, check_tree, load, load_destination,
    name_of,
};
use crate::db::DbConn;
use crate::db::models::User;
use crate::db::models::file::{self, File, NewFile};
use crate::db::models::folder::{self, Folder};
use crate::db::models::permission::{self, NewRule};
use crate::permissions::Right;
use crate::storage::{StorageKey, StorageRole};

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
    let source_deepest = crate::library::tree::level_of(conn, f.id)?.map_or(0, |l| l + height - 1);
    let limit = lib.settings.max_folder_depth.max(source_deepest);
    let base = format!("{}{suffix}", f.name);
    let copy = crate::db::tree_transaction(conn, |conn| {
        // The copy's deepest folder: the copy's level + height - 1 <= limit.
        crate::library::tree::check_create(conn, dest, limit.saturating_sub(height - 1))?;
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

//! Links as their creators and superusers see them: listed with their items and use counts,
//! and revoked.

use super::{Item, live};
use crate::db::DbConn;
use crate::db::models::share::{self, Share};
use crate::db::models::{User, file, folder, user};
use crate::library::{Error, Result};

/// A share as its creator (or a superuser) sees it.
#[derive(Clone, Debug)]
pub struct Listed {
    pub share: Share,
    /// The shared item's name ("(gone)" when it no longer exists).
    pub item_name: String,
    pub creator: String,
    /// Usable now (not revoked, expired or used up).
    pub active: bool,
}

fn listed(conn: &mut DbConn, shares: Vec<Share>) -> Result<Vec<Listed>> {
    let mut ids: Vec<i64> = shares.iter().map(|s| s.created_by).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = user::usernames(conn, &ids)?;
    // The shared items' names, one query per kind.
    let file_ids: Vec<i64> = shares.iter().filter_map(|s| s.file_id).collect();
    let folder_ids: Vec<i64> = shares.iter().filter_map(|s| s.folder_id).collect();
    let files = file::find_many(conn, &file_ids)?;
    let folders = folder::find_many(conn, &folder_ids)?;
    let mut out = Vec::with_capacity(shares.len());
    for s in shares {
        let item_name = match (s.file_id, s.folder_id) {
            (Some(id), _) => files
                .iter()
                .find(|f| f.id == id)
                .map(|f| f.label().to_owned()),
            (None, Some(id)) => folders.iter().find(|f| f.id == id).map(|f| f.name.clone()),
            _ => None,
        }
        .unwrap_or_else(|| "(gone)".to_owned());
        out.push(Listed {
            creator: names
                .iter()
                .find(|(i, _)| *i == s.created_by)
                .map_or_else(|| "—".to_owned(), |(_, n)| n.clone()),
            active: live(&s),
            item_name,
            share: s,
        });
    }
    Ok(out)
}

/// The caller's links (every link for superusers, unless `own_only`).
pub fn list(conn: &mut DbConn, user: &User, own_only: bool) -> Result<Vec<Listed>> {
    let creator = (own_only || !user.is_superuser).then_some(user.id);
    let shares = share::list(conn, creator)?;
    listed(conn, shares)
}

/// One link of the caller's (any for superusers).
pub fn get(conn: &mut DbConn, user: &User, id: i64) -> Result<Listed> {
    let s = share::find(conn, id)?
        .filter(|s| user.is_superuser || s.created_by == user.id)
        .ok_or(Error::NotFound)?;
    Ok(listed(conn, vec![s])?.remove(0))
}

/// The links of an item that `user` may see on its page: their own, or all for superusers.
pub fn of_item(conn: &mut DbConn, user: &User, item: Item) -> Result<Vec<Listed>> {
    let (file_id, folder_id) = match item {
        Item::File(id) => (Some(id.get()), None),
        Item::Folder(id) => (None, Some(id.get())),
    };
    let shares = share::of_item(conn, file_id, folder_id)?
        .into_iter()
        .filter(|s| user.is_superuser || s.created_by == user.id)
        .collect();
    listed(conn, shares)
}

/// Revokes a link (its creator or a superuser).
#[tracing::instrument(skip_all, fields(user_id = user.id, id))]
pub fn revoke(conn: &mut DbConn, user: &User, id: i64) -> Result<()> {
    let s = share::find(conn, id)?
        .filter(|s| user.is_superuser || s.created_by == user.id)
        .ok_or(Error::NotFound)?;
    share::revoke(conn, s.id)?;
    Ok(())
}

//! Quotas: a user's optional limit on the bytes their files hold (current contents, kept
//! versions and the trash). An upload, a replacement or a restore that would pass it is
//! refused before anything is kept, with the numbers.

use crate::db::DbConn;
use crate::db::models::{usage, user};

use super::{Error, Result};

/// A byte count for people: `1.5 MiB`.
pub fn human(bytes: i64) -> String {
    bytesize::ByteSize(u64::try_from(bytes).unwrap_or(0))
        .display()
        .iec()
        .to_string()
}

/// Refuses when `owner` has a quota and `extra` more bytes would not fit in it (`extra` = 0:
/// when the usage, already counting what is being added, is over it).
pub fn check_room(conn: &mut DbConn, owner: i64, extra: u64) -> Result<()> {
    let Some(quota) = user::find(conn, owner)?.and_then(|u| u.quota_bytes) else {
        return Ok(());
    };
    let used = usage::of_owner(conn, owner)?.total();
    let after = used.saturating_add(i64::try_from(extra).unwrap_or(i64::MAX));
    if after > quota {
        return Err(over(after, quota));
    }
    Ok(())
}

/// Refuses when `owner`'s quota is used up: nothing more can be added.
pub fn check_not_full(conn: &mut DbConn, owner: i64) -> Result<()> {
    let Some(quota) = user::find(conn, owner)?.and_then(|u| u.quota_bytes) else {
        return Ok(());
    };
    let used = usage::of_owner(conn, owner)?.total();
    if used >= quota {
        return Err(over(used, quota));
    }
    Ok(())
}

fn over(needed: i64, quota: i64) -> Error {
    Error::OverQuota(format!(
        "over quota: this needs {} of the {} allowed (files, versions and trash); nothing was stored — empty the trash or delete files to make room",
        human(needed),
        human(quota)
    ))
}

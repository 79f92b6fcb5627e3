//! Share links: a file or a folder for people without an account, through a random token.
//!
//! A link is for downloading (a file, or a folder's tree, read-only) or an upload-only drop
//! into a folder (the visitor sees nothing in it; the files belong to the link's creator).
//! Every use is checked again against the share's state (revoked, expired, used up) and the
//! creator's *current* rights: a creator who is deactivated, deleted, or loses read (for a
//! drop: add-children) ends the link's reach at once, and a file outside the shared folder's
//! tree is never reached. Whatever does not hold answers like an unknown link.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::PrimitiveDateTime;

use super::access::Target;
use super::{Error, Library, Result};
use crate::auth::{PasswordHasher, Throttle, secret_hash};
use crate::db::changes::{Epoch, Memo};
use crate::db::models::share::{self, NewShare, Share};
use crate::db::models::{File, Folder, User, file, folder, user};
use crate::db::{DbConn, DbPool};
use crate::domain::ids::{FileId, FolderId};
use crate::permissions::Right;

mod listed;
mod tree;

pub use listed::{Listed, get, list, of_item, revoke};
pub use tree::{Listing, file_by_id, file_of, file_or_refusal, link_file, listing, look_of};

/// Who may create links (`shares.allowed`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Allowed {
    /// Nobody.
    Off,
    /// Staff members and superusers, on what they may read.
    Staff,
    /// Anyone with edit on the item (the default).
    #[default]
    Editors,
    /// Anyone who may read the item.
    Readers,
}

/// What a link lets its visitors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Download,
    /// Upload-only ("file drop"), for folders.
    Upload,
}

impl Kind {
    /// `download` or `upload`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "download" => Some(Kind::Download),
            "upload" => Some(Kind::Upload),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Download => "download",
            Kind::Upload => "upload",
        }
    }
}

/// What is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    File(FileId),
    Folder(FolderId),
}

/// A new link's settings.
#[derive(Clone, Debug)]
pub struct Request {
    pub item: Item,
    pub kind: Kind,
    pub expires_at: Option<PrimitiveDateTime>,
    /// Empty or `None`: no password.
    pub password: Option<String>,
    pub max_downloads: Option<i64>,
    pub label: String,
}

/// A link just made: its token is shown this once and never stored.
#[derive(Clone, Debug)]
pub struct Created {
    pub share: Share,
    pub token: String,
}

/// Longest label.
const MAX_LABEL: usize = 200;

/// Makes a link (who may: `shares.allowed`; a drop needs add-children on the folder).
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub fn create(
    lib: &Library,
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    user: &User,
    req: &Request,
) -> Result<Created> {
    let access = lib.access(conn, Some(user))?;
    let (file_id, folder_id, target_file, target_folder) = match req.item {
        Item::File(id) => {
            let f = file::find(conn, id.get())?.ok_or(Error::NotFound)?;
            access.require(Right::Read, &f)?;
            (Some(f.id), None, Some(f), None)
        }
        Item::Folder(id) => {
            let f = folder::find(conn, id.get())?.ok_or(Error::NotFound)?;
            access.require(Right::Read, &f)?;
            (None, Some(f.id), None, Some(f))
        }
    };
    let decide = |right: Right| match (&target_file, &target_folder) {
        (Some(f), _) => access.decide(right, f),
        (None, Some(f)) => access.decide(right, Target::Folder(f.id)),
        (None, None) => access.decide(right, Target::Folder(0)),
    };
    let may = match lib.settings.shares_allowed {
        Allowed::Off => false,
        Allowed::Staff => user.is_staff || user.is_superuser,
        Allowed::Editors => decide(Right::Edit).allowed,
        Allowed::Readers => true,
    };
    if !may {
        return Err(Error::Forbidden(
            "you may not share this (see the shares.allowed setting)".into(),
        ));
    }
    if req.kind == Kind::Upload {
        if target_folder.is_none() {
            return Err(Error::Invalid("an upload link is for a folder".into()));
        }
        let d = decide(Right::AddChildren);
        if !d.allowed {
            return Err(super::forbidden(&d));
        }
    }
    if let Some(at) = req.expires_at
        && at <= crate::db::now()
    {
        return Err(Error::Invalid("the expiry is in the past".into()));
    }
    if req.max_downloads.is_some_and(|n| n < 1) {
        return Err(Error::Invalid(
            "the maximum number of downloads is at least 1".into(),
        ));
    }
    let label = req.label.trim().to_owned();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "the label has at most {MAX_LABEL} characters and no control characters"
        )));
    }
    let password_hash = match req.password.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(
            passwords
                .hash(p)
                .map_err(|e| Error::Invalid(format!("the link's password: {e}")))?,
        ),
        None => None,
    };
    // 256 random bits; only the hash is kept.
    let token = crate::auth::random_secret();
    let share = share::insert(
        conn,
        &NewShare {
            token_hash: secret_hash(&token),
            file_id,
            folder_id,
            kind: req.kind.as_str(),
            label,
            created_by: user.id,
            password_hash,
            expires_at: req.expires_at,
            max_downloads: req.max_downloads,
        },
    )?;
    Ok(Created { share, token })
}

/// A link that may be used now, with what it reaches.
#[derive(Clone, Debug)]
pub struct Opened {
    pub share: Share,
    pub creator: User,
    pub kind: Kind,
    /// The shared file, for a file link.
    pub file: Option<File>,
    /// The shared folder, for a folder link.
    pub folder: Option<Folder>,
}

/// Whether a share is usable now, regardless of who made it.
pub(super) fn live(s: &Share) -> bool {
    s.revoked_at.is_none()
        && s.expires_at.is_none_or(|at| at > crate::db::now())
        && s.max_downloads.is_none_or(|max| s.downloads < max)
}

/// Links opened recently, answered again while the database has not changed (see
/// `db::changes`), and the completed downloads of links without a maximum, counted here and
/// written once a second (a crash loses at most the last second's counts).
pub struct RecentLinks {
    opened: Memo<String, Opened>,
    uses: Mutex<HashMap<i64, i64>>,
}

impl std::fmt::Debug for RecentLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecentLinks")
    }
}

impl RecentLinks {
    /// Starts the writer of the counts; it stops once the links are dropped.
    pub fn start(pool: DbPool) -> Arc<Self> {
        let links = Arc::new(Self {
            opened: Memo::new(1024),
            uses: Mutex::new(HashMap::new()),
        });
        let spawned =
            super::every_second("coffer-share-uses", &links, move |links| links.write(&pool));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "share link counts will be written by each download");
        }
        links
    }

    /// Writes the counts gathered so far.
    pub fn write(&self, pool: &DbPool) {
        let pending: Vec<(i64, i64)> = {
            let mut uses = self.uses.lock().unwrap_or_else(|p| p.into_inner());
            uses.drain().collect()
        };
        if pending.is_empty() {
            return;
        }
        let written = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            for (id, n) in &pending {
                share::add_downloads(&mut conn, *id, *n).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write share link counts; keeping them");
            let mut uses = self.uses.lock().unwrap_or_else(|p| p.into_inner());
            for (id, n) in pending {
                *uses.entry(id).or_default() += n;
            }
        }
    }

    /// Counts a completed download of a link without a maximum.
    pub fn used(&self, share_id: i64) {
        let mut uses = self.uses.lock().unwrap_or_else(|p| p.into_inner());
        *uses.entry(share_id).or_default() += 1;
    }
}

/// [`open`], answered from memory when the database has not changed since epoch `at` (the
/// link's own expiry is checked every time).
pub fn open_at(lib: &Library, conn: &mut DbConn, token: &str, at: Option<Epoch>) -> Result<Opened> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound);
    }
    let hash = secret_hash(token);
    if let Some(o) = lib.links.opened.get(at, &hash) {
        return if live(&o.share) {
            Ok(o)
        } else {
            Err(Error::NotFound)
        };
    }
    let o = open_hashed(lib, conn, &hash)?;
    lib.links.opened.put(at, hash, o.clone());
    Ok(o)
}

/// The link behind `token`, if it may be used now: not revoked, expired or used up, its
/// creator active and still allowed what it gives, its item still there (not in the trash).
/// Anything else is `NotFound`, whatever the reason.
pub fn open(lib: &Library, conn: &mut DbConn, token: &str) -> Result<Opened> {
    open_at(lib, conn, token, None)
}

fn open_hashed(lib: &Library, conn: &mut DbConn, hash: &str) -> Result<Opened> {
    let s = share::find_by_hash(conn, hash)?.ok_or(Error::NotFound)?;
    if !live(&s) {
        return Err(Error::NotFound);
    }
    let kind = Kind::parse(&s.kind).ok_or(Error::NotFound)?;
    let creator = user::find(conn, s.created_by)?
        .filter(|u| u.is_active)
        .ok_or(Error::NotFound)?;
    let access = lib.access(conn, Some(&creator))?;
    let (file, folder) = match (s.file_id, s.folder_id) {
        (Some(id), _) => {
            let f = file::find(conn, id)?.ok_or(Error::NotFound)?;
            if kind != Kind::Download || !access.can(Right::Read, &f) {
                return Err(Error::NotFound);
            }
            (Some(f), None)
        }
        (None, Some(id)) => {
            let f = folder::find(conn, id)?.ok_or(Error::NotFound)?;
            let right = match kind {
                Kind::Download => Right::Read,
                Kind::Upload => Right::AddChildren,
            };
            if !access.can(right, Target::Folder(f.id)) {
                return Err(Error::NotFound);
            }
            (None, Some(f))
        }
        (None, None) => return Err(Error::NotFound),
    };
    Ok(Opened {
        share: s,
        creator,
        kind,
        file,
        folder,
    })
}

/// Takes a download slot of a link for a full transfer about to start: `false` when the
/// link is used up (parallel downloads never get more slots than its maximum).
pub fn claim_download(conn: &mut DbConn, share_id: i64) -> Result<bool> {
    Ok(share::count_download(conn, share_id)?)
}

/// Gives the slot back: the transfer did not complete, so it does not count.
pub fn release_download(conn: &mut DbConn, share_id: i64) -> Result<()> {
    share::release_download(conn, share_id)?;
    Ok(())
}

/// What a password attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlock {
    /// Right: the proof to keep (in a cookie) for this link.
    Open(String),
    Refused,
    /// Too many recent failures for this link from this address.
    Throttled(time::Duration),
}

/// What proves a visitor typed the link's password: derived from the token's hash and the
/// password's hash, so it changes with the password and cannot be made without it.
pub fn proof(share: &Share) -> Option<String> {
    share
        .password_hash
        .as_deref()
        .map(|p| secret_hash(&format!("{}:{p}", share.token_hash)))
}

/// Checks a visitor's password, throttled like log-ins (per link and address). Runs argon2.
pub fn unlock(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    throttle: &Throttle,
    share: &Share,
    password: &str,
    address: &str,
) -> Result<Unlock> {
    let Some(stored) = share.password_hash.as_deref() else {
        return Ok(Unlock::Open(String::new()));
    };
    let key = format!("share link {}", share.id);
    let reservation = match throttle.reserve(conn, &key, address)? {
        crate::auth::Gate::Open { reservation } => reservation,
        crate::auth::Gate::Closed { retry_after } => return Ok(Unlock::Throttled(retry_after)),
    };
    if passwords.verify(password, Some(stored)) {
        throttle.forget(conn, reservation)?;
        Ok(Unlock::Open(proof(share).unwrap_or_default()))
    } else {
        Ok(Unlock::Refused)
    }
}

/// Where a drop link's uploads go: the folder, owned by the link's creator.
pub fn drop_target(opened: &Opened) -> Result<super::upload::UploadTarget> {
    match (opened.kind, &opened.folder) {
        (Kind::Upload, Some(f)) => Ok(super::upload::UploadTarget {
            folder_id: Some(f.id),
            owner_id: Some(opened.creator.id),
            ..super::upload::UploadTarget::default()
        }),
        _ => Err(Error::NotFound),
    }
}

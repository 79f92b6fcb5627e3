//! Signed embed URLs: a private image's thumbnail, embeddable in another site or an e-mail
//! for a limited time, without a session. The URL carries its expiry and an HMAC-SHA-256
//! over (file id, content version, preset, expiry). The content version is the file's
//! storage key, which changes when the content is replaced and when the file moves to the
//! public storage: either invalidates every URL signed before.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Error, Library, Result};
use crate::db::DbConn;
use crate::db::models::File;
use crate::domain::ids::FileId;
use crate::permissions::Right;

/// The longest an embed URL may live.
pub const MAX_LIFETIME: time::Duration = time::Duration::days(30);

/// The signing key: from `embed_key` (configuration or `COFFER_EMBED_KEY`), or generated
/// into `<data_dir>/embed.key` on first start (mode 0600).
#[derive(Clone)]
pub struct EmbedKey(Vec<u8>);

impl std::fmt::Debug for EmbedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbedKey(…)")
    }
}

impl EmbedKey {
    /// The configured key (at least 32 characters), or the data directory's, made once.
    pub fn load_or_create(data_dir: &Path, configured: Option<&str>) -> std::io::Result<Self> {
        if let Some(k) = configured {
            if k.len() < 32 {
                return Err(std::io::Error::other(
                    "embed_key must have at least 32 characters",
                ));
            }
            return Ok(Self(k.as_bytes().to_vec()));
        }
        let path = data_dir.join("embed.key");
        match std::fs::read_to_string(&path) {
            Ok(k) if k.trim().len() >= 32 => return Ok(Self(k.trim().as_bytes().to_vec())),
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} holds no key (at least 32 characters)",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let key = crate::auth::random_secret();
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let made = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match made {
            Ok(mut f) => {
                f.write_all(key.as_bytes())?;
                f.sync_all()?;
                Ok(Self(key.into_bytes()))
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load_or_create(data_dir, None)
            }
            Err(e) => Err(e),
        }
    }

    /// The MAC of (file id, content version, preset, expiry). HMAC takes keys of any
    /// length, so this is `None` only in theory.
    fn mac(&self, f: &File, preset: &str, expires: i64) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(format!("{}\n{}\n{preset}\n{expires}", f.id, f.storage_key).as_bytes());
        Some(mac)
    }
}

/// A signed URL (site-relative) for `preset` of `f`, valid until `expires` (Unix time).
fn url(key: &EmbedKey, f: &File, preset: &str, expires: i64) -> Option<String> {
    let sig = hex::encode(key.mac(f, preset, expires)?.finalize().into_bytes());
    Some(format!(
        "/embed/{}/{preset}?expires={expires}&sig={sig}",
        f.id
    ))
}

/// Signs an embed URL of a private image's thumbnail `preset`, valid for `lifetime` (at most
/// [`MAX_LIFETIME`]); the caller needs read on the file. Returns the URL and its expiry.
pub fn sign(
    lib: &Library,
    conn: &mut DbConn,
    user: &crate::db::models::User,
    id: FileId,
    preset: &str,
    lifetime: time::Duration,
) -> Result<(String, time::OffsetDateTime)> {
    let (f, _) = super::files::with_right(lib, conn, Some(user), id, Right::Read)?;
    if f.is_public {
        return Err(Error::Invalid(
            "this file is public: its thumbnails need no signed link".into(),
        ));
    }
    if !f.mime_type.starts_with("image/") || f.mime_type == "image/svg+xml" {
        return Err(Error::Invalid(
            "only images have embeddable thumbnails".into(),
        ));
    }
    if lifetime <= time::Duration::ZERO || lifetime > MAX_LIFETIME {
        return Err(Error::Invalid(
            "an embed link lives between a minute and 30 days".into(),
        ));
    }
    let expires = time::OffsetDateTime::now_utc() + lifetime;
    let at = expires.unix_timestamp();
    let signed = url(&lib.settings.embed_key, &f, preset, at)
        .ok_or_else(|| Error::Invalid("the embed key cannot sign".into()))?;
    Ok((signed, expires))
}

/// Whether `sig` signs (`f`, `preset`, `expires`) and has not expired; a public file's
/// links are no longer valid.
pub fn valid(key: &EmbedKey, f: &File, preset: &str, expires: i64, sig: &str) -> bool {
    if f.is_public || expires <= time::OffsetDateTime::now_utc().unix_timestamp() {
        return false;
    }
    let Ok(sig) = hex::decode(sig) else {
        return false;
    };
    key.mac(f, preset, expires)
        .is_some_and(|mac| mac.verify_slice(&sig).is_ok())
}

/// Whether the signed URL for `preset` of file `id` holds now (the file exists, is not in
/// the trash, is private, and the signature and expiry hold).
pub fn check(
    lib: &Library,
    conn: &mut DbConn,
    id: i64,
    preset: &str,
    expires: i64,
    sig: &str,
) -> Result<bool> {
    Ok(crate::db::models::file::find(conn, id)?
        .is_some_and(|f| valid(&lib.settings.embed_key, &f, preset, expires, sig)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn file(key: &str, public: bool) -> File {
        let now = crate::db::now();
        File {
            id: 7,
            folder_id: None,
            owner_id: None,
            original_filename: "a.jpg".into(),
            name: String::new(),
            description: String::new(),
            is_public: public,
            storage_key: key.into(),
            size: 1,
            sha256: String::new(),
            mime_type: "image/jpeg".into(),
            created_at: now,
            modified_at: now,
        }
    }

    #[test]
    fn a_signature_holds_for_its_file_version_preset_and_time_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = EmbedKey::load_or_create(dir.path(), None).unwrap();
        let again = EmbedKey::load_or_create(dir.path(), None).unwrap();
        assert_eq!(key.0, again.0, "made once, then read");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("embed.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let f = file("ab/cd/x/a.jpg", false);
        let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 60;
        let u = url(&key, &f, "icon-40", soon).unwrap();
        let sig = u.rsplit("sig=").next().unwrap().to_owned();
        assert!(valid(&key, &f, "icon-40", soon, &sig));
        assert!(!valid(&key, &f, "icon-80", soon, &sig), "another preset");
        assert!(
            !valid(&key, &f, "icon-40", soon + 1, &sig),
            "another expiry"
        );
        assert!(
            !valid(&key, &file("ab/cd/y/a.jpg", false), "icon-40", soon, &sig),
            "new content"
        );
        assert!(
            !valid(&key, &file("ab/cd/x/a.jpg", true), "icon-40", soon, &sig),
            "made public"
        );
        let past = soon - 120;
        let old = url(&key, &f, "icon-40", past).unwrap();
        let old_sig = old.rsplit("sig=").next().unwrap();
        assert!(!valid(&key, &f, "icon-40", past, old_sig), "expired");
        let other = EmbedKey::load_or_create(dir.path(), Some(&"k".repeat(40))).unwrap();
        assert!(!valid(&other, &f, "icon-40", soon, &sig), "another key");
        assert!(EmbedKey::load_or_create(dir.path(), Some("short")).is_err());
    }
}

//! The probe: a temporary API token, a private file with an awkward name and a thumbnail of
//! it, written through the library as an authorised user, and removed again at the end.

use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;

use crate::config::ServeBackend;
use crate::db::models::{User, user};
use crate::db::{self, DbConn};
use crate::domain::ids::FileId;
use crate::library::{self, upload::UploadTarget};
use crate::state::AppState;
use crate::storage::StorageKey;

use super::{Options, PROBE_NAME};

/// One private object under test.
pub(super) struct Probe {
    pub(super) what: &'static str,
    /// The checked URL path.
    pub(super) path: String,
    pub(super) key: StorageKey,
    /// The storage directory (canonical; an object storage's staging directory).
    pub(super) dir: PathBuf,
    /// The key prefix in the bucket, for an object storage.
    pub(super) prefix: Option<String>,
    pub(super) bytes: Bytes,
    pub(super) backend: ServeBackend,
    pub(super) setting: &'static str,
}

/// The private file and its thumbnail as objects under test.
pub(super) fn probes(
    state: &AppState,
    file_key: &StorageKey,
    thumb_key: &StorageKey,
    bytes: &Bytes,
) -> [Probe; 2] {
    let s = &state.settings;
    [
        Probe {
            what: "private file",
            path: format!("{}{}", s.private.base_url, file_key),
            key: file_key.clone(),
            dir: s.private.dir.clone(),
            prefix: s.private.prefix.clone(),
            bytes: bytes.clone(),
            backend: s.serve_private.clone(),
            setting: "server.private",
        },
        Probe {
            what: "private thumbnail",
            path: format!("{}{}", s.private_thumbnails.base_url, thumb_key),
            key: thumb_key.clone(),
            dir: s.private_thumbnails.dir.clone(),
            prefix: s.private_thumbnails.prefix.clone(),
            bytes: Bytes::from_static(PROBE_PNG),
            backend: s.serve_private_thumbnails.clone(),
            setting: "server.private_thumbnails",
        },
    ]
}

/// Everything the probe created, removed at the end whatever happened.
#[derive(Default)]
pub(super) struct Created {
    token_id: Option<(i64, i64)>,
    file_id: Option<i64>,
}

/// The user to download as, with a new temporary API token's secret.
pub(super) async fn authorised_user(
    state: &AppState,
    opts: &Options,
    created: &mut Created,
) -> anyhow::Result<(User, String)> {
    let wanted = opts.username.clone();
    let u = db::run(&state.pool, move |conn: &mut DbConn| {
        Ok::<_, db::DbError>(match wanted {
            Some(name) => user::find_by_username(conn, &name)?,
            None => user::list(conn)?
                .into_iter()
                .find(|u| u.is_superuser && u.is_active),
        })
    })
    .await?
    .context("no such user (and no active superuser to act as; pass --username)")?;
    if !u.is_active {
        anyhow::bail!("the user {:?} is not active", u.username);
    }
    let user_id = u.id;
    let (id, secret) = db::run(&state.pool, move |conn: &mut DbConn| {
        crate::accounts::issue_token(conn, user_id, "coffer doctor (temporary)")
    })
    .await?;
    created.token_id = Some((u.id, id));
    Ok((u, secret))
}

/// Uploads the probe file (random text, private) as `who`: its key, id and bytes.
pub(super) async fn write_probe(
    state: &AppState,
    who: &User,
    created: &mut Created,
) -> anyhow::Result<(StorageKey, i64, Bytes)> {
    let mut text = String::new();
    for i in 0..64 {
        text.push_str(&format!(
            "coffer doctor probe {} line {i}\n",
            crate::auth::random_secret()
        ));
    }
    let bytes = Bytes::from(text);
    let target = UploadTarget {
        is_public: Some(false),
        ..UploadTarget::default()
    };
    let body = futures_util::stream::once({
        let b = bytes.clone();
        async move { Ok::<_, std::io::Error>(b) }
    });
    let row = library::upload::store(&state.library, who, &target, PROBE_NAME, body)
        .await
        .map_err(|e| anyhow::anyhow!("cannot write the probe: {e}"))?;
    created.file_id = Some(row.id);
    let key = StorageKey::parse(&row.storage_key).context("the probe's key")?;
    Ok((key, row.id, bytes))
}

/// Stores [`PROBE_PNG`] as a thumbnail of the probe file; its key.
pub(super) async fn write_thumbnail(state: &AppState, file_id: i64) -> anyhow::Result<StorageKey> {
    let thumbs = state.library.thumbnails.clone();
    let key = db::run(&state.pool, move |conn: &mut DbConn| {
        library::thumbnails::store_given(
            &thumbs,
            conn,
            file_id,
            "doctor-probe",
            "png",
            "image/png",
            PROBE_PNG,
        )
    })
    .await?;
    Ok(key)
}

/// Deletes the probe file (with its thumbnail) and the temporary token.
pub(super) async fn clean_up(state: &AppState, created: &Created) -> anyhow::Result<()> {
    let st = state.clone();
    let file_id = created.file_id;
    let token_id = created.token_id;
    let deleted = db::run(&state.pool, move |conn: &mut DbConn| {
        let mut deleted = Ok(());
        if let Some(id) = file_id
            && let Some((user_id, _)) = token_id
            && let Some(u) = user::find(conn, user_id)?
        {
            deleted = library::delete::delete_file(&st.library, conn, &u, FileId::new(id));
        }
        if let Some((user_id, id)) = token_id {
            match crate::accounts::revoke_token(conn, user_id, id) {
                Ok(()) | Err(crate::accounts::Error::NotFound) => {}
                Err(e) => return Err(anyhow::anyhow!("cannot revoke the probe's token: {e}")),
            }
        }
        Ok::<_, anyhow::Error>(deleted)
    })
    .await?;
    deleted.map_err(|e| anyhow::anyhow!("cannot delete the probe: {e}"))
}

/// A valid 1×1 PNG, the probe thumbnail.
pub(super) const PROBE_PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
    0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 13, b'I', b'D', b'A', b'T',
    0x78, 0x9c, 0x63, 0xf8, 0xff, 0xff, 0x3f, 0, 5, 0xfe, 2, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0, 0, 0,
    0, b'I', b'E', b'N', b'D', 0xae, b'B', b'`', 0x82,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_png_is_a_png() {
        assert_eq!(
            crate::storage::sniff::sniff(PROBE_PNG, "x.bin"),
            "image/png"
        );
    }
}

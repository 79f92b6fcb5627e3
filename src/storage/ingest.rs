//! Upload ingest: a byte stream becomes an object. The bytes go to a temporary file (inside
//! the target storage when it is local, in its staging directory for an object storage)
//! while the size limit is enforced and the SHA-256 computed; the type is sniffed from the
//! content; then the file is fsynced and renamed into place, or uploaded (create-only, in
//! parts when large, with its SHA-256 as metadata) and removed. Any failure leaves nothing
//! behind, and memory use does not depend on the upload size.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufWriter};

use super::{PathGenerator, Storage, StorageError, StorageKey, sniff};

/// How many leading bytes are kept for type sniffing.
const SNIFF_LEN: usize = 8 * 1024;

/// An object written by [`ingest`]. Its guard deletes the object when dropped, unless the
/// caller disarms it once the database row that names it is committed.
#[derive(Debug)]
pub struct Ingested {
    pub key: StorageKey,
    pub size: u64,
    pub sha256: String,
    pub mime_type: String,
    pub guard: IngestGuard,
}

/// Deletes an ingested object on drop unless disarmed. Until then it keeps the object open
/// and locked, which tells `coffer check --repair` (in any process) that the object is an
/// upload in progress, not an orphan.
#[derive(Debug)]
pub struct IngestGuard {
    storage: Storage,
    key: Option<StorageKey>,
    _lock: Option<std::fs::File>,
}

impl IngestGuard {
    /// Keeps the object: its row is committed.
    pub fn disarm(mut self) {
        self.key = None;
    }
}

impl Drop for IngestGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take()
            && let Err(e) = self.storage.delete(&key)
        {
            tracing::error!(key = %key, error = %e, "could not remove an abandoned upload");
        }
    }
}

/// Streams `body` into `storage` under a key made by `generator` from `original_name`.
pub async fn ingest<S, E>(
    storage: &Storage,
    body: S,
    limit: u64,
    original_name: &str,
    generator: PathGenerator,
) -> Result<Ingested, StorageError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let ingested = stream_to_storage(storage, body, limit, original_name, generator).await;
    // The write buffers (up to a few MiB per upload) were freed on this thread; give them
    // back rather than keep them resident until this thread allocates as much again.
    crate::memory::release_freed();
    ingested
}

async fn stream_to_storage<S, E>(
    storage: &Storage,
    body: S,
    limit: u64,
    original_name: &str,
    generator: PathGenerator,
) -> Result<Ingested, StorageError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let temp = {
        let storage = storage.clone();
        match tokio::task::spawn_blocking(move || storage.temp_files().create()).await {
            Ok(made) => made?,
            Err(e) => return Err(StorageError::Io(std::io::Error::other(e))),
        }
    };
    let file = tokio::fs::File::from_std(temp.as_file().try_clone()?);
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut size: u64 = 0;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| StorageError::Io(std::io::Error::other(e)))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(StorageError::TooLarge { limit });
        }
        if head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    out.into_inner().sync_all().await?;
    let mime_type = sniff::sniff(&head, original_name);
    let key = generator.generate(original_name);
    let sha256 = hex::encode(hasher.finalize());
    let persisted = {
        let (storage, key, sha256) = (storage.clone(), key.clone(), sha256.clone());
        tokio::task::spawn_blocking(move || match &storage {
            Storage::Local(l) => l.persist(temp, &key).map(Some),
            Storage::Object(o) => {
                let file = std::fs::File::open(temp.path())?;
                o.put_reader(&key, file, size, &sha256)?;
                Ok(None) // the temporary file goes when `temp` is dropped
            }
        })
        .await
        .map_err(|e| StorageError::Io(std::io::Error::other(e)))?
    };
    let lock = persisted?;
    Ok(Ingested {
        guard: IngestGuard {
            storage: storage.clone(),
            key: Some(key.clone()),
            _lock: lock,
        },
        key,
        size,
        sha256,
        mime_type,
    })
}

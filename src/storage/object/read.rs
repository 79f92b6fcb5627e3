//! Reading objects: ranged reads streamed through a bounded channel, blocking readers.

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

use super::bucket::{block_on, ended, from_store};
use super::{ObjectInfo, ObjectStorage, SHA256_METADATA};
use crate::storage::{StorageError, StorageKey};

/// Chunks a download task may read ahead of the response.
const READ_AHEAD: usize = 4;

impl ObjectStorage {
    /// Starts reading `range` (all of it when `None`) on the bucket's runtime: the first
    /// channel says whether the engine answered, the second carries the bytes (a few
    /// chunks ahead of the reader at most).
    fn start_read(&self, key: &StorageKey, range: Option<Range<u64>>) -> Started {
        let store = self.bucket.store();
        let location = self.location(key);
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
        self.bucket.inner.runtime().spawn(async move {
            let got = store
                .get_opts(
                    &location,
                    GetOptions {
                        range: range.map(GetRange::Bounded),
                        ..Default::default()
                    },
                )
                .await;
            let body = match got {
                Ok(got) => {
                    let _ = first_tx.send(Ok(info_of(&got)));
                    got.into_stream()
                }
                Err(e) => {
                    let _ = first_tx.send(Err(from_store(e)));
                    return;
                }
            };
            // The network delivers a body in pieces of a few KiB, and each piece handed to
            // the reader on another thread costs a wake-up: the pieces that have already
            // arrived (up to COALESCE of them, never waiting for more) go as one chunk.
            let mut ready = std::pin::pin!(body.ready_chunks(COALESCE));
            while let Some(pieces) = ready.next().await {
                for chunk in joined(pieces) {
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        return; // the reader left, or the read failed (passed on as an error)
                    }
                }
            }
        });
        Started {
            first: first_rx,
            chunks: rx,
        }
    }

    /// The bytes in `range` (all of them when `None`) as a stream a response can send, once
    /// the engine answered: a missing object is [`StorageError::NotFound`] here, not an
    /// error in the middle of a body. Waits on this thread for the engine's answer.
    pub fn read(
        &self,
        key: &StorageKey,
        range: Option<Range<u64>>,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static + use<>, StorageError> {
        let started = self.start_read(key, range);
        block_on(started.first).map_err(|_| ended())??;
        Ok(chunks(started.chunks))
    }

    /// Starts a GET of the whole object and waits for the engine's answer: its size, date
    /// and stored hash, and its bytes — in memory when there are at most `preload_limit`,
    /// else still to come. What is opened stays readable however the object changes
    /// afterwards (a move that deletes it once committed), as an open file does.
    pub fn open(&self, key: &StorageKey, preload_limit: u64) -> Result<OpenedObject, StorageError> {
        let started = self.start_read(key, None);
        let info = block_on(started.first).map_err(|_| ended())??;
        let mut stream = Box::pin(chunks(started.chunks));
        if info.size > preload_limit {
            return Ok(OpenedObject {
                info,
                body: OpenedBody::Streaming(PendingBody(stream)),
            });
        }
        let mut whole = bytes::BytesMut::with_capacity(usize::try_from(info.size).unwrap_or(0));
        while let Some(chunk) = block_on(stream.next()) {
            whole.extend_from_slice(&chunk?);
        }
        if u64::try_from(whole.len()).ok() != Some(info.size) {
            return Err(StorageError::Io(io::Error::other(
                "the object ended before its size",
            )));
        }
        Ok(OpenedObject {
            info,
            body: OpenedBody::Whole(whole.freeze()),
        })
    }

    /// [`read`](Self::read) for async callers (the response body of a download).
    pub async fn read_async(
        &self,
        key: &StorageKey,
        range: Option<Range<u64>>,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static + use<>, StorageError> {
        let started = self.start_read(key, range);
        started.first.await.map_err(|_| ended())??;
        Ok(chunks(started.chunks))
    }

    /// The whole object as a blocking reader.
    pub fn reader(&self, key: &StorageKey) -> Result<ObjectReader, StorageError> {
        let stream = self.read(key, None)?;
        Ok(ObjectReader {
            stream: Box::pin(stream),
            current: Bytes::new(),
        })
    }

    /// The bytes in `range` (cut at the object's end) as a blocking reader.
    pub fn reader_range(
        &self,
        key: &StorageKey,
        range: Range<u64>,
    ) -> Result<ObjectReader, StorageError> {
        let size = self.head(key)?.size;
        let range = range.start.min(size)..range.end.min(size);
        if range.is_empty() {
            return Ok(ObjectReader {
                stream: Box::pin(futures_util::stream::empty()),
                current: Bytes::new(),
            });
        }
        let stream = self.read(key, Some(range))?;
        Ok(ObjectReader {
            stream: Box::pin(stream),
            current: Bytes::new(),
        })
    }

    /// The whole object in memory (small objects only).
    pub fn read_all(&self, key: &StorageKey) -> Result<Bytes, StorageError> {
        self.read_all_at(self.location(key))
    }

    pub(super) fn read_all_at(&self, location: Path) -> Result<Bytes, StorageError> {
        let store = self.bucket.store();
        self.bucket.run(async move {
            let got = store.get(&location).await.map_err(from_store)?;
            got.bytes().await.map_err(from_store)
        })
    }
}

/// Most pieces of a body joined into one chunk for the reader.
const COALESCE: usize = 16;

/// `pieces` in order as few chunks: the bytes before an error joined into one, then the
/// error (never an empty chunk, which a reader would take for the end).
fn joined(pieces: Vec<object_store::Result<Bytes>>) -> Vec<io::Result<Bytes>> {
    let mut bytes: Vec<Bytes> = Vec::with_capacity(pieces.len());
    let mut failure = None;
    for piece in pieces {
        match piece {
            Ok(b) if !b.is_empty() => bytes.push(b),
            Ok(_) => {}
            Err(e) => {
                failure = Some(io::Error::other(from_store(e)));
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(2);
    if !bytes.is_empty() {
        out.push(Ok(concat(bytes)));
    }
    out.extend(failure.map(Err));
    out
}

/// One `Bytes` of `parts` (copied only when there are several).
fn concat(mut parts: Vec<Bytes>) -> Bytes {
    match parts.len() {
        1 => parts.pop().unwrap_or_default(),
        _ => parts.concat().into(),
    }
}

/// An object the engine answered a GET for: see [`ObjectStorage::open`].
#[derive(Debug)]
pub struct OpenedObject {
    pub info: ObjectInfo,
    pub body: OpenedBody,
}

/// The bytes of an [`OpenedObject`].
#[derive(Debug)]
pub enum OpenedBody {
    /// All of them.
    Whole(Bytes),
    /// Still coming from the engine.
    Streaming(PendingBody),
}

/// The rest of a GET's body, in order.
pub struct PendingBody(pub std::pin::Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>);

impl fmt::Debug for PendingBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingBody").finish_non_exhaustive()
    }
}

/// What a GET's answer tells of the object.
pub(super) fn info_of(got: &object_store::GetResult) -> ObjectInfo {
    ObjectInfo {
        size: got.meta.size,
        modified: std::time::SystemTime::from(got.meta.last_modified),
        sha256: got
            .attributes
            .get(&object_store::Attribute::Metadata(SHA256_METADATA.into()))
            .map(|v| v.as_ref().to_owned()),
    }
}

/// A read the bucket's runtime has started.
struct Started {
    first: tokio::sync::oneshot::Receiver<Result<ObjectInfo, StorageError>>,
    chunks: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
}

fn chunks(
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

/// A blocking reader over an object's bytes.
pub struct ObjectReader {
    stream: std::pin::Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
    current: Bytes,
}

impl fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectReader").finish_non_exhaustive()
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match block_on(self.stream.next()) {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> object_store::Result<Bytes> {
        Err(object_store::Error::Generic {
            store: "test",
            source: "the connection was reset".into(),
        })
    }

    fn shown(chunks: Vec<io::Result<Bytes>>) -> Vec<Result<Vec<u8>, ()>> {
        chunks
            .into_iter()
            .map(|c| c.map(|b| b.to_vec()).map_err(|_| ()))
            .collect()
    }

    #[test]
    fn ready_pieces_go_as_one_chunk_and_an_error_after_the_bytes_before_it() {
        let piece = |s: &'static str| Ok(Bytes::from_static(s.as_bytes()));
        assert_eq!(
            shown(joined(vec![piece("ab"), piece("cd")])),
            vec![Ok(b"abcd".to_vec())]
        );
        assert_eq!(
            shown(joined(vec![piece("ab"), piece(""), failure(), piece("ef")])),
            vec![Ok(b"ab".to_vec()), Err(())]
        );
        assert_eq!(shown(joined(vec![failure()])), vec![Err(())]);
        assert_eq!(shown(joined(vec![piece("")])), vec![]);
    }
}

//! Writing objects: create-only puts, multipart uploads aborted on failure, deletes and
//! checked copies inside the engine.

use std::io::{self, Read};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions,
    PutPayload, WriteMultipart,
};

use super::bucket::from_store;
use super::{ObjectStorage, SHA256_METADATA};
use crate::storage::{StorageError, StorageKey};

/// Objects above this size are uploaded in parts.
const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// Size of one part of a multipart upload (S3's minimum is 5 MiB).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Bytes read from a local file per step of an upload.
const READ_CHUNK: usize = 1024 * 1024;

impl ObjectStorage {
    /// Writes `bytes` under `key`, never replacing an object.
    pub fn put_bytes(&self, key: &StorageKey, bytes: Bytes) -> Result<(), StorageError> {
        self.put_at(self.location(key), bytes)
    }

    pub(super) fn put_at(&self, location: Path, bytes: Bytes) -> Result<(), StorageError> {
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let store = self.bucket.store();
        self.bucket.run(async move {
            store
                .put_opts(
                    &location,
                    PutPayload::from(bytes),
                    PutOptions {
                        mode: PutMode::Create,
                        attributes: hash_attributes(sha256),
                        ..Default::default()
                    },
                )
                .await
                .map_err(from_store)?;
            Ok(())
        })
    }

    /// Uploads `len` bytes read from `source` (whose SHA-256 is `sha256`) under `key`, never
    /// replacing an object: in one create-only PUT, or in parts above a threshold (the key
    /// is first checked to be free; keys are fresh, so only a bug could make it taken). A
    /// failed multipart upload is aborted, so nothing is left behind either way.
    pub fn put_reader(
        &self,
        key: &StorageKey,
        mut source: impl Read,
        len: u64,
        sha256: &str,
    ) -> Result<(), StorageError> {
        if len <= MULTIPART_THRESHOLD {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            source.read_to_end(&mut buf)?;
            if u64::try_from(buf.len()).ok() != Some(len) {
                return Err(StorageError::HashMismatch);
            }
            let store = self.bucket.store();
            let location = self.location(key);
            let attributes = hash_attributes(sha256.to_owned());
            return self.bucket.run(async move {
                store
                    .put_opts(
                        &location,
                        PutPayload::from(buf),
                        PutOptions {
                            mode: PutMode::Create,
                            attributes,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(from_store)?;
                Ok(())
            });
        }
        if self.exists(key)? {
            return Err(StorageError::AlreadyExists);
        }
        let store = self.bucket.store();
        let location = self.location(key);
        let attributes = hash_attributes(sha256.to_owned());
        let upload = self.bucket.run(async move {
            store
                .put_multipart_opts(
                    &location,
                    PutMultipartOptions {
                        attributes,
                        ..Default::default()
                    },
                )
                .await
                .map_err(from_store)
        })?;
        let mut writer = Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE));
        let mut sent: u64 = 0;
        let mut buf = vec![0u8; READ_CHUNK];
        let outcome = loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(StorageError::Io(e)),
            };
            sent += n as u64;
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            let mut w = writer
                .take()
                .expect("the writer is put back after each part");
            match self.bucket.run(async move {
                if let Err(e) = w.wait_for_capacity(2).await {
                    // A part failed: the parts sent so far go with the upload.
                    let _ = w.abort().await;
                    return Err(from_store(e));
                }
                w.put(chunk);
                Ok(w)
            }) {
                Ok(w) => writer = Some(w),
                Err(e) => break Err(e),
            }
        };
        let Some(w) = writer else {
            // A part failed and the upload was aborted with it.
            return outcome.and(Err(StorageError::Io(io::Error::other("upload failed"))));
        };
        let outcome = outcome.and(if sent == len {
            Ok(())
        } else {
            Err(StorageError::HashMismatch)
        });
        match outcome {
            Ok(()) => self.bucket.run(async move {
                w.finish().await.map_err(from_store)?;
                Ok(())
            }),
            Err(e) => {
                let _ = self
                    .bucket
                    .run(async move { w.abort().await.map_err(from_store) });
                Err(e)
            }
        }
    }

    /// Deletes an object. A missing object is fine.
    pub fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        self.delete_at(self.location(key))
    }

    pub(super) fn delete_at(&self, location: Path) -> Result<(), StorageError> {
        let store = self.bucket.store();
        self.bucket.run(async move {
            match store.delete(&location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(from_store(e)),
            }
        })
    }

    /// Deletes the object `name` (relative to the prefix) that is not a valid key.
    pub fn delete_name(&self, name: &str) -> Result<(), StorageError> {
        if name.split('/').any(|s| s == "..") {
            return Err(StorageError::InvalidKey(crate::storage::InvalidKey));
        }
        self.delete_at(Path::from(format!("{}{name}", self.prefix)))
    }

    /// Copies `from` into `target` (same bucket: inside the engine) under `to`, never
    /// replacing an object, then checks the copy's size and SHA-256 against the source's.
    /// The source stays until the caller deletes it.
    pub fn copy_within(
        &self,
        from: &StorageKey,
        target: &ObjectStorage,
        to: &StorageKey,
    ) -> Result<(), StorageError> {
        let source = self.head(from)?;
        if target.exists(to)? {
            return Err(StorageError::AlreadyExists);
        }
        let store = self.bucket.store();
        let (src, dst) = (self.location(from), target.location(to));
        self.bucket.run(async move {
            store.copy(&src, &dst).await.map_err(from_store)?;
            Ok(())
        })?;
        let copy = target.head(to)?;
        if copy.size != source.size || copy.sha256 != source.sha256 {
            target.delete(to)?;
            return Err(StorageError::HashMismatch);
        }
        Ok(())
    }
}

fn hash_attributes(sha256: String) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::Metadata(SHA256_METADATA.into()), sha256.into());
    attributes
}

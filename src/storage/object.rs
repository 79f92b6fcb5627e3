//! A storage under a key prefix of an S3-compatible bucket (SeaweedFS, MinIO, Garage, Ceph
//! RGW, AWS S3), through Apache Arrow's `object_store` crate.
//!
//! The library is synchronous (it runs on blocking threads); `object_store` is asynchronous.
//! One small runtime per bucket runs every request, and the synchronous callers wait on a
//! channel for the answer, so a call works from any thread (a blocking-pool thread, the
//! command line, a test) and never enters another runtime. Downloads stream: a task on that
//! runtime reads the object and hands chunks through a bounded channel to the response.
//!
//! Objects are never overwritten: a put is create-only (`If-None-Match: *`), a copy first
//! checks that its target is free. Every object carries its SHA-256 as metadata
//! (`x-amz-meta-sha256`), which a copy keeps and a relocation checks.

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};

use super::{StorageError, StorageKey, StorageRole};

/// Objects above this size are uploaded in parts.
const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// Size of one part of a multipart upload (S3's minimum is 5 MiB).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Bytes read from a local file per step of an upload.
const READ_CHUNK: usize = 1024 * 1024;
/// Chunks a download task may read ahead of the response.
const READ_AHEAD: usize = 4;
/// The metadata key that holds an object's SHA-256 (sent as `x-amz-meta-sha256`).
const SHA256_METADATA: &str = "sha256";
/// Where start-up and readiness probes write (a name no key can have).
const PROBE_DIR: &str = ".coffer-probe";

/// Where the bucket is and how to reach it (validated by `config`).
#[derive(Clone, PartialEq, Eq)]
pub struct BucketSettings {
    /// The engine's URL, e.g. `https://s3.internal:9000`.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Path-style addressing (`endpoint/bucket/key`), as most self-hosted engines want.
    pub path_style: bool,
    /// Whether `http://` endpoints are allowed (loopback and tests).
    pub allow_http: bool,
    /// The host clients reach for presigned URLs, when not `endpoint`.
    pub public_endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for BucketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketSettings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .field("public_endpoint", &self.public_endpoint)
            .finish_non_exhaustive()
    }
}

/// A connection to one bucket, shared by the storages that live in it.
#[derive(Clone)]
pub struct Bucket {
    inner: Arc<BucketInner>,
}

struct BucketInner {
    store: Arc<AmazonS3>,
    /// The same bucket as the clients reach it: presigned URLs are signed for this host.
    public: Arc<AmazonS3>,
    /// Taken only when dropped.
    runtime: Option<tokio::runtime::Runtime>,
    settings: BucketSettings,
}

impl Drop for BucketInner {
    fn drop(&mut self) {
        // Without waiting: a runtime may not block while dropped from an async context.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl BucketInner {
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime is only taken when the bucket is dropped")
    }
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

fn build(settings: &BucketSettings, endpoint: &str) -> Result<AmazonS3, StorageError> {
    builder(settings, endpoint)
        .with_access_key_id(&settings.access_key_id)
        .with_secret_access_key(&settings.secret_access_key)
        .build()
        .map_err(from_store)
}

fn builder(settings: &BucketSettings, endpoint: &str) -> AmazonS3Builder {
    AmazonS3Builder::new()
        // First: the client options hold `allow_http` too, which is set below.
        .with_client_options(
            object_store::ClientOptions::new().with_connect_timeout(Duration::from_secs(5)),
        )
        .with_endpoint(endpoint)
        .with_region(&settings.region)
        .with_bucket_name(&settings.bucket)
        .with_virtual_hosted_style_request(!settings.path_style)
        .with_allow_http(settings.allow_http)
        // An engine that is down fails a request within seconds (readiness, start-up), not
        // after the crate's default three minutes of retries.
        .with_retry(object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            ..Default::default()
        })
}

impl Bucket {
    /// Connects (lazily: the first request opens the connection).
    pub fn connect(settings: BucketSettings) -> Result<Self, StorageError> {
        let store = build(&settings, &settings.endpoint)?;
        let public = match &settings.public_endpoint {
            Some(e) => build(&settings, e)?,
            None => store.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("coffer-s3")
            .enable_all()
            .build()?;
        Ok(Self {
            inner: Arc::new(BucketInner {
                store: Arc::new(store),
                public: Arc::new(public),
                runtime: Some(runtime),
                settings,
            }),
        })
    }

    /// The settings it was made from.
    pub fn settings(&self) -> &BucketSettings {
        &self.inner.settings
    }

    /// Runs `fut` on the bucket's runtime and waits for it (from any thread).
    fn run<T, F>(&self, fut: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        block_on(self.inner.runtime().spawn(fut)).map_err(|_| ended())?
    }

    fn store(&self) -> Arc<AmazonS3> {
        Arc::clone(&self.inner.store)
    }
}

/// What a HEAD of an object tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub modified: SystemTime,
    /// The SHA-256 stored with the object (hex), when it has one.
    pub sha256: Option<String>,
}

/// Response headers a presigned GET makes the engine send.
#[derive(Clone, Debug)]
pub struct SignedGet<'a> {
    pub content_type: &'a str,
    pub content_disposition: &'a str,
    pub cache_control: &'a str,
    pub expires: Duration,
    pub audience: Audience,
}

/// Who fetches a presigned URL, which decides the host it is signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Browsers: the public endpoint when one is configured.
    Clients,
    /// The web server in front of Coffer (`nginx-s3`): the endpoint Coffer itself uses.
    WebServer,
}

/// A storage: the objects under `prefix` in a bucket.
#[derive(Clone, Debug)]
pub struct ObjectStorage {
    bucket: Bucket,
    /// Empty or ending in `/`.
    prefix: String,
    base_url: String,
    role: StorageRole,
    /// A local directory where uploads are written before they go to the bucket.
    staging: std::path::PathBuf,
}

impl ObjectStorage {
    /// The objects under `prefix` (empty, or ending in `/`) of `bucket`; uploads are staged
    /// in the local directory `staging`.
    pub fn new(
        bucket: Bucket,
        prefix: String,
        base_url: String,
        role: StorageRole,
        staging: std::path::PathBuf,
    ) -> Self {
        Self {
            bucket,
            prefix,
            base_url,
            role,
            staging,
        }
    }

    /// A new temporary file in the staging directory (removed when dropped).
    pub fn staging_file(&self) -> Result<tempfile::NamedTempFile, StorageError> {
        std::fs::create_dir_all(&self.staging)?;
        Ok(tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.staging)?)
    }

    /// The base URL objects are reached at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Which storage this is.
    pub fn role(&self) -> StorageRole {
        self.role
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Whether `other` lives in the same bucket (a copy between them stays in the engine).
    pub fn same_bucket(&self, other: &ObjectStorage) -> bool {
        Arc::ptr_eq(&self.bucket.inner, &other.bucket.inner)
            || self.bucket.inner.settings == other.bucket.inner.settings
    }

    /// The object name of `key` in the bucket.
    fn location(&self, key: &StorageKey) -> Path {
        Path::from(format!("{}{}", self.prefix, key.as_str()))
    }

    /// The object's size, date and stored hash.
    pub fn head(&self, key: &StorageKey) -> Result<ObjectInfo, StorageError> {
        let store = self.bucket.store();
        let location = self.location(key);
        self.bucket.run(async move {
            let got = store
                .get_opts(
                    &location,
                    GetOptions {
                        head: true,
                        ..Default::default()
                    },
                )
                .await
                .map_err(from_store)?;
            Ok(ObjectInfo {
                size: got.meta.size,
                modified: SystemTime::from(got.meta.last_modified),
                sha256: got
                    .attributes
                    .get(&Attribute::Metadata(SHA256_METADATA.into()))
                    .map(|v| v.as_ref().to_owned()),
            })
        })
    }

    /// Whether an object exists under `key` (an error when the engine cannot tell).
    pub fn exists(&self, key: &StorageKey) -> Result<bool, StorageError> {
        match self.head(key) {
            Ok(_) => Ok(true),
            Err(StorageError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` under `key`, never replacing an object.
    pub fn put_bytes(&self, key: &StorageKey, bytes: Bytes) -> Result<(), StorageError> {
        self.put_at(self.location(key), bytes)
    }

    fn put_at(&self, location: Path, bytes: Bytes) -> Result<(), StorageError> {
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
                w.wait_for_capacity(2).await.map_err(from_store)?;
                w.put(chunk);
                Ok(w)
            }) {
                Ok(w) => writer = Some(w),
                Err(e) => break Err(e),
            }
        };
        let Some(w) = writer else {
            // The writer was lost with a failed part: its upload is aborted when dropped.
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

    fn delete_at(&self, location: Path) -> Result<(), StorageError> {
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
            return Err(StorageError::InvalidKey(super::InvalidKey));
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
                    let _ = first_tx.send(Ok(()));
                    got.into_stream()
                }
                Err(e) => {
                    let _ = first_tx.send(Err(from_store(e)));
                    return;
                }
            };
            let mut body = std::pin::pin!(body);
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| io::Error::other(from_store(e)));
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return; // the reader left, or the read failed (passed on as an error)
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

    fn read_all_at(&self, location: Path) -> Result<Bytes, StorageError> {
        let store = self.bucket.store();
        self.bucket.run(async move {
            let got = store.get(&location).await.map_err(from_store)?;
            got.bytes().await.map_err(from_store)
        })
    }

    /// Every key under the prefix.
    pub fn keys(&self) -> Result<Vec<String>, StorageError> {
        let store = self.bucket.store();
        let prefix = self.prefix.clone();
        self.bucket.run(async move {
            let under = (!prefix.is_empty()).then(|| Path::from(prefix.trim_end_matches('/')));
            let listed: Vec<_> = store
                .list(under.as_ref())
                .map_ok(|meta| meta.location.to_string())
                .try_collect()
                .await
                .map_err(from_store)?;
            Ok(listed
                .into_iter()
                .filter_map(|name| name.strip_prefix(&prefix).map(str::to_owned))
                .collect())
        })
    }

    /// A presigned GET of `key`, valid for `how.expires`, that makes the engine answer
    /// with the given headers. Signed for the public endpoint when one is configured and
    /// clients fetch it.
    pub fn signed_get(
        &self,
        key: &StorageKey,
        how: &SignedGet<'_>,
    ) -> Result<url::Url, StorageError> {
        let public = match how.audience {
            Audience::Clients => Arc::clone(&self.bucket.inner.public),
            Audience::WebServer => self.bucket.store(),
        };
        let location = self.location(key);
        let options = SignedUrlOptions::default().with_query([
            ("response-content-type", how.content_type),
            ("response-content-disposition", how.content_disposition),
            ("response-cache-control", how.cache_control),
        ]);
        // Signing is local work: the credentials are static (from the environment), so
        // the future completes without I/O and is polled here rather than handed to the
        // bucket's runtime and back.
        block_on(public.signed_url_opts(http::Method::GET, &location, how.expires, &options))
            .map_err(from_store)
    }

    /// Whether the bucket answers and this storage may write and delete in it: a probe
    /// object (under a name no key can have) is written, read back and deleted.
    pub fn check_reachable(&self) -> Result<(), StorageError> {
        let probe = Path::from(format!(
            "{}{PROBE_DIR}/{}",
            self.prefix,
            uuid::Uuid::new_v4().simple()
        ));
        self.put_at(probe.clone(), Bytes::from_static(b"coffer"))?;
        let read = self.read_all_at(probe.clone());
        self.delete_at(probe)?;
        if read? != Bytes::from_static(b"coffer") {
            return Err(StorageError::Io(io::Error::other(
                "the probe object read back differs",
            )));
        }
        Ok(())
    }

    /// The start-up check: a probe object is written, read back and deleted (the bucket
    /// answers and the credentials may write and delete under the prefix), and for a
    /// private storage an unsigned GET of the probe must be refused: a bucket policy that
    /// lets anyone read private objects would bypass every permission check.
    pub fn check_on_start(&self) -> Result<(), StorageError> {
        let probe = Path::from(format!(
            "{}{PROBE_DIR}/{}",
            self.prefix,
            uuid::Uuid::new_v4().simple()
        ));
        self.put_at(probe.clone(), Bytes::from_static(b"coffer"))?;
        let checked = self.read_all_at(probe.clone()).and_then(|read| {
            if read != Bytes::from_static(b"coffer") {
                return Err(StorageError::Io(io::Error::other(
                    "the probe object read back differs",
                )));
            }
            if matches!(
                self.role,
                StorageRole::Private | StorageRole::PrivateThumbnails
            ) && self.unsigned_read_succeeds(probe.clone())?
            {
                return Err(StorageError::Io(io::Error::other(format!(
                    "objects under {:?} can be read without a signature: a private \
                     storage's objects must only be readable with Coffer's credentials \
                     (check the bucket policy and ACLs)",
                    self.prefix
                ))));
            }
            Ok(())
        });
        self.delete_at(probe)?;
        checked
    }

    /// Whether an anonymous GET of `location` gets its bytes.
    fn unsigned_read_succeeds(&self, location: Path) -> Result<bool, StorageError> {
        let s = &self.bucket.inner.settings;
        let anonymous = builder(s, &s.endpoint)
            .with_skip_signature(true)
            .build()
            .map_err(from_store)?;
        self.bucket
            .run(async move { Ok(anonymous.get(&location).await.is_ok()) })
    }

    /// The URL of `key` without a signature (for the start-up check that private objects
    /// are not readable anonymously).
    pub fn unsigned_url(&self, key: &StorageKey) -> String {
        let s = &self.bucket.inner.settings;
        let endpoint = s.endpoint.trim_end_matches('/');
        if s.path_style {
            format!("{endpoint}/{}/{}", s.bucket, self.location(key))
        } else {
            match endpoint.split_once("://") {
                Some((scheme, host)) => {
                    format!("{scheme}://{}.{host}/{}", s.bucket, self.location(key))
                }
                None => format!("{endpoint}/{}", self.location(key)),
            }
        }
    }
}

/// A read the bucket's runtime has started.
struct Started {
    first: tokio::sync::oneshot::Receiver<Result<(), StorageError>>,
    chunks: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
}

fn chunks(
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

fn ended() -> StorageError {
    StorageError::Io(io::Error::other("the object store task ended"))
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

/// Waits on this thread for `fut`, which only waits on channels fed by the bucket's
/// runtime, so no runtime is needed here (and none is entered). Outside tokio's
/// cooperative budget: on a thread that runs another runtime (a caller inside an async
/// context), a spent budget would defer the wake-up to that runtime's scheduler, which
/// cannot run while this thread waits.
fn block_on<F: Future>(fut: F) -> F::Output {
    let fut = tokio::task::unconstrained(fut);
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn hash_attributes(sha256: String) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::Metadata(SHA256_METADATA.into()), sha256.into());
    attributes
}

/// The engine's error as a storage error: a missing object and a taken key keep their
/// meaning; anything else is an I/O error naming the engine's message.
fn from_store(e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        object_store::Error::AlreadyExists { .. } => StorageError::AlreadyExists,
        e => StorageError::Io(io::Error::other(e)),
    }
}

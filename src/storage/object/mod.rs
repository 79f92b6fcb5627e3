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

mod bucket;
mod read;
mod signed_urls;
mod uploads;
mod write;

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{GetOptions, ObjectStore, ObjectStoreExt};

use super::{StorageError, StorageKey, StorageRole, TempFiles};
use bucket::{block_on, builder, from_store};

pub use bucket::{Bucket, BucketSettings};
pub use read::{ObjectReader, OpenedBody, OpenedObject, PendingBody};
pub use uploads::PendingUpload;

/// The metadata key that holds an object's SHA-256 (sent as `x-amz-meta-sha256`).
const SHA256_METADATA: &str = "sha256";
/// Where start-up and readiness probes write (a name no key can have).
const PROBE_DIR: &str = ".coffer-probe";

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
    /// `GET`, or `HEAD` for a `HEAD` request (a signature covers the method).
    pub method: http::Method,
    pub content_type: &'a str,
    pub content_disposition: &'a str,
    pub cache_control: &'a str,
    pub expires: Duration,
    pub audience: Audience,
}

/// Who fetches a presigned URL, which decides the host it is signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    staging: TempFiles,
    /// URLs signed lately, handed out again for a moment (`signed_urls`).
    signed: Arc<signed_urls::SignedUrls>,
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
            // Private bytes until they are in the bucket: for this process's user only.
            staging: TempFiles::new(staging, 0o600),
            signed: Arc::default(),
        }
    }

    /// The staging directory's files: uploads on their way to the bucket (locked while
    /// written, removed when dropped: see [`TempFiles`]).
    pub fn temp_files(&self) -> &TempFiles {
        &self.staging
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
            Ok(read::info_of(&got))
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
    /// clients fetch it. The same URL is handed out again during the first fifth of its
    /// lifetime (`signed_urls`).
    pub fn signed_get(
        &self,
        key: &StorageKey,
        how: &SignedGet<'_>,
    ) -> Result<url::Url, StorageError> {
        let location = self.location(key);
        self.signed.get_or_sign(location.as_ref(), how, || {
            let public = match how.audience {
                Audience::Clients => Arc::clone(&self.bucket.inner.public),
                Audience::WebServer => self.bucket.store(),
            };
            let options = SignedUrlOptions::default().with_query([
                ("response-content-type", how.content_type),
                ("response-content-disposition", how.content_disposition),
                ("response-cache-control", how.cache_control),
            ]);
            // Signing is local work: the credentials are static (from the environment), so
            // the future completes without I/O and is polled here rather than handed to the
            // bucket's runtime and back.
            block_on(public.signed_url_opts(how.method.clone(), &location, how.expires, &options))
                .map_err(from_store)
        })
    }

    /// Whether the bucket answers and this storage may write and delete in it: a probe
    /// object (under a name no key can have) is written, read back and deleted.
    pub fn check_reachable(&self) -> Result<(), StorageError> {
        self.probe(|_| Ok(()))
    }

    /// The start-up check: [`check_reachable`](Self::check_reachable), and for a private
    /// storage an unsigned GET of the probe must be refused: a bucket policy that lets
    /// anyone read private objects would bypass every permission check.
    pub fn check_on_start(&self) -> Result<(), StorageError> {
        self.probe(|probe| {
            if matches!(
                self.role,
                StorageRole::Private | StorageRole::PrivateThumbnails
            ) && self.unsigned_read_succeeds(probe)?
            {
                return Err(StorageError::Io(io::Error::other(format!(
                    "objects under {:?} can be read without a signature: a private \
                     storage's objects must only be readable with Coffer's credentials \
                     (check the bucket policy and ACLs)",
                    self.prefix
                ))));
            }
            Ok(())
        })
    }

    /// Writes a probe object (under a name no key can have), reads it back, runs `more`
    /// on it, and deletes it whatever came of the checks.
    fn probe(
        &self,
        more: impl FnOnce(Path) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
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
            more(probe.clone())
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

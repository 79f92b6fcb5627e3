//! The bucket: one connection to an S3-compatible engine, with the small runtime that runs
//! its requests, and the way synchronous callers wait for them.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};

use super::super::StorageError;

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
    pub(super) inner: Arc<BucketInner>,
}

pub(super) struct BucketInner {
    pub(super) store: Arc<AmazonS3>,
    /// The same bucket as the clients reach it: presigned URLs are signed for this host.
    pub(super) public: Arc<AmazonS3>,
    /// Taken only when dropped.
    pub(super) runtime: Option<tokio::runtime::Runtime>,
    pub(super) settings: BucketSettings,
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
    pub(super) fn runtime(&self) -> &tokio::runtime::Runtime {
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

pub(super) fn build(settings: &BucketSettings, endpoint: &str) -> Result<AmazonS3, StorageError> {
    builder(settings, endpoint)
        .with_access_key_id(&settings.access_key_id)
        .with_secret_access_key(&settings.secret_access_key)
        .build()
        .map_err(from_store)
}

pub(super) fn builder(settings: &BucketSettings, endpoint: &str) -> AmazonS3Builder {
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
    pub(super) fn run<T, F>(&self, fut: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        block_on(self.inner.runtime().spawn(fut)).map_err(|_| ended())?
    }

    pub(super) fn store(&self) -> Arc<AmazonS3> {
        Arc::clone(&self.inner.store)
    }
}

pub(super) fn ended() -> StorageError {
    StorageError::Io(io::Error::other("the object store task ended"))
}

/// Waits on this thread for `fut`, which only waits on channels fed by the bucket's
/// runtime, so no runtime is needed here (and none is entered). Outside tokio's
/// cooperative budget: on a thread that runs another runtime (a caller inside an async
/// context), a spent budget would defer the wake-up to that runtime's scheduler, which
/// cannot run while this thread waits.
pub(super) fn block_on<F: Future>(fut: F) -> F::Output {
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

/// The engine's error as a storage error: a missing object and a taken key keep their
/// meaning; anything else is an I/O error naming the engine's message.
pub(super) fn from_store(e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        object_store::Error::AlreadyExists { .. } => StorageError::AlreadyExists,
        e => StorageError::Io(io::Error::other(e)),
    }
}

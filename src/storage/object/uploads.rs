//! Multipart uploads left behind: a process that died while sending an object in parts
//! leaves the parts in the engine, invisible to listings of objects, until the upload is
//! aborted. `coffer check` lists them (S3's ListMultipartUploads, signed with the bucket's
//! credentials) and `--repair` aborts them.

use std::time::{Duration, SystemTime};

use object_store::aws::{AwsAuthorizer, AwsCredential};
use object_store::multipart::MultipartStore;
use serde::Deserialize;

use super::ObjectStorage;
use super::bucket::from_store;
use crate::storage::StorageError;

/// A multipart upload under a storage's prefix that was never completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingUpload {
    /// The key it would have created (without the storage's prefix).
    pub key: String,
    /// The engine's id for the upload.
    pub upload_id: String,
    pub initiated: SystemTime,
}

/// The engine's answer to ListMultipartUploads (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResult {
    #[serde(default)]
    is_truncated: bool,
    #[serde(default)]
    next_key_marker: Option<String>,
    #[serde(default)]
    next_upload_id_marker: Option<String>,
    #[serde(default, rename = "Upload")]
    uploads: Vec<ListedUpload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedUpload {
    key: String,
    upload_id: String,
    initiated: String,
}

/// Most pages of uploads read in one check (a thousand uploads each).
const MAX_PAGES: usize = 1000;

impl ObjectStorage {
    /// The multipart uploads under this storage's prefix begun more than `older_than` ago.
    /// Coffer sends an object in parts only once its bytes are all staged on the local
    /// disk, so a live upload lasts as long as the transfer to the engine; an older one
    /// belongs to a process that died.
    pub fn pending_uploads(
        &self,
        older_than: Duration,
    ) -> Result<Vec<PendingUpload>, StorageError> {
        let settings = self.bucket.settings().clone();
        let prefix = self.prefix.clone();
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        self.bucket.run(async move {
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(io_error)?;
            let credential = AwsCredential {
                key_id: settings.access_key_id.clone(),
                secret_key: settings.secret_access_key.clone(),
                token: None,
            };
            let mut found = Vec::new();
            let mut markers: Option<(String, String)> = None;
            for _ in 0..MAX_PAGES {
                let url = list_url(&settings, &prefix, markers.as_ref())?;
                let mut request = http::Request::builder()
                    .method(http::Method::GET)
                    .uri(url.as_str())
                    .body(object_store::client::HttpRequestBody::empty())
                    .map_err(io_error)?;
                AwsAuthorizer::new(&credential, "s3", &settings.region)
                    .try_authorize(&mut request, None)
                    .map_err(from_store)?;
                let mut call = client.get(url.as_str());
                for (name, value) in request.headers() {
                    call = call.header(name.as_str(), value.as_bytes());
                }
                let res = call.send().await.map_err(io_error)?;
                let status = res.status();
                let body = res.text().await.map_err(io_error)?;
                if !status.is_success() {
                    return Err(io_error(format!(
                        "listing the multipart uploads answered {status}: {}",
                        body.chars().take(300).collect::<String>()
                    )));
                }
                let page: ListResult = quick_xml::de::from_str(&body).map_err(io_error)?;
                for u in page.uploads {
                    let Some(key) = u.key.strip_prefix(&prefix) else {
                        continue;
                    };
                    let initiated = time::OffsetDateTime::parse(
                        &u.initiated,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map(SystemTime::from)
                    .map_err(io_error)?;
                    if initiated <= cutoff {
                        found.push(PendingUpload {
                            key: key.to_owned(),
                            upload_id: u.upload_id,
                            initiated,
                        });
                    }
                }
                match (
                    page.is_truncated,
                    page.next_key_marker,
                    page.next_upload_id_marker,
                ) {
                    (true, Some(k), Some(u)) => markers = Some((k, u)),
                    _ => return Ok(found),
                }
            }
            Err(io_error("too many multipart uploads to list"))
        })
    }

    /// Aborts a multipart upload of this storage: its parts are freed, no object appears.
    /// One already gone is fine.
    pub fn abort_upload(&self, upload: &PendingUpload) -> Result<(), StorageError> {
        // Any name under the prefix: the engine listed it, whether or not Coffer could
        // have made it.
        let location = object_store::path::Path::from(format!("{}{}", self.prefix, upload.key));
        let store = self.bucket.store();
        let id = upload.upload_id.clone();
        self.bucket.run(async move {
            match store.abort_multipart(&location, &id).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(from_store(e)),
            }
        })
    }
}

/// `GET /<bucket>?uploads&prefix=…` (path style) or `GET https://<bucket>.<host>/?uploads…`.
fn list_url(
    settings: &crate::storage::BucketSettings,
    prefix: &str,
    markers: Option<&(String, String)>,
) -> Result<url::Url, StorageError> {
    let mut url = url::Url::parse(&settings.endpoint).map_err(io_error)?;
    if settings.path_style {
        url.set_path(&format!("/{}", settings.bucket));
    } else {
        let host = url.host_str().unwrap_or_default().to_owned();
        url.set_host(Some(&format!("{}.{host}", settings.bucket)))
            .map_err(io_error)?;
        url.set_path("/");
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("uploads", "");
        q.append_pair("prefix", prefix);
        if let Some((key, upload)) = markers {
            q.append_pair("key-marker", key);
            q.append_pair("upload-id-marker", upload);
        }
    }
    Ok(url)
}

fn io_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::Io(std::io::Error::other(e.to_string()))
}

//! The site as a browser sees it: one HTTP client that follows no redirects, and whole
//! responses (probes are small).

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

/// The site as seen from outside.
pub(super) struct Site {
    pub(super) base: String,
    client: reqwest::Client,
}

/// A response, read whole (probes are small).
pub(super) struct Got {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Site {
    /// A client for `base` (no trailing slash) that does not follow redirects.
    pub(super) fn new(base: String) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()?;
        Ok(Self { base, client })
    }

    /// GETs `path`, as the token's user if one is given, with extra headers.
    pub(super) async fn get(
        &self,
        path: &str,
        token: Option<&str>,
        extra: &[(header::HeaderName, &str)],
    ) -> Result<Got, String> {
        self.request(reqwest::Method::GET, path, token, extra).await
    }

    /// HEADs `path`, as the token's user if one is given.
    pub(super) async fn head(&self, path: &str, token: Option<&str>) -> Result<Got, String> {
        self.request(reqwest::Method::HEAD, path, token, &[]).await
    }

    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        extra: &[(header::HeaderName, &str)],
    ) -> Result<Got, String> {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in extra {
            req = req.header(k, *v);
        }
        let res = req.send().await.map_err(|e| error_chain(&e))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(|e| error_chain(&e))?;
        Ok(Got {
            status,
            headers,
            body,
        })
    }
}

/// An error with every cause, `outer: inner: …`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

//! Presigned URLs handed out again for a short while.
//!
//! Signing a URL is pure computation, but not little of it: a canonical request, its
//! SHA-256, and five HMAC-SHA-256 (four to derive the day's signing key, one to sign),
//! about as much work as the rest of a checked `s3-redirect` answer together. A URL signed
//! for an object, with the same response overrides, for the same method and audience, is
//! therefore reused for the first fifth of its lifetime: every reader of a popular file in
//! that moment gets the same URL (which carries no identity: each was checked before it
//! was answered), and every URL handed out still has at least four fifths of
//! `expires_secs` to run. A URL is never reused past that, and never for another object,
//! another name or type, or another method.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Audience, SignedGet};

/// Most URLs kept; beyond, the stale ones are dropped, then all.
const CAPACITY: usize = 4_096;

/// The part of its lifetime during which a URL is handed out again.
const REUSE_DIVISOR: u32 = 5;

/// The URLs signed lately by one storage.
#[derive(Debug, Default)]
pub struct SignedUrls {
    hasher: RandomState,
    urls: Mutex<HashMap<u64, Signed>>,
}

#[derive(Debug)]
struct Signed {
    object: String,
    method: http::Method,
    content_type: String,
    content_disposition: String,
    cache_control: String,
    expires: Duration,
    audience: Audience,
    at: Instant,
    url: url::Url,
}

impl Signed {
    fn answers(&self, object: &str, how: &SignedGet<'_>) -> bool {
        self.object == object
            && self.method == how.method
            && self.content_type == how.content_type
            && self.content_disposition == how.content_disposition
            && self.cache_control == how.cache_control
            && self.expires == how.expires
            && self.audience == how.audience
    }

    fn fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.at) < self.expires / REUSE_DIVISOR
    }
}

impl SignedUrls {
    /// The URL for `object` signed `how`: one signed less than a fifth of its lifetime ago,
    /// or a new one from `sign`.
    pub fn get_or_sign<E>(
        &self,
        object: &str,
        how: &SignedGet<'_>,
        sign: impl FnOnce() -> Result<url::Url, E>,
    ) -> Result<url::Url, E> {
        let id = self.id(object, how);
        let now = Instant::now();
        if let Some(signed) = self.lock().get(&id)
            && signed.fresh(now)
            && signed.answers(object, how)
        {
            return Ok(signed.url.clone());
        }
        let url = sign()?;
        let mut urls = self.lock();
        if urls.len() >= CAPACITY {
            urls.retain(|_, s| s.fresh(now));
            if urls.len() >= CAPACITY {
                urls.clear();
            }
        }
        urls.insert(
            id,
            Signed {
                object: object.to_owned(),
                method: how.method.clone(),
                content_type: how.content_type.to_owned(),
                content_disposition: how.content_disposition.to_owned(),
                cache_control: how.cache_control.to_owned(),
                expires: how.expires,
                audience: how.audience,
                at: now,
                url: url.clone(),
            },
        );
        Ok(url)
    }

    fn id(&self, object: &str, how: &SignedGet<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        object.hash(&mut h);
        how.method.hash(&mut h);
        how.content_type.hash(&mut h);
        how.content_disposition.hash(&mut h);
        how.cache_control.hash(&mut h);
        how.expires.hash(&mut h);
        how.audience.hash(&mut h);
        h.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Signed>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn how(expires: Duration) -> SignedGet<'static> {
        SignedGet {
            method: http::Method::GET,
            content_type: "application/pdf",
            content_disposition: "attachment; filename=\"a.pdf\"",
            cache_control: "private, no-store",
            expires,
            audience: Audience::Clients,
        }
    }

    /// Signs with a counter, so each signing gives another URL.
    fn signer(count: &std::cell::Cell<u32>) -> impl FnOnce() -> Result<url::Url, ()> + '_ {
        move || {
            count.set(count.get() + 1);
            Ok(url::Url::parse(&format!("https://engine/o?sig={}", count.get())).unwrap())
        }
    }

    #[test]
    fn the_same_request_gets_the_same_url_within_a_fifth_of_its_lifetime() {
        let urls = SignedUrls::default();
        let count = std::cell::Cell::new(0);
        let h = how(Duration::from_secs(30));
        let first = urls.get_or_sign("k/a.pdf", &h, signer(&count)).unwrap();
        let again = urls.get_or_sign("k/a.pdf", &h, signer(&count)).unwrap();
        assert_eq!(first, again);
        assert_eq!(count.get(), 1);
    }

    #[test]
    fn anything_signed_otherwise_gets_its_own_url() {
        let urls = SignedUrls::default();
        let count = std::cell::Cell::new(0);
        let base = how(Duration::from_secs(30));
        let first = urls.get_or_sign("k/a.pdf", &base, signer(&count)).unwrap();
        let variants = [
            SignedGet {
                method: http::Method::HEAD,
                ..base.clone()
            },
            SignedGet {
                content_type: "text/plain",
                ..base.clone()
            },
            SignedGet {
                content_disposition: "attachment; filename=\"b.pdf\"",
                ..base.clone()
            },
            SignedGet {
                cache_control: "private, no-cache",
                ..base.clone()
            },
            SignedGet {
                expires: Duration::from_secs(31),
                ..base.clone()
            },
            SignedGet {
                audience: Audience::WebServer,
                ..base.clone()
            },
        ];
        for v in &variants {
            let url = urls.get_or_sign("k/a.pdf", v, signer(&count)).unwrap();
            assert_ne!(url, first, "{v:?}");
        }
        let other = urls.get_or_sign("k/b.pdf", &base, signer(&count)).unwrap();
        assert_ne!(other, first);
        assert_eq!(count.get() as usize, 2 + variants.len());
    }

    #[test]
    fn a_url_past_a_fifth_of_its_lifetime_is_signed_again() {
        let urls = SignedUrls::default();
        let count = std::cell::Cell::new(0);
        let h = how(Duration::from_millis(250));
        let first = urls.get_or_sign("k", &h, signer(&count)).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let later = urls.get_or_sign("k", &h, signer(&count)).unwrap();
        assert_ne!(first, later);
        assert_eq!(count.get(), 2);
    }

    #[test]
    fn a_failed_signing_is_not_kept() {
        let urls = SignedUrls::default();
        let h = how(Duration::from_secs(30));
        assert!(
            urls.get_or_sign("k", &h, || Err::<url::Url, _>("no"))
                .is_err()
        );
        let count = std::cell::Cell::new(0);
        urls.get_or_sign("k", &h, signer(&count)).unwrap();
        assert_eq!(count.get(), 1);
    }

    #[test]
    fn the_kept_urls_stay_bounded() {
        let urls = SignedUrls::default();
        let h = how(Duration::from_secs(30));
        for i in 0..(CAPACITY * 2 + 10) {
            let count = std::cell::Cell::new(0);
            urls.get_or_sign(&format!("k{i}"), &h, signer(&count))
                .unwrap();
        }
        assert!(urls.lock().len() <= CAPACITY);
    }
}

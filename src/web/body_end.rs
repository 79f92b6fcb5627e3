//! Knowing whether a response body went out to its end: a download counts (share links)
//! and is audited as sent only then.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use bytes::Bytes;

/// Calls `done(true)` once the body of `res` has been sent to its end, or `done(false)`
/// when it is dropped before (the client went away). A response without a body (HEAD, an
/// offloaded download, a 304) counts as sent at once, and so does a body already whole in
/// memory (a small download, read at once): it goes to the connection in one write with
/// the headers, so a client that leaves after that cannot be told from one that stayed,
/// and wrapping it would only cost the fast path.
pub fn when_done(res: HttpResponse, done: impl FnOnce(bool) + 'static) -> HttpResponse {
    if matches!(res.body().size(), BodySize::None | BodySize::Sized(0)) {
        done(true);
        return res;
    }
    let (res, body) = res.into_parts();
    match body.try_into_bytes() {
        Ok(bytes) => {
            done(true);
            res.set_body(BoxBody::new(bytes))
        }
        Err(body) => res.set_body(BoxBody::new(WhenDone {
            inner: body,
            done: Some(Box::new(done)),
        })),
    }
}

/// The wrapper [`when_done`] puts around a body.
struct WhenDone {
    inner: BoxBody,
    done: Option<Box<dyn FnOnce(bool)>>,
}

impl Drop for WhenDone {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(false);
        }
    }
}

impl MessageBody for WhenDone {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    done(true);
                }
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

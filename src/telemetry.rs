//! Logging: `tracing` to stderr, filtered by `COFFER_LOG` (or `RUST_LOG`), default
//! [`DEFAULT_FILTER`]; and for HTTP, a request id in every line of a request and the access
//! log ([`trace_requests`]), which is opt-in: a line written per request is a system call
//! per request, and a reverse proxy usually keeps that log already.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use bytes::Bytes;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// What is logged when neither `COFFER_LOG` nor `RUST_LOG` is set: Coffer's information,
/// warnings and errors, without the access log (`COFFER_LOG=info` turns it on).
pub const DEFAULT_FILTER: &str = "info,coffer::http=off";

/// Installs the global subscriber once; later calls do nothing.
pub fn init() {
    let filter = std::env::var("COFFER_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| DEFAULT_FILTER.into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// The id of one HTTP request: a field of the span every log line of the request is in
/// (`request{request_id=…}`), the `X-Request-Id` header of its answer, and shown on a 500
/// page or in a 500 JSON body, so a user's report finds the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    /// A random (version 4) id from the thread's random generator: no system call per
    /// request, unlike `Uuid::new_v4`, which asks the kernel each time.
    fn new() -> Self {
        Self(uuid::Builder::from_random_bytes(rand::random()).into_uuid())
    }

    /// The id of the request being answered on this task, if any.
    pub fn current() -> Option<Self> {
        REQUEST_ID.try_with(|id| *id).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

/// The response header naming the request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The outermost middleware: gives the request an id (in the request's extensions and, for
/// error bodies, [`RequestId::current`]), runs it inside the `request` span, names it in
/// the `X-Request-Id` header, and writes the access line at the `coffer::http` target once
/// the body is sent: `<peer> "<request line>" <status> <body bytes> <duration>ms`.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<AccessLogged<BoxBody>>, actix_web::Error> {
    let id = RequestId::new();
    req.extensions_mut().insert(id);
    let span = tracing::info_span!("request", request_id = %id);
    let mut line = AccessLine {
        span: span.clone(),
        peer: req.connection_info().peer_addr().unwrap_or("-").to_owned(),
        request: request_line(&req),
        status: 0,
        start: Instant::now(),
    };
    let res = REQUEST_ID
        .scope(id, next.call(req))
        .instrument(span.clone())
        .await;
    let mut res = match res {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // An error no inner layer turned into a response: the server renders it, so the
            // wrapper gives it the id and logs the line now.
            line.status = e.as_response_error().status_code().as_u16();
            line.write(0);
            return Err(WithRequestId { inner: e, id, span }.into());
        }
    };
    res.headers_mut().insert(
        HeaderName::from_static(REQUEST_ID_HEADER),
        id.header_value(),
    );
    line.status = res.status().as_u16();
    Ok(res.map_body(|_, body| AccessLogged {
        body,
        size: 0,
        line: Some(line),
    }))
}

impl RequestId {
    fn header_value(self) -> HeaderValue {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let s = self.0.hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

/// `GET /path?query HTTP/1.1`, as actix-web's `Logger` wrote it.
fn request_line(req: &ServiceRequest) -> String {
    if req.query_string().is_empty() {
        format!("{} {} {:?}", req.method(), req.path(), req.version())
    } else {
        format!(
            "{} {}?{} {:?}",
            req.method(),
            req.path(),
            req.query_string(),
            req.version()
        )
    }
}

/// An error that left every layer unanswered, with its request's id.
#[derive(Debug)]
struct WithRequestId {
    inner: actix_web::Error,
    id: RequestId,
    span: tracing::Span,
}

impl fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let _entered = self.span.enter();
        let mut res = REQUEST_ID.sync_scope(self.id, || self.inner.error_response());
        res.headers_mut().insert(
            HeaderName::from_static(REQUEST_ID_HEADER),
            self.id.header_value(),
        );
        res
    }
}

struct AccessLine {
    span: tracing::Span,
    peer: String,
    request: String,
    status: u16,
    start: Instant,
}

/// A response body that counts what it sends and writes the access line when it is dropped
/// (sent, or abandoned by the client).
pub struct AccessLogged<B> {
    body: B,
    size: usize,
    line: Option<AccessLine>,
}

impl<B: MessageBody + Unpin> MessageBody for AccessLogged<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.size += chunk.len();
        }
        next
    }
}

impl<B> Drop for AccessLogged<B> {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.write(self.size);
        }
    }
}

impl AccessLine {
    /// `<peer> "<request line>" <status> <body bytes> <duration>ms`, as actix-web's
    /// `Logger` with `%a "%r" %s %b %Dms` wrote it, inside the request's span.
    fn write(self, size: usize) {
        let _entered = self.span.enter();
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            target: "coffer::http",
            "{} \"{}\" {} {} {:.6}ms",
            self.peer,
            self.request,
            self.status,
            size,
            ms
        );
    }
}

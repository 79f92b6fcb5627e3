//! The default server backend: Coffer sends the bytes itself, with a strong ETag,
//! Last-Modified, conditional requests (If-Match, If-Unmodified-Since, If-None-Match,
//! If-Modified-Since → 304/412), single and multiple ranges (206, `multipart/byteranges`),
//! If-Range, and 416 for unsatisfiable ranges.

use std::time::SystemTime;

use actix_web::body::SizedStream;
use actix_web::http::header::{
    self, EntityTag, HttpDate, IfMatch, IfModifiedSince, IfNoneMatch, IfRange, IfUnmodifiedSince,
};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use futures_util::StreamExt;

use super::range::{self, ByteRange, Ranges};
use super::{Stream, security_headers};

/// Builds the response for `object`.
pub fn respond(req: &HttpRequest, object: Stream) -> HttpResponse {
    let etag = EntityTag::new_strong(object.etag.clone());
    let modified = HttpDate::from(truncate_to_seconds(object.modified));
    let is_get_or_head = matches!(*req.method(), Method::GET | Method::HEAD);

    // RFC 9110 §13.2.2: preconditions in order.
    if let Ok(IfMatch::Items(tags)) = req.get_header::<IfMatch>().ok_or(()) {
        if !tags.iter().any(|t| t.strong_eq(&etag)) {
            return precondition_failed(&object, &etag);
        }
    } else if let Some(IfUnmodifiedSince(since)) = req.get_header::<IfUnmodifiedSince>()
        && SystemTime::from(modified) > SystemTime::from(since)
    {
        return precondition_failed(&object, &etag);
    }
    if let Some(inm) = req.get_header::<IfNoneMatch>() {
        let matched = match inm {
            IfNoneMatch::Any => true,
            IfNoneMatch::Items(tags) => tags.iter().any(|t| t.weak_eq(&etag)),
        };
        if matched && is_get_or_head {
            return not_modified(&object, &etag, modified);
        }
    } else if let Some(IfModifiedSince(since)) = req.get_header::<IfModifiedSince>()
        && is_get_or_head
        && SystemTime::from(modified) <= SystemTime::from(since)
    {
        return not_modified(&object, &etag, modified);
    }

    let mut res = HttpResponse::Ok();
    headers(&mut res, &object, &etag, modified);
    res.insert_header((header::ACCEPT_RANGES, "bytes"));

    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| *req.method() == Method::GET)
        .filter(|_| if_range_holds(req, &etag, modified));
    let Some(range) = range else {
        return full_body(res, object);
    };
    match range::parse(range, object.len) {
        Ranges::Unsatisfiable => {
            let mut res = HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE);
            security_headers(&mut res);
            res.insert_header((header::CONTENT_RANGE, format!("bytes */{}", object.len)));
            res.finish()
        }
        Ranges::Ignore => full_body(res, object),
        Ranges::Satisfiable(ranges) => match ranges.as_slice() {
            [] => full_body(res, object),
            [r] => {
                let Some(length) = r.length() else {
                    return full_body(res, object);
                };
                res.status(StatusCode::PARTIAL_CONTENT);
                res.insert_header((header::CONTENT_RANGE, r.content_range(object.len)));
                res.body(SizedStream::new(length, object.body.range(r.first, length)))
            }
            _ => multipart(res, object, &ranges),
        },
    }
}

/// Whether a Range header may be honoured: no If-Range, or one that matches the current
/// representation (strong ETag comparison, or exactly the Last-Modified date).
fn if_range_holds(req: &HttpRequest, etag: &EntityTag, modified: HttpDate) -> bool {
    if !req.headers().contains_key(header::IF_RANGE) {
        return true;
    }
    match req.get_header::<IfRange>() {
        Some(IfRange::EntityTag(tag)) => tag.strong_eq(etag),
        Some(IfRange::Date(date)) => SystemTime::from(date) == SystemTime::from(modified),
        None => false,
    }
}

fn headers(res: &mut HttpResponseBuilder, object: &Stream, etag: &EntityTag, modified: HttpDate) {
    security_headers(res);
    res.insert_header((header::CONTENT_TYPE, object.content_type.as_str()));
    res.insert_header((header::CONTENT_DISPOSITION, object.disposition.as_str()));
    res.insert_header(header::ETag(etag.clone()));
    res.insert_header(header::LastModified(modified));
}

fn full_body(mut res: HttpResponseBuilder, object: Stream) -> HttpResponse {
    match object.preloaded {
        Some(bytes) => res.body(bytes),
        None => {
            let len = object.len;
            res.body(SizedStream::new(len, object.body.range(0, len)))
        }
    }
}

fn not_modified(object: &Stream, etag: &EntityTag, modified: HttpDate) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    security_headers(&mut res);
    res.insert_header(header::ETag(etag.clone()));
    res.insert_header(header::LastModified(modified));
    let _ = object;
    res.finish()
}

fn precondition_failed(object: &Stream, etag: &EntityTag) -> HttpResponse {
    let mut res = HttpResponse::PreconditionFailed();
    security_headers(&mut res);
    res.insert_header(header::ETag(etag.clone()));
    let _ = object;
    res.finish()
}

fn multipart(mut res: HttpResponseBuilder, object: Stream, ranges: &[ByteRange]) -> HttpResponse {
    let boundary = crate::auth::random_secret()[..32].to_owned();
    let mut total: Option<u64> = Some(0);
    let mut parts = Vec::with_capacity(ranges.len().saturating_mul(2).saturating_add(1));
    for r in ranges {
        let head = format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Range: {}\r\n\r\n",
            object.content_type,
            r.content_range(object.len),
        );
        let length = r.length();
        total = total
            .zip(u64::try_from(head.len()).ok())
            .and_then(|(t, h)| t.checked_add(h)?.checked_add(length?));
        parts.push(futures_util::stream::once(async move { Ok(Bytes::from(head)) }).boxed_local());
        parts.push(object.body.range(r.first, length.unwrap_or(0)));
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    total = total
        .zip(u64::try_from(tail.len()).ok())
        .and_then(|(t, h)| t.checked_add(h));
    let Some(total) = total else {
        // Cannot happen for ranges within a file, but never send a wrong length.
        return HttpResponse::RangeNotSatisfiable().finish();
    };
    parts.push(futures_util::stream::once(async move { Ok(Bytes::from(tail)) }).boxed_local());
    res.status(StatusCode::PARTIAL_CONTENT);
    res.insert_header((
        header::CONTENT_TYPE,
        format!("multipart/byteranges; boundary={boundary}"),
    ));
    res.body(SizedStream::new(
        total,
        futures_util::stream::iter(parts).flatten().boxed_local(),
    ))
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(d.as_secs()),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

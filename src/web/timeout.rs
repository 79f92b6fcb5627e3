//! The body idle timeout (`server.body_idle_timeout_secs`), once for every route that reads
//! a body: uploads (multipart), forms and JSON. The request's payload stream is wrapped so
//! that waiting for the next chunk longer than the limit ends the stream with an error; the
//! handler fails as on any broken body (an upload's guard deletes what it had written, no
//! row is inserted), and the answer is replaced by 408 with `Connection: close`, whatever
//! the handler made of the error. The request headers have their own limit
//! (`server.header_timeout_secs`, set on the server in `startup`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;

/// Wraps the request body in the idle timeout `idle`, and answers 408 if it fired.
pub async fn body_idle_timeout(
    idle: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let fired = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    let flag = Rc::clone(&fired);
    let stream = futures_util::stream::unfold(
        (payload, flag, false),
        move |(mut payload, flag, ended)| async move {
            if ended {
                return None;
            }
            match actix_web::rt::time::timeout(idle, payload.next()).await {
                Ok(Some(item)) => Some((item, (payload, flag, false))),
                Ok(None) => None,
                Err(_) => {
                    flag.set(true);
                    let e = std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "no byte of the request body within the idle timeout",
                    );
                    Some((Err(PayloadError::Io(e)), (payload, flag, true)))
                }
            }
        },
    );
    // Readers may poll again after the end (multipart does): a fused stream stays ended.
    req.set_payload(Payload::Stream {
        payload: Box::pin(stream.fuse()),
    });
    let path = req.path().to_owned();
    let res = next.call(req).await;
    if !fired.get() {
        return res.map(ServiceResponse::map_into_left_body);
    }
    tracing::info!(%path, "request body stalled; answered 408");
    let res = match res {
        Ok(res) => res,
        Err(_) => {
            return Err(actix_web::error::ErrorRequestTimeout(
                "the request body stalled",
            ));
        }
    };
    let mut timeout = HttpResponse::RequestTimeout()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"error": "the request body stalled"}));
    timeout
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    Ok(res.into_response(timeout).map_into_right_body())
}

//! Recording what a delivery of a private file came to in the download audit
//! (`library::audit`): who asked, from where, what was answered, and whether the body went
//! out to its end.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::auth::Identity;
use crate::library::audit::{Delivered, Outcome, Subject, Via, Who};
use crate::state::AppState;

use super::body_end::when_done;
use super::identity::client_address;

/// The user the request was identified as (`downloads::run` keeps it in the request), if
/// any.
pub fn caller(req: &HttpRequest) -> Who {
    req.extensions()
        .get::<Identity>()
        .map(user)
        .unwrap_or_default()
}

/// A user, through a session or an API token.
pub fn user(identity: &Identity) -> Who {
    Who {
        user_id: Some(identity.user.id),
        username: Some(identity.user.username.clone()),
        token_id: identity.token_id,
        share_id: None,
    }
}

/// A share link's visitor.
pub fn visitor(share_id: i64) -> Who {
    Who {
        share_id: Some(share_id),
        ..Who::default()
    }
}

/// An entry for `subject` asked by `who` through `req`, answered `status` with `outcome`
/// by the `default` backend (the caller changes what differs).
fn entry(
    state: &AppState,
    req: &HttpRequest,
    via: Via,
    who: Who,
    subject: Subject,
    answer: (StatusCode, Outcome),
) -> Delivered {
    let header_text = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Delivered {
        who,
        subject,
        via,
        byte_range: header_text(header::RANGE),
        status: answer.0.as_u16(),
        outcome: answer.1,
        backend: "default",
        client_addr: client_addr(state, req),
        user_agent: user_agent(req),
    }
}

/// The client's address as configured (`session.client_address_header`).
fn client_addr(state: &AppState, req: &HttpRequest) -> String {
    client_address(req, state.settings.session.client_address_header.as_deref())
}

/// The request's `User-Agent`, or nothing.
fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Records `res`, the answer to a delivery of `subject`, once its body went out (sent) or
/// was dropped before its end (interrupted). `handed_off`: the private backend named the
/// object for the web server, which sends it.
pub fn delivered(
    state: &AppState,
    req: &HttpRequest,
    via: Via,
    who: Who,
    subject: Subject,
    handed_off: bool,
    res: HttpResponse,
) -> HttpResponse {
    let log = &state.library.audit;
    if !log.enabled() {
        return res;
    }
    let status = res.status();
    let outcome = if req.method() == Method::HEAD {
        Outcome::Head
    } else if handed_off && matches!(status, StatusCode::OK | StatusCode::FOUND) {
        Outcome::HandedOff
    } else {
        match status {
            StatusCode::OK => Outcome::Sent,
            StatusCode::PARTIAL_CONTENT => Outcome::Partial,
            StatusCode::NOT_MODIFIED | StatusCode::PRECONDITION_FAILED => Outcome::NotModified,
            _ => Outcome::Failed,
        }
    };
    let mut d = entry(state, req, via, who, subject, (status, outcome));
    if handed_off {
        d.backend = state.settings.serve_private.name();
    }
    let log = log.clone();
    when_done(res, move |sent| {
        if !sent {
            d.outcome = Outcome::Interrupted;
        }
        log.record(d);
    })
}

/// Records a refusal of `subject`, answered with `status`.
pub fn refused(
    state: &AppState,
    req: &HttpRequest,
    via: Via,
    who: Who,
    subject: Subject,
    status: StatusCode,
) {
    let log = &state.library.audit;
    if log.enabled() {
        log.record(entry(
            state,
            req,
            via,
            who,
            subject,
            (status, Outcome::Refused),
        ));
    }
}

/// Records one file of a ZIP download, written into the archive (or not, `written`).
pub fn zipped(state: &AppState, d: &ZipContext, subject: Subject, written: bool) {
    let log = &state.library.audit;
    if log.enabled() {
        log.record(Delivered {
            who: d.who.clone(),
            subject,
            via: Via::Zip,
            byte_range: None,
            status: 200,
            outcome: if written {
                Outcome::Sent
            } else {
                Outcome::Interrupted
            },
            backend: "default",
            client_addr: d.client_addr.clone(),
            user_agent: d.user_agent.clone(),
        });
    }
}

/// What a ZIP download's entries are recorded with.
#[derive(Clone, Debug)]
pub struct ZipContext {
    pub who: Who,
    pub client_addr: String,
    pub user_agent: String,
}

impl ZipContext {
    pub fn of(state: &AppState, req: &HttpRequest, who: Who) -> Self {
        Self {
            who,
            client_addr: client_addr(state, req),
            user_agent: user_agent(req),
        }
    }
}

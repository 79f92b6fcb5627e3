//! Resolving a request's credentials (session cookie or bearer token) to a user.

use time::Duration;

use crate::db::models::{Session, User, session, token, user};

use crate::db::{DbConn, DbError, now};

use super::secret_hash;

/// The raw credentials a request carries; resolving them needs the database.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// The session cookie's value.
    pub session: Option<String>,
    /// The `Authorization: Bearer` token.
    pub bearer: Option<String>,
}

impl Credentials {
    /// Whether the request carries anything at all.
    pub fn is_empty(&self) -> bool {
        self.session.is_none() && self.bearer.is_none()
    }
}

/// An authenticated, active user.
#[derive(Clone, Debug)]
pub struct Identity {
    pub user: User,
    /// The session, when the request came with the session cookie (not with a token).
    pub session: Option<Session>,
}

impl Identity {
    /// The session's CSRF token (None for token-authenticated requests, which need none).
    pub fn csrf_token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.csrf_token.as_str())
    }
}

/// Resolves credentials and slides the session: a request more than a minute after the last
/// one extends the expiry to `ttl` from now.
pub fn authenticate(
    conn: &mut DbConn,
    creds: &Credentials,
    ttl: Duration,
) -> Result<Option<Identity>, DbError> {
    let identity = identify(conn, creds)?;
    if let Some(sess) = identity.as_ref().and_then(|i| i.session.as_ref())
        && needs_touch(sess)
    {
        session::touch(conn, &sess.id, now() + ttl)?;
    }
    Ok(identity)
}

/// Starts a session for `user_id` after a successful log-in, in one transaction: the
/// session the browser had (`old`, maybe planted) ends, a new one with its own CSRF token
/// begins, and the log-in time is recorded. Returns the new cookie's secret.
pub fn start(
    conn: &mut DbConn,
    user_id: i64,
    old: Option<&str>,
    ttl: Duration,
) -> Result<String, DbError> {
    let secret = super::random_secret();
    crate::db::write_transaction(conn, |conn| {
        if let Some(old) = old {
            session::delete(conn, &secret_hash(old))?;
        }
        session::create(
            conn,
            &secret_hash(&secret),
            user_id,
            &super::random_secret(),
            now() + ttl,
        )?;
        user::touch_login(conn, user_id)?;
        Ok::<_, DbError>(())
    })?;
    Ok(secret)
}

/// Ends a session (log-out).
pub fn end(conn: &mut DbConn, sess: &Session) -> Result<(), DbError> {
    session::delete(conn, &sess.id)?;
    Ok(())
}

/// Extends a session's expiry to `ttl` from now (after [`identify`], which writes nothing).
pub fn extend(conn: &mut DbConn, sess: &Session, ttl: Duration) -> Result<(), DbError> {
    session::touch(conn, &sess.id, now() + ttl)
}

/// Whether a session's expiry is due to be extended (at most once a minute).
pub fn needs_touch(sess: &Session) -> bool {
    now() - sess.last_seen_at > Duration::minutes(1)
}

/// Resolves credentials without writing anything. A bearer token wins over a cookie.
/// Unknown, expired and revoked credentials, and inactive users, give `None` (anonymous).
pub fn identify(conn: &mut DbConn, creds: &Credentials) -> Result<Option<Identity>, DbError> {
    if let Some(bearer) = &creds.bearer {
        let found = token::find_user(conn, &secret_hash(bearer))?;
        return Ok(found
            .filter(|(_, user)| user.is_active)
            .map(|(_, user)| Identity {
                user,
                session: None,
            }));
    }
    let Some(cookie) = &creds.session else {
        return Ok(None);
    };
    let id_hash = secret_hash(cookie);
    let Some((sess, user)) = session::find_with_user(conn, &id_hash)? else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    Ok(Some(Identity {
        user,
        session: Some(sess),
    }))
}

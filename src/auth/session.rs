//! Resolving a request's credentials (session cookie or bearer token) to a user.

use time::Duration;

use crate::db::models::{Session, User, session, token, user};

use crate::db::changes::{Epoch, Memo};
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
    /// The API token, when the request came with one.
    pub token_id: Option<i64>,
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

/// Identities recently resolved, by the hash of the credential that resolved them
/// (`true`: a bearer token, `false`: a session cookie), valid for the database epoch they
/// were read in (see `db::changes`).
pub type RecentIdentities = Memo<(bool, String), Identity>;

/// How many identities [`RecentIdentities`] keeps.
pub const RECENT_IDENTITIES: usize = 1024;

/// [`identify`], answered from `recent` when the database has not changed since the
/// credential was last resolved there (`at`: the epoch taken when the request began). A
/// session that has expired since is refused as the database would refuse it.
pub fn identify_at(
    conn: &mut DbConn,
    creds: &Credentials,
    recent: &RecentIdentities,
    at: Option<Epoch>,
) -> Result<Option<Identity>, DbError> {
    let Some(key) = credential_key(creds) else {
        return Ok(None);
    };
    if let Some(identity) = recent.get(at, &key) {
        let expired = identity
            .session
            .as_ref()
            .is_some_and(|s| s.expires_at <= now());
        return Ok((!expired).then_some(identity));
    }
    let found = identify_hashed(conn, key.0, &key.1)?;
    if let Some(identity) = &found {
        recent.put(at, key, identity.clone());
    }
    Ok(found)
}

/// Resolves credentials without writing anything. A bearer token wins over a cookie.
/// Unknown, expired and revoked credentials, and inactive users, give `None` (anonymous).
pub fn identify(conn: &mut DbConn, creds: &Credentials) -> Result<Option<Identity>, DbError> {
    match credential_key(creds) {
        Some((bearer, hash)) => identify_hashed(conn, bearer, &hash),
        None => Ok(None),
    }
}

/// The credential that decides (a bearer token wins over a cookie): (`true` for a bearer
/// token, its hash as stored).
fn credential_key(creds: &Credentials) -> Option<(bool, String)> {
    match (&creds.bearer, &creds.session) {
        (Some(bearer), _) => Some((true, secret_hash(bearer))),
        (None, Some(cookie)) => Some((false, secret_hash(cookie))),
        (None, None) => None,
    }
}

/// [`identify`] for the hash of a bearer token (`bearer`) or of a session cookie.
fn identify_hashed(
    conn: &mut DbConn,
    bearer: bool,
    hash: &str,
) -> Result<Option<Identity>, DbError> {
    if bearer {
        let found = token::find_user(conn, hash)?;
        return Ok(found
            .filter(|(_, user)| user.is_active)
            .map(|(token, user)| Identity {
                user,
                session: None,
                token_id: Some(token.id),
            }));
    }
    let Some((sess, user)) = session::find_with_user(conn, hash)? else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    Ok(Some(Identity {
        user,
        session: Some(sess),
        token_id: None,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use super::*;
    use crate::db::changes::Changes;
    use crate::db::models::user::NewUser;

    #[test]
    fn a_remembered_session_that_expired_since_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let backend =
            crate::db::Backend::Sqlite(dir.path().join("coffer.db").to_string_lossy().into_owned());
        let mut conn = crate::db::establish(&backend).unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let user_id = user::create(
            &mut conn,
            &NewUser {
                username: "bob".into(),
                email: String::new(),
                password_hash: "not a hash".into(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            },
        )
        .unwrap();
        let cookie = "a session cookie";
        let expires = now() + Duration::hours(1);
        session::create(&mut conn, &secret_hash(cookie), user_id, "csrf", expires).unwrap();
        let changes = Changes::watch(&backend);
        let recent = RecentIdentities::new(8);
        let creds = Credentials {
            session: Some(cookie.into()),
            bearer: None,
        };
        let at = changes.now();
        assert!(at.is_some());
        let found = identify_at(&mut conn, &creds, &recent, at)
            .unwrap()
            .unwrap();
        assert_eq!(found.user.id, user_id);
        // Remembered; now let its expiry pass without any change to the database.
        let mut expired = found.clone();
        if let Some(s) = expired.session.as_mut() {
            s.expires_at = now() - Duration::seconds(1);
        }
        recent.put(at, (false, secret_hash(cookie)), expired);
        assert!(
            identify_at(&mut conn, &creds, &recent, at)
                .unwrap()
                .is_none()
        );
        // Any change to the database starts a later epoch, which asks the database again;
        // it still knows the live session.
        let changes_made = user::UserChanges {
            email: Some("bob@example.org".into()),
            ..Default::default()
        };
        user::update(&mut conn, user_id, &changes_made).unwrap();
        let later = changes.now();
        assert!(later > at);
        assert!(
            identify_at(&mut conn, &creds, &recent, later)
                .unwrap()
                .is_some()
        );
    }
}

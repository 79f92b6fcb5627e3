//! Users: accounts with argon2id password hashes and the active/staff/superuser flags.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::generation;
use crate::db::schema::users;
use crate::db::{DbConn, DbError, now};

/// A user account.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    pub last_login_at: Option<PrimitiveDateTime>,
    /// Most bytes the user's files may hold (with versions and trash); `None`: no limit.
    pub quota_bytes: Option<i64>,
}

/// Fields of a new account; the password is already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    /// `Some(None)` removes the quota.
    pub quota_bytes: Option<Option<i64>>,
}

/// Inserts a user and returns its id.
pub fn create(conn: &mut DbConn, new: &NewUser) -> Result<i64, DbError> {
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        let id = diesel::insert_into(users::table)
            .values((
                users::username.eq(&new.username),
                users::email.eq(&new.email),
                users::password_hash.eq(&new.password_hash),
                users::is_active.eq(new.is_active),
                users::is_staff.eq(new.is_staff),
                users::is_superuser.eq(new.is_superuser),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .returning(users::id)
            .get_result::<i64>(conn)?;
        generation::bump(conn)?;
        Ok(id)
    })
}

/// Finds a user by id.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Finds a user by username (exact match).
pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Every user, ordered by username.
pub fn list(conn: &mut DbConn) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?)
}

/// Number of users.
pub fn count(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(users::table.count().get_result(conn)?)
}

/// Applies `changes`; deactivating a user also revokes their sessions and tokens.
pub fn update(conn: &mut DbConn, id: i64, changes: &UserChanges) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        let target = users::table.find(id);
        if let Some(email) = &changes.email {
            diesel::update(target)
                .set(users::email.eq(email))
                .execute(conn)?;
        }
        if let Some(v) = changes.is_active {
            diesel::update(target)
                .set(users::is_active.eq(v))
                .execute(conn)?;
            if !v {
                super::session::delete_for_user(conn, id)?;
                super::token::delete_for_user(conn, id)?;
            }
        }
        if let Some(v) = changes.is_staff {
            diesel::update(target)
                .set(users::is_staff.eq(v))
                .execute(conn)?;
        }
        if let Some(v) = changes.is_superuser {
            diesel::update(target)
                .set(users::is_superuser.eq(v))
                .execute(conn)?;
        }
        if let Some(v) = changes.quota_bytes {
            diesel::update(target)
                .set(users::quota_bytes.eq(v))
                .execute(conn)?;
        }
        diesel::update(target)
            .set(users::updated_at.eq(now()))
            .execute(conn)?;
        generation::bump(conn)?;
        Ok(())
    })
}

/// Replaces the password hash and revokes every session of the user.
pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::update(users::table.find(id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
            .execute(conn)?;
        super::session::delete_for_user(conn, id)?;
        Ok(())
    })
}

/// Records a successful login.
pub fn touch_login(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

/// Deletes a user (their rules, memberships, sessions and tokens go with them; folders and
/// files they owned keep existing without an owner).
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::delete(users::table.find(id)).execute(conn)?;
        generation::bump(conn)?;
        Ok(n > 0)
    })
}

/// Usernames for a set of ids (for display).
pub fn usernames(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::username))
        .load(conn)?)
}

/// How many folders and files a user owns: (folders, files).
pub fn owned_counts(conn: &mut DbConn, id: i64) -> Result<(i64, i64), DbError> {
    use crate::db::schema::{files, folders};
    let folders = folders::table
        .filter(folders::owner_id.eq(id))
        .filter(super::folder::is_live())
        .count()
        .get_result(conn)?;
    let files = files::table
        .filter(files::owner_id.eq(id))
        .filter(super::file::is_live())
        .count()
        .get_result(conn)?;
    Ok((folders, files))
}

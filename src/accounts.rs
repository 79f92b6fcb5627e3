//! Managing people: users, groups, passwords and API tokens — what superusers do in the
//! admin, plus changing one's own password. No HTTP here. The rules that keep an
//! installation manageable live here too: a superuser cannot deactivate, demote or delete
//! themselves, so the last superuser can never lock everyone out.

use crate::auth::{self, PasswordHasher};
use crate::db::models::{Group, User, group, token, user};
use crate::db::{DbConn, DbError};
use crate::domain::account::{BadEmail, BadUsername, Email, Username};

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// A value or a request the person can correct; the message says how.
    #[error("{0}")]
    Invalid(String),
    /// A name already in use.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(DbError::Query(e))
    }
}

/// Result of account operations.
pub type Result<T> = std::result::Result<T, Error>;

/// The longest group name accepted.
const MAX_NAME: usize = 150;

fn bad_username(e: BadUsername) -> Error {
    Error::Invalid(e.to_string())
}

fn bad_email(e: BadEmail) -> Error {
    Error::Invalid(e.to_string())
}

/// Checks a group name: 1–150 characters, no control characters; returns it trimmed.
pub fn check_group_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the group name must be 1-150 characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// The account fields a superuser sets.
#[derive(Clone, Debug)]
pub struct AccountFields {
    pub email: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub group_ids: Vec<i64>,
    /// The quota as typed ("5 GiB", "500 MB", bytes; empty: no limit). Set on edits only.
    pub quota: String,
}

/// Parses a quota typed by a superuser: empty for none, else a size such as `5 GiB`,
/// `500MB` or a number of bytes.
pub fn parse_quota(typed: &str) -> Result<Option<i64>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    typed
        .parse::<bytesize::ByteSize>()
        .ok()
        .and_then(|b| i64::try_from(b.as_u64()).ok())
        .map(Some)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the quota {typed:?} is not a size (write it as 500 MB, 5 GiB or a number of bytes)"
            ))
        })
}

fn hash(passwords: &PasswordHasher, password: &str, confirmation: &str) -> Result<String> {
    if password != confirmation {
        return Err(Error::Invalid("the two passwords differ".into()));
    }
    passwords
        .hash(password)
        .map_err(|e| Error::Invalid(e.to_string()))
}

fn check_groups(conn: &mut DbConn, ids: &[i64]) -> Result<()> {
    let known: Vec<i64> = group::list(conn)?.iter().map(|g| g.id).collect();
    match ids.iter().find(|id| !known.contains(id)) {
        Some(id) => Err(Error::Invalid(format!("group {id} does not exist"))),
        None => Ok(()),
    }
}

fn taken(e: DbError, what: &str) -> Error {
    if e.is_unique_violation() {
        Error::Conflict(what.to_owned())
    } else {
        e.into()
    }
}

/// A new account, its values parsed.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: Username,
    pub email: Option<Email>,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub group_ids: Vec<i64>,
}

impl NewAccount {
    /// An active superuser (with staff status) without an e-mail address or groups.
    pub fn superuser(username: Username) -> Self {
        Self {
            username,
            email: None,
            is_active: true,
            is_staff: true,
            is_superuser: true,
            group_ids: Vec::new(),
        }
    }
}

/// Creates an account with `password`; returns its id. The one place an account is
/// created (admin, API, command line, first start). Hashes with argon2: call on a blocking
/// thread.
pub fn create_account(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    new: &NewAccount,
    password: &str,
) -> Result<i64> {
    let username = new.username.as_str();
    check_groups(conn, &new.group_ids)?;
    if user::find_by_username(conn, username)?.is_some() {
        return Err(Error::Conflict(format!(
            "the username “{username}” is taken"
        )));
    }
    let password_hash = passwords
        .hash(password)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    crate::db::write_transaction(conn, |conn| {
        let id = user::create(
            conn,
            &user::NewUser {
                username: username.to_owned(),
                email: Email::stored(new.email.as_ref()),
                password_hash,
                is_active: new.is_active,
                is_staff: new.is_staff,
                is_superuser: new.is_superuser,
            },
        )
        .map_err(|e| taken(e, "this username is taken"))?;
        group::set_groups_of_user(conn, id, &new.group_ids)?;
        Ok(id)
    })
}

/// The admin's form: an account with a password typed twice; returns its id.
/// Every problem of the form is found before any is reported (`Error::Invalid` with the
/// problems joined by "; "), so the person fixes them in one go.
pub fn create_user(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    username: &str,
    fields: &AccountFields,
    password: &str,
    confirmation: &str,
) -> Result<i64> {
    let mut problems = Vec::new();
    let username = Username::parse(username)
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    let email = Email::parse_optional(&fields.email)
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    if let Some(name) = &username
        && user::find_by_username(conn, name.as_str())?.is_some()
    {
        problems.push(format!("the username “{}” is taken", name.as_str()));
    }
    if let Err(e) = crate::auth::password::check_length(password) {
        problems.push(e.to_string());
    }
    if password != confirmation {
        problems.push("the two passwords differ".into());
    }
    let (Some(username), Some(email), true) = (username, email, problems.is_empty()) else {
        return Err(Error::Invalid(problems.join("; ")));
    };
    let new = NewAccount {
        username,
        email,
        is_active: fields.is_active,
        is_staff: fields.is_staff,
        is_superuser: fields.is_superuser,
        group_ids: fields.group_ids.clone(),
    };
    create_account(conn, passwords, &new, password)
}

/// On a database without users, creates the superuser `admin` with a random password and
/// returns that password (to be shown once).
pub fn create_first_admin(conn: &mut DbConn, passwords: &PasswordHasher) -> Result<Option<String>> {
    if user::count(conn)? > 0 {
        return Ok(None);
    }
    let password = auth::random_secret()[..20].to_owned();
    let admin = Username::parse("admin").map_err(bad_username)?;
    create_account(conn, passwords, &NewAccount::superuser(admin), &password)?;
    Ok(Some(password))
}

/// Sets the password of the account called `username` (the command line's
/// `changepassword`) and ends its sessions.
pub fn reset_password(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    username: &str,
    password: &str,
) -> Result<()> {
    let u = user::find_by_username(conn, username)?
        .ok_or_else(|| Error::Invalid(format!("no user {username:?}")))?;
    set_password(conn, passwords, u.id, password, password)
}

/// Issues an API token for the account called `username` (the command line's
/// `token create`); returns the secret.
pub fn issue_token_for(conn: &mut DbConn, username: &str, name: &str) -> Result<String> {
    let u = user::find_by_username(conn, username)?
        .ok_or_else(|| Error::Invalid(format!("no user {username:?}")))?;
    issue_token(conn, u.id, name).map(|(_, secret)| secret)
}

fn find_user(conn: &mut DbConn, id: i64) -> Result<User> {
    user::find(conn, id)?.ok_or(Error::NotFound)
}

/// Applies a superuser's edit of account `id`. Deactivating revokes the account's
/// sessions and API tokens. `actor` may not deactivate or demote themselves.
pub fn update_user(conn: &mut DbConn, actor: &User, id: i64, fields: &AccountFields) -> Result<()> {
    let target = find_user(conn, id)?;
    if target.id == actor.id && (!fields.is_active || !fields.is_superuser) {
        return Err(Error::Invalid(
            "you cannot deactivate yourself or give up your own superuser status; another superuser can"
                .into(),
        ));
    }
    let email = Email::parse_optional(&fields.email).map_err(bad_email)?;
    let quota = parse_quota(&fields.quota)?;
    check_groups(conn, &fields.group_ids)?;
    crate::db::write_transaction(conn, |conn| {
        user::update(
            conn,
            id,
            &user::UserChanges {
                email: Some(Email::stored(email.as_ref())),
                is_active: Some(fields.is_active),
                is_staff: Some(fields.is_staff),
                is_superuser: Some(fields.is_superuser),
                quota_bytes: Some(quota),
            },
        )?;
        group::set_groups_of_user(conn, id, &fields.group_ids)?;
        Ok(())
    })
}

/// Sets account `id`'s password (typed twice) and ends its sessions. Hashes with argon2.
pub fn set_password(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    id: i64,
    password: &str,
    confirmation: &str,
) -> Result<()> {
    find_user(conn, id)?;
    let password_hash = hash(passwords, password, confirmation)?;
    user::set_password_hash(conn, id, &password_hash)?;
    Ok(())
}

/// Changes one's own password after checking the current one; ends every session of the
/// account (the caller logs in again). Hashes and verifies with argon2.
pub fn change_own_password(
    conn: &mut DbConn,
    passwords: &PasswordHasher,
    me: &User,
    current: &str,
    password: &str,
    confirmation: &str,
) -> Result<()> {
    let stored = find_user(conn, me.id)?;
    if !passwords.verify(current, Some(&stored.password_hash)) {
        return Err(Error::Invalid("the current password is wrong".into()));
    }
    if password == current {
        return Err(Error::Invalid(
            "the new password must differ from the current one".into(),
        ));
    }
    set_password(conn, passwords, me.id, password, confirmation)
}

/// What deleting an account leaves behind without an owner: (folders, files).
pub fn owned_counts(conn: &mut DbConn, id: i64) -> Result<(i64, i64)> {
    find_user(conn, id)?;
    Ok(user::owned_counts(conn, id)?)
}

/// Deletes account `id` with its sessions, tokens, memberships and permission rules; the
/// folders and files it owned stay, without an owner. Nobody deletes themselves.
pub fn delete_user(conn: &mut DbConn, actor: &User, id: i64) -> Result<User> {
    let target = find_user(conn, id)?;
    if target.id == actor.id {
        return Err(Error::Invalid(
            "you cannot delete your own account; another superuser can".into(),
        ));
    }
    user::delete(conn, id)?;
    Ok(target)
}

/// Issues an API token for account `user_id`; returns (token id, secret). The secret is
/// shown once and stored only as a hash.
pub fn issue_token(conn: &mut DbConn, user_id: i64, name: &str) -> Result<(i64, String)> {
    let target = find_user(conn, user_id)?;
    if !target.is_active {
        return Err(Error::Invalid(
            "an inactive account cannot get API tokens".into(),
        ));
    }
    let name = name.trim();
    let name = if name.is_empty() { "api" } else { name };
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the token name must be at most 150 characters".into(),
        ));
    }
    let secret = auth::new_api_token();
    let id = token::create(conn, user_id, name, &auth::secret_hash(&secret))?;
    Ok((id, secret))
}

/// Revokes one API token of account `user_id`.
pub fn revoke_token(conn: &mut DbConn, user_id: i64, token_id: i64) -> Result<()> {
    if token::delete(conn, user_id, token_id)? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

fn check_users(conn: &mut DbConn, ids: &[i64]) -> Result<()> {
    let found = user::usernames(conn, ids)?;
    match ids.iter().find(|id| !found.iter().any(|(f, _)| f == *id)) {
        Some(id) => Err(Error::Invalid(format!("user {id} does not exist"))),
        None => Ok(()),
    }
}

/// Creates a group with its members; returns its id.
pub fn create_group(conn: &mut DbConn, name: &str, member_ids: &[i64]) -> Result<i64> {
    let name = check_group_name(name)?;
    check_users(conn, member_ids)?;
    crate::db::write_transaction(conn, |conn| {
        let id =
            group::create(conn, &name).map_err(|e| taken(e, "a group with this name exists"))?;
        group::set_members(conn, id, member_ids)?;
        Ok(id)
    })
}

/// Renames group `id` and replaces its members.
pub fn update_group(conn: &mut DbConn, id: i64, name: &str, member_ids: &[i64]) -> Result<()> {
    let name = check_group_name(name)?;
    find_group(conn, id)?;
    check_users(conn, member_ids)?;
    crate::db::write_transaction(conn, |conn| {
        group::rename(conn, id, &name).map_err(|e| taken(e, "a group with this name exists"))?;
        group::set_members(conn, id, member_ids)?;
        Ok(())
    })
}

/// Replaces group `id`'s members (every user must exist; nothing changes otherwise);
/// returns the members now in it.
pub fn set_members(conn: &mut DbConn, id: i64, member_ids: &[i64]) -> Result<Vec<i64>> {
    find_group(conn, id)?;
    check_users(conn, member_ids)?;
    crate::db::write_transaction(conn, |conn| {
        group::set_members(conn, id, member_ids)?;
        Ok(group::members(conn, id)?)
    })
}

/// What the account form offers: every group to tick.
pub fn group_choices(conn: &mut DbConn) -> Result<Vec<Group>> {
    Ok(group::list(conn)?)
}

/// What the group form offers: every user to tick.
pub fn member_choices(conn: &mut DbConn) -> Result<Vec<User>> {
    Ok(user::list(conn)?)
}

/// A group with its members' ids and every user to tick, for its edit page.
pub struct GroupPage {
    pub group: Group,
    pub members: Vec<i64>,
    pub users: Vec<User>,
}

/// [`GroupPage`] of group `id`, or NotFound.
pub fn group_page(conn: &mut DbConn, id: i64) -> Result<GroupPage> {
    Ok(GroupPage {
        group: find_group(conn, id)?,
        members: group::members(conn, id)?,
        users: user::list(conn)?,
    })
}

/// A group, or NotFound.
pub fn find_group(conn: &mut DbConn, id: i64) -> Result<Group> {
    group::find(conn, id)?.ok_or(Error::NotFound)
}

/// Deletes group `id`; its memberships and permission rules go with it.
pub fn delete_group(conn: &mut DbConn, id: i64) -> Result<Group> {
    let g = find_group(conn, id)?;
    group::delete(conn, id)?;
    Ok(g)
}

/// Every user and every group, with who belongs where: what the users and groups lists show.
pub struct Directory {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// (group id, user id) pairs.
    memberships: Vec<(i64, i64)>,
}

impl Directory {
    /// Loads the users, the groups and the memberships.
    pub fn load(conn: &mut DbConn) -> Result<Self> {
        Ok(Self {
            users: user::list(conn)?,
            groups: group::list(conn)?,
            memberships: group::all_memberships(conn)?,
        })
    }

    /// The names of the groups `user_id` belongs to.
    pub fn group_names_of(&self, user_id: i64) -> Vec<&str> {
        self.memberships
            .iter()
            .filter(|(_, uid)| *uid == user_id)
            .filter_map(|(gid, _)| self.groups.iter().find(|g| g.id == *gid))
            .map(|g| g.name.as_str())
            .collect()
    }

    /// The usernames of the members of `group_id`.
    pub fn member_names_of(&self, group_id: i64) -> Vec<&str> {
        self.memberships
            .iter()
            .filter(|(gid, _)| *gid == group_id)
            .filter_map(|(_, uid)| self.users.iter().find(|u| u.id == *uid))
            .map(|u| u.username.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names() {
        assert_eq!(check_group_name("  Editors ").unwrap(), "Editors");
        assert!(check_group_name(" ").is_err());
        assert!(check_group_name("a\nb").is_err());
        assert!(check_group_name(&"g".repeat(151)).is_err());
    }
}

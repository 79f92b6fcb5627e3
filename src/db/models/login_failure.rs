//! Failed log-in attempts (and reservations, which are failures until the password proves
//! right), counted per (username, address), per address and per username; and the
//! addresses each username has logged in from. The rules live in `auth::throttle`.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{login_failures, login_known_addresses, users};
use crate::db::{DbConn, DbError, now};

/// The PostgreSQL advisory lock that serialises reservations ("CofferLG").
const ADVISORY_KEY: i64 = 0x436f_6666_6572_4c47;

/// Which failures to count.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// One username from one address.
    Pair(&'a str, &'a str),
    /// One address, every username.
    Address(&'a str),
}

/// Runs `f` in a transaction that no other reservation runs beside: on SQLite `BEGIN
/// IMMEDIATE` (the write lock from the start, so two transactions cannot both count before
/// either writes), on PostgreSQL a transaction-level advisory lock. The work inside is a
/// few indexed counts and one insert; the password is checked after the commit.
pub fn exclusive<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    crate::db::locked_transaction(conn, ADVISORY_KEY, f)
}

/// Forgets failures at or before `since` (they no longer count).
pub fn purge(conn: &mut DbConn, since: PrimitiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::failed_at.le(since)))
            .execute(conn)?,
    )
}

fn scoped<'a>(
    scope: Scope<'a>,
    since: PrimitiveDateTime,
) -> login_failures::BoxedQuery<'a, <DbConn as Connection>::Backend> {
    let query = login_failures::table
        .filter(login_failures::failed_at.gt(since))
        .into_boxed();
    match scope {
        Scope::Pair(username, address) => query
            .filter(login_failures::username.eq(username))
            .filter(login_failures::address.eq(address)),
        Scope::Address(address) => query.filter(login_failures::address.eq(address)),
    }
}

/// Failures in `scope` since `since`.
pub fn count(
    conn: &mut DbConn,
    scope: Scope<'_>,
    since: PrimitiveDateTime,
) -> Result<i64, DbError> {
    Ok(scoped(scope, since).count().get_result(conn)?)
}

/// With `limit` or more failures in `scope` since `since`: the time of the failure whose
/// ageing out brings the count below the limit again. `None` below the limit.
pub fn frees_at(
    conn: &mut DbConn,
    scope: Scope<'_>,
    since: PrimitiveDateTime,
    limit: u32,
) -> Result<Option<PrimitiveDateTime>, DbError> {
    let n = count(conn, scope, since)?;
    let limit = i64::from(limit);
    if n < limit {
        return Ok(None);
    }
    Ok(scoped(scope, since)
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .offset(n - limit)
        .limit(1)
        .first(conn)
        .optional()?)
}

/// A username's failures from every address since `since`, and the latest one.
pub fn name_failures(
    conn: &mut DbConn,
    username: &str,
    since: PrimitiveDateTime,
) -> Result<(i64, Option<PrimitiveDateTime>), DbError> {
    let query = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(since));
    let n = query.count().get_result(conn)?;
    let latest = query
        .select(diesel::dsl::max(login_failures::failed_at))
        .get_result(conn)?;
    Ok((n, latest))
}

/// Has the user called `username` logged in from `address` before?
pub fn is_known(conn: &mut DbConn, username: &str, address: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        login_known_addresses::table
            .inner_join(users::table)
            .filter(users::username.eq(username))
            .filter(login_known_addresses::address.eq(address)),
    ))
    .get_result(conn)?)
}

/// Records an attempt (a failure until proven otherwise); returns its id.
pub fn insert(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    at: PrimitiveDateTime,
) -> Result<i64, DbError> {
    Ok(diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::address.eq(address),
            login_failures::failed_at.eq(at),
        ))
        .returning(login_failures::id)
        .get_result(conn)?)
}

/// A right password: drops the reservation and the pair's failures, and remembers the
/// address as one the username logs in from.
pub fn settle_success(
    conn: &mut DbConn,
    reservation: Option<i64>,
    user_id: i64,
    username: &str,
    address: &str,
) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        if let Some(id) = reservation {
            diesel::delete(login_failures::table.find(id)).execute(conn)?;
        }
        diesel::delete(
            login_failures::table
                .filter(login_failures::username.eq(username))
                .filter(login_failures::address.eq(address)),
        )
        .execute(conn)?;
        let at = now();
        let updated = diesel::update(
            login_known_addresses::table
                .filter(login_known_addresses::user_id.eq(user_id))
                .filter(login_known_addresses::address.eq(address)),
        )
        .set(login_known_addresses::last_login_at.eq(at))
        .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(login_known_addresses::table)
                .values((
                    login_known_addresses::user_id.eq(user_id),
                    login_known_addresses::address.eq(address),
                    login_known_addresses::last_login_at.eq(at),
                ))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// Deletes the failures of `username`, from `address`, or of the pair when both are given
/// (`None` for both deletes nothing). Returns how many went.
pub fn clear(
    conn: &mut DbConn,
    username: Option<&str>,
    address: Option<&str>,
) -> Result<usize, DbError> {
    let query = match (username, address) {
        (None, None) => return Ok(0),
        (Some(u), None) => diesel::delete(login_failures::table)
            .filter(login_failures::username.eq(u))
            .into_boxed(),
        (None, Some(a)) => diesel::delete(login_failures::table)
            .filter(login_failures::address.eq(a))
            .into_boxed(),
        (Some(u), Some(a)) => diesel::delete(login_failures::table)
            .filter(login_failures::username.eq(u))
            .filter(login_failures::address.eq(a))
            .into_boxed(),
    };
    Ok(query.execute(conn)?)
}

/// A username's failures since `since`, per address: (address, failures), most first.
pub fn by_address(
    conn: &mut DbConn,
    username: &str,
    since: PrimitiveDateTime,
) -> Result<Vec<(String, i64)>, DbError> {
    let mut rows: Vec<(String, i64)> = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(since))
        .group_by(login_failures::address)
        .select((login_failures::address, diesel::dsl::count_star()))
        .load(conn)?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(rows)
}

/// Forgets one recorded attempt.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(login_failures::table.filter(login_failures::id.eq(id))).execute(conn)?)
}

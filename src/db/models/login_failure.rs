//! Failed log-in attempts, counted per username and per client address for throttling.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::login_failures;
use crate::db::{DbConn, DbError, now};

/// Failures recorded since `since`: (for this username, from this address).
pub fn counts_since(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    since: PrimitiveDateTime,
) -> Result<(i64, i64), DbError> {
    let by_name = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(since))
        .count()
        .get_result(conn)?;
    let by_address = login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::failed_at.gt(since))
        .count()
        .get_result(conn)?;
    Ok((by_name, by_address))
}

/// The oldest failure since `since` for this username or from this address: the window
/// ends once it has aged out.
pub fn oldest_since(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    since: PrimitiveDateTime,
) -> Result<Option<PrimitiveDateTime>, DbError> {
    Ok(login_failures::table
        .filter(
            login_failures::username
                .eq(username)
                .or(login_failures::address.eq(address)),
        )
        .filter(login_failures::failed_at.gt(since))
        .select(diesel::dsl::min(login_failures::failed_at))
        .get_result(conn)?)
}

/// Records a failure, and purges the rows older than `keep_since`.
pub fn record(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    keep_since: PrimitiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(keep_since)))
        .execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::address.eq(address),
            login_failures::failed_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the failures of a username (after a successful log-in).
pub fn clear_username(conn: &mut DbConn, username: &str) -> Result<usize, DbError> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
            .execute(conn)?,
    )
}

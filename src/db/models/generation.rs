//! The permission generation counter: bumped in the same transaction as every change to
//! folders, folder permissions, groups, memberships or users, so that every Coffer instance
//! sharing the database notices the change on its next request.

use diesel::prelude::*;

use crate::db::schema::permission_generation::dsl as g;
use crate::db::{DbConn, DbError};

/// Reads the current generation.
pub fn current(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(crate::on_backend!(conn, c => g::permission_generation
        .select(g::generation)
        .filter(g::id.eq(1))
        .get_result(c))?)
}

/// Marks the permission inputs as changed.
pub fn bump(conn: &mut DbConn) -> Result<(), DbError> {
    diesel::update(g::permission_generation.filter(g::id.eq(1)))
        .set(g::generation.eq(g::generation + 1))
        .execute(conn)?;
    Ok(())
}

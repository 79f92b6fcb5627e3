//! Groups of users and their memberships.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::generation;
use crate::db::schema::{group_members, groups};
use crate::db::{DbConn, DbError, now};

/// A named group of users.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub created_at: PrimitiveDateTime,
}

/// Creates a group and returns its id.
pub fn create(conn: &mut DbConn, name: &str) -> Result<i64, DbError> {
    Ok(diesel::insert_into(groups::table)
        .values((groups::name.eq(name), groups::created_at.eq(now())))
        .returning(groups::id)
        .get_result::<i64>(conn)?)
}

/// Finds a group by id.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Group>, DbError> {
    Ok(groups::table
        .find(id)
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

/// Every group, by name.
pub fn list(conn: &mut DbConn) -> Result<Vec<Group>, DbError> {
    Ok(groups::table
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?)
}

/// Renames a group.
pub fn rename(conn: &mut DbConn, id: i64, name: &str) -> Result<bool, DbError> {
    Ok(diesel::update(groups::table.find(id))
        .set(groups::name.eq(name))
        .execute(conn)?
        > 0)
}

/// Deletes a group with its memberships and rules.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::delete(groups::table.find(id)).execute(conn)?;
        generation::bump(conn)?;
        Ok(n > 0)
    })
}

/// Replaces the members of a group.
pub fn set_members(conn: &mut DbConn, group_id: i64, user_ids: &[i64]) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(group_members::table.filter(group_members::group_id.eq(group_id)))
            .execute(conn)?;
        let mut ids = user_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for u in &ids {
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(group_id),
                    group_members::user_id.eq(*u),
                ))
                .execute(conn)?;
        }
        generation::bump(conn)?;
        Ok(())
    })
}

/// Replaces the groups a user belongs to.
pub fn set_groups_of_user(
    conn: &mut DbConn,
    user_id: i64,
    group_ids: &[i64],
) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(group_members::table.filter(group_members::user_id.eq(user_id)))
            .execute(conn)?;
        let mut ids = group_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for g in &ids {
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(*g),
                    group_members::user_id.eq(user_id),
                ))
                .execute(conn)?;
        }
        generation::bump(conn)?;
        Ok(())
    })
}

/// Member user ids of a group.
pub fn members(conn: &mut DbConn, group_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(group_members::table
        .filter(group_members::group_id.eq(group_id))
        .select(group_members::user_id)
        .order(group_members::user_id.asc())
        .load(conn)?)
}

/// Every (group id, user id) membership.
pub fn all_memberships(conn: &mut DbConn) -> Result<Vec<(i64, i64)>, DbError> {
    Ok(group_members::table
        .select((group_members::group_id, group_members::user_id))
        .load(conn)?)
}

//! Folder permission rows, and their conversion to the evaluator's `Rule`.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::generation;
use crate::db::schema::folder_permissions as fp;
use crate::db::{DbConn, DbError, now};
use crate::permissions::{Grant, Principal, Rule, Scope};

/// A folder permission row.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = fp)]
pub struct PermissionRow {
    pub id: i64,
    pub folder_id: Option<i64>,
    pub scope: String,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub everybody: bool,
    pub can_read: Option<bool>,
    pub can_edit: Option<bool>,
    pub can_add_children: Option<bool>,
    pub created_at: PrimitiveDateTime,
}

impl PermissionRow {
    /// The rule as the evaluator sees it; `None` for a row that names no principal.
    pub fn to_rule(&self) -> Option<Rule> {
        let principal = if self.everybody {
            Principal::Everybody
        } else if let Some(u) = self.user_id {
            Principal::User(u)
        } else if let Some(g) = self.group_id {
            Principal::Group(g)
        } else {
            return None;
        };
        Some(Rule {
            id: self.id,
            folder_id: self.folder_id,
            scope: Scope::parse(&self.scope).unwrap_or(Scope::All),
            principal,
            read: Grant::from(self.can_read),
            edit: Grant::from(self.can_edit),
            add_children: Grant::from(self.can_add_children),
        })
    }
}

/// A validated new rule.
#[derive(Clone, Debug)]
pub struct NewRule {
    pub folder_id: Option<i64>,
    pub scope: Scope,
    pub principal: Principal,
    pub read: Grant,
    pub edit: Grant,
    pub add_children: Grant,
}

fn columns(rule: &NewRule) -> (Option<i64>, Option<i64>, bool) {
    match rule.principal {
        Principal::User(u) => (Some(u), None, false),
        Principal::Group(g) => (None, Some(g), false),
        Principal::Everybody => (None, None, true),
    }
}

/// Inserts a rule; returns its id.
pub fn create(conn: &mut DbConn, rule: &NewRule) -> Result<i64, DbError> {
    let (user_id, group_id, everybody) = columns(rule);
    crate::db::write_transaction(conn, |conn| {
        let id = diesel::insert_into(fp::table)
            .values((
                fp::folder_id.eq(rule.folder_id),
                fp::scope.eq(rule.scope.as_str()),
                fp::user_id.eq(user_id),
                fp::group_id.eq(group_id),
                fp::everybody.eq(everybody),
                fp::can_read.eq(Option::<bool>::from(rule.read)),
                fp::can_edit.eq(Option::<bool>::from(rule.edit)),
                fp::can_add_children.eq(Option::<bool>::from(rule.add_children)),
                fp::created_at.eq(now()),
            ))
            .returning(fp::id)
            .get_result::<i64>(conn)?;
        generation::bump(conn)?;
        Ok(id)
    })
}

/// Replaces a rule's contents.
pub fn update(conn: &mut DbConn, id: i64, rule: &NewRule) -> Result<bool, DbError> {
    let (user_id, group_id, everybody) = columns(rule);
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(fp::table.find(id))
            .set((
                fp::folder_id.eq(rule.folder_id),
                fp::scope.eq(rule.scope.as_str()),
                fp::user_id.eq(user_id),
                fp::group_id.eq(group_id),
                fp::everybody.eq(everybody),
                fp::can_read.eq(Option::<bool>::from(rule.read)),
                fp::can_edit.eq(Option::<bool>::from(rule.edit)),
                fp::can_add_children.eq(Option::<bool>::from(rule.add_children)),
            ))
            .execute(conn)?;
        generation::bump(conn)?;
        Ok(n > 0)
    })
}

/// Finds one rule.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<PermissionRow>, DbError> {
    Ok(fp::table
        .find(id)
        .select(PermissionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every rule, by id.
pub fn list(conn: &mut DbConn) -> Result<Vec<PermissionRow>, DbError> {
    Ok(fp::table
        .order(fp::id.asc())
        .select(PermissionRow::as_select())
        .load(conn)?)
}

/// Rules placed on one folder (None = the "all folders" rules).
pub fn on_folder(conn: &mut DbConn, folder_id: Option<i64>) -> Result<Vec<PermissionRow>, DbError> {
    let query = fp::table
        .order(fp::id.asc())
        .select(PermissionRow::as_select())
        .into_boxed();
    let query = match folder_id {
        Some(f) => query.filter(fp::folder_id.eq(f)),
        None => query.filter(fp::folder_id.is_null()),
    };
    Ok(query.load(conn)?)
}

/// Deletes a rule.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::delete(fp::table.find(id)).execute(conn)?;
        generation::bump(conn)?;
        Ok(n > 0)
    })
}

//! Folder permission rules (superusers) and the decision check with its explanation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::db;
use crate::db::models::permission::{self, NewRule};
use crate::db::models::{file, folder, user};
use crate::error::AppError;
use crate::library::rules;
use crate::permissions::{Grant, Right, Scope};
use crate::state::AppState;
use crate::web::identity::ApiUser;

use super::json::PermissionJson;
use super::require_superuser;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRuleRequest {
    #[serde(default)]
    folder_id: Option<i64>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    group_id: Option<i64>,
    #[serde(default)]
    everybody: Option<bool>,
    can_read: String,
    can_edit: String,
    can_add_children: String,
}

fn grant(name: &str, value: &str) -> Result<Grant, AppError> {
    Grant::parse(value).ok_or_else(|| {
        AppError::BadRequest(format!("{name} must be \"allow\", \"deny\" or \"inherit\""))
    })
}

/// Parses the JSON fields; the combinations are checked by `library::rules::validate`, as
/// for the admin form.
fn parse_rule(body: NewRuleRequest) -> Result<NewRule, AppError> {
    let scope = Scope::parse(&body.kind).ok_or_else(|| {
        AppError::BadRequest("type must be \"all\", \"this\" or \"children\"".into())
    })?;
    Ok(rules::validate(rules::Draft {
        folder_id: body.folder_id,
        scope,
        user_id: body.user_id,
        group_id: body.group_id,
        everybody: body.everybody.unwrap_or(false),
        read: grant("can_read", &body.can_read)?,
        edit: grant("can_edit", &body.can_edit)?,
        add_children: grant("can_add_children", &body.can_add_children)?,
    })?)
}

/// `POST /api/v1/folder-permissions` → `{id}`.
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewRuleRequest>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let rule = parse_rule(body.into_inner())?;
    let id = db::run(&state.pool, move |conn| {
        Ok(rules::create(conn, &me.user, &rule))
    })
    .await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

/// `GET /api/v1/folder-permissions` (superusers).
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let rows = db::run(&state.pool, permission::list).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(PermissionJson::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/folder-permissions/{id}` (superusers).
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| permission::find(conn, id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(PermissionJson::from(&row)))
}

/// `DELETE /api/v1/folder-permissions/{id}` (superusers).
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let id = id.into_inner();
    if !db::run(&state.pool, move |conn| permission::delete(conn, id)).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    user_id: i64,
    #[serde(default)]
    file_id: Option<i64>,
    #[serde(default)]
    folder_id: Option<i64>,
}

/// `GET /api/v1/permissions/check?user_id=U&(file_id=F|folder_id=F)` →
/// `{read, edit, add_children, explain}`. Superusers may ask about anyone; other users
/// about themselves.
pub async fn check(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    q: web::Query<CheckQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    if !me.user.is_superuser && q.user_id != me.user.id {
        return Err(AppError::Forbidden(
            "only superusers may check other users' permissions".into(),
        ));
    }
    if q.file_id.is_some() == q.folder_id.is_some() {
        return Err(AppError::BadRequest(
            "give exactly one of file_id or folder_id".into(),
        ));
    }
    let st = state.get_ref().clone();
    let decisions = db::run(&state.pool, move |conn| {
        let Some(subject) = user::find(conn, q.user_id)? else {
            return Ok(Err(AppError::BadRequest(format!(
                "user {} does not exist",
                q.user_id
            ))));
        };
        let loaded = st.access.snapshot(conn)?;
        let policy = st.access.policy();
        let mut out = Vec::new();
        if let Some(fid) = q.file_id {
            let Some(f) = file::find(conn, fid)? else {
                return Ok(Err(AppError::NotFound));
            };
            for right in Right::ALL {
                out.push((right, loaded.file(policy, Some(&subject), &f, right)));
            }
            // Said in names, and only names the caller may see.
            return explained(conn, &loaded, policy, &me.user, out).map(Ok);
        } else if let Some(fid) = q.folder_id {
            if folder::find(conn, fid)?.is_none() {
                return Ok(Err(AppError::NotFound));
            }
            for right in Right::ALL {
                out.push((right, loaded.folder(policy, Some(&subject), fid, right)));
            }
        }
        explained(conn, &loaded, policy, &me.user, out).map(Ok)
    })
    .await??;
    let mut body = serde_json::Map::new();
    let mut explain = serde_json::Map::new();
    for (right, decision, why) in decisions {
        body.insert(right.as_str().into(), decision.allowed.into());
        explain.insert(right.as_str().into(), why.into());
    }
    body.insert("explain".into(), explain.into());
    Ok(HttpResponse::Ok().json(body))
}

/// Each decision with its sentence for `viewer`, in names (`library::readers::explain`).
fn explained(
    conn: &mut crate::db::DbConn,
    loaded: &crate::access::Loaded,
    policy: crate::permissions::Policy,
    viewer: &crate::db::models::User,
    decisions: Vec<(Right, crate::permissions::Decision)>,
) -> Result<Vec<(Right, crate::permissions::Decision, String)>, crate::db::DbError> {
    decisions
        .into_iter()
        .map(|(right, d)| {
            let why = crate::library::readers::explain(conn, loaded, policy, Some(viewer), &d)
                .map_err(|e| crate::db::DbError::Blocking(e.to_string()))?;
            Ok((right, d, why))
        })
        .collect()
}

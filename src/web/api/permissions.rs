//! Folder permission rules (superusers) and the decision check with its explanation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::db;
use crate::db::models::permission::{self, NewRule};
use crate::db::models::{file, folder, group, user};
use crate::error::AppError;
use crate::permissions::{Grant, Principal, Right, Scope};
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

/// Validates a rule the way the admin form does: `all` has no folder, `this`/`children`
/// need one; exactly one of user, group, everybody.
fn parse_rule(body: NewRuleRequest) -> Result<NewRule, AppError> {
    let scope = Scope::parse(&body.kind).ok_or_else(|| {
        AppError::BadRequest("type must be \"all\", \"this\" or \"children\"".into())
    })?;
    match (scope, body.folder_id) {
        (Scope::All, Some(_)) => {
            return Err(AppError::BadRequest(
                "a rule of type \"all\" applies to all folders: omit folder_id".into(),
            ));
        }
        (Scope::This | Scope::Children, None) => {
            return Err(AppError::BadRequest(format!(
                "a rule of type \"{}\" needs a folder_id",
                scope.as_str()
            )));
        }
        _ => {}
    }
    let everybody = body.everybody.unwrap_or(false);
    let principal = match (body.user_id, body.group_id, everybody) {
        (Some(u), None, false) => Principal::User(u),
        (None, Some(g), false) => Principal::Group(g),
        (None, None, true) => Principal::Everybody,
        _ => {
            return Err(AppError::BadRequest(
                "give exactly one of user_id, group_id or everybody: true".into(),
            ));
        }
    };
    Ok(NewRule {
        folder_id: body.folder_id,
        scope,
        principal,
        read: grant("can_read", &body.can_read)?,
        edit: grant("can_edit", &body.can_edit)?,
        add_children: grant("can_add_children", &body.can_add_children)?,
    })
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
        if let Some(f) = rule.folder_id
            && folder::find(conn, f)?.is_none()
        {
            return Ok(Err(AppError::BadRequest(format!(
                "folder {f} does not exist"
            ))));
        }
        match rule.principal {
            Principal::User(u) if user::find(conn, u)?.is_none() => {
                return Ok(Err(AppError::BadRequest(format!(
                    "user {u} does not exist"
                ))));
            }
            Principal::Group(g) if group::find(conn, g)?.is_none() => {
                return Ok(Err(AppError::BadRequest(format!(
                    "group {g} does not exist"
                ))));
            }
            _ => {}
        }
        Ok(Ok(permission::create(conn, &rule)?))
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
        } else if let Some(fid) = q.folder_id {
            if folder::find(conn, fid)?.is_none() {
                return Ok(Err(AppError::NotFound));
            }
            for right in Right::ALL {
                out.push((right, loaded.folder(policy, Some(&subject), fid, right)));
            }
        }
        Ok(Ok(out))
    })
    .await??;
    let mut body = serde_json::Map::new();
    let mut explain = serde_json::Map::new();
    for (right, decision) in &decisions {
        body.insert(right.as_str().into(), decision.allowed.into());
        explain.insert(right.as_str().into(), decision.to_string().into());
    }
    body.insert("explain".into(), explain.into());
    Ok(HttpResponse::Ok().json(body))
}

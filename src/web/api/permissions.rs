//! Folder permission rules (superusers) and the decision check with its explanation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::db;
use crate::db::models::permission::{self, NewRule};
use crate::library::{self, effective, rules};
use crate::permissions::{Grant, Right, Scope};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::identity::ApiUser;

use super::json::{
    Created, ErrorJson, Explanations, GrantName, PermissionCheck, PermissionJson, ScopeName,
};
use super::require_superuser;

/// A new folder permission rule: exactly one of `user_id`, `group_id`, `everybody: true`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewFolderPermission)]
pub struct NewRuleRequest {
    /// `all`: absent or `null`; `this` and `children`: required.
    #[serde(default)]
    folder_id: Option<i64>,
    #[serde(rename = "type")]
    #[schema(value_type = ScopeName)]
    kind: String,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    group_id: Option<i64>,
    /// Default `false`.
    #[serde(default)]
    everybody: Option<bool>,
    #[schema(value_type = GrantName)]
    can_read: String,
    #[schema(value_type = GrantName)]
    can_edit: String,
    #[schema(value_type = GrantName)]
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
#[utoipa::path(
    post, path = "/api/v1/folder-permissions", tag = "folder-permissions", operation_id = "createFolderPermission",
    request_body = NewRuleRequest,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "Invalid body, type or grant; a folder that does not fit the type; not exactly one principal; a folder, user or group that does not exist", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser; CSRF token missing", body = ErrorJson),
        (status = 409, description = "The folder, user or group was deleted meanwhile", body = ErrorJson),
        (status = 413, description = "The body is too large", body = ErrorJson),
        (status = 415, description = "The body is not JSON", body = ErrorJson),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    body: web::Json<NewRuleRequest>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let rule = parse_rule(body.into_inner())?;
    let id = db::run(&state.pool, move |conn| {
        rules::create(conn, &me.user, &rule)
    })
    .await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

/// `GET /api/v1/folder-permissions` (superusers).
#[utoipa::path(
    get, path = "/api/v1/folder-permissions", tag = "folder-permissions", operation_id = "listFolderPermissions",
    responses(
        (status = 200, description = "Every rule, ordered by id", body = Vec<PermissionJson>),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser", body = ErrorJson),
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let rows = db::run(&state.pool, permission::list).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(PermissionJson::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/folder-permissions/{id}` (superusers).
#[utoipa::path(
    get, path = "/api/v1/folder-permissions/{id}", tag = "folder-permissions", operation_id = "getFolderPermission",
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = PermissionJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser", body = ErrorJson),
        (status = 404, description = "No such rule", body = ErrorJson),
    ),
)]
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
#[utoipa::path(
    delete, path = "/api/v1/folder-permissions/{id}", tag = "folder-permissions", operation_id = "deleteFolderPermission",
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "Not a superuser; CSRF token missing", body = ErrorJson),
        (status = 404, description = "No such rule", body = ErrorJson),
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(me): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    require_superuser(&me.user)?;
    let id = id.into_inner();
    db::run(&state.pool, move |conn| rules::delete(conn, &me.user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whose rights on what: exactly one of `file_id` and `folder_id`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// The user asked about (non-superusers: only themselves).
    user_id: i64,
    #[serde(default)]
    file_id: Option<i64>,
    #[serde(default)]
    folder_id: Option<i64>,
}

/// `GET /api/v1/permissions/check?user_id=U&(file_id=F|folder_id=F)` →
/// `{read, edit, add_children, explain}`. Superusers may ask about anyone; other users
/// about themselves.
#[utoipa::path(
    get, path = "/api/v1/permissions/check", tag = "permissions", operation_id = "checkPermissions",
    params(CheckQuery),
    responses(
        (status = 200, description = "The decisions and their explanations", body = PermissionCheck),
        (status = 400, description = "Invalid query; both or neither of `file_id` and `folder_id`; the user does not exist", body = ErrorJson),
        (status = 401, description = "Not authenticated", body = ErrorJson),
        (status = 403, description = "A non-superuser asking about another user", body = ErrorJson),
        (status = 404, description = "No such file or folder, or (for a non-superuser) one the caller may not read", body = ErrorJson),
    ),
)]
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
    let target = match (q.file_id, q.folder_id) {
        (Some(id), None) => effective::CheckTarget::File(id),
        (None, Some(id)) => effective::CheckTarget::Folder(id),
        _ => {
            return Err(AppError::BadRequest(
                "give exactly one of file_id or folder_id".into(),
            ));
        }
    };
    let st = state.get_ref().clone();
    let decisions = db::run(&state.pool, move |conn| {
        effective::check(&st.library, conn, &me.user, q.user_id, target).map_err(|e| match e {
            library::Error::Invalid(m) => AppError::BadRequest(m),
            other => other.into(),
        })
    })
    .await?;
    let explain = |right: Right| {
        decisions
            .iter()
            .find(|c| c.right == right)
            .map(|c| (c.allowed, c.why.clone()))
            .unwrap_or_default()
    };
    let (read, edit, add_children) = (
        explain(Right::Read),
        explain(Right::Edit),
        explain(Right::AddChildren),
    );
    Ok(HttpResponse::Ok().json(PermissionCheck {
        read: read.0,
        edit: edit.0,
        add_children: add_children.0,
        explain: Explanations {
            read: read.1,
            edit: edit.1,
            add_children: add_children.1,
        },
    }))
}

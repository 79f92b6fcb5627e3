//! Folder permissions (superusers): a folder's own and inherited rules with the "Effective
//! permissions" panel, the overview of every rule, and adding, editing and deleting a rule.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::db::models::permission::NewRule;
use crate::library::effective::{Cause, Effective};
use crate::library::rules::{self, Choice, FolderRef, FolderRules, Overview, RuleView};
use crate::library::{self as lib};
use crate::permissions::{Grant, Principal, Rule, Scope};
use crate::state::AppState;
use crate::web::admin::context::{
    Layout, Staff, Superuser, check_csrf, page, redirect, redirect_with_flash,
};
use crate::web::error::AppError;
use crate::web::errors::PageError;

mod create;
mod delete;
mod edit;
mod panel;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/permissions",
        web::get().to(|| async { redirect("/admin/permissions/") }),
    )
    .route("/admin/permissions/", web::get().to(panel::overview))
    .route("/admin/permissions/new", web::get().to(create::new_form))
    .route("/admin/permissions/new", web::post().to(create::create))
    .route(
        "/admin/permissions/{id}/edit",
        web::get().to(edit::edit_form),
    )
    .route("/admin/permissions/{id}/edit", web::post().to(edit::update))
    .route(
        "/admin/permissions/{id}/delete",
        web::get().to(delete::delete_confirm),
    )
    .route(
        "/admin/permissions/{id}/delete",
        web::post().to(delete::delete_rule),
    )
    .route(
        "/admin/folders/{id}/permissions",
        web::get().to(panel::folder_page),
    );
}

/// The page a rule's links come from and return to: `?from=FOLDER`.
#[derive(Deserialize, Default)]
pub struct FromQuery {
    from: Option<String>,
    /// The add form: the folder the new rule goes on.
    folder: Option<String>,
}

/// An id from an optional form or query value (anything else: none).
fn opt_id(v: Option<&str>) -> Option<i64> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
}

/// Where to go after a change: the page it was made from (`from`: a folder id, or
/// "overview"), else the rule's folder, else the overview.
fn back_to(from: &str, folder: Option<i64>) -> String {
    if from == "overview" {
        return "/admin/permissions/".to_owned();
    }
    match opt_id(Some(from)).or(folder) {
        Some(f) => format!("/admin/folders/{f}/permissions"),
        None => "/admin/permissions/".to_owned(),
    }
}

/// A `from` value kept as given when it is one `back_to` understands.
fn clean_from(from: Option<&str>) -> String {
    match from.map(str::trim) {
        Some("overview") => "overview".to_owned(),
        other => opt_id(other).map(|f| f.to_string()).unwrap_or_default(),
    }
}

/// One allow/deny/inherit choice of the form.
pub struct GrantField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
}

/// The add/edit form's fields and choices, as shown (posted values are kept on an error).
pub struct RuleForm {
    pub action: String,
    pub submit: &'static str,
    /// The folder the rule may sit on; `None`: only "all folders" is offered.
    pub folder: Option<FolderRef>,
    /// Where the form returns to (see `back_to`).
    pub from: String,
    pub place: String,
    pub scope: String,
    pub who: String,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub grants: Vec<GrantField>,
    pub users: Vec<Choice>,
    pub groups: Vec<Choice>,
}

/// The posted form.
#[derive(Deserialize, Default)]
pub struct RuleFields {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    folder_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    can_read: String,
    #[serde(default)]
    can_edit: String,
    #[serde(default)]
    can_add_children: String,
}

fn grant_fields(read: &str, edit: &str, add_children: &str) -> Vec<GrantField> {
    vec![
        GrantField {
            name: "can_read",
            label: "Read",
            hint: "see the folder and its files, download private files",
            value: read.to_owned(),
        },
        GrantField {
            name: "can_edit",
            label: "Edit",
            hint: "rename, move and delete the folder and its files",
            value: edit.to_owned(),
        },
        GrantField {
            name: "can_add_children",
            label: "Add children",
            hint: "create subfolders and upload files",
            value: add_children.to_owned(),
        },
    ]
}

impl RuleForm {
    /// The form filled in from a rule (edit) — or with defaults for a new rule.
    fn from_rule(action: String, rule: Option<&Rule>, folder: Option<FolderRef>) -> Self {
        let (place, scope) = match rule {
            Some(r) => (
                if r.folder_id.is_some() {
                    "folder"
                } else {
                    "all"
                },
                r.scope.as_str(),
            ),
            None if folder.is_some() => ("folder", "children"),
            None => ("all", "all"),
        };
        let (who, user_id, group_id) = match rule.map(|r| r.principal) {
            Some(Principal::User(u)) => ("user", Some(u), None),
            Some(Principal::Group(g)) => ("group", None, Some(g)),
            Some(Principal::Everybody) => ("everybody", None, None),
            None => ("user", None, None),
        };
        let g = |grant: Option<Grant>, default: Grant| grant.unwrap_or(default).as_str();
        Self {
            submit: if rule.is_some() {
                "Save rule"
            } else {
                "Add rule"
            },
            action,
            folder,
            from: String::new(),
            place: place.into(),
            scope: scope.into(),
            who: who.into(),
            user_id,
            group_id,
            grants: grant_fields(
                g(rule.map(|r| r.read), Grant::Allow),
                g(rule.map(|r| r.edit), Grant::Inherit),
                g(rule.map(|r| r.add_children), Grant::Inherit),
            ),
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// The form as it was posted.
    fn from_fields(action: String, submit: &'static str, f: &RuleFields) -> Self {
        Self {
            action,
            submit,
            folder: None,
            from: clean_from(Some(&f.from)),
            place: f.place.clone(),
            scope: f.scope.clone(),
            who: f.who.clone(),
            user_id: opt_id(Some(&f.user_id)),
            group_id: opt_id(Some(&f.group_id)),
            grants: grant_fields(&f.can_read, &f.can_edit, &f.can_add_children),
            users: Vec::new(),
            groups: Vec::new(),
        }
    }
}

/// Reads the form into a rule; the message says what to fix.
fn parse_fields(f: &RuleFields) -> Result<NewRule, String> {
    let folder_id = match f.place.as_str() {
        "folder" => Some(
            opt_id(Some(&f.folder_id))
                .ok_or("Choose the folder the rule sits on, or “all folders”.")?,
        ),
        "all" => None,
        _ => return Err("Choose where the rule sits: on this folder or on all folders.".into()),
    };
    let scope = Scope::parse(&f.scope).ok_or(
        "Choose how far the rule reaches: this folder only, this folder and its subfolders, or all folders.",
    )?;
    let (user_id, group_id, everybody) = match f.who.as_str() {
        "user" => (
            Some(opt_id(Some(&f.user_id)).ok_or("Choose the user the rule is for.")?),
            None,
            false,
        ),
        "group" => (
            None,
            Some(opt_id(Some(&f.group_id)).ok_or("Choose the group the rule is for.")?),
            false,
        ),
        "everybody" => (None, None, true),
        _ => return Err("Choose whom the rule is for: a user, a group or everybody.".into()),
    };
    let grant = |label: &str, v: &str| {
        Grant::parse(v).ok_or_else(|| format!("Choose allow, deny or inherit for {label}."))
    };
    lib::rules::validate(lib::rules::Draft {
        folder_id,
        scope,
        user_id,
        group_id,
        everybody,
        read: grant("read", &f.can_read)?,
        edit: grant("edit", &f.can_edit)?,
        add_children: grant("add children", &f.can_add_children)?,
    })
    .map_err(|e| capitalise(&e.to_string()))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            c.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "admin/permissions/form.html")]
struct FormPage {
    layout: Layout,
    heading: String,
    error: Option<String>,
    form: RuleForm,
    cancel: String,
}

/// Fills in the folder offered and the pickers, then renders the form page (400 with an
/// error, 200 without).
async fn form_page(
    state: &AppState,
    staff: &Staff,
    heading: String,
    mut form: RuleForm,
    folder: Option<i64>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (st, me) = (state.clone(), staff.user.clone());
    let rules::FormChoices { names, folder } = db::run(&state.pool, move |conn| {
        rules::form_choices(&st.library, conn, &me, folder)
    })
    .await?;
    form.folder = folder.map(|f| names.folder(f));
    form.users = names.user_choices().to_vec();
    form.groups = names.group_choices();
    let cancel = back_to(&form.from, form.folder.as_ref().map(|f| f.id));
    let layout = Layout::new(staff, "permissions");
    let html = FormPage {
        heading,
        error: error.clone(),
        form,
        cancel,
        layout: layout.clone(),
    }
    .render()?;
    let mut res = page(&layout, html);
    if error.is_some() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

/// The rule with this id from the current snapshot, or 404.
async fn load_rule(state: &AppState, staff: &Staff, id: i64) -> Result<Rule, AppError> {
    let (st, me) = (state.clone(), staff.user.clone());
    Ok(db::run(&state.pool, move |conn| {
        rules::rule(&st.library, conn, &me, id)
    })
    .await?)
}

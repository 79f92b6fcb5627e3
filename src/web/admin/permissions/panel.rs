//! A folder's rules with the effective-permissions panel, and the overview of every rule.

use super::*;

#[derive(Template)]
#[template(path = "admin/permissions/folder.html")]
struct FolderPage {
    layout: Layout,
    rules: FolderRules,
    permissions_enabled: bool,
    users: Vec<Choice>,
    picked: Option<i64>,
    effective: Option<Effective>,
    form: RuleForm,
}

/// `?user=ID`: the user the "Effective permissions" panel is about.
#[derive(Deserialize)]
pub struct PanelQuery {
    user: Option<String>,
}

pub(super) async fn folder_page(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    id: web::Path<i64>,
    q: web::Query<PanelQuery>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let picked = opt_id(q.user.as_deref());
    let (st, me) = (state.get_ref().clone(), staff.user.clone());
    let rules::FolderPanel { rules, effective } = db::run(&state.pool, move |conn| {
        rules::folder_panel(&st.library, conn, &me, id, picked)
    })
    .await?;
    let mut form = RuleForm::from_rule(
        "/admin/permissions/new".into(),
        None,
        Some(FolderRef {
            id,
            path: rules.names.folder(id).path,
        }),
    );
    form.from = id.to_string();
    form.users = rules.names.user_choices().to_vec();
    form.groups = rules.names.group_choices();
    let layout = Layout::new(&staff, "permissions");
    let html = FolderPage {
        permissions_enabled: state.library.permissions_enabled(),
        users: form.users.clone(),
        picked: effective.as_ref().map(|e| e.subject.id),
        effective,
        rules,
        form,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

#[derive(Template)]
#[template(path = "admin/permissions/index.html")]
struct OverviewPage {
    layout: Layout,
    overview: Overview,
    permissions_enabled: bool,
}

pub(super) async fn overview(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
) -> Result<HttpResponse, PageError> {
    let (st, me) = (state.get_ref().clone(), staff.user.clone());
    let overview = db::run(&state.pool, move |conn| {
        rules::overview_of(&st.library, conn, &me)
    })
    .await?;
    let layout = Layout::new(&staff, "permissions");
    let html = OverviewPage {
        overview,
        permissions_enabled: state.library.permissions_enabled(),
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

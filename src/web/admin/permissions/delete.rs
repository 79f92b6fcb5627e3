//! Deleting a rule.

use super::*;

#[derive(Template)]
#[template(path = "admin/permissions/delete.html")]
struct DeletePage {
    layout: Layout,
    rule: RuleView,
    from: String,
    cancel: String,
}

pub(super) async fn delete_confirm(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    id: web::Path<i64>,
    q: web::Query<FromQuery>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let (st, me) = (state.get_ref().clone(), staff.user.clone());
    let rule = db::run(&state.pool, move |conn| {
        rules::described(&st.library, conn, &me, id)
    })
    .await?;
    let from = clean_from(q.from.as_deref());
    let layout = Layout::new(&staff, "permissions");
    let html = DeletePage {
        cancel: back_to(&from, rule.folder.as_ref().map(|f| f.id)),
        rule,
        from,
        layout: layout.clone(),
    }
    .render()?;
    Ok(page(&layout, html))
}

/// The delete form: the CSRF token and the page to return to.
#[derive(Deserialize)]
pub struct DeleteFields {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    from: String,
}

pub(super) async fn delete_rule(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    id: web::Path<i64>,
    fields: web::Form<DeleteFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &fields.csrf_token)?;
    let id = id.into_inner();
    let user = staff.user.clone();
    let folder = db::run(&state.pool, move |conn| rules::delete(conn, &user, id)).await?;
    Ok(redirect_with_flash(
        &back_to(&fields.from, folder),
        "ok",
        &format!("Rule #{id} deleted. It no longer applies."),
    ))
}

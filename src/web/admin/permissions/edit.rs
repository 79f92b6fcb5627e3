//! Changing a rule.

use super::*;

pub(super) async fn edit_form(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    id: web::Path<i64>,
    q: web::Query<FromQuery>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let rule = load_rule(&state, &staff, id).await?;
    let from = clean_from(q.from.as_deref());
    let folder = rule.folder_id.or(opt_id(Some(&from)));
    let mut form = RuleForm::from_rule(format!("/admin/permissions/{id}/edit"), Some(&rule), None);
    form.from = from;
    form_page(
        &state,
        &staff,
        format!("Edit rule #{id}"),
        form,
        folder,
        None,
    )
    .await
}

pub(super) async fn update(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    id: web::Path<i64>,
    fields: web::Form<RuleFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &fields.csrf_token)?;
    let id = id.into_inner();
    load_rule(&state, &staff, id).await?;
    let posted_folder = opt_id(Some(&fields.folder_id));
    let form = RuleForm::from_fields(
        format!("/admin/permissions/{id}/edit"),
        "Save rule",
        &fields,
    );
    let heading = format!("Edit rule #{id}");
    let rule = match parse_fields(&fields) {
        Ok(rule) => rule,
        Err(message) => {
            return form_page(&state, &staff, heading, form, posted_folder, Some(message)).await;
        }
    };
    let (user, folder) = (staff.user.clone(), rule.folder_id);
    let saved = db::run(&state.pool, move |conn| {
        rules::update(conn, &user, id, &rule)
    })
    .await;
    match saved {
        Ok(()) => Ok(redirect_with_flash(
            &back_to(&form.from, folder),
            "ok",
            &format!("Rule #{id} saved. It applies from now on."),
        )),
        Err(lib::Error::Invalid(message)) => {
            form_page(
                &state,
                &staff,
                heading,
                form,
                posted_folder,
                Some(capitalise(&message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

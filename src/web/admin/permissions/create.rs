//! Adding a rule.

use super::*;

pub(super) async fn new_form(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    q: web::Query<FromQuery>,
) -> Result<HttpResponse, PageError> {
    let folder = opt_id(q.folder.as_deref());
    let mut form = RuleForm::from_rule(
        "/admin/permissions/new".into(),
        None,
        folder.map(|id| FolderRef {
            id,
            path: String::new(),
        }),
    );
    form.from = match q.from.as_deref() {
        Some(f) => clean_from(Some(f)),
        None => folder.map(|f| f.to_string()).unwrap_or_default(),
    };
    form_page(&state, &staff, "Add a rule".into(), form, folder, None).await
}

pub(super) async fn create(
    state: web::Data<AppState>,
    Superuser(staff): Superuser,
    fields: web::Form<RuleFields>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&staff, &fields.csrf_token)?;
    let posted_folder = opt_id(Some(&fields.folder_id));
    let form = RuleForm::from_fields("/admin/permissions/new".into(), "Add rule", &fields);
    let rule = match parse_fields(&fields) {
        Ok(rule) => rule,
        Err(message) => {
            return form_page(
                &state,
                &staff,
                "Add a rule".into(),
                form,
                posted_folder,
                Some(message),
            )
            .await;
        }
    };
    let (user, folder) = (staff.user.clone(), rule.folder_id);
    let saved = db::run(&state.pool, move |conn| rules::create(conn, &user, &rule)).await;
    match saved {
        Ok(id) => Ok(redirect_with_flash(
            &back_to(&form.from, folder),
            "ok",
            &format!("Rule #{id} added. It applies from now on."),
        )),
        Err(lib::Error::Invalid(message)) => {
            form_page(
                &state,
                &staff,
                "Add a rule".into(),
                form,
                posted_folder,
                Some(capitalise(&message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

//! Users, groups and one's own password: the admin pages and their
//! refusals.

use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{admin_client, select_attr, staff, texts};
use crate::auth::log_in;
use crate::helpers::{PASSWORD, TestApp, client, spawn_app};

const NEW_PASSWORD: &str = "a much longer passphrase";

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// POSTs a urlencoded form; returns (status, Location, body).
async fn post(
    c: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// The flash message the page at `location` shows.
async fn flash(c: &reqwest::Client, app: &TestApp, location: &str) -> String {
    let (_, page) = get(c, app, location).await;
    texts(&page, ".flash").join(" ")
}

/// Tries to log in; returns (status, body, Retry-After).
async fn try_log_in(
    app: &TestApp,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = select_attr(&page, "input[name=csrf_token]", "value").unwrap();
    let mut req = c.post(app.url("/login")).form(&[
        ("username", username),
        ("password", password),
        ("csrf_token", &token),
        ("next", "/"),
    ]);
    if let Some(a) = address {
        req = req.header("X-Forwarded-For", format!("203.0.113.250, {a}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, res.text().await.unwrap(), retry)
}

struct Account {
    username: String,
    is_active: bool,
    is_staff: bool,
    is_superuser: bool,
    email: String,
    groups: Vec<i64>,
}

async fn account(app: &TestApp, id: i64) -> Option<Account> {
    app.db(move |conn| {
        let u = coffer::db::models::user::find(conn, id).unwrap()?;
        let groups = coffer::db::models::group::all_memberships(conn)
            .unwrap()
            .into_iter()
            .filter(|(_, uid)| *uid == id)
            .map(|(gid, _)| gid)
            .collect();
        Some(Account {
            username: u.username,
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            email: u.email,
            groups,
        })
    })
    .await
}

async fn user_count(app: &TestApp) -> i64 {
    app.db(|conn| coffer::db::models::user::count(conn).unwrap())
        .await
}

fn id_from(location: &str, prefix: &str) -> i64 {
    location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location} does not start with {prefix}"))
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn superusers_create_edit_and_delete_users() {
    let app = spawn_app().await;
    let editors = app.group("editors", &[]).await;
    let (c, csrf) = admin_client(&app, "admin").await;

    let (status, form) = get(&c, &app, "/admin/users/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"group\""), "groups offered");
    let editors_value = editors.to_string();
    let (status, location, _) = post(
        &c,
        &app,
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "ada"),
            ("email", "ada@example.org"),
            ("is_active", "on"),
            ("is_staff", "on"),
            ("group", &editors_value),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ada = id_from(&location, "/admin/users/");
    assert!(flash(&c, &app, &location).await.contains("created"));
    let a = account(&app, ada).await.unwrap();
    assert_eq!(
        (
            a.username.as_str(),
            a.email.as_str(),
            a.is_active,
            a.is_staff,
            a.is_superuser
        ),
        ("ada", "ada@example.org", true, true, false)
    );
    assert_eq!(a.groups, vec![editors]);

    // The list shows her with her group and status.
    let (_, list) = get(&c, &app, "/admin/users/").await;
    let row = texts(&list, &format!("tr[data-user='{ada}']")).join(" ");
    assert!(
        row.contains("ada") && row.contains("editors") && row.contains("staff"),
        "{row}"
    );

    // She can log in, and reaches the admin as staff.
    let ada_client = client();
    log_in(&app, &ada_client, "ada").await;
    assert_eq!(
        get(&ada_client, &app, "/admin/folders/").await.0,
        StatusCode::OK
    );

    // Edit: no longer staff, no groups, a new address.
    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/users/{ada}"),
        &[
            ("csrf_token", &csrf),
            ("email", "ada@example.com"),
            ("is_active", "on"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            format!("/admin/users/{ada}").as_str()
        )
    );
    let a = account(&app, ada).await.unwrap();
    assert_eq!(
        (a.is_staff, a.email.as_str(), a.groups.len()),
        (false, "ada@example.com", 0)
    );
    assert_eq!(
        get(&ada_client, &app, "/admin/folders/").await.0,
        StatusCode::FORBIDDEN
    );

    // Delete: the confirmation counts what she owns; her files stay, ownerless.
    let ada_token = app.token_for("ada").await;
    let file = app
        .upload(&ada_token, "notes.txt", b"mine", None, false)
        .await;
    let file_id = file["id"].as_i64().unwrap();
    let (status, confirm) = get(&c, &app, &format!("/admin/users/{ada}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("1 file(s)"), "{confirm}");
    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/users/{ada}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/admin/users/")
    );
    assert!(account(&app, ada).await.is_none());
    let owner = app
        .db(move |conn| {
            coffer::db::models::file::find(conn, file_id)
                .unwrap()
                .unwrap()
                .owner_id
        })
        .await;
    assert_eq!(owner, None);
    assert_eq!(
        get(&ada_client, &app, "/").await.0,
        StatusCode::SEE_OTHER,
        "her session ended with the account"
    );
    assert_eq!(
        get(&c, &app, &format!("/admin/users/{ada}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn bad_user_forms_are_refused_with_the_reason_and_change_nothing() {
    let app = spawn_app().await;
    app.user("taken").await;
    let (c, csrf) = admin_client(&app, "admin").await;
    let before = user_count(&app).await;
    let cases: [(&str, &str, &str, &str); 5] = [
        ("<script>x</script>", PASSWORD, PASSWORD, "username must be"),
        (
            "bob",
            PASSWORD,
            "something else entirely",
            "passwords differ",
        ),
        ("bob", "short", "short", "at least 8 characters"),
        ("taken", PASSWORD, PASSWORD, "is taken"),
        ("", PASSWORD, PASSWORD, "username must be"),
    ];
    for (username, password, password2, reason) in cases {
        let (status, _, page) = post(
            &c,
            &app,
            "/admin/users/new",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("email", "\"quoted\"@example.org"),
                ("is_staff", "on"),
                ("password", password),
                ("password2", password2),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        let message = texts(&page, ".flash.error").join(" ");
        assert!(message.contains(reason), "{username}: {message}");
        // The form comes back filled in (never the passwords), escaped.
        assert_eq!(
            select_attr(&page, "#username", "value").as_deref(),
            Some(username)
        );
        assert!(select_attr(&page, "#is_staff", "checked").is_some());
        assert_eq!(select_attr(&page, "#password", "value"), None);
        assert!(!page.contains("<script>x"), "escaped");
    }
    let (status, _, page) = post(
        &c,
        &app,
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "bob"),
            ("email", "not an address"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        texts(&page, ".flash.error")
            .join(" ")
            .contains("not an e-mail address")
    );
    let (status, _, _) = post(
        &c,
        &app,
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "bob"),
            ("group", "999999"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown group");
    // Every problem at once, each on its own line; what was typed comes back but for the
    // passwords.
    let (status, _, page) = post(
        &c,
        &app,
        "/admin/users/new",
        &[
            ("csrf_token", &csrf),
            ("username", "taken"),
            ("email", "not an address"),
            ("password", "short"),
            ("password2", "shorter"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let problems = texts(&page, ".flash.error li");
    assert_eq!(problems.len(), 4, "{problems:?}");
    for part in [
        "not an e-mail address",
        "is taken",
        "at least 8 characters",
        "passwords differ",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(part)),
            "{part}: {problems:?}"
        );
    }
    assert_eq!(
        select_attr(&page, "#username", "value").as_deref(),
        Some("taken")
    );
    assert_eq!(
        select_attr(&page, "#email", "value").as_deref(),
        Some("not an address")
    );
    assert_eq!(select_attr(&page, "#password", "value"), None);
    assert_eq!(user_count(&app).await, before, "nothing was created");
}

#[actix_web::test]
async fn deactivating_a_user_ends_their_sessions_and_tokens() {
    let app = spawn_app().await;
    let (bob, bob_token) = app.user("bob").await;
    let bob_client = client();
    log_in(&app, &bob_client, "bob").await;
    let (c, csrf) = admin_client(&app, "admin").await;
    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/users/{bob}"),
        &[("csrf_token", &csrf), ("email", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(flash(&c, &app, &location).await.contains("inactive"));
    assert!(!account(&app, bob).await.unwrap().is_active);
    let (status, _) = app
        .request(
            reqwest::Method::GET,
            Some(&bob_token),
            "/api/v1/users/me",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "token revoked");
    assert_eq!(
        get(&bob_client, &app, "/").await.0,
        StatusCode::SEE_OTHER,
        "session ended"
    );
    let (status, body, _) = try_log_in(&app, "bob", PASSWORD, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("Invalid username or password."),
        "no hint that the account exists"
    );

    // Reactivated, bob logs in again.
    post(
        &c,
        &app,
        &format!("/admin/users/{bob}"),
        &[("csrf_token", &csrf), ("is_active", "on")],
    )
    .await;
    assert_eq!(
        try_log_in(&app, "bob", PASSWORD, None).await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn a_superuser_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let me = app.admin_id;
    let (c, csrf) = admin_client(&app, "admin").await;
    for form in [
        vec![("csrf_token", csrf.as_str()), ("is_active", "on")],
        vec![("csrf_token", csrf.as_str()), ("is_superuser", "on")],
    ] {
        let (status, location, _) = post(&c, &app, &format!("/admin/users/{me}"), &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            flash(&c, &app, &location)
                .await
                .contains("cannot deactivate yourself")
        );
        let a = account(&app, me).await.unwrap();
        assert!(a.is_active && a.is_superuser);
    }
    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/users/{me}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        flash(&c, &app, &location)
            .await
            .contains("cannot delete your own account")
    );
    assert!(account(&app, me).await.is_some());
    // The page itself offers no way to do it.
    let (_, page) = get(&c, &app, &format!("/admin/users/{me}")).await;
    assert!(select_attr(&page, "#is_superuser", "disabled").is_some());
    assert!(!page.contains(&format!("/admin/users/{me}/delete")));
    // Another superuser may demote this one.
    let other = staff(&app, "second").await;
    app.db(move |conn| {
        coffer::db::models::user::update(
            conn,
            other,
            &coffer::db::models::user::UserChanges {
                is_superuser: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    })
    .await;
    let (c2, csrf2) = admin_client(&app, "second").await;
    let (status, _, _) = post(
        &c2,
        &app,
        &format!("/admin/users/{me}"),
        &[
            ("csrf_token", &csrf2),
            ("is_active", "on"),
            ("is_staff", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!account(&app, me).await.unwrap().is_superuser);
}

#[actix_web::test]
async fn setting_a_password_ends_the_users_sessions() {
    let app = spawn_app().await;
    let (bob, _) = app.user("bob").await;
    let bob_client = client();
    log_in(&app, &bob_client, "bob").await;
    let (c, csrf) = admin_client(&app, "admin").await;
    let path = format!("/admin/users/{bob}/password");
    let (status, location, _) = post(
        &c,
        &app,
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", NEW_PASSWORD),
            ("password2", "different words here"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(flash(&c, &app, &location).await.contains("differ"));
    assert_eq!(
        get(&bob_client, &app, "/").await.0,
        StatusCode::OK,
        "unchanged"
    );

    let (status, location, _) = post(
        &c,
        &app,
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", NEW_PASSWORD),
            ("password2", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(flash(&c, &app, &location).await.contains("Password set"));
    assert_eq!(
        get(&bob_client, &app, "/").await.0,
        StatusCode::SEE_OTHER,
        "session ended"
    );
    assert_eq!(
        try_log_in(&app, "bob", PASSWORD, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_log_in(&app, "bob", NEW_PASSWORD, None).await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn api_tokens_are_shown_once_and_can_be_revoked() {
    let app = spawn_app().await;
    let (bob, _) = app.user("bob").await;
    let (c, csrf) = admin_client(&app, "admin").await;
    let path = format!("/admin/users/{bob}/tokens");
    let (status, _, page) = post(
        &c,
        &app,
        &path,
        &[("csrf_token", &csrf), ("name", "backup <script>")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let secret = select_attr(&page, "#token-secret", "value").expect("the secret, once");
    assert!(secret.starts_with("coffer_"));
    assert!(!page.contains("backup <script>"), "escaped");
    let (status, me) = app
        .request(
            reqwest::Method::GET,
            Some(&secret),
            "/api/v1/users/me",
            None,
        )
        .await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("bob"))
    );
    // Never shown again; stored only as a hash.
    let (_, again) = get(&c, &app, &format!("/admin/users/{bob}")).await;
    assert!(!again.contains(&secret));
    let hashes = app
        .db(move |conn| coffer::db::models::token::list_for_user(conn, bob).unwrap())
        .await;
    assert!(hashes.iter().all(|t| t.token_hash != secret));
    let token_id = hashes
        .iter()
        .find(|t| t.name == "backup <script>")
        .unwrap()
        .id;

    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/users/{bob}/tokens/{token_id}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(flash(&c, &app, &location).await.contains("revoked"));
    let (status, _) = app
        .request(
            reqwest::Method::GET,
            Some(&secret),
            "/api/v1/users/me",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Another user's token id cannot be revoked through bob's page.
    let admin_tokens = app
        .db(|conn| coffer::db::models::token::list_for_user(conn, 1).unwrap())
        .await;
    let admin_token_id = admin_tokens[0].id;
    let (status, _, _) = post(
        &c,
        &app,
        &format!("/admin/users/{bob}/tokens/{admin_token_id}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn groups_are_created_edited_and_deleted_and_decide_access() {
    let app = spawn_app().await;
    let (bob, bob_token) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    let folder = app.folder(&app.admin_token, "team", None).await;
    let file = app
        .upload(&app.admin_token, "plan.txt", b"plan", Some(folder), false)
        .await;
    let file_path = format!("/api/v1/files/{}", file["id"]);
    let (c, csrf) = admin_client(&app, "admin").await;

    let name = "Team <script>\"é\"";
    let (bob_s, carol_s) = (bob.to_string(), carol.to_string());
    let (status, location, _) = post(
        &c,
        &app,
        "/admin/groups/new",
        &[
            ("csrf_token", &csrf),
            ("name", name),
            ("member", &bob_s),
            ("member", &carol_s),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let group = id_from(&location, "/admin/groups/");
    let (_, list) = get(&c, &app, "/admin/groups/").await;
    assert!(!list.contains("<script>\""), "escaped");
    let row = texts(&list, &format!("tr[data-group='{group}']")).join(" ");
    assert!(
        row.contains(name) && row.contains("bob") && row.contains("carol"),
        "{row}"
    );

    app.rule(json!({"folder_id": folder, "type": "children", "group_id": group, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}))
        .await;
    let read = |token: String, path: String| {
        let app = &app;
        async move {
            app.request(reqwest::Method::GET, Some(&token), &path, None)
                .await
                .0
        }
    };
    assert_eq!(
        read(bob_token.clone(), file_path.clone()).await,
        StatusCode::OK
    );

    // A duplicate name is refused, the form comes back.
    post(
        &c,
        &app,
        "/admin/groups/new",
        &[("csrf_token", &csrf), ("name", "other")],
    )
    .await;
    let (status, _, page) = post(
        &c,
        &app,
        &format!("/admin/groups/{group}"),
        &[("csrf_token", &csrf), ("name", "other"), ("member", &bob_s)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(texts(&page, ".flash.error").join(" ").contains("exists"));

    // Rename, and bob leaves: he loses what the group gave him at once.
    let (status, _, _) = post(
        &c,
        &app,
        &format!("/admin/groups/{group}"),
        &[
            ("csrf_token", &csrf),
            ("name", "Team"),
            ("member", &carol_s),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let members = app
        .db(move |conn| coffer::db::models::group::members(conn, group).unwrap())
        .await;
    assert_eq!(members, vec![carol]);
    assert_eq!(
        read(bob_token.clone(), file_path.clone()).await,
        StatusCode::NOT_FOUND
    );

    let (status, confirm) = get(&c, &app, &format!("/admin/groups/{group}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Team") && confirm.contains("1 member(s)"));
    let (status, location, _) = post(
        &c,
        &app,
        &format!("/admin/groups/{group}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/admin/groups/")
    );
    let rules = app
        .db(|conn| coffer::db::models::permission::list(conn).unwrap().len())
        .await;
    assert_eq!(rules, 0, "the group's rule went with it");
    assert_eq!(
        get(&c, &app, &format!("/admin/groups/{group}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn only_superusers_manage_users_and_groups() {
    let app = spawn_app().await;
    let staff_id = staff(&app, "staffer").await;
    let (plain, _) = app.user("plain").await;
    let (c, csrf) = admin_client(&app, "staffer").await;
    for path in [
        "/admin/users/",
        "/admin/users/new",
        &format!("/admin/users/{plain}"),
        "/admin/groups/",
        "/admin/groups/new",
    ] {
        assert_eq!(get(&c, &app, path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _, _) = post(
        &c,
        &app,
        &format!("/admin/users/{staff_id}"),
        &[
            ("csrf_token", &csrf),
            ("is_active", "on"),
            ("is_staff", "on"),
            ("is_superuser", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        !account(&app, staff_id).await.unwrap().is_superuser,
        "no self-promotion"
    );
    let plain_client = client();
    log_in(&app, &plain_client, "plain").await;
    assert_eq!(
        get(&plain_client, &app, "/admin/users/").await.0,
        StatusCode::FORBIDDEN
    );
    let anonymous = client();
    let res = anonymous
        .get(app.url("/admin/users/"))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn every_post_needs_the_csrf_token() {
    let app = spawn_app().await;
    let (bob, _) = app.user("bob").await;
    let group = app.group("g", &[bob]).await;
    let (c, _) = admin_client(&app, "admin").await;
    let tokens_before = app
        .db(move |conn| {
            coffer::db::models::token::list_for_user(conn, bob)
                .unwrap()
                .len()
        })
        .await;
    let token_id = app
        .db(move |conn| coffer::db::models::token::list_for_user(conn, bob).unwrap()[0].id)
        .await;
    let users_before = user_count(&app).await;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/users/new".into(),
            vec![
                ("username", "eve"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        ),
        (
            format!("/admin/users/{bob}"),
            vec![("is_superuser", "on"), ("is_active", "on")],
        ),
        (
            format!("/admin/users/{bob}/password"),
            vec![("password", NEW_PASSWORD), ("password2", NEW_PASSWORD)],
        ),
        (format!("/admin/users/{bob}/delete"), vec![]),
        (format!("/admin/users/{bob}/tokens"), vec![("name", "t")]),
        (
            format!("/admin/users/{bob}/tokens/{token_id}/revoke"),
            vec![],
        ),
        ("/admin/groups/new".into(), vec![("name", "h")]),
        (format!("/admin/groups/{group}"), vec![("name", "renamed")]),
        (format!("/admin/groups/{group}/delete"), vec![]),
        (
            "/account/password".into(),
            vec![
                ("current", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password2", NEW_PASSWORD),
            ],
        ),
    ];
    for (path, form) in &forms {
        for token in [None, Some("0".repeat(64))] {
            let mut fields = form.clone();
            if let Some(t) = &token {
                fields.push(("csrf_token", t));
            }
            let (status, _, _) = post(&c, &app, path, &fields).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} with {token:?}");
        }
    }
    assert_eq!(user_count(&app).await, users_before);
    let b = account(&app, bob).await.unwrap();
    assert!(!b.is_superuser && b.groups == vec![group]);
    assert_eq!(
        app.db(
            move |conn| coffer::db::models::token::list_for_user(conn, bob)
                .unwrap()
                .len()
        )
        .await,
        tokens_before
    );
    let g = app
        .db(move |conn| {
            coffer::db::models::group::find(conn, group)
                .unwrap()
                .unwrap()
                .name
        })
        .await;
    assert_eq!(g, "g");
    assert_eq!(
        try_log_in(&app, "bob", PASSWORD, None).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        try_log_in(&app, "admin", PASSWORD, None).await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn people_change_their_own_password_and_every_session_ends() {
    let app = spawn_app().await;
    app.user("bob").await;
    let (laptop, phone) = (client(), client());
    log_in(&app, &laptop, "bob").await;
    log_in(&app, &phone, "bob").await;
    let (status, page) = get(&laptop, &app, "/account/password").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = select_attr(&page, "input[name=csrf_token]", "value").unwrap();

    let attempts: [(&str, &str, &str, &str); 3] = [
        (
            "wrong password!",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current password is wrong",
        ),
        (PASSWORD, NEW_PASSWORD, "something else entirely", "differ"),
        (PASSWORD, "short", "short", "at least 8"),
    ];
    for (current, password, password2, reason) in attempts {
        let (status, _, page) = post(
            &laptop,
            &app,
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current", current),
                ("password", password),
                ("password2", password2),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            texts(&page, ".flash.error").join(" ").contains(reason),
            "{reason}"
        );
    }
    assert_eq!(
        get(&phone, &app, "/").await.0,
        StatusCode::OK,
        "nothing changed yet"
    );

    let (status, location, _) = post(
        &laptop,
        &app,
        "/account/password",
        &[
            ("csrf_token", &csrf),
            ("current", PASSWORD),
            ("password", NEW_PASSWORD),
            ("password2", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/login?password_changed=1")
    );
    let (_, login_page) = get(&laptop, &app, &location).await;
    assert!(
        texts(&login_page, ".flash.ok")
            .join(" ")
            .contains("password has been changed")
    );
    assert_eq!(get(&laptop, &app, "/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&phone, &app, "/").await.0,
        StatusCode::SEE_OTHER,
        "other devices too"
    );
    assert_eq!(
        try_log_in(&app, "bob", PASSWORD, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_log_in(&app, "bob", NEW_PASSWORD, None).await.0,
        StatusCode::SEE_OTHER
    );

    // Logged out, the page sends you to log in.
    let res = client()
        .get(app.url("/account/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=/account/password");
}

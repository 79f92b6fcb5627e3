//! Faults that fuzzing the JSON API (scripts/fuzz-api.sh) found, each pinned by a test.

use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// Makes the database delete folder `victim` just before `event` on `table` writes a row
/// whose `column` is `victim`: the race of a request whose folder is deleted between its
/// check and its write, made certain.
async fn delete_folder_before(
    app: &TestApp,
    n: usize,
    table: &str,
    event: &str,
    column: &str,
    victim: i64,
) {
    let pg = app._pg.is_some();
    let statements = if pg {
        vec![
            format!(
                "CREATE FUNCTION race_{n}() RETURNS trigger AS $$ BEGIN \
                 DELETE FROM folders WHERE id = {victim}; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER race_{n} BEFORE {event} ON {table} FOR EACH ROW \
                 WHEN (NEW.{column} = {victim}) EXECUTE FUNCTION race_{n}()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER race_{n} BEFORE {event} ON {table} FOR EACH ROW \
             WHEN NEW.{column} = {victim} BEGIN DELETE FROM folders WHERE id = {victim}; END"
        )]
    };
    app.db(move |conn| {
        for s in statements {
            diesel::sql_query(s).execute(conn).unwrap();
        }
    })
    .await;
}

/// A folder deleted between a request's checks and its write answered 500 (a foreign-key
/// violation): it answers 409 and changes nothing. (The trigger's deletion is undone with
/// the failed statement; a real concurrent deletion stays.)
#[actix_web::test]
async fn a_folder_deleted_between_check_and_write_answers_409() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let home = app.folder(&admin, "Home", None).await;
    let file = app.upload(&admin, "a.txt", b"a", Some(home), false).await["id"]
        .as_i64()
        .unwrap();
    let mover = app.folder(&admin, "Mover", Some(home)).await;

    let cases: Vec<(&str, &str, &str, Method, String, serde_json::Value)> = vec![
        (
            "files",
            "UPDATE",
            "folder_id",
            Method::PATCH,
            format!("/api/v1/files/{file}"),
            json!({}),
        ),
        (
            "folders",
            "UPDATE",
            "parent_id",
            Method::PATCH,
            format!("/api/v1/folders/{mover}"),
            json!({}),
        ),
        (
            "folders",
            "INSERT",
            "parent_id",
            Method::POST,
            "/api/v1/folders".into(),
            json!({"name": "New"}),
        ),
        (
            "folder_permissions",
            "INSERT",
            "folder_id",
            Method::POST,
            "/api/v1/folder-permissions".into(),
            json!({"type": "this", "everybody": true, "can_read": "allow",
                   "can_edit": "inherit", "can_add_children": "inherit"}),
        ),
    ];
    for (n, (table, event, column, method, path, mut body)) in cases.into_iter().enumerate() {
        let victim = app.folder(&admin, &format!("Victim {n}"), None).await;
        delete_folder_before(&app, n, table, event, column, victim).await;
        let key = if table == "folders" {
            "parent_id"
        } else {
            "folder_id"
        };
        body[key] = json!(victim);
        let (status, answer) = app
            .request(method.clone(), Some(&admin), &path, Some(body))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {path}: {answer}");
        assert_eq!(
            answer,
            json!({"error": "an item this request refers to was deleted meanwhile"})
        );
    }
    // Nothing moved or was created.
    let (_, f) = app.file_json(file).await;
    assert_eq!(f["folder_id"], json!(home));
    let (_, m) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{mover}"),
            None,
        )
        .await;
    assert_eq!(m["parent_id"], json!(home));
    let (_, rules) = app
        .request(
            Method::GET,
            Some(&admin),
            "/api/v1/folder-permissions",
            None,
        )
        .await;
    assert_eq!(rules, json!([]));
}

/// `GET /api/v1/permissions/check` let a non-superuser ask about any item: an unreadable
/// one answered 200 with its decisions and the rules behind them, a missing one 404. An
/// item the caller may not read now answers exactly like a missing one; a superuser still
/// gets the whole answer about anyone.
#[actix_web::test]
async fn permission_check_hides_what_the_caller_may_not_read() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (eve, eve_token) = app.user("eve").await;
    let shared = app.folder(&admin, "shared", None).await;
    let denied = app.folder(&admin, "denied", Some(shared)).await;
    let vault = app.folder(&admin, "vault", None).await;
    for (folder, read) in [(shared, "allow"), (denied, "deny")] {
        app.rule(
            json!({"type": "children", "folder_id": folder, "user_id": eve,
                        "can_read": read, "can_edit": "inherit", "can_add_children": "inherit"}),
        )
        .await;
    }
    let id = |v: serde_json::Value| v["id"].as_i64().unwrap();
    let readable = id(app.upload(&admin, "r.txt", b"r", Some(shared), false).await);
    let in_denied = id(app.upload(&admin, "d.txt", b"d", Some(denied), false).await);
    let in_vault = id(app.upload(&admin, "v.txt", b"v", Some(vault), false).await);
    let unsorted = id(app.upload(&admin, "u.txt", b"u", None, false).await);
    let check = |token: String, query: String| {
        let app = &app;
        async move {
            app.request(
                Method::GET,
                Some(&token),
                &format!("/api/v1/permissions/check?user_id={eve}&{query}"),
                None,
            )
            .await
        }
    };
    let missing = json!({"error": "not found"});
    for query in [
        format!("folder_id={denied}"),
        format!("folder_id={vault}"),
        "folder_id=987654".to_owned(),
        format!("file_id={in_denied}"),
        format!("file_id={in_vault}"),
        format!("file_id={unsorted}"),
        "file_id=987654".to_owned(),
    ] {
        let (status, body) = check(eve_token.clone(), query.clone()).await;
        assert_eq!(
            (status, &body),
            (StatusCode::NOT_FOUND, &missing),
            "{query}"
        );
        let (status, body) = check(admin.clone(), query.clone()).await;
        if query.ends_with("987654") {
            assert_eq!(status, StatusCode::NOT_FOUND);
        } else {
            assert_eq!(status, StatusCode::OK, "{query}");
            assert_eq!(body["read"], json!(false), "{query}");
        }
    }
    for query in [format!("folder_id={shared}"), format!("file_id={readable}")] {
        let (status, body) = check(eve_token.clone(), query.clone()).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(body["read"], json!(true));
    }
}

/// With `debug = true` the hidden item answers 403 with the reason, like every denied read.
#[actix_web::test]
async fn permission_check_with_debug_says_why() {
    let app = crate::helpers::spawn_app_with(|c| c.debug = true).await;
    let (eve, eve_token) = app.user("eve").await;
    let vault = app.folder(&app.admin_token, "vault", None).await;
    let (status, body) = app
        .request(
            Method::GET,
            Some(&eve_token),
            &format!("/api/v1/permissions/check?user_id={eve}&folder_id={vault}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("denied"), "{body}");
}

/// Text with a NUL character was stored by SQLite and answered 500 on PostgreSQL (which
/// refuses it): every text field of the JSON API now refuses it with 400 on both.
#[actix_web::test]
async fn text_with_nul_characters_never_answers_500() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let home = app.folder(&admin, "Home", None).await;
    let file = app.upload(&admin, "a.txt", b"a", Some(home), false).await["id"]
        .as_i64()
        .unwrap();
    let group = app.group("g", &[]).await;
    let nul = "a\u{0}b";
    let requests: Vec<(Method, String, serde_json::Value)> = vec![
        (
            Method::PATCH,
            format!("/api/v1/files/{file}"),
            json!({"description": nul}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/files/{file}"),
            json!({"name": nul}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/folders/{home}"),
            json!({"name": nul}),
        ),
        (
            Method::POST,
            "/api/v1/folders".into(),
            json!({"name": nul, "parent_id": home}),
        ),
        (Method::POST, "/api/v1/groups".into(), json!({"name": nul})),
        (
            Method::POST,
            "/api/v1/users".into(),
            json!({"username": "nul", "password": "long enough", "email": nul}),
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            json!({"username": "nul2", "password": "long\u{0}enough"}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"username": "admin", "password": "x", "name": nul}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"username": nul, "password": nul}),
        ),
        (
            Method::PUT,
            format!("/api/v1/groups/{group}/members"),
            json!({"user_ids": []}),
        ),
    ];
    for (method, path, body) in requests {
        let (status, answer) = app
            .request(method.clone(), Some(&admin), &path, Some(body.clone()))
            .await;
        let what = format!("{method} {path} {body}: {status} {answer}");
        if path.ends_with("/members") {
            assert_eq!(status, StatusCode::OK, "{what}");
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
            assert!(answer["error"].as_str().unwrap().contains("NUL"), "{what}");
        }
    }
}

/// The upload's text fields refuse NUL characters too, storing nothing.
#[actix_web::test]
async fn upload_fields_with_nul_characters_are_refused() {
    let app = spawn_app().await;
    let form = reqwest::multipart::Form::new()
        .text("description", "a\u{0}b")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/files"))
        .bearer_auth(&app.admin_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (_, listing) = app
        .request(Method::GET, Some(&app.admin_token), "/api/v1/folders", None)
        .await;
    assert_eq!(listing["files"], json!([]));
}

/// The same class through the pages: form fields, search queries and the log-in form. A
/// NUL never answers 500 (PostgreSQL refuses it in a parameter) and is never stored (SQLite
/// would keep it).
#[actix_web::test]
async fn nul_characters_in_forms_queries_and_log_ins_never_answer_500() {
    let app = spawn_app().await;
    let home = app.folder(&app.admin_token, "Home", None).await;
    let file = app
        .upload(&app.admin_token, "a.txt", b"a", Some(home), false)
        .await["id"]
        .as_i64()
        .unwrap();
    let (c, token) = crate::admin::admin_client(&app, "admin").await;
    // The file page's description: refused, nothing stored.
    let res = c
        .post(app.url(&format!("/admin/files/{file}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", ""),
            ("description", "before\u{0}after"),
            ("folder", &home.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Back to the file page, which says why.
    let page = c
        .get(app.url(&format!("/admin/files/{file}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("control characters"), "{page}");
    let (_, stored) = app.file_json(file).await;
    assert_eq!(stored["description"], "", "{stored}");
    // Searches, in both browsers and the API.
    for path in [
        "/admin/folders/?q=a%00b".to_owned(),
        "/admin/folders/?q=%00&everywhere=1".to_owned(),
        format!("/admin/folders/{home}?q=%00"),
        "/?q=%00".to_owned(),
        format!("/folders/{home}?q=a%00"),
    ] {
        let res = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    // Log-in attempts with a NUL or an overlong name: refused like a wrong password,
    // never a 500, and every one counted.
    let anonymous = crate::helpers::client();
    let login_page = anonymous
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::auth::csrf_from(&login_page);
    let long = "x".repeat(400);
    for name in ["ad\u{0}min", "\u{0}", long.as_str()] {
        let res = anonymous
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("username", name),
                ("password", "wrong"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name:?}");
        let (status, body) = app
            .request(
                Method::POST,
                None,
                "/api/v1/tokens",
                Some(json!({"username": name, "password": "wrong"})),
            )
            .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
            "{name:?}: {status} {body}"
        );
    }
}

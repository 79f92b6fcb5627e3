//! Folder and file names: bidirectional controls, zero-width characters, `.` and `..` are
//! refused with a clear message everywhere a name is given (API and admin: create, rename,
//! edit; import), an upload's original name has them dropped, and names are stored in NFC.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin::admin_client;
use crate::helpers::{TestApp, spawn_app};

/// Names refused, with a piece of the message each gives.
const REFUSED: &[(&str, &str)] = &[
    ("invoice\u{202E}fdp.exe", "direction marks (U+202E)"),
    ("a\u{202A}b", "direction marks (U+202A)"),
    ("a\u{2066}b\u{2069}", "direction marks (U+2066)"),
    ("\u{200F}x", "direction marks (U+200F)"),
    ("x\u{200E}", "direction marks (U+200E)"),
    ("a\u{061C}b", "direction marks (U+061C)"),
    ("ad\u{200B}min", "zero-width characters (U+200B)"),
    ("a\u{200D}b", "zero-width characters (U+200D)"),
    ("a\u{2060}b", "zero-width characters (U+2060)"),
    ("\u{FEFF}bom", "zero-width characters (U+FEFF)"),
    (".", "must not be \".\" or \"..\""),
    ("..", "must not be \".\" or \"..\""),
    (" .. ", "must not be \".\" or \"..\""),
    ("a/b", "must not contain '/'"),
    ("a\u{2028}b", "control characters"),
    ("", "must not be empty"),
];

async fn folder_names(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        use diesel::prelude::*;
        coffer::db::schema::folders::table
            .select(coffer::db::schema::folders::name)
            .order(coffer::db::schema::folders::id)
            .load::<String>(conn)
            .unwrap()
    })
    .await
}

#[actix_web::test]
async fn the_api_refuses_deceptive_names_on_create_and_rename() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    let keep = app.folder(&t, "keep", None).await;
    let file = app.upload(&t, "keep.txt", b"k", Some(keep), false).await;
    let file_id = file["id"].as_i64().unwrap();
    for (name, message) in REFUSED {
        let (status, body) = app
            .request(
                Method::POST,
                Some(&t),
                "/api/v1/folders",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "create {name:?}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.starts_with("the folder name ") && error.contains(message),
            "create {name:?}: {error}"
        );
        let (status, body) = app
            .request(
                Method::PATCH,
                Some(&t),
                &format!("/api/v1/folders/{keep}"),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "rename {name:?}: {body}");
        if !name.trim().is_empty() {
            // An empty file name means "use the original name".
            let (status, body) = app
                .request(
                    Method::PATCH,
                    Some(&t),
                    &format!("/api/v1/files/{file_id}"),
                    Some(json!({"name": name})),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "file {name:?}: {body}");
            assert!(
                body["error"].as_str().unwrap().contains(message),
                "file {name:?}: {body}"
            );
        }
    }
    assert_eq!(folder_names(&app).await, vec!["keep"]);
    let (_, body) = app.file_json(file_id).await;
    assert_eq!(body["name"], "keep.txt");
}

#[actix_web::test]
async fn names_are_stored_in_nfc_so_one_name_is_one_name() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    let decomposed = "Cafe\u{301}";
    let id = app.folder(&t, &format!("  {decomposed} "), None).await;
    assert_eq!(folder_names(&app).await, vec!["Café"]);
    // The composed spelling is the same name among siblings.
    let (status, body) = app
        .request(
            Method::POST,
            Some(&t),
            "/api/v1/folders",
            Some(json!({"name": "Café"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&t),
            &format!("/api/v1/folders/{id}"),
            Some(json!({"name": "Ange\u{301}lique"})),
        )
        .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("Angélique"))
    );
    let file = app.upload(&t, "x.txt", b"x", Some(id), false).await;
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&t),
            &format!("/api/v1/files/{}", file["id"]),
            Some(json!({"name": "re\u{301}sume\u{301}.pdf"})),
        )
        .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("résumé.pdf"))
    );
    // "..." and dotted names stay allowed.
    app.folder(&t, "...", None).await;
    app.folder(&t, ".config", None).await;
}

#[actix_web::test]
async fn an_uploaded_name_loses_what_a_name_may_not_hold() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    for (sent, kept) in [
        ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
        ("ad\u{200B}min\u{FEFF}.txt", "admin.txt"),
        ("dir/..", "upload"),
        // A second "upload" in the same place keeps both (`on_conflict` is `rename`).
        ("\u{2066}\u{2069}", "upload (2)"),
        ("Cafe\u{301}.txt", "Café.txt"),
    ] {
        let body = app.upload(&t, sent, b"x", None, false).await;
        assert_eq!(body["original_filename"], kept, "{sent:?}");
    }
}

#[actix_web::test]
async fn the_admin_forms_refuse_deceptive_names_with_the_message() {
    let app = spawn_app().await;
    let (c, token) = admin_client(&app, "admin").await;
    let keep = app.folder(&app.admin_token, "keep", None).await;
    let file = app
        .upload(&app.admin_token, "keep.txt", b"k", Some(keep), false)
        .await;
    for (name, message) in REFUSED.iter().filter(|(n, _)| !n.trim().is_empty()) {
        for (path, fields) in [
            ("/admin/folders/new".to_owned(), vec![("name", *name)]),
            (format!("/admin/folders/{keep}/edit"), vec![("name", *name)]),
            (
                format!("/admin/files/{}", file["id"]),
                vec![("name", *name), ("description", ""), ("folder", "")],
            ),
        ] {
            let mut form = vec![("csrf_token", token.as_str())];
            form.extend(fields);
            let res = c.post(app.url(&path)).form(&form).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} {name:?}");
            let to = res.headers()["location"].to_str().unwrap().to_owned();
            let page = c
                .get(app.url(&to))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let escaped = message.replace('"', "&#34;").replace('\'', "&#39;");
            assert!(
                page.contains(&escaped),
                "{path} {name:?}: no {escaped:?} in the page"
            );
        }
    }
    assert_eq!(folder_names(&app).await, vec!["keep"]);
    let (_, body) = app.file_json(file["id"].as_i64().unwrap()).await;
    assert_eq!(body["name"], "keep.txt");
}

#[actix_web::test]
async fn import_refuses_deceptive_directory_names_and_finds_nfc_names_again() {
    let app = spawn_app().await;
    let src = tempfile::tempdir().unwrap();
    let root = src.path().join("photos");
    std::fs::create_dir_all(root.join("Cafe\u{301}")).unwrap();
    std::fs::create_dir_all(root.join("evil\u{202E}gpj")).unwrap();
    std::fs::write(root.join("Cafe\u{301}").join("Cre\u{300}me.txt"), b"c").unwrap();
    std::fs::write(root.join("evil\u{202E}gpj").join("x.txt"), b"x").unwrap();
    std::fs::write(root.join("a\u{200B}b.txt"), b"a").unwrap();
    let admin = app
        .db(|conn| {
            coffer::db::models::user::find_by_username(conn, "admin")
                .unwrap()
                .unwrap()
        })
        .await;
    let mut failures = Vec::new();
    let report =
        coffer::library::import::import(&app.state.library, &admin, &root, None, None, |e| {
            if let coffer::library::import::Event::File(
                p,
                coffer::library::import::Outcome::Failed(why),
            ) = e
            {
                failures.push((p.to_path_buf(), why));
            }
        })
        .await
        .unwrap();
    assert_eq!((report.imported, report.failed), (2, 1), "{report:?}");
    assert!(
        failures.len() == 1 && failures[0].1.contains("direction marks (U+202E)"),
        "{failures:?}"
    );
    let mut names = folder_names(&app).await;
    names.sort();
    assert_eq!(names, vec!["Café", "photos"]);
    let originals = app
        .db(|conn| {
            use diesel::prelude::*;
            let mut v = coffer::db::schema::files::table
                .select(coffer::db::schema::files::original_filename)
                .load::<String>(conn)
                .unwrap();
            v.sort();
            v
        })
        .await;
    assert_eq!(originals, vec!["Crème.txt", "ab.txt"]);
    // A second run finds the folders and files it made: nothing new.
    let again =
        coffer::library::import::import(&app.state.library, &admin, &root, None, None, |_| {})
            .await
            .unwrap();
    assert_eq!(
        (again.imported, again.skipped, again.folders_created),
        (0, 2, 0),
        "{again:?}"
    );
}

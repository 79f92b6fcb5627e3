//! The JSON API contract: routes, fields, errors, limits.

use coffer::storage::StorageRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, path_of, spawn_app, spawn_app_with};

#[actix_web::test]
async fn file_objects_have_exactly_the_documented_fields() {
    let app = spawn_app().await;
    let folder = app.folder(&app.admin_token, "docs", None).await;
    let file = app
        .upload(
            &app.admin_token,
            "Report.pdf",
            b"%PDF-1.4\n...",
            Some(folder),
            false,
        )
        .await;
    let mut keys: Vec<_> = file.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "description",
            "folder_id",
            "icon",
            "id",
            "image",
            "is_public",
            "mime_type",
            "modified_at",
            "name",
            "original_filename",
            "owner_id",
            "sha256",
            "size",
            "thumbnail_error",
            "thumbnails",
            "url"
        ]
    );
    assert_eq!(file["mime_type"], "application/pdf");
    assert_eq!(file["image"], Value::Null);
    assert_eq!(file["thumbnails"], json!({}));
    assert_eq!(file["icon"], "/static/icons/pdf.svg");
    assert_eq!(file["size"], 12);
    assert_eq!(file["owner_id"], app.admin_id);
    assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
    assert!(file["created_at"].as_str().unwrap().ends_with('Z'));
    let id = file["id"].as_i64().unwrap();
    let (status, got) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, file);
}

#[actix_web::test]
async fn patch_edits_moves_and_toggles() {
    let app = spawn_app().await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", None).await;
    let file = app
        .upload(&app.admin_token, "x.txt", b"bytes", Some(a), false)
        .await;
    let id = file["id"].as_i64().unwrap();
    let (status, got) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(
                json!({"name": "Nice name", "description": "d", "folder_id": b, "is_public": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        (
            got["name"].clone(),
            got["description"].clone(),
            got["folder_id"].clone(),
            got["is_public"].clone()
        ),
        (json!("Nice name"), json!("d"), json!(b), json!(true))
    );
    assert!(path_of(&got).starts_with("/media/public/"));
    let (status, _, body) = app.get(None, &path_of(&got)).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"bytes"[..]));
    let (status, got) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(json!({"folder_id": null})),
        )
        .await;
    assert_eq!(
        (status, got["folder_id"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("colour"));
}

#[actix_web::test]
async fn folders_crud_with_sibling_names_and_cycles_refused() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    let (status, body) = app
        .request(
            Method::POST,
            t,
            "/api/v1/folders",
            Some(json!({"name": "b", "parent_id": a})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app
        .request(
            Method::POST,
            t,
            "/api/v1/folders",
            Some(json!({"name": "a"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "unique among top-level folders too"
    );
    let (status, body) = app
        .request(
            Method::PATCH,
            t,
            &format!("/api/v1/folders/{a}"),
            Some(json!({"parent_id": b})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("into itself"));
    let (status, got) = app
        .request(
            Method::PATCH,
            t,
            &format!("/api/v1/folders/{b}"),
            Some(json!({"parent_id": null, "name": "b2"})),
        )
        .await;
    assert_eq!(
        (status, got["parent_id"].clone(), got["name"].clone()),
        (StatusCode::OK, Value::Null, json!("b2"))
    );
    let (status, got) = app
        .request(Method::GET, t, &format!("/api/v1/folders/{a}"), None)
        .await;
    assert_eq!((status, got["name"].clone()), (StatusCode::OK, json!("a")));
    for bad in ["", "   ", "a/b", "tab\there"] {
        let (status, _) = app
            .request(
                Method::POST,
                t,
                "/api/v1/folders",
                Some(json!({"name": bad})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
}

#[actix_web::test]
async fn deleting_a_folder_removes_the_subtree_and_its_bytes() {
    let app = spawn_app().await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    let f1 = app
        .upload(&app.admin_token, "1.txt", b"1", Some(a), false)
        .await;
    let f2 = app
        .upload(&app.admin_token, "2.txt", b"2", Some(b), true)
        .await;
    let (status, body) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{a}?permanent=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"deleted_folders": 2, "deleted_files": 2, "trashed": false})
    );
    for f in [&f1, &f2] {
        assert_eq!(
            app.get(Some(&app.admin_token), &path_of(f)).await.0,
            StatusCode::NOT_FOUND
        );
    }
    let report = app
        .db({
            let s = app.state.library.storages.clone();
            move |c| coffer::library::check::check(&s, c).unwrap()
        })
        .await;
    assert!(report.is_empty(), "no orphans: {report:?}");
}

#[actix_web::test]
async fn deleting_a_file_removes_bytes_and_thumbnails() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "a.txt", b"a", None, false)
        .await;
    let id = file["id"].as_i64().unwrap();
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(Some(&app.admin_token), &path_of(&file)).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn uploads_over_the_limit_leave_nothing() {
    let app = spawn_app_with(|c| c.max_upload_size = bytesize::ByteSize::kib(64)).await;
    let (status, body) = app
        .try_upload(
            &app.admin_token,
            "big.bin",
            &vec![7u8; 200 * 1024],
            None,
            false,
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("65536"));
    let report = app
        .db({
            let s = app.state.library.storages.clone();
            move |c| {
                (
                    coffer::db::models::file::all_keys(c).unwrap(),
                    coffer::library::check::check(&s, c).unwrap(),
                )
            }
        })
        .await;
    assert!(report.0.is_empty() && report.1.is_empty(), "{report:?}");
    assert!(
        app.stored_keys(StorageRole::Private).await.is_empty(),
        "no object stored"
    );
    let tmp = app.private_upload_temp_files();
    assert!(tmp.is_empty(), "temporary file removed: {tmp:?}");
}

#[actix_web::test]
async fn errors_are_json_with_fitting_statuses() {
    let app = spawn_app().await;
    let (status, body) = app
        .request(Method::GET, None, "/api/v1/users/me", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, body) = app
        .request(Method::GET, Some("coffer_wrong"), "/api/v1/users/me", None)
        .await;
    assert_eq!(
        (status, body["error"].is_string()),
        (StatusCode::UNAUTHORIZED, true)
    );
    let (status, body) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            "/api/v1/files/424242",
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not found"))
    );
    let (status, body) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            "/api/v1/nothing-here",
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].is_string()),
        (StatusCode::NOT_FOUND, true)
    );
    let res = app
        .client
        .post(app.url("/api/v1/folders"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let (status, _) = app
        .request(
            Method::POST,
            None,
            "/api/v1/tokens",
            Some(json!({"username": "admin", "password": "wrong pass"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn users_groups_and_members() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    let (status, body) = app
        .request(
            Method::POST,
            t,
            "/api/v1/users",
            Some(json!({"username": "ann", "password": "short"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (u, _) = app.user("ann").await;
    let (status, _) = app
        .request(
            Method::POST,
            t,
            "/api/v1/users",
            Some(json!({"username": "ann", "password": "long enough pw"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let g = app.group("team", &[u]).await;
    let (status, body) = app
        .request(
            Method::PUT,
            t,
            &format!("/api/v1/groups/{g}/members"),
            Some(json!({"user_ids": [u, 999]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .request(
            Method::PUT,
            t,
            &format!("/api/v1/groups/{g}/members"),
            Some(json!({"user_ids": [u, app.admin_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut ids: Vec<i64> = body["user_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![u, app.admin_id];
    want.sort();
    assert_eq!(ids, want);
}

#[actix_web::test]
async fn uploads_by_unprivileged_users_go_to_their_unsorted_uploads() {
    let app = spawn_app().await;
    let (u, t) = app.user("plain").await;
    let file = app.upload(&t, "mine.txt", b"mine", None, false).await;
    assert_eq!(file["owner_id"], u);
    let f = app.folder(&app.admin_token, "closed", None).await;
    let (status, _) = app.try_upload(&t, "x.txt", b"x", Some(f), false).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a folder the user may not read is not revealed"
    );
    let mut form = reqwest::multipart::Form::new().text("owner_id", app.admin_id.to_string());
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
    );
    let res = app
        .client
        .post(app.url("/api/v1/files"))
        .bearer_auth(&t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "owner_id is for superusers"
    );
}

#[actix_web::test]
async fn users_created_through_the_api_follow_the_account_rules() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    let create = |body: Value| app.request(Method::POST, t, "/api/v1/users", Some(body));
    // Trimmed like the admin form, e-mail included.
    let (status, body) = create(json!({
        "username": "  spaced  ", "password": PASSWORD, "email": "  s@example.org "
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (_, users) = app.request(Method::GET, t, "/api/v1/users", None).await;
    let made = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"].as_i64() == Some(id))
        .unwrap();
    assert_eq!(made["username"], "spaced");
    assert_eq!(made["email"], "s@example.org");
    // A bad e-mail is refused, and nothing is created.
    for (username, email) in [
        ("mailless", "not-an-address"),
        ("mailless", "a@b@c"),
        ("mailless", "a b@c"),
    ] {
        let (status, body) = create(json!({
            "username": username, "password": PASSWORD, "email": email
        }))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("not an e-mail address"),
            "{body}"
        );
    }
    // Bad usernames, and a taken one (after trimming).
    for bad in ["", "   ", "a b", "<script>"] {
        let (status, body) = create(json!({"username": bad, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("username must be"),
            "{body}"
        );
    }
    let (status, _) = create(json!({"username": "spaced ", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, after) = app.request(Method::GET, t, "/api/v1/users", None).await;
    assert_eq!(
        after.as_array().unwrap().len(),
        users.as_array().unwrap().len()
    );
    assert!(!after.to_string().contains("mailless"));
}

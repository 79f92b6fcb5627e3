//! Versions, the duplicate question and quotas: replacing keeps the earlier content (checked
//! like the file, moved with it, restorable, `versions.keep` deep); an upload whose name is
//! taken is renamed, made a version, refused or skipped as asked; a quota refuses an upload
//! that would pass it, with the numbers, and stores nothing.

use coffer::storage::StorageRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::trash::assert_clean;

/// Uploads with `on_conflict`; returns the status and body.
pub async fn upload_as(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: &[u8],
    folder: Option<i64>,
    on_conflict: &str,
) -> (StatusCode, Value) {
    let mut form = reqwest::multipart::Form::new().text("on_conflict", on_conflict.to_owned());
    if let Some(f) = folder {
        form = form.text("folder_id", f.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    );
    let res = app
        .client
        .post(app.url("/api/v1/files"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json::<Value>().await.unwrap_or(Value::Null))
}

async fn versions(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let (status, body) = app
        .request(
            Method::GET,
            Some(token),
            &format!("/api/v1/files/{id}/versions"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

async fn text(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, String) {
    let (status, _, body) = app.get(token, path).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn file_count(app: &TestApp) -> i64 {
    app.db(|conn| {
        use diesel::prelude::*;
        coffer::db::schema::files::table
            .count()
            .get_result::<i64>(conn)
            .unwrap()
    })
    .await
}

#[actix_web::test]
async fn replacing_keeps_versions_that_are_checked_moved_and_restored() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (rita, rita_token) = app.user("rita").await;
    let (_, sam_token) = app.user("sam").await;
    let docs = app.folder(&admin, "Docs", None).await;
    app.rule(json!({"folder_id": docs, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let first = app
        .upload(&admin, "report.txt", b"one", Some(docs), false)
        .await;
    let id = first["id"].as_i64().unwrap();
    for content in [&b"two"[..], b"three"] {
        let (status, body) =
            upload_as(&app, &admin, "report.txt", content, Some(docs), "version").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["id"], id, "the same file gets the new content");
    }
    let stable = format!("/files/{id}/report.txt");
    assert_eq!(
        text(&app, Some(&rita_token), &stable).await,
        (StatusCode::OK, "three".into())
    );
    let list = versions(&app, &admin, id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(
        list.iter().map(|v| v["size"].as_i64()).collect::<Vec<_>>(),
        [Some(3), Some(3)]
    );
    assert_eq!(list[0]["replaced_by"], "admin");
    let (newest, oldest) = (
        list[0]["url"].as_str().unwrap().to_owned(),
        list[1]["url"].as_str().unwrap().to_owned(),
    );
    // The reader's page of the file lists them.
    let (status, page) = text(&app, Some(&rita_token), &format!("/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Earlier versions") && page.contains(&oldest),
        "{page}"
    );
    // Checked like the file: its readers get it, others nothing.
    assert_eq!(
        text(&app, Some(&rita_token), &newest).await,
        (StatusCode::OK, "two".into())
    );
    assert_eq!(
        text(&app, Some(&rita_token), &oldest).await,
        (StatusCode::OK, "one".into())
    );
    for token in [Some(sam_token.as_str()), None] {
        assert_eq!(app.get(token, &oldest).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.get(Some(&sam_token), &format!("/api/v1/files/{id}/versions"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // A version of another file's id is not found.
    let other = app
        .upload(&admin, "other.txt", b"x", Some(docs), false)
        .await;
    let vid = list[1]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(
            Some(&admin),
            &format!("/files/{}/versions/{vid}", other["id"])
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Versions move with the file between storages.
    let (public, private) = (StorageRole::Public, StorageRole::Private);
    assert_eq!(app.stored_keys(private).await.len(), 4);
    let (status, _) = app
        .request(
            Method::PATCH,
            Some(&admin),
            &format!("/api/v1/files/{id}"),
            Some(json!({"is_public": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            app.stored_keys(public).await.len(),
            app.stored_keys(private).await.len()
        ),
        (3, 1)
    );
    assert_eq!(
        text(&app, None, &oldest).await,
        (StatusCode::OK, "one".into())
    );
    // Restoring the oldest keeps the current content as a version in turn.
    let (status, body) = app
        .request(
            Method::POST,
            Some(&rita_token),
            &format!("/api/v1/files/{id}/versions/{vid}/restore"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "readers may not restore: {body}"
    );
    let (status, body) = app
        .request(
            Method::POST,
            Some(&admin),
            &format!("/api/v1/files/{id}/versions/{vid}/restore"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(text(&app, None, &stable).await.1, "one");
    let list = versions(&app, &admin, id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(
        text(&app, None, list[0]["url"].as_str().unwrap()).await.1,
        "three"
    );
    assert_eq!(
        text(&app, None, list[1]["url"].as_str().unwrap()).await.1,
        "two"
    );
    assert_eq!(
        app.get(None, &oldest).await.0,
        StatusCode::NOT_FOUND,
        "a restored version is the content now, not a version"
    );
    // The trash takes the versions out of the public storage; purging removes them.
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        app.stored_keys(public).await.is_empty(),
        "{:?}",
        app.stored_keys(public).await
    );
    assert_clean(&app).await;
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/files/{}?permanent=true", other["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let out = app
        .coffer_command(&["trash", "purge", "--older-than-days", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        app.stored_keys(private).await.is_empty(),
        "{:?}",
        app.stored_keys(private).await
    );
    assert_clean(&app).await;
}

#[actix_web::test]
async fn only_versions_keep_versions_are_kept() {
    let app = spawn_app_with(|c| c.versions.keep = 2).await;
    let admin = app.admin_token.clone();
    let f = app.upload(&admin, "a.txt", b"v1", None, false).await;
    for n in 2..=5 {
        let (status, _) = upload_as(
            &app,
            &admin,
            "a.txt",
            format!("v{n}").as_bytes(),
            None,
            "version",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let list = versions(&app, &admin, f["id"].as_i64().unwrap()).await;
    let kept: Vec<String> = {
        let mut out = Vec::new();
        for v in &list {
            out.push(text(&app, Some(&admin), v["url"].as_str().unwrap()).await.1);
        }
        out
    };
    assert_eq!(kept, ["v4", "v3"]);
    assert_eq!(app.stored_keys(StorageRole::Private).await.len(), 3);
    assert_clean(&app).await;
}

#[actix_web::test]
async fn a_taken_name_is_renamed_versioned_refused_or_skipped_as_asked() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (ria, ria_token) = app.user("ria").await;
    let box_ = app.folder(&admin, "Box", None).await;
    app.rule(json!({"folder_id": box_, "type": "children", "user_id": ria, "can_read": "allow", "can_edit": "deny", "can_add_children": "allow"})).await;
    let original = app
        .upload(&admin, "notes.txt", b"first", Some(box_), false)
        .await;
    // What the browser asks before sending: only of a place one may upload to.
    let (_, sam_token) = app.user("sam").await;
    let asked = format!("/uploads/taken?folder={box_}&name=notes.txt&name=new.txt");
    for (token, status) in [
        (Some(admin.as_str()), StatusCode::OK),
        (Some(ria_token.as_str()), StatusCode::OK),
        (Some(sam_token.as_str()), StatusCode::NOT_FOUND),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (got, _, body) = app.get(token, &asked).await;
        assert_eq!(got, status);
        if status == StatusCode::OK {
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body, json!({"taken": ["notes.txt"]}));
        }
    }
    // Default for the API: keep both.
    let second = app
        .upload(&admin, "notes.txt", b"second", Some(box_), false)
        .await;
    assert_eq!(second["original_filename"], "notes (2).txt");
    let third = app
        .upload(&admin, "notes.txt", b"third", Some(box_), false)
        .await;
    assert_eq!(third["original_filename"], "notes (3).txt");
    let (n, stored) = (
        file_count(&app).await,
        app.stored_keys(StorageRole::Private).await,
    );
    // fail: 409, nothing stored.
    let (status, body) = upload_as(&app, &admin, "notes.txt", b"x", Some(box_), "fail").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("notes.txt"),
        "{body}"
    );
    // skip: 204, nothing stored.
    let (status, _) = upload_as(&app, &admin, "notes.txt", b"x", Some(box_), "skip").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // version without edit on the existing file: refused, nothing stored.
    let (status, body) =
        upload_as(&app, &ria_token, "notes.txt", b"x", Some(box_), "version").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // An unknown choice: 400.
    let (status, _) = upload_as(&app, &admin, "notes.txt", b"x", Some(box_), "replace").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(file_count(&app).await, n);
    assert_eq!(app.stored_keys(StorageRole::Private).await, stored);
    let (_, body) = app.file_json(original["id"].as_i64().unwrap()).await;
    assert_eq!(body["size"], 5);
    // The same name in another folder, or among another user's unsorted uploads, is free.
    let (status, body) = upload_as(&app, &ria_token, "notes.txt", b"mine", None, "fail").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["original_filename"], "notes.txt");
    assert_clean(&app).await;
}

#[actix_web::test]
async fn a_quota_refuses_what_would_pass_it_with_the_numbers() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (quinn, quinn_token) = app.user("quinn").await;
    app.db(move |conn| {
        use coffer::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.find(quinn))
            .set(users::quota_bytes.eq(Some(10_i64)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let kept = app
        .upload(&quinn_token, "a.txt", b"12345678", None, false)
        .await;
    let stored = app.stored_keys(StorageRole::Private).await;
    let (status, body) = app
        .try_upload(&quinn_token, "b.txt", b"12345", None, false)
        .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("13 B") && message.contains("10 B"),
        "{message}"
    );
    assert_eq!(app.stored_keys(StorageRole::Private).await, stored);
    // A new version counts too.
    let (status, _) = upload_as(&app, &quinn_token, "a.txt", b"123", None, "version").await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    // The trash still counts; emptying it makes room.
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&quinn_token),
            &format!("/api/v1/files/{}", kept["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.try_upload(&quinn_token, "b.txt", b"12345", None, false)
            .await
            .0,
        StatusCode::INSUFFICIENT_STORAGE
    );
    let (_, trash) = app
        .request(Method::GET, Some(&quinn_token), "/api/v1/trash", None)
        .await;
    let entry = trash[0]["id"].as_i64().unwrap();
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&quinn_token),
            &format!("/api/v1/trash/{entry}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let b = app
        .upload(&quinn_token, "b.txt", b"12345", None, false)
        .await;
    // A restore over the quota (lowered meanwhile) is refused with the numbers.
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&quinn_token),
            &format!("/api/v1/files/{}", b["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.db(move |conn| {
        use coffer::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.find(quinn))
            .set(users::quota_bytes.eq(Some(4_i64)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let (_, trash) = app
        .request(Method::GET, Some(&quinn_token), "/api/v1/trash", None)
        .await;
    let entry = trash[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .request(
            Method::POST,
            Some(&quinn_token),
            &format!("/api/v1/trash/{entry}/restore"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("4 B"), "{body}");
    app.db(move |conn| {
        use coffer::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.find(quinn))
            .set(users::quota_bytes.eq(Some(10_i64)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let (status, _) = app
        .request(
            Method::POST,
            Some(&quinn_token),
            &format!("/api/v1/trash/{entry}/restore"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Others are not limited by it; a superuser sets and lifts it on the user's page.
    app.upload(&admin, "big.txt", &[0_u8; 100], None, false)
        .await;
    let (c, csrf) = crate::admin::admin_client(&app, "admin").await;
    let page = c
        .get(app.url(&format!("/admin/users/{quinn}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"quota\"") && page.contains("5 B"),
        "{page}"
    );
    let res = c
        .post(app.url(&format!("/admin/users/{quinn}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "quinn"),
            ("email", ""),
            ("is_active", "on"),
            ("quota", "1 KiB"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let quota = app
        .db(move |conn| {
            coffer::db::models::user::find(conn, quinn)
                .unwrap()
                .unwrap()
                .quota_bytes
        })
        .await;
    assert_eq!(quota, Some(1024));
    let res = c
        .post(app.url(&format!("/admin/users/{quinn}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "quinn"),
            ("is_active", "on"),
            ("quota", "lots"),
        ])
        .send()
        .await
        .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    let page = c
        .get(app.url(&back))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("is not a size"),
        "a bad quota is refused: {page}"
    );
    let quota = app
        .db(move |conn| {
            coffer::db::models::user::find(conn, quinn)
                .unwrap()
                .unwrap()
                .quota_bytes
        })
        .await;
    assert_eq!(quota, Some(1024), "and changes nothing");
}

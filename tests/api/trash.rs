//! The trash: a deleted file or folder is delivered nowhere (by any URL, listing, search or
//! count), is kept private, can be restored by whoever deleted or owns it (then checked
//! again like any file), and is purged by hand or by age.

use coffer::storage::StorageRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, path_of, spawn_app};

/// `coffer check` finds nothing (no missing object, no orphan).
pub async fn assert_clean(app: &TestApp) {
    let report = app
        .db({
            let s = app.state.library.storages.clone();
            move |c| coffer::library::check::check(&s, c).unwrap()
        })
        .await;
    assert!(report.is_empty(), "check: {report:?}");
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    app.request(Method::DELETE, Some(token), path, None).await
}

async fn trash(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .request(Method::GET, Some(token), "/api/v1/trash", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

fn entry_of(trash: &[Value], kind: &str, item: i64) -> i64 {
    trash
        .iter()
        .find(|e| e["kind"] == kind && e["item_id"] == item)
        .unwrap_or_else(|| panic!("{kind} {item} in the trash: {trash:?}"))["id"]
        .as_i64()
        .unwrap()
}

async fn restore(app: &TestApp, token: &str, entry: i64) -> (StatusCode, Value) {
    app.request(
        Method::POST,
        Some(token),
        &format!("/api/v1/trash/{entry}/restore"),
        None,
    )
    .await
}

async fn body_of(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, String) {
    let (status, _, body) = app.get(token, path).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn stable(f: &Value) -> String {
    format!(
        "/files/{}/{}",
        f["id"],
        f["original_filename"].as_str().unwrap()
    )
}

#[actix_web::test]
async fn a_trashed_file_is_delivered_nowhere_and_a_restored_one_is_checked_again() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (rita, rita_token) = app.user("rita").await;
    let (_, sam_token) = app.user("sam").await;
    let docs = app.folder(&admin, "Docs", None).await;
    app.rule(json!({"folder_id": docs, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let plan = app
        .upload(&admin, "plan-zebra.txt", b"secret plan", Some(docs), false)
        .await;
    let flyer = app
        .upload(&admin, "flyer-zebra.txt", b"for everyone", Some(docs), true)
        .await;
    assert_eq!(app.stored_keys(StorageRole::Public).await.len(), 1);
    assert_eq!(
        body_of(&app, Some(&rita_token), &path_of(&plan)).await,
        (StatusCode::OK, "secret plan".to_owned())
    );
    let private_url = path_of(&plan);

    for f in [&plan, &flyer] {
        let (status, _) = delete(&app, &admin, &format!("/api/v1/files/{}", f["id"])).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    // The public file left the public storage: the web server has nothing to serve.
    assert!(
        app.stored_keys(StorageRole::Public).await.is_empty(),
        "{:?}",
        app.stored_keys(StorageRole::Public).await
    );
    for token in [Some(admin.as_str()), Some(rita_token.as_str()), None] {
        for f in [&plan, &flyer] {
            assert_eq!(app.get(token, &stable(f)).await.0, StatusCode::NOT_FOUND);
            let api = if token.is_some() {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNAUTHORIZED
            };
            for url in [
                format!("/api/v1/files/{}", f["id"]),
                format!("/api/v1/files/{}/versions", f["id"]),
            ] {
                assert_eq!(app.get(token, &url).await.0, api, "{url}");
            }
        }
        assert_eq!(app.get(token, &private_url).await.0, StatusCode::NOT_FOUND);
    }
    // Nowhere in listings, search or counts.
    let (_, children) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{docs}/children"),
            None,
        )
        .await;
    assert_eq!(children["files"], json!([]), "{children}");
    for page in [format!("/folders/{docs}"), "/?q=zebra".to_owned()] {
        let (status, html) = body_of(&app, Some(&admin), &page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("zebra.txt"), "{page}: {html}");
    }
    let (_, html) = body_of(&app, Some(&admin), "/admin/folders/?q=zebra").await;
    assert!(!html.contains("zebra.txt"));

    // The admin's trash has both; rita sees neither and cannot touch them.
    let items = trash(&app, &admin).await;
    assert_eq!(items.len(), 2);
    assert!(trash(&app, &rita_token).await.is_empty());
    let (plan_entry, flyer_entry) = (
        entry_of(&items, "file", plan["id"].as_i64().unwrap()),
        entry_of(&items, "file", flyer["id"].as_i64().unwrap()),
    );
    assert_eq!(
        restore(&app, &rita_token, plan_entry).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&app, &rita_token, &format!("/api/v1/trash/{plan_entry}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (c, csrf) = crate::admin::admin_client(&app, "admin").await;
    let html = c
        .get(app.url("/admin/trash/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("plan-zebra.txt") && html.contains("Delete permanently"),
        "{html}"
    );
    // Restoring from the admin's trash page needs the CSRF token.
    let res = c
        .post(app.url(&format!("/admin/trash/{plan_entry}/restore")))
        .form(&[("csrf_token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(trash(&app, &admin).await.len(), 2);

    // Restored: where it was, with its visibility, and checked like any file again.
    let res = c
        .post(app.url(&format!("/admin/trash/{plan_entry}/restore")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.file_json(plan["id"].as_i64().unwrap()).await.1["folder_id"],
        docs
    );
    let (status, body) = restore(&app, &admin, flyer_entry).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.stored_keys(StorageRole::Public).await.len(),
        1,
        "public again"
    );
    assert_eq!(
        app.file_json(flyer["id"].as_i64().unwrap()).await.1["is_public"],
        true
    );
    let (status, _) = body_of(&app, Some(&rita_token), &stable(&plan)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get(Some(&sam_token), &stable(&plan)).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(trash(&app, &admin).await.is_empty());
    assert_clean(&app).await;
}

#[actix_web::test]
async fn a_trashed_folder_takes_its_tree_and_gives_its_name_back() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let a = app.folder(&admin, "Projects", None).await;
    let b = app.folder(&admin, "Inner", Some(a)).await;
    let f1 = app.upload(&admin, "one.txt", b"1", Some(a), false).await;
    let f2 = app.upload(&admin, "two.txt", b"2", Some(b), true).await;
    let (status, body) = delete(&app, &admin, &format!("/api/v1/folders/{a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"deleted_folders": 2, "deleted_files": 2, "trashed": true})
    );
    for path in [
        format!("/api/v1/folders/{a}"),
        format!("/api/v1/folders/{b}"),
        format!("/api/v1/folders/{b}/children"),
        stable(&f1),
        stable(&f2),
    ] {
        assert_eq!(
            app.get(Some(&admin), &path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert!(app.stored_keys(StorageRole::Public).await.is_empty());
    let (_, top) = app
        .request(Method::GET, Some(&admin), "/api/v1/folders", None)
        .await;
    assert!(!top.to_string().contains("Projects"), "{top}");
    // Nothing can be added into the trashed tree.
    let (status, _) = app
        .request(
            Method::POST,
            Some(&admin),
            "/api/v1/folders",
            Some(json!({"name": "x", "parent_id": b})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.try_upload(&admin, "x.txt", b"x", Some(b), false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The name is free again; the restored folder takes another.
    let again = app.folder(&admin, "Projects", None).await;
    let entry = entry_of(&trash(&app, &admin).await, "folder", a);
    let (status, body) = restore(&app, &admin, entry).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Projects (restored)");
    let (_, folder) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{a}"),
            None,
        )
        .await;
    assert_eq!(folder["name"], "Projects (restored)");
    assert_eq!(app.get(Some(&admin), &stable(&f1)).await.0, StatusCode::OK);
    assert_eq!(
        app.file_json(f2["id"].as_i64().unwrap()).await.1["is_public"],
        true
    );
    assert_eq!(app.stored_keys(StorageRole::Public).await.len(), 1);

    // Deleting for good leaves no object and no row behind.
    let (status, body) = delete(&app, &admin, &format!("/api/v1/folders/{a}?permanent=true")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["trashed"], false);
    assert!(app.stored_keys(StorageRole::Public).await.is_empty());
    assert!(app.stored_keys(StorageRole::Private).await.is_empty());
    assert!(trash(&app, &admin).await.is_empty());
    assert_eq!(
        app.get(Some(&admin), &format!("/api/v1/folders/{again}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_clean(&app).await;
}

#[actix_web::test]
async fn a_file_whose_folder_is_gone_comes_back_to_the_unsorted_uploads() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let x = app.folder(&admin, "Old", None).await;
    let inner = app
        .upload(&admin, "keep.txt", b"keep", Some(x), false)
        .await;
    let other = app
        .upload(&admin, "other.txt", b"other", Some(x), false)
        .await;
    let id = inner["id"].as_i64().unwrap();
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/files/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/folders/{x}"))
            .await
            .0,
        StatusCode::OK
    );
    let items = trash(&app, &admin).await;
    assert_eq!(items.len(), 2);
    let (status, body) = restore(&app, &admin, entry_of(&items, "file", id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["parent_id"], Value::Null);
    assert_eq!(app.file_json(id).await.1["folder_id"], Value::Null);
    // Purging the folder takes what is still in it, and only that.
    let folder_entry = entry_of(&trash(&app, &admin).await, "folder", x);
    assert_eq!(
        delete(&app, &admin, &format!("/api/v1/trash/{folder_entry}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.file_json(id).await.0, StatusCode::OK);
    assert_eq!(
        app.file_json(other["id"].as_i64().unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.stored_keys(StorageRole::Private).await.len(), 1);
    assert_clean(&app).await;
}

#[actix_web::test]
async fn deleting_for_good_is_for_owners_and_superusers() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (ed, ed_token) = app.user("ed").await;
    let shared = app.folder(&admin, "Shared", None).await;
    app.rule(json!({"folder_id": shared, "type": "children", "user_id": ed, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    let theirs = app
        .upload(&admin, "theirs.txt", b"t", Some(shared), false)
        .await;
    let mine = app
        .upload(&ed_token, "mine.txt", b"m", Some(shared), false)
        .await;
    let theirs_id = theirs["id"].as_i64().unwrap();
    let (status, _) = delete(
        &app,
        &ed_token,
        &format!("/api/v1/files/{theirs_id}?permanent=true"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.file_json(theirs_id).await.0, StatusCode::OK);
    assert_eq!(
        delete(&app, &ed_token, &format!("/api/v1/files/{theirs_id}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let items = trash(&app, &ed_token).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["trashed_by"].as_str(),
            items[0]["may_delete"].as_bool()
        ),
        (Some("ed"), Some(false))
    );
    let entry = items[0]["id"].as_i64().unwrap();
    assert_eq!(
        delete(&app, &ed_token, &format!("/api/v1/trash/{entry}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(restore(&app, &ed_token, entry).await.0, StatusCode::OK);
    // Their own file they may delete for good.
    assert_eq!(
        delete(
            &app,
            &ed_token,
            &format!("/api/v1/files/{}?permanent=true", mine["id"])
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert!(trash(&app, &admin).await.is_empty());
    assert_eq!(app.stored_keys(StorageRole::Private).await.len(), 1);
    assert_clean(&app).await;
}

#[actix_web::test]
async fn old_items_are_purged_by_age_and_fresh_ones_stay() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let old = app.upload(&admin, "old.txt", b"old", None, false).await;
    let fresh = app.upload(&admin, "fresh.txt", b"fresh", None, false).await;
    for f in [&old, &fresh] {
        delete(&app, &admin, &format!("/api/v1/files/{}", f["id"])).await;
    }
    let old_entry = entry_of(
        &trash(&app, &admin).await,
        "file",
        old["id"].as_i64().unwrap(),
    );
    app.db(move |conn| {
        use coffer::db::schema::trash;
        use diesel::prelude::*;
        diesel::update(trash::table.filter(trash::id.eq(old_entry)))
            .set(trash::trashed_at.eq(coffer::db::now() - time::Duration::days(31)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let out = app.coffer_command(&["trash", "purge"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "purged 1 item(s) from the trash"
    );
    let left = trash(&app, &admin).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["item_id"], fresh["id"]);
    assert_eq!(app.stored_keys(StorageRole::Private).await.len(), 1);
    assert_clean(&app).await;
    // `--older-than-days 0` empties the trash.
    let out = app
        .coffer_command(&["trash", "purge", "--older-than-days", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(trash(&app, &admin).await.is_empty());
    assert!(app.stored_keys(StorageRole::Private).await.is_empty());
}

//! Uploads and new folders from the reader's browser: for anyone with add-children on the
//! folder (the files are theirs), with the session's CSRF token; refused, with nothing
//! stored, to everyone else and for any other folder than the one in the address.

use coffer::storage::StorageRole;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::admin::select_attr;
use crate::auth::log_in;
use crate::helpers::{TestApp, client, spawn_app};

struct World {
    app: TestApp,
    inbox: i64,
    other: i64,
    rita: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let inbox = app.folder(&app.admin_token, "Inbox", None).await;
    let other = app.folder(&app.admin_token, "Other", None).await;
    let (rita, _) = app.user("rita").await;
    let (sam, _) = app.user("sam").await;
    app.rule(json!({"folder_id": inbox, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": inbox, "type": "children", "user_id": sam, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    app.rule(json!({"folder_id": other, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    World {
        app,
        inbox,
        other,
        rita,
    }
}

/// A logged-in browser-like client and the CSRF token of `path`'s page (any page has it in
/// the log-out form).
async fn session(app: &TestApp, who: &str, path: &str) -> (reqwest::Client, String, String) {
    let c = client();
    log_in(app, &c, who).await;
    let page = c
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = select_attr(&page, "input[name=csrf_token]", "value").unwrap();
    (c, token, page)
}

fn files_form(token: &str, extra: &[(&str, &str)], names: &[&str]) -> Form {
    let mut form = Form::new().text("csrf_token", token.to_owned());
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    for n in names {
        form = form.part(
            "file",
            Part::bytes(format!("bytes of {n}").into_bytes()).file_name(n.to_string()),
        );
    }
    form
}

async fn file_rows(app: &TestApp) -> Vec<(String, Option<i64>, Option<i64>)> {
    app.db(|conn| {
        use coffer::db::schema::files;
        use diesel::prelude::*;
        files::table
            .select((files::original_filename, files::folder_id, files::owner_id))
            .order(files::id.asc())
            .load(conn)
            .unwrap()
    })
    .await
}

#[actix_web::test]
async fn a_reader_who_may_add_uploads_and_creates_folders_that_are_theirs() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/folders/{}", w.inbox);
    let (c, token, page) = session(app, "rita", &path).await;
    assert!(
        page.contains("id=\"upload\"") && page.contains("New folder here"),
        "{page}"
    );
    // The plain form: several files, back to the folder with a summary.
    let res = c
        .post(app.url(&format!("{path}/upload")))
        .multipart(files_form(&token, &[], &["a.txt", "b.txt"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], path.as_str());
    let page = c
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Uploaded 2 file(s).") && page.contains("a.txt"),
        "{page}"
    );
    // A script's upload: one file, JSON back with its page.
    let res = c
        .post(app.url(&format!("{path}/upload")))
        .header("X-Requested-With", "XMLHttpRequest")
        .multipart(files_form(&token, &[("on_conflict", "rename")], &["a.txt"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "a (2).txt");
    assert!(body["url"].as_str().unwrap().starts_with("/files/"));
    let rows = file_rows(app).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|(_, f, o)| *f == Some(w.inbox) && *o == Some(w.rita)),
        "{rows:?}"
    );
    // A subfolder, hers.
    let res = c
        .post(app.url(&format!("{path}/folders")))
        .form(&[("csrf_token", token.as_str()), ("name", "Scans")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let sub: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let (_, folder) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{sub}"),
            None,
        )
        .await;
    assert_eq!(
        (folder["name"].as_str(), folder["owner_id"].as_i64()),
        (Some("Scans"), Some(w.rita))
    );
    // A refused name comes back with the reason and the name as typed.
    let res = c
        .post(app.url(&format!("{path}/folders")))
        .form(&[("csrf_token", token.as_str()), ("name", "Scans")])
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
    assert!(page.contains("already exists"), "{page}");
    assert_eq!(
        select_attr(&page, "#new-folder-name", "value").as_deref(),
        Some("Scans")
    );
}

#[actix_web::test]
async fn without_add_children_there_is_no_control_and_nothing_is_stored() {
    let w = world().await;
    let app = &w.app;
    let before = (
        file_rows(app).await,
        app.stored_keys(StorageRole::Private).await,
    );
    // sam may only read the inbox; rita may only read the other folder.
    for (who, folder) in [("sam", w.inbox), ("rita", w.other)] {
        let path = format!("/folders/{folder}");
        let (c, token, page) = session(app, who, &path).await;
        assert!(!page.contains("id=\"upload\"") && !page.contains("New folder here"));
        // Refused with the reason on the folder's page.
        let res = c
            .post(app.url(&format!("{path}/upload")))
            .multipart(files_form(&token, &[], &["x.txt"]))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{who} uploads to {folder}"
        );
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Nothing uploaded: permission denied"),
            "{page}"
        );
        let res = c
            .post(app.url(&format!("{path}/folders")))
            .form(&[("csrf_token", token.as_str()), ("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("No folder created: permission denied"),
            "{page}"
        );
    }
    // A folder that does not exist, or that she may not even see.
    let hidden = app.folder(&app.admin_token, "Hidden", None).await;
    let (c, token, _) = session(app, "rita", &format!("/folders/{}", w.inbox)).await;
    for folder in [hidden, 999_999] {
        let res = c
            .post(app.url(&format!("/folders/{folder}/upload")))
            .multipart(files_form(&token, &[], &["x.txt"]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // Another folder named in the body: refused whole.
    let res = c
        .post(app.url(&format!("/folders/{}/upload", w.inbox)))
        .multipart(files_form(
            &token,
            &[("folder", &w.other.to_string())],
            &["x.txt"],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // No CSRF token, a wrong one, or the token after the file: refused.
    for form in [
        Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.txt")),
        files_form("wrong", &[], &["x.txt"]),
        Form::new()
            .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"))
            .text("csrf_token", token.clone()),
    ] {
        let res = c
            .post(app.url(&format!("/folders/{}/upload", w.inbox)))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = c
        .post(app.url(&format!("/folders/{}/folders", w.inbox)))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A bearer token is not a page session; nobody logged in is sent to log in.
    let (_, rita_token) = (w.rita, app.token_for("rita").await);
    let res = client()
        .post(app.url(&format!("/folders/{}/upload", w.inbox)))
        .bearer_auth(&rita_token)
        .multipart(files_form("", &[], &["x.txt"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = client()
        .post(app.url(&format!("/folders/{}/upload", w.inbox)))
        .multipart(files_form("", &[], &["x.txt"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    assert_eq!(
        (
            file_rows(app).await,
            app.stored_keys(StorageRole::Private).await
        ),
        before,
        "nothing stored"
    );
}

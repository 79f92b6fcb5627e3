//! The checked download answers from memory what it read before — the caller's token or
//! session and user, the file's row, the permission generation — only while the database
//! has not changed (`db::changes`). Each test warms that memory with downloads, changes
//! something the answer depends on, through the API, straight in the database, from
//! another process or by the passing of time, and expects the very next download to
//! follow the change.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::auth::log_in_with_cookie;
use crate::helpers::{PASSWORD, TestApp, client, path_of, spawn_app};

const BYTES: &[u8] = b"the private bytes of a checked download";

/// A private file in a folder that `reader` may read through a rule; returns (reader id,
/// reader token, folder, file id, the file's URL, the rule's id).
async fn readable_file(app: &TestApp) -> (i64, String, i64, i64, String, i64) {
    let (reader, token) = app.user("reader").await;
    let folder = app.folder(&app.admin_token, "shared", None).await;
    let rule = app
        .rule(
            json!({"folder_id": folder, "type": "children", "user_id": reader,
            "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
        )
        .await;
    let file = app
        .upload(&app.admin_token, "notes.txt", BYTES, Some(folder), false)
        .await;
    let id = file["id"].as_i64().unwrap();
    (reader, token, folder, id, path_of(&file), rule)
}

/// Downloads `path` with a bearer token or a session cookie; the status, and the body.
async fn download(app: &TestApp, auth: &Auth, path: &str) -> (StatusCode, Vec<u8>) {
    let mut req = client().get(app.url(path));
    req = match auth {
        Auth::Token(t) => req.bearer_auth(t),
        Auth::Cookie(c) => req.header("Cookie", format!("coffer_session={c}")),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.bytes().await.unwrap().to_vec())
}

enum Auth {
    Token(String),
    Cookie(String),
}

/// Three downloads that succeed: everything they needed is now held in memory.
async fn warm(app: &TestApp, auth: &Auth, path: &str) {
    for _ in 0..3 {
        let (status, body) = download(app, auth, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, BYTES);
    }
}

async fn refused(app: &TestApp, auth: &Auth, path: &str, why: &str) {
    let (status, body) = download(app, auth, path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{why}");
    assert!(!body.windows(BYTES.len()).any(|w| w == BYTES), "{why}");
}

#[actix_web::test]
async fn a_token_deleted_in_the_database_is_refused_by_the_next_download() {
    let app = spawn_app().await;
    let (reader, token, _, _, url, _) = readable_file(&app).await;
    let auth = Auth::Token(token);
    warm(&app, &auth, &url).await;
    app.db(move |conn| coffer::db::models::token::delete_for_user(conn, reader).unwrap())
        .await;
    refused(&app, &auth, &url, "revoked token").await;
}

#[actix_web::test]
async fn a_deactivated_user_is_refused_at_once_by_token_and_by_session() {
    let app = spawn_app().await;
    let (reader, token, _, id, url, _) = readable_file(&app).await;
    let (_, cookie) = log_in_with_cookie(&app, &client(), "reader").await;
    let stable = format!("/files/{id}/notes.txt");
    let (by_token, by_cookie) = (Auth::Token(token), Auth::Cookie(cookie));
    for auth in [&by_token, &by_cookie] {
        warm(&app, auth, &url).await;
        warm(&app, auth, &stable).await;
    }
    app.db(move |conn| {
        coffer::db::models::user::update(
            conn,
            reader,
            &coffer::db::models::user::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .unwrap()
    })
    .await;
    for auth in [&by_token, &by_cookie] {
        refused(&app, auth, &url, "deactivated, private URL").await;
        refused(&app, auth, &stable, "deactivated, stable URL").await;
    }
}

#[actix_web::test]
async fn a_removed_rule_or_membership_ends_access_on_the_next_download() {
    let app = spawn_app().await;
    let (reader, token, folder, _, url, rule) = readable_file(&app).await;
    let auth = Auth::Token(token);
    // The access through a group, beside the user's own rule.
    let group = app.group("readers", &[reader]).await;
    app.rule(
        json!({"folder_id": folder, "type": "children", "group_id": group,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
    )
    .await;
    warm(&app, &auth, &url).await;
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folder-permissions/{rule}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    warm(&app, &auth, &url).await; // still a member of the group
    let (status, body) = app
        .request(
            Method::PUT,
            Some(&app.admin_token),
            &format!("/api/v1/groups/{group}/members"),
            Some(json!({"user_ids": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused(&app, &auth, &url, "no rule and no membership left").await;
}

#[actix_web::test]
async fn a_toggled_file_is_delivered_from_where_it_is_now() {
    let app = spawn_app().await;
    let (_, token, _, id, url, _) = readable_file(&app).await;
    let auth = Auth::Token(token);
    let stable = format!("/files/{id}/notes.txt");
    warm(&app, &auth, &url).await;
    warm(&app, &auth, &stable).await;
    for public in [true, false, true] {
        let (status, body) = app
            .request(
                Method::PATCH,
                Some(&app.admin_token),
                &format!("/api/v1/files/{id}"),
                Some(json!({"is_public": public})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        warm(&app, &auth, &stable).await;
        // Anyone may read a public file by its stable URL; nobody a private one.
        let (status, _) = download(&app, &Auth::Token("coffer_unknown".into()), &stable).await;
        let expected = if public {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "a stranger, public = {public}");
    }
    // The private URL warmed before the first toggle names an object that moved away.
    refused(&app, &auth, &url, "the key the file left").await;
}

#[actix_web::test]
async fn a_deleted_file_is_missing_on_the_next_download() {
    let app = spawn_app().await;
    let (_, token, _, id, url, _) = readable_file(&app).await;
    let auth = Auth::Token(token);
    let stable = format!("/files/{id}/notes.txt");
    warm(&app, &auth, &url).await;
    warm(&app, &auth, &stable).await;
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused(&app, &auth, &url, "deleted, private URL").await;
    refused(&app, &auth, &stable, "deleted, stable URL").await;
}

#[actix_web::test]
async fn a_session_ended_by_another_process_is_refused_by_the_next_download() {
    let app = spawn_app().await;
    let (_, _, _, _, url, _) = readable_file(&app).await;
    let (_, cookie) = log_in_with_cookie(&app, &client(), "reader").await;
    let auth = Auth::Cookie(cookie);
    warm(&app, &auth, &url).await;
    // `coffer changepassword` is another process writing the same database; it ends the
    // user's sessions.
    let mut command = app.coffer_command(&["changepassword", "reader", "--password-stdin"]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD} but longer").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    refused(&app, &auth, &url, "session ended by another process").await;
}

#[actix_web::test]
async fn a_logged_out_session_is_refused_by_the_next_download() {
    let app = spawn_app().await;
    let (_, _, _, _, url, _) = readable_file(&app).await;
    let c = client();
    let (home, cookie) = log_in_with_cookie(&app, &c, "reader").await;
    let auth = Auth::Cookie(cookie);
    warm(&app, &auth, &url).await;
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf_token", crate::auth::csrf_from(&home).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    refused(&app, &auth, &url, "logged out").await;
}

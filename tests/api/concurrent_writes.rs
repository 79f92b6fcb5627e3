//! Writes arriving at once: every one is answered as if it had come alone — never a 5xx
//! ("database is locked" on SQLite, where a transaction that reads first and writes later
//! cannot wait for another writer) and never a 409 because some other writer changed the
//! permission inputs meanwhile (a new folder elsewhere): every write that decides on
//! permissions decides inside its own transaction. The end state holds every write.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::versions::upload_as;

const WRITERS: usize = 12;
const ROUNDS: usize = 6;

/// One writer's round on its own file `id` (named `name`) in `root`, as `token`: every
/// kind of write, each answered; folders are made between them so that the permission
/// generation keeps moving under the others.
async fn round(
    app: &TestApp,
    token: &str,
    root: i64,
    (w, r): (usize, usize),
    id: i64,
    name: &str,
) -> Vec<(&'static str, StatusCode, String)> {
    let mut answers = Vec::new();
    let mut note = |what, (s, b): (StatusCode, Value)| answers.push((what, s, b.to_string()));
    let path = format!("/api/v1/files/{id}");
    note(
        "patch",
        app.request(
            Method::PATCH,
            Some(token),
            &path,
            Some(json!({"description": format!("edited by {w}")})),
        )
        .await,
    );
    note(
        "folder",
        app.request(
            Method::POST,
            Some(token),
            "/api/v1/folders",
            Some(json!({"name": format!("w{w}-r{r}"), "parent_id": root})),
        )
        .await,
    );
    let fresh = format!("new-w{w}-r{r}.txt");
    note(
        "upload",
        app.try_upload(token, &fresh, b"fresh", Some(root), false)
            .await,
    );
    // New content under the same name: the old one becomes a version, then comes back.
    note(
        "upload as a version",
        upload_as(app, token, name, b"second content", Some(root), "version").await,
    );
    let (s, versions) = app
        .request(Method::GET, Some(token), &format!("{path}/versions"), None)
        .await;
    note("list versions", (s, versions.clone()));
    if let Some(v) = versions.get(0).and_then(|v| v["id"].as_i64()) {
        note(
            "restore a version",
            app.request(
                Method::POST,
                Some(token),
                &format!("{path}/versions/{v}/restore"),
                None,
            )
            .await,
        );
    } else {
        note("a version kept", (StatusCode::NOT_FOUND, versions));
    }
    // To the trash, back, and to the trash again.
    note(
        "delete",
        app.request(Method::DELETE, Some(token), &path, None).await,
    );
    let (s, trash) = app
        .request(Method::GET, Some(token), "/api/v1/trash", None)
        .await;
    note("list the trash", (s, trash.clone()));
    let entry = trash.as_array().and_then(|entries| {
        entries
            .iter()
            .find(|e| e["kind"] == "file" && e["item_id"] == id)
            .and_then(|e| e["id"].as_i64())
    });
    match entry {
        Some(entry) => note(
            "restore from the trash",
            app.request(
                Method::POST,
                Some(token),
                &format!("/api/v1/trash/{entry}/restore"),
                None,
            )
            .await,
        ),
        None => note("in the trash", (StatusCode::NOT_FOUND, trash)),
    }
    note(
        "delete again",
        app.request(Method::DELETE, Some(token), &path, None).await,
    );
    answers
}

#[actix_web::test]
async fn parallel_writes_of_every_kind_all_succeed() {
    let app = spawn_app().await;
    let root = app.folder(&app.admin_token, "busy", None).await;
    // Half the writers are the superuser, half a plain user whose rights come from a rule:
    // their decisions read the permission snapshot that the folders made meanwhile change.
    let (editor, editor_token) = app.user("editor").await;
    app.rule(
        json!({"folder_id": root, "type": "children", "user_id": editor,
        "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"}),
    )
    .await;
    let token_of = |w: usize| {
        if w.is_multiple_of(2) {
            app.admin_token.as_str()
        } else {
            editor_token.as_str()
        }
    };
    // Each writer gets its own files and folders, so every write is allowed and none
    // conflicts with another on names: a failure can only come from the concurrency.
    let mut files = Vec::new();
    for w in 0..WRITERS {
        let mut mine = Vec::new();
        for r in 0..ROUNDS {
            let name = format!("w{w}-r{r}.txt");
            let f = app
                .upload(
                    token_of(w),
                    &name,
                    format!("writer {w} round {r}").as_bytes(),
                    Some(root),
                    false,
                )
                .await;
            mine.push((f["id"].as_i64().unwrap(), name));
        }
        files.push(mine);
    }
    let app = &app;
    let outcomes = join_all(files.into_iter().enumerate().map(|(w, mine)| async move {
        let mut answers = Vec::new();
        for (r, (id, name)) in mine.into_iter().enumerate() {
            answers.extend(round(app, token_of(w), root, (w, r), id, &name).await);
        }
        answers
    }))
    .await;
    let failed: Vec<String> = outcomes
        .into_iter()
        .flatten()
        .filter(|(_, status, _)| !status.is_success())
        .map(|(what, status, body)| format!("{what}: {status} {body}"))
        .collect();
    assert!(failed.is_empty(), "parallel writes failed: {failed:#?}");
    // Every write is there: the folders made, the uploads kept, the originals gone.
    let (status, listing) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{root}/children"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    let text = listing.to_string();
    for w in 0..WRITERS {
        for r in 0..ROUNDS {
            assert!(text.contains(&format!("\"w{w}-r{r}\"")), "folder w{w}-r{r}");
            assert!(
                text.contains(&format!("new-w{w}-r{r}.txt")),
                "upload w{w}-r{r}"
            );
            assert!(
                !text.contains(&format!("\"w{w}-r{r}.txt\"")),
                "deleted w{w}-r{r}"
            );
        }
    }
}

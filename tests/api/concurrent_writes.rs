//! Writes arriving at once: every one is answered as if it had come alone — never a 5xx
//! ("database is locked" on SQLite, where a transaction that reads first and writes later
//! cannot wait for another writer), and the end state holds every write.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

const WRITERS: usize = 12;
const ROUNDS: usize = 6;

#[actix_web::test]
async fn parallel_writes_of_every_kind_all_succeed() {
    let app = spawn_app().await;
    let root = app.folder(&app.admin_token, "busy", None).await;
    // Each writer gets its own files and folders, so every write is allowed and none
    // conflicts with another on names: a failure can only come from the database.
    let mut files = Vec::new();
    for w in 0..WRITERS {
        let mut mine = Vec::new();
        for r in 0..ROUNDS {
            let f = app
                .upload(
                    &app.admin_token,
                    &format!("w{w}-r{r}.txt"),
                    format!("writer {w} round {r}").as_bytes(),
                    Some(root),
                    false,
                )
                .await;
            mine.push(f["id"].as_i64().unwrap());
        }
        files.push(mine);
    }
    let app = &app;
    let outcomes = join_all(files.into_iter().enumerate().map(|(w, mine)| async move {
        let mut answers = Vec::new();
        for (r, id) in mine.into_iter().enumerate() {
            let path = format!("/api/v1/files/{id}");
            let (s, b) = app
                .request(
                    Method::PATCH,
                    Some(&app.admin_token),
                    &path,
                    Some(json!({"description": format!("edited by {w}")})),
                )
                .await;
            answers.push(("patch", s, b.to_string()));
            let (s, b) = app
                .request(
                    Method::POST,
                    Some(&app.admin_token),
                    "/api/v1/folders",
                    Some(json!({"name": format!("w{w}-r{r}"), "parent_id": root})),
                )
                .await;
            answers.push(("folder", s, b.to_string()));
            let (s, b) = app
                .try_upload(
                    &app.admin_token,
                    &format!("new-w{w}-r{r}.txt"),
                    b"fresh",
                    Some(root),
                    false,
                )
                .await;
            answers.push(("upload", s, b.to_string()));
            let (s, b) = app
                .request(Method::DELETE, Some(&app.admin_token), &path, None)
                .await;
            answers.push(("delete", s, b.to_string()));
        }
        answers
    }))
    .await;
    for (what, status, body) in outcomes.into_iter().flatten() {
        assert!(
            status.is_success(),
            "a parallel {what} answered {status}: {body}"
        );
    }
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

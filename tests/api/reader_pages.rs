//! The reader's own browser (`/` and `/folders/{id}`, outside the admin): only what the user
//! may read, a page of files at a time, a search, and breadcrumbs that never name a folder
//! the user may not read.

use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{select_attr, texts};
use crate::auth::log_in;
use crate::helpers::{TestApp, client, spawn_app};

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

fn file_names(html: &str) -> Vec<String> {
    texts(html, "li.file .name")
}

#[actix_web::test]
async fn the_readers_browser_pages_searches_and_never_names_an_unreadable_folder() {
    let app = spawn_app().await;
    let (reader, reader_token) = app.user("reader").await;
    let secret = app.folder(&app.admin_token, "secret-parent", None).await;
    let shared = app.folder(&app.admin_token, "shared", Some(secret)).await;
    app.rule(json!({"folder_id": shared, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}))
        .await;
    for i in 0..105 {
        app.upload(
            &app.admin_token,
            &format!("file-{i:03}.txt"),
            b"x",
            Some(shared),
            false,
        )
        .await;
    }
    app.upload(&app.admin_token, "in-secret.txt", b"s", Some(secret), false)
        .await;
    app.upload(&app.admin_token, "admins-own.txt", b"a", None, false)
        .await;
    app.upload(&reader_token, "my-own.txt", b"m", None, false)
        .await;
    let c = client();
    log_in(&app, &c, "reader").await;

    // The top level: the shared folder (its parent is unreadable) and the reader's own
    // unsorted upload, nothing else.
    let root = page(&c, &app, "/").await;
    assert_eq!(texts(&root, "li.folder"), vec!["shared".to_owned()]);
    assert_eq!(file_names(&root), vec!["my-own.txt".to_owned()]);

    // The folder: breadcrumbs hide the unreadable parent; 100 files a page, by name.
    let first = page(&c, &app, &format!("/folders/{shared}")).await;
    assert!(
        !first.contains("secret-parent"),
        "the parent is never named"
    );
    let crumbs = texts(&first, "nav.crumbs").join(" ");
    assert!(
        crumbs.contains('…') && crumbs.contains("shared"),
        "{crumbs}"
    );
    let names = file_names(&first);
    assert_eq!(names.len(), 100);
    assert_eq!(names.first().map(String::as_str), Some("file-000.txt"));
    assert!(first.contains("page 1 of 2"));
    assert_eq!(
        select_attr(&first, "a[rel=next]", "href").as_deref(),
        Some("?page=2&q=")
    );
    let second = page(&c, &app, &format!("/folders/{shared}?page=2")).await;
    assert_eq!(
        file_names(&second),
        (100..105)
            .map(|i| format!("file-{i:03}.txt"))
            .collect::<Vec<_>>()
    );
    assert!(select_attr(&second, "a[rel=next]", "href").is_none());

    // Search in the folder, and everywhere from the top: only readable files.
    let found = page(&c, &app, &format!("/folders/{shared}?q=file-10")).await;
    assert_eq!(file_names(&found).len(), 5, "file-100 … file-104");
    assert!(found.contains("5 file(s)"));
    let everywhere = page(&c, &app, "/?q=own").await;
    let names = file_names(&everywhere);
    assert!(names.contains(&"my-own.txt".to_owned()));
    assert!(
        !names
            .iter()
            .any(|n| n == "in-secret.txt" || n == "admins-own.txt"),
        "{names:?}"
    );

    // The unreadable parent answers 404, with its name nowhere.
    let res = c
        .get(app.url(&format!("/folders/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.text().await.unwrap().contains("secret-parent"));
}

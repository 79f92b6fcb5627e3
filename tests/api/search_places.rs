//! Search results say where each hit lies: its folder's path, linked, with an ellipsis for
//! a folder the searcher may not read (never its name), in the reader's browser and in the
//! admin.

use serde_json::json;

use crate::admin::{admin_client, select_all_attr, texts};
use crate::auth::log_in;
use crate::helpers::{TestApp, client, spawn_app};

/// Projects (bob: this folder only) / Secret (nothing) / Reports (bob: it and below), with
/// `budget 2027.txt` in Reports, `budget notes.txt` in Projects and a `budget` folder in
/// Reports. Returns (projects, secret, reports).
async fn world(app: &TestApp, bob: i64) -> (i64, i64, i64) {
    let t = app.admin_token.clone();
    let projects = app.folder(&t, "Projects", None).await;
    let secret = app.folder(&t, "Secret", Some(projects)).await;
    let reports = app.folder(&t, "Reports", Some(secret)).await;
    app.folder(&t, "budget", Some(reports)).await;
    for (folder, scope) in [(projects, "this"), (reports, "children")] {
        app.rule(json!({"folder_id": folder, "type": scope, "user_id": bob,
            "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}))
            .await;
    }
    app.upload(&t, "budget 2027.txt", b"b", Some(reports), false)
        .await;
    app.upload(&t, "budget notes.txt", b"n", Some(projects), false)
        .await;
    (projects, secret, reports)
}

#[actix_web::test]
async fn a_readers_search_shows_each_hits_place_without_naming_hidden_folders() {
    let app = spawn_app().await;
    let (bob, _) = app.user("bob").await;
    let (projects, secret, reports) = world(&app, bob).await;
    let c = client();
    log_in(&app, &c, "bob").await;
    let page = c
        .get(app.url("/?q=budget"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let places = texts(&page, ".place");
    assert_eq!(
        places,
        [
            "in Projects / … / Reports", // the folder `budget`
            "in Projects / … / Reports", // budget 2027.txt
            "in Projects",               // budget notes.txt
        ],
        "{page}"
    );
    let links = select_all_attr(&page, ".place a", "href");
    assert!(links.contains(&format!("/folders/{projects}")));
    assert!(links.contains(&format!("/folders/{reports}")));
    assert!(!links.contains(&format!("/folders/{secret}")));
    assert!(!page.contains("Secret"), "a hidden folder is never named");
    // Outside a search, no places.
    let page = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(texts(&page, ".place").is_empty());
}

#[actix_web::test]
async fn an_admin_search_everywhere_shows_each_hits_place() {
    let app = spawn_app().await;
    let (bob, _) = app.user("bob").await;
    let (_, secret, _) = world(&app, bob).await;
    app.upload(&app.admin_token, "budget loose.txt", b"l", None, false)
        .await;
    let (c, _) = admin_client(&app, "admin").await;
    let page = c
        .get(app.url("/admin/folders/?q=budget&everywhere=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut places = texts(&page, ".place");
    places.sort();
    assert_eq!(
        places,
        [
            "in Projects",
            "in Projects / Secret / Reports",
            "in Projects / Secret / Reports",
            "in Unsorted uploads",
        ],
        "{page}"
    );
    let links = select_all_attr(&page, ".place a", "href");
    assert!(links.contains(&format!("/admin/folders/{secret}")));
    assert!(links.contains(&"/admin/folders/unsorted".to_owned()));
}

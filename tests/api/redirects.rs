//! After log-in the browser goes back only to a path on this site: a corpus of known open
//! redirect tricks, sent as `/login?next=` and as the form's hidden `next`, over HTTP with
//! no redirect followed; and the admin's bulk `from`, which goes through the same check.

use reqwest::StatusCode;

use crate::admin::{admin_client, select_all_attr, select_attr};
use crate::auth::csrf_from;
use crate::helpers::{PASSWORD, TestApp, client, spawn_app};

/// Tricks that must all end at `/`.
const TRICKS: &[&str] = &[
    "//evil.example",
    "//evil.example/x",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%2f%2fevil.example",
    "/%2F/evil.example",
    "/%5cevil.example",
    "/%5C%5Cevil.example",
    "/\t/evil.example/x",
    "/%09/evil.example/x",
    "/\n/evil.example",
    "/%0a/evil.example",
    "/\r/evil.example",
    "/%0d%0a/evil.example",
    "/ /evil.example",
    "https:evil.example",
    "https://evil.example",
    "http://evil.example",
    "http:/evil.example",
    "HTTP://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "／／evil.example",
    "/／evil.example",
    "/.//evil.example",
    "/./\\evil.example",
    "/x/..//evil.example",
    "/%2e%2e//evil.example",
    "evil.example",
    "?next=//evil.example",
    "#//evil.example",
];

/// Posts the log-in form with `next`; returns the Location of the answer.
async fn location_after_login(app: &TestApp, next: &str) -> String {
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf_token", &csrf_from(&page)),
            ("next", next),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The hidden `next` that `GET /login?next=` puts in the form.
async fn hidden_next(app: &TestApp, next: &str) -> String {
    let page = client()
        .get(app.url("/login"))
        .query(&[("next", next)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    select_attr(&page, "input[name=next]", "value").unwrap()
}

#[actix_web::test]
async fn no_trick_leads_off_the_site_after_log_in() {
    let app = spawn_app().await;
    for trick in TRICKS {
        // Refused like no `next` at all: the admin lands in the admin.
        assert_eq!(
            location_after_login(&app, trick).await,
            "/admin/folders/",
            "{trick:?}"
        );
        assert_eq!(hidden_next(&app, trick).await, "", "{trick:?}");
    }
}

/// Posts the log-in form as `username` without any `next`; the Location of the answer.
async fn landing_of(app: &TestApp, username: &str) -> String {
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(select_attr(&page, "input[name=next]", "value").unwrap(), "");
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf_token", &csrf_from(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{username}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[actix_web::test]
async fn staff_land_in_the_admin_and_readers_in_their_files() {
    let app = spawn_app().await;
    app.user("reader").await;
    app.post_json(
        &app.admin_token,
        "/api/v1/users",
        serde_json::json!({"username": "editor", "password": PASSWORD, "is_staff": true}),
    )
    .await;
    assert_eq!(landing_of(&app, "admin").await, "/admin/folders/");
    assert_eq!(landing_of(&app, "editor").await, "/admin/folders/");
    assert_eq!(landing_of(&app, "reader").await, "/");
    // An explicit `next` wins, "/" included.
    assert_eq!(location_after_login(&app, "/").await, "/");
}

#[actix_web::test]
async fn every_page_header_links_the_admin_for_staff_and_the_files_for_everyone() {
    let app = spawn_app().await;
    app.user("reader").await;
    for (who, staff) in [("admin", true), ("reader", false)] {
        let c = client();
        crate::auth::log_in(&app, &c, who).await;
        let mut pages = vec!["/", "/account/password"];
        if staff {
            pages.push("/admin/folders/");
        }
        for path in pages {
            let page = c
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let links = select_all_attr(&page, "header a", "href");
            assert!(links.iter().any(|l| l == "/"), "{who} {path}: {links:?}");
            assert_eq!(
                links.iter().any(|l| l == "/admin/folders/"),
                staff,
                "{who} {path}: {links:?}"
            );
        }
    }
}

#[actix_web::test]
async fn paths_on_the_site_are_followed() {
    let app = spawn_app().await;
    for (next, want) in [
        ("/", "/"),
        ("/admin/folders/3", "/admin/folders/3"),
        ("/folders/2?page=3&q=a%20b", "/folders/2?page=3&q=a%20b"),
        ("/a/../admin/", "/admin/"),
        ("/%2e%2e/admin/", "/admin/"),
        ("/x#fragment", "/x"),
    ] {
        assert_eq!(location_after_login(&app, next).await, want, "{next:?}");
        assert_eq!(hidden_next(&app, next).await, want, "{next:?}");
    }
    // The redirect to the log-in page names the page asked for, and log-in returns there.
    let res = client().get(app.url("/folders/7")).send().await.unwrap();
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/login?next="), "{to}");
    let next = url::Url::parse(&app.url(&to))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "next")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(location_after_login(&app, &next).await, "/folders/7");
}

#[actix_web::test]
async fn the_bulk_form_returns_only_to_an_admin_folder_page() {
    let app = spawn_app().await;
    let (c, token) = admin_client(&app, "admin").await;
    let mut froms: Vec<(&str, &str)> = TRICKS.iter().map(|t| (*t, "/admin/folders/")).collect();
    froms.extend([
        ("/admin/folders/../..//evil.example", "/admin/folders/"),
        ("/admin/folders/\t/x", "/admin/folders/"),
        ("/admin/", "/admin/folders/"),
        ("/admin/folders/4?page=2", "/admin/folders/4?page=2"),
        ("/admin/folders/unsorted", "/admin/folders/unsorted"),
    ]);
    for (from, want) in froms {
        // No items: the answer goes straight back to `from`.
        let res = c
            .post(app.url("/admin/bulk"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("action", "delete"),
                ("from", from),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{from:?}");
        assert_eq!(res.headers()["location"], want, "{from:?}");
    }
}

//! Failures are answered in the form of the scope that meets them: pages and downloads with
//! an HTML page (a missing log-in with the log-in form), the JSON API with a JSON body —
//! whether the handler, an extractor (path, query, form) or the log-in check fails.

use reqwest::{Method, StatusCode};

use crate::admin::admin_client;
use crate::helpers::{client, spawn_app};

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn html(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status, "{}", res.url());
    assert!(
        content_type(&res).starts_with("text/html"),
        "{}: {}",
        res.url(),
        content_type(&res)
    );
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!("<h1>{}", status.as_u16())), "{body}");
    body
}

#[actix_web::test]
async fn pages_and_downloads_fail_with_pages() {
    let app = spawn_app().await;
    let (admin, csrf) = admin_client(&app, "admin").await;
    // A path that does not parse, and a missing item, from the handler.
    for path in [
        "/admin/files/abc",
        "/admin/folders/x/edit",
        "/admin/files/999999",
        "/files/abc/x.txt",
        "/files/999999/x.txt",
    ] {
        html(
            admin.get(app.url(path)).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // A query that does not parse.
    html(
        admin
            .get(app.url("/admin/folders/unsorted?page=many"))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Form bodies: not a form, too large.
    let res = admin
        .post(app.url("/admin/folders/new"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    html(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let big = format!("csrf_token={csrf}&name={}", "x".repeat(70 * 1024));
    let res = admin
        .post(app.url("/admin/folders/new"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    html(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    // A refusal from the handler: a form without its CSRF token.
    let res = admin
        .post(app.url("/admin/folders/new"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    let body = html(res, StatusCode::FORBIDDEN).await;
    assert!(body.contains("CSRF"), "{body}");
    // Logged out: the log-in form, then back to the page asked for.
    let res = client()
        .get(app.url("/admin/folders/unsorted"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/login?next=/admin/folders/unsorted"
    );
}

#[actix_web::test]
async fn the_api_fails_with_json_for_the_same_faults() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    for path in [
        "/api/v1/files/abc",
        "/api/v1/files/999999",
        "/api/v1/folders/x",
    ] {
        let (status, body) = app.request(Method::GET, t, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (status, body) = app
        .request(Method::GET, None, "/api/v1/users/me", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string(), "{body}");
    let (status, body) = app
        .request(
            Method::GET,
            t,
            "/api/v1/permissions/check?user_id=many",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].is_string(), "{body}");
}

#[actix_web::test]
async fn error_pages_keep_the_sites_header_and_say_what_happened() {
    let app = spawn_app().await;
    app.user("reader").await;
    let secret = app.folder(&app.admin_token, "secret", None).await;
    for (who, staff) in [("admin", true), ("reader", false)] {
        let c = client();
        crate::auth::log_in(&app, &c, who).await;
        let missing = if staff {
            "/admin/files/999999".to_owned()
        } else {
            format!("/folders/{secret}")
        };
        let res = c.get(app.url(&missing)).send().await.unwrap();
        let body = html(res, StatusCode::NOT_FOUND).await;
        let links = crate::admin::select_all_attr(&body, "header a", "href");
        assert!(links.iter().any(|l| l == "/"), "{who}: {links:?}");
        assert_eq!(
            links.iter().any(|l| l == "/admin/folders/"),
            staff,
            "{who}: {links:?}"
        );
        assert_eq!(
            crate::admin::texts(&body, "header form.logout a"),
            [who],
            "{who}: the log-out form"
        );
        assert!(
            crate::admin::select_attr(&body, "header form.logout input[name=csrf_token]", "value")
                .is_some_and(|t| !t.is_empty())
        );
        assert!(
            body.contains("There is nothing at this address, or nothing you may see."),
            "{body}"
        );
        assert!(!body.contains("secret"), "a hidden folder is not named");
    }
    // A refused download is a page too, with the header of the reader it refused.
    let plan = app
        .upload(
            &app.admin_token,
            "plan.txt",
            b"the plan",
            Some(secret),
            false,
        )
        .await;
    let c = client();
    crate::auth::log_in(&app, &c, "reader").await;
    let res = c
        .get(app.url(&crate::helpers::path_of(&plan)))
        .send()
        .await
        .unwrap();
    let body = html(res, StatusCode::NOT_FOUND).await;
    assert_eq!(
        crate::admin::texts(&body, "header form.logout a"),
        ["reader"]
    );
    assert!(!body.contains("the plan"));
    // Nobody logged in: the same words, no header links.
    let res = client()
        .get(app.url("/private/files/no/such/key.txt"))
        .send()
        .await
        .unwrap();
    let body = html(res, StatusCode::NOT_FOUND).await;
    assert!(
        crate::admin::select_all_attr(&body, "header a", "href") == ["/"],
        "{body}"
    );
    assert!(body.contains("There is nothing at this address"));
}

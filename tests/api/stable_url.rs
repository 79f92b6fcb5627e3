//! The stable URLs (`/files/{id}/{name}` and `/files/{id}/thumbnails/{preset}`) while the
//! file is toggled between public and private (and share links to it): a reader never gets 404 or 5xx and always
//! the right bytes; a stranger never gets a private byte. Readers follow redirects, as a
//! browser does, so a redirect into a storage the object has just left would show.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::pictures;

/// Requests made by all readers together before the toggling stops.
const REQUESTS: usize = 2400;

async fn set_public(app: &TestApp, id: i64, public: bool) {
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(json!({"is_public": public})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A client that follows redirects, like a browser.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Reader,
    Stranger,
}

#[actix_web::test]
async fn stable_urls_never_fail_a_reader_while_the_file_is_toggled() {
    let app = Arc::new(spawn_app().await);
    let (u, reader) = app.user("reader").await;
    let (_, stranger) = app.user("stranger").await;
    let folder = app.folder(&app.admin_token, "f", None).await;
    app.rule(json!({"folder_id": folder, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let bytes = pictures::jpeg(&pictures::photo(96, 64), None);
    let file = app
        .upload(&app.admin_token, "photo.jpg", &bytes, Some(folder), false)
        .await;
    let id = file["id"].as_i64().unwrap();
    // A file in the same folder that stays private: the stranger's control.
    let kept = app
        .upload(&app.admin_token, "kept.txt", b"kept", Some(folder), false)
        .await;
    let kept_url = format!("/files/{}/kept.txt", kept["id"]);
    let preset_url = format!("/files/{id}/thumbnails/icon-40");
    let stable_url = format!("/files/{id}/photo.jpg");
    let res = browser()
        .get(app.url(&preset_url))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let thumb = res.bytes().await.unwrap().to_vec();
    assert!(
        thumb.starts_with(b"\xff\xd8") || thumb.starts_with(b"\x89PNG"),
        "not an image"
    );

    // Share links read the row the same way: a file link, and a folder link's file.
    let mut links = Vec::new();
    for body in [json!({"file_id": id}), json!({"folder_id": folder})] {
        let (status, made) = app
            .request(
                Method::POST,
                Some(&app.admin_token),
                "/api/v1/shares",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        links.push(made["url"].as_str().unwrap().to_owned());
    }
    let file_link = format!("{}/download", links[0]);
    let folder_link = format!("{}/files/{id}", links[1]);

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let plan = [
        (Who::Reader, stable_url.clone(), bytes.clone()),
        (Who::Reader, stable_url.clone(), bytes.clone()),
        (Who::Reader, preset_url.clone(), thumb.clone()),
        (Who::Reader, file_link, bytes.clone()),
        (Who::Reader, folder_link, bytes.clone()),
        (Who::Stranger, stable_url.clone(), bytes.clone()),
        (Who::Stranger, preset_url.clone(), thumb.clone()),
    ];
    for (who, url, want) in plan {
        let (app, stop, count) = (Arc::clone(&app), Arc::clone(&stop), Arc::clone(&count));
        let token = match who {
            Who::Reader => reader.clone(),
            Who::Stranger => stranger.clone(),
        };
        let kept_url = kept_url.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let client = browser();
            let (mut n, mut public_seen) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                let res = client
                    .get(app.url(&url))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let got = res.bytes().await.unwrap();
                match (who, status) {
                    (_, StatusCode::OK) => {
                        assert!(
                            got.as_ref() == want.as_slice(),
                            "{who:?} #{n} {url}: wrong body ({} bytes)",
                            got.len()
                        );
                        if who == Who::Stranger {
                            public_seen += 1;
                        }
                    }
                    // A stranger is refused while the file is private, as if it were missing.
                    (Who::Stranger, StatusCode::NOT_FOUND) => {}
                    (_, other) => panic!("{who:?} #{n} {url}: {other}"),
                }
                if who == Who::Stranger {
                    let res = client
                        .get(app.url(&kept_url))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::NOT_FOUND, "stranger #{n}");
                }
                n += 1;
                count.fetch_add(1, Ordering::Relaxed);
            }
            (who, n, public_seen)
        }));
    }
    let mut toggles = 0;
    while count.load(Ordering::Relaxed) < REQUESTS || toggles < 20 {
        set_public(&app, id, toggles % 2 == 0).await;
        toggles += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let mut readers_total = 0;
    for t in tasks {
        let (who, n, _) = t.await.unwrap();
        assert!(n > 0, "{who:?} made no request");
        if who == Who::Reader {
            readers_total += n;
        }
    }
    assert!(readers_total > REQUESTS / 2, "{readers_total}");
    // At rest, private again: the stranger is refused on both URLs.
    set_public(&app, id, false).await;
    assert_eq!(
        app.get(Some(&stranger), &stable_url).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(Some(&stranger), &preset_url).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(None, &stable_url).await.0, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn stable_urls_of_public_files_send_the_bytes_with_download_headers() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "page.html", b"<h1>hi</h1>", None, true)
        .await;
    let (status, h, body) = app
        .get(None, &format!("/files/{}/page.html", file["id"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"<h1>hi</h1>");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{:?}",
        h["content-disposition"]
    );
    assert!(h.get("location").is_none());
}

/// The stable link a page shows encodes only what a path segment cannot hold, and it
/// downloads the file: `/files/1/alps-sunset.jpg`, not `/files/1/alps%2Dsunset%2Ejpg`.
#[actix_web::test]
async fn stable_links_are_readable_and_work() {
    let app = spawn_app().await;
    let (c, _) = crate::admin::admin_client(&app, "admin").await;
    for (name, readable) in [
        ("alps-sunset.jpg", "alps-sunset.jpg"),
        ("Report_2026 (final)~v2.txt", "Report_2026%20(final)~v2.txt"),
        ("Été #1?.txt", "%C3%89t%C3%A9%20%231%3F.txt"),
    ] {
        let file = app
            .upload(&app.admin_token, name, name.as_bytes(), None, false)
            .await;
        let id = file["id"].as_i64().unwrap();
        let stable = format!("/files/{id}/{readable}");
        let page = c
            .get(app.url(&format!("/admin/files/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let links = crate::admin::select_all_attr(&page, "a", "href");
        assert!(links.contains(&stable), "{stable} among {links:?}");
        let res = c.get(app.url(&stable)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{stable}");
        assert_eq!(res.bytes().await.unwrap(), name.as_bytes());
    }
}

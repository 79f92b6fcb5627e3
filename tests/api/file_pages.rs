//! A file's page in the reader's browser (`GET /files/{id}`): its place and facts, the file
//! shown as the browser can (image, player, escaped text), previous and next through its
//! folder, and nothing for whoever may not read it.

use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{select_all_attr, select_attr, texts};
use crate::auth::log_in;
use crate::helpers::{TestApp, client, path_of, spawn_app};
use crate::pictures;

/// bob may read the folder `shared`; returns it and bob's client.
async fn reader(app: &TestApp) -> (i64, reqwest::Client) {
    let (bob, _) = app.user("bob").await;
    let shared = app.folder(&app.admin_token, "shared", None).await;
    app.rule(
        json!({"folder_id": shared, "type": "children", "user_id": bob,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
    )
    .await;
    let c = client();
    log_in(app, &c, "bob").await;
    (shared, c)
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn upload(app: &TestApp, name: &str, bytes: &[u8], folder: Option<i64>) -> (i64, String) {
    let f = app
        .upload(&app.admin_token, name, bytes, Some(folder).flatten(), false)
        .await;
    (f["id"].as_i64().unwrap(), path_of(&f))
}

#[actix_web::test]
async fn text_is_shown_escaped_with_its_place_facts_and_neighbours() {
    let app = spawn_app().await;
    let (shared, c) = reader(&app).await;
    let (a, _) = upload(&app, "a.txt", b"first", Some(shared)).await;
    let (b, _) = upload(
        &app,
        "b.txt",
        b"<b>bold</b> & <script>x()</script>",
        Some(shared),
    )
    .await;
    let (z, _) = upload(&app, "z.txt", b"last", Some(shared)).await;
    let (status, html) = page(&c, &app, &format!("/files/{b}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        texts(&html, "pre.text"),
        ["<b>bold</b> & <script>x()</script>"]
    );
    assert!(!html.contains("<script>x()"), "escaped");
    assert_eq!(texts(&html, "h1"), ["b.txt"]);
    assert_eq!(
        select_attr(&html, ".actions a.button", "href").as_deref(),
        Some(format!("/files/{b}/b.txt").as_str())
    );
    assert_eq!(
        select_all_attr(&html, ".crumbs a", "href"),
        ["/".to_owned(), format!("/folders/{shared}")]
    );
    assert_eq!(
        select_attr(&html, "a[rel=prev]", "href"),
        Some(format!("/files/{a}"))
    );
    assert_eq!(
        select_attr(&html, "a[rel=next]", "href"),
        Some(format!("/files/{z}"))
    );
    let (_, first) = page(&c, &app, &format!("/files/{a}")).await;
    assert_eq!(select_attr(&first, "a[rel=prev]", "href"), None);
    // The reader's listing opens the page, and still offers the download.
    let (_, listing) = page(&c, &app, &format!("/folders/{shared}")).await;
    let links = select_all_attr(&listing, ".listing a", "href");
    assert!(links.contains(&format!("/files/{b}")), "{links:?}");
    assert!(links.contains(&format!("/files/{b}/b.txt")), "{links:?}");
}

#[actix_web::test]
async fn long_text_shows_its_first_64_kib() {
    let app = spawn_app().await;
    let (shared, c) = reader(&app).await;
    // 100 KiB of text with a two-byte character across the 64 KiB boundary.
    let mut text = "x".repeat(64 * 1024 - 1);
    text.push('é');
    text.push_str(&"y".repeat(36 * 1024));
    let (id, _) = upload(&app, "long.txt", text.as_bytes(), Some(shared)).await;
    let (status, html) = page(&c, &app, &format!("/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let shown = texts(&html, "pre.text").concat();
    assert_eq!(
        shown,
        "x".repeat(64 * 1024 - 1),
        "cut before the split character"
    );
    assert!(html.contains("The first 64 KiB are shown"));
}

#[actix_web::test]
async fn images_audio_and_video_are_shown_from_the_checked_url() {
    let app = spawn_app().await;
    let (shared, c) = reader(&app).await;
    let jpeg = pictures::jpeg(&pictures::photo(64, 48), None);
    let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
    mp3.extend([0u8; 64]);
    let mut mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    mp4.extend([0u8; 64]);
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    for (name, bytes, element) in [
        ("photo.jpg", jpeg.as_slice(), Some(".viewer img")),
        ("song.mp3", mp3.as_slice(), Some(".viewer audio")),
        ("clip.mp4", mp4.as_slice(), Some(".viewer video")),
        ("drawing.svg", svg.as_slice(), None),
    ] {
        let (id, _) = upload(&app, name, bytes, Some(shared)).await;
        let (status, html) = page(&c, &app, &format!("/files/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let stable = format!("/files/{id}/{name}");
        match element {
            Some(css) => assert_eq!(
                select_attr(&html, css, "src").as_deref(),
                Some(stable.as_str()),
                "{name}"
            ),
            // Active content is never drawn from the app's origin: a label and the button.
            None => {
                assert!(select_attr(&html, ".viewer img", "src").is_none(), "{name}");
                assert!(!html.contains("<svg"), "{name}");
            }
        }
        // The player's requests are ranged: the checked URL answers them.
        let res = c
            .get(app.url(&stable))
            .header("Range", "bytes=0-3")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{name}");
        assert_eq!(res.bytes().await.unwrap(), bytes[..4], "{name}");
    }
}

#[actix_web::test]
async fn a_file_page_is_nothing_to_whoever_may_not_read_it() {
    let app = spawn_app().await;
    let (_, _) = reader(&app).await;
    let secret = app.folder(&app.admin_token, "secret", None).await;
    let (id, _) = upload(&app, "plan.txt", b"the plan", Some(secret)).await;
    let c = client();
    log_in(&app, &c, "bob").await;
    let (status, html) = page(&c, &app, &format!("/files/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("plan") && !html.contains("secret"), "{html}");
    let (missing, _) = page(&c, &app, "/files/999999").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    let (bad, _) = page(&c, &app, "/files/not-a-number").await;
    assert_eq!(bad, StatusCode::NOT_FOUND);
    // Without a session: the log-in form, then back here.
    let res = client()
        .get(app.url(&format!("/files/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/login?next=") && to.contains(&id.to_string()),
        "{to}"
    );
}

#[actix_web::test]
async fn the_admins_file_page_shows_text_and_plays_media_the_same_way() {
    let app = spawn_app().await;
    let (c, _) = crate::admin::admin_client(&app, "admin").await;
    let (text, _) = upload(&app, "notes.txt", b"<i>plain</i> words", None).await;
    let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
    mp3.extend([0u8; 64]);
    let (song, _) = upload(&app, "song.mp3", &mp3, None).await;
    let (_, html) = page(&c, &app, &format!("/admin/files/{text}")).await;
    assert_eq!(texts(&html, ".viewer pre.text"), ["<i>plain</i> words"]);
    assert!(!html.contains("<i>plain"), "escaped");
    let (_, html) = page(&c, &app, &format!("/admin/files/{song}")).await;
    assert_eq!(
        select_attr(&html, ".viewer audio", "src"),
        Some(format!("/files/{song}/song.mp3"))
    );
}

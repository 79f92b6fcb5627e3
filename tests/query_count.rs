//! The admin listing and the reader's folder page cost a constant number of database
//! queries, whatever the number of items in the folder, images with thumbnails among them
//! (every query of this process is counted through diesel's instrumentation, so this lives
//! in its own test binary).
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "only some helpers are used here")]
mod helpers;

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

static QUERIES: AtomicUsize = AtomicUsize::new(0);

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::FinishQuery { .. } = event {
            QUERIES.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

async fn queries_for(app: &helpers::TestApp, client: &reqwest::Client, path: &str) -> usize {
    let before = QUERIES.load(Ordering::SeqCst);
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
    res.text().await.unwrap();
    QUERIES.load(Ordering::SeqCst) - before
}

/// File `i` of the folder: every fifth one a small PNG (with thumbnails, made in the
/// background), the others text.
async fn upload(app: &helpers::TestApp, folder: i64, i: usize) {
    if i.is_multiple_of(5) {
        let img = image::RgbImage::from_pixel(48, 32, image::Rgb([(i % 256) as u8, 90, 200]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        app.upload(
            &app.admin_token,
            &format!("f{i}.png"),
            &png.into_inner(),
            Some(folder),
            false,
        )
        .await;
    } else {
        app.upload(
            &app.admin_token,
            &format!("f{i}.txt"),
            b"x",
            Some(folder),
            false,
        )
        .await;
    }
}

/// Waits until the background thumbnail jobs are done: their queries are not the page's.
async fn settle(app: &helpers::TestApp) {
    let t = app.state.library.thumbnails.clone();
    tokio::task::spawn_blocking(move || t.wait_idle())
        .await
        .unwrap();
}

#[actix_web::test]
async fn listing_a_folder_costs_the_same_queries_for_10_or_300_files() {
    set_default_instrumentation(counter).unwrap();
    let app = helpers::spawn_app().await;
    let f = app.folder(&app.admin_token, "big", None).await;
    for i in 0..3 {
        app.folder(&app.admin_token, &format!("sub{i}"), Some(f))
            .await;
    }
    for i in 0..10 {
        upload(&app, f, i).await;
    }
    settle(&app).await;
    let client = helpers::client();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    client
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", helpers::PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let path = format!("/admin/folders/{f}");
    queries_for(&app, &client, &path).await; // warm: snapshot loaded, connections open
    let small = queries_for(&app, &client, &path).await;
    let small_search = queries_for(&app, &client, &format!("{path}?q=f1&everywhere=1")).await;
    let reader_path = format!("/folders/{f}");
    queries_for(&app, &client, &reader_path).await;
    let small_reader = queries_for(&app, &client, &reader_path).await;
    for i in 10..300 {
        upload(&app, f, i).await;
    }
    settle(&app).await;
    let large = queries_for(&app, &client, &path).await;
    let large_page3 = queries_for(&app, &client, &format!("{path}?page=3&sort=-size")).await;
    let large_search = queries_for(&app, &client, &format!("{path}?q=f1&everywhere=1")).await;
    let large_reader = queries_for(&app, &client, &reader_path).await;
    let large_reader_page3 = queries_for(&app, &client, &format!("{reader_path}?page=3")).await;
    assert!(small > 0);
    assert_eq!(small, large, "10 vs 300 files");
    assert!(
        large_page3 <= large,
        "a later page costs no more ({large_page3} vs {large})"
    );
    assert_eq!(small_search, large_search, "search");
    assert!(small_reader > 0);
    assert_eq!(
        small_reader, large_reader,
        "the reader's page, 10 vs 300 files"
    );
    assert!(large_reader_page3 <= large_reader);
}

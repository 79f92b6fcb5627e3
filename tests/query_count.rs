//! The admin listing and the reader's folder page cost a constant number of database
//! queries, whatever the number of items in the folder, images with thumbnails among them
//! (every query of this process is counted through diesel's instrumentation, so this lives
//! in its own test binary).
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "only some helpers are used here")]
mod helpers;
#[path = "support/ports.rs"]
mod ports;

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

static QUERIES: AtomicUsize = AtomicUsize::new(0);
/// Statements prepared for the connection's statement cache: on PostgreSQL each is a round
/// trip of its own.
static PREPARED: AtomicUsize = AtomicUsize::new(0);
static TRANSACTIONS: AtomicUsize = AtomicUsize::new(0);
/// BEGIN and COMMIT among the statements.
static TRANSACTION_STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// The counts are of the whole process: the tests of this binary take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            let sql = query.to_string().to_ascii_uppercase();
            if sql.starts_with("BEGIN") || sql.starts_with("COMMIT") {
                TRANSACTION_STATEMENTS.fetch_add(1, Ordering::SeqCst);
            }
        }
        InstrumentationEvent::FinishQuery { .. } => {
            QUERIES.fetch_add(1, Ordering::SeqCst);
        }
        InstrumentationEvent::CacheQuery { .. } => {
            PREPARED.fetch_add(1, Ordering::SeqCst);
        }
        InstrumentationEvent::BeginTransaction { .. } => {
            TRANSACTIONS.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    }))
}

/// What one request cost the database.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Cost {
    /// Statements other than BEGIN and COMMIT.
    statements: usize,
    /// BEGIN and COMMIT statements.
    transaction_statements: usize,
    transactions: usize,
    prepared: usize,
}

impl Cost {
    fn now() -> Self {
        let tx = TRANSACTION_STATEMENTS.load(Ordering::SeqCst);
        Self {
            statements: QUERIES.load(Ordering::SeqCst) - tx,
            transaction_statements: tx,
            transactions: TRANSACTIONS.load(Ordering::SeqCst),
            prepared: PREPARED.load(Ordering::SeqCst),
        }
    }

    fn since(before: Self) -> Self {
        let now = Self::now();
        Self {
            statements: now.statements - before.statements,
            transaction_statements: now.transaction_statements - before.transaction_statements,
            transactions: now.transactions - before.transactions,
            prepared: now.prepared - before.prepared,
        }
    }

    /// Messages to PostgreSQL and back.
    fn round_trips(self) -> usize {
        self.statements + self.transaction_statements + self.prepared
    }
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
    let _turn = ONE_AT_A_TIME.lock().await;
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

/// One checked download of a private file by a reader, with a bearer token: the status and
/// what it cost the database.
async fn download_cost(app: &helpers::TestApp, token: &str, path: &str) -> Cost {
    let before = Cost::now();
    let (status, _, body) = app.get(Some(token), path).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{path}");
    assert_eq!(body, b"counted bytes");
    Cost::since(before)
}

#[actix_web::test]
async fn a_checked_download_asks_the_database_at_most_twice() {
    let _turn = ONE_AT_A_TIME.lock().await;
    set_default_instrumentation(counter).unwrap();
    // The download audit writes its batch once a second: a write between two downloads
    // would be counted here and, on SQLite, make the next download read its rows again.
    // What is measured is the download's own cost.
    let app = helpers::spawn_app_with(|c| c.audit.enabled = false).await;
    let (reader, token) = app.user("reader").await;
    let folder = app.folder(&app.admin_token, "shared", None).await;
    app.rule(
        serde_json::json!({"folder_id": folder, "type": "children", "user_id": reader,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
    )
    .await;
    let file = app
        .upload(
            &app.admin_token,
            "a.txt",
            b"counted bytes",
            Some(folder),
            false,
        )
        .await;
    let id = file["id"].as_i64().unwrap();
    let private = helpers::path_of(&file);
    let stable = format!("/files/{id}/a.txt");
    settle(&app).await;
    for (n, path) in [&private, &stable].into_iter().enumerate() {
        // Warm: connections opened, statements prepared, the snapshot loaded.
        for _ in 0..3 {
            download_cost(&app, &token, path).await;
        }
        let warm = download_cost(&app, &token, path).await;
        match app.state.settings.database {
            coffer::db::Backend::Sqlite(_) => {
                // Nothing changed since the last download: all of it from memory (an
                // empty deferred transaction takes no lock).
                assert_eq!(warm.statements, 0, "{path}: answered from memory: {warm:?}");
                assert_eq!(warm.transactions, 1, "{path}: {warm:?}");
                // A change in the database (not to the permissions: the snapshot stays):
                // the next download reads the identity, then the file's row with the
                // permission generation, in one transaction.
                app.upload(
                    &app.admin_token,
                    &format!("other {n}.txt"),
                    b"x",
                    None,
                    false,
                )
                .await;
                settle(&app).await;
                let after_change = download_cost(&app, &token, path).await;
                assert_eq!(after_change.statements, 2, "{path}: {after_change:?}");
                assert_eq!(after_change.transactions, 1, "{path}: {after_change:?}");
            }
            coffer::db::Backend::Postgres(_) => {
                // The identity, then the row with the generation: two round trips, no
                // transaction around them.
                // Printed for scripts/bench-cluster.sh.
                println!(
                    "download cost: {path}: {} queries, {} round trips, {} transactions",
                    warm.statements,
                    warm.round_trips(),
                    warm.transactions
                );
                assert!(warm.round_trips() <= 2, "{path}: {warm:?}");
                assert_eq!(warm.transactions, 0, "{path}: {warm:?}");
            }
        }
    }
}

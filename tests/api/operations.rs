//! Running Coffer among other instances: the health probes a load balancer polls, a stop
//! (SIGTERM) that lets what is in flight finish, migrations run once by instances that start
//! together, and a database from a newer Coffer refused.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, path_of, spawn_app, test_database};

async fn probe(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let res = client().get(app.url(path)).send().await.unwrap();
    let status = res.status();
    assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
    (status, res.json().await.unwrap())
}

#[actix_web::test]
async fn health_and_readiness_answer_without_credentials_and_say_nothing_more() {
    let app = spawn_app().await;
    assert_eq!(
        probe(&app, "/healthz").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        probe(&app, "/readyz").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let head = client().head(app.url("/readyz")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);

    // A storage gone (an unmounted volume): not ready, and no word of which or where. (An
    // engine that stops answering: tests/object_storage, with a relay that stalls it.)
    if crate::helpers::storage_mode::on_s3() {
        return;
    }
    let private = app.state.settings.private.dir.clone();
    let aside = private.with_extension("aside");
    std::fs::rename(&private, &aside).unwrap();
    let (status, body) = probe(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"status": "unavailable"}));
    assert_eq!(
        probe(&app, "/healthz").await.0,
        StatusCode::OK,
        "the process still answers"
    );
    std::fs::rename(&aside, &private).unwrap();
    assert_eq!(probe(&app, "/readyz").await.0, StatusCode::OK);
}

/// `coffer serve` on a free port of this machine, on `app`'s data and database.
fn serve(app: &TestApp, extra_env: &[(&str, &str)]) -> (Child, String) {
    let port = crate::ports::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut c = app.coffer_command(&["serve", "--bind", &bind]);
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&bind).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        assert!(child.try_wait().unwrap().is_none(), "serve exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, format!("http://{bind}"))
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[actix_web::test]
async fn sigterm_stops_accepting_finishes_the_download_in_flight_then_exits() {
    let app = spawn_app().await;
    let big = vec![9u8; 48 << 20];
    let f = app
        .upload(&app.admin_token, "big.bin", &big, None, false)
        .await;
    let id = f["id"].as_i64().unwrap();
    let (mut child, base) = serve(&app, &[("COFFER_SERVER__SHUTDOWN_TIMEOUT_SECS", "30")]);
    let mut res = client()
        .get(format!("{base}{}", path_of(&f)))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut got = res.chunk().await.unwrap().unwrap().len();

    signal(&child, "TERM");
    // While it stops, the transfer is still being written: the client reads slowly.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let refused = client().get(format!("{base}/healthz")).send().await;
    assert!(
        refused.is_err(),
        "a stopping instance takes no new connection"
    );
    while let Some(chunk) = res.chunk().await.unwrap() {
        assert!(chunk.iter().all(|b| *b == 9));
        got += chunk.len();
    }
    assert_eq!(got, big.len(), "the download in flight went out whole");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    // What the instance recorded before it stopped is in the database.
    let (_, audit) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/audit?file_id={id}"),
            None,
        )
        .await;
    let outcomes: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["outcome"])
        .collect();
    assert_eq!(outcomes, vec!["sent"], "{audit}");
}

/// The migrations this binary knows.
fn known_migrations() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

#[test]
fn instances_starting_together_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let pg = test_database();
    let children: Vec<Child> = (0..3)
        .map(|_| {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"));
            c.arg("migrate")
                .env_remove("COFFER_CONFIG")
                .env("COFFER_DATA_DIR", dir.path())
                .env("COFFER_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            match &pg {
                Some(pg) => c.env("COFFER_DATABASE_URL", &pg.url),
                None => c.env_remove("COFFER_DATABASE_URL"),
            };
            c.spawn().unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let n: usize = stdout
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{stdout}"));
        applied += n;
    }
    assert_eq!(
        applied,
        known_migrations(),
        "each migration ran exactly once"
    );
}

#[actix_web::test]
async fn a_database_migrated_by_a_newer_coffer_is_refused() {
    let app = spawn_app().await;
    app.db(|conn| {
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')",
        )
        .execute(conn)
        .unwrap();
    })
    .await;
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"][..]] {
        let out = app.coffer_command(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("newer Coffer") && err.contains("29991231000000"),
            "{args:?}: {err}"
        );
    }
    app.db(|conn| {
        diesel::sql_query(
            "DELETE FROM __diesel_schema_migrations WHERE version = '29991231000000'",
        )
        .execute(conn)
        .unwrap();
    })
    .await;
    let out = app.coffer_command(&["migrate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

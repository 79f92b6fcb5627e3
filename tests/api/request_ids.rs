//! Request ids: every answer names its request in `X-Request-Id`, a fresh id each time; a
//! 500 shows the same id in its JSON body or on its page; and the server's log lines of the
//! request (the failure and the access line) carry it.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::admin::admin_client;
use crate::helpers::{TestApp, path_of, spawn_app, test_database};

fn request_id(headers: &HeaderMap) -> String {
    let id = headers
        .get("x-request-id")
        .expect("an X-Request-Id header")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "{id}");
    assert!(
        id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{id}"
    );
    id
}

/// Makes every later upload to the private storage fail inside the server: its directory
/// for temporary files is replaced by a plain file.
fn break_private_uploads(app: &TestApp) {
    // A local storage's `.tmp`, an object storage's staging directory.
    let storages = &app.state.library.storages;
    break_dir(storages.main(false).temp_files().dir());
}

/// Puts a file where uploads write their temporary files.
fn break_dir(tmp: &std::path::Path) {
    match std::fs::remove_dir_all(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
        }
        Err(e) => panic!("{}: {e}", tmp.display()),
    }
    std::fs::write(tmp, b"not a directory").unwrap();
}

#[actix_web::test]
async fn every_answer_names_its_request_with_a_fresh_id() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "hello.txt", b"hello", None, false)
        .await;
    let public = app
        .upload(&app.admin_token, "open.txt", b"open", None, true)
        .await;
    let token = Some(app.admin_token.as_str());
    let mut seen = HashSet::new();
    // Twice each: the same request gets a new id.
    for _ in 0..2 {
        for (who, path, expected) in [
            (token, "/api/v1/folders".to_owned(), StatusCode::OK),
            (None, "/api/v1/folders".to_owned(), StatusCode::UNAUTHORIZED),
            (token, path_of(&file), StatusCode::OK),
            (None, path_of(&file), StatusCode::NOT_FOUND),
            (None, path_of(&public), StatusCode::OK),
            (None, "/login".to_owned(), StatusCode::OK),
            (None, "/admin/".to_owned(), StatusCode::SEE_OTHER),
            (None, "/no/such/page".to_owned(), StatusCode::NOT_FOUND),
            (
                token,
                "/api/v1/files/999999".to_owned(),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, headers, _) = app.get(who, &path).await;
            assert_eq!(status, expected, "{path}");
            assert!(
                seen.insert(request_id(&headers)),
                "an id used twice: {path}"
            );
        }
    }
    // Other methods, bodies refused before a handler ran, and an answer from the 408 layer.
    let c = &app.client;
    for res in [
        c.head(app.url(&path_of(&file)))
            .bearer_auth(&app.admin_token),
        c.delete(app.url(&path_of(&file))),
        c.post(app.url("/api/v1/folders"))
            .bearer_auth(&app.admin_token)
            .header("Content-Type", "application/json")
            .body("{not json"),
        c.post(app.url("/login")).form(&[("username", "x")]),
    ] {
        let res = res.send().await.unwrap();
        assert!(seen.insert(request_id(res.headers())), "{}", res.url());
    }
}

#[actix_web::test]
async fn an_internal_error_shows_its_request_id_in_the_json_body() {
    let app = spawn_app().await;
    break_private_uploads(&app);
    let mut ids = HashSet::new();
    for _ in 0..2 {
        let res = upload(&app, "doomed.txt").await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = request_id(res.headers());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body, json!({"error": "internal error", "request_id": id}));
        assert!(ids.insert(id));
    }
    // Other errors name no id in their body (the header has it).
    let (status, headers, body) = app.get(Some(&app.admin_token), "/api/v1/files/9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    request_id(&headers);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body, json!({"error": "not found"}));
}

async fn upload(app: &TestApp, name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("is_public", "false")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"bytes".to_vec()).file_name(name.to_owned()),
        );
    app.client
        .post(app.url("/api/v1/files"))
        .bearer_auth(&app.admin_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn an_internal_error_page_shows_its_request_id() {
    let app = spawn_app().await;
    let (c, token) = admin_client(&app, "admin").await;
    break_private_uploads(&app);
    let mut ids = HashSet::new();
    for _ in 0..2 {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token.clone())
            .text("folder", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"one".to_vec()).file_name("one.txt"),
            );
        // The uploader script's request: its failure is an error, not a flash message.
        let res = c
            .post(app.url("/admin/upload"))
            .header("X-Requested-With", "XMLHttpRequest")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = request_id(res.headers());
        let page = res.text().await.unwrap();
        assert!(page.contains("Something went wrong on our side."), "{page}");
        assert!(
            page.contains(&format!("<code class=\"request-id\">{id}</code>")),
            "{page}"
        );
        assert!(ids.insert(id));
    }
    // A 404 page names no id.
    let res = c.get(app.url("/admin/files/999999")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    request_id(res.headers());
    assert!(!res.text().await.unwrap().contains("request-id"));
}

/// The log without its terminal colour codes (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// A `coffer serve` child logging at `info` to a file, killed when dropped.
struct Server {
    child: std::process::Child,
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    _pg: Option<crate::helpers::PgDatabase>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn the_log_lines_of_a_request_carry_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::ports::free_port();
    let log = dir.path().join("server.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coffer"));
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("COFFER_CONFIG")
        .env_remove("RUST_LOG")
        .env("COFFER_DATA_DIR", dir.path().join("data"))
        .env("COFFER_WORKERS", "2")
        .env("COFFER_LOG", "info")
        .env("COFFER_ARGON2__MEMORY_KIB", "1024")
        .env("COFFER_ARGON2__ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let pg = test_database();
    match &pg {
        Some(pg) => cmd.env("COFFER_DATABASE_URL", &pg.url),
        None => cmd.env_remove("COFFER_DATABASE_URL"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let password = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("Created the superuser \"admin\" with password: ")
        .unwrap()
        .to_owned();
    let _server = Server {
        child,
        _stdout: lines,
        _pg: pg,
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (token_id, token) = loop {
        if let Ok(res) = client
            .post(format!("{base}/api/v1/tokens"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
        {
            assert_eq!(res.status(), StatusCode::CREATED);
            let id = request_id(res.headers());
            let body: Value = res.json().await.unwrap();
            break (id, body["token"].as_str().unwrap().to_owned());
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    break_dir(&dir.path().join("data").join("private").join(".tmp"));
    let form = reqwest::multipart::Form::new()
        .text("is_public", "false")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"bytes".to_vec()).file_name("doomed.txt"),
        );
    let res = client
        .post(format!("{base}/api/v1/files"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let failed_id = request_id(res.headers());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], failed_id.as_str());

    // The access line is written once the body is sent; wait for both.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = without_colours(&std::fs::read_to_string(&log).unwrap());
        if text.contains("\"POST /api/v1/files HTTP/1.1\" 500") {
            break text;
        }
        assert!(Instant::now() < deadline, "no access line: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let with = |id: &str| -> Vec<&str> {
        text.lines()
            .filter(|l| l.contains(&format!("request_id={id}")))
            .collect()
    };
    let failed = with(&failed_id);
    assert!(
        failed
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("request failed")),
        "{text}"
    );
    assert!(
        failed.iter().any(|l| l.contains("coffer::http")
            && l.contains("127.0.0.1")
            && l.contains("\"POST /api/v1/files HTTP/1.1\" 500 ")),
        "{text}"
    );
    let logged_in = with(&token_id);
    assert!(
        logged_in
            .iter()
            .any(|l| l.contains("coffer::http")
                && l.contains("\"POST /api/v1/tokens HTTP/1.1\" 201 ")),
        "{text}"
    );
    // Every access line names its request, and no id is another request's.
    for l in text.lines().filter(|l| l.contains("coffer::http")) {
        assert!(l.contains("request{request_id="), "{l}");
    }
    assert!(failed.iter().all(|l| !l.contains(&token_id)));
}

#[actix_web::test]
async fn the_access_log_is_off_unless_asked_for() {
    // No COFFER_LOG and no RUST_LOG: information and errors are logged, but no line per
    // request (a system call per request on the download path).
    let dir = tempfile::tempdir().unwrap();
    let port = crate::ports::free_port();
    let log = dir.path().join("server.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coffer"));
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("COFFER_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("COFFER_LOG")
        .env("COFFER_DATA_DIR", dir.path().join("data"))
        .env("COFFER_WORKERS", "1")
        .env("COFFER_ARGON2__MEMORY_KIB", "1024")
        .env("COFFER_ARGON2__ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let pg = test_database();
    match &pg {
        Some(pg) => cmd.env("COFFER_DATABASE_URL", &pg.url),
        None => cmd.env_remove("COFFER_DATABASE_URL"),
    };
    let mut child = cmd.spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _server = Server {
        child,
        _stdout: lines,
        _pg: pg,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        if let Ok(res) = client
            .get(format!("http://127.0.0.1:{port}/login"))
            .send()
            .await
        {
            assert_eq!(res.status(), StatusCode::OK);
            break request_id(res.headers());
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for _ in 0..5 {
        client
            .get(format!("http://127.0.0.1:{port}/login"))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = without_colours(&std::fs::read_to_string(&log).unwrap());
    assert!(text.contains("Coffer listening on"), "{text}");
    assert!(!text.contains("coffer::http"), "{text}");
    assert!(!text.contains(&id), "{text}");
}

//! Slow clients over a raw socket: headers that stall (`server.header_timeout_secs`), bodies
//! that stall (`server.body_idle_timeout_secs`, every route that reads a body: a multipart
//! upload, JSON, a form) and a body that is slow but steady, which must not be cut.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

const HEADER_TIMEOUT: u64 = 2;
const BODY_IDLE: u64 = 2;

async fn app() -> TestApp {
    spawn_app_with(|c| {
        c.server.header_timeout_secs = HEADER_TIMEOUT;
        c.server.body_idle_timeout_secs = BODY_IDLE;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    let s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads until the server closes the connection (or `limit` passes); returns what came and
/// when the connection ended.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the server kept a stalled connection open for {limit:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

/// Every object in every storage, temporary uploads included.
fn objects(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for (_, root) in app.state.library.storages.roots() {
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path().display().to_string());
                }
            }
        }
    }
    out
}

async fn file_rows(app: &TestApp) -> usize {
    app.db(|c| coffer::db::models::file::all_keys(c).unwrap().len())
        .await
}

#[actix_web::test]
async fn stalled_headers_are_answered_408_and_closed() {
    let app = app().await;
    for partial in [
        "GET / HTTP/1.1\r\nHost: x\r\n".to_owned(),
        "GET /private/files/ab/cd".to_owned(),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n",
            app.admin_token
        ),
    ] {
        let mut s = connect(&app).await;
        s.write_all(partial.as_bytes()).await.unwrap();
        // Closed within the setting (actix-web's own default would be 5 s).
        let limit = Duration::from_millis(HEADER_TIMEOUT * 1000 + 1500);
        let (answer, after) = read_until_closed(&mut s, limit).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{partial:?}: {answer:?}"
        );
        // actix-http starts the clock from its cached date, up to 0.5 s old.
        assert!(
            after >= Duration::from_millis(HEADER_TIMEOUT * 1000 - 900),
            "{partial:?}: closed too early ({after:?})"
        );
    }
}

/// The head and the first part of a multipart upload whose file part never ends.
fn stalled_upload(token: &str, boundary: &str, announced: usize) -> (String, String) {
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {announced}\r\n\r\n"
    );
    let start = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"is_public\"\r\n\r\nfalse\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stalled.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    (head, start)
}

#[actix_web::test]
async fn a_stalled_upload_is_answered_408_and_leaves_nothing() {
    let app = app().await;
    let before = objects(&app);
    let boundary = "XstalledX";
    let (head, start) = stalled_upload(&app.admin_token, boundary, 1_000_000);
    let mut s = connect(&app).await;
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(start.as_bytes()).await.unwrap();
    // 100 KB of the file, then silence.
    s.write_all(&vec![b'z'; 100_000]).await.unwrap();
    let (answer, after) = read_until_closed(&mut s, Duration::from_secs(BODY_IDLE + 8)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("stalled"), "{answer:?}");
    assert!(
        after >= Duration::from_millis(BODY_IDLE * 1000 - 300),
        "408 too early ({after:?})"
    );
    // No row, no object, no temporary file.
    assert_eq!(file_rows(&app).await, 0);
    assert_eq!(objects(&app), before);
}

#[actix_web::test]
async fn stalled_json_and_form_bodies_are_answered_408() {
    let app = app().await;
    let json_head = format!(
        "POST /api/v1/folders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": \"sl",
        app.admin_token
    );
    let form_head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=adm".to_owned();
    for request in [json_head, form_head] {
        let mut s = connect(&app).await;
        s.write_all(request.as_bytes()).await.unwrap();
        let (answer, after) = read_until_closed(&mut s, Duration::from_secs(BODY_IDLE + 8)).await;
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{request:?}: {answer:?}"
        );
        assert!(after >= Duration::from_millis(BODY_IDLE * 1000 - 300));
    }
    let (status, body) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            "/api/v1/folders",
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(!body.to_string().contains("sl"), "{body}");
}

#[actix_web::test]
async fn a_slow_but_steady_upload_is_not_cut() {
    let app = app().await;
    let boundary = "XsteadyX";
    let content = b"steady!!";
    let (_, start) = stalled_upload(&app.admin_token, boundary, 0);
    let end = format!("\r\n--{boundary}--\r\n");
    let length = start.len() + content.len() + end.len();
    let (head, _) = stalled_upload(&app.admin_token, boundary, length);
    let mut s = connect(&app).await;
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(start.as_bytes()).await.unwrap();
    let began = Instant::now();
    // One byte every 0.5 s: 4 s in all, twice the idle limit, never 2 s without a byte.
    for b in content {
        tokio::time::sleep(Duration::from_millis(500)).await;
        s.write_all(&[*b]).await.unwrap();
    }
    s.write_all(end.as_bytes()).await.unwrap();
    assert!(began.elapsed() > Duration::from_secs(BODY_IDLE));
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |a: &[u8]| {
        let text = String::from_utf8_lossy(a);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .and_then(|v| v.trim().parse::<usize>().ok());
        length.is_some_and(|n| body.len() >= n)
    };
    while !complete(&answer) {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(file_rows(&app).await, 1);
    let id: i64 = answer
        .split("\"id\":")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{answer}"));
    let (status, _, body) = app
        .get(Some(&app.admin_token), &format!("/files/{id}/stalled.bin"))
        .await;
    assert_eq!(
        (status, body.as_slice()),
        (reqwest::StatusCode::OK, &content[..])
    );
}

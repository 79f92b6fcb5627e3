//! The server's peak memory while hostile images are uploaded: a real `coffer serve`
//! child process, its VmHWM read from /proc after every upload has been dealt with.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::DynamicImage;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PgDatabase, test_database};
use crate::pictures;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn current_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A `coffer serve` child, killed when dropped, then its test database dropped. Its stdout
/// stays open while it runs (a closed pipe would fail the server's next line).
struct Server {
    child: std::process::Child,
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    _pg: Option<PgDatabase>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `coffer serve` on a free port with its data under `dir`, the test database and
/// `env` on top of the defaults; returns the server, its URL and the first-run admin password
/// (once the server answers).
fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> (Server, String, String) {
    let port = crate::ports::free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coffer"));
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("COFFER_CONFIG")
        .env("COFFER_DATA_DIR", dir.join("data"))
        .env("COFFER_WORKERS", "2")
        .env("COFFER_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("server.log")).unwrap(),
        ));
    let pg = test_database();
    match &pg {
        Some(pg) => cmd.env("COFFER_DATABASE_URL", &pg.url),
        None => cmd.env_remove("COFFER_DATABASE_URL"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let password = line
        .strip_prefix("Created the superuser \"admin\" with password: ")
        .unwrap()
        .to_owned();
    assert_ne!(password, PASSWORD);
    (
        Server {
            child,
            _stdout: lines,
            _pg: pg,
        },
        format!("http://127.0.0.1:{port}"),
        password,
    )
}

/// `POST /api/v1/tokens`, waiting up to a minute for the server to answer; `from` is the
/// client address the server is told (when it trusts `X-Forwarded-For`). Err(status) when
/// refused.
async fn token(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    from: Option<&str>,
) -> Result<String, StatusCode> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut req = client
            .post(format!("{base}/api/v1/tokens"))
            .json(&json!({"username": username, "password": password}));
        if let Some(from) = from {
            req = req.header("X-Forwarded-For", from);
        }
        if let Ok(res) = req.send().await {
            if res.status() != StatusCode::CREATED {
                return Err(res.status());
            }
            return Ok(res.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned());
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A burst of log-ins: each argon2id check needs a 19 MiB work area, but they run on the one
/// password thread, which reuses its area, so sixteen at once do not cost sixteen areas.
#[actix_web::test]
async fn a_burst_of_logins_keeps_one_argon2_work_area_resident() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, password) = start(
        dir.path(),
        &[
            // The default memory cost (19 MiB), one pass to keep the test short.
            ("COFFER_ARGON2__ITERATIONS", "1"),
            ("COFFER_SESSION__CLIENT_ADDRESS_HEADER", "X-Forwarded-For"),
            // Attempts in flight count as failures until checked: eight right ones at once
            // for one name would start its back-off at the default limit.
            ("COFFER_SESSION__LOGIN_MAX_FAILURES", "100"),
        ],
    );
    let pid = server.child.id();
    let client = reqwest::Client::new();
    // Warm: the admin's check and a failed one (which makes the stand-in hash).
    token(&client, &base, "admin", &password, Some("10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(
        token(&client, &base, "nobody", "wrong password", Some("10.0.0.2")).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let before = peak_rss_kib(pid);
    let burst: Vec<_> = (0..16)
        .map(|i| {
            let (client, base, password) = (client.clone(), base.clone(), password.clone());
            tokio::spawn(async move {
                // Half right, half wrong (each for its own unknown name), each from its own
                // address: below every throttling limit.
                let (user, pass) = if i % 2 == 0 {
                    ("admin".to_owned(), password.as_str())
                } else {
                    (format!("somebody-{i}"), "wrong password")
                };
                token(&client, &base, &user, pass, Some(&format!("10.1.0.{i}"))).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in burst {
        outcomes.push(task.await.unwrap().map(|_| ()));
    }
    let expected: Vec<_> = (0..16)
        .map(|i| {
            if i % 2 == 0 {
                Ok(())
            } else {
                Err(StatusCode::UNAUTHORIZED)
            }
        })
        .collect();
    assert_eq!(outcomes, expected);
    let after = peak_rss_kib(pid);
    eprintln!(
        "server peak RSS: {} MiB before the burst, {} MiB after",
        before / 1024,
        after / 1024
    );
    // The password thread's one work area was already there; what grows is the sixteen
    // requests' own threads and buffers. Sixteen work areas at once would add 300 MiB.
    assert!(
        after < before + 3 * 19 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB"
    );
    drop(server);
}

/// After each log-in check the password thread gives its 19 MiB argon2 work area back to
/// the system: the resident size falls back far below the peak the checks reached.
#[actix_web::test]
async fn a_login_leaves_no_argon2_work_area_resident() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, password) = start(dir.path(), &[("COFFER_ARGON2__ITERATIONS", "1")]);
    let pid = server.child.id();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        token(&client, &base, "admin", &password, None)
            .await
            .unwrap();
    }
    assert_eq!(
        token(&client, &base, "nobody", "wrong password", None).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let (now, peak) = (current_rss_kib(pid), peak_rss_kib(pid));
    eprintln!(
        "server RSS after four checks: {} MiB (peak {} MiB)",
        now / 1024,
        peak / 1024
    );
    assert!(
        now + 15 * 1024 < peak,
        "a work area stayed resident: {now} KiB now, {peak} KiB at the peak"
    );
    drop(server);
}

#[actix_web::test]
async fn peak_memory_stays_bounded_while_bombs_are_uploaded() {
    // The pictures first: making them takes a while.
    let photo = pictures::jpeg(&pictures::photo(800, 600), None);
    let zeros = DynamicImage::ImageLuma8(image::GrayImage::new(8000, 8000));
    let uploads: Vec<(&str, Vec<u8>)> = vec![
        // 100,000 × 100,000 declared by a file of a few hundred bytes.
        ("png-bomb.png", pictures::png_declaring(100_000, 100_000)),
        ("jpeg-bomb.jpg", pictures::jpeg_declaring(65_000, 65_000)),
        // 100 megapixels for real (300 MB as pixels); decoded at 1/8 scale.
        ("huge.jpg", pictures::big_jpeg(10_000, 10_000, false)),
        // Progressive: its coefficients alone would need ~380 MB.
        (
            "huge-progressive.jpg",
            pictures::big_jpeg(8_000, 8_000, true),
        ),
        // A zlib bomb within the pixel limit: 64 megapixels of zeros.
        (
            "zeros.png",
            pictures::encode(&zeros, image::ImageFormat::Png),
        ),
        ("cut.jpg", photo[..photo.len() / 2].to_vec()),
        ("not-a-picture.jpg", b"just text\n".to_vec()),
        ("frames.gif", pictures::many_frame_gif(3000)),
        ("fine.jpg", photo.clone()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, password) = start(
        dir.path(),
        &[
            ("COFFER_ARGON2__MEMORY_KIB", "1024"),
            ("COFFER_ARGON2__ITERATIONS", "1"),
            ("COFFER_THUMBNAILS__CONCURRENCY", "2"),
            // The configured cap every single decode must stay under.
            ("COFFER_IMAGES__MAX_DECODE_MEMORY", "64 MiB"),
        ],
    );
    let pid = server.child.id();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let token = token(&client, &base, "admin", &password, None)
        .await
        .unwrap();
    let baseline = peak_rss_kib(pid);

    let mut ids = Vec::new();
    for (name, bytes) in &uploads {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
        let res = client
            .post(format!("{base}/api/v1/files"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}; server: {:?}", server.child.try_wait()));
        assert_eq!(res.status(), StatusCode::CREATED, "{name}");
        ids.push((
            name,
            res.json::<Value>().await.unwrap()["id"].as_i64().unwrap(),
        ));
    }
    // Wait until every image has its thumbnails or a reason.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut outcome = Vec::new();
    for (name, id) in &ids {
        loop {
            let f: Value = client
                .get(format!("{base}/api/v1/files/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let settled = f["image"].is_null()
                || !f["thumbnail_error"].is_null()
                || f["thumbnails"]["icon-40"]
                    .as_str()
                    .is_some_and(|u| !u.starts_with("/files/"));
            if settled {
                outcome.push((name.to_string(), f["thumbnail_error"].clone()));
                break;
            }
            assert!(Instant::now() < deadline, "{name} never settled: {f}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let reason = |n: &str| {
        outcome
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, r)| r.as_str().unwrap_or("").to_owned())
            .unwrap()
    };
    assert!(
        reason("png-bomb.png").contains("above the limit"),
        "{outcome:?}"
    );
    assert!(
        reason("jpeg-bomb.jpg").contains("above the limit"),
        "{outcome:?}"
    );
    assert_eq!(reason("huge.jpg"), "", "{outcome:?}");
    assert!(
        reason("huge-progressive.jpg").contains("memory"),
        "{outcome:?}"
    );
    assert!(reason("zeros.png").contains("memory"), "{outcome:?}");
    assert!(reason("cut.jpg").contains("truncated"), "{outcome:?}");
    assert_eq!(reason("frames.gif"), "", "{outcome:?}");
    assert_eq!(reason("fine.jpg"), "", "{outcome:?}");

    // Still serving.
    let res = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let peak = peak_rss_kib(pid);
    eprintln!(
        "server peak RSS: {} MiB (at start {} MiB)",
        peak / 1024,
        baseline / 1024
    );
    // Two jobs at once, each held under the 64 MiB cap, plus the server itself. Decoding any
    // of the bombs in full would take 300 MB to 40 GB.
    assert!(
        peak < baseline + 2 * 64 * 1024 + 48 * 1024,
        "peak RSS {peak} KiB (baseline {baseline} KiB)"
    );
    drop(server);
}

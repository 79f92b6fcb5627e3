//! No path from a URL reaches outside a storage: raw request targets (not normalised by a
//! client library) with `..`, encoded separators, NUL, overlong UTF-8 and absolute paths,
//! and links planted inside storages.

use std::io::{Read, Write};

use crate::helpers::{TestApp, path_of, spawn_app};

/// Sends `target` verbatim; returns the status code and body.
fn raw_get(app: &TestApp, target: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = match buf.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => buf[i + 4..].to_vec(),
        None => Vec::new(),
    };
    (status, body)
}

const SECRET: &[u8] = b"TOP-SECRET-OUTSIDE-BYTES";

#[actix_web::test]
async fn traversal_attempts_never_return_outside_bytes() {
    let app = spawn_app().await;
    std::fs::write(app.data().join("secret.txt"), SECRET).unwrap();
    let private = app
        .upload(&app.admin_token, "p.txt", b"private", None, false)
        .await;
    let public = app
        .upload(&app.admin_token, "q.txt", b"public", None, true)
        .await;
    let private_url = path_of(&private);
    let public_url = path_of(&public);
    let t = app.admin_token.clone();
    let targets = [
        "/private/files/../secret.txt".to_owned(),
        "/private/files/../../secret.txt".to_owned(),
        "/private/files/%2e%2e/secret.txt".to_owned(),
        "/private/files/%2e%2e%2fsecret.txt".to_owned(),
        "/private/files/..%2fsecret.txt".to_owned(),
        "/private/files/..%5csecret.txt".to_owned(),
        "/private/files/%2fetc%2fpasswd".to_owned(),
        "/private/files//etc/passwd".to_owned(),
        "/private/files/%00".to_owned(),
        format!("{private_url}%00.txt"),
        "/private/files/%c0%ae%c0%ae/secret.txt".to_owned(),
        "/private/files/%c0%af..%c0%afsecret.txt".to_owned(),
        "/private/thumbnails/../secret.txt".to_owned(),
        "/media/public/../secret.txt".to_owned(),
        "/media/public/%2e%2e/secret.txt".to_owned(),
        "/media/public/..%2fsecret.txt".to_owned(),
        "/media/public/%2e%2e%2f%2e%2e%2fsecret.txt".to_owned(),
        "/media/public/..%5c..%5csecret.txt".to_owned(),
        "/media/public/%c0%ae%c0%ae/secret.txt".to_owned(),
        "/media/public/.tmp/".to_owned(),
        "/media/public//etc/passwd".to_owned(),
        "/files/1/../../secret.txt".to_owned(),
        "/files/..%2f..%2fsecret.txt/x".to_owned(),
        "http://evil/../secret.txt".to_owned(),
    ];
    for target in &targets {
        for token in [Some(t.as_str()), None] {
            let (status, body) = raw_get(&app, target, token);
            assert!(
                !body.windows(SECRET.len()).any(|w| w == SECRET),
                "{target} leaked outside bytes"
            );
            // `/files/{id}/{name}` ignores the name part: file 1's own bytes are fine.
            let own_file = target.starts_with("/files/1/") && body == b"private" && token.is_some();
            assert!(
                matches!(status, 400 | 404) || own_file,
                "{target}: {status}"
            );
        }
    }
    // The real URLs still work.
    assert_eq!(raw_get(&app, &private_url, Some(&t)).0, 200);
    assert_eq!(raw_get(&app, &public_url, None).0, 200);
}

#[actix_web::test]
async fn links_planted_in_storages_are_not_followed() {
    let app = spawn_app().await;
    if crate::helpers::storage_mode::on_s3() {
        // A bucket has no links; its keys are checked like a directory's (`key.rs`).
        return;
    }
    std::fs::write(app.data().join("secret.txt"), SECRET).unwrap();
    let private = app
        .upload(&app.admin_token, "p.txt", b"private bytes", None, false)
        .await;
    let private_key = path_of(&private)
        .trim_start_matches("/private/files/")
        .to_owned();
    // A link in the public storage pointing at a private object, and one pointing outside.
    let public_root = app.data().join("public");
    std::os::unix::fs::symlink(
        app.data().join("private").join(&private_key),
        public_root.join("leak.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(app.data(), public_root.join("dir")).unwrap();
    assert_eq!(raw_get(&app, "/media/public/leak.txt", None).0, 404);
    assert_eq!(raw_get(&app, "/media/public/dir/secret.txt", None).0, 404);
    // A link replacing a private object, pointing outside, is refused even for a superuser.
    let object = app.data().join("private").join(&private_key);
    std::fs::remove_file(&object).unwrap();
    std::os::unix::fs::symlink(app.data().join("secret.txt"), &object).unwrap();
    let (status, body) = raw_get(&app, &path_of(&private), Some(&app.admin_token));
    assert_eq!(status, 404);
    assert!(!body.windows(SECRET.len()).any(|w| w == SECRET));
    // `coffer check` reports the links, and `--repair` removes them.
    let storages = app.state.library.storages.clone();
    let findings = app
        .db(move |c| coffer::library::check::check(&storages, c).unwrap())
        .await;
    let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    assert!(
        text.iter().any(|l| l.contains("public/leak.txt")),
        "{text:?}"
    );
    assert!(text.iter().any(|l| l.contains("public/dir")), "{text:?}");
}

//! The same behaviour, checked through each server: private files and thumbnails reach only
//! readers, the internal location and the private roots answer 404, awkward names arrive
//! intact, Range works, the security headers arrive, toggling public and back keeps the
//! stable URL, public files and uploads go through the server.

use percent_encoding::percent_decode_str;
use reqwest::StatusCode;

use coffer::storage::StorageRole;

use crate::helpers::storage_mode::on_s3;
use crate::helpers::{Env, path_of, start};
use crate::web::Kind;

const NAMES: &[&str] = &[
    "a b.pdf",
    "100%.txt",
    "%20literally.txt",
    "what?.txt",
    "#1.txt",
    "semi;colon.txt",
    "\"q\".txt",
    "back\\slash.txt",
    "\u{e9}t\u{e9}.pdf",
    "\u{65e5}\u{672c}.pdf",
    "Rapport \u{e9}t\u{e9} (final).pdf",
];

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn star_name(cd: &str) -> String {
    let enc = cd.split("filename*=UTF-8''").nth(1).unwrap();
    percent_decode_str(enc).decode_utf8().unwrap().into_owned()
}

/// Coffer's own answer for an offloaded file: the header that names it, the describing
/// headers, no body and nothing of the file's own (length, ETag, dates).
async fn coffer_answer_names_the_object(env: &Env, kind: Kind, url: &str, len: usize) {
    let (status, h, body) = crate::helpers::get(
        &env.client,
        &format!("{}{url}", env.coffer),
        Some(&env.admin_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty(), "Coffer sends no bytes itself");
    let key = url.trim_start_matches("/private/files/");
    match kind {
        // nginx-s3: the internal location, then the presigned path and query of the object.
        Kind::Nginx if on_s3() => {
            let v = h["x-accel-redirect"].to_str().unwrap();
            let bucket = &env.state.settings.raw.object_store.as_ref().unwrap().bucket;
            assert!(v.starts_with(&format!("/_coffer/private/{bucket}/")), "{v}");
            assert!(v.contains(&format!("/{key}?")), "{v}");
            assert!(v.contains("X-Amz-Signature="), "{v}");
        }
        Kind::Nginx | Kind::Caddy => {
            assert_eq!(
                h["x-accel-redirect"],
                format!("/_coffer/private/{key}").as_str()
            )
        }
        Kind::Apache => {
            let expected = env
                .state
                .library
                .storages
                .private
                .as_local()
                .unwrap()
                .root()
                .join(key);
            assert_eq!(
                h["x-sendfile"].as_bytes(),
                std::os::unix::ffi::OsStrExt::as_bytes(expected.as_os_str()),
                "raw path (unescape = false)"
            );
        }
        Kind::Lighttpd => {
            let v = h["x-sendfile"].to_str().unwrap();
            assert!(v.contains("coffer%20%2520%20data%20100%25%20%C3%A9"), "{v}");
        }
    }
    for absent in ["etag", "last-modified"] {
        assert!(!h.contains_key(absent), "{absent} from Coffer");
    }
    assert_ne!(
        h.get("content-length")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some(len.to_string()),
        "the file's length is the server's to send"
    );
}

/// Downloads through the server only for readers; headers, length, HEAD, a large file, and
/// a file gone from disk.
pub async fn private_files_reach_only_readers(kind: Kind) {
    let env = start(kind).await;
    let (_, reader) = env.user("reader").await;
    let (_, outsider) = env.user("outsider").await;
    let folder = {
        let res = env
            .client
            .post(env.site("/api/v1/folders"))
            .bearer_auth(&env.admin_token)
            .json(&serde_json::json!({"name": "shared"}))
            .send()
            .await
            .unwrap();
        res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let reader_id = env.user_id("reader").await;
    let res = env
        .client
        .post(env.site("/api/v1/folder-permissions"))
        .bearer_auth(&env.admin_token)
        .json(
            &serde_json::json!({"folder_id": folder, "type": "children", "user_id": reader_id,
            "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let data = pattern(300_000);
    let file = env.upload_to("report.bin", &data, Some(folder)).await;
    let url = path_of(&file);

    let (status, h, body) = env.get(Some(&reader), &url, &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(body == data, "the bytes arrive whole");
    assert_eq!(h["content-length"], "300000");
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"report.bin\"; filename*=UTF-8''report.bin"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(h["cache-control"], "private, no-cache");
    assert!(!h.contains_key("x-accel-redirect") && !h.contains_key("x-sendfile"));
    coffer_answer_names_the_object(&env, kind, &url, data.len()).await;

    for (who, token) in [("outsider", Some(outsider.as_str())), ("anonymous", None)] {
        let (status, h, body) = env.get(token, &url, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!body.windows(64).any(|w| w == &data[..64]), "{who}");
        assert!(!h.contains_key("x-accel-redirect") && !h.contains_key("x-sendfile"));
    }

    // HEAD through the server: the length, no body.
    let res = env
        .client
        .head(env.site(&url))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], "300000");

    // A file that vanished from its storage: 404 through the server, nothing of the
    // engine's answer.
    let key = url.trim_start_matches("/private/files/");
    env.remove_stored(StorageRole::Private, key).await;
    let (status, h, body) = env.get(Some(&reader), &url, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!h.contains_key("x-accel-redirect") && !h.contains_key("x-sendfile"));
    assert!(!String::from_utf8_lossy(&body).contains("NoSuchKey"));
    let (status, h, _) = crate::helpers::get(
        &env.client,
        &format!("{}{url}", env.coffer),
        Some(&reader),
        &[],
    )
    .await;
    if on_s3() {
        // nginx-s3 only signs (no request to the engine per download): the engine's 404
        // is turned into nginx's own.
        assert!(status == StatusCode::OK && h.contains_key("x-accel-redirect"));
    } else {
        // On a disk Coffer looks first: never a dangling hand-off.
        assert_eq!(status, StatusCode::NOT_FOUND, "from Coffer itself");
        assert!(!h.contains_key("x-accel-redirect") && !h.contains_key("x-sendfile"));
    }
}

/// Range requests: one range gives 206 with exactly those bytes; an unsatisfiable one 416.
pub async fn ranges(kind: Kind) {
    let env = start(kind).await;
    let data = pattern(200_000);
    let url = path_of(&env.upload("data.bin", &data, false).await);
    let t = Some(env.admin_token.as_str());
    let (status, h, body) = env.get(t, &url, &[("Range", "bytes=100-199")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h["content-range"], "bytes 100-199/200000");
    assert_eq!(body, &data[100..200]);
    let (status, _, body) = env.get(t, &url, &[("Range", "bytes=-10")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &data[data.len() - 10..]);
    let (status, _, body) = env.get(t, &url, &[("Range", "bytes=150000-")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &data[150_000..]);
    let (status, _, _) = env.get(t, &url, &[("Range", "bytes=300000-")]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    // Ranges never help the anonymous.
    let (status, _, _) = env.get(None, &url, &[("Range", "bytes=0-9")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Thumbnails of private images: the source file's permission decides, through the server.
pub async fn private_thumbnails(kind: Kind) {
    let env = start(kind).await;
    let (_, other) = env.user("other").await;
    let file = env.upload("photo.png", &tiny_png(), false).await;
    let id = file["id"].as_i64().unwrap();
    let key = path_of(&file)
        .trim_start_matches("/private/files/")
        .to_owned();
    // A thumbnail row and object, as the thumbnail generator records them.
    let thumb_key = format!("{key}__icon-40.png");
    let thumb = tiny_png_2x2();
    env.put_stored(StorageRole::PrivateThumbnails, &thumb_key, &thumb)
        .await;
    let tk = thumb_key.clone();
    env.db(move |conn| {
        coffer::db::models::thumbnail::insert(conn, id, "icon-40", &tk, "image/png", 10).unwrap();
    })
    .await;
    let url = format!("/private/thumbnails/{thumb_key}");
    let (status, h, body) = env.get(Some(&env.admin_token), &url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, thumb);
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(env.get(None, &url, &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        env.get(Some(&other), &url, &[]).await.0,
        StatusCode::NOT_FOUND
    );
    // Directly at the internal location and the root: nothing.
    for direct in [
        format!("/_coffer/private-thumbnails/{thumb_key}"),
        format!("/private-thumbnails/{thumb_key}"),
        format!("/{thumb_key}"),
    ] {
        assert_eq!(
            env.get(Some(&env.admin_token), &direct, &[]).await.0,
            StatusCode::NOT_FOUND,
            "{direct}"
        );
    }
}

/// Every URL a misconfigured server would expose a private file at answers 404.
pub async fn direct_requests_are_404(kind: Kind) {
    let env = start(kind).await;
    let data = b"private bytes, never served directly".to_vec();
    let url = path_of(&env.upload("secret.txt", &data, false).await);
    let key = url.trim_start_matches("/private/files/");
    let awkward = "coffer%20%2520%20data%20100%25%20%C3%A9";
    let root = env.dir.path().display().to_string();
    let mut candidates = [
        format!("/_coffer/private/{key}"),
        format!("/_coffer/private/../private/{key}"),
        format!("/_coffer/private//{key}"),
        format!("/private/{key}"),
        format!("/{key}"),
        format!("/{awkward}/private/{key}"),
        format!("{root}/{awkward}/private/{key}"),
        format!("/media/public/{key}"),
        format!("/media/public/../private/{key}"),
        format!("/media/public../private/{key}"),
        format!("/media/public/%2e%2e/private/{key}"),
        format!("/media/thumbnails../private/{key}"),
    ]
    .to_vec();
    if let Some(object) = env.state.library.storages.private.as_object() {
        // The object's path at the engine, under the internal location and the proxy's
        // root, unsigned.
        let path = format!(
            "{}/{}{key}",
            env.state.settings.raw.object_store.as_ref().unwrap().bucket,
            object.prefix()
        );
        candidates.push(format!("/_coffer/private/{path}"));
        candidates.push(format!("/{path}"));
    }
    for path in &candidates {
        for token in [None, Some(env.admin_token.as_str())] {
            let (status, _, body) = env.get(token, path, &[]).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{path} (token: {})",
                token.is_some()
            );
            assert!(
                !body.windows(data.len()).any(|w| w == data.as_slice()),
                "{path}"
            );
        }
    }
    // The checked view still works for the owner.
    let (status, _, body) = env.get(Some(&env.admin_token), &url, &[]).await;
    assert_eq!((status, body), (StatusCode::OK, data));
}

/// Awkward file names keep their exact name in Content-Disposition, through the server.
pub async fn awkward_names(kind: Kind) {
    let env = start(kind).await;
    for name in NAMES {
        let bytes = format!("bytes of {name}").into_bytes();
        let file = env.upload(name, &bytes, false).await;
        let id = file["id"].as_i64().unwrap();
        for path in [path_of(&file), format!("/files/{id}/anything")] {
            let (status, h, body) = env.get(Some(&env.admin_token), &path, &[]).await;
            assert_eq!(status, StatusCode::OK, "{name} at {path}");
            assert_eq!(body, bytes, "{name}");
            let cd = h["content-disposition"].to_str().unwrap();
            assert_eq!(star_name(cd), *name, "{cd}");
            assert!(!cd.contains('\\') && cd.is_ascii(), "{cd}");
        }
    }
}

/// Toggling a file public and back keeps `/files/<id>/…` working all along, and the public
/// URL it had stops working once it is private again.
pub async fn toggle_keeps_the_stable_url(kind: Kind) {
    let env = start(kind).await;
    let data = pattern(100_000);
    let file = env.upload("toggle.bin", &data, false).await;
    let id = file["id"].as_i64().unwrap();
    let stable = format!("/files/{id}/toggle.bin");
    let t = Some(env.admin_token.as_str());

    let (status, _, body) = env.get(t, &stable, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    assert_eq!(env.get(None, &stable, &[]).await.0, StatusCode::NOT_FOUND);

    let public = env.set_public(id, true).await;
    let public_url = path_of(&public);
    assert!(public_url.starts_with("/media/public/"), "{public_url}");
    // The stable URL sends public bytes itself (no redirect a toggle could race).
    let (status, h, body) = env.get(None, &stable, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    assert!(h.get("location").is_none());
    let (status, h, body) = env.get(None, &public_url, &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "public bytes from the server's disk"
    );
    assert!(body == data);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_public_attachment(&h, "toggle.bin");

    let private = env.set_public(id, false).await;
    let private_url = path_of(&private);
    assert!(private_url.starts_with("/private/files/"));
    let (status, _, body) = env.get(t, &stable, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    let (status, _, body) = env.get(t, &private_url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == data);
    assert_eq!(env.get(None, &stable, &[]).await.0, StatusCode::NOT_FOUND);
    // lighttpd with `server.follow-symlink = "disable"` answers a missing public file 403.
    let gone = env.get(None, &public_url, &[]).await.0;
    assert!(
        gone == StatusCode::NOT_FOUND || (kind == Kind::Lighttpd && gone == StatusCode::FORBIDDEN),
        "the old public URL is gone: {gone}"
    );
}

/// Public files come from the server's disk, sandboxed; active types are attachments,
/// images inline; hidden names are refused; uploads within the limit pass the server and
/// larger ones are refused.
pub async fn public_files_and_uploads(kind: Kind) {
    let env = crate::helpers::start_with(kind, |c| {
        c.max_upload_size = bytesize::ByteSize::b(2 * 1024 * 1024);
    })
    .await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let page = env.upload("page.html", html, true).await;
    let (status, h, body) = env.get(None, &path_of(&page), &[]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &html[..]));
    assert_public_attachment(&h, "page.html");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let image = env.upload("pixel.png", &tiny_png(), true).await;
    let (status, h, _) = env.get(None, &path_of(&image), &[]).await;
    assert_eq!(status, StatusCode::OK);
    // Images show inline: no disposition from the server's disk, `inline` from Coffer.
    let cd = h.get("content-disposition").map(|v| v.to_str().unwrap());
    assert!(
        cd.is_none_or(|cd| on_s3() && cd.starts_with("inline")),
        "images show inline: {cd:?}"
    );
    assert_eq!(h["content-type"], "image/png");
    // Where uploads are written before they are stored is not served: the storage's
    // temporary directory, or the staging directory of an object storage.
    let (partial, url) = if on_s3() {
        let staging = env.data_dir.join("staging").join("public");
        std::fs::create_dir_all(&staging).unwrap();
        (staging.join("upload-x"), "/media/public/upload-x")
    } else {
        let tmp = env.data_dir.join("public").join(".tmp");
        (tmp.join("upload-x"), "/media/public/.tmp/upload-x")
    };
    std::fs::write(partial, b"partial").unwrap();
    let status = env.get(None, url, &[]).await.0;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}"
    );

    let (status, body) = env
        .try_upload(&env.admin_token, "big.bin", pattern(1_500_000), false)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = env
        .try_upload(
            &env.admin_token,
            "too-big.bin",
            pattern(3 * 1024 * 1024),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A share link's private file through the web server: the bytes whole, Range answered
/// 206, and the link's maximum counting the completed transfer only.
pub async fn share_links_go_through_the_backend(kind: Kind) {
    let env = start(kind).await;
    let data = pattern(200_000);
    let file = env.upload_to("shared.bin", &data, None).await;
    let res = env
        .client
        .post(env.site("/api/v1/shares"))
        .bearer_auth(&env.admin_token)
        .json(&serde_json::json!({"file_id": file["id"], "max_downloads": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: serde_json::Value = res.json().await.unwrap();
    let url = format!("{}/download", made["url"].as_str().unwrap());
    let (status, _, body) = env.get(None, &url, &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(body == data, "the bytes arrive whole");
    let (status, h, body) = env.get(None, &url, &[("Range", "bytes=100-199")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h["content-range"], "bytes 100-199/200000");
    assert!(body == data[100..200], "the range");
    let (status, _, _) = env.get(None, &url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = env.get(None, &url, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "used up after two downloads");

    // The download audit names the link, the range and the web server that sent the bytes.
    env.state.library.audit.write(&env.state.pool);
    let res = env
        .client
        .get(env.site(&format!("/api/v1/audit?share_id={}", made["id"])))
        .bearer_auth(&env.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: serde_json::Value = res.json().await.unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{page:#}");
    let backend = env.state.settings.serve_private.name();
    for e in entries {
        assert_eq!(e["via"], "share");
        assert_eq!(e["outcome"], "handed-off", "{e}");
        assert_eq!(e["backend"], backend);
        assert_eq!(e["file_id"], file["id"]);
        assert!(e["user_id"].is_null());
    }
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["range"] == "bytes=100-199")
            .count(),
        1,
        "{page:#}"
    );

    // A link's preview of an image goes through the private thumbnail backend too.
    let mut png_bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    }))
    .write_to(
        &mut std::io::Cursor::new(&mut png_bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    let png = env.upload_to("photo.png", &png_bytes, None).await;
    let png_id = png["id"].as_i64().unwrap();
    let res = env
        .client
        .post(env.site("/api/v1/shares"))
        .bearer_auth(&env.admin_token)
        .json(&serde_json::json!({"file_id": png_id}))
        .send()
        .await
        .unwrap();
    let link: serde_json::Value = res.json().await.unwrap();
    let link = link["url"].as_str().unwrap();
    let preview = format!("{link}/thumbnails/{png_id}/icon-40");
    let (status, h, body) = env.get(None, &preview, &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let shown = image::load_from_memory(&body).unwrap();
    assert!(
        shown.width() <= 40 && shown.height() <= 40,
        "the icon-40 preset"
    );
    assert!(h["content-type"].to_str().unwrap().starts_with("image/"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    let other = format!("{link}/thumbnails/{}/icon-40", file["id"]);
    assert_eq!(env.get(None, &other, &[]).await.0, StatusCode::NOT_FOUND);
}

/// A public file that must not be shown is an attachment: a bare one from the server's
/// disk, one that names the file from Coffer's stream of a public object.
fn assert_public_attachment(h: &reqwest::header::HeaderMap, name: &str) {
    let cd = h["content-disposition"].to_str().unwrap();
    if on_s3() {
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert_eq!(star_name(cd), name, "{cd}");
    } else {
        assert_eq!(cd, "attachment", "never shown");
    }
}

/// A valid 1×1 PNG.
pub fn tiny_png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[0, 0, 0, 13]);
    v.extend_from_slice(b"IHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89");
    v.extend_from_slice(b"\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa75\x81\x84");
    v.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    v
}

/// Distinct bytes for the thumbnail object (a PNG signature and some payload).
fn tiny_png_2x2() -> Vec<u8> {
    let mut v = tiny_png();
    v.extend_from_slice(b"thumbnail");
    v
}

/// The tests, once per server.
macro_rules! server_tests {
    ($module:ident, $kind:expr) => {
        mod $module {
            use crate::scenarios;
            use crate::web::Kind;

            const KIND: Kind = $kind;

            #[actix_web::test]
            async fn private_files_reach_only_readers() {
                scenarios::private_files_reach_only_readers(KIND).await;
            }
            #[actix_web::test]
            async fn ranges() {
                scenarios::ranges(KIND).await;
            }
            #[actix_web::test]
            async fn share_links_go_through_the_backend() {
                scenarios::share_links_go_through_the_backend(KIND).await;
            }
            #[actix_web::test]
            async fn private_thumbnails() {
                scenarios::private_thumbnails(KIND).await;
            }
            #[actix_web::test]
            async fn direct_requests_are_404() {
                scenarios::direct_requests_are_404(KIND).await;
            }
            #[actix_web::test]
            async fn awkward_names() {
                scenarios::awkward_names(KIND).await;
            }
            #[actix_web::test]
            async fn toggle_keeps_the_stable_url() {
                scenarios::toggle_keeps_the_stable_url(KIND).await;
            }
            #[actix_web::test]
            async fn public_files_and_uploads() {
                scenarios::public_files_and_uploads(KIND).await;
            }
        }
    };
}

server_tests!(nginx, Kind::Nginx);
server_tests!(apache, Kind::Apache);
server_tests!(lighttpd, Kind::Lighttpd);
server_tests!(caddy, Kind::Caddy);

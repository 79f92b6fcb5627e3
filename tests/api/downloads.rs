//! The checked download view: server cases S1–S15 and backend cases B1–B4 of the reference,
//! re-expressed for Coffer, plus Range, conditional requests, headers and file names.

use percent_encoding::percent_decode_str;
use reqwest::StatusCode;

use crate::helpers::{path_of, spawn_app, spawn_app_with};

const HELLO: &[u8] = b"Hello, world!";

#[actix_web::test]
async fn s1_s2_superuser_gets_the_bytes_anonymous_gets_404() {
    let app = spawn_app().await;
    let folder = app.folder(&app.admin_token, "docs", None).await;
    let file = app
        .upload(&app.admin_token, "hello.txt", HELLO, Some(folder), false)
        .await;
    let url = path_of(&file);
    assert!(url.starts_with("/private/files/"), "{url}");
    let (status, headers, body) = app.get(Some(&app.admin_token), &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, HELLO);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let (status, _, body) = app.get(None, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains("Hello"));
}

#[actix_web::test]
async fn s3_s4_unrouted_and_unknown_keys_are_404() {
    let app = spawn_app().await;
    for path in [
        "/filer_private/nonexistent_file.txt",
        "/private/files/2025/07/06/no_such_file.txt",
        "/private/files/",
    ] {
        let (status, _, _) = app.get(Some(&app.admin_token), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[actix_web::test]
async fn s5_debug_mode_answers_403_with_the_reason() {
    let app = spawn_app_with(|c| c.debug = true).await;
    let file = app
        .upload(&app.admin_token, "hello.txt", HELLO, None, false)
        .await;
    let (status, _, body) = app.get(None, &path_of(&file)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        String::from_utf8_lossy(&body).contains("anonymous"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[actix_web::test]
async fn s6_s7_s8_s12_private_thumbnails_are_found_through_their_rows() {
    let app = spawn_app().await;
    let (_, other) = app.user("other").await;
    let file = app
        .upload(&app.admin_token, "photo.png", &tiny_png(), None, false)
        .await;
    let id = file["id"].as_i64().unwrap();
    let key = path_of(&file)
        .trim_start_matches("/private/files/")
        .to_owned();
    // A thumbnail row and object, as the thumbnail generator records them.
    let thumb_key = format!("{key}__icon-40.png");
    let (storages, tk) = (app.state.library.storages.clone(), thumb_key.clone());
    app.db(move |conn| {
        storages
            .private_thumbnails
            .put_bytes(
                &coffer::storage::StorageKey::parse(&tk).unwrap(),
                &tiny_png(),
            )
            .unwrap();
        coffer::db::models::thumbnail::insert(conn, id, "icon-40", &tk, "image/png", 10).unwrap();
    })
    .await;
    let url = format!("/private/thumbnails/{thumb_key}");
    let (status, headers, _) = app.get(Some(&app.admin_token), &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(
        app.get(None, &url).await.0,
        StatusCode::NOT_FOUND,
        "S8 anonymous"
    );
    assert_eq!(
        app.get(Some(&other), &url).await.0,
        StatusCode::NOT_FOUND,
        "S8 no right"
    );
    for bad in [
        "/private/thumbnails/no_delimiter.jpg".to_owned(),
        "/private/thumbnails/nonexistent__100x100_q85.jpg".to_owned(),
        format!("/private/thumbnails/{key}__icon-999.png"),
        format!("/private/thumbnails/{key}__../../x"),
    ] {
        assert_eq!(
            app.get(Some(&app.admin_token), &bad).await.0,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[actix_web::test]
async fn s10_b3_conditional_requests_answer_304() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "hello.txt", HELLO, None, false)
        .await;
    let url = path_of(&file);
    let (_, headers, _) = app.get(Some(&app.admin_token), &url).await;
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let last_modified = headers["last-modified"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    let (status, h, body) = app
        .get_with(Some(&app.admin_token), &url, &[("If-None-Match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h["etag"].to_str().unwrap(), etag);
    let (status, _, _) = app
        .get_with(
            Some(&app.admin_token),
            &url,
            &[("If-Modified-Since", &last_modified)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let future = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(86400),
    );
    assert_eq!(
        app.get_with(
            Some(&app.admin_token),
            &url,
            &[("If-Modified-Since", &future)]
        )
        .await
        .0,
        StatusCode::NOT_MODIFIED
    );
    let past = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        app.get_with(Some(&app.admin_token), &url, &[("If-Modified-Since", past)])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get_with(
            Some(&app.admin_token),
            &url,
            &[("If-None-Match", "\"other\"")]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get_with(Some(&app.admin_token), &url, &[("If-Match", "\"other\"")])
            .await
            .0,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        app.get_with(Some(&app.admin_token), &url, &[("If-Match", &etag)])
            .await
            .0,
        StatusCode::OK
    );
    // Conditional requests never reveal anything to the anonymous.
    assert_eq!(
        app.get_with(None, &url, &[("If-None-Match", &etag)])
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn b1_b4_headers_and_a_file_missing_from_disk() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "testimage.jpg", &tiny_png(), None, false)
        .await;
    let url = path_of(&file);
    let (status, h, _) = app.get(Some(&app.admin_token), &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.contains_key("last-modified"));
    assert_eq!(h["cache-control"], "private, no-cache");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(!h.contains_key("content-encoding"));
    assert_eq!(
        h["content-type"], "image/png",
        "the sniffed type, not the name's"
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let key = url.trim_start_matches("/private/files/");
    app.remove_stored(coffer::storage::StorageRole::Private, key)
        .await;
    assert_eq!(
        app.get(Some(&app.admin_token), &url).await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn head_returns_headers_without_a_body_and_other_methods_get_405() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "hello.txt", HELLO, None, false)
        .await;
    let url = app.url(&path_of(&file));
    let res = app
        .client
        .head(&url)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-length"],
        HELLO.len().to_string().as_str()
    );
    assert!(res.bytes().await.unwrap().is_empty());
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let res = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
}

#[actix_web::test]
async fn ranges_single_multiple_suffix_if_range_and_416() {
    let app = spawn_app().await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = app
        .upload(&app.admin_token, "data.bin", &data, None, false)
        .await;
    let url = path_of(&file);
    let t = Some(app.admin_token.as_str());
    let (status, h, body) = app.get_with(t, &url, &[("Range", "bytes=100-199")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h["content-range"], "bytes 100-199/200000");
    assert_eq!(body, &data[100..200]);
    let (status, _, body) = app.get_with(t, &url, &[("Range", "bytes=-10")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &data[data.len() - 10..]);
    let (status, _, body) = app.get_with(t, &url, &[("Range", "bytes=150000-")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &data[150_000..]);
    // Two ranges: multipart/byteranges with both parts.
    let (status, h, body) = app
        .get_with(t, &url, &[("Range", "bytes=0-9,190000-190009")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let ct = h["content-type"].to_str().unwrap();
    let boundary = ct.strip_prefix("multipart/byteranges; boundary=").unwrap();
    assert_eq!(h["content-length"], body.len().to_string().as_str());
    let parts: Vec<&[u8]> = split(&body, format!("--{boundary}").as_bytes());
    assert_eq!(parts.len(), 4, "preamble, two parts, epilogue");
    assert!(String::from_utf8_lossy(parts[1]).contains("Content-Range: bytes 0-9/200000"));
    assert!(parts[1].ends_with(&[&data[0..10], b"\r\n"].concat()));
    assert!(parts[2].ends_with(&[&data[190_000..190_010], b"\r\n"].concat()));
    // Unsatisfiable and invalid ranges.
    let (status, h, _) = app.get_with(t, &url, &[("Range", "bytes=300000-")]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h["content-range"], "bytes */200000");
    assert_eq!(
        app.get_with(t, &url, &[("Range", "pages=1-2")]).await.0,
        StatusCode::OK
    );
    // If-Range: a stale validator gets the whole file, a current one the range.
    let (_, h, _) = app.get(t, &url).await;
    let etag = h["etag"].to_str().unwrap().to_owned();
    let (status, _, body) = app
        .get_with(
            t,
            &url,
            &[("Range", "bytes=0-0"), ("If-Range", "\"stale\"")],
        )
        .await;
    assert_eq!((status, body.len()), (StatusCode::OK, data.len()));
    let (status, _, body) = app
        .get_with(t, &url, &[("Range", "bytes=0-0"), ("If-Range", &etag)])
        .await;
    assert_eq!((status, body.len()), (StatusCode::PARTIAL_CONTENT, 1));
}

fn split<'a>(haystack: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if &haystack[i..i + needle.len()] == needle {
            out.push(&haystack[start..i]);
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&haystack[start..]);
    out
}

#[actix_web::test]
async fn large_files_stream_whole() {
    let app = spawn_app().await;
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let file = app
        .upload(&app.admin_token, "big.bin", &data, None, false)
        .await;
    let (status, h, body) = app.get(Some(&app.admin_token), &path_of(&file)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-length"], "3000000");
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(body == data);
}

#[actix_web::test]
async fn awkward_names_arrive_intact_in_content_disposition() {
    let app = spawn_app().await;
    for name in [
        "a b.pdf",
        "100%.txt",
        "%20literally.txt",
        "what?.txt",
        "#1.txt",
        "semi;colon.txt",
        "\"q\".txt",
        "back\\slash.txt",
        "été.pdf",
        "日本.pdf",
        "Rapport été (final).pdf",
    ] {
        let file = app.upload(&app.admin_token, name, b"x", None, false).await;
        let id = file["id"].as_i64().unwrap();
        for path in [path_of(&file), format!("/files/{id}/anything")] {
            let (status, h, body) = app.get(Some(&app.admin_token), &path).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert_eq!(body, b"x");
            let cd = h["content-disposition"].to_str().unwrap();
            let star = cd.split("filename*=UTF-8''").nth(1).unwrap();
            assert_eq!(
                percent_decode_str(star).decode_utf8().unwrap(),
                name,
                "{cd}"
            );
        }
    }
}

#[actix_web::test]
async fn active_content_is_never_inline() {
    let app = spawn_app().await;
    for (name, bytes) in [
        ("page.html", &b"<!DOCTYPE html><html><script>alert(1)</script></html>"[..]),
        ("logo.svg", &b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..]),
        ("blob.bin", &b"\x00\x01\x02"[..]),
    ] {
        for public in [false, true] {
            let file = app.upload(&app.admin_token, name, bytes, None, public).await;
            let (status, h, _) = app.get(Some(&app.admin_token), &path_of(&file)).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"), "{name} public={public}");
            assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
            assert_eq!(h["x-content-type-options"], "nosniff");
        }
    }
}

#[actix_web::test]
async fn stable_url_serves_public_and_private_files() {
    let app = spawn_app().await;
    let public = app
        .upload(&app.admin_token, "pub.txt", b"public bytes", None, true)
        .await;
    let id = public["id"].as_i64().unwrap();
    let (status, h, body) = app.get(None, &format!("/files/{id}/pub.txt")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"public bytes"[..])
    );
    assert!(h.get("location").is_none());
    let location = path_of(&public);
    assert!(location.starts_with("/media/public/"));
    let (status, _, body) = app.get(None, &location).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"public bytes"[..])
    );
    // A public file's key under the private prefix is not served there.
    let key = location.trim_start_matches("/media/public/");
    assert_eq!(
        app.get(Some(&app.admin_token), &format!("/private/files/{key}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(Some(&app.admin_token), "/files/999999/x").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(Some(&app.admin_token), "/files/abc/x").await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn session_cookie_identifies_the_user_too() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "hello.txt", HELLO, None, false)
        .await;
    crate::auth::log_in(&app, &app.client, "admin").await;
    let (status, _, body) = app.get(None, &path_of(&file)).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, HELLO));
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

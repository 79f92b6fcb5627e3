//! `Range` over HTTP, on every way Coffer sends bytes itself: a private file (by key and by
//! the stable URL), a private thumbnail and a public file (actix-files behind Coffer's own
//! parser). One matrix of headers × an empty, a 1-byte and a 10-byte file, with the exact
//! status, Content-Range, Content-Length and body, also under If-Range.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::{TestApp, path_of, spawn_app};

#[derive(Clone, Debug)]
enum Want {
    Full,
    Part(u64, u64),
    Unsat,
    Multi(Vec<(u64, u64)>),
}
use Want::{Full, Multi, Part, Unsat};

fn body_of(n: u64) -> &'static [u8] {
    match n {
        0 => b"",
        1 => b"x",
        10 => b"0123456789",
        _ => unreachable!(),
    }
}

/// The matrix, written out for each size (no formula shared with the server).
fn matrix(n: u64) -> Vec<(String, Want)> {
    let by = |zero: Want, one: Want, ten: Want| match n {
        0 => zero,
        1 => one,
        10 => ten,
        _ => unreachable!(),
    };
    let mut m = vec![
        ("bytes=-0".to_owned(), Unsat),
        ("bytes=-1".into(), by(Unsat, Part(0, 0), Part(9, 9))),
        ("bytes=-5".into(), by(Unsat, Part(0, 0), Part(5, 9))),
        ("bytes=0-".into(), by(Unsat, Part(0, 0), Part(0, 9))),
        ("bytes=0-0".into(), by(Unsat, Part(0, 0), Part(0, 0))),
        (format!("bytes={n}-"), Unsat),
        ("bytes=5-2".into(), Full),
        (
            "bytes=0-18446744073709551615".into(),
            by(Unsat, Part(0, 0), Part(0, 9)),
        ),
        ("bytes=18446744073709551615-".into(), Unsat),
        ("bytes=18446744073709551616-".into(), Unsat),
        (
            "bytes=-18446744073709551616".into(),
            by(Unsat, Part(0, 0), Part(0, 9)),
        ),
        ("BYTES=-1".into(), by(Unsat, Part(0, 0), Part(9, 9))),
        // Several ranges: disjoint, overlapping (coalesced), partly and all unsatisfiable.
        (
            "bytes=0-1,5-6".into(),
            by(Unsat, Part(0, 0), Multi(vec![(0, 1), (5, 6)])),
        ),
        (
            "bytes=5-6, 0-1".into(),
            by(Unsat, Part(0, 0), Multi(vec![(5, 6), (0, 1)])),
        ),
        ("bytes=0-5,3-8".into(), by(Unsat, Part(0, 0), Part(0, 8))),
        ("bytes=8-,-3".into(), by(Unsat, Part(0, 0), Part(7, 9))),
        (
            "bytes=0-0,0-0,0-0".into(),
            by(Unsat, Part(0, 0), Part(0, 0)),
        ),
        (
            "bytes=0-0,50-60,9-".into(),
            by(Unsat, Part(0, 0), Multi(vec![(0, 0), (9, 9)])),
        ),
        ("bytes=20-30,40-,-0".into(), Unsat),
        // Garbage: the whole file.
        ("bytes=abc".into(), Full),
        ("bytes=".into(), Full),
        ("bytes=-".into(), Full),
        ("bytes=1-2-3".into(), Full),
        ("bytes=0-1,abc".into(), Full),
        ("bytes=-1-".into(), Full),
        ("bytes=+1-2".into(), Full),
        ("bytes=0x1-2".into(), Full),
        ("items=0-1".into(), Full),
        ("bytes 0-1".into(), Full),
        ("bytes=--5".into(), Full),
    ];
    if n > 0 {
        m.push((
            format!("bytes={}-", n - 1),
            by(Unsat, Part(0, 0), Part(9, 9)),
        ));
    }
    // Twenty ranges, of which a 10-byte file satisfies four.
    let many: Vec<String> = (0..20).map(|i| format!("{}-{}", i * 3, i * 3)).collect();
    m.push((
        format!("bytes={}", many.join(",")),
        by(
            Unsat,
            Part(0, 0),
            Multi(vec![(0, 0), (3, 3), (6, 6), (9, 9)]),
        ),
    ));
    // More ranges than anyone needs: the whole file, whatever they ask.
    m.push((format!("bytes={}", vec!["0-0"; 70].join(",")), Full));
    m
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

/// Asserts one answer against `want` for a file of `n` bytes whose plain answer had
/// `content_type`. `multipart`: whether several ranges are answered as such (public files
/// get the whole file instead).
fn assert_answer(
    what: &str,
    n: u64,
    want: &Want,
    multipart: bool,
    content_type: &str,
    (status, h, body): (StatusCode, HeaderMap, Vec<u8>),
) {
    let full = body_of(n);
    let want = match want {
        Multi(_) if !multipart => &Full,
        w => w,
    };
    let length: u64 = header(&h, "content-length")
        .unwrap_or_else(|| panic!("{what}: no Content-Length"))
        .parse()
        .unwrap();
    assert_eq!(length, body.len() as u64, "{what}: Content-Length");
    match want {
        Full => {
            assert_eq!(status, StatusCode::OK, "{what}");
            assert_eq!(header(&h, "content-range"), None, "{what}");
            assert_eq!(body, full, "{what}");
        }
        Part(a, b) => {
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{what}");
            assert_eq!(
                header(&h, "content-range"),
                Some(format!("bytes {a}-{b}/{n}").as_str()),
                "{what}"
            );
            assert_eq!(body, &full[*a as usize..=*b as usize], "{what}");
        }
        Unsat => {
            assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{what}");
            assert_eq!(
                header(&h, "content-range"),
                Some(format!("bytes */{n}").as_str()),
                "{what}"
            );
            assert!(body.is_empty(), "{what}");
        }
        Multi(parts) => {
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{what}");
            assert_eq!(header(&h, "content-range"), None, "{what}");
            let ct = header(&h, "content-type").unwrap();
            let boundary = ct
                .strip_prefix("multipart/byteranges; boundary=")
                .unwrap_or_else(|| panic!("{what}: {ct}"));
            let mut expected = Vec::new();
            for (a, b) in parts {
                expected.extend_from_slice(
                    format!(
                        "\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {a}-{b}/{n}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                expected.extend_from_slice(&full[*a as usize..=*b as usize]);
            }
            expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&expected),
                "{what}"
            );
        }
    }
}

/// Runs the matrix on `url`, plain and under If-Range (matching ETag, matching date,
/// another ETag, a weak ETag).
async fn run_matrix(app: &TestApp, token: Option<&str>, url: &str, n: u64, multipart: bool) {
    let (status, h, body) = app.get(token, url).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert_eq!(body, body_of(n), "{url}");
    let content_type = header(&h, "content-type").unwrap().to_owned();
    let etag = header(&h, "etag").unwrap().to_owned();
    let modified = header(&h, "last-modified").unwrap().to_owned();
    let weak = format!("W/{etag}");
    for (range, want) in matrix(n) {
        let what = format!("{url} ({n} bytes) Range: {range}");
        let answer = app.get_with(token, url, &[("range", &range)]).await;
        assert_answer(&what, n, &want, multipart, &content_type, answer);
        for validator in [&etag, &modified] {
            let answer = app
                .get_with(token, url, &[("range", &range), ("if-range", validator)])
                .await;
            let what = format!("{what} If-Range: {validator}");
            assert_answer(&what, n, &want, multipart, &content_type, answer);
        }
        for stale in ["\"not-the-tag\"", weak.as_str()] {
            let answer = app
                .get_with(token, url, &[("range", &range), ("if-range", stale)])
                .await;
            let what = format!("{what} If-Range: {stale}");
            assert_answer(&what, n, &Full, multipart, &content_type, answer);
        }
    }
}

#[actix_web::test]
async fn private_files_answer_the_range_matrix_exactly() {
    let app = spawn_app().await;
    for n in [0u64, 1, 10] {
        let file = app
            .upload(&app.admin_token, "data.txt", body_of(n), None, false)
            .await;
        let url = path_of(&file);
        assert!(url.starts_with("/private/files/"), "{url}");
        run_matrix(&app, Some(&app.admin_token), &url, n, true).await;
        let stable = format!("/files/{}/data.txt", file["id"]);
        run_matrix(&app, Some(&app.admin_token), &stable, n, true).await;
    }
}

#[actix_web::test]
async fn private_thumbnails_answer_the_range_matrix_exactly() {
    let app = spawn_app().await;
    for n in [0u64, 1, 10] {
        let file = app
            .upload(&app.admin_token, "photo.txt", b"source", None, false)
            .await;
        let id = file["id"].as_i64().unwrap();
        let key = path_of(&file)
            .trim_start_matches("/private/files/")
            .to_owned();
        let thumb_key = format!("{key}__icon-40.png");
        let (storages, tk) = (app.state.library.storages.clone(), thumb_key.clone());
        app.db(move |conn| {
            storages
                .private_thumbnails
                .put_bytes(
                    &coffer::storage::StorageKey::parse(&tk).unwrap(),
                    body_of(n),
                )
                .unwrap();
            coffer::db::models::thumbnail::insert(conn, id, "icon-40", &tk, "image/png", 10)
                .unwrap();
        })
        .await;
        let url = format!("/private/thumbnails/{thumb_key}");
        run_matrix(&app, Some(&app.admin_token), &url, n, true).await;
    }
}

#[actix_web::test]
async fn public_files_served_by_coffer_answer_the_range_matrix_exactly() {
    let app = spawn_app().await;
    for n in [0u64, 1, 10] {
        let file = app
            .upload(&app.admin_token, "open.txt", body_of(n), None, true)
            .await;
        let url = path_of(&file);
        assert!(url.starts_with("/media/public/"), "{url}");
        // Files on a disk go through actix-files, which answers several ranges with the
        // whole file; objects through Coffer's own ranges, as private files do.
        let multipart = crate::helpers::storage_mode::on_s3();
        run_matrix(&app, None, &url, n, multipart).await;
    }
}

//! Property test of the download path's Range handling, over HTTP: for generated `Range`
//! headers (valid, overlapping, suffix, open, reversed, huge numbers near and past
//! `u64::MAX`, garbage) on private files of 0, 1 and 37 bytes, the answer is 200 with the
//! whole file, 206 with ranges inside `0..len` and exactly their bytes, or 416 with
//! `bytes */len`; never anything else.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;

use crate::helpers::{path_of, spawn_app};

/// Positions that matter: small ones, ones around the lengths, and ones near and past
/// `u64::MAX` (written as text, so a value past it is still a number).
fn position() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..40).prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        Just((u64::MAX - 1).to_string()),
        Just("18446744073709551616".to_owned()),
        Just("99999999999999999999999".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
        "0{1,3}[0-9]{1,2}",
    ]
}

fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        (position(), position()).prop_map(|(a, b)| format!("{a}-{b}")),
        position().prop_map(|a| format!("{a}-")),
        position().prop_map(|b| format!("-{b}")),
        "[0-9a-z ,=-]{0,8}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(spec(), 1..5).prop_map(|s| format!("bytes={}", s.join(","))),
        1 => prop::collection::vec(spec(), 17..20).prop_map(|s| format!("bytes={}", s.join(","))),
        1 => "[ -~]{0,30}",
        1 => spec().prop_map(|s| format!("items={s}")),
    ]
}

/// `first-last/len` of a `Content-Range: bytes …` value, checked against `len`.
fn satisfiable(value: &str, len: u64) -> (u64, u64) {
    let rest = value.strip_prefix("bytes ").unwrap();
    let (range, total) = rest.split_once('/').unwrap();
    assert_eq!(total.parse::<u64>().unwrap(), len, "{value}");
    let (a, b) = range.split_once('-').unwrap();
    let (a, b) = (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap());
    assert!(a <= b && b < len, "{value} outside 0..{len}");
    (a, b)
}

fn slice(content: &[u8], (a, b): (u64, u64)) -> &[u8] {
    &content[usize::try_from(a).unwrap()..=usize::try_from(b).unwrap()]
}

#[actix_web::test]
async fn range_answers_stay_inside_the_file() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    let content: Vec<u8> = (0..37u8).map(|i| b'a' + i % 26).collect();
    let mut files = Vec::new();
    for len in [0usize, 1, 37] {
        let bytes = &content[..len];
        let f = app.upload(&t, "r.bin", bytes, None, false).await;
        files.push((path_of(&f), bytes.to_vec()));
    }
    let mut runner = TestRunner::new(Config {
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        ..Config::default()
    });
    let headers = header();
    for _ in 0..150 {
        let range = headers.new_tree(&mut runner).unwrap().current();
        for (url, bytes) in &files {
            let len = bytes.len() as u64;
            let (status, h, body) = app.get_with(Some(&t), url, &[("Range", &range)]).await;
            let what = format!("Range: {range:?} on {len} bytes");
            match status {
                StatusCode::OK => assert_eq!(&body, bytes, "{what}"),
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    assert_eq!(
                        h["content-range"],
                        format!("bytes */{len}").as_str(),
                        "{what}"
                    );
                }
                StatusCode::PARTIAL_CONTENT => {
                    let ctype = h["content-type"].to_str().unwrap();
                    if let Some(boundary) = ctype.strip_prefix("multipart/byteranges; boundary=") {
                        let text = String::from_utf8_lossy(&body).into_owned();
                        let mut parts = 0;
                        for part in text.split(&format!("--{boundary}")).skip(1) {
                            if part.starts_with("--") {
                                break;
                            }
                            let (head, data) = part.split_once("\r\n\r\n").unwrap();
                            let value = head
                                .lines()
                                .find_map(|l| l.strip_prefix("Content-Range: "))
                                .unwrap();
                            let r = satisfiable(value, len);
                            let data = data.strip_suffix("\r\n").unwrap();
                            assert_eq!(data.as_bytes(), slice(bytes, r), "{what}");
                            parts += 1;
                        }
                        assert!((2..=16).contains(&parts), "{what}: {parts} parts");
                    } else {
                        let r = satisfiable(h["content-range"].to_str().unwrap(), len);
                        assert_eq!(body, slice(bytes, r), "{what}");
                        assert_eq!(h["content-length"], (r.1 - r.0 + 1).to_string().as_str());
                    }
                }
                other => panic!("{what}: {other}"),
            }
        }
    }
}

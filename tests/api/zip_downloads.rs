//! ZIP downloads, unpacked by Python's `zipfile`, `bsdtar` and `unzip`: the folder structure
//! kept, only what the downloader may read, names safe on Windows and macOS (UTF-8 flag set,
//! reserved names and characters replaced, duplicates suffixed), limits refused up front.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// What Python's `zipfile` finds in `bytes`: `[name, content, utf8 flag]` per entry, after
/// `testzip()` checked every CRC.
fn unpack(bytes: &[u8]) -> Vec<(String, String, bool)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, z.read(i).decode(), bool(i.flag_bits & 0x800)] for i in z.infolist()]))
"#;
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<(String, String, bool)> = serde_json::from_slice(&out.stdout).unwrap();
    for (tool, args) in [("bsdtar", vec!["-tf"]), ("unzip", vec!["-t", "-q"])] {
        let out = Command::new(tool)
            .args(&args)
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("{tool} is needed (Debian: libarchive-tools, unzip): {e}"));
        assert!(
            out.status.success(),
            "{tool}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    v
}

async fn zip_of(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, Vec<u8>) {
    let (status, headers, body) = app.get(token, path).await;
    if status == StatusCode::OK {
        assert_eq!(headers["content-type"], "application/zip");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
    }
    (status, body)
}

#[actix_web::test]
async fn a_folder_zip_keeps_the_tree_holds_only_what_may_be_read_and_names_travel() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (rita, rita_token) = app.user("rita").await;
    let root = app.folder(&admin, "Project", None).await;
    let sub = app.folder(&admin, "Drafts", Some(root)).await;
    let hidden = app.folder(&admin, "Secret", Some(root)).await;
    app.rule(json!({"folder_id": root, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    app.rule(json!({"folder_id": hidden, "type": "children", "user_id": rita, "can_read": "deny", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    for (name, body, folder) in [
        ("plan.txt", "plan", root),
        ("CON.txt", "reserved", root),
        ("a:b?.txt", "colons", root),
        ("été.txt", "accents", sub),
        ("Notes.txt", "upper", sub),
        ("secret.txt", "no", hidden),
    ] {
        app.upload(&admin, name, body.as_bytes(), Some(folder), false)
            .await;
    }
    // A second "notes.txt" that only differs by case.
    let (status, _) = app
        .try_upload(&admin, "notes.txt", b"lower", Some(sub), false)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, bytes) = zip_of(&app, Some(&rita_token), &format!("/folders/{root}/zip")).await;
    assert_eq!(status, StatusCode::OK);
    let mut got = unpack(&bytes);
    got.sort();
    let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Project/Drafts/Notes.txt",
            "Project/Drafts/notes (2).txt",
            "Project/Drafts/été.txt",
            "Project/_CON.txt",
            "Project/a_b_.txt",
            "Project/plan.txt",
        ]
    );
    let accents = got.iter().find(|(n, _, _)| n.ends_with("été.txt")).unwrap();
    assert_eq!((accents.1.as_str(), accents.2), ("accents", true));
    assert!(got.iter().all(|(_, body, _)| body != "no"));
    // A folder the caller may not read, or no session: nothing.
    assert_eq!(
        app.get(Some(&rita_token), &format!("/folders/{hidden}/zip"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, headers, _) = app.get(None, &format!("/folders/{root}/zip")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"].to_str().unwrap().starts_with("/login"));
}

#[actix_web::test]
async fn limits_are_refused_up_front_and_a_selection_zips_from_the_admin() {
    let app = spawn_app_with(|c| c.zip.max_files = 2).await;
    let admin = app.admin_token.clone();
    let f = app.folder(&admin, "Three", None).await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let up = app
            .upload(
                &admin,
                &format!("{n}.txt"),
                n.to_string().as_bytes(),
                Some(f),
                false,
            )
            .await;
        ids.push(up["id"].as_i64().unwrap());
    }
    let (status, _, body) = app.get(Some(&admin), &format!("/folders/{f}/zip")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("3 file(s)") && body.contains("at most 2 files"),
        "{body}"
    );
    let path = format!("/admin/zip?item=file-{}&item=file-{}", ids[0], ids[2]);
    let (status, bytes) = zip_of(&app, Some(&admin), &path).await;
    assert_eq!(status, StatusCode::OK);
    let got = unpack(&bytes);
    assert_eq!(
        got.iter()
            .map(|(n, b, _)| (n.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
        [("1.txt", "1"), ("3.txt", "3")]
    );
    // An item the caller may not read: nothing.
    let (_, sam) = app.user("sam").await;
    assert_eq!(app.get(Some(&sam), &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(Some(&admin), "/admin/zip?item=bogus").await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_folder_link_zips_its_tree_and_counts_once() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let photos = app.folder(&admin, "Photos", None).await;
    let day = app.folder(&admin, "Day 1", Some(photos)).await;
    app.upload(&admin, "a.txt", b"a", Some(photos), false).await;
    app.upload(&admin, "b.txt", b"b", Some(day), true).await;
    let (status, made) = app
        .request(
            Method::POST,
            Some(&admin),
            "/api/v1/shares",
            Some(json!({"folder_id": photos, "max_downloads": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let url = made["url"].as_str().unwrap().to_owned();
    let (status, bytes) = zip_of(&app, None, &format!("{url}/zip")).await;
    assert_eq!(status, StatusCode::OK);
    let mut names: Vec<String> = unpack(&bytes).into_iter().map(|(n, _, _)| n).collect();
    names.sort();
    assert_eq!(names, ["Photos/Day 1/b.txt", "Photos/a.txt"]);
    let id = made["id"].as_i64().unwrap();
    let mut used = Value::Null;
    for _ in 0..40 {
        used = app
            .request(
                Method::GET,
                Some(&admin),
                &format!("/api/v1/shares/{id}"),
                None,
            )
            .await
            .1["downloads"]
            .clone();
        if used == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(used, 1);
    assert_eq!(
        app.get(None, &format!("{url}/zip")).await.0,
        StatusCode::NOT_FOUND
    );
}

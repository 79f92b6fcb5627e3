//! Toggling "Permissions disabled": the file and every thumbnail move between storages;
//! the old URL stops serving at once; concurrent downloads never see an error or a wrong
//! body; the same works across filesystems (streamed copy).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, path_of, spawn_app, spawn_with_config, test_config, test_database};

async fn set_public(app: &TestApp, id: i64, public: bool) -> Value {
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(json!({"is_public": public})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Records two thumbnails for a file, as the thumbnail generator would.
async fn add_thumbnails(app: &TestApp, file: &Value) -> Vec<String> {
    let id = file["id"].as_i64().unwrap();
    let public = file["is_public"].as_bool().unwrap();
    let base = if public {
        "/media/public/"
    } else {
        "/private/files/"
    };
    let key = path_of(file).trim_start_matches(base).to_owned();
    let storages = app.state.library.storages.clone();
    app.db(move |conn| {
        let mut keys = Vec::new();
        for spec in ["icon-40", "preview-210"] {
            let k = format!("{key}__{spec}.png");
            storages
                .thumbnails(public)
                .put_bytes(
                    &coffer::storage::StorageKey::parse(&k).unwrap(),
                    format!("thumb {spec}").as_bytes(),
                )
                .unwrap();
            coffer::db::models::thumbnail::insert(conn, id, spec, &k, "image/png", 10).unwrap();
            keys.push(k);
        }
        keys
    })
    .await
}

async fn toggles_move_file_and_thumbnails(app: TestApp) {
    use coffer::storage::StorageRole::{Private, PrivateThumbnails, Public, PublicThumbnails};
    let folder = app.folder(&app.admin_token, "photos", None).await;
    let file = app
        .upload(
            &app.admin_token,
            "pic.txt",
            b"the bytes",
            Some(folder),
            true,
        )
        .await;
    let id = file["id"].as_i64().unwrap();
    let thumbs = add_thumbnails(&app, &file).await;
    let public_url = path_of(&file);
    assert_eq!(app.get(None, &public_url).await.0, StatusCode::OK);
    assert_eq!(
        app.get(None, &format!("/media/thumbnails/{}", thumbs[0]))
            .await
            .0,
        StatusCode::OK
    );

    let private = set_public(&app, id, false).await;
    assert_eq!(
        app.get(None, &public_url).await.0,
        StatusCode::NOT_FOUND,
        "old public URL is dead at once"
    );
    assert_eq!(
        app.get(None, &format!("/media/thumbnails/{}", thumbs[0]))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.stored_keys(Public).await.is_empty()
            && app.stored_keys(PublicThumbnails).await.is_empty()
    );
    let private_url = path_of(&private);
    assert!(private_url.starts_with("/private/files/"));
    let (status, _, body) = app.get(Some(&app.admin_token), &private_url).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"the bytes"[..])
    );
    assert_eq!(app.get(None, &private_url).await.0, StatusCode::NOT_FOUND);
    let rows = app
        .db(move |c| coffer::db::models::thumbnail::for_file(c, id).unwrap())
        .await;
    assert_eq!(rows.len(), 2);
    let key = private_url.trim_start_matches("/private/files/");
    for t in &rows {
        assert!(
            t.storage_key.starts_with(&format!("{key}__")),
            "{}",
            t.storage_key
        );
        let (status, h, body) = app
            .get(
                Some(&app.admin_token),
                &format!("/private/thumbnails/{}", t.storage_key),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(body, format!("thumb {}", t.spec).as_bytes());
    }
    assert_eq!(app.stored_keys(PrivateThumbnails).await.len(), 2);
    // The stable URL follows the file.
    let (status, _, body) = app
        .get(Some(&app.admin_token), &format!("/files/{id}/pic.txt"))
        .await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"the bytes"[..])
    );

    let public_again = set_public(&app, id, true).await;
    assert_eq!(
        app.get(Some(&app.admin_token), &private_url).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.stored_keys(Private).await.is_empty()
            && app.stored_keys(PrivateThumbnails).await.is_empty()
    );
    let (status, _, body) = app.get(None, &path_of(&public_again)).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"the bytes"[..])
    );
    // The stable URL sends public bytes itself (a redirect could race the next toggle).
    let (status, _, body) = app.get(None, &format!("/files/{id}/pic.txt")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"the bytes"[..])
    );
    assert_eq!(app.stored_keys(PublicThumbnails).await.len(), 2);
    let storages = app.state.library.storages.clone();
    let findings = app
        .db(move |c| coffer::library::check::check(&storages, c).unwrap())
        .await;
    assert!(findings.is_empty(), "{findings:?}");
}

#[actix_web::test]
async fn toggling_moves_the_file_and_its_thumbnails_both_ways() {
    toggles_move_file_and_thumbnails(spawn_app().await).await;
}

#[actix_web::test]
async fn toggling_across_filesystems_streams_and_verifies_the_copy() {
    // /dev/shm is a tmpfs: a different filesystem from the temporary directory.
    let shm =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm is needed for the cross-filesystem test");
    let dir = tempfile::tempdir().unwrap();
    let pg = test_database();
    let mut cfg = test_config(dir.path(), pg.as_ref().map(|p| p.url.clone()));
    cfg.storage.private.dir = Some(shm.path().join("private"));
    cfg.storage.private_thumbnails.dir = Some(shm.path().join("private-thumbnails"));
    let app = spawn_with_config(cfg, dir, pg).await;
    toggles_move_file_and_thumbnails(app).await;
}

#[actix_web::test]
async fn toggling_to_the_current_state_changes_nothing() {
    let app = spawn_app().await;
    let file = app
        .upload(&app.admin_token, "a.txt", b"a", None, false)
        .await;
    let again = set_public(&app, file["id"].as_i64().unwrap(), false).await;
    assert_eq!(path_of(&again), path_of(&file));
}

#[actix_web::test]
async fn concurrent_downloads_during_toggles_never_fail() {
    let app = Arc::new(spawn_app().await);
    let (u, reader) = app.user("reader").await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let folder = app.folder(&app.admin_token, "f", None).await;
    app.rule(json!({"folder_id": folder, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let file = app
        .upload(&app.admin_token, "data.bin", &body, Some(folder), false)
        .await;
    let id = file["id"].as_i64().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (app, stop, body, reader) = (
            Arc::clone(&app),
            Arc::clone(&stop),
            body.clone(),
            reader.clone(),
        );
        readers.push(actix_web::rt::spawn(async move {
            let client = crate::helpers::client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = client
                    .get(app.url(&format!("/files/{id}/data.bin")))
                    .bearer_auth(&reader)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let got = res.bytes().await.unwrap();
                // Private or public at that moment: the bytes, whole and right.
                assert_eq!(status, StatusCode::OK, "download #{n}");
                assert!(
                    got.as_ref() == body.as_slice(),
                    "download #{n}: wrong body ({} bytes)",
                    got.len()
                );
                n += 1;
            }
            n
        }));
    }
    for i in 0..20 {
        set_public(&app, id, i % 2 == 0).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for r in readers {
        total += r.await.unwrap();
    }
    assert!(total > 0);
}

#[actix_web::test]
async fn bulk_toggle_checks_everything_first_then_moves_each_file() {
    let app = spawn_app().await;
    let (u, t) = app.user("editor").await;
    let top = app.folder(&app.admin_token, "top", None).await;
    let sub = app.folder(&app.admin_token, "sub", Some(top)).await;
    let closed = app.folder(&app.admin_token, "closed", None).await;
    app.rule(json!({"folder_id": top, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": closed, "type": "this", "user_id": u, "can_read": "allow", "can_edit": "deny", "can_add_children": "deny"})).await;
    let a = app
        .upload(&app.admin_token, "a.txt", b"a", Some(top), false)
        .await;
    let b = app
        .upload(&app.admin_token, "b.txt", b"b", Some(sub), false)
        .await;
    let c = app
        .upload(&app.admin_token, "c.txt", b"c", Some(closed), false)
        .await;
    let ids = |v: &[&Value]| {
        v.iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let editor = app
        .db(move |conn| coffer::db::models::user::find(conn, u).unwrap().unwrap())
        .await;
    let state = app.state.clone();
    // The selection includes a file the user may not edit: nothing moves.
    let (ed, st, sel) = (editor.clone(), state.clone(), ids(&[&c]));
    let refused = app
        .db(move |conn| {
            coffer::library::relocate::set_public_many(&st.library, conn, &ed, &sel, &[top], true)
                .map(|r| r.done)
        })
        .await;
    assert!(refused.is_err());
    let (status, _) = app
        .request(
            Method::GET,
            Some(&t),
            &format!("/api/v1/files/{}", a["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let still_private = app
        .db(move |c| coffer::db::models::file::all_keys(c).unwrap())
        .await;
    assert!(still_private.iter().all(|(_, public, _)| !public));
    // The folder (recursively) alone: both files move.
    let report = app
        .db(move |conn| {
            coffer::library::relocate::set_public_many(
                &state.library,
                conn,
                &editor,
                &[],
                &[top],
                true,
            )
            .unwrap()
        })
        .await;
    let mut done = report.done.clone();
    done.sort();
    assert_eq!(done, ids(&[&a, &b]));
    assert!(report.refused.is_empty());
    for f in [&a, &b] {
        let (_, got) = app
            .request(
                Method::GET,
                Some(&t),
                &format!("/api/v1/files/{}", f["id"]),
                None,
            )
            .await;
        assert_eq!(got["is_public"], true);
        assert_eq!(app.get(None, &path_of(&got)).await.0, StatusCode::OK);
    }
}

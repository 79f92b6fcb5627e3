//! What must hold with two instances behind one balancer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Cluster, PASSWORD};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A JSON request to `url` with `token`.
async fn call(url: &str, token: &str, method: Method, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = client().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn upload(
    url: &str,
    token: &str,
    name: &str,
    bytes: &[u8],
    folder: Option<i64>,
    public: bool,
) -> reqwest::Result<(StatusCode, Value)> {
    let mut form = reqwest::multipart::Form::new().text("is_public", public.to_string());
    if let Some(f) = folder {
        form = form.text("folder_id", f.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    );
    let res = client()
        .post(format!("{url}/api/v1/files"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?;
    let status = res.status();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn get(url: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = client().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

/// A user and their token, made through instance `base`.
async fn user(c: &Cluster, base: &str, name: &str) -> (i64, String) {
    let (status, made) = call(
        &format!("{base}/api/v1/users"),
        &c.admin,
        Method::POST,
        Some(json!({"username": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let res = client()
        .post(format!("{base}/api/v1/tokens"))
        .json(&json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let token: Value = res.json().await.unwrap();
    (
        made["id"].as_i64().unwrap(),
        token["token"].as_str().unwrap().to_owned(),
    )
}

/// A folder readable by `reader`, made through `base`; returns (folder, rule).
async fn shared_folder(c: &Cluster, base: &str, reader: i64) -> (i64, i64) {
    let (_, folder) = call(
        &format!("{base}/api/v1/folders"),
        &c.admin,
        Method::POST,
        Some(json!({"name": "shared"})),
    )
    .await;
    let folder = folder["id"].as_i64().unwrap();
    let (_, rule) = call(
        &format!("{base}/api/v1/folder-permissions"),
        &c.admin,
        Method::POST,
        Some(json!({"folder_id": folder, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})),
    )
    .await;
    (folder, rule["id"].as_i64().unwrap())
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[actix_web::test]
async fn uploaded_through_a_read_through_b_and_the_balancer() {
    let c = Cluster::start();
    let (a, b) = (c.a.url(""), c.b.url(""));
    let (reader, reader_token) = user(&c, &a, "reader").await;
    let (_, stranger_token) = user(&c, &b, "stranger").await;
    let (folder, _) = shared_folder(&c, &a, reader).await;
    let private = pattern(300_000, 1);
    let public = pattern(50_000, 2);
    let (status, p) = upload(&a, &c.admin, "private.bin", &private, Some(folder), false)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, q) = upload(&b, &c.admin, "public.bin", &public, Some(folder), true)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{q}");
    let private_url = p["url"].as_str().unwrap();
    let stable = format!("/files/{}/private.bin", p["id"]);
    for path in [private_url, stable.as_str()] {
        assert_eq!(
            get(&c.b.url(path), Some(&reader_token)).await,
            (StatusCode::OK, private.clone())
        );
        // Through the balancer: several times, so both instances answer.
        for _ in 0..4 {
            assert_eq!(
                get(&c.site(path), Some(&reader_token)).await,
                (StatusCode::OK, private.clone())
            );
            assert_eq!(
                get(&c.site(path), Some(&stranger_token)).await.0,
                StatusCode::NOT_FOUND
            );
            assert_eq!(get(&c.site(path), None).await.0, StatusCode::NOT_FOUND);
        }
    }
    // The public file: served by nginx from the shared storage, and through both instances.
    let public_url = q["url"].as_str().unwrap();
    assert_eq!(
        get(&c.site(public_url), None).await,
        (StatusCode::OK, public.clone())
    );
    let stable = format!("/files/{}/public.bin", q["id"]);
    assert_eq!(
        get(&c.a.url(&stable), None).await,
        (StatusCode::OK, public.clone())
    );
    assert_eq!(get(&c.b.url(&stable), None).await, (StatusCode::OK, public));
}

#[actix_web::test]
async fn a_rule_changed_through_a_holds_on_b_at_once_and_a_deactivated_user_is_refused_by_both() {
    let c = Cluster::start();
    let (a, b) = (c.a.url(""), c.b.url(""));
    let (reader, token) = user(&c, &a, "reader").await;
    let (folder, rule) = shared_folder(&c, &a, reader).await;
    let bytes = pattern(4096, 3);
    let (_, f) = upload(&a, &c.admin, "report.bin", &bytes, Some(folder), false)
        .await
        .unwrap();
    let path = f["url"].as_str().unwrap().to_owned();
    // B has read (and cached) the permission snapshot before the change.
    assert_eq!(get(&c.b.url(&path), Some(&token)).await.0, StatusCode::OK);
    let (status, _) = call(
        &format!("{a}/api/v1/folder-permissions/{rule}"),
        &c.admin,
        Method::DELETE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&c.b.url(&path), Some(&token)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&c.a.url(&path), Some(&token)).await.0,
        StatusCode::NOT_FOUND
    );
    // A group membership given through B is honoured by A on its next request.
    let (_, group) = call(
        &format!("{b}/api/v1/groups"),
        &c.admin,
        Method::POST,
        Some(json!({"name": "readers"})),
    )
    .await;
    let group = group["id"].as_i64().unwrap();
    call(
        &format!("{b}/api/v1/folder-permissions"),
        &c.admin,
        Method::POST,
        Some(json!({"folder_id": folder, "type": "children", "group_id": group, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})),
    )
    .await;
    assert_eq!(
        get(&c.a.url(&path), Some(&token)).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = call(
        &format!("{b}/api/v1/groups/{group}/members"),
        &c.admin,
        Method::PUT,
        Some(json!({"user_ids": [reader]})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(get(&c.a.url(&path), Some(&token)).await.0, StatusCode::OK);
    // Deactivated (by another process, as an administrator's tool would): refused by both
    // at once.
    let url = c.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = coffer::db::establish(&coffer::db::Backend::Postgres(url)).unwrap();
        diesel::sql_query("UPDATE users SET is_active = false WHERE username = 'reader'")
            .execute(&mut conn)
            .unwrap();
    })
    .await
    .unwrap();
    for base in [&a, &b] {
        let (status, _) = call(
            &format!("{base}/api/v1/users/me"),
            &token,
            Method::GET,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{base}");
        assert_eq!(
            get(&format!("{base}{path}"), Some(&token)).await.0,
            StatusCode::NOT_FOUND
        );
    }
}

#[actix_web::test]
async fn toggling_through_a_never_fails_a_reader_through_the_balancer() {
    let c = Arc::new(Cluster::start());
    let a = c.a.url("");
    let (reader, reader_token) = user(&c, &a, "reader").await;
    let (_, stranger_token) = user(&c, &a, "stranger").await;
    let (folder, _) = shared_folder(&c, &a, reader).await;
    let bytes = pattern(64 * 1024, 4);
    let (_, f) = upload(&a, &c.admin, "moving.bin", &bytes, Some(folder), false)
        .await
        .unwrap();
    let id = f["id"].as_i64().unwrap();
    let (_, kept) = upload(
        &a,
        &c.admin,
        "kept.bin",
        b"stays private",
        Some(folder),
        false,
    )
    .await
    .unwrap();
    let stable = format!("/files/{id}/moving.bin");
    let kept = format!("/files/{}/kept.bin", kept["id"]);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (token, reader) in [
        (reader_token.clone(), true),
        (reader_token, true),
        (stranger_token, false),
    ] {
        let (c, stop, served, stable, kept, bytes) = (
            Arc::clone(&c),
            Arc::clone(&stop),
            Arc::clone(&served),
            stable.clone(),
            kept.clone(),
            bytes.clone(),
        );
        tasks.push(actix_web::rt::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = get(&c.site(&stable), Some(&token)).await;
                match (reader, status) {
                    (_, StatusCode::OK) => assert!(body == bytes, "a wrong body"),
                    (false, StatusCode::NOT_FOUND) => {}
                    (_, other) => panic!("reader {reader}: {other}"),
                }
                if !reader {
                    assert_eq!(
                        get(&c.site(&kept), Some(&token)).await.0,
                        StatusCode::NOT_FOUND
                    );
                }
                served.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut toggles = 0;
    while toggles < 20 || served.load(Ordering::Relaxed) < 300 {
        let (status, body) = call(
            &format!("{a}/api/v1/files/{id}"),
            &c.admin,
            Method::PATCH,
            Some(json!({"is_public": toggles % 2 == 0})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        toggles += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let out = c.run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[actix_web::test]
async fn both_instances_asked_at_once_make_the_same_thumbnails() {
    let c = Cluster::start();
    let a = c.a.url("");
    let mut jpeg = Vec::new();
    let img = image::RgbImage::from_fn(320, 200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let (_, f) = upload(&a, &c.admin, "photo.jpg", &jpeg, None, false)
        .await
        .unwrap();
    let id = f["id"].as_i64().unwrap();
    let presets = [
        "icon-40",
        "icon-80",
        "icon-120",
        "icon-240",
        "preview-210",
        "preview-420",
    ];
    let mut asks = Vec::new();
    for preset in presets {
        for base in [c.a.url(""), c.b.url("")] {
            let (token, path) = (c.admin.clone(), format!("/files/{id}/thumbnails/{preset}"));
            asks.push(actix_web::rt::spawn(async move {
                (preset, get(&format!("{base}{path}"), Some(&token)).await)
            }));
        }
    }
    let mut got: std::collections::HashMap<&str, Vec<u8>> = std::collections::HashMap::new();
    for ask in asks {
        let (preset, (status, body)) = ask.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{preset}");
        if let Some(other) = got.insert(preset, body.clone()) {
            assert!(
                other == body,
                "{preset}: the two instances sent different bytes"
            );
        }
    }
    let url = c.database_url.clone();
    let rows: i64 = tokio::task::spawn_blocking(move || {
        let mut conn = coffer::db::establish(&coffer::db::Backend::Postgres(url)).unwrap();
        use coffer::db::schema::thumbnails;
        thumbnails::table
            .filter(thumbnails::file_id.eq(id))
            .count()
            .get_result(&mut conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(rows, presets.len() as i64, "one row per preset");
    let out = c.run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Waits until `url` answers 200.
async fn ready(url: &str) {
    for _ in 0..200 {
        if get(url, None).await.0 == StatusCode::OK {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

#[actix_web::test]
async fn a_rolling_restart_under_load_fails_no_request() {
    let mut c = Cluster::start_alone();
    let bytes = pattern(200_000, 5);
    let (_, f) = upload(&c.a.url(""), &c.admin, "steady.bin", &bytes, None, false)
        .await
        .unwrap();
    let path = format!("/files/{}/steady.bin", f["id"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (site, admin) = (c.site(""), c.admin.clone());
    let mut tasks = Vec::new();
    for worker in 0..3 {
        let (stop, site, admin, path, bytes) = (
            Arc::clone(&stop),
            site.clone(),
            admin.clone(),
            path.clone(),
            bytes.clone(),
        );
        tasks.push(actix_web::rt::spawn(async move {
            let (mut downloads, mut uploads) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = get(&format!("{site}{path}"), Some(&admin)).await;
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "download #{downloads} of worker {worker}"
                );
                assert!(body == bytes, "a wrong body");
                downloads += 1;
                if worker == 0 {
                    let name = format!("upload-{uploads}.txt");
                    let (status, body) = upload(&site, &admin, &name, name.as_bytes(), None, false)
                        .await
                        .unwrap_or_else(|e| panic!("upload #{uploads}: {e}"));
                    assert_eq!(status, StatusCode::CREATED, "upload #{uploads}: {body}");
                    uploads += 1;
                }
            }
            (downloads, uploads)
        }));
    }
    // The documented procedure: stop one (SIGTERM), start it again, wait until it is ready
    // and nginx's fail_timeout (2 s) has passed with a margin (nginx tries the restarted
    // instance again on the first request after the timeout; on a loaded machine that can
    // come late), then the next.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (port_a, port_b) = (c.a.port, c.b.port);
    assert!(c.a.stop().success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    c.a = c.restart(port_a);
    ready(&c.a.url("/readyz")).await;
    tokio::time::sleep(std::time::Duration::from_millis(4000)).await;
    assert!(c.b.stop().success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    c.b = c.restart(port_b);
    ready(&c.b.url("/readyz")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut uploaded = 0;
    for t in tasks {
        let (downloads, uploads) = t.await.unwrap();
        assert!(downloads > 0);
        uploaded += uploads;
    }
    assert!(uploaded > 0);
    // Every upload that was answered 201 is there.
    let url = c.database_url.clone();
    let rows: i64 = tokio::task::spawn_blocking(move || {
        let mut conn = coffer::db::establish(&coffer::db::Backend::Postgres(url)).unwrap();
        use coffer::db::schema::files;
        files::table
            .filter(files::original_filename.like("upload-%"))
            .count()
            .get_result(&mut conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(rows, uploaded as i64);
    let out = c.run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Whether file `id` is public, per the database.
async fn is_public(c: &Cluster, id: i64) -> bool {
    let url = c.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = coffer::db::establish(&coffer::db::Backend::Postgres(url)).unwrap();
        use coffer::db::schema::files;
        files::table
            .find(id)
            .select(files::is_public)
            .get_result(&mut conn)
            .unwrap()
    })
    .await
    .unwrap()
}

fn toggle(
    c: &Cluster,
    base: String,
    id: i64,
    public: bool,
) -> actix_web::rt::task::JoinHandle<StatusCode> {
    let admin = c.admin.clone();
    actix_web::rt::spawn(async move {
        let res = client()
            .patch(format!("{base}/api/v1/files/{id}"))
            .bearer_auth(&admin)
            .json(&json!({"is_public": public}))
            .send()
            .await;
        res.map(|r| r.status()).unwrap_or(StatusCode::BAD_GATEWAY)
    })
}

#[actix_web::test]
async fn a_move_survives_another_instance_starting_and_is_repaired_after_its_owner_dies() {
    // A pauses every move after copying its objects, before committing.
    let mut c = Cluster::start_with(&[("FAILPOINTS", "relocate::after-transfer=sleep(4000)")]);
    let a = c.a.url("");
    let first = pattern(100_000, 6);
    let second = pattern(120_000, 7);
    let (_, f1) = upload(&a, &c.admin, "first.bin", &first, None, false)
        .await
        .unwrap();
    let (_, f2) = upload(&a, &c.admin, "second.bin", &second, None, false)
        .await
        .unwrap();
    let (id1, id2) = (f1["id"].as_i64().unwrap(), f2["id"].as_i64().unwrap());

    // A third instance starting (its start-up repair) while A's move is in flight leaves it
    // alone: the lease is A's and alive.
    let moving = toggle(&c, a.clone(), id1, true);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let third = c.restart(crate::web::free_port());
    assert_eq!(moving.await.unwrap(), StatusCode::OK, "A finished its move");
    assert!(is_public(&c, id1).await);
    let public_url = client()
        .get(c.b.url(&format!("/api/v1/files/{id1}")))
        .bearer_auth(&c.admin)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(&c.site(&public_url), None).await,
        (StatusCode::OK, first)
    );
    drop(third);

    // A dies (SIGKILL) in the middle of a move: readers still get the file through B from
    // where its row names it; once the lease has expired, an instance starting repairs it.
    let stable = format!("/files/{id2}/second.bin");
    let moving = toggle(&c, a.clone(), id2, true);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    c.a.kill();
    assert_ne!(moving.await.unwrap(), StatusCode::OK);
    assert!(!is_public(&c, id2).await, "nothing was committed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(62);
    while std::time::Instant::now() < deadline {
        assert_eq!(
            get(&c.site(&stable), Some(&c.admin)).await,
            (StatusCode::OK, second.clone())
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let port = c.a.port;
    c.a = c.restart(port);
    assert!(!is_public(&c, id2).await, "rolled back");
    assert_eq!(
        get(&c.site(&stable), Some(&c.admin)).await,
        (StatusCode::OK, second)
    );
    let out = c.run(&["check"]);
    assert!(
        out.status.success(),
        "the copy left in the public storage was removed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

//! Uploads are all or nothing, and every stored file is authorised for the folder it lands
//! in, whatever the order, number or repetition of the multipart parts, on the admin form
//! (plain and script), the JSON API, and while the folder or the rights change meanwhile.

use coffer::storage::StorageRole;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::admin::{admin_client, staff};
use crate::helpers::{TestApp, spawn_app_with, storage_mode};

/// Rows in `files`.
async fn rows(app: &TestApp) -> usize {
    app.db(|conn| coffer::db::models::file::all_keys(conn).unwrap().len())
        .await
}

/// Every regular file under the four storages' directories, temporary files included (a
/// local storage's files; an object storage's staging files), and every object in the
/// object storages.
async fn objects(app: &TestApp) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                walk(&e.path(), out);
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    let s = &app.state.settings;
    let mut out = Vec::new();
    for dir in [
        &s.public.dir,
        &s.private.dir,
        &s.public_thumbnails.dir,
        &s.private_thumbnails.dir,
    ] {
        walk(dir, &mut out);
    }
    if storage_mode::on_s3() {
        for role in StorageRole::ALL {
            out.extend(app.stored_keys(role).await);
        }
    }
    out
}

async fn assert_nothing_stored(app: &TestApp, before: usize, what: &str) {
    assert_eq!(rows(app).await, before, "{what}: a row was stored");
    let objects = objects(app).await;
    assert_eq!(objects.len(), before, "{what}: objects left: {objects:?}");
}

/// eve is staff with read + add-children on `ok`; `visible` she may read but not add to;
/// `hidden` she may not read at all.
struct World {
    app: TestApp,
    eve_token: String,
    ok: i64,
    visible: i64,
    hidden: i64,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(tweak: impl FnOnce(&mut coffer::config::ConfigFile)) -> World {
    let app = spawn_app_with(tweak).await;
    let eve = staff(&app, "eve").await;
    let hidden = app.folder(&app.admin_token, "hidden", None).await;
    let ok = app.folder(&app.admin_token, "ok", None).await;
    let visible = app.folder(&app.admin_token, "visible", None).await;
    app.rule(json!({"folder_id": ok, "type": "children", "user_id": eve, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": visible, "type": "children", "user_id": eve, "can_read": "allow", "can_edit": "deny", "can_add_children": "deny"})).await;
    let eve_token = app.token_for("eve").await;
    World {
        app,
        eve_token,
        ok,
        visible,
        hidden,
    }
}

#[derive(Clone, Debug)]
enum P {
    F(&'static str, String),
    File(&'static str),
}

fn form(parts: &[P]) -> Form {
    parts.iter().fold(Form::new(), |form, p| match p {
        P::F(n, v) => form.text(*n, v.clone()),
        P::File(name) => form.part(
            "file",
            Part::bytes(format!("bytes of {name}").into_bytes()).file_name(*name),
        ),
    })
}

fn folder(id: i64) -> P {
    P::F("folder", id.to_string())
}

/// Posts the admin upload as eve, as the plain form and as a script; returns both statuses.
async fn admin_upload(
    w: &World,
    c: &reqwest::Client,
    csrf: &str,
    parts: &[P],
) -> (StatusCode, StatusCode, String) {
    let mut all = vec![P::F("csrf_token", csrf.to_owned())];
    all.extend_from_slice(parts);
    let plain = c
        .post(w.app.url("/admin/upload"))
        .multipart(form(&all))
        .send()
        .await
        .unwrap();
    let plain_status = plain.status();
    let flash = match plain.headers().get("location") {
        Some(to) => {
            let to = to.to_str().unwrap().to_owned();
            c.get(w.app.url(&to))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
        None => String::new(),
    };
    let script = c
        .post(w.app.url("/admin/upload"))
        .header("X-Requested-With", "XMLHttpRequest")
        .multipart(form(&all))
        .send()
        .await
        .unwrap()
        .status();
    (plain_status, script, flash)
}

#[actix_web::test]
async fn a_folder_part_after_a_file_cannot_retarget_the_next_files() {
    let w = world().await;
    let (c, csrf) = admin_client(&w.app, "eve").await;
    let (ok, visible, hidden) = (w.ok, w.visible, w.hidden);
    // The reported sequence, and its variants: every folder, the same folder again, an
    // empty or non-numeric value, one file or several after it.
    let sequences: Vec<Vec<P>> = vec![
        vec![
            folder(ok),
            P::File("a.txt"),
            folder(hidden),
            P::File("b.txt"),
        ],
        vec![
            folder(ok),
            P::File("a.txt"),
            folder(visible),
            P::File("b.txt"),
        ],
        vec![folder(ok), P::File("a.txt"), folder(ok), P::File("b.txt")],
        vec![
            folder(ok),
            P::File("a.txt"),
            P::F("folder", String::new()),
            P::File("b.txt"),
        ],
        vec![
            folder(ok),
            P::File("a.txt"),
            P::F("folder", "x".into()),
            P::File("b.txt"),
        ],
        vec![
            folder(ok),
            P::File("a.txt"),
            P::File("b.txt"),
            folder(hidden),
        ],
        vec![P::File("a.txt"), folder(hidden), P::File("b.txt")],
        vec![
            folder(ok),
            P::File("a.txt"),
            folder(hidden),
            folder(hidden),
            P::File("b.txt"),
            P::File("c.txt"),
        ],
        // Repeated before any file.
        vec![folder(ok), folder(hidden), P::File("a.txt")],
        vec![folder(hidden), folder(ok), P::File("a.txt")],
        vec![folder(ok), folder(ok), P::File("a.txt")],
        vec![
            P::F("folder", String::new()),
            folder(hidden),
            P::File("a.txt"),
        ],
        vec![folder(ok), folder(visible), P::File("a.txt")],
        vec![P::F("folder", "1e3".into()), P::File("a.txt")],
        // Refused targets.
        vec![folder(hidden), P::File("a.txt"), P::File("b.txt")],
        vec![folder(visible), P::File("a.txt")],
    ];
    for parts in &sequences {
        let (plain, script, flash) = admin_upload(&w, &c, &csrf, parts).await;
        assert!(
            !plain.is_success() && !script.is_success(),
            "{parts:?}: {plain} {script}"
        );
        if plain == StatusCode::SEE_OTHER {
            assert!(flash.contains("Nothing uploaded"), "{parts:?}: {flash}");
        }
        assert_nothing_stored(&w.app, 0, &format!("{parts:?}")).await;
    }
    // The control: files in order after one allowed folder all land there.
    let (plain, script, _) = admin_upload(
        &w,
        &c,
        &csrf,
        &[
            folder(ok),
            P::File("a.txt"),
            P::File("b.txt"),
            P::F("other", "x".into()),
        ],
    )
    .await;
    assert_eq!(
        (plain, script),
        (StatusCode::SEE_OTHER, StatusCode::CREATED)
    );
    let folders = w
        .app
        .db(|conn| {
            use diesel::prelude::*;
            coffer::db::schema::files::table
                .select(coffer::db::schema::files::folder_id)
                .load::<Option<i64>>(conn)
                .unwrap()
        })
        .await;
    // Two files from the plain form, two from the script.
    assert_eq!(folders, vec![Some(ok); 4]);
}

#[actix_web::test]
async fn a_file_over_the_limit_stores_none_of_the_request() {
    let w = world_with(|cfg| cfg.max_upload_size = bytesize::ByteSize::b(100)).await;
    let (c, csrf) = admin_client(&w.app, "eve").await;
    let small = Part::bytes(b"small".to_vec()).file_name("small.txt");
    let big = Part::bytes(vec![b'x'; 1000]).file_name("big.txt");
    let res = c
        .post(w.app.url("/admin/upload"))
        .multipart(
            Form::new()
                .text("csrf_token", csrf.clone())
                .text("folder", w.ok.to_string())
                .part("file", small)
                .part("file", big),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = c
        .get(w.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Nothing uploaded") && page.contains("big.txt is larger than the limit"),
        "{page}"
    );
    assert_nothing_stored(&w.app, 0, "small file before a big one").await;
}

#[actix_web::test]
async fn api_upload_parts_in_any_order_never_land_outside_the_checked_folder() {
    let w = world().await;
    let (ok, visible, hidden) = (w.ok, w.visible, w.hidden);
    let f = |n: &'static str, v: i64| P::F(n, v.to_string());
    let cases: Vec<(String, Vec<P>)> = vec![
        (
            String::new(),
            vec![f("folder_id", ok), P::File("a.txt"), f("folder_id", hidden)],
        ),
        (
            String::new(),
            vec![f("folder_id", ok), P::File("a.txt"), f("folder_id", ok)],
        ),
        (
            String::new(),
            vec![f("folder_id", ok), P::File("a.txt"), P::File("b.txt")],
        ),
        (
            String::new(),
            vec![
                f("folder_id", ok),
                P::File("a.txt"),
                P::F("is_public", "true".into()),
            ],
        ),
        (
            String::new(),
            vec![
                f("folder_id", ok),
                P::File("a.txt"),
                P::F("description", "d".into()),
            ],
        ),
        (
            String::new(),
            vec![f("folder_id", ok), P::File("a.txt"), f("owner_id", 1)],
        ),
        (
            String::new(),
            vec![f("folder_id", ok), f("folder_id", hidden), P::File("a.txt")],
        ),
        (
            String::new(),
            vec![f("folder_id", hidden), f("folder_id", ok), P::File("a.txt")],
        ),
        (
            String::new(),
            vec![
                f("folder_id", ok),
                P::F("is_public", "true".into()),
                P::F("is_public", "false".into()),
                P::File("a.txt"),
            ],
        ),
        (
            format!("?folder_id={ok}"),
            vec![f("folder_id", hidden), P::File("a.txt")],
        ),
        (
            format!("?folder_id={ok}"),
            vec![P::F("folder_id", String::new()), P::File("a.txt")],
        ),
        (
            format!("?folder_id={hidden}"),
            vec![f("folder_id", ok), P::File("a.txt")],
        ),
        (
            format!("?folder_id={ok}"),
            vec![P::File("a.txt"), f("folder_id", hidden)],
        ),
        (
            String::new(),
            vec![f("folder_id", hidden), P::File("a.txt")],
        ),
        (
            String::new(),
            vec![f("folder_id", visible), P::File("a.txt")],
        ),
        (
            String::new(),
            vec![f("folder_id", 999_999), P::File("a.txt")],
        ),
        (String::new(), vec![f("owner_id", 1), P::File("a.txt")]),
    ];
    for (query, parts) in &cases {
        let res = w
            .app
            .client
            .post(w.app.url(&format!("/api/v1/files{query}")))
            .bearer_auth(&w.eve_token)
            .multipart(form(parts))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            status.is_client_error(),
            "{query} {parts:?}: {status} {body}"
        );
        assert_nothing_stored(&w.app, 0, &format!("{query} {parts:?}")).await;
    }
    // The same hidden and missing folder answer alike.
    let missing = w
        .app
        .try_upload(&w.eve_token, "a.txt", b"a", Some(999_999), false)
        .await;
    let hidden_one = w
        .app
        .try_upload(&w.eve_token, "a.txt", b"a", Some(hidden), false)
        .await;
    assert_eq!(missing, hidden_one);
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    // The control.
    let (status, body) = w
        .app
        .try_upload(&w.eve_token, "a.txt", b"a", Some(ok), false)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["folder_id"], ok);
}

/// A file part whose bytes the test sends when it wants: the first chunk now, the rest when
/// the returned sender is fed and dropped.
fn slow_part() -> (tokio::sync::mpsc::Sender<Vec<u8>>, Part) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let part = Part::stream(reqwest::Body::wrap_stream(stream)).file_name("slow.txt");
    (tx, part)
}

/// Waits until the upload's temporary file exists: the bytes are streaming into storage.
async fn wait_for_temp_file(app: &TestApp) {
    for _ in 0..200 {
        if objects(app).await.iter().any(|p| p.contains("upload-")) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "the upload never started streaming: {:?}",
        objects(app).await
    );
}

/// Starts a slow upload into `ok` (admin form, script, or the API), lets `meanwhile`
/// happen while the bytes stream, then finishes it; returns the status.
async fn upload_while(w: &World, via: &str, meanwhile: impl AsyncFnOnce(&World)) -> StatusCode {
    let (tx, part) = slow_part();
    let req = if via == "api" {
        w.app
            .client
            .post(w.app.url("/api/v1/files"))
            .bearer_auth(&w.eve_token)
            .multipart(
                Form::new()
                    .text("folder_id", w.ok.to_string())
                    .part("file", part),
            )
    } else {
        let (c, csrf) = admin_client(&w.app, "eve").await;
        let req = c.post(w.app.url("/admin/upload")).multipart(
            Form::new()
                .text("csrf_token", csrf)
                .text("folder", w.ok.to_string())
                .part("file", part),
        );
        if via == "script" {
            req.header("X-Requested-With", "XMLHttpRequest")
        } else {
            req
        }
    };
    let sent = tokio::spawn(req.send());
    tx.send(vec![b'a'; 64 * 1024]).await.unwrap();
    wait_for_temp_file(&w.app).await;
    meanwhile(w).await;
    tx.send(vec![b'b'; 64 * 1024]).await.unwrap();
    drop(tx);
    sent.await.unwrap().unwrap().status()
}

#[actix_web::test]
async fn an_upload_racing_the_deletion_of_its_folder_answers_404_and_stores_nothing() {
    for via in ["api", "plain", "script"] {
        let w = world().await;
        let status = upload_while(&w, via, async |w: &World| {
            let (status, body) = w
                .app
                .request(
                    reqwest::Method::DELETE,
                    Some(&w.app.admin_token),
                    &format!("/api/v1/folders/{}", w.ok),
                    None,
                )
                .await;
            assert!(status.is_success(), "{status} {body}");
        })
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{via}");
        assert_nothing_stored(&w.app, 0, via).await;
    }
}

#[actix_web::test]
async fn rights_withdrawn_while_the_bytes_stream_store_nothing() {
    for via in ["api", "script"] {
        let w = world().await;
        let status = upload_while(&w, via, async |w: &World| {
            let ok = w.ok;
            w.app
                .db(move |conn| {
                    use coffer::db::schema::folder_permissions as p;
                    use diesel::prelude::*;
                    diesel::update(p::table.filter(p::folder_id.eq(ok)))
                        .set(p::can_add_children.eq(Some(false)))
                        .execute(conn)
                        .unwrap();
                    coffer::db::models::generation::bump(conn).unwrap();
                })
                .await;
        })
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{via}");
        assert_nothing_stored(&w.app, 0, via).await;
    }
}

#[actix_web::test]
async fn replacing_content_checks_the_right_again_once_the_bytes_are_in() {
    let w = world().await;
    let file = w
        .app
        .upload(
            &w.app.admin_token,
            "keep.txt",
            b"old bytes",
            Some(w.ok),
            false,
        )
        .await;
    let id = file["id"].as_i64().unwrap();
    let (c, csrf) = admin_client(&w.app, "eve").await;
    let (tx, part) = slow_part();
    let req = c
        .post(w.app.url(&format!("/admin/files/{id}/replace")))
        .multipart(Form::new().text("csrf_token", csrf).part("file", part));
    let sent = tokio::spawn(req.send());
    tx.send(vec![b'a'; 64 * 1024]).await.unwrap();
    wait_for_temp_file(&w.app).await;
    let ok = w.ok;
    w.app
        .db(move |conn| {
            use coffer::db::schema::folder_permissions as p;
            use diesel::prelude::*;
            diesel::update(p::table.filter(p::folder_id.eq(ok)))
                .set(p::can_edit.eq(Some(false)))
                .execute(conn)
                .unwrap();
            coffer::db::models::generation::bump(conn).unwrap();
        })
        .await;
    drop(tx);
    let res = sent.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = c
        .get(w.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Not replaced"), "{page}");
    let (_, after) = w.app.file_json(id).await;
    assert_eq!(
        (after["size"].as_i64(), &after["sha256"]),
        (Some(9), &file["sha256"])
    );
    assert_nothing_stored(&w.app, 1, "replace").await;
}

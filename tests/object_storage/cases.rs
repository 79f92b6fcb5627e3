use std::io::Cursor;
use std::time::Duration;

use coffer::config::{ConfigFile, ServeBackendConfig};
use coffer::storage::{StorageKey, StorageRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::storage_mode::put_on_s3 as on_s3;
use crate::helpers::{TestApp, path_of, spawn_app_with};
use crate::seaweedfs::engine;

async fn app() -> TestApp {
    spawn_app_with(on_s3).await
}

/// Keys in the storage playing `role`.
async fn keys(app: &TestApp, role: StorageRole) -> Vec<String> {
    let storages = app.state.library.storages.clone();
    tokio::task::spawn_blocking(move || storages.get(role).walk().unwrap().keys)
        .await
        .unwrap()
}

/// The storage key of a file, from its URL.
fn key_of(file: &Value) -> String {
    let url = path_of(file);
    url.strip_prefix("/private/files/")
        .or_else(|| url.strip_prefix("/media/public/"))
        .unwrap_or_else(|| panic!("a storage URL: {url}"))
        .to_owned()
}

/// `coffer doctor --url <url>` for this instance, as the admin: its report lines.
async fn doctor(app: &TestApp, url: &str) -> Vec<coffer::deploy::doctor::Line> {
    let settings = (*app.state.settings).clone();
    let options = coffer::deploy::doctor::Options {
        url: url.to_owned(),
        username: Some("admin".into()),
    };
    coffer::deploy::doctor::run(settings, &options)
        .await
        .unwrap()
}

/// A folder the user `reader` may read, and that user's token.
async fn readable_folder(app: &TestApp) -> (i64, String) {
    let (reader_id, reader) = app.user("reader").await;
    let folder = app.folder(&app.admin_token, "shared", None).await;
    app.rule(json!({
        "folder_id": folder, "type": "children", "user_id": reader_id,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"
    }))
    .await;
    (folder, reader)
}

async fn toggle(app: &TestApp, id: i64, public: bool) -> Value {
    let (status, body) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            Some(json!({"is_public": public})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[actix_web::test]
async fn a_private_file_lives_in_the_bucket_and_only_readers_get_its_bytes() {
    let app = app().await;
    let (folder, reader) = readable_folder(&app).await;
    let (_, stranger) = app.user("stranger").await;
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let file = app
        .upload(&app.admin_token, "data.bin", &body, Some(folder), false)
        .await;
    let key = key_of(&file);
    assert_eq!(keys(&app, StorageRole::Private).await, vec![key.clone()]);
    // Nothing of it on the local disk: the staging directory is empty again.
    let staged: Vec<_> = walk_files(&app.data());
    assert!(
        staged.iter().all(|p| !p.ends_with("data.bin")),
        "{staged:?}"
    );

    let url = path_of(&file);
    let (status, headers, got) = app.get(Some(&reader), &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, body);
    assert_eq!(headers["content-length"], "100000");
    assert_eq!(headers["cache-control"], "private, no-cache");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_owned();

    for who in [Some(stranger.as_str()), None] {
        let (status, headers, got) = app.get(who, &url).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(headers.get("location").is_none());
        assert!(!got.windows(16).any(|w| w == &body[1000..1016]));
    }

    // Ranges and conditions are answered from the bucket exactly as from a disk.
    let (status, headers, got) = app
        .get_with(Some(&reader), &url, &[("range", "bytes=1000-1999")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(headers["content-range"], "bytes 1000-1999/100000");
    assert_eq!(got, &body[1000..2000]);
    let (status, _, got) = app
        .get_with(Some(&reader), &url, &[("range", "bytes=-10")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &body[99_990..]);
    let (status, headers, _) = app
        .get_with(Some(&reader), &url, &[("range", "bytes=200000-")])
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers["content-range"], "bytes */100000");
    let (status, headers, got) = app
        .get_with(Some(&reader), &url, &[("range", "bytes=0-1,5-6")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/byteranges")
    );
    assert!(got.windows(2).any(|w| w == &body[5..7]));
    let (status, _, got) = app
        .get_with(Some(&reader), &url, &[("if-none-match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(got.is_empty());
    let (status, _, _) = app
        .get_with(Some(&reader), &url, &[("if-match", "\"other\"")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // The stable URL reaches the same object.
    let id = file["id"].as_i64().unwrap();
    let (status, _, got) = app
        .get(Some(&reader), &format!("/files/{id}/data.bin"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, body);
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[actix_web::test]
async fn start_up_refuses_a_bucket_where_anyone_may_read_private_objects() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::helpers::test_config(dir.path(), None);
    on_s3(&mut cfg);
    cfg.object_store.as_mut().unwrap().bucket = crate::seaweedfs::OPEN_BUCKET.into();
    let settings = coffer::config::Settings::from_file(cfg).unwrap();
    let refused = coffer::startup::bootstrap(settings).err().unwrap();
    let message = format!("{refused:#}");
    assert!(
        message.contains("storage.private (kind \"s3\"")
            && message.contains("can be read without a signature"),
        "{message}"
    );
}

#[actix_web::test]
async fn start_up_refuses_an_endpoint_it_cannot_write_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::helpers::test_config(dir.path(), None);
    on_s3(&mut cfg);
    // Nothing listens there.
    let port = crate::web::free_port();
    cfg.object_store.as_mut().unwrap().endpoint = format!("http://127.0.0.1:{port}");
    let settings = coffer::config::Settings::from_file(cfg).unwrap();
    let refused = coffer::startup::bootstrap(settings).err().unwrap();
    assert!(
        format!("{refused:#}").contains("storage.public"),
        "{refused:#}"
    );
}

#[actix_web::test]
async fn the_engine_refuses_an_unsigned_read_of_a_private_object() {
    let app = app().await;
    let file = app
        .upload(&app.admin_token, "secret.txt", b"top secret", None, false)
        .await;
    let key = StorageKey::parse(&key_of(&file)).unwrap();
    let object = app
        .state
        .library
        .storages
        .private
        .as_object()
        .unwrap()
        .clone();
    let unsigned = object.unsigned_url(&key);
    let res = reqwest::get(&unsigned).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{unsigned}");
    assert!(!res.text().await.unwrap().contains("top secret"));
}

#[actix_web::test]
async fn toggling_moves_the_object_and_its_thumbnails_between_prefixes() {
    let app = app().await;
    let img = image::RgbImage::from_fn(320, 200, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let file = app
        .upload(&app.admin_token, "photo.png", &png, None, false)
        .await;
    let id = file["id"].as_i64().unwrap();
    assert_eq!(file["image"]["width"], 320);
    // A thumbnail, made from the object in the bucket and stored beside it.
    let (status, headers, thumb) = app
        .get(
            Some(&app.admin_token),
            &format!("/files/{id}/thumbnails/icon-40"),
        )
        .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    if status.is_redirection() {
        let location = headers["location"].to_str().unwrap().to_owned();
        let (status, _, body) = app.get(Some(&app.admin_token), &location).await;
        assert_eq!(status, StatusCode::OK);
        assert!(image::load_from_memory(&body).is_ok());
    } else {
        assert!(image::load_from_memory(&thumb).is_ok());
    }
    let private_thumbs = keys(&app, StorageRole::PrivateThumbnails).await;
    assert!(!private_thumbs.is_empty());

    let public = toggle(&app, id, true).await;
    assert!(keys(&app, StorageRole::Private).await.is_empty());
    assert_eq!(keys(&app, StorageRole::Public).await, vec![key_of(&public)]);
    assert!(keys(&app, StorageRole::PrivateThumbnails).await.is_empty());
    // Every thumbnail made so far moved (more may be made meanwhile: previews are queued).
    assert!(keys(&app, StorageRole::PublicThumbnails).await.len() >= private_thumbs.len());
    // A public object is streamed at its base URL, to anyone, with Range.
    let (status, headers, got) = app.get(None, &path_of(&public)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, png);
    assert_eq!(headers["content-type"], "image/png");
    let (status, _, got) = app
        .get_with(None, &path_of(&public), &[("range", "bytes=0-7")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &png[..8]);

    let private = toggle(&app, id, false).await;
    assert!(keys(&app, StorageRole::Public).await.is_empty());
    assert!(keys(&app, StorageRole::PublicThumbnails).await.is_empty());
    let (status, _, _) = app.get(None, &path_of(&public)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, got) = app.get(Some(&app.admin_token), &path_of(&private)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, png);
}

#[actix_web::test]
async fn a_failed_upload_leaves_no_object_and_a_large_one_goes_in_parts() {
    let app = spawn_app_with(|cfg| {
        on_s3(cfg);
        cfg.max_upload_size = bytesize::ByteSize::mib(20);
    })
    .await;
    let (status, _) = app
        .try_upload(
            &app.admin_token,
            "big.bin",
            &vec![7u8; 21 * 1024 * 1024],
            None,
            false,
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(keys(&app, StorageRole::Private).await.is_empty());
    // Above the multipart threshold (16 MiB): uploaded in parts, read back whole.
    let body: Vec<u8> = (0..(18 * 1024 * 1024u32))
        .map(|i| (i % 253) as u8)
        .collect();
    let file = app
        .upload(&app.admin_token, "parts.bin", &body, None, false)
        .await;
    let (status, _, got) = app.get(Some(&app.admin_token), &path_of(&file)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == body, "the object read back differs");
    let (status, _, got) = app
        .get_with(
            Some(&app.admin_token),
            &path_of(&file),
            &[("range", "bytes=16777200-16777299")],
        )
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, &body[16_777_200..16_777_300]); // The multipart upload was completed: none is left pending in the engine.
    assert!(pending_uploads(&app).await.is_empty());
}

/// Every multipart upload under the app's private prefix, however young.
async fn pending_uploads(app: &TestApp) -> Vec<coffer::storage::PendingUpload> {
    let storages = app.state.library.storages.clone();
    tokio::task::spawn_blocking(move || {
        storages
            .private
            .as_object()
            .unwrap()
            .pending_uploads(Duration::ZERO)
            .unwrap()
    })
    .await
    .unwrap()
}

/// A multipart upload a dead process left (parts sent, never completed) is found by
/// `coffer check` once it is old enough to be no live upload's, and aborted by `--repair`
/// and by a serving instance's repair; a young one is left alone.
#[actix_web::test]
async fn check_finds_multipart_uploads_left_behind_and_repair_aborts_them() {
    use object_store::multipart::MultipartStore;
    let app = app().await;
    let e = engine();
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&e.endpoint)
        .with_region("us-east-1")
        .with_bucket_name(&e.bucket)
        .with_allow_http(true)
        .with_access_key_id(std::env::var("COFFER_S3_ACCESS_KEY_ID").unwrap())
        .with_secret_access_key(std::env::var("COFFER_S3_SECRET_ACCESS_KEY").unwrap())
        .build()
        .unwrap();
    let object = app.state.library.storages.private.as_object().unwrap();
    let key = "aa/bb/aabb0123456789abcdef0123456789/left behind.bin";
    let path = object_store::path::Path::from(format!("{}{key}", object.prefix()));
    let id = left_behind(&store, &path).await;

    // Young: it may be a live upload; `check` does not report it, and the repair a serving
    // instance runs at start and then periodically leaves it alone.
    let storages = app.state.library.storages.clone();
    let findings = app
        .db(move |conn| coffer::library::check::check(&storages, conn).unwrap())
        .await;
    assert!(findings.is_empty(), "{findings:?}");
    let storages = app.state.library.storages.clone();
    let recovered = app
        .db(move |conn| coffer::library::recover::recover(&storages, conn).unwrap())
        .await;
    assert_eq!(recovered.multipart_aborted, 0, "{recovered:?}");
    assert_eq!(pending_uploads(&app).await.len(), 1);
    // Old enough: reported with its key and id, and aborted by the repair.
    let storages = app.state.library.storages.clone();
    let found = tokio::task::spawn_blocking(move || {
        coffer::library::check::abandoned_multipart(&storages, Duration::ZERO).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let shown = found[0].to_string();
    assert!(
        shown.contains("private/aa/bb/") && shown.contains("multipart") && shown.contains(&id),
        "{shown}"
    );
    let storages = app.state.library.storages.clone();
    let removed = app
        .db(move |conn| coffer::library::check::repair(&storages, conn, &found).unwrap())
        .await;
    assert_eq!(removed, 1);
    assert!(pending_uploads(&app).await.is_empty());
    // The upload is gone from the engine: it cannot be completed any more.
    let part = store.put_part(&path, &id, 1, vec![1u8; 16].into()).await;
    assert!(part.is_err(), "the aborted upload still takes parts");
    assert!(keys(&app, StorageRole::Private).await.is_empty());

    // What the repair runs once an upload is older than MULTIPART_GRACE: the same abort.
    left_behind(&store, &path).await;
    let storages = app.state.library.storages.clone();
    let aborted = tokio::task::spawn_blocking(move || {
        coffer::library::check::abort_abandoned_multipart(&storages, Duration::ZERO).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(aborted, 1);
    assert!(pending_uploads(&app).await.is_empty());
    assert!(keys(&app, StorageRole::Private).await.is_empty());
}

/// A multipart upload at `path` with one part sent and never completed, as a process that
/// died mid-upload leaves it; returns its id.
async fn left_behind(
    store: &impl object_store::multipart::MultipartStore,
    path: &object_store::path::Path,
) -> String {
    let id = store.create_multipart(path).await.unwrap();
    store
        .put_part(path, &id, 0, vec![7u8; 5 * 1024 * 1024].into())
        .await
        .unwrap();
    id
}

fn redirecting(cfg: &mut ConfigFile, expires_secs: u64) {
    on_s3(cfg);
    cfg.server.private = ServeBackendConfig::S3Redirect {
        expires_secs,
        public_endpoint: None,
    };
}

#[actix_web::test]
async fn s3_redirect_sends_readers_to_a_short_lived_signed_url_and_nobody_else() {
    let app = spawn_app_with(|cfg| redirecting(cfg, 3)).await;
    let (folder, reader) = readable_folder(&app).await;
    let (_, stranger) = app.user("stranger").await;
    let file = app
        .upload(
            &app.admin_token,
            "Quarterly report é.txt",
            b"the numbers",
            Some(folder),
            false,
        )
        .await;
    let page = app
        .upload(
            &app.admin_token,
            "page.html",
            b"<script>alert(1)</script>",
            Some(folder),
            false,
        )
        .await;

    let (status, headers, _) = app.get(Some(&reader), &path_of(&file)).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let signed = headers["location"].to_str().unwrap().to_owned();
    assert!(signed.starts_with(&engine().endpoint), "{signed}");
    assert!(signed.contains("X-Amz-Signature="), "{signed}");
    let plain = reqwest::Client::new();
    let res = plain.get(&signed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''Quarterly%20report%20%C3%A9.txt"),
        "{disposition}"
    );
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"the numbers");

    // A HEAD is redirected to a URL signed for HEAD (a GET signature does not fit it), and
    // a GET URL cannot be replayed as a HEAD, nor a HEAD URL as a GET.
    let res = app
        .client
        .head(app.url(&path_of(&file)))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let signed_head = res.headers()["location"].to_str().unwrap().to_owned();
    assert_ne!(signed_head, signed);
    let res = plain.head(&signed_head).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], "11");
    assert_eq!(
        plain.get(&signed_head).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        plain.head(&signed).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Active content always goes as an attachment: the engine adds no sandbox.
    let (_, headers, _) = app.get(Some(&reader), &path_of(&page)).await;
    let res = plain
        .get(headers["location"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );

    // Strangers and anonymous callers get a 404 and no URL.
    for who in [Some(stranger.as_str()), None] {
        let (status, headers, _) = app.get(who, &path_of(&file)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(headers.get("location").is_none());
    }

    // An edited signature is refused, and so is the URL once it expired.
    let tampered = match signed.rfind("X-Amz-Signature=") {
        Some(at) => {
            let (head, sig) = signed.split_at(at + "X-Amz-Signature=".len());
            let flipped = if sig.starts_with('0') { "1" } else { "0" };
            format!("{head}{flipped}{}", &sig[1..])
        }
        None => unreachable!(),
    };
    let res = plain.get(&tampered).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let res = plain.get(&signed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_ne!(res.bytes().await.unwrap().as_ref(), b"the numbers");
    // A URL is handed out again only early in its life: a reader asking now is sent to a
    // newly signed one, which works.
    let (status, headers, _) = app.get(Some(&reader), &path_of(&file)).await;
    assert_eq!(status, StatusCode::FOUND);
    let renewed = headers["location"].to_str().unwrap().to_owned();
    assert_ne!(renewed, signed);
    let res = plain.get(&renewed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"the numbers");
}

#[actix_web::test]
async fn check_compares_the_rows_with_the_bucket_and_deleting_frees_the_objects() {
    let app = app().await;
    let kept = app
        .upload(&app.admin_token, "kept.txt", b"kept", None, false)
        .await;
    let gone = app
        .upload(&app.admin_token, "gone.txt", b"gone", None, true)
        .await;
    let storages = app.state.library.storages.clone();
    let findings = {
        let storages = storages.clone();
        app.db(move |conn| coffer::library::check::check(&storages, conn).unwrap())
            .await
    };
    assert!(findings.is_empty(), "{findings:?}");
    // An object lost in the engine is reported, by the row that names it.
    let key = StorageKey::parse(&key_of(&gone)).unwrap();
    let public = storages.public.clone();
    tokio::task::spawn_blocking(move || public.delete(&key).unwrap())
        .await
        .unwrap();
    let findings = {
        let storages = storages.clone();
        app.db(move |conn| coffer::library::check::check(&storages, conn).unwrap())
            .await
    };
    let gone_id = gone["id"].as_i64().unwrap();
    assert!(
        matches!(
            findings.as_slice(),
            [coffer::library::check::Finding::MissingFile { file_id, storage: StorageRole::Public, .. }]
                if *file_id == gone_id
        ),
        "{findings:?}"
    );
    // Emptying the trash deletes the object from the bucket.
    let id = kept["id"].as_i64().unwrap();
    let (status, body) = app
        .request(
            reqwest::Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (_, trash) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            "/api/v1/trash",
            None,
        )
        .await;
    let entry = trash
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "file" && e["item_id"] == id)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = app
        .request(
            reqwest::Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/trash/{entry}"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !keys(&app, StorageRole::Private).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the object stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn nginx_s3_fetches_the_presigned_object_for_readers_and_shows_nothing_of_the_engine() {
    use crate::web::{Kind, WebServer, free_port};
    let app = spawn_app_with(|cfg| {
        on_s3(cfg);
        for backend in [&mut cfg.server.private, &mut cfg.server.private_thumbnails] {
            *backend = ServeBackendConfig::NginxS3 {
                location: None,
                expires_secs: 30,
            };
        }
    })
    .await;
    let (folder, reader) = readable_folder(&app).await;
    let (_, stranger) = app.user("stranger").await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let file = app
        .upload(&app.admin_token, "Plan B é.bin", &body, Some(folder), false)
        .await;

    // The configuration `coffer nginx-config` prints for this instance.
    let mut settings = (*app.state.settings).clone();
    settings.bind = app.address.trim_start_matches("http://").parse().unwrap();
    let port = free_port();
    let site = coffer::deploy::Site::parse(&format!("127.0.0.1:{port}"), None).unwrap();
    let (generated, warnings) =
        coffer::deploy::render(coffer::deploy::Server::Nginx, &settings, &site).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(
        generated.contains("proxy_hide_header x-amz-meta-sha256;"),
        "{generated}"
    );
    let nginx = WebServer::start(Kind::Nginx, port, &generated);
    let site = |path: &str| format!("http://127.0.0.1:{}{path}", nginx.port);
    let plain = reqwest::Client::new();

    let res = plain
        .get(site(&path_of(&file)))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    assert_eq!(res.bytes().await.unwrap().as_ref(), body.as_slice());
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''Plan%20B%20%C3%A9.bin"),
        "{headers:?}"
    );
    for once in ["cache-control", "content-disposition", "content-type"] {
        assert_eq!(
            headers.get_all(once).iter().count(),
            1,
            "{once}: {headers:?}"
        );
    }
    assert_eq!(headers["cache-control"], "private, no-cache");
    for (name, value) in &headers {
        let (name, value) = (name.as_str(), value.to_str().unwrap_or_default());
        assert!(
            !name.starts_with("x-amz")
                && !name.starts_with("seaweed")
                && name != "x-accel-redirect",
            "the engine's header {name} reached the client: {headers:?}"
        );
        assert!(!value.contains("X-Amz-Signature"), "{name}: {value}");
    }
    // HEAD, through nginx to the engine with a URL signed for HEAD.
    let res = plain
        .head(site(&path_of(&file)))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], "300000");
    // Range, through nginx to the engine.
    let res = plain
        .get(site(&path_of(&file)))
        .bearer_auth(&reader)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &body[100..200]);

    // Nobody else, and not through the internal location.
    for who in [Some(stranger.as_str()), None] {
        let mut req = plain.get(site(&path_of(&file)));
        if let Some(t) = who {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(
            !res.bytes()
                .await
                .unwrap()
                .windows(8)
                .any(|w| w == &body[500..508])
        );
    }
    // `coffer doctor` passes against the generated configuration, and names the fix when
    // nginx lets the engine's headers through.
    let lines = doctor(&app, &site("")).await;
    assert!(lines.iter().all(|l| l.ok), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.check == "private file shows nothing of the object store"),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.check == "private file answers HEAD"));
    let leaky: String = generated
        .lines()
        .filter(|l| !l.contains("proxy_hide_header"))
        .map(|l| format!("{l}\n"))
        .collect();
    let leaky_port = free_port();
    let leaky_nginx = WebServer::start(
        Kind::Nginx,
        leaky_port,
        &leaky.replace(
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{leaky_port}"),
        ),
    );
    let lines = doctor(&app, &format!("http://127.0.0.1:{}", leaky_nginx.port)).await;
    let failed: Vec<_> = lines.iter().filter(|l| !l.ok).collect();
    assert!(
        failed
            .iter()
            .any(|l| l.detail.contains("proxy_hide_header x-amz-")),
        "{lines:#?}"
    );
    drop(leaky_nginx);

    let key = key_of(&file);
    let direct = format!(
        "/_coffer/private/{}/{key}",
        app.state.settings.raw.object_store.as_ref().unwrap().bucket
    );
    let res = plain
        .get(site(&direct))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // An object gone from the engine is a plain 404, nothing of the engine's answer.
    let object = StorageKey::parse(&key).unwrap();
    let private = app.state.library.storages.private.clone();
    tokio::task::spawn_blocking(move || private.delete(&object).unwrap())
        .await
        .unwrap();
    let res = plain
        .get(site(&path_of(&file)))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.text().await.unwrap().contains("NoSuchKey"));
}

/// `coffer --config <config> storage migrate --from <from> [--dry-run]`: exit code and output.
fn storage_migrate(
    config: &std::path::Path,
    from: &std::path::Path,
    dry_run: bool,
) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"));
    command
        .env_remove("COFFER_CONFIG")
        .env_remove("COFFER_DATA_DIR")
        .env("COFFER_LOG", "warn")
        .arg("--config")
        .arg(config)
        .args(["storage", "migrate", "--from"])
        .arg(from);
    if dry_run {
        command.arg("--dry-run");
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Every object of `storages` by role and key, with its bytes.
fn contents(
    storages: &coffer::storage::Storages,
) -> std::collections::BTreeMap<(String, String), Vec<u8>> {
    let mut all = std::collections::BTreeMap::new();
    for role in StorageRole::ALL {
        for key in storages.get(role).walk().unwrap().keys {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut storages
                    .get(role)
                    .reader(&StorageKey::parse(&key).unwrap())
                    .unwrap(),
                &mut bytes,
            )
            .unwrap();
            all.insert((role.as_str().to_owned(), key), bytes);
        }
    }
    all
}

#[actix_web::test]
async fn storage_migrate_copies_a_local_installation_into_the_bucket_and_back() {
    // An installation on local directories, with private, public and image objects.
    let app = spawn_app_with(|_| {}).await;
    let img = image::RgbImage::from_fn(200, 120, |x, y| image::Rgb([x as u8, 40, y as u8]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let photo = app
        .upload(&app.admin_token, "photo.png", &png, None, false)
        .await;
    let id = photo["id"].as_i64().unwrap();
    let (status, _, _) = app
        .get(
            Some(&app.admin_token),
            &format!("/files/{id}/thumbnails/icon-40"),
        )
        .await;
    assert!(status.is_success() || status.is_redirection());
    app.upload(&app.admin_token, "notes.txt", b"private notes", None, false)
        .await;
    app.upload(&app.admin_token, "poster.txt", b"for everyone", None, true)
        .await;
    let local = {
        let storages = app.state.library.storages.clone();
        tokio::task::spawn_blocking(move || contents(&storages))
            .await
            .unwrap()
    };
    assert!(local.len() >= 4, "{:?}", local.keys());

    let work = tempfile::tempdir().unwrap();
    let old = work.path().join("old.toml");
    std::fs::write(&old, toml::to_string(&app.state.settings.raw).unwrap()).unwrap();
    let mut s3 = app.state.settings.raw.clone();
    on_s3(&mut s3);
    let new = work.path().join("new.toml");
    std::fs::write(&new, toml::to_string(&s3).unwrap()).unwrap();

    let (ok, out) = storage_migrate(&new, &old, true);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("would copy {} object(s)", local.len())),
        "{out}"
    );
    let target =
        coffer::storage::Storages::open(&coffer::config::Settings::from_file(s3.clone()).unwrap())
            .unwrap();
    let probe = target.clone();
    let copied = tokio::task::spawn_blocking(move || contents(&probe))
        .await
        .unwrap();
    assert!(copied.is_empty(), "a dry run copied {copied:?}");

    let (ok, out) = storage_migrate(&new, &old, false);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("copied {} object(s)", local.len())),
        "{out}"
    );
    // Interrupted: one object is missing at the target. Run again: only it is copied.
    let ((role, key), _) = local.iter().next().unwrap();
    let (role, key) = (
        StorageRole::parse(role).unwrap(),
        StorageKey::parse(key).unwrap(),
    );
    let lose = target.clone();
    tokio::task::spawn_blocking(move || lose.get(role).delete(&key).unwrap())
        .await
        .unwrap();
    let (ok, out) = storage_migrate(&new, &old, false);
    assert!(ok, "{out}");
    assert!(
        out.contains("copied 1 object(s)")
            && out.contains(&format!("{} already there", local.len() - 1)),
        "{out}"
    );
    let probe = target.clone();
    let in_bucket = tokio::task::spawn_blocking(move || contents(&probe))
        .await
        .unwrap();
    assert_eq!(in_bucket, local);

    // Other bytes under a key at the target: reported, left alone, exit 1.
    let back_dir = tempfile::tempdir().unwrap();
    let mut back = app.state.settings.raw.clone();
    back.data_dir = back_dir.path().to_path_buf();
    let back_file = work.path().join("back.toml");
    std::fs::write(&back_file, toml::to_string(&back).unwrap()).unwrap();
    let back_settings = coffer::config::Settings::from_file(back.clone()).unwrap();
    back_settings.prepare_directories().unwrap();
    let ((role, key), bytes) = local.iter().next().unwrap();
    let planted = back_dir
        .path()
        .join(match role.as_str() {
            "public" => "public",
            "public_thumbnails" => "public-thumbnails",
            "private" => "private",
            _ => "private-thumbnails",
        })
        .join(key);
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(&planted, b"something else").unwrap();
    let (ok, out) = storage_migrate(&back_file, &new, false);
    assert!(!ok, "{out}");
    assert!(out.contains("other bytes"), "{out}");
    assert_eq!(std::fs::read(&planted).unwrap(), b"something else");
    // And back to directories: the same objects, byte for byte.
    std::fs::write(&planted, bytes).unwrap();
    let (ok, out) = storage_migrate(&back_file, &new, false);
    assert!(ok, "{out}");
    let back_storages = coffer::storage::Storages::open(&back_settings).unwrap();
    let returned = tokio::task::spawn_blocking(move || contents(&back_storages))
        .await
        .unwrap();
    assert_eq!(returned, local);
}

/// A download under way when a toggle moves its object (and deletes the source once the
/// move is committed) is sent whole: the object was opened by one GET before the response
/// began, as a file is opened. Small objects came whole with that GET; a large one streams
/// on from it.
#[actix_web::test]
async fn downloads_under_way_are_sent_whole_though_a_toggle_deletes_their_object() {
    let app = app().await;
    for len in [40_000usize, 6_000_000] {
        let body: Vec<u8> = (0..len).map(|i| (i % 239) as u8).collect();
        let file = app
            .upload(&app.admin_token, "moving.bin", &body, None, false)
            .await;
        let id = file["id"].as_i64().unwrap();
        let res = app
            .client
            .get(app.url(&format!("/files/{id}/moving.bin")))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // The headers are in; the move commits and deletes the private object now.
        toggle(&app, id, true).await;
        let gone = key_of(&file);
        assert!(!keys(&app, StorageRole::Private).await.contains(&gone));
        let got = res.bytes().await.unwrap();
        assert_eq!(got.len(), len);
        assert!(got.as_ref() == body.as_slice(), "{len} bytes, whole");
        toggle(&app, id, false).await;
    }
}

/// A loopback relay to the engine that can be held: while held, the bytes it read wait, so
/// the engine looks stalled to whoever talks through it.
struct Relay {
    port: u16,
    held: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn to(upstream: u16) -> Self {
        use std::sync::atomic::AtomicBool;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = std::sync::Arc::new(AtomicBool::new(false));
        let hold = held.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                Self::pump(client, server, hold.clone());
                Self::pump(s2, c2, hold.clone());
            }
        });
        Self { port, held }
    }

    fn pump(
        mut from: std::net::TcpStream,
        mut to: std::net::TcpStream,
        held: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        use std::io::{Read, Write};
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                while held.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    }

    fn hold(&self, held: bool) {
        self.held.store(held, std::sync::atomic::Ordering::SeqCst);
    }
}

#[actix_web::test]
async fn a_stalled_engine_holds_up_only_the_downloads_that_wait_for_it() {
    let engine_port: u16 = engine()
        .endpoint
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let relay = Relay::to(engine_port);
    let app = spawn_app_with(|cfg| {
        on_s3(cfg);
        cfg.object_store.as_mut().unwrap().endpoint = format!("http://127.0.0.1:{}", relay.port);
    })
    .await;
    let file = app
        .upload(&app.admin_token, "notes.txt", b"the bytes", None, false)
        .await;
    let url = app.url(&path_of(&file));

    // The engine stalls under more downloads than the server has workers.
    relay.hold(true);
    let mut waiting = Vec::new();
    for _ in 0..6 {
        let (url, token) = (url.clone(), app.admin_token.clone());
        waiting.push(actix_web::rt::spawn(async move {
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .unwrap();
            (res.status(), res.bytes().await.unwrap())
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Everything that needs no engine is answered meanwhile, at once.
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    for path in ["/healthz", "/login"] {
        let res = quick.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    // Readiness says the instance cannot do its work, within its time limit, rather than
    // waiting on the engine.
    let res = reqwest::Client::new()
        .get(app.url("/readyz"))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The engine answers again: every download that waited gets its bytes.
    relay.hold(false);
    for w in waiting {
        let (status, body) = w.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), b"the bytes");
    }
}

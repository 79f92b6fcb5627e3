//! Images and thumbnails over HTTP: metadata read at upload, the admin presets made in the
//! background, every format, every EXIF orientation, focal-point crops, the private
//! thumbnail view (reference S6–S13), moves, deletion, hostile files and the CLI.

use coffer::storage::StorageRole;
use image::{DynamicImage, GenericImageView};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, path_of, spawn_app, spawn_app_with};

use crate::pictures::{self, decode, mean, near};

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 20];
const BLUE: [u8; 3] = [20, 20, 230];
const YELLOW: [u8; 3] = [230, 230, 20];

/// Waits until the background queue is empty.
pub async fn settle(app: &TestApp) {
    let t = app.state.library.thumbnails.clone();
    tokio::task::spawn_blocking(move || t.wait_idle())
        .await
        .unwrap();
}

async fn file(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app
        .request(
            reqwest::Method::GET,
            Some(token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn fetch(app: &TestApp, token: Option<&str>, url: &str) -> (StatusCode, String, Vec<u8>) {
    let (status, headers, body) = app.get(token, url).await;
    let ct = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, body)
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

#[actix_web::test]
async fn a_photo_gets_its_metadata_and_the_admin_presets() {
    let app = spawn_app().await;
    let bytes = pictures::jpeg(
        &pictures::photo(640, 480),
        Some(pictures::exif(1, Some("2021:07:14 18:30:05"))),
    );
    let up = app
        .upload(&app.admin_token, "holiday.jpg", &bytes, None, false)
        .await;
    assert_eq!(up["mime_type"], "image/jpeg");
    assert_eq!(up["image"]["width"], 640);
    assert_eq!(up["image"]["height"], 480);
    assert_eq!(up["image"]["date_taken"], "2021-07-14T18:30:05");
    assert_eq!(up["image"]["subject_location"], Value::Null);
    assert_eq!(up["thumbnail_error"], Value::Null);
    settle(&app).await;
    let f = file(&app, &app.admin_token, id(&up)).await;
    let thumbs = f["thumbnails"].as_object().unwrap();
    let names: Vec<&str> = thumbs.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "icon-120",
            "icon-240",
            "icon-40",
            "icon-80",
            "preview-210",
            "preview-420"
        ]
    );
    let key = path_of(&f).trim_start_matches("/private/files/").to_owned();
    for (name, size) in [
        ("icon-40", (40, 40)),
        ("icon-80", (80, 80)),
        ("icon-120", (120, 120)),
        ("icon-240", (240, 240)),
        ("preview-210", (210, 158)),
        ("preview-420", (420, 315)),
    ] {
        let url = thumbs[name].as_str().unwrap();
        assert!(
            url.starts_with(&format!("/private/thumbnails/{key}__")),
            "{url}"
        );
        assert!(url.ends_with(".jpg"), "{url}");
        let (status, ct, body) = fetch(&app, Some(&app.admin_token), url).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(ct, "image/jpeg");
        assert_eq!(decode(&body).dimensions(), size, "{name}");
        // Metadata is stripped: no EXIF segment in the thumbnail.
        assert!(!body.windows(6).any(|w| w == b"Exif\0\0"), "{name}");
    }
    assert!(
        thumbs["icon-40"]
            .as_str()
            .unwrap()
            .ends_with("__40x40_crop_q85.jpg")
    );
    assert!(
        thumbs["preview-210"]
            .as_str()
            .unwrap()
            .ends_with("__210x0_upscale_q85.jpg")
    );
    // Listing shows the same.
    let (_, listing) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            "/api/v1/folders",
            None,
        )
        .await;
    assert_eq!(listing["files"][0]["thumbnails"], f["thumbnails"]);
}

#[actix_web::test]
async fn every_format_gets_thumbnails_in_the_right_output_format() {
    let app = spawn_app().await;
    let pic = DynamicImage::ImageRgb8(pictures::quadrants(300, 200));
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "a.jpg",
            pictures::jpeg(&pictures::quadrants(300, 200), None),
            "image/jpeg",
            "jpg",
        ),
        (
            "a.png",
            pictures::encode(&pic, image::ImageFormat::Png),
            "image/png",
            "jpg",
        ),
        (
            "t.png",
            pictures::transparent_png(300, 200),
            "image/png",
            "png",
        ),
        (
            "a.gif",
            pictures::encode(&pic, image::ImageFormat::Gif),
            "image/gif",
            "jpg",
        ),
        (
            "a.webp",
            pictures::encode(&pic, image::ImageFormat::WebP),
            "image/webp",
            "jpg",
        ),
        (
            "a.bmp",
            pictures::encode(&pic, image::ImageFormat::Bmp),
            "image/bmp",
            "jpg",
        ),
        (
            "a.tif",
            pictures::encode(&pic, image::ImageFormat::Tiff),
            "image/tiff",
            "jpg",
        ),
    ];
    for (name, bytes, mime, ext) in cases {
        let up = app.upload(&app.admin_token, name, &bytes, None, true).await;
        assert_eq!(up["mime_type"], mime, "{name}");
        assert_eq!(up["image"]["width"], 300, "{name}");
        assert_eq!(up["image"]["height"], 200, "{name}");
        settle(&app).await;
        let f = file(&app, &app.admin_token, id(&up)).await;
        assert_eq!(f["thumbnail_error"], Value::Null, "{name}: {f}");
        let icon = f["thumbnails"]["icon-120"].as_str().unwrap().to_owned();
        assert!(icon.starts_with("/media/thumbnails/"), "{icon}");
        assert!(icon.ends_with(&format!(".{ext}")), "{name}: {icon}");
        // Public thumbnails are public: no credentials needed.
        let (status, ct, body) = fetch(&app, None, &icon).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(
            ct,
            if ext == "png" {
                "image/png"
            } else {
                "image/jpeg"
            },
            "{name}"
        );
        let thumb = decode(&body);
        assert_eq!(thumb.dimensions(), (120, 120), "{name}");
        if ext == "png" {
            // The transparent half stays transparent.
            assert_eq!(thumb.to_rgba8().get_pixel(115, 60).0[3], 0, "{name}");
        } else {
            // The centre crop keeps the four quadrants in place.
            assert!(near(mean(&thumb, 5, 5, 20, 20), RED, 40), "{name}");
            assert!(near(mean(&thumb, 100, 100, 115, 115), YELLOW, 40), "{name}");
        }
    }
}

#[actix_web::test]
async fn all_eight_exif_orientations_are_applied() {
    let app = spawn_app().await;
    // What the viewer should see: 300 × 200, red top left, yellow bottom right.
    let upright = DynamicImage::ImageRgb8(pictures::quadrants(300, 200));
    for orientation in 1..=8u16 {
        // Store the pixels so that applying the orientation gives `upright`.
        let stored = match orientation {
            1 => upright.clone(),
            2 => upright.fliph(),
            3 => upright.rotate180(),
            4 => upright.flipv(),
            5 => upright.rotate90().fliph(),
            6 => upright.rotate270(),
            7 => upright.rotate270().fliph(),
            _ => upright.rotate90(),
        };
        let bytes = pictures::jpeg(&stored.to_rgb8(), Some(pictures::exif(orientation, None)));
        let name = format!("o{orientation}.jpg");
        let up = app
            .upload(&app.admin_token, &name, &bytes, None, true)
            .await;
        assert_eq!(up["image"]["width"], 300, "orientation {orientation}");
        assert_eq!(up["image"]["height"], 200, "orientation {orientation}");
        settle(&app).await;
        let f = file(&app, &app.admin_token, id(&up)).await;
        let (_, _, body) =
            fetch(&app, None, f["thumbnails"]["preview-210"].as_str().unwrap()).await;
        let thumb = decode(&body);
        assert_eq!(thumb.dimensions(), (210, 140), "orientation {orientation}");
        for (x, y, colour) in [
            (20, 20, RED),
            (190, 20, GREEN),
            (20, 120, BLUE),
            (190, 120, YELLOW),
        ] {
            let seen = mean(&thumb, x - 10, y - 10, x + 10, y + 10);
            assert!(
                near(seen, colour, 40),
                "orientation {orientation} at ({x}, {y}): {seen:?}"
            );
        }
    }
}

#[actix_web::test]
async fn crops_follow_the_focal_point() {
    let app = spawn_app().await;
    // 400 × 200: green everywhere but a red square around (250, 100).
    let img = image::RgbImage::from_fn(400, 200, |x, y| {
        if (220..280).contains(&x) && (70..130).contains(&y) {
            image::Rgb(RED)
        } else {
            image::Rgb(GREEN)
        }
    });
    let up = app
        .upload(
            &app.admin_token,
            "focus.png",
            &pictures::encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Png),
            None,
            true,
        )
        .await;
    let fid = id(&up);
    settle(&app).await;
    let before = file(&app, &app.admin_token, fid).await;
    let centre = decode(
        &fetch(
            &app,
            None,
            before["thumbnails"]["icon-40"].as_str().unwrap(),
        )
        .await
        .2,
    );
    assert!(near(mean(&centre, 15, 15, 25, 25), GREEN, 40));

    let (status, patched) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"subject_location": {"x": 250, "y": 100}, "alt_text": "A red square", "caption": "Line one\nline two"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["image"]["subject_location"],
        json!({"x": 250, "y": 100})
    );
    assert_eq!(patched["image"]["alt_text"], "A red square");
    assert_eq!(patched["image"]["caption"], "Line one\nline two");
    // The old centred crop is gone, the preview (no crop) is kept.
    assert!(
        app.stored_bytes(
            coffer::storage::StorageRole::PublicThumbnails,
            before["thumbnails"]["icon-40"]
                .as_str()
                .unwrap()
                .trim_start_matches("/media/thumbnails/")
        )
        .await
        .is_none()
    );
    assert_eq!(
        patched["thumbnails"]["preview-210"],
        before["thumbnails"]["preview-210"]
    );
    // The new crops are queued; until they exist the URL is the one that makes them.
    let pending = patched["thumbnails"]["icon-40"].as_str().unwrap();
    assert!(
        pending == format!("/files/{fid}/thumbnails/icon-40")
            || pending.contains("_subject-250-100_"),
        "{pending}"
    );
    settle(&app).await;
    let after = file(&app, &app.admin_token, fid).await;
    let icon = after["thumbnails"]["icon-40"].as_str().unwrap().to_owned();
    assert!(
        icon.contains("__40x40_crop_subject-250-100_q85.jpg"),
        "{icon}"
    );
    let (status, _, body) = fetch(&app, None, &icon).await;
    assert_eq!(status, StatusCode::OK);
    let focused = decode(&body);
    assert!(
        near(mean(&focused, 15, 15, 25, 25), RED, 40),
        "{:?}",
        mean(&focused, 15, 15, 25, 25)
    );

    // Bad values are refused and change nothing.
    for body in [
        json!({"subject_location": {"x": 400, "y": 10}}),
        json!({"subject_location": {"x": -1, "y": 10}}),
        json!({"subject_location": "350,100"}),
        json!({"alt_text": "x".repeat(256)}),
        json!({"alt_text": "bell\u{7}"}),
    ] {
        let (status, err) = app
            .request(
                reqwest::Method::PATCH,
                Some(&app.admin_token),
                &format!("/api/v1/files/{fid}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
    }
    let (status, cleared) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"subject_location": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared["image"]["subject_location"], Value::Null);
    assert_eq!(cleared["image"]["alt_text"], "A red square");
    // Image fields on a file that is not an image.
    let txt = app
        .upload(&app.admin_token, "a.txt", b"hello", None, false)
        .await;
    let (status, err) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{}", id(&txt)),
            Some(json!({"alt_text": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"].as_str().unwrap().contains("not an image"),
        "{err}"
    );
    // Editing needs the edit right.
    let (_, other) = app.user("other").await;
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            Some(&other),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"alt_text": "mine"})),
        )
        .await;
    assert_ne!(status, StatusCode::OK);
}

/// A PATCH that mixes image fields with file fields saves all of them or none.
#[actix_web::test]
async fn image_and_file_fields_are_patched_together_or_not_at_all() {
    let app = spawn_app().await;
    let up = app
        .upload(
            &app.admin_token,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(120, 90), None),
            None,
            false,
        )
        .await;
    let fid = id(&up);
    for body in [
        json!({"alt_text": "a cat", "subject_location": {"x": 10, "y": 10}, "name": "a/b"}),
        json!({"name": "cat.jpg", "caption": "bell\u{7}"}),
    ] {
        let (status, err) = app
            .request(
                reqwest::Method::PATCH,
                Some(&app.admin_token),
                &format!("/api/v1/files/{fid}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        let f = file(&app, &app.admin_token, fid).await;
        assert_eq!(f["name"], "photo.jpg", "{body}");
        assert_eq!(f["image"], up["image"], "{body}");
    }
    let (status, f) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"alt_text": "a cat", "name": "cat.jpg"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(
        (f["name"].as_str(), f["image"]["alt_text"].as_str()),
        (Some("cat.jpg"), Some("a cat"))
    );
}

/// Reference S6–S13 with real thumbnails: the source's read permission decides, the
/// thumbnail is found through its row and sent with its own type.
#[actix_web::test]
async fn private_thumbnails_go_through_the_checked_view() {
    let app = spawn_app().await;
    let (other_id, other) = app.user("other").await;
    let folder = app.folder(&app.admin_token, "photos", None).await;
    let jpg = app
        .upload(
            &app.admin_token,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(200, 100), None),
            Some(folder),
            false,
        )
        .await;
    let png = app
        .upload(
            &app.admin_token,
            "flat.png",
            &pictures::encode(
                &DynamicImage::ImageRgb8(pictures::quadrants(200, 100)),
                image::ImageFormat::Png,
            ),
            Some(folder),
            false,
        )
        .await;
    let alpha = app
        .upload(
            &app.admin_token,
            "alpha.png",
            &pictures::transparent_png(200, 100),
            Some(folder),
            false,
        )
        .await;
    settle(&app).await;
    let jpg = file(&app, &app.admin_token, id(&jpg)).await;
    let icon = jpg["thumbnails"]["icon-80"].as_str().unwrap().to_owned();
    // S9: the owner (superuser) gets the 80 × 80 crop of the 200 × 100 JPEG.
    let (status, ct, body) = fetch(&app, Some(&app.admin_token), &icon).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(decode(&body).dimensions(), (80, 80));
    // S8: anonymous → 404; a user without a rule → 404; with a read rule → 200 (S14).
    assert_eq!(fetch(&app, None, &icon).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(&app, Some(&other), &icon).await.0,
        StatusCode::NOT_FOUND
    );
    app.rule(json!({"folder_id": folder, "type": "this", "user_id": other_id, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    assert_eq!(fetch(&app, Some(&other), &icon).await.0, StatusCode::OK);
    // S11: thumbnails carry their own type: a JPEG thumbnail of an opaque PNG is image/jpeg,
    // a transparent PNG's thumbnail is image/png.
    let png = file(&app, &app.admin_token, id(&png)).await;
    let (_, ct, _) = fetch(
        &app,
        Some(&app.admin_token),
        png["thumbnails"]["icon-40"].as_str().unwrap(),
    )
    .await;
    assert_eq!(ct, "image/jpeg");
    let alpha = file(&app, &app.admin_token, id(&alpha)).await;
    let (_, ct, _) = fetch(
        &app,
        Some(&app.admin_token),
        alpha["thumbnails"]["icon-40"].as_str().unwrap(),
    )
    .await;
    assert_eq!(ct, "image/png");
    // S6, S7, S12, S13: no delimiter, unknown source, a spec never made, `..` after `__`.
    let key = path_of(&jpg)
        .trim_start_matches("/private/files/")
        .to_owned();
    for url in [
        "/private/thumbnails/no_delimiter.jpg".to_owned(),
        "/private/thumbnails/nonexistent__100x100_q85.jpg".to_owned(),
        format!("/private/thumbnails/{key}__100x100_q85.jpg"),
        format!("/private/thumbnails/{key}__../../x.jpg"),
        format!("/private/thumbnails/{key}__%2e%2e/x.jpg"),
    ] {
        assert_eq!(
            fetch(&app, Some(&app.admin_token), &url).await.0,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    // S10: conditional requests work on thumbnails too.
    let (_, headers, _) = app.get(Some(&app.admin_token), &icon).await;
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = app
        .get_with(Some(&app.admin_token), &icon, &[("if-none-match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
}

#[actix_web::test]
async fn other_presets_are_made_on_first_request() {
    let app = spawn_app_with(|c| {
        c.thumbnails.presets.insert(
            "banner".into(),
            coffer::config::PresetConfig {
                width: 300,
                height: 100,
                crop: true,
                upscale: false,
                quality: 80,
                format: coffer::images::OutputFormat::Webp,
                eager: false,
            },
        );
    })
    .await;
    let up = app
        .upload(
            &app.admin_token,
            "wide.jpg",
            &pictures::jpeg(&pictures::photo(900, 600), None),
            None,
            false,
        )
        .await;
    let fid = id(&up);
    settle(&app).await;
    let f = file(&app, &app.admin_token, fid).await;
    // Not made after upload: the URL is the one that makes it.
    let lazy = format!("/files/{fid}/thumbnails/banner");
    assert_eq!(f["thumbnails"]["banner"], lazy.as_str());
    assert!(
        f["thumbnails"]["icon-40"]
            .as_str()
            .unwrap()
            .starts_with("/private/thumbnails/")
    );
    // Anonymous callers may not read the private source: 404, and nothing is made.
    assert_eq!(fetch(&app, None, &lazy).await.0, StatusCode::NOT_FOUND);
    let made = app
        .db(move |c| {
            coffer::db::models::thumbnail::for_file(c, fid)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(made, 6);
    // Many requests at once: all answered with the same thumbnail, made once.
    let mut waiting = Vec::new();
    for _ in 0..6 {
        let (client, url, token) = (app.client.clone(), app.url(&lazy), app.admin_token.clone());
        waiting.push(tokio::spawn(async move {
            let res = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = res.status();
            let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
            (status, ct, res.bytes().await.unwrap().to_vec())
        }));
    }
    let mut bodies = Vec::new();
    for w in waiting {
        let (status, ct, body) = w.await.unwrap();
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/webp"));
        bodies.push(body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1);
    assert_eq!(decode(&bodies[0]).dimensions(), (300, 100));
    let made = app
        .db(move |c| {
            coffer::db::models::thumbnail::for_file(c, fid)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(made, 7);
    // Unknown presets and files that are not images: 404.
    assert_eq!(
        fetch(
            &app,
            Some(&app.admin_token),
            &format!("/files/{fid}/thumbnails/huge")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let txt = app
        .upload(&app.admin_token, "a.txt", b"text", None, false)
        .await;
    assert_eq!(
        fetch(
            &app,
            Some(&app.admin_token),
            &format!("/files/{}/thumbnails/icon-40", id(&txt))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(txt["image"], Value::Null);
    assert_eq!(txt["thumbnails"], json!({}));
    assert_eq!(txt["icon"], "/static/icons/text.svg");
    let (status, ct, body) = fetch(&app, None, "/static/icons/text.svg").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/svg+xml"));
    assert!(String::from_utf8_lossy(&body).contains("<svg"));
}

#[actix_web::test]
async fn thumbnails_follow_a_toggle_both_ways_and_go_with_the_file() {
    let app = spawn_app().await;
    let up = app
        .upload(
            &app.admin_token,
            "move.jpg",
            &pictures::jpeg(&pictures::photo(300, 200), None),
            None,
            false,
        )
        .await;
    let fid = id(&up);
    settle(&app).await;
    let (public, private) = (
        StorageRole::PublicThumbnails,
        StorageRole::PrivateThumbnails,
    );
    assert_eq!(app.stored_keys(private).await.len(), 6);
    assert!(app.stored_keys(public).await.is_empty());
    for to_public in [true, false, true] {
        let (status, f) = app
            .request(
                reqwest::Method::PATCH,
                Some(&app.admin_token),
                &format!("/api/v1/files/{fid}"),
                Some(json!({"is_public": to_public})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{f}");
        let (here, there) = if to_public {
            (&public, &private)
        } else {
            (&private, &public)
        };
        assert_eq!(
            app.stored_keys(*here).await.len(),
            6,
            "public = {to_public}"
        );
        assert!(
            app.stored_keys(*there).await.is_empty(),
            "public = {to_public}"
        );
        let base = if to_public {
            "/media/thumbnails/"
        } else {
            "/private/thumbnails/"
        };
        let key = path_of(&f).split('/').skip(3).collect::<Vec<_>>().join("/");
        for (_, url) in f["thumbnails"].as_object().unwrap() {
            let url = url.as_str().unwrap();
            assert!(url.starts_with(&format!("{base}{key}__")), "{url}");
            let (status, _, _) = fetch(&app, Some(&app.admin_token), url).await;
            assert_eq!(status, StatusCode::OK, "{url}");
        }
    }
    // Dropping the thumbnails (what replacing the content does) removes rows and objects;
    // they are made again on request.
    let st = app.state.clone();
    let dropped = app
        .db(move |c| {
            coffer::library::thumbnails::forget_thumbnails(&st.library.thumbnails, c, fid, |_| true)
                .unwrap()
        })
        .await;
    assert_eq!(dropped, 6);
    assert!(app.stored_keys(public).await.is_empty());
    let f = file(&app, &app.admin_token, fid).await;
    assert_eq!(
        f["thumbnails"]["icon-40"],
        format!("/files/{fid}/thumbnails/icon-40").as_str()
    );
    let (status, ct, body) = fetch(&app, None, &format!("/files/{fid}/thumbnails/icon-40")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("image/"), "{ct}");
    assert!(!body.is_empty());
    assert_eq!(app.stored_keys(public).await.len(), 1);
    // The trash takes the file and its thumbnails out of the public storage; deleting it
    // permanently removes the rest.
    let (status, _) = app
        .request(
            reqwest::Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{fid}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.stored_keys(public).await.is_empty());
    assert!(!app.stored_keys(private).await.is_empty());
    // No thumbnail of a trashed image is delivered, by preset or by its private key.
    for thumb in app.stored_keys(private).await {
        let (status, _, _) = fetch(
            &app,
            Some(&app.admin_token),
            &format!("/private/thumbnails/{thumb}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{thumb}");
    }
    for preset in ["icon-40", "preview-420"] {
        let (status, _, _) = fetch(
            &app,
            Some(&app.admin_token),
            &format!("/files/{fid}/thumbnails/{preset}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, trash) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            "/api/v1/trash",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let entry = trash[0]["id"].as_i64().unwrap();
    let (status, _) = app
        .request(
            reqwest::Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/trash/{entry}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.stored_keys(public).await.is_empty() && app.stored_keys(private).await.is_empty());
}

/// Hostile and broken files are stored, get a clear reason instead of thumbnails, and the
/// server keeps serving.
#[actix_web::test]
async fn bombs_and_broken_files_are_refused_cleanly() {
    let app = spawn_app().await;
    let photo = pictures::jpeg(&pictures::photo(400, 300), None);
    let png = pictures::encode(
        &DynamicImage::ImageRgb8(pictures::photo(400, 300)),
        image::ImageFormat::Png,
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bomb.png",
            pictures::png_declaring(100_000, 100_000),
            "above the limit",
        ),
        (
            "bomb.jpg",
            pictures::jpeg_declaring(60_000, 60_000),
            "above the limit",
        ),
        ("cut.jpg", photo[..photo.len() / 2].to_vec(), "truncated"),
        ("cut.png", png[..png.len() / 2].to_vec(), ""),
        ("header-only.jpg", photo[..300].to_vec(), ""),
    ];
    for (name, bytes, reason) in cases {
        let (status, up) = app
            .try_upload(&app.admin_token, name, &bytes, None, false)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {up}");
        settle(&app).await;
        let f = file(&app, &app.admin_token, id(&up)).await;
        let error = f["thumbnail_error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {f}"));
        assert!(error.contains(reason), "{name}: {error}");
        assert_eq!(f["thumbnails"], json!({}), "{name}");
        // The URL that would make a thumbnail sends the type icon instead, never a 500.
        let (status, headers, _) = app
            .get(
                Some(&app.admin_token),
                &format!("/files/{}/thumbnails/icon-40", id(&up)),
            )
            .await;
        if f["image"].is_null() {
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
        } else {
            assert_eq!(status, StatusCode::FOUND, "{name}");
            assert_eq!(headers["location"], "/static/icons/image.svg", "{name}");
        }
        // The bytes are kept: the owner can still download the file as it is.
        let (status, _, body) = app.get(Some(&app.admin_token), &path_of(&f)).await;
        assert_eq!(
            (status, body.len()),
            (StatusCode::OK, bytes.len()),
            "{name}"
        );
    }
    let bomb = app
        .upload(
            &app.admin_token,
            "bomb2.png",
            &pictures::png_declaring(100_000, 100_000),
            None,
            false,
        )
        .await;
    assert_eq!(bomb["image"]["width"], 100_000);
    assert!(
        bomb["thumbnail_error"]
            .as_str()
            .unwrap()
            .contains("10000 megapixels"),
        "{bomb}"
    );
    // A text file named .jpg is text, not an image.
    let fake = app
        .upload(
            &app.admin_token,
            "fake.jpg",
            b"this is not a picture\n",
            None,
            false,
        )
        .await;
    assert_eq!(fake["mime_type"], "text/plain");
    assert_eq!(fake["image"], Value::Null);
    assert_eq!(fake["thumbnail_error"], Value::Null);
    // A GIF with thousands of frames: only the first is decoded.
    let gif = app
        .upload(
            &app.admin_token,
            "long.gif",
            &pictures::many_frame_gif(3000),
            None,
            false,
        )
        .await;
    settle(&app).await;
    let gif = file(&app, &app.admin_token, id(&gif)).await;
    assert_eq!(gif["thumbnail_error"], Value::Null, "{gif}");
    let (status, _, body) = fetch(
        &app,
        Some(&app.admin_token),
        gif["thumbnails"]["icon-40"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(near(mean(&decode(&body), 10, 10, 30, 30), [0, 90, 160], 12));
    // Still serving, and a good photo still gets its thumbnails.
    let good = app
        .upload(&app.admin_token, "good.jpg", &photo, None, false)
        .await;
    settle(&app).await;
    let good = file(&app, &app.admin_token, id(&good)).await;
    assert_eq!(good["thumbnail_error"], Value::Null);
    assert_eq!(
        fetch(
            &app,
            Some(&app.admin_token),
            good["thumbnails"]["icon-40"].as_str().unwrap()
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn the_time_limit_and_the_memory_cap_are_enforced() {
    let app = spawn_app_with(|c| {
        c.thumbnails.time_limit_secs = Some(0.000_001);
    })
    .await;
    let up = app
        .upload(
            &app.admin_token,
            "slow.jpg",
            &pictures::jpeg(&pictures::photo(2000, 1500), None),
            None,
            false,
        )
        .await;
    settle(&app).await;
    let f = file(&app, &app.admin_token, id(&up)).await;
    assert!(
        f["thumbnail_error"]
            .as_str()
            .unwrap()
            .contains("took longer than the limit"),
        "{f}"
    );

    let app = spawn_app_with(|c| {
        c.images.max_decode_memory = bytesize::ByteSize::mib(2);
    })
    .await;
    let png = pictures::encode(
        &DynamicImage::ImageRgb8(pictures::photo(1200, 1000)),
        image::ImageFormat::Png,
    );
    let up = app
        .upload(&app.admin_token, "big.png", &png, None, false)
        .await;
    settle(&app).await;
    let f = file(&app, &app.admin_token, id(&up)).await;
    assert!(
        f["thumbnail_error"].as_str().unwrap().contains("memory"),
        "{f}"
    );
    // A JPEG of the same size needs little memory at 1/8 scale: fine.
    let up = app
        .upload(
            &app.admin_token,
            "big.jpg",
            &pictures::jpeg(&pictures::photo(1200, 1000), None),
            None,
            false,
        )
        .await;
    settle(&app).await;
    let f = file(&app, &app.admin_token, id(&up)).await;
    assert_eq!(f["thumbnail_error"], Value::Null, "{f}");
}

#[actix_web::test]
async fn image_objects_have_exactly_the_documented_fields() {
    let app = spawn_app().await;
    let up = app
        .upload(
            &app.admin_token,
            "p.jpg",
            &pictures::jpeg(&pictures::photo(64, 48), None),
            None,
            false,
        )
        .await;
    let mut keys: Vec<_> = up["image"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "alt_text",
            "caption",
            "date_taken",
            "height",
            "subject_location",
            "width"
        ]
    );
    assert_eq!(up["image"]["date_taken"], Value::Null);
    assert_eq!(up["icon"], "/static/icons/image.svg");
}

/// What replacing a file's content will do: new bytes under a new key, then
/// `library::image_files::refresh` reads the new header, keeps the texts, drops the old
/// thumbnails and makes new ones.
#[actix_web::test]
async fn new_content_gets_new_metadata_and_thumbnails() {
    let app = spawn_app().await;
    let up = app
        .upload(
            &app.admin_token,
            "old.jpg",
            &pictures::jpeg(&pictures::photo(300, 200), None),
            None,
            false,
        )
        .await;
    let fid = id(&up);
    settle(&app).await;
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"alt_text": "kept", "subject_location": {"x": 290, "y": 10}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    settle(&app).await;
    let old = file(&app, &app.admin_token, fid).await;
    let old_icon = old["thumbnails"]["icon-40"].as_str().unwrap().to_owned();
    let st = app.state.clone();
    app.db(move |conn| {
        let key = st.settings.path_generator.generate("new.png");
        let bytes = pictures::encode(
            &DynamicImage::ImageRgb8(pictures::quadrants(100, 80)),
            image::ImageFormat::Png,
        );
        st.library.storages.private.put_bytes(&key, &bytes).unwrap();
        coffer::db::models::file::set_content(
            conn,
            fid,
            key.as_str(),
            "new.png",
            bytes.len() as i64,
            "0",
            "image/png",
        )
        .unwrap();
        coffer::library::image_files::refresh(&st.library, conn, fid).unwrap();
    })
    .await;
    settle(&app).await;
    let new = file(&app, &app.admin_token, fid).await;
    assert_eq!(
        (
            new["image"]["width"].as_i64(),
            new["image"]["height"].as_i64()
        ),
        (Some(100), Some(80))
    );
    assert_eq!(new["image"]["alt_text"], "kept");
    // The focal point lay outside the new picture: dropped.
    assert_eq!(new["image"]["subject_location"], Value::Null);
    assert_eq!(
        fetch(&app, Some(&app.admin_token), &old_icon).await.0,
        StatusCode::NOT_FOUND
    );
    let icon = new["thumbnails"]["icon-40"].as_str().unwrap();
    assert!(icon.contains("new.png__40x40_crop_q85.jpg"), "{icon}");
    let (status, _, body) = fetch(&app, Some(&app.admin_token), icon).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decode(&body).dimensions(), (40, 40));
}

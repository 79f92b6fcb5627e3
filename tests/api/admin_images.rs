//! Images in the admin: thumbnails in the folder browser (or the type icon, with the reason
//! when they cannot be made), the file page's preview and facts, alt text, caption and the
//! focal point saved from the file form, and replacing an image's content.

use coffer::storage::StorageRole;
use image::DynamicImage;
use reqwest::StatusCode;
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};

use crate::admin::{admin_client, select_attr, texts};
use crate::auth::log_in;
use crate::helpers::{TestApp, client, spawn_app};
use crate::pictures::{self, decode, mean, near};
use crate::thumbnails::settle;

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 20];

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

async fn api_file(app: &TestApp, id: i64) -> Value {
    let (status, body) = app.file_json(id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Posts the file form (name and description left empty, the file stays private) with
/// `fields`; returns the status and the flash shown on the file page afterwards.
async fn save(
    c: &reqwest::Client,
    app: &TestApp,
    id: i64,
    token: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form = vec![("csrf_token", token), ("name", ""), ("description", "")];
    form.extend_from_slice(fields);
    let res = c
        .post(app.url(&format!("/admin/files/{id}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    if status != StatusCode::SEE_OTHER {
        return (status, String::new());
    }
    let html = page(c, app, &format!("/admin/files/{id}")).await;
    (status, texts(&html, "p.flash").join(" "))
}

/// The listing row (table view) or grid item (thumbnail view) of the file `id`.
fn item_of<'a>(doc: &'a Html, id: i64) -> ElementRef<'a> {
    let sel = Selector::parse("tr.file, li.file").unwrap();
    let link = format!("/admin/files/{id}");
    doc.select(&sel)
        .find(|e| {
            e.select(&Selector::parse("a").unwrap())
                .any(|a| a.value().attr("href") == Some(link.as_str()))
        })
        .unwrap_or_else(|| panic!("file {id} is listed"))
}

fn img_in(item: ElementRef<'_>) -> Option<scraper::node::Element> {
    item.select(&Selector::parse("img").unwrap())
        .next()
        .map(|e| e.value().clone())
}

fn icon_in(item: ElementRef<'_>) -> Option<(String, Option<String>)> {
    item.select(&Selector::parse(".ficon").unwrap())
        .next()
        .map(|e| {
            (
                e.text().collect::<String>(),
                e.value().attr("title").map(str::to_owned),
            )
        })
}

/// The thumbnail rows of a file: (spec, storage key).
async fn thumbnail_rows(app: &TestApp, id: i64) -> Vec<(String, String)> {
    app.db(move |conn| {
        coffer::db::models::thumbnail::for_file(conn, id)
            .unwrap()
            .into_iter()
            .map(|t| (t.spec, t.storage_key))
            .collect()
    })
    .await
}

/// 400 × 200, green but for a red square around (250, 100).
fn red_square_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(400, 200, |x, y| {
        if (220..280).contains(&x) && (70..130).contains(&y) {
            image::Rgb(RED)
        } else {
            image::Rgb(GREEN)
        }
    });
    pictures::encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Png)
}

/// The picture a thumbnail URL of the page sends (with the page's session).
async fn picture(c: &reqwest::Client, app: &TestApp, url: &str) -> DynamicImage {
    let res = c.get(app.url(url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    decode(&res.bytes().await.unwrap())
}

#[actix_web::test]
async fn listings_show_thumbnails_of_images_and_type_icons_of_the_rest() {
    let app = spawn_app().await;
    let f = app.folder(&app.admin_token, "mixed", None).await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(640, 480), None),
            Some(f),
            false,
        )
        .await);
    let small = id(&app
        .upload(
            &app.admin_token,
            "small.png",
            &pictures::encode(
                &DynamicImage::ImageRgb8(pictures::quadrants(30, 20)),
                image::ImageFormat::Png,
            ),
            Some(f),
            true,
        )
        .await);
    let text = id(&app
        .upload(&app.admin_token, "notes.txt", b"hello", Some(f), false)
        .await);
    let svg = id(&app
        .upload(
            &app.admin_token,
            "drawing.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
            Some(f),
            false,
        )
        .await);
    settle(&app).await;
    let (c, _) = admin_client(&app, "admin").await;

    let table = Html::parse_document(&page(&c, &app, &format!("/admin/folders/{f}")).await);
    let img = img_in(item_of(&table, photo)).expect("the photo shows its thumbnail");
    assert_eq!(
        img.attr("src"),
        Some(format!("/files/{photo}/thumbnails/icon-40").as_str())
    );
    assert_eq!(
        img.attr("srcset"),
        Some(format!("/files/{photo}/thumbnails/icon-80 2x").as_str())
    );
    assert_eq!(
        (img.attr("width"), img.attr("height")),
        (Some("40"), Some("40"))
    );
    assert_eq!(img.attr("loading"), Some("lazy"));
    assert_eq!(img.attr("alt"), Some("photo.jpg"), "no alt text: the name");
    // A public image goes through the same checked URL; crops never enlarge it.
    let img = img_in(item_of(&table, small)).expect("the small image shows its thumbnail");
    assert_eq!(
        img.attr("src"),
        Some(format!("/files/{small}/thumbnails/icon-40").as_str())
    );
    assert_eq!(
        (img.attr("width"), img.attr("height")),
        (Some("30"), Some("20"))
    );
    for (other, label) in [(text, "TXT"), (svg, "IMG")] {
        let item = item_of(&table, other);
        assert!(img_in(item).is_none(), "file {other} has no thumbnail");
        assert_eq!(icon_in(item), Some((label.to_owned(), None)));
    }
    // The URLs work with the admin's session: the private photo's thumbnail is 40 × 40.
    let thumb = picture(&c, &app, &format!("/files/{photo}/thumbnails/icon-40")).await;
    assert_eq!((thumb.width(), thumb.height()), (40, 40));
    let res = reqwest::get(app.url(&format!("/files/{photo}/thumbnails/icon-40")))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a private thumbnail is checked"
    );

    let grid =
        Html::parse_document(&page(&c, &app, &format!("/admin/folders/{f}?view=thumbs")).await);
    let img = img_in(item_of(&grid, photo)).expect("the photo shows its thumbnail");
    assert_eq!(
        img.attr("src"),
        Some(format!("/files/{photo}/thumbnails/icon-120").as_str())
    );
    assert_eq!(
        img.attr("srcset"),
        Some(format!("/files/{photo}/thumbnails/icon-240 2x").as_str())
    );
    assert_eq!(
        (img.attr("width"), img.attr("height"), img.attr("loading")),
        (Some("120"), Some("120"), Some("lazy"))
    );
    for other in [text, svg] {
        let item = item_of(&grid, other);
        assert!(img_in(item).is_none(), "file {other} has no thumbnail");
        assert!(icon_in(item).is_some());
    }
}

/// The reader's own browser (`/folders/{id}`, not the admin): thumbnails of the images they
/// may read, through the same checked URLs, and type labels for the rest.
#[actix_web::test]
async fn the_readers_browser_shows_thumbnails_through_the_checked_urls() {
    let app = spawn_app().await;
    let f = app.folder(&app.admin_token, "album", None).await;
    let (reader, _) = app.user("reader").await;
    app.user("stranger").await;
    app.rule(json!({"folder_id": f, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}))
        .await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(640, 480), None),
            Some(f),
            false,
        )
        .await);
    app.upload(&app.admin_token, "notes.txt", b"hello", Some(f), false)
        .await;
    settle(&app).await;

    let c = client();
    log_in(&app, &c, "reader").await;
    let doc = Html::parse_document(&page(&c, &app, &format!("/folders/{f}")).await);
    let item = |name: &str| {
        doc.select(&Selector::parse("li.file").unwrap())
            .find(|e| e.text().any(|t| t.contains(name)))
            .unwrap_or_else(|| panic!("{name} is listed"))
    };
    let img = img_in(item("photo.jpg")).expect("the photo shows its thumbnail");
    let src = format!("/files/{photo}/thumbnails/icon-40");
    assert_eq!(img.attr("src"), Some(src.as_str()));
    assert_eq!(
        img.attr("srcset"),
        Some(format!("/files/{photo}/thumbnails/icon-80 2x").as_str())
    );
    assert_eq!(img.attr("alt"), Some("photo.jpg"));
    let notes = item("notes.txt");
    assert!(img_in(notes).is_none());
    assert_eq!(icon_in(notes), Some(("TXT".to_owned(), None)));
    let thumb = picture(&c, &app, &src).await;
    assert_eq!((thumb.width(), thumb.height()), (40, 40));

    let other = client();
    log_in(&app, &other, "stranger").await;
    for path in [format!("/folders/{f}"), src] {
        let res = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[actix_web::test]
async fn a_failed_thumbnail_shows_the_type_icon_with_the_reason() {
    let app = spawn_app().await;
    let photo = pictures::jpeg(&pictures::photo(400, 300), None);
    let cut = id(&app
        .upload(
            &app.admin_token,
            "cut.jpg",
            &photo[..photo.len() / 2],
            None,
            false,
        )
        .await);
    let header_only = id(&app
        .upload(
            &app.admin_token,
            "header-only.jpg",
            &photo[..300],
            None,
            false,
        )
        .await);
    settle(&app).await;
    let reason = api_file(&app, cut).await["thumbnail_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("truncated"), "{reason}");
    let (c, _) = admin_client(&app, "admin").await;
    for view in ["table", "thumbs"] {
        let listing = page(&c, &app, &format!("/admin/folders/unsorted?view={view}")).await;
        let doc = Html::parse_document(&listing);
        for file in [cut, header_only] {
            let item = item_of(&doc, file);
            assert!(img_in(item).is_none(), "{view}: no broken image for {file}");
            let (label, title) = icon_in(item).unwrap();
            assert_eq!(label, "IMG");
            let title = title.unwrap_or_else(|| panic!("{view}: a reason for {file}"));
            assert!(title.starts_with("No thumbnail: "), "{title}");
            if file == cut {
                assert!(title.contains("truncated"), "{title}");
            }
        }
    }
    let detail = page(&c, &app, &format!("/admin/files/{cut}")).await;
    let doc = Html::parse_document(&detail);
    assert_eq!(
        doc.select(&Selector::parse(".preview img").unwrap())
            .count(),
        0
    );
    assert_eq!(texts(&detail, ".preview .ficon"), ["IMG"]);
    let shown = texts(&detail, ".preview .failure").join(" ");
    assert!(shown.contains(&reason), "{shown}");
    // The header was read: the page still shows its size.
    assert_eq!(texts(&detail, "dd.dimensions"), ["400 × 300 pixels"]);
}

#[actix_web::test]
async fn the_file_page_shows_the_preview_the_facts_and_the_image_fields() {
    let app = spawn_app().await;
    let bytes = pictures::jpeg(
        &pictures::photo(640, 480),
        Some(pictures::exif(1, Some("2021:07:14 18:30:05"))),
    );
    let photo = id(&app
        .upload(&app.admin_token, "holiday.jpg", &bytes, None, false)
        .await);
    let text = id(&app
        .upload(&app.admin_token, "notes.txt", b"hello", None, false)
        .await);
    let (c, _) = admin_client(&app, "admin").await;
    let detail = page(&c, &app, &format!("/admin/files/{photo}")).await;
    let src = select_attr(&detail, ".preview img", "src").unwrap();
    assert_eq!(src, format!("/files/{photo}/thumbnails/preview-210"));
    assert_eq!(
        select_attr(&detail, ".preview img", "srcset").unwrap(),
        format!("/files/{photo}/thumbnails/preview-420 2x")
    );
    assert_eq!(
        (
            select_attr(&detail, ".preview img", "width"),
            select_attr(&detail, ".preview img", "height")
        ),
        (Some("210".into()), Some("158".into()))
    );
    assert_eq!(
        select_attr(&detail, ".preview img", "alt").as_deref(),
        Some("holiday.jpg")
    );
    assert_eq!(
        (
            select_attr(&detail, "#preview", "data-width"),
            select_attr(&detail, "#preview", "data-height")
        ),
        (Some("640".into()), Some("480".into()))
    );
    let preview = picture(&c, &app, &src).await;
    assert_eq!((preview.width(), preview.height()), (210, 158));
    assert_eq!(texts(&detail, "dd.dimensions"), ["640 × 480 pixels"]);
    assert_eq!(texts(&detail, "dd.taken"), ["2021-07-14 18:30:05"]);
    for field in [
        "input[name=alt_text]",
        "textarea[name=caption]",
        "input[name=subject_location]",
    ] {
        assert!(
            Html::parse_document(&detail)
                .select(&Selector::parse(field).unwrap())
                .next()
                .is_some(),
            "{field}"
        );
    }
    assert!(detail.contains("Subject location (x,y)"));
    assert_eq!(
        select_attr(&detail, "input[name=subject_location]", "value").as_deref(),
        Some("")
    );

    let detail = page(&c, &app, &format!("/admin/files/{text}")).await;
    let doc = Html::parse_document(&detail);
    assert_eq!(doc.select(&Selector::parse("main img").unwrap()).count(), 0);
    // Text shows itself (the reader's viewer), not a thumbnail or a type label.
    assert_eq!(texts(&detail, ".preview pre.text"), ["hello"]);
    assert!(texts(&detail, ".preview .ficon").is_empty());
    assert!(texts(&detail, "dd.dimensions").is_empty());
    for field in ["alt_text", "caption", "subject_location"] {
        assert!(
            !detail.contains(&format!("name=\"{field}\"")),
            "no {field} for a text file"
        );
    }
}

#[actix_web::test]
async fn alt_text_and_caption_are_saved_shown_in_the_api_and_escaped() {
    let app = spawn_app().await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(120, 90), None),
            None,
            false,
        )
        .await);
    let (c, token) = admin_client(&app, "admin").await;
    let alt = r#"<script>alert("x")</script> & a cat"#;
    let (status, flash) = save(
        &c,
        &app,
        photo,
        &token,
        &[
            ("alt_text", alt),
            ("caption", "Line one\r\nline <b>two</b>"),
            ("subject_location", ""),
        ],
    )
    .await;
    assert_eq!((status, flash.as_str()), (StatusCode::SEE_OTHER, "Saved."));
    let f = api_file(&app, photo).await;
    assert_eq!(f["image"]["alt_text"], alt);
    assert_eq!(f["image"]["caption"], "Line one\nline <b>two</b>");
    assert_eq!(f["image"]["subject_location"], Value::Null);

    let detail = page(&c, &app, &format!("/admin/files/{photo}")).await;
    assert!(
        !detail.contains("<script>alert"),
        "escaped on the file page"
    );
    assert!(!detail.contains("<b>two"), "escaped on the file page");
    assert!(
        detail.contains("&lt;script&gt;") || detail.contains("&#60;script&#62;"),
        "the alt text is there, escaped"
    );
    assert_eq!(
        select_attr(&detail, "input[name=alt_text]", "value").as_deref(),
        Some(alt)
    );
    assert_eq!(
        texts(&detail, "textarea[name=caption]"),
        ["Line one\nline <b>two</b>"]
    );
    assert_eq!(
        select_attr(&detail, ".preview img", "alt").as_deref(),
        Some(alt)
    );
    let listing = page(&c, &app, "/admin/folders/unsorted").await;
    assert!(!listing.contains("<script>alert"), "escaped in the listing");
    let doc = Html::parse_document(&listing);
    assert_eq!(
        img_in(item_of(&doc, photo)).unwrap().attr("alt"),
        Some(alt),
        "the listing uses the alt text"
    );

    // Refused values say why and change nothing, the file's own fields included.
    let too_long = "x".repeat(256);
    let (status, flash) = save(&c, &app, photo, &token, &[("alt_text", too_long.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        flash.starts_with("Not saved:") && flash.contains("at most 255"),
        "{flash}"
    );
    let res = c
        .post(app.url(&format!("/admin/files/{photo}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "renamed.jpg"),
            ("description", "changed"),
            ("caption", "bell\u{7}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = api_file(&app, photo).await;
    assert_eq!(after["image"], f["image"]);
    assert_eq!(
        (after["name"].as_str(), after["description"].as_str()),
        (Some("photo.jpg"), Some(""))
    );
    // Image fields on a file that is not an image.
    let text = id(&app
        .upload(&app.admin_token, "notes.txt", b"hello", None, false)
        .await);
    let (_, flash) = save(&c, &app, text, &token, &[("alt_text", "x")]).await;
    assert!(flash.contains("not an image"), "{flash}");
}

#[actix_web::test]
async fn the_focal_point_is_saved_validated_and_moves_the_crops() {
    let app = spawn_app().await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "focus.png",
            &red_square_png(),
            None,
            false,
        )
        .await);
    settle(&app).await;
    let (c, token) = admin_client(&app, "admin").await;
    let rows_before = thumbnail_rows(&app, photo).await;
    let crop_before = rows_before
        .iter()
        .find(|(spec, _)| spec == "40x40_crop_q85")
        .cloned()
        .expect("the centred icon-40 crop");
    let thumbs = StorageRole::PrivateThumbnails;
    assert!(app.is_stored(thumbs, &crop_before.1).await);
    let centred = picture(&c, &app, &format!("/files/{photo}/thumbnails/icon-40")).await;
    assert!(near(mean(&centred, 15, 15, 25, 25), GREEN, 40));

    let (status, flash) = save(&c, &app, photo, &token, &[("subject_location", "250,100")]).await;
    assert_eq!((status, flash.as_str()), (StatusCode::SEE_OTHER, "Saved."));
    assert_eq!(
        api_file(&app, photo).await["image"]["subject_location"],
        json!({"x": 250, "y": 100})
    );
    // The centred crops are gone, rows and objects; the preview (no crop) is kept.
    assert!(!app.is_stored(thumbs, &crop_before.1).await);
    let rows = thumbnail_rows(&app, photo).await;
    assert!(
        !rows.iter().any(|(spec, _)| spec.contains("_crop_q85")),
        "{rows:?}"
    );
    let preview = rows_before
        .iter()
        .find(|(spec, _)| spec == "210x0_upscale_q85")
        .unwrap();
    assert!(rows.contains(preview), "{rows:?}");
    // The admin presets are queued again and crop around the new point.
    settle(&app).await;
    let rows = thumbnail_rows(&app, photo).await;
    for size in [40, 80, 120, 240] {
        let spec = format!("{size}x{size}_crop_subject-250-100_q85");
        assert!(rows.iter().any(|(s, _)| *s == spec), "{spec}: {rows:?}");
    }
    let focused = picture(&c, &app, &format!("/files/{photo}/thumbnails/icon-40")).await;
    assert!(
        near(mean(&focused, 15, 15, 25, 25), RED, 40),
        "{:?}",
        mean(&focused, 15, 15, 25, 25)
    );
    let detail = page(&c, &app, &format!("/admin/files/{photo}")).await;
    assert_eq!(
        select_attr(&detail, "input[name=subject_location]", "value").as_deref(),
        Some("250,100")
    );

    // Out of bounds or garbage: a clear message, and nothing changes (the alt text sent
    // along neither).
    let rows = thumbnail_rows(&app, photo).await;
    for (bad, says) in [
        ("400,10", "lies outside the 400 × 200 image"),
        ("10,200", "lies outside the 400 × 200 image"),
        ("abc", "two whole numbers"),
        ("-5,3", "two whole numbers"),
        ("1,2,3", "two whole numbers"),
    ] {
        let (status, flash) = save(
            &c,
            &app,
            photo,
            &token,
            &[("subject_location", bad), ("alt_text", "changed")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            flash.starts_with("Not saved:") && flash.contains(says),
            "{bad}: {flash}"
        );
        let image = &api_file(&app, photo).await["image"];
        assert_eq!(image["subject_location"], json!({"x": 250, "y": 100}));
        assert_eq!(image["alt_text"], "");
        assert_eq!(thumbnail_rows(&app, photo).await, rows, "{bad}");
    }
    // Saving the same point again remakes nothing.
    save(
        &c,
        &app,
        photo,
        &token,
        &[("subject_location", " (250, 100) ")],
    )
    .await;
    assert_eq!(thumbnail_rows(&app, photo).await, rows);

    // Cleared: crops are centred again.
    let (_, flash) = save(&c, &app, photo, &token, &[("subject_location", "")]).await;
    assert_eq!(flash, "Saved.");
    assert_eq!(
        api_file(&app, photo).await["image"]["subject_location"],
        Value::Null
    );
    settle(&app).await;
    let rows = thumbnail_rows(&app, photo).await;
    assert!(rows.iter().any(|(s, _)| s == "40x40_crop_q85"), "{rows:?}");
    assert!(!rows.iter().any(|(s, _)| s.contains("subject")), "{rows:?}");
    let centred = picture(&c, &app, &format!("/files/{photo}/thumbnails/icon-40")).await;
    assert!(near(mean(&centred, 15, 15, 25, 25), GREEN, 40));
}

#[actix_web::test]
async fn image_fields_need_the_csrf_token_and_the_edit_right() {
    let app = spawn_app().await;
    let folder = app.folder(&app.admin_token, "shared", None).await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "photo.png",
            &red_square_png(),
            Some(folder),
            false,
        )
        .await);
    settle(&app).await;
    let original = api_file(&app, photo).await;
    let rows = thumbnail_rows(&app, photo).await;
    let fields = [
        ("name", "photo.png"),
        ("description", ""),
        ("alt_text", "forged"),
        ("caption", "forged"),
        ("subject_location", "250,100"),
    ];
    let (c, _) = admin_client(&app, "admin").await;
    let res = c
        .post(app.url(&format!("/admin/files/{photo}")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "without a token");
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged"));
    let res = c
        .post(app.url(&format!("/admin/files/{photo}")))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "with a forged token");

    // A staff member who may read the file but not edit it: no form, and a refusal.
    let staff = |name: &'static str| {
        let app = &app;
        async move {
            let (uid, _) = app.user(name).await;
            app.db(move |conn| {
                use diesel::prelude::*;
                diesel::update(coffer::db::schema::users::table.find(uid))
                    .set(coffer::db::schema::users::is_staff.eq(true))
                    .execute(conn)
                    .unwrap();
            })
            .await;
            uid
        }
    };
    let reader = staff("reader").await;
    staff("stranger").await;
    app.rule(json!({"folder_id": folder, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "deny", "can_add_children": "deny"})).await;
    let (rc, rtoken) = admin_client(&app, "reader").await;
    let detail = page(&rc, &app, &format!("/admin/files/{photo}")).await;
    assert!(!detail.contains("name=\"alt_text\""));
    assert_eq!(texts(&detail, "dd.dimensions"), ["400 × 200 pixels"]);
    let (status, flash) = save(&rc, &app, photo, &rtoken, &fields[2..]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(flash.starts_with("Not saved:"), "{flash}");
    // Someone who may not even read it gets what the file page gives: 404.
    let (sc, stoken) = admin_client(&app, "stranger").await;
    let (status, _) = save(&sc, &app, photo, &stoken, &fields[2..]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(api_file(&app, photo).await["image"], original["image"]);
    assert_eq!(thumbnail_rows(&app, photo).await, rows);
}

#[actix_web::test]
async fn replacing_an_image_forgets_its_thumbnails_and_reads_the_new_one() {
    let app = spawn_app().await;
    let photo = id(&app
        .upload(
            &app.admin_token,
            "old.jpg",
            &pictures::jpeg(&pictures::photo(640, 480), None),
            None,
            false,
        )
        .await);
    settle(&app).await;
    let (c, token) = admin_client(&app, "admin").await;
    save(
        &c,
        &app,
        photo,
        &token,
        &[("alt_text", "kept"), ("subject_location", "600,400")],
    )
    .await;
    settle(&app).await;
    let thumbs = StorageRole::PrivateThumbnails;
    let old = thumbnail_rows(&app, photo).await;
    assert_eq!(old.len(), 6, "{old:?}");
    for (_, key) in &old {
        assert!(app.is_stored(thumbs, key).await, "{key}");
    }

    let png = pictures::encode(
        &DynamicImage::ImageRgb8(pictures::quadrants(100, 80)),
        image::ImageFormat::Png,
    );
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(png).file_name("new.png"),
        );
    let res = c
        .post(app.url(&format!("/admin/files/{photo}/replace")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for (_, key) in &old {
        assert!(
            !app.is_stored(thumbs, key).await,
            "{key} is gone from the storage"
        );
    }
    let detail = page(&c, &app, &format!("/admin/files/{photo}")).await;
    assert_eq!(texts(&detail, "dd.dimensions"), ["100 × 80 pixels"]);
    assert_eq!(
        (
            select_attr(&detail, ".preview img", "width"),
            select_attr(&detail, ".preview img", "height")
        ),
        (Some("210".into()), Some("168".into()))
    );
    let f = api_file(&app, photo).await;
    assert_eq!(f["mime_type"], "image/png");
    assert_eq!(
        (f["image"]["width"].as_i64(), f["image"]["height"].as_i64()),
        (Some(100), Some(80))
    );
    assert_eq!(f["image"]["alt_text"], "kept");
    assert_eq!(
        f["image"]["subject_location"],
        Value::Null,
        "the old point lies outside the new picture"
    );
    // New thumbnails are queued and made from the new content.
    settle(&app).await;
    let new = thumbnail_rows(&app, photo).await;
    assert_eq!(new.len(), 6, "{new:?}");
    for (_, key) in &new {
        assert!(app.is_stored(thumbs, key).await, "{key}");
        assert!(!old.iter().any(|(_, k)| k == key), "{key} is new");
    }
    let icon = picture(&c, &app, &format!("/files/{photo}/thumbnails/icon-40")).await;
    assert!(
        near(mean(&icon, 2, 2, 8, 8), RED, 40),
        "{:?}",
        mean(&icon, 2, 2, 8, 8)
    );

    // Replaced by something that is not an image: the image facts go.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"plain words".to_vec()).file_name("words.txt"),
        );
    c.post(app.url(&format!("/admin/files/{photo}/replace")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(thumbnail_rows(&app, photo).await.is_empty());
    for (_, key) in &new {
        assert!(
            !app.is_stored(thumbs, key).await,
            "{key} is gone from the storage"
        );
    }
    let detail = page(&c, &app, &format!("/admin/files/{photo}")).await;
    assert!(texts(&detail, "dd.dimensions").is_empty());
    assert_eq!(texts(&detail, ".preview pre.text"), ["plain words"]);
    assert!(select_attr(&detail, ".preview img", "src").is_none());
    assert_eq!(api_file(&app, photo).await["image"], Value::Null);
}

//! Signed embed URLs of private thumbnails: offered on the file page, valid without a
//! session until they expire, ended by new content or by making the file public.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin::admin_client;
use crate::helpers::spawn_app;
use crate::pictures;

#[actix_web::test]
async fn an_embed_link_shows_the_thumbnail_until_the_content_or_visibility_changes() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let up = app
        .upload(
            &admin,
            "photo.jpg",
            &pictures::jpeg(&pictures::photo(300, 200), None),
            None,
            false,
        )
        .await;
    let id = up["id"].as_i64().unwrap();
    let (c, csrf) = admin_client(&app, "admin").await;
    let page = c
        .get(app.url(&format!("/admin/files/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Copy embed link"), "{page}");
    let make = |hours: &'static str| {
        let (c, csrf, app) = (c.clone(), csrf.clone(), &app);
        async move {
            let res = c
                .post(app.url(&format!("/admin/files/{id}/embed")))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("preset", "preview-210"),
                    ("hours", hours),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let page = c
                .get(app.url(&format!("/admin/files/{id}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let url = page
                .split("UTC: ")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#38;", "&");
            format!("/embed{}", url.split("/embed").nth(1).unwrap())
        }
    };
    let path = make("1").await;
    // Anyone, without a session.
    let (status, headers, body) = app.get(None, &path).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    assert!(!body.is_empty());
    let cache = headers["cache-control"].to_str().unwrap().to_owned();
    let age: i64 = cache
        .strip_prefix("private, max-age=")
        .unwrap_or_else(|| panic!("{cache}"))
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&age), "{cache}");
    // Tampered: another preset, another expiry, another file, a broken signature.
    let (base, query) = path.split_once('?').unwrap();
    let expires: i64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    for bad in [
        path.replace("preview-210", "preview-420"),
        path.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 3600),
        ),
        path.replace(&format!("/embed/{id}/"), "/embed/999/"),
        format!("{base}?expires={expires}&sig=00"),
        base.to_owned(),
    ] {
        assert_eq!(app.get(None, &bad).await.0, StatusCode::NOT_FOUND, "{bad}");
    }
    // New content ends it.
    let mut form = reqwest::multipart::Form::new().text("on_conflict", "version");
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(pictures::jpeg(&pictures::photo(200, 300), None))
            .file_name("photo.jpg"),
    );
    let res = app
        .client
        .post(app.url("/api/v1/files"))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(None, &path).await.0, StatusCode::NOT_FOUND);
    // A new link works; making the file public ends it too.
    let path = make("24").await;
    assert_eq!(app.get(None, &path).await.0, StatusCode::OK);
    let (status, _) = app
        .request(
            Method::PATCH,
            Some(&admin),
            &format!("/api/v1/files/{id}"),
            Some(json!({"is_public": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get(None, &path).await.0, StatusCode::NOT_FOUND);
    // The key was made once in the data directory, readable by the server only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(app.data().join("embed.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

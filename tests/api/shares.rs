//! Share links: a file or a folder for people without an account. Every use is checked
//! again against the link's state and its creator's current rights; a link that does not
//! work is a plain 404 with nothing to learn.

use coffer::storage::StorageRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, spawn_app, spawn_app_with};

async fn share(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.request(Method::POST, Some(token), "/api/v1/shares", Some(body))
        .await
}

async fn made(app: &TestApp, token: &str, body: Value) -> (i64, String) {
    let (status, body) = share(app, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["url"].as_str().unwrap().to_owned(),
    )
}

/// A visitor: a fresh client without any session.
async fn visit(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = client().get(app.url(path)).send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.text().await.unwrap())
}

async fn downloads_of(app: &TestApp, admin: &str, id: i64) -> i64 {
    let (_, body) = app
        .request(
            Method::GET,
            Some(admin),
            &format!("/api/v1/shares/{id}"),
            None,
        )
        .await;
    body["downloads"].as_i64().unwrap()
}

#[actix_web::test]
async fn a_file_link_gives_the_file_and_nothing_else() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let f = app
        .upload(
            &admin,
            "contract.pdf",
            b"%PDF-1.4 the contract",
            None,
            false,
        )
        .await;
    let id = f["id"].as_i64().unwrap();
    let (sid, url) = made(
        &app,
        &admin,
        json!({"file_id": id, "label": "for the client"}),
    )
    .await;
    assert!(url.starts_with("/s/") && url.len() == 3 + 64, "{url}");
    let (status, headers, page) = visit(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("contract.pdf") && page.contains("Download"),
        "{page}"
    );
    assert!(page.contains("noindex"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
    assert!(headers.contains_key("content-security-policy"));
    let (status, headers, body) = visit(&app, &format!("{url}/download")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "%PDF-1.4 the contract");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("contract.pdf")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    // The token is never shown again, and is stored hashed.
    let (_, listed) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/shares/{sid}"),
            None,
        )
        .await;
    assert!(listed.get("url").is_none(), "{listed}");
    let token = url.trim_start_matches("/s/").to_owned();
    let stored: Vec<String> = app
        .db(|conn| {
            use coffer::db::schema::shares;
            use diesel::prelude::*;
            shares::table.select(shares::token_hash).load(conn).unwrap()
        })
        .await;
    assert!(!stored.contains(&token));
    // Unknown, malformed and other paths: the same plain 404.
    for path in [
        format!("/s/{}", "0".repeat(64)),
        "/s/short".to_owned(),
        format!("{url}/files/{id}"),
        format!("{url}/folders/1"),
    ] {
        let (status, _, page) = visit(&app, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.contains("contract"), "{path}");
    }
    // Nor may the link's upload be used on a download link.
    let res = client()
        .post(app.url(&format!("{url}/upload")))
        .multipart(reqwest::multipart::Form::new().text("csrf_token", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_link_ends_with_its_creators_rights_and_its_own_state() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (ed, ed_token) = app.user("ed").await;
    let docs = app.folder(&admin, "Docs", None).await;
    let other = app.folder(&admin, "Other", None).await;
    let rule = app.rule(json!({"folder_id": docs, "type": "children", "user_id": ed, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    let f = app
        .upload(&admin, "plan.txt", b"plan", Some(docs), false)
        .await;
    let fid = f["id"].as_i64().unwrap();
    // Readers without edit may not share (the default `shares.allowed = "editors"`).
    let (reader, reader_token) = app.user("rita").await;
    app.rule(json!({"folder_id": docs, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    assert_eq!(
        share(&app, &reader_token, json!({"file_id": fid})).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, url) = made(&app, &ed_token, json!({"file_id": fid})).await;
    assert_eq!(
        visit(&app, &format!("{url}/download")).await.0,
        StatusCode::OK
    );
    // The creator loses read: the link stops at once.
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/folder-permissions/{rule}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(visit(&app, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        visit(&app, &format!("{url}/download")).await.0,
        StatusCode::NOT_FOUND
    );
    // A superuser's link to a file that moves out of the shared folder stops reaching it.
    let (_, folder_url) = made(&app, &admin, json!({"folder_id": docs})).await;
    assert_eq!(
        visit(&app, &format!("{folder_url}/files/{fid}")).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .request(
            Method::PATCH,
            Some(&admin),
            &format!("/api/v1/files/{fid}"),
            Some(json!({"folder_id": other})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        visit(&app, &format!("{folder_url}/files/{fid}")).await.0,
        StatusCode::NOT_FOUND
    );
    // Expired, revoked, trashed, creator deactivated: 404.
    let g = app.upload(&admin, "g.txt", b"g", None, false).await;
    let gid = g["id"].as_i64().unwrap();
    let (status, body) = share(
        &app,
        &admin,
        json!({"file_id": gid, "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (revoked_id, revoked) = made(&app, &admin, json!({"file_id": gid})).await;
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/shares/{revoked_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(visit(&app, &revoked).await.0, StatusCode::NOT_FOUND);
    let (expiring, expiring_url) = made(&app, &admin, json!({"file_id": gid})).await;
    app.db(move |conn| {
        use coffer::db::schema::shares;
        use diesel::prelude::*;
        diesel::update(shares::table.find(expiring))
            .set(shares::expires_at.eq(Some(coffer::db::now() - time::Duration::seconds(1))))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(visit(&app, &expiring_url).await.0, StatusCode::NOT_FOUND);
    let (_, trashed_url) = made(&app, &admin, json!({"file_id": gid})).await;
    app.request(
        Method::DELETE,
        Some(&admin),
        &format!("/api/v1/files/{gid}"),
        None,
    )
    .await;
    assert_eq!(visit(&app, &trashed_url).await.0, StatusCode::NOT_FOUND);
    let h = app.upload(&ed_token, "h.txt", b"h", None, false).await;
    let (_, ed_url) = made(&app, &ed_token, json!({"file_id": h["id"]})).await;
    assert_eq!(visit(&app, &ed_url).await.0, StatusCode::OK);
    app.db(move |conn| {
        use coffer::db::schema::users;
        use diesel::prelude::*;
        diesel::update(users::table.find(ed))
            .set(users::is_active.eq(false))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(visit(&app, &ed_url).await.0, StatusCode::NOT_FOUND);
    // Others see only their own links; superusers all.
    let (_, mine) = app
        .request(Method::GET, Some(&reader_token), "/api/v1/shares", None)
        .await;
    assert_eq!(mine, json!([]));
    let (_, all) = app
        .request(Method::GET, Some(&admin), "/api/v1/shares", None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 6);
    assert_eq!(
        app.request(
            Method::DELETE,
            Some(&reader_token),
            &format!("/api/v1/shares/{revoked_id}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn downloads_count_once_per_completed_transfer_up_to_the_maximum() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let f = app
        .upload(&admin, "a.bin", &[7_u8; 100_000], None, false)
        .await;
    let (sid, url) = made(
        &app,
        &admin,
        json!({"file_id": f["id"], "max_downloads": 2}),
    )
    .await;
    let dl = format!("{url}/download");
    // Page views, HEAD and Range requests do not count.
    visit(&app, &url).await;
    let res = client().head(app.url(&dl)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(app.url(&dl))
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    res.bytes().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(downloads_of(&app, &admin, sid).await, 0);
    for n in 1..=2 {
        let (status, _, body) = visit(&app, &dl).await;
        assert_eq!((status, body.len()), (StatusCode::OK, 100_000));
        let mut waited = 0;
        while downloads_of(&app, &admin, sid).await != n && waited < 50 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        assert_eq!(downloads_of(&app, &admin, sid).await, n);
    }
    // Used up: the plain 404.
    assert_eq!(visit(&app, &dl).await.0, StatusCode::NOT_FOUND);
    assert_eq!(visit(&app, &url).await.0, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_password_protects_the_link_and_is_throttled() {
    let app = spawn_app_with(|c| c.session.login_max_failures = 3).await;
    let admin = app.admin_token.clone();
    let f = app
        .upload(&admin, "secret.txt", b"secret", None, false)
        .await;
    let (_, url) = made(
        &app,
        &admin,
        json!({"file_id": f["id"], "password": "correct horse battery"}),
    )
    .await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c
        .get(app.url(&url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("This link has a password") && !page.contains("secret.txt"),
        "{page}"
    );
    assert_eq!(
        c.get(app.url(&format!("{url}/download")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let form_token = crate::admin::select_attr(&page, "input[name=form_token]", "value").unwrap();
    // Without the form token: refused.
    let res = c
        .post(app.url(&url))
        .form(&[("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(app.url(&url))
        .form(&[("form_token", form_token.as_str()), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(app.url(&url))
        .form(&[
            ("form_token", form_token.as_str()),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .get(app.url(&format!("{url}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "secret");
    // Another visitor guessing is stopped after the limit, even with the right password.
    let guesser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let page = guesser
        .get(app.url(&url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::admin::select_attr(&page, "input[name=form_token]", "value").unwrap();
    // The limit counts every failure on this link from this address.
    let mut refused = 0;
    for _ in 0..3 {
        let res = guesser
            .post(app.url(&url))
            .form(&[("form_token", token.as_str()), ("password", "guess")])
            .send()
            .await
            .unwrap();
        assert!(
            [StatusCode::FORBIDDEN, StatusCode::TOO_MANY_REQUESTS].contains(&res.status()),
            "{}",
            res.status()
        );
        refused += usize::from(res.status() == StatusCode::FORBIDDEN);
    }
    assert!(refused >= 1);
    let res = guesser
        .post(app.url(&url))
        .form(&[
            ("form_token", token.as_str()),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn a_folder_link_lists_its_tree_and_a_drop_link_takes_files_and_shows_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let photos = app.folder(&admin, "Photos", None).await;
    let day1 = app.folder(&admin, "Day 1", Some(photos)).await;
    let outside = app.folder(&admin, "Outside", None).await;
    let a = app
        .upload(&admin, "beach.txt", b"beach", Some(day1), false)
        .await;
    let b = app
        .upload(&admin, "elsewhere.txt", b"x", Some(outside), false)
        .await;
    let (_, url) = made(&app, &admin, json!({"folder_id": photos})).await;
    let (_, _, page) = visit(&app, &url).await;
    assert!(
        page.contains("Day 1") && !page.contains("Outside"),
        "{page}"
    );
    let (status, _, page) = visit(&app, &format!("{url}/folders/{day1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("beach.txt"));
    assert_eq!(
        visit(&app, &format!("{url}/files/{}", a["id"])).await.2,
        "beach"
    );
    for path in [
        format!("{url}/folders/{outside}"),
        format!("{url}/files/{}", b["id"]),
        format!("{url}/download"),
    ] {
        assert_eq!(visit(&app, &path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    // The drop: files go in, owned by the link's creator; the visitor sees nothing.
    let inbox = app.folder(&admin, "Inbox", None).await;
    app.upload(&admin, "existing-secret-name.txt", b"s", Some(inbox), false)
        .await;
    let (_, drop_url) = made(&app, &admin, json!({"folder_id": inbox, "kind": "upload"})).await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c
        .get(app.url(&drop_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Send files") && !page.contains("existing-secret-name"),
        "{page}"
    );
    let token = crate::admin::select_attr(&page, "input[name=csrf_token]", "value").unwrap();
    let send = |name: &str, field: Option<(&str, &str)>| {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", token.clone());
        if let Some((k, v)) = field {
            form = form.text(k.to_owned(), v.to_owned());
        }
        form.part(
            "file",
            reqwest::multipart::Part::bytes(b"dropped".to_vec()).file_name(name.to_owned()),
        )
    };
    let res = c
        .post(app.url(&format!("{drop_url}/upload")))
        .header("X-Requested-With", "XMLHttpRequest")
        .multipart(send("existing-secret-name.txt", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("(2)") && !body.contains("/files/"),
        "tells nothing: {body}"
    );
    // It cannot replace or pick another folder.
    for field in [
        ("on_conflict", "version"),
        ("folder", &outside.to_string()[..]),
    ] {
        let res = c
            .post(app.url(&format!("{drop_url}/upload")))
            .multipart(send("x.txt", Some(field)))
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), StatusCode::CREATED, "{field:?}");
    }
    let (_, children) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{inbox}/children"),
            None,
        )
        .await;
    let files = children["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{children}");
    assert!(files.iter().all(|f| f["owner_id"] == app.admin_id));
    assert_eq!(
        visit(&app, &format!("{drop_url}/folders/{inbox}")).await.0,
        StatusCode::NOT_FOUND
    );
    // Without the form token nothing is stored.
    let before = app.stored_keys(StorageRole::Private).await.len();
    let res = client()
        .post(app.url(&format!("{drop_url}/upload")))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.stored_keys(StorageRole::Private).await.len(), before);
}

#[actix_web::test]
async fn links_are_made_and_revoked_from_the_pages() {
    let app = spawn_app().await;
    let f = app
        .upload(&app.admin_token, "report.txt", b"report", None, false)
        .await;
    let id = f["id"].as_i64().unwrap();
    let (c, csrf) = crate::admin::admin_client(&app, "admin").await;
    let page = c
        .get(app.url(&format!("/admin/files/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Make a link"), "{page}");
    // Without the CSRF token: refused, nothing made.
    let res = c
        .post(app.url("/shares"))
        .form(&[("file_id", id.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(app.url("/shares"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("file_id", id.to_string().as_str()),
            ("max_downloads", "3"),
            ("label", "for the printer"),
            ("back", &format!("/admin/files/{id}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("/admin/files/{id}"));
    let page = c
        .get(app.url(&back))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = page
        .split("shown only once: ")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let path = shown
        .split_once("/s/")
        .map(|(_, t)| format!("/s/{t}"))
        .unwrap();
    assert_eq!(visit(&app, &format!("{path}/download")).await.2, "report");
    // Listed with its use count on the file page and on /account/shares; the link is not.
    // The count is written once the transfer ended.
    let mut page = String::new();
    for _ in 0..40 {
        page = c
            .get(app.url(&back))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if page.contains("1 of 3") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        page.contains("for the printer") && page.contains("1 of 3") && !page.contains(&path),
        "{page}"
    );
    let mine = c
        .get(app.url("/account/shares"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mine.contains("report.txt") && mine.contains("for the printer"),
        "{mine}"
    );
    let sid = crate::admin::select_attr(&mine, "tr[data-share]", "data-share").unwrap();
    let res = c
        .post(app.url(&format!("/shares/{sid}/revoke")))
        .form(&[("csrf_token", csrf.as_str()), ("back", "/account/shares")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(visit(&app, &path).await.0, StatusCode::NOT_FOUND);
    let mine = c
        .get(app.url("/account/shares"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains("revoked"));
}

#[actix_web::test]
async fn parallel_downloads_never_pass_the_maximum_and_an_abandoned_one_does_not_count() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let f = app
        .upload(&admin, "big.bin", &vec![1_u8; 256 * 1024], None, false)
        .await;
    let (sid, url) = made(
        &app,
        &admin,
        json!({"file_id": f["id"], "max_downloads": 3}),
    )
    .await;
    let dl = app.url(&format!("{url}/download"));
    let tries = (0..10).map(|_| {
        let dl = dl.clone();
        async move {
            let res = client().get(&dl).send().await.unwrap();
            let status = res.status();
            let len = res.bytes().await.map(|b| b.len()).unwrap_or(0);
            (status, len)
        }
    });
    let results = futures_util::future::join_all(tries).await;
    let full = results
        .iter()
        .filter(|(s, len)| *s == StatusCode::OK && *len == 256 * 1024)
        .count();
    assert_eq!(full, 3, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::NOT_FOUND)
    );
    assert_eq!(downloads_of(&app, &admin, sid).await, 3);

    // A transfer the client abandons gives its slot back.
    let big = app
        .upload(
            &admin,
            "huge.bin",
            &vec![2_u8; 48 * 1024 * 1024],
            None,
            false,
        )
        .await;
    let (sid, url) = made(
        &app,
        &admin,
        json!({"file_id": big["id"], "max_downloads": 1}),
    )
    .await;
    let res = client()
        .get(app.url(&format!("{url}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    drop(res);
    let mut left = -1;
    for _ in 0..100 {
        left = downloads_of(&app, &admin, sid).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the abandoned transfer does not count");
    // A Range request on a link works and does not count either.
    let res = client()
        .get(app.url(&format!("{url}/download")))
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &[2_u8; 10]);
    assert_eq!(downloads_of(&app, &admin, sid).await, 0);
}

#[actix_web::test]
async fn a_link_without_a_maximum_counts_its_completed_downloads_within_a_second() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let f = app.upload(&admin, "a.txt", b"aaaa", None, false).await;
    let (sid, url) = made(&app, &admin, json!({"file_id": f["id"]})).await;
    let dl = format!("{url}/download");
    for _ in 0..3 {
        assert_eq!(visit(&app, &dl).await.2, "aaaa");
    }
    let res = client()
        .get(app.url(&dl))
        .header("Range", "bytes=0-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let mut n = 0;
    for _ in 0..60 {
        n = downloads_of(&app, &admin, sid).await;
        if n == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(n, 3);
}

/// `(status, content type, body)` of a visitor's GET.
async fn fetch_bytes(app: &TestApp, path: &str) -> (StatusCode, String, Vec<u8>) {
    let res = client().get(app.url(path)).send().await.unwrap();
    let status = res.status();
    let ty = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ty, res.bytes().await.unwrap().to_vec())
}

#[actix_web::test]
async fn previews_show_through_the_link_only_what_it_reaches_and_count_for_nothing() {
    use crate::pictures::{jpeg, photo};
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let album = app.folder(&admin, "Album", None).await;
    let inner = app.folder(&admin, "Inner", Some(album)).await;
    let elsewhere = app.folder(&admin, "Elsewhere", None).await;
    let picture = jpeg(&photo(64, 48), None);
    let id = |v: Value| v["id"].as_i64().unwrap();
    let beach = id(app
        .upload(&admin, "beach.jpg", &picture, Some(album), false)
        .await);
    let deep = id(app
        .upload(&admin, "deep.jpg", &picture, Some(inner), false)
        .await);
    let other = id(app
        .upload(&admin, "other.jpg", &picture, Some(elsewhere), false)
        .await);
    let notes = id(app
        .upload(&admin, "notes.txt", b"notes", Some(album), false)
        .await);
    let (sid, url) = made(&app, &admin, json!({"folder_id": album})).await;

    // The listing shows the image through the link, the text file as its type.
    let (_, _, page) = visit(&app, &url).await;
    let src = format!("{url}/thumbnails/{beach}/icon-120");
    assert!(page.contains(&format!("src=\"{src}\"")), "{page}");
    assert!(!page.contains(&format!("/thumbnails/{notes}/")), "{page}");
    let (status, ty, body) = fetch_bytes(&app, &src).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ty.starts_with("image/"), "{ty}");
    let shown = image::load_from_memory(&body).unwrap();
    assert!(shown.width() <= 120 && shown.width() > 0);
    let res = client().get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    // Deeper in the tree: yes; outside it, another preset, a text file: no.
    assert_eq!(
        fetch_bytes(&app, &format!("{url}/thumbnails/{deep}/icon-120"))
            .await
            .0,
        StatusCode::OK
    );
    for path in [
        format!("{url}/thumbnails/{other}/icon-120"),
        format!("{url}/thumbnails/{beach}/no-such-preset"),
        format!("{url}/thumbnails/{notes}/icon-120"),
        format!("{url}/thumbnails/999999/icon-120"),
    ] {
        assert_eq!(
            fetch_bytes(&app, &path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Previews are not downloads: nothing counted, nothing audited.
    app.state.library.links.write(&app.state.pool);
    assert_eq!(downloads_of(&app, &admin, sid).await, 0);
    app.state.library.audit.write(&app.state.pool);
    let (_, audit) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/audit?share_id={sid}"),
            None,
        )
        .await;
    assert_eq!(audit["entries"], json!([]));

    // A file link previews its own image, and nothing else.
    let (_, file_url) = made(&app, &admin, json!({"file_id": beach})).await;
    let (_, _, page) = visit(&app, &file_url).await;
    let preview = format!("{file_url}/thumbnails/{beach}/preview-420");
    assert!(page.contains(&format!("src=\"{preview}\"")), "{page}");
    assert_eq!(fetch_bytes(&app, &preview).await.0, StatusCode::OK);
    assert_eq!(
        fetch_bytes(&app, &format!("{file_url}/thumbnails/{deep}/preview-420"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // A password first; a revoked link shows nothing more.
    let (_, locked) = made(
        &app,
        &admin,
        json!({"file_id": beach, "password": "open sesame 42"}),
    )
    .await;
    assert_eq!(
        fetch_bytes(&app, &format!("{locked}/thumbnails/{beach}/preview-420"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/shares/{sid}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(fetch_bytes(&app, &src).await.0, StatusCode::NOT_FOUND);
}

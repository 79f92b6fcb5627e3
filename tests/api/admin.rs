//! The admin pages: folder browser, folder actions, file page, uploads, bulk actions, and
//! their refusals.

use coffer::storage::StorageRole;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::json;

use crate::auth::log_in;
use crate::helpers::{TestApp, client, path_of, spawn_app};

/// A browser-like client logged in as `username`, with the session's CSRF token.
pub async fn admin_client(app: &TestApp, username: &str) -> (reqwest::Client, String) {
    let c = client();
    log_in(app, &c, username).await;
    let page = c
        .get(app.url("/admin/folders/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = select_attr(&page, "input[name=csrf_token]", "value")
        .expect("csrf token on the admin page");
    (c, token)
}

pub fn select_attr(html: &str, selector: &str, attr: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr))
        .map(str::to_owned)
}

/// The `attr` of every element matching `selector`.
pub fn select_all_attr(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr))
        .map(str::to_owned)
        .collect()
}

pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Creates `name` as a staff member; returns the id.
pub async fn staff(app: &TestApp, name: &str) -> i64 {
    let (id, _) = app.user(name).await;
    app.db(move |conn| {
        use diesel::prelude::*;
        diesel::update(coffer::db::schema::users::table.find(id))
            .set(coffer::db::schema::users::is_staff.eq(true))
            .execute(conn)
            .unwrap();
    })
    .await;
    id
}

#[actix_web::test]
async fn the_browser_lists_only_what_may_be_read() {
    let app = spawn_app().await;
    let u = staff(&app, "editor").await;
    let open = app.folder(&app.admin_token, "open", None).await;
    let closed = app.folder(&app.admin_token, "closed", None).await;
    app.rule(json!({"folder_id": open, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.upload(&app.admin_token, "visible.txt", b"v", Some(open), false)
        .await;
    app.upload(&app.admin_token, "hidden.txt", b"h", Some(closed), false)
        .await;
    app.upload(&app.admin_token, "admins-unsorted.txt", b"a", None, false)
        .await;
    let (c, _) = admin_client(&app, "editor").await;
    let (status, root) = get(&c, &app, "/admin/folders/").await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&root, "table.listing tbody td:nth-child(2)");
    assert!(rows.iter().any(|r| r.contains("open")));
    assert!(!rows.iter().any(|r| r.contains("closed")), "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("Unsorted uploads")));
    let (status, body) = get(&c, &app, &format!("/admin/folders/{closed}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an unreadable folder is not shown, not even its name"
    );
    assert!(!body.contains("closed"));
    let (_, listing) = get(&c, &app, &format!("/admin/folders/{open}")).await;
    assert!(listing.contains("visible.txt"));
    let (_, unsorted) = get(&c, &app, "/admin/folders/unsorted").await;
    assert!(
        !unsorted.contains("admins-unsorted.txt"),
        "someone else's unsorted uploads stay hidden"
    );
    let (_, everywhere) = get(&c, &app, "/admin/folders/?q=txt").await;
    assert!(everywhere.contains("visible.txt"));
    assert!(
        !everywhere.contains("hidden.txt") && !everywhere.contains("admins-unsorted.txt"),
        "search hides them too"
    );
}

#[actix_web::test]
async fn sorting_paging_and_search_in_a_folder() {
    let app = spawn_app().await;
    let f = app.folder(&app.admin_token, "many", None).await;
    let sub = app.folder(&app.admin_token, "sub", Some(f)).await;
    for i in 0..105 {
        app.upload(
            &app.admin_token,
            &format!("file-{i:03}.txt"),
            &vec![b'x'; i + 1],
            Some(f),
            false,
        )
        .await;
    }
    app.upload(&app.admin_token, "deep-needle.txt", b"n", Some(sub), false)
        .await;
    let (c, _) = admin_client(&app, "admin").await;
    let (_, p1) = get(&c, &app, &format!("/admin/folders/{f}")).await;
    let names = texts(&p1, "table.listing tr.file td:nth-child(2) a");
    assert_eq!(names.len(), 100);
    assert!(names[0].ends_with("file-000.txt"), "{:?}", &names[..2]);
    assert!(p1.contains("page 1 of 2"));
    let (_, p2) = get(&c, &app, &format!("/admin/folders/{f}?page=2")).await;
    assert_eq!(texts(&p2, "table.listing tr.file").len(), 5);
    let (_, big_first) = get(&c, &app, &format!("/admin/folders/{f}?sort=-size")).await;
    assert!(
        texts(&big_first, "table.listing tr.file td:nth-child(2) a")[0].ends_with("file-104.txt")
    );
    let (_, here) = get(&c, &app, &format!("/admin/folders/{f}?q=needle")).await;
    assert!(here.contains("deep-needle.txt"), "search covers subfolders");
    let (_, other) = get(&c, &app, &format!("/admin/folders/{sub}?q=file-001")).await;
    assert!(!other.contains("file-001.txt"), "not outside the folder");
    let (_, all) = get(
        &c,
        &app,
        &format!("/admin/folders/{sub}?q=file-001&everywhere=1"),
    )
    .await;
    assert!(all.contains("file-001.txt"));
    let (_, thumbs) = get(&c, &app, &format!("/admin/folders/{f}?view=thumbs")).await;
    assert_eq!(texts(&thumbs, "ul.grid li.file").len(), 100);
}

#[actix_web::test]
async fn folders_are_created_renamed_moved_and_deleted_with_clear_refusals() {
    let app = spawn_app().await;
    let (c, token) = admin_client(&app, "admin").await;
    let res = c
        .post(app.url("/admin/folders/new"))
        .form(&[("csrf_token", token.as_str()), ("name", "Reports")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let a: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let b = app.folder(&app.admin_token, "2026", Some(a)).await;
    app.upload(&app.admin_token, "q1.txt", b"q", Some(b), false)
        .await;
    // Same name twice among siblings.
    let res = c
        .post(app.url("/admin/folders/new"))
        .form(&[("csrf_token", token.as_str()), ("name", "Reports")])
        .send()
        .await
        .unwrap();
    let (_, page) = get(&c, &app, res.headers()["location"].to_str().unwrap()).await;
    assert!(page.contains("already exists"), "{page}");
    // A move into its own subfolder.
    let res = c
        .post(app.url(&format!("/admin/folders/{a}/edit")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "Reports"),
            ("parent", &b.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let (_, page) = get(&c, &app, res.headers()["location"].to_str().unwrap()).await;
    assert!(page.contains("cannot be moved into itself"), "{page}");
    // Rename.
    c.post(app.url(&format!("/admin/folders/{b}/edit")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "Year 2026"),
            ("parent", &a.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let (_, page) = get(&c, &app, &format!("/admin/folders/{a}")).await;
    assert!(page.contains("Year 2026"));
    // Delete: the confirmation counts what goes.
    let (_, confirm) = get(&c, &app, &format!("/admin/folders/{a}/delete")).await;
    assert!(
        confirm.contains("2 folder(s)") && confirm.contains("1 file(s)"),
        "{confirm}"
    );
    let res = c
        .post(app.url(&format!("/admin/folders/{a}/delete")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.db(|conn| coffer::db::models::folder::count(conn).unwrap())
            .await,
        0
    );
}

#[actix_web::test]
async fn posts_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let f = app.folder(&app.admin_token, "keep", None).await;
    let file = app
        .upload(&app.admin_token, "keep.txt", b"k", Some(f), false)
        .await;
    let id = file["id"].as_i64().unwrap();
    let (c, _) = admin_client(&app, "admin").await;
    let attempts: Vec<(String, Vec<(&str, String)>)> = vec![
        ("/admin/folders/new".into(), vec![("name", "x".into())]),
        (
            format!("/admin/folders/{f}/edit"),
            vec![("name", "renamed".into())],
        ),
        (format!("/admin/folders/{f}/delete"), vec![]),
        (
            format!("/admin/files/{id}"),
            vec![
                ("name", "renamed".into()),
                ("description", "d".into()),
                ("permissions_disabled", "1".into()),
            ],
        ),
        (format!("/admin/files/{id}/delete"), vec![]),
        (
            "/admin/bulk".into(),
            vec![
                ("item", format!("file-{id}")),
                ("action", "make_public".into()),
            ],
        ),
        (
            "/admin/bulk".into(),
            vec![
                ("item", format!("file-{id}")),
                ("action", "delete".into()),
                ("confirm", "1".into()),
            ],
        ),
    ];
    for (path, mut fields) in attempts {
        let res = c.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        fields.push(("csrf_token", "forged".into()));
        let res = c.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{path} with a forged token"
        );
    }
    let form = reqwest::multipart::Form::new()
        .text("folder", f.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("sneaky.txt"),
        );
    assert_eq!(
        c.post(app.url("/admin/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let (status, body) = app.file_json(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["name"].as_str(), body["is_public"].as_bool()),
        (Some("keep.txt"), Some(false))
    );
    assert_eq!(
        app.db(|conn| coffer::db::models::folder::count(conn).unwrap())
            .await,
        1
    );
    assert_eq!(
        app.db(|conn| coffer::db::models::file::all_keys(conn).unwrap().len())
            .await,
        1
    );
}

#[actix_web::test]
async fn the_file_page_toggles_storage_replaces_content_and_explains_readers() {
    let app = spawn_app().await;
    let reader = staff(&app, "reader").await;
    let f = app.folder(&app.admin_token, "docs", None).await;
    let g = app.group("auditors", &[]).await;
    app.rule(json!({"folder_id": f, "type": "children", "user_id": reader, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    app.rule(json!({"folder_id": f, "type": "this", "group_id": g, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let file = app
        .upload(
            &app.admin_token,
            "report.txt",
            b"version one",
            Some(f),
            false,
        )
        .await;
    let id = file["id"].as_i64().unwrap();
    let (c, token) = admin_client(&app, "admin").await;
    let (status, page) = get(&c, &app, &format!("/admin/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Permissions disabled"));
    assert!(page.contains("Private."));
    let readers = texts(&page, "table.readers td:first-child");
    assert!(
        readers.contains(&"reader".to_owned())
            && readers.contains(&"admin".to_owned())
            && readers.contains(&"group auditors".to_owned()),
        "{readers:?}"
    );
    // Tick "Permissions disabled": the file goes public.
    let res = c
        .post(app.url(&format!("/admin/files/{id}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", ""),
            ("description", "quarterly"),
            ("folder", &f.to_string()),
            ("permissions_disabled", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app, &format!("/admin/files/{id}")).await;
    assert!(page.contains("now public"), "flash says where it is");
    let public_url = select_attr(&page, "#where a", "href").unwrap();
    assert!(public_url.starts_with("/media/public/"));
    assert_eq!(app.get(None, &public_url).await.0, StatusCode::OK);
    // Untick: private again, the public URL is dead.
    c.post(app.url(&format!("/admin/files/{id}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", ""),
            ("description", "quarterly"),
            ("folder", &f.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(app.get(None, &public_url).await.0, StatusCode::NOT_FOUND);
    // Replace the content: the stable URL serves the new bytes, the old object is gone.
    let (_, before) = app.file_json(id).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"version two".to_vec()).file_name("report-v2.txt"),
        );
    let res = c
        .post(app.url(&format!("/admin/files/{id}/replace")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, _, body) = app
        .get(Some(&app.admin_token), &format!("/files/{id}/report.txt"))
        .await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"version two"[..])
    );
    assert_eq!(
        app.get(Some(&app.admin_token), &path_of(&before)).await.0,
        StatusCode::NOT_FOUND
    );
    let storages = app.state.library.storages.clone();
    assert!(
        app.db(move |conn| coffer::library::check::check(&storages, conn).unwrap())
            .await
            .is_empty()
    );
    // Delete with confirmation.
    let (_, confirm) = get(&c, &app, &format!("/admin/files/{id}/delete")).await;
    assert!(confirm.contains("trash") && confirm.contains("Delete permanently instead"));
    c.post(app.url(&format!("/admin/files/{id}/delete")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get(Some(&app.admin_token), &format!("/files/{id}/x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // In the trash, with its earlier version; restored, it is back with both.
    let (_, trash) = get(&c, &app, "/admin/trash/").await;
    let entry = select_attr(&trash, "tr[data-entry]", "data-entry").unwrap();
    c.post(app.url(&format!("/admin/trash/{entry}/restore")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let (status, page) = get(&c, &app, &format!("/admin/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        select_all_attr(&page, "#versions tr[data-version]", "data-version").len(),
        1
    );
    // Deleted permanently: nothing left, not even in the trash.
    c.post(app.url(&format!("/admin/files/{id}/delete")))
        .form(&[("csrf_token", token.as_str()), ("permanent", "on")])
        .send()
        .await
        .unwrap();
    let (_, trash) = get(&c, &app, "/admin/trash/").await;
    assert!(trash.contains("The trash is empty."), "{trash}");
    let storages = app.state.library.storages.clone();
    assert!(
        app.db(move |conn| coffer::library::check::check(&storages, conn).unwrap())
            .await
            .is_empty()
    );
    assert!(app.stored_keys(StorageRole::Private).await.is_empty());
}

#[actix_web::test]
async fn uploads_from_the_plain_form_and_from_scripts() {
    let app = spawn_app().await;
    let u = staff(&app, "uploader").await;
    let f = app.folder(&app.admin_token, "inbox", None).await;
    let ro = app.folder(&app.admin_token, "read-only", None).await;
    app.rule(json!({"folder_id": f, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": ro, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "deny", "can_add_children": "deny"})).await;
    let (c, token) = admin_client(&app, "uploader").await;
    let (_, page) = get(&c, &app, &format!("/admin/folders/{f}")).await;
    assert!(page.contains("GiB each"), "the limit is shown up front");
    let (_, ro_page) = get(&c, &app, &format!("/admin/folders/{ro}")).await;
    assert!(
        !ro_page.contains("id=\"upload\""),
        "no upload form without add-children"
    );
    // Plain form, two files.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("folder", f.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"one".to_vec()).file_name("one.txt"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"two".to_vec()).file_name("two.txt"),
        );
    let res = c
        .post(app.url("/admin/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app, res.headers()["location"].to_str().unwrap()).await;
    assert!(
        page.contains("Uploaded 2 file(s).")
            && page.contains("one.txt")
            && page.contains("two.txt")
    );
    // Script upload: JSON back.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("folder", f.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"three".to_vec()).file_name("three.txt"),
        );
    let res = c
        .post(app.url("/admin/upload"))
        .header("X-Requested-With", "XMLHttpRequest")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["name"],
        "three.txt"
    );
    // Refused into a folder without add-children; nothing stored.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("folder", ro.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"no".to_vec()).file_name("no.txt"),
        );
    let res = c
        .post(app.url("/admin/upload"))
        .header("X-Requested-With", "XMLHttpRequest")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.db(|conn| coffer::db::models::file::all_keys(conn).unwrap().len())
            .await,
        3
    );
}

#[actix_web::test]
async fn bulk_actions_do_what_is_allowed_and_explain_the_rest() {
    let app = spawn_app().await;
    let u = staff(&app, "editor").await;
    let src = app.folder(&app.admin_token, "src", None).await;
    let dst = app.folder(&app.admin_token, "dst", None).await;
    let locked = app.folder(&app.admin_token, "locked", Some(src)).await;
    app.rule(json!({"folder_id": src, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": dst, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"})).await;
    app.rule(json!({"folder_id": locked, "type": "children", "user_id": u, "can_read": "allow", "can_edit": "deny", "can_add_children": "deny"})).await;
    let a = app
        .upload(&app.admin_token, "a.txt", b"a", Some(src), false)
        .await;
    app.upload(&app.admin_token, "l.txt", b"l", Some(locked), false)
        .await;
    let (c, token) = admin_client(&app, "editor").await;
    let form = |action: &str, extra: Vec<(&'static str, String)>| -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("csrf_token", token.clone()),
            ("action", action.to_owned()),
            ("from", format!("/admin/folders/{src}")),
            ("item", format!("file-{}", a["id"])),
            ("item", format!("folder-{locked}")),
        ];
        f.extend(extra);
        f
    };
    // Move asks for a destination first.
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form("move", vec![]))
        .send()
        .await
        .unwrap();
    let picker = res.text().await.unwrap();
    assert!(
        picker.contains("Destination folder") && picker.contains(">dst<"),
        "{picker}"
    );
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form(
            "move",
            vec![("destination", dst.to_string()), ("confirm", "1".into())],
        ))
        .send()
        .await
        .unwrap();
    let summary = res.text().await.unwrap();
    assert!(summary.contains("1 done, 1 refused"), "{summary}");
    assert!(summary.contains("locked/"), "{summary}");
    let (_, moved) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/files/{}", a["id"]),
            None,
        )
        .await;
    assert_eq!(moved["folder_id"], dst);
    // Copy with a suffix (read is enough).
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form(
            "copy",
            vec![
                ("destination", dst.to_string()),
                ("suffix", "_copy".into()),
                ("confirm", "1".into()),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("2 done, 0 refused"));
    let (_, listing) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{dst}/children"),
            None,
        )
        .await;
    let names: Vec<_> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["original_filename"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"a_copy.txt".to_owned()), "{names:?}");
    assert!(
        listing["folders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "locked_copy")
    );
    // Make public asks first, saying how many private files it would expose (the file,
    // and the one the editor can read in the locked folder); nothing changes yet.
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form("make_public", vec![]))
        .send()
        .await
        .unwrap();
    let confirm = res.text().await.unwrap();
    let exposed = texts(&confirm, "form p strong");
    assert_eq!(exposed, ["2 private file(s)"], "{confirm}");
    assert_eq!(
        app.file_json(a["id"].as_i64().unwrap()).await.1["is_public"],
        false
    );
    // Confirmed: the locked folder is refused, the file goes public.
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form("make_public", vec![("confirm", "1".into())]))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("1 done, 1 refused"));
    let (_, now) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/files/{}", a["id"]),
            None,
        )
        .await;
    assert_eq!(now["is_public"], true);
    // Delete asks for confirmation with counts, then refuses the locked folder.
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form("delete", vec![]))
        .send()
        .await
        .unwrap();
    let confirm = res.text().await.unwrap();
    assert!(
        confirm.contains("1 folder(s)") && confirm.contains("2 file(s)"),
        "{confirm}"
    );
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form("delete", vec![("confirm", "1".into())]))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("1 done, 1 refused"));
    assert_eq!(
        app.get(Some(&app.admin_token), &format!("/files/{}/a.txt", a["id"]))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn names_render_escaped_everywhere() {
    let app = spawn_app().await;
    let evil = "<script>alert(\"x\")</script> 'q' été";
    let folder_name = "<img src=x onerror=alert(1)> \"d\" ü";
    let f = app.folder(&app.admin_token, folder_name, None).await;
    let file = app
        .upload(&app.admin_token, evil, b"x", Some(f), false)
        .await;
    let (c, _) = admin_client(&app, "admin").await;
    for path in [
        "/admin/folders/".to_owned(),
        format!("/admin/folders/{f}"),
        format!("/admin/folders/{f}/edit"),
        format!("/admin/folders/{f}/delete"),
        format!("/admin/files/{}", file["id"]),
        format!("/admin/files/{}/delete", file["id"]),
        format!("/admin/folders/?q={}", "%3Cscript%3E"),
        // The reader's browser too.
        "/".to_owned(),
        format!("/folders/{f}"),
        format!("/folders/{f}?q={}", "%3Cscript%3E"),
    ] {
        let (status, page) = get(&c, &app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x"),
            "{path} renders a name unescaped"
        );
    }
    let (_, page) = get(&c, &app, &format!("/admin/files/{}", file["id"])).await;
    assert!(page.contains("été"));
    let (_, page) = get(&c, &app, &format!("/folders/{f}")).await;
    assert!(
        page.contains("script&#62; &#39;q&#39; été"),
        "the reader's browser lists the file, escaped: {page}"
    );
}

#[actix_web::test]
async fn non_staff_users_get_403_from_the_admin_and_keep_their_browser() {
    let app = spawn_app().await;
    app.user("member").await;
    let c = client();
    log_in(&app, &c, "member").await;
    for path in [
        "/admin/folders/",
        "/admin/folders/unsorted",
        "/admin/folders/new",
    ] {
        assert_eq!(
            c.get(app.url(path)).send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let anonymous = client();
    let res = anonymous
        .get(app.url("/admin/folders/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
}

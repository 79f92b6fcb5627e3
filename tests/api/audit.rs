//! The download audit: every delivery of a private file's bytes (private URL, stable URL,
//! version, share link, ZIP entry) and every refusal is recorded with who, what, how and
//! from where; public files are not; superusers read it through the API, the admin page and
//! CSV; old entries are pruned.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::select_attr;
use crate::auth::log_in;
use crate::helpers::{TestApp, client, path_of, spawn_app, spawn_app_with};
use crate::versions::upload_as;

/// The audit entries `query` selects, once at least `at_least` are there (the writer runs
/// once a second and a delivery is recorded when its body ended: this writes at once and
/// asks again for a few seconds).
async fn entries(app: &TestApp, query: &str, at_least: usize) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..50 {
        app.state.library.audit.write(&app.state.pool);
        let (status, body) = app
            .request(
                Method::GET,
                Some(&app.admin_token),
                &format!("/api/v1/audit?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        last = body["entries"].as_array().unwrap().clone();
        if last.len() >= at_least {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected {at_least} audit entries for {query:?}, got {last:#?}");
}

/// GET `path` with `token` (if any), a recognisable user agent and `headers`.
async fn fetch(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> StatusCode {
    let mut req = client().request(method, app.url(path));
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
    {
        req = req.header("user-agent", "audit-test/1.0");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    res.bytes().await.unwrap();
    status
}

fn outcomes(list: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|e| {
            (
                e["via"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[actix_web::test]
async fn every_private_delivery_and_refusal_is_recorded_and_public_files_are_not() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (rita, rita_token) = app.user("rita").await;
    let (stranger, stranger_token) = app.user("stranger").await;
    let docs = app.folder(&admin, "Docs", None).await;
    app.rule(json!({"folder_id": docs, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let f = app
        .upload(
            &admin,
            "report.txt",
            b"0123456789 the report",
            Some(docs),
            false,
        )
        .await;
    let id = f["id"].as_i64().unwrap();
    let private_url = path_of(&f);
    let public = app
        .upload(&admin, "flyer.txt", b"for everyone", Some(docs), true)
        .await;
    let pid = public["id"].as_i64().unwrap();

    // A reader, through every way of asking.
    let stable = format!("/files/{id}/report.txt");
    assert_eq!(
        fetch(&app, Some(&rita_token), Method::GET, &private_url, &[]).await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, Some(&rita_token), Method::GET, &stable, &[]).await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(
            &app,
            Some(&rita_token),
            Method::GET,
            &stable,
            &[("range", "bytes=0-3")]
        )
        .await,
        StatusCode::PARTIAL_CONTENT
    );
    let (_, headers, _) = app.get(Some(&rita_token), &stable).await;
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        fetch(
            &app,
            Some(&rita_token),
            Method::GET,
            &stable,
            &[("if-none-match", &etag)]
        )
        .await,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        fetch(&app, Some(&rita_token), Method::HEAD, &stable, &[]).await,
        StatusCode::OK
    );
    // Refusals: a stranger and an anonymous caller, by both URLs.
    assert_eq!(
        fetch(&app, Some(&stranger_token), Method::GET, &private_url, &[]).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, None, Method::GET, &stable, &[]).await,
        StatusCode::NOT_FOUND
    );
    // Public files: the stable URL and the public URL, not audited.
    let public_stable = format!("/files/{pid}/flyer.txt");
    assert_eq!(
        fetch(&app, Some(&rita_token), Method::GET, &public_stable, &[]).await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, None, Method::GET, &path_of(&public), &[]).await,
        StatusCode::OK
    );

    let list = entries(&app, &format!("file_id={id}"), 8).await;
    assert_eq!(list.len(), 8, "{list:#?}");
    assert_eq!(
        outcomes(&list),
        vec![
            ("private-url".into(), "refused".into()),
            ("private-url".into(), "sent".into()),
            ("stable-url".into(), "head".into()),
            ("stable-url".into(), "not-modified".into()),
            ("stable-url".into(), "partial".into()),
            ("stable-url".into(), "refused".into()),
            ("stable-url".into(), "sent".into()),
            // The ETag was read by a plain GET too.
            ("stable-url".into(), "sent".into()),
        ]
    );
    for e in &list {
        assert_eq!(e["file_id"], id);
        assert_eq!(e["folder_id"], docs);
        assert_eq!(e["file_name"], "report.txt");
        assert_eq!(e["size"], 21);
        assert_eq!(e["backend"], "default");
        assert_eq!(e["client_addr"], "127.0.0.1");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    let partial = list.iter().find(|e| e["outcome"] == "partial").unwrap();
    assert_eq!(partial["range"], "bytes=0-3");
    assert_eq!(partial["status"], 206);
    assert_eq!(partial["user_agent"], "audit-test/1.0");
    assert_eq!(partial["username"], "rita");
    assert!(partial["token_id"].as_i64().is_some(), "{partial}");
    let refused: Vec<&Value> = list.iter().filter(|e| e["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .any(|e| e["user_id"] == stranger && e["status"] == 404)
    );
    assert!(
        refused
            .iter()
            .any(|e| e["user_id"].is_null() && e["username"].is_null())
    );

    // Nothing about the public file, whatever the filter.
    assert!(entries(&app, &format!("file_id={pid}"), 0).await.is_empty());
    // Filters: by user, by folder (its whole tree), by time.
    let by_stranger = entries(&app, &format!("user_id={stranger}"), 1).await;
    assert_eq!(
        outcomes(&by_stranger),
        vec![("private-url".into(), "refused".into())]
    );
    assert_eq!(entries(&app, &format!("user_id={rita}"), 6).await.len(), 6);
    assert_eq!(
        entries(&app, &format!("folder_id={docs}"), 8).await.len(),
        8
    );
    assert!(
        entries(&app, "until=2000-01-01T00:00:00Z", 0)
            .await
            .is_empty()
    );
    assert_eq!(
        entries(&app, "since=2000-01-01T00:00:00Z&limit=3", 3)
            .await
            .len(),
        3
    );
    // Pages: newest first, `next_before` leads on without repeating.
    let (_, first) = app
        .request(Method::GET, Some(&admin), "/api/v1/audit?limit=5", None)
        .await;
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/audit?limit=5&before={before}"),
            None,
        )
        .await;
    let ids: Vec<i64> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["entries"].as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 8);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(second["next_before"].is_null());

    // Only superusers read it; a bad time is a 400.
    let (status, _) = app
        .request(Method::GET, Some(&rita_token), "/api/v1/audit", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.request(Method::GET, None, "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .request(
            Method::GET,
            Some(&admin),
            "/api/v1/audit?since=yesterday",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn shares_zips_and_versions_say_how_and_through_whom() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let album = app.folder(&admin, "Album", None).await;
    let a = app
        .upload(&admin, "a.txt", b"first", Some(album), false)
        .await;
    let b = app
        .upload(&admin, "b.txt", b"second", Some(album), false)
        .await;
    let open = app
        .upload(&admin, "open.txt", b"public", Some(album), true)
        .await;
    let (aid, bid) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    // A file link and a folder link's ZIP, by visitors.
    let (_, file_link) = app
        .request(
            Method::POST,
            Some(&admin),
            "/api/v1/shares",
            Some(json!({"file_id": aid})),
        )
        .await;
    let (_, folder_link) = app
        .request(
            Method::POST,
            Some(&admin),
            "/api/v1/shares",
            Some(json!({"folder_id": album})),
        )
        .await;
    let file_share = file_link["id"].as_i64().unwrap();
    let folder_share = folder_link["id"].as_i64().unwrap();
    let url = file_link["url"].as_str().unwrap();
    assert_eq!(
        fetch(&app, None, Method::GET, &format!("{url}/download"), &[]).await,
        StatusCode::OK
    );
    let url = folder_link["url"].as_str().unwrap();
    assert_eq!(
        fetch(&app, None, Method::GET, &format!("{url}/zip"), &[]).await,
        StatusCode::OK
    );
    // A file the folder link does not reach: refused, and recorded as such.
    let outside = app
        .upload(&admin, "outside.txt", b"not yours", None, false)
        .await;
    let outside = outside["id"].as_i64().unwrap();
    assert_eq!(
        fetch(
            &app,
            None,
            Method::GET,
            &format!("{url}/files/{outside}"),
            &[]
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // A ZIP from the admin, by the admin.
    let selection = format!("/admin/zip?item=folder-{album}");
    let c = client();
    log_in(&app, &c, "admin").await;
    let res = c.get(app.url(&selection)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.unwrap();

    let by_link = entries(&app, &format!("share_id={file_share}"), 1).await;
    assert_eq!(outcomes(&by_link), vec![("share".into(), "sent".into())]);
    assert!(by_link[0]["user_id"].is_null());
    assert_eq!(by_link[0]["file_id"], aid);
    let by_folder_link = entries(&app, &format!("share_id={folder_share}"), 3).await;
    assert_eq!(
        outcomes(&by_folder_link),
        vec![
            ("share".into(), "refused".into()),
            ("zip".into(), "sent".into()),
            ("zip".into(), "sent".into())
        ]
    );
    let refused = by_folder_link
        .iter()
        .find(|e| e["outcome"] == "refused")
        .unwrap();
    assert_eq!(refused["file_id"], outside);
    assert_eq!(refused["file_name"], "outside.txt");
    let zipped: Vec<&Value> = by_folder_link
        .iter()
        .filter(|e| e["via"] == "zip")
        .collect();
    let mut files: Vec<i64> = zipped
        .iter()
        .map(|e| e["file_id"].as_i64().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, vec![aid, bid], "the public file is not audited");
    let by_admin = entries(&app, &format!("user_id={}", app.admin_id), 2).await;
    assert_eq!(by_admin.len(), 2);
    assert!(
        by_admin
            .iter()
            .all(|e| e["via"] == "zip" && e["token_id"].is_null())
    );
    let oid = open["id"].as_i64().unwrap();
    assert!(entries(&app, &format!("file_id={oid}"), 0).await.is_empty());

    // A kept version of a private file.
    let (status, body) = upload_as(&app, &admin, "b.txt", b"third", Some(album), "version").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, versions) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/files/{bid}/versions"),
            None,
        )
        .await;
    let vid = versions[0]["id"].as_i64().unwrap();
    assert_eq!(
        fetch(
            &app,
            Some(&admin),
            Method::GET,
            &format!("/files/{bid}/versions/{vid}"),
            &[]
        )
        .await,
        StatusCode::OK
    );
    let list = entries(&app, &format!("file_id={bid}"), 3).await;
    let version = list.iter().find(|e| e["via"] == "version").unwrap();
    assert_eq!(version["outcome"], "sent");
    assert_eq!(version["size"], 6, "the version's own size");
}

#[actix_web::test]
async fn a_transfer_the_client_leaves_is_recorded_as_interrupted() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let big = vec![7u8; 32 << 20];
    let f = app.upload(&admin, "big.bin", &big, None, false).await;
    let id = f["id"].as_i64().unwrap();
    let mut res = client()
        .get(app.url(&path_of(&f)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.chunk().await.unwrap().is_some());
    drop(res);
    let list = entries(&app, &format!("file_id={id}"), 1).await;
    assert_eq!(
        outcomes(&list),
        vec![("private-url".into(), "interrupted".into())]
    );
    assert_eq!(list[0]["status"], 200);
}

#[actix_web::test]
async fn the_admin_page_filters_and_the_csv_holds_no_formula() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let (_, rita_token) = app.user("rita").await;
    let f = app
        .upload(&admin, "=HYPERLINK(1).txt", b"tricky", None, false)
        .await;
    let id = f["id"].as_i64().unwrap();
    let plain = app.upload(&admin, "plain.txt", b"plain", None, false).await;
    assert_eq!(
        fetch(
            &app,
            Some(&admin),
            Method::GET,
            &path_of(&f),
            &[("user-agent", "@evil")]
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, Some(&admin), Method::GET, &path_of(&plain), &[]).await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, Some(&rita_token), Method::GET, &path_of(&f), &[]).await,
        StatusCode::NOT_FOUND
    );
    entries(&app, "", 3).await;

    let c = client();
    log_in(&app, &c, "admin").await;
    let page = c
        .get(app.url(&format!("/admin/audit/?file_id={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("=HYPERLINK(1).txt"), "{html}");
    assert!(!html.contains("plain.txt"), "filtered by file");
    assert!(html.contains("refused") && html.contains("rita"), "{html}");
    assert_eq!(
        select_attr(&html, "input[name=file_id]", "value").as_deref(),
        Some(id.to_string().as_str())
    );
    let csv_link = select_attr(&html, "a[download]", "href").unwrap();
    assert_eq!(csv_link, format!("/admin/audit.csv?file_id={id}"));
    // A date range that ends before today shows nothing; today's shows the entries.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let html = c
        .get(app.url(&format!(
            "/admin/audit/?since={today}&until={today}&file_id="
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("plain.txt") && html.contains("=HYPERLINK(1).txt"));
    let html = c
        .get(app.url("/admin/audit/?until=2001-01-01"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("No entries match"), "{html}");

    let res = c.get(app.url(&csv_link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,at,user_id,username,"));
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",'=HYPERLINK(1).txt,")),
        "{csv}"
    );
    assert!(csv.contains(",'@evil"), "{csv}");
    assert!(!csv.contains(",=") && !csv.contains(",@"), "{csv}");

    // Staff who are not superusers, and everybody else, are kept out.
    let rita_client = client();
    log_in(&app, &rita_client, "rita").await;
    for path in ["/admin/audit/", "/admin/audit.csv"] {
        let res = rita_client.get(app.url(path)).send().await.unwrap();
        assert!(
            matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{path}"
        );
        let res = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{path}: to the log-in page"
        );
    }
}

#[actix_web::test]
async fn old_entries_are_pruned_and_a_disabled_audit_records_nothing() {
    let app = spawn_app_with(|c| c.audit.retention_days = 30).await;
    let admin = app.admin_token.clone();
    let f = app.upload(&admin, "kept.txt", b"kept", None, false).await;
    assert_eq!(
        fetch(&app, Some(&admin), Method::GET, &path_of(&f), &[]).await,
        StatusCode::OK
    );
    entries(&app, "", 1).await;
    app.db(|conn| {
        let old = coffer::db::models::audit::NewEntry {
            at: coffer::db::now() - time::Duration::days(31),
            user_id: None,
            username: None,
            token_id: None,
            share_id: None,
            file_id: Some(1),
            folder_id: None,
            file_name: "old.txt".into(),
            via: "stable-url",
            size: 1,
            byte_range: None,
            status: 200,
            outcome: "sent",
            backend: "default",
            client_addr: "127.0.0.1".into(),
            user_agent: String::new(),
        };
        coffer::db::models::audit::insert_all(conn, &[old]).unwrap();
    })
    .await;
    assert_eq!(entries(&app, "", 2).await.len(), 2);
    coffer::startup::repair(&app.state).unwrap();
    let left = entries(&app, "", 1).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["file_name"], "kept.txt");

    let off = spawn_app_with(|c| c.audit.enabled = false).await;
    let f = off
        .upload(&off.admin_token, "quiet.txt", b"quiet", None, false)
        .await;
    assert_eq!(
        fetch(&off, Some(&off.admin_token), Method::GET, &path_of(&f), &[]).await,
        StatusCode::OK
    );
    // Whatever would have been recorded is written within a second.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(entries(&off, "", 0).await.is_empty());
}

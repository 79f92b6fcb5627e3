//! An item the user may not read is indistinguishable from a missing one: bulk actions (their
//! confirmation pages and summaries), the destination pickers, folder counts and the errors
//! of moves never name or count it, and answer exactly as for an id that does not exist. And
//! the pickers of a deep tree grow linearly.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::{admin_client, staff};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// An id no row has.
const MISSING: i64 = 987_654;

const ACTIONS: [&str; 5] = ["move", "copy", "delete", "make_public", "make_private"];

/// Names that must never reach eve.
const SECRETS: [&str; 5] = [
    "topsecret",
    "buried",
    "classified.txt",
    "addonly-box",
    "hush-sub",
];

/// The world eve sees part of:
/// - `open` (read, edit, add on it and below) with `open/visible` and `open/hush-sub`
///   (read denied);
/// - `topsecret` (no rights) with `topsecret/buried` and `topsecret/classified.txt`, and
///   `topsecret/shared` (read, edit, add on it and below);
/// - `addonly-box`: add-children allowed, read denied.
struct World {
    open: i64,
    hush: i64,
    secret: i64,
    buried: i64,
    shared: i64,
    addonly: i64,
    classified: i64,
    mine: i64,
}

async fn world(app: &TestApp) -> World {
    let eve = staff(app, "eve").await;
    let t = app.admin_token.clone();
    let open = app.folder(&t, "open", None).await;
    app.folder(&t, "visible", Some(open)).await;
    let hush = app.folder(&t, "hush-sub", Some(open)).await;
    let secret = app.folder(&t, "topsecret", None).await;
    let buried = app.folder(&t, "buried", Some(secret)).await;
    let shared = app.folder(&t, "shared", Some(secret)).await;
    let addonly = app.folder(&t, "addonly-box", None).await;
    let all = |folder: i64| json!({"folder_id": folder, "type": "children", "user_id": eve, "can_read": "allow", "can_edit": "allow", "can_add_children": "allow"});
    app.rule(all(open)).await;
    app.rule(all(shared)).await;
    app.rule(json!({"folder_id": hush, "type": "children", "user_id": eve, "can_read": "deny", "can_edit": "inherit", "can_add_children": "inherit"}))
        .await;
    app.rule(json!({"folder_id": addonly, "type": "children", "user_id": eve, "can_read": "deny", "can_edit": "inherit", "can_add_children": "allow"}))
        .await;
    let classified = app
        .upload(&t, "classified.txt", b"c", Some(secret), false)
        .await["id"]
        .as_i64()
        .unwrap();
    app.upload(&t, "deep.txt", b"d", Some(buried), false).await;
    app.upload(&t, "hushed.txt", b"h", Some(hush), false).await;
    let mine = app.upload(&t, "mine.txt", b"m", Some(open), false).await["id"]
        .as_i64()
        .unwrap();
    World {
        open,
        hush,
        secret,
        buried,
        shared,
        addonly,
        classified,
        mine,
    }
}

/// POSTs a bulk form; returns status and body.
async fn bulk(
    app: &TestApp,
    c: &reqwest::Client,
    token: &str,
    action: &str,
    items: &[String],
    extra: &[(&str, String)],
) -> (StatusCode, String) {
    let mut form: Vec<(&str, String)> = vec![
        ("csrf_token", token.to_owned()),
        ("action", action.to_owned()),
        ("from", "/admin/folders/".to_owned()),
    ];
    form.extend(items.iter().map(|i| ("item", i.clone())));
    form.extend(extra.iter().cloned());
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn assert_names_nothing(page: &str, what: &str) {
    for s in SECRETS {
        assert!(!page.contains(s), "{what} names {s:?}: {page}");
    }
}

/// The page with the selection it echoes (hidden `item` fields) written as `missing`.
fn echoing(page: &str, hidden: &[String], missing: &[String]) -> String {
    let mut page = page.to_owned();
    for (h, m) in hidden.iter().zip(missing) {
        page = page.replace(&format!("value=\"{h}\""), &format!("value=\"{m}\""));
    }
    page
}

/// Every bulk action, on its confirmation page and with its result, answers the same bytes
/// for `hidden` as for an item that does not exist (but for the selection it echoes); and
/// changes nothing.
async fn same_as_missing(app: &TestApp, hidden: &[String], missing: &[String], dest: i64) {
    let (c, token) = admin_client(app, "eve").await;
    for action in ACTIONS {
        let steps: Vec<Vec<(&str, String)>> = match action {
            "move" | "copy" => vec![
                vec![],
                vec![("destination", dest.to_string()), ("confirm", "1".into())],
                vec![("destination", String::new()), ("confirm", "1".into())],
            ],
            "delete" | "make_public" => vec![vec![], vec![("confirm", "1".into())]],
            _ => vec![vec![]],
        };
        for extra in steps {
            let a = bulk(app, &c, &token, action, hidden, &extra).await;
            let b = bulk(app, &c, &token, action, missing, &extra).await;
            assert_eq!(a.0, b.0, "{action} {extra:?}: status");
            assert_eq!(
                echoing(&a.1, hidden, missing),
                b.1,
                "{action} {extra:?}: the page for {hidden:?} differs from the one for {missing:?}"
            );
            assert_names_nothing(&a.1, action);
        }
    }
}

async fn file_state(app: &TestApp, id: i64) -> Value {
    let (status, f) = app.file_json(id).await;
    assert_eq!(status, StatusCode::OK, "file {id} still exists");
    f
}

#[actix_web::test]
async fn bulk_actions_answer_for_unreadable_items_exactly_as_for_missing_ones() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mine = format!("file-{}", w.mine);
    let cases: Vec<(Vec<String>, Vec<String>)> = vec![
        (
            vec![format!("folder-{}", w.secret)],
            vec![format!("folder-{MISSING}")],
        ),
        (
            vec![format!("folder-{}", w.buried)],
            vec![format!("folder-{MISSING}")],
        ),
        (
            vec![format!("folder-{}", w.hush)],
            vec![format!("folder-{MISSING}")],
        ),
        (
            vec![format!("folder-{}", w.addonly)],
            vec![format!("folder-{MISSING}")],
        ),
        (
            vec![format!("file-{}", w.classified)],
            vec![format!("file-{MISSING}")],
        ),
        // Repeated, and in either order.
        (
            vec![
                format!("file-{}", w.classified),
                format!("folder-{}", w.secret),
                format!("file-{}", w.classified),
            ],
            vec![
                format!("file-{MISSING}"),
                format!("folder-{MISSING}"),
                format!("file-{MISSING}"),
            ],
        ),
    ];
    for (hidden, missing) in &cases {
        same_as_missing(&app, hidden, missing, w.open).await;
    }
    // Next to an item eve may act on, the confirmation pages are still the same.
    let (c, token) = admin_client(&app, "eve").await;
    for action in ["move", "copy", "delete"] {
        let a = bulk(
            &app,
            &c,
            &token,
            action,
            &[mine.clone(), format!("folder-{}", w.secret)],
            &[],
        )
        .await;
        let b = bulk(
            &app,
            &c,
            &token,
            action,
            &[mine.clone(), format!("folder-{MISSING}")],
            &[],
        )
        .await;
        assert_eq!(a.0, b.0);
        assert_eq!(
            echoing(
                &a.1,
                &[format!("folder-{}", w.secret)],
                &[format!("folder-{MISSING}")]
            ),
            b.1,
            "{action} confirmation next to a readable item"
        );
        assert_names_nothing(&a.1, action);
    }
    // The delete confirmation counts only what eve may read.
    let (_, confirm) = bulk(&app, &c, &token, "delete", std::slice::from_ref(&mine), &[]).await;
    assert!(
        confirm.contains("0 folder(s)") && confirm.contains("1 file(s)"),
        "{confirm}"
    );
    let (_, confirm) = bulk(
        &app,
        &c,
        &token,
        "delete",
        &[format!("folder-{}", w.open)],
        &[],
    )
    .await;
    assert!(
        confirm.contains("2 folder(s)") && confirm.contains("1 file(s)"),
        "open and open/visible, mine.txt; not hush-sub nor its file: {confirm}"
    );
    // Nothing hidden changed.
    let f = file_state(&app, w.classified).await;
    assert_eq!(f["folder_id"], w.secret);
    assert_eq!(f["is_public"], false);
    for id in [w.secret, w.buried, w.hush, w.addonly] {
        let (status, _) = app
            .request(
                reqwest::Method::GET,
                Some(&app.admin_token),
                &format!("/api/v1/folders/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "folder {id} is still there");
    }
    let (_, listing) = app
        .request(
            reqwest::Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}/children", w.open),
            None,
        )
        .await;
    assert_eq!(listing["folders"].as_array().unwrap().len(), 2, "{listing}");
}

#[actix_web::test]
async fn refusals_inside_a_readable_folder_do_not_name_what_eve_may_not_read() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (c, token) = admin_client(&app, "eve").await;
    // `open` holds hush-sub, which eve may not read: every action on `open` is refused, and
    // the reason names nothing hidden.
    let item = [format!("folder-{}", w.open)];
    for (action, extra) in [
        (
            "move",
            vec![
                ("destination", w.shared.to_string()),
                ("confirm", "1".into()),
            ],
        ),
        ("delete", vec![("confirm", "1".into())]),
        ("make_public", vec![("confirm", "1".into())]),
        ("make_private", vec![]),
    ] {
        let (status, page) = bulk(&app, &c, &token, action, &item, &extra).await;
        assert_eq!(status, StatusCode::OK, "{action}");
        assert!(page.contains("0 done, 1 refused"), "{action}: {page}");
        assert!(
            page.contains("open/"),
            "{action}: the readable item is named"
        );
        assert_names_nothing(&page, action);
        assert!(
            !page.contains(&format!("file {}", w.hush))
                && !page.contains(&format!("folder {}", w.hush)),
            "{action}: {page}"
        );
    }
}

#[actix_web::test]
async fn with_permissions_disabled_other_users_unsorted_uploads_stay_unnamed() {
    let app = spawn_app_with(|cfg| cfg.enable_permissions = false).await;
    staff(&app, "eve").await;
    let (bob, bob_token) = app.user("bob").await;
    let theirs = app
        .upload(&bob_token, "classified.txt", b"b", None, false)
        .await["id"]
        .as_i64()
        .unwrap();
    let admins = app
        .upload(&app.admin_token, "topsecret", b"a", None, false)
        .await["id"]
        .as_i64()
        .unwrap();
    let open = app.folder(&app.admin_token, "open", None).await;
    for id in [theirs, admins] {
        same_as_missing(
            &app,
            &[format!("file-{id}")],
            &[format!("file-{MISSING}")],
            open,
        )
        .await;
    }
    let f = file_state(&app, theirs).await;
    assert_eq!(f["folder_id"], Value::Null);
    assert_eq!(f["owner_id"], bob);
    assert_eq!(f["is_public"], false);
}

const PICKERS: &str =
    "select[name=destination] option, select[name=folder] option, select[name=parent] option";

/// `<option>` texts of a page's destination picker.
fn options(page: &str) -> Vec<String> {
    crate::admin::texts(page, PICKERS)
}

/// The folder ids a page's destination picker offers.
fn option_ids(page: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(PICKERS).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr("value"))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

#[actix_web::test]
async fn pickers_never_name_a_folder_eve_may_not_read() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (c, token) = admin_client(&app, "eve").await;
    let inner = app.folder(&app.admin_token, "inner", Some(w.shared)).await;
    let get = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.text().await.unwrap()
        }
    };
    let mut pages = vec![
        ("file page", get(format!("/admin/files/{}", w.mine)).await),
        (
            "edit shared",
            get(format!("/admin/folders/{}/edit", w.shared)).await,
        ),
        (
            "edit inner",
            get(format!("/admin/folders/{inner}/edit")).await,
        ),
        (
            "edit open",
            get(format!("/admin/folders/{}/edit", w.open)).await,
        ),
    ];
    for action in ["move", "copy"] {
        for items in [
            vec![format!("file-{}", w.mine)],
            vec![format!("folder-{}", w.open)],
            vec![format!("folder-{}", w.secret)],
        ] {
            let (status, page) = bulk(&app, &c, &token, action, &items, &[]).await;
            assert_eq!(status, StatusCode::OK);
            pages.push((action, page));
        }
    }
    for (what, page) in &pages {
        assert_names_nothing(page, what);
    }
    let offered = options(&pages[0].1);
    assert!(offered.contains(&"… / shared".to_owned()), "{offered:?}");
    assert!(
        offered.contains(&"… / shared / inner".to_owned()),
        "{offered:?}"
    );
    assert!(offered.contains(&"open".to_owned()), "{offered:?}");
    assert!(
        offered.contains(&"open / visible".to_owned()),
        "{offered:?}"
    );
    assert!(
        !offered
            .iter()
            .any(|o| o.contains("hush") || o.contains("addonly")),
        "{offered:?}"
    );
    // The current place of a folder under an unreadable one.
    let current = options(&pages[1].1);
    assert!(current.contains(&"… (current)".to_owned()), "{current:?}");
    // A move selecting a hidden folder offers the same destinations as one selecting none.
    let hidden_move = bulk(
        &app,
        &c,
        &token,
        "move",
        &[format!("folder-{}", w.secret)],
        &[],
    )
    .await;
    let missing_move = bulk(
        &app,
        &c,
        &token,
        "move",
        &[format!("folder-{MISSING}")],
        &[],
    )
    .await;
    assert_eq!(options(&hidden_move.1), options(&missing_move.1));
    assert!(options(&hidden_move.1).contains(&"… / shared".to_owned()));
}

#[actix_web::test]
async fn moves_into_an_unreadable_folder_are_refused_like_moves_into_a_missing_one() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let eve = app.token_for("eve").await;
    let visible = app.folder(&eve, "mine-folder", Some(w.open)).await;
    for target in [w.secret, w.buried, w.addonly, w.hush] {
        let hidden = app
            .request(
                reqwest::Method::PATCH,
                Some(&eve),
                &format!("/api/v1/files/{}", w.mine),
                Some(json!({"folder_id": target})),
            )
            .await;
        let missing = app
            .request(
                reqwest::Method::PATCH,
                Some(&eve),
                &format!("/api/v1/files/{}", w.mine),
                Some(json!({"folder_id": MISSING})),
            )
            .await;
        assert_eq!(
            hidden.0, missing.0,
            "file into {target}: {hidden:?} {missing:?}"
        );
        assert_eq!(
            hidden.1.to_string().replace(&target.to_string(), "N"),
            missing.1.to_string().replace(&MISSING.to_string(), "N"),
        );
        let hidden = app
            .request(
                reqwest::Method::PATCH,
                Some(&eve),
                &format!("/api/v1/folders/{visible}"),
                Some(json!({"parent_id": target})),
            )
            .await;
        let missing = app
            .request(
                reqwest::Method::PATCH,
                Some(&eve),
                &format!("/api/v1/folders/{visible}"),
                Some(json!({"parent_id": MISSING})),
            )
            .await;
        assert_eq!(
            hidden.0, missing.0,
            "folder into {target}: {hidden:?} {missing:?}"
        );
        assert_eq!(
            hidden.1.to_string().replace(&target.to_string(), "N"),
            missing.1.to_string().replace(&MISSING.to_string(), "N"),
        );
        // And through the bulk form.
        let (c, token) = admin_client(&app, "eve").await;
        for action in ["move", "copy"] {
            let items = [format!("file-{}", w.mine)];
            let a = bulk(
                &app,
                &c,
                &token,
                action,
                &items,
                &[("destination", target.to_string()), ("confirm", "1".into())],
            )
            .await;
            let b = bulk(
                &app,
                &c,
                &token,
                action,
                &items,
                &[
                    ("destination", MISSING.to_string()),
                    ("confirm", "1".into()),
                ],
            )
            .await;
            assert_eq!(a, b, "{action} into {target}");
        }
    }
    assert_eq!(file_state(&app, w.mine).await["folder_id"], w.open);
}

#[actix_web::test]
async fn folder_counts_leave_out_subfolders_eve_may_not_read() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (c, _) = admin_client(&app, "eve").await;
    let root = c
        .get(app.url("/admin/folders/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        root.contains("1 folder(s), 1 file(s)"),
        "open: visible only, not hush-sub: {root}"
    );
    assert!(!root.contains("2 folder(s)"), "{root}");
    let search = c
        .get(app.url("/admin/folders/?q=open&everywhere=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!search.contains("2 folder(s)"), "{search}");
    let reader = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !reader.contains("2 folder(s)") && !reader.contains("hush"),
        "{reader}"
    );
    let confirm = c
        .get(app.url(&format!("/admin/folders/{}/delete", w.open)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !confirm.contains("3 folder") && !confirm.contains("2 file"),
        "the delete page counts only what eve may read: {confirm}"
    );
    assert_names_nothing(&confirm, "delete page");
}

/// Adds a chain of `n` folders below `parent` (or at the top level) straight in the database;
/// returns the ids, top first.
async fn chain(app: &TestApp, parent: Option<i64>, from: usize, n: usize) -> Vec<i64> {
    app.db(move |conn| {
        use diesel::Connection;
        conn.transaction::<_, coffer::db::DbError, _>(|conn| {
            let mut ids = Vec::with_capacity(n);
            let mut parent = parent;
            for i in from..from + n {
                let f = coffer::db::models::folder::create(conn, parent, None, &format!("d{i}"))?;
                parent = Some(f.id);
                ids.push(f.id);
            }
            Ok(ids)
        })
        .unwrap()
    })
    .await
}

async fn page_size(app: &TestApp, c: &reqwest::Client, path: &str) -> (usize, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let body = res.text().await.unwrap();
    (body.len(), body)
}

#[actix_web::test]
async fn pickers_of_a_deep_tree_grow_linearly_and_survive_a_cycle() {
    let app = spawn_app().await;
    let (c, token) = admin_client(&app, "admin").await;
    let top = chain(&app, None, 0, 500).await;
    let file = app
        .upload(&app.admin_token, "f.txt", b"f", Some(top[0]), false)
        .await["id"]
        .as_i64()
        .unwrap();
    let deepest = *top.last().unwrap();
    let pages = |c: reqwest::Client, token: String, deepest: i64| {
        let app = &app;
        async move {
            let mut sizes = Vec::new();
            for path in [
                format!("/admin/files/{file}"),
                format!("/admin/folders/{deepest}/edit"),
            ] {
                sizes.push(page_size(app, &c, &path).await.0);
            }
            let (status, page) =
                bulk(app, &c, &token, "move", &[format!("file-{file}")], &[]).await;
            assert_eq!(status, StatusCode::OK);
            sizes.push(page.len());
            sizes
        }
    };
    let at_500 = pages(c.clone(), token.clone(), deepest).await;
    let more = chain(&app, Some(deepest), 500, 2_000).await;
    let deepest = *more.last().unwrap();
    let at_2500 = pages(c.clone(), token.clone(), deepest).await;
    for (small, big) in at_500.iter().zip(&at_2500) {
        assert!(*big < 2_000_000, "a page at depth 2,500 is {big} bytes");
        // Five times the folders: about five times the bytes (quadratic would be 25).
        let ratio = *big as f64 / *small as f64;
        assert!(ratio < 7.0, "{small} → {big} bytes: ratio {ratio}");
    }
    // The deepest folder's path keeps its start and end.
    let (_, page) = page_size(&app, &c, &format!("/admin/files/{file}")).await;
    let offered = options(&page);
    assert_eq!(option_ids(&page).len(), 2_500, "every folder once");
    assert!(
        offered.contains(&"d0 / d1 / … / d2496 / d2497 / d2498 / d2499".to_owned()),
        "{:?}",
        &offered[offered.len() - 3..]
    );
    // A parent cycle in the data: the pages still answer, every folder offered once.
    let (a, b) = (top[10], top[20]);
    app.db(move |conn| {
        use coffer::db::schema::folders;
        use diesel::prelude::*;
        diesel::update(folders::table.find(a))
            .set(folders::parent_id.eq(Some(b)))
            .execute(conn)
            .unwrap();
        coffer::db::models::generation::bump(conn).unwrap();
    })
    .await;
    let (_, page) = page_size(&app, &c, &format!("/admin/files/{file}")).await;
    let mut ids = option_ids(&page);
    assert_eq!(ids.len(), 2_500, "every folder once despite the cycle");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2_500);
    page_size(&app, &c, &format!("/admin/folders/{a}/edit")).await;
    page_size(&app, &c, &format!("/admin/folders/{deepest}/edit")).await;
    let (status, _) = bulk(&app, &c, &token, "move", &[format!("folder-{a}")], &[]).await;
    assert_eq!(status, StatusCode::OK);
}

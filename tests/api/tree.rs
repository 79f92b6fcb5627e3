//! The folder tree under attack: very deep chains (every walk iterative), cycles planted in
//! the rows (every walk terminates), `max_folder_depth`, concurrent opposite moves (never a
//! loop), and `coffer check` / `--repair` for cycles and missing parents.

use std::collections::HashMap;

use coffer::db::DbConn;
use coffer::db::schema::folders;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_client, staff, texts};
use crate::helpers::{TestApp, path_of, spawn_app, spawn_app_with};

/// Depth of the chains that overflowed the stack.
const DEEP: usize = 2_500;

/// Inserts a chain of `depth` folders owned by the admin, the first under `parent`, straight
/// into the table (one transaction); returns the ids from the top down.
async fn chain(app: &TestApp, parent: Option<i64>, depth: usize, prefix: &str) -> Vec<i64> {
    let owner = app.admin_id;
    let prefix = prefix.to_owned();
    app.db(move |conn| {
        let ids = conn
            .transaction::<_, diesel::result::Error, _>(|conn| {
                let now = coffer::db::now();
                let mut ids = Vec::with_capacity(depth);
                let mut parent = parent;
                for i in 0..depth {
                    let id: i64 = diesel::insert_into(folders::table)
                        .values((
                            folders::parent_id.eq(parent),
                            folders::owner_id.eq(Some(owner)),
                            folders::name.eq(format!("{prefix}{i}")),
                            folders::created_at.eq(now),
                            folders::modified_at.eq(now),
                        ))
                        .returning(folders::id)
                        .get_result(conn)?;
                    ids.push(id);
                    parent = Some(id);
                }
                Ok(ids)
            })
            .unwrap();
        coffer::db::models::generation::bump(conn).unwrap();
        ids
    })
    .await
}

/// Sets a folder's parent straight in the table (planting cycles), bumping the generation.
async fn set_parent(app: &TestApp, id: i64, parent: Option<i64>) {
    app.db(move |conn| {
        diesel::update(folders::table.find(id))
            .set(folders::parent_id.eq(parent))
            .execute(conn)
            .unwrap();
        coffer::db::models::generation::bump(conn).unwrap();
    })
    .await;
}

/// Points a folder at a parent id that does not exist (foreign keys off for that write).
async fn orphan(app: &TestApp, id: i64, missing: i64) {
    app.db(move |conn| {
        use diesel::connection::SimpleConnection;
        let sql = format!("UPDATE folders SET parent_id = {missing} WHERE id = {id}");
        match conn {
            DbConn::Sqlite(c) => c
                .batch_execute(&format!(
                    "PRAGMA foreign_keys = OFF; {sql}; PRAGMA foreign_keys = ON;"
                ))
                .unwrap(),
            DbConn::Postgres(c) => c
                .batch_execute(&format!(
                    "BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;"
                ))
                .unwrap(),
        }
        coffer::db::models::generation::bump(conn).unwrap();
    })
    .await;
}

async fn folder_count(app: &TestApp) -> i64 {
    app.db(|conn| coffer::db::models::folder::count(conn).unwrap())
        .await
}

/// Whether any folder's parent chain comes back to itself (checked here, not by Coffer).
async fn has_cycle(app: &TestApp) -> Option<i64> {
    let nodes = app
        .db(|conn| coffer::db::models::folder::all_nodes(conn).unwrap())
        .await;
    let parent: HashMap<i64, Option<i64>> = nodes.iter().map(|(i, p, _)| (*i, *p)).collect();
    nodes.iter().find_map(|(id, _, _)| {
        let mut cur = parent.get(id).copied().flatten();
        for _ in 0..=nodes.len() {
            match cur {
                None => return None,
                Some(c) if c == *id => return Some(*id),
                Some(c) => cur = parent.get(&c).copied().flatten(),
            }
        }
        Some(*id)
    })
}

async fn patch_parent(app: &TestApp, id: i64, parent: Option<i64>) -> (StatusCode, Value) {
    app.request(
        Method::PATCH,
        Some(&app.admin_token),
        &format!("/api/v1/folders/{id}"),
        Some(json!({ "parent_id": parent })),
    )
    .await
}

/// Posts a confirmed bulk action from the admin; returns the summary page.
async fn bulk(
    c: &reqwest::Client,
    app: &TestApp,
    token: &str,
    action: &str,
    items: &[String],
    destination: Option<i64>,
) -> String {
    let mut form: Vec<(&str, String)> = vec![
        ("csrf_token", token.to_owned()),
        ("action", action.to_owned()),
        ("from", "/admin/folders/".to_owned()),
        ("confirm", "1".to_owned()),
    ];
    form.extend(items.iter().map(|i| ("item", i.clone())));
    if let Some(d) = destination {
        form.push(("destination", d.to_string()));
    }
    let res = c
        .post(app.url("/admin/bulk"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Follows the redirect of an admin form post and returns the page it lands on.
async fn flash_after(c: &reqwest::Client, app: &TestApp, res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    page(c, app, &to).await.1
}

async fn alive(app: &TestApp) {
    let (status, me) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            "/api/v1/users/me",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
}

#[actix_web::test]
async fn a_chain_2500_deep_is_listed_searched_copied_toggled_explained_and_deleted() {
    let app = spawn_app().await;
    let ids = chain(&app, None, DEEP, "level-").await;
    let (top, bottom) = (ids[0], ids[DEEP - 1]);
    let file = app
        .upload(
            &app.admin_token,
            "needle.txt",
            b"deep down",
            Some(bottom),
            false,
        )
        .await;
    let fid = file["id"].as_i64().unwrap();

    // Listing and download at the bottom.
    let (status, listing) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{bottom}/children"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listing["files"][0]["id"], fid, "{listing}");
    let (status, _, bytes) = app.get(Some(&app.admin_token), &path_of(&file)).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::OK, &b"deep down"[..])
    );

    // Breadcrumbs name every level above the bottom, top first.
    let (c, token) = admin_client(&app, "admin").await;
    let (status, html) = page(&c, &app, &format!("/admin/folders/{bottom}")).await;
    assert_eq!(status, StatusCode::OK);
    let crumbs = texts(&html, "nav.crumbs a");
    assert!(crumbs.len() >= DEEP - 1, "{} crumbs", crumbs.len());
    let first = crumbs.iter().position(|c| c == "level-0").unwrap();
    assert_eq!(crumbs[first + DEEP - 2], format!("level-{}", DEEP - 2));

    // Search from the top finds the file 2,500 levels down; the reader's browser too.
    let (status, html) = page(&c, &app, &format!("/admin/folders/{top}?q=needle")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("needle.txt"), "search from the top");

    // "Who can read" for a reader whose rule sits 2,500 levels up.
    let rita = staff(&app, "rita").await;
    app.rule(json!({"folder_id": top, "type": "children", "user_id": rita, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let (rc, _) = admin_client(&app, "rita").await;
    let (status, html) = page(&rc, &app, &format!("/admin/files/{fid}")).await;
    assert_eq!(status, StatusCode::OK);
    let readers = texts(&html, "table.readers td");
    assert!(readers.contains(&"rita".to_owned()), "{readers:?}");
    assert!(readers.contains(&"admin".to_owned()), "{readers:?}");
    let (status, listing) = app
        .request(
            Method::GET,
            Some(&app.token_for("rita").await),
            &format!("/api/v1/folders/{bottom}/children"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listing["files"][0]["id"], fid);

    // The whole tree public, then private.
    let out = bulk(
        &c,
        &app,
        &token,
        "make_public",
        &[format!("folder-{top}")],
        None,
    )
    .await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(app.file_json(fid).await.1["is_public"], true);
    let out = bulk(
        &c,
        &app,
        &token,
        "make_private",
        &[format!("folder-{top}")],
        None,
    )
    .await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(app.file_json(fid).await.1["is_public"], false);

    // Copying the existing deep tree works (a copy is never deeper than its source).
    let out = bulk(&c, &app, &token, "copy", &[format!("folder-{top}")], None).await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(folder_count(&app).await, 2 * DEEP as i64);
    let copies: Vec<i64> = app
        .db(move |conn| {
            folders::table
                .filter(folders::name.eq(format!("level-{}", DEEP - 1)))
                .filter(folders::id.ne(bottom))
                .select(folders::id)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(copies.len(), 1);
    let (_, listing) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}/children", copies[0]),
            None,
        )
        .await;
    assert_eq!(listing["files"][0]["original_filename"], "needle.txt");
    let copied = listing["files"][0]["id"].as_i64().unwrap();
    let (status, _, bytes) = app
        .get(
            Some(&app.admin_token),
            &path_of(&app.file_json(copied).await.1),
        )
        .await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::OK, &b"deep down"[..])
    );
    alive(&app).await;

    // Moving the 2,499-level subtree anywhere is deeper than max_folder_depth (64).
    let (status, body) = patch_parent(&app, ids[1], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("max_folder_depth"), "{body}");

    // Delete both trees: the API and the bulk action.
    let (status, body) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{top}"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let copy_top: i64 = app
        .db(|conn| {
            folders::table
                .filter(folders::name.eq("level-0_1"))
                .select(folders::id)
                .first(conn)
                .unwrap()
        })
        .await;
    let out = bulk(
        &c,
        &app,
        &token,
        "delete",
        &[format!("folder-{copy_top}")],
        None,
    )
    .await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(folder_count(&app).await, 0);
    assert_eq!(app.file_json(fid).await.0, StatusCode::NOT_FOUND);
    alive(&app).await;
}

#[actix_web::test]
async fn a_deep_tree_moves_when_the_limit_allows_and_never_into_itself() {
    let app = spawn_app_with(|cfg| cfg.max_folder_depth = 10_000).await;
    let ids = chain(&app, None, DEEP, "n").await;
    let bottom = ids[DEEP - 1];
    // Into its own subtree, 2,500 levels down: refused, whatever the depth.
    let (status, body) = patch_parent(&app, ids[0], Some(bottom)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("into itself"), "{body}");
    // Out to the top and back.
    let (status, body) = patch_parent(&app, ids[1], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = patch_parent(&app, ids[1], Some(ids[0])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The admin's move form.
    let (c, token) = admin_client(&app, "admin").await;
    let res = c
        .post(app.url(&format!("/admin/folders/{}/edit", ids[0])))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "n0"),
            ("parent", &ids[DEEP / 2].to_string()),
        ])
        .send()
        .await
        .unwrap();
    let html = flash_after(&c, &app, res).await;
    assert!(html.contains("into itself"), "{html}");
    assert!(has_cycle(&app).await.is_none());
    assert_eq!(folder_count(&app).await, DEEP as i64);
    // The whole chain goes in one deletion.
    let (status, body) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}", ids[0]),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(folder_count(&app).await, 0);
    alive(&app).await;
}

#[actix_web::test]
async fn every_walk_terminates_on_a_cycle_planted_in_the_rows() {
    let app = spawn_app().await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    let c_ = app.folder(&app.admin_token, "c", Some(b)).await;
    let d = app.folder(&app.admin_token, "d", Some(c_)).await;
    let file = app
        .upload(&app.admin_token, "loop.txt", b"round", Some(c_), false)
        .await;
    let fid = file["id"].as_i64().unwrap();
    // a → c → b → a, with d hanging below the loop.
    set_parent(&app, a, Some(c_)).await;
    assert!(has_cycle(&app).await.is_some());

    for id in [a, b, c_, d] {
        let (status, body) = app
            .request(
                Method::GET,
                Some(&app.admin_token),
                &format!("/api/v1/folders/{id}/children"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (c, token) = admin_client(&app, "admin").await;
    for path in [
        format!("/admin/folders/{d}"),
        format!("/admin/folders/{a}?q=loop"),
        format!("/admin/folders/{a}/delete"),
        format!("/admin/files/{fid}"),
        "/admin/folders/?q=loop&everywhere=1".to_owned(),
    ] {
        let (status, html) = page(&c, &app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
    }
    let (status, html) = page(&c, &app, &format!("/admin/folders/{a}?q=loop")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("loop.txt"));
    let (_, _, bytes) = app.get(Some(&app.admin_token), &path_of(&file)).await;
    assert_eq!(bytes, b"round");

    // Copy: each folder of the loop once, into a plain tree.
    let before = folder_count(&app).await;
    let out = bulk(&c, &app, &token, "copy", &[format!("folder-{a}")], None).await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(folder_count(&app).await, before + 4);
    // The copies (a at the top, b, c, d below it) form no loop of their own.
    let copy_top: i64 = app
        .db(|conn| {
            folders::table
                .filter(folders::parent_id.is_null())
                .select(folders::id)
                .first(conn)
                .unwrap()
        })
        .await;
    let (_, listing) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{copy_top}/children"),
            None,
        )
        .await;
    assert_eq!(listing["folders"][0]["name"], "b", "{listing}");

    // Moves: into the loop refused as "into itself", out of it to the top allowed later by
    // repair; public/private over the loop.
    let (status, body) = patch_parent(&app, b, Some(d)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let out = bulk(
        &c,
        &app,
        &token,
        "make_public",
        &[format!("folder-{a}")],
        None,
    )
    .await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    assert_eq!(app.file_json(fid).await.1["is_public"], true);

    // Delete the loop: every folder of it and below it goes, nothing else.
    let (status, body) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{b}"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(folder_count(&app).await, 4, "the copy stays");
    assert_eq!(app.file_json(fid).await.0, StatusCode::NOT_FOUND);
    assert!(has_cycle(&app).await.is_none());
    alive(&app).await;
}

#[actix_web::test]
async fn max_folder_depth_refuses_deeper_folders_from_the_api_and_the_admin_forms() {
    let app = spawn_app_with(|cfg| cfg.max_folder_depth = 3).await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    let c_ = app.folder(&app.admin_token, "c", Some(b)).await;
    let x = app.folder(&app.admin_token, "x", None).await;
    let y = app.folder(&app.admin_token, "y", Some(x)).await;
    let count = folder_count(&app).await;

    // Create at level 4: API and admin form.
    let (status, body) = app
        .request(
            Method::POST,
            Some(&app.admin_token),
            "/api/v1/folders",
            Some(json!({"name": "d", "parent_id": c_})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("max_folder_depth"), "{body}");
    let (c, token) = admin_client(&app, "admin").await;
    let res = c
        .post(app.url("/admin/folders/new"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "d"),
            ("parent", &c_.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let html = flash_after(&c, &app, res).await;
    assert!(html.contains("max_folder_depth"), "{html}");

    // Move x (with y below it) under b: y would be at level 4. API, admin form, bulk move.
    let (status, body) = patch_parent(&app, x, Some(b)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("max_folder_depth"), "{body}");
    let res = c
        .post(app.url(&format!("/admin/folders/{x}/edit")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "x"),
            ("parent", &b.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let html = flash_after(&c, &app, res).await;
    assert!(html.contains("max_folder_depth"), "{html}");
    let out = bulk(&c, &app, &token, "move", &[format!("folder-{x}")], Some(b)).await;
    assert!(out.contains("0 done, 1 refused"), "{out}");
    assert!(out.contains("max_folder_depth"), "{out}");
    // Copy likewise.
    let out = bulk(&c, &app, &token, "copy", &[format!("folder-{x}")], Some(b)).await;
    assert!(out.contains("0 done, 1 refused"), "{out}");
    assert_eq!(folder_count(&app).await, count, "nothing was stored");
    let (_, got) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{x}"),
            None,
        )
        .await;
    assert_eq!(got["parent_id"], Value::Null);

    // Exactly at the limit is fine.
    let (status, body) = patch_parent(&app, x, Some(a)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = patch_parent(&app, y, Some(b)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An existing deeper tree (written before the limit) still lists, renames, copies and
    // deletes; only making it deeper is refused.
    let deep = chain(&app, None, 6, "old").await;
    let (status, _) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}/children", deep[5]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}", deep[5]),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out = bulk(
        &c,
        &app,
        &token,
        "copy",
        &[format!("folder-{}", deep[0])],
        None,
    )
    .await;
    assert!(out.contains("1 done, 0 refused"), "{out}");
    let out = bulk(
        &c,
        &app,
        &token,
        "copy",
        &[format!("folder-{}", deep[0])],
        Some(a),
    )
    .await;
    assert!(out.contains("0 done, 1 refused"), "{out}");
    let (status, body) = app
        .request(
            Method::POST,
            Some(&app.admin_token),
            "/api/v1/folders",
            Some(json!({"name": "deeper", "parent_id": deep[5]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .request(
            Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{}", deep[0]),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
}

#[actix_web::test]
async fn concurrent_opposite_moves_never_close_a_loop() {
    let app = spawn_app().await;
    let mut pairs = Vec::new();
    for i in 0..6 {
        let x = app.folder(&app.admin_token, &format!("x{i}"), None).await;
        let y = app.folder(&app.admin_token, &format!("y{i}"), None).await;
        pairs.push((x, y));
    }
    // And a ring of three: p → q, q → r, r → p at once (then the other way round).
    let ring = [
        app.folder(&app.admin_token, "p", None).await,
        app.folder(&app.admin_token, "q", None).await,
        app.folder(&app.admin_token, "r", None).await,
    ];
    for round in 0..12 {
        // Every pair at once, both directions, in both orders.
        let moves = pairs.iter().flat_map(|&(x, y)| {
            if round % 2 == 0 {
                [(x, y), (y, x)]
            } else {
                [(y, x), (x, y)]
            }
        });
        let step = if round % 2 == 0 { 1 } else { 2 };
        let ring_moves = (0..3).map(|i| (ring[i], ring[(i + step) % 3]));
        let all: Vec<(i64, i64)> = moves.chain(ring_moves).collect();
        let results = futures_util::future::join_all(
            all.iter().map(|&(id, to)| patch_parent(&app, id, Some(to))),
        )
        .await;
        for (status, body) in &results {
            assert!(
                *status == StatusCode::OK || *status == StatusCode::BAD_REQUEST,
                "{status} {body}"
            );
        }
        let done = results[..2 * pairs.len()]
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .count();
        assert_eq!(done, pairs.len(), "one move of each pair, round {round}");
        if let Some(id) = has_cycle(&app).await {
            panic!("folder {id} is in a loop after round {round}");
        }
        // Back to the top for the next round.
        let resets = pairs
            .iter()
            .flat_map(|&(x, y)| [x, y])
            .chain(ring)
            .map(|id| patch_parent(&app, id, None));
        for (status, body) in futures_util::future::join_all(resets).await {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    alive(&app).await;
}

fn coffer_cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    coffer_cli_with(app, args, &[])
}

fn coffer_cli_with(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut c = app.coffer_command(args);
    c.envs(env.iter().copied());
    let o = c.output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[actix_web::test]
async fn check_reports_cycles_and_missing_parents_and_repair_moves_them_to_the_top() {
    let app = spawn_app().await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    let c_ = app.folder(&app.admin_token, "c", Some(b)).await;
    let keep = app.folder(&app.admin_token, "keep", None).await;
    let lost = app.folder(&app.admin_token, "lost", Some(keep)).await;
    let (ok, out) = coffer_cli(&app, &["check"]);
    assert!(ok, "a clean tree passes: {out}");

    set_parent(&app, a, Some(c_)).await; // a → c → b → a
    orphan(&app, lost, 987_654).await;
    // Another "a" at the top: the repaired one must take another name.
    app.folder(&app.admin_token, "a", None).await;
    let (ok, out) = coffer_cli(&app, &["check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("cycle    folders {a} → {c_} → {b} → {a}")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "orphan   folder {lost} (its parent folder 987654 is missing)"
        )),
        "{out}"
    );
    let generation = app
        .db(|conn| coffer::db::models::generation::current(conn).unwrap())
        .await;

    let (ok, out) = coffer_cli(&app, &["check", "--repair"]);
    assert!(ok, "{out}");
    assert!(out.contains("moved 2 folder(s) to the top level"), "{out}");
    let (ok, out) = coffer_cli(&app, &["check"]);
    assert!(ok, "{out}");
    assert!(has_cycle(&app).await.is_none());
    assert!(
        app.db(|conn| coffer::db::models::generation::current(conn).unwrap())
            .await
            > generation,
        "the repair bumps the permission generation"
    );
    // The lowest id of the loop is at the top now, with the rest of the loop below it.
    let (_, top) = app
        .request(Method::GET, Some(&app.admin_token), "/api/v1/folders", None)
        .await;
    let names: Vec<&str> = top
        .as_array()
        .or_else(|| top["folders"].as_array())
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"a"), "{names:?}");
    assert!(names.contains(&"a (repaired 1)"), "{names:?}");
    assert!(names.contains(&"lost"), "{names:?}");
    for (id, parent) in [(b, a), (c_, b)] {
        let (_, got) = app
            .request(
                Method::GET,
                Some(&app.admin_token),
                &format!("/api/v1/folders/{id}"),
                None,
            )
            .await;
        assert_eq!(got["parent_id"], parent);
    }
}

#[actix_web::test]
async fn import_refuses_folders_past_the_limit_and_imports_the_rest() {
    let app = spawn_app().await;
    let src = tempfile::tempdir().unwrap();
    let root = src.path().join("root");
    let deep = root.join("a").join("b").join("c");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(root.join("top.txt"), b"1").unwrap();
    std::fs::write(root.join("a").join("b").join("mid.txt"), b"2").unwrap();
    std::fs::write(deep.join("deep.txt"), b"3").unwrap();
    // root is level 1, a 2, b 3; c would be level 4.
    let (ok, out) = coffer_cli_with(
        &app,
        &["import", root.to_str().unwrap()],
        &[("COFFER_MAX_FOLDER_DEPTH", "3")],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "2 file(s) imported, 0 skipped (already there), 1 failed; 3 folder(s) created"
        ),
        "{out}"
    );
    assert_eq!(folder_count(&app).await, 3);
    // Without the limit the rest comes in on a second run.
    let (ok, out) = coffer_cli(&app, &["import", root.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("1 file(s) imported, 2 skipped"), "{out}");
}

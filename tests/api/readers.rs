//! "Who can read this?" and every other explanation of a decision, said to people: public
//! files are open to anyone with the link; private ones list users, groups and "everybody
//! logged in" with the folders the rules are on — by name, never by internal id, and never
//! the name of a folder the viewer may not read.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::{admin_client, staff, texts};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Texts that give an internal id away.
fn assert_no_ids(text: &str, ids: &[i64]) {
    assert!(!text.contains("rule #"), "{text}");
    for id in ids {
        for word in ["user", "group", "folder"] {
            assert!(
                !text.contains(&format!("{word} {id}")),
                "{word} {id}: {text}"
            );
            assert!(
                !text.contains(&format!("{word} #{id}")),
                "{word} #{id}: {text}"
            );
        }
    }
}

struct World {
    secret: i64,
    reports: i64,
    eve: i64,
    sam: i64,
    auditors: i64,
    file: i64,
}

/// "Secret Projects" (eve may read it and below) / "Reports" (group Auditors and sam may
/// read it only); a private file in Reports, owned by the admin.
async fn world(app: &TestApp) -> World {
    let eve = staff(app, "eve").await;
    let sam = staff(app, "sam").await;
    let secret = app.folder(&app.admin_token, "Secret Projects", None).await;
    let reports = app.folder(&app.admin_token, "Reports", Some(secret)).await;
    let auditors = app.group("Auditors", &[]).await;
    app.rule(json!({"folder_id": secret, "type": "children", "user_id": eve, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    app.rule(json!({"folder_id": reports, "type": "this", "group_id": auditors, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    app.rule(json!({"folder_id": reports, "type": "this", "user_id": sam, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let file = app
        .upload(&app.admin_token, "q3.txt", b"numbers", Some(reports), false)
        .await["id"]
        .as_i64()
        .unwrap();
    World {
        secret,
        reports,
        eve,
        sam,
        auditors,
        file,
    }
}

fn ids(w: &World) -> Vec<i64> {
    vec![w.secret, w.reports, w.eve, w.sam, w.auditors, w.file]
}

async fn panel(app: &TestApp, viewer: &str, file: i64) -> Vec<(String, String)> {
    let (c, _) = admin_client(app, viewer).await;
    let res = c
        .get(app.url(&format!("/admin/files/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let who = texts(&page, "table.readers td:first-child");
    let why = texts(&page, "table.readers td:nth-child(2)");
    assert_eq!(who.len(), why.len());
    who.into_iter().zip(why).collect()
}

fn why_of<'a>(rows: &'a [(String, String)], who: &str) -> &'a str {
    rows.iter()
        .find(|(w, _)| w == who)
        .map(|(_, y)| y.as_str())
        .unwrap_or_else(|| panic!("{who} not in {rows:?}"))
}

#[actix_web::test]
async fn a_private_files_readers_are_named_with_the_folders_of_their_rules() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let rows = panel(&app, "admin", w.file).await;
    let all: String = rows.iter().map(|(a, b)| format!("{a}: {b}\n")).collect();
    assert_no_ids(&all, &ids(&w));
    assert_eq!(
        why_of(&rows, "eve"),
        "allowed: the rule for user “eve” on folder “Secret Projects” and its subfolders allows read"
    );
    assert_eq!(
        why_of(&rows, "sam"),
        "allowed: the rule for user “sam” on folder “Secret Projects / Reports” only allows read"
    );
    assert!(
        why_of(&rows, "group Auditors")
            .contains("a rule on folder “Secret Projects / Reports” only allows read"),
        "{all}"
    );
    assert!(why_of(&rows, "admin").contains("superuser"), "{all}");
    assert!(!all.contains("Anyone with the link"), "{all}");
    // An everybody rule shows as such.
    app.rule(json!({"folder_id": w.secret, "type": "children", "everybody": true, "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let rows = panel(&app, "admin", w.file).await;
    assert!(
        why_of(&rows, "everybody logged in")
            .contains("folder “Secret Projects” and its subfolders"),
        "{rows:?}"
    );
}

#[actix_web::test]
async fn a_viewer_never_sees_the_name_of_a_folder_they_may_not_read() {
    let app = spawn_app().await;
    let w = world(&app).await;
    // sam reads Reports, not Secret Projects.
    let rows = panel(&app, "sam", w.file).await;
    let all: String = rows.iter().map(|(a, b)| format!("{a}: {b}\n")).collect();
    assert!(!all.contains("Secret"), "{all}");
    assert_no_ids(&all, &ids(&w));
    assert_eq!(
        why_of(&rows, "eve"),
        "allowed: the rule for user “eve” on folder “…” and its subfolders allows read"
    );
    assert_eq!(
        why_of(&rows, "sam"),
        "allowed: the rule for user “sam” on folder “Reports” only allows read"
    );
}

#[actix_web::test]
async fn a_public_file_is_open_to_anyone_with_the_link() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/files/{}", w.file),
            Some(json!({"is_public": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = panel(&app, "admin", w.file).await;
    assert_eq!(
        rows,
        vec![(
            "Anyone with the link".to_owned(),
            "this file is public: no log-in and no rule is needed to download it".to_owned()
        )]
    );
    // And that is true: a stranger downloads it.
    let (status, _, body) = app.get(None, &format!("/files/{}/q3.txt", w.file)).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"numbers"[..]));
}

#[actix_web::test]
async fn the_api_explains_decisions_in_names_the_caller_may_see() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let check = |token: String, q: String| {
        let app = &app;
        async move {
            let (status, body) = app
                .request(
                    reqwest::Method::GET,
                    Some(&token),
                    &format!("/api/v1/permissions/check?{q}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let body: Value = check(
        app.admin_token.clone(),
        format!("user_id={}&file_id={}", w.eve, w.file),
    )
    .await;
    let read = body["explain"]["read"].as_str().unwrap();
    assert_eq!(
        read,
        "allowed: the rule for user “eve” on folder “Secret Projects” and its subfolders allows read"
    );
    assert_no_ids(&body.to_string(), &ids(&w));
    // sam asks about himself on the folder he may not read: answered exactly like a folder
    // that does not exist, so neither its name nor its rules are said.
    app.rule(json!({"folder_id": w.secret, "type": "this", "user_id": w.sam, "can_read": "deny", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let sam = app.token_for("sam").await;
    let hidden = app
        .request(
            reqwest::Method::GET,
            Some(&sam),
            &format!(
                "/api/v1/permissions/check?user_id={}&folder_id={}",
                w.sam, w.secret
            ),
            None,
        )
        .await;
    let missing = app
        .request(
            reqwest::Method::GET,
            Some(&sam),
            &format!(
                "/api/v1/permissions/check?user_id={}&folder_id=999999",
                w.sam
            ),
            None,
        )
        .await;
    assert_eq!(hidden.0, StatusCode::NOT_FOUND, "{}", hidden.1);
    assert_eq!(hidden, missing);
    assert!(!hidden.1.to_string().contains("Secret"), "{}", hidden.1);
}

#[actix_web::test]
async fn debug_refusals_and_the_effective_permissions_panel_use_names() {
    let app = spawn_app_with(|c| c.debug = true).await;
    let w = world(&app).await;
    app.rule(json!({"folder_id": w.reports, "type": "this", "user_id": w.eve, "can_read": "deny", "can_edit": "inherit", "can_add_children": "inherit"})).await;
    let eve = app.token_for("eve").await;
    let (status, _, body) = app
        .get(Some(&eve), &format!("/files/{}/q3.txt", w.file))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body = String::from_utf8_lossy(&body).into_owned();
    // eve may not read Reports: its name is not said to her.
    assert!(
        body.contains(
            "denied: the rule for user “eve” on folder “…” only denies read, which beats \
             the rule for user “eve” on folder “Secret Projects” and its subfolders allowing it"
        ),
        "{body}"
    );
    assert!(!body.contains("Reports"), "{body}");
    assert_no_ids(&body, &ids(&w));
    // The effective-permissions panel's sentence ("as the API explains it").
    let (c, _) = admin_client(&app, "admin").await;
    let page = c
        .get(app.url(&format!(
            "/admin/folders/{}/permissions?user={}",
            w.reports, w.eve
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sentences = texts(&page, "#effective code").join("\n");
    assert!(
        sentences.contains(
            "the rule for user “eve” on folder “Secret Projects / Reports” only denies read"
        ),
        "{sentences}"
    );
    assert_no_ids(&sentences, &ids(&w));
}

#[actix_web::test]
async fn refused_writes_say_why_without_ids() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.rule(json!({"folder_id": w.secret, "type": "children", "user_id": w.eve, "can_read": "inherit", "can_edit": "deny", "can_add_children": "inherit"})).await;
    let eve = app.token_for("eve").await;
    let (status, body) = app
        .request(
            reqwest::Method::PATCH,
            Some(&eve),
            &format!("/api/v1/files/{}", w.file),
            Some(json!({"description": "mine now"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["error"],
        "permission denied (denied: a rule for you denies edit)"
    );
    assert_no_ids(&body.to_string(), &ids(&w));
}

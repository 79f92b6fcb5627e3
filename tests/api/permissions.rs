//! Permission cases P1–P25 of the reference, re-expressed for Coffer over HTTP (the engine
//! itself is also unit-tested case by case), and Coffer's deliberate differences.
use coffer::storage::StorageRole;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, path_of, spawn_app, spawn_app_with};

async fn downloads(app: &TestApp, token: Option<&str>, file: &Value) -> bool {
    let (status, _, body) = app.get(token, &path_of(file)).await;
    match status {
        StatusCode::OK => {
            assert!(!body.is_empty());
            true
        }
        StatusCode::NOT_FOUND => false,
        other => panic!("unexpected {other}"),
    }
}

async fn check(app: &TestApp, user: i64, what: &str, id: i64) -> Value {
    let (status, body) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/permissions/check?user_id={user}&{what}={id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn rule(folder: Option<i64>, kind: &str, who: Value, read: &str, edit: &str, add: &str) -> Value {
    let mut body = json!({"folder_id": folder, "type": kind, "can_read": read, "can_edit": edit, "can_add_children": add});
    for (k, v) in who.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[actix_web::test]
async fn p1_p2_p4_superuser_nothing_and_owner() {
    let app = spawn_app().await;
    let (u, ut) = app.user("test1").await;
    let folder = app.folder(&app.admin_token, "test_folder", None).await;
    let file = app
        .upload(&app.admin_token, "f.txt", b"data", Some(folder), false)
        .await;
    assert!(downloads(&app, Some(&app.admin_token), &file).await, "P1");
    assert!(!downloads(&app, Some(&ut), &file).await, "P2");
    assert_eq!(check(&app, u, "folder_id", folder).await["read"], false);
    // P4: owning the folder is enough, without any rule.
    let (status, _) = app
        .request(
            Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{folder}"),
            Some(json!({"owner_id": u})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(downloads(&app, Some(&ut), &file).await, "P4");
    let c = check(&app, u, "file_id", file["id"].as_i64().unwrap()).await;
    assert_eq!(c["read"], true);
    assert!(
        c["explain"]["read"].as_str().unwrap().contains("owner"),
        "{c}"
    );
}

#[actix_web::test]
async fn p3_p15_p23_permissions_disabled() {
    let app = spawn_app_with(|c| c.enable_permissions = false).await;
    let (_, ut) = app.user("plain").await;
    let folder = app.folder(&app.admin_token, "f", None).await;
    let in_folder = app
        .upload(&app.admin_token, "in.txt", b"in", Some(folder), false)
        .await;
    let unsorted = app
        .upload(&app.admin_token, "unsorted.txt", b"un", None, false)
        .await;
    assert!(
        downloads(&app, Some(&ut), &in_folder).await,
        "P3/P23 any logged-in user"
    );
    assert!(
        !downloads(&app, Some(&ut), &unsorted).await,
        "P23 someone else's unsorted file"
    );
    assert!(!downloads(&app, None, &in_folder).await, "anonymous");
}

#[actix_web::test]
async fn p5_children_rules_for_groups_and_membership_changes_apply_at_once() {
    let app = spawn_app().await;
    let (u1, t1) = app.user("test1").await;
    let (u2, t2) = app.user("test2").await;
    let g1 = app.group("name1", &[u1]).await;
    let g2 = app.group("name2", &[u2]).await;
    let f1 = app.folder(&app.admin_token, "test_folder", None).await;
    let f2 = app.folder(&app.admin_token, "test_folder2", None).await;
    app.rule(rule(
        Some(f1),
        "children",
        json!({"group_id": g1}),
        "allow",
        "deny",
        "deny",
    ))
    .await;
    app.rule(rule(
        Some(f2),
        "children",
        json!({"group_id": g2}),
        "allow",
        "deny",
        "deny",
    ))
    .await;
    let a = app
        .upload(&app.admin_token, "a.txt", b"a", Some(f1), false)
        .await;
    let b = app
        .upload(&app.admin_token, "b.txt", b"b", Some(f2), false)
        .await;
    assert!(downloads(&app, Some(&t1), &a).await && !downloads(&app, Some(&t1), &b).await);
    assert!(!downloads(&app, Some(&t2), &a).await && downloads(&app, Some(&t2), &b).await);
    app.request(
        Method::PUT,
        Some(&app.admin_token),
        &format!("/api/v1/groups/{g1}/members"),
        Some(json!({"user_ids": [u1, u2]})),
    )
    .await;
    app.request(
        Method::PUT,
        Some(&app.admin_token),
        &format!("/api/v1/groups/{g2}/members"),
        Some(json!({"user_ids": [u1, u2]})),
    )
    .await;
    for t in [&t1, &t2] {
        assert!(
            downloads(&app, Some(t), &a).await && downloads(&app, Some(t), &b).await,
            "no stale cache"
        );
    }
}

#[actix_web::test]
async fn p6_p7_deny_wins_and_inherit_says_nothing() {
    let app = spawn_app().await;
    let (u, _) = app.user("u").await;
    let g1 = app.group("g1", &[u]).await;
    let g2 = app.group("g2", &[]).await;
    let f = app.folder(&app.admin_token, "f", None).await;
    let deny_rule = app
        .rule(rule(
            Some(f),
            "children",
            json!({"group_id": g1}),
            "allow",
            "deny",
            "deny",
        ))
        .await;
    app.rule(rule(
        Some(f),
        "children",
        json!({"group_id": g2}),
        "allow",
        "allow",
        "allow",
    ))
    .await;
    let c = check(&app, u, "folder_id", f).await;
    assert_eq!(
        (c["read"].clone(), c["edit"].clone()),
        (json!(true), json!(false))
    );
    app.request(
        Method::PUT,
        Some(&app.admin_token),
        &format!("/api/v1/groups/{g2}/members"),
        Some(json!({"user_ids": [u]})),
    )
    .await;
    let c = check(&app, u, "folder_id", f).await;
    assert_eq!(c["edit"], false, "P6: deny wins");
    assert!(
        c["explain"]["edit"].as_str().unwrap().contains("denies"),
        "{c}"
    );
    // P7: the same with "inherit" instead of deny: the other group's allow decides.
    app.request(
        Method::DELETE,
        Some(&app.admin_token),
        &format!("/api/v1/folder-permissions/{deny_rule}"),
        None,
    )
    .await;
    app.rule(rule(
        Some(f),
        "children",
        json!({"group_id": g1}),
        "allow",
        "inherit",
        "deny",
    ))
    .await;
    assert_eq!(check(&app, u, "folder_id", f).await["edit"], true);
}

#[actix_web::test]
async fn p8_unsorted_uploads_are_private_to_their_owner() {
    let app = spawn_app().await;
    let (_, t1) = app.user("test1").await;
    let mine = app.upload(&t1, "mine.txt", b"m", None, false).await;
    app.upload(&app.admin_token, "admins.txt", b"a", None, false)
        .await;
    let (_, body) = app
        .request(Method::GET, Some(&t1), "/api/v1/folders", None)
        .await;
    let names: Vec<_> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["mine.txt"]);
    let (_, body) = app
        .request(Method::GET, Some(&app.admin_token), "/api/v1/folders", None)
        .await;
    assert_eq!(
        body["files"].as_array().unwrap().len(),
        2,
        "superusers see every unsorted upload"
    );
    assert!(downloads(&app, Some(&t1), &mine).await);
}

#[actix_web::test]
async fn p9_deleting_a_folder_needs_edit_on_everything_in_it() {
    let app = spawn_app().await;
    let (u, t) = app.user("test1").await;
    let f = app.folder(&app.admin_token, "owned_by_admin", None).await;
    app.rule(rule(
        None,
        "all",
        json!({"everybody": true}),
        "allow",
        "deny",
        "deny",
    ))
    .await;
    let file = app
        .upload(&app.admin_token, "keep.txt", b"k", Some(f), false)
        .await;
    let (status, _) = app
        .request(
            Method::DELETE,
            Some(&t),
            &format!("/api/v1/folders/{f}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        downloads(&app, Some(&app.admin_token), &file).await,
        "folder and file still exist"
    );
    let _ = u;
}

#[actix_web::test]
async fn p11_to_p14_listings_show_only_what_may_be_read() {
    let app = spawn_app().await;
    let (u, t) = app.user("staff").await;
    let bar = app.folder(&app.admin_token, "bar", None).await;
    let foo = app.folder(&app.admin_token, "foo", Some(bar)).await;
    let sub_bar = app.folder(&app.admin_token, "bar", Some(bar)).await;
    app.folder(&app.admin_token, "baz", Some(bar)).await;
    app.upload(&app.admin_token, "spam.txt", b"s", Some(bar), false)
        .await;
    app.request(
        Method::PATCH,
        Some(&app.admin_token),
        &format!("/api/v1/folders/{foo}"),
        Some(json!({"owner_id": u})),
    )
    .await;
    // The user may read `bar` itself only through a rule; give THIS read on bar to list it.
    app.rule(rule(
        Some(bar),
        "this",
        json!({"user_id": u}),
        "allow",
        "inherit",
        "inherit",
    ))
    .await;
    let names = |body: &Value, key: &str| -> Vec<String> {
        let mut v: Vec<_> = body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let (_, body) = app
        .request(
            Method::GET,
            Some(&t),
            &format!("/api/v1/folders/{bar}/children"),
            None,
        )
        .await;
    assert_eq!(
        names(&body, "folders"),
        vec!["foo"],
        "P12: only the owned subfolder"
    );
    assert_eq!(
        names(&body, "files"),
        vec!["spam.txt"],
        "files follow the folder's read"
    );
    app.rule(rule(
        Some(sub_bar),
        "this",
        json!({"user_id": u}),
        "allow",
        "allow",
        "allow",
    ))
    .await;
    let (_, body) = app
        .request(
            Method::GET,
            Some(&t),
            &format!("/api/v1/folders/{bar}/children"),
            None,
        )
        .await;
    assert_eq!(names(&body, "folders"), vec!["bar", "foo"], "P13");
    app.rule(rule(
        Some(bar),
        "children",
        json!({"user_id": u}),
        "allow",
        "allow",
        "allow",
    ))
    .await;
    let (_, body) = app
        .request(
            Method::GET,
            Some(&t),
            &format!("/api/v1/folders/{bar}/children"),
            None,
        )
        .await;
    assert_eq!(names(&body, "folders"), vec!["bar", "baz", "foo"], "P14");
}

#[actix_web::test]
async fn p16_upload_into_a_folder_without_add_children_stores_nothing() {
    let app = spawn_app().await;
    let (u, t) = app.user("staff").await;
    let f = app.folder(&app.admin_token, "f", None).await;
    app.rule(rule(
        Some(f),
        "this",
        json!({"user_id": u}),
        "allow",
        "allow",
        "deny",
    ))
    .await;
    let (status, body) = app.try_upload(&t, "x.txt", b"x", Some(f), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("permission denied")
    );
    let files = app
        .db(|c| coffer::db::models::file::all_keys(c).unwrap())
        .await;
    assert!(files.is_empty());
    assert!(
        app.stored_keys(StorageRole::Private).await.is_empty(),
        "no bytes left behind"
    );
    assert!(app.private_upload_temp_files().is_empty());
}

#[actix_web::test]
async fn p18_no_rights_means_no_add_children() {
    let app = spawn_app().await;
    let (u, _) = app.user("staff").await;
    let f = app.folder(&app.admin_token, "f", None).await;
    let file = app
        .upload(&app.admin_token, "a.txt", b"a", Some(f), false)
        .await;
    assert_eq!(check(&app, u, "folder_id", f).await["add_children"], false);
    assert_eq!(
        check(&app, u, "file_id", file["id"].as_i64().unwrap()).await["add_children"],
        false
    );
}

#[actix_web::test]
async fn p19_user_deny_on_this_beats_group_allow_on_children() {
    let app = spawn_app().await;
    let (u, t) = app.user("u").await;
    let g = app.group("g", &[u]).await;
    let root = app.folder(&app.admin_token, "root", None).await;
    let child = app.folder(&app.admin_token, "child", Some(root)).await;
    let grandchild = app
        .folder(&app.admin_token, "grandchild", Some(child))
        .await;
    app.rule(rule(
        Some(root),
        "children",
        json!({"group_id": g}),
        "allow",
        "inherit",
        "inherit",
    ))
    .await;
    app.rule(rule(
        Some(child),
        "this",
        json!({"user_id": u}),
        "deny",
        "inherit",
        "inherit",
    ))
    .await;
    let files = [
        app.upload(&app.admin_token, "r.txt", b"r", Some(root), false)
            .await,
        app.upload(&app.admin_token, "c.txt", b"c", Some(child), false)
            .await,
        app.upload(&app.admin_token, "g.txt", b"g", Some(grandchild), false)
            .await,
    ];
    let got = [
        downloads(&app, Some(&t), &files[0]).await,
        downloads(&app, Some(&t), &files[1]).await,
        downloads(&app, Some(&t), &files[2]).await,
    ];
    assert_eq!(got, [true, false, true]);
}

#[actix_web::test]
async fn p21_s14_everybody_means_logged_in_never_anonymous() {
    let app = spawn_app().await;
    let (_, t) = app.user("member").await;
    let a = app.folder(&app.admin_token, "a", None).await;
    let b = app.folder(&app.admin_token, "b", Some(a)).await;
    app.rule(rule(
        None,
        "all",
        json!({"everybody": true}),
        "allow",
        "inherit",
        "inherit",
    ))
    .await;
    let file = app
        .upload(&app.admin_token, "nested.txt", b"n", Some(b), false)
        .await;
    assert!(downloads(&app, Some(&t), &file).await);
    assert!(!downloads(&app, None, &file).await);
}

#[actix_web::test]
async fn p24_folders_created_after_an_all_folders_grant_are_covered_at_once() {
    let app = spawn_app().await;
    let (u, t) = app.user("u").await;
    app.rule(rule(
        None,
        "all",
        json!({"user_id": u}),
        "allow",
        "inherit",
        "inherit",
    ))
    .await;
    let f1 = app.folder(&app.admin_token, "f1", None).await;
    let a = app
        .upload(&app.admin_token, "a.txt", b"a", Some(f1), false)
        .await;
    assert!(downloads(&app, Some(&t), &a).await);
    let f2 = app.folder(&app.admin_token, "f2", None).await;
    let b = app
        .upload(&app.admin_token, "b.txt", b"b", Some(f2), false)
        .await;
    assert!(
        downloads(&app, Some(&t), &b).await,
        "django-filer needs a cache clear here; Coffer does not"
    );
}

#[actix_web::test]
async fn p25_folder_owner_reads_files_others_put_in_it() {
    let app = spawn_app().await;
    let (u, t) = app.user("owner").await;
    let mine = app.folder(&app.admin_token, "mine", None).await;
    app.request(
        Method::PATCH,
        Some(&app.admin_token),
        &format!("/api/v1/folders/{mine}"),
        Some(json!({"owner_id": u})),
    )
    .await;
    let theirs = app
        .upload(&app.admin_token, "theirs.txt", b"t", Some(mine), false)
        .await;
    assert!(downloads(&app, Some(&t), &theirs).await);
    let (_, body) = app
        .request(
            Method::GET,
            Some(&t),
            &format!("/api/v1/folders/{mine}/children"),
            None,
        )
        .await;
    assert_eq!(
        body["files"].as_array().unwrap().len(),
        1,
        "and, unlike django-filer, sees it listed"
    );
}

#[actix_web::test]
async fn inactive_users_count_as_anonymous() {
    let app = spawn_app().await;
    let (u, t) = app.user("leaver").await;
    let f = app.folder(&app.admin_token, "f", None).await;
    app.rule(rule(
        Some(f),
        "children",
        json!({"user_id": u}),
        "allow",
        "allow",
        "allow",
    ))
    .await;
    let file = app
        .upload(&app.admin_token, "a.txt", b"a", Some(f), false)
        .await;
    assert!(downloads(&app, Some(&t), &file).await);
    app.db(move |c| {
        use diesel::prelude::*;
        diesel::update(coffer::db::schema::users::table.find(u))
            .set(coffer::db::schema::users::is_active.eq(false))
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(!downloads(&app, Some(&t), &file).await);
    let c = check(&app, u, "file_id", file["id"].as_i64().unwrap()).await;
    assert!(
        c["explain"]["read"].as_str().unwrap().contains("inactive"),
        "{c}"
    );
}

#[actix_web::test]
async fn managing_rules_users_and_groups_is_for_superusers() {
    let app = spawn_app().await;
    let (_, t) = app.user("staffish").await;
    for (path, body) in [
        (
            "/api/v1/users",
            json!({"username": "x", "password": "long enough pw"}),
        ),
        ("/api/v1/groups", json!({"name": "g"})),
        (
            "/api/v1/folder-permissions",
            rule(
                None,
                "all",
                json!({"everybody": true}),
                "allow",
                "allow",
                "allow",
            ),
        ),
    ] {
        let (status, body) = app.request(Method::POST, Some(&t), path, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, _) = app
        .request(
            Method::GET,
            Some(&t),
            &format!(
                "/api/v1/permissions/check?user_id={}&folder_id=1",
                app.admin_id
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn rule_validation_matches_the_admin_form() {
    let app = spawn_app().await;
    let f = app.folder(&app.admin_token, "f", None).await;
    for bad in [
        rule(
            Some(f),
            "all",
            json!({"everybody": true}),
            "allow",
            "allow",
            "allow",
        ),
        rule(
            None,
            "this",
            json!({"everybody": true}),
            "allow",
            "allow",
            "allow",
        ),
        rule(
            Some(f),
            "this",
            json!({"everybody": true, "user_id": 1}),
            "allow",
            "allow",
            "allow",
        ),
        rule(Some(f), "this", json!({}), "allow", "allow", "allow"),
        rule(
            Some(f),
            "this",
            json!({"everybody": true}),
            "yes",
            "allow",
            "allow",
        ),
        rule(
            Some(f),
            "sideways",
            json!({"everybody": true}),
            "allow",
            "allow",
            "allow",
        ),
        rule(
            Some(9999),
            "this",
            json!({"everybody": true}),
            "allow",
            "allow",
            "allow",
        ),
    ] {
        let (status, body) = app
            .request(
                Method::POST,
                Some(&app.admin_token),
                "/api/v1/folder-permissions",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert!(body["error"].is_string());
    }
    let id = app
        .rule(rule(
            Some(f),
            "children",
            json!({"everybody": true}),
            "allow",
            "inherit",
            "deny",
        ))
        .await;
    let (status, body) = app
        .request(
            Method::GET,
            Some(&app.admin_token),
            &format!("/api/v1/folder-permissions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": id, "folder_id": f, "type": "children", "user_id": null, "group_id": null, "everybody": true,
               "can_read": "allow", "can_edit": "inherit", "can_add_children": "deny"})
    );
}

#[actix_web::test]
async fn two_instances_sharing_a_database_see_each_others_changes_at_once() {
    let app = spawn_app().await;
    let (u, t) = app.user("reader").await;
    let f = app.folder(&app.admin_token, "shared", None).await;
    let file = app
        .upload(&app.admin_token, "s.txt", b"shared bytes", Some(f), false)
        .await;
    // A second instance on the same database and storages.
    let second = crate::helpers::spawn_second(&app).await;
    let on_second = |path: String| {
        let (second, t) = (second.clone(), t.clone());
        async move {
            let res = crate::helpers::client()
                .get(format!("{second}{path}"))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap();
            res.status()
        }
    };
    assert_eq!(
        on_second(path_of(&file)).await,
        StatusCode::NOT_FOUND,
        "warms the second instance's snapshot"
    );
    let rule_id = app
        .rule(rule(
            Some(f),
            "children",
            json!({"user_id": u}),
            "allow",
            "inherit",
            "inherit",
        ))
        .await;
    assert_eq!(
        on_second(path_of(&file)).await,
        StatusCode::OK,
        "a grant made through the first instance"
    );
    app.request(
        Method::DELETE,
        Some(&app.admin_token),
        &format!("/api/v1/folder-permissions/{rule_id}"),
        None,
    )
    .await;
    assert_eq!(
        on_second(path_of(&file)).await,
        StatusCode::NOT_FOUND,
        "and its removal"
    );
    let g = app.group("g", &[]).await;
    app.rule(rule(
        Some(f),
        "this",
        json!({"group_id": g}),
        "allow",
        "inherit",
        "inherit",
    ))
    .await;
    assert_eq!(on_second(path_of(&file)).await, StatusCode::NOT_FOUND);
    app.request(
        Method::PUT,
        Some(&app.admin_token),
        &format!("/api/v1/groups/{g}/members"),
        Some(json!({"user_ids": [u]})),
    )
    .await;
    assert_eq!(
        on_second(path_of(&file)).await,
        StatusCode::OK,
        "a membership change"
    );
}

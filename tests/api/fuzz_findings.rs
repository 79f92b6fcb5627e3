//! Faults that fuzzing the JSON API (scripts/fuzz-api.sh) found, each pinned by a test.

use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// Makes the database delete folder `victim` just before `event` on `table` writes a row
/// whose `column` is `victim`: the race of a request whose folder is deleted between its
/// check and its write, made certain.
async fn delete_folder_before(
    app: &TestApp,
    n: usize,
    table: &str,
    event: &str,
    column: &str,
    victim: i64,
) {
    let pg = app._pg.is_some();
    let statements = if pg {
        vec![
            format!(
                "CREATE FUNCTION race_{n}() RETURNS trigger AS $$ BEGIN \
                 DELETE FROM folders WHERE id = {victim}; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER race_{n} BEFORE {event} ON {table} FOR EACH ROW \
                 WHEN (NEW.{column} = {victim}) EXECUTE FUNCTION race_{n}()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER race_{n} BEFORE {event} ON {table} FOR EACH ROW \
             WHEN NEW.{column} = {victim} BEGIN DELETE FROM folders WHERE id = {victim}; END"
        )]
    };
    app.db(move |conn| {
        for s in statements {
            diesel::sql_query(s).execute(conn).unwrap();
        }
    })
    .await;
}

/// A folder deleted between a request's checks and its write answered 500 (a foreign-key
/// violation): it answers 409 and changes nothing. (The trigger's deletion is undone with
/// the failed statement; a real concurrent deletion stays.)
#[actix_web::test]
async fn a_folder_deleted_between_check_and_write_answers_409() {
    let app = spawn_app().await;
    let admin = app.admin_token.clone();
    let home = app.folder(&admin, "Home", None).await;
    let file = app.upload(&admin, "a.txt", b"a", Some(home), false).await["id"]
        .as_i64()
        .unwrap();
    let mover = app.folder(&admin, "Mover", Some(home)).await;

    let cases: Vec<(&str, &str, &str, Method, String, serde_json::Value)> = vec![
        (
            "files",
            "UPDATE",
            "folder_id",
            Method::PATCH,
            format!("/api/v1/files/{file}"),
            json!({}),
        ),
        (
            "folders",
            "UPDATE",
            "parent_id",
            Method::PATCH,
            format!("/api/v1/folders/{mover}"),
            json!({}),
        ),
        (
            "folders",
            "INSERT",
            "parent_id",
            Method::POST,
            "/api/v1/folders".into(),
            json!({"name": "New"}),
        ),
        (
            "folder_permissions",
            "INSERT",
            "folder_id",
            Method::POST,
            "/api/v1/folder-permissions".into(),
            json!({"type": "this", "everybody": true, "can_read": "allow",
                   "can_edit": "inherit", "can_add_children": "inherit"}),
        ),
    ];
    for (n, (table, event, column, method, path, mut body)) in cases.into_iter().enumerate() {
        let victim = app.folder(&admin, &format!("Victim {n}"), None).await;
        delete_folder_before(&app, n, table, event, column, victim).await;
        let key = if table == "folders" {
            "parent_id"
        } else {
            "folder_id"
        };
        body[key] = json!(victim);
        let (status, answer) = app
            .request(method.clone(), Some(&admin), &path, Some(body))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {path}: {answer}");
        assert_eq!(
            answer,
            json!({"error": "an item this request refers to was deleted meanwhile"})
        );
    }
    // Nothing moved or was created.
    let (_, f) = app.file_json(file).await;
    assert_eq!(f["folder_id"], json!(home));
    let (_, m) = app
        .request(
            Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{mover}"),
            None,
        )
        .await;
    assert_eq!(m["parent_id"], json!(home));
    let (_, rules) = app
        .request(
            Method::GET,
            Some(&admin),
            "/api/v1/folder-permissions",
            None,
        )
        .await;
    assert_eq!(rules, json!([]));
}

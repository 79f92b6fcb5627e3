//! The folder permission pages of the admin: a folder's own and inherited rules, the
//! overview, adding, editing and deleting rules (taking effect on downloads at once), refused
//! input, the "Effective permissions" panel, refusals and escaping.

use coffer::db::models::permission;
use coffer::db::models::user::{self, UserChanges};
use reqwest::StatusCode;
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};

use crate::auth::log_in;
use crate::helpers::{TestApp, client, path_of, spawn_app, spawn_app_with};

/// A logged-in browser: its client and the session's CSRF token.
struct Browser {
    c: reqwest::Client,
    csrf: String,
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect::<Vec<_>>().join("")
}

/// All text inside the first element matching `css` (panics when there is none).
fn text_of(doc: &Html, css: &str) -> String {
    text(
        doc.select(&sel(css))
            .next()
            .unwrap_or_else(|| panic!("no {css}")),
    )
}

/// The rule ids listed in rows under `css`.
fn rule_ids(doc: &Html, css: &str) -> Vec<i64> {
    doc.select(&sel(&format!("{css} tr[data-rule]")))
        .map(|r| r.value().attr("data-rule").unwrap().parse().unwrap())
        .collect()
}

async fn browser(app: &TestApp, username: &str) -> Browser {
    let c = client();
    let page = log_in(app, &c, username).await;
    let doc = Html::parse_document(&page);
    let csrf = doc
        .select(&sel("input[name=csrf_token]"))
        .next()
        .expect("a csrf_token field")
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    Browser { c, csrf }
}

impl Browser {
    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, Html, String) {
        let res = self.c.get(app.url(path)).send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        (status, Html::parse_document(&body), body)
    }

    /// Posts a form with this session's CSRF token.
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        all.extend_from_slice(fields);
        self.post_raw(app, path, &all).await
    }

    async fn post_raw(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.c
            .post(app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn rules_in_db(app: &TestApp) -> Vec<permission::PermissionRow> {
    app.db(|conn| permission::list(conn).unwrap()).await
}

async fn set_user(app: &TestApp, id: i64, changes: UserChanges) {
    app.db(move |conn| user::update(conn, id, &changes).unwrap())
        .await;
}

async fn download_status(app: &TestApp, token: &str, file: &Value) -> StatusCode {
    app.get(Some(token), &path_of(file)).await.0
}

fn rule_body(folder: Option<i64>, kind: &str, who: Value, read: &str, edit: &str) -> Value {
    let mut body = json!({"folder_id": folder, "type": kind, "can_read": read,
        "can_edit": edit, "can_add_children": "inherit"});
    for (k, v) in who.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[actix_web::test]
async fn folder_page_lists_own_inherited_and_all_folder_rules() {
    let app = spawn_app().await;
    let (u, _) = app.user("ursula").await;
    let g = app.group("editors", &[u]).await;
    let root = app.folder(&app.admin_token, "Projects", None).await;
    let child = app.folder(&app.admin_token, "2026", Some(root)).await;
    let grandchild = app.folder(&app.admin_token, "Reports", Some(child)).await;
    let r_children = app
        .rule(rule_body(
            Some(root),
            "children",
            json!({"group_id": g}),
            "allow",
            "deny",
        ))
        .await;
    let r_this_root = app
        .rule(rule_body(
            Some(root),
            "this",
            json!({"user_id": u}),
            "allow",
            "inherit",
        ))
        .await;
    let r_own = app
        .rule(rule_body(
            Some(child),
            "this",
            json!({"user_id": u}),
            "deny",
            "inherit",
        ))
        .await;
    let r_all = app
        .rule(rule_body(
            None,
            "all",
            json!({"everybody": true}),
            "allow",
            "inherit",
        ))
        .await;
    let b = browser(&app, "admin").await;

    let (status, doc, _) = b
        .get(&app, &format!("/admin/folders/{child}/permissions"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rule_ids(&doc, "#own-rules"), vec![r_own]);
    // Nearest first, then all folders; the parent's "this" rule does not reach here.
    assert_eq!(rule_ids(&doc, "#inherited-rules"), vec![r_children, r_all]);
    let own = text_of(&doc, &format!("#own-rules #rule-{r_own}"));
    assert!(own.contains("user ursula"), "{own}");
    assert!(own.contains("this folder only"), "{own}");
    assert!(own.contains("deny") && !own.contains("inherited"), "{own}");
    let inherited = text_of(&doc, &format!("#inherited-rules #rule-{r_children}"));
    assert!(inherited.contains("inherited"), "{inherited}");
    assert!(inherited.contains("group editors"), "{inherited}");
    assert!(
        inherited.contains("on “Projects” and its subfolders"),
        "{inherited}"
    );
    assert!(inherited.contains("allow") && inherited.contains("deny"));
    let from = doc
        .select(&sel(&format!(
            "#inherited-rules #rule-{r_children} a[href]"
        )))
        .map(|a| a.value().attr("href").unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        from.contains(&format!("/admin/folders/{root}/permissions")),
        "links to where it lives: {from:?}"
    );
    let everybody = text_of(&doc, &format!("#inherited-rules #rule-{r_all}"));
    assert!(everybody.contains("everybody") && everybody.contains("on all folders"));
    assert!(
        doc.select(&sel(&format!(
            "#inherited-rules #rule-{r_all} a[href=\"/admin/permissions/#all-folders\"]"
        )))
        .next()
        .is_some()
    );
    let crumbs = text_of(&doc, "nav.crumbs");
    assert!(
        crumbs.contains("Projects") && crumbs.contains("2026"),
        "{crumbs}"
    );

    // The grandchild inherits the root's children rule and the all-folders rule only.
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{grandchild}/permissions"))
        .await;
    assert!(rule_ids(&doc, "#own-rules").is_empty());
    assert_eq!(rule_ids(&doc, "#inherited-rules"), vec![r_children, r_all]);
    // The root lists its two rules as its own.
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{root}/permissions"))
        .await;
    let mut own = rule_ids(&doc, "#own-rules");
    own.sort_unstable();
    assert_eq!(own, vec![r_children, r_this_root]);
    assert_eq!(rule_ids(&doc, "#inherited-rules"), vec![r_all]);

    // The overview: all-folder rules, then every rule grouped by folder path.
    let (status, doc, _) = b.get(&app, "/admin/permissions/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rule_ids(&doc, "#all-folders"), vec![r_all]);
    let groups: Vec<(String, Vec<i64>)> = doc
        .select(&sel("#by-folder section.rule-group"))
        .map(|s| {
            let path = text(s.select(&sel("h3 a")).next().unwrap());
            let ids = s
                .select(&sel("tr[data-rule]"))
                .map(|r| r.value().attr("data-rule").unwrap().parse().unwrap())
                .collect();
            (path, ids)
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("Projects".to_owned(), vec![r_children, r_this_root]),
            ("Projects / 2026".to_owned(), vec![r_own]),
        ]
    );
    assert!(
        doc.select(&sel(&format!(
            "#by-folder a[href=\"/admin/folders/{child}/permissions\"]"
        )))
        .next()
        .is_some()
    );
    // Unknown folder: 404.
    let (status, _, _) = b.get(&app, "/admin/folders/999999/permissions").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn add_edit_delete_take_effect_on_downloads_at_once() {
    let app = spawn_app().await;
    let (u, ut) = app.user("uma").await;
    let folder = app.folder(&app.admin_token, "Private", None).await;
    let file = app
        .upload(
            &app.admin_token,
            "secret.txt",
            b"secret",
            Some(folder),
            false,
        )
        .await;
    assert_eq!(
        download_status(&app, &ut, &file).await,
        StatusCode::NOT_FOUND
    );
    let b = browser(&app, "admin").await;
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{folder}/permissions"))
        .await;
    assert!(
        doc.select(&sel("#add-rule form[action=\"/admin/permissions/new\"]"))
            .next()
            .is_some()
    );

    // Add: read for uma on this folder.
    let (fid, uid) = (folder.to_string(), u.to_string());
    let mut fields = vec![
        ("from", fid.as_str()),
        ("place", "folder"),
        ("folder_id", fid.as_str()),
        ("scope", "this"),
        ("who", "user"),
        ("user_id", uid.as_str()),
        ("group_id", ""),
        ("can_read", "allow"),
        ("can_edit", "inherit"),
        ("can_add_children", "inherit"),
    ];
    let res = b.post(&app, "/admin/permissions/new", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("/admin/folders/{folder}/permissions")
    );
    let rows = rules_in_db(&app).await;
    assert_eq!(rows.len(), 1);
    let id = rows[0].id;
    assert_eq!(
        (rows[0].folder_id, rows[0].scope.as_str(), rows[0].user_id),
        (Some(folder), "this", Some(u))
    );
    assert_eq!(
        (rows[0].can_read, rows[0].can_edit, rows[0].can_add_children),
        (Some(true), None, None)
    );
    assert_eq!(download_status(&app, &ut, &file).await, StatusCode::OK);
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{folder}/permissions"))
        .await;
    assert!(text_of(&doc, ".flash.ok").contains(&format!("Rule #{id} added")));
    assert_eq!(rule_ids(&doc, "#own-rules"), vec![id]);

    // The edit form shows the rule as it is.
    let (status, doc, _) = b
        .get(&app, &format!("/admin/permissions/{id}/edit?from={folder}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let checked = |doc: &Html, name: &str| {
        doc.select(&sel(&format!("input[name={name}][checked]")))
            .next()
            .map(|e| e.value().attr("value").unwrap().to_owned())
    };
    assert_eq!(checked(&doc, "scope").as_deref(), Some("this"));
    assert_eq!(checked(&doc, "who").as_deref(), Some("user"));
    assert_eq!(checked(&doc, "can_read").as_deref(), Some("allow"));
    assert_eq!(checked(&doc, "can_edit").as_deref(), Some("inherit"));
    assert_eq!(
        doc.select(&sel("select[name=user_id] option[selected]"))
            .next()
            .map(|o| o.value().attr("value").unwrap().to_owned()),
        Some(uid.clone())
    );

    // Edit: deny read → refused at once.
    fields[7] = ("can_read", "deny");
    let res = b
        .post(&app, &format!("/admin/permissions/{id}/edit"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(rules_in_db(&app).await[0].can_read, Some(false));
    assert_eq!(
        download_status(&app, &ut, &file).await,
        StatusCode::NOT_FOUND
    );
    // Edit: allow again, for everybody, on all folders.
    let everybody = [
        ("from", fid.as_str()),
        ("place", "all"),
        ("folder_id", fid.as_str()),
        ("scope", "all"),
        ("who", "everybody"),
        ("user_id", uid.as_str()),
        ("can_read", "allow"),
        ("can_edit", "inherit"),
        ("can_add_children", "deny"),
    ];
    let res = b
        .post(&app, &format!("/admin/permissions/{id}/edit"), &everybody)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let row = &rules_in_db(&app).await[0];
    assert_eq!(
        (
            row.folder_id,
            row.scope.as_str(),
            row.user_id,
            row.everybody
        ),
        (None, "all", None, true)
    );
    assert_eq!(row.can_add_children, Some(false));
    assert_eq!(download_status(&app, &ut, &file).await, StatusCode::OK);
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{folder}/permissions"))
        .await;
    assert_eq!(rule_ids(&doc, "#inherited-rules"), vec![id]);

    // Delete: a confirmation page, then the rule is gone and the file is private again.
    let (status, doc, _) = b
        .get(
            &app,
            &format!("/admin/permissions/{id}/delete?from={folder}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let confirm = text_of(&doc, "main");
    assert!(
        confirm.contains(&format!("Delete rule #{id}?")),
        "{confirm}"
    );
    assert!(confirm.contains("everybody") && confirm.contains("all folders"));
    let res = b
        .post(
            &app,
            &format!("/admin/permissions/{id}/delete"),
            &[("from", fid.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("/admin/folders/{folder}/permissions")
    );
    assert!(rules_in_db(&app).await.is_empty());
    assert_eq!(
        download_status(&app, &ut, &file).await,
        StatusCode::NOT_FOUND
    );
    // Gone: 404 for its pages and a second delete.
    let (status, _, _) = b.get(&app, &format!("/admin/permissions/{id}/edit")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = b
        .post(&app, &format!("/admin/permissions/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A rule for all folders added from the overview returns there.
    let res = b
        .post(
            &app,
            "/admin/permissions/new",
            &[
                ("from", "overview"),
                ("place", "all"),
                ("scope", "all"),
                ("who", "user"),
                ("user_id", uid.as_str()),
                ("can_read", "allow"),
                ("can_edit", "inherit"),
                ("can_add_children", "inherit"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/permissions/");
    assert_eq!(download_status(&app, &ut, &file).await, StatusCode::OK);
}

#[actix_web::test]
async fn invalid_rules_are_refused_with_a_message_and_nothing_saved() {
    let app = spawn_app().await;
    let (u, _) = app.user("val").await;
    let g = app.group("crew", &[u]).await;
    let folder = app.folder(&app.admin_token, "F", None).await;
    let existing = app
        .rule(rule_body(
            Some(folder),
            "children",
            json!({"group_id": g}),
            "allow",
            "inherit",
        ))
        .await;
    let b = browser(&app, "admin").await;
    let (fid, uid, gid) = (folder.to_string(), u.to_string(), g.to_string());
    let base = |place: &'static str, scope: &'static str, who: &'static str| {
        vec![
            ("from", fid.clone()),
            ("place", place.to_owned()),
            ("folder_id", fid.clone()),
            ("scope", scope.to_owned()),
            ("who", who.to_owned()),
            ("user_id", String::new()),
            ("group_id", String::new()),
            ("can_read", "allow".to_owned()),
            ("can_edit", "inherit".to_owned()),
            ("can_add_children", "inherit".to_owned()),
        ]
    };
    let set = |mut f: Vec<(&'static str, String)>, k: &str, v: &str| {
        for pair in &mut f {
            if pair.0 == k {
                pair.1 = v.to_owned();
            }
        }
        f
    };
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            set(base("all", "this", "user"), "user_id", &uid),
            "type \"this\" (one folder only) needs a folder",
        ),
        (
            set(base("all", "children", "group"), "group_id", &gid),
            "type \"children\" (a folder and its subfolders) needs a folder",
        ),
        (
            set(base("folder", "all", "user"), "user_id", &uid),
            "A rule of type \"all\" reaches all folders, so it cannot sit on one folder",
        ),
        (
            base("folder", "this", "user"),
            "Choose the user the rule is for.",
        ),
        (
            base("folder", "this", "group"),
            "Choose the group the rule is for.",
        ),
        (base("folder", "this", ""), "Choose whom the rule is for"),
        (
            set(base("", "this", "everybody"), "place", "somewhere"),
            "Choose where the rule sits",
        ),
        (
            base("folder", "sideways", "everybody"),
            "Choose how far the rule reaches",
        ),
        (
            set(base("folder", "this", "everybody"), "can_edit", "maybe"),
            "Choose allow, deny or inherit for edit.",
        ),
        (
            set(base("folder", "this", "user"), "user_id", "999999"),
            "User 999999 does not exist.",
        ),
        (
            set(base("folder", "this", "group"), "group_id", "999999"),
            "Group 999999 does not exist.",
        ),
        (
            set(
                set(base("folder", "this", "everybody"), "folder_id", "999999"),
                "from",
                "",
            ),
            "Folder 999999 does not exist.",
        ),
    ];
    let before = rules_in_db(&app).await;
    for (fields, message) in &cases {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = b.post(&app, "/admin/permissions/new", &pairs).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{fields:?}");
        let doc = Html::parse_document(&res.text().await.unwrap());
        let alert = text_of(&doc, "[role=alert]");
        assert!(alert.contains(message), "{alert:?} should say {message:?}");
        assert!(alert.contains("Nothing was saved."), "{alert}");
        // The form comes back as it was posted.
        let scope = fields
            .iter()
            .find(|(k, _)| *k == "scope")
            .unwrap()
            .1
            .clone();
        if ["this", "children", "all"].contains(&scope.as_str()) {
            assert!(
                doc.select(&sel(&format!("input[name=scope][value={scope}][checked]")))
                    .next()
                    .is_some(),
                "{fields:?}"
            );
        }
        assert_eq!(rules_in_db(&app).await, before, "nothing saved: {fields:?}");
    }
    // The chosen user stays selected after a refusal.
    let res = b
        .post(
            &app,
            "/admin/permissions/new",
            &[
                ("place", "all"),
                ("scope", "this"),
                ("who", "user"),
                ("user_id", uid.as_str()),
                ("can_read", "deny"),
                ("can_edit", "inherit"),
                ("can_add_children", "inherit"),
            ],
        )
        .await;
    let doc = Html::parse_document(&res.text().await.unwrap());
    assert_eq!(
        doc.select(&sel("select[name=user_id] option[selected]"))
            .next()
            .map(|o| o.value().attr("value").unwrap().to_owned()),
        Some(uid.clone())
    );
    assert!(
        doc.select(&sel("input[name=can_read][value=deny][checked]"))
            .next()
            .is_some()
    );

    // An invalid edit leaves the rule as it was.
    let bad = set(base("all", "children", "user"), "user_id", &uid);
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b
        .post(&app, &format!("/admin/permissions/{existing}/edit"), &pairs)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("needs a folder"));
    assert_eq!(rules_in_db(&app).await, before);

    // The JSON API shares the validation.
    let (status, body) = app
        .request(
            reqwest::Method::POST,
            Some(&app.admin_token),
            "/api/v1/folder-permissions",
            Some(rule_body(
                Some(folder),
                "all",
                json!({"everybody": true}),
                "allow",
                "inherit",
            )),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("cannot sit on one folder")
    );
    let (status, body) = app
        .request(
            reqwest::Method::POST,
            Some(&app.admin_token),
            "/api/v1/folder-permissions",
            Some(rule_body(
                Some(folder),
                "this",
                json!({"everybody": true, "user_id": u}),
                "allow",
                "inherit",
            )),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("exactly one of"));
    assert_eq!(rules_in_db(&app).await, before);
}

/// The panel's row for `right`: (allowed, cause, text, deciding rule ids, overruled ids).
struct Row {
    allowed: bool,
    cause: String,
    text: String,
    deciding: Vec<i64>,
    overruled: Vec<i64>,
}

async fn panel(app: &TestApp, b: &Browser, folder: i64, user: i64) -> Vec<(String, Row)> {
    let (status, doc, _) = b
        .get(
            app,
            &format!("/admin/folders/{folder}/permissions?user={user}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids = |row: ElementRef<'_>, css: &str| -> Vec<i64> {
        row.select(&sel(&format!("{css} li[data-rule]")))
            .map(|l| l.value().attr("data-rule").unwrap().parse().unwrap())
            .collect()
    };
    let rows: Vec<(String, Row)> = doc
        .select(&sel("#effective tr[data-right]"))
        .map(|row| {
            let v = row.value();
            (
                v.attr("data-right").unwrap().to_owned(),
                Row {
                    allowed: v.attr("data-allowed") == Some("true"),
                    cause: row
                        .select(&sel("[data-cause]"))
                        .next()
                        .unwrap()
                        .value()
                        .attr("data-cause")
                        .unwrap()
                        .to_owned(),
                    text: text(row),
                    deciding: ids(row, "ul.deciding"),
                    overruled: ids(row, "ul.overruled"),
                },
            )
        })
        .collect();
    let rights: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(rights, ["read", "edit", "add_children"]);
    // The picker keeps the chosen user.
    assert_eq!(
        doc.select(&sel("#effective-user option[selected]"))
            .next()
            .and_then(|o| o.value().attr("value")),
        Some(user.to_string().as_str())
    );
    rows
}

#[actix_web::test]
async fn effective_panel_names_the_deciding_rules_and_short_circuits() {
    let app = spawn_app().await;
    let (u, _) = app.user("una").await;
    let (v, _) = app.user("vic").await;
    let (o, _) = app.user("olga").await;
    let (i, _) = app.user("ivan").await;
    let readers = app.group("readers", &[u, i]).await;
    let blocked = app.group("blocked", &[u]).await;
    let root = app.folder(&app.admin_token, "Root", None).await;
    let child = app.folder(&app.admin_token, "Child", Some(root)).await;
    let grandchild = app
        .folder(&app.admin_token, "Grandchild", Some(child))
        .await;
    let allow = app
        .rule(rule_body(
            Some(root),
            "children",
            json!({"group_id": readers}),
            "allow",
            "allow",
        ))
        .await;
    let deny = app
        .rule(rule_body(
            Some(child),
            "this",
            json!({"group_id": blocked}),
            "deny",
            "inherit",
        ))
        .await;
    let this_root = app
        .rule(rule_body(
            Some(root),
            "this",
            json!({"user_id": v}),
            "allow",
            "inherit",
        ))
        .await;
    let b = browser(&app, "admin").await;

    // A deny from one group beats an allow from another.
    let rows = panel(&app, &b, child, u).await;
    let read = &rows[0].1;
    assert!(!read.allowed);
    assert_eq!(read.cause, "denied-by-rules");
    assert_eq!(read.deciding, vec![deny]);
    assert_eq!(read.overruled, vec![allow]);
    assert!(
        read.text.contains("A deny beats any allow"),
        "{}",
        read.text
    );
    assert!(read.text.contains("group blocked"), "{}", read.text);
    assert!(read.text.contains("group readers"), "{}", read.text);
    assert!(read.text.contains("“Root / Child” only"), "{}", read.text);
    assert!(
        read.text.contains("“Root” and its subfolders"),
        "{}",
        read.text
    );
    // Edit: only the allow speaks.
    let edit = &rows[1].1;
    assert!(edit.allowed);
    assert_eq!(edit.cause, "allowed-by-rules");
    assert_eq!(edit.deciding, vec![allow]);
    // Add children: nobody says anything.
    let add = &rows[2].1;
    assert!(!add.allowed);
    assert_eq!(add.cause, "no-rule");
    let (_, doc, _) = b
        .get(
            &app,
            &format!("/admin/folders/{child}/permissions?user={u}"),
        )
        .await;
    let subject = text_of(&doc, "#effective .subject");
    assert!(
        subject.contains("una") && subject.contains("“blocked”, “readers”"),
        "{subject}"
    );
    assert!(
        doc.select(&sel(&format!(
            "#effective li[data-rule=\"{deny}\"] a[href=\"/admin/permissions/{deny}/edit?from={child}\"]"
        )))
        .next()
        .is_some(),
        "deciding rules link to themselves"
    );

    // The deny is "this folder only": the grandchild is readable again through the allow.
    let rows = panel(&app, &b, grandchild, u).await;
    assert!(rows[0].1.allowed);
    assert_eq!(rows[0].1.deciding, vec![allow]);
    assert!(
        rows[0]
            .1
            .text
            .contains("on “Root” and its subfolders — allows read"),
        "{}",
        rows[0].1.text
    );
    // A "this" rule on the root does not reach the child.
    let rows = panel(&app, &b, root, v).await;
    assert!(rows[0].1.allowed);
    assert_eq!(rows[0].1.deciding, vec![this_root]);
    let rows = panel(&app, &b, child, v).await;
    assert!(!rows[0].1.allowed);
    assert_eq!(rows[0].1.cause, "no-rule");
    assert!(
        rows[0]
            .1
            .text
            .contains("Without an allow there is no right")
    );

    // The owner of a folder: every right, no rule consulted.
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            Some(&app.admin_token),
            &format!("/api/v1/folders/{child}"),
            Some(json!({"owner_id": o})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for (_, row) in panel(&app, &b, child, o).await {
        assert!(row.allowed);
        assert_eq!(row.cause, "owner");
        assert!(row.text.contains("olga owns this folder"), "{}", row.text);
    }
    // …but not of its subfolder.
    let rows = panel(&app, &b, grandchild, o).await;
    assert_eq!(rows[0].1.cause, "no-rule");
    // The owner is shown on the page.
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{child}/permissions"))
        .await;
    assert!(text_of(&doc, "main").contains("Owner: olga"));

    // A superuser.
    for (_, row) in panel(&app, &b, grandchild, app.admin_id).await {
        assert!(row.allowed);
        assert_eq!(row.cause, "superuser");
    }

    // An inactive user: denied everything, even with an allow (and even as a superuser).
    assert!(panel(&app, &b, root, i).await[0].1.allowed);
    set_user(
        &app,
        i,
        UserChanges {
            is_active: Some(false),
            is_superuser: Some(true),
            ..UserChanges::default()
        },
    )
    .await;
    for (_, row) in panel(&app, &b, root, i).await {
        assert!(!row.allowed);
        assert_eq!(row.cause, "inactive");
        assert!(row.text.contains("is inactive"), "{}", row.text);
    }

    // No user chosen, or one that does not exist: no verdicts, no error.
    for q in ["", "?user=", "?user=abc", "?user=999999"] {
        let (status, doc, _) = b
            .get(&app, &format!("/admin/folders/{child}/permissions{q}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert!(
            doc.select(&sel("#effective tr[data-right]"))
                .next()
                .is_none()
        );
    }
}

#[actix_web::test]
async fn effective_panel_says_when_permissions_are_disabled() {
    let app = spawn_app_with(|cfg| cfg.enable_permissions = false).await;
    let (u, _) = app.user("pat").await;
    let folder = app.folder(&app.admin_token, "Open", None).await;
    let deny = app
        .rule(rule_body(
            Some(folder),
            "this",
            json!({"user_id": u}),
            "deny",
            "deny",
        ))
        .await;
    let b = browser(&app, "admin").await;
    for (_, row) in panel(&app, &b, folder, u).await {
        assert!(row.allowed);
        assert_eq!(row.cause, "permissions-disabled");
        assert!(row.text.contains("enable_permissions = false"));
    }
    let (_, doc, _) = b
        .get(&app, &format!("/admin/folders/{folder}/permissions"))
        .await;
    assert!(text_of(&doc, "main").contains("the rules below have no effect"));
    assert_eq!(rule_ids(&doc, "#own-rules"), vec![deny]);
}

#[actix_web::test]
async fn staff_get_403_anonymous_the_login_and_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let (s, _) = app.user("steve").await;
    set_user(
        &app,
        s,
        UserChanges {
            is_staff: Some(true),
            ..UserChanges::default()
        },
    )
    .await;
    let folder = app.folder(&app.admin_token, "F", None).await;
    let id = app
        .rule(rule_body(
            Some(folder),
            "this",
            json!({"user_id": s}),
            "allow",
            "inherit",
        ))
        .await;
    let pages = [
        "/admin/permissions/".to_owned(),
        "/admin/permissions/new".to_owned(),
        format!("/admin/folders/{folder}/permissions"),
        format!("/admin/folders/{folder}/permissions?user={s}"),
        format!("/admin/permissions/{id}/edit"),
        format!("/admin/permissions/{id}/delete"),
    ];
    // Anonymous: to the login form.
    let anon = client();
    for p in &pages {
        let res = anon.get(app.url(p)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{p}");
        assert!(location(&res).starts_with("/login?next="), "{p}");
    }
    // Staff who are not superusers: 403, for pages and for posts with a valid token.
    let staff = browser(&app, "steve").await;
    for p in &pages {
        let (status, _, _) = staff.get(&app, p).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
    }
    let fid = folder.to_string();
    let fields = [
        ("place", "folder"),
        ("folder_id", fid.as_str()),
        ("scope", "children"),
        ("who", "everybody"),
        ("can_read", "allow"),
        ("can_edit", "allow"),
        ("can_add_children", "allow"),
    ];
    let before = rules_in_db(&app).await;
    for p in [
        "/admin/permissions/new".to_owned(),
        format!("/admin/permissions/{id}/edit"),
        format!("/admin/permissions/{id}/delete"),
    ] {
        let res = staff.post(&app, &p, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{p}");
    }
    assert_eq!(rules_in_db(&app).await, before);

    // A superuser without the token (or with a wrong one): 403, nothing changed.
    let admin = browser(&app, "admin").await;
    for p in [
        "/admin/permissions/new".to_owned(),
        format!("/admin/permissions/{id}/edit"),
        format!("/admin/permissions/{id}/delete"),
    ] {
        let res = admin.post_raw(&app, &p, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{p} without a token");
        let mut forged = vec![("csrf_token", "forged")];
        forged.extend_from_slice(&fields);
        let res = admin.post_raw(&app, &p, &forged).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{p} with a wrong token"
        );
    }
    assert_eq!(rules_in_db(&app).await, before);
    // With the token the same edit goes through.
    let res = admin
        .post(&app, &format!("/admin/permissions/{id}/edit"), &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(rules_in_db(&app).await[0].everybody);
}

#[actix_web::test]
async fn names_with_markup_quotes_and_non_ascii_are_escaped() {
    let app = spawn_app().await;
    let (u, _) = app.user("Zoë.日本").await;
    let group_name = "<script>alert(\"g\")</script> & 'crew' ü";
    let folder_name = "\"Quotes\" <b onclick='x'>bold – naïve";
    let g = app.group(group_name, &[u]).await;
    let folder = app.folder(&app.admin_token, folder_name, None).await;
    let sub = app.folder(&app.admin_token, "<i>sub", Some(folder)).await;
    let r = app
        .rule(rule_body(
            Some(folder),
            "children",
            json!({"group_id": g}),
            "deny",
            "inherit",
        ))
        .await;
    let b = browser(&app, "admin").await;
    let pages = [
        format!("/admin/folders/{sub}/permissions?user={u}"),
        format!("/admin/folders/{folder}/permissions"),
        "/admin/permissions/".to_owned(),
        format!("/admin/permissions/{r}/edit"),
        format!("/admin/permissions/{r}/delete"),
    ];
    for p in &pages {
        let (status, doc, raw) = b.get(&app, p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert!(!raw.contains("<script>alert"), "{p}: raw group name");
        assert!(!raw.contains("<b>bold</b>"), "{p}: raw folder name");
        assert!(!raw.contains("<i>sub"), "{p}: raw folder name");
        let all = text(doc.root_element());
        assert!(
            all.contains(group_name),
            "{p}: the group name is shown as text"
        );
    }
    let (_, doc, _) = b.get(&app, &pages[0]).await;
    let shown = text_of(&doc, "#effective");
    assert!(shown.contains("Zoë.日本"), "{shown}");
    assert!(
        shown.contains(&format!("“{folder_name}” and its subfolders")),
        "{shown}"
    );
    let crumbs = text_of(&doc, "nav.crumbs");
    assert!(
        crumbs.contains("<i>sub") && crumbs.contains(folder_name),
        "{crumbs}"
    );
    // Picker options carry the names as text too.
    assert!(
        doc.select(&sel("#add-rule select[name=group_id] option"))
            .any(|o| text(o) == group_name)
    );
}

//! Log in and out: CSRF on every form, session rotation, revocation at logout and at
//! password change, no user enumeration.

use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::{PASSWORD, TestApp, client, spawn_app};

pub fn csrf_from(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf_token]").unwrap();
    doc.select(&sel)
        .next()
        .expect("a csrf_token field")
        .value()
        .attr("value")
        .unwrap()
        .to_owned()
}

/// Logs `username` in through the form with `client`; returns the page after login.
pub async fn log_in(app: &TestApp, client: &reqwest::Client, username: &str) -> String {
    log_in_with_cookie(app, client, username).await.0
}

/// Like `log_in`, also returning the session cookie's value.
pub async fn log_in_with_cookie(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
) -> (String, String) {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&page);
    let res = client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {username}");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("coffer_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .expect("a session cookie");
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    (res.text().await.unwrap(), cookie)
}

#[actix_web::test]
async fn login_logout_round_trip_revokes_the_session() {
    let app = spawn_app().await;
    let c = client();
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "anonymous → login"
    );
    let (home, cookie_before) = log_in_with_cookie(&app, &c, "admin").await;
    assert!(home.contains("admin"));
    // Logout without the token is refused and changes nothing.
    let res = c
        .post(app.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let token = csrf_from(&home);
    let res = c
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // The old cookie value is dead on the server, not just forgotten by the client.
    let replay = client();
    let res = replay
        .get(app.url("/api/v1/users/me"))
        .header("Cookie", format!("coffer_session={cookie_before}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn login_needs_the_csrf_pair_and_does_not_enumerate_users() {
    let app = spawn_app().await;
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&page);
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let fresh = client();
    let res = fresh
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "token without its cookie"
    );
    let wrong_pw = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", "nope nope"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    let no_user = c
        .post(app.url("/login"))
        .form(&[
            ("username", "ghost"),
            ("password", "nope nope"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_pw.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(no_user.status(), StatusCode::UNAUTHORIZED);
    let (a, b) = (
        wrong_pw.text().await.unwrap(),
        no_user.text().await.unwrap(),
    );
    assert!(a.contains("Invalid username or password."));
    assert_eq!(
        a.replace("admin", "ghost"),
        b,
        "same page whether or not the user exists"
    );
}

#[actix_web::test]
async fn login_rotates_the_session_and_ignores_foreign_next() {
    let app = spawn_app().await;
    let c = client();
    log_in(&app, &c, "admin").await;
    let before = app
        .db(|conn| {
            use diesel::prelude::*;
            coffer::db::schema::sessions::table
                .select(coffer::db::schema::sessions::id)
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    log_in(&app, &c, "admin").await;
    let after = app
        .db(|conn| {
            use diesel::prelude::*;
            coffer::db::schema::sessions::table
                .select(coffer::db::schema::sessions::id)
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    assert_eq!(before.len(), 1);
    assert_eq!(after.len(), 1, "the old session was replaced");
    assert_ne!(before, after);
    let page = c
        .get(app.url("/login?next=//evil.example/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&page);
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/admin/folders/");
}

#[actix_web::test]
async fn password_change_and_deactivation_end_sessions_and_tokens() {
    let app = spawn_app().await;
    let (u, token) = app.user("bob").await;
    let c = client();
    log_in(&app, &c, "bob").await;
    let hash = app.state.passwords.hash("another long pw").unwrap();
    app.db(move |conn| coffer::db::models::user::set_password_hash(conn, u, &hash).unwrap())
        .await;
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let (status, _, _) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK, "tokens survive a password change");
    app.db(move |conn| {
        coffer::db::models::user::update(
            conn,
            u,
            &coffer::db::models::user::UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .unwrap()
    })
    .await;
    let (status, _, _) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "deactivation revokes tokens"
    );
}

#[actix_web::test]
async fn cookie_authenticated_api_writes_need_the_csrf_header() {
    let app = spawn_app().await;
    let c = client();
    let home = log_in(&app, &c, "admin").await;
    let token = csrf_from(&home);
    let res = c
        .post(app.url("/api/v1/folders"))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        app.db(|conn| coffer::db::models::folder::count(conn).unwrap())
            .await
            == 0,
        "nothing changed"
    );
    let res = c
        .post(app.url("/api/v1/folders"))
        .header("X-CSRF-Token", token)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn pages_send_security_headers_and_escape_names() {
    let app = spawn_app().await;
    let name = "<img src=x onerror=alert(\"x\")> été";
    app.folder(&app.admin_token, name, None).await;
    let c = client();
    let home = log_in(&app, &c, "admin").await;
    assert!(!home.contains("<img src=x"), "escaped");
    assert!(home.contains("été"));
    let res = c.get(app.url("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(res.headers()["referrer-policy"], "same-origin");
}

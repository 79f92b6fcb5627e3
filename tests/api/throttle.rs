//! Log-in throttling: failures count per (username, address) — the hard block —, per
//! address over every username with a higher limit, and per username as a short, capped
//! back-off that never applies to an address the user has logged in from. Attempts are
//! reserved before the password is checked, so parallel requests cannot exceed a limit.
//! The log-in form and `POST /api/v1/tokens` share the one check; `coffer unlock` and the
//! admin's user page clear failures.

use coffer::config::ConfigFile;
use coffer::db::schema::login_failures;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{admin_client, select_attr, staff, texts};
use crate::helpers::{PASSWORD, TestApp, client, spawn_app_with};

fn behind_proxy(cfg: &mut ConfigFile) {
    cfg.session.client_address_header = Some("X-Forwarded-For".into());
}

/// Tries the log-in form from `address`; returns (status, body, Retry-After seconds).
async fn form(
    app: &TestApp,
    username: &str,
    password: &str,
    address: &str,
) -> (StatusCode, String, Option<i64>) {
    let c = client();
    let page = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = select_attr(&page, "input[name=csrf_token]", "value").unwrap();
    let res = c
        .post(app.url("/login"))
        .header("X-Forwarded-For", format!("203.0.113.250, {address}"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = retry_after(&res);
    (status, res.text().await.unwrap(), retry)
}

fn retry_after(res: &reqwest::Response) -> Option<i64> {
    res.headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

/// Tries `POST /api/v1/tokens` from `address`; returns (status, Retry-After seconds).
async fn api(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    address: &str,
) -> (StatusCode, Option<i64>) {
    let res = client
        .post(format!("{base}/api/v1/tokens"))
        .header("X-Forwarded-For", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    (res.status(), retry_after(&res))
}

async fn token(app: &TestApp, username: &str, password: &str, address: &str) -> StatusCode {
    api(&app.client, &app.address, username, password, address)
        .await
        .0
}

/// Failure rows for `username` (all of them with `None`).
async fn failures(app: &TestApp, username: Option<&str>) -> i64 {
    let username = username.map(str::to_owned);
    app.db(move |conn| {
        let mut q = login_failures::table.into_boxed();
        if let Some(u) = username {
            q = q.filter(login_failures::username.eq(u));
        }
        q.count().get_result::<i64>(conn).unwrap()
    })
    .await
}

/// Moves the failures of `username` (every one with `None`) `minutes` into the past.
async fn age(app: &TestApp, username: Option<&str>, minutes: i64) {
    let username = username.map(str::to_owned);
    app.db(move |conn| {
        let mut q = login_failures::table
            .select((login_failures::id, login_failures::failed_at))
            .into_boxed();
        if let Some(u) = username {
            q = q.filter(login_failures::username.eq(u));
        }
        for (id, at) in q.load::<(i64, time::PrimitiveDateTime)>(conn).unwrap() {
            diesel::update(login_failures::table.find(id))
                .set(login_failures::failed_at.eq(at - time::Duration::minutes(minutes)))
                .execute(conn)
                .unwrap();
        }
    })
    .await;
}

/// Five wrong passwords for `username` from `address` through the form, each refused (401).
async fn five_failures(app: &TestApp, username: &str, address: &str) {
    for i in 0..5 {
        let (status, body, _) = form(app, username, "not the password", address).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{username} attempt {i}");
        assert!(body.contains("Invalid username or password."));
    }
}

#[actix_web::test]
async fn one_users_failures_never_block_another_user_from_the_same_address() {
    let app = spawn_app_with(behind_proxy).await;
    app.user("bob").await;
    app.user("carol").await;
    let office = "198.51.100.1";
    five_failures(&app, "bob", office).await;
    // bob's pair is blocked, with the right password too, on the form and the API alike.
    let (status, body, retry) = form(&app, "bob", PASSWORD, office).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body.contains("Too many failed log-in attempts. Try again in 15 minutes."),
        "{body}"
    );
    assert!((850..=900).contains(&retry.unwrap()), "{retry:?}");
    assert_eq!(
        token(&app, "bob", PASSWORD, office).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        failures(&app, Some("bob")).await,
        5,
        "refusals are not counted"
    );
    // Everybody else in the office logs in, and a wrong password is checked, not refused.
    assert_eq!(
        form(&app, "carol", PASSWORD, office).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        token(&app, "admin", PASSWORD, office).await,
        StatusCode::CREATED
    );
    assert_eq!(
        form(&app, "carol", "typo", office).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token(&app, "nobody", "guess", office).await,
        StatusCode::UNAUTHORIZED
    );
    // bob from home has logged in before: his office failures do not reach him there.
    assert_eq!(
        form(&app, "bob", PASSWORD, "127.0.0.1").await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn an_attacker_elsewhere_cannot_lock_the_victim_out() {
    let app = spawn_app_with(behind_proxy).await;
    let (bob, _) = app.user("bob").await;
    let home = "192.0.2.10";
    assert_eq!(
        form(&app, "bob", PASSWORD, home).await.0,
        StatusCode::SEE_OTHER
    );
    // Many wrong passwords for bob from many addresses, as fast as they are answered.
    let (mut checked, mut throttled) = (0, 0);
    for i in 0..40 {
        let address = format!("203.0.113.{}", i % 8);
        match token(&app, "bob", "guess", &address).await {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("{other}"),
        }
    }
    // After five, bob's back-off (1 s, 2 s, 4 s …) lets few more through.
    assert!((5..=8).contains(&checked), "{checked} password checks");
    assert_eq!(checked + throttled, 40);
    // bob, from the address he logs in from, gets in at once, on the form and the API.
    assert_eq!(
        form(&app, "bob", PASSWORD, home).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        token(&app, "bob", PASSWORD, home).await,
        StatusCode::CREATED
    );
    // From a new address he waits the back-off: short and capped, never the window.
    let (status, body, retry) = form(&app, "bob", PASSWORD, "192.0.2.99").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!((1..=300).contains(&retry.unwrap()), "{retry:?}");
    assert!(body.contains("Too many failed log-in attempts."));
    // Once the back-off has passed (the failures still count), the new address gets in.
    age(&app, Some("bob"), 5).await;
    assert_eq!(
        form(&app, "bob", PASSWORD, "192.0.2.99").await.0,
        StatusCode::SEE_OTHER
    );
    // Another user is not affected at all.
    assert_eq!(
        token(&app, "admin", PASSWORD, "192.0.2.77").await,
        StatusCode::CREATED
    );
    // Known addresses belong to the account: a new "bob" after the old one's deletion has
    // none, and waits the back-off at the old one's home.
    let (admin, csrf) = admin_client(&app, "admin").await;
    let res = admin
        .post(app.url(&format!("/admin/users/{bob}/delete")))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.post_json(
        &app.admin_token,
        "/api/v1/users",
        json!({"username": "bob", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        token(&app, "bob", "guess", "203.0.113.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        form(&app, "bob", PASSWORD, home).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn spraying_many_names_from_one_address_is_blocked_at_the_address_limit() {
    let app = spawn_app_with(behind_proxy).await;
    app.user("bob").await;
    let sprayer = "192.0.2.7";
    // The default address limit is 50: one guess each for 50 names is checked …
    for i in 0..50 {
        let name = if i == 10 {
            "bob".into()
        } else {
            format!("user{i}")
        };
        assert_eq!(
            token(&app, &name, "Winter2026!", sprayer).await,
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    // … then the address is blocked for every name, known or not, even with the right
    // password, on the API and the form alike.
    for name in ["user99", "bob", "admin"] {
        assert_eq!(
            token(&app, name, PASSWORD, sprayer).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{name}"
        );
    }
    let (status, body, _) = form(&app, "bob", PASSWORD, sprayer).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        texts(&body, "[role=alert]").join(""),
        "Too many failed log-in attempts. Try again in 15 minutes."
    );
    // Nobody elsewhere is.
    assert_eq!(
        form(&app, "bob", PASSWORD, "192.0.2.8").await.0,
        StatusCode::SEE_OTHER
    );

    // A lower limit is honoured.
    let app = spawn_app_with(|cfg| {
        behind_proxy(cfg);
        cfg.session.login_max_failures_per_address = 3;
    })
    .await;
    for name in ["a", "b", "c"] {
        assert_eq!(
            token(&app, name, "x", sprayer).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        token(&app, "d", "x", sprayer).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Sends `n` wrong passwords at once through the API from one address; returns how many
/// were checked (401) and refused (429).
async fn burst(app: &TestApp, n: usize, name: impl Fn(usize) -> String) -> (usize, usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (c, base, name) = (client(), app.address.clone(), name(i));
            tokio::spawn(async move { api(&c, &base, &name, "wrong", "198.51.100.50").await.0 })
        })
        .collect();
    tally(tasks).await
}

async fn tally(tasks: Vec<tokio::task::JoinHandle<StatusCode>>) -> (usize, usize) {
    let (mut checked, mut throttled) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("{other}"),
        }
    }
    (checked, throttled)
}

#[actix_web::test]
async fn parallel_attempts_get_exactly_the_limit_of_password_checks() {
    let app = spawn_app_with(|cfg| {
        behind_proxy(cfg);
        cfg.session.login_max_failures_per_address = 12;
        cfg.argon2.threads = 4;
    })
    .await;
    app.user("bob").await;
    // One pair: 30 at once, 5 checked.
    assert_eq!(burst(&app, 30, |_| "bob".into()).await, (5, 25));
    assert_eq!(failures(&app, Some("bob")).await, 5);
    // One address, many names: the address limit (12) holds as exactly.
    assert_eq!(burst(&app, 30, |i| format!("name{i}")).await, (7, 23));
    assert_eq!(failures(&app, None).await, 12);
    // The log-in form alike (another name: bob's back-off would refuse a new address): its
    // page first, for the CSRF pair, then 30 posts at once.
    let mut posts = Vec::new();
    for _ in 0..30 {
        let c = client();
        let page = c.get(app.url("/login")).send().await.unwrap();
        let page = page.text().await.unwrap();
        let token = select_attr(&page, "input[name=csrf_token]", "value").unwrap();
        posts.push(
            c.post(app.url("/login"))
                .header("X-Forwarded-For", "198.51.100.60")
                .form(&[
                    ("username", "carol"),
                    ("password", "wrong"),
                    ("csrf_token", &token),
                ]),
        );
    }
    let tasks = posts
        .into_iter()
        .map(|p| tokio::spawn(async move { p.send().await.unwrap().status() }))
        .collect();
    assert_eq!(tally(tasks).await, (5, 25));
    assert_eq!(failures(&app, Some("carol")).await, 5);
}

/// Runs `coffer` against the test instance's database.
fn coffer(app: &TestApp, args: &[&str]) -> std::process::Output {
    app.coffer_command(args).output().unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[actix_web::test]
async fn coffer_unlock_clears_a_pair_a_username_or_an_address() {
    let app = spawn_app_with(behind_proxy).await;
    app.user("bob").await;
    app.user("carol").await;
    let (a, b) = ("198.51.100.7", "198.51.100.8");
    // Addresses they have logged in from: bob's back-off does not apply there.
    for (name, address) in [("bob", a), ("bob", b), ("carol", a)] {
        assert_eq!(
            form(&app, name, PASSWORD, address).await.0,
            StatusCode::SEE_OTHER
        );
    }
    five_failures(&app, "bob", a).await;
    five_failures(&app, "bob", b).await;
    five_failures(&app, "carol", a).await;

    let out = coffer(&app, &["unlock", "--username", "bob", "--address", a]);
    assert_eq!(
        stdout(&out).trim(),
        format!("cleared 5 failed log-in(s) for username \"bob\" from address \"{a}\"")
    );
    assert_eq!(
        form(&app, "bob", PASSWORD, a).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        form(&app, "bob", PASSWORD, b).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "only the pair"
    );
    assert_eq!(
        form(&app, "carol", PASSWORD, a).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "only the pair"
    );

    let out = coffer(&app, &["unlock", "--address", a]);
    assert_eq!(
        stdout(&out).trim(),
        format!("cleared 5 failed log-in(s) from address \"{a}\"")
    );
    assert_eq!(
        form(&app, "carol", PASSWORD, a).await.0,
        StatusCode::SEE_OTHER
    );

    let out = coffer(&app, &["unlock", "--username", "bob"]);
    assert_eq!(
        stdout(&out).trim(),
        "cleared 5 failed log-in(s) for username \"bob\""
    );
    assert_eq!(
        form(&app, "bob", PASSWORD, b).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(failures(&app, None).await, 0);

    // Neither given: refused, nothing cleared.
    let out = coffer(&app, &["unlock"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--username"),
        "{out:?}"
    );
}

#[actix_web::test]
async fn superusers_unlock_from_the_user_page_with_the_csrf_token() {
    let app = spawn_app_with(behind_proxy).await;
    let (bob, _) = app.user("bob").await;
    staff(&app, "staffer").await;
    let (a, b) = ("198.51.100.7", "198.51.100.8");
    assert_eq!(
        form(&app, "bob", PASSWORD, b).await.0,
        StatusCode::SEE_OTHER
    );
    five_failures(&app, "bob", a).await;
    for _ in 0..2 {
        assert_eq!(
            form(&app, "bob", "wrong", b).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (admin, csrf) = admin_client(&app, "admin").await;
    let page = admin
        .get(app.url(&format!("/admin/users/{bob}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&page, "#login-failures tbody tr td"),
        [a, "5", "blocked", b, "2", "open"]
    );
    let unlock = app.url(&format!("/admin/users/{bob}/unlock"));
    // Without the token, with a wrong one, or as a staff member who is no superuser:
    // refused, nothing cleared.
    for token in [None, Some("0".repeat(64))] {
        let mut fields = Vec::new();
        if let Some(t) = &token {
            fields.push(("csrf_token", t.as_str()));
        }
        let res = admin.post(&unlock).form(&fields).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{token:?}");
    }
    let (staffer, staff_csrf) = admin_client(&app, "staffer").await;
    let res = staffer
        .post(&unlock)
        .form(&[("csrf_token", &staff_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let anonymous = client().post(&unlock).send().await.unwrap();
    let to = anonymous
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap());
    assert!(to.is_some_and(|l| l.starts_with("/login")), "{to:?}");
    assert_eq!(failures(&app, Some("bob")).await, 7);
    assert_eq!(
        form(&app, "bob", PASSWORD, a).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // No such user: 404.
    let res = admin
        .post(app.url("/admin/users/999999/unlock"))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = admin
        .post(&unlock)
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let page = admin
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&page, ".flash").join(" "),
        "Cleared 7 failed log-ins for “bob”."
    );
    assert!(texts(&page, "#login-failures tbody tr").is_empty());
    assert_eq!(
        form(&app, "bob", PASSWORD, a).await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn a_zero_window_or_limit_turns_throttling_off() {
    let off: [fn(&mut ConfigFile); 2] = [
        |cfg| cfg.session.login_window_minutes = 0,
        |cfg| cfg.session.login_max_failures = 0,
    ];
    for tweak in off {
        let app = spawn_app_with(|cfg| {
            behind_proxy(cfg);
            cfg.session.login_max_failures_per_address = 3;
            tweak(cfg);
        })
        .await;
        for i in 0..8 {
            assert_eq!(
                token(&app, "admin", "wrong", "192.0.2.1").await,
                StatusCode::UNAUTHORIZED,
                "attempt {i}"
            );
        }
        assert_eq!(
            form(&app, "admin", PASSWORD, "192.0.2.1").await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(failures(&app, None).await, 0, "nothing is recorded");
    }

    // A low limit is honoured as set (and the address limit of 0 is off on its own).
    let app = spawn_app_with(|cfg| {
        behind_proxy(cfg);
        cfg.session.login_max_failures = 2;
        cfg.session.login_max_failures_per_address = 0;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            token(&app, "admin", "wrong", "192.0.2.1").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        token(&app, "admin", PASSWORD, "192.0.2.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for i in 0..60 {
        assert_eq!(
            token(&app, &format!("n{i}"), "wrong", "192.0.2.1").await,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[actix_web::test]
async fn failures_age_out_of_the_window() {
    let app = spawn_app_with(behind_proxy).await;
    app.user("bob").await;
    let a = "198.51.100.20";
    five_failures(&app, "bob", a).await;
    // Three of the five are ten minutes old: the pair opens when the oldest ages out, in
    // five minutes.
    let ids: Vec<i64> = app
        .db(|conn| {
            login_failures::table
                .select(login_failures::id)
                .order(login_failures::id.asc())
                .limit(3)
                .load(conn)
                .unwrap()
        })
        .await;
    app.db(move |conn| {
        for id in ids {
            let at: time::PrimitiveDateTime = login_failures::table
                .find(id)
                .select(login_failures::failed_at)
                .first(conn)
                .unwrap();
            diesel::update(login_failures::table.find(id))
                .set(login_failures::failed_at.eq(at - time::Duration::minutes(10)))
                .execute(conn)
                .unwrap();
        }
    })
    .await;
    let (status, body, retry) = form(&app, "bob", PASSWORD, a).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!((290..=300).contains(&retry.unwrap()), "{retry:?}");
    assert!(body.contains("Try again in 5 minutes."), "{body}");
    // Past the window they no longer count (and are purged): one more guess is checked.
    age(&app, Some("bob"), 6).await;
    assert_eq!(
        form(&app, "bob", "wrong", a).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        failures(&app, Some("bob")).await,
        3,
        "two left plus the new one"
    );
    assert_eq!(
        form(&app, "bob", PASSWORD, a).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        failures(&app, Some("bob")).await,
        0,
        "success clears the pair"
    );
}

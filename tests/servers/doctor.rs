//! `coffer doctor` against real servers: every generated configuration passes, and broken
//! nginx configurations fail with the message that names the mistake.

use crate::helpers::{Env, cli, coffer_only, start};
use crate::web::{Kind, WebServer};

/// Runs `coffer doctor --url <site>`; returns (exit success, output).
async fn doctor(env: &Env) -> (bool, String) {
    let config = env.config_file.clone();
    let url = env.site("");
    let out = tokio::task::spawn_blocking(move || cli(&config, &["doctor", "--url", &url]))
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The probe leaves nothing behind: no rows, no objects, no extra tokens.
async fn nothing_left(env: &Env) {
    let (files, tokens) = env
        .db(|conn| {
            use diesel::prelude::*;
            let files: i64 = coffer::db::schema::files::table
                .count()
                .get_result(conn)
                .unwrap();
            let tokens: i64 = coffer::db::schema::api_tokens::table
                .count()
                .get_result(conn)
                .unwrap();
            (files, tokens)
        })
        .await;
    assert_eq!(
        (files, tokens),
        (0, 1),
        "only the test's own admin token remains"
    );
    for storage in ["private", "private-thumbnails"] {
        let root = env.data_dir.join(storage);
        let left: Vec<_> = walk(&root)
            .into_iter()
            .filter(|p| !p.starts_with(root.join(".tmp")))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn passes(kind: Kind) {
    let env = start(kind).await;
    let (ok, out) = doctor(&env).await;
    assert!(ok, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    for line in [
        "ok    private file downloads through the site",
        "ok    private file keeps its name",
        "ok    private file carries the security headers",
        "ok    private file answers Range requests",
        "ok    private thumbnail downloads through the site",
        "ok    private file refused without credentials",
        "ok    private file not served at /private/",
        "ok    probe removed",
        "checks passed",
    ] {
        assert!(out.contains(line), "{line:?} missing in:\n{out}");
    }
    nothing_left(&env).await;
}

#[actix_web::test]
async fn passes_behind_nginx() {
    passes(Kind::Nginx).await;
}

#[actix_web::test]
async fn passes_behind_apache() {
    passes(Kind::Apache).await;
}

#[actix_web::test]
async fn passes_behind_lighttpd() {
    passes(Kind::Lighttpd).await;
}

#[actix_web::test]
async fn passes_behind_caddy() {
    passes(Kind::Caddy).await;
}

/// Starts nginx with the generated configuration changed by `edit`, runs the doctor, and
/// expects it to fail with `message` on a FAIL line.
async fn fails_with(edit: impl FnOnce(&Env, String) -> String, message: &str) {
    let mut env = coffer_only(Kind::Nginx, |_| {}).await;
    let good = env.generate(Kind::Nginx, env.web_port);
    let broken = edit(&env, good.clone());
    assert_ne!(broken, good, "the edit changed nothing");
    env.web = Some(WebServer::start(Kind::Nginx, env.web_port, &broken));
    let (ok, out) = doctor(&env).await;
    eprintln!("{out}");
    assert!(!ok, "the doctor passed a broken configuration:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains(message)),
        "no FAIL line with {message:?}:\n{out}"
    );
    nothing_left(&env).await;
}

fn private_dir(env: &Env) -> String {
    format!(
        "{}/",
        env.state
            .library
            .storages
            .private
            .as_local()
            .unwrap()
            .root()
            .display()
    )
}

#[actix_web::test]
async fn nginx_with_the_private_root_served_fails() {
    // The classic "serve what exists, proxy the rest" with the data directory as root.
    fails_with(
        |env, conf| {
            let data = env.data_dir.display().to_string();
            conf.replace(
                "    # Everything else, including the checked download views, is Coffer's.\n",
                &format!(
                    "    location /private/ {{\n        root \"{data}\";\n        try_files $uri @coffer;\n    }}\n    \
                     location @coffer {{\n        proxy_pass http://coffer_backend;\n    }}\n\
                     \n    # Everything else, including the checked download views, is Coffer's.\n"
                ),
            )
        },
        "the private root",
    )
    .await;
}

#[actix_web::test]
async fn nginx_with_a_wrong_alias_fails() {
    fails_with(
        |env, conf| {
            let public = format!(
                "{}/",
                env.state
                    .library
                    .storages
                    .public
                    .as_local()
                    .unwrap()
                    .root()
                    .display()
            );
            conf.replacen(
                &format!("alias \"{}\";", private_dir(env)),
                &format!("alias \"{public}\";"),
                1,
            )
        },
        "the wrong alias",
    )
    .await;
}

#[actix_web::test]
async fn nginx_with_an_alias_missing_its_trailing_slash_fails() {
    fails_with(
        |env, conf| {
            let dir = private_dir(env);
            conf.replacen(
                &format!("alias \"{dir}\";"),
                &format!("alias \"{}\";", dir.trim_end_matches('/')),
                1,
            )
        },
        "lacks its trailing slash. Fix: `alias",
    )
    .await;
}

#[actix_web::test]
async fn nginx_with_a_public_location_missing_its_trailing_slash_fails() {
    // `location /media/public` with `alias …/public/`: `/media/public../private/…` escapes.
    fails_with(
        |_, conf| {
            conf.replacen(
                "location \"/media/public/\" {",
                "location \"/media/public\" {",
                1,
            )
        },
        "lacks its trailing slash while its alias has one",
    )
    .await;
}

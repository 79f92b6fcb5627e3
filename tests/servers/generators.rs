//! The generators' edges: Apache's unescape switch against the installed mod_xsendfile,
//! settings a server cannot be given, and backends that belong to another server.

use coffer::config::ServeBackendConfig;
use reqwest::StatusCode;

use crate::helpers::{cli, coffer_only, path_of};
use crate::web::{Kind, WebServer};

/// `unescape = true` needs the mod_xsendfile 1.0 code. Where that is installed the whole
/// download works with the percent-encoded path; with 0.12 (Debian bookworm) Apache refuses
/// the configuration at its syntax check instead of looking files up under wrong names.
#[actix_web::test]
async fn apache_unescape_true_matches_the_installed_module() {
    let mut env = coffer_only(Kind::Apache, |c| {
        c.server.private = ServeBackendConfig::Apache { unescape: true };
        c.server.private_thumbnails = ServeBackendConfig::Apache { unescape: true };
    })
    .await;
    let conf = env.generate(Kind::Apache, env.web_port);
    assert!(conf.contains("XSendFileUnescape On"), "{conf}");
    let (ok, out) = WebServer::config_test(Kind::Apache, &conf);
    if ok {
        env.web = Some(WebServer::start(Kind::Apache, env.web_port, &conf));
        let data = b"bytes behind an encoded path".to_vec();
        let file = env.upload("encoded.txt", &data, false).await;
        let (status, _, body) = env.get(Some(&env.admin_token), &path_of(&file), &[]).await;
        assert_eq!((status, body), (StatusCode::OK, data));
    } else {
        assert!(out.contains("XSendFileUnescape"), "{out}");
    }
    // The `unescape = false` configuration passes the same module's check.
    let mut cfg: coffer::config::ConfigFile =
        toml::from_str(&std::fs::read_to_string(&env.config_file).unwrap()).unwrap();
    cfg.server.private = ServeBackendConfig::Apache { unescape: false };
    cfg.server.private_thumbnails = ServeBackendConfig::Apache { unescape: false };
    std::fs::write(&env.config_file, toml::to_string(&cfg).unwrap()).unwrap();
    let conf = env.generate(Kind::Apache, env.web_port);
    let (ok, out) = WebServer::config_test(Kind::Apache, &conf);
    assert!(ok, "{out}");
}

#[actix_web::test]
async fn apache_refuses_two_unescape_modes() {
    let env = coffer_only(Kind::Apache, |c| {
        c.server.private_thumbnails = ServeBackendConfig::Apache { unescape: true };
    })
    .await;
    let out = cli(&env.config_file, &["apache-config"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("different `unescape` values"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn unrepresentable_paths_are_refused_with_the_key() {
    let env = coffer_only(Kind::Nginx, |c| {
        c.storage.private.dir = Some(c.data_dir.join("cost$ly"));
    })
    .await;
    let out = cli(&env.config_file, &["nginx-config"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("storage.private.dir") && err.contains("`$`"),
        "{err}"
    );
    // Caddy has no trouble with `$`.
    assert!(cli(&env.config_file, &["caddy-config"]).status.success());
}

#[actix_web::test]
async fn a_backend_of_another_server_is_flagged() {
    let env = coffer_only(Kind::Apache, |c| {
        c.server.private_thumbnails = ServeBackendConfig::Default {};
    })
    .await;
    let out = cli(&env.config_file, &["nginx-config"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.private uses the apache backend"),
        "{err}"
    );
    let conf = String::from_utf8_lossy(&out.stdout);
    assert!(
        !conf.contains("internal;"),
        "no internal location for apache/default"
    );
    assert!(conf.contains("server.private_thumbnails uses the default backend"));
    // Without a web server's backend, the generated site still serves public files and
    // proxies the rest.
    assert!(conf.contains("location \"/media/public/\""));
    assert!(conf.contains("proxy_pass http://coffer_backend;"));
}

/// Every generated configuration passes its server's own syntax check with the defaults.
#[actix_web::test]
async fn every_generated_configuration_passes_the_server_check() {
    for kind in [Kind::Nginx, Kind::Apache, Kind::Lighttpd, Kind::Caddy] {
        let env = coffer_only(kind, |_| {}).await;
        let conf = env.generate(kind, env.web_port);
        let (ok, out) = WebServer::config_test(kind, &conf);
        assert!(ok, "{kind:?}: {out}\n{conf}");
    }
}

/// Several instances behind nginx: one upstream with each of them, which nginx accepts.
#[actix_web::test]
async fn nginx_takes_several_upstreams() {
    let env = coffer_only(Kind::Nginx, |_| {}).await;
    let out = cli(
        &env.config_file,
        &[
            "nginx-config",
            "--listen",
            &format!("127.0.0.1:{}", env.web_port),
            "--upstream",
            "127.0.0.1:18401",
            "--upstream",
            "localhost:18402",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = String::from_utf8(out.stdout).unwrap();
    assert!(
        conf.contains("server 127.0.0.1:18401 max_fails=1 fail_timeout=2s;"),
        "{conf}"
    );
    assert!(
        conf.contains("server localhost:18402 max_fails=1 fail_timeout=2s;"),
        "{conf}"
    );
    assert!(conf.contains("proxy_next_upstream error timeout http_502 http_503;"));
    let (ok, msg) = WebServer::config_test(Kind::Nginx, &conf);
    assert!(ok, "{msg}\n{conf}");
    let bad = cli(
        &env.config_file,
        &["nginx-config", "--upstream", "127.0.0.1:1; evil"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--upstream"));
}

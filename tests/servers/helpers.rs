//! A Coffer on a loopback port (SQLite, or a fresh PostgreSQL database per test when
//! `TEST_DATABASE_URL` is set) whose storages live under a directory with an awkward name,
//! configured for one server backend, with the web server in front of it started from the
//! configuration `coffer <server>-config` prints for that same configuration file.
//!
//! The servers' workers run as `nobody`, so they read what Coffer writes only because
//! Coffer creates files `0666` less the umask: the tests expect the usual umask `022`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use coffer::config::{ConfigFile, ServeBackendConfig, Settings};
use coffer::db::{self, DbConn};
use coffer::startup::{Application, bootstrap};
use coffer::state::AppState;
use coffer::storage::{StorageKey, StorageRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::web::{Kind, WebServer, free_port};

/// A directory name that needs quoting in every configuration language and
/// percent-encoding in every header and URL.
pub const AWKWARD_DIR: &str = "coffer %20 data 100% \u{e9}";

#[path = "../support/accounts.rs"]
mod accounts;
#[path = "../support/pg.rs"]
mod pg;
#[path = "../support/storage_mode.rs"]
pub mod storage_mode;
pub use accounts::{PASSWORD, create_user_in_db};
pub use pg::{PgDatabase, test_database};

/// The backend configuration that goes with a server. With the storages on S3
/// (`TEST_STORAGE=s3`) that is nginx's `nginx-s3`: the other servers hand off files on a
/// disk only, and Coffer refuses to start with their backend on an object storage.
pub fn backend_for(kind: Kind) -> ServeBackendConfig {
    if storage_mode::on_s3() {
        assert!(
            kind == Kind::Nginx,
            "{kind:?} hands off files on a disk only: with TEST_STORAGE=s3 run the nginx \
             scenarios (`cargo test --test servers nginx::`)"
        );
        return ServeBackendConfig::NginxS3 {
            location: None,
            expires_secs: 30,
        };
    }
    match kind {
        Kind::Nginx => ServeBackendConfig::Nginx { location: None },
        Kind::Apache => ServeBackendConfig::Apache { unescape: false },
        Kind::Lighttpd => ServeBackendConfig::Lighttpd {},
        Kind::Caddy => ServeBackendConfig::Caddy { location: None },
    }
}

/// Coffer and a web server in front of it.
pub struct Env {
    pub web: Option<WebServer>,
    /// The web server's port.
    pub web_port: u16,
    pub state: AppState,
    /// The Coffer port (direct requests, bypassing the web server).
    pub coffer: String,
    /// The configuration file the CLI commands read.
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    pub admin_token: String,
    server: actix_web::dev::ServerHandle,
    // Dropped last: the directories and the database.
    pub dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// Starts Coffer with `kind`'s backend for both private storages, writes its configuration
/// file, and starts `kind` in front with the generated configuration.
pub async fn start(kind: Kind) -> Env {
    start_with(kind, |_| {}).await
}

pub async fn start_with(kind: Kind, tweak: impl FnOnce(&mut ConfigFile)) -> Env {
    let mut env = coffer_only(kind, tweak).await;
    let generated = env.generate(kind, env.web_port);
    env.web = Some(WebServer::start(kind, env.web_port, &generated));
    env
}

/// Starts Coffer only (the caller starts a web server, e.g. with an edited configuration).
pub async fn coffer_only(kind: Kind, tweak: impl FnOnce(&mut ConfigFile)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    // Web server workers run as `nobody`: they must reach the storages.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data_dir = dir.path().join(AWKWARD_DIR);
    let pg = test_database();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = ConfigFile {
        data_dir: data_dir.clone(),
        bind: listener.local_addr().unwrap().to_string(),
        workers: Some(2),
        ..ConfigFile::default()
    };
    cfg.database.url = pg.as_ref().map(|p| p.url.clone());
    cfg.database.pool_size = 4;
    cfg.argon2.memory_kib = 1024;
    cfg.argon2.iterations = 1;
    cfg.server.private = backend_for(kind);
    cfg.server.private_thumbnails = backend_for(kind);
    storage_mode::place_storages(&mut cfg);
    tweak(&mut cfg);
    let config_file = dir.path().join("coffer.toml");
    std::fs::write(&config_file, toml::to_string(&cfg).unwrap()).unwrap();

    let placed = cfg.object_store.is_some() == storage_mode::on_s3();
    let settings = Settings::from_file(cfg).unwrap();
    let state = bootstrap(settings).unwrap();
    if placed {
        storage_mode::assert_placed(&state.library.storages);
    }
    let app = Application::build(state.clone(), Some(listener)).unwrap();
    let coffer = format!("http://127.0.0.1:{}", app.port());
    let server = app.into_server();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    create_user_in_db(&state, "admin", true).await;
    let mut env = Env {
        web: None,
        web_port: free_port(),
        state,
        coffer,
        config_file,
        data_dir,
        client,
        admin_token: String::new(),
        server: handle,
        dir,
        _pg: pg,
    };
    env.admin_token = env.token_for("admin").await;
    env
}

impl Drop for Env {
    fn drop(&mut self) {
        self.web.take();
        drop(self.server.stop(false));
    }
}

/// Runs the `coffer` binary with this test's configuration file.
pub fn cli(config_file: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("--config")
        .arg(config_file)
        .args(args)
        .env("COFFER_LOG", "warn")
        .env_remove("COFFER_DATA_DIR")
        .env_remove("COFFER_CONFIG")
        .output()
        .unwrap()
}

impl Env {
    /// `coffer <kind>-config --listen 127.0.0.1:<port>` for this configuration.
    pub fn generate(&self, kind: Kind, port: u16) -> String {
        let out = cli(
            &self.config_file,
            &[kind.subcommand(), "--listen", &format!("127.0.0.1:{port}")],
        );
        assert!(
            out.status.success(),
            "{} failed: {}",
            kind.subcommand(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Stores `bytes` at `key` in the storage playing `role`, as Coffer would.
    pub async fn put_stored(&self, role: StorageRole, key: &str, bytes: &[u8]) {
        let storages = self.state.library.storages.clone();
        let (key, bytes) = (StorageKey::parse(key).unwrap(), bytes.to_vec());
        tokio::task::spawn_blocking(move || storages.get(role).put_bytes(&key, &bytes).unwrap())
            .await
            .unwrap();
    }

    /// Removes `key` from the storage playing `role` behind Coffer's back.
    pub async fn remove_stored(&self, role: StorageRole, key: &str) {
        let storages = self.state.library.storages.clone();
        let key = StorageKey::parse(key).unwrap();
        tokio::task::spawn_blocking(move || storages.get(role).delete(&key).unwrap())
            .await
            .unwrap();
    }

    /// A URL through the web server.
    pub fn site(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web_port)
    }

    /// Runs a closure with a database connection.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> T + Send + 'static,
    ) -> T {
        db::run(&self.state.pool, move |conn| Ok::<_, db::DbError>(f(conn)))
            .await
            .unwrap()
    }

    pub async fn token_for(&self, username: &str) -> String {
        let res = self
            .client
            .post(format!("{}/api/v1/tokens", self.coffer))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "token for {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a plain user through the API and returns (id, token).
    pub async fn user(&self, name: &str) -> (i64, String) {
        let res = self
            .client
            .post(format!("{}/api/v1/users", self.coffer))
            .bearer_auth(&self.admin_token)
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        (id, self.token_for(name).await)
    }

    /// Uploads through the web server; returns the status and the JSON body.
    pub async fn try_upload(
        &self,
        token: &str,
        name: &str,
        bytes: Vec<u8>,
        public: bool,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("is_public", public.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        let res = self
            .client
            .post(self.site("/api/v1/files"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    }

    /// The id of a user.
    pub async fn user_id(&self, name: &str) -> i64 {
        let name = name.to_owned();
        self.db(move |conn| {
            coffer::db::models::user::find_by_username(conn, &name)
                .unwrap()
                .unwrap()
                .id
        })
        .await
    }

    /// Uploads a private file into a folder through the web server as the admin.
    pub async fn upload_to(&self, name: &str, bytes: &[u8], folder: Option<i64>) -> Value {
        let mut form = reqwest::multipart::Form::new().text("is_public", "false");
        if let Some(f) = folder {
            form = form.text("folder_id", f.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
        let res = self
            .client
            .post(self.site("/api/v1/files"))
            .bearer_auth(&self.admin_token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()
    }

    /// Uploads through the web server as the admin; returns the file object.
    pub async fn upload(&self, name: &str, bytes: &[u8], public: bool) -> Value {
        let (status, body) = self
            .try_upload(&self.admin_token, name, bytes.to_vec(), public)
            .await;
        assert_eq!(status, StatusCode::CREATED, "upload {name}: {body}");
        body
    }

    /// Sets a file public or private through the API.
    pub async fn set_public(&self, id: i64, public: bool) -> Value {
        let res = self
            .client
            .patch(self.site(&format!("/api/v1/files/{id}")))
            .bearer_auth(&self.admin_token)
            .json(&json!({"is_public": public}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// GET through the web server.
    pub async fn get(
        &self,
        token: Option<&str>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        get(&self.client, &self.site(path), token, headers).await
    }
}

/// GET `url`; returns status, headers and body.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let h = res.headers().clone();
    (status, h, res.bytes().await.unwrap().to_vec())
}

/// The path part of a URL the API returned.
pub fn path_of(file: &Value) -> String {
    file["url"].as_str().unwrap().to_owned()
}

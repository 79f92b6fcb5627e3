//! `spawn_app()`: a Coffer on a random port with its own temporary directories and a fresh
//! database — SQLite by default, or a new PostgreSQL database per test when
//! `TEST_DATABASE_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).

use std::net::TcpListener;
use std::path::PathBuf;

use coffer::config::{ConfigFile, Settings};
use coffer::db::{self, DbConn};
use coffer::startup::{Application, bootstrap};
use coffer::state::AppState;
use coffer::storage::{StorageKey, StorageRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[path = "../support/accounts.rs"]
mod accounts;
#[path = "../support/pg.rs"]
mod pg;
#[path = "../support/storage_mode.rs"]
pub mod storage_mode;
pub use accounts::{PASSWORD, create_user_in_db};
pub use pg::{PgDatabase, test_database};

/// Settings for a test instance rooted at `dir`, its storages where `TEST_STORAGE` says.
pub fn test_config(dir: &std::path::Path, database_url: Option<String>) -> ConfigFile {
    let mut cfg = ConfigFile {
        data_dir: dir.to_path_buf(),
        workers: Some(2),
        ..ConfigFile::default()
    };
    cfg.database.url = database_url;
    cfg.database.pool_size = 4;
    cfg.argon2.memory_kib = 1024;
    cfg.argon2.iterations = 1;
    storage_mode::place_storages(&mut cfg);
    cfg
}

/// A running test instance.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// Dropped after the app: the test database goes last.
    pub _pg: Option<PgDatabase>,
    /// A client with a cookie store and no redirects.
    pub client: reqwest::Client,
    pub admin_token: String,
    pub admin_id: i64,
    server: actix_web::dev::ServerHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut ConfigFile)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let pg = test_database();
    let mut cfg = test_config(dir.path(), pg.as_ref().map(|p| p.url.clone()));
    tweak(&mut cfg);
    spawn_with_config(cfg, dir, pg).await
}

/// Starts a second instance on the same database and storages as `app`; returns its base URL.
pub async fn spawn_second(app: &TestApp) -> String {
    let settings = (*app.state.settings).clone();
    let state = bootstrap(settings).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = Application::build(state, Some(listener)).unwrap();
    let address = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.into_server());
    address
}

pub async fn spawn_with_config(
    cfg: ConfigFile,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
) -> TestApp {
    let placed = cfg.object_store.is_some() == storage_mode::on_s3();
    let settings = Settings::from_file(cfg).unwrap();
    let state = bootstrap(settings).unwrap();
    if placed {
        storage_mode::assert_placed(&state.library.storages);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build(state.clone(), Some(listener)).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.into_server();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let client = client();
    let admin_id = create_user_in_db(&state, "admin", true).await;
    let mut app = TestApp {
        address,
        state,
        dir,
        _pg: pg,
        client,
        admin_token: String::new(),
        admin_id,
        server: handle,
    };
    app.admin_token = app.token_for("admin").await;
    app
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.server.clone();
        // Stop the server threads; the pool is closed when the state goes.
        drop(handle.stop(false));
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // Never reuse a connection the server may be closing (its keep-alive is 5 s).
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The keys held by the storage playing `role`, sorted: files under its directory or
    /// objects under its prefix.
    pub async fn stored_keys(&self, role: StorageRole) -> Vec<String> {
        let storages = self.state.library.storages.clone();
        let mut keys = tokio::task::spawn_blocking(move || storages.get(role).walk().unwrap().keys)
            .await
            .unwrap();
        keys.sort();
        keys
    }

    /// The temporary files of uploads into the private storage still on the disk: in its
    /// `.tmp` directory (local) or its staging directory (object storage).
    pub fn private_upload_temp_files(&self) -> Vec<PathBuf> {
        let dir = self.state.library.storages.main(false).temp_files().dir();
        match std::fs::read_dir(dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("{}: {e}", dir.display()),
        }
    }

    /// Whether the storage playing `role` holds `key` (a file or an object).
    pub async fn is_stored(&self, role: StorageRole, key: &str) -> bool {
        let storages = self.state.library.storages.clone();
        let key = StorageKey::parse(key).unwrap();
        tokio::task::spawn_blocking(move || storages.get(role).exists(&key).unwrap())
            .await
            .unwrap()
    }

    /// The bytes stored at `key` in the storage playing `role`, if any.
    pub async fn stored_bytes(&self, role: StorageRole, key: &str) -> Option<Vec<u8>> {
        let storages = self.state.library.storages.clone();
        let key = StorageKey::parse(key).unwrap();
        tokio::task::spawn_blocking(move || {
            let storage = storages.get(role);
            if !storage.exists(&key).unwrap() {
                return None;
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut storage.reader(&key).unwrap(), &mut bytes).unwrap();
            Some(bytes)
        })
        .await
        .unwrap()
    }

    /// Removes `key` from the storage playing `role` behind Coffer's back.
    pub async fn remove_stored(&self, role: StorageRole, key: &str) {
        let storages = self.state.library.storages.clone();
        let key = StorageKey::parse(key).unwrap();
        tokio::task::spawn_blocking(move || storages.get(role).delete(&key).unwrap())
            .await
            .unwrap();
    }

    /// `coffer ARGS` as another process on this instance's data directory and database,
    /// with cheap password hashing and only warnings logged; not started yet.
    pub fn coffer_command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"));
        c.args(args)
            .env_remove("COFFER_CONFIG")
            .env("COFFER_DATA_DIR", self.data())
            .env("COFFER_ARGON2__MEMORY_KIB", "1024")
            .env("COFFER_ARGON2__ITERATIONS", "1")
            .env("COFFER_LOG", "warn");
        match &self._pg {
            Some(pg) => c.env("COFFER_DATABASE_URL", &pg.url),
            None => c.env_remove("COFFER_DATABASE_URL"),
        };
        // Storages in the bucket: the same endpoint and prefixes (the credentials are in
        // this process's environment already).
        let raw = &self.state.settings.raw;
        if let Some(store) = &raw.object_store {
            c.env("COFFER_OBJECT_STORE__ENDPOINT", &store.endpoint)
                .env("COFFER_OBJECT_STORE__REGION", &store.region)
                .env("COFFER_OBJECT_STORE__BUCKET", &store.bucket)
                .env(
                    "COFFER_OBJECT_STORE__PATH_STYLE",
                    store.path_style.to_string(),
                )
                .env(
                    "COFFER_OBJECT_STORE__ALLOW_HTTP",
                    store.allow_http.to_string(),
                );
            for (name, storage) in [
                ("PUBLIC", &raw.storage.public),
                ("PUBLIC_THUMBNAILS", &raw.storage.public_thumbnails),
                ("PRIVATE", &raw.storage.private),
                ("PRIVATE_THUMBNAILS", &raw.storage.private_thumbnails),
            ] {
                if let Some(prefix) = &storage.prefix {
                    c.env(format!("COFFER_STORAGE__{name}__KIND"), "s3")
                        .env(format!("COFFER_STORAGE__{name}__PREFIX"), prefix);
                }
            }
        }
        c
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
            .post(self.url("/api/v1/tokens"))
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
        let id = self
            .post_json(
                &self.admin_token,
                "/api/v1/users",
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        (id["id"].as_i64().unwrap(), self.token_for(name).await)
    }

    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> Value {
        let res = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    }

    /// `GET /api/v1/files/{id}` as the admin: status and the file object.
    pub async fn file_json(&self, id: i64) -> (StatusCode, Value) {
        self.request(
            reqwest::Method::GET,
            Some(&self.admin_token),
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await
    }

    pub async fn folder(&self, token: &str, name: &str, parent: Option<i64>) -> i64 {
        self.post_json(
            token,
            "/api/v1/folders",
            json!({"name": name, "parent_id": parent}),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn group(&self, name: &str, members: &[i64]) -> i64 {
        let id = self
            .post_json(&self.admin_token, "/api/v1/groups", json!({"name": name}))
            .await["id"]
            .as_i64()
            .unwrap();
        let (status, body) = self
            .request(
                reqwest::Method::PUT,
                Some(&self.admin_token),
                &format!("/api/v1/groups/{id}/members"),
                Some(json!({"user_ids": members})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    pub async fn rule(&self, body: Value) -> i64 {
        self.post_json(&self.admin_token, "/api/v1/folder-permissions", body)
            .await["id"]
            .as_i64()
            .unwrap()
    }

    /// Uploads `bytes` as `name`; returns the file object.
    pub async fn upload(
        &self,
        token: &str,
        name: &str,
        bytes: &[u8],
        folder: Option<i64>,
        public: bool,
    ) -> Value {
        let (status, body) = self.try_upload(token, name, bytes, folder, public).await;
        assert_eq!(status, StatusCode::CREATED, "upload {name}: {body}");
        body
    }

    pub async fn try_upload(
        &self,
        token: &str,
        name: &str,
        bytes: &[u8],
        folder: Option<i64>,
        public: bool,
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new().text("is_public", public.to_string());
        if let Some(f) = folder {
            form = form.text("folder_id", f.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
        let res = self
            .client
            .post(self.url("/api/v1/files"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    }

    /// GET with an optional bearer token; returns status, headers and body.
    pub async fn get(
        &self,
        token: Option<&str>,
        path: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        self.get_with(token, path, &[]).await
    }

    pub async fn get_with(
        &self,
        token: Option<&str>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(self.url(path));
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
}

/// The path part of a URL the API returned (they are site-relative).
pub fn path_of(file: &Value) -> String {
    file["url"].as_str().unwrap().to_owned()
}

//! A real cluster on one machine: PostgreSQL (`TEST_DATABASE_URL`), two `coffer serve`
//! processes on one database and one data directory, and nginx with both as one
//! round-robin upstream (`coffer nginx-config --upstream A --upstream B`). Every request may
//! land on either instance; Coffer must behave as one server would. Without PostgreSQL or
//! nginx the suite fails; it never skips.
//!
//! With `TEST_STORAGE=s3` the four storages are prefixes of a SeaweedFS bucket and every
//! instance has a data directory of its own: nothing is shared but the database and the
//! bucket, as on separate machines.
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

#[path = "../support/pg.rs"]
mod pg;
#[path = "../support/ports.rs"]
mod ports;
#[path = "../support/storage_mode.rs"]
#[allow(
    dead_code,
    reason = "the instances are other processes: their storages are not at hand"
)]
mod storage_mode;
#[path = "../servers/web.rs"]
#[allow(dead_code, reason = "only nginx is used here")]
mod web;

mod cases;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pg::PgDatabase;
use web::{Kind, WebServer, free_port};

/// The superuser's password in every cluster.
pub const PASSWORD: &str = "cluster password 1";

/// `coffer ARGS` with the cluster's configuration file (its storages), a data directory
/// and the database.
fn coffer(data: &Path, database: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coffer"));
    let config = data
        .parent()
        .expect("a data directory inside the cluster's directory")
        .join("coffer.toml");
    c.args(args)
        .env("COFFER_CONFIG", config)
        .env("COFFER_DATA_DIR", data)
        .env("COFFER_DATABASE_URL", database)
        .env("COFFER_ARGON2__MEMORY_KIB", "1024")
        .env("COFFER_ARGON2__ITERATIONS", "1")
        .env("COFFER_LOG", "warn");
    c
}

/// One `coffer serve` process.
pub struct Instance {
    pub port: u16,
    child: Option<Child>,
}

impl Instance {
    fn start(data: &Path, database: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let log = std::fs::File::create(data.join(format!("serve-{port}.log"))).unwrap();
        let child = coffer(
            data,
            database,
            &["serve", "--bind", &format!("127.0.0.1:{port}")],
        )
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
        let mut i = Self {
            port,
            child: Some(child),
        };
        i.wait_ready();
        i
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            if ok {
                return;
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().unwrap());
            assert!(
                exited.is_none(),
                "instance {} exited: {exited:?}",
                self.port
            );
            assert!(
                Instant::now() < deadline,
                "instance {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL: gone at once, whatever it was doing.
    pub fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then waits for the process to exit; its exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "instance {} did not stop",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Two instances and nginx in front of both.
pub struct Cluster {
    pub a: Instance,
    pub b: Instance,
    pub nginx: WebServer,
    /// The superuser's API token.
    pub admin: String,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    pub _pg: PgDatabase,
    /// Held while the cluster runs (see [`Turn`]); released last.
    _turn: Turn,
}

/// Clusters run side by side, except one that measures availability (a rolling restart
/// must fail no request): it runs alone, so that the other clusters' processes competing
/// for the same two cores do not decide its outcome.
struct Turn {
    alone: bool,
}

/// How many clusters run side by side, and whether one runs alone.
static TURNS: std::sync::Mutex<(usize, bool)> = std::sync::Mutex::new((0, false));
static TURN_CHANGED: std::sync::Condvar = std::sync::Condvar::new();

impl Turn {
    fn take(alone: bool) -> Self {
        let mut turns = TURNS.lock().unwrap_or_else(|p| p.into_inner());
        while turns.1 || (alone && turns.0 > 0) {
            turns = TURN_CHANGED.wait(turns).unwrap_or_else(|p| p.into_inner());
        }
        if alone {
            turns.1 = true;
        } else {
            turns.0 += 1;
        }
        Turn { alone }
    }

    fn shared() -> Self {
        Self::take(false)
    }

    fn alone() -> Self {
        Self::take(true)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = TURNS.lock().unwrap_or_else(|p| p.into_inner());
        if self.alone {
            turns.1 = false;
        } else {
            turns.0 = turns.0.saturating_sub(1);
        }
        TURN_CHANGED.notify_all();
    }
}

/// The data directory of the instance on `port`: the cluster's one, or with the storages
/// on S3 one of its own.
fn node_data(cluster: &Path, port: u16) -> std::path::PathBuf {
    if storage_mode::on_s3() {
        let data = cluster.join(format!("node-{port}"));
        std::fs::create_dir_all(&data).unwrap();
        data
    } else {
        cluster.join("data")
    }
}

impl Cluster {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A cluster that runs while no other does.
    pub fn start_alone() -> Self {
        Self::start_in(&[], Turn::alone())
    }

    /// A cluster whose instance A runs with `env_a` (e.g. `FAILPOINTS`).
    pub fn start_with(env_a: &[(&str, &str)]) -> Self {
        Self::start_in(env_a, Turn::shared())
    }

    fn start_in(env_a: &[(&str, &str)], turn: Turn) -> Self {
        let pg = pg::test_database().unwrap_or_else(|| {
            panic!(
                "the cluster suite needs PostgreSQL: set TEST_DATABASE_URL, e.g. \
                 postgres://postgres@127.0.0.1:5432/postgres (.ci/run does)"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        // nginx's workers (nobody) read the public storage.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let data = dir.path().join("data");
        let url = pg.url.clone();
        let mut config = coffer::config::ConfigFile::default();
        storage_mode::place_storages(&mut config);
        std::fs::write(
            dir.path().join("coffer.toml"),
            toml::to_string(&config).unwrap(),
        )
        .unwrap();
        let mut create = coffer(
            &data,
            &url,
            &["createsuperuser", "--username", "admin", "--password-stdin"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
        writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        assert!(create.wait().unwrap().success());
        std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let out = coffer(&data, &url, &["token", "create", "--username", "admin"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let admin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let (a_port, b_port) = (free_port(), free_port());
        let a = Instance::start(&node_data(dir.path(), a_port), &url, a_port, env_a);
        let b = Instance::start(&node_data(dir.path(), b_port), &url, b_port, &[]);
        let nginx_port = free_port();
        let conf = coffer(
            &data,
            &url,
            &[
                "nginx-config",
                "--listen",
                &format!("127.0.0.1:{nginx_port}"),
                "--upstream",
                &format!("127.0.0.1:{}", a.port),
                "--upstream",
                &format!("127.0.0.1:{}", b.port),
            ],
        )
        .output()
        .unwrap();
        assert!(
            conf.status.success(),
            "{}",
            String::from_utf8_lossy(&conf.stderr)
        );
        let nginx = WebServer::start(
            Kind::Nginx,
            nginx_port,
            &String::from_utf8(conf.stdout).unwrap(),
        );
        Self {
            a,
            b,
            nginx,
            admin,
            database_url: url,
            dir,
            _pg: pg,
            _turn: turn,
        }
    }

    /// A URL through nginx.
    pub fn site(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.nginx.port)
    }

    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// `coffer ARGS` on the cluster, run to its end.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        coffer(&self.data(), &self.database_url, args)
            .output()
            .unwrap()
    }

    /// Restarts a stopped instance on its port.
    pub fn restart(&self, port: u16) -> Instance {
        Instance::start(
            &node_data(self.dir.path(), port),
            &self.database_url,
            port,
            &[],
        )
    }
}

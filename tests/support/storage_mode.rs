//! Where a test instance keeps its four storages, chosen by `TEST_STORAGE`:
//!
//! - unset or `local`: directories under the test's data directory (the default);
//! - `s3`: prefixes of their own (one set per instance) in the bucket of a real SeaweedFS
//!   started once for the test process (`seaweedfs.rs`).
//!
//! `.ci/run` runs every suite whose outcome depends on where the bytes are (downloads,
//! relocation, thumbnails, uploads, trash, versions, repair, shares, ZIP, servers, cluster)
//! once more with `TEST_STORAGE=s3`, on SQLite and on PostgreSQL; the whole api suite
//! passes on S3 too. Any other value fails the test.

use coffer::config::{ConfigFile, ObjectStoreConfig, StorageKind};

#[path = "seaweedfs.rs"]
pub mod seaweedfs;

/// The storages' kind the suites run on.
pub fn on_s3() -> bool {
    match std::env::var("TEST_STORAGE").as_deref() {
        Err(_) | Ok("" | "local") => false,
        Ok("s3") => true,
        Ok(other) => panic!("TEST_STORAGE={other}: expected `local` or `s3`"),
    }
}

/// Puts the four storages of `cfg` where `TEST_STORAGE` says.
pub fn place_storages(cfg: &mut ConfigFile) {
    if on_s3() {
        put_on_s3(cfg);
    }
}

/// The four storages on the test engine, under prefixes of their own (one set per call).
pub fn put_on_s3(cfg: &mut ConfigFile) {
    let e = seaweedfs::engine();
    cfg.object_store = Some(ObjectStoreConfig {
        endpoint: e.endpoint.clone(),
        region: "us-east-1".into(),
        bucket: e.bucket.clone(),
        path_style: true,
        allow_http: true,
    });
    let run = uuid::Uuid::new_v4().simple().to_string();
    for (storage, name) in [
        (&mut cfg.storage.public, "public"),
        (&mut cfg.storage.public_thumbnails, "public-thumbnails"),
        (&mut cfg.storage.private, "private"),
        (&mut cfg.storage.private_thumbnails, "private-thumbnails"),
    ] {
        storage.kind = StorageKind::S3;
        storage.prefix = Some(format!("{run}/{name}/"));
    }
}

/// Fails unless the four storages of a started instance are of the kind `TEST_STORAGE`
/// asks for: a suite never passes on a disk while claiming to run on S3.
pub fn assert_placed(storages: &coffer::storage::Storages) {
    let want = if on_s3() { "s3" } else { "local" };
    for role in coffer::storage::StorageRole::ALL {
        assert_eq!(storages.get(role).kind(), want, "the {role:?} storage");
    }
}

//! Crash safety of storage moves, with fault injection (`cargo test --features failpoints`).
//!
//! For each step of a move, a failpoint panics there — nothing after it runs, as in a crash
//! — and then start-up recovery runs on the same database and storages. Afterwards the file
//! is whole, in exactly the storage its row names, with all its thumbnails, and nothing is
//! left behind anywhere.
#![cfg(feature = "failpoints")]
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::Duration;

use coffer::config::{ConfigFile, Settings};
use coffer::db::models::file::{self, NewFile};
use coffer::db::models::{journal, thumbnail, user};
use coffer::library::{check, recover, relocate};
use coffer::startup::bootstrap;
use coffer::state::AppState;
use coffer::storage::{PathGenerator, StorageKey, StorageRole};
use sha2::{Digest, Sha256};

#[path = "support/pg.rs"]
mod pg;
use pg::{PgDatabase, test_database};

/// Failpoints are process-global: one scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const BODY: &[u8] = b"the precious bytes of a file that must never be lost";

/// Fields drop in order: the instance first, then its database.
struct Fixture {
    state: AppState,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ConfigFile {
        data_dir: dir.path().to_path_buf(),
        ..ConfigFile::default()
    };
    cfg.argon2.memory_kib = 1024;
    cfg.argon2.iterations = 1;
    let pg = test_database();
    cfg.database.url = pg.as_ref().map(|p| p.url.clone());
    let state = bootstrap(Settings::from_file(cfg).unwrap()).unwrap();
    Fixture {
        state,
        _dir: dir,
        _pg: pg,
    }
}

/// A file with two thumbnails, stored publicly or privately.
fn make_file(state: &AppState, public: bool) -> i64 {
    let mut conn = state.pool.get().unwrap();
    let owner = user::create(
        &mut conn,
        &user::NewUser {
            username: format!("u{}", uuid::Uuid::new_v4().simple()),
            email: String::new(),
            password_hash: "x".into(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
        },
    )
    .unwrap();
    let key = PathGenerator::Randomized.generate("doc.txt");
    state
        .storages
        .main(public)
        .local()
        .put_bytes(&key, BODY)
        .unwrap();
    let f = file::insert(
        &mut conn,
        &NewFile {
            folder_id: None,
            owner_id: Some(owner),
            original_filename: "doc.txt".into(),
            name: String::new(),
            description: String::new(),
            is_public: public,
            storage_key: key.to_string(),
            size: BODY.len() as i64,
            sha256: hex::encode(Sha256::digest(BODY)),
            mime_type: "text/plain".into(),
        },
    )
    .unwrap();
    for spec in ["icon-40", "preview-210"] {
        let tk = key.derived(&format!("{spec}.png")).unwrap();
        state
            .storages
            .thumbnails(public)
            .local()
            .put_bytes(&tk, spec.as_bytes())
            .unwrap();
        thumbnail::insert(
            &mut conn,
            f.id,
            spec,
            tk.as_str(),
            "image/png",
            spec.len() as i64,
        )
        .unwrap();
    }
    f.id
}

/// The file is whole where its row says, every thumbnail too, and nothing else exists.
fn assert_consistent(state: &AppState, id: i64, expect_public: bool) {
    let mut conn = state.pool.get().unwrap();
    let f = file::find(&mut conn, id).unwrap().unwrap();
    assert_eq!(
        f.is_public, expect_public,
        "row says public={}",
        f.is_public
    );
    let key = StorageKey::parse(&f.storage_key).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut state
            .storages
            .main(f.is_public)
            .local()
            .open_read(&key)
            .unwrap(),
        &mut bytes,
    )
    .unwrap();
    assert_eq!(bytes, BODY, "the file is whole");
    for t in thumbnail::for_file(&mut conn, id).unwrap() {
        assert!(t.storage_key.starts_with(&format!("{}__", f.storage_key)));
        let tk = StorageKey::parse(&t.storage_key).unwrap();
        assert!(
            state.storages.thumbnails(f.is_public).local().exists(&tk),
            "thumbnail {} in place",
            t.spec
        );
    }
    assert_eq!(thumbnail::for_file(&mut conn, id).unwrap().len(), 2);
    let findings = check::check(&state.storages, &mut conn).unwrap();
    assert!(
        findings.is_empty(),
        "nothing missing, nothing left behind: {findings:?}"
    );
    assert!(journal::moves(&mut conn).unwrap().is_empty());
    let other = StorageRole::main(!f.is_public);
    assert!(
        state
            .storages
            .get(other)
            .local()
            .walk()
            .unwrap()
            .keys
            .is_empty()
    );
}

fn crash_at(point: &str, to_public: bool) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let id = make_file(&fx.state, !to_public);
    fail::cfg(point, "panic").unwrap();
    let state = fx.state.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut conn = state.pool.get().unwrap();
        relocate::set_public(&state, &mut conn, id, to_public)
    }));
    fail::remove(point);
    assert!(outcome.is_err(), "{point}: the failpoint fired");
    // "Restart": recovery on the same database and storages.
    let mut conn = fx.state.pool.get().unwrap();
    let done = recover::recover(&fx.state.storages, &mut conn, Duration::from_secs(0)).unwrap();
    let committed = matches!(point, "relocate::after-commit" | "relocate::after-cleanup");
    if committed {
        assert_eq!(done.moves_completed, 1, "{point}: {done:?}");
    } else {
        assert_eq!(done.moves_rolled_back, 1, "{point}: {done:?}");
    }
    drop(conn);
    assert_consistent(
        &fx.state,
        id,
        if committed { to_public } else { !to_public },
    );
    // And the file can still be moved afterwards.
    let mut conn = fx.state.pool.get().unwrap();
    relocate::set_public(&fx.state, &mut conn, id, to_public).unwrap();
    drop(conn);
    assert_consistent(&fx.state, id, to_public);
}

#[test]
fn a_crash_at_any_step_of_a_move_is_repaired_at_the_next_start() {
    for point in [
        "relocate::after-journal",
        "relocate::after-transfer",
        "relocate::after-commit",
        "relocate::after-cleanup",
    ] {
        for to_public in [false, true] {
            crash_at(point, to_public);
        }
    }
}

#[test]
fn a_failed_transfer_rolls_back_at_once() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let id = make_file(&fx.state, true);
    fail::cfg("relocate::transfer-error", "1*off->return").unwrap();
    let mut conn = fx.state.pool.get().unwrap();
    let err = relocate::set_public(&fx.state, &mut conn, id, false).unwrap_err();
    fail::remove("relocate::transfer-error");
    assert!(err.to_string().contains("injected"), "{err}");
    drop(conn);
    assert_consistent(&fx.state, id, true);
}

#[test]
fn a_failed_row_insert_leaves_no_object_behind() {
    use coffer::library::upload::{UploadTarget, store};
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let mut conn = fx.state.pool.get().unwrap();
    let owner = user::create(
        &mut conn,
        &user::NewUser {
            username: "uploader".into(),
            email: String::new(),
            password_hash: "x".into(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
        },
    )
    .unwrap();
    let uploader = user::find(&mut conn, owner).unwrap().unwrap();
    drop(conn);
    fail::cfg("upload::before-insert", "return").unwrap();
    let state = fx.state.clone();
    let result = actix_web::rt::System::new().block_on(async move {
        let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            bytes::Bytes::from_static(BODY),
        )]);
        store(&state, &uploader, &UploadTarget::default(), "doc.txt", body).await
    });
    fail::remove("upload::before-insert");
    assert!(result.unwrap_err().to_string().contains("injected"));
    let mut conn = fx.state.pool.get().unwrap();
    assert!(file::all_keys(&mut conn).unwrap().is_empty(), "no row");
    for role in StorageRole::ALL {
        let walk = fx.state.storages.get(role).local().walk().unwrap();
        assert!(
            walk.keys.is_empty() && walk.foreign.is_empty(),
            "no object in {role:?}"
        );
    }
}

/// A thumbnail made while the move runs (recorded after the move listed the thumbnails) is
/// not left behind: the move's commit drops its row and deletes its object.
#[test]
fn a_thumbnail_recorded_during_a_move_does_not_dangle() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let id = make_file(&fx.state, false);
    let late_key = {
        let mut conn = fx.state.pool.get().unwrap();
        let f = file::find(&mut conn, id).unwrap().unwrap();
        StorageKey::parse(&f.storage_key)
            .unwrap()
            .derived("80x80_crop_q85.jpg")
            .unwrap()
    };
    let (state, key) = (fx.state.clone(), late_key.clone());
    fail::cfg_callback("relocate::after-journal", move || {
        let mut conn = state.pool.get().unwrap();
        state
            .storages
            .thumbnails(false)
            .local()
            .put_bytes(&key, b"late")
            .unwrap();
        thumbnail::insert(
            &mut conn,
            id,
            "80x80_crop_q85",
            key.as_str(),
            "image/jpeg",
            4,
        )
        .unwrap();
    })
    .unwrap();
    let mut conn = fx.state.pool.get().unwrap();
    let moved = relocate::set_public(&fx.state, &mut conn, id, true);
    fail::remove("relocate::after-journal");
    moved.unwrap();
    drop(conn);
    assert!(
        !fx.state
            .storages
            .thumbnails(false)
            .local()
            .exists(&late_key)
    );
    assert_consistent(&fx.state, id, true);
}

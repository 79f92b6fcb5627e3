//! Crash safety of storage moves, with fault injection (`cargo test --features failpoints`).
//!
//! For each step of a move, a failpoint panics there — nothing after it runs, as in a crash
//! — and then, once the move's lease expired, recovery runs on the same database and
//! storages. Afterwards the file is whole, in exactly the storage its row names, with all its
//! thumbnails, and nothing is left behind anywhere.
//!
//! A failpoint that pauses holds a move (or an upload) open while every other command runs
//! against the same data directory and database: none of them may touch it.
#![cfg(feature = "failpoints")]
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use coffer::config::{ConfigFile, Settings};
use coffer::db::models::file::{self, NewFile};
use coffer::db::models::{journal, thumbnail, user};
use coffer::library::{check, recover, relocate};
use coffer::startup::{self, bootstrap};
use coffer::state::AppState;
use coffer::storage::{PathGenerator, StorageKey, StorageRole};
use sha2::{Digest, Sha256};

#[path = "support/pg.rs"]
mod pg;
#[path = "support/ports.rs"]
mod ports;
#[path = "support/storage_mode.rs"]
mod storage_mode;
use pg::{PgDatabase, test_database};

/// Failpoints are process-global: one scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const BODY: &[u8] = b"the precious bytes of a file that must never be lost";

/// The objects of each storage, and the journal's (id, owner, committed).
type Snapshot = (Vec<Vec<String>>, Vec<(i64, String, bool)>);

/// Fields drop in order: the instance first, then its database.
struct Fixture {
    state: AppState,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl Fixture {
    /// `coffer ARGS` as another process on the same configuration: data directory,
    /// storages and database.
    fn coffer(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_coffer"));
        c.args(args)
            .env("COFFER_CONFIG", self._dir.path().join("coffer.toml"))
            .env("COFFER_ARGON2__MEMORY_KIB", "1024")
            .env("COFFER_ARGON2__ITERATIONS", "1")
            .env("COFFER_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match &self._pg {
            Some(pg) => c.env("COFFER_DATABASE_URL", &pg.url),
            None => c.env_remove("COFFER_DATABASE_URL"),
        };
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Every object in the four storages, and every journal row with its owner and state.
    fn snapshot(&self) -> Snapshot {
        let objects = StorageRole::ALL
            .iter()
            .map(|r| self.state.library.storages.get(*r).walk().unwrap().keys)
            .collect();
        let mut conn = self.state.pool.get().unwrap();
        let moves = journal::moves(&mut conn)
            .unwrap()
            .into_iter()
            .map(|m| (m.id, m.owner, m.committed))
            .collect();
        (objects, moves)
    }
}

fn text(o: &Output) -> String {
    format!(
        "[{}] {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Makes every lease look expired, as if its owner had died a minute ago.
fn expire_leases(state: &AppState) {
    use coffer::db::schema::{storage_garbage, storage_moves};
    use diesel::prelude::*;
    let past = coffer::db::now() - Duration::from_secs(3600);
    let mut conn = state.pool.get().unwrap();
    diesel::update(storage_moves::table)
        .set(storage_moves::lease_expires_at.eq(past))
        .execute(&mut conn)
        .unwrap();
    diesel::update(storage_garbage::table)
        .set(storage_garbage::lease_expires_at.eq(past))
        .execute(&mut conn)
        .unwrap();
}

/// A failpoint that, the first time it is reached, reports it and waits for `release`.
struct Pause {
    point: &'static str,
    reached: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

impl Pause {
    fn at(point: &'static str) -> Self {
        let (reached_tx, reached) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let (reached_tx, release_rx) = (Mutex::new(reached_tx), Mutex::new(release_rx));
        let fired = AtomicBool::new(false);
        fail::cfg_callback(point, move || {
            if !fired.swap(true, Ordering::SeqCst) {
                reached_tx.lock().unwrap().send(()).unwrap();
                release_rx.lock().unwrap().recv().ok();
            }
        })
        .unwrap();
        Self {
            point,
            reached,
            release,
        }
    }

    fn wait(&self) {
        self.reached
            .recv_timeout(Duration::from_secs(60))
            .expect("the failpoint was reached");
    }

    fn release(self) {
        self.release.send(()).unwrap();
        fail::remove(self.point);
    }
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
    storage_mode::place_storages(&mut cfg);
    // The commands run as other processes read the same configuration.
    std::fs::write(
        dir.path().join("coffer.toml"),
        toml::to_string(&cfg).unwrap(),
    )
    .unwrap();
    let state = bootstrap(Settings::from_file(cfg).unwrap()).unwrap();
    storage_mode::assert_placed(&state.library.storages);
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
        .library
        .storages
        .main(public)
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
            .library
            .storages
            .thumbnails(public)
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
            .library
            .storages
            .main(f.is_public)
            .reader(&key)
            .unwrap(),
        &mut bytes,
    )
    .unwrap();
    assert_eq!(bytes, BODY, "the file is whole");
    for t in thumbnail::for_file(&mut conn, id).unwrap() {
        assert!(t.storage_key.starts_with(&format!("{}__", f.storage_key)));
        let tk = StorageKey::parse(&t.storage_key).unwrap();
        assert!(
            state
                .library
                .storages
                .thumbnails(f.is_public)
                .exists(&tk)
                .unwrap(),
            "thumbnail {} in place",
            t.spec
        );
    }
    assert_eq!(thumbnail::for_file(&mut conn, id).unwrap().len(), 2);
    let findings = check::check(&state.library.storages, &mut conn).unwrap();
    assert!(
        findings.is_empty(),
        "nothing missing, nothing left behind: {findings:?}"
    );
    assert!(journal::moves(&mut conn).unwrap().is_empty());
    let other = StorageRole::main(!f.is_public);
    assert!(
        state
            .library
            .storages
            .get(other)
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
        relocate::set_public(&state.library, &mut conn, id, to_public)
    }));
    fail::remove(point);
    assert!(outcome.is_err(), "{point}: the failpoint fired");
    // "Restart": recovery on the same database and storages. While the lease runs, the
    // owner may still be alive: nothing is touched.
    let before = fx.snapshot();
    let mut conn = fx.state.pool.get().unwrap();
    let done = recover::recover(&fx.state.library.storages, &mut conn).unwrap();
    assert_eq!(
        done,
        recover::Recovered::default(),
        "{point}: lease still running"
    );
    assert_eq!(fx.snapshot(), before, "{point}: nothing touched");
    expire_leases(&fx.state);
    let done = recover::recover(&fx.state.library.storages, &mut conn).unwrap();
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
    relocate::set_public(&fx.state.library, &mut conn, id, to_public).unwrap();
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
    let err = relocate::set_public(&fx.state.library, &mut conn, id, false).unwrap_err();
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
        store(
            &state.library,
            &uploader,
            &UploadTarget::default(),
            "doc.txt",
            body,
        )
        .await
    });
    fail::remove("upload::before-insert");
    assert!(result.unwrap_err().to_string().contains("injected"));
    let mut conn = fx.state.pool.get().unwrap();
    assert!(file::all_keys(&mut conn).unwrap().is_empty(), "no row");
    for role in StorageRole::ALL {
        let walk = fx.state.library.storages.get(role).walk().unwrap();
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
            .library
            .storages
            .thumbnails(false)
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
    let moved = relocate::set_public(&fx.state.library, &mut conn, id, true);
    fail::remove("relocate::after-journal");
    moved.unwrap();
    drop(conn);
    assert!(
        !fx.state
            .library
            .storages
            .thumbnails(false)
            .exists(&late_key)
            .unwrap()
    );
    assert_consistent(&fx.state, id, true);
}

/// A move held open at `point` while every other command runs on the same data directory
/// and database: none rolls it back or deletes its copies, and it then finishes intact.
fn commands_leave_a_live_move_alone(point: &'static str, to_public: bool) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let id = make_file(&fx.state, !to_public);
    let owner = {
        let mut conn = fx.state.pool.get().unwrap();
        let f = file::find(&mut conn, id).unwrap().unwrap();
        user::find(&mut conn, f.owner_id.unwrap())
            .unwrap()
            .unwrap()
            .username
    };
    let pause = Pause::at(point);
    let state = fx.state.clone();
    let mover = std::thread::spawn(move || {
        let mut conn = state.pool.get().unwrap();
        relocate::set_public(&state.library, &mut conn, id, to_public)
    });
    pause.wait();
    let held = fx.snapshot();
    assert_eq!(held.1.len(), 1, "{point}: the move is journaled");
    let runs: [(&[&str], &str); 4] = [
        (&["check"], ""),
        (&["check", "--repair"], ""),
        (&["token", "create", "--username", &owner], ""),
        (
            &["createsuperuser", "--username", "root", "--password-stdin"],
            "a long enough password\n",
        ),
    ];
    for (args, stdin) in runs {
        let o = fx.coffer(args, stdin);
        assert!(o.status.success(), "{point}: coffer {args:?}: {}", text(&o));
        assert_eq!(
            fx.snapshot(),
            held,
            "{point}: coffer {args:?} touched the move"
        );
    }
    // A second instance starting on the same database (its start-up repair included).
    let second = bootstrap((*fx.state.settings).clone()).unwrap();
    let done = startup::repair(&second).unwrap();
    assert_eq!(done, recover::Recovered::default(), "{point}");
    drop(second);
    assert_eq!(
        fx.snapshot(),
        held,
        "{point}: a second start touched the move"
    );
    pause.release();
    mover.join().unwrap().unwrap();
    assert_consistent(&fx.state, id, to_public);
}

#[test]
fn no_other_command_touches_a_move_in_flight() {
    commands_leave_a_live_move_alone("relocate::after-journal", true);
    commands_leave_a_live_move_alone("relocate::after-transfer", false);
    commands_leave_a_live_move_alone("relocate::after-transfer", true);
    commands_leave_a_live_move_alone("relocate::after-commit", false);
}

/// A mover that stalls past its lease loses the move to recovery: recovery decides, and the
/// mover's commit (pending) fails instead of repointing the row to copies recovery deleted.
fn a_stalled_mover_loses_its_lease(point: &'static str, to_public: bool) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let fx = fixture();
    let id = make_file(&fx.state, !to_public);
    let pause = Pause::at(point);
    let state = fx.state.clone();
    let mover = std::thread::spawn(move || {
        let mut conn = state.pool.get().unwrap();
        relocate::set_public(&state.library, &mut conn, id, to_public)
    });
    pause.wait();
    expire_leases(&fx.state);
    // Another process's `check --repair` takes over the expired lease.
    let o = fx.coffer(&["check", "--repair"], "");
    assert!(o.status.success(), "{point}: {}", text(&o));
    let committed = point == "relocate::after-commit";
    let expected = if committed {
        "1 move(s) finished, 0 rolled back"
    } else {
        "0 move(s) finished, 1 rolled back"
    };
    assert!(text(&o).contains(expected), "{point}: {}", text(&o));
    pause.release();
    let result = mover.join().unwrap();
    if committed {
        result.unwrap();
        assert_consistent(&fx.state, id, to_public);
    } else {
        let err = result.unwrap_err();
        assert!(err.to_string().contains("rolled back"), "{point}: {err}");
        assert_consistent(&fx.state, id, !to_public);
    }
}

#[test]
fn recovery_takes_over_a_stalled_move_and_the_mover_backs_off() {
    a_stalled_mover_loses_its_lease("relocate::after-transfer", true);
    a_stalled_mover_loses_its_lease("relocate::after-transfer", false);
    a_stalled_mover_loses_its_lease("relocate::after-commit", true);
}

/// An upload whose object is in place but whose row is not committed yet is not an orphan
/// to `coffer check --repair` in another process.
#[test]
fn check_repair_leaves_an_upload_in_progress_alone() {
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
    let pause = Pause::at("upload::before-insert");
    let state = fx.state.clone();
    let upload = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
                bytes::Bytes::from_static(BODY),
            )]);
            store(
                &state.library,
                &uploader,
                &UploadTarget::default(),
                "doc.txt",
                body,
            )
            .await
        })
    });
    pause.wait();
    let held = fx.snapshot();
    assert_eq!(held.0.iter().flatten().count(), 1, "the object is in place");
    let o = fx.coffer(&["check"], "");
    assert!(o.status.success(), "not an orphan: {}", text(&o));
    let o = fx.coffer(&["check", "--repair"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fx.snapshot(), held, "check --repair deleted the upload");
    pause.release();
    let row = upload.join().unwrap().unwrap();
    let mut conn = fx.state.pool.get().unwrap();
    let key = StorageKey::parse(&row.storage_key).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut fx
            .state
            .library
            .storages
            .main(row.is_public)
            .reader(&key)
            .unwrap(),
        &mut bytes,
    )
    .unwrap();
    assert_eq!(bytes, BODY);
    assert!(
        check::check(&fx.state.library.storages, &mut conn)
            .unwrap()
            .is_empty()
    );
}

/// `check --repair` beside a server: a whole move (and its clean-up) runs between the walk
/// of the storages and the reading of the rows. Nothing is reported and nothing deleted.
#[test]
fn a_move_during_check_is_neither_reported_nor_harmed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for to_public in [true, false] {
        let fx = fixture();
        let id = make_file(&fx.state, !to_public);
        let pause = Pause::at("check::after-walk");
        let state = fx.state.clone();
        let checker = std::thread::spawn(move || {
            let mut conn = state.pool.get().unwrap();
            let findings = check::check(&state.library.storages, &mut conn).unwrap();
            let removed = check::repair(&state.library.storages, &mut conn, &findings).unwrap();
            (findings, removed)
        });
        pause.wait();
        let mut conn = fx.state.pool.get().unwrap();
        relocate::set_public(&fx.state.library, &mut conn, id, to_public).unwrap();
        drop(conn);
        pause.release();
        let (findings, removed) = checker.join().unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(removed, 0);
        assert_consistent(&fx.state, id, to_public);
    }
}

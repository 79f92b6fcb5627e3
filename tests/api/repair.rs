//! Repair of interrupted work runs only in `coffer serve` (at start and periodically) and in
//! `coffer check --repair`, and only on work whose owner is gone: a move or a scheduled
//! deletion whose lease expired, a temporary upload no live process holds. Every other
//! command, and a second instance starting, leaves work in progress alone.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use coffer::db::models::file;
use coffer::db::models::journal::{self, MoveItem};
use coffer::db::schema::{files, storage_garbage, storage_moves};
use coffer::startup;
use coffer::storage::{PathGenerator, Storage, StorageKey, StorageRole};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, spawn_app};

const BODY: &[u8] = b"bytes that must survive every repair";

/// `coffer ARGS` as another process on the app's data directory and database.
fn coffer(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut c = app.coffer_command(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "[{}] {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `coffer serve` in another process, waits until it listens (its start-up repair
/// is done by then) and stops it.
fn serve_once(app: &TestApp) {
    let port = crate::ports::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut c = app.coffer_command(&["serve", "--bind", &bind]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&bind).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        assert!(child.try_wait().unwrap().is_none(), "serve exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A private file uploaded through the API: (id, key).
async fn private_file(app: &TestApp, name: &str) -> (i64, String) {
    let f = app.upload(&app.admin_token, name, BODY, None, false).await;
    let id = f["id"].as_i64().unwrap();
    let key = app
        .db(move |c| file::find(c, id).unwrap().unwrap().storage_key)
        .await;
    (id, key)
}

/// The state a move of another instance leaves while it runs (or after it died): its
/// journal row with `owner` and a lease expired or not, and the copy in the other storage;
/// committed means the row already names the copy. Returns the copy's key.
fn move_in_flight(app: &TestApp, id: i64, owner: &str, expired: bool, committed: bool) -> String {
    let mut conn = app.state.pool.get().unwrap();
    let f = file::find(&mut conn, id).unwrap().unwrap();
    let from = StorageKey::parse(&f.storage_key).unwrap();
    let to = PathGenerator::Randomized.generate(&f.original_filename);
    let items = [MoveItem {
        thumbnail_id: None,
        version_id: None,
        from_key: from.to_string(),
        to_key: to.to_string(),
    }];
    let move_id = journal::begin_move(&mut conn, id, !f.is_public, &items).unwrap();
    let storages = &app.state.library.storages;
    storages
        .main(f.is_public)
        .transfer_to(&from, storages.main(!f.is_public), &to)
        .unwrap();
    if committed {
        diesel::update(files::table.find(id))
            .set((
                files::is_public.eq(!f.is_public),
                files::storage_key.eq(to.as_str()),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::update(storage_moves::table.find(move_id))
            .set(storage_moves::state.eq("committed"))
            .execute(&mut conn)
            .unwrap();
    }
    set_lease(app, move_id, owner, expired);
    to.to_string()
}

fn lease(expired: bool) -> time::PrimitiveDateTime {
    let hour = Duration::from_secs(3600);
    if expired {
        coffer::db::now() - hour
    } else {
        coffer::db::now() + hour
    }
}

fn set_lease(app: &TestApp, move_id: i64, owner: &str, expired: bool) {
    let mut conn = app.state.pool.get().unwrap();
    diesel::update(storage_moves::table.find(move_id))
        .set((
            storage_moves::owner.eq(owner),
            storage_moves::lease_expires_at.eq(lease(expired)),
        ))
        .execute(&mut conn)
        .unwrap();
}

fn journal_files(app: &TestApp) -> Vec<i64> {
    let mut conn = app.state.pool.get().unwrap();
    journal::moves(&mut conn)
        .unwrap()
        .into_iter()
        .map(|m| m.file_id)
        .collect()
}

fn exists(app: &TestApp, role: StorageRole, key: &str) -> bool {
    app.state
        .library
        .storages
        .get(role)
        .exists(&StorageKey::parse(key).unwrap())
        .unwrap()
}

/// The file downloads whole through its URL, and its row names `public`.
async fn assert_intact(app: &TestApp, id: i64, public: bool) {
    let (status, f) = app.file_json(id).await;
    assert!(status.is_success(), "{status} {f}");
    assert_eq!(f["is_public"].as_bool(), Some(public), "{f}");
    let (status, _, body) = app
        .get(Some(&app.admin_token), f["url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, BODY);
}

#[actix_web::test]
async fn commands_other_than_serve_never_repair() {
    let app = spawn_app().await;
    let (id, key) = private_file(&app, "doc.txt").await;
    // Its owner is gone: only serve and check --repair may take it over.
    let copy = move_in_flight(&app, id, "gone", true, false);
    let empty = tempfile::tempdir().unwrap();
    let runs: [(&[&str], &str); 7] = [
        (&["migrate"], ""),
        (&["token", "create", "--username", "admin"], ""),
        (
            &["createsuperuser", "--username", "root", "--password-stdin"],
            "a long enough password\n",
        ),
        (
            &["changepassword", "root", "--password-stdin"],
            "another long password\n",
        ),
        (&["thumbnails", "generate"], ""),
        (&["import", empty.path().to_str().unwrap()], ""),
        (&["print-config"], ""),
    ];
    for (args, stdin) in runs {
        let o = coffer(&app, args, stdin);
        assert!(o.status.success(), "coffer {args:?}: {}", text(&o));
        assert_eq!(journal_files(&app), [id], "coffer {args:?} repaired");
        assert!(exists(&app, StorageRole::Public, &copy), "coffer {args:?}");
    }
    // A second instance opening the same database repairs nothing either.
    drop(startup::bootstrap((*app.state.settings).clone()).unwrap());
    assert_eq!(journal_files(&app), [id]);
    // check reports it (exit 1) and leaves it.
    let o = coffer(&app, &["check"], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("of file {id} (its owner is gone)")),
        "{}",
        text(&o)
    );
    assert_eq!(journal_files(&app), [id]);
    // check --repair rolls it back.
    let o = coffer(&app, &["check", "--repair"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 rolled back"), "{}", text(&o));
    assert!(journal_files(&app).is_empty());
    assert!(!exists(&app, StorageRole::Public, &copy));
    assert!(exists(&app, StorageRole::Private, &key));
    assert_intact(&app, id, false).await;
}

#[actix_web::test]
async fn serve_takes_over_expired_moves_at_start_and_leaves_live_ones() {
    let app = spawn_app().await;
    let (live, live_key) = private_file(&app, "live.txt").await;
    let (pending, pending_key) = private_file(&app, "pending.txt").await;
    let (committed, committed_key) = private_file(&app, "committed.txt").await;
    let live_copy = move_in_flight(&app, live, "alive", false, false);
    let pending_copy = move_in_flight(&app, pending, "gone", true, false);
    let committed_copy = move_in_flight(&app, committed, "gone", true, true);
    serve_once(&app);
    assert_eq!(journal_files(&app), [live], "only the live move is left");
    // The live move: untouched.
    assert!(exists(&app, StorageRole::Private, &live_key));
    assert!(exists(&app, StorageRole::Public, &live_copy));
    // The pending one: rolled back.
    assert!(exists(&app, StorageRole::Private, &pending_key));
    assert!(!exists(&app, StorageRole::Public, &pending_copy));
    assert_intact(&app, pending, false).await;
    // The committed one: finished.
    assert!(!exists(&app, StorageRole::Private, &committed_key));
    assert!(exists(&app, StorageRole::Public, &committed_copy));
    assert_intact(&app, committed, true).await;
    // A second serve start while the live move still runs: still untouched.
    serve_once(&app);
    assert_eq!(journal_files(&app), [live]);
    assert!(exists(&app, StorageRole::Public, &live_copy));
}

#[actix_web::test]
async fn the_periodic_repair_takes_over_once_the_lease_expires() {
    let app = spawn_app().await;
    let (id, key) = private_file(&app, "doc.txt").await;
    let copy = move_in_flight(&app, id, "alive", false, false);
    // A scheduled deletion of another live instance, and its object.
    let doomed = PathGenerator::Randomized.generate("doomed.txt");
    app.state
        .library
        .storages
        .main(false)
        .put_bytes(&doomed, b"x")
        .unwrap();
    {
        let mut conn = app.state.pool.get().unwrap();
        journal::add_garbage(&mut conn, "private", doomed.as_str()).unwrap();
        diesel::update(storage_garbage::table)
            .set((
                storage_garbage::owner.eq("alive"),
                storage_garbage::lease_expires_at.eq(lease(false)),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    let repairs = startup::start_repairs(&app.state, Duration::from_millis(100)).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(journal_files(&app), [id], "a live lease is left alone");
    assert!(exists(&app, StorageRole::Public, &copy));
    assert!(exists(&app, StorageRole::Private, doomed.as_str()));
    // Its owner dies: the lease runs out.
    let move_id = {
        let mut conn = app.state.pool.get().unwrap();
        journal::moves(&mut conn).unwrap()[0].id
    };
    set_lease(&app, move_id, "alive", true);
    {
        let mut conn = app.state.pool.get().unwrap();
        diesel::update(storage_garbage::table)
            .set(storage_garbage::lease_expires_at.eq(lease(true)))
            .execute(&mut conn)
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !journal_files(&app).is_empty() || exists(&app, StorageRole::Private, doomed.as_str()) {
        assert!(Instant::now() < deadline, "the periodic repair did not run");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(repairs);
    assert!(!exists(&app, StorageRole::Public, &copy));
    assert!(exists(&app, StorageRole::Private, &key));
    let left: i64 = {
        let mut conn = app.state.pool.get().unwrap();
        storage_garbage::table
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    assert_eq!(left, 0);
    assert_intact(&app, id, false).await;
}

#[actix_web::test]
async fn an_expired_move_is_claimed_by_one_recoverer_only() {
    let app = spawn_app().await;
    let (id, _) = private_file(&app, "doc.txt").await;
    move_in_flight(&app, id, "gone", true, false);
    let move_id = {
        let mut conn = app.state.pool.get().unwrap();
        journal::moves(&mut conn).unwrap()[0].id
    };
    let claims: Vec<bool> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let pool = app.state.pool.clone();
                s.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    journal::claim_move(&mut conn, move_id, &format!("recoverer-{i}")).unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
    let mut conn = app.state.pool.get().unwrap();
    let entry = journal::moves(&mut conn).unwrap().remove(0);
    let winner = claims.iter().position(|c| *c).unwrap();
    assert_eq!(entry.owner, format!("recoverer-{winner}"));
    assert!(!entry.expired(), "the claim renewed the lease");
    // The original owner, back from the dead, can neither renew, commit nor finish it.
    assert!(!journal::renew_move(&mut conn, move_id, "gone").unwrap());
    assert!(!journal::mark_committed(&mut conn, move_id, "gone").unwrap());
    assert!(!journal::finish_move(&mut conn, move_id, "gone").unwrap());
    assert!(!journal::claim_move(&mut conn, move_id, "late").unwrap());
    assert_eq!(journal::moves(&mut conn).unwrap().len(), 1);
}

#[actix_web::test]
async fn abandoned_uploads_are_reported_and_removed_but_live_ones_are_kept() {
    let app = spawn_app().await;
    // A local storage's `.tmp`, or an object storage's staging directory on this machine.
    let storage = app.state.library.storages.main(false).clone();
    let tmp = storage.temp_files().dir().to_owned();
    std::fs::create_dir_all(&tmp).unwrap();
    // Left by a crash: written as the ingest writes, but nobody holds it any more.
    std::fs::write(tmp.join("upload-crashed"), b"half an upl").unwrap();
    // An upload streaming right now (in this process: the lock is what tells them apart).
    let mut live = storage.temp_files().create().unwrap();
    live.as_file_mut().write_all(b"streaming").unwrap();
    let live_name = live
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let reported = match storage.as_object() {
        None => "abandoned private/.tmp/upload-crashed (an interrupted upload)".to_owned(),
        Some(_) => format!(
            "abandoned {}/upload-crashed (an upload interrupted before it reached the private storage)",
            tmp.display()
        ),
    };
    let o = coffer(&app, &["check"], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(&reported), "{}", text(&o));
    assert!(!text(&o).contains(&live_name), "{}", text(&o));
    assert!(tmp.join("upload-crashed").exists(), "check only reports");
    let o = coffer(&app, &["check", "--repair"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!tmp.join("upload-crashed").exists());
    assert!(tmp.join(&live_name).exists(), "the live upload stays");
    let o = coffer(&app, &["check"], "");
    assert!(o.status.success(), "{}", text(&o));
    // The next serve start removes abandoned ones too, and keeps the live one.
    std::fs::write(tmp.join("upload-crashed-again"), b"x").unwrap();
    serve_once(&app);
    assert!(!tmp.join("upload-crashed-again").exists());
    assert!(tmp.join(&live_name).exists());
    // The live upload finishes: it becomes an object, and its temporary file is gone.
    let key = PathGenerator::Randomized.generate("done.txt");
    match &storage {
        Storage::Local(local) => drop(local.persist(live, &key).unwrap()),
        Storage::Object(object) => {
            let file = std::fs::File::open(live.path()).unwrap();
            object
                .put_reader(&key, file, 9, &hex::encode(Sha256::digest(b"streaming")))
                .unwrap();
            drop(live);
        }
    }
    assert!(!tmp.join(&live_name).exists());
    assert!(storage.exists(&key).unwrap());
}

#[actix_web::test]
async fn a_live_mover_keeps_its_lease_until_recovery_takes_it() {
    use coffer::library::relocate::LeaseKeeper;
    let app = spawn_app().await;
    let (id, _) = private_file(&app, "doc.txt").await;
    move_in_flight(&app, id, "mover", false, false);
    let move_id = journal_ids(&app)[0];
    // About to run out.
    {
        let mut conn = app.state.pool.get().unwrap();
        diesel::update(storage_moves::table.find(move_id))
            .set(storage_moves::lease_expires_at.eq(coffer::db::now() + Duration::from_secs(1)))
            .execute(&mut conn)
            .unwrap();
    }
    let keeper = LeaseKeeper::start_every(
        app.state.pool.clone(),
        move_id,
        "mover",
        Duration::from_millis(100),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let entry = {
        let mut conn = app.state.pool.get().unwrap();
        journal::moves(&mut conn).unwrap().remove(0)
    };
    assert!(!entry.expired(), "renewed");
    assert!(entry.lease_expires_at > coffer::db::now() + Duration::from_secs(30));
    // Recovery takes it over (lease forced out): the keeper does not take it back.
    set_lease(&app, move_id, "mover", true);
    let mut conn = app.state.pool.get().unwrap();
    assert!(journal::claim_move(&mut conn, move_id, "recovery").unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let entry = journal::moves(&mut conn).unwrap().remove(0);
    assert_eq!(entry.owner, "recovery");
    drop(keeper);
}

fn journal_ids(app: &TestApp) -> Vec<i64> {
    let mut conn = app.state.pool.get().unwrap();
    journal::moves(&mut conn)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// An object written but not yet recorded (a thumbnail job between writing the object and
/// inserting its row, an upload before its row commits) is held locked by its writer: no
/// `check` in another process reports or deletes it. Once released, it is an orphan.
#[actix_web::test]
async fn an_object_held_by_its_writer_is_not_an_orphan() {
    let app = spawn_app().await;
    let (_, key) = private_file(&app, "doc.txt").await;
    let thumb = StorageKey::parse(&key)
        .unwrap()
        .derived("icon-40.png")
        .unwrap();
    let storage = app.state.library.storages.thumbnails(false);
    let held = storage.put_bytes_held(&thumb, b"png").unwrap();
    for args in [&["check"][..], &["check", "--repair"]] {
        let o = coffer(&app, args, "");
        assert!(o.status.success(), "coffer {args:?}: {}", text(&o));
        assert!(
            storage.exists(&thumb).unwrap(),
            "coffer {args:?} deleted it"
        );
    }
    drop(held);
    if storage.as_object().is_some() {
        // An object store has no locks: an object younger than UPLOAD_GRACE counts as held
        // by a writer, released or not.
        let o = coffer(&app, &["check", "--repair"], "");
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            storage.exists(&thumb).unwrap(),
            "a young object was deleted"
        );
        return;
    }
    let o = coffer(&app, &["check"], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("orphan   private_thumbnails/{thumb}")),
        "{}",
        text(&o)
    );
    let o = coffer(&app, &["check", "--repair"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!storage.exists(&thumb).unwrap());
}

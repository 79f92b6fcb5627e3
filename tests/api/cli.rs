//! The `coffer` command, run as a child process against a temporary data directory (and the
//! test database when `TEST_DATABASE_URL` is set).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use crate::helpers::{PgDatabase, test_database};

struct Env {
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            pg: test_database(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_coffer"));
        c.args(args)
            .env_remove("COFFER_CONFIG")
            .env("COFFER_DATA_DIR", self.dir.path().join("data"))
            .env("COFFER_ARGON2__MEMORY_KIB", "1024")
            .env("COFFER_ARGON2__ITERATIONS", "1")
            .env("COFFER_LOG", "warn");
        match &self.pg {
            Some(pg) => c.env("COFFER_DATABASE_URL", &pg.url),
            None => c.env_remove("COFFER_DATABASE_URL"),
        };
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
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

#[test]
fn serve_creates_the_data_dir_and_prints_the_admin_password_once() {
    let env = Env::new();
    let port = crate::ports::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut first_password = None;
    for round in 0..2 {
        let mut child = env
            .cmd(&["serve", "--bind", &bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut password = None;
        // Wait until the server answers.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        if round == 0 {
            let line = lines.next().unwrap().unwrap();
            password = line
                .strip_prefix("Created the superuser \"admin\" with password: ")
                .map(str::to_owned);
            assert!(password.is_some(), "{line}");
        }
        while std::net::TcpStream::connect(&bind).is_err() {
            assert!(std::time::Instant::now() < deadline, "server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.kill().unwrap();
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        child.wait().unwrap();
        if round == 0 {
            first_password = password;
        } else {
            assert!(
                rest.iter().all(|l| !l.contains("password")),
                "printed only once: {rest:?}"
            );
        }
    }
    let data = env.dir.path().join("data");
    for d in [
        "public",
        "private",
        "public-thumbnails",
        "private-thumbnails",
    ] {
        assert!(data.join(d).is_dir(), "{d}");
    }
    assert!(first_password.unwrap().len() >= 16);
}

#[test]
fn createsuperuser_token_and_changepassword() {
    let env = Env::new();
    let o = env.run_with_stdin(
        &["createsuperuser", "--username", "root", "--password-stdin"],
        "a long password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = env.run_with_stdin(
        &["createsuperuser", "--username", "root", "--password-stdin"],
        "a long password\n",
    );
    assert!(
        !o.status.success() && text(&o).contains("taken"),
        "{}",
        text(&o)
    );
    let o = env.run_with_stdin(
        &["createsuperuser", "--username", "weak", "--password-stdin"],
        "short\n",
    );
    assert!(
        !o.status.success() && text(&o).contains("at least 8"),
        "{}",
        text(&o)
    );
    let o = env.run(&["token", "create", "--username", "root"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "the token alone: {stdout:?}");
    assert!(stdout.trim().starts_with("coffer_") && stdout.trim().len() == 71);
    let o = env.run(&["token", "create", "--username", "nobody"]);
    assert!(!o.status.success());
    let o = env.run_with_stdin(
        &["changepassword", "root", "--password-stdin"],
        "another long password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn import_creates_folders_and_files_and_can_be_rerun() {
    let env = Env::new();
    let o = env.run_with_stdin(
        &["createsuperuser", "--username", "root", "--password-stdin"],
        "a long password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let src = env.dir.path().join("Holiday 2026");
    std::fs::create_dir_all(src.join("day one/été")).unwrap();
    std::fs::write(src.join("readme.txt"), "hello").unwrap();
    std::fs::write(src.join("day one/a b.txt"), "a").unwrap();
    std::fs::write(src.join("day one/été/100%.txt"), "p").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("link")).unwrap();
    let o = env.run(&["import", src.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("3 file(s) imported, 0 skipped"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("3 folder(s) created"), "{}", text(&o));
    let o = env.run(&["import", src.to_str().unwrap()]);
    assert!(
        text(&o).contains("0 file(s) imported, 3 skipped"),
        "{}",
        text(&o)
    );
    let o = env.run(&["check"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn check_reports_orphans_and_repair_removes_them() {
    let env = Env::new();
    assert!(env.run(&["migrate"]).status.success());
    let orphan = env.dir.path().join("data/private/ab/cd/x/orphan.txt");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, "o").unwrap();
    let o = env.run(&["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("orphan   private/ab/cd/x/orphan.txt"),
        "{}",
        text(&o)
    );
    let o = env.run(&["check", "--repair"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!orphan.exists());
    let o = env.run(&["check"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn configuration_errors_name_the_key() {
    let env = Env::new();
    let cfg = env.dir.path().join("coffer.toml");
    std::fs::write(&cfg, "enable_permisions = false\n").unwrap();
    let o = env.run(&["--config", cfg.to_str().unwrap(), "print-config"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("enable_permisions"), "{}", text(&o));
    let o = env
        .cmd(&["print-config"])
        .env("COFFER_STORAGE__PRIVATE__DIRR", "/x")
        .output()
        .unwrap();
    assert!(
        !o.status.success() && text(&o).contains("dirr"),
        "{}",
        text(&o)
    );
    let o = env
        .cmd(&["print-config"])
        .env("COFFER_ARGON2__THREADS", "0")
        .output()
        .unwrap();
    assert!(
        !o.status.success() && text(&o).contains("argon2.threads"),
        "{}",
        text(&o)
    );
    let public = env.dir.path().join("pub");
    std::fs::write(&cfg, format!("[storage.public]\ndir = {:?}\nbase_url = \"/media/public/\"\n[storage.private]\ndir = {:?}\nbase_url = \"/private/files/\"\n", public, public.join("inner"))).unwrap();
    let o = env.run(&["--config", cfg.to_str().unwrap(), "migrate"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("storage.public.dir")
            && text(&o).contains("private storage must not be inside"),
        "{}",
        text(&o)
    );
    let o = env.run(&["--config", "/nonexistent/coffer.toml", "print-config"]);
    assert!(!o.status.success() && text(&o).contains("does not exist"));
}

#[test]
fn print_config_redacts_secrets_and_reflects_overrides() {
    let env = Env::new();
    let o = env
        .cmd(&["print-config"])
        .env(
            "COFFER_DATABASE_URL",
            "postgres://coffer:hunter2@db.example/coffer",
        )
        .env("COFFER_ENABLE_PERMISSIONS", "false")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.contains("hunter2"), "{out}");
    assert!(
        out.contains("postgres://coffer:***@db.example/coffer"),
        "{out}"
    );
    assert!(out.contains("enable_permissions = false"), "{out}");
}

fn count_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".tmp" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn thumbnails_generate_and_clear() {
    let env = Env::new();
    let o = env.run_with_stdin(
        &["createsuperuser", "--username", "root", "--password-stdin"],
        "a long password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let src = env.dir.path().join("Pictures");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let photo = crate::pictures::jpeg(&crate::pictures::photo(320, 240), None);
    std::fs::write(src.join("good.jpg"), &photo).unwrap();
    std::fs::write(src.join("sub/cut.jpg"), &photo[..photo.len() / 2]).unwrap();
    std::fs::write(src.join("notes.txt"), "not an image").unwrap();
    // The import waits for the admin presets of what it imported.
    let o = env.run(&["import", src.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let thumbs = env.dir.path().join("data/private-thumbnails");
    assert_eq!(count_files(&thumbs), 6, "{}", text(&o));

    let o = env.run(&["thumbnails", "clear"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("6 thumbnail(s) deleted"), "{}", text(&o));
    assert_eq!(count_files(&thumbs), 0);

    // One preset: made for the good image, the truncated one reported by name.
    let o = env.run(&["thumbnails", "generate", "--preset", "icon-40"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("(cut.jpg): the image file is truncated"),
        "{out}"
    );
    assert!(
        out.contains("2 image(s) checked, 1 thumbnail(s) made, 1 image(s) failed"),
        "{out}"
    );
    assert_eq!(count_files(&thumbs), 1);
    // Every preset, only in the top folder's subfolder: nothing good there.
    let o = env.run(&["thumbnails", "generate", "--folder", "2"]);
    assert!(
        text(&o).contains("1 image(s) checked, 0 thumbnail(s) made, 1 image(s) failed"),
        "{}",
        text(&o)
    );
    // Everything: the five missing presets of the good image.
    let o = env.run(&["thumbnails", "generate"]);
    assert!(
        text(&o).contains("2 image(s) checked, 5 thumbnail(s) made"),
        "{}",
        text(&o)
    );
    assert_eq!(count_files(&thumbs), 6);
    let o = env.run(&["thumbnails", "generate", "--preset", "giant"]);
    assert!(
        !o.status.success() && text(&o).contains("no preset \"giant\""),
        "{}",
        text(&o)
    );
    let o = env.run(&["thumbnails", "generate", "--folder", "99"]);
    assert!(
        !o.status.success() && text(&o).contains("folder 99 does not exist"),
        "{}",
        text(&o)
    );
    let o = env.run(&["check"]);
    assert!(o.status.success(), "{}", text(&o));
}

//! The layering rule, checked on the sources: code under `src/web/` and `src/cli/` (and the
//! deployment tools under `src/deploy/`, which act on a running site like a client) parses
//! input, identifies the caller, calls `library` or `accounts`, and renders. It never writes
//! through `db::models` and never asks the permission engine itself; those happen in the
//! library, where every check is made through `library::Access`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top layer: HTTP handlers, the command line and the deployment tools.
fn top_layer() -> Vec<PathBuf> {
    let mut files = Vec::new();
    sources(&root().join("src/web"), &mut files);
    sources(&root().join("src/deploy"), &mut files);
    sources(&root().join("src/cli"), &mut files);
    files.sort();
    files
}

/// The code of a file without comments (line comments and doc comments), so prose that
/// names a function does not count as a call.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read a source file");
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(module, function)` of every public function in `src/db/models/` whose body writes:
/// an INSERT, UPDATE or DELETE through diesel, or a statement run with `execute`.
fn model_writes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    sources(&root().join("src/db/models"), &mut files);
    let mut out = BTreeSet::new();
    for path in files {
        let module = path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let code = code_of(&path);
        let starts: Vec<(usize, String)> = code
            .match_indices("pub fn ")
            .map(|(i, _)| {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (i, name)
            })
            .collect();
        for (n, (start, name)) in starts.iter().enumerate() {
            let end = starts.get(n + 1).map_or(code.len(), |(next, _)| *next);
            let body = &code[*start..end];
            let writes = [
                "insert_into(",
                "diesel::update(",
                "diesel::delete(",
                ".execute(",
            ]
            .iter()
            .any(|w| body.contains(w));
            if writes {
                out.insert((module.clone(), name.clone()));
            }
        }
    }
    out
}

/// What asks the permission engine directly, or reaches around `library::Access`.
const ENGINE: [&str; 9] = [
    "access.snapshot(",
    "access.policy(",
    "file_decision(",
    "folder_decision(",
    "folders_with(",
    "Snapshot",
    "crate::access::",
    "loaded.file(",
    "loaded.folder(",
];

fn violations() -> Vec<String> {
    let writes = model_writes();
    assert!(
        writes.len() > 10,
        "the scan of src/db/models found only {} writing functions: the scan is broken",
        writes.len()
    );
    let mut found = Vec::new();
    for path in top_layer() {
        let code = code_of(&path);
        let shown = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        for (n, line) in code.lines().enumerate() {
            for needle in ENGINE {
                if line.contains(needle) {
                    found.push(format!(
                        "{shown}:{}: asks the permission engine: {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
            for (module, function) in &writes {
                let call = format!("{module}::{function}(");
                let imported = line.contains("use ")
                    && line.contains(&format!("models::{module}::"))
                    && line.contains(function.as_str());
                let called = line.match_indices(&call).any(|(i, _)| {
                    // `user::create(` but not `accounts::create_user(` or `xuser::create(`.
                    !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called || imported {
                    found.push(format!(
                        "{shown}:{}: writes through db::models::{module}::{function}: {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn handlers_and_commands_go_through_the_library() {
    let found = violations();
    assert!(
        found.is_empty(),
        "code under src/web/ and src/cli/ must call library or accounts functions for \
         writes and permission decisions:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_a_planted_violation() {
    // The scanner itself: a line that writes through a model and one that asks the engine
    // are both found when they appear in code, and not when they appear in a comment.
    let dir = std::env::temp_dir().join(format!("coffer-layering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let planted = dir.join("planted.rs");
    std::fs::write(
        &planted,
        "fn f() {\n    token::delete(conn, 1);\n    // token::delete(conn, 1) in prose\n    let l = st.access.snapshot(conn)?;\n}\n",
    )
    .unwrap();
    let code = code_of(&planted);
    std::fs::remove_dir_all(&dir).unwrap();
    let writes = model_writes();
    assert!(writes.contains(&("token".to_owned(), "delete".to_owned())));
    assert_eq!(code.matches("token::delete(").count(), 1);
    assert!(ENGINE.iter().any(|e| code.contains(e)));
}

/// Files whose code (comments aside) says `unsafe` or allows it.
fn unsafe_users() -> Vec<String> {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    sources(&root().join("tests"), &mut files);
    sources(&root().join("benches"), &mut files);
    files.sort();
    files
        .iter()
        .filter(|path| {
            let code = code_of(path);
            code.contains("unsafe ") || code.contains("unsafe{") || code.contains("unsafe_code")
        })
        .map(|path| {
            path.strip_prefix(root())
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn unsafe_code_lives_in_one_small_module() {
    // The crate denies `unsafe_code`; only `src/memory.rs` allows it (one FFI call that
    // returns freed memory to the system), and this file, which names the lint to look
    // for it.
    assert_eq!(
        unsafe_users(),
        ["src/memory.rs", "tests/layering.rs"],
        "`unsafe` belongs in src/memory.rs alone"
    );
    let memory = std::fs::read_to_string(root().join("src/memory.rs")).unwrap();
    assert_eq!(memory.matches("unsafe {").count(), 1, "one unsafe block");
    assert!(memory.contains("// SAFETY:"), "and it says why it is sound");
}

//! `coffer doctor --url <site>`: checks a running site from the outside, the way a browser
//! and an attacker see it. It writes a probe file with an awkward name (and a thumbnail of
//! it) into private storage, downloads both through the site as an authorised user
//! (expecting the bytes, the name, Range and the security headers), requests them without
//! credentials and directly at every URL where a misconfigured server would expose them (the
//! public prefixes, the internal locations, the private roots and their parents, the
//! "missing trailing slash" traversal), expecting 404 everywhere, then removes the probe.
//! Each check prints one line; a failure says what happened and how to fix it.
//!
//! - this module: the entry point [`run`] and the report lines;
//! - `site`: the HTTP client, as a browser sees the site;
//! - `probe`: making and removing the probe (token, file, thumbnail);
//! - `checks`: each check, in the order it prints;
//! - `exposure`: the URLs where private bytes must not be served;
//! - `diagnosis`: turning a failure into the fix to print.

mod checks;
mod diagnosis;
mod exposure;
mod probe;
mod site;

use anyhow::Context;

use crate::config::Settings;
use crate::db;
use crate::state::AppState;
use crate::storage::Storages;

use self::probe::Created;
use self::site::Site;

/// The probe's name: every character that trips up paths, headers or URLs.
pub const PROBE_NAME: &str = "coffer doctor 100% %20 \"q\" #1;?\\ \u{e9}t\u{e9} \u{65e5}.txt";

/// What `coffer doctor` was asked.
#[derive(Clone, Debug)]
pub struct Options {
    /// The public site URL, e.g. `https://files.example.org`.
    pub url: String,
    /// The user to download as (default: the first active superuser).
    pub username: Option<String>,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub ok: bool,
    pub check: String,
    /// What went wrong and how to fix it (failures only).
    pub detail: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ok {
            write!(f, "ok    {}", self.check)
        } else {
            write!(f, "FAIL  {}: {}", self.check, self.detail)
        }
    }
}

impl Line {
    fn ok(check: impl Into<String>) -> Self {
        Self {
            ok: true,
            check: check.into(),
            detail: String::new(),
        }
    }

    fn fail(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            check: check.into(),
            detail: detail.into(),
        }
    }
}

/// Runs every check and returns the lines (also printed as they come).
pub async fn run(settings: Settings, opts: &Options) -> anyhow::Result<Vec<Line>> {
    let base = opts.url.trim_end_matches('/').to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        anyhow::bail!("--url must start with http:// or https://");
    }
    let state = connect(settings)?;
    let site = Site::new(base)?;
    let mut lines = Vec::new();
    let mut created = Created::default();
    let outcome = checks::checks(&state, opts, &site, &mut created, &mut lines).await;
    let cleanup = probe::clean_up(&state, &created).await;
    outcome?;
    match cleanup {
        Ok(()) => report(&mut lines, Line::ok("probe removed")),
        Err(e) => report(
            &mut lines,
            Line::fail(
                "probe removed",
                format!("{e:#}; `coffer check --repair` removes what is left"),
            ),
        ),
    }
    Ok(lines)
}

/// Prints a line and keeps it.
fn report(lines: &mut Vec<Line>, line: Line) {
    println!("{line}");
    lines.push(line);
}

/// The state without start-up recovery: the site's own Coffer may be mid-move.
fn connect(settings: Settings) -> anyhow::Result<AppState> {
    settings.prepare_directories()?;
    let pool = db::pool(&settings.database, 2)
        .with_context(|| format!("opening the {} database", settings.database.name()))?;
    let storages = Storages::open(&settings)?;
    AppState::new(settings, pool, storages)
}

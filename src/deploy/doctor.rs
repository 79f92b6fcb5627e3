//! `coffer doctor --url <site>`: checks a running site from the outside, the way a browser
//! and an attacker see it. It writes a probe file with an awkward name (and a thumbnail of
//! it) into private storage, downloads both through the site as an authorised user
//! (expecting the bytes, the name, Range and the security headers), requests them without
//! credentials and directly at every URL where a misconfigured server would expose them (the
//! public prefixes, the internal locations, the private roots and their parents, the
//! "missing trailing slash" traversal), expecting 404 everywhere, then removes the probe.
//! Each check prints one line; a failure says what happened and how to fix it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use crate::config::{ServeBackend, Settings};
use crate::db::models::{User, thumbnail, token, user};
use crate::db::{self, DbConn};
use crate::deploy::{NOSNIFF, SANDBOX_CSP};
use crate::library::{self, upload::UploadTarget};
use crate::state::AppState;
use crate::storage::{StorageKey, Storages};

/// The probe's name: every character that trips up paths, headers or URLs.
pub const PROBE_NAME: &str = "coffer doctor 100% %20 \"q\" #1;?\\ \u{e9}t\u{e9} \u{65e5}.txt";

/// Characters kept as they are in a URL path segment we build.
const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

/// The site as seen from outside.
struct Site {
    base: String,
    client: reqwest::Client,
}

/// A response, read whole (probes are small).
struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Site {
    async fn get(
        &self,
        path: &str,
        token: Option<&str>,
        extra: &[(header::HeaderName, &str)],
    ) -> Result<Got, String> {
        let mut req = self.client.get(format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in extra {
            req = req.header(k, *v);
        }
        let res = req.send().await.map_err(|e| error_chain(&e))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(|e| error_chain(&e))?;
        Ok(Got {
            status,
            headers,
            body,
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// One private object under test.
struct Probe {
    what: &'static str,
    /// The checked URL path.
    path: String,
    key: StorageKey,
    /// The storage directory (canonical).
    dir: PathBuf,
    bytes: Bytes,
    backend: ServeBackend,
    setting: &'static str,
}

/// Everything the probe created, removed at the end whatever happened.
#[derive(Default)]
struct Created {
    token_id: Option<(i64, i64)>,
    file_id: Option<i64>,
}

/// Runs every check and returns the lines (also printed as they come).
pub async fn run(settings: Settings, opts: &Options) -> anyhow::Result<Vec<Line>> {
    let base = opts.url.trim_end_matches('/').to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        anyhow::bail!("--url must start with http:// or https://");
    }
    let state = connect(settings)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()?;
    let site = Site { base, client };
    let mut lines = Vec::new();
    let mut created = Created::default();
    let outcome = checks(&state, opts, &site, &mut created, &mut lines).await;
    let cleanup = clean_up(&state, &created).await;
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

async fn checks(
    state: &AppState,
    opts: &Options,
    site: &Site,
    created: &mut Created,
    lines: &mut Vec<Line>,
) -> anyhow::Result<()> {
    match site.get("/login", None, &[]).await {
        Ok(got) if got.status == StatusCode::OK => {
            report(lines, Line::ok(format!("{} answers", site.base)))
        }
        Ok(got) => {
            report(
                lines,
                Line::fail(
                    format!("{} answers", site.base),
                    format!(
                        "GET /login answered {} instead of Coffer's login page: the site must proxy to Coffer at {}",
                        got.status, state.settings.bind
                    ),
                ),
            );
            return Ok(());
        }
        Err(e) => {
            report(
                lines,
                Line::fail(
                    format!("{} answers", site.base),
                    format!("cannot reach it: {e}"),
                ),
            );
            return Ok(());
        }
    }

    let (who, token) = authorised_user(state, opts, created).await?;
    let (file_key, file_id, bytes) = write_probe(state, &who, created).await?;
    let thumb_key = write_thumbnail(state, &file_key, file_id).await?;
    report(
        lines,
        Line::ok(format!(
            "probe {PROBE_NAME:?} written to private storage (as {})",
            who.username
        )),
    );

    let s = &state.settings;
    let probes = [
        Probe {
            what: "private file",
            path: format!("{}{}", s.private.base_url, file_key),
            key: file_key.clone(),
            dir: state.storages.private.local().root().to_path_buf(),
            bytes: bytes.clone(),
            backend: s.serve_private.clone(),
            setting: "server.private",
        },
        Probe {
            what: "private thumbnail",
            path: format!("{}{}", s.private_thumbnails.base_url, thumb_key),
            key: thumb_key.clone(),
            dir: state
                .storages
                .private_thumbnails
                .local()
                .root()
                .to_path_buf(),
            bytes: Bytes::from_static(PROBE_PNG),
            backend: s.serve_private_thumbnails.clone(),
            setting: "server.private_thumbnails",
        },
    ];
    for probe in &probes {
        authorised_download(site, probe, &token, lines).await;
    }
    stable_url(site, file_id, &bytes, &token, lines).await;
    for probe in &probes {
        let check = format!("{} refused without credentials", probe.what);
        match site.get(&probe.path, None, &[]).await {
            Ok(got) if got.status == StatusCode::NOT_FOUND => report(lines, Line::ok(check)),
            Ok(got) => report(
                lines,
                Line::fail(
                    check,
                    format!(
                        "{} answered {} to an anonymous request; it must be 404. Nothing may \
                         answer for {} but Coffer",
                        probe.path, got.status, probe.path
                    ),
                ),
            ),
            Err(e) => report(lines, Line::fail(check, e)),
        }
    }
    for probe in &probes {
        for (url, why) in exposure_candidates(s, probe) {
            let check = format!("{} not served at {url}", probe.what);
            match site.get(&url, None, &[]).await {
                Ok(got) if got.status == StatusCode::NOT_FOUND => report(lines, Line::ok(check)),
                Ok(got) if got.status.is_success() && got.body == probe.bytes => {
                    report(lines, Line::fail(check, exposed_message(&url, why, probe)))
                }
                Ok(got) => report(
                    lines,
                    Line::fail(
                        check,
                        format!(
                            "answered {} instead of 404; a web server must not reveal anything \
                             about the private storage {} at this URL",
                            got.status,
                            probe.dir.display()
                        ),
                    ),
                ),
                Err(e) => report(lines, Line::fail(check, e)),
            }
        }
    }
    Ok(())
}

/// Why a URL might expose private bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exposure {
    /// A public prefix mapped onto the private storage.
    PublicPrefix,
    /// A public location without its trailing slash: `/media/public../private/…`.
    MissingSlash,
    /// The internal location answering outside redirects.
    Internal,
    /// A document root at the storage or one of its parents.
    Root,
}

/// Every URL at which a misconfigured server would hand out the probe.
fn exposure_candidates(s: &Settings, probe: &Probe) -> Vec<(String, Exposure)> {
    let key = probe.key.as_str();
    let mut out: Vec<(String, Exposure)> = Vec::new();
    for public in [&s.public, &s.public_thumbnails] {
        if !public.base_url.starts_with('/') {
            continue;
        }
        out.push((format!("{}{key}", public.base_url), Exposure::PublicPrefix));
        let public_dir = public
            .dir
            .canonicalize()
            .unwrap_or_else(|_| public.dir.clone());
        if let Some(rel) = public_dir
            .parent()
            .and_then(|parent| probe.dir.strip_prefix(parent).ok())
        {
            out.push((
                format!(
                    "{}../{}/{key}",
                    public.base_url.trim_end_matches('/'),
                    encode_path(rel)
                ),
                Exposure::MissingSlash,
            ));
        }
    }
    for backend in [&s.serve_private, &s.serve_private_thumbnails] {
        if let Some(location) = backend.internal_location() {
            out.push((format!("{location}{key}"), Exposure::Internal));
        }
    }
    let mut ancestor: Option<&Path> = Some(&probe.dir);
    while let Some(a) = ancestor {
        if let Ok(rel) = probe.dir.strip_prefix(a) {
            let rel = encode_path(rel);
            let url = if rel.is_empty() {
                format!("/{key}")
            } else {
                format!("/{rel}/{key}")
            };
            out.push((url, Exposure::Root));
        }
        ancestor = a.parent();
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(url, _)| seen.insert(url.clone()));
    out
}

fn encode_path(rel: &Path) -> String {
    rel.iter()
        .map(|part| utf8_percent_encode(&part.to_string_lossy(), SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn exposed_message(url: &str, why: Exposure, probe: &Probe) -> String {
    let dir = probe.dir.display();
    match why {
        Exposure::MissingSlash => {
            let prefix = url.split("../").next().unwrap_or(url);
            format!(
                "the private file is served without any check: the public location {prefix} lacks \
                 its trailing slash while its alias has one, so `{prefix}../` walks out of the \
                 public storage into {dir}. Fix: write the location as `{prefix}/` (the alias \
                 ends with `/` too)"
            )
        }
        Exposure::Internal => format!(
            "the internal location answers direct requests, so the private file is served without \
             any check. Fix: mark it `internal;` (nginx) or serve {dir} only inside Caddy's \
             handle_response block"
        ),
        Exposure::PublicPrefix => format!(
            "the private file is served without any check: this public URL maps onto the private \
             storage {dir}. Fix: the public location's alias/root must be the public storage \
             directory, never {dir}"
        ),
        Exposure::Root => format!(
            "the private file is served without any check: the private root {dir} (or a parent \
             of it) is a document root of the web server. Fix: remove that root/alias/try_files; \
             private storage must be reachable only through {}",
            reach(&probe.backend)
        ),
    }
}

fn reach(backend: &ServeBackend) -> String {
    match backend {
        ServeBackend::Default => "Coffer".into(),
        ServeBackend::Nginx { location } | ServeBackend::Caddy { location } => {
            format!("the internal location {location}")
        }
        ServeBackend::Apache { .. } | ServeBackend::Lighttpd => "X-Sendfile".into(),
    }
}

async fn authorised_user(
    state: &AppState,
    opts: &Options,
    created: &mut Created,
) -> anyhow::Result<(User, String)> {
    let wanted = opts.username.clone();
    let secret = crate::auth::new_api_token();
    let hash = crate::auth::secret_hash(&secret);
    let (u, id) = db::run(&state.pool, move |conn: &mut DbConn| {
        let u = match wanted {
            Some(name) => user::find_by_username(conn, &name)?,
            None => user::list(conn)?
                .into_iter()
                .find(|u| u.is_superuser && u.is_active),
        };
        let Some(u) = u else {
            return Ok(None);
        };
        let id = token::create(conn, u.id, "coffer doctor (temporary)", &hash)?;
        Ok::<_, db::DbError>(Some((u, id)))
    })
    .await?
    .context("no such user (and no active superuser to act as; pass --username)")?;
    created.token_id = Some((u.id, id));
    if !u.is_active {
        anyhow::bail!("the user {:?} is not active", u.username);
    }
    Ok((u, secret))
}

async fn write_probe(
    state: &AppState,
    who: &User,
    created: &mut Created,
) -> anyhow::Result<(StorageKey, i64, Bytes)> {
    let mut text = String::new();
    for i in 0..64 {
        text.push_str(&format!(
            "coffer doctor probe {} line {i}\n",
            crate::auth::random_secret()
        ));
    }
    let bytes = Bytes::from(text);
    let target = UploadTarget {
        is_public: Some(false),
        ..UploadTarget::default()
    };
    let body = futures_util::stream::once({
        let b = bytes.clone();
        async move { Ok::<_, std::io::Error>(b) }
    });
    let row = library::upload::store(state, who, &target, PROBE_NAME, body)
        .await
        .map_err(|e| anyhow::anyhow!("cannot write the probe: {e}"))?;
    created.file_id = Some(row.id);
    let key = StorageKey::parse(&row.storage_key).context("the probe's key")?;
    Ok((key, row.id, bytes))
}

async fn write_thumbnail(
    state: &AppState,
    file_key: &StorageKey,
    file_id: i64,
) -> anyhow::Result<StorageKey> {
    let key = file_key.derived("doctor-probe.png")?;
    state
        .storages
        .private_thumbnails
        .local()
        .put_bytes(&key, PROBE_PNG)?;
    let k = key.to_string();
    db::run(&state.pool, move |conn: &mut DbConn| {
        thumbnail::insert(
            conn,
            file_id,
            "doctor-probe",
            &k,
            "image/png",
            i64::try_from(PROBE_PNG.len()).unwrap_or(0),
        )
    })
    .await?;
    Ok(key)
}

async fn clean_up(state: &AppState, created: &Created) -> anyhow::Result<()> {
    let st = state.clone();
    let file_id = created.file_id;
    let token_id = created.token_id;
    let deleted = db::run(&state.pool, move |conn: &mut DbConn| {
        let mut deleted = Ok(());
        if let Some(id) = file_id
            && let Some((user_id, _)) = token_id
            && let Some(u) = user::find(conn, user_id)?
        {
            deleted = library::delete::delete_file(&st, conn, &u, id);
        }
        if let Some((user_id, id)) = token_id {
            token::delete(conn, user_id, id)?;
        }
        Ok::<_, db::DbError>(deleted)
    })
    .await?;
    deleted.map_err(|e| anyhow::anyhow!("cannot delete the probe: {e}"))
}

async fn authorised_download(site: &Site, probe: &Probe, token: &str, lines: &mut Vec<Line>) {
    let check = format!("{} downloads through the site", probe.what);
    let got = match site.get(&probe.path, Some(token), &[]).await {
        Ok(got) => got,
        Err(e) => return report(lines, Line::fail(check, e)),
    };
    if got.status != StatusCode::OK || got.body != probe.bytes {
        let detail = diagnose(site, probe, token, &got).await;
        return report(lines, Line::fail(check, detail));
    }
    report(lines, Line::ok(check));

    if probe.what == "private file" {
        let check = format!("{} keeps its name", probe.what);
        let name = got
            .headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|cd| cd.split("filename*=UTF-8''").nth(1))
            .and_then(|enc| percent_decode_str(enc).decode_utf8().ok())
            .map(|n| n.into_owned());
        match name {
            Some(n) if n == PROBE_NAME => report(lines, Line::ok(check)),
            other => report(
                lines,
                Line::fail(
                    check,
                    format!(
                        "Content-Disposition names it {other:?}, not {PROBE_NAME:?}: the web \
                         server must pass Coffer's Content-Disposition through"
                    ),
                ),
            ),
        }
    }

    let check = format!("{} carries the security headers", probe.what);
    let nosniff = got
        .headers
        .get(header::X_CONTENT_TYPE_OPTIONS)
        .is_some_and(|v| v == NOSNIFF);
    let csp = got
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v == SANDBOX_CSP);
    if nosniff && csp {
        report(lines, Line::ok(check));
    } else {
        let missing = [
            (!nosniff, "X-Content-Type-Options: nosniff"),
            (!csp, "Content-Security-Policy: default-src 'none'; sandbox"),
        ]
        .iter()
        .filter(|(m, _)| *m)
        .map(|(_, h)| *h)
        .collect::<Vec<_>>()
        .join(" and ");
        let fix = match &probe.backend {
            ServeBackend::Nginx { location } => format!(
                "nginx drops them from redirected answers; add `add_header … always;` for both in \
                 `location {location}` (as `coffer nginx-config` does)"
            ),
            ServeBackend::Caddy { .. } => {
                "set both with `header` inside the handle_response block".into()
            }
            _ => "the web server must not strip Coffer's response headers".into(),
        };
        report(
            lines,
            Line::fail(check, format!("{missing} missing. Fix: {fix}")),
        );
    }

    let check = format!("{} answers Range requests", probe.what);
    match site
        .get(&probe.path, Some(token), &[(header::RANGE, "bytes=3-12")])
        .await
    {
        Ok(r) if r.status == StatusCode::PARTIAL_CONTENT && r.body == probe.bytes[3..13] => {
            report(lines, Line::ok(check))
        }
        Ok(r) => report(
            lines,
            Line::fail(
                check,
                format!(
                    "`Range: bytes=3-12` answered {} with {} bytes; expected 206 with 10 bytes",
                    r.status,
                    r.body.len()
                ),
            ),
        ),
        Err(e) => report(lines, Line::fail(check, e)),
    }
}

async fn stable_url(site: &Site, id: i64, bytes: &Bytes, token: &str, lines: &mut Vec<Line>) {
    let path = format!("/files/{id}/probe.txt");
    let check = format!("stable URL {path} downloads");
    match site.get(&path, Some(token), &[]).await {
        Ok(got) if got.status == StatusCode::OK && got.body == *bytes => {
            report(lines, Line::ok(check))
        }
        Ok(got) => report(
            lines,
            Line::fail(
                check,
                format!(
                    "answered {} with {} bytes; /files/ must be proxied to Coffer, and the \
                     private file must download (see above)",
                    got.status,
                    got.body.len()
                ),
            ),
        ),
        Err(e) => report(lines, Line::fail(check, e)),
    }
}

/// Explains a failed authorised download.
async fn diagnose(site: &Site, probe: &Probe, token: &str, got: &Got) -> String {
    let dir = format!("{}/", probe.dir.display());
    let status = got.status;
    let leaked_header = ["x-accel-redirect", "x-sendfile"]
        .into_iter()
        .find(|h| got.headers.contains_key(*h));
    if let Some(h) = leaked_header {
        return format!(
            "the web server passed Coffer's {h} answer to the browser instead of acting on it. \
             Fix: {}",
            match &probe.backend {
                ServeBackend::Nginx { .. } =>
                    "proxy to Coffer with nginx's proxy_pass (X-Accel-Redirect must not be in proxy_ignore_headers)",
                ServeBackend::Apache { .. } =>
                    "`XSendFile On` in the virtual host, with mod_xsendfile loaded",
                ServeBackend::Lighttpd => "`\"x-sendfile\" => \"enable\"` in proxy.server",
                ServeBackend::Caddy { .. } =>
                    "the handle_response block of `coffer caddy-config` inside reverse_proxy",
                ServeBackend::Default => "nothing here: the default backend sends no such header",
            }
        );
    }
    if status.is_server_error() {
        return format!(
            "{} answered {status}: the web server could not get an answer from Coffer; is it \
             running, and is the proxy target right?",
            probe.path
        );
    }
    if status == StatusCode::FORBIDDEN {
        return format!(
            "{} answered 403: the web server may not read {dir}. Fix: give it read access \
             (Coffer's group, Coffer run with UMask=0027){}",
            probe.path,
            if matches!(probe.backend, ServeBackend::Apache { .. }) {
                ", and allow the directory with XSendFilePath"
            } else {
                ""
            }
        );
    }
    if status == StatusCode::OK {
        return format!(
            "{} answered 200 with {} bytes that are not the probe's {}",
            probe.path,
            got.body.len(),
            probe.bytes.len()
        );
    }
    if status != StatusCode::NOT_FOUND {
        return format!(
            "{} answered {status}; expected 200 with the probe",
            probe.path
        );
    }
    match &probe.backend {
        ServeBackend::Default => format!(
            "{} answered 404 although the user may read it: the request does not reach Coffer's \
             checked view. Fix: proxy {} to Coffer",
            probe.path, probe.path
        ),
        ServeBackend::Nginx { location } => {
            if missing_slash_decoy(site, probe, token).await {
                format!(
                    "nginx looked for the file at {}{} (no `/` between): the alias of \
                     `location {location}` lacks its trailing slash. Fix: `alias {dir};` \
                     (location and alias both end with `/`)",
                    probe.dir.display(),
                    probe.key
                )
            } else {
                format!(
                    "Coffer allowed the download and redirected to {location}{}, but nginx found \
                     no file there: the wrong alias. Fix: `location {location} {{ internal; alias \
                     {dir}; }}` for {}",
                    probe.key, probe.setting
                )
            }
        }
        ServeBackend::Caddy { location } => format!(
            "Coffer allowed the download and redirected to {location}{}, but Caddy found no file \
             there: the wrong root. Fix: in the handle_response block, `uri strip_prefix \
             {}` and `root * {}` for {}",
            probe.key,
            location.trim_end_matches('/'),
            probe.dir.display(),
            probe.setting
        ),
        ServeBackend::Apache { unescape } => format!(
            "Coffer allowed the download and sent X-Sendfile for {dir}{}, but Apache answered 404. \
             Fix: `XSendFile On` and `XSendFilePath {dir}`; and `unescape = {unescape}` must \
             match the module: true for the mod_xsendfile 1.0 code (XSendFileUnescape On), false \
             for 0.12 or XSendFileUnescape Off",
            probe.key
        ),
        ServeBackend::Lighttpd => format!(
            "Coffer allowed the download and sent X-Sendfile for {dir}{}, but lighttpd answered \
             404. Fix: `\"x-sendfile\" => \"enable\"` and `\"x-sendfile-docroot\" => ( \"{dir}\" )` \
             in proxy.server (lighttpd ≥ 1.4.40 decodes the path)",
            probe.key
        ),
    }
}

/// nginx with `alias /dir;` under `location /loc/` looks for `/dir` + `ab/cd/…`. Puts a copy
/// of the probe exactly there (only where nothing exists yet), asks again, and removes it.
async fn missing_slash_decoy(site: &Site, probe: &Probe, token: &str) -> bool {
    let key = probe.key.as_str();
    let (first, rest) = key.split_once('/').unwrap_or((key, ""));
    let top = PathBuf::from(format!("{}{first}", probe.dir.display()));
    if top.exists() {
        return false;
    }
    let target = if rest.is_empty() {
        top.clone()
    } else {
        top.join(rest)
    };
    let placed = (|| {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &probe.bytes)?;
        // Readable by a web server running as another user.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))
    })();
    let served = match placed {
        Ok(()) => site
            .get(&probe.path, Some(token), &[])
            .await
            .is_ok_and(|g| g.status == StatusCode::OK && g.body == probe.bytes),
        Err(_) => false,
    };
    let _ = if top.is_dir() {
        std::fs::remove_dir_all(&top)
    } else {
        std::fs::remove_file(&top)
    };
    served
}

/// A valid 1×1 PNG, the probe thumbnail.
const PROBE_PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
    0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 13, b'I', b'D', b'A', b'T',
    0x78, 0x9c, 0x63, 0xf8, 0xff, 0xff, 0x3f, 0, 5, 0xfe, 2, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0, 0, 0,
    0, b'I', b'E', b'N', b'D', 0xae, b'B', b'`', 0x82,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_png_is_a_png() {
        assert_eq!(
            crate::storage::sniff::sniff(PROBE_PNG, "x.bin"),
            "image/png"
        );
    }

    #[test]
    fn paths_encode_per_segment() {
        assert_eq!(
            encode_path(Path::new("a b/100%/\u{e9}")),
            "a%20b/100%25/%C3%A9"
        );
    }
}

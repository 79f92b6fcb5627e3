//! Turning a failed check into what happened and the fix to print, in the terms of the
//! configured backend (nginx, Apache, lighttpd, Caddy or Coffer itself).

use std::path::PathBuf;

use reqwest::StatusCode;

use crate::config::ServeBackend;

use super::exposure::Exposure;
use super::probe::Probe;
use super::site::{Got, Site};

/// Explains why the probe was served without any check at `url`.
pub(super) fn exposed_message(url: &str, why: Exposure, probe: &Probe) -> String {
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

/// The only way private storage may be reached with this backend.
fn reach(backend: &ServeBackend) -> String {
    match backend {
        ServeBackend::Default => "Coffer".into(),
        ServeBackend::S3Redirect { .. } => "Coffer's presigned redirects".into(),
        ServeBackend::NginxS3 { location, .. } => {
            format!("the internal location {location}, with presigned URLs")
        }
        ServeBackend::Nginx { location } | ServeBackend::Caddy { location } => {
            format!("the internal location {location}")
        }
        ServeBackend::Apache { .. } | ServeBackend::Lighttpd => "X-Sendfile".into(),
    }
}

/// How to keep Coffer's security headers on a download with this backend.
pub(super) fn security_headers_fix(backend: &ServeBackend) -> String {
    match backend {
        ServeBackend::Nginx { location } => format!(
            "nginx drops them from redirected answers; add `add_header … always;` for both in \
             `location {location}` (as `coffer nginx-config` does)"
        ),
        ServeBackend::Caddy { .. } => {
            "set both with `header` inside the handle_response block".into()
        }
        _ => "the web server must not strip Coffer's response headers".into(),
    }
}

/// Explains a failed authorised download.
pub(super) async fn diagnose(site: &Site, probe: &Probe, token: &str, got: &Got) -> String {
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
                ServeBackend::Nginx { .. } | ServeBackend::NginxS3 { .. } =>
                    "proxy to Coffer with nginx's proxy_pass (X-Accel-Redirect must not be in proxy_ignore_headers)",
                ServeBackend::Apache { .. } =>
                    "`XSendFile On` in the virtual host, with mod_xsendfile loaded",
                ServeBackend::Lighttpd => "`\"x-sendfile\" => \"enable\"` in proxy.server",
                ServeBackend::Caddy { .. } =>
                    "the handle_response block of `coffer caddy-config` inside reverse_proxy",
                ServeBackend::Default | ServeBackend::S3Redirect { .. } =>
                    "nothing here: this backend sends no such header",
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
        ServeBackend::Default | ServeBackend::S3Redirect { .. } => format!(
            "{} answered 404 although the user may read it: the request does not reach Coffer's \
             checked view. Fix: proxy {} to Coffer",
            probe.path, probe.path
        ),
        ServeBackend::NginxS3 { location, .. } => format!(
            "{} answered 404 although the user may read it: nginx's internal location \
             {location} did not fetch the object from the engine (the engine refused the \
             presigned GET: wrong proxy_pass or Host, or clocks out of sync). Fix: use the \
             location `coffer nginx-config` prints, and keep time synchronised",
            probe.path
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

//! The checks, in the order they print: the site answers; the probe is written; it downloads
//! as the authorised user (bytes, name, security headers, Range) and at its stable URL; it is
//! refused without credentials; and it is served nowhere a misconfigured server would expose
//! it.

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use reqwest::StatusCode;
use reqwest::header;

use crate::config::{ServeBackend, Settings};
use crate::deploy::{NOSNIFF, SANDBOX_CSP};
use crate::state::AppState;

use super::diagnosis::{diagnose, exposed_message, security_headers_fix};
use super::exposure::exposure_candidates;
use super::probe::{self, Created, Probe};
use super::site::Site;
use super::{Line, Options, PROBE_NAME, report};

/// Runs every check, reporting each line; stops early when the site does not answer.
pub(super) async fn checks(
    state: &AppState,
    opts: &Options,
    site: &Site,
    created: &mut Created,
    lines: &mut Vec<Line>,
) -> anyhow::Result<()> {
    if !site_answers(state, site, lines).await {
        return Ok(());
    }

    let (who, token) = probe::authorised_user(state, opts, created).await?;
    let (file_key, file_id, bytes) = probe::write_probe(state, &who, created).await?;
    let thumb_key = probe::write_thumbnail(state, file_id).await?;
    report(
        lines,
        Line::ok(format!(
            "probe {PROBE_NAME:?} written to private storage (as {})",
            who.username
        )),
    );

    let probes = probe::probes(state, &file_key, &thumb_key, &bytes);
    for probe in &probes {
        authorised_download(site, probe, &token, lines).await;
    }
    stable_url(site, file_id, &bytes, &token, lines).await;
    for probe in &probes {
        refused_anonymously(site, probe, lines).await;
    }
    for probe in &probes {
        not_exposed(&state.settings, site, probe, lines).await;
    }
    Ok(())
}

/// `GET /login` reaches Coffer's login page.
async fn site_answers(state: &AppState, site: &Site, lines: &mut Vec<Line>) -> bool {
    let check = format!("{} answers", site.base);
    match site.get("/login", None, &[]).await {
        Ok(got) if got.status == StatusCode::OK => {
            report(lines, Line::ok(check));
            true
        }
        Ok(got) => {
            report(
                lines,
                Line::fail(
                    check,
                    format!(
                        "GET /login answered {} instead of Coffer's login page: the site must proxy to Coffer at {}",
                        got.status, state.settings.bind
                    ),
                ),
            );
            false
        }
        Err(e) => {
            report(lines, Line::fail(check, format!("cannot reach it: {e}")));
            false
        }
    }
}

/// The authorised user gets the probe's bytes, its name, the security headers and Range.
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
    engine_hidden(probe, &got, lines);
    head_answers(site, probe, token, lines).await;

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
        let fix = security_headers_fix(&probe.backend);
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

/// A HEAD of the probe answers its length and no body (an engine refuses a HEAD that
/// carries a GET's signature, so `nginx-s3` and `s3-redirect` must sign for HEAD).
async fn head_answers(site: &Site, probe: &Probe, token: &str, lines: &mut Vec<Line>) {
    let check = format!("{} answers HEAD", probe.what);
    match site.head(&probe.path, Some(token)).await {
        Ok(got) if matches!(got.status, StatusCode::OK | StatusCode::FOUND) => {
            let length = got
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            if got.status == StatusCode::FOUND || length == Some(probe.bytes.len()) {
                report(lines, Line::ok(check));
            } else {
                report(
                    lines,
                    Line::fail(
                        check,
                        format!(
                            "Content-Length {length:?}; expected {} (the probe's length)",
                            probe.bytes.len()
                        ),
                    ),
                );
            }
        }
        Ok(got) => report(
            lines,
            Line::fail(
                check,
                format!(
                    "HEAD {} answered {}; expected 200 as for GET{}",
                    probe.path,
                    got.status,
                    if matches!(probe.backend, ServeBackend::NginxS3 { .. }) {
                        " (nginx must pass the HEAD on to the engine: no proxy_method in the \
                         internal location)"
                    } else {
                        ""
                    }
                ),
            ),
        ),
        Err(e) => report(lines, Line::fail(check, e)),
    }
}

/// Nothing of the object store reaches the client through `nginx-s3`: none of its headers,
/// no presigned URL.
fn engine_hidden(probe: &Probe, got: &super::site::Got, lines: &mut Vec<Line>) {
    let ServeBackend::NginxS3 { location, .. } = &probe.backend else {
        return;
    };
    let check = format!("{} shows nothing of the object store", probe.what);
    let leaked = got.headers.iter().find(|(name, value)| {
        let name = name.as_str();
        name.starts_with("x-amz-")
            || name.starts_with("x-seaweedfs")
            || name.starts_with("x-minio")
            || name.starts_with("x-rgw")
            || name == "x-accel-redirect"
            || value
                .to_str()
                .is_ok_and(|v| v.contains("X-Amz-Signature") || v.contains("X-Amz-Credential"))
    });
    match leaked {
        None => report(lines, Line::ok(check)),
        Some((name, _)) => report(
            lines,
            Line::fail(
                check,
                format!(
                    "the engine's {name} header reached the client. Fix: `proxy_hide_header \
                     {name};` in `location {location}` (as `coffer nginx-config` prints)"
                ),
            ),
        ),
    }
}

/// `/files/<id>/<any name>` downloads the probe file.
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

/// The probe's own URL answers 404 to a request without credentials.
async fn refused_anonymously(site: &Site, probe: &Probe, lines: &mut Vec<Line>) {
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

/// Every URL of [`exposure_candidates`] answers 404.
async fn not_exposed(s: &Settings, site: &Site, probe: &Probe, lines: &mut Vec<Line>) {
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

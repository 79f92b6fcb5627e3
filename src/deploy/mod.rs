//! Putting Coffer behind a web server: configuration generators for nginx, Apache, lighttpd
//! and Caddy (`coffer nginx-config` …), and `coffer doctor`, which checks a running site
//! from the outside.
//!
//! Every generated configuration follows the same plan, read from the current settings:
//! public storages served straight from disk (sandboxed, hidden names refused, active types
//! as attachments), private storages never served from disk except through the internal
//! location or X-Sendfile path the configured backend names, everything else proxied to
//! Coffer, and an upload limit matching Coffer's.

pub mod apache;
pub mod caddy;
pub mod doctor;
pub mod lighttpd;
pub mod nginx;
mod quote;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::config::{ServeBackend, Settings};

/// `X-Content-Type-Options` on every user file.
pub const NOSNIFF: &str = "nosniff";
/// `Content-Security-Policy` on every user file.
pub const SANDBOX_CSP: &str = "default-src 'none'; sandbox";

/// File extensions a web server may show inline from a public storage (the types of
/// `storage::sniff::is_inline_safe`); every other public file goes out as an attachment.
pub const INLINE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "avif", "tif", "tiff", "ico", "pdf", "txt", "csv",
    "mp3", "m4a", "aac", "oga", "ogg", "opus", "wav", "flac", "weba", "mp4", "m4v", "webm", "ogv",
    "mov",
];

/// Extra request body a server allows above `max_upload_size`, for the multipart framing
/// and the form's other fields; Coffer enforces the exact limit itself.
pub const UPLOAD_SLACK: u64 = 64 * 1024;

/// A configuration that cannot be written for these settings.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{what} {value:?} cannot be written in a {server} configuration: {why}")]
    Unrepresentable {
        server: &'static str,
        what: String,
        value: String,
        why: &'static str,
    },
    #[error("{0} is \"nginx-s3\" but no [object_store] is configured")]
    NoObjectStore(&'static str),
    #[error("--listen {0:?}: expected PORT or ADDRESS:PORT")]
    Listen(String),
    #[error("--upstream {0:?}: expected HOST:PORT (a name, an IPv4 address or [IPv6], and a port)")]
    Upstream(String),
}

/// Where the generated server listens and what it calls itself.
#[derive(Clone, Debug)]
pub struct Site {
    /// Address to bind (`None`: every address).
    pub address: Option<IpAddr>,
    pub port: u16,
    /// Host name (`None`: any).
    pub server_name: Option<String>,
    /// The Coffer instances behind the web server (`HOST:PORT`); empty: this one (`bind`).
    pub upstreams: Vec<String>,
}

impl Site {
    /// With the instances `upstreams` (`HOST:PORT` each) behind the web server.
    pub fn with_upstreams(mut self, upstreams: &[String]) -> Result<Self, GenerateError> {
        self.upstreams = upstreams
            .iter()
            .map(|u| valid_upstream(u).ok_or_else(|| GenerateError::Upstream(u.clone())))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Parses `PORT`, `ADDRESS:PORT` or `[IPv6]:PORT`.
    pub fn parse(listen: &str, server_name: Option<String>) -> Result<Self, GenerateError> {
        if let Ok(port) = listen.parse::<u16>() {
            return Ok(Self {
                address: None,
                port,
                server_name,
                upstreams: Vec::new(),
            });
        }
        let addr: SocketAddr = listen
            .parse()
            .map_err(|_| GenerateError::Listen(listen.to_owned()))?;
        Ok(Self {
            address: Some(addr.ip()),
            port: addr.port(),
            server_name,
            upstreams: Vec::new(),
        })
    }
}

/// `HOST:PORT` as a web server may be told it: an IP address (IPv6 in brackets) or a host
/// name of letters, digits, `-` and `.`, and a port from 1.
fn valid_upstream(u: &str) -> Option<String> {
    if let Ok(addr) = u.parse::<SocketAddr>() {
        return (addr.port() != 0).then(|| addr.to_string());
    }
    let (host, port) = u.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    (host.len() <= 253 && host.split('.').all(label_ok)).then(|| format!("{host}:{port}"))
}

/// A public storage served from disk.
#[derive(Clone, Debug)]
pub struct PublicMount {
    /// URL prefix, starting and ending with `/`.
    pub url: String,
    /// Directory, ending with `/`.
    pub dir: String,
}

/// A private storage and how its bytes leave.
#[derive(Clone, Debug)]
pub struct PrivateMount {
    /// `storage.private` or `storage.private_thumbnails`.
    pub name: &'static str,
    /// The setting that chose the backend.
    pub setting: &'static str,
    pub backend: ServeBackend,
    /// Directory, ending with `/`.
    pub dir: String,
}

/// The object store as the web server reaches it (`nginx-s3`): where to proxy presigned
/// GETs, and the `Host` they were signed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    /// `http` or `https`.
    pub scheme: String,
    /// `host:port` nginx connects to (the port always given).
    pub address: String,
    /// The `Host` a presigned URL is signed for.
    pub host: String,
    /// The name TLS must verify (the host without its port).
    pub tls_name: String,
}

impl Engine {
    fn of(bucket: &crate::storage::BucketSettings) -> Option<Self> {
        let url = url::Url::parse(&bucket.endpoint).ok()?;
        let host = url.host_str()?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let (tls_name, host) = if bucket.path_style {
            (host.to_owned(), authority)
        } else {
            (
                format!("{}.{host}", bucket.bucket),
                format!("{}.{authority}", bucket.bucket),
            )
        };
        Some(Self {
            scheme: url.scheme().to_owned(),
            address: format!("{tls_name}:{}", url.port_or_known_default()?),
            host,
            tls_name,
        })
    }
}

/// What every generator needs from the settings.
#[derive(Clone, Debug)]
pub struct Plan {
    pub public: Vec<PublicMount>,
    pub private: Vec<PrivateMount>,
    /// The object store, when a storage lives in one.
    pub engine: Option<Engine>,
    /// Where Coffer listens (an unspecified address becomes loopback).
    pub upstream: SocketAddr,
    /// Largest request body the server lets through.
    pub max_body: u64,
}

fn with_slash(path: &std::path::Path) -> String {
    let mut s = path.display().to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

impl Plan {
    /// Reads the plan from validated settings.
    pub fn new(settings: &Settings) -> Self {
        let public = [&settings.public, &settings.public_thumbnails]
            .into_iter()
            // Public objects in a bucket are streamed by Coffer (`location /`).
            .filter(|s| s.base_url.starts_with('/') && s.prefix.is_none())
            .map(|s| PublicMount {
                url: s.base_url.clone(),
                dir: with_slash(&real(&s.dir)),
            })
            .collect();
        let private = vec![
            PrivateMount {
                name: "storage.private",
                setting: "server.private",
                backend: settings.serve_private.clone(),
                dir: with_slash(&real(&settings.private.dir)),
            },
            PrivateMount {
                name: "storage.private_thumbnails",
                setting: "server.private_thumbnails",
                backend: settings.serve_private_thumbnails.clone(),
                dir: with_slash(&real(&settings.private_thumbnails.dir)),
            },
        ];
        let mut upstream = settings.bind;
        if upstream.ip().is_unspecified() {
            upstream.set_ip(match upstream.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        Self {
            public,
            private,
            engine: settings.object_store.as_ref().and_then(Engine::of),
            upstream,
            max_body: settings.max_upload_size.saturating_add(UPLOAD_SLACK),
        }
    }

    /// Private storages whose backend is one of `names`.
    pub fn offloaded_by<'a>(
        &'a self,
        names: &'a [&'static str],
    ) -> impl Iterator<Item = &'a PrivateMount> + 'a {
        self.private
            .iter()
            .filter(move |m| names.contains(&m.backend.name()))
    }

    /// Comment lines for private storages this server will not send: Coffer streams them
    /// (default backend), or the setting names another server, which is most likely a
    /// mistake; the caller also warns on standard error.
    pub fn notes(&self, server_names: &[&'static str]) -> Vec<String> {
        self.private
            .iter()
            .filter(|m| !server_names.contains(&m.backend.name()))
            .map(|m| match m.backend {
                ServeBackend::Default => format!(
                    "{} uses the default backend: Coffer sends these bytes itself.",
                    m.setting
                ),
                ServeBackend::S3Redirect { .. } => format!(
                    "{} uses the s3-redirect backend: clients fetch these bytes from the \
                     object store through presigned URLs.",
                    m.setting
                ),
                ref other => format!(
                    "WARNING: {} uses the {} backend, which this server does not understand; \
                     set backend = \"{}\" there.",
                    m.setting,
                    other.name(),
                    server_names[0]
                ),
            })
            .collect()
    }
}

/// Storage directories are canonical once opened (links resolved); configurations use the
/// same form, since X-Sendfile paths are compared against them as text.
fn real(dir: &std::path::Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// The web servers Coffer writes configurations for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Nginx,
    Apache,
    Lighttpd,
    Caddy,
}

impl Server {
    /// The backend name that belongs to this server.
    pub fn backend(self) -> &'static str {
        self.backends()[0]
    }

    /// The backend names this server's configuration answers.
    pub fn backends(self) -> &'static [&'static str] {
        match self {
            Server::Nginx => &["nginx", "nginx-s3"],
            Server::Apache => &["apache"],
            Server::Lighttpd => &["lighttpd"],
            Server::Caddy => &["caddy"],
        }
    }
}

/// Renders `server`'s configuration for `settings`, with warnings about settings that do
/// not fit it (a private storage whose backend belongs to another server).
pub fn render(
    server: Server,
    settings: &Settings,
    site: &Site,
) -> anyhow::Result<(String, Vec<String>)> {
    let plan = Plan::new(settings);
    let warnings = plan
        .notes(server.backends())
        .into_iter()
        .filter(|n| n.starts_with("WARNING: "))
        .map(|n| n.trim_start_matches("WARNING: ").to_owned())
        .collect();
    let text = match server {
        Server::Nginx => nginx::render(&plan, site)?,
        Server::Apache => {
            apache::check_unescape(&plan).map_err(anyhow::Error::msg)?;
            apache::render(&plan, site)?
        }
        Server::Lighttpd => lighttpd::render(&plan, site)?,
        Server::Caddy => caddy::render(&plan, site)?,
    };
    Ok((text, warnings))
}

/// The regular-expression alternation of [`INLINE_EXTENSIONS`].
pub fn inline_extensions_regex() -> String {
    format!("\\.({})$", INLINE_EXTENSIONS.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        let s = Site::parse("8080", None).unwrap();
        assert_eq!((s.address, s.port), (None, 8080));
        let s = Site::parse("127.0.0.1:81", None).unwrap();
        assert_eq!(s.address, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(Site::parse("[::1]:80", None).is_ok());
        assert!(Site::parse("localhost", None).is_err());
    }

    #[test]
    fn upstreams_are_host_and_port_or_refused() {
        let site = Site::parse("80", None).unwrap();
        let ok = site
            .clone()
            .with_upstreams(&[
                "10.0.0.11:8000".into(),
                "coffer-2.internal:8000".into(),
                "[::1]:8001".into(),
            ])
            .unwrap();
        assert_eq!(
            ok.upstreams,
            ["10.0.0.11:8000", "coffer-2.internal:8000", "[::1]:8001"]
        );
        for bad in [
            "10.0.0.11",
            "host:0",
            "host:99999",
            "ho st:80",
            "a;b:80",
            "-bad:80",
            "x:80 down",
            "$host:80",
            ":80",
        ] {
            assert!(
                site.clone().with_upstreams(&[bad.into()]).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn inline_extensions_match_the_inline_rule() {
        for ext in INLINE_EXTENSIONS {
            let mime = mime_guess::from_ext(ext).first_or_octet_stream();
            assert!(
                crate::storage::sniff::is_inline_safe(mime.essence_str()),
                "{ext} → {mime}"
            );
        }
        for ext in ["html", "svg", "xml", "js", "xhtml", "bin", "json"] {
            assert!(!INLINE_EXTENSIONS.contains(&ext));
        }
    }
}

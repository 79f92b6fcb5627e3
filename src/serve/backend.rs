//! The server backend of a private storage: who sends its bytes once Coffer has checked the
//! request (Coffer itself, or the web server in front, named in a header).

/// How private bytes leave the building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeBackend {
    /// Coffer streams the bytes itself (Range, ETag, conditional requests).
    Default,
    /// `X-Accel-Redirect: <location><key>`; `location` starts and ends with `/`.
    Nginx { location: String },
    /// `X-Sendfile: <absolute path>`, percent-encoded when `unescape`.
    Apache { unescape: bool },
    /// `X-Sendfile: <percent-encoded absolute path>`.
    Lighttpd,
    /// The X-Accel-Redirect contract, honoured by Caddy's `handle_response`.
    Caddy { location: String },
    /// Object stores: a 302 to a presigned GET valid for `expires`.
    S3Redirect { expires: std::time::Duration },
    /// Object stores behind nginx: `X-Accel-Redirect: <location><signed path>?<query>`,
    /// which an internal location proxies to the engine; the presigned GET is valid for
    /// `expires`.
    NginxS3 {
        location: String,
        expires: std::time::Duration,
    },
}

impl ServeBackend {
    /// The backend's name as written in the configuration.
    pub fn name(&self) -> &'static str {
        match self {
            ServeBackend::Default => "default",
            ServeBackend::Nginx { .. } => "nginx",
            ServeBackend::Apache { .. } => "apache",
            ServeBackend::Lighttpd => "lighttpd",
            ServeBackend::Caddy { .. } => "caddy",
            ServeBackend::S3Redirect { .. } => "s3-redirect",
            ServeBackend::NginxS3 { .. } => "nginx-s3",
        }
    }

    /// The internal location the web server answers redirects at (nginx, Caddy).
    pub fn internal_location(&self) -> Option<&str> {
        match self {
            ServeBackend::Nginx { location }
            | ServeBackend::Caddy { location }
            | ServeBackend::NginxS3 { location, .. } => Some(location),
            _ => None,
        }
    }

    /// Whether the web server sends the bytes (Coffer only decides and names the file).
    pub fn offloads(&self) -> bool {
        !matches!(
            self,
            ServeBackend::Default | ServeBackend::S3Redirect { .. }
        )
    }

    /// Whether the backend can deliver from an object store.
    pub fn serves_object_stores(&self) -> bool {
        matches!(
            self,
            ServeBackend::Default | ServeBackend::S3Redirect { .. } | ServeBackend::NginxS3 { .. }
        )
    }

    /// Whether the backend can deliver from a local directory.
    pub fn serves_local_storages(&self) -> bool {
        !matches!(
            self,
            ServeBackend::S3Redirect { .. } | ServeBackend::NginxS3 { .. }
        )
    }
}

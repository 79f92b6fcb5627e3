//! `[object_store]` and the object-storage parts of `[storage.*]` and `[server.*]`: the
//! endpoint, the credentials (from the environment only), bucket prefixes that never nest,
//! and the `s3-redirect` backend's limits.

use std::time::Duration;

use super::{ConfigError, ObjectStoreConfig, ServeBackendConfig, ServersConfig, invalid};

/// Longest lifetime of a presigned URL: it is a capability nobody can revoke.
const MAX_PRESIGNED_SECS: u64 = 300;

/// `<key>.expires_secs` of a presigning backend, checked against [`MAX_PRESIGNED_SECS`].
pub(super) fn presigned_lifetime(key: &str, secs: u64) -> Result<Duration, ConfigError> {
    if !(1..=MAX_PRESIGNED_SECS).contains(&secs) {
        return Err(invalid(
            &format!("{key}.expires_secs"),
            format!("must be between 1 and {MAX_PRESIGNED_SECS}"),
        ));
    }
    Ok(Duration::from_secs(secs))
}

/// The `public_endpoint` of the `s3-redirect` backends (one host for both, if given twice).
pub(super) fn public_endpoint(server: &ServersConfig) -> Result<Option<String>, ConfigError> {
    let given: Vec<_> = [
        ("server.private.public_endpoint", &server.private),
        (
            "server.private_thumbnails.public_endpoint",
            &server.private_thumbnails,
        ),
    ]
    .into_iter()
    .filter_map(|(key, b)| match b {
        ServeBackendConfig::S3Redirect {
            public_endpoint: Some(e),
            ..
        } => Some((key, e.clone())),
        _ => None,
    })
    .collect();
    for (key, e) in &given {
        check_endpoint(e).map_err(|m| invalid(key, m))?;
    }
    match given.as_slice() {
        [] => Ok(None),
        [(_, e)] => Ok(Some(e.clone())),
        [(_, a), (key, b)] if a != b => Err(invalid(
            key,
            "both s3-redirect backends must name the same public endpoint",
        )),
        [(_, a), ..] => Ok(Some(a.clone())),
    }
}

/// An endpoint URL: http(s), a host, nothing after the path.
pub(super) fn check_endpoint(e: &str) -> Result<(), String> {
    let url = url::Url::parse(e).map_err(|err| format!("{e:?} is not a URL ({err})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{e:?} must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{e:?} must not carry credentials, a query or a fragment"
        ));
    }
    Ok(())
}

/// The bucket's settings: `[object_store]` and the credentials from the environment.
pub(super) fn bucket_settings(
    cfg: &ObjectStoreConfig,
    public_endpoint: Option<String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<crate::storage::BucketSettings, ConfigError> {
    check_endpoint(&cfg.endpoint).map_err(|m| invalid("object_store.endpoint", m))?;
    let http = |e: &str| e.starts_with("http://");
    if !cfg.allow_http && (http(&cfg.endpoint) || public_endpoint.as_deref().is_some_and(http)) {
        return Err(invalid(
            "object_store.allow_http",
            "the endpoint is http://; set allow_http = true (loopback and tests only)",
        ));
    }
    if cfg.bucket.is_empty() {
        return Err(invalid("object_store.bucket", "must not be empty"));
    }
    let env = |names: [&str; 2]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
    let access_key_id = env(["COFFER_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"]).ok_or_else(|| {
        invalid(
            "object_store",
            "set COFFER_S3_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID) in the environment",
        )
    })?;
    let secret_access_key = env(["COFFER_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"])
        .ok_or_else(|| {
            invalid(
                "object_store",
                "set COFFER_S3_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY) in the environment",
            )
        })?;
    Ok(crate::storage::BucketSettings {
        endpoint: cfg.endpoint.trim_end_matches('/').to_owned(),
        region: cfg.region.clone(),
        bucket: cfg.bucket.clone(),
        path_style: cfg.path_style,
        allow_http: cfg.allow_http,
        public_endpoint: public_endpoint.map(|e| e.trim_end_matches('/').to_owned()),
        access_key_id,
        secret_access_key,
    })
}

/// A bucket prefix: key segments each ending in `/` (`private/`, `coffer/thumbs/`).
pub(super) fn check_prefix(prefix: &str) -> Result<String, String> {
    let Some(body) = prefix.strip_suffix('/') else {
        return Err(format!("{prefix:?} must end with '/'"));
    };
    crate::storage::StorageKey::parse(body)
        .map_err(|_| format!("{prefix:?}: use letters, digits, '.', '_', '-' and '/' only"))?;
    Ok(prefix.to_owned())
}

/// No two object storages may share or nest prefixes (and so a private object is never
/// under a public prefix, where a bucket policy may let anyone read it).
pub(super) fn check_prefix_layout(
    prefixes: &[(&str, &Option<String>, bool)],
) -> Result<(), ConfigError> {
    for (i, (key_a, a, private_a)) in prefixes.iter().enumerate() {
        for (key_b, b, private_b) in &prefixes[i + 1..] {
            let (Some(a), Some(b)) = (a, b) else {
                continue;
            };
            if a.starts_with(b.as_str()) || b.starts_with(a.as_str()) {
                let what = if private_a != private_b {
                    "a private storage's prefix must not be inside, contain or equal a public one's"
                } else {
                    "storages must not share or nest prefixes"
                };
                return Err(invalid(key_a, format!("{what} ({key_b})")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigFile, Settings, StorageKind};
    use super::*;

    fn store() -> ObjectStoreConfig {
        ObjectStoreConfig {
            endpoint: "https://s3.internal:9000".into(),
            region: "us-east-1".into(),
            bucket: "coffer".into(),
            path_style: true,
            allow_http: false,
        }
    }

    fn credentials(name: &str) -> Option<String> {
        match name {
            "COFFER_S3_ACCESS_KEY_ID" => Some("key".into()),
            "COFFER_S3_SECRET_ACCESS_KEY" => Some("secret".into()),
            _ => None,
        }
    }

    #[test]
    fn credentials_come_from_the_environment_with_the_aws_names_as_fallback() {
        let s = bucket_settings(&store(), None, credentials).unwrap();
        assert_eq!(
            (s.access_key_id.as_str(), s.secret_access_key.as_str()),
            ("key", "secret")
        );
        let aws = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("aws-key".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("aws-secret".into()),
            _ => None,
        };
        let s = bucket_settings(&store(), None, aws).unwrap();
        assert_eq!(s.access_key_id, "aws-key");
        let err = bucket_settings(&store(), None, |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("COFFER_S3_ACCESS_KEY_ID"), "{err}");
        // Never shown by Debug (logs, panics).
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("aws-secret") && !shown.contains("aws-key"),
            "{shown}"
        );
    }

    #[test]
    fn http_endpoints_need_allow_http_and_urls_must_be_plain() {
        let mut cfg = store();
        cfg.endpoint = "http://127.0.0.1:8333".into();
        let err = bucket_settings(&cfg, None, credentials)
            .unwrap_err()
            .to_string();
        assert!(err.contains("allow_http"), "{err}");
        cfg.allow_http = true;
        assert!(bucket_settings(&cfg, None, credentials).is_ok());
        for bad in [
            "ftp://s3",
            "https://user:pw@s3",
            "https://s3/?x=1",
            "s3.internal",
        ] {
            cfg.endpoint = bad.into();
            assert!(bucket_settings(&cfg, None, credentials).is_err(), "{bad}");
        }
        let err = bucket_settings(&store(), Some("http://files".into()), credentials)
            .unwrap_err()
            .to_string();
        assert!(err.contains("allow_http"), "{err}");
    }

    #[test]
    fn prefixes_end_with_a_slash_and_hold_key_characters_only() {
        assert_eq!(check_prefix("private/").unwrap(), "private/");
        assert_eq!(check_prefix("a/b-c/").unwrap(), "a/b-c/");
        for bad in [
            "private",
            "/private/",
            "../x/",
            "a//",
            "",
            "/",
            "sp ace/",
            ".hidden/",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_never_nest_and_a_private_one_never_under_a_public_one() {
        let p = |s: &str| Some(s.to_owned());
        let (public, private, thumbs) = (p("media/"), p("media/private/"), p("thumbs/"));
        let err = check_prefix_layout(&[
            ("storage.public.prefix", &public, false),
            ("storage.private.prefix", &private, true),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("private storage's prefix"), "{err}");
        let err = check_prefix_layout(&[
            ("storage.public.prefix", &thumbs, false),
            ("storage.public_thumbnails.prefix", &thumbs, false),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("share or nest"), "{err}");
        assert!(
            check_prefix_layout(&[
                ("storage.public.prefix", &public, false),
                ("storage.public_thumbnails.prefix", &thumbs, false),
                ("storage.private.prefix", &p("private/"), true),
                ("storage.private_thumbnails.prefix", &None, true),
            ])
            .is_ok()
        );
    }

    fn on_s3() -> ConfigFile {
        let mut raw = ConfigFile {
            data_dir: "/tmp/coffer-config-test".into(),
            object_store: Some(store()),
            ..ConfigFile::default()
        };
        raw.storage.private.kind = StorageKind::S3;
        raw.storage.private.prefix = Some("private/".into());
        raw
    }

    #[test]
    fn a_storage_of_kind_s3_needs_the_object_store_and_a_prefix() {
        let mut raw = on_s3();
        raw.object_store = None;
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(
            err.contains("storage.private.kind") && err.contains("[object_store]"),
            "{err}"
        );
        let mut raw = on_s3();
        raw.storage.private.prefix = None;
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("storage.private.prefix"), "{err}");
        let mut raw = on_s3();
        raw.storage.public.prefix = Some("public/".into());
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(
            err.contains("storage.public.prefix") && err.contains("only"),
            "{err}"
        );
    }

    #[test]
    fn backends_match_the_kind_of_their_storage() {
        let mut raw = on_s3();
        raw.server.private = ServeBackendConfig::Nginx { location: None };
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("server.private.backend"), "{err}");
        let mut raw = on_s3();
        raw.server.private_thumbnails = ServeBackendConfig::S3Redirect {
            expires_secs: 30,
            public_endpoint: None,
        };
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("server.private_thumbnails.backend"), "{err}");
        let mut raw = ConfigFile {
            data_dir: "/tmp/coffer-config-test".into(),
            ..ConfigFile::default()
        };
        raw.server.private = ServeBackendConfig::NginxS3 {
            location: None,
            expires_secs: 30,
        };
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains("nginx-s3") && err.contains("kind"), "{err}");
        let mut raw = on_s3();
        raw.server.private = ServeBackendConfig::NginxS3 {
            location: Some("/_s3/".into()),
            expires_secs: 30,
        };
        let s = Settings::from_file_with_env(raw, credentials).unwrap();
        assert_eq!(s.serve_private.internal_location(), Some("/_s3/"));
        for secs in [0, 301] {
            let mut raw = on_s3();
            raw.server.private = ServeBackendConfig::S3Redirect {
                expires_secs: secs,
                public_endpoint: None,
            };
            let err = Settings::from_file(raw).unwrap_err().to_string();
            assert!(err.contains("server.private.expires_secs"), "{secs}: {err}");
        }
    }

    #[test]
    fn the_configuration_file_spells_it_as_documented() {
        let raw: ConfigFile = toml::from_str(
            r#"
            [object_store]
            endpoint = "https://s3.internal:9000"
            region = "us-east-1"
            bucket = "coffer"
            path_style = true
            allow_http = false

            [storage.private]
            kind = "s3"
            prefix = "private/"
            base_url = "/private/files/"

            [server.private]
            backend = "s3-redirect"
            expires_secs = 30
            public_endpoint = "https://files-s3.example.org"
            "#,
        )
        .unwrap();
        assert_eq!(raw.storage.private.kind, StorageKind::S3);
        assert_eq!(
            raw.server.private,
            ServeBackendConfig::S3Redirect {
                expires_secs: 30,
                public_endpoint: Some("https://files-s3.example.org".into())
            }
        );
        assert_eq!(raw.object_store.unwrap().bucket, "coffer");
    }
}

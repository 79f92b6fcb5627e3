//! The configuration's layers and checks.

use super::*;

#[test]
fn header_names_are_what_http_takes() {
    let mut names: Vec<String> = (0u8..=255).map(|b| format!("X-{}", b as char)).collect();
    names.extend(["", "X-Forwarded-For", "x real ip", "Ünïcode"].map(String::from));
    names.push("a".repeat(0xFFFF));
    names.push("a".repeat(0x10000));
    for name in names {
        assert_eq!(
            is_header_name(&name),
            actix_web::http::header::HeaderName::try_from(name.as_str()).is_ok(),
            "{name:?}"
        );
    }
}

fn base() -> ConfigFile {
    ConfigFile {
        data_dir: PathBuf::from("/tmp/coffer-config-test"),
        ..ConfigFile::default()
    }
}

#[test]
fn defaults_validate() {
    let s = Settings::from_file(base()).unwrap();
    assert!(s.enable_permissions);
    assert!(!s.is_public_default);
    assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
    assert_eq!(
        s.private.dir,
        PathBuf::from("/tmp/coffer-config-test/private")
    );
    assert!(matches!(s.database, Backend::Sqlite(ref p) if p.ends_with("coffer.sqlite3")));
}

#[test]
fn private_inside_public_is_refused() {
    let mut raw = base();
    raw.storage.public.dir = Some("/srv/media".into());
    raw.storage.private.dir = Some("/srv/media/private".into());
    let err = Settings::from_file(raw).unwrap_err().to_string();
    assert!(err.contains("storage.public.dir"), "{err}");
    assert!(err.contains("private storage must not be inside"), "{err}");
}

#[test]
fn equal_storages_are_refused() {
    let mut raw = base();
    raw.storage.public_thumbnails.dir = Some("/srv/x".into());
    raw.storage.private_thumbnails.dir = Some("/srv/x".into());
    assert!(Settings::from_file(raw).is_err());
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let err = Figment::from(Serialized::defaults(ConfigFile::default()))
        .merge(Toml::string("[database]\nurll = \"x\"\n"))
        .extract::<ConfigFile>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("urll"), "{err}");
}

#[test]
fn server_backends_parse_and_refuse_stray_keys() {
    let parse = |toml: &str| {
        Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::string(toml))
            .extract::<ConfigFile>()
            .map_err(|e| e.to_string())
            .and_then(|mut raw| {
                raw.data_dir = PathBuf::from("/tmp/coffer-config-test");
                Settings::from_file(raw).map_err(|e| e.to_string())
            })
    };
    let s = parse("[server.private]\nbackend = \"nginx\"\n[server.private_thumbnails]\nbackend = \"apache\"\nunescape = true\n").unwrap();
    assert_eq!(
        s.serve_private,
        ServeBackend::Nginx {
            location: "/_coffer/private/".into()
        }
    );
    assert_eq!(
        s.serve_private_thumbnails,
        ServeBackend::Apache { unescape: true }
    );
    let s = parse("[server.private]\nbackend = \"caddy\"\nlocation = \"/_int\"\n").unwrap();
    assert_eq!(s.serve_private.internal_location(), Some("/_int/"));
    for (toml, needle) in [
        (
            "[server.private]\nbackend = \"lighttpd\"\nunescape = true\n",
            "unescape",
        ),
        (
            "[server.private]\nbackend = \"default\"\nlocation = \"/x/\"\n",
            "location",
        ),
        ("[server.private]\nbackend = \"apache\"\n", "unescape"),
        ("[server.private]\nbackend = \"iis\"\n", "iis"),
        (
            "[server.private]\nbackend = \"nginx\"\nlocation = \"/private/files/x/\"\n",
            "server.private.location",
        ),
        (
            "[server.private]\nbackend = \"nginx\"\nlocation = \"/media/\"\n",
            "server.private.location",
        ),
        (
            "[server.private]\nbackend = \"nginx\"\nlocation = \"/i/\"\n[server.private_thumbnails]\nbackend = \"nginx\"\nlocation = \"/i/t/\"\n",
            "server.private",
        ),
    ] {
        let err = parse(toml).unwrap_err();
        assert!(err.contains(needle), "{toml}: {err}");
    }
}

#[test]
fn request_timeouts_default_parse_and_refuse_zero() {
    let parse = |toml: &str| {
        Figment::from(Serialized::defaults(ConfigFile::default()))
            .merge(Toml::string(toml))
            .extract::<ConfigFile>()
            .map_err(|e| e.to_string())
            .and_then(|mut raw| {
                raw.data_dir = PathBuf::from("/tmp/coffer-config-test");
                Settings::from_file(raw).map_err(|e| e.to_string())
            })
    };
    let s = parse("").unwrap();
    assert_eq!(s.header_timeout, std::time::Duration::from_secs(10));
    assert_eq!(s.body_idle_timeout, std::time::Duration::from_secs(60));
    let s = parse("[server]\nheader_timeout_secs = 3\nbody_idle_timeout_secs = 7\n").unwrap();
    assert_eq!(s.header_timeout, std::time::Duration::from_secs(3));
    assert_eq!(s.body_idle_timeout, std::time::Duration::from_secs(7));
    for key in ["header_timeout_secs", "body_idle_timeout_secs"] {
        for value in ["0", "3601"] {
            let err = parse(&format!("[server]\n{key} = {value}\n")).unwrap_err();
            assert!(err.contains(&format!("server.{key}")), "{err}");
        }
    }
}

#[test]
fn env_names_map_to_keys() {
    assert_eq!(env_key("database_url"), "database.url");
    assert_eq!(env_key("storage__private__dir"), "storage.private.dir");
    assert_eq!(env_key("session_cookie_secure"), "session.cookie_secure");
    assert_eq!(env_key("enable_permissions"), "enable_permissions");
}

#[test]
fn thumbnail_presets_and_image_limits_are_validated() {
    let preset = |width, height, crop| PresetConfig {
        width,
        height,
        crop,
        upscale: false,
        quality: 85,
        format: crate::images::OutputFormat::Auto,
        eager: false,
    };
    let mut raw = base();
    raw.thumbnails
        .presets
        .insert("banner".into(), preset(1200, 400, true));
    let s = Settings::from_file(raw).unwrap();
    assert_eq!(s.thumbnails.presets.len(), 7);
    assert_eq!(s.thumbnails.preset("banner").map(|p| p.width), Some(1200));
    assert_eq!(s.images.max_pixels, 100_000_000);
    for (name, p, needle) in [
        ("icon-40", preset(10, 10, false), "built-in"),
        ("Big", preset(10, 10, false), "lower-case"),
        ("zero", preset(0, 0, false), "both be 0"),
        ("half", preset(100, 0, true), "crop needs both"),
    ] {
        let mut raw = base();
        raw.thumbnails.presets.insert(name.into(), p);
        let err = Settings::from_file(raw).unwrap_err().to_string();
        assert!(err.contains(&format!("thumbnails.presets.{name}")), "{err}");
        assert!(err.contains(needle), "{err}");
    }
    let mut raw = base();
    raw.thumbnails.time_limit_secs = Some(0.0);
    assert!(
        Settings::from_file(raw)
            .unwrap_err()
            .to_string()
            .contains("time_limit_secs")
    );
    let mut raw = base();
    raw.images.max_pixels = 0;
    assert!(
        Settings::from_file(raw)
            .unwrap_err()
            .to_string()
            .contains("images.max_pixels")
    );
    let from_toml: ConfigFile = Figment::from(Serialized::defaults(ConfigFile::default()))
        .merge(Toml::string(
            "[images]\nmax_decode_memory = \"64 MiB\"\n[thumbnails.presets.wide]\nwidth = 800\nformat = \"webp\"\n",
        ))
        .extract()
        .unwrap();
    assert_eq!(
        from_toml.images.max_decode_memory.as_u64(),
        64 * 1024 * 1024
    );
    assert_eq!(from_toml.thumbnails.presets["wide"].quality, 85);
}

#[test]
fn base_urls_are_checked() {
    assert_eq!(check_base_url("/media", true).unwrap(), "/media/");
    assert!(check_base_url("https://cdn.example/m/", true).is_ok());
    assert!(check_base_url("https://cdn.example/m/", false).is_err());
    assert!(check_base_url("media/", true).is_err());
    assert!(check_base_url("/", false).is_err());
    let mut raw = base();
    raw.storage.private.base_url = "/files/".into();
    let err = Settings::from_file(raw).unwrap_err().to_string();
    assert!(err.contains("storage.private.base_url"), "{err}");
}

#[test]
fn max_folder_depth_defaults_to_64_and_must_be_positive() {
    let s = Settings::from_file(base()).unwrap();
    assert_eq!(s.max_folder_depth, 64);
    assert!(s.redacted_toml().contains("max_folder_depth = 64"));
    let mut raw = base();
    raw.max_folder_depth = 0;
    let err = Settings::from_file(raw).unwrap_err().to_string();
    assert!(err.contains("max_folder_depth"), "{err}");
    let from_toml: ConfigFile = Figment::from(Serialized::defaults(ConfigFile::default()))
        .merge(Toml::string("max_folder_depth = 200\n"))
        .extract()
        .unwrap();
    assert_eq!(from_toml.max_folder_depth, 200);
}

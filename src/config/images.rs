//! The `[images]` and `[thumbnails]` tables: decoding limits and thumbnail presets.

use super::{ConfigError, ImagesConfig, ThumbnailSettings, ThumbnailsConfig, invalid};

pub(super) fn images_limits(cfg: &ImagesConfig) -> Result<crate::images::Limits, ConfigError> {
    if cfg.max_width == 0 {
        return Err(invalid("images.max_width", "must be at least 1"));
    }
    if cfg.max_height == 0 {
        return Err(invalid("images.max_height", "must be at least 1"));
    }
    if cfg.max_pixels == 0 {
        return Err(invalid("images.max_pixels", "must be at least 1"));
    }
    if cfg.max_decode_memory.as_u64() < 1024 * 1024 {
        return Err(invalid(
            "images.max_decode_memory",
            "must be at least 1 MiB",
        ));
    }
    Ok(crate::images::Limits {
        max_width: cfg.max_width,
        max_height: cfg.max_height,
        max_pixels: cfg.max_pixels,
        max_memory: cfg.max_decode_memory.as_u64(),
    })
}

pub(super) fn thumbnail_settings(cfg: &ThumbnailsConfig) -> Result<ThumbnailSettings, ConfigError> {
    use crate::images::Preset;
    let mut presets = Preset::admin();
    for (name, p) in &cfg.presets {
        let key = format!("thumbnails.presets.{name}");
        if !Preset::valid_name(name) {
            return Err(invalid(
                &key,
                "preset names use lower-case letters, digits and '-', and start with a letter",
            ));
        }
        if presets.iter().any(|a| &a.name == name) {
            return Err(invalid(&key, "this name belongs to a built-in preset"));
        }
        let preset = Preset {
            name: name.clone(),
            width: p.width,
            height: p.height,
            crop: p.crop,
            upscale: p.upscale,
            quality: p.quality,
            format: p.format,
            eager: p.eager,
        };
        preset.spec(None).validate().map_err(|m| invalid(&key, m))?;
        presets.push(preset);
    }
    let concurrency = match cfg.concurrency {
        Some(0) => return Err(invalid("thumbnails.concurrency", "must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let secs = cfg.time_limit_secs.unwrap_or(30.0);
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(invalid(
            "thumbnails.time_limit_secs",
            "must be more than 0 and at most 3600",
        ));
    }
    Ok(ThumbnailSettings {
        presets,
        concurrency,
        time_limit: std::time::Duration::from_secs_f64(secs),
    })
}

//! Thumbnail specs and presets. A spec is everything that decides a thumbnail's pixels; its
//! key is canonical and reversible (`ThumbnailSpec::parse(&spec.key()) == spec`) and names
//! the thumbnail object: `<source key>__<spec key>.<ext>`.
//!
//! Key grammar: `<width>x<height>` then, in this order, `_crop`, `_upscale`,
//! `_subject-<x>-<y>` (the focal point, crops only), `_q<quality>`, and `_jpeg`, `_png` or
//! `_webp` when the format is fixed (else JPEG for opaque results, PNG for transparent
//! ones). Example: `40x40_crop_q85`, `210x0_upscale_q85`.

use std::fmt;

/// The output format of a thumbnail.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// JPEG for opaque images, PNG for transparent ones.
    #[default]
    Auto,
    Jpeg,
    Png,
    /// Lossless WebP.
    Webp,
}

impl OutputFormat {
    fn suffix(self) -> Option<&'static str> {
        match self {
            Self::Auto => None,
            Self::Jpeg => Some("jpeg"),
            Self::Png => Some("png"),
            Self::Webp => Some("webp"),
        }
    }
}

/// Everything that decides a thumbnail's pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThumbnailSpec {
    /// 0 = follow the height.
    pub width: u32,
    /// 0 = follow the width.
    pub height: u32,
    pub crop: bool,
    pub upscale: bool,
    /// The focal point the crop is centred on (crops only).
    pub subject: Option<(u32, u32)>,
    /// JPEG quality, 1–100.
    pub quality: u8,
    pub format: OutputFormat,
}

/// Why a string is not a spec key.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid thumbnail spec {0:?}")]
pub struct InvalidSpec(pub String);

/// The largest side a thumbnail may have.
pub const MAX_SIDE: u32 = 4096;

impl ThumbnailSpec {
    /// The canonical key.
    pub fn key(&self) -> String {
        let mut key = format!("{}x{}", self.width, self.height);
        if self.crop {
            key.push_str("_crop");
        }
        if self.upscale {
            key.push_str("_upscale");
        }
        if let (true, Some((x, y))) = (self.crop, self.subject) {
            key.push_str(&format!("_subject-{x}-{y}"));
        }
        key.push_str(&format!("_q{}", self.quality));
        if let Some(f) = self.format.suffix() {
            key.push('_');
            key.push_str(f);
        }
        key
    }

    /// Parses a canonical key (anything else is refused).
    pub fn parse(key: &str) -> Result<Self, InvalidSpec> {
        let bad = || InvalidSpec(key.to_owned());
        let mut parts = key.split('_');
        let (w, h) = parts
            .next()
            .and_then(|s| s.split_once('x'))
            .ok_or_else(bad)?;
        let mut spec = ThumbnailSpec {
            width: w.parse().map_err(|_| bad())?,
            height: h.parse().map_err(|_| bad())?,
            crop: false,
            upscale: false,
            subject: None,
            quality: 0,
            format: OutputFormat::Auto,
        };
        for part in parts {
            match part {
                "crop" => spec.crop = true,
                "upscale" => spec.upscale = true,
                "jpeg" => spec.format = OutputFormat::Jpeg,
                "png" => spec.format = OutputFormat::Png,
                "webp" => spec.format = OutputFormat::Webp,
                p if p.starts_with("subject-") => {
                    let (x, y) = p["subject-".len()..].split_once('-').ok_or_else(bad)?;
                    spec.subject =
                        Some((x.parse().map_err(|_| bad())?, y.parse().map_err(|_| bad())?));
                }
                p if p.starts_with('q') => spec.quality = p[1..].parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            }
        }
        spec.validate().map_err(|_| bad())?;
        // Canonical form only: one key per spec.
        if spec.key() != key {
            return Err(bad());
        }
        Ok(spec)
    }

    /// Checks the ranges (sizes up to [`MAX_SIDE`], quality 1–100, not both sides 0).
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 && self.height == 0 {
            return Err("width and height cannot both be 0".into());
        }
        if self.width > MAX_SIDE || self.height > MAX_SIDE {
            return Err(format!("width and height must be at most {MAX_SIDE}"));
        }
        if !(1..=100).contains(&self.quality) {
            return Err("quality must be between 1 and 100".into());
        }
        if self.crop && (self.width == 0 || self.height == 0) {
            return Err("a crop needs both width and height".into());
        }
        Ok(())
    }
}

impl fmt::Display for ThumbnailSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A named thumbnail size. Crops follow the image's focal point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub crop: bool,
    pub upscale: bool,
    pub quality: u8,
    pub format: OutputFormat,
    /// Made right after upload (the admin's own sizes); others are made on first request.
    pub eager: bool,
}

/// Default JPEG quality of presets (easy-thumbnails' default).
pub const DEFAULT_QUALITY: u8 = 85;

impl Preset {
    /// The admin's presets: square icons for listings and the detail preview with its 2×.
    pub fn admin() -> Vec<Preset> {
        let icon = |n: u32| Preset {
            name: format!("icon-{n}"),
            width: n,
            height: n,
            crop: true,
            upscale: false,
            quality: DEFAULT_QUALITY,
            format: OutputFormat::Auto,
            eager: true,
        };
        let preview = |n: u32| Preset {
            name: format!("preview-{n}"),
            width: n,
            height: 0,
            crop: false,
            upscale: true,
            quality: DEFAULT_QUALITY,
            format: OutputFormat::Auto,
            eager: true,
        };
        vec![
            icon(40),
            icon(80),
            icon(120),
            icon(240),
            preview(210),
            preview(420),
        ]
    }

    /// The spec of this preset for an image whose focal point is `subject`.
    pub fn spec(&self, subject: Option<(u32, u32)>) -> ThumbnailSpec {
        ThumbnailSpec {
            width: self.width,
            height: self.height,
            crop: self.crop,
            upscale: self.upscale,
            subject: if self.crop { subject } else { None },
            quality: self.quality,
            format: self.format,
        }
    }

    /// The size of this preset's thumbnail of a `source`-sized image (as displayed).
    pub fn output_size(&self, source: (u32, u32)) -> (u32, u32) {
        let plan = super::geometry::plan(
            source,
            (self.width, self.height),
            self.crop,
            self.upscale,
            None,
        );
        (plan.width, plan.height)
    }

    /// Preset names: lower-case letters, digits and `-`, starting with a letter.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

/// How thumbnails are made.
#[derive(Clone, Debug)]
pub struct ThumbnailSettings {
    /// The admin's presets, then the configured ones.
    pub presets: Vec<Preset>,
    /// Jobs running at once.
    pub concurrency: usize,
    /// Time one job may take.
    pub time_limit: std::time::Duration,
}

impl ThumbnailSettings {
    /// The preset called `name`.
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_canonical_and_reversible() {
        for preset in Preset::admin() {
            for subject in [None, Some((960, 599))] {
                let spec = preset.spec(subject);
                let key = spec.key();
                assert_eq!(ThumbnailSpec::parse(&key), Ok(spec), "{key}");
                assert!(crate::storage::StorageKey::parse(&format!("a/b.jpg__{key}.jpg")).is_ok());
            }
        }
        assert_eq!(
            Preset::admin()[0].spec(Some((3, 4))).key(),
            "40x40_crop_subject-3-4_q85"
        );
        assert_eq!(
            Preset::admin()[4].spec(Some((3, 4))).key(),
            "210x0_upscale_q85"
        );
        let webp = ThumbnailSpec {
            width: 100,
            height: 50,
            crop: false,
            upscale: false,
            subject: None,
            quality: 90,
            format: OutputFormat::Webp,
        };
        assert_eq!(webp.key(), "100x50_q90_webp");
        assert_eq!(ThumbnailSpec::parse("100x50_q90_webp"), Ok(webp));
        for bad in [
            "",
            "40x40",
            "40x40_q85_crop",
            "040x40_q85",
            "40x40_crop_q0",
            "0x0_q85",
            "40x40_q85_gif",
            "40x40_crop_subject-1_q85",
            "9000x1_q85",
            "40x0_crop_q85",
            "40x40_subject-1-2_q85",
            "40x40_q85_",
            "../x_q85",
        ] {
            assert!(ThumbnailSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn output_sizes_follow_the_geometry() {
        let admin = Preset::admin();
        let (icon40, preview210) = (&admin[0], &admin[4]);
        assert_eq!(icon40.output_size((640, 480)), (40, 40));
        // Crops never enlarge: a small image gives a smaller thumbnail.
        assert_eq!(icon40.output_size((30, 20)), (30, 20));
        assert_eq!(preview210.output_size((400, 200)), (210, 105));
        // Previews do enlarge.
        assert_eq!(preview210.output_size((100, 80)), (210, 168));
    }

    #[test]
    fn preset_names() {
        assert!(Preset::valid_name("banner-2x"));
        assert!(!Preset::valid_name("2x"));
        assert!(!Preset::valid_name("Banner"));
        assert!(!Preset::valid_name("a_b"));
    }
}

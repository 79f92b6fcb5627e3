//! Images, independent of the database and HTTP: what an image is (format, size, EXIF
//! orientation and date, read from the header without decoding), decoding it under limits
//! (JPEG with DCT-domain downscaling), thumbnail specs and presets, the scale-and-crop
//! geometry with a focal point, and rendering a thumbnail.
//!
//! Safety: every decode starts from a [`Probe`] whose dimensions were checked against
//! [`Limits`]; the decoders run with an allocation cap and a deadline that is checked as the
//! input is read, and a file that ends early is refused rather than padded.

pub mod decode;
pub mod geometry;
mod guard;
pub mod probe;
pub mod render;
pub mod spec;

use std::time::Duration;

pub use decode::{Decoded, decode};
pub use probe::{Probe, probe};
pub use render::{Rendered, render};
pub use spec::{OutputFormat, Preset, ThumbnailSettings, ThumbnailSpec};

/// The raster formats Coffer reads. SVG is not among them: it is active content and is never
/// rasterised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
}

impl Format {
    /// The format of a sniffed content type, if Coffer reads it as an image.
    pub fn from_mime(mime: &str) -> Option<Self> {
        match mime.split(';').next().unwrap_or("").trim() {
            "image/jpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/gif" => Some(Self::Gif),
            "image/webp" => Some(Self::Webp),
            "image/bmp" | "image/x-ms-bmp" => Some(Self::Bmp),
            "image/tiff" => Some(Self::Tiff),
            _ => None,
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Bmp => "BMP",
            Self::Tiff => "TIFF",
        }
    }

    fn image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Gif => image::ImageFormat::Gif,
            Self::Webp => image::ImageFormat::WebP,
            Self::Bmp => image::ImageFormat::Bmp,
            Self::Tiff => image::ImageFormat::Tiff,
        }
    }
}

/// What an image may cost before Coffer refuses to decode it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    /// Bytes a single decode may allocate (pixel buffers and, for progressive JPEGs, the
    /// coefficient buffer).
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_width: 65_535,
            max_height: 65_535,
            max_pixels: 100_000_000,
            max_memory: 512 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Refuses dimensions above the limits (checked from the header, before decoding).
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), ImageError> {
        let pixels = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 {
            return Err(ImageError::Corrupt("the image has no pixels".into()));
        }
        if width > self.max_width || height > self.max_height || pixels > self.max_pixels {
            return Err(ImageError::TooLarge {
                width,
                height,
                limit: format!(
                    "{} × {} pixels and {} megapixels",
                    self.max_width,
                    self.max_height,
                    megapixels(self.max_pixels)
                ),
            });
        }
        Ok(())
    }

    /// Refuses a decode that would allocate more than `max_memory`.
    pub fn check_memory(&self, needed: u64) -> Result<(), ImageError> {
        if needed > self.max_memory {
            return Err(ImageError::TooMuchMemory {
                needed,
                limit: self.max_memory,
            });
        }
        Ok(())
    }
}

fn megapixels(pixels: u64) -> String {
    let mp = pixels as f64 / 1_000_000.0;
    if mp >= 10.0 || mp.fract() == 0.0 {
        format!("{mp:.0}")
    } else {
        format!("{mp:.1}")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Why an image could not be read or a thumbnail not made. Every variant except `Io` is a
/// property of the file: retrying will not help, so it is recorded and shown.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a readable {format} image: {reason}")]
    NotAnImage {
        format: &'static str,
        reason: String,
    },
    #[error(
        "the image is {width} × {height} pixels ({} megapixels), above the limit of {limit}",
        megapixels(u64::from(*width) * u64::from(*height))
    )]
    TooLarge {
        width: u32,
        height: u32,
        limit: String,
    },
    #[error("decoding the image would need {} of memory, above the limit of {}", mib(*needed), mib(*limit))]
    TooMuchMemory { needed: u64, limit: u64 },
    #[error("decoding the image would exceed a limit: {0}")]
    OverLimit(String),
    #[error("the image file is truncated")]
    Truncated,
    #[error("the image data is corrupt: {0}")]
    Corrupt(String),
    #[error("the image is not supported: {0}")]
    Unsupported(String),
    #[error("making the thumbnail took longer than the limit of {} s", .0.as_secs_f64())]
    TimedOut(Duration),
    #[error("reading the image failed: {0}")]
    Io(#[from] std::io::Error),
}

impl ImageError {
    /// True when the failure belongs to the file (record it); false for I/O trouble.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ImageError::Io(_))
    }

    fn from_image(format: Format, e: image::ImageError) -> Self {
        use image::ImageError as E;
        match e {
            E::Limits(l) => ImageError::OverLimit(l.to_string()),
            E::Unsupported(u) => ImageError::Unsupported(u.to_string()),
            E::Decoding(d) => ImageError::NotAnImage {
                format: format.name(),
                reason: d.to_string(),
            },
            E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                ImageError::Truncated
            }
            E::IoError(io) => ImageError::Io(io),
            other => ImageError::Corrupt(other.to_string()),
        }
    }
}

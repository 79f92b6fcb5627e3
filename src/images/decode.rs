//! Decoding under limits. The dimensions from the [`Probe`] are checked first and the memory
//! a decode needs is estimated and capped before any pixel is produced. JPEGs are decoded
//! by libjpeg-turbo's code (through `mozjpeg`) with DCT-domain downscaling: only the
//! smallest power of 1/8 that still covers the wanted size is ever materialised, so memory
//! and time follow the thumbnail rather than the photo. Other formats go through the
//! `image` crate with `image::Limits`. The orientation is *not* applied here: thumbnails are
//! rotated after resizing, when they are small.

use std::io::{BufReader, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use image::DynamicImage;

use super::guard::{Guarded, Trip};
use super::{Format, ImageError, Limits, Probe};

/// Pixels ready for resizing.
#[derive(Debug)]
pub struct Decoded {
    /// RGB8 or RGBA8, in stored orientation, possibly reduced from the stored size.
    pub pixels: DynamicImage,
    /// The stored size the pixels stand for.
    pub stored: (u32, u32),
    /// EXIF orientation to apply to the result (1–8).
    pub orientation: u8,
    /// True when some pixel is not fully opaque.
    pub transparent: bool,
}

/// When a decode has to stop.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    pub started: Instant,
    pub limit: Duration,
}

impl Deadline {
    /// A deadline `limit` from now.
    pub fn after(limit: Duration) -> Self {
        Self {
            started: Instant::now(),
            limit,
        }
    }

    /// Fails once the deadline has passed.
    pub fn check(&self) -> Result<(), ImageError> {
        if self.started.elapsed() > self.limit {
            Err(ImageError::TimedOut(self.limit))
        } else {
            Ok(())
        }
    }
}

/// Decodes `input` (whose header gave `probe`) to at least `at_least` pixels as displayed
/// (the decoder may stop at any size that covers it; `(0, 0)` = full size).
pub fn decode<R: Read + Seek>(
    input: R,
    probe: &Probe,
    at_least: (u32, u32),
    limits: &Limits,
    deadline: Deadline,
) -> Result<Decoded, ImageError> {
    limits.check_dimensions(probe.stored_width, probe.stored_height)?;
    let need = if probe.swaps_axes() {
        (at_least.1, at_least.0)
    } else {
        at_least
    };
    let pixels = match probe.format {
        Format::Jpeg => decode_jpeg(input, probe, need, limits, deadline)?,
        _ => decode_generic(input, probe, limits, deadline)?,
    };
    deadline.check()?;
    let transparent = match &pixels {
        DynamicImage::ImageRgba8(buf) => buf.pixels().any(|p| p.0[3] != 255),
        _ => false,
    };
    Ok(Decoded {
        pixels,
        stored: (probe.stored_width, probe.stored_height),
        orientation: probe.orientation,
        transparent,
    })
}

/// The size libjpeg produces for `len` scaled by `num / 8`.
fn jpeg_scaled(len: u32, num: u32) -> u32 {
    (u64::from(len) * u64::from(num)).div_ceil(8) as u32
}

/// The smallest scale `num / 8` whose output covers `need` (stored orientation).
pub fn jpeg_scale(stored: (u32, u32), need: (u32, u32)) -> u32 {
    if need == (0, 0) {
        return 8;
    }
    (1..=8)
        .find(|&n| jpeg_scaled(stored.0, n) >= need.0 && jpeg_scaled(stored.1, n) >= need.1)
        .unwrap_or(8)
}

fn decode_jpeg<R: Read + Seek>(
    input: R,
    probe: &Probe,
    need: (u32, u32),
    limits: &Limits,
    deadline: Deadline,
) -> Result<DynamicImage, ImageError> {
    let (w, h) = (probe.stored_width, probe.stored_height);
    let num = jpeg_scale((w, h), need);
    let (ow, oh) = (jpeg_scaled(w, num), jpeg_scaled(h, num));
    let channels = u64::from(probe.channels.max(1));
    // Output (RGB, plus a CMYK source buffer at worst), MCU-row buffers at full width, and
    // for progressive files the whole image's DCT coefficients (2 bytes each).
    let output = u64::from(ow) * u64::from(oh) * (3 + channels);
    let rows = u64::from(w).div_ceil(8) * 8 * 16 * channels * 2;
    let coefficients = if probe.progressive {
        u64::from(w).div_ceil(8) * u64::from(h).div_ceil(8) * 64 * 2 * channels
    } else {
        0
    };
    limits.check_memory(output + rows + coefficients)?;

    let reader = Guarded::new(
        BufReader::with_capacity(64 * 1024, input),
        deadline.started,
        deadline.limit,
        true,
    );
    let trips = reader.trips();
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let mut d = mozjpeg::Decompress::with_markers(mozjpeg::NO_MARKERS).from_reader(reader)?;
        d.scale(num as u8);
        let cmyk = matches!(
            d.color_space(),
            mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK
        );
        let mut started = if cmyk {
            d.to_colorspace(mozjpeg::ColorSpace::JCS_CMYK)?
        } else {
            d.rgb()?
        };
        let (ow, oh) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started.read_scanlines()?;
        // Reads up to the end-of-image marker: a file cut short fails here at the latest.
        started.finish()?;
        Ok::<_, std::io::Error>((ow, oh, cmyk, pixels))
    }));
    let failure = |message: String| match trips.get() {
        Some(Trip::Deadline(limit)) => ImageError::TimedOut(limit),
        Some(Trip::EndOfInput) => ImageError::Truncated,
        None => ImageError::NotAnImage {
            format: "JPEG",
            reason: message
                .trim_start_matches("libjpeg fatal error: ")
                .to_owned(),
        },
    };
    let (ow, oh, cmyk, pixels) = match outcome {
        Ok(decoded) => decoded.map_err(|e| failure(e.to_string()))?,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "decoder failure".into());
            return Err(failure(message));
        }
    };
    let rgb = if cmyk { cmyk_to_rgb(&pixels) } else { pixels };
    image::RgbImage::from_raw(ow, oh, rgb)
        .map(DynamicImage::ImageRgb8)
        .ok_or_else(|| ImageError::Corrupt("the decoder returned too few pixels".into()))
}

/// Adobe-style (inverted) CMYK to RGB, without colour management.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let k = u16::from(px[3]);
        for c in &px[..3] {
            out.push((u16::from(*c) * k / 255) as u8);
        }
    }
    out
}

fn decode_generic<R: Read + Seek>(
    input: R,
    probe: &Probe,
    limits: &Limits,
    deadline: Deadline,
) -> Result<DynamicImage, ImageError> {
    let pixels = u64::from(probe.stored_width) * u64::from(probe.stored_height);
    // The decoder's buffer (up to 16 bits per channel) and the 8-bit copy made from it.
    let channels = u64::from(probe.channels.max(1));
    limits.check_memory(pixels * channels * 2 + pixels * 4)?;
    let reader = Guarded::new(
        BufReader::with_capacity(64 * 1024, input),
        deadline.started,
        deadline.limit,
        false,
    );
    let trips = reader.trips();
    let mut reader = image::ImageReader::with_format(reader, probe.format.image_format());
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_memory);
    reader.limits(image_limits);
    let decoded = reader.decode().map_err(|e| match trips.get() {
        Some(Trip::Deadline(limit)) => ImageError::TimedOut(limit),
        Some(Trip::EndOfInput) => ImageError::Truncated,
        None => ImageError::from_image(probe.format, e),
    })?;
    if (decoded.width(), decoded.height()) != (probe.stored_width, probe.stored_height) {
        return Err(ImageError::Corrupt(
            "the decoded size differs from the header".into(),
        ));
    }
    Ok(match decoded {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => decoded,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jpeg_scale_covers_the_need() {
        assert_eq!(jpeg_scale((4000, 3000), (320, 240)), 1);
        assert_eq!(jpeg_scale((4000, 3000), (501, 10)), 2);
        assert_eq!(jpeg_scale((4000, 3000), (1024, 768)), 3);
        assert_eq!(jpeg_scale((4000, 3000), (4000, 3000)), 8);
        assert_eq!(jpeg_scale((4000, 3000), (8000, 6000)), 8);
        assert_eq!(jpeg_scale((4000, 3000), (0, 0)), 8);
        assert_eq!(jpeg_scaled(4001, 1), 501);
    }
}

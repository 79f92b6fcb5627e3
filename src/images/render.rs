//! Rendering one thumbnail from decoded pixels: plan the crop in displayed coordinates,
//! map it onto the stored (possibly reduced) pixels, resample the region with a SIMD
//! Lanczos filter, rotate the small result upright, and encode it without metadata.

use std::io::Cursor;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageEncoder};

use super::ImageError;
use super::decode::Decoded;
use super::geometry::{self, Rect};
use super::spec::{OutputFormat, ThumbnailSpec};

/// An encoded thumbnail.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub mime_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The output format `spec` resolves to for an image that is (or is not) transparent.
pub fn resolve_format(spec: &ThumbnailSpec, transparent: bool) -> OutputFormat {
    match spec.format {
        OutputFormat::Auto if transparent => OutputFormat::Png,
        OutputFormat::Auto => OutputFormat::Jpeg,
        fixed => fixed,
    }
}

/// The file extension of a resolved format.
pub fn extension(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Png => "png",
        OutputFormat::Webp => "webp",
        OutputFormat::Jpeg | OutputFormat::Auto => "jpg",
    }
}

/// The size the whole image must be decoded to (as displayed) for `spec`.
pub fn decode_size(display: (u32, u32), spec: &ThumbnailSpec) -> (u32, u32) {
    geometry::resized_size(display, (spec.width, spec.height), spec.crop, spec.upscale)
}

/// Renders `spec` from `decoded`.
pub fn render(decoded: &Decoded, spec: &ThumbnailSpec) -> Result<Rendered, ImageError> {
    spec.validate().map_err(ImageError::Unsupported)?;
    let orientation = decoded.orientation;
    let swaps = orientation >= 5;
    let (sw, sh) = decoded.stored;
    let display = if swaps { (sh, sw) } else { (sw, sh) };
    let plan = geometry::plan(
        display,
        (spec.width, spec.height),
        spec.crop,
        spec.upscale,
        spec.subject,
    );
    // The region in stored coordinates of the full image, then of the decoded pixels.
    let region = to_stored(plan.source, orientation, (f64::from(sw), f64::from(sh)));
    let (dw, dh) = (decoded.pixels.width(), decoded.pixels.height());
    let (rx, ry) = (f64::from(dw) / f64::from(sw), f64::from(dh) / f64::from(sh));
    let region = Rect {
        left: region.left * rx,
        top: region.top * ry,
        width: (region.width * rx).max(1e-3),
        height: (region.height * ry).max(1e-3),
    };
    let (out_w, out_h) = if swaps {
        (plan.height, plan.width)
    } else {
        (plan.width, plan.height)
    };
    let (pixel_type, bytes): (PixelType, &[u8]) = match &decoded.pixels {
        DynamicImage::ImageRgb8(b) => (PixelType::U8x3, b.as_raw()),
        DynamicImage::ImageRgba8(b) => (PixelType::U8x4, b.as_raw()),
        _ => return Err(ImageError::Unsupported("unexpected pixel layout".into())),
    };
    let src =
        ImageRef::new(dw, dh, bytes, pixel_type).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let mut dst = Image::new(out_w, out_h, pixel_type);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
                .crop(region.left, region.top, region.width, region.height),
        )
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let raw = dst.into_vec();
    let mut small = match pixel_type {
        PixelType::U8x4 => {
            image::RgbaImage::from_raw(out_w, out_h, raw).map(DynamicImage::ImageRgba8)
        }
        _ => image::RgbImage::from_raw(out_w, out_h, raw).map(DynamicImage::ImageRgb8),
    }
    .ok_or_else(|| ImageError::Corrupt("resize produced too few pixels".into()))?;
    small.apply_orientation(
        Orientation::from_exif(orientation).unwrap_or(Orientation::NoTransforms),
    );
    encode(
        small,
        resolve_format(spec, decoded.transparent),
        spec.quality,
    )
}

/// Maps a rectangle in displayed coordinates to stored coordinates (`w`, `h`: stored size)
/// for an EXIF orientation.
pub fn to_stored(r: Rect, orientation: u8, (w, h): (f64, f64)) -> Rect {
    let (x0, x1, y0, y1) = (r.left, r.left + r.width, r.top, r.top + r.height);
    let (left, right, top, bottom) = match orientation {
        2 => (w - x1, w - x0, y0, y1),
        3 => (w - x1, w - x0, h - y1, h - y0),
        4 => (x0, x1, h - y1, h - y0),
        5 => (y0, y1, x0, x1),
        6 => (y0, y1, h - x1, h - x0),
        7 => (w - y1, w - y0, h - x1, h - x0),
        8 => (w - y1, w - y0, x0, x1),
        _ => (x0, x1, y0, y1),
    };
    Rect {
        left: left.max(0.0),
        top: top.max(0.0),
        width: (right - left).min(w - left.max(0.0)),
        height: (bottom - top).min(h - top.max(0.0)),
    }
}

fn encode(image: DynamicImage, format: OutputFormat, quality: u8) -> Result<Rendered, ImageError> {
    let (width, height) = (image.width(), image.height());
    let mut out = Cursor::new(Vec::new());
    let failed = |e: image::ImageError| ImageError::Corrupt(format!("encoding failed: {e}"));
    let (mime_type, extension) = match format {
        OutputFormat::Png => {
            image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            )
            .write_image(image.as_bytes(), width, height, image.color().into())
            .map_err(failed)?;
            ("image/png", "png")
        }
        OutputFormat::Webp => {
            image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                .write_image(image.as_bytes(), width, height, image.color().into())
                .map_err(failed)?;
            ("image/webp", "webp")
        }
        OutputFormat::Jpeg | OutputFormat::Auto => {
            let rgb = flatten_on_white(image);
            out = Cursor::new(encode_jpeg(&rgb, quality)?);
            ("image/jpeg", "jpg")
        }
    };
    Ok(Rendered {
        bytes: out.into_inner(),
        mime_type,
        extension,
        width,
        height,
    })
}

/// Baseline JPEG with optimised Huffman tables and 4:2:0 chroma (libjpeg-turbo's encoder
/// through `mozjpeg`, without its slow trellis search), and nothing but the JFIF header.
fn encode_jpeg(rgb: &image::RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(w, h);
        c.set_fastest_defaults();
        c.set_quality(f32::from(quality));
        c.set_optimize_coding(true);
        let mut started = c.start_compress(Vec::with_capacity(w * h / 4))?;
        started.write_scanlines(rgb.as_raw())?;
        started.finish()
    }))
    .map_err(|_| ImageError::Corrupt("encoding failed".into()))?
    .map_err(|e| ImageError::Corrupt(format!("encoding failed: {e}")))
}

/// JPEG has no alpha: transparent pixels are composed over white.
fn flatten_on_white(image: DynamicImage) -> image::RgbImage {
    match image {
        DynamicImage::ImageRgba8(rgba) => {
            let (w, h) = rgba.dimensions();
            let mut rgb = image::RgbImage::new(w, h);
            for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
                let a = u16::from(src.0[3]);
                for c in 0..3 {
                    dst.0[c] = ((u16::from(src.0[c]) * a + 255 * (255 - a)) / 255) as u8;
                }
            }
            rgb
        }
        other => other.into_rgb8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The displayed → stored mapping agrees with `apply_orientation` for all orientations:
    /// mark one stored pixel, orient the image, and map the marked displayed pixel back.
    #[test]
    fn rectangles_map_back_to_stored_pixels() {
        let (w, h) = (5u32, 3u32);
        for o in 1..=8u8 {
            for (sx, sy) in [(0, 0), (4, 0), (1, 2), (3, 1)] {
                let mut img = image::RgbImage::new(w, h);
                img.put_pixel(sx, sy, image::Rgb([255, 0, 0]));
                let mut shown = DynamicImage::ImageRgb8(img);
                shown.apply_orientation(Orientation::from_exif(o).unwrap());
                let shown = shown.into_rgb8();
                let (dx, dy) = shown
                    .enumerate_pixels()
                    .find(|(_, _, p)| p.0[0] == 255)
                    .map(|(x, y, _)| (x, y))
                    .unwrap();
                let r = to_stored(
                    Rect {
                        left: f64::from(dx),
                        top: f64::from(dy),
                        width: 1.0,
                        height: 1.0,
                    },
                    o,
                    (f64::from(w), f64::from(h)),
                );
                assert_eq!(
                    (r.left, r.top, r.width, r.height),
                    (f64::from(sx), f64::from(sy), 1.0, 1.0),
                    "orientation {o}"
                );
            }
        }
    }
}

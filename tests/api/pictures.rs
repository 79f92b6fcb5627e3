//! Test images made on the spot: photos with EXIF, every format, each EXIF orientation, and
//! the hostile ones (dimension bombs, truncated files, many-frame GIFs).

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

/// A JPEG of `img` at quality 90, with an APP1 EXIF segment when `exif` is given.
pub fn jpeg(img: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    match exif {
        Some(tiff) => insert_app1(&out, &tiff),
        None => out,
    }
}

/// Puts an `Exif\0\0` APP1 segment right after SOI.
pub fn insert_app1(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut seg = b"Exif\0\0".to_vec();
    seg.extend_from_slice(tiff);
    let len = u16::try_from(seg.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&seg);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A big-endian TIFF/EXIF block with an orientation and, optionally, DateTimeOriginal.
pub fn exif(orientation: u16, date_taken: Option<&str>) -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    let entries: u16 = if date_taken.is_some() { 2 } else { 1 };
    t.extend_from_slice(&entries.to_be_bytes());
    // Orientation (0x0112), SHORT, 1.
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    let ifd0_end = 8 + 2 + 12 * usize::from(entries) + 4;
    if date_taken.is_some() {
        // ExifIFD pointer (0x8769), LONG, 1 → right after IFD0.
        t.extend_from_slice(&[0x87, 0x69, 0, 4, 0, 0, 0, 1]);
        t.extend_from_slice(&u32::try_from(ifd0_end).unwrap().to_be_bytes());
    }
    t.extend_from_slice(&[0, 0, 0, 0]);
    if let Some(date) = date_taken {
        let mut value = date.as_bytes().to_vec();
        value.push(0);
        let data_at = ifd0_end + 2 + 12 + 4;
        t.extend_from_slice(&1u16.to_be_bytes());
        // DateTimeOriginal (0x9003), ASCII.
        t.extend_from_slice(&[0x90, 0x03, 0, 2]);
        t.extend_from_slice(&u32::try_from(value.len()).unwrap().to_be_bytes());
        t.extend_from_slice(&u32::try_from(data_at).unwrap().to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(&value);
    }
    t
}

/// A picture with four differently coloured quadrants (red, green / blue, yellow).
pub fn quadrants(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => Rgb([230, 20, 20]),
        (false, true) => Rgb([20, 200, 20]),
        (true, false) => Rgb([20, 20, 230]),
        (false, false) => Rgb([230, 230, 20]),
    })
}

/// A photo-like picture: gradients with some texture.
pub fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 23;
        Rgb([
            ((x * 255 / w.max(1)) as u8).saturating_add(n as u8),
            ((y * 255 / h.max(1)) as u8).saturating_sub(n as u8),
            (((x + y) * 127 / (w + h).max(1)) as u8).saturating_add(40),
        ])
    })
}

/// Encodes with the `image` crate in `format`.
pub fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        image::ImageFormat::WebP => {
            image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                .write_image(
                    img.as_bytes(),
                    img.width(),
                    img.height(),
                    img.color().into(),
                )
                .unwrap();
        }
        f => img.write_to(&mut out, f).unwrap(),
    }
    out.into_inner()
}

/// A PNG with a transparent half.
pub fn transparent_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgba([200, 30, 30, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    encode(&DynamicImage::ImageRgba8(img), image::ImageFormat::Png)
}

/// A small PNG whose header declares `w × h` (its data is a few bytes).
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut png = encode(
        &DynamicImage::ImageRgb8(RgbImage::new(1, 1)),
        image::ImageFormat::Png,
    );
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A small JPEG whose frame header declares `w × h`.
pub fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg(&RgbImage::new(16, 16), None);
    let sof = j
        .windows(2)
        .position(|p| p[0] == 0xFF && (p[1] == 0xC0 || p[1] == 0xC2))
        .unwrap();
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

/// A GIF of `frames` small frames.
pub fn many_frame_gif(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        for i in 0..frames {
            let frame = RgbaImage::from_pixel(64, 48, Rgba([(i % 250) as u8, 90, 160, 255]));
            enc.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Decodes a thumbnail the server sent.
pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

/// The average colour of a region of an image.
pub fn mean(img: &DynamicImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [u8; 3] {
    let rgb = img.to_rgb8();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = rgb.get_pixel(x, y).0;
            for c in 0..3 {
                sum[c] += u64::from(p[c]);
            }
            n += 1;
        }
    }
    sum.map(|s| (s / n.max(1)) as u8)
}

/// True when two colours are within `tol` per channel.
pub fn near(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

/// A `w × h` JPEG written row by row (a big picture without a big buffer): a soft
/// gradient, baseline or progressive.
pub fn big_jpeg(w: usize, h: usize, progressive: bool) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(w, h);
    c.set_quality(80.0);
    if progressive {
        c.set_progressive_mode();
    } else {
        c.set_fastest_defaults();
        c.set_quality(80.0);
    }
    let mut started = c.start_compress(Vec::new()).unwrap();
    let mut row = vec![0u8; w * 3];
    for y in 0..h {
        for x in 0..w {
            row[x * 3] = (x * 255 / w) as u8;
            row[x * 3 + 1] = (y * 255 / h) as u8;
            row[x * 3 + 2] = 128;
        }
        started.write_scanlines(&row).unwrap();
    }
    started.finish().unwrap()
}

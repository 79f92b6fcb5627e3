//! Reading what an image is from its header: format, dimensions, EXIF orientation and the
//! date the photo was taken. Nothing is decoded, so this is cheap and safe on any input;
//! the dimensions it returns are what the limits are checked against before any decode.

use std::io::{BufReader, Read, Seek};

use image::ImageDecoder;
use image::metadata::Orientation;
use time::PrimitiveDateTime;

use super::{Format, ImageError};

/// What the header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    /// Width as displayed, after the EXIF orientation is applied.
    pub width: u32,
    /// Height as displayed, after the EXIF orientation is applied.
    pub height: u32,
    /// Width of the stored pixels (before orientation).
    pub stored_width: u32,
    /// Height of the stored pixels (before orientation).
    pub stored_height: u32,
    /// EXIF orientation, 1–8 (1 when absent or invalid).
    pub orientation: u8,
    /// EXIF DateTimeOriginal (else DateTimeDigitized, else DateTime), as the camera's local
    /// time.
    pub date_taken: Option<PrimitiveDateTime>,
    /// For JPEG: progressive (whole-image coefficient buffers while decoding).
    pub progressive: bool,
    /// Colour channels in the file (alpha included).
    pub channels: u8,
}

impl Probe {
    /// The orientation as the image crate's transform.
    pub fn orientation_transform(&self) -> Orientation {
        Orientation::from_exif(self.orientation).unwrap_or(Orientation::NoTransforms)
    }

    /// True when the orientation swaps width and height (90° rotations).
    pub fn swaps_axes(&self) -> bool {
        self.orientation >= 5
    }
}

/// Reads the header of `input`, whose content was sniffed as `format`.
pub fn probe<R: Read + Seek>(input: R, format: Format) -> Result<Probe, ImageError> {
    let reader = BufReader::with_capacity(64 * 1024, input);
    let (stored_width, stored_height, exif, progressive, channels) = match format {
        Format::Jpeg => jpeg_header(reader)?,
        _ => generic_header(reader, format)?,
    };
    let orientation = exif
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .map_or(1, |o| o.to_exif());
    let date_taken = exif.and_then(date_taken);
    let (width, height) = if orientation >= 5 {
        (stored_height, stored_width)
    } else {
        (stored_width, stored_height)
    };
    Ok(Probe {
        format,
        width,
        height,
        stored_width,
        stored_height,
        orientation,
        date_taken,
        progressive,
        channels,
    })
}

type Header = (u32, u32, Option<Vec<u8>>, bool, u8);

fn jpeg_header<R: std::io::BufRead + Seek>(reader: R) -> Result<Header, ImageError> {
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(reader, options);
    decoder.decode_headers().map_err(|e| match e {
        zune_jpeg::errors::DecodeErrors::ExhaustedData => ImageError::Truncated,
        other => ImageError::NotAnImage {
            format: "JPEG",
            reason: other.to_string(),
        },
    })?;
    let info = decoder.info().ok_or_else(|| ImageError::NotAnImage {
        format: "JPEG",
        reason: "no frame header".into(),
    })?;
    // zune-jpeg does not export the marker type, only its name.
    let progressive = format!("{:?}", info.sof).starts_with("Progressive");
    Ok((
        u32::from(info.width),
        u32::from(info.height),
        info.exif_data.clone(),
        progressive,
        info.components,
    ))
}

fn generic_header<R: std::io::BufRead + Seek>(
    reader: R,
    format: Format,
) -> Result<Header, ImageError> {
    let mut reader = image::ImageReader::with_format(reader, format.image_format());
    reader.no_limits();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| ImageError::from_image(format, e))?;
    let (w, h) = decoder.dimensions();
    let exif = decoder.exif_metadata().ok().flatten();
    // TIFF keeps its orientation in its own first directory rather than in an EXIF chunk.
    let exif = match (exif, format) {
        (None, Format::Tiff) => decoder
            .orientation()
            .ok()
            .map(|o| synthetic_orientation_chunk(o.to_exif())),
        (e, _) => e,
    };
    let channels = decoder.color_type().channel_count();
    Ok((w, h, exif, false, channels))
}

/// A minimal EXIF chunk carrying only an orientation (for formats that report it directly).
fn synthetic_orientation_chunk(orientation: u8) -> Vec<u8> {
    let mut chunk = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01".to_vec();
    chunk.extend_from_slice(&[0, orientation, 0, 0, 0, 0, 0, 0]);
    chunk
}

fn date_taken(exif: Vec<u8>) -> Option<PrimitiveDateTime> {
    use exif::{In, Tag, Value};
    let data = match exif.strip_prefix(b"Exif\0\0") {
        Some(rest) => rest.to_vec(),
        None => exif,
    };
    let parsed = exif::Reader::new().read_raw(data).ok()?;
    [Tag::DateTimeOriginal, Tag::DateTimeDigitized, Tag::DateTime]
        .into_iter()
        .find_map(|tag| {
            let field = parsed.get_field(tag, In::PRIMARY)?;
            let Value::Ascii(ref parts) = field.value else {
                return None;
            };
            let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
            let date = time::Date::from_calendar_date(
                i32::from(dt.year),
                time::Month::try_from(dt.month).ok()?,
                dt.day,
            )
            .ok()?;
            let clock = time::Time::from_hms(dt.hour, dt.minute, dt.second).ok()?;
            Some(PrimitiveDateTime::new(date, clock))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_chunk_reads_back() {
        for o in 1..=8 {
            let chunk = synthetic_orientation_chunk(o);
            assert_eq!(
                Orientation::from_exif_chunk(&chunk).map(|x| x.to_exif()),
                Some(o)
            );
        }
    }
}

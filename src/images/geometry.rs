//! Where a thumbnail comes from and how big it is: easy-thumbnails' scale-and-crop with
//! django-filer's focal point, as pure arithmetic on sizes.
//!
//! - The scale is `max(target / source)` per axis when cropping or when one target
//!   dimension is 0 (it then follows the other), else `min` (fit inside the box).
//! - The image is resized when the scale is below 1, or above 1 with `upscale`.
//! - With `crop`, the result is cut to the target size (never larger than the resized
//!   image), centred on the focal point when there is one (else on the centre) and shifted
//!   back inside the image where it would stick out.

/// A rectangle in source pixels (fractional: it is handed to the resampler as is).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// The result of planning one thumbnail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// The part of the source that ends up in the thumbnail.
    pub source: Rect,
    pub width: u32,
    pub height: u32,
    /// Where the focal point lands in the thumbnail.
    pub focal_point: Option<(u32, u32)>,
}

/// The size the whole source is resized to before cropping (the decoder may stop at any
/// size at least this large).
pub fn resized_size(
    source: (u32, u32),
    target: (u32, u32),
    crop: bool,
    upscale: bool,
) -> (u32, u32) {
    let (sx, sy) = (f64::from(source.0.max(1)), f64::from(source.1.max(1)));
    let scale = scale_factor(sx, sy, target, crop);
    if scale < 1.0 || (scale > 1.0 && upscale) {
        (
            ((sx * scale).round() as u32).max(1),
            ((sy * scale).round() as u32).max(1),
        )
    } else {
        (source.0.max(1), source.1.max(1))
    }
}

fn scale_factor(sx: f64, sy: f64, target: (u32, u32), crop: bool) -> f64 {
    let (tx, ty) = (f64::from(target.0), f64::from(target.1));
    if target.0 == 0 && target.1 == 0 {
        return 1.0;
    }
    if crop || target.0 == 0 || target.1 == 0 {
        (tx / sx).max(ty / sy)
    } else {
        (tx / sx).min(ty / sy)
    }
}

/// Plans a thumbnail of a `source`-sized image for `target` (0 = follow the other side).
pub fn plan(
    source: (u32, u32),
    target: (u32, u32),
    crop: bool,
    upscale: bool,
    focal_point: Option<(u32, u32)>,
) -> Plan {
    let (sw, sh) = (source.0.max(1), source.1.max(1));
    let (rw, rh) = resized_size((sw, sh), target, crop, upscale);
    let fx = f64::from(rw) / f64::from(sw);
    let fy = f64::from(rh) / f64::from(sh);
    let (tw, th) = match target {
        (0, 0) => (rw, rh),
        (0, h) => (rw, h),
        (w, 0) => (w, rh),
        t => t,
    };
    // The focal point, mapped into the resized image and kept inside it.
    let focus = focal_point.map(|(x, y)| {
        (
            (f64::from(x.min(sw - 1)) + 0.5) * fx,
            (f64::from(y.min(sh - 1)) + 0.5) * fy,
        )
    });
    let (mut left, mut top, mut width, mut height) = (0u32, 0u32, rw, rh);
    if crop && (rw > tw || rh > th) {
        width = rw.min(tw);
        height = rh.min(th);
        let (cx, cy) = focus.unwrap_or((f64::from(rw) / 2.0, f64::from(rh) / 2.0));
        left = place(cx, width, rw);
        top = place(cy, height, rh);
    }
    Plan {
        source: Rect {
            left: f64::from(left) / fx,
            top: f64::from(top) / fy,
            width: f64::from(width) / fx,
            height: f64::from(height) / fy,
        },
        width,
        height,
        focal_point: focus.map(|(x, y)| {
            (
                (x.floor() as i64 - i64::from(left)).clamp(0, i64::from(width) - 1) as u32,
                (y.floor() as i64 - i64::from(top)).clamp(0, i64::from(height) - 1) as u32,
            )
        }),
    }
}

/// The start of a `len`-long window centred on `centre` inside `0..total`.
fn place(centre: f64, len: u32, total: u32) -> u32 {
    let start = (centre - f64::from(len) / 2.0).round();
    start.clamp(0.0, f64::from(total - len)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(p: &Plan) -> (u32, u32) {
        (p.width, p.height)
    }

    /// django-filer's resize cases (reference §11): an 800 × 600 image with its focal point
    /// at (100, 200).
    #[test]
    fn reference_resize_cases() {
        let subject = Some((100, 200));
        let fit = plan((800, 600), (400, 60), false, false, subject);
        assert_eq!(size(&fit), (80, 60));
        assert_eq!(fit.focal_point, Some((10, 20)));

        let fit = plan((800, 600), (40, 300), false, false, subject);
        assert_eq!(size(&fit), (40, 30));
        assert_eq!(fit.focal_point, Some((5, 10)));

        // Cropping to 40 × 300 scales to 400 × 300 and keeps the 40 columns around the
        // focal point (50, 100 after scaling): the focal point ends up horizontally centred.
        let cropped = plan((800, 600), (40, 300), true, false, subject);
        assert_eq!(size(&cropped), (40, 300));
        assert_eq!(cropped.focal_point, Some((20, 100)));
        assert_eq!(cropped.source.left, 60.0);
        assert_eq!(cropped.source.width, 80.0);
        assert_eq!(cropped.source.top, 0.0);
        assert_eq!(cropped.source.height, 600.0);
    }

    #[test]
    fn crops_follow_the_focal_point_and_stay_inside() {
        // Square icon of a landscape image: without a focal point, the centre.
        let centre = plan((4000, 3000), (240, 240), true, false, None);
        assert_eq!(size(&centre), (240, 240));
        assert_eq!(centre.source.top, 0.0);
        assert!((centre.source.left - 500.0).abs() < 10.0, "{centre:?}");
        // A focal point near the left edge: the window starts at the edge.
        let left = plan((4000, 3000), (240, 240), true, false, Some((10, 1500)));
        assert_eq!(left.source.left, 0.0);
        assert_eq!(left.focal_point.map(|p| p.0), Some(0));
        // Near the right edge: the window ends at the edge.
        let right = plan((4000, 3000), (240, 240), true, false, Some((3990, 1500)));
        assert!((right.source.left + right.source.width - 4000.0).abs() < 1e-6);
        // Away from the edges: centred on it.
        let inner = plan((4000, 3000), (240, 240), true, false, Some((2300, 1500)));
        assert_eq!(inner.focal_point, Some((120, 120)));
        assert!((inner.source.left - 800.0).abs() < 15.0, "{inner:?}");
    }

    #[test]
    fn zero_follows_the_other_side_and_upscale_is_opt_in() {
        let p = plan((4000, 3000), (210, 0), false, true, None);
        assert_eq!(size(&p), (210, 158));
        let small = plan((100, 50), (210, 0), false, false, None);
        assert_eq!(size(&small), (100, 50));
        let up = plan((100, 50), (210, 0), false, true, None);
        assert_eq!(size(&up), (210, 105));
        // A crop of a small image never grows it without upscale.
        let icon = plan((30, 20), (40, 40), true, false, None);
        assert_eq!(size(&icon), (30, 20));
        let tall = plan((3000, 4000), (0, 120), false, false, None);
        assert_eq!(size(&tall), (90, 120));
    }
}

//! The focal point of an image: the pixel crops are centred on (django-filer's
//! `subject_location`), in displayed pixels (after the EXIF orientation). Stored as `x,y`;
//! typed in forms as `x,y` (parentheses and spaces allowed); sent in JSON as
//! `{"x": …, "y": …}`.

use serde::{Deserialize, Serialize};

/// A point in image pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Point)]
pub struct FocalPoint {
    pub x: u32,
    pub y: u32,
}

/// Why a typed focal point was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the subject location must be two whole numbers of pixels “x,y”, such as “120,80”, or \
     empty for the centre; “{shown}” is not"
)]
pub struct BadFocalPoint {
    /// The start of what was typed.
    pub shown: String,
}

impl FocalPoint {
    /// The one parser: `x,y` in whole pixels, optionally in parentheses, spaces allowed.
    /// Empty means none (crops are centred).
    pub fn parse(input: &str) -> Result<Option<Self>, BadFocalPoint> {
        let s = input.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let inner = s
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(s);
        inner
            .split_once(',')
            .and_then(|(x, y)| {
                Some(Self {
                    x: x.trim().parse().ok()?,
                    y: y.trim().parse().ok()?,
                })
            })
            .map(Some)
            .ok_or_else(|| BadFocalPoint {
                shown: s.chars().take(40).collect(),
            })
    }

    /// A stored value (`None`, or one that does not parse: no focal point).
    pub fn from_stored(stored: Option<&str>) -> Option<Self> {
        stored.and_then(|s| Self::parse(s).ok().flatten())
    }

    /// Whether the point lies inside an image of `width` × `height`.
    pub fn lies_within(self, width: i32, height: i32) -> bool {
        i64::from(self.x) < i64::from(width) && i64::from(self.y) < i64::from(height)
    }

    /// As the geometry takes it.
    pub fn pair(self) -> (u32, u32) {
        (self.x, self.y)
    }
}

impl std::fmt::Display for FocalPoint {
    /// The stored and typed form, `x,y`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{}", self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_forms() {
        let p = |x, y| Ok(Some(FocalPoint { x, y }));
        assert_eq!(FocalPoint::parse("120,80"), p(120, 80));
        assert_eq!(FocalPoint::parse(" ( 120 , 80 ) "), p(120, 80));
        assert_eq!(FocalPoint::parse(""), Ok(None));
        assert_eq!(FocalPoint::parse("   "), Ok(None));
        for bad in [
            "120",
            "a,b",
            "-1,5",
            "1.5,2",
            "1,2,3",
            "(1,2",
            "99999999999,1",
        ] {
            let e = FocalPoint::parse(bad).unwrap_err();
            assert!(e.to_string().contains("two whole numbers"), "{bad}: {e}");
        }
        let long = "x".repeat(100);
        assert_eq!(
            FocalPoint::parse(&long).unwrap_err().shown.chars().count(),
            40
        );
    }

    #[test]
    fn stored_form_round_trips() {
        let p = FocalPoint { x: 7, y: 0 };
        assert_eq!(p.to_string(), "7,0");
        assert_eq!(FocalPoint::from_stored(Some(&p.to_string())), Some(p));
        assert_eq!(FocalPoint::from_stored(Some("garbage")), None);
        assert_eq!(FocalPoint::from_stored(None), None);
    }

    #[test]
    fn bounds() {
        let p = FocalPoint { x: 9, y: 4 };
        assert!(p.lies_within(10, 5));
        assert!(!p.lies_within(9, 5));
        assert!(!p.lies_within(10, 4));
        assert!(!p.lies_within(-1, -1));
    }

    #[test]
    fn json_shape() {
        let p: FocalPoint = serde_json::from_str(r#"{"x":3,"y":4}"#).unwrap();
        assert_eq!(p, FocalPoint { x: 3, y: 4 });
        assert!(serde_json::from_str::<FocalPoint>(r#"{"x":3,"y":4,"z":1}"#).is_err());
    }
}

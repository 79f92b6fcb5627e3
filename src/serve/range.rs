//! The `Range` header (RFC 9110 §14.1.2, §14.2), parsed once for every way Coffer sends
//! bytes: the default backend and the public storages it serves itself. Every length and
//! offset is computed with checked arithmetic against the representation's length; a
//! number too large for `u64` is still a number (a first position past any file, or a
//! suffix longer than any file), never a parse that wraps.

/// Most ranges answered in one response; more get the whole representation (RFC 9110 allows
/// ignoring Range), which also caps the work a crafted header can cause.
pub const MAX_RANGES: usize = 16;

/// One satisfiable range: `first..=last`, with `last` below the representation's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    /// The number of bytes in the range (`None` only for a range covering all of `u64`,
    /// which no representation length below `u64::MAX` can produce).
    pub fn length(&self) -> Option<u64> {
        self.last.checked_sub(self.first)?.checked_add(1)
    }

    /// `first-last/total`, the value of `Content-Range` after `bytes `.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.first, self.last, total)
    }
}

/// What a `Range` header asks of a representation of a given length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ranges {
    /// Not a valid byte-range header (or too many ranges): send the whole representation.
    Ignore,
    /// Valid, but no range overlaps the representation: 416 with `bytes */length`.
    Unsatisfiable,
    /// One or more ranges, in request order, overlapping ones coalesced.
    Satisfiable(Vec<ByteRange>),
}

/// A decimal position as written: its value when it fits in `u64`, and its digits without
/// leading zeros for exact comparison when it does not.
#[derive(Clone, Copy, Debug)]
struct Pos<'a> {
    value: Option<u64>,
    digits: &'a str,
}

impl<'a> Pos<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = s.trim_start_matches('0');
        let value = if digits.is_empty() {
            Some(0)
        } else {
            digits.parse::<u64>().ok()
        };
        Some(Self { value, digits })
    }

    fn greater_than(&self, other: &Pos<'_>) -> bool {
        (self.digits.len(), self.digits) > (other.digits.len(), other.digits)
    }
}

enum Spec<'a> {
    /// `first-` or `first-last`.
    Int(Pos<'a>, Option<Pos<'a>>),
    /// `-suffix`.
    Suffix(Pos<'a>),
}

fn parse_spec(spec: &str) -> Option<Spec<'_>> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Pos::parse(last).map(Spec::Suffix);
    }
    let first = Pos::parse(first)?;
    if last.is_empty() {
        return Some(Spec::Int(first, None));
    }
    let last = Pos::parse(last)?;
    if first.greater_than(&last) {
        return None; // RFC 9110: a last position below the first makes the header invalid
    }
    Some(Spec::Int(first, Some(last)))
}

/// The range `spec` selects in a representation of `len` bytes, if any.
fn resolve(spec: &Spec<'_>, len: u64) -> Option<ByteRange> {
    let end = len.checked_sub(1)?; // an empty representation satisfies no range
    match spec {
        Spec::Int(first, last) => {
            let first = first.value.filter(|f| *f <= end)?;
            let last = last.and_then(|l| l.value).map_or(end, |l| l.min(end));
            Some(ByteRange { first, last })
        }
        Spec::Suffix(n) => {
            let n = n.value.unwrap_or(u64::MAX);
            if n == 0 {
                return None;
            }
            let first = len.checked_sub(n.min(len))?;
            Some(ByteRange { first, last: end })
        }
    }
}

/// Parses `header` against a representation of `len` bytes.
pub fn parse(header: &str, len: u64) -> Ranges {
    let Some((unit, set)) = header.split_once('=') else {
        return Ranges::Ignore;
    };
    if !unit.eq_ignore_ascii_case("bytes") {
        return Ranges::Ignore;
    }
    let mut specs = Vec::new();
    for element in set.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue; // empty list elements are allowed (RFC 9110 §5.6.1)
        }
        let Some(spec) = parse_spec(element) else {
            return Ranges::Ignore;
        };
        specs.push(spec);
        if specs.len() > MAX_RANGES.saturating_mul(4) {
            return Ranges::Ignore;
        }
    }
    if specs.is_empty() {
        return Ranges::Ignore;
    }
    let ranges: Vec<ByteRange> = specs.iter().filter_map(|s| resolve(s, len)).collect();
    if ranges.is_empty() {
        return Ranges::Unsatisfiable;
    }
    let ranges = coalesce(ranges);
    if ranges.len() > MAX_RANGES {
        return Ranges::Ignore;
    }
    Ranges::Satisfiable(ranges)
}

/// Merges ranges that overlap or touch (RFC 9110 §14.3 allows it), so no byte is sent
/// twice; ranges that do not overlap keep the order they were asked in.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    let mut sorted = ranges.clone();
    sorted.sort_by_key(|r| r.first);
    let touching = sorted
        .windows(2)
        .any(|w| w[1].first <= w[0].last.saturating_add(1));
    if !touching {
        return ranges;
    }
    ranges.clear();
    for r in sorted {
        match ranges.last_mut() {
            Some(prev) if r.first <= prev.last.saturating_add(1) => {
                prev.last = prev.last.max(r.last);
            }
            _ => ranges.push(r),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64) -> Ranges {
        Ranges::Satisfiable(vec![ByteRange { first, last }])
    }

    #[test]
    fn empty_representations_satisfy_nothing() {
        for h in ["bytes=-5", "bytes=-1", "bytes=0-", "bytes=0-0", "bytes=-0"] {
            assert_eq!(parse(h, 0), Ranges::Unsatisfiable, "{h}");
        }
        assert_eq!(parse("bytes=5-2", 0), Ranges::Ignore);
    }

    #[test]
    fn huge_numbers_are_numbers() {
        let max = u64::MAX;
        assert_eq!(parse("bytes=0-18446744073709551615", 10), r(0, 9));
        assert_eq!(
            parse("bytes=18446744073709551615-", 10),
            Ranges::Unsatisfiable
        );
        assert_eq!(
            parse("bytes=18446744073709551616-", max),
            Ranges::Unsatisfiable
        );
        assert_eq!(parse("bytes=-18446744073709551616", 10), r(0, 9));
        assert_eq!(parse("bytes=-18446744073709551616", max), r(0, max - 1));
        assert_eq!(parse("bytes=0-99999999999999999999999", max), r(0, max - 1));
        assert_eq!(
            parse("bytes=99999999999999999999999-18446744073709551616", 10),
            Ranges::Ignore
        );
        assert_eq!(parse("bytes=00018-0020", 30), r(18, 20));
    }

    #[test]
    fn overlapping_ranges_are_coalesced_and_others_keep_their_order() {
        assert_eq!(parse("bytes=0-5,3-8", 10), r(0, 8));
        assert_eq!(parse("bytes=8-,-3", 10), r(7, 9));
        assert_eq!(parse("bytes=0-1,2-3", 10), r(0, 3));
        assert_eq!(
            parse("bytes=5-6, 0-1", 10),
            Ranges::Satisfiable(vec![
                ByteRange { first: 5, last: 6 },
                ByteRange { first: 0, last: 1 }
            ])
        );
        let many = (0..17)
            .map(|i| format!("{}-{}", i * 3, i * 3))
            .collect::<Vec<_>>();
        assert_eq!(
            parse(&format!("bytes={}", many.join(",")), 100),
            Ranges::Ignore
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=abc",
            "bytes=1-2-3",
            "items=0-1",
            "bytes=0x1-2",
            "bytes=+1-2",
            "bytes=1--2",
            "bytes=0-1,abc",
            "bytes=5-2",
            "bytes 0-1",
            "bytes=١-٢",
        ] {
            assert_eq!(parse(h, 10), Ranges::Ignore, "{h:?}");
        }
    }

    #[test]
    fn lengths_never_overflow() {
        let whole = ByteRange {
            first: 0,
            last: u64::MAX,
        };
        assert_eq!(whole.length(), None);
        assert_eq!(ByteRange { first: 3, last: 3 }.length(), Some(1));
    }
}

//! The comparison window: every node is compared over the same hours.
//!
//! By default the window is the target's incident window: from [`LEAD_SECS`] before the start of its
//! top incident (so the upgrade phases that preceded the first fault are inside, as the analysis's
//! "changed before" context is) to the incident's end. `--since/--until` replace it. Findings count
//! when they overlap the window; template lines count per [`crate::node::BUCKET_SECS`] bucket that
//! overlaps it.

use rootline_correlate::peers::WindowNote;
use rootline_correlate::Analysis;
use rootline_event::Timestamp;

use crate::node::Scan;

/// How far before the target's incident the window opens (the analysis's "changed before" window).
pub const LEAD_SECS: i64 = rootline_correlate::upgrade::BEFORE_WINDOW_SECS as i64;

/// A time window in unix nanoseconds; open ends are unbounded.
#[derive(Debug, Clone)]
pub struct Window {
    /// Start (inclusive).
    pub since: Option<i64>,
    /// End (inclusive).
    pub until: Option<i64>,
    /// Offset to print times in.
    pub offset: i32,
    /// How it was chosen.
    pub how: String,
}

impl Window {
    /// Everything.
    pub fn all() -> Self {
        Window { since: None, until: None, offset: 0, how: "all evidence (no incident on the target)".into() }
    }

    /// `--since/--until`.
    pub fn given(since: Option<i64>, until: Option<i64>) -> Self {
        Window { since, until, offset: 0, how: "--since/--until".into() }
    }

    /// The incident window of `a` (the target's analysis without peers), or of its faults and
    /// symptoms when it found no incident.
    pub fn of_incident(a: &Analysis, scan: &Scan) -> Option<Self> {
        let host = scan.label();
        if let Some(i) = a.incidents.first() {
            let start = i.start.as_deref().and_then(parse)?;
            let end = i.end.as_deref().and_then(parse).unwrap_or(start);
            return Some(Window {
                since: Some(start.unix_nanos - LEAD_SECS * 1_000_000_000),
                until: Some(end.unix_nanos),
                offset: start.offset_secs,
                how: format!(
                    "incident window of {host} ({} .. {}, {}, root cause {}), opened {} h earlier for the changes before it",
                    start.to_rfc3339(),
                    end.to_rfc3339(),
                    rootline_event::count(i.findings.len() as u64, "finding"),
                    i.root_cause.finding,
                    LEAD_SECS / 3600
                ),
            });
        }
        None
    }

    /// Whether a finding from `first` to `last` overlaps the window (timeless: always).
    pub fn overlaps(&self, first: Option<Timestamp>, last: Option<Timestamp>) -> bool {
        let (Some(a), Some(b)) = (first, last.or(first)) else { return true };
        self.since.is_none_or(|s| b.unix_nanos >= s) && self.until.is_none_or(|u| a.unix_nanos <= u)
    }

    /// Whether bucket `b` (of `width` seconds) overlaps the window.
    pub fn holds_bucket(&self, b: i64, width: i64) -> bool {
        let lo = b * width * 1_000_000_000;
        let hi = lo + width * 1_000_000_000 - 1;
        self.since.is_none_or(|s| hi >= s) && self.until.is_none_or(|u| lo <= u)
    }

    /// The window for the analysis and the JSON.
    pub fn note(&self) -> WindowNote {
        let t = |n: i64| Timestamp::from_unix_nanos(n, self.offset).to_rfc3339();
        WindowNote { since: self.since.map(t), until: self.until.map(t), how: self.how.clone() }
    }
}

/// Parses an RFC 3339 time as the analysis writes it, keeping its offset.
pub fn parse(s: &str) -> Option<Timestamp> {
    let ts: jiff_like::Parsed = jiff_like::parse(s)?;
    Some(Timestamp::from_unix_nanos(ts.nanos, ts.offset))
}

/// A small RFC 3339 reader (`YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`), enough for the analysis's times.
mod jiff_like {
    pub struct Parsed {
        pub nanos: i64,
        pub offset: i32,
    }

    pub fn parse(s: &str) -> Option<Parsed> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
            return None;
        }
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        let mut i = 19;
        let mut frac: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            let mut v: i64 = digits.get(..digits.len().min(9))?.parse().ok()?;
            for _ in digits.len().min(9)..9 {
                v *= 10;
            }
            frac = v;
        }
        let offset = match b.get(i)? {
            b'Z' | b'z' => 0,
            c @ (b'+' | b'-') => {
                let oh = num(i + 1..i + 3)?;
                let om = num(i + 4..i + 6)?;
                let o = (oh * 3600 + om * 60) as i32;
                if *c == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        let days = rootline_event::days_from_civil(y, mo as u32, d as u32);
        let local = days * 86_400 + h * 3600 + mi * 60 + se;
        Some(Parsed { nanos: (local - offset as i64) * 1_000_000_000 + frac, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_windows_overlap() {
        let t = parse("2025-10-13T19:51:40+09:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-10-13T19:51:40+09:00");
        assert_eq!(parse("2025-10-13T10:51:40.5Z").unwrap().unix_nanos, t.unix_nanos + 500_000_000);
        let w = Window::given(Some(t.unix_nanos), Some(t.unix_nanos + 60_000_000_000));
        assert!(w.overlaps(Some(t), None));
        assert!(!w.overlaps(Some(Timestamp::from_unix_nanos(0, 0)), None));
        assert!(w.holds_bucket(t.unix_nanos / 1_000_000_000 / 300, 300));
        assert!(!w.holds_bucket(0, 300));
    }
}

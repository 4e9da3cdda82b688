//! Times in the report: one display offset for the whole document.
//!
//! Evidence comes with mixed offsets (the journal in KST, containerd and kubectl in UTC). A postmortem
//! read by people shows every time in one zone: the offset most findings of the host were logged in
//! (ties go to the larger offset, UTC only when nothing else is known), stated once in the overview.

use std::collections::BTreeMap;

use rootline_rules::Lang;

use crate::model::Analysis;

/// Converts RFC 3339 strings to one display offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    offset_secs: i32,
}

/// Seconds since the epoch (fractional) of an RFC 3339 time.
pub fn epoch(s: &str) -> Option<f64> {
    let ts: jiff::Timestamp = s.parse().ok()?;
    Some(ts.as_millisecond() as f64 / 1000.0)
}

fn offset_of(s: &str) -> Option<i32> {
    if s.ends_with('Z') || s.ends_with('z') {
        return None;
    }
    let tail = s.get(s.len().checked_sub(6)?..)?;
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h: i32 = tail.get(1..3)?.parse().ok()?;
    let m: i32 = tail.get(4..6)?.parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

impl Clock {
    /// UTC.
    pub const UTC: Clock = Clock { offset_secs: 0 };

    /// The offset most finding times of the analysis carry (UTC when none carries one).
    pub fn pick(a: &Analysis) -> Clock {
        let mut n: BTreeMap<i32, usize> = BTreeMap::new();
        for f in &a.findings {
            for t in [&f.first, &f.last].into_iter().flatten() {
                if let Some(o) = offset_of(t) {
                    *n.entry(o).or_default() += 1;
                }
            }
        }
        let best = n.iter().max_by_key(|(o, c)| (**c, **o)).map(|(o, _)| *o).unwrap_or(0);
        Clock { offset_secs: best }
    }

    fn fmt(&self, secs: f64, pattern: &str) -> String {
        let local = secs.floor() as i64 + i64::from(self.offset_secs);
        match jiff::Timestamp::from_second(local) {
            Ok(t) => t.strftime(pattern).to_string(),
            Err(_) => String::from("?"),
        }
    }

    /// `2025-10-13 19:51:40`.
    pub fn full(&self, secs: f64) -> String {
        self.fmt(secs, "%Y-%m-%d %H:%M:%S")
    }

    /// `10/13 19:51:40`.
    pub fn short(&self, secs: f64) -> String {
        self.fmt(secs, "%m/%d %H:%M:%S")
    }

    /// `19:51`.
    pub fn hm(&self, secs: f64) -> String {
        self.fmt(secs, "%H:%M")
    }

    /// `10/13 19:51`.
    pub fn day_hm(&self, secs: f64) -> String {
        self.fmt(secs, "%m/%d %H:%M")
    }

    /// The RFC 3339 string shown in the display offset (`10/13 19:51:40`), or the input unchanged.
    pub fn show(&self, s: &str) -> String {
        epoch(s).map(|e| self.short(e)).unwrap_or_else(|| s.to_string())
    }

    /// `UTC+09:00`.
    pub fn zone(&self) -> String {
        let o = self.offset_secs;
        let sign = if o < 0 { '-' } else { '+' };
        let a = o.abs();
        format!("UTC{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    }
}

/// A duration in words: `40 s`, `12 min`, `3.5 h` (Korean: `40초`, `12분`, `3.5시간`).
pub fn duration(secs: f64, lang: Lang) -> String {
    let s = secs.abs();
    let (v, unit_en, unit_ko) = if s < 120.0 {
        (format!("{s:.0}"), " s", "초")
    } else if s < 7200.0 {
        (format!("{:.0}", s / 60.0), " min", "분")
    } else {
        (format!("{:.1}", s / 3600.0), " h", "시간")
    };
    match lang {
        Lang::En => format!("{v}{unit_en}"),
        Lang::Ko => format!("{v}{unit_ko}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_offsets_show_in_one_zone() {
        let c = Clock { offset_secs: 9 * 3600 };
        assert_eq!(c.show("2025-10-13T10:57:02Z"), "10/13 19:57:02");
        assert_eq!(c.show("2025-10-13T19:57:02+09:00"), "10/13 19:57:02");
        assert_eq!(c.zone(), "UTC+09:00");
        assert_eq!(offset_of("2025-10-13T19:57:02-05:30"), Some(-(5 * 3600 + 1800)));
        assert_eq!(duration(95.0 * 60.0, Lang::Ko), "95분");
    }
}

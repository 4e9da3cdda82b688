//! The output of `date(1)`: the one line an operator or a collector writes to say when a capture was
//! taken.
//!
//! `date` prints `strftime("%c")`-like text that depends on the locale and the options used, so
//! this reads the common shapes by their parts (a `HH:MM:SS` time, a month name or number, a day, a
//! four-digit year, an optional AM/PM, a zone abbreviation or numeric offset) rather than by one
//! fixed layout:
//!
//! ```text
//! Mon Oct 13 19:40:02 KST 2025          C / POSIX locale (coreutils default)
//! Mon 13 Oct 2025 07:40:02 PM KST       en_US.UTF-8 (glibc 2.29+)
//! Mon Oct 13 07:40:02 PM KST 2025       en_US.UTF-8 (older glibc)
//! Mo 13. Okt 19:40:02 KST 2025          de_DE.UTF-8
//! lun. 13 oct. 2025 19:40:02 KST        fr_FR.UTF-8
//! 2025. 10. 13. (월) 19:40:02 KST       ko_KR.UTF-8
//! 2025년 10월 13일 월요일 19시 40분 02초 KST   ko_KR.UTF-8 (older glibc)
//! Mon, 13 Oct 2025 19:40:02 +0900       date -R
//! 2025-10-13T19:40:02+09:00             date -Iseconds
//! 2025-10-13 19:40:02+09:00             date --rfc-3339=seconds
//! ```
//!
//! A zone abbreviation is kept as written and resolved against the zone of the bundle it was found
//! in ([`DateOutput::resolve`]): the zone's own abbreviation at that moment wins (so `IST` or `CST`
//! mean what they mean on that host), then a table of abbreviations that name one offset only.
//!
//! See: coreutils `date(1)` (`%c` and the default format `%a %b %e %H:%M:%S %Z %Y`), glibc locale
//! data (`d_t_fmt` of en_US, de_DE, fr_FR, ko_KR), RFC 5322 section 3.3 (`date -R`).

use jiff::tz::TimeZone;
use rootline_event::{days_from_civil, Timestamp};

use super::civil::{month_from_name, parse_hms, parse_iso, valid_date};
use super::RawTime;

const NANOS: i64 = 1_000_000_000;

/// The zone a `date` line was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateZone {
    /// A numeric offset (`+0900`, `+09:00`), seconds east of UTC; `UTC`/`GMT`/`Z` are offset 0.
    Offset(i32),
    /// An abbreviation (`KST`, `CEST`, `IST`), resolved with the bundle's zone.
    Abbrev(String),
    /// No zone written: local time of the host.
    Local,
}

/// One `date` output line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateOutput {
    /// The civil date and time written, as nanoseconds since the epoch as if it were UTC.
    pub civil_nanos: i64,
    /// The zone it was written in.
    pub zone: DateZone,
}

/// Abbreviations that name a single UTC offset wherever they are used (seconds east of UTC).
/// Ambiguous ones (`IST`: India, Ireland, Israel; `CST`: US Central, China, Cuba; `BST`: British
/// Summer, Bangladesh) are left out: only the bundle's zone can say what they mean.
const ABBREVIATIONS: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("UT", 0),
    ("Z", 0),
    ("WET", 0),
    ("WEST", 3600),
    ("CET", 3600),
    ("CEST", 7200),
    ("MET", 3600),
    ("MEST", 7200),
    ("EET", 7200),
    ("EEST", 10800),
    ("MSK", 10800),
    ("KST", 9 * 3600),
    ("JST", 9 * 3600),
    ("HKT", 8 * 3600),
    ("SGT", 8 * 3600),
    ("AWST", 8 * 3600),
    ("ACST", 9 * 3600 + 1800),
    ("ACDT", 10 * 3600 + 1800),
    ("AEST", 10 * 3600),
    ("AEDT", 11 * 3600),
    ("NZST", 12 * 3600),
    ("NZDT", 13 * 3600),
    ("EST", -5 * 3600),
    ("EDT", -4 * 3600),
    ("CDT", -5 * 3600),
    ("MST", -7 * 3600),
    ("MDT", -6 * 3600),
    ("PST", -8 * 3600),
    ("PDT", -7 * 3600),
    ("AKST", -9 * 3600),
    ("AKDT", -8 * 3600),
    ("HST", -10 * 3600),
];

impl DateOutput {
    /// The time as a parser reports it without knowing the bundle's zone: exact when the line gave
    /// an offset or an abbreviation with one meaning, else naive (read later in the bundle's zone).
    pub fn raw(&self) -> RawTime {
        let off = match &self.zone {
            DateZone::Offset(o) => Some(*o),
            DateZone::Abbrev(a) => table_offset(a),
            DateZone::Local => None,
        };
        match off {
            Some(o) => RawTime::Exact { unix_nanos: self.civil_nanos - o as i64 * NANOS, offset_secs: o },
            None => RawTime::Naive { civil_nanos: self.civil_nanos },
        }
    }

    /// The instant, reading an abbreviation or a zone-less time with `tz` (the bundle's zone): the
    /// zone's own abbreviation at that moment wins, then the table of unambiguous abbreviations;
    /// an abbreviation neither knows is read as local time in `tz`.
    pub fn resolve(&self, tz: &TimeZone) -> Option<Timestamp> {
        let local = || super::resolve::local_time(tz, self.civil_nanos);
        match &self.zone {
            DateZone::Offset(o) => Some(Timestamp::from_unix_nanos(self.civil_nanos - *o as i64 * NANOS, *o)),
            DateZone::Local => local(),
            DateZone::Abbrev(a) => {
                if let Some(t) = local() {
                    let info = tz.to_offset_info(jiff::Timestamp::from_nanosecond(t.unix_nanos as i128).ok()?);
                    if info.abbreviation().eq_ignore_ascii_case(a) {
                        return Some(t);
                    }
                }
                match table_offset(a) {
                    Some(o) => Some(Timestamp::from_unix_nanos(self.civil_nanos - o as i64 * NANOS, o)),
                    None => local(),
                }
            }
        }
    }
}

fn table_offset(abbrev: &str) -> Option<i32> {
    ABBREVIATIONS.iter().find(|(a, _)| a.eq_ignore_ascii_case(abbrev)).map(|(_, o)| *o)
}

/// Reads one line of `date` output; `None` when the line is not one (a date, a time of day and a
/// year are all required, so a syslog line or a bare clock never passes).
pub fn parse(line: &[u8]) -> Option<DateOutput> {
    let line = std::str::from_utf8(line).ok()?.trim();
    if line.is_empty() || line.len() > 80 {
        return None;
    }
    // ISO 8601 / RFC 3339 (`date -I...`, `--rfc-3339`), possibly followed by an abbreviation.
    if let Some((raw, n)) = parse_iso(line.as_bytes()) {
        let rest = line[n..].trim();
        let zone = match raw {
            RawTime::Exact { offset_secs, .. } if rest.is_empty() => DateZone::Offset(offset_secs),
            RawTime::Naive { .. } if rest.is_empty() => DateZone::Local,
            RawTime::Naive { .. } if is_abbrev(rest) => zone_word(rest),
            _ => return None,
        };
        let civil = match raw {
            RawTime::Exact { unix_nanos, offset_secs } => unix_nanos + offset_secs as i64 * NANOS,
            RawTime::Naive { civil_nanos } => civil_nanos,
            _ => return None,
        };
        return Some(DateOutput { civil_nanos: civil, zone });
    }
    let mut tod: Option<i64> = None;
    let mut korean_tod = [None::<i64>; 3];
    let mut pm: Option<bool> = None;
    let mut year: Option<i64> = None;
    let mut month: Option<u32> = None;
    let mut numbers: Vec<(u32, bool)> = Vec::new(); // (value, came after the year)
    let mut zone = DateZone::Local;
    let mut zone_seen = false;
    for raw in line.split(|c: char| c.is_whitespace() || c == ',') {
        let w = raw.trim_matches(|c| c == '(' || c == ')');
        if w.is_empty() {
            continue;
        }
        if tod.is_none() {
            if let Some((t, n)) = parse_hms(w.as_bytes()) {
                if n == w.len() {
                    tod = Some(t);
                    continue;
                }
            }
            // `19:40` without seconds is not a `date` line.
        }
        if let Some((v, unit)) = korean_unit(w) {
            match unit {
                '년' => year = Some(v as i64),
                '월' => month = Some(v),
                '일' => numbers.push((v, true)),
                '시' => korean_tod[0] = Some(v as i64),
                '분' => korean_tod[1] = Some(v as i64),
                _ => korean_tod[2] = Some(v as i64),
            }
            continue;
        }
        match w {
            "AM" | "am" | "오전" => {
                pm = Some(false);
                continue;
            }
            "PM" | "pm" | "오후" => {
                pm = Some(true);
                continue;
            }
            _ => {}
        }
        let have_time = tod.is_some() || korean_tod[0].is_some();
        if have_time && !zone_seen {
            if let Some(o) = numeric_offset(w) {
                zone = DateZone::Offset(o);
                zone_seen = true;
                continue;
            }
        }
        let digits = w.trim_end_matches('.');
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            let v: u32 = digits.parse().ok()?;
            if digits.len() == 4 {
                if year.is_some() {
                    return None;
                }
                year = Some(v as i64);
            } else if digits.len() <= 2 {
                numbers.push((v, year.is_some()));
            } else {
                return None;
            }
            continue;
        }
        if month.is_none() {
            if let Some(m) = month_from_name(w.as_bytes()) {
                month = Some(m as u32);
                continue;
            }
        }
        if have_time && !zone_seen && is_abbrev(w) {
            zone = zone_word(w);
            zone_seen = true;
            continue;
        }
        // Weekday names and other words of the locale are ignored.
        if w.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let tod = match (tod, korean_tod) {
        (Some(t), _) => t,
        (None, [Some(h), Some(m), s]) if h < 24 && m < 60 => (h * 3600 + m * 60 + s.unwrap_or(0)) * NANOS,
        _ => return None,
    };
    let tod = match pm {
        Some(true) if tod < 12 * 3600 * NANOS => tod + 12 * 3600 * NANOS,
        Some(false) if (12 * 3600 * NANOS..13 * 3600 * NANOS).contains(&tod) => tod - 12 * 3600 * NANOS,
        _ => tod,
    };
    let year = year?;
    let (month, day) = match month {
        Some(m) => (m, numbers.first()?.0),
        // `2025. 10. 13.`: month and day numbers after the year.
        None => match numbers.as_slice() {
            [(m, true), (d, true), ..] => (*m, *d),
            _ => return None,
        },
    };
    if !valid_date(year, month, day) {
        return None;
    }
    Some(DateOutput { civil_nanos: days_from_civil(year, month, day) * 86_400 * NANOS + tod, zone })
}

/// `2025년`, `10월`, `13일`, `19시`, `40분`, `02초`: (value, unit).
fn korean_unit(w: &str) -> Option<(u32, char)> {
    let unit = w.chars().last()?;
    if !matches!(unit, '년' | '월' | '일' | '시' | '분' | '초') {
        return None;
    }
    let num = &w[..w.len() - unit.len_utf8()];
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) || num.len() > 4 {
        return None;
    }
    Some((num.parse().ok()?, unit))
}

fn numeric_offset(w: &str) -> Option<i32> {
    let (off, n) = super::civil::parse_offset(w.as_bytes())?;
    (n == w.len() && matches!(w.as_bytes()[0], b'+' | b'-') && w.len() >= 3).then_some(off)
}

/// A zone abbreviation as `date` prints `%Z`: 2-6 upper-case letters (or `UTC`).
fn is_abbrev(w: &str) -> bool {
    (1..=6).contains(&w.len()) && w.bytes().all(|c| c.is_ascii_uppercase())
}

fn zone_word(w: &str) -> DateZone {
    match table_offset(w) {
        Some(0) => DateZone::Offset(0),
        _ => DateZone::Abbrev(w.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * NANOS
    }

    #[test]
    fn reads_the_locales_and_options_operators_use() {
        let want = civil(2025, 10, 13, 19, 40, 2);
        let kst = DateZone::Abbrev("KST".into());
        for (line, zone) in [
            ("Mon Oct 13 19:40:02 KST 2025", kst.clone()),
            ("Mon Oct 13 19:40:02 UTC 2025", DateZone::Offset(0)),
            ("Mon 13 Oct 2025 07:40:02 PM KST", kst.clone()),
            ("Mon Oct 13 07:40:02 PM KST 2025", kst.clone()),
            ("Mo 13. Okt 19:40:02 KST 2025", kst.clone()),
            ("lun. 13 oct. 2025 19:40:02 KST", kst.clone()),
            ("2025. 10. 13. (월) 19:40:02 KST", kst.clone()),
            ("2025. 10. 13. (월) 오후 07:40:02 KST", kst.clone()),
            ("2025년 10월 13일 월요일 19시 40분 02초 KST", kst.clone()),
            ("Mon, 13 Oct 2025 19:40:02 +0900", DateZone::Offset(9 * 3600)),
            ("2025-10-13T19:40:02+09:00", DateZone::Offset(9 * 3600)),
            ("2025-10-13 19:40:02+09:00", DateZone::Offset(9 * 3600)),
            ("2025-10-13 19:40:02 KST", kst.clone()),
            ("Mon Oct 13 19:40:02 2025", DateZone::Local),
        ] {
            let d = parse(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(d.civil_nanos, want, "{line}");
            assert_eq!(d.zone, zone, "{line}");
        }
    }

    #[test]
    fn turns_down_lines_that_are_not_date_output() {
        for line in [
            "",
            "Oct 13 19:40:02 node-a kernel: sd 2:0:0:1: rejecting I/O to offline device",
            "19:40:02 up 3 days,  2:03,  1 user,  load average: 0.10, 0.20, 0.30",
            "Mon Oct 13 19:40 KST 2025",
            "Mon Feb 30 19:40:02 KST 2025",
            "user@node:~$ date",
            "mpatha (3600a098038303053453f463045535a74) dm-3 NETAPP,LUN C-Mode",
        ] {
            assert!(parse(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn abbreviations_resolve_with_the_bundle_zone_first() {
        let seoul = TimeZone::get("Asia/Seoul").unwrap();
        let dublin = TimeZone::get("Europe/Dublin").unwrap();
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let d = parse(b"Mon Oct 13 19:40:02 KST 2025").unwrap();
        assert_eq!(d.raw(), RawTime::Exact { unix_nanos: civil(2025, 10, 13, 10, 40, 2), offset_secs: 9 * 3600 });
        assert_eq!(d.resolve(&seoul).unwrap().unix_nanos, civil(2025, 10, 13, 10, 40, 2));
        // IST is Irish Summer Time in Dublin and India Standard Time in Kolkata.
        let ist = parse(b"Mon Jul 14 12:00:00 IST 2025").unwrap();
        assert!(matches!(ist.raw(), RawTime::Naive { .. }));
        assert_eq!(ist.resolve(&dublin).unwrap().unix_nanos, civil(2025, 7, 14, 11, 0, 0));
        assert_eq!(ist.resolve(&kolkata).unwrap().unix_nanos, civil(2025, 7, 14, 6, 30, 0));
        // An abbreviation the zone does not use and the table knows: the table's offset.
        assert_eq!(d.resolve(&dublin).unwrap().unix_nanos, civil(2025, 10, 13, 10, 40, 2));
        // No zone written: the bundle's.
        let local = parse(b"Mon Oct 13 19:40:02 2025").unwrap();
        assert_eq!(local.resolve(&seoul).unwrap().unix_nanos, civil(2025, 10, 13, 10, 40, 2));
    }
}

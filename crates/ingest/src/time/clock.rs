//! What a clock command printed, for a parser that reads it in a session: `date` (through
//! [`super::date_output`], the reading a bundle's `date` file gets too), `timedatectl`'s `Local time:`,
//! `uptime`, and which zone abbreviations name one offset.
//!
//! A parser has no bundle zone: a `date` line in a terminal capture becomes [`RawTime::Exact`] when it
//! states a numeric offset, UTC/GMT/Z, or an abbreviation that names one offset wherever the tz
//! database uses it, and [`RawTime::Naive`] otherwise, so the bundle's zone (its `etc/localtime`),
//! which printed that abbreviation, decides later. Ambiguous in the tz database today: `CST` (US
//! Central -6, China and Taiwan +8, Cuba -5), `IST` (India +5:30, Ireland +1, Israel +2), `PST` (US
//! Pacific -8, Philippines +8), `CDT` (US -5, Cuba -4). `BST` is British Summer Time only (Bangladesh
//! writes `+06`). Checked with `TZ=<zone> date +%Z%z` on tzdata 2025 for each zone named here.
//! See: tzdata `northamerica`, `asia`, `europe`, `australasia` (the `FORMAT` column of each `Zone`).

use super::civil::parse_hms;
use super::date_output::DateZone;
use super::RawTime;

const NANOS: i64 = 1_000_000_000;

/// What a zone abbreviation says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// One offset, seconds east of UTC.
    Offset(i32),
    /// A known abbreviation used for more than one offset: read the time in the bundle's zone.
    Ambiguous,
}

/// The offset of a zone abbreviation as `date` prints it (`%Z`), `None` when unknown.
pub fn zone_abbrev(abbr: &str) -> Option<Zone> {
    const H: i32 = 3600;
    let off = match abbr {
        "UTC" | "GMT" | "UT" | "Z" | "WET" => 0,
        "BST" | "CET" | "MET" | "WEST" | "WAT" => H,
        "CEST" | "MEST" | "EET" | "CAT" | "SAST" => 2 * H,
        "EEST" | "MSK" | "EAT" | "IDT" => 3 * H,
        "PKT" => 5 * H,
        "WIB" => 7 * H,
        "HKT" | "AWST" | "WITA" => 8 * H,
        "KST" | "JST" | "WIT" => 9 * H,
        "ACST" => 9 * H + 1800,
        "AEST" => 10 * H,
        "ACDT" => 10 * H + 1800,
        "AEDT" => 11 * H,
        "NZST" => 12 * H,
        "NZDT" => 13 * H,
        "ADT" => -3 * H,
        "AST" | "EDT" => -4 * H,
        "EST" => -5 * H,
        "MDT" => -6 * H,
        "MST" | "PDT" => -7 * H,
        "AKDT" => -8 * H,
        "AKST" => -9 * H,
        "HST" => -10 * H,
        "CST" | "IST" | "PST" | "CDT" => return Some(Zone::Ambiguous),
        _ => return None,
    };
    Some(Zone::Offset(off))
}

/// Reads the line `date` printed (the forms [`super::date_output::parse`] reads, and `timedatectl`'s
/// `Local time:` / `Universal time:` lines). `None` when the line is not a full date and time of day.
pub fn parse_date_output(line: &[u8]) -> Option<RawTime> {
    let mut t = super::super::formats::util::trim(line);
    for label in [&b"Local time:"[..], b"Universal time:"] {
        if let Some(r) = t.strip_prefix(label) {
            // timedatectl: `Tue 2025-03-11 09:14:07 KST` (a weekday before an ISO date).
            let r = super::super::formats::util::trim(r);
            t = match memchr::memchr(b' ', r) {
                Some(sp) if r.get(sp + 1).is_some_and(u8::is_ascii_digit) => &r[sp + 1..],
                _ => r,
            };
        }
    }
    let d = super::date_output::parse(t)?;
    let off = match &d.zone {
        DateZone::Offset(o) => Some(*o),
        DateZone::Abbrev(a) => match zone_abbrev(a) {
            Some(Zone::Offset(o)) => Some(o),
            _ => None,
        },
        DateZone::Local => None,
    };
    Some(match off {
        Some(o) => RawTime::Exact { unix_nanos: d.civil_nanos - o as i64 * NANOS, offset_secs: o },
        None => RawTime::Naive { civil_nanos: d.civil_nanos },
    })
}

/// What `uptime` printed: ` 09:14:07 up 12 days,  3:02,  2 users,  load average: 0.00, 0.01, 0.05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uptime {
    /// The local clock, nanoseconds since midnight.
    pub clock_nanos: i64,
    /// Time since boot, whole seconds (procps prints minutes: the true value is up to 59 s more).
    pub up_secs: i64,
}

/// Reads `uptime`'s line (procps and busybox: `up 5 min`, `up 3:02`, `up 1 day, 3 min`,
/// `up 86 days,  9:41`). See: procps `proc/whattime.c` (sprint_uptime).
pub fn parse_uptime_output(line: &[u8]) -> Option<Uptime> {
    let t = std::str::from_utf8(line).ok()?.trim();
    let (clock, rest) = t.split_once(" up ")?;
    let clock = clock.trim();
    let padded;
    let c = if clock.len() == 7 {
        padded = format!("0{clock}");
        padded.as_str()
    } else {
        clock
    };
    let (clock_nanos, n) = parse_hms(c.as_bytes())?;
    if n != c.len() {
        return None;
    }
    let mut up = 0i64;
    let mut seen = false;
    for part in rest.split(',').map(str::trim) {
        if let Some(d) = part.strip_suffix(" days").or_else(|| part.strip_suffix(" day")) {
            up += d.trim().parse::<i64>().ok()? * 86_400;
            seen = true;
        } else if let Some(m) = part.strip_suffix(" min") {
            up += m.trim().parse::<i64>().ok()? * 60;
            seen = true;
            break;
        } else if let Some((h, m)) = part.split_once(':') {
            up += h.trim().parse::<i64>().ok()? * 3600 + m.trim().parse::<i64>().ok()? * 60;
            seen = true;
            break;
        } else {
            break;
        }
    }
    seen.then_some(Uptime { clock_nanos, up_secs: up })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-03-11 09:14:07 KST = 1741652047.
    const T: i64 = 1_741_652_047;

    fn exact(line: &str) -> (i64, i32) {
        match parse_date_output(line.as_bytes()) {
            Some(RawTime::Exact { unix_nanos, offset_secs }) => (unix_nanos / NANOS, offset_secs),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn naive(line: &str) -> i64 {
        match parse_date_output(line.as_bytes()) {
            Some(RawTime::Naive { civil_nanos }) => civil_nanos / NANOS,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn date_in_every_locale_and_form() {
        // Outputs of coreutils 9.1 `TZ=Asia/Seoul date -d @1741652047` under each LC_ALL.
        for line in [
            "Tue Mar 11 09:14:07 KST 2025",
            "Tue Mar 11 09:14:07 AM KST 2025",
            "Tue 11 Mar 2025 09:14:07 AM KST",
            "Di 11. Mär 09:14:07 KST 2025",
            "mar. 11 mars 2025 09:14:07 KST",
            "2025. 03. 11. (화) 09:14:07 KST",
            "Tue 11 Mar 09:14:07 KST 2025",
            "mar 11 mar 2025 09:14:07 KST",
            "mar 11 mar 2025, 09:14:07, KST",
            "ter 11 mar 2025 09:14:07 KST",
            "wto, 11 mar 2025, 09:14:07 KST",
            "Tue, 11 Mar 2025 09:14:07 +0900",
            "2025-03-11 09:14:07+09:00",
            "2025-03-11 09:14:07.000000000+09:00",
            "2025-03-11T09:14:07+09:00",
            "2025-03-11T09:14:07,000000000+09:00",
            "Tue Mar 11 00:14:07 UTC 2025",
            "Tue, 11 Mar 2025 00:14:07 +0000",
            "Local time: Tue 2025-03-11 09:14:07 KST",
            "2025-03-11 09:14:07 KST",
        ] {
            assert_eq!(exact(line).0, T, "{line}");
        }
        assert_eq!(exact("Tue Mar 11 09:14:07 KST 2025").1, 9 * 3600);
        // 2025-03-07 01:14:07 CET = 1741306447; `date` pads the day with a space.
        assert_eq!(exact("Fri Mar  7 01:14:07 CET 2025").0, 1_741_306_447);
        assert_eq!(exact("Fr 7. Mär 01:14:07 CET 2025").0, 1_741_306_447);
        // 12-hour clocks.
        assert_eq!(exact("Tue Mar 11 09:14:07 PM KST 2025").0, T + 12 * 3600);
        assert_eq!(exact("Tue Mar 11 12:14:07 AM KST 2025").0, T - 9 * 3600);
        // glibc prints a numeric name for zones without an abbreviation (Asia/Singapore: `+08`).
        assert_eq!(exact("Tue Mar 11 08:14:07 +08 2025").0, T);
    }

    #[test]
    fn ambiguous_and_unknown_zones_stay_local() {
        // 2025-03-11 09:14:07 as if UTC.
        let civil = T + 9 * 3600;
        assert_eq!(naive("Tue Mar 11 09:14:07 CST 2025"), civil);
        assert_eq!(naive("Tue Mar 11 09:14:07 IST 2025"), civil);
        assert_eq!(naive("Tue Mar 11 09:14:07 PST 2025"), civil);
        assert_eq!(naive("Tue Mar 11 09:14:07 XYZT 2025"), civil);
        assert_eq!(naive("Tue Mar 11 09:14:07 2025"), civil);
        assert_eq!(naive("2025-03-11 09:14:07"), civil);
        assert_eq!(zone_abbrev("CEST"), Some(Zone::Offset(7200)));
        assert_eq!(zone_abbrev("CST"), Some(Zone::Ambiguous));
        assert_eq!(zone_abbrev("QQQ"), None);
    }

    #[test]
    fn not_dates() {
        for line in [
            "",
            "date: invalid date 'x'",
            "Tue Mar 11 2025",
            "09:14:07",
            "Tue Mar 32 09:14:07 KST 2025",
            "Feb 29 09:14:07 KST 2025",
            "mpatha (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-21 LIO-ORG,TCMU device",
            " 21:27:01 up 86 days,  9:41,  2 users,  load average: 14.02, 13.87, 12.90",
            "Tue Mar 11 25:14:07 KST 2025",
        ] {
            assert_eq!(parse_date_output(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn uptime_forms() {
        let u =
            parse_uptime_output(b" 21:27:01 up 86 days,  9:41,  2 users,  load average: 14.02, 13.87, 12.90").unwrap();
        assert_eq!(u.clock_nanos, (21 * 3600 + 27 * 60 + 1) * NANOS);
        assert_eq!(u.up_secs, 86 * 86_400 + 9 * 3600 + 41 * 60);
        assert_eq!(parse_uptime_output(b" 09:14:07 up 5 min,  1 user,  load average: 0.00").unwrap().up_secs, 300);
        assert_eq!(parse_uptime_output(b" 09:14:07 up 1 day, 3 min,  1 user").unwrap().up_secs, 86_400 + 180);
        assert_eq!(parse_uptime_output(b" 9:14:07 up  3:02,  load average: 0.00").unwrap().up_secs, 3 * 3600 + 120);
        assert_eq!(parse_uptime_output(b"up 3 days"), None);
        assert_eq!(parse_uptime_output(b"09:14:07 up sometime"), None);
    }
}

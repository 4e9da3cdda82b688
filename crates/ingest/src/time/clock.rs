//! What a clock command printed: `date` in any common locale and form, `uptime`, zone abbreviations.
//!
//! An operator's capture carries its own time only where a command printed it: `date` (and `date -u`,
//! `-R`, `--rfc-3339`, `-I`), a `script(1)` header, `watch`'s title line, `timedatectl`'s `Local
//! time:`. Those lines are read here so that the terminal reader and the bundle facts (a sosreport's
//! `date` file) agree on one reading.
//!
//! Shapes read (coreutils 9.1 `date` under glibc 2.36 locale data, checked by running it):
//! - C / POSIX: `Tue Mar 11 09:14:07 KST 2025`, `Fri Mar  7 01:14:07 CET 2025`;
//! - en_US: `Tue Mar 11 09:14:07 AM KST 2025`; older en_US data: `Tue 11 Mar 2025 09:14:07 AM KST`;
//! - en_GB: `Tue 11 Mar 09:14:07 KST 2025`; de_DE: `Di 11. Mär 09:14:07 KST 2025`;
//! - fr_FR: `mar. 11 mars 2025 09:14:07 KST`; es_ES: `mar 11 mar 2025 09:14:07 KST`;
//!   it_IT: `mar 11 mar 2025, 09:14:07, KST`; pt_BR: `ter 11 mar 2025 09:14:07 KST`;
//!   nl_NL: `di 11 mrt 2025  9:14:07 KST`; pl_PL: `wto, 11 mar 2025, 09:14:07 KST`;
//!   ru_RU: `Вт 11 мар 2025 09:14:07 KST`;
//! - ko_KR: `2025. 03. 11. (화) 09:14:07 KST`; ja_JP: `2025年  3月 11日 火曜日 09:14:07 KST`;
//!   zh_CN: `2025年 03月 11日 星期二 09:14:07 KST`;
//! - `date -R`: `Tue, 11 Mar 2025 09:14:07 +0900`; `date -u`: `Tue Mar 11 00:14:07 UTC 2025`;
//! - `date --rfc-3339=seconds|ns`: `2025-03-11 09:14:07+09:00`; `date -Iseconds|-Ins`:
//!   `2025-03-11T09:14:07+09:00`, `2025-03-11T09:14:07,000000000+09:00`;
//! - `timedatectl`: `Local time: Tue 2025-03-11 09:14:07 KST`.
//!
//! Zones: a numeric offset, `UTC`/`GMT`/`UT`/`Z`, or an abbreviation that names one offset in the
//! tz database today gives [`RawTime::Exact`]. Abbreviations the tz database uses for more than one
//! offset (`CST`: US Central -6, China and Taiwan +8, Cuba -5; `IST`: India +5:30, Ireland +1,
//! Israel +2; `PST`: US Pacific -8, Philippines +8; `CDT`: US -5, Cuba -4) and unknown ones give
//! [`RawTime::Naive`]: the bundle's own zone (its `etc/localtime`), which printed that abbreviation,
//! then decides. See: tzdata `northamerica`, `asia`, `europe` (the `FORMAT` column of each `Zone`).

use rootline_event::days_from_civil;

use super::civil::{month_from_name, parse_hms, parse_iso, parse_offset, valid_date};
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

/// Month names `month_from_name` does not hold: Russian and Polish abbreviations (glibc `%b`).
fn month_extra(w: &str) -> Option<u8> {
    const RU: [&str; 12] = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"];
    const PL: [&str; 12] = ["sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"];
    let w = w.trim_end_matches('.').to_lowercase();
    if w == "май" {
        return Some(5);
    }
    RU.iter().chain(PL.iter()).position(|m| *m == w).map(|i| (i % 12) as u8 + 1)
}

fn month_of(word: &str) -> Option<u8> {
    // `3月` / `03月` (ja, zh); `3월` is read by month_from_name.
    if let Some(n) = word.strip_suffix('月') {
        return n.parse::<u8>().ok().filter(|m| (1..=12).contains(m));
    }
    if word.bytes().next().is_some_and(|c| c.is_ascii_digit()) && !word.ends_with('월') {
        return None;
    }
    month_from_name(word.as_bytes()).or_else(|| month_extra(word))
}

/// A clock reading, before the zone is applied: civil nanoseconds and the zone the line named.
fn finish(days: i64, tod: i64, zone: Option<Result<i32, ()>>) -> RawTime {
    let civil = days * 86_400 * NANOS + tod;
    match zone {
        Some(Ok(off)) => RawTime::Exact { unix_nanos: civil - off as i64 * NANOS, offset_secs: off },
        _ => RawTime::Naive { civil_nanos: civil },
    }
}

/// Reads a zone word: a numeric offset (`+0900`, `+09:00`, `+09`, glibc's `+06` for zones without an
/// abbreviation) or an abbreviation. `Some(Err)` for an ambiguous or unknown upper-case abbreviation.
fn zone_word(w: &str) -> Option<Result<i32, ()>> {
    if matches!(w.as_bytes().first(), Some(b'+' | b'-')) {
        return parse_offset(w.as_bytes()).filter(|(_, n)| *n == w.len()).map(|(o, _)| Ok(o));
    }
    if (1..=5).contains(&w.len()) && w.bytes().all(|c| c.is_ascii_uppercase()) {
        return Some(match zone_abbrev(w) {
            Some(Zone::Offset(o)) => Ok(o),
            _ => Err(()),
        });
    }
    None
}

/// Reads the line `date` printed (any form listed in the module documentation). `None` when the line
/// is not a full date and time of day.
pub fn parse_date_output(line: &[u8]) -> Option<RawTime> {
    let text = String::from_utf8_lossy(line);
    let mut t = text.trim();
    for label in ["Local time:", "Universal time:"] {
        if let Some(r) = t.strip_prefix(label) {
            t = r.trim_start();
        }
    }
    if t.is_empty() || t.len() > 120 {
        return None;
    }
    // ISO 8601 / RFC 3339 (`--rfc-3339`, `-I`), possibly followed by an abbreviation.
    if let Some((raw, n)) = parse_iso(t.as_bytes()) {
        let rest = t[n..].trim();
        return match (raw, rest) {
            (raw, "") => Some(raw),
            (RawTime::Naive { civil_nanos }, z) => match zone_word(z) {
                Some(Ok(off)) => {
                    Some(RawTime::Exact { unix_nanos: civil_nanos - off as i64 * NANOS, offset_secs: off })
                }
                Some(Err(())) => Some(raw),
                None => None,
            },
            _ => None,
        };
    }
    let (mut year, mut month, mut day) = (None::<i64>, None::<u8>, None::<u32>);
    let mut month_named = false;
    let mut tod = None::<i64>;
    let mut pm = None::<bool>;
    let mut zone = None::<Result<i32, ()>>;
    let mut numbers: Vec<u32> = Vec::new();
    for raw in t.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        // Weekdays in parentheses (`(화)`) and the like carry nothing.
        if raw.starts_with('(') {
            continue;
        }
        if let Some(d) = raw.strip_suffix('日').and_then(|n| n.parse::<u32>().ok()) {
            day = Some(d);
            continue;
        }
        if let Some(y) = raw.strip_suffix('年').and_then(|n| n.parse::<i64>().ok()) {
            year = Some(y);
            continue;
        }
        let w = raw.trim_end_matches('.');
        if tod.is_none() && w.contains(':') && w.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
            // `9:14:07` (nl_NL pads the hour with a space) reads as `09:14:07`.
            let padded;
            let b = if w.as_bytes().get(1) == Some(&b':') {
                padded = format!("0{w}");
                padded.as_bytes()
            } else {
                w.as_bytes()
            };
            let (n, used) = parse_hms(b)?;
            if used != b.len() {
                // A time followed directly by its offset (`09:14:07+0900`).
                zone = Some(Ok(parse_offset(&b[used..]).filter(|(_, k)| used + k == b.len())?.0));
            }
            tod = Some(n);
            continue;
        }
        match w {
            "AM" | "am" | "a.m" | "午前" | "오전" => {
                pm = Some(false);
                continue;
            }
            "PM" | "pm" | "p.m" | "午後" | "오후" => {
                pm = Some(true);
                continue;
            }
            _ => {}
        }
        if w.len() == 10 && w.as_bytes()[4] == b'-' {
            if let Some(days) = super::civil::parse_ymd(w.as_bytes()) {
                let (y, m, d) = rootline_event::civil_from_days(days);
                (year, month, day) = (Some(y), Some(m as u8), Some(d));
                continue;
            }
        }
        if w.bytes().all(|c| c.is_ascii_digit()) {
            if w.len() == 4 {
                year = Some(w.parse().ok()?);
            } else if w.len() <= 2 {
                numbers.push(w.parse().ok()?);
            } else {
                return None;
            }
            continue;
        }
        if tod.is_some() {
            if let Some(z) = zone_word(w) {
                zone = Some(z);
                continue;
            }
        }
        if let Some(m) = month_of(w) {
            // A weekday may share its letters with a month (es/it `mar` is Tuesday and March):
            // weekdays come first, so the last month name wins.
            month = Some(m);
            month_named = true;
            continue;
        }
        if w.chars().all(char::is_alphabetic) {
            continue; // a weekday
        }
        return None;
    }
    // Numbers left: the day after a month name, or month and day after the year (ko: `2025. 03. 11.`).
    match (month_named || month.is_some(), numbers.as_slice()) {
        (true, [d]) if day.is_none() => day = Some(*d),
        (true, []) => {}
        (false, [m, d]) if day.is_none() => {
            month = u8::try_from(*m).ok();
            day = Some(*d);
        }
        _ => return None,
    }
    let (y, m, d, mut tod) = (year?, month?, day?, tod?);
    if let Some(pm) = pm {
        let h = tod / (3600 * NANOS);
        if !(1..=12).contains(&h) {
            return None;
        }
        if pm && h != 12 {
            tod += 12 * 3600 * NANOS;
        } else if !pm && h == 12 {
            tod -= 12 * 3600 * NANOS;
        }
    }
    if !valid_date(y, m as u32, d) {
        return None;
    }
    Some(finish(days_from_civil(y, m as u32, d), tod, zone))
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
            "2025年  3月 11日 火曜日 09:14:07 KST",
            "2025年 03月 11日 星期二 09:14:07 KST",
            "Tue 11 Mar 09:14:07 KST 2025",
            "mar 11 mar 2025 09:14:07 KST",
            "mar 11 mar 2025, 09:14:07, KST",
            "ter 11 mar 2025 09:14:07 KST",
            "Вт 11 мар 2025 09:14:07 KST",
            "di 11 mrt 2025  9:14:07 KST",
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
        assert_eq!(exact("vr  7 mrt 2025  1:14:07 CET").0, 1_741_306_447);
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
            "Tue Mar 11 13:14:07 PM KST 2025",
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

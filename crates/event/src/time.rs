//! The resolved wall-clock time of an event.

use std::cmp::Ordering;
use std::fmt;

/// An instant with nanosecond precision, plus the UTC offset it was written in (for display).
///
/// Ordering and equality look at the instant only: `19:51:02+09:00` equals `10:51:02Z`.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub unix_nanos: i64,
    /// Offset from UTC in seconds that the source used (or that rootline resolved it in).
    pub offset_secs: i32,
}

impl PartialEq for Timestamp {
    fn eq(&self, o: &Self) -> bool {
        self.unix_nanos == o.unix_nanos
    }
}
impl Eq for Timestamp {}
impl PartialOrd for Timestamp {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, o: &Self) -> Ordering {
        self.unix_nanos.cmp(&o.unix_nanos)
    }
}

impl Timestamp {
    /// An instant `unix_nanos` after the epoch, to be shown at UTC offset `offset_secs`.
    pub fn from_unix_nanos(unix_nanos: i64, offset_secs: i32) -> Self {
        Timestamp { unix_nanos, offset_secs }
    }

    /// The civil date and time at the stored offset: (year, month, day, hour, minute, second, nanos).
    pub fn civil(&self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let local = self.unix_nanos as i128 + self.offset_secs as i128 * 1_000_000_000;
        let secs = local.div_euclid(1_000_000_000) as i64;
        let nanos = local.rem_euclid(1_000_000_000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, nanos)
    }

    /// RFC 3339 with the stored offset; fractional seconds only when non-zero, trailing zeros
    /// trimmed to 3, 6 or 9 digits (`2025-10-13T19:51:02.123+09:00`).
    pub fn to_rfc3339(&self) -> String {
        let mut s = String::with_capacity(35);
        self.write_rfc3339(&mut s).expect("writing to a String cannot fail");
        s
    }

    /// Writes [`Timestamp::to_rfc3339`] into `out` without allocating.
    pub fn write_rfc3339<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let (y, mo, d, h, mi, s, ns) = self.civil();
        write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        write_frac(out, ns)?;
        write_offset(out, self.offset_secs, true)
    }

    /// Appends [`Timestamp::to_rfc3339`] to `out`, hand-formatted (this runs once per `--json` line).
    pub fn push_rfc3339(&self, out: &mut Vec<u8>) {
        let (y, mo, d, h, mi, s, ns) = self.civil();
        let a = self.offset_secs.unsigned_abs();
        if !(0..=9999).contains(&y) || a / 3600 > 99 {
            out.extend_from_slice(self.to_rfc3339().as_bytes());
            return;
        }
        let put = |out: &mut Vec<u8>, width: usize, v: u32| {
            let mut b = [0u8; 9];
            let mut v = v;
            for c in b[..width].iter_mut().rev() {
                *c = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.extend_from_slice(&b[..width]);
        };
        put(out, 4, y as u32);
        out.push(b'-');
        put(out, 2, mo);
        out.push(b'-');
        put(out, 2, d);
        out.push(b'T');
        put(out, 2, h);
        out.push(b':');
        put(out, 2, mi);
        out.push(b':');
        put(out, 2, s);
        if ns != 0 {
            out.push(b'.');
            if ns.is_multiple_of(1_000_000) {
                put(out, 3, ns / 1_000_000);
            } else if ns.is_multiple_of(1000) {
                put(out, 6, ns / 1000);
            } else {
                put(out, 9, ns);
            }
        }
        if self.offset_secs == 0 {
            out.push(b'Z');
        } else {
            out.push(if self.offset_secs < 0 { b'-' } else { b'+' });
            put(out, 2, a / 3600);
            out.push(b':');
            put(out, 2, a / 60 % 60);
        }
    }

    /// A compact form for terminals: `2025-10-13 19:51:02.123456 +0900` (always 32 characters for
    /// years 0-9999). Hand-formatted: this runs once per printed line.
    pub fn push_display(&self, out: &mut String) {
        out.push_str(std::str::from_utf8(&self.display_bytes()).expect("ASCII digits"));
    }

    /// [`Timestamp::push_display`] as its 32 ASCII bytes (years clamped to 0-9999).
    pub fn display_bytes(&self) -> [u8; 32] {
        let (y, mo, d, h, mi, s, ns) = self.civil();
        let a = self.offset_secs.unsigned_abs();
        let mut b = *b"0000-00-00 00:00:00.000000 +0000";
        let put = |b: &mut [u8; 32], at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(&mut b, 0, 4, y.clamp(0, 9999) as u32);
        put(&mut b, 5, 2, mo);
        put(&mut b, 8, 2, d);
        put(&mut b, 11, 2, h);
        put(&mut b, 14, 2, mi);
        put(&mut b, 17, 2, s);
        put(&mut b, 20, 6, ns / 1000);
        if self.offset_secs < 0 {
            b[27] = b'-';
        }
        put(&mut b, 28, 2, a / 3600);
        put(&mut b, 30, 2, a / 60 % 60);
        b
    }

    /// [`Timestamp::push_display`] through a formatter.
    pub fn write_display<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let mut s = String::with_capacity(32);
        self.push_display(&mut s);
        out.write_str(&s)
    }

    /// The same instant shown at another offset.
    pub fn with_offset(self, offset_secs: i32) -> Self {
        Timestamp { offset_secs, ..self }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339(f)
    }
}

fn write_frac<W: fmt::Write>(out: &mut W, ns: u32) -> fmt::Result {
    if ns == 0 {
        Ok(())
    } else if ns.is_multiple_of(1_000_000) {
        write!(out, ".{:03}", ns / 1_000_000)
    } else if ns.is_multiple_of(1000) {
        write!(out, ".{:06}", ns / 1000)
    } else {
        write!(out, ".{ns:09}")
    }
}

fn write_offset<W: fmt::Write>(out: &mut W, off: i32, colon: bool) -> fmt::Result {
    if off == 0 && colon {
        return out.write_char('Z');
    }
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    if colon {
        write!(out, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
    } else {
        write!(out, "{sign}{:02}{:02}", a / 3600, a / 60 % 60)
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
// See: Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_forms() {
        let t = Timestamp::from_unix_nanos(1_760_352_662_123_000_000, 9 * 3600);
        assert_eq!(t.to_rfc3339(), "2025-10-13T19:51:02.123+09:00");
        assert_eq!(t.with_offset(0).to_rfc3339(), "2025-10-13T10:51:02.123Z");
        let t = Timestamp::from_unix_nanos(1_760_352_662_000_000_001, -5 * 3600 - 1800);
        assert_eq!(t.to_rfc3339(), "2025-10-13T05:21:02.000000001-05:30");
    }

    #[test]
    fn pushed_rfc3339_equals_the_formatted_one() {
        let offsets = [0, 9 * 3600, -(3 * 3600 + 1800), 5 * 3600 + 45 * 60, -1, 100 * 3600];
        let nanos = [0, 1, 999_999_999, 123_000_000, 123_456_000, 123_456_789, -1, -1_000_000_000];
        for base in [
            0i64,
            1_760_352_662_000_000_000,
            -2_000_000_000_000_000_000,
            i64::MIN + 2_000_000_000,
            i64::MAX - 2_000_000_000,
        ] {
            for n in nanos {
                for off in offsets {
                    let t = Timestamp::from_unix_nanos(base.saturating_add(n), off);
                    let mut got = Vec::new();
                    t.push_rfc3339(&mut got);
                    assert_eq!(String::from_utf8(got).unwrap(), t.to_rfc3339(), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn instants_compare_across_offsets() {
        let a = Timestamp::from_unix_nanos(5, 9 * 3600);
        let b = Timestamp::from_unix_nanos(5, 0);
        assert_eq!(a, b);
        assert!(Timestamp::from_unix_nanos(4, 3600) < b);
    }

    #[test]
    fn civil_roundtrip() {
        for days in [-800_000i64, -1, 0, 1, 59, 60, 11_016, 20_374, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2024, 2, 29) + 1, days_from_civil(2024, 3, 1));
    }

    #[test]
    fn display_form() {
        let t = Timestamp::from_unix_nanos(1_760_352_662_123_456_789, 9 * 3600);
        let mut s = String::new();
        t.push_display(&mut s);
        assert_eq!(s, "2025-10-13 19:51:02.123456 +0900");
        s.clear();
        t.with_offset(-(3 * 3600 + 1800)).push_display(&mut s);
        assert_eq!(s, "2025-10-13 07:21:02.123456 -0330");
    }

    #[test]
    fn pre_epoch_display() {
        let t = Timestamp::from_unix_nanos(-1, 0);
        assert_eq!(t.to_rfc3339(), "1969-12-31T23:59:59.999999999Z");
    }
}

//! The kernel ring buffer as `dmesg` and `/dev/kmsg` print it.
//!
//! Shapes read:
//! - `[12345.678901] msg`: seconds since boot (plain `dmesg`, serial consoles), with an optional printk
//!   caller id `[T1234]` / `[C3]` after the stamp (field `caller`);
//! - `dmesg -T`: `[Mon Oct 13 19:51:02 2025] msg` (a naive local time) and `--time-format iso`
//!   (`2025-10-13T19:51:02,123456+09:00 msg`);
//! - `dmesg -x`: `kern  :warn  : [12345.678901] msg` (facility and level decoded, stamp optional);
//! - `dmesg -r`: `<6>[12345.678901] msg` (raw priority prefix, stamp optional);
//! - `dmesg -e` / `--reltime`: `[Oct13 19:51] msg` then `[  +0.010370] msg` deltas from the previous
//!   message (a running year-less time is kept; the minute headers carry no seconds);
//! - `/dev/kmsg`: `6,1234,5678901,-;msg` (priority, sequence, microseconds since boot, flags), with the
//!   following ` KEY=value` dictionary lines read into fields (` SUBSYSTEM=scsi`, ` DEVICE=+scsi:0:0:0:0`).
//!
//! Multi-line reports (hung tasks with their call traces, soft lockups, OOM dumps) become one record
//! through [`super::ktrace`], as in the syslog parser. Lines `dmesg` indents under a multi-line message
//! are attached to it.
//!
//! See: util-linux dmesg(1) and `sys-utils/dmesg.c` (`print_record`, reltime and ctime formats),
//! the kernel's `Documentation/ABI/testing/dev-kmsg`, `kernel/printk/printk.c` (`CONFIG_PRINTK_CALLER`).

use std::borrow::Cow;

use rootline_event::{days_from_civil, Severity};

use super::ktrace::{ReportState, Role};
use super::util::{parse_u64, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{digits, month_from_name, parse_bsd, parse_fraction, parse_iso, valid_date};
use crate::time::RawTime;

const DAY_NANOS: i64 = 86_400_000_000_000;

/// True when `line` looks like a kernel ring buffer line of any supported shape.
pub fn detect(line: &[u8]) -> bool {
    split_kmsg(line).is_some() || matches!(split(line), Some(p) if p.stamped || p.prefixed)
}

/// A small bonus for names such as `dmesg`, `dmesg.txt`, `kmsg`, `kern.log`; content decides.
pub fn path_hint(path: &str) -> f32 {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path).to_ascii_lowercase();
    if base.starts_with("dmesg") || base.starts_with("kmsg") || base.starts_with("kern.log") {
        0.15
    } else {
        0.0
    }
}

/// A kernel ring buffer parser.
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(KernelParser::default())
}

/// Strips a printk caller id (`[T1234]`, `[C3]`) at the start of a message.
// See: kernel/printk/printk.c, CONFIG_PRINTK_CALLER ("[T%u]" for tasks, "[C%u]" for CPUs).
pub(crate) fn strip_caller_id(b: &[u8]) -> &[u8] {
    split_caller_id(b).1
}

/// Splits a caller id off the start of `b`: (`T1234`, rest after `]`) or (empty, `b`).
fn split_caller_id(b: &[u8]) -> (&[u8], &[u8]) {
    if let [b'[', b'T' | b'C', rest @ ..] = b {
        if let Some(end) = memchr::memchr(b']', rest) {
            if end > 0 && rest[..end].iter().all(u8::is_ascii_digit) {
                return (&b[1..end + 2], &rest[end + 1..]);
            }
        }
    }
    (b"", b)
}

/// The time shape a stamp had.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    None,
    Time(RawTime),
    /// `[Oct13 19:51]`: a reltime minute header.
    RelHeader {
        month: u8,
        day: u8,
        nanos_of_day: i64,
    },
    /// `[  +0.010370]`: nanoseconds since the previous message.
    RelDelta(i64),
}

/// One dmesg line taken apart.
struct Parts<'a> {
    stamp: Stamp,
    /// A stamp was present (any shape).
    stamped: bool,
    /// A `<N>` or `facility:level:` prefix was present.
    prefixed: bool,
    severity: Option<Severity>,
    facility: Option<&'a [u8]>,
    caller: &'a [u8],
    msg: &'a [u8],
}

fn facility_name(n: u64) -> &'static [u8] {
    super::util::FACILITIES.get(n as usize).copied().unwrap_or(b"kern")
}

/// Splits a dmesg-style line (everything but `/dev/kmsg`).
fn split(line: &[u8]) -> Option<Parts<'_>> {
    let mut p = Parts {
        stamp: Stamp::None,
        stamped: false,
        prefixed: false,
        severity: None,
        facility: None,
        caller: b"",
        msg: line,
    };
    let mut rest = line;
    // dmesg -r: "<6>" (facility * 8 + level).
    if rest.first() == Some(&b'[') {
        // The common plain stamp: no prefix (a facility name has no `[`).
    } else if rest.first() == Some(&b'<') {
        let end = rest.iter().take(6).position(|&c| c == b'>')?;
        let pri = parse_u64(&rest[1..end]).filter(|n| *n < 192)?;
        p.severity = Some(Severity::from_level(pri as u8));
        if pri >= 8 {
            p.facility = Some(facility_name(pri >> 3));
        }
        p.prefixed = true;
        rest = &rest[end + 1..];
    } else if let Some((fac, lvl, r)) = split_decoded(rest) {
        // dmesg -x: "kern  :warn  : ".
        p.facility = Some(fac);
        p.severity = Severity::from_word(&text(lvl));
        p.prefixed = true;
        rest = r;
    }
    if let Some((stamp, r)) = split_stamp(rest) {
        p.stamp = stamp;
        p.stamped = true;
        rest = r;
    }
    if !p.stamped && !p.prefixed {
        return None;
    }
    let (caller, r) = split_caller_id(rest);
    if !caller.is_empty() {
        p.caller = caller;
        rest = r.strip_prefix(b" ").unwrap_or(r);
    }
    p.msg = rest;
    Some(p)
}

/// `kern  :warn  : rest` -> (facility, level, rest).
fn split_decoded(b: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let c1 = b.iter().take(10).position(|&c| c == b':')?;
    let fac = trim(&b[..c1]);
    if !super::util::FACILITIES.contains(&fac) {
        return None;
    }
    let after = &b[c1 + 1..];
    let c2 = after.iter().take(10).position(|&c| c == b':')?;
    let lvl = trim(&after[..c2]);
    Severity::from_word(std::str::from_utf8(lvl).ok()?)?;
    let rest = &after[c2 + 1..];
    Some((fac, lvl, rest.strip_prefix(b" ").unwrap_or(rest)))
}

/// Reads a stamp at the start of `b` and returns it with the text after it (one space removed).
fn split_stamp(b: &[u8]) -> Option<(Stamp, &[u8])> {
    if let Some((nanos, end)) = boot_stamp(b) {
        return Some((Stamp::Time(RawTime::Boot { nanos }), strip_space(&b[end + 1..])));
    }
    if b.first() == Some(&b'[') {
        let end = memchr::memchr(b']', &b[..b.len().min(40)])?;
        let inner = &b[1..end];
        let stamp = parse_bracket(inner)?;
        return Some((stamp, strip_space(&b[end + 1..])));
    }
    // --time-format iso: "2025-10-13T19:51:02,123456+09:00 msg" (util-linux writes a comma).
    if b.len() > 20 && b.get(10) == Some(&b'T') && b.get(19) == Some(&b',') {
        let (t, n) = parse_iso(b)?;
        if matches!(t, RawTime::Exact { .. }) {
            return Some((Stamp::Time(t), strip_space(&b[n..])));
        }
    }
    None
}

fn strip_space(r: &[u8]) -> &[u8] {
    r.strip_prefix(b" ").unwrap_or(r)
}

/// The common stamp `[ 12345.678901]` read in one pass: (nanoseconds since boot, index of `]`).
/// `None` for any other shape, which [`parse_bracket`] then reads (and which reads this one alike;
/// so does [`super::syslog::strip_uptime`], which takes this path first too).
pub(crate) fn boot_stamp(b: &[u8]) -> Option<(i64, usize)> {
    let [b'[', rest @ ..] = b else { return None };
    let mut i = rest.iter().take_while(|c| **c == b' ').count();
    let (mut secs, start) = (0i64, i);
    while let Some(c) = rest.get(i).filter(|c| c.is_ascii_digit()) {
        secs = secs * 10 + (c - b'0') as i64;
        i += 1;
        if i - start > 10 {
            return None;
        }
    }
    if i == start || secs >= 1 << 32 || rest.get(i) != Some(&b'.') {
        return None;
    }
    i += 1;
    let (frac, n) = parse_fraction(&rest[i..]);
    i += n;
    // The `]` must be the first one within the 40 bytes `split_stamp` looks at.
    if n == 0 || n > 9 || rest.get(i) != Some(&b']') || i + 1 >= 40 {
        return None;
    }
    Some((secs * 1_000_000_000 + frac, i + 1))
}

/// The inside of a `[...]` stamp.
fn parse_bracket(inner: &[u8]) -> Option<Stamp> {
    let t = trim(inner);
    if let Some(d) = t.strip_prefix(b"+") {
        return parse_secs(d).map(Stamp::RelDelta);
    }
    if t.first().is_some_and(u8::is_ascii_digit) {
        return parse_secs(t).map(|nanos| Stamp::Time(RawTime::Boot { nanos }));
    }
    // dmesg -T: "Mon Oct 13 19:51:02 2025".
    if t.len() >= 24 && t.get(3) == Some(&b' ') {
        let (ylt, n) = parse_bsd(&t[4..])?;
        let RawTime::YearLess { month, day, nanos_of_day } = ylt else { return None };
        let yb = t[4 + n..].strip_prefix(b" ")?;
        let year = digits(yb, 4).filter(|_| yb.len() == 4)? as i64;
        if !valid_date(year, month as u32, day as u32) {
            return None;
        }
        let civil = days_from_civil(year, month as u32, day as u32) * DAY_NANOS + nanos_of_day;
        return Some(Stamp::Time(RawTime::Naive { civil_nanos: civil }));
    }
    // dmesg -e: "Oct13 19:51".
    let month = month_from_name(t.get(..3)?)?;
    let mut i = 3;
    while t.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let day = digits(&t[3..], i - 3).filter(|d| (1..=2).contains(&(i - 3)) && (1..=31).contains(d))?;
    let hm = t[i..].strip_prefix(b" ")?;
    if hm.len() != 5 || hm[2] != b':' {
        return None;
    }
    let (h, m) = (digits(hm, 2)?, digits(&hm[3..], 2)?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(Stamp::RelHeader { month, day: day as u8, nanos_of_day: (h as i64 * 3600 + m as i64 * 60) * 1_000_000_000 })
}

/// `12345.678901` -> nanoseconds.
fn parse_secs(b: &[u8]) -> Option<i64> {
    let dot = memchr::memchr(b'.', b)?;
    let s = parse_u64(&b[..dot]).filter(|s| *s < 1 << 32)?;
    let (frac, n) = parse_fraction(&b[dot + 1..]);
    (n > 0 && dot + 1 + n == b.len()).then_some(s as i64 * 1_000_000_000 + frac)
}

/// One `/dev/kmsg` record header.
struct Kmsg<'a> {
    pri: u64,
    seq: &'a [u8],
    usec: i64,
    caller: &'a [u8],
    msg: &'a [u8],
}

/// `6,1234,5678901,-[,caller=T1];msg`.
fn split_kmsg(line: &[u8]) -> Option<Kmsg<'_>> {
    let semi = memchr::memchr(b';', &line[..line.len().min(96)])?;
    let mut it = line[..semi].split(|&c| c == b',');
    let pri = parse_u64(it.next()?)?;
    let seq = it.next()?;
    parse_u64(seq)?;
    let usec = parse_u64(it.next()?)?;
    let flags = it.next()?;
    if flags.len() != 1 || !matches!(flags[0], b'-' | b'c' | b'+') || pri >= 1 << 16 || usec >= 1 << 60 {
        return None;
    }
    let mut caller: &[u8] = b"";
    for extra in it {
        if let Some(c) = extra.strip_prefix(b"caller=") {
            caller = c;
        }
    }
    Some(Kmsg { pri, seq, usec: (usec as i64).saturating_mul(1000), caller, msg: &line[semi + 1..] })
}

/// A `/dev/kmsg` record waiting for its dictionary lines.
struct Pending {
    at: LinePos,
    pri: u64,
    usec_nanos: i64,
    seq: String,
    caller: String,
    msg: Vec<u8>,
    dict: Vec<(String, String)>,
}

#[derive(Default)]
struct KernelParser {
    report: ReportState,
    /// Running reltime (`dmesg -e`): month, day, nanoseconds of day.
    rel: Option<(u8, u8, i64)>,
    pending: Option<Pending>,
    /// A record was seen (indented lines attach to it).
    seen: bool,
}

impl KernelParser {
    fn flush(&mut self, out: &mut dyn Sink) {
        let Some(p) = self.pending.take() else { return };
        let mut rec = Record::new(RawTime::Boot { nanos: p.usec_nanos }, &p.msg);
        rec.program = Some(Cow::Borrowed("kernel"));
        rec.severity = Some(Severity::from_level(p.pri as u8));
        if p.pri >= 8 {
            rec.fields.push((Cow::Borrowed("facility"), text(facility_name(p.pri >> 3))));
        }
        rec.fields.push((Cow::Borrowed("seq"), Cow::Borrowed(&p.seq)));
        if !p.caller.is_empty() {
            rec.fields.push((Cow::Borrowed("caller"), Cow::Borrowed(&p.caller)));
        }
        for (k, v) in &p.dict {
            rec.fields.push((Cow::Borrowed(k), Cow::Borrowed(v)));
        }
        out.record(p.at, rec);
    }

    fn feed_kmsg(&mut self, at: LinePos, k: Kmsg<'_>, out: &mut dyn Sink) {
        self.flush(out);
        if self.report.classify(k.msg) == Role::Continue {
            out.attach(at, k.msg);
            return;
        }
        self.seen = true;
        self.pending = Some(Pending {
            at,
            pri: k.pri,
            usec_nanos: k.usec,
            seq: text(k.seq).into_owned(),
            caller: text(k.caller).into_owned(),
            msg: k.msg.to_vec(),
            dict: Vec::new(),
        });
    }

    fn time_of(&mut self, stamp: Stamp) -> RawTime {
        match stamp {
            Stamp::None => RawTime::None,
            Stamp::Time(t) => t,
            Stamp::RelHeader { month, day, nanos_of_day } => {
                self.rel = Some((month, day, nanos_of_day));
                RawTime::YearLess { month, day, nanos_of_day }
            }
            Stamp::RelDelta(d) => match self.rel {
                Some((month, day, nanos)) => {
                    let (mut m, mut dd, mut n) = (month, day, nanos.saturating_add(d));
                    while n >= DAY_NANOS {
                        // A delta crossing midnight: step the day (a non-leap year's month lengths).
                        n -= DAY_NANOS;
                        (m, dd) = next_day(m, dd);
                    }
                    self.rel = Some((m, dd, n));
                    RawTime::YearLess { month: m, day: dd, nanos_of_day: n }
                }
                None => RawTime::None,
            },
        }
    }
}

fn next_day(m: u8, d: u8) -> (u8, u8) {
    if valid_date(2001, m as u32, d as u32 + 1) {
        (m, d + 1)
    } else if m == 12 {
        (1, 1)
    } else {
        (m + 1, 1)
    }
}

impl Parser for KernelParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if let Some(p) = &mut self.pending {
            // Dictionary lines of a /dev/kmsg record: " KEY=value".
            if let Some(kv) = line.strip_prefix(b" ") {
                if let Some(eq) = memchr::memchr(b'=', kv) {
                    let key = &kv[..eq];
                    if !key.is_empty() && key.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
                    {
                        p.dict.push((text(key).into_owned(), text(&kv[eq + 1..]).into_owned()));
                        out.skip(at);
                        return;
                    }
                }
            }
        }
        // A /dev/kmsg header starts with its priority's digits (dmesg lines start with `[`).
        if let Some(k) = line.first().filter(|c| c.is_ascii_digit()).and_then(|_| split_kmsg(line)) {
            self.feed_kmsg(at, k, out);
            return;
        }
        self.flush(out);
        let Some(p) = split(line) else {
            if trim(line).is_empty() {
                out.skip(at);
            } else if self.seen && line.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
                // dmesg indents the further lines of a multi-line message under its text.
                out.attach(at, line);
            } else {
                out.unparsed(at, line);
            }
            return;
        };
        let time = self.time_of(p.stamp);
        if self.report.classify(p.msg) == Role::Continue {
            out.attach(at, p.msg);
            return;
        }
        self.seen = true;
        let mut rec = Record::new(time, p.msg);
        rec.program = Some(Cow::Borrowed("kernel"));
        rec.severity = p.severity;
        if let Some(f) = p.facility {
            rec.fields.push((Cow::Borrowed("facility"), text(f)));
        }
        if !p.caller.is_empty() {
            rec.fields.push((Cow::Borrowed("caller"), text(p.caller)));
        }
        out.record(at, rec);
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    fn p() -> Box<dyn Parser> {
        parser(&SourceCtx::default())
    }

    #[test]
    fn plain_stamps_and_caller_ids() {
        let got = run(
            p(),
            "[    0.000000] Linux version 6.1.0-56-amd64\n\
             [ 5123.000100] [T1234] sd 3:0:0:1: [sdv] tag#12 FAILED\n\
             [ 5123.000200] [C3] device-mapper: multipath: 253:21: Failing path 65:32.\n",
        );
        let r = records(&got);
        assert_eq!(r[0].0, RawTime::Boot { nanos: 0 });
        assert_eq!(r[1].0, RawTime::Boot { nanos: 5_123_000_100_000 });
        assert_eq!(r[1].2, "sd 3:0:0:1: [sdv] tag#12 FAILED");
        let Got::Rec { fields, program, .. } = &got[2] else { panic!() };
        assert_eq!(program.as_deref(), Some("kernel"));
        assert_eq!(fields, &[("caller".to_string(), "C3".to_string())]);
        assert_eq!(strip_caller_id(b"[T12] x"), b" x");
    }

    #[test]
    fn boot_stamp_agrees_with_the_general_reading() {
        let far = format!("[{}1.5] x", " ".repeat(35));
        for l in ["[    0.000000] x", "[86406.439282] x", "[4294967295.999999999] x", "[1.5]x", "[ 12.3456789] x", &far]
        {
            let b = l.as_bytes();
            let (nanos, end) = boot_stamp(b).expect(l);
            assert_eq!(b[end], b']');
            assert_eq!(parse_bracket(&b[1..end]), Some(Stamp::Time(RawTime::Boot { nanos })), "{l}");
        }
        // Shapes left to the general reading (which takes some of them).
        let too_far = format!("[{}1.5] x", " ".repeat(36));
        for l in [
            "[\t1.5] x",
            "[ 1.5 ] x",
            "[00000000001.5] x",
            "[1.1234567891] x",
            "[4294967296.0] x",
            "[1.] x",
            "[.5] x",
            "[+1.5] x",
            "[ 1.5",
            "[1x5] x",
            &too_far,
        ] {
            assert_eq!(boot_stamp(l.as_bytes()), None, "{l}");
        }
        assert_eq!(
            split_stamp(b"[1.1234567891] x").map(|s| s.0),
            Some(Stamp::Time(RawTime::Boot { nanos: 1_123_456_789 }))
        );
        assert_eq!(split_stamp(too_far.as_bytes()).map(|s| s.0), None);
    }

    #[test]
    fn ctime_iso_and_decoded() {
        let got = run(
            p(),
            "[Mon Oct 13 19:51:02 2025] device-mapper: multipath: 253:31: Failing path 65:64.\n\
             [Mon Oct  6 09:01:02 2025] x\n\
             2025-10-13T19:51:02,123456+09:00 sd 4:0:0:2: [sdu] rejecting I/O to offline device\n\
             kern  :warn  : [ 5123.100000] device-mapper: multipath: 253:31: Failing path 65:80.\n\
             daemon:info  : systemd-udevd[117]: starting\n\
             kern  :err   : [Mon Oct 13 19:51:03 2025] blk_update_request: I/O error, dev dm-31\n",
        );
        let r = records(&got);
        let civil = (days_from_civil(2025, 10, 13) * 86_400 + 19 * 3600 + 51 * 60 + 2) * 1_000_000_000;
        assert_eq!(r[0].0, RawTime::Naive { civil_nanos: civil });
        assert!(matches!(r[1].0, RawTime::Naive { .. }));
        assert!(matches!(r[2].0, RawTime::Exact { offset_secs: 32_400, .. }));
        let Got::Rec { severity, fields, time, message, .. } = &got[3] else { panic!() };
        assert_eq!(*severity, Some(Severity::Warning));
        assert_eq!(fields[0], ("facility".to_string(), "kern".to_string()));
        assert_eq!(*time, RawTime::Boot { nanos: 5_123_100_000_000 });
        assert_eq!(message, "device-mapper: multipath: 253:31: Failing path 65:80.");
        let Got::Rec { severity, time, .. } = &got[4] else { panic!() };
        assert_eq!((*severity, *time), (Some(Severity::Info), RawTime::None));
        assert!(matches!(&got[5], Got::Rec { time: RawTime::Naive { .. }, severity: Some(Severity::Err), .. }));
    }

    #[test]
    fn raw_priority_prefix() {
        let got = run(p(), "<4>[ 5123.000100] sd 3:0:0:1: [sdv] tag#12 FAILED\n<30>systemd[1]: hello\n");
        assert!(matches!(&got[0], Got::Rec { severity: Some(Severity::Warning), time: RawTime::Boot { .. }, .. }));
        let Got::Rec { fields, severity, .. } = &got[1] else { panic!() };
        assert_eq!(*severity, Some(Severity::Info));
        assert_eq!(fields[0].1, "daemon");
    }

    #[test]
    fn reltime_keeps_a_running_time() {
        let got = run(p(), "[Oct13 19:51] first\n[  +0.010370] second\n[  +2.500000] third\n[Oct13 19:52] fourth\n");
        let r = records(&got);
        let base = 71_460_000_000_000;
        assert_eq!(r[0].0, RawTime::YearLess { month: 10, day: 13, nanos_of_day: base });
        assert_eq!(r[1].0, RawTime::YearLess { month: 10, day: 13, nanos_of_day: base + 10_370_000 });
        assert_eq!(r[2].0, RawTime::YearLess { month: 10, day: 13, nanos_of_day: base + 2_510_370_000 });
        assert_eq!(r[3].0, RawTime::YearLess { month: 10, day: 13, nanos_of_day: base + 60_000_000_000 });
        // A delta past midnight steps the day.
        let got = run(p(), "[Oct31 23:59] a\n[ +90.000000] b\n");
        assert_eq!(records(&got)[1].0, RawTime::YearLess { month: 11, day: 1, nanos_of_day: 30_000_000_000 });
    }

    #[test]
    fn dev_kmsg_with_dictionary() {
        let got = run(
            p(),
            "3,1234,5123000100,-;sd 3:0:0:1: [sdv] tag#12 FAILED Result: hostbyte=DID_TRANSPORT_DISRUPTED\n \
             SUBSYSTEM=scsi\n \
             DEVICE=+scsi:3:0:0:1\n\
             6,1235,5123000200,-,caller=T88;device-mapper: multipath: 253:21: Failing path 65:32.\n",
        );
        let Got::Rec { line, time, severity, fields, .. } = &got[2] else { panic!("{got:?}") };
        assert_eq!(*line, 1);
        assert_eq!(*time, RawTime::Boot { nanos: 5_123_000_100_000 });
        assert_eq!(*severity, Some(Severity::Err));
        assert!(fields.contains(&("SUBSYSTEM".to_string(), "scsi".to_string())));
        assert!(fields.contains(&("DEVICE".to_string(), "+scsi:3:0:0:1".to_string())));
        assert!(fields.contains(&("seq".to_string(), "1234".to_string())));
        assert_eq!(got[0], Got::Skip(2));
        let Got::Rec { fields, .. } = &got[3] else { panic!() };
        assert!(fields.contains(&("caller".to_string(), "T88".to_string())));
    }

    #[test]
    fn hung_task_report_is_grouped() {
        let got = run(
            p(),
            "[   57.021751] INFO: task jbd2/dm-0-8:275 blocked for more than 10 seconds.\n\
             [   57.022196]       Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-2\n\
             [   57.023480] Call Trace:\n\
             [   57.024108]  <TASK>\n\
             [   57.024200]  __schedule+0x34d/0xa00\n\
             [   57.029084]  </TASK>\n\
             [   57.030000] device-mapper: multipath: 254:0: Failing path 8:0.\n",
        );
        assert_eq!(records(&got).len(), 2);
        assert_eq!(got[1], Got::Attach(2, "      Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-2".into()));
        assert!(matches!(got[6], Got::Rec { line: 7, .. }));
    }

    #[test]
    fn near_misses_and_garbage() {
        for l in [
            "Oct 13 19:51:02 host kernel: [ 1.0] x",
            "[abc] not a stamp",
            "[12345] no fraction",
            "kern: something",
            "6,1,2,x;bad flags",
            "=== 2026-11-28 22:38:28 [5.28] lab start",
            "2025-10-13T19:51:02.123+09:00 iso with a dot is not dmesg",
            "<999>[1.0] x",
        ] {
            assert!(!detect(l.as_bytes()), "{l}");
        }
        assert!(detect(b"[    0.000000] Linux version"));
        let got = run(p(), "garbage\n\n\x01\x02[\n[ 99999999999999999999.1] x\n");
        assert_eq!(got[0], Got::Unparsed(1, "garbage".into()));
        assert_eq!(got[1], Got::Skip(2));
        assert!(matches!(got[2], Got::Unparsed(3, _)));
        assert!(matches!(got[3], Got::Unparsed(4, _)));
        assert_eq!(path_hint("var/log/dmesg"), 0.15);
        assert_eq!(path_hint("var/log/messages"), 0.0);
    }
}

//! `journalctl` output in the forms operators save:
//!
//! - `-o short` (`Oct 13 19:51:02 host prog[pid]: msg`, the syslog shape), `short-precise`
//!   (`Oct 13 19:51:02.123456 ...`), `short-iso` (`2025-10-13T19:51:02+0900 host prog[pid]: msg`) and
//!   `short-iso-precise`: read with [`super::syslog::split`];
//! - `short-monotonic` (`[ 5123.456789] host prog[pid]: msg`): seconds since boot ([`RawTime::Boot`]);
//! - `-o json`: one object per line; `__REALTIME_TIMESTAMP`/`__MONOTONIC_TIMESTAMP` are microsecond
//!   strings, `MESSAGE` is a string or, when not UTF-8, an array of byte values;
//! - `-o export`: `KEY=value` lines, entries separated by a blank line; a binary field is the key alone
//!   on its line, then a little-endian u64 length and that many bytes (which may hold newlines), then
//!   a newline.
//!
//! Header lines (`-- Logs begin at ... --`, `-- Journal begins at ...`, `-- No entries --`) are
//! skipped; `-- Boot <id> --` and `-- Reboot --` change the boot id of the records after them. Lines
//! indented to the message column continue the previous record. Kernel lines group multi-line reports
//! with [`super::ktrace`], and klog messages (kubelet) give their severity and fields as in syslog.
//!
//! See: systemd `journalctl(1)` (`--output=` modes), systemd "Journal Export Formats" (export and
//! JSON: binary fields, byte arrays, `null` for oversized values), `systemd.journal-fields(7)`
//! (`_BOOT_ID`, `_HOSTNAME`, `SYSLOG_IDENTIFIER`, `_SYSTEMD_UNIT`, `CONTAINER_NAME`, ...).

use std::borrow::Cow;

use rootline_event::Severity;

use super::ktrace::{ReportState, Role};
use super::logfmt::cow_text;
use super::syslog::Recent;
use super::util::{parse_u64, split_prog_pid, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{parse_bsd, parse_fraction, parse_iso};
use crate::time::RawTime;

/// True for the lines only journalctl writes: its marker lines, JSON and export entries,
/// `short-monotonic` lines, `short-iso` offsets without a colon, and `short-precise` microseconds.
/// Plain `-o short` lines are left to syslog (the same shape).
pub fn detect(line: &[u8]) -> bool {
    match line.first() {
        Some(b'-') => marker(line).is_some(),
        Some(b'{') => {
            memchr::memmem::find(line, b"\"__REALTIME_TIMESTAMP\"").is_some()
                || memchr::memmem::find(line, b"\"__CURSOR\"").is_some()
        }
        Some(b'[') => split_monotonic(line).is_some_and(|m| m.tag == b"kernel" || m.tag.ends_with(b"]")),
        Some(c) if c.is_ascii_digit() => {
            let Some((RawTime::Exact { .. }, n)) = parse_iso(line) else {
                return false;
            };
            // `+0900`: journalctl's strftime("%z"); rsyslog writes `+09:00`.
            n >= 5
                && matches!(line[n - 5], b'+' | b'-')
                && line[n - 4..n].iter().all(u8::is_ascii_digit)
                && has_tag(line)
        }
        Some(b'_') => is_export_line(line),
        Some(c) if c.is_ascii_alphabetic() => {
            if is_export_line(line) {
                return true;
            }
            // short-precise: `Oct 13 19:51:02.123456 host`: exactly microseconds.
            let Some((_, n)) = parse_bsd(line) else {
                return false;
            };
            n > 7 && line[n - 7] == b'.' && has_tag(line)
        }
        _ => false,
    }
}

fn has_tag(line: &[u8]) -> bool {
    super::syslog::split(line).is_some_and(|p| !p.tag.is_empty() && !p.host.is_empty())
}

/// Path hint: a small bonus for names that say journal.
pub fn path_hint(path: &str) -> f32 {
    let base = path.rsplit(['/', '!']).next().unwrap_or("");
    if base.contains("journal") {
        0.2
    } else {
        0.0
    }
}

/// A journal parser (every journalctl output mode; the mode is seen per line).
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(JournalParser::default())
}

#[derive(Default)]
struct JournalParser {
    report: ReportState,
    /// Boot id set by `-- Boot <id> --` / `-- Reboot --` markers, for short forms.
    boot: Option<String>,
    reboots: u32,
    have_record: bool,
    /// The export entry being assembled.
    export: Option<Entry<'static>>,
    /// The binary export field being read.
    bin: Option<Binary>,
    /// Scratch for decoded JSON messages (reused: no allocation per line once grown).
    scratch: Vec<u8>,
    /// Hosts and programs of short lines.
    hosts: Recent,
    programs: Recent,
    /// The dates journalctl's header says the output spans (`-- Journal begins at Mon 2025-01-20
    /// 20:47:35 IST, ends at Tue 2025-03-11 09:55:00 IST. --`): the year of the short forms' lines.
    span: Option<Span>,
}

/// A calendar date: (year, month, day).
type Date = (i64, u32, u32);

/// The first and last date of a journal's output.
type Span = (Date, Date);

/// The first and last date of a journalctl header line, as (year, month, day).
/// See: systemd journalctl.c (`-- Logs begin at %s, end at %s. --` before v250, `-- Journal begins
/// at %s, ends at %s. --` from v250), dates in `%a %Y-%m-%d %H:%M:%S %Z`.
fn header_span(line: &[u8]) -> Option<Span> {
    let mut dates = Vec::new();
    let mut i = 0;
    while i + 10 <= line.len() && dates.len() < 2 {
        if line[i].is_ascii_digit() && (i == 0 || line[i - 1] == b' ') {
            if let Some(days) = crate::time::civil::parse_ymd(&line[i..]) {
                dates.push(rootline_event::civil_from_days(days));
                i += 10;
                continue;
            }
        }
        i += 1;
    }
    match dates.as_slice() {
        [a, b] => Some((*a, *b)),
        [a] => Some((*a, *a)),
        _ => None,
    }
}

/// A year-less time of a line inside `span`: the year that puts the date within it (the end's year
/// when both could), as a naive local time.
fn in_span(t: RawTime, span: Span) -> RawTime {
    let RawTime::YearLess { month, day, nanos_of_day } = t else { return t };
    let ((y0, m0, d0), (y1, m1, d1)) = span;
    let key = (month as u32, day as u32);
    let year = (y0..=y1)
        .rev()
        .find(|y| {
            let after = *y > y0 || key >= (m0, d0);
            let before = *y < y1 || key <= (m1, d1);
            after && before && crate::time::civil::valid_date(*y, key.0, key.1)
        })
        // A line outside the span (a clock step): the year whose date is nearest its end.
        .unwrap_or(if key > (m1, d1) { y1 - 1 } else { y1 });
    if !crate::time::civil::valid_date(year, key.0, key.1) {
        return t;
    }
    let civil = rootline_event::days_from_civil(year, key.0, key.1) * 86_400_000_000_000 + nanos_of_day;
    RawTime::Naive { civil_nanos: civil }
}

/// A marker line.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    Header,
    Boot(&'a [u8]),
    Reboot,
}

fn marker(line: &[u8]) -> Option<Marker<'_>> {
    let rest = line.strip_prefix(b"-- ")?;
    if rest.starts_with(b"Logs begin at ")
        || rest.starts_with(b"Journal begins at ")
        || rest.starts_with(b"No entries --")
        || rest.starts_with(b"Logs end at ")
    {
        return Some(Marker::Header);
    }
    if rest == b"Reboot --" {
        return Some(Marker::Reboot);
    }
    let id = rest.strip_prefix(b"Boot ")?.strip_suffix(b" --")?;
    (!id.is_empty() && id.len() <= 64 && id.iter().all(u8::is_ascii_alphanumeric)).then_some(Marker::Boot(id))
}

/// A `short-monotonic` line.
struct Mono<'a> {
    nanos: i64,
    host: &'a [u8],
    tag: &'a [u8],
    msg: &'a [u8],
}

fn split_monotonic(line: &[u8]) -> Option<Mono<'_>> {
    let rest = line.strip_prefix(b"[")?;
    let end = memchr::memchr(b']', &rest[..rest.len().min(32)])?;
    let stamp = trim(&rest[..end]);
    let dot = memchr::memchr(b'.', stamp)?;
    let secs = parse_u64(&stamp[..dot])?;
    let (frac, n) = parse_fraction(&stamp[dot + 1..]);
    if n == 0 || dot + 1 + n != stamp.len() || secs > 1 << 32 {
        return None;
    }
    let rest = rest[end + 1..].strip_prefix(b" ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let host = &rest[..sp];
    if host.is_empty() || host.iter().any(|c| matches!(c, b':' | b'[' | b']' | b'(' | b'=')) {
        return None;
    }
    let (tag, msg) = super::syslog::split_tag(&rest[sp + 1..]);
    if tag.is_empty() || !tag[0].is_ascii_alphabetic() {
        return None;
    }
    Some(Mono { nanos: secs as i64 * 1_000_000_000 + frac, host, tag, msg })
}

/// An export or JSON entry: the values rootline uses, borrowed from a JSON line or owned (export).
#[derive(Default)]
struct Entry<'a> {
    at: Option<LinePos>,
    realtime_us: Option<u64>,
    monotonic_us: Option<u64>,
    boot_id: Option<Cow<'a, str>>,
    host: Option<Cow<'a, str>>,
    ident: Option<Cow<'a, str>>,
    comm: Option<Cow<'a, str>>,
    pid: Option<u32>,
    syslog_pid: Option<u32>,
    priority: Option<u8>,
    message: Option<Cow<'a, [u8]>>,
    fields: Vec<(&'static str, Cow<'a, str>)>,
}

/// Journal fields kept as event fields, by rootline name.
const FIELD_MAP: &[(&[u8], &str)] = &[
    (b"_SYSTEMD_UNIT", "unit"),
    (b"UNIT", "about_unit"),
    (b"_SYSTEMD_USER_UNIT", "user_unit"),
    (b"CONTAINER_NAME", "container"),
    (b"CONTAINER_ID_FULL", "container_id"),
    (b"CONTAINER_ID", "container_id"),
    (b"CONTAINER_TAG", "container_tag"),
    (b"IMAGE_NAME", "image"),
    (b"_TRANSPORT", "transport"),
    (b"SYSLOG_FACILITY", "facility"),
    (b"_KERNEL_DEVICE", "kernel_device"),
    (b"_KERNEL_SUBSYSTEM", "subsystem"),
    (b"MESSAGE_ID", "message_id"),
    (b"ERRNO", "errno"),
];

fn num(v: &[u8]) -> Option<u64> {
    parse_u64(trim(v))
}

impl<'a> Entry<'a> {
    /// Sets journal field `key` from its (decoded) value.
    fn set(&mut self, key: &[u8], v: Cow<'a, [u8]>) {
        match key {
            b"__REALTIME_TIMESTAMP" => self.realtime_us = num(&v),
            b"__MONOTONIC_TIMESTAMP" => self.monotonic_us = num(&v),
            b"_BOOT_ID" => self.boot_id = Some(cow_text(v)),
            b"_HOSTNAME" => self.host = Some(cow_text(v)),
            b"SYSLOG_IDENTIFIER" => self.ident = Some(cow_text(v)),
            b"_COMM" => self.comm = Some(cow_text(v)),
            b"_PID" => self.pid = num(&v).and_then(|p| u32::try_from(p).ok()),
            b"SYSLOG_PID" => self.syslog_pid = num(&v).and_then(|p| u32::try_from(p).ok()),
            b"PRIORITY" => self.priority = num(&v).filter(|p| *p <= 7).map(|p| p as u8),
            b"MESSAGE" => self.message = Some(v),
            _ => {
                let Some((_, name)) = FIELD_MAP.iter().find(|(k, _)| *k == key) else {
                    return;
                };
                let v = cow_text(v);
                // A field named twice (CONTAINER_ID and CONTAINER_ID_FULL) keeps the longer value.
                match self.fields.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) if slot.1.len() < v.len() => slot.1 = v,
                    Some(_) => {}
                    None => self.fields.push((name, v)),
                }
            }
        }
    }
}

/// Export keys are upper-case letters, digits and underscores, not starting with a digit.
fn is_key(k: &[u8]) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && !k[0].is_ascii_digit()
        && k.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// A `KEY=value` line whose key is a journal field name (trusted `_X`, address `__X`, or a
/// well-known user field), so environment dumps (`PATH=/usr/bin`) do not count.
fn is_export_line(line: &[u8]) -> bool {
    let Some(eq) = memchr::memchr(b'=', &line[..line.len().min(65)]) else {
        return false;
    };
    let key = &line[..eq];
    if !is_key(key) {
        return false;
    }
    const USER: &[&[u8]] = &[
        b"MESSAGE",
        b"MESSAGE_ID",
        b"PRIORITY",
        b"SYSLOG_FACILITY",
        b"SYSLOG_IDENTIFIER",
        b"SYSLOG_PID",
        b"SYSLOG_TIMESTAMP",
        b"SYSLOG_RAW",
        b"CODE_FILE",
        b"CODE_LINE",
        b"CODE_FUNC",
        b"ERRNO",
        b"INVOCATION_ID",
        b"UNIT",
        b"USER_UNIT",
        b"TID",
    ];
    (key.len() >= 2 && key[0] == b'_' && key[1..].iter().any(u8::is_ascii_uppercase))
        || USER.contains(&key)
        || key.starts_with(b"CONTAINER_")
        || key.starts_with(b"JOB_")
}

/// A binary export field in progress: its length bytes, then its data.
struct Binary {
    keep: bool,
    len: [u8; 8],
    have: usize,
    remaining: u64,
    data: Vec<u8>,
}

/// Longest binary value kept (the rest is consumed and dropped; lines are still all accounted).
const MAX_BINARY: usize = 1 << 20;

impl Binary {
    /// Feeds one physical line (its terminator was a `\n` that may be data). True when the field ended.
    fn feed<'l>(&mut self, line: &'l [u8]) -> (bool, &'l [u8]) {
        let mut rest = line;
        while self.have < 8 {
            match rest.split_first() {
                Some((c, r)) => {
                    self.len[self.have] = *c;
                    rest = r;
                }
                None => {
                    self.len[self.have] = b'\n';
                    self.have += 1;
                    if self.have == 8 {
                        self.remaining = u64::from_le_bytes(self.len);
                        return (self.remaining == 0, b"");
                    }
                    return (false, b"");
                }
            }
            self.have += 1;
            if self.have == 8 {
                self.remaining = u64::from_le_bytes(self.len);
            }
        }
        let take = (self.remaining.min(rest.len() as u64)) as usize;
        self.push(&rest[..take]);
        self.remaining -= take as u64;
        let leftover = &rest[take..];
        if !leftover.is_empty() {
            // The value ended before the line did: malformed; the caller reports the rest.
            return (true, leftover);
        }
        if self.remaining == 0 {
            return (true, b"");
        }
        self.push(b"\n");
        self.remaining -= 1;
        (false, b"")
    }

    fn push(&mut self, b: &[u8]) {
        if self.keep && self.data.len() + b.len() <= MAX_BINARY {
            self.data.extend_from_slice(b);
        }
    }
}

impl JournalParser {
    /// Emits an entry as a record at its first line (kernel report lines attach).
    fn emit(&mut self, at: LinePos, e: &Entry<'_>, out: &mut dyn Sink) {
        let msg: &[u8] = e.message.as_deref().unwrap_or(b"");
        let program = e.ident.as_deref().or(e.comm.as_deref());
        let is_kernel = program == Some("kernel");
        if is_kernel && self.report.classify(msg) == Role::Continue && self.have_record {
            out.attach(at, msg);
            return;
        }
        self.have_record = true;
        let time = match e.realtime_us {
            Some(us) if us <= i64::MAX as u64 / 1000 => RawTime::Exact { unix_nanos: us as i64 * 1000, offset_secs: 0 },
            _ => RawTime::None,
        };
        let mut rec = Record::new(time, msg);
        rec.boot_nanos = e.monotonic_us.filter(|us| *us <= i64::MAX as u64 / 1000).map(|us| us as i64 * 1000);
        rec.boot_id = e.boot_id.as_deref().map(Cow::Borrowed);
        rec.host = e.host.as_deref().map(Cow::Borrowed);
        rec.program = program.map(Cow::Borrowed);
        rec.pid = e.pid.or(e.syslog_pid);
        rec.severity = e.priority.map(Severity::from_level);
        for (k, v) in &e.fields {
            rec.fields.push((Cow::Borrowed(k), Cow::Borrowed(v)));
        }
        if !is_kernel && !super::klog::enrich(msg, &mut rec) {
            // The level in an oslo.log, libvirtd or logfmt header is more precise than the priority
            // the journal gave a daemon's stderr.
            if let Some(s) = super::cri::inner_severity(msg) {
                rec.severity = Some(s);
            }
        }
        out.record(at, rec);
    }

    fn flush_export(&mut self, out: &mut dyn Sink) {
        if let Some(e) = self.export.take() {
            if let Some(at) = e.at {
                self.emit(at, &e, out);
            }
        }
    }

    /// One line of an export entry (or the blank line that ends it).
    fn export_line(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        if line.is_empty() {
            out.skip(at);
            self.flush_export(out);
            return true;
        }
        let (key, value) = match memchr::memchr(b'=', line) {
            Some(eq) if is_key(&line[..eq]) => (&line[..eq], Some(&line[eq + 1..])),
            None if is_key(line) => (line, None),
            _ => return false,
        };
        let e = self.export.get_or_insert_with(Entry::default);
        let first = e.at.is_none();
        if first {
            e.at = Some(at);
        }
        match value {
            Some(v) => e.set(key, Cow::Owned(v.to_vec())),
            None => {
                let keep = key == b"MESSAGE";
                self.bin = Some(Binary { keep, len: [0; 8], have: 0, remaining: 0, data: Vec::new() });
            }
        }
        if !first {
            out.skip(at);
        }
        true
    }

    fn binary_line(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(b) = self.bin.as_mut() else { return };
        let (done, leftover) = b.feed(line);
        if done {
            if let Some(b) = self.bin.take() {
                if b.keep {
                    if let Some(e) = self.export.as_mut() {
                        e.message = Some(Cow::Owned(b.data));
                    }
                }
            }
        }
        if leftover.is_empty() {
            out.skip(at);
        } else {
            out.unparsed(at, leftover);
        }
    }

    fn json_line(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let mut e = Entry::default();
        let mut raw_msg: Option<JVal<'_>> = None;
        let ok = scan_object(line, |k, v| match (k, v) {
            (b"MESSAGE", v) => raw_msg = Some(v),
            (k, JVal::Str(s)) => e.set(k, json_unescape(s)),
            (k, JVal::Scalar(s)) => e.set(k, Cow::Borrowed(s)),
            _ => {}
        });
        if !ok {
            return false;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        match raw_msg {
            Some(JVal::Str(s)) if memchr::memchr(b'\\', s).is_none() => e.message = Some(Cow::Borrowed(s)),
            Some(JVal::Str(s)) => {
                json_unescape_into(s, &mut scratch);
                e.message = Some(Cow::Borrowed(&scratch));
            }
            Some(JVal::Array(a)) => {
                json_bytes_into(a, &mut scratch);
                e.message = Some(Cow::Borrowed(&scratch));
            }
            _ => {}
        }
        self.emit(at, &e, out);
        drop(e);
        self.scratch = scratch;
        true
    }

    fn short_line(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let (time, mono, host, tag, msg) = if line[0] == b'[' {
            match split_monotonic(line) {
                Some(m) => (RawTime::Boot { nanos: m.nanos }, Some(m.nanos), m.host, m.tag, m.msg),
                None => return false,
            }
        } else {
            match super::syslog::split(line) {
                Some(p) if !p.host.is_empty() => {
                    let time = match self.span {
                        Some(span) => in_span(p.time, span),
                        None => p.time,
                    };
                    (time, None, p.host, p.tag, p.msg)
                }
                _ => return false,
            }
        };
        let (prog, pid) = split_prog_pid(tag);
        let is_kernel = prog == b"kernel";
        let (uptime, msg) = if is_kernel { super::syslog::strip_uptime(msg) } else { (None, msg) };
        if is_kernel && self.report.classify(msg) == Role::Continue && self.have_record {
            out.attach(at, msg);
            return true;
        }
        self.have_record = true;
        let mut rec = Record::new(time, msg);
        rec.boot_nanos = mono.or(uptime);
        rec.boot_id = self.boot.as_deref().map(Cow::Borrowed);
        rec.host = Some(Cow::Borrowed(self.hosts.text(host)));
        rec.program = (!prog.is_empty()).then(|| Cow::Borrowed(self.programs.text(prog)));
        rec.pid = pid;
        if !is_kernel && !super::klog::enrich(msg, &mut rec) {
            // The level in an oslo.log, libvirtd or logfmt header is more precise than the priority
            // the journal gave a daemon's stderr.
            if let Some(s) = super::cri::inner_severity(msg) {
                rec.severity = Some(s);
            }
        }
        out.record(at, rec);
        true
    }
}

impl Parser for JournalParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if self.bin.is_some() {
            self.binary_line(at, line, out);
            return;
        }
        if self.export.is_some() {
            if self.export_line(at, line, out) {
                return;
            }
            // Not export: the entry ended without its blank line.
            self.flush_export(out);
        }
        if trim(line).is_empty() {
            out.skip(at);
            return;
        }
        match line[0] {
            b'-' => {
                if let Some(m) = marker(line) {
                    match m {
                        Marker::Header => {
                            if let Some(span) = header_span(line) {
                                self.span = Some(span);
                            }
                        }
                        Marker::Boot(id) => self.boot = Some(text(id).into_owned()),
                        Marker::Reboot => {
                            self.reboots += 1;
                            self.boot = Some(format!("reboot-{}", self.reboots));
                        }
                    }
                    out.skip(at);
                    return;
                }
            }
            b'{' if self.json_line(at, line, out) => return,
            b' ' | b'\t' => {
                if self.have_record {
                    out.attach(at, line);
                } else {
                    out.unparsed(at, line);
                }
                return;
            }
            // A bare key starts a binary field; only `MESSAGE` may open an entry that way (a lone
            // upper-case word in short output must not swallow the lines after it).
            c if (c.is_ascii_uppercase() || c == b'_')
                && (is_export_line(line) || line == b"MESSAGE")
                && self.export_line(at, line, out) =>
            {
                return
            }
            _ => {}
        }
        if !self.short_line(at, line, out) {
            out.unparsed(at, line);
        }
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        // A last export entry need not end with a blank line; a cut binary field keeps what it had.
        if let Some(b) = self.bin.take() {
            if b.keep {
                if let Some(e) = self.export.as_mut() {
                    e.message = Some(Cow::Owned(b.data));
                }
            }
        }
        self.flush_export(out);
    }
}

/// A JSON value as written (strings still escaped).
#[derive(Debug, Clone, Copy)]
enum JVal<'a> {
    /// A string's inner bytes, escapes kept.
    Str(&'a [u8]),
    /// Number, `true`, `false`.
    Scalar(&'a [u8]),
    /// An array's bytes between the brackets.
    Array(&'a [u8]),
    /// `null` or a nested object.
    Other,
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// Index just past the string starting at `b[i] == '"'`, or `None` if unterminated.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'\\' {
            j = k + 2;
        } else {
            return Some(k + 1);
        }
    }
}

/// Index just past the array or object starting at `b[i]`, or `None` if unbalanced.
fn nested_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = string_end(b, j)?;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Scans a flat JSON object, calling `f` with each key (raw) and value. False when malformed.
fn scan_object<'a>(b: &'a [u8], mut f: impl FnMut(&'a [u8], JVal<'a>)) -> bool {
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return ws(b, i + 1) == b.len();
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return false;
        }
        let Some(ke) = string_end(b, i) else { return false };
        let key = &b[i + 1..ke - 1];
        i = ws(b, ke);
        if b.get(i) != Some(&b':') {
            return false;
        }
        i = ws(b, i + 1);
        let (v, end) = match b.get(i) {
            Some(b'"') => match string_end(b, i) {
                Some(e) => (JVal::Str(&b[i + 1..e - 1]), e),
                None => return false,
            },
            Some(b'[') => match nested_end(b, i) {
                Some(e) => (JVal::Array(&b[i + 1..e - 1]), e),
                None => return false,
            },
            Some(b'{') => match nested_end(b, i) {
                Some(e) => (JVal::Other, e),
                None => return false,
            },
            Some(_) => {
                let e = i + b[i..].iter().position(|c| matches!(c, b',' | b'}' | b' ')).unwrap_or(b.len() - i);
                let s = &b[i..e];
                if s.is_empty() {
                    return false;
                }
                (if s == b"null" { JVal::Other } else { JVal::Scalar(s) }, e)
            }
            None => return false,
        };
        f(key, v);
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return ws(b, i + 1) == b.len(),
            _ => return false,
        }
    }
}

fn json_unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    json_unescape_into(s, &mut out);
    Cow::Owned(out)
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    b[..4].iter().try_fold(0u32, |acc, c| (*c as char).to_digit(16).map(|h| acc * 16 + h))
}

/// Decodes JSON string escapes into `out` (invalid escapes are kept as written).
fn json_unescape_into(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(k) = memchr::memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + k]);
        i += k;
        let Some(&e) = s.get(i + 1) else {
            out.push(b'\\');
            return;
        };
        let simple = match e {
            b'"' | b'\\' | b'/' => Some(e),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(8),
            b'f' => Some(12),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        if e == b'u' {
            if let Some(hi) = hex4(&s[i + 2..]) {
                let mut used = 6;
                let mut cp = hi;
                if (0xD800..0xDC00).contains(&hi) && s.get(i + 6) == Some(&b'\\') && s.get(i + 7) == Some(&b'u') {
                    if let Some(lo) = hex4(&s[i + 8..]).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                        cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        used = 12;
                    }
                }
                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += used;
                continue;
            }
        }
        out.push(b'\\');
        i += 1;
    }
}

/// A `MESSAGE` array: byte values (non-UTF-8 data) become the bytes; an array of strings (a field
/// written several times) gives its first string.
fn json_bytes_into(a: &[u8], out: &mut Vec<u8>) {
    let t = trim(a);
    if t.first() == Some(&b'"') {
        if let Some(e) = string_end(t, 0) {
            json_unescape_into(&t[1..e - 1], out);
        }
        return;
    }
    for n in a.split(|c| *c == b',') {
        match num(n) {
            Some(v) if v <= 255 => out.push(v as u8),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};
    use crate::formats::{LinePos, Record, Sink};

    fn p() -> Box<dyn Parser> {
        parser(&SourceCtx::default())
    }

    #[test]
    fn short_forms() {
        let got = run(
            p(),
            "-- Logs begin at Mon 2025-10-13 09:00:01 KST, end at Mon 2025-10-13 21:30:00 KST. --\n\
             Oct 13 19:51:02 s-dcn37-com604-krw1a multipathd[2201]: 4f2f: remaining active paths: 0\n\
             Oct 13 19:51:02.123456 s-dcn37-com604-krw1a kernel: sd 3:0:0:1: [sdv] tag#12 FAILED\n\
             2025-10-13T19:51:03+0900 s-dcn37-com604-krw1a kubelet[1234]: I1013 19:51:03.000100 1234 kubelet.go:1] \"SyncLoop\"\n\
             2025-10-13T19:51:04.250000+0900 s-dcn37-com604-krw1a systemd[1]: Started foo.\n\
             [ 5123.456789] s-dcn37-com604-krw1a kernel: device-mapper: multipath: 253:21: Failing path 65:48.\n",
        );
        assert_eq!(got[0], Got::Skip(1));
        let r = records(&got);
        assert_eq!(r.len(), 5);
        // The header's dates give the short lines their year: naive local times of 2025-10-13.
        let day = rootline_event::days_from_civil(2025, 10, 13) * 86_400_000_000_000;
        assert_eq!(r[0].0, RawTime::Naive { civil_nanos: day + 71_462_000_000_000 });
        assert_eq!(r[1].0, RawTime::Naive { civil_nanos: day + 71_462_123_456_000 });
        assert_eq!(r[2].0, RawTime::Exact { unix_nanos: 1_760_352_663_000_000_000, offset_secs: 32_400 });
        assert_eq!(r[2].2, "\"SyncLoop\"");
        assert!(matches!(&got[3], Got::Rec { severity: Some(Severity::Info), pid: Some(1234), .. }));
        assert_eq!(r[3].0, RawTime::Exact { unix_nanos: 1_760_352_664_250_000_000, offset_secs: 32_400 });
        let Got::Rec { time, boot, host, program, message, .. } = &got[5] else { panic!("{got:?}") };
        assert_eq!((*time, *boot), (RawTime::Boot { nanos: 5_123_456_789_000 }, Some(5_123_456_789_000)));
        assert_eq!((host.as_deref(), program.as_deref()), (Some("s-dcn37-com604-krw1a"), Some("kernel")));
        assert_eq!(message, "device-mapper: multipath: 253:21: Failing path 65:48.");
    }

    #[test]
    fn the_header_dates_lines_across_a_new_year() {
        let got = run(
            p(),
            "-- Journal begins at Mon 2024-12-30 20:47:35 IST, ends at Tue 2025-01-02 09:55:00 IST. --\n\
             Dec 31 23:59:59.000001 h a[1]: old year\n\
             Jan 01 00:00:01.000001 h a[1]: new year\n",
        );
        let r = records(&got);
        let at =
            |y, m, d, s: i64| rootline_event::days_from_civil(y, m, d) * 86_400_000_000_000 + s * 1_000_000_000 + 1_000;
        assert_eq!(r[0].0, RawTime::Naive { civil_nanos: at(2024, 12, 31, 86_399) });
        assert_eq!(r[1].0, RawTime::Naive { civil_nanos: at(2025, 1, 1, 1) });
        // Without a header the year is left to the resolver.
        let r = records(&run(p(), "Dec 31 23:59:59.000001 h a[1]: x\n"));
        assert!(matches!(r[0].0, RawTime::YearLess { .. }));
        assert_eq!(
            header_span(b"-- Logs begin at Mon 2025-10-13 09:00:01 KST, end at Mon 2025-10-13 21:30:00 KST. --"),
            Some(((2025, 10, 13), (2025, 10, 13)))
        );
    }

    #[test]
    fn kernel_reports_continuations_and_garbage() {
        let got = run(
            p(),
            "    indented before anything\n\
             Oct 13 20:02:10 h kernel: INFO: task qemu-system-x86:4242 blocked for more than 120 seconds.\n\
             Oct 13 20:02:10 h kernel:       Not tainted 5.15.0-122-generic #132-Ubuntu\n\
             Oct 13 20:02:10 h kernel: Call Trace:\n\
             Oct 13 20:02:10 h kernel:  <TASK>\n\
             Oct 13 20:02:10 h kernel:  </TASK>\n\
             Oct 13 20:02:11 h nova-compute[77]: first line\n\
             \x20                                     second line of the same message\n\
             -- Reboot --\n\
             -- No entries --\n\
             \u{7f}ELF garbage\n",
        );
        assert!(matches!(got[0], Got::Unparsed(1, _)));
        assert!(matches!(&got[1], Got::Rec { line: 2, .. }));
        assert!((2..6).all(|i| matches!(got[i], Got::Attach(..))), "{got:?}");
        assert!(matches!(&got[6], Got::Rec { line: 7, .. }));
        assert!(matches!(got[7], Got::Attach(8, _)));
        assert_eq!((got[8].clone(), got[9].clone()), (Got::Skip(9), Got::Skip(10)));
        assert!(matches!(got[10], Got::Unparsed(11, _)));
    }

    /// A sink that keeps boot ids, which the shared test sink does not record.
    #[derive(Default)]
    struct Boots(Vec<Option<String>>);
    impl Sink for Boots {
        fn record(&mut self, _: LinePos, r: Record<'_>) {
            self.0.push(r.boot_id.map(|b| b.into_owned()));
        }
        fn attach(&mut self, _: LinePos, _: &[u8]) {}
        fn skip(&mut self, _: LinePos) {}
        fn unparsed(&mut self, _: LinePos, _: &[u8]) {}
    }

    fn boots(text: &str) -> Vec<Option<String>> {
        let mut p = p();
        let mut s = Boots::default();
        for (i, l) in text.lines().enumerate() {
            p.feed(LinePos { line: i as u64 + 1, offset: 0 }, l.as_bytes(), &mut s);
        }
        p.finish(&mut s);
        s.0
    }

    #[test]
    fn boot_markers_set_boot_ids() {
        let b = boots(
            "Oct 13 19:00:00 h a[1]: x\n-- Boot 9f3c2b7a6d5e4f30a1b2c3d4e5f60718 --\nOct 14 19:00:00 h a[1]: y\n-- Reboot --\nOct 15 19:00:00 h a[1]: z",
        );
        assert_eq!(b, vec![None, Some("9f3c2b7a6d5e4f30a1b2c3d4e5f60718".into()), Some("reboot-1".into())]);
    }

    #[test]
    fn json_entries() {
        let got = run(
            p(),
            r#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1760352662123456","__MONOTONIC_TIMESTAMP":"5123456789","_BOOT_ID":"9f3c","_HOSTNAME":"s-dcn37-com604-krw1a","SYSLOG_IDENTIFIER":"multipathd","_PID":"2201","PRIORITY":"3","_SYSTEMD_UNIT":"multipathd.service","MESSAGE":"4f2f: \"remaining\" active paths: 0","X":null,"Y":{"a":[1]}}
{"__REALTIME_TIMESTAMP":"1760352662200000","_COMM":"kubelet","SYSLOG_PID":"1234","MESSAGE":[69,49,48,49,51,32,49,57,58,53,54,58,48,49,46,49,50,51,52,53,54,32,49,32,112,46,103,111,58,49,93,32,255],"CONTAINER_ID":"753ac7cfab3c","CONTAINER_ID_FULL":"753ac7cfab3c1f0e"}
{"__REALTIME_TIMESTAMP": "1"#,
        );
        let Got::Rec { time, boot, host, program, pid, severity, message, fields, .. } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_662_123_456_000, offset_secs: 0 });
        assert_eq!(*boot, Some(5_123_456_789_000));
        assert_eq!((host.as_deref(), program.as_deref()), (Some("s-dcn37-com604-krw1a"), Some("multipathd")));
        assert_eq!((*pid, *severity), (Some(2201), Some(Severity::Err)));
        assert_eq!(message, "4f2f: \"remaining\" active paths: 0");
        assert_eq!(fields, &[("unit".to_string(), "multipathd.service".to_string())]);
        let Got::Rec { program, pid, severity, message, fields, .. } = &got[1] else { panic!("{got:?}") };
        assert_eq!((program.as_deref(), *pid, *severity), (Some("kubelet"), Some(1234), Some(Severity::Err)));
        assert_eq!(message, "\u{fffd}");
        assert!(fields.contains(&("container_id".into(), "753ac7cfab3c1f0e".into())));
        assert!(matches!(got[2], Got::Unparsed(3, _)));
    }

    #[test]
    fn export_entries_with_binary_fields() {
        let mut text = Vec::new();
        text.extend_from_slice(b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1760352662123456\n_BOOT_ID=9f3c\n_HOSTNAME=h\nSYSLOG_IDENTIFIER=multipathd\nMESSAGE=plain\n\n");
        text.extend_from_slice(b"__REALTIME_TIMESTAMP=1760352663000000\nMESSAGE\n");
        let data = b"two\nlines";
        text.extend_from_slice(&(data.len() as u64).to_le_bytes());
        text.extend_from_slice(data);
        text.extend_from_slice(b"\nPRIORITY=4\n\n");
        // A length whose first byte is '\n' (10): the length itself spans a line break.
        text.extend_from_slice(b"__REALTIME_TIMESTAMP=1760352664000000\nMESSAGE\n");
        text.extend_from_slice(&10u64.to_le_bytes());
        text.extend_from_slice(b"0123456789\n_PID=7\n");
        let text = String::from_utf8(text).unwrap();
        let got = run(p(), &text);
        let r = records(&got);
        assert_eq!(r.len(), 3, "{got:?}");
        assert_eq!(r[0].2, "plain");
        assert_eq!(r[0].1.as_deref(), Some("multipathd"));
        assert_eq!(r[1].2, "two\nlines");
        assert!(matches!(
            &got.iter().find(|g| matches!(g, Got::Rec { line: 8, .. })),
            Some(Got::Rec { severity: Some(Severity::Warning), .. })
        ));
        assert_eq!(r[2].2, "0123456789");
        assert!(matches!(&got.last(), Some(Got::Rec { line: 14, pid: Some(7), .. })));
        assert!(!got.iter().any(|g| matches!(g, Got::Unparsed(..))), "{got:?}");
    }

    #[test]
    fn detection_leaves_syslog_alone() {
        assert!(detect(b"-- Journal begins at Mon 2025-10-13 09:00:01 KST. --"));
        assert!(detect(b"2025-10-13T19:51:03+0900 s-dcn37-com604-krw1a kubelet[1234]: x"));
        assert!(detect(b"Oct 13 19:51:02.123456 h multipathd[1]: x"));
        assert!(detect(b"[ 5123.456789] h kernel: x"));
        assert!(detect(b"__REALTIME_TIMESTAMP=1760352662123456"));
        assert!(detect(br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}"#));
        // Plain syslog shapes and near misses.
        assert!(!detect(b"Oct 13 19:51:02 h multipathd[1]: x"));
        assert!(!detect(b"2025-10-13T19:51:03+09:00 h kubelet[1234]: x"));
        assert!(!detect(b"[ 5123.456789] sd 3:0:0:1: [sdv] tag#12 FAILED"));
        assert!(!detect(b"[ 5123.456789] device-mapper: multipath: x"));
        assert!(!detect(b"PATH=/usr/bin"));
        assert!(!detect(b"-- some other dashes --"));
        assert!(path_hint("sos_commands/logs/journalctl_--no-pager") > 0.0);
    }
}

//! Format parsers: one file per format, all behind the [`Parser`] trait.
//!
//! A parser sees the physical lines of one source in order and tells a [`Sink`] what each line is: the
//! start of a [`Record`], a continuation of the previous record (call trace, traceback, indented
//! journal line), a line that belongs to the format but carries no event (a table header, a blank
//! separator), or an unparsed line. Parsers never read files, never resolve years, zones or boot
//! anchors (they return a [`RawTime`]), and never allocate on the common path unless a field has to
//! be decoded (JSON escapes).
//!
//! Adding a format: write `formats/<name>.rs` with a `detect(line) -> bool` for sampled lines and a
//! `Parser`, add a [`FormatSpec`] to [`SPECS`], fixtures under `tests/data/formats/`, and a unit test.

use std::borrow::Cow;

use rootline_event::{Format, Severity};

use crate::time::RawTime;

pub mod cmdlog;
pub mod cri;
pub mod generic;
pub mod journal;
pub mod jsonlines;
pub mod k8s_events;
pub mod kernel;
pub mod klog;
pub mod ktrace;
pub mod libvirt;
pub mod logfmt;
pub mod oslo;
pub mod prefixed;
pub mod snapshot;
pub mod syslog;
pub mod terminal;

/// Position of a physical line in its source: 1-based line number and byte offset of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinePos {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's first byte in the decompressed stream.
    pub offset: u64,
}

/// What a parser found at the start of a record. Borrowed from the line where possible.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    /// The time as written, before year, zone and boot anchor are applied.
    pub time: RawTime,
    /// Seconds since boot (nanoseconds) if the record states them besides (or instead of) a wall time:
    /// a kernel line in syslog with its `[  57.022491]` stamp, a journal record's monotonic time.
    /// A record with both a wall time and `boot_nanos` anchors the host's kernel timeline.
    pub boot_nanos: Option<i64>,
    /// Boot identifier, when the source states it (journal `_BOOT_ID`).
    pub boot_id: Option<Cow<'a, str>>,
    /// Host named by the record (syslog hostname, journal `_HOSTNAME`, OpenSearch `host.name`).
    pub host: Option<Cow<'a, str>>,
    /// Program, unit, logger or command.
    pub program: Option<Cow<'a, str>>,
    /// Process id.
    pub pid: Option<u32>,
    /// Severity, normalised.
    pub severity: Option<Severity>,
    /// The message without the header.
    pub message: Cow<'a, [u8]>,
    /// Structured fields the format states (`container`, `pod`, `namespace`, `stream`, `unit`, ...).
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// For a state snapshot: the capture was taken at least this long after boot, in nanoseconds
    /// (a process in a `/proc/PID/stat` dump started that long after boot, so the dump is later).
    pub taken_after_boot: Option<i64>,
}

impl<'a> Record<'a> {
    /// A record with only a time and a message.
    pub fn new(time: RawTime, message: &'a [u8]) -> Self {
        Record { time, message: Cow::Borrowed(message), ..Record::default() }
    }
}

/// Receives what a parser found, line by line.
pub trait Sink {
    /// A new record starts at `at`.
    fn record(&mut self, at: LinePos, rec: Record<'_>);
    /// `line` continues the previous record (joined to its message with `\n`). With no previous
    /// record, the sink counts it as unparsed.
    fn attach(&mut self, at: LinePos, line: &[u8]);
    /// A line of the format that carries no event (table header, separator, blank line).
    fn skip(&mut self, at: LinePos);
    /// A line the parser could not read. It is kept as a timeless event in file order and counted.
    fn unparsed(&mut self, at: LinePos, line: &[u8]);
}

/// What a parser may know about its source.
#[derive(Debug, Clone, Default)]
pub struct SourceCtx {
    /// Display path (`archive!member` inside archives).
    pub path: String,
    /// File or archive member modification time, seconds since the epoch.
    pub mtime: Option<i64>,
    /// "Now" for relative ages (`5m` in `kubectl get events`), seconds since the epoch (`--now`);
    /// formats that need an anchor fall back to `mtime`.
    pub now: Option<i64>,
    /// Field mapping for JSON records (`--json-field time=@timestamp`): (rootline field, JSON path).
    pub json_fields: std::sync::Arc<Vec<(String, String)>>,
}

/// A format parser: fed every physical line of one source, in order.
pub trait Parser: Send {
    /// Handles one line (without its line terminator; `\r` already removed).
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink);
    /// Called once after the last line: flush any record still being assembled.
    fn finish(&mut self, _out: &mut dyn Sink) {}
}

/// A format's entry in the registry.
pub struct FormatSpec {
    /// The format.
    pub format: Format,
    /// True when a sampled line looks like this format.
    pub detect: fn(&[u8]) -> bool,
    /// A bonus from the path alone (`dmesg`, `*.json`, `sos_commands/multipath/multipath_-ll`): 0..=1.
    pub path_hint: fn(&str) -> f32,
    /// Makes a parser for one source.
    pub parser: fn(&SourceCtx) -> Box<dyn Parser>,
}

fn no_hint(_: &str) -> f32 {
    0.0
}

/// The registry, in detection priority order (on equal scores the earlier entry wins).
pub static SPECS: &[FormatSpec] = &[
    FormatSpec {
        format: Format::Journal,
        detect: journal::detect,
        path_hint: journal::path_hint,
        parser: journal::parser,
    },
    FormatSpec { format: Format::Cri, detect: cri::detect, path_hint: cri::path_hint, parser: cri::parser },
    FormatSpec { format: Format::Klog, detect: klog::detect, path_hint: klog::path_hint, parser: klog::parser },
    FormatSpec { format: Format::Oslo, detect: oslo::detect, path_hint: no_hint, parser: oslo::parser },
    FormatSpec {
        format: Format::Libvirt,
        detect: libvirt::detect,
        path_hint: libvirt::path_hint,
        parser: libvirt::parser,
    },
    FormatSpec { format: Format::Logfmt, detect: logfmt::detect, path_hint: no_hint, parser: logfmt::parser },
    FormatSpec {
        format: Format::K8sEvents,
        detect: k8s_events::detect,
        path_hint: k8s_events::path_hint,
        parser: k8s_events::parser,
    },
    FormatSpec {
        format: Format::JsonLines,
        detect: jsonlines::detect,
        path_hint: jsonlines::path_hint,
        parser: jsonlines::parser,
    },
    FormatSpec { format: Format::CommandLog, detect: cmdlog::detect, path_hint: no_hint, parser: cmdlog::parser },
    FormatSpec {
        format: Format::Terminal,
        detect: terminal::detect,
        path_hint: terminal::path_hint,
        parser: terminal::parser,
    },
    FormatSpec {
        format: Format::Snapshot,
        detect: snapshot::detect,
        path_hint: snapshot::path_hint,
        parser: snapshot::parser,
    },
    FormatSpec { format: Format::Kernel, detect: kernel::detect, path_hint: kernel::path_hint, parser: kernel::parser },
    FormatSpec { format: Format::Syslog, detect: syslog::detect, path_hint: no_hint, parser: syslog::parser },
    FormatSpec { format: Format::Generic, detect: generic::detect, path_hint: no_hint, parser: generic::parser },
    FormatSpec { format: Format::Plain, detect: |_| false, path_hint: no_hint, parser: generic::plain_parser },
];

/// The registry entry of `format`.
pub fn spec(format: Format) -> &'static FormatSpec {
    SPECS.iter().find(|s| s.format == format).expect("every Format has a FormatSpec")
}

/// Picks the format of a source from its path and its first lines.
///
/// Each format scores the share of sampled non-blank lines it recognises plus its path hint; the
/// best score above 0.3 wins, earlier registry entries winning ties. Anything else is `Generic`.
pub fn detect(path: &str, sample: &[&[u8]]) -> Format {
    // Archive members may be named `./sos_commands/...` (`tar -C dir -cf x.tar .`).
    let normal;
    let path = if path.contains("!./") {
        normal = path.replace("!./", "!");
        normal.as_str()
    } else {
        path
    };
    let path = path.trim_start_matches("./");
    let lines: Vec<&[u8]> = sample.iter().copied().filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
    // journalctl's own header settles it: `-o short` lines are otherwise identical to syslog.
    if lines.first().is_some_and(|l| {
        l.starts_with(b"-- Logs begin at ")
            || l.starts_with(b"-- Journal begins at ")
            || l.starts_with(b"-- No entries --")
    }) {
        return Format::Journal;
    }
    // A command log opens with its first `=== time [uptime] ...` header; its outputs may then
    // outnumber the headers many times over.
    if lines.first().is_some_and(|l| cmdlog::is_header(l)) {
        return Format::CommandLog;
    }
    // A terminal session: its commands' outputs outnumber its prompts.
    if terminal::is_session(&lines) {
        return Format::Terminal;
    }
    // A command output that opens with its table's header (`PID USER TIME COMMAND`, `Filesystem ...
    // Mounted on`) or top's summary: its rows may be in no shape another format claims either.
    if lines.first().is_some_and(|l| snapshot::opens_output(l)) {
        return Format::Snapshot;
    }
    let mut best = (Format::Generic, 0.3f32);
    for spec in SPECS {
        if matches!(spec.format, Format::Generic | Format::Plain) {
            continue;
        }
        let hits = lines.iter().filter(|l| (spec.detect)(l)).count();
        let share = if lines.is_empty() { 0.0 } else { hits as f32 / lines.len() as f32 };
        let score = share + (spec.path_hint)(path);
        if score > best.1 {
            best = (spec.format, score);
        }
    }
    best.0
}

/// Shared helpers for parsers.
pub(crate) mod util {
    /// Syslog facility names by code (RFC 5424 section 6.2.1: 0 kern .. 23 local7; 12-15 are the
    /// reserved codes, named as util-linux `dmesg -x` has no names for them).
    pub const FACILITIES: &[&[u8]] = &[
        b"kern",
        b"user",
        b"mail",
        b"daemon",
        b"auth",
        b"syslog",
        b"lpr",
        b"news",
        b"uucp",
        b"cron",
        b"authpriv",
        b"ftp",
        b"res0",
        b"res1",
        b"res2",
        b"res3",
        b"local0",
        b"local1",
        b"local2",
        b"local3",
        b"local4",
        b"local5",
        b"local6",
        b"local7",
    ];

    /// Parses an unsigned decimal; `None` for empty input, non-digits or overflow.
    pub fn parse_u64(b: &[u8]) -> Option<u64> {
        if b.is_empty() || b.len() > 19 {
            return None;
        }
        let mut n = 0u64;
        for &c in b {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + (c - b'0') as u64;
        }
        Some(n)
    }

    /// A line without the format's header: blank lines are skipped, other lines continue the record
    /// before them (a traceback, a multi-line value) or, before any record, are unparsed.
    pub fn headerless(at: super::LinePos, line: &[u8], have_record: bool, out: &mut dyn super::Sink) {
        if trim(line).is_empty() {
            out.skip(at);
        } else if have_record {
            out.attach(at, line);
        } else {
            out.unparsed(at, line);
        }
    }

    /// Splits `prog[pid]` into the program and the pid.
    pub fn split_prog_pid(tag: &[u8]) -> (&[u8], Option<u32>) {
        if tag.last() == Some(&b']') {
            if let Some(open) = tag.iter().position(|&c| c == b'[') {
                let pid = parse_u64(&tag[open + 1..tag.len() - 1]).and_then(|p| u32::try_from(p).ok());
                return (&tag[..open], pid);
            }
        }
        (tag, None)
    }

    /// Trims ASCII spaces and tabs on both ends.
    pub fn trim(mut b: &[u8]) -> &[u8] {
        while let [c, rest @ ..] = b {
            if *c == b' ' || *c == b'\t' {
                b = rest;
            } else {
                break;
            }
        }
        while let [rest @ .., c] = b {
            if *c == b' ' || *c == b'\t' {
                b = rest;
            } else {
                break;
            }
        }
        b
    }

    /// The bytes as `&str` when valid UTF-8, else an owned lossless copy.
    pub fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
        rootline_event::lossless_str(b)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A sink that records everything, for parser unit tests.
    use super::*;

    /// One thing a parser reported.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Got {
        /// A record: (line, time, host, program, pid, severity, message, fields).
        Rec {
            line: u64,
            time: RawTime,
            boot: Option<i64>,
            boot_id: Option<String>,
            host: Option<String>,
            program: Option<String>,
            pid: Option<u32>,
            severity: Option<Severity>,
            message: String,
            fields: Vec<(String, String)>,
        },
        /// A continuation line.
        Attach(u64, String),
        /// A skipped line.
        Skip(u64),
        /// An unparsed line.
        Unparsed(u64, String),
    }

    /// Collects what a parser reports.
    #[derive(Default)]
    pub struct Collect(pub Vec<Got>);

    impl Sink for Collect {
        fn record(&mut self, at: LinePos, r: Record<'_>) {
            self.0.push(Got::Rec {
                line: at.line,
                time: r.time,
                boot: r.boot_nanos,
                boot_id: r.boot_id.map(|b| b.into_owned()),
                host: r.host.map(|h| h.into_owned()),
                program: r.program.map(|h| h.into_owned()),
                pid: r.pid,
                severity: r.severity,
                message: String::from_utf8_lossy(&r.message).into_owned(),
                fields: r.fields.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
            });
        }
        fn attach(&mut self, at: LinePos, line: &[u8]) {
            self.0.push(Got::Attach(at.line, String::from_utf8_lossy(line).into_owned()));
        }
        fn skip(&mut self, at: LinePos) {
            self.0.push(Got::Skip(at.line));
        }
        fn unparsed(&mut self, at: LinePos, line: &[u8]) {
            self.0.push(Got::Unparsed(at.line, String::from_utf8_lossy(line).into_owned()));
        }
    }

    /// Runs `parser` over `text` (split on `\n`) and returns what it reported.
    pub fn run(mut parser: Box<dyn Parser>, text: &str) -> Vec<Got> {
        let mut sink = Collect::default();
        let mut off = 0u64;
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 && line.is_empty() && off as usize == text.len() {
                break;
            }
            parser.feed(LinePos { line: i as u64 + 1, offset: off }, line.as_bytes(), &mut sink);
            off += line.len() as u64 + 1;
        }
        parser.finish(&mut sink);
        sink.0
    }

    /// Only the records, as (time, program, message).
    pub fn records(got: &[Got]) -> Vec<(RawTime, Option<String>, String)> {
        got.iter()
            .filter_map(|g| match g {
                Got::Rec { time, program, message, .. } => Some((*time, program.clone(), message.clone())),
                _ => None,
            })
            .collect()
    }
}

//! Reading one member into a *run*: its events in file order with their raw times.
//!
//! A run is what one source contributes to the timeline before times are resolved. It also records
//! the bundle facts a member may carry instead of log lines (host name, time zone, boot time).

use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

use rootline_event::{Event, Format, Provenance, TimeKind};

use crate::formats::{self, LinePos, Record, Sink, SourceCtx};
use crate::source::lines::LineReader;
use crate::source::{Member, Skipped};
use crate::time::RawTime;

/// An event with the time its line stated, before resolution.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub raw: RawTime,
    /// Boot segment within the run (a decrease of seconds-since-boot or a new boot id starts one).
    pub seg: u32,
    pub ev: Event,
}

/// One source's events in file order.
#[derive(Debug)]
pub(crate) struct Run {
    pub path: Arc<str>,
    pub bundle: usize,
    pub format: Format,
    pub mtime: Option<i64>,
    pub items: Vec<Item>,
    pub lines: u64,
    pub unparsed: u64,
    pub bytes: u64,
    /// Order of the run among all runs (input order), for stable merging of equal times.
    pub order: usize,
}

/// A fact about a bundle learnt from one of its members.
#[derive(Debug, Clone)]
pub(crate) enum Fact {
    Host(usize, String),
    Tz(usize, jiff::tz::TimeZone),
    BootTime(usize, i64),
}

/// Settings for reading members.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadCfg<'a> {
    pub format: Option<Format>,
    pub max_line: usize,
    pub now: Option<i64>,
    pub json_fields: &'a std::sync::Arc<Vec<(String, String)>>,
}

/// What reading one member produced.
pub(crate) enum Outcome {
    Run(Run),
    Fact(Fact, Skipped),
    Skipped(Skipped),
}

/// Reads a member: a bundle fact file, a binary file to skip, or a log to parse into a run.
/// Warnings (cut lines, a stream that ended in an error) are pushed to `warnings`.
pub(crate) fn read_member(mut m: Member<'_>, bundle: usize, cfg: ReadCfg<'_>, warnings: &mut Vec<Skipped>) -> Outcome {
    if let Some(o) = fact(&mut m, bundle) {
        return o;
    }
    let head: Vec<u8> = match m.reader.fill_buf() {
        Ok(b) => b[..b.len().min(64 * 1024)].to_vec(),
        Err(e) => return Outcome::Skipped(Skipped { path: m.display.into(), reason: format!("cannot read: {e}") }),
    };
    if head.is_empty() {
        return Outcome::Skipped(Skipped { path: m.display.into(), reason: "empty file".into() });
    }
    let probe = &head[..head.len().min(8192)];
    if memchr::memchr(0, probe).is_some()
        && !probe.starts_with(b"__CURSOR=")
        && !probe.starts_with(b"__REALTIME_TIMESTAMP=")
    {
        return Outcome::Skipped(Skipped {
            path: m.display.into(),
            reason: "binary file (NUL bytes in its first 8 KiB)".into(),
        });
    }
    let format = cfg.format.unwrap_or_else(|| {
        let mut sample: Vec<&[u8]> = head.split(|&c| c == b'\n').take(40).collect();
        if head.len() >= 64 * 1024 && sample.len() > 1 {
            sample.pop(); // the last piece may be a partial line
        }
        let sample: Vec<&[u8]> = sample.into_iter().map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
        formats::detect(m.rel, &sample)
    });
    let ctx =
        SourceCtx { path: m.display.to_string(), mtime: m.mtime, now: cfg.now, json_fields: cfg.json_fields.clone() };
    let mut parser = (formats::spec(format).parser)(&ctx);
    let path: Arc<str> = Arc::from(m.display);
    let mut sink = RunSink::new(path.clone(), format);
    let mut lr = LineReader::new(m.reader, cfg.max_line);
    let mut cut = 0u64;
    loop {
        match lr.next_line() {
            Ok(Some(line)) => {
                sink.lines += 1;
                if let Some(orig) = line.cut_from {
                    cut += 1;
                    if cut <= 3 {
                        warnings.push(Skipped {
                            path: m.display.into(),
                            reason: format!("line {} is {orig} bytes long; cut to {} bytes", line.number, cfg.max_line),
                        });
                    }
                }
                parser.feed(LinePos { line: line.number, offset: line.offset }, line.bytes, &mut sink);
            }
            Ok(None) => break,
            Err(e) => {
                warnings.push(Skipped {
                    path: m.display.into(),
                    reason: format!("stream ended with an error after {} lines (kept them): {e}", sink.lines),
                });
                break;
            }
        }
    }
    parser.finish(&mut sink);
    if cut > 3 {
        warnings.push(Skipped {
            path: m.display.into(),
            reason: format!("{cut} lines in all were cut to {} bytes", cfg.max_line),
        });
    }
    Outcome::Run(Run {
        path,
        bundle,
        format,
        mtime: m.mtime,
        items: sink.items,
        lines: sink.lines,
        unparsed: sink.unparsed,
        bytes: lr.position(),
        order: 0,
    })
}

/// Recognises members that carry bundle facts rather than logs.
fn fact(m: &mut Member<'_>, bundle: usize) -> Option<Outcome> {
    let rel = m.rel.trim_start_matches("./");
    // sosreport roots its files under one directory named after the report; look at the tail.
    let tail = |suffix: &str| rel == suffix || rel.ends_with(&format!("/{suffix}"));
    let skipped = |what: &str| Skipped { path: m.display.into(), reason: format!("read as bundle metadata ({what})") };
    if tail("etc/hostname")
        || rel == "hostname"
        || tail("sos_commands/general/hostname")
        || tail("sos_commands/host/hostname")
    {
        let mut s = String::new();
        let _ = (&mut *m.reader).take(4096).read_line(&mut s);
        let h = s.trim();
        if !h.is_empty() && h.len() < 256 && !h.contains(char::is_whitespace) {
            return Some(Outcome::Fact(Fact::Host(bundle, h.to_string()), skipped("host name")));
        }
        return None;
    }
    if tail("etc/localtime") {
        let mut b = Vec::new();
        let _ = (&mut *m.reader).take(1 << 20).read_to_end(&mut b);
        return Some(match jiff::tz::TimeZone::tzif("localtime", &b) {
            Ok(tz) => Outcome::Fact(Fact::Tz(bundle, tz), skipped("time zone")),
            Err(e) => Outcome::Skipped(Skipped {
                path: m.display.into(),
                reason: format!("not a readable time zone file: {e}"),
            }),
        });
    }
    if tail("proc/stat") {
        let mut b = Vec::new();
        let _ = (&mut *m.reader).take(1 << 20).read_to_end(&mut b);
        let btime = b
            .split(|&c| c == b'\n')
            .find_map(|l| l.strip_prefix(b"btime ").and_then(|v| formats::util::parse_u64(formats::util::trim(v))));
        if let Some(bt) = btime {
            return Some(Outcome::Fact(Fact::BootTime(bundle, bt as i64), skipped("boot time")));
        }
    }
    None
}

use std::io::Read;

struct RunSink {
    path: Arc<str>,
    format: Format,
    items: Vec<Item>,
    lines: u64,
    unparsed: u64,
    last_host: Option<Arc<str>>,
    seg: u32,
    last_boot: Option<i64>,
    last_boot_id: Option<String>,
}

impl RunSink {
    fn new(path: Arc<str>, format: Format) -> Self {
        RunSink {
            path,
            format,
            items: Vec::new(),
            lines: 0,
            unparsed: 0,
            last_host: None,
            seg: 0,
            last_boot: None,
            last_boot_id: None,
        }
    }

    fn host(&mut self, h: Option<Cow<'_, str>>) -> Option<Arc<str>> {
        let h = h?;
        if let Some(last) = &self.last_host {
            if **last == *h {
                return Some(last.clone());
            }
        }
        let a: Arc<str> = Arc::from(&*h);
        self.last_host = Some(a.clone());
        Some(a)
    }
}

/// A decrease of more than this in seconds-since-boot means the host rebooted.
const REBOOT_STEP_NANOS: i64 = 1_000_000_000;

impl Sink for RunSink {
    fn record(&mut self, at: LinePos, r: Record<'_>) {
        let boot = match r.time {
            RawTime::Boot { nanos } => Some(nanos),
            _ => r.boot_nanos,
        };
        if let Some(id) = &r.boot_id {
            if self.last_boot_id.as_deref().is_some_and(|l| l != id) {
                self.seg += 1;
                self.last_boot = None;
            }
            if self.last_boot_id.as_deref() != Some(id) {
                self.last_boot_id = Some(id.to_string());
            }
        } else if let (Some(b), Some(last)) = (boot, self.last_boot) {
            if b + REBOOT_STEP_NANOS < last {
                self.seg += 1;
            }
        }
        if boot.is_some() {
            self.last_boot = boot;
        }
        let mut ev =
            Event::new(self.format, Provenance { path: self.path.clone(), line: at.line, byte_offset: at.offset });
        ev.host = self.host(r.host);
        ev.boot_nanos = boot;
        ev.program = r.program.map(|p| p.into());
        ev.pid = r.pid;
        ev.severity = r.severity;
        ev.message = r.message.into_owned();
        ev.fields = r.fields.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self.items.push(Item { raw: r.time, seg: self.seg, ev });
    }

    fn attach(&mut self, at: LinePos, line: &[u8]) {
        match self.items.last_mut() {
            Some(it) => {
                it.ev.message.push(b'\n');
                it.ev.message.extend_from_slice(line);
                it.ev.attached += 1;
            }
            None => self.unparsed(at, line),
        }
    }

    fn skip(&mut self, _at: LinePos) {}

    fn unparsed(&mut self, at: LinePos, line: &[u8]) {
        self.unparsed += 1;
        let mut ev =
            Event::new(self.format, Provenance { path: self.path.clone(), line: at.line, byte_offset: at.offset });
        ev.set_message(line);
        ev.time_kind = TimeKind::None;
        ev.fields.push(("unparsed".into(), "true".into()));
        self.items.push(Item { raw: RawTime::None, seg: self.seg, ev });
    }
}

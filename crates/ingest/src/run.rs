//! Reading one member into a *run*: its events in file order with their raw times.
//!
//! A run is what one source contributes to the timeline before times are resolved. It also records
//! the bundle facts a member may carry instead of log lines (host name, time zone, boot time).

use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

use rootline_event::Format;

use crate::formats::{self, LinePos, Record, Sink, SourceCtx};
use crate::source::lines::LineReader;
use crate::source::{Member, Skipped};
use crate::spill::{Budget, ItemStore, NewItem};
use crate::time::date_output::DateOutput;
use crate::time::RawTime;

/// One source's events in file order, with what resolution needs to know about them.
pub(crate) struct Run {
    pub path: Arc<str>,
    /// Path relative to the bundle root (archive member name, or path under the directory argument).
    pub rel: String,
    pub bundle: usize,
    pub format: Format,
    pub mtime: Option<i64>,
    /// `mtime` is an archive member's (see [`Member::archived`]).
    pub archived: bool,
    pub store: ItemStore,
    pub summary: Summary,
    pub lines: u64,
    pub unparsed: u64,
    pub bytes: u64,
    /// Lines cut to the line limit.
    pub cut_lines: u64,
}

/// Caps on the samples a summary keeps, so a huge run has a bounded summary.
const MAX_PAIRS_PER_SEG: usize = 64;

/// A pair kept in a heap: (raw wall, year_k, boot nanos) in orderable form.
type PairKey = (u8, i64, i64, u16, i64);
const MAX_KERNEL_SAMPLES: usize = 65_536;

/// What resolution needs from a run, gathered while it streams by (bounded in size).
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// First host a record named, and whether another one appeared.
    pub host: Option<Arc<str>>,
    pub host_conflict: bool,
    /// Events per raw time kind: none, exact, naive, year-less, boot, snapshot.
    pub kinds: [u64; 7],
    /// Boot-time events per boot segment.
    pub boot_per_seg: Vec<u64>,
    /// Smallest and largest exact instant (unix nanos).
    pub exact: Option<(i64, i64)>,
    /// Smallest and largest naive civil time (civil nanos).
    pub naive: Option<(i64, i64)>,
    /// Smallest and largest year-less key (k, month, day, nanos of day), and the first and last.
    pub yl_min: Option<YlKey>,
    pub yl_max: Option<YlKey>,
    pub yl_first: Option<YlKey>,
    pub yl_last: Option<YlKey>,
    /// Smallest and largest seconds-since-boot per segment.
    pub boot_range: Vec<(i64, i64)>,
    /// Records stating a wall time and seconds since boot: (wall, year_k, boot nanos, seg); per boot
    /// segment the ones with the earliest implied boot time (a logger can only stamp late, so the
    /// earliest estimates are the best).
    pub pairs: Vec<(RawTime, u16, i64, u32)>,
    pair_heaps: Vec<std::collections::BinaryHeap<(i64, PairKey)>>,
    /// Kernel messages with a wall time: (headline hash, wall, year_k).
    pub kernel_walls: Vec<(u64, RawTime, u16)>,
    /// Kernel messages stamped only in seconds since boot: (seg, headline hash, boot nanos).
    pub kernel_boots: Vec<(u32, u64, i64)>,
    /// The most a snapshot's records show the capture was taken after boot, in nanoseconds (the
    /// newest process start of a `/proc/PID/stat` dump).
    pub taken_after_boot: Option<i64>,
    /// Events earlier than an event before them of the same time kind.
    pub out_of_order: u64,
    /// The largest such step back from the latest time seen, in nanoseconds (`i64::MAX` across a
    /// year or boot boundary).
    pub max_back: i64,
    last_key: [Option<(i64, i64)>; 7],
}

/// A comparable year-less time: (years since the run's first, month, day, nanos of day).
pub(crate) type YlKey = (u16, u8, u8, i64);

/// A stable 64-bit hash of a message's first line, for matching the same kernel message across sources.
///
/// Only compared for equality (never ordered, never printed). It takes eight bytes per step: it runs
/// on every kernel line while reading, where FNV-1a's byte at a time was half the cost of the sink.
pub(crate) fn msg_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| {
        let h = (h ^ w).wrapping_mul(K);
        h ^ (h >> 29)
    };
    // Seeded with the length, so a tail padded with zero bytes differs from a longer message.
    let mut h = mix(0xcbf2_9ce4_8422_2325, b.len() as u64);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        h = mix(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut t = [0u8; 8];
        t[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(t));
    }
    mix(h, h >> 32)
}

impl Summary {
    /// Records what resolution needs from a new item (its message is still just the headline).
    fn note(&mut self, it: &NewItem<'_, '_>, kernel: bool) {
        let (raw, seg, k, boot, headline) = (it.raw, it.seg, it.year_k, it.boot_nanos, it.message);
        if let Some(h) = it.host {
            match &self.host {
                None => self.host = Some(h.clone()),
                Some(prev) if !Arc::ptr_eq(prev, h) && prev != h => self.host_conflict = true,
                _ => {}
            }
        }
        let (kind, key) = match raw {
            RawTime::None => (0, None),
            RawTime::Exact { unix_nanos, .. } => {
                widen(&mut self.exact, unix_nanos);
                (1, Some((0, unix_nanos)))
            }
            RawTime::Naive { civil_nanos } => {
                widen(&mut self.naive, civil_nanos);
                (2, Some((0, civil_nanos)))
            }
            RawTime::YearLess { month, day, nanos_of_day } => {
                let key: YlKey = (k, month, day, nanos_of_day);
                self.yl_min = Some(self.yl_min.map_or(key, |m| m.min(key)));
                self.yl_max = Some(self.yl_max.map_or(key, |m| m.max(key)));
                self.yl_first.get_or_insert(key);
                self.yl_last = Some(key);
                (3, Some((k as i64, ((month as i64 * 32 + day as i64) * 86_400_000_000_000) + nanos_of_day)))
            }
            RawTime::Boot { nanos } => {
                let s = seg as usize;
                if self.boot_per_seg.len() <= s {
                    self.boot_per_seg.resize(s + 1, 0);
                    self.boot_range.resize(s + 1, (i64::MAX, i64::MIN));
                }
                self.boot_per_seg[s] += 1;
                let r = &mut self.boot_range[s];
                *r = (r.0.min(nanos), r.1.max(nanos));
                if kernel && self.kernel_boots.len() < MAX_KERNEL_SAMPLES {
                    reserve_samples(&mut self.kernel_boots);
                    self.kernel_boots.push((seg, msg_hash(headline), nanos));
                }
                (4, Some((seg as i64, nanos)))
            }
            RawTime::Snapshot => (5, None),
            RawTime::Approx { unix_nanos } => {
                widen(&mut self.exact, unix_nanos);
                (6, Some((0, unix_nanos)))
            }
        };
        self.kinds[kind] += 1;
        if let Some(key) = key {
            // Measured against the latest time seen so far (not just the line before), so a merge
            // window of `max_back` is enough to put the run in order.
            match self.last_key[kind] {
                Some(latest) if key < latest => {
                    self.out_of_order += 1;
                    let back = if key.0 == latest.0 { latest.1 - key.1 } else { i64::MAX };
                    self.max_back = self.max_back.max(back);
                }
                _ => self.last_key[kind] = Some(key),
            }
        }
        if matches!(raw, RawTime::Exact { .. } | RawTime::Naive { .. } | RawTime::YearLess { .. }) {
            if let Some(b) = boot {
                let s = seg as usize;
                if self.pair_heaps.len() <= s {
                    self.pair_heaps.resize_with(s + 1, Default::default);
                }
                // Implied boot time on a clock that is monotonic within this run (the year is not
                // known yet, so year-less stamps are placed in a nominal year plus their offset).
                let (tag, wall) = match raw {
                    RawTime::Exact { unix_nanos, .. } => (1, unix_nanos),
                    RawTime::Naive { civil_nanos } => (2, civil_nanos),
                    RawTime::YearLess { month, day, nanos_of_day } => (
                        3,
                        // Years are clamped: only the order within the run matters here.
                        rootline_event::days_from_civil(
                            (2000 + k as i64).min(2200),
                            month as u32,
                            day.clamp(1, 28) as u32,
                        ) * 86_400_000_000_000
                            + (day.saturating_sub(28) as i64) * 86_400_000_000_000
                            + nanos_of_day,
                    ),
                    _ => (0, 0),
                };
                let h = &mut self.pair_heaps[s];
                h.push((wall - b, (tag, wall, b, k, pack(raw))));
                if h.len() > MAX_PAIRS_PER_SEG {
                    h.pop();
                }
            }
            if kernel && self.kernel_walls.len() < MAX_KERNEL_SAMPLES {
                reserve_samples(&mut self.kernel_walls);
                self.kernel_walls.push((msg_hash(headline), raw, k));
            }
        }
    }
}

/// Reserves room for every kernel sample a run may keep, on the first one: growing by doubling
/// copied each array again and again into fresh memory (page faults and copies on the reading
/// threads), while reserved room that is never written costs address space, not memory.
fn reserve_samples<T>(v: &mut Vec<T>) {
    if v.capacity() == 0 {
        v.reserve_exact(MAX_KERNEL_SAMPLES);
    }
}

/// Packs the part of a raw time that the heap key does not already hold.
fn pack(raw: RawTime) -> i64 {
    match raw {
        RawTime::Exact { offset_secs, .. } => offset_secs as i64,
        RawTime::YearLess { month, day, nanos_of_day } => ((month as i64 * 32 + day as i64) << 48) | nanos_of_day,
        _ => 0,
    }
}

impl Summary {
    /// Moves the kept pairs into `pairs` once the run is complete.
    pub(crate) fn finish(&mut self) {
        for (seg, h) in std::mem::take(&mut self.pair_heaps).into_iter().enumerate() {
            for (_, (tag, wall, boot, k, packed)) in h {
                let raw = match tag {
                    1 => RawTime::Exact { unix_nanos: wall, offset_secs: packed as i32 },
                    2 => RawTime::Naive { civil_nanos: wall },
                    _ => RawTime::YearLess {
                        month: ((packed >> 48) / 32) as u8,
                        day: ((packed >> 48) % 32) as u8,
                        nanos_of_day: packed & ((1 << 48) - 1),
                    },
                };
                self.pairs.push((raw, k, boot, seg as u32));
            }
        }
    }
}

fn widen(r: &mut Option<(i64, i64)>, v: i64) {
    *r = Some(r.map_or((v, v), |(a, b)| (a.min(v), b.max(v))));
}

/// A fact about part of a bundle learnt from one of its members: it applies to the runs of the same
/// bundle whose relative path starts with `scope` (the directory the fact file describes, e.g. the
/// node folder holding `hostname`, or the sosreport root above `etc/hostname`).
#[derive(Debug, Clone)]
pub(crate) struct Fact {
    pub bundle: usize,
    pub scope: String,
    pub kind: FactKind,
}

/// What a fact says.
#[derive(Debug, Clone)]
pub(crate) enum FactKind {
    Host(String),
    Tz(jiff::tz::TimeZone),
    /// Boot time, seconds since the epoch (`/proc/stat` btime).
    BootTime(i64),
    /// When the capture was taken: a `date` output beside the captured files (a sosreport's
    /// `sos_commands/date/date`, an operator's `date.txt`) or a rootline manifest's `collected_at`.
    /// `cite` is `path:line` of the line that says so.
    Captured {
        date: DateOutput,
        cite: String,
    },
}

impl Fact {
    /// True when the fact covers a run of `bundle` at relative path `rel` (a leading `./`, as
    /// `tar -C dir -cf x.tar .` writes member names, is not part of the path).
    pub fn covers(&self, bundle: usize, rel: &str) -> bool {
        self.bundle == bundle && normal_rel(rel).starts_with(&self.scope)
    }
}

/// A member path without the `./` that `tar -C dir -cf x.tar .` puts before every name.
pub(crate) fn normal_rel(rel: &str) -> &str {
    let mut r = rel;
    while let Some(x) = r.strip_prefix("./") {
        r = x;
    }
    r
}

/// The scope a fact file describes: its path minus the known tail (`etc/hostname` -> ``).
fn scope_of(rel: &str, tail: &str) -> String {
    rel.strip_suffix(tail).unwrap_or("").to_string()
}

/// Settings for reading members.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadCfg<'a> {
    pub format: Option<Format>,
    pub max_line: usize,
    pub now: Option<i64>,
    pub json_fields: &'a std::sync::Arc<Vec<(String, String)>>,
    /// Memory shared by every run of this read.
    pub budget: &'a Arc<Budget>,
}

/// What reading one member produced.
pub(crate) enum Outcome {
    Run(Box<Run>),
    Fact(Fact, Skipped),
    Skipped(Skipped),
}

/// Reads a member: a bundle fact file, a binary file to skip, or a log to parse into a run.
/// Warnings (cut lines, a stream that ended in an error) are pushed to `warnings`.
pub(crate) fn read_member(mut m: Member<'_>, bundle: usize, cfg: ReadCfg<'_>, warnings: &mut Vec<Skipped>) -> Outcome {
    if let Some(o) = fact(&mut m, bundle) {
        return o;
    }
    // Notes that travel with evidence (a bundle's README) are documentation, not log lines.
    if m.rel.ends_with(".md") || m.rel.ends_with(".markdown") {
        return Outcome::Skipped(Skipped {
            path: m.display.into(),
            reason: "documentation (Markdown), not evidence".into(),
        });
    }
    let head: Vec<u8> = match m.reader.fill_buf() {
        Ok(b) => b[..b.len().min(crate::source::SAMPLE_BYTES)].to_vec(),
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
    // The format, and for lines behind a collector's stamps (`kubectl logs --timestamps`) the
    // format of what follows the stamps.
    let (format, behind_stamps) = match cfg.format {
        Some(f) => (f, None),
        None => {
            let mut sample: Vec<&[u8]> = head.split(|&c| c == b'\n').take(40).collect();
            if head.len() >= crate::source::SAMPLE_BYTES && sample.len() > 1 {
                sample.pop(); // the last piece may be a partial line
            }
            let sample: Vec<&[u8]> = sample.into_iter().map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
            match formats::prefixed::inner_format(m.rel, &sample) {
                Some(inner) => (inner, Some(inner)),
                None => (formats::detect(m.rel, &sample), None),
            }
        }
    };
    let ctx =
        SourceCtx { path: m.display.to_string(), mtime: m.mtime, now: cfg.now, json_fields: cfg.json_fields.clone() };
    let mut parser = match behind_stamps {
        Some(inner) => formats::prefixed::parser(inner, &ctx),
        None => (formats::spec(format).parser)(&ctx),
    };
    let path: Arc<str> = Arc::from(m.display);
    let mut sink = RunSink::new(cfg.budget.clone());
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
    sink.summary.finish();
    if cut > 3 {
        warnings.push(Skipped {
            path: m.display.into(),
            reason: format!("{cut} lines in all were cut to {} bytes", cfg.max_line),
        });
    }
    Outcome::Run(Box::new(Run {
        path,
        rel: m.rel.to_string(),
        bundle,
        format,
        mtime: m.mtime,
        archived: m.archived,
        store: sink.store,
        summary: sink.summary,
        lines: sink.lines,
        unparsed: sink.unparsed,
        bytes: lr.position(),
        cut_lines: cut,
    }))
}

/// Recognises members that carry bundle facts rather than logs.
fn fact(m: &mut Member<'_>, bundle: usize) -> Option<Outcome> {
    let rel = normal_rel(m.rel);
    // sosreport roots its files under one directory named after the report; look at the tail.
    let tail = |suffix: &str| rel == suffix || rel.ends_with(&format!("/{suffix}"));
    let tails = ["sos_commands/general/hostname", "sos_commands/host/hostname", "etc/hostname", "hostname"];
    let host_tail = tails.iter().find(|t| tail(t));
    let skipped = |what: &str| Skipped { path: m.display.into(), reason: format!("read as bundle metadata ({what})") };
    if let Some(t) = host_tail {
        let mut s = String::new();
        let _ = (&mut *m.reader).take(4096).read_line(&mut s);
        let h = s.trim();
        if !h.is_empty() && h.len() < 256 && !h.contains(char::is_whitespace) {
            return Some(Outcome::Fact(
                Fact { bundle, scope: scope_of(rel, t), kind: FactKind::Host(h.to_string()) },
                skipped("host name"),
            ));
        }
        return None;
    }
    if tail("etc/localtime") {
        let mut b = Vec::new();
        let _ = (&mut *m.reader).take(1 << 20).read_to_end(&mut b);
        return Some(match jiff::tz::TimeZone::tzif("localtime", &b) {
            Ok(tz) => Outcome::Fact(
                Fact { bundle, scope: scope_of(rel, "etc/localtime"), kind: FactKind::Tz(tz) },
                skipped("time zone"),
            ),
            Err(e) => Outcome::Skipped(Skipped {
                path: m.display.into(),
                reason: format!("not a readable time zone file: {e}"),
            }),
        });
    }
    // When the capture was taken. sos runs `date` in its date plugin (sos_commands/date/date, with
    // a top-level `date` symlink to it; older sos wrote sos_commands/general/date); an operator's
    // capture folder may hold its own `date` output.
    // See: sos/report/plugins/date.py (`add_cmd_output('date', root_symlink='date')`).
    let date_tails = ["sos_commands/date/date", "sos_commands/general/date", "date", "date.txt", "date.out"];
    if let Some(t) = date_tails.iter().find(|t| tail(t)) {
        let mut b = Vec::new();
        if (&mut *m.reader).take(4096).read_to_end(&mut b).is_ok() {
            let found = b.split(|&c| c == b'\n').enumerate().take(4).find_map(|(i, l)| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                crate::time::date_output::parse(l).map(|d| (i + 1, d))
            });
            if let Some((line, date)) = found {
                let cite = format!("{}:{line}", m.display);
                let kind = FactKind::Captured { date, cite };
                return Some(Outcome::Fact(Fact { bundle, scope: scope_of(rel, t), kind }, skipped("capture time")));
            }
        }
        // Not a `date` output after all; what was read is gone, so say why it was not read as a log.
        return Some(Outcome::Skipped(Skipped {
            path: m.display.into(),
            reason: "named like a `date` output but holds none; not read".into(),
        }));
    }
    if rel.ends_with("rootline-manifest.json") {
        let mut b = Vec::new();
        let _ = (&mut *m.reader).take(1 << 20).read_to_end(&mut b);
        let at = serde_json::from_slice::<serde_json::Value>(&b)
            .ok()
            .and_then(|v| v.get("collected_at").and_then(|c| c.as_str()).map(str::to_string));
        if let Some(date) = at.as_deref().and_then(|a| crate::time::date_output::parse(a.as_bytes())) {
            let cite = format!("{} (collected_at)", m.display);
            let kind = FactKind::Captured { date, cite };
            let scope = scope_of(rel, "rootline-manifest.json");
            return Some(Outcome::Fact(Fact { bundle, scope, kind }, skipped("capture time")));
        }
    }
    if tail("proc/stat") {
        let mut b = Vec::new();
        let _ = (&mut *m.reader).take(1 << 20).read_to_end(&mut b);
        let btime = b
            .split(|&c| c == b'\n')
            .find_map(|l| l.strip_prefix(b"btime ").and_then(|v| formats::util::parse_u64(formats::util::trim(v))));
        if let Some(bt) = btime {
            let kind = FactKind::BootTime(bt as i64);
            return Some(Outcome::Fact(Fact { bundle, scope: scope_of(rel, "proc/stat"), kind }, skipped("boot time")));
        }
    }
    captured_state(rel).map(|what| Outcome::Skipped(Skipped { path: m.display.into(), reason: what.into() }))
}

/// Members that are captured node state or bundle metadata, not logs: a rootline bundle's
/// `proc/<pid>/...`, `proc/self/...`, `proc/sys/...` and `sys/...` trees (read by
/// `rootline doctor --root`), its manifest and doctor report; a sosreport's `sys/` tree.
fn captured_state(rel: &str) -> Option<&'static str> {
    let parts: Vec<&str> = rel.split('/').collect();
    let name = parts.last().copied().unwrap_or("");
    if name == "rootline-manifest.json" || name == "rootline-doctor.json" {
        return Some("rootline bundle metadata (read by `rootline doctor --root`)");
    }
    let state = parts.windows(2).any(|w| match (w[0], w[1]) {
        ("proc", next) => {
            next == "self" || next == "sys" || next == "uptime" || next.bytes().all(|c| c.is_ascii_digit())
        }
        ("sys", next) => matches!(next, "block" | "class" | "devices" | "bus" | "module" | "fs" | "kernel"),
        _ => false,
    });
    state.then_some("captured /proc or /sys state, not a log (read by `rootline doctor --root`)")
}

use std::io::Read;

struct RunSink {
    store: ItemStore,
    summary: Summary,
    lines: u64,
    unparsed: u64,
    last_host: Option<Arc<str>>,
    seg: u32,
    last_boot: Option<i64>,
    last_boot_id: Option<String>,
    year_k: u16,
    last_month: Option<u8>,
}

impl RunSink {
    fn new(budget: Arc<Budget>) -> Self {
        RunSink {
            store: ItemStore::new(budget),
            summary: Summary::default(),
            lines: 0,
            unparsed: 0,
            last_host: None,
            seg: 0,
            last_boot: None,
            last_boot_id: None,
            year_k: 0,
            last_month: None,
        }
    }

    /// Makes `last_host` the host a record names (a new `Arc` only when it changes); false when it
    /// names none.
    fn host(&mut self, h: Option<Cow<'_, str>>) -> bool {
        let Some(h) = h else { return false };
        if self.last_host.as_deref() != Some(&*h) {
            self.last_host = Some(Arc::from(&*h));
        }
        true
    }
}

/// The field every unparsed line carries.
const UNPARSED: &[(Cow<'static, str>, Cow<'static, str>)] = &[(Cow::Borrowed("unparsed"), Cow::Borrowed("true"))];

/// A decrease of more than this in seconds-since-boot means the host rebooted.
const REBOOT_STEP_NANOS: i64 = 1_000_000_000;

impl Sink for RunSink {
    fn record(&mut self, at: LinePos, r: Record<'_>) {
        let boot = match r.time {
            RawTime::Boot { nanos } => Some(nanos),
            _ => r.boot_nanos,
        };
        if let Some(id) = &r.boot_id {
            // A new boot id starts a segment, and so does the first one after records of no known boot.
            let first_after_unknown = self.last_boot_id.is_none() && self.last_boot.is_some();
            if first_after_unknown || self.last_boot_id.as_deref().is_some_and(|l| l != id) {
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
        // A jump back of six months or more between year-less lines is a New Year.
        if let RawTime::YearLess { month, .. } = r.time {
            if self.last_month.is_some_and(|p| month + 6 <= p) {
                self.year_k = self.year_k.saturating_add(1);
            }
            self.last_month = Some(month);
        }
        // Borrowed, not cloned: most runs name one host on every line.
        let host = if self.host(r.host) { self.last_host.as_ref() } else { None };
        let kernel = r.program.as_deref() == Some("kernel");
        let it = NewItem {
            raw: r.time,
            seg: self.seg,
            year_k: self.year_k,
            boot_nanos: boot,
            host,
            program: r.program.as_deref(),
            pid: r.pid,
            severity: r.severity,
            line: at.line,
            byte_offset: at.offset,
            fields: &r.fields,
            message: &r.message,
        };
        self.summary.note(&it, kernel);
        if let Some(t) = r.taken_after_boot {
            self.summary.taken_after_boot = Some(self.summary.taken_after_boot.map_or(t, |x| x.max(t)));
        }
        self.store.push(&it);
    }

    fn attach(&mut self, at: LinePos, line: &[u8]) {
        if !self.store.attach(line) {
            self.unparsed(at, line);
        }
    }

    fn skip(&mut self, _at: LinePos) {}

    fn unparsed(&mut self, at: LinePos, line: &[u8]) {
        self.unparsed += 1;
        self.summary.kinds[0] += 1;
        self.store.push(&NewItem {
            raw: RawTime::None,
            seg: self.seg,
            year_k: self.year_k,
            boot_nanos: None,
            host: None,
            program: None,
            pid: None,
            severity: None,
            line: at.line,
            byte_offset: at.offset,
            fields: UNPARSED,
            message: line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_state_is_not_read_as_logs() {
        for p in [
            "rootline-h-1/proc/412/stat",
            "rootline-h-1/proc/412/task/413/stack",
            "rootline-h-1/proc/self/mountinfo",
            "rootline-h-1/proc/sys/kernel/hung_task_timeout_secs",
            "rootline-h-1/sys/block/dm-0/dm/name",
            "sosreport-x/sys/class/scsi_host/host0/state",
            "rootline-h-1/rootline-manifest.json",
        ] {
            assert!(captured_state(p).is_some(), "{p}");
        }
        for p in [
            "rootline-h-1/logs/var/log/messages",
            "node/proc-stat-outage.txt",
            "x/snapshots/proc-pid-stat.txt",
            "var/log/sysstat/sa01",
        ] {
            assert!(captured_state(p).is_none(), "{p}");
        }
    }

    fn item(raw: RawTime, year_k: u16, boot_nanos: Option<i64>) -> NewItem<'static, 'static> {
        NewItem {
            raw,
            seg: 0,
            year_k,
            boot_nanos,
            host: None,
            program: None,
            pid: None,
            severity: None,
            line: 1,
            byte_offset: 0,
            fields: &[],
            message: b"",
        }
    }

    #[test]
    fn kept_pairs_round_trip_late_in_the_day() {
        let mut s = Summary::default();
        let raw = RawTime::YearLess { month: 12, day: 31, nanos_of_day: 86_399_999_999_999 };
        s.note(&item(raw, 3, Some(5)), true);
        s.finish();
        assert_eq!(s.pairs, vec![(raw, 3, 5, 0)]);
        assert_eq!(s.kernel_walls.len(), 1);
    }

    #[test]
    fn msg_hash_tells_messages_apart() {
        let msgs: [&[u8]; 6] =
            [b"", b"a", b"a\0", b"sd 2:0:0:1: rejecting I/O", b"sd 2:0:0:1: rejecting I/O ", b"12345678"];
        let hashes: std::collections::HashSet<u64> = msgs.iter().map(|m| msg_hash(m)).collect();
        assert_eq!(hashes.len(), msgs.len());
        assert_eq!(msg_hash(b"sd 2:0:0:1: rejecting I/O"), msg_hash(b"sd 2:0:0:1: rejecting I/O"));
    }

    #[test]
    fn pairs_keep_the_earliest_implied_boots() {
        let mut s = Summary::default();
        for i in 0..1000i64 {
            // Implied boot = wall - boot = 1000 - (i % 7): the earliest is 994.
            s.note(&item(RawTime::Exact { unix_nanos: 1000, offset_secs: 0 }, 0, Some(i % 7)), false);
        }
        s.finish();
        assert_eq!(s.pairs.len(), MAX_PAIRS_PER_SEG);
        assert!(s.pairs.iter().all(|p| p.2 >= 5), "only the largest boot offsets (earliest boots) are kept");
    }
}

//! Turning raw times into one timeline: hosts, zones, years, boot anchors, clock skew.
//!
//! Runs once after every source has been read, from each run's bounded [`Summary`] (never from the
//! events themselves, which may be on disk by then), and yields one [`Plan`] per run that the merge
//! applies to each event as it streams out. Each step may need facts from other sources:
//! - host: the record's own host, else the host named by a `hostname` file covering the run (a
//!   sosreport's `etc/hostname`, a node folder's `hostname`), else `--assume-host`, else the only
//!   host the bundle's other sources name;
//! - zone for naive times: `--tz`, else the covering `etc/localtime`, else the machine's zone;
//! - year for year-less lines: `--year`, else the years the host's dated sources cover, else the
//!   file's modification time, else now; a New Year inside a file (December, then January) adds one;
//! - wall time for seconds-since-boot: the host's boot time, estimated from records that state both
//!   (a syslog kernel line with its `[uptime]` stamp, a journal record's monotonic time, a command
//!   log's `=== time [uptime]` header), from identical kernel messages seen with a wall time in another
//!   source, from a covering `/proc/stat` btime, or `--boot-time`. Each boot segment gets its own
//!   anchor; without one, times stay relative to boot and the file's order is kept.
//!
//! [`Summary`]: crate::run::Summary

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::tz::TimeZone;
use rootline_event::{days_from_civil, Format, TimeKind, Timestamp};

use super::RawTime;
use crate::run::{Fact, FactKind, Run, YlKey};

const NANOS: i64 = 1_000_000_000;

/// A host name as events carry it (`None` when no source named one).
type Host = Option<Arc<str>>;

/// A map keyed by a message hash ([`crate::run::msg_hash`], already well mixed): the key is its own
/// hash. Planning looks up hundreds of thousands of kernel messages, where SipHash and the host name
/// in every key were most of its time.
type ByMsg<V> = HashMap<u64, V, std::hash::BuildHasherDefault<MsgKey>>;

/// The hasher of [`ByMsg`]: passes a `u64` through.
#[derive(Default)]
struct MsgKey(u64);

impl std::hash::Hasher for MsgKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}
/// Boot-time estimates closer than this belong to the same boot.
const SAME_BOOT_NANOS: i64 = 30 * NANOS;

/// Settings that override what the evidence says.
#[derive(Debug, Clone, Default)]
pub struct ResolveOpts {
    /// Zone for naive local times (`--tz`).
    pub tz: Option<TimeZone>,
    /// Year for year-less lines (`--year`).
    pub year: Option<i16>,
    /// Boot time of the (last) boot, nanoseconds since the epoch (`--boot-time`).
    pub boot_time: Option<i64>,
    /// Host for events that name none (`--assume-host`).
    pub assume_host: Option<String>,
    /// "Now", seconds since the epoch (for year inference of sources with no file time).
    pub now: i64,
}

/// What resolution learnt about one source.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceStats {
    /// Display path.
    pub path: String,
    /// Format it was read as.
    pub format: String,
    /// Host of its events (the first one seen, or the one assigned).
    pub host: Option<String>,
    /// Lines read.
    pub lines: u64,
    /// Events made (records, snapshot items and unparsed lines).
    pub events: u64,
    /// Lines that no parser could read (kept as timeless events).
    pub unparsed_lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Earliest resolved time.
    pub first: Option<String>,
    /// Latest resolved time.
    pub last: Option<String>,
    /// How times were obtained: kind name and count (in JSON an object, kind to count, so that every
    /// value has one type).
    #[serde(serialize_with = "pairs_as_object")]
    pub time_kinds: Vec<(String, u64)>,
    /// Events whose time went backwards relative to the one before (clock jumps, interleaving);
    /// such sources are sorted before merging.
    pub out_of_order: u64,
    /// Estimated clock offset from the host's reference source, seconds (same messages compared).
    pub skew_secs: Option<f64>,
    /// Boot anchors used, one per boot segment, RFC 3339 (empty when the source has no boot times).
    pub boot_anchors: Vec<Option<String>>,
    /// For a state snapshot (command output with no clock of its own): when it was taken and how
    /// that was learnt, e.g. `2025-10-14T10:46:02+09:00 from the capture's date output (x/date:1)`.
    /// A snapshot with no capture time says why (a loose file's modification time is never used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_time: Option<String>,
}

fn pairs_as_object<S: serde::Serializer>(pairs: &[(String, u64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(pairs.len()))?;
    for (k, n) in pairs {
        m.serialize_entry(k, n)?;
    }
    m.end()
}

/// How to turn one run's raw items into events.
pub(crate) struct Plan {
    tz: TimeZone,
    host: Host,
    snapshot: Option<Timestamp>,
    /// How `snapshot` was learnt (for `--stats`).
    snapshot_from: Option<String>,
    /// True when `snapshot` came from a capture fact (a `date` output, a manifest): evidence that
    /// outranks the newest process start and any file time.
    snapshot_stated: bool,
    year_base: Option<i64>,
    anchors: Vec<Option<i64>>,
    cache: OffsetCache,
}

impl Plan {
    /// The wall time of a raw time that needs no boot anchor.
    fn wall(&mut self, raw: RawTime, k: u16) -> Option<(Timestamp, TimeKind)> {
        match raw {
            RawTime::Exact { unix_nanos, offset_secs } => {
                Some((Timestamp::from_unix_nanos(unix_nanos, offset_secs), TimeKind::Exact))
            }
            RawTime::Naive { civil_nanos } => self.cache.local(&self.tz, civil_nanos).map(|t| (t, TimeKind::Zoned)),
            RawTime::YearLess { month, day, nanos_of_day } => {
                let y = self.year_base? + k as i64;
                if !super::civil::valid_date(y, month as u32, day as u32) {
                    return None; // Feb 29 in a year without one: no usable time, order kept
                }
                let civil = days_from_civil(y, month as u32, day as u32) * 86_400 * NANOS + nanos_of_day;
                self.cache.local(&self.tz, civil).map(|t| (t, TimeKind::YearInferred))
            }
            RawTime::Snapshot => self.snapshot.map(|t| (t, TimeKind::Snapshot)),
            RawTime::Approx { unix_nanos } => Some((Timestamp::from_unix_nanos(unix_nanos, 0), TimeKind::Approximate)),
            RawTime::Boot { .. } | RawTime::None => None,
        }
    }

    fn boot(&self, seg: u32, nanos: i64) -> Option<Timestamp> {
        let a = (*self.anchors.get(seg as usize)?)?;
        let u = a + nanos;
        let off = jiff::Timestamp::from_nanosecond(u as i128).map(|t| self.tz.to_offset(t).seconds()).unwrap_or(0);
        Some(Timestamp::from_unix_nanos(u, off))
    }

    /// The resolved time of a raw time in boot segment `seg`, `year_k` years after the run's first.
    pub fn time(&mut self, raw: RawTime, seg: u32, year_k: u16) -> (Option<Timestamp>, TimeKind) {
        match raw {
            RawTime::Boot { nanos } => match self.boot(seg, nanos) {
                Some(t) => (Some(t), TimeKind::Anchored),
                None => (None, TimeKind::Relative),
            },
            raw => match self.wall(raw, year_k) {
                Some((t, k)) => (Some(t), k),
                None => (None, TimeKind::None),
            },
        }
    }

    /// The host of events that name none.
    pub fn host(&self) -> Option<&Arc<str>> {
        self.host.as_ref()
    }
}

/// Plans every run and returns the plans with per-source statistics.
pub(crate) fn plan(runs: &[Run], facts: &[Fact], o: &ResolveOpts) -> (Vec<Plan>, Vec<SourceStats>) {
    let system_tz = o.tz.clone().unwrap_or_else(TimeZone::system);
    // The most specific fact of each kind that covers a run.
    let find = |run: &Run, want: fn(&FactKind) -> bool| -> Option<&FactKind> {
        facts
            .iter()
            .filter(|f| want(&f.kind) && f.covers(run.bundle, &run.rel))
            .max_by_key(|f| f.scope.len())
            .map(|f| &f.kind)
    };
    // The only host each bundle's records name, if exactly one.
    let mut named: HashMap<usize, Host> = HashMap::new();
    let mut conflicted: HashSet<usize> = HashSet::new();
    for run in runs {
        if run.summary.host_conflict {
            conflicted.insert(run.bundle);
        }
        if let Some(h) = &run.summary.host {
            match named.get(&run.bundle) {
                None => {
                    named.insert(run.bundle, Some(h.clone()));
                }
                Some(Some(prev)) if prev != h => {
                    conflicted.insert(run.bundle);
                }
                _ => {}
            }
        }
    }
    let assume: Host = o.assume_host.as_deref().map(Arc::from);
    let mut plans: Vec<Plan> = runs
        .iter()
        .map(|run| {
            let tz = match (&o.tz, find(run, |k| matches!(k, FactKind::Tz(_)))) {
                (None, Some(FactKind::Tz(tz))) => tz.clone(),
                _ => system_tz.clone(),
            };
            let host = match find(run, |k| matches!(k, FactKind::Host(_))) {
                Some(FactKind::Host(h)) => Some(Arc::from(h.as_str())),
                _ => None,
            }
            .or_else(|| assume.clone())
            .or_else(|| {
                if conflicted.contains(&run.bundle) {
                    None
                } else {
                    named.get(&run.bundle).cloned().flatten()
                }
            });
            // When a snapshot was taken, most trusted first: the capture's own `date` output or
            // manifest, then an archive member's time (set when the capture was packed). The
            // newest process start and a loose file's time are weighed once boots are known.
            let stated = match find(run, |k| matches!(k, FactKind::Captured { .. })) {
                Some(FactKind::Captured { date, cite }) => {
                    date.resolve(&tz).map(|t| (t, format!("the capture's date output ({cite})")))
                }
                _ => None,
            };
            let snapshot_stated = stated.is_some();
            let (snapshot, snapshot_from) = match stated {
                Some((t, how)) => (Some(t), Some(how)),
                None => match run.mtime.filter(|_| run.archived) {
                    Some(m) => (Some(at_second(m, &tz)), Some("the archive member's time".to_string())),
                    None => (None, None),
                },
            };
            Plan {
                tz,
                host,
                snapshot,
                snapshot_from,
                snapshot_stated,
                year_base: None,
                anchors: Vec::new(),
                cache: OffsetCache::default(),
            }
        })
        .collect();
    // The host each run's events mostly carry: their own, else the plan's fallback.
    let run_host: Vec<Host> =
        runs.iter().zip(&plans).map(|(r, p)| r.summary.host.clone().or_else(|| p.host.clone())).collect();

    // 1. What the host's fully dated sources cover.
    let mut host_range: HashMap<Host, (i64, i64)> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        let mut span = run.summary.exact;
        if let Some((a, b)) = run.summary.naive {
            let p = &mut plans[i];
            if let (Some(x), Some(y)) = (p.cache.local(&p.tz, a), p.cache.local(&p.tz, b)) {
                span = Some(
                    span.map_or((x.unix_nanos, y.unix_nanos), |(lo, hi)| (lo.min(x.unix_nanos), hi.max(y.unix_nanos))),
                );
            }
        }
        if let Some((a, b)) = span {
            let r = host_range.entry(run_host[i].clone()).or_insert((a, b));
            *r = (r.0.min(a), r.1.max(b));
        }
    }

    // 2. Year-less sources.
    for (i, run) in runs.iter().enumerate() {
        let (Some(first), Some(last)) = (run.summary.yl_first, run.summary.yl_last) else { continue };
        let range = host_range.get(&run_host[i]).copied();
        let reference = plans[i].snapshot.map(|t| t.unix_nanos.div_euclid(NANOS)).or(run.mtime);
        plans[i].year_base = Some(year_base(first, last, &plans[i].tz, o, range, reference));
    }

    // 3. Boot anchors.
    let mut pairs: HashMap<Host, Vec<i64>> = HashMap::new();
    let mut walls: HashMap<Host, ByMsg<Vec<i64>>> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        if let Some(FactKind::BootTime(b)) = find(run, |k| matches!(k, FactKind::BootTime(_))) {
            if run_host[i].is_some() {
                pairs.entry(run_host[i].clone()).or_default().push(*b * NANOS);
            }
        }
        let p = &mut plans[i];
        for &(raw, k, boot, _) in &run.summary.pairs {
            if let Some((t, _)) = p.wall(raw, k) {
                pairs.entry(run_host[i].clone()).or_default().push(t.unix_nanos - boot);
            }
        }
        if run.format != Format::Kernel {
            if run.summary.kernel_walls.is_empty() {
                continue;
            }
            let host_walls = walls.entry(run_host[i].clone()).or_default();
            for &(h, raw, k) in &run.summary.kernel_walls {
                if let Some((t, _)) = p.wall(raw, k) {
                    host_walls.entry(h).or_default().push(t.unix_nanos);
                }
            }
        }
    }
    let boots: HashMap<Host, Vec<i64>> = pairs.into_iter().map(|(h, v)| (h, cluster(v))).collect();
    for (i, run) in runs.iter().enumerate() {
        let nseg = run.summary.boot_per_seg.len();
        if nseg == 0 {
            continue;
        }
        let host_boots = boots.get(&run_host[i]).cloned().unwrap_or_default();
        let host_walls = walls.get(&run_host[i]);
        let mut anchors = vec![None; nseg];
        for (seg, slot) in anchors.iter_mut().enumerate() {
            // Identical kernel messages seen elsewhere with a wall time vote for this segment's boot.
            let mut votes = Vec::new();
            for &(s, h, nanos) in &run.summary.kernel_boots {
                if s as usize == seg {
                    if let Some(ws) = host_walls.and_then(|w| w.get(&h)) {
                        votes.extend(ws.iter().take(64).map(|w| w - nanos));
                    }
                }
            }
            // The host's boots known from records stating both clocks are precise; the votes say which
            // of them this segment belongs to. Votes alone count only when they agree (chance matches
            // of common messages spread out; true ones pile up).
            let nearest = |v: i64| {
                host_boots.iter().copied().filter(|b| (b - v).abs() <= 600 * NANOS).min_by_key(|b| (b - v).abs())
            };
            let by_order = (host_boots.len() + seg).checked_sub(nseg).and_then(|i| host_boots.get(i).copied());
            let by_flag = (seg + 1 == nseg).then_some(o.boot_time).flatten();
            *slot = match densest(votes) {
                Some((v, _)) if nearest(v).is_some() => nearest(v),
                Some((v, share)) if share >= 0.2 => Some(v),
                _ => by_order.or(by_flag),
            };
        }
        plans[i].anchors = anchors;
    }

    // 3b. Snapshots that state no capture time: a `/proc/PID/stat` dump was taken after its newest
    // process started, so boot + that start is a time the evidence proves (a lower bound, close to
    // the capture when the dumping shell's own children are in it). It corrects an archive time
    // that is earlier still; a loose file's time is only the last resort (a copy resets it).
    for (i, run) in runs.iter().enumerate() {
        if run.summary.kinds[5] == 0 || plans[i].snapshot_stated {
            continue;
        }
        if let Some(after) = run.summary.taken_after_boot {
            let host_boots = boots.get(&run_host[i]).map(Vec::as_slice).unwrap_or(&[]);
            let range_end = host_range.get(&run_host[i]).map(|r| r.1);
            if let Some(boot) = boot_of_snapshot(host_boots, after, range_end) {
                let floor = boot + after;
                let keep = plans[i].snapshot.is_some_and(|t| t.unix_nanos + NANOS >= floor);
                if !keep {
                    let tz = plans[i].tz.clone();
                    plans[i].snapshot = Some(at_nanos(floor, &tz));
                    plans[i].snapshot_from = Some(format!(
                        "its newest process, started {:.2} s after the boot of {}",
                        after as f64 / NANOS as f64,
                        at_nanos(boot, &tz).to_rfc3339()
                    ));
                }
            }
        }
        // A loose file's modification time is not evidence (a copy or a checkout resets it): such a
        // snapshot keeps its place in the file's order with no time, and --stats says why.
        if plans[i].snapshot.is_none() {
            plans[i].snapshot_from = Some(
                "nowhere: no command log, date output, manifest or archive time covers it, and a loose \
                 file's modification time is not used (a copy or checkout resets it)"
                    .into(),
            );
        }
    }

    // 4. Statistics.
    let skews = estimate_skew(runs, &mut plans, &run_host);
    let stats = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let mut st = stats_of(run, &mut plans[i], run_host[i].as_deref());
            st.skew_secs = skews.get(&i).copied();
            st
        })
        .collect();
    (plans, stats)
}

/// The zone to show times in: `--tz`, else the bundles' `etc/localtime` when they agree on one,
/// else the machine's.
pub(crate) fn display_zone(facts: &[Fact], o: &ResolveOpts) -> crate::stats::Zone {
    let name_of = |tz: &TimeZone, how: &str| {
        tz.iana_name().filter(|n| *n != "localtime").map(str::to_string).unwrap_or_else(|| how.to_string())
    };
    if let Some(tz) = &o.tz {
        return crate::stats::Zone { name: name_of(tz, "--tz"), tz: tz.clone() };
    }
    let mut zones = facts.iter().filter_map(|f| match &f.kind {
        FactKind::Tz(tz) => Some(tz),
        _ => None,
    });
    if let Some(first) = zones.next() {
        // Compared by what they say of a year of instants, not by name (a tzif file has none).
        let probe: Vec<i64> = (0..12).map(|m| 1_735_689_600 + m * 30 * 86_400).collect();
        let same = |a: &TimeZone, b: &TimeZone| {
            probe.iter().all(|s| {
                let t = jiff::Timestamp::from_second(*s).expect("in range");
                a.to_offset(t) == b.to_offset(t)
            })
        };
        if zones.all(|z| same(z, first)) {
            return crate::stats::Zone { name: name_of(first, "etc/localtime of the bundle"), tz: first.clone() };
        }
    }
    let sys = TimeZone::system();
    crate::stats::Zone { name: name_of(&sys, "the machine's zone"), tz: sys }
}

/// An instant given in seconds, shown in `tz`.
fn at_second(secs: i64, tz: &TimeZone) -> Timestamp {
    at_nanos(secs.saturating_mul(NANOS), tz)
}

/// An instant given in nanoseconds, shown in `tz`.
fn at_nanos(nanos: i64, tz: &TimeZone) -> Timestamp {
    let off = jiff::Timestamp::from_nanosecond(nanos as i128).map(|t| tz.to_offset(t).seconds()).unwrap_or(0);
    Timestamp::from_unix_nanos(nanos, off)
}

/// The boot a snapshot taken `after` nanoseconds after boot belongs to: one that had not been
/// followed by the next before then; of several, the latest whose capture falls within the host's
/// dated evidence (`range_end`, plus an hour), else the earliest possible.
fn boot_of_snapshot(boots: &[i64], after: i64, range_end: Option<i64>) -> Option<i64> {
    let possible: Vec<i64> = boots
        .iter()
        .enumerate()
        .filter(|(k, b)| boots.get(k + 1).is_none_or(|next| **b + after < *next))
        .map(|(_, b)| *b)
        .collect();
    match range_end {
        Some(end) => possible.iter().rev().find(|b| **b + after <= end + 3600 * NANOS).or(possible.first()).copied(),
        None => possible.last().copied(),
    }
}

fn year_of(unix_secs: i64, tz: &TimeZone) -> (i64, u32, u32) {
    let off = jiff::Timestamp::from_second(unix_secs).map(|t| tz.to_offset(t).seconds()).unwrap_or(0) as i64;
    rootline_event::civil_from_days((unix_secs + off).div_euclid(86_400))
}

/// The year of a run's first year-less line.
fn year_base(
    first: YlKey,
    last: YlKey,
    tz: &TimeZone,
    o: &ResolveOpts,
    range: Option<(i64, i64)>,
    mtime: Option<i64>,
) -> i64 {
    if let Some(y) = o.year {
        return y as i64;
    }
    if let Some((lo, hi)) = range {
        // The base year that puts this file's span closest to what the host's dated sources cover.
        let (ylo, _, _) = year_of(lo / NANOS, tz);
        let (yhi, _, _) = year_of(hi / NANOS, tz);
        let at = |base: i64, k: YlKey| {
            let y = (base + k.0 as i64).clamp(*super::civil::YEARS.start(), *super::civil::YEARS.end());
            days_from_civil(y, k.1 as u32, k.2 as u32) * 86_400 * NANOS + k.3
        };
        let gap = |base: i64| {
            let (a, b) = (at(base, first), at(base, last));
            if b < lo {
                lo - b
            } else if a > hi {
                a - hi
            } else {
                0
            }
        };
        return (ylo - 1 - last.0 as i64..=yhi + 1).min_by_key(|b| (gap(*b), -b)).unwrap_or(ylo);
    }
    // The last line cannot be later than the file's time (or now): a date after it is last year.
    let reference = mtime.unwrap_or(o.now);
    let (ry, rm, rd) = year_of(reference, tz);
    let y_last = if (last.1 as u32, last.2 as u32) > (rm, rd + 1) { ry - 1 } else { ry };
    y_last - last.0 as i64
}

/// The instant of a civil (local) time in `tz`; at a DST change, the earlier offset.
pub(crate) fn local_time(tz: &TimeZone, civil_nanos: i64) -> Option<Timestamp> {
    OffsetCache::default().local(tz, civil_nanos)
}

/// Converts local civil times to instants, caching the zone's offset per civil hour.
#[derive(Default)]
struct OffsetCache {
    hour: i64,
    offset: Option<i32>,
}

impl OffsetCache {
    fn local(&mut self, tz: &TimeZone, civil_nanos: i64) -> Option<Timestamp> {
        let hour = civil_nanos.div_euclid(3600 * NANOS);
        let off = match self.offset {
            Some(off) if self.hour == hour => off,
            _ => {
                let secs = civil_nanos.div_euclid(NANOS);
                let days = secs.div_euclid(86_400);
                let (y, m, d) = rootline_event::civil_from_days(days);
                let sod = secs.rem_euclid(86_400);
                let dt = jiff::civil::DateTime::new(
                    i16::try_from(y).ok()?,
                    m as i8,
                    d as i8,
                    (sod / 3600) as i8,
                    (sod / 60 % 60) as i8,
                    (sod % 60) as i8,
                    0,
                )
                .ok()?;
                // Ambiguous or skipped local times (DST changes) take the earlier offset ("compatible").
                let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
                let off = tz.to_offset(ts).seconds();
                // The offset can differ within the hour only at a transition; don't cache those hours.
                let end =
                    tz.to_offset(jiff::Timestamp::from_second(ts.as_second() + 3599 - sod % 3600).ok()?).seconds();
                if end == off {
                    self.hour = hour;
                    self.offset = Some(off);
                } else {
                    self.offset = None;
                }
                off
            }
        };
        Some(Timestamp::from_unix_nanos(civil_nanos - off as i64 * NANOS, off))
    }
}

fn median(v: &mut [i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// The boot time a sorted group of estimates (wall time minus seconds since boot) points to.
///
/// A logger stamps a kernel message when it reads it, never before it was written: each true
/// estimate is the boot time plus a delay (busybox klogd stamps its whole boot-time dump at the
/// moment it starts, seconds late). Estimates from messages matched by text also include chance
/// matches, spread over hours. So: find the densest two-second window (where the true estimates pile
/// up), widen it ten seconds back to take in the promptly stamped ones, and take the 2nd percentile
/// there rather than the minimum, so one wrong clock does not pull the anchor.
fn boot_of(sorted: &[i64]) -> i64 {
    boot_and_share(sorted).0
}

/// [`boot_of`], plus the share of all estimates that fell in the densest window (how much they agree).
fn boot_and_share(sorted: &[i64]) -> (i64, f64) {
    let (mut best, mut lo, mut hi, mut j) = (0usize, 0usize, 0usize, 0usize);
    for i in 0..sorted.len() {
        while sorted[i] - sorted[j] > 2 * NANOS {
            j += 1;
        }
        if i - j + 1 > best {
            (best, lo, hi) = (i - j + 1, j, i);
        }
    }
    let start = sorted.partition_point(|&v| v < sorted[lo] - 10 * NANOS);
    let window = &sorted[start..=hi];
    (window[(window.len() - 1) * 2 / 100], best as f64 / sorted.len() as f64)
}

/// Groups estimates into boots (gaps over 30 s separate them); one boot time per group, in order.
fn cluster(mut ests: Vec<i64>) -> Vec<i64> {
    groups(&mut ests).into_iter().map(boot_of).collect()
}

fn groups(ests: &mut [i64]) -> Vec<&[i64]> {
    ests.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=ests.len() {
        if i == ests.len() || ests[i] - ests[i - 1] > SAME_BOOT_NANOS {
            if i > start {
                out.push(&ests[start..i]);
            }
            start = i;
        }
    }
    out
}

/// The boot time that most estimates point to, and the share of estimates that agree with it.
fn densest(mut v: Vec<i64>) -> Option<(i64, f64)> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(boot_and_share(&v))
}

/// Per source, the median offset of its kernel messages from the same messages in the host's
/// reference source (the one with the most such messages). Sources anchored through those very
/// messages are not compared: their times are derived from the others.
fn estimate_skew(runs: &[Run], plans: &mut [Plan], run_host: &[Host]) -> HashMap<usize, f64> {
    let mut by_host: HashMap<Host, Vec<(usize, u64, i64)>> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        if run.summary.kernel_walls.is_empty() {
            continue;
        }
        let rows = by_host.entry(run_host[i].clone()).or_default();
        rows.reserve(run.summary.kernel_walls.len());
        for &(h, raw, k) in &run.summary.kernel_walls {
            if let Some((t, _)) = plans[i].wall(raw, k) {
                rows.push((i, h, t.unix_nanos));
            }
        }
    }
    let mut out = HashMap::new();
    for (_, rows) in by_host {
        let mut count: HashMap<usize, usize> = HashMap::new();
        for r in &rows {
            *count.entry(r.0).or_default() += 1;
        }
        if count.len() < 2 {
            continue;
        }
        let reference =
            count.iter().max_by_key(|(ri, n)| (**n, std::cmp::Reverse(**ri))).map(|(ri, _)| *ri).unwrap_or(0);
        let mut ref_times: ByMsg<i64> = ByMsg::default();
        for r in rows.iter().filter(|r| r.0 == reference) {
            ref_times.entry(r.1).or_insert(r.2);
        }
        let mut diffs: HashMap<usize, Vec<i64>> = HashMap::new();
        for r in rows.iter().filter(|r| r.0 != reference) {
            if let Some(t) = ref_times.get(&r.1) {
                diffs.entry(r.0).or_default().push(r.2 - t);
            }
        }
        out.insert(reference, 0.0);
        for (ri, mut d) in diffs {
            if d.len() >= 3 {
                if let Some(m) = median(&mut d) {
                    out.insert(ri, m as f64 / NANOS as f64);
                }
            }
        }
    }
    out
}

fn stats_of(run: &Run, p: &mut Plan, host: Option<&str>) -> SourceStats {
    let s = &run.summary;
    let mut kinds: Vec<(String, u64)> = Vec::new();
    let mut add = |k: TimeKind, n: u64| {
        if n > 0 {
            match kinds.iter_mut().find(|(name, _)| name == k.as_str()) {
                Some(e) => e.1 += n,
                None => kinds.push((k.as_str().to_string(), n)),
            }
        }
    };
    add(TimeKind::None, s.kinds[0]);
    add(TimeKind::Exact, s.kinds[1]);
    add(TimeKind::Zoned, s.kinds[2]);
    add(if p.year_base.is_some() { TimeKind::YearInferred } else { TimeKind::None }, s.kinds[3]);
    for (seg, n) in s.boot_per_seg.iter().enumerate() {
        add(if p.anchors.get(seg).copied().flatten().is_some() { TimeKind::Anchored } else { TimeKind::Relative }, *n);
    }
    add(if p.snapshot.is_some() { TimeKind::Snapshot } else { TimeKind::None }, s.kinds[5]);
    add(TimeKind::Approximate, s.kinds[6]);
    kinds.sort();
    // Resolution is monotonic within each kind, so the extremes are among the kinds' extremes.
    let mut cands: Vec<Timestamp> = Vec::new();
    for (a, b) in s.exact.into_iter() {
        cands.push(Timestamp::from_unix_nanos(a, 0));
        cands.push(Timestamp::from_unix_nanos(b, 0));
    }
    for (a, b) in s.naive.into_iter() {
        cands.extend(p.wall(RawTime::Naive { civil_nanos: a }, 0).map(|t| t.0));
        cands.extend(p.wall(RawTime::Naive { civil_nanos: b }, 0).map(|t| t.0));
    }
    for key in [s.yl_min, s.yl_max].into_iter().flatten() {
        cands.extend(p.wall(RawTime::YearLess { month: key.1, day: key.2, nanos_of_day: key.3 }, key.0).map(|t| t.0));
    }
    for (seg, (a, b)) in s.boot_range.iter().enumerate() {
        cands.extend(p.boot(seg as u32, *a));
        cands.extend(p.boot(seg as u32, *b));
    }
    if s.kinds[5] > 0 {
        cands.extend(p.snapshot);
    }
    let first = cands.iter().min().copied();
    let last = cands.iter().max().copied();
    let tz = p.tz.clone();
    let show = |t: Timestamp| {
        let off = jiff::Timestamp::from_nanosecond(t.unix_nanos as i128).map(|x| tz.to_offset(x).seconds());
        t.with_offset(off.unwrap_or(t.offset_secs)).to_rfc3339()
    };
    SourceStats {
        path: run.path.to_string(),
        format: run.format.as_str().to_string(),
        host: host.map(str::to_string),
        lines: run.lines,
        events: run.store.len(),
        unparsed_lines: run.unparsed,
        bytes: run.bytes,
        first: first.map(show),
        last: last.map(show),
        time_kinds: kinds,
        out_of_order: s.out_of_order,
        skew_secs: None,
        boot_anchors: p.anchors.iter().map(|a| a.map(|a| Timestamp::from_unix_nanos(a, 0).to_rfc3339())).collect(),
        snapshot_time: match (&p.snapshot, &p.snapshot_from) {
            (Some(t), Some(how)) if s.kinds[5] > 0 => Some(format!("{} from {how}", show(*t))),
            (None, Some(how)) if s.kinds[5] > 0 => Some(format!("unknown: its time comes from {how}")),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_belongs_to_a_boot_it_can_have_been_taken_in() {
        let h = 3600 * NANOS;
        // One boot: that one.
        assert_eq!(boot_of_snapshot(&[10 * h], 90 * NANOS, None), Some(10 * h));
        // Two boots: a dump showing 30 h of uptime cannot belong to a boot followed by another 5 h later.
        assert_eq!(boot_of_snapshot(&[0, 5 * h], 30 * h, Some(40 * h)), Some(5 * h));
        // Both possible: the latest whose capture falls within the dated evidence.
        assert_eq!(boot_of_snapshot(&[0, 50 * h], 2 * h, Some(10 * h)), Some(0));
        assert_eq!(boot_of_snapshot(&[0, 50 * h], 2 * h, Some(60 * h)), Some(50 * h));
        assert_eq!(boot_of_snapshot(&[], 2 * h, None), None);
    }

    #[test]
    fn clusters_split_boots() {
        let c = cluster(vec![100 * NANOS, 101 * NANOS, 99 * NANOS, 5000 * NANOS]);
        assert_eq!(c, vec![99 * NANOS, 5000 * NANOS]);
    }

    #[test]
    fn densest_takes_the_earliest_of_the_largest_group() {
        assert_eq!(densest(vec![10 * NANOS, 10 * NANOS + 5, 900 * NANOS, 10 * NANOS + 9]), Some((10 * NANOS, 0.75)));
        // A late-stamped dump (many estimates 4.5 s late) does not pull the anchor.
        let mut v = vec![14 * NANOS + NANOS / 2; 300];
        v.extend([10 * NANOS, 10 * NANOS + 1, 10 * NANOS + 2]);
        v.extend((0..30).map(|i| 10 * NANOS + i * 1000));
        assert!(densest(v.clone()).unwrap().0 < 10 * NANOS + NANOS / 10);
        // Chance matches spread over hours do not outvote the pile of true estimates.
        v.extend((0..200).map(|i| i * 60 * NANOS - 3600 * NANOS));
        let b = densest(v).unwrap().0;
        assert!((10 * NANOS - NANOS..10 * NANOS + NANOS / 10).contains(&b), "{b}");
    }

    #[test]
    fn offset_cache_handles_dst_hours() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let mut c = OffsetCache::default();
        // 2025-03-30 01:30 CET (+01:00) and 03:30 CEST (+02:00): one hour apart in real time.
        let d = days_from_civil(2025, 3, 30) * 86_400 * NANOS;
        let a = c.local(&tz, d + 5400 * NANOS).unwrap();
        let b = c.local(&tz, d + 12_600 * NANOS).unwrap();
        assert_eq!((a.offset_secs, b.offset_secs), (3600, 7200));
        assert_eq!(b.unix_nanos - a.unix_nanos, 3600 * NANOS);
    }

    #[test]
    fn year_base_from_file_time_and_new_year() {
        let utc = TimeZone::UTC;
        let o = ResolveOpts { now: 0, ..ResolveOpts::default() };
        // File written 2025-01-02; its lines run from Dec 30 (k=0) to Jan 1 (k=1): base year 2024.
        let mtime = days_from_civil(2025, 1, 2) * 86_400;
        assert_eq!(year_base((0, 12, 30, 0), (1, 1, 1, 0), &utc, &o, None, Some(mtime)), 2024);
        // A file whose last line (Dec 31) is after its file time (Jan 2) was written last year.
        assert_eq!(year_base((0, 12, 1, 0), (0, 12, 31, 0), &utc, &o, None, Some(mtime)), 2024);
    }
}

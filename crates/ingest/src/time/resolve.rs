//! Turning raw times into one timeline: hosts, zones, years, boot anchors, clock skew.
//!
//! Runs once after every source has been read, because each step may need facts from other sources:
//! - host: the record's own host, else the bundle's host name, else `--assume-host`, else the only
//!   host the bundle's other sources name;
//! - zone for naive times: `--tz`, else the bundle's `etc/localtime`, else the machine's zone;
//! - year for year-less lines: `--year`, else the years the host's dated sources cover, else the
//!   file's modification time, else now; a New Year inside a file (December, then January) adds one;
//! - wall time for seconds-since-boot: the host's boot time, estimated from records that state both
//!   (a syslog kernel line with its `[uptime]` stamp, a journal record's monotonic time, a command
//!   log's `=== time [uptime]` header), from identical kernel messages seen with a wall time in another
//!   source, from a bundle's `/proc/stat` btime, or `--boot-time`. Each boot segment gets its own
//!   anchor; without one, times stay relative to boot and the file's order is kept.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use jiff::tz::TimeZone;
use rootline_event::{days_from_civil, Format, TimeKind, Timestamp};

use super::RawTime;
use crate::run::{Fact, Run};

const NANOS: i64 = 1_000_000_000;
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
    /// Host(s) of its events (the first one seen).
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
    /// How times were obtained: kind name and count.
    pub time_kinds: Vec<(String, u64)>,
    /// Events whose time went backwards relative to the line before (clock jumps, interleaving).
    pub out_of_order: u64,
    /// Estimated clock offset from the host's reference source, seconds (same messages compared).
    pub skew_secs: Option<f64>,
    /// Boot anchors used, one per boot segment, RFC 3339 (empty when the source has no boot times).
    pub boot_anchors: Vec<Option<String>>,
}

/// Resolves every run's times and hosts in place and returns per-source statistics.
pub(crate) fn resolve(runs: &mut [Run], facts: &[Fact], o: &ResolveOpts) -> Vec<SourceStats> {
    let system_tz = o.tz.clone().unwrap_or_else(TimeZone::system);
    let mut bundle_host: HashMap<usize, Arc<str>> = HashMap::new();
    let mut bundle_tz: HashMap<usize, TimeZone> = HashMap::new();
    let mut bundle_btime: HashMap<usize, i64> = HashMap::new();
    for f in facts {
        match f {
            Fact::Host(b, h) => {
                bundle_host.entry(*b).or_insert_with(|| Arc::from(h.as_str()));
            }
            Fact::Tz(b, tz) => {
                bundle_tz.entry(*b).or_insert_with(|| tz.clone());
            }
            Fact::BootTime(b, t) => {
                bundle_btime.insert(*b, *t * NANOS);
            }
        }
    }
    assign_hosts(runs, &bundle_host, o.assume_host.as_deref());
    let tz_of = |b: usize| -> TimeZone {
        if o.tz.is_some() {
            return system_tz.clone();
        }
        bundle_tz.get(&b).cloned().unwrap_or_else(|| system_tz.clone())
    };

    // 1. Full dates (exact and naive) and snapshots.
    let mut host_range: HashMap<Option<Arc<str>>, (i64, i64)> = HashMap::new();
    for run in runs.iter_mut() {
        let tz = tz_of(run.bundle);
        let mut cache = OffsetCache::default();
        for it in &mut run.items {
            let t = match it.raw {
                RawTime::Exact { unix_nanos, offset_secs } => {
                    Some((Timestamp::from_unix_nanos(unix_nanos, offset_secs), TimeKind::Exact))
                }
                RawTime::Naive { civil_nanos } => cache.local(&tz, civil_nanos).map(|t| (t, TimeKind::Zoned)),
                RawTime::Snapshot => run.mtime.map(|m| {
                    let off =
                        tz.to_offset(jiff::Timestamp::from_second(m).unwrap_or(jiff::Timestamp::UNIX_EPOCH)).seconds();
                    (Timestamp::from_unix_nanos(m * NANOS, off), TimeKind::Snapshot)
                }),
                _ => None,
            };
            if let Some((t, k)) = t {
                it.ev.time = Some(t);
                it.ev.time_kind = k;
                if k != TimeKind::Snapshot {
                    let r = host_range.entry(it.ev.host.clone()).or_insert((t.unix_nanos, t.unix_nanos));
                    r.0 = r.0.min(t.unix_nanos);
                    r.1 = r.1.max(t.unix_nanos);
                }
            }
        }
    }

    // 2. Year-less dates.
    for run in runs.iter_mut() {
        if !run.items.iter().any(|it| matches!(it.raw, RawTime::YearLess { .. })) {
            continue;
        }
        let tz = tz_of(run.bundle);
        let host = run.items.iter().find_map(|it| it.ev.host.clone());
        resolve_year_less(run, &tz, o, host_range.get(&host).copied());
    }

    // 3. Boot anchors.
    let anchor_notes = anchor_boot_times(runs, &bundle_btime, o, &tz_of);

    // 4. Order within each run, and statistics.
    let skews = estimate_skew(runs);
    runs.iter_mut()
        .enumerate()
        .map(|(i, run)| {
            let mut st = finish_run(run);
            st.skew_secs = skews.get(&i).copied();
            st.boot_anchors = anchor_notes.get(&i).cloned().unwrap_or_default();
            st
        })
        .collect()
}

fn assign_hosts(runs: &mut [Run], bundle_host: &HashMap<usize, Arc<str>>, assume: Option<&str>) {
    let assume: Option<Arc<str>> = assume.map(Arc::from);
    // The only host a bundle's own records name, if exactly one.
    let mut named: HashMap<usize, Option<Arc<str>>> = HashMap::new();
    let mut conflicted: std::collections::HashSet<usize> = Default::default();
    for run in runs.iter() {
        for it in &run.items {
            if let Some(h) = &it.ev.host {
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
    }
    for run in runs.iter_mut() {
        let fallback = bundle_host.get(&run.bundle).cloned().or_else(|| assume.clone()).or_else(|| {
            if conflicted.contains(&run.bundle) {
                None
            } else {
                named.get(&run.bundle).cloned().flatten()
            }
        });
        if let Some(h) = fallback {
            for it in &mut run.items {
                if it.ev.host.is_none() {
                    it.ev.host = Some(h.clone());
                }
            }
        }
    }
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

fn year_of(unix_secs: i64, tz: &TimeZone) -> (i64, u32, u32) {
    let off = jiff::Timestamp::from_second(unix_secs).map(|t| tz.to_offset(t).seconds()).unwrap_or(0) as i64;
    rootline_event::civil_from_days((unix_secs + off).div_euclid(86_400))
}

fn resolve_year_less(run: &mut Run, tz: &TimeZone, o: &ResolveOpts, host_range: Option<(i64, i64)>) {
    // Year offsets within the file: a jump back of six months or more is a New Year.
    let mut offsets = Vec::with_capacity(run.items.len());
    let (mut k, mut prev) = (0i64, None::<u8>);
    let (mut first, mut last) = (None, None);
    for it in &run.items {
        if let RawTime::YearLess { month, day, .. } = it.raw {
            if let Some(p) = prev {
                if month + 6 <= p {
                    k += 1;
                }
            }
            prev = Some(month);
            first.get_or_insert((month, day, k));
            last = Some((month, day, k));
        }
        offsets.push(k);
    }
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    let base = if let Some(y) = o.year {
        y as i64
    } else if let Some((lo, hi)) = host_range {
        // The base year that puts this file's span closest to what the host's dated sources cover.
        let (ylo, _, _) = year_of(lo / NANOS, tz);
        let (yhi, _, _) = year_of(hi / NANOS, tz);
        let span = |base: i64| {
            let a = days_from_civil(base + first.2, first.0 as u32, first.1 as u32) * 86_400 * NANOS;
            let b = days_from_civil(base + last.2, last.0 as u32, last.1 as u32) * 86_400 * NANOS;
            if b < lo {
                lo - b
            } else if a > hi {
                a - hi
            } else {
                0
            }
        };
        (ylo - 1 - last.2..=yhi + 1).min_by_key(|b| (span(*b), -b)).unwrap_or(ylo)
    } else {
        // The last line cannot be later than the file's time (or now): a date after it is last year.
        let reference = run.mtime.unwrap_or(o.now);
        let (ry, rm, rd) = year_of(reference, tz);
        let y_last = if (last.0 as u32, last.1 as u32) > (rm, rd + 1) { ry - 1 } else { ry };
        y_last - last.2
    };
    let mut cache = OffsetCache::default();
    for (it, k) in run.items.iter_mut().zip(offsets) {
        if let RawTime::YearLess { month, day, nanos_of_day } = it.raw {
            let y = base + k;
            if !super::civil::valid_date(y, month as u32, day as u32) {
                continue; // Feb 29 in a year that has none: no usable time, order kept
            }
            let civil = days_from_civil(y, month as u32, day as u32) * 86_400 * NANOS + nanos_of_day;
            if let Some(t) = cache.local(tz, civil) {
                it.ev.time = Some(t);
                it.ev.time_kind = TimeKind::YearInferred;
            }
        }
    }
}

fn msg_hash(b: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

fn median(v: &mut [i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// Groups sorted estimates into boots; returns each group's median.
fn cluster(mut ests: Vec<i64>) -> Vec<i64> {
    ests.sort_unstable();
    let mut out = Vec::new();
    let mut cur: Vec<i64> = Vec::new();
    for e in ests {
        if cur.last().is_some_and(|l| e - l > SAME_BOOT_NANOS) {
            out.push(median(&mut cur).unwrap_or_default());
            cur.clear();
        }
        cur.push(e);
    }
    if let Some(m) = median(&mut cur) {
        out.push(m);
    }
    out
}

type Host = Option<Arc<str>>;

fn anchor_boot_times(
    runs: &mut [Run],
    bundle_btime: &HashMap<usize, i64>,
    o: &ResolveOpts,
    tz_of: &dyn Fn(usize) -> TimeZone,
) -> HashMap<usize, Vec<Option<String>>> {
    // Direct pairs (wall time and boot time in the same record) and kernel messages with a wall time.
    let mut pairs: HashMap<Host, Vec<i64>> = HashMap::new();
    let mut walls: HashMap<(Host, u64), Vec<i64>> = HashMap::new();
    for run in runs.iter() {
        if let Some(b) = bundle_btime.get(&run.bundle) {
            if let Some(h) = run.items.iter().find_map(|it| it.ev.host.clone()) {
                pairs.entry(Some(h)).or_default().push(*b);
            }
        }
        for it in &run.items {
            let Some(t) = it.ev.time else { continue };
            if let Some(b) = it.ev.boot_nanos {
                pairs.entry(it.ev.host.clone()).or_default().push(t.unix_nanos - b);
            }
            if it.ev.program.as_deref() == Some("kernel") && run.format != Format::Kernel {
                walls.entry((it.ev.host.clone(), msg_hash(it.ev.headline()))).or_default().push(t.unix_nanos);
            }
        }
    }
    let boots: HashMap<Host, Vec<i64>> = pairs.into_iter().map(|(h, v)| (h, cluster(v))).collect();
    let mut notes = HashMap::new();
    for (ri, run) in runs.iter_mut().enumerate() {
        if !run.items.iter().any(|it| matches!(it.raw, RawTime::Boot { .. })) {
            continue;
        }
        let tz = tz_of(run.bundle);
        let nseg = run.items.last().map_or(0, |it| it.seg) as usize + 1;
        let host = run.items.iter().find_map(|it| it.ev.host.clone());
        let host_boots = boots.get(&host).cloned().unwrap_or_default();
        let mut anchors: Vec<Option<i64>> = vec![None; nseg];
        for (seg, slot) in anchors.iter_mut().enumerate() {
            // Identical kernel messages seen elsewhere with a wall time vote for this segment's boot.
            let mut votes = Vec::new();
            for it in run.items.iter().filter(|it| it.seg as usize == seg) {
                if let RawTime::Boot { nanos } = it.raw {
                    if let Some(ws) = walls.get(&(it.ev.host.clone(), msg_hash(it.ev.headline()))) {
                        votes.extend(ws.iter().map(|w| w - nanos));
                    }
                }
                if votes.len() > 10_000 {
                    break;
                }
            }
            let voted = densest(votes);
            // Otherwise the host's known boots, latest boot for the latest segment.
            let by_order = (host_boots.len() + seg).checked_sub(nseg).and_then(|i| host_boots.get(i).copied());
            let by_flag = (seg + 1 == nseg).then_some(o.boot_time).flatten();
            *slot = voted.or(by_order).or(by_flag);
        }
        for it in &mut run.items {
            if let RawTime::Boot { nanos } = it.raw {
                match anchors[it.seg as usize] {
                    Some(a) => {
                        let u = a + nanos;
                        let off =
                            jiff::Timestamp::from_nanosecond(u as i128).map(|t| tz.to_offset(t).seconds()).unwrap_or(0);
                        it.ev.time = Some(Timestamp::from_unix_nanos(u, off));
                        it.ev.time_kind = TimeKind::Anchored;
                    }
                    None => it.ev.time_kind = TimeKind::Relative,
                }
            }
        }
        notes.insert(ri, anchors.iter().map(|a| a.map(|a| Timestamp::from_unix_nanos(a, 0).to_rfc3339())).collect());
    }
    notes
}

/// The median of the largest group of estimates that agree within a second or so.
fn densest(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let (mut best, mut bi, mut j) = (0usize, 0usize, 0usize);
    for i in 0..v.len() {
        while v[i] - v[j] > 2 * NANOS {
            j += 1;
        }
        if i - j + 1 > best {
            best = i - j + 1;
            bi = j;
        }
    }
    let mut g = v[bi..bi + best].to_vec();
    median(&mut g)
}

/// Per source, the median offset of its kernel messages from the same messages in the host's
/// reference source (the one with the most such messages). Anchored sources are excluded: their
/// times are derived from the others.
fn estimate_skew(runs: &[Run]) -> HashMap<usize, f64> {
    let mut by_host: HashMap<Host, Vec<(usize, u64, i64)>> = HashMap::new();
    for (ri, run) in runs.iter().enumerate() {
        for it in run.items.iter().take(200_000) {
            if let (Some(t), Some("kernel")) = (it.ev.time, it.ev.program.as_deref()) {
                if it.ev.time_kind != TimeKind::Anchored {
                    by_host.entry(it.ev.host.clone()).or_default().push((ri, msg_hash(it.ev.headline()), t.unix_nanos));
                }
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
        let mut ref_times: HashMap<u64, i64> = HashMap::new();
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

/// Sorts a run by time (stable; timeless events follow the event before them) and summarises it.
fn finish_run(run: &mut Run) -> SourceStats {
    let mut kinds: HashMap<TimeKind, u64> = HashMap::new();
    let (mut first, mut last) = (None::<Timestamp>, None::<Timestamp>);
    let mut key = i64::MIN;
    let mut out_of_order = 0;
    let mut keys = Vec::with_capacity(run.items.len());
    for it in &run.items {
        *kinds.entry(it.ev.time_kind).or_default() += 1;
        if let Some(t) = it.ev.time {
            if t.unix_nanos < key {
                out_of_order += 1;
            }
            key = t.unix_nanos;
            first = Some(first.map_or(t, |f| f.min(t)));
            last = Some(last.map_or(t, |l| l.max(t)));
        }
        keys.push(key);
    }
    if out_of_order > 0 {
        let mut idx: Vec<usize> = (0..run.items.len()).collect();
        idx.sort_by_key(|&i| keys[i]);
        let mut items: Vec<Option<crate::run::Item>> = std::mem::take(&mut run.items).into_iter().map(Some).collect();
        run.items = idx.into_iter().filter_map(|i| items[i].take()).collect();
    }
    let mut time_kinds: Vec<(String, u64)> = kinds.into_iter().map(|(k, n)| (k.as_str().to_string(), n)).collect();
    time_kinds.sort();
    SourceStats {
        path: run.path.to_string(),
        format: run.format.as_str().to_string(),
        host: run.items.iter().find_map(|it| it.ev.host.as_deref().map(str::to_string)),
        lines: run.lines,
        events: run.items.len() as u64,
        unparsed_lines: run.unparsed,
        bytes: run.bytes,
        first: first.map(|t| t.to_rfc3339()),
        last: last.map(|t| t.to_rfc3339()),
        time_kinds,
        out_of_order,
        skew_secs: None,
        boot_anchors: Vec::new(),
    }
}

/// The merge key of an event: its time, or for timeless events the time of the event before it.
pub(crate) fn sort_keys(run: &Run) -> impl Iterator<Item = i64> + '_ {
    let mut key = i64::MIN;
    run.items.iter().map(move |it| {
        if let Some(t) = it.ev.time {
            key = t.unix_nanos;
        }
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_split_boots() {
        let c = cluster(vec![100 * NANOS, 101 * NANOS, 99 * NANOS, 5000 * NANOS]);
        assert_eq!(c, vec![100 * NANOS, 5000 * NANOS]);
    }

    #[test]
    fn densest_ignores_outliers() {
        assert_eq!(densest(vec![10 * NANOS, 10 * NANOS + 5, 900 * NANOS, 10 * NANOS + 9]), Some(10 * NANOS + 5));
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
}

//! Conditions over time and the aggregation of hits into findings.
//!
//! A [`Matcher`] is fed events in timeline order. Hits of one signature on one host with the same
//! `group_by` entity values merge into one finding. Frequency rules keep a sliding window of hit times
//! per group and only produce a finding once `count` hits fall within `within`. Absence rules are
//! judged at [`Matcher::finish`]: each hit of `after` starts a clock, a hit of `unless` for the same
//! entity (through the [`Aliases`] graph) within `within` stops it, and a clock that ran out (or that
//! was still running when the evidence ended, with `at_end`) becomes a hit of the absence rule,
//! carrying the trigger's entities, time and evidence.
//!
//! Hits are also cut into *episodes*, per host: when a host logged no fault or symptom (fallback
//! rules aside) for [`EPISODE_GAP`], its next one begins a new episode, and no finding spans two
//! episodes. A node whose paths failed on Monday and again on Thursday gives two findings of the
//! same signature and object, one per episode, instead of one that lasted four days.
//!
//! Context findings (a container started, an image pulled) are kept in full only up to a bound per
//! signature, host and episode: the first [`CONTEXT_FIRST`] groups and the latest [`CONTEXT_LAST`].
//! A node that started fifty thousand short-lived pods keeps the starts around the ends of each
//! episode (what dates a change before a fault) and counts the rest ([`Analysis::folded`]), so
//! memory grows with the kinds of what happened, not with how often.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rootline_event::{Event, Timestamp};
use rustc_hash::FxHashMap;

use crate::engine::{Engine, Hit, Scratch};
use crate::finding::{Evidence, Finding, MAX_EVIDENCE};

/// Entity kinds that name a storage object; values co-captured in one hit are aliases of each other.
pub const STORAGE_KINDS: &[&str] = &["dm", "devt", "map", "wwid", "disk", "path", "volume"];

/// Union-find over storage entity values (`mpatha`, `dm-0`, `254:0`, `8:0`, `sda`): two values are in
/// one set when some hit named them together.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
}

impl Aliases {
    fn id(&mut self, v: &str) -> usize {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.index.insert(v.to_string(), i);
        i
    }

    fn root(&self, mut i: usize) -> usize {
        while self.parent[i] != i {
            i = self.parent[i];
        }
        i
    }

    /// Records that `a` and `b` name the same storage object (or parts of it).
    pub fn union(&mut self, a: &str, b: &str) {
        let (x, y) = (self.id(a), self.id(b));
        let (rx, ry) = (self.root(x), self.root(y));
        if rx != ry {
            self.parent[rx.max(ry)] = rx.min(ry);
        }
    }

    /// True when `a` and `b` are the same value or were linked through any chain of hits.
    pub fn same(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        match (self.index.get(a), self.index.get(b)) {
            (Some(&x), Some(&y)) => self.root(x) == self.root(y),
            _ => false,
        }
    }

    /// Every value linked to `v` (including `v`).
    pub fn group_of(&self, v: &str) -> Vec<String> {
        let Some(&i) = self.index.get(v) else { return vec![v.to_string()] };
        let r = self.root(i);
        let mut out: Vec<String> =
            self.index.iter().filter(|(_, &j)| self.root(j) == r).map(|(k, _)| k.clone()).collect();
        out.sort();
        out
    }

    /// True when some storage value of `a` is an alias of some storage value of `b`.
    pub fn share_storage(&self, a: &BTreeMap<String, Vec<String>>, b: &BTreeMap<String, Vec<String>>) -> bool {
        let vals = |m: &BTreeMap<String, Vec<String>>| -> Vec<String> {
            STORAGE_KINDS.iter().filter_map(|k| m.get(*k)).flatten().cloned().collect()
        };
        let (va, vb) = (vals(a), vals(b));
        va.iter().any(|x| vb.iter().any(|y| self.same(x, y)))
    }

    fn learn(&mut self, ents: &[(String, String)]) {
        let mut first: Option<&str> = None;
        for (k, v) in ents {
            if STORAGE_KINDS.contains(&k.as_str()) {
                match first {
                    None => {
                        first = Some(v);
                        self.id(v);
                    }
                    Some(f) => self.union(f, v),
                }
            }
        }
    }
}

/// The quiet time that ends an episode on a host: no fault or symptom (fallback rules aside) for two
/// hours. Longer than the time a stale map takes to show in hung tasks, probes and restarts (an
/// outage keeps logging), shorter than the time between two outages of a node that fails again and
/// again.
pub const EPISODE_GAP: i64 = 2 * 3600 * 1_000_000_000;

/// Context groups (findings) of one signature on one host in one episode kept from its start.
pub const CONTEXT_FIRST: usize = 64;

/// Context groups of one signature on one host in one episode kept at its end (the latest to begin).
pub const CONTEXT_LAST: usize = 64;

/// The key of one aggregate: signature, host, `group_by` values, episode.
type GroupKey = (usize, Option<String>, Vec<String>, u32);

/// Of one context signature, host and episode: the groups begun, and the latest past the first
/// [`CONTEXT_FIRST`] (key and index into the aggregates), oldest first.
type ContextSlot = (usize, VecDeque<(GroupKey, usize)>);

/// Everything matching produced: findings in order of first hit, and the alias graph.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The findings.
    pub findings: Vec<Finding>,
    /// The episode of each finding on its host (`episodes[i]` is `findings[i]`'s), from 0 in time
    /// order: findings of one host in different episodes are separated by a quiet gap.
    pub episodes: Vec<u32>,
    /// Storage aliases learned from the hits.
    pub aliases: Aliases,
    /// Events fed.
    pub events: u64,
    /// Hits before aggregation.
    pub hits: u64,
    /// Context findings past the bound ([`CONTEXT_FIRST`], [`CONTEXT_LAST`]) that were counted, not
    /// kept: (signature id, how many findings), by signature id.
    pub folded: Vec<(String, usize)>,
}

#[derive(Debug)]
struct Agg {
    sig: usize,
    host: Option<String>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    onset: Option<Timestamp>,
    count: u64,
    entities: BTreeMap<String, Vec<String>>,
    evidence: Vec<Evidence>,
    /// Frequency window: (time, weight) of recent hits, and the sum of their weights.
    window: VecDeque<(i64, u64)>,
    in_window: u64,
    armed: bool,
    order: u64,
    episode: u32,
}

#[derive(Debug, Clone)]
struct Mark {
    host: Option<String>,
    episode: u32,
    time: Option<Timestamp>,
    entities: Vec<(String, String)>,
    evidence: Evidence,
}

/// Feeds events through an [`Engine`] and aggregates the hits into findings.
pub struct Matcher<'e> {
    engine: &'e Engine,
    scratch: Scratch,
    hits: Vec<Hit>,
    /// Never iterated (only looked up), so its hasher cannot change an order.
    groups: FxHashMap<GroupKey, usize>,
    /// Per context signature, host and episode: groups begun so far, and the latest ones past the
    /// first [`CONTEXT_FIRST`] (key and index into `aggs`), oldest first.
    context: HashMap<(usize, Option<String>, u32), ContextSlot>,
    /// Per signature: the context groups dropped past the bound (only those that had fired).
    folded: HashMap<usize, usize>,
    /// Whether a signature's groups are bounded: context, and no absence rule watches it.
    bounded: Vec<bool>,
    /// Per host: the time of its latest fault or symptom and its current episode.
    episodes: HashMap<Option<String>, (i64, u32)>,
    gap: i64,
    aggs: Vec<Agg>,
    aliases: Aliases,
    /// For each signature used by an absence rule as `after` or `unless`: its hits.
    marks: HashMap<usize, Vec<Mark>>,
    /// Signature indexes referenced by absence rules.
    watched: Vec<bool>,
    last_time: Option<Timestamp>,
    events: u64,
    nhits: u64,
    order: u64,
}

impl<'e> Matcher<'e> {
    /// A matcher with no events fed yet.
    pub fn new(engine: &'e Engine) -> Self {
        let sigs = &engine.pack().signatures;
        let mut watched = vec![false; sigs.len()];
        for s in sigs {
            if let Some(a) = &s.absence {
                for id in [&a.after, &a.unless] {
                    if let Some(i) = sigs.iter().position(|x| &x.id == id) {
                        watched[i] = true;
                    }
                }
            }
        }
        let bounded = sigs.iter().zip(&watched).map(|(s, w)| s.kind == crate::Kind::Context && !w).collect();
        Matcher {
            engine,
            scratch: Scratch::default(),
            hits: Vec::new(),
            groups: FxHashMap::default(),
            context: HashMap::new(),
            folded: HashMap::new(),
            bounded,
            episodes: HashMap::new(),
            gap: EPISODE_GAP,
            aggs: Vec::new(),
            aliases: Aliases::default(),
            marks: HashMap::new(),
            watched,
            last_time: None,
            events: 0,
            nhits: 0,
            order: 0,
        }
    }

    /// The same matcher with another quiet gap between episodes (nanoseconds; `i64::MAX`: one
    /// episode per host).
    pub fn with_episode_gap(mut self, gap: i64) -> Self {
        self.gap = gap.max(1);
        self
    }

    /// The episode of a hit of `sig` on `host` at `time`: a fault or symptom after a quiet gap
    /// begins the next one.
    fn episode(&mut self, sig: usize, host: &Option<String>, time: Option<Timestamp>) -> u32 {
        let s = &self.engine.pack().signatures[sig];
        let problem = matches!(s.kind, crate::Kind::Fault | crate::Kind::Symptom) && !s.fallback;
        let gap = self.gap;
        let e = match self.episodes.get_mut(host) {
            Some(e) => e,
            None => self.episodes.entry(host.clone()).or_insert((i64::MIN, 0)),
        };
        if let (true, Some(t)) = (problem, time) {
            if e.0 != i64::MIN && t.unix_nanos.saturating_sub(e.0) >= gap {
                e.1 += 1;
            }
            e.0 = e.0.max(t.unix_nanos);
        }
        e.1
    }

    /// Matches one event (feed them in timeline order); returns how many rule patterns hit it.
    pub fn feed(&mut self, ev: &Event) -> usize {
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        self.engine.scan(ev, &mut self.scratch, &mut hits);
        let n = self.feed_scanned(ev, &hits);
        self.hits = hits;
        n
    }

    /// Accounts for `events` events that no rule hit, in timeline order, the last of them with a time
    /// at `last_time`: the same as feeding each of them to [`Matcher::feed_scanned`] with no hits.
    pub fn skip(&mut self, events: u64, last_time: Option<Timestamp>) {
        self.events += events;
        if last_time.is_some() {
            self.last_time = last_time;
        }
    }

    /// Like [`Matcher::feed`] for an event already scanned with [`Engine::scan`] (possibly on another
    /// thread: scanning is pure, this part keeps the order-dependent state). Returns `hits.len()`.
    pub fn feed_scanned(&mut self, ev: &Event, hits: &[Hit]) -> usize {
        self.events += 1;
        if ev.time.is_some() {
            self.last_time = ev.time;
        }
        if hits.is_empty() {
            return 0;
        }
        for h in hits {
            self.nhits += 1;
            self.aliases.learn(&h.entities);
            let evidence = evidence_of(ev, h.line_index);
            let host = ev.host.as_deref().map(str::to_string);
            let time = ev.time.or(self.last_time);
            let episode = self.episode(h.sig, &host, time);
            if self.watched[h.sig] {
                self.marks.entry(h.sig).or_default().push(Mark {
                    host: host.clone(),
                    episode,
                    time: ev.time,
                    entities: h.entities.clone(),
                    evidence: evidence.clone(),
                });
            }
            self.add(h.sig, host, episode, time, h.before, &h.entities, evidence, weight_of(ev));
        }
        hits.len()
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        sig: usize,
        host: Option<String>,
        episode: u32,
        time: Option<Timestamp>,
        before: Option<i64>,
        ents: &[(String, String)],
        evidence: Evidence,
        weight: u64,
    ) {
        let engine = self.engine;
        let s = &engine.pack().signatures[sig];
        let key: Vec<String> = s
            .group_by
            .iter()
            .map(|k| ents.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default())
            .collect();
        let key: GroupKey = (sig, host.clone(), key, episode);
        let idx = match self.groups.get(&key) {
            Some(&i) => i,
            None => {
                self.order += 1;
                let agg = Agg {
                    sig,
                    host,
                    first: None,
                    last: None,
                    onset: None,
                    count: 0,
                    entities: BTreeMap::new(),
                    evidence: Vec::with_capacity(1),
                    window: VecDeque::new(),
                    in_window: 0,
                    armed: s.frequency.is_none() || !frequency_applies(s, ents),
                    order: self.order,
                    episode,
                };
                let i = self.place(agg, &key);
                self.groups.insert(key, i);
                i
            }
        };
        let a = &mut self.aggs[idx];
        a.count += 1;
        // Derived (absence) hits are added after the last event, possibly earlier than hits fed
        // before them: keep the earliest and the latest time, not the first and last added.
        if let Some(t) = time {
            if a.first.is_none_or(|f| t.unix_nanos < f.unix_nanos) {
                a.first = Some(t);
            }
            if let Some(b) = before.filter(|b| *b > 0) {
                let o = Timestamp::from_unix_nanos(t.unix_nanos.saturating_sub(b), t.offset_secs);
                if a.onset.is_none_or(|x| o.unix_nanos < x.unix_nanos) {
                    a.onset = Some(o);
                }
            }
            if a.last.is_none_or(|l| t.unix_nanos >= l.unix_nanos) {
                a.last = Some(t);
            }
        }
        for (k, v) in ents {
            // Look up by the borrowed kind: most hits name kinds their group already has.
            match a.entities.get_mut(k.as_str()) {
                Some(vals) => {
                    if !vals.contains(v) {
                        vals.push(v.clone());
                    }
                }
                None => {
                    a.entities.insert(k.clone(), vec![v.clone()]);
                }
            }
        }
        if a.evidence.len() < MAX_EVIDENCE {
            a.evidence.push(evidence);
        } else {
            a.evidence[MAX_EVIDENCE - 1] = evidence;
        }
        if let (Some((count, within)), false) = (s.frequency, a.armed) {
            let t = time.map(|t| t.unix_nanos).unwrap_or(0);
            a.window.push_back((t, weight));
            a.in_window += weight;
            while let Some(&(_, w)) = a.window.front().filter(|(f, _)| *f < t.saturating_sub(within)) {
                a.in_window -= w;
                a.window.pop_front();
            }
            if a.in_window >= count as u64 {
                a.armed = true;
            }
        }
    }

    /// Stores a new aggregate for `key` and returns its index in `aggs`. A context signature's group
    /// past its bound takes the place of the oldest of the latest [`CONTEXT_LAST`], which is
    /// counted in `folded` and forgotten (a later hit of it begins a new group).
    fn place(&mut self, agg: Agg, key: &GroupKey) -> usize {
        if self.bounded[agg.sig] {
            let slot = self.context.entry((agg.sig, agg.host.clone(), agg.episode)).or_default();
            slot.0 += 1;
            if slot.0 > CONTEXT_FIRST {
                if slot.1.len() >= CONTEXT_LAST {
                    let (old_key, i) = slot.1.pop_front().expect("a full tail");
                    slot.1.push_back((key.clone(), i));
                    self.groups.remove(&old_key);
                    if self.aggs[i].armed {
                        *self.folded.entry(agg.sig).or_default() += 1;
                    }
                    self.aggs[i] = agg;
                    return i;
                }
                slot.1.push_back((key.clone(), self.aggs.len()));
            }
        }
        self.aggs.push(agg);
        self.aggs.len() - 1
    }

    /// Judges absence conditions and returns the findings in order of first hit.
    pub fn finish(mut self) -> Analysis {
        let sigs = &self.engine.pack().signatures;
        let index = |id: &str| sigs.iter().position(|x| x.id == id);
        let mut derived: Vec<(usize, Mark)> = Vec::new();
        for (si, s) in sigs.iter().enumerate() {
            let Some(a) = &s.absence else { continue };
            let (Some(after), Some(unless)) = (index(&a.after), index(&a.unless)) else { continue };
            let empty = Vec::new();
            let starts = self.marks.get(&after).unwrap_or(&empty);
            let stops = self.marks.get(&unless).unwrap_or(&empty);
            for m in starts {
                let t0 = m.time.map(|t| t.unix_nanos);
                let same = |o: &Mark| {
                    o.host == m.host
                        && (a.same.is_empty()
                            || m.entities.iter().any(|(k, v)| {
                                a.same.contains(k)
                                    && o.entities.iter().any(|(k2, v2)| a.same.contains(k2) && self.aliases.same(v, v2))
                            }))
                };
                let stopped = stops.iter().any(|o| {
                    let t = o.time.map(|t| t.unix_nanos);
                    match (t0, t) {
                        (Some(t0), Some(t)) => t >= t0 && t - t0 <= a.within && same(o),
                        _ => same(o),
                    }
                });
                if stopped {
                    continue;
                }
                let ran_out = match (t0, self.last_time) {
                    (Some(t0), Some(end)) => end.unix_nanos - t0 >= a.within,
                    _ => false,
                };
                if ran_out || a.at_end {
                    derived.push((si, m.clone()));
                }
            }
        }
        for (si, m) in derived {
            self.nhits += 1;
            self.add(si, m.host, m.episode, m.time, None, &m.entities, m.evidence, 1);
        }
        let mut aggs: Vec<Agg> = self.aggs.into_iter().filter(|a| a.armed).collect();
        aggs.sort_by_key(|a| (a.first.map(|t| t.unix_nanos).unwrap_or(i64::MIN), a.order));
        let mut per_sig: HashMap<usize, u32> = HashMap::new();
        let episodes: Vec<u32> = aggs.iter().map(|a| a.episode).collect();
        let findings = aggs
            .into_iter()
            .map(|a| {
                let s = &sigs[a.sig];
                let n = per_sig.entry(a.sig).or_default();
                *n += 1;
                Finding {
                    id: format!("{}#{}", s.id, n),
                    signature: s.id.clone(),
                    kind: s.kind,
                    severity: s.severity,
                    fallback: s.fallback,
                    host: a.host,
                    first: a.first,
                    last: a.last,
                    onset: a.onset.filter(|o| a.first.is_some_and(|f| o.unix_nanos < f.unix_nanos)),
                    count: a.count,
                    entities: a.entities,
                    evidence: a.evidence,
                }
            })
            .collect();
        let mut folded: Vec<(String, usize)> = self.folded.into_iter().map(|(i, n)| (sigs[i].id.clone(), n)).collect();
        folded.sort();
        Analysis { findings, episodes, aliases: self.aliases, events: self.events, hits: self.nhits, folded }
    }
}

/// How many occurrences one event stands for: an aggregated Kubernetes event says how many times it
/// was seen (its `count`: `kubectl describe`'s `(x12 over 40m)`, the COUNT column, `count` in JSON);
/// any other event is one.
fn weight_of(ev: &Event) -> u64 {
    if ev.format != rootline_event::Format::K8sEvents {
        return 1;
    }
    ev.field("count").and_then(|c| c.trim().parse::<u64>().ok()).map_or(1, |n| n.clamp(1, 1 << 20))
}

/// True when a group with these entities is subject to its rule's frequency condition (`when`).
fn frequency_applies(s: &crate::compile::Signature, ents: &[(String, String)]) -> bool {
    s.frequency_when.iter().all(|(k, re)| ents.iter().any(|(kk, v)| kk == k && re.is_match(v.as_bytes())))
}

fn evidence_of(ev: &Event, line_index: u32) -> Evidence {
    let head = ev.headline();
    let text = if line_index == 0 {
        String::from_utf8_lossy(head).into_owned()
    } else {
        let line = ev.message.split(|&c| c == b'\n').nth(line_index as usize).unwrap_or(b"");
        format!("{} … {}", String::from_utf8_lossy(head), String::from_utf8_lossy(line).trim())
    };
    Evidence { path: ev.provenance.path.to_string(), line: ev.provenance.line + line_index as u64, time: ev.time, text }
}

/// Runs `engine` over `events` (in timeline order) and returns the analysis.
pub fn run<'a>(engine: &Engine, events: impl IntoIterator<Item = &'a Event>) -> Analysis {
    let mut m = Matcher::new(engine);
    for ev in events {
        m.feed(ev);
    }
    m.finish()
}

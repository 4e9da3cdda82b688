//! One node's summary, from one streaming pass over its evidence.
//!
//! The pass feeds every event to the rule matcher (findings), to a template miner (message templates)
//! and to a version sniffer (`Linux version ...`, `multipathd v0.9.4`), and keeps only:
//! - findings per signature: each one's time span and count, and the first line per time bucket;
//! - per template: its text (the node's host name replaced by `<host>`, so the same line on two nodes
//!   is one template), its stable hash (`rootline_correlate::novelty::template_hash`), its first line,
//!   its highest severity and its counts per [`BUCKET_SECS`] bucket (so any window can be applied after
//!   the pass);
//! - upgrade phases (`upgrade.image-changed`, `k8s.image-pulled`, `k8s.container-started` of an
//!   OpenStack service) and versions, each with its line.
//!
//! [`Scan::summarize`] applies a window and gives the [`NodeSummary`] the comparison works on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rootline_correlate::novelty::template_hash;
use rootline_event::{EventRef, Severity, Timestamp};
use rootline_rules::{Engine, Evidence, Hit, Kind, Matcher, Scratch};
use rootline_template::Miner;
use serde::Serialize;

use crate::discover::NodeInput;
use crate::window::Window;

/// Width of a template-count bucket: a window is applied to template counts at this granularity.
pub const BUCKET_SECS: i64 = 300;

/// Signatures that mark an upgrade phase.
pub const PHASE_SIGNATURES: &[&str] = &["upgrade.image-changed", "k8s.image-pulled", "k8s.container-started"];

/// What was read for a node.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    /// Files and archive members read as logs.
    pub files: u64,
    /// Lines read.
    pub lines: u64,
    /// Events made.
    pub events: u64,
    /// Lines no parser could read.
    pub unparsed_lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
}

/// One signature's findings on a node, compactly: each finding's time span and count, and the first
/// line of the earliest finding starting in each [`BUCKET_SECS`] bucket (so the evidence shown for a
/// window is inside it, and memory follows the time span, not the number of findings).
#[derive(Debug, Clone)]
pub struct Track {
    /// Fault, symptom, context or recovery.
    pub kind: Kind,
    /// Per finding: first and last hit (unix nanoseconds; `i64::MIN` when timeless) and hits.
    pub spans: Vec<(i64, i64, u64)>,
    /// Bucket -> (first time, first line) of the earliest finding starting in it.
    pub evidence: BTreeMap<i64, (i64, Option<Timestamp>, Evidence)>,
}
/// A template of one node.
#[derive(Debug, Clone)]
pub struct Tpl {
    /// The text, `<*>` for variables, `<host>` for the node's name.
    pub text: String,
    /// Its stable hash.
    pub hash: String,
    /// The first line.
    pub example: Evidence,
    /// Highest severity stated.
    pub severity: Option<Severity>,
    /// Lines per bucket: (bucket, count), in time order; timeless lines are in `timeless`.
    pub buckets: Vec<(i64, u64)>,
    /// Lines without a time (always inside any window).
    pub timeless: u64,
}

/// An upgrade phase: when one of the node's OpenStack containers changed image or restarted.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Rule id.
    pub signature: String,
    /// What changed, in one sentence.
    pub summary: String,
    /// When (RFC 3339).
    pub time: Option<String>,
    /// The line.
    pub evidence: Option<Evidence>,
    #[serde(skip)]
    pub at: Option<Timestamp>,
}

/// A version visible in the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// `kernel`, `multipath-tools` or `image`.
    pub what: String,
    /// The version (an image with its tag, for `image`).
    pub value: String,
    /// The first line that shows it.
    pub evidence: Evidence,
}

/// One node after its pass, before a window is applied.
#[derive(Debug)]
pub struct Scan {
    /// Folder or archive name.
    pub name: String,
    /// The host most of its events name.
    pub host: Option<String>,
    /// What was read.
    pub inputs: Inputs,
    /// First and last event time.
    pub span: (Option<Timestamp>, Option<Timestamp>),
    /// Findings per signature.
    pub findings: BTreeMap<String, Track>,
    /// Templates, by hash.
    pub templates: HashMap<String, Tpl>,
    /// Upgrade phases, in time order.
    pub phases: Vec<Phase>,
    /// Versions, in order of first appearance.
    pub versions: Vec<Version>,
}

impl Scan {
    /// The host name, or the folder name when no event named a host.
    pub fn label(&self) -> String {
        self.host.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// Per-signature counts of a node in a window.
#[derive(Debug, Clone, Serialize)]
pub struct SigCount {
    /// Fault, symptom, context or recovery.
    pub kind: Kind,
    /// Hits (of findings overlapping the window).
    pub count: u64,
    /// Findings.
    pub findings: u64,
    /// First hit in the window (RFC 3339).
    pub first: Option<String>,
    /// Last hit.
    pub last: Option<String>,
    /// The first line.
    pub evidence: Option<Evidence>,
    #[serde(skip)]
    pub first_at: Option<Timestamp>,
    #[serde(skip)]
    pub last_at: Option<Timestamp>,
}

/// The first fault of a node in the window.
#[derive(Debug, Clone, Serialize)]
pub struct FirstFault {
    /// Rule id.
    pub signature: String,
    /// When (RFC 3339).
    pub time: Option<String>,
    /// The line.
    pub evidence: Option<Evidence>,
}

/// A template of a node in the window (detail kept for the contrast, not serialised per node).
#[derive(Debug, Clone)]
pub struct TplInfo {
    /// The text.
    pub text: String,
    /// The first line.
    pub example: Evidence,
    /// Highest severity stated.
    pub severity: Option<Severity>,
}

/// One node's summary in the comparison window.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSummary {
    /// Folder or archive name.
    pub name: String,
    /// Host.
    pub host: Option<String>,
    /// What was read (the whole evidence, not only the window).
    pub inputs: Inputs,
    /// First and last event time (RFC 3339).
    pub span: [Option<String>; 2],
    /// Signature counts in the window.
    pub signatures: BTreeMap<String, SigCount>,
    /// Line counts in the window per template hash.
    pub templates: BTreeMap<String, u64>,
    /// The first fault in the window.
    pub first_fault: Option<FirstFault>,
    /// Upgrade phases (all of them: they place the node in the change, window or not).
    pub phases: Vec<Phase>,
    /// Versions visible in the evidence.
    pub versions: Vec<Version>,
    #[serde(skip)]
    pub detail: HashMap<String, TplInfo>,
}

impl NodeSummary {
    /// The host name, or the folder name when no event named a host.
    pub fn label(&self) -> String {
        self.host.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// Reads one node and summarises it.
pub fn scan(n: &NodeInput, engine: &Engine, opts: &rootline_ingest::Options) -> Scan {
    let timeline = rootline_ingest::read(&n.paths, opts);
    let st = &timeline.stats;
    let inputs = Inputs {
        files: st.files,
        lines: st.lines,
        events: st.events,
        unparsed_lines: st.unparsed_lines,
        bytes: st.bytes,
    };
    let mut p = Pass::new(engine);
    let mut events = timeline.into_events();
    while let Some(ev) = events.next_ref() {
        p.feed(ev);
    }
    p.finish(n.name.clone(), inputs)
}

struct Acc {
    buckets: Vec<(i64, u64)>,
    timeless: u64,
    example: Evidence,
    severity: Option<Severity>,
}

/// The streaming part of [`scan`], for callers that already have events.
pub struct Pass<'e> {
    engine: &'e Engine,
    matcher: Matcher<'e>,
    scratch: Scratch,
    hits: Vec<Hit>,
    miner: Miner,
    accs: HashMap<u32, Acc>,
    hosts: Vec<(Arc<str>, u64)>,
    versions: Vec<Version>,
    span: (Option<Timestamp>, Option<Timestamp>),
    linux: memchr::memmem::Finder<'static>,
    mpd: memchr::memmem::Finder<'static>,
}

impl<'e> Pass<'e> {
    /// A pass with nothing fed.
    pub fn new(engine: &'e Engine) -> Self {
        Pass {
            engine,
            matcher: Matcher::new(engine),
            scratch: Scratch::default(),
            hits: Vec::new(),
            miner: Miner::default(),
            accs: HashMap::new(),
            hosts: Vec::new(),
            versions: Vec::new(),
            span: (None, None),
            linux: memchr::memmem::Finder::new(b"Linux version "),
            mpd: memchr::memmem::Finder::new(b"multipathd v"),
        }
    }

    /// One event, in timeline order, borrowed: only an event a rule hits is copied (for its evidence).
    pub fn feed(&mut self, ev: EventRef<'_>) {
        self.hits.clear();
        self.engine.scan_ref(&ev, &mut self.scratch, &mut self.hits);
        if self.hits.is_empty() {
            self.matcher.skip(1, ev.time);
        } else {
            self.matcher.feed_scanned(&ev.to_event(), &self.hits);
        }
        if let Some(h) = ev.host {
            match self.hosts.iter_mut().find(|(x, _)| Arc::ptr_eq(x, h) || **x == **h) {
                Some(e) => e.1 += 1,
                None => self.hosts.push((h.clone(), 1)),
            }
        }
        if let Some(t) = ev.time {
            if self.span.0.is_none_or(|a| t < a) {
                self.span.0 = Some(t);
            }
            if self.span.1.is_none_or(|b| t > b) {
                self.span.1 = Some(t);
            }
        }
        let head = ev.headline();
        let id = self.miner.observe(head);
        let acc = self.accs.entry(id.0).or_insert_with(|| Acc {
            buckets: Vec::new(),
            timeless: 0,
            example: evidence(&ev),
            severity: None,
        });
        match ev.time {
            Some(t) => {
                let b = (t.unix_nanos / 1_000_000_000).div_euclid(BUCKET_SECS);
                match acc.buckets.last_mut() {
                    Some(last) if last.0 == b => last.1 += 1,
                    _ => acc.buckets.push((b, 1)),
                }
            }
            None => acc.timeless += 1,
        }
        if let Some(s) = ev.severity {
            acc.severity = Some(acc.severity.map_or(s, |x| x.min(s)));
        }
        self.sniff(&ev, head);
    }

    fn sniff(&mut self, ev: &EventRef<'_>, head: &[u8]) {
        let mut found: Option<(&str, String)> = None;
        if let Some(i) = self.linux.find(head) {
            let rest = &head[i + 14..];
            let v: Vec<u8> = rest.iter().take_while(|c| !c.is_ascii_whitespace()).copied().collect();
            if !v.is_empty() {
                found = Some(("kernel", String::from_utf8_lossy(&v).into_owned()));
            }
        } else if let Some(i) = self.mpd.find(head) {
            let rest = &head[i + 12..];
            let v: Vec<u8> =
                rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'.' || **c == b'-').copied().collect();
            if v.first().is_some_and(|c| c.is_ascii_digit()) {
                found = Some(("multipath-tools", String::from_utf8_lossy(&v).into_owned()));
            }
        }
        if let Some((what, value)) = found {
            if !self.versions.iter().any(|x| x.what == what && x.value == value) {
                self.versions.push(Version { what: what.into(), value, evidence: evidence(ev) });
            }
        }
    }

    /// Settles templates and findings into a [`Scan`].
    pub fn finish(self, name: String, inputs: Inputs) -> Scan {
        let host = self.hosts.iter().max_by_key(|(_, n)| *n).map(|(h, _)| h.to_string());
        let rules = self.matcher.finish();
        let mut phases = Vec::new();
        let mut versions = self.versions;
        let mut findings: BTreeMap<String, Track> = BTreeMap::new();
        for f in &rules.findings {
            if PHASE_SIGNATURES.contains(&f.signature.as_str()) {
                if let Some(c) = rootline_correlate::upgrade::change_of(f) {
                    phases.push(Phase {
                        signature: c.signature,
                        summary: c.summary,
                        time: c.time,
                        evidence: c.evidence,
                        at: f.first,
                    });
                }
                if let Some(img) = f.entities.get("image").and_then(|v| v.first()) {
                    if !versions.iter().any(|x| x.what == "image" && &x.value == img) {
                        if let Some(e) = f.evidence.first() {
                            versions.push(Version { what: "image".into(), value: img.clone(), evidence: e.clone() });
                        }
                    }
                }
            }
            let tr = findings.entry(f.signature.clone()).or_insert_with(|| Track {
                kind: f.kind,
                spans: Vec::new(),
                evidence: BTreeMap::new(),
            });
            let a = f.first.map_or(i64::MIN, |t| t.unix_nanos);
            let b = f.last.or(f.first).map_or(i64::MIN, |t| t.unix_nanos);
            tr.spans.push((a, b, f.count));
            if let Some(e) = f.evidence.first() {
                let bucket = if a == i64::MIN { i64::MIN } else { (a / 1_000_000_000).div_euclid(BUCKET_SECS) };
                let slot = tr.evidence.entry(bucket).or_insert((a, f.first, e.clone()));
                if a < slot.0 {
                    *slot = (a, f.first, e.clone());
                }
            }
        }
        phases.sort_by_key(|p| p.at.map(|t| t.unix_nanos).unwrap_or(i64::MIN));
        // Templates: fold ids the miner merged, then key by the stable hash of the host-neutral text.
        let miner = self.miner;
        let mut templates: HashMap<String, Tpl> = HashMap::new();
        for (id, acc) in self.accs {
            let text = match miner.template(rootline_template::TemplateId(id)) {
                Some(t) => t.render(),
                None => acc.example.text.clone(),
            };
            let text = match &host {
                Some(h) if !h.is_empty() => text.replace(h.as_str(), "<host>"),
                _ => text,
            };
            let hash = template_hash(&text);
            match templates.get_mut(&hash) {
                Some(t) => {
                    merge_buckets(&mut t.buckets, &acc.buckets);
                    t.timeless += acc.timeless;
                    if (acc.example.time, &acc.example.path, acc.example.line)
                        < (t.example.time, &t.example.path, t.example.line)
                    {
                        t.example = acc.example;
                    }
                    t.severity = match (t.severity, acc.severity) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                None => {
                    let mut buckets = acc.buckets;
                    buckets.sort_unstable();
                    templates.insert(
                        hash.clone(),
                        Tpl {
                            text,
                            hash,
                            example: acc.example,
                            severity: acc.severity,
                            buckets,
                            timeless: acc.timeless,
                        },
                    );
                }
            }
        }
        Scan { name, host, inputs, span: self.span, findings, templates, phases, versions }
    }
}

fn merge_buckets(into: &mut Vec<(i64, u64)>, from: &[(i64, u64)]) {
    into.extend_from_slice(from);
    into.sort_unstable();
    into.dedup_by(|b, a| {
        if a.0 == b.0 {
            a.1 += b.1;
            true
        } else {
            false
        }
    });
}

fn evidence(ev: &EventRef<'_>) -> Evidence {
    Evidence {
        path: ev.path.to_string(),
        line: ev.line,
        time: ev.time,
        text: rootline_event::lossless_str(ev.headline()).into_owned(),
    }
}

impl Scan {
    /// The node in `w`: findings overlapping it, template lines inside it (at bucket granularity).
    pub fn summarize(&self, w: &Window) -> NodeSummary {
        let mut signatures: BTreeMap<String, SigCount> = BTreeMap::new();
        let mut first_fault: Option<(&String, Timestamp, &Evidence)> = None;
        for (sig, tr) in &self.findings {
            let ts = |n: i64| (n != i64::MIN).then(|| Timestamp::from_unix_nanos(n, 0));
            let mut c = SigCount {
                kind: tr.kind,
                count: 0,
                findings: 0,
                first: None,
                last: None,
                evidence: None,
                first_at: None,
                last_at: None,
            };
            let mut last = i64::MIN;
            for &(a, b, n) in &tr.spans {
                if !w.overlaps(ts(a), ts(b)) {
                    continue;
                }
                c.count += n;
                c.findings += 1;
                last = last.max(b);
            }
            if c.findings == 0 {
                continue;
            }
            // The earliest line whose finding starts inside the window (else the earliest overall).
            let inside = tr.evidence.values().find(|(a, _, _)| w.overlaps(ts(*a), ts(*a)) && *a != i64::MIN);
            let pick = inside.or_else(|| tr.evidence.values().next());
            if let Some((_, t, e)) = pick {
                c.first_at = *t;
                c.evidence = Some(e.clone());
                if tr.kind == Kind::Fault {
                    if let Some(t) = t {
                        if first_fault.is_none_or(|(_, x, _)| *t < x) {
                            first_fault = Some((sig, *t, e));
                        }
                    }
                }
            }
            // Times are written with the offset of the line that proves them.
            let off = c.first_at.map_or(0, |t| t.offset_secs);
            c.last_at = ts(last).map(|t| t.with_offset(off));
            signatures.insert(sig.clone(), c);
        }
        for s in signatures.values_mut() {
            s.first = s.first_at.map(|t| t.to_rfc3339());
            s.last = s.last_at.map(|t| t.to_rfc3339());
        }
        let mut templates = BTreeMap::new();
        let mut detail = HashMap::new();
        for (h, t) in &self.templates {
            let n: u64 = t.buckets.iter().filter(|(b, _)| w.holds_bucket(*b, BUCKET_SECS)).map(|x| x.1).sum::<u64>()
                + t.timeless;
            if n == 0 {
                continue;
            }
            templates.insert(h.clone(), n);
            detail
                .insert(h.clone(), TplInfo { text: t.text.clone(), example: t.example.clone(), severity: t.severity });
        }
        NodeSummary {
            name: self.name.clone(),
            host: self.host.clone(),
            inputs: self.inputs.clone(),
            span: [self.span.0.map(|t| t.to_rfc3339()), self.span.1.map(|t| t.to_rfc3339())],
            signatures,
            templates,
            first_fault: first_fault.map(|(sig, t, e)| FirstFault {
                signature: sig.clone(),
                time: Some(t.to_rfc3339()),
                evidence: Some(e.clone()),
            }),
            phases: self.phases.clone(),
            versions: self.versions.clone(),
            detail,
        }
    }
}

//! The analysis document, `rootline.analysis/v1` (PRODUCT.md): field names are a contract; fields may
//! be added, never renamed.

use std::collections::BTreeMap;

use rootline_rules::{Evidence, Finding};
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::alias::{AliasEdge, Conflict};

/// The schema name written in every document.
pub const SCHEMA: &str = "rootline.analysis/v1";

/// What was read.
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
    /// Lines longer than `max_line` bytes, cut to it.
    pub cut_lines: u64,
    /// The line limit in bytes.
    pub max_line: u64,
    /// Earliest event time read (RFC 3339), when any event has a time.
    pub first: Option<String>,
    /// Latest event time read.
    pub last: Option<String>,
    /// Inputs not read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Inputs read only in part or with a problem (damaged archives, cut lines), with the reason.
    pub warnings: Vec<Skipped>,
    /// Files read as facts about their bundle (host name, time zone, boot time), not as logs.
    pub metadata: Vec<Skipped>,
}

/// An input not read.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Display path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// The most likely cause of one incident.
#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    /// Finding id.
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// Entities of the finding, widened by its storage aliases (`map`, `dm`, `devt`, `volume`, ...).
    pub entities: BTreeMap<String, Vec<String>>,
    /// 0..1.
    pub confidence: f64,
    /// One sentence: what, where, when.
    pub summary: String,
    /// The lines that prove it (the finding's, and those of the findings folded into it).
    pub evidence: Vec<Evidence>,
    /// Findings that are this fault's onset (its trigger, the same object, the same moment).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub onset: Vec<String>,
}

/// A cause that ranked lower.
#[derive(Debug, Clone, Serialize)]
pub struct Alternative {
    /// Finding id.
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// 0..1.
    pub confidence: f64,
    /// Why it ranked lower.
    pub why_not: String,
}

/// One evidence-linked causal edge.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    /// Finding id of the cause.
    pub cause: String,
    /// Finding id of the effect.
    pub effect: String,
    /// The link rule.
    pub link: String,
    /// The entities the two share (directly or through the alias path).
    pub entities: Vec<String>,
    /// The cause's line, the effect's line, and each alias edge's line.
    pub evidence: Vec<Evidence>,
    /// Rule id of the cause.
    pub cause_signature: String,
    /// Rule id of the effect.
    pub effect_signature: String,
    /// The link rule's prior.
    pub prior: f64,
    /// Seconds from cause to effect.
    pub delay_secs: Option<f64>,
    /// How the two are tied: the alias path, one edge per step.
    pub via: Vec<AliasEdge>,
    /// True for the link that explains its effect best (the strongest prior, then the one from the
    /// root cause, then the earliest cause): the one the text and the report draw.
    #[serde(default)]
    pub decisive: bool,
}

/// A change on the host (an image, a service container start), context for the incident.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Finding id.
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// What changed, in one sentence.
    pub summary: String,
    /// When.
    pub time: Option<String>,
    /// Seconds before the incident's first fault (negative: after).
    pub before_first_fault_secs: Option<f64>,
    /// The line.
    pub evidence: Option<Evidence>,
}

/// One incident: findings of one host connected by links.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// Host.
    pub host: Option<String>,
    /// First finding's time.
    pub start: Option<String>,
    /// Last finding's time.
    pub end: Option<String>,
    /// The top hypothesis.
    pub root_cause: RootCause,
    /// The others, with why each ranked lower.
    pub alternatives: Vec<Alternative>,
    /// The causal edges, in order of the cause's time.
    pub chain: Vec<ChainLink>,
    /// Finding ids in this incident.
    pub findings: Vec<String>,
    /// The incident's findings in the order of the chain: from those no decisive link explains (the
    /// first evidence), each finding after the one whose decisive link explains it (deeper later;
    /// at one depth, earlier first).
    #[serde(default)]
    pub order: Vec<String>,
    /// Changes on the host shortly before the first fault (context, not proof).
    pub context: Vec<Change>,
    /// What the evidence does not say.
    pub unknown: Vec<String>,
    /// Lines new in the incident window that no rule matched (hypotheses to look at, not links).
    pub leads: Vec<crate::novelty::Lead>,
    /// Signatures and template hashes of the incident, for similarity search.
    pub fingerprint: crate::novelty::Fingerprint,
    /// Which episode of its host this incident belongs to (from 1), when the host had several: a
    /// quiet gap of [`rootline_rules::window::EPISODE_GAP`] without a fault or symptom separates two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<u32>,
    /// How often the same fault (signature and object) was the root cause on this host, when more
    /// than once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<crate::recurrence::Recurrence>,
}

/// The alias graph of one host, as evidence.
#[derive(Debug, Clone, Serialize)]
pub struct HostAliases {
    /// Host.
    pub host: Option<String>,
    /// Edges used by the chain (the full graph is large; `--format json` keeps these).
    pub edges: Vec<AliasEdge>,
    /// Edge count of the whole graph.
    pub total_edges: usize,
    /// Conflicting evidence.
    pub conflicts: Vec<Conflict>,
}

/// A link the rules allowed by time and kind but the evidence did not tie (a hypothesis, not made).
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// Finding id of the would-be cause.
    pub cause: String,
    /// Finding id of the would-be effect.
    pub effect: String,
    /// The link rule.
    pub link: String,
    /// Why it was not made.
    pub reason: String,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// What was read.
    pub inputs: Inputs,
    /// Hosts seen.
    pub hosts: Vec<String>,
    /// Every finding.
    pub findings: Vec<Finding>,
    /// Incidents, most confident first.
    pub incidents: Vec<Incident>,
    /// root_cause_found, uncertain or no_incident.
    pub verdict: Verdict,
    /// Alias evidence per host.
    pub aliases: Vec<HostAliases>,
    /// Links not made for want of a shared entity (hypotheses at most).
    pub rejected_links: Vec<Rejected>,
    /// Changes seen (upgrade phases), in time order.
    pub changes: Vec<Change>,
    /// Transient faults that recovered by themselves (not incidents): a path that failed and was
    /// reinstated while its map kept serving.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<Recovered>,
    /// What this node showed that its peers did not (only with a fleet comparison: `rootline fleet`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_only_this_node: Option<crate::peers::WhyOnlyThisNode>,
    /// Past cases like the top incident (only when a case database was consulted: `rootline
    /// analyze` with a case database, see docs/cases.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_before: Option<SeenBefore>,
    /// What [`Analysis::limit`] left out, counted: the incidents past the first N and the findings,
    /// rejected links and list entries only they held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted: Option<Omitted>,
}

/// The schema name of a similar-case answer.
pub const SIMILAR_SCHEMA: &str = "rootline.similar/v1";

/// Past cases like an incident, best first (`rootline.similar/v1`): the answer of `rootline cases
/// similar`, and the analysis's `seen_before`. The case database (crate `rootline-store`) finds them;
/// the analysis only carries them.
#[derive(Debug, Clone, Serialize)]
pub struct SeenBefore {
    /// Always [`SIMILAR_SCHEMA`].
    pub schema: &'static str,
    /// The matches, best first.
    pub matches: Vec<PastCase>,
}

/// One past case and why it is like this one.
#[derive(Debug, Clone, Serialize)]
pub struct PastCase {
    /// The case's id in the case database.
    pub case: i64,
    /// Its title.
    pub title: String,
    /// Similarity in [0, 1]: the sum of the reasons' shares.
    pub score: f64,
    /// What the two share, each with its share of the score (`same root cause: multipath.stale-map
    /// (+0.30)`).
    pub reasons: Vec<String>,
    /// What resolved it, as recorded (`null` when nobody recorded it).
    pub resolution: Option<String>,
}

/// Most entries of an incident's `unknown` and `alternatives`, of a host's `conflicts` and of a root
/// cause's `evidence` that [`Analysis::limit`] keeps (the rest are counted in [`Omitted`]).
pub const MAX_LIST: usize = 50;

/// Most evidence lines of a root cause [`Analysis::limit`] keeps: its first lines and one per onset.
pub const MAX_ROOT_EVIDENCE: usize = 8;

/// What [`Analysis::limit`] left out of a big analysis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Omitted {
    /// Incidents past the first N (not listed).
    pub incidents: usize,
    /// Those incidents by root-cause signature, most frequent first.
    pub signatures: Vec<OmittedSignature>,
    /// Findings no listed incident, change or recovery refers to (counted, not listed), and context
    /// findings past the bound per signature, host and episode (counted, never built; see
    /// `rootline_rules::window::CONTEXT_FIRST`).
    pub findings: usize,
    /// Those findings by signature, most frequent first.
    pub finding_signatures: Vec<SignatureCount>,
    /// Rejected links whose two ends are not both listed.
    pub rejected_links: usize,
    /// Entries cut from lists longer than [`MAX_LIST`] (`unknown`, `alternatives`, `conflicts`) and
    /// root-cause evidence past [`MAX_ROOT_EVIDENCE`] lines.
    pub list_entries: usize,
}

/// Incidents of one root-cause signature that were not listed.
#[derive(Debug, Clone, Serialize)]
pub struct OmittedSignature {
    /// Rule id of the root cause.
    pub signature: String,
    /// How many incidents.
    pub count: usize,
    /// Their hosts.
    pub hosts: Vec<String>,
    /// When the first of them began.
    pub first: Option<String>,
    /// When the last of them began.
    pub last: Option<String>,
}

/// A signature and how many.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureCount {
    /// Rule id.
    pub signature: String,
    /// How many.
    pub count: usize,
}

impl Analysis {
    /// Keeps a big analysis usable: the first `max_incidents` incidents in full (0: every one, and
    /// every list whole), the others summarised by root-cause signature; only the findings the kept
    /// incidents, changes and recoveries refer to (and recovery findings); the rejected links
    /// between kept findings; at most [`MAX_LIST`] entries of each incident's `unknown` and
    /// `alternatives` and of each host's `conflicts`, and [`MAX_ROOT_EVIDENCE`] root-cause evidence
    /// lines. What was left out is counted in [`Analysis::omitted`]. The verdict was decided on
    /// everything and does not change.
    pub fn limit(&mut self, max_incidents: usize) {
        if max_incidents == 0 {
            return;
        }
        let mut om = self.omitted.take().unwrap_or_default();
        fn cap<T>(v: &mut Vec<T>, n: usize, om: &mut Omitted) {
            if v.len() > n {
                om.list_entries += v.len() - n;
                v.truncate(n);
            }
        }
        for i in &mut self.incidents {
            cap(&mut i.unknown, MAX_LIST, &mut om);
            cap(&mut i.alternatives, MAX_LIST, &mut om);
            cap(&mut i.root_cause.evidence, MAX_ROOT_EVIDENCE, &mut om);
        }
        for h in &mut self.aliases {
            cap(&mut h.conflicts, MAX_LIST, &mut om);
        }
        if self.incidents.len() > max_incidents {
            let rest = self.incidents.split_off(max_incidents);
            om.incidents += rest.len();
            let time =
                |s: Option<&str>| s.and_then(|v| v.parse::<jiff::Timestamp>().ok()).map(|t| t.as_nanosecond() as i64);
            let mut sigs = std::mem::take(&mut om.signatures);
            sigs.extend(summarize(
                rest.iter().map(|i| {
                    (i.root_cause.signature.as_str(), i.host.as_deref(), time(i.start.as_deref()), i.start.as_deref())
                }),
                str::to_string,
            ));
            om.signatures = merge_signatures(sigs);
        }
        if om.incidents > 0 {
            let keep = referred(&self.incidents, &self.changes, &self.recovered);
            // Which findings stay, and the others counted by signature, before any is dropped.
            let mut dropped: BTreeMap<&str, usize> = BTreeMap::new();
            let kept: Vec<bool> = self
                .findings
                .iter()
                .map(|f| {
                    let k = keep.contains(f.id.as_str()) || f.kind == rootline_rules::Kind::Recovery;
                    if !k {
                        *dropped.entry(f.signature.as_str()).or_default() += 1;
                    }
                    k
                })
                .collect();
            om.findings = dropped.values().sum();
            let mut fs: Vec<SignatureCount> = dropped
                .into_iter()
                .map(|(signature, count)| SignatureCount { signature: signature.to_string(), count })
                .collect();
            let keep_rejected: Vec<bool> = self
                .rejected_links
                .iter()
                .map(|r| keep.contains(r.cause.as_str()) && keep.contains(r.effect.as_str()))
                .collect();
            let mut k = kept.into_iter();
            self.findings.retain(|_| k.next().unwrap_or(true));
            fs.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
            om.finding_signatures = fs;
            let before = self.rejected_links.len();
            let mut k = keep_rejected.into_iter();
            self.rejected_links.retain(|_| k.next().unwrap_or(true));
            // Added to: the caller may have left out rejected links already ([`referred`]).
            om.rejected_links += before - self.rejected_links.len();
        }
        if om.incidents > 0 || om.list_entries > 0 {
            self.omitted = Some(om);
        }
    }
}

/// The findings an analysis limited to `incidents` still refers to ([`Analysis::limit`]): those of
/// its incidents (their members, context and first [`MAX_LIST`] alternatives), of its changes and of
/// its recoveries.
pub fn referred<'a>(
    incidents: &'a [Incident],
    changes: &'a [Change],
    recovered: &'a [Recovered],
) -> FxHashSet<&'a str> {
    let mut keep: FxHashSet<&str> = FxHashSet::default();
    for i in incidents {
        keep.extend(i.findings.iter().map(String::as_str));
        keep.extend(i.context.iter().map(|c| c.finding.as_str()));
        keep.extend(i.alternatives.iter().take(MAX_LIST).map(|a| a.finding.as_str()));
    }
    keep.extend(changes.iter().map(|c| c.finding.as_str()));
    for r in recovered {
        keep.extend(r.findings.iter().map(String::as_str));
        keep.insert(r.recovery.as_str());
    }
    keep
}

impl Analysis {
    /// Counts the context findings the matcher folded (`(signature, how many)`) in
    /// [`Analysis::omitted`]'s `findings` and `finding_signatures`.
    pub fn count_folded(&mut self, folded: &[(String, usize)]) {
        if folded.iter().all(|(_, n)| *n == 0) {
            return;
        }
        let om = self.omitted.get_or_insert_with(Omitted::default);
        for (signature, n) in folded {
            om.findings += n;
            match om.finding_signatures.iter_mut().find(|c| &c.signature == signature) {
                Some(c) => c.count += n,
                None => om.finding_signatures.push(SignatureCount { signature: signature.clone(), count: *n }),
            }
        }
        om.finding_signatures.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
    }
}

/// Incidents summarised by root-cause signature (`(signature, host, start, start as written)` each;
/// `text` writes a start, only for the first and last of each signature), the most frequent first.
pub fn summarize<'a, Y: Copy>(
    rest: impl Iterator<Item = (&'a str, Option<&'a str>, Option<i64>, Option<Y>)>,
    text: impl Fn(Y) -> String,
) -> Vec<OmittedSignature> {
    // Per signature: how many, the hosts, the first and the last start.
    type Tally<Y> = (usize, Vec<String>, Option<(i64, Y)>, Option<(i64, Y)>);
    let mut by_sig: BTreeMap<&str, Tally<Y>> = BTreeMap::new();
    for (sig, host, start, at) in rest {
        let e = by_sig.entry(sig).or_default();
        e.0 += 1;
        if let Some(h) = host {
            if !e.1.iter().any(|x| x == h) {
                e.1.push(h.to_string());
            }
        }
        if let (Some(t), Some(txt)) = (start, at) {
            if e.2.is_none_or(|(f, _)| t < f) {
                e.2 = Some((t, txt));
            }
            if e.3.is_none_or(|(l, _)| t > l) {
                e.3 = Some((t, txt));
            }
        }
    }
    merge_signatures(
        by_sig
            .into_iter()
            .map(|(s, (count, mut hosts, first, last))| {
                hosts.sort();
                OmittedSignature {
                    signature: s.to_string(),
                    count,
                    hosts,
                    first: first.map(|x| text(x.1)),
                    last: last.map(|x| text(x.1)),
                }
            })
            .collect(),
    )
}

/// One entry per signature (counts added, hosts joined, the earliest first and latest last), the
/// most frequent first.
fn merge_signatures(all: Vec<OmittedSignature>) -> Vec<OmittedSignature> {
    let time = |s: &Option<String>| s.as_deref().and_then(|v| v.parse::<jiff::Timestamp>().ok());
    let mut by: BTreeMap<String, OmittedSignature> = BTreeMap::new();
    for o in all {
        match by.get_mut(&o.signature) {
            None => {
                by.insert(o.signature.clone(), o);
            }
            Some(e) => {
                e.count += o.count;
                for h in o.hosts {
                    if !e.hosts.contains(&h) {
                        e.hosts.push(h);
                    }
                }
                e.hosts.sort();
                if e.first.is_none() || (o.first.is_some() && time(&o.first) < time(&e.first)) {
                    e.first = o.first;
                }
                if e.last.is_none() || (o.last.is_some() && time(&o.last) > time(&e.last)) {
                    e.last = o.last;
                }
            }
        }
    }
    let mut out: Vec<OmittedSignature> = by.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
    out
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A chain strong enough names a root cause.
    RootCauseFound,
    /// Faults or symptoms, but no chain strong enough.
    Uncertain,
    /// Only context and benign lines.
    NoIncident,
}

impl Verdict {
    /// The JSON name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::RootCauseFound => "root_cause_found",
            Verdict::Uncertain => "uncertain",
            Verdict::NoIncident => "no_incident",
        }
    }
}

/// A group of transient faults that recovered by itself.
#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    /// Host.
    pub host: Option<String>,
    /// First line of the fault.
    pub start: Option<String>,
    /// The recovery's line.
    pub end: Option<String>,
    /// The fault's findings.
    pub findings: Vec<String>,
    /// The recovery finding.
    pub recovery: String,
    /// Seconds from the fault's first line to its recovery.
    pub lasted_secs: Option<f64>,
    /// The recovery's first line.
    pub evidence: Option<Evidence>,
}

impl Recovered {
    /// The record of group `g`, recovered by finding `r`.
    pub fn new(findings: &[Finding], g: &crate::incident::Group, r: usize) -> Recovered {
        let first = g.members.iter().filter_map(|&i| findings[i].first).min();
        let rf = &findings[r];
        Recovered {
            host: g.host.clone(),
            start: first.map(|t| t.to_rfc3339()),
            end: rf.first.map(|t| t.to_rfc3339()),
            findings: g.members.iter().map(|&i| findings[i].id.clone()).collect(),
            recovery: rf.id.clone(),
            lasted_secs: match (first, rf.first) {
                (Some(a), Some(b)) => Some((b.unix_nanos - a.unix_nanos) as f64 / 1e9),
                _ => None,
            },
            evidence: rf.evidence.first().cloned(),
        }
    }
}

/// Shows every time of an analysis in one zone (the same instants; the offsets of `zone`), so a
/// report never mixes `10:46:02Z` with `+09:00` times.
pub mod zone {
    use rootline_ingest::Zone;
    use rootline_rules::{Evidence, Finding};

    use super::Analysis;

    /// A finding's times, and its evidence's.
    pub fn finding(f: &mut Finding, z: &Zone) {
        for t in [&mut f.first, &mut f.last, &mut f.onset] {
            *t = t.map(|t| z.show(t));
        }
        for e in &mut f.evidence {
            evidence(e, z);
        }
    }

    /// An evidence line's time.
    pub fn evidence(e: &mut Evidence, z: &Zone) {
        e.time = e.time.map(|t| z.show(t));
    }

    /// An RFC 3339 time written as text.
    fn text(s: &mut Option<String>, z: &Zone) {
        if let Some(v) = s.as_deref() {
            if let Ok(t) = v.parse::<jiff::Timestamp>() {
                let off = z.tz.to_offset(t).seconds();
                let ts = rootline_event::Timestamp::from_unix_nanos(t.as_nanosecond() as i64, off);
                *s = Some(ts.to_rfc3339());
            }
        }
    }

    /// Everything in `a`.
    pub fn analysis(a: &mut Analysis, z: &Zone) {
        for f in &mut a.findings {
            finding(f, z);
        }
        for i in &mut a.incidents {
            text(&mut i.start, z);
            text(&mut i.end, z);
            i.root_cause.evidence.iter_mut().for_each(|e| evidence(e, z));
            for l in &mut i.chain {
                l.evidence.iter_mut().for_each(|e| evidence(e, z));
                for v in &mut l.via {
                    v.evidence.iter_mut().for_each(|e| evidence(e, z));
                }
            }
            for c in &mut i.context {
                text(&mut c.time, z);
                c.evidence.iter_mut().for_each(|e| evidence(e, z));
            }
            i.leads.iter_mut().for_each(|l| evidence(&mut l.evidence, z));
            if let Some(r) = &mut i.recurrence {
                text(&mut r.first, z);
                text(&mut r.last, z);
            }
        }
        if let Some(o) = &mut a.omitted {
            for sg in &mut o.signatures {
                text(&mut sg.first, z);
                text(&mut sg.last, z);
            }
        }
        for r in &mut a.recovered {
            text(&mut r.start, z);
            text(&mut r.end, z);
            r.evidence.iter_mut().for_each(|e| evidence(e, z));
        }
        for c in &mut a.changes {
            text(&mut c.time, z);
            c.evidence.iter_mut().for_each(|e| evidence(e, z));
        }
        for h in &mut a.aliases {
            for v in &mut h.edges {
                v.evidence.iter_mut().for_each(|e| evidence(e, z));
            }
            for c in &mut h.conflicts {
                c.evidence.iter_mut().for_each(|e| evidence(e, z));
            }
        }
        if let Some(w) = &mut a.why_only_this_node {
            for f in w.only_here.iter_mut().chain(w.shared.iter_mut()).chain(w.differences.iter_mut()) {
                f.evidence.iter_mut().for_each(|e| evidence(e, z));
            }
            if let Some(win) = &mut w.window {
                text(&mut win.since, z);
                text(&mut win.until, z);
            }
        }
    }
}

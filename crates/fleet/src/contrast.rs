//! The contrast: what the target showed that its peers did not, what every node shared, and every
//! node ranked by how unusual it is.
//!
//! A node's score sums, over the faults and symptoms it showed in the window, `weight x rarity`:
//! weight 3 for a fault, 1 for a symptom, times 0.3 when a recovery of the same family (the part of
//! the rule id before the dot: `multipath.path-reinstated` for `multipath.path-down`) came at or after
//! its last hit; rarity `1 - (others with it) / (nodes - 1)`. Templates seen on this node alone add
//! 0.2 (error or worse), 0.1 (warning) or 0.02 (other), at most 1.5 in all. Every reason is printed
//! with the count of nodes that showed it.

use std::collections::{BTreeMap, HashMap};

use rootline_correlate::peers::{PeerFact, WhyOnlyThisNode, WindowNote};
use rootline_event::{cut, Severity};
use rootline_rules::{Evidence, Kind};
use serde::Serialize;

use crate::node::NodeSummary;

/// Most templates listed as "only on the target".
pub const MAX_TEMPLATES: usize = 20;

/// One node in the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct RankedNode {
    /// Host (or folder name).
    pub host: String,
    /// How unusual (0: nothing its peers did not show).
    pub score: f64,
    /// Why, strongest first.
    pub reasons: Vec<String>,
    /// Index in the input order.
    #[serde(skip)]
    pub index: usize,
}

/// The target against its peers.
#[derive(Debug, Clone, Serialize)]
pub struct Contrast {
    /// The target.
    pub target: String,
    /// Nodes compared.
    pub nodes: usize,
    /// Signatures and templates on the target, absent or rare on the peers.
    pub only_target: Vec<PeerFact>,
    /// Signatures every node showed (so not the cause), and how many templates all nodes share.
    pub common: Vec<PeerFact>,
    /// Versions and upgrade timing of the target against its peers.
    pub differences: Vec<PeerFact>,
    /// Templates every node logged in the window.
    pub common_templates: usize,
    /// For each signature, on how many peers (the target excluded) it was seen.
    pub peer_prevalence: BTreeMap<String, usize>,
}

fn weight(k: Kind) -> f64 {
    match k {
        Kind::Fault => 3.0,
        Kind::Symptom => 1.0,
        _ => 0.0,
    }
}

fn family(sig: &str) -> &str {
    sig.split('.').next().unwrap_or(sig)
}

fn tpl_weight(s: Option<Severity>) -> f64 {
    match s.map(|x| x as u8) {
        Some(0..=3) => 0.2,
        Some(4) => 0.1,
        _ => 0.02,
    }
}

fn cite(e: &Evidence) -> String {
    format!("{}:{}", e.path, e.line)
}

/// Nodes per signature and per template hash.
struct Prevalence<'a> {
    sigs: HashMap<&'a str, usize>,
    tpls: HashMap<&'a str, usize>,
}

fn prevalence(s: &[NodeSummary]) -> Prevalence<'_> {
    let mut sigs: HashMap<&str, usize> = HashMap::new();
    let mut tpls: HashMap<&str, usize> = HashMap::new();
    for n in s {
        for k in n.signatures.keys() {
            *sigs.entry(k.as_str()).or_default() += 1;
        }
        for k in n.templates.keys() {
            *tpls.entry(k.as_str()).or_default() += 1;
        }
    }
    Prevalence { sigs, tpls }
}

/// The recovery of `sig`'s family on `n` at or after `sig`'s last hit, if any.
fn recovered<'a>(n: &'a NodeSummary, sig: &str) -> Option<(&'a str, &'a Evidence)> {
    let s = n.signatures.get(sig)?;
    n.signatures
        .iter()
        .filter(|(k, r)| r.kind == Kind::Recovery && family(k) == family(sig))
        .find(|(_, r)| r.last_at.is_some_and(|t| s.last_at.is_none_or(|l| t.unix_nanos >= l.unix_nanos)))
        .and_then(|(k, r)| r.evidence.as_ref().map(|e| (k.as_str(), e)))
}

/// Every node, most unusual first (ties: input order).
pub fn rank(s: &[NodeSummary]) -> Vec<RankedNode> {
    let p = prevalence(s);
    let total = s.len();
    let mut out: Vec<RankedNode> = s
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut parts: Vec<(f64, String)> = Vec::new();
            for (sig, c) in &n.signatures {
                let w = weight(c.kind);
                if w == 0.0 {
                    continue;
                }
                let k = p.sigs[sig.as_str()];
                let rarity = if total > 1 { 1.0 - (k - 1) as f64 / (total - 1) as f64 } else { 1.0 };
                let mut why = format!(
                    "{sig} ({}, x{}) seen on {k} of {total} nodes{}",
                    c.kind.as_str(),
                    c.count,
                    c.evidence.as_ref().map(|e| format!(" [{}]", cite(e))).unwrap_or_default()
                );
                let mut f = 1.0;
                if let Some((r, e)) = recovered(n, sig) {
                    f = 0.3;
                    why.push_str(&format!("; recovered: {r} [{}]", cite(e)));
                }
                let sc = w * rarity * f;
                if sc > 0.0 {
                    parts.push((sc, why));
                }
            }
            parts.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut score: f64 = parts.iter().map(|x| x.0).fold(0.0, |a, b| a + b);
            let mut reasons: Vec<String> = parts.into_iter().map(|x| x.1).collect();
            if total > 1 {
                let mut only: Vec<(&String, f64)> = n
                    .templates
                    .keys()
                    .filter(|h| p.tpls[h.as_str()] == 1)
                    .map(|h| (h, tpl_weight(n.detail.get(h).and_then(|d| d.severity))))
                    .collect();
                only.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
                let add: f64 = only.iter().map(|x| x.1).sum::<f64>().min(1.5);
                if !only.is_empty() {
                    score += add;
                    let ex = only.first().and_then(|(h, _)| n.detail.get(*h));
                    reasons.push(format!(
                        "{} seen on this node only{}",
                        rootline_event::count(only.len() as u64, "template"),
                        ex.map(|d| format!(", e.g. `{}` [{}]", cut(&d.text, 80), cite(&d.example))).unwrap_or_default()
                    ));
                }
            }
            if reasons.is_empty() {
                reasons.push("nothing its peers did not show in the window".into());
            }
            RankedNode { host: n.label(), score: (score * 100.0).round() / 100.0 + 0.0, reasons, index: i }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    out
}

/// The target (index `t`) against the other nodes; times are written at `offset` seconds from UTC.
pub fn contrast(s: &[NodeSummary], t: usize, offset: i32) -> Contrast {
    let p = prevalence(s);
    let total = s.len();
    let me = &s[t];
    let peers = total.saturating_sub(1);
    // Rare: on at most a tenth of the peers (at least one peer allowed when there are peers).
    let rare = if peers == 0 { 0 } else { (peers / 10).max(1) };
    let mut only_target = Vec::new();
    let mut sigs: Vec<(&String, &crate::node::SigCount, usize)> = me
        .signatures
        .iter()
        .filter(|(_, c)| c.kind != Kind::Context)
        .map(|(k, c)| (k, c, p.sigs[k.as_str()] - 1))
        .filter(|x| x.2 <= rare)
        .collect();
    sigs.sort_by_key(|(k, c, others)| {
        (*others, c.kind != Kind::Fault, c.kind != Kind::Symptom, c.first_at, (*k).clone())
    });
    for (k, c, others) in sigs {
        let mut note = format!("{}, x{}", c.kind.as_str(), c.count);
        if others > 0 {
            let who: Vec<String> = s
                .iter()
                .enumerate()
                .filter(|(i, n)| *i != t && n.signatures.contains_key(k))
                .map(|(_, n)| n.label())
                .take(3)
                .collect();
            note.push_str(&format!("; also on {}", who.join(", ")));
            if let Some((r, _)) = s.iter().enumerate().filter(|(i, _)| *i != t).find_map(|(_, n)| recovered(n, k)) {
                note.push_str(&format!(" (recovered there: {r})"));
            }
        }
        only_target.push(PeerFact {
            kind: "signature".into(),
            what: k.clone(),
            seen_on: others + 1,
            of: total,
            evidence: c.evidence.iter().cloned().collect(),
            note: Some(note),
        });
    }
    if total > 1 {
        let mut tpls: Vec<(&String, &crate::node::TplInfo, u64)> = me
            .templates
            .iter()
            .filter(|(h, _)| p.tpls[h.as_str()] == 1)
            .filter_map(|(h, n)| me.detail.get(h).map(|d| (h, d, *n)))
            .collect();
        tpls.sort_by(|a, b| {
            let sev = |d: &crate::node::TplInfo| d.severity.map_or(8, |x| x as u8);
            sev(a.1)
                .cmp(&sev(b.1))
                .then(a.1.example.time.cmp(&b.1.example.time))
                .then_with(|| (&a.1.example.path, a.1.example.line).cmp(&(&b.1.example.path, b.1.example.line)))
        });
        let n_only = tpls.len();
        for (_, d, n) in tpls.into_iter().take(MAX_TEMPLATES) {
            only_target.push(PeerFact {
                kind: "template".into(),
                what: d.text.clone(),
                seen_on: 1,
                of: total,
                evidence: vec![d.example.clone()],
                note: Some(format!(
                    "x{n}{}{}",
                    d.severity.map(|s| format!(", {}", s.as_str())).unwrap_or_default(),
                    if n_only > MAX_TEMPLATES { format!("; {n_only} such templates in all") } else { String::new() }
                )),
            });
        }
    }
    let mut common = Vec::new();
    for (k, c) in &me.signatures {
        if total > 1 && p.sigs[k.as_str()] == total {
            let note = if c.kind == Kind::Context {
                "context on every node"
            } else {
                "on every node: not what broke this one"
            };
            common.push(PeerFact {
                kind: "signature".into(),
                what: k.clone(),
                seen_on: total,
                of: total,
                evidence: c.evidence.iter().cloned().collect(),
                note: Some(format!("{}, x{}; {note}", c.kind.as_str(), c.count)),
            });
        }
    }
    let common_templates =
        if total > 1 { me.templates.keys().filter(|h| p.tpls[h.as_str()] == total).count() } else { 0 };
    let differences = differences(s, t, offset);
    let mut peer_prevalence = BTreeMap::new();
    for (i, n) in s.iter().enumerate() {
        if i == t {
            continue;
        }
        for k in n.signatures.keys() {
            *peer_prevalence.entry(k.clone()).or_insert(0) += 1;
        }
    }
    Contrast { target: me.label(), nodes: total, only_target, common, differences, common_templates, peer_prevalence }
}

/// Versions and upgrade timing of the target against the peers.
fn differences(s: &[NodeSummary], t: usize, offset: i32) -> Vec<PeerFact> {
    let total = s.len();
    let me = &s[t];
    let mut out = Vec::new();
    // Versions: for each kind, which values each node shows.
    let mut kinds: Vec<&str> = s.iter().flat_map(|n| n.versions.iter().map(|v| v.what.as_str())).collect();
    kinds.sort();
    kinds.dedup();
    for what in kinds {
        let mut values: BTreeMap<&str, (usize, Option<&Evidence>)> = BTreeMap::new();
        let mut showing = 0;
        for (i, n) in s.iter().enumerate() {
            let vs: Vec<&crate::node::Version> = n.versions.iter().filter(|v| v.what == what).collect();
            if !vs.is_empty() {
                showing += 1;
            }
            for v in vs {
                let e = values.entry(v.value.as_str()).or_insert((0, None));
                e.0 += 1;
                if i == t || e.1.is_none() {
                    e.1 = Some(&v.evidence);
                }
            }
        }
        for (value, (k, e)) in values {
            let mine = me.versions.iter().any(|v| v.what == what && v.value == value);
            let note = if k == total {
                "the same on every node: not a difference".to_string()
            } else if showing < total {
                format!(
                    "visible in the evidence of {showing} of {total} nodes; the others do not show a {what} version, so this is no proof of a difference"
                )
            } else if mine {
                format!("the target differs from {} peers (a hypothesis to check, not proof)", total - k)
            } else {
                "a peer version the target does not show".into()
            };
            out.push(PeerFact {
                kind: "version".into(),
                what: format!("{what} {value}"),
                seen_on: k,
                of: total,
                evidence: e.into_iter().cloned().collect(),
                note: Some(note),
            });
        }
    }
    // Upgrade timing: when each node's nova (or first service) image changed.
    let when = |n: &NodeSummary| {
        n.phases.iter().find(|p| p.signature == "upgrade.image-changed").or_else(|| n.phases.first()).cloned()
    };
    if let Some(mine) = when(me) {
        let times: Vec<i64> = s.iter().filter_map(|n| when(n).and_then(|p| p.at).map(|t| t.unix_nanos)).collect();
        if let Some(at) = mine.at {
            let earlier = times.iter().filter(|&&x| x < at.unix_nanos).count();
            let (lo, hi) = (
                times.iter().min().copied().unwrap_or(at.unix_nanos),
                times.iter().max().copied().unwrap_or(at.unix_nanos),
            );
            let fmt = |n: i64| rootline_event::Timestamp::from_unix_nanos(n, offset).to_rfc3339();
            out.push(PeerFact {
                kind: "timing".into(),
                what: format!("{} at {}", mine.summary, at.with_offset(offset).to_rfc3339()),
                seen_on: times.len(),
                of: total,
                evidence: mine.evidence.iter().cloned().collect(),
                note: Some(format!(
                    "upgrade phase on {} of {total} nodes between {} and {}; this node was number {} (timing is a hypothesis at most)",
                    times.len(),
                    fmt(lo),
                    fmt(hi),
                    earlier + 1
                )),
            });
        }
    }
    out
}

impl Contrast {
    /// The "why only this node" section for the target's analysis.
    pub fn why_only(&self, me: &NodeSummary, window: WindowNote) -> WhyOnlyThisNode {
        WhyOnlyThisNode {
            host: Some(me.label()),
            nodes: self.nodes,
            window: Some(window),
            only_here: self.only_target.clone(),
            shared: self.common.clone(),
            differences: self.differences.clone(),
            lowered: Vec::new(),
        }
    }
}

//! The content model of the postmortem: what each section says, independent of Markdown or HTML.
//!
//! The sections follow the usual structure of an operator's postmortem (장애 보고서): summary, analysis by phase, overview, symptoms, timeline,
//! cause analysis (root cause, contributing factors, alternatives, open questions), classification,
//! recovery, prevention, and the evidence index every reference points into. Everything is computed
//! from the analysis and the rules; nothing is claimed that no line supports, and what is not tied
//! by evidence carries the hypothesis label.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rootline_rules::{Lang, Pack};

use crate::catalog::{self, fill, Catalog};
use crate::clock::{duration, epoch, Clock};
use crate::evidence::{EvLine, Index};
use crate::model::{Analysis, ChainLink, Finding, Incident, PeerFact, WhyOnlyThisNode};
use crate::rich::{Rich, Span, Tag};

/// One phase of the incident (단계 1-5 of the report).
#[derive(Debug, Clone)]
pub struct Phase {
    /// Title.
    pub title: String,
    /// Time range, in the display zone.
    pub range: String,
    /// What happened, one item per finding.
    pub what: Vec<Rich>,
    /// Why: the links into this phase.
    pub why: Vec<Rich>,
    /// How it led to the next phases.
    pub next: Vec<Rich>,
    /// The first line of each finding (collapsible excerpts).
    pub excerpts: Vec<usize>,
}

/// One symptom (one rule).
#[derive(Debug, Clone)]
pub struct Symptom {
    /// Rule title.
    pub title: String,
    /// Rule id.
    pub signature: String,
    /// Rule summary.
    pub summary: String,
    /// When and how often.
    pub when: String,
    /// Lines that show it.
    pub refs: Vec<usize>,
}

/// One row of the timeline table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Time shown.
    pub time: String,
    /// fault, symptom, context or recovery.
    pub kind: String,
    /// What happened.
    pub event: Rich,
    /// The files that logged it.
    pub source: String,
    /// Evidence.
    pub refs: Vec<usize>,
}

/// One family in the classification.
#[derive(Debug, Clone)]
pub struct ClassRow {
    /// Rule family.
    pub family: String,
    /// Its layer.
    pub layer: String,
    /// Findings counted.
    pub findings: usize,
    /// Log lines behind them.
    pub hits: u64,
    /// Share of the counted findings, 0..1.
    pub share: f64,
}

/// A mark on the timeline chart.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Lane index.
    pub lane: usize,
    /// Epoch seconds.
    pub start: f64,
    /// Epoch seconds.
    pub end: f64,
    /// Kind.
    pub kind: String,
    /// Hover text.
    pub label: String,
    /// Evidence of the first line.
    pub ev: Option<usize>,
    /// The root cause.
    pub root: bool,
}

/// The timeline chart: one lane per source file.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Lane names.
    pub lanes: Vec<String>,
    /// Marks.
    pub marks: Vec<Mark>,
}

/// A node of the causal graph.
#[derive(Debug, Clone)]
pub struct GNode {
    /// Finding id.
    pub id: String,
    /// Rule id.
    pub signature: String,
    /// Second line: time and repeats.
    pub sub: String,
    /// Hover text: the rule title and entities.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// The root cause.
    pub root: bool,
    /// First evidence line.
    pub ev: Option<usize>,
    /// Epoch of the first hit (ordering within a column).
    pub at: f64,
}

/// An edge of the causal graph.
#[derive(Debug, Clone)]
pub struct GEdge {
    /// Cause node index.
    pub from: usize,
    /// Effect node index.
    pub to: usize,
    /// The decisive link of the effect (drawn strong).
    pub decisive: bool,
    /// Not tied by evidence (drawn dashed).
    pub hypothesis: bool,
    /// Link rule id.
    pub link: String,
}

/// The causal chain as a graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Nodes.
    pub nodes: Vec<GNode>,
    /// Edges.
    pub edges: Vec<GEdge>,
}

/// "Why only this node": the fleet comparison of this node with its peers.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    /// Who was compared with whom, and the window.
    pub intro: Vec<Rich>,
    /// What only this node showed (or few of its peers), with the evidence.
    pub only_here: Vec<Rich>,
    /// What every node showed: not the cause.
    pub shared: Vec<Rich>,
    /// Other differences, each labelled a hypothesis.
    pub differences: Vec<Rich>,
    /// Candidates ranked lower because peers showed them too.
    pub lowered: Vec<Rich>,
}

/// A past case like this incident (from the case database): plain data, rendered as text.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Its id.
    pub case: i64,
    /// Its title.
    pub title: String,
    /// The score, two decimals.
    pub score: String,
    /// What the two share.
    pub reasons: Vec<String>,
    /// What resolved it.
    pub resolution: Option<String>,
}

/// The whole report, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    /// Language.
    pub lang: Lang,
    /// Fixed strings.
    pub cat: &'static Catalog,
    /// The display zone.
    pub clock: Clock,
    /// Title.
    pub title: String,
    /// Line under the title.
    pub byline: String,
    /// `root_cause_found`, `uncertain` or `no_incident`.
    pub verdict: String,
    /// Confidence of the top incident.
    pub confidence: Option<f64>,
    /// Summary paragraph.
    pub summary: Vec<Rich>,
    /// Phases.
    pub phases: Vec<Phase>,
    /// Overview: label, value.
    pub overview: Vec<(String, Rich)>,
    /// Symptoms.
    pub symptoms: Vec<Symptom>,
    /// Timeline table.
    pub timeline: Vec<Row>,
    /// Root cause paragraphs.
    pub root: Vec<Rich>,
    /// Contributing factors.
    pub contributing: Vec<Rich>,
    /// Alternatives ruled out.
    pub alternatives: Vec<Rich>,
    /// Open questions.
    pub open: Vec<Rich>,
    /// Why only this node (present when the analysis carries a fleet comparison).
    pub peers: Option<Peers>,
    /// Seen before (present when the analysis was looked up in a case database).
    pub seen: Option<Vec<Seen>>,
    /// Classification rows.
    pub classes: Vec<ClassRow>,
    /// How the classification was computed, and the per-layer line.
    pub class_notes: Vec<String>,
    /// Recovery observed.
    pub recovery: Vec<Rich>,
    /// Prevention from the rules.
    pub prevention: Vec<Rich>,
    /// Upgrade practice (general advice).
    pub practice: Vec<Rich>,
    /// The evidence index.
    pub evidence: Vec<EvLine>,
    /// Timeline chart.
    pub chart: Chart,
    /// Causal graph.
    pub graph: Graph,
}

struct Ctx<'a> {
    a: &'a Analysis,
    pack: &'a Pack,
    lang: Lang,
    cat: &'static Catalog,
    clock: Clock,
    idx: Index,
    by_id: HashMap<&'a str, &'a Finding>,
}

impl<'a> Ctx<'a> {
    fn title(&self, signature: &str) -> String {
        match self.pack.get(signature) {
            Some(s) => s.title.get(self.lang).to_string(),
            None => signature.to_string(),
        }
    }

    fn finding_title(&self, id: &str) -> String {
        match self.by_id.get(id) {
            Some(f) => self.title(&f.signature),
            None => id.to_string(),
        }
    }

    fn at(&self, f: &Finding) -> f64 {
        f.first.as_deref().and_then(epoch).unwrap_or(f64::MAX)
    }

    fn time(&self, t: Option<&str>) -> String {
        t.map(|t| self.clock.show(t)).unwrap_or_else(|| "?".into())
    }

    /// `×21 over 2 min`, or nothing for a single hit.
    fn repeats(&self, f: &Finding) -> String {
        if f.count <= 1 {
            return String::new();
        }
        let span = match (f.first.as_deref().and_then(epoch), f.last.as_deref().and_then(epoch)) {
            (Some(a), Some(b)) => (b - a).abs(),
            _ => 0.0,
        };
        repeats(self.cat, f.count, span, self.lang)
    }

    /// The first and the last line of a finding.
    fn refs(&self, f: &Finding, most: usize) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::new();
        let n = f.evidence.len();
        let picks: Vec<usize> = if n <= most { (0..n).collect() } else { (0..most - 1).chain([n - 1]).collect() };
        for i in picks {
            if let Some(k) = self.idx.number(&f.evidence[i]) {
                if !v.contains(&k) {
                    v.push(k);
                }
            }
        }
        v
    }

    /// A finding in one line: `**time** title (entities) ×n over d`.
    fn item(&self, f: &Finding) -> Rich {
        let mut r = Rich::default();
        r.0.push(Span::Strong(self.time(f.first.as_deref())));
        r.text(" ");
        r.text(&self.title(&f.signature));
        let ents = entities_brief(&f.entities);
        if !ents.is_empty() {
            r.text(" (");
            r.0.push(Span::Code(ents));
            r.text(")");
        }
        let rep = self.repeats(f);
        if !rep.is_empty() {
            r.text(" ");
            r.text(&rep);
        }
        r.text(" ");
        r.refs(&self.refs(f, 2));
        r
    }

    /// One link as a sentence with its evidence.
    fn link_sentence(&self, l: &ChainLink) -> Rich {
        let c = self.cat;
        let delay = match l.delay_secs {
            Some(d) if d.abs() < 1.0 => c.same_moment.to_string(),
            Some(d) if d < 0.0 => fill(c.earlier, &[&duration(d, self.lang)]),
            Some(d) => fill(c.later, &[&duration(d, self.lang)]),
            None => String::new(),
        };
        let ties = if l.via.is_empty() {
            let shared: Vec<String> = l.entities.iter().map(|e| format!("`{}`", short_value(e))).collect();
            fill(c.tie_shared, &[&shared.join(", ")])
        } else {
            let steps: Vec<String> = l
                .via
                .iter()
                .map(|e| {
                    format!("`{}={}` ~ `{}={}`", e.a.kind, short_value(&e.a.value), e.b.kind, short_value(&e.b.value))
                })
                .collect();
            fill(c.tie_via, &[&steps.join(", ")])
        };
        let s = fill(
            c.link_sentence,
            &[
                &format!("**{}**", self.finding_title(&l.effect)),
                &format!("**{}**", self.finding_title(&l.cause)),
                &delay,
                &l.link,
                &format!("{:.2}", l.prior),
                &ties,
            ],
        );
        let mut r = Rich::parse(&s);
        r.text(" ");
        let mut refs: Vec<usize> = l.evidence.iter().filter_map(|e| self.idx.number(e)).collect();
        for e in &l.via {
            if let Some(n) = e.evidence.as_ref().and_then(|e| self.idx.number(e)) {
                refs.push(n);
            }
        }
        let mut seen = BTreeSet::new();
        refs.retain(|n| seen.insert(*n));
        r.refs(&refs);
        r
    }
}

/// `×21 over 2 min`; `×2` when the repeats share one moment.
fn repeats(cat: &Catalog, n: u64, span: f64, lang: Lang) -> String {
    if span < 1.0 {
        format!("×{n}")
    } else {
        fill(cat.repeats, &[&n.to_string(), &duration(span, lang)])
    }
}

/// A long entity value shortened for prose (`753ac7cfab3c…`); the full value is in the evidence.
fn short_value(v: &str) -> String {
    if v.chars().count() > 24 {
        format!("{}…", v.chars().take(12).collect::<String>())
    } else {
        v.to_string()
    }
}

/// `map=mpathb, dm=dm-21, disk=sds,sdt` with long values shortened and at most four kinds.
pub fn entities_brief(e: &BTreeMap<String, Vec<String>>) -> String {
    const ORDER: [&str; 14] = [
        "map",
        "dm",
        "devt",
        "disk",
        "path",
        "volume",
        "instance",
        "domain",
        "pod",
        "container",
        "comm",
        "pid",
        "probe",
        "image",
    ];
    let mut parts = Vec::new();
    let mut kinds: Vec<&String> = e.keys().collect();
    kinds.sort_by_key(|k| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    for k in kinds {
        if parts.len() == 4 {
            break;
        }
        let vals: Vec<String> = e[k]
            .iter()
            .take(3)
            .map(|v| {
                if v.chars().count() > 24 {
                    format!("{}…", v.chars().take(12).collect::<String>())
                } else {
                    v.clone()
                }
            })
            .collect();
        if !vals.is_empty() {
            parts.push(format!("{k}={}", vals.join(",")));
        }
    }
    parts.join(" ")
}

/// Basename of an evidence path (`archive!member` keeps the member).
fn source_of(path: &str) -> String {
    let p = path.rsplit('!').next().unwrap_or(path);
    let base = p.rsplit('/').next().unwrap_or(p);
    if base.chars().count() > 40 {
        format!("{}…", base.chars().take(38).collect::<String>())
    } else {
        base.to_string()
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 5,
        "error" => 4,
        "warning" => 3,
        "notice" => 2,
        "info" => 1,
        _ => 0,
    }
}

/// The layer a rule family belongs to (for the per-layer line of the classification).
fn layer(cat: &Catalog, family: &str) -> &'static str {
    match family {
        "multipath" | "block" | "scsi" | "iscsi" | "fc" | "nfs" | "ceph" | "fs" | "cinder" => cat.l_storage,
        "kernel" | "process" => cat.l_process,
        "k8s" => cat.l_k8s,
        "libvirt" | "qemu" | "nova" | "openstack" => cat.l_virt,
        "net" => cat.l_network,
        "upgrade" => cat.l_change,
        _ => cat.l_other,
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Builds the report of an analysis in `lang`.
pub fn build<'a>(a: &'a Analysis, pack: &Pack, lang: Lang) -> Report {
    let cat = catalog::get(lang);
    let ctx = Ctx {
        a,
        pack,
        lang,
        cat,
        clock: Clock::pick(a),
        idx: Index::collect(a),
        by_id: a.findings.iter().map(|f| (f.id.as_str(), f)).collect(),
    };
    let inc = if a.verdict == "no_incident" { None } else { a.incidents.first() };
    let host = inc.and_then(|i| i.host.clone()).or_else(|| a.hosts.first().cloned()).unwrap_or_else(|| "?".into());
    let title = match inc {
        Some(i) => fill(cat.title, &[&host, &ctx.title(&i.root_cause.signature)]),
        None => fill(cat.title_none, &[&a.hosts.join(", ")]),
    };
    let byline = fill(cat.byline, &[&a.inputs.files.to_string(), &ctx.clock.zone()]);
    let mut r = Report {
        lang,
        cat,
        clock: ctx.clock,
        title,
        byline,
        verdict: a.verdict.clone(),
        confidence: inc.map(|i| i.root_cause.confidence),
        summary: Vec::new(),
        phases: Vec::new(),
        overview: Vec::new(),
        symptoms: Vec::new(),
        timeline: timeline(&ctx, inc),
        root: Vec::new(),
        contributing: Vec::new(),
        alternatives: Vec::new(),
        open: Vec::new(),
        peers: None,
        seen: a.seen_before.as_ref().map(|s| {
            s.matches
                .iter()
                .map(|m| Seen {
                    case: m.case,
                    title: m.title.clone(),
                    score: format!("{:.2}", m.score),
                    reasons: m.reasons.clone(),
                    resolution: m.resolution.clone(),
                })
                .collect()
        }),
        classes: Vec::new(),
        class_notes: Vec::new(),
        recovery: Vec::new(),
        prevention: Vec::new(),
        practice: Vec::new(),
        evidence: Vec::new(),
        chart: chart(&ctx, inc),
        graph: Graph::default(),
    };
    match inc {
        Some(i) => incident_sections(&ctx, i, &host, &mut r),
        None => {
            let inp = &a.inputs;
            let basis = rootline_correlate::text::no_incident_basis(
                inp.events,
                inp.first.as_deref(),
                inp.last.as_deref(),
                &a.hosts,
                lang,
            );
            // Host names and times are data: plain text, never markup.
            let mut p = Rich::default();
            p.text(&fill(cat.sum_none, &[&basis]));
            r.summary.push(p);
        }
    }
    let pairs = |v: &'a [crate::model::InputNote]| v.iter().map(|n| (n.path.as_str(), n.reason.as_str()));
    let inp = &a.inputs;
    if let Some(note) = rootline_correlate::text::inputs_note(
        pairs(&inp.skipped),
        pairs(&inp.warnings),
        inp.cut_lines,
        inp.max_line,
        lang,
    ) {
        let mut p = Rich::default();
        p.text(&fill(cat.sum_inputs, &[&note]));
        r.summary.push(p);
    }
    if let Some(w) = &a.why_only_this_node {
        r.peers = Some(peers(&ctx, w));
    }
    r.evidence = ctx.idx.lines.clone();
    r
}

/// The "why only this node" section from the analysis's fleet comparison.
fn peers(ctx: &Ctx, w: &WhyOnlyThisNode) -> Peers {
    let cat = ctx.cat;
    let mut p = Peers::default();
    let host = w.host.clone().or_else(|| ctx.a.hosts.first().cloned()).unwrap_or_else(|| "?".into());
    let nodes = w.nodes.max(1);
    p.intro.push(Rich::parse(&fill(
        cat.peers_intro,
        &[&format!("`{host}`"), &(nodes - 1).to_string(), &nodes.to_string()],
    )));
    if let Some(win) = &w.window {
        let s = fill(cat.peers_window, &[&ctx.time(win.since.as_deref()), &ctx.time(win.until.as_deref()), &win.how]);
        // `how` is the comparison's own sentence (data): taken as plain text, never as markup.
        let mut r = Rich::default();
        r.text(&s);
        p.intro.push(r);
    }
    let refs = |f: &PeerFact| -> Vec<usize> {
        let mut v: Vec<usize> = Vec::new();
        for n in f.evidence.iter().filter_map(|e| ctx.idx.number(e)) {
            if !v.contains(&n) && v.len() < 3 {
                v.push(n);
            }
        }
        v
    };
    let fact = |f: &PeerFact| -> Rich {
        let mut r = Rich::default();
        match f.kind.as_str() {
            "signature" => {
                r.0.push(Span::Strong(ctx.title(&f.what)));
                r.text(" (");
                r.0.push(Span::Code(f.what.clone()));
                r.text(")");
            }
            k => {
                let label = match k {
                    "template" => cat.pk_template,
                    "version" => cat.pk_version,
                    "timing" => cat.pk_timing,
                    other => other,
                };
                r.text(label);
                r.text(" ");
                r.0.push(Span::Code(crate::markdown::clip(&f.what, 160)));
            }
        }
        r.text(": ");
        r.text(&fill(cat.peers_seen, &[&f.seen_on.to_string(), &f.of.to_string()]));
        if let Some(n) = f.note.as_deref().filter(|n| !n.is_empty()) {
            r.text(" (");
            r.text(n);
            r.text(")");
        }
        r.text(" ");
        r.refs(&refs(f));
        r
    };
    // Faults and symptoms first, then templates, each in the comparison's order.
    let mut only: Vec<&PeerFact> = w.only_here.iter().filter(|f| f.kind == "signature").collect();
    only.extend(w.only_here.iter().filter(|f| f.kind != "signature"));
    p.only_here = only.into_iter().map(fact).collect();
    if p.only_here.is_empty() {
        p.only_here.push(Rich::parse(cat.peers_only_none));
    }
    p.shared = w.shared.iter().map(fact).collect();
    if p.shared.is_empty() {
        p.shared.push(Rich::parse(cat.peers_shared_none));
    }
    p.differences = w.differences.iter().map(|f| fact(f).tagged(Tag::Hypothesis)).collect();
    if p.differences.is_empty() {
        p.differences.push(Rich::parse(cat.peers_diff_none));
    }
    for l in &w.lowered {
        let mut r = Rich::default();
        match l.split_once(": ") {
            Some((id, why)) if !id.contains(' ') => {
                r.0.push(Span::Code(id.to_string()));
                r.text(": ");
                r.text(why);
                if let Some(f) = ctx.by_id.get(id) {
                    r.text(" ");
                    r.refs(&ctx.refs(f, 1));
                }
            }
            _ => {
                r.text(l);
            }
        }
        p.lowered.push(r);
    }
    if p.lowered.is_empty() {
        p.lowered.push(Rich::parse(cat.peers_lowered_none));
    }
    p
}

/// Findings of the incident's phases, by the chain's shape.
struct Shape<'a> {
    /// The decisive incoming link of each effect.
    decisive: BTreeMap<&'a str, &'a ChainLink>,
    /// Root cause, its onset and everything upstream of it.
    upstream: BTreeSet<&'a str>,
    /// Distance from the upstream set along links (downstream of the root cause only).
    downstream: BTreeMap<&'a str, usize>,
}

fn shape<'a>(inc: &'a Incident) -> Shape<'a> {
    let root = inc.root_cause.finding.as_str();
    let mut decisive: BTreeMap<&str, &ChainLink> = BTreeMap::new();
    // The analysis says which link it draws for each effect; older analyses did not.
    for l in inc.chain.iter().filter(|l| l.decisive) {
        decisive.insert(l.effect.as_str(), l);
    }
    let flagged = !decisive.is_empty();
    for l in inc.chain.iter().filter(|_| !flagged) {
        let better = match decisive.get(l.effect.as_str()) {
            None => true,
            Some(cur) => {
                let key = |x: &ChainLink| (x.prior, x.cause == root, -(x.delay_secs.unwrap_or(0.0)));
                key(l).partial_cmp(&key(cur)) == Some(std::cmp::Ordering::Greater)
            }
        };
        if better {
            decisive.insert(l.effect.as_str(), l);
        }
    }
    let mut upstream: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = vec![root];
    stack.extend(inc.root_cause.onset.iter().map(|s| s.as_str()));
    while let Some(x) = stack.pop() {
        if upstream.insert(x) {
            for l in inc.chain.iter().filter(|l| l.effect == x) {
                stack.push(l.cause.as_str());
            }
        }
    }
    // Downstream of the root cause only: what the fault caused, by distance.
    let mut downstream: BTreeMap<&str, usize> = BTreeMap::new();
    let mut frontier: Vec<&str> = vec![root];
    let mut d = 0;
    while !frontier.is_empty() && d < 64 {
        d += 1;
        let mut next = Vec::new();
        for x in frontier {
            for l in inc.chain.iter().filter(|l| l.cause == x) {
                let e = l.effect.as_str();
                if !upstream.contains(e) && !downstream.contains_key(e) {
                    downstream.insert(e, d);
                    next.push(e);
                }
            }
        }
        frontier = next;
    }
    Shape { decisive, upstream, downstream }
}

/// Context after the first fault that shows what was done: recovery findings, and changes after the
/// start (a container started inside the restart loop is part of the loop, not a recovery).
fn after_fault<'a>(ctx: &Ctx<'a>, inc: &Incident) -> Vec<&'a Finding> {
    let start = inc.start.as_deref().and_then(epoch).unwrap_or(f64::MIN);
    let end = inc.end.as_deref().and_then(epoch).unwrap_or(f64::MAX);
    let mut v: Vec<&Finding> = ctx
        .a
        .findings
        .iter()
        .filter(|f| f.host == inc.host && !inc.findings.contains(&f.id))
        .filter(|f| {
            let t = ctx.at(f);
            match f.kind.as_str() {
                // A recovery before the first fault (the boot that starts the evidence) is not one.
                "recovery" => t >= start,
                "context" => t > start && !(f.signature == "k8s.container-started" && t <= end),
                _ => false,
            }
        })
        .collect();
    v.sort_by(|x, y| ctx.at(x).total_cmp(&ctx.at(y)).then(x.id.cmp(&y.id)));
    v
}

fn range_of(ctx: &Ctx, fs: &[&Finding]) -> String {
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for f in fs {
        for t in [&f.first, &f.last].into_iter().flatten() {
            if let Some(e) = epoch(t) {
                lo = lo.min(e);
                hi = hi.max(e);
            }
        }
    }
    if lo > hi {
        return String::new();
    }
    if (hi - lo) < 1.0 {
        ctx.clock.short(lo)
    } else if ctx.clock.short(lo)[..5] == ctx.clock.short(hi)[..5] {
        format!("{} ~ {}", ctx.clock.short(lo), ctx.clock.hm(hi))
    } else {
        format!("{} ~ {}", ctx.clock.day_hm(lo), ctx.clock.day_hm(hi))
    }
}

fn incident_sections(ctx: &Ctx, inc: &Incident, host: &str, r: &mut Report) {
    let cat = ctx.cat;
    let a = ctx.a;
    let rc = &inc.root_cause;
    let sh = shape(inc);
    let mut members: Vec<&Finding> = inc.findings.iter().filter_map(|id| ctx.by_id.get(id.as_str()).copied()).collect();
    members.sort_by(|x, y| ctx.at(x).total_cmp(&ctx.at(y)).then(x.id.cmp(&y.id)));
    let root_f = ctx.by_id.get(rc.finding.as_str()).copied();
    let rc_refs: Vec<usize> = rc.evidence.iter().filter_map(|e| ctx.idx.number(e)).collect();
    let conf = format!("{:.2}", rc.confidence);
    let since = root_f.map(|f| ctx.time(f.first.as_deref())).unwrap_or_default();
    let root_title = ctx.title(&rc.signature);

    // Summary.
    let found = a.verdict == "root_cause_found";
    if found {
        let s = fill(
            cat.sum_root,
            &[
                &format!("`{host}`"),
                &format!("**{root_title}**"),
                &format!("`{}`", entities_brief(&rc.entities)),
                &since,
                &conf,
                cat.verdict(&a.verdict),
            ],
        );
        let mut p = Rich::parse(&s);
        p.text(" ");
        p.refs(&rc_refs);
        r.summary.push(p);
    } else {
        let s = fill(cat.sum_uncertain, &[&format!("`{host}`"), &format!("**{root_title}**"), &conf]);
        let mut p = Rich::parse(&s).tagged(Tag::Hypothesis);
        p.text(" ");
        p.refs(&rc_refs);
        r.summary.push(p);
    }
    if !inc.chain.is_empty() {
        let explained = sh.upstream.len() + sh.downstream.len();
        let mut down: Vec<(&str, usize)> = sh.downstream.iter().map(|(k, v)| (*k, *v)).collect();
        // In the chain's order when the analysis gives it (the order the text draws), else by
        // distance from the root cause and time.
        let pos = |id: &str| inc.order.iter().position(|o| o == id).unwrap_or(usize::MAX);
        down.sort_by(|x, y| {
            let tx = ctx.by_id.get(x.0).map(|f| ctx.at(f)).unwrap_or(f64::MAX);
            let ty = ctx.by_id.get(y.0).map(|f| ctx.at(f)).unwrap_or(f64::MAX);
            pos(x.0).cmp(&pos(y.0)).then(x.1.cmp(&y.1)).then(tx.total_cmp(&ty))
        });
        let mut path: Vec<String> = vec![root_title.clone()];
        for (id, _) in down {
            let t = ctx.finding_title(id);
            if !path.contains(&t) && path.len() < 6 {
                path.push(t);
            }
        }
        let s = fill(
            cat.sum_chain,
            &[
                &explained.min(inc.findings.len()).to_string(),
                &inc.findings.len().to_string(),
                &inc.chain.len().to_string(),
                &path.join(" → "),
            ],
        );
        r.summary.push(Rich::parse(&s));
    }
    if !inc.context.is_empty() {
        let list: Vec<String> = inc.context.iter().map(|c| c.summary.clone()).collect();
        let mut p = Rich::parse(&fill(cat.sum_context, &[&list.join("; ")])).tagged(Tag::Context);
        p.text(" ");
        let refs: Vec<usize> =
            inc.context.iter().filter_map(|c| c.evidence.as_ref().and_then(|e| ctx.idx.number(e))).collect();
        p.refs(&refs);
        r.summary.push(p);
    }

    // Phases.
    let phase_of = |id: &str| -> usize {
        if sh.upstream.contains(id) {
            1
        } else {
            match sh.downstream.get(id) {
                Some(1) => 2,
                Some(_) => 3,
                None => 1,
            }
        }
    };
    let after = after_fault(ctx, inc);
    let mut groups: Vec<Vec<&Finding>> = vec![Vec::new(); 5];
    for c in &inc.context {
        if let Some(f) = ctx.by_id.get(c.finding.as_str()) {
            groups[0].push(f);
        }
    }
    for f in &members {
        groups[phase_of(&f.id)].push(f);
    }
    groups[4] = after.clone();
    let titles = [
        cat.p_before.to_string(),
        fill(cat.p_fault, &[&root_title]),
        cat.p_direct.to_string(),
        cat.p_spread.to_string(),
        cat.p_after.to_string(),
    ];
    for (pi, fs) in groups.iter().enumerate() {
        if fs.is_empty() {
            continue;
        }
        let mut ph = Phase {
            title: titles[pi].clone(),
            range: range_of(ctx, fs),
            what: fs.iter().map(|f| ctx.item(f)).collect(),
            why: Vec::new(),
            next: Vec::new(),
            excerpts: {
                let mut v: Vec<usize> =
                    fs.iter().filter_map(|f| f.evidence.first().and_then(|e| ctx.idx.number(e))).collect();
                let mut seen = BTreeSet::new();
                v.retain(|n| seen.insert(*n));
                v
            },
        };
        match pi {
            0 => ph.why.push(Rich::parse(cat.p_why_before).tagged(Tag::Context)),
            4 => ph.why.push(Rich::parse(cat.p_why_after)),
            _ => {
                if pi == 1 {
                    if let Some(sig) = ctx.pack.get(&rc.signature) {
                        ph.why.push(Rich::parse(sig.doc.matters.get(ctx.lang).trim()));
                    }
                }
                for f in fs {
                    if let Some(l) = sh.decisive.get(f.id.as_str()) {
                        ph.why.push(ctx.link_sentence(l));
                    }
                }
            }
        }
        if (1..=3).contains(&pi) {
            for f in &members {
                if let Some(l) = sh.decisive.get(f.id.as_str()) {
                    if fs.iter().any(|x| x.id == l.cause) && phase_of(&f.id) > pi {
                        ph.next.push(ctx.link_sentence(l));
                    }
                }
            }
            if ph.next.is_empty() && pi < 3 {
                ph.next.push(Rich::parse(cat.p_next_none));
            }
        }
        r.phases.push(ph);
    }

    // Overview.
    let ev_lo = a.findings.iter().filter_map(|f| f.first.as_deref().and_then(epoch)).fold(f64::MAX, f64::min);
    let ev_hi = a.findings.iter().filter_map(|f| f.last.as_deref().and_then(epoch)).fold(f64::MIN, f64::max);
    let (inc_lo, inc_hi) = members.iter().fold((f64::MAX, f64::MIN), |(lo, hi), f| {
        let a0 = f.first.as_deref().and_then(epoch).unwrap_or(lo);
        let b0 = f.last.as_deref().and_then(epoch).unwrap_or(hi);
        (lo.min(a0), hi.max(b0))
    });
    let show = |x: f64| if x == f64::MAX || x == f64::MIN { "?".to_string() } else { ctx.clock.full(x) };
    r.overview.push((
        cat.o_window.into(),
        Rich::parse(&fill(cat.o_window_v, &[&show(inc_lo), &show(inc_hi), &show(ev_lo), &show(ev_hi)])),
    ));
    let (classes, notes, layers_line) = classify(ctx, &members);
    let mut typ = Rich::default();
    typ.text(&root_title);
    if !layers_line.is_empty() {
        typ.text(" · ");
        typ.text(&layers_line);
    }
    r.overview.push((cat.o_type.into(), typ));
    let with_findings: BTreeSet<&str> = a.findings.iter().filter_map(|f| f.host.as_deref()).collect();
    let scope = if let Some(w) = &a.why_only_this_node {
        // The fleet comparison: on how many of the nodes compared the root cause was seen.
        let seen = w.facts().find(|f| f.kind == "signature" && f.what == rc.signature).map(|f| f.seen_on);
        let me = w.host.as_deref().unwrap_or(host);
        match seen {
            Some(k) => fill(
                cat.o_scope_peers,
                &[&format!("`{me}`"), &k.to_string(), &w.nodes.to_string(), &format!("`{}`", rc.signature)],
            ),
            None => fill(cat.o_scope_peers_plain, &[&format!("`{me}`"), &w.nodes.to_string()]),
        }
    } else if a.hosts.len() <= 1 {
        fill(cat.o_scope_one, &[&format!("`{host}`")])
    } else {
        let names: Vec<String> = with_findings.iter().map(|h| format!("`{h}`")).collect();
        fill(cat.o_scope_many, &[&with_findings.len().to_string(), &a.hosts.len().to_string(), &names.join(", ")])
    };
    r.overview.push((cat.o_scope.into(), Rich::parse(&scope)));
    let sev = members.iter().map(|f| f.severity.as_str()).max_by_key(|s| severity_rank(s)).unwrap_or("-");
    r.overview.push((
        cat.o_severity.into(),
        Rich::parse(&fill(cat.o_severity_v, &[&format!("`{sev}`"), cat.verdict(&a.verdict), &conf])),
    ));
    let first = members.iter().find(|f| f.kind == "symptom").or_else(|| members.first());
    if let Some(f) = first {
        r.overview.push((cat.o_first.into(), ctx.item(f)));
    }
    r.overview.push((cat.o_impact.into(), impact(ctx, inc, &members)));
    r.overview.push((
        cat.o_read.into(),
        Rich::parse(&fill(
            cat.o_read_v,
            &[
                &a.inputs.files.to_string(),
                &a.inputs.lines.to_string(),
                &a.inputs.events.to_string(),
                &(a.findings.len() + a.omitted.as_ref().map_or(0, |m| m.findings)).to_string(),
            ],
        )),
    ));
    r.overview.push((cat.o_zone.into(), Rich::parse(&fill(cat.o_zone_v, &[&ctx.clock.zone()]))));

    // Symptoms: one per rule, in order of first appearance.
    let mut seen: Vec<&str> = Vec::new();
    for f in members.iter().filter(|f| f.kind == "symptom" || f.kind == "fault") {
        if seen.contains(&f.signature.as_str()) {
            continue;
        }
        seen.push(&f.signature);
        let same: Vec<&&Finding> = members.iter().filter(|x| x.signature == f.signature).collect();
        let hits: u64 = same.iter().map(|x| x.count).sum();
        let mut refs = Vec::new();
        for x in &same {
            for n in ctx.refs(x, 2) {
                if !refs.contains(&n) && refs.len() < 4 {
                    refs.push(n);
                }
            }
        }
        let when = if hits > 1 {
            format!("{} · ×{hits}", range_of(ctx, &same.iter().map(|x| **x).collect::<Vec<_>>()))
        } else {
            ctx.time(f.first.as_deref())
        };
        r.symptoms.push(Symptom {
            title: ctx.title(&f.signature),
            signature: f.signature.clone(),
            summary: ctx.pack.get(&f.signature).map(|s| s.summary.get(ctx.lang).trim().to_string()).unwrap_or_default(),
            when,
            refs,
        });
    }

    // Root cause.
    let mut p = Rich::parse(&rc.summary).tagged(if found { Tag::Root } else { Tag::Hypothesis });
    p.text(&format!(" ({} {conf}) ", cat.confidence));
    p.refs(&rc_refs);
    r.root.push(p);
    if let Some(sig) = ctx.pack.get(&rc.signature) {
        let mut m = Rich::default();
        m.0.push(Span::Strong(format!("{}:", cat.rc_matters)));
        m.text(" ");
        m.0.extend(Rich::parse(sig.doc.matters.get(ctx.lang).trim()).0);
        r.root.push(m);
        if sig.fallback {
            r.root.push(Rich::parse(cat.rc_fallback).tagged(Tag::Hypothesis));
        }
    }

    // Contributing factors: the changes just before, context only.
    for c in &inc.context {
        let d = c.before_first_fault_secs.unwrap_or(0.0);
        let tmpl = if d >= 0.0 { cat.change_before } else { cat.change_after };
        let mut p = Rich::default().tagged(Tag::Context);
        p.0.push(Span::Strong(ctx.time(c.time.as_deref())));
        p.text(" ");
        p.0.extend(Rich::parse(&fill(tmpl, &[&c.summary, &duration(d, ctx.lang)])).0);
        p.text(" ");
        if let Some(n) = c.evidence.as_ref().and_then(|e| ctx.idx.number(e)) {
            p.refs(&[n]);
        }
        r.contributing.push(p);
    }
    if r.contributing.is_empty() {
        r.contributing.push(Rich::parse(cat.contributing_none));
    }

    // Alternatives.
    for alt in &inc.alternatives {
        let s = fill(cat.alt_item, &[&format!("`{}`", alt.signature), &format!("{:.2}", alt.confidence), &alt.why_not]);
        let mut p = Rich::parse(&s);
        if let Some(f) = ctx.by_id.get(alt.finding.as_str()) {
            p.text(" ");
            p.refs(&ctx.refs(f, 1));
        }
        r.alternatives.push(p);
    }
    if r.alternatives.is_empty() {
        r.alternatives.push(Rich::parse(cat.alt_none));
    }

    // Open questions: links not made (hypotheses), unexplained findings, other incidents, peers.
    let involved: BTreeSet<&str> = inc.findings.iter().map(|s| s.as_str()).collect();
    for rj in &a.rejected_links {
        if involved.contains(rj.cause.as_str()) || involved.contains(rj.effect.as_str()) {
            let s = fill(
                cat.open_rejected,
                &[&format!("`{}`", rj.cause), &format!("`{}`", rj.effect), &rj.link, &rj.reason],
            );
            r.open.push(Rich::parse(&s).tagged(Tag::Hypothesis));
        }
    }
    for u in &inc.unknown {
        if u.starts_with("hypothesis only:") || u.starts_with("why only this host") {
            continue;
        }
        match u.strip_suffix(" is in this incident but not explained by the root cause") {
            Some(id) => r.open.push(Rich::parse(&fill(cat.open_unexplained, &[&format!("`{id}`")]))),
            None => r.open.push(Rich::parse(u)),
        }
    }
    for other in a.incidents.iter().skip(1) {
        let s = fill(
            cat.open_other_incident,
            &[
                &format!("**{}** (`{}`)", ctx.title(&other.root_cause.signature), other.root_cause.finding),
                &ctx.time(other.start.as_deref()),
                &format!("{:.2}", other.root_cause.confidence),
            ],
        );
        let mut p = Rich::parse(&s);
        p.text(" ");
        if let Some(f) = ctx.by_id.get(other.root_cause.finding.as_str()) {
            p.refs(&ctx.refs(f, 1));
        }
        r.open.push(p);
    }
    if let Some(m) = a.omitted.as_ref().filter(|m| m.incidents > 0) {
        r.open.push(Rich::parse(&fill(cat.open_more_incidents, &[&m.incidents.to_string()])));
    }
    if a.why_only_this_node.is_some() {
        r.open.push(Rich::parse(cat.open_only_host_peers));
    } else if a.hosts.len() <= 1 {
        r.open.push(Rich::parse(cat.open_only_host));
    }

    // Classification.
    r.classes = classes;
    r.class_notes = notes;

    // Recovery.
    if after.is_empty() {
        r.recovery.push(Rich::parse(cat.r_none));
    } else {
        for f in &after {
            r.recovery.push(ctx.item(f));
        }
    }
    let root_maps = rc.entities.get("map").cloned().unwrap_or_default();
    for m in &root_maps {
        let cleared = after.iter().any(|f| f.has_entity("map", m));
        if !cleared {
            let last = root_f.and_then(|f| f.last.as_deref()).map(|t| ctx.clock.show(t)).unwrap_or_default();
            let mut p = Rich::parse(&fill(cat.r_not_cleared, &[&format!("`{m}`"), &last]));
            p.text(" ");
            if let Some(f) = root_f {
                p.refs(&ctx.refs(f, 1).into_iter().rev().take(1).collect::<Vec<_>>());
            }
            r.recovery.push(p);
        }
    }
    if !after.is_empty() {
        r.recovery.push(Rich::parse(cat.r_note));
    }

    // Prevention: next steps of the root cause's rule first, then of every fault and symptom rule.
    let mut order: Vec<&str> = vec![rc.signature.as_str()];
    for f in &members {
        if (f.kind == "fault" || f.kind == "symptom") && !order.contains(&f.signature.as_str()) {
            order.push(&f.signature);
        }
    }
    let mut advice: Vec<(String, Vec<String>)> = Vec::new();
    for sig in &order {
        let Some(s) = ctx.pack.get(sig) else { continue };
        let text = s.doc.next_steps.get(ctx.lang).trim().to_string();
        if text.is_empty() {
            continue;
        }
        match advice.iter_mut().find(|(t, _)| *t == text) {
            Some((_, from)) => from.push(s.title.get(ctx.lang).to_string()),
            None => advice.push((text, vec![s.title.get(ctx.lang).to_string()])),
        }
    }
    for (text, from) in advice {
        let mut p = Rich::parse(&text);
        p.text(" — ");
        p.0.push(Span::Strong(format!("{}:", cat.pv_from)));
        p.text(" ");
        p.text(&from.join(", "));
        r.prevention.push(p);
    }
    let upgrade = inc
        .context
        .iter()
        .chain(&a.changes)
        .any(|c| c.signature.starts_with("upgrade.") || c.signature == "k8s.image-pulled");
    if upgrade {
        r.practice.push(Rich::parse(cat.pv_check));
        r.practice.push(Rich::parse(cat.pv_canary));
        let signals: Vec<String> = order.iter().take(8).map(|s| format!("`{s}`")).collect();
        r.practice.push(Rich::parse(&fill(cat.pv_monitor, &[&signals.join(", ")])));
    }

    r.graph = graph(ctx, inc, &sh);
    let _ = layers_line;
}

/// Per-family shares of the incident's fault and symptom findings; the method; the per-layer line.
fn classify(ctx: &Ctx, members: &[&Finding]) -> (Vec<ClassRow>, Vec<String>, String) {
    let cat = ctx.cat;
    let counted: Vec<&&Finding> = members.iter().filter(|f| f.kind == "fault" || f.kind == "symptom").collect();
    let total = counted.len();
    if total == 0 {
        return (Vec::new(), vec![cat.c_none.to_string()], String::new());
    }
    let mut fam: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for f in &counted {
        let family = f.signature.split('.').next().unwrap_or("").to_string();
        let e = fam.entry(family).or_default();
        e.0 += 1;
        e.1 += f.count;
    }
    let mut rows: Vec<ClassRow> = fam
        .into_iter()
        .map(|(family, (n, hits))| ClassRow {
            layer: layer(cat, &family).to_string(),
            family,
            findings: n,
            hits,
            share: n as f64 / total as f64,
        })
        .collect();
    rows.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.family.cmp(&b.family)));
    let mut layers: Vec<(String, usize)> = Vec::new();
    for r in &rows {
        match layers.iter_mut().find(|(l, _)| *l == r.layer) {
            Some(x) => x.1 += r.findings,
            None => layers.push((r.layer.clone(), r.findings)),
        }
    }
    layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let line: Vec<String> = layers.iter().map(|(l, n)| format!("{l} {}", pct(*n as f64 / total as f64))).collect();
    let line = line.join(", ");
    let notes = vec![fill(cat.c_method, &[&total.to_string()]), fill(cat.c_by_layer, &[&line])];
    (rows, notes, line)
}

/// Entities the incident names that people care about: volumes, VMs, pods, maps.
fn impact(ctx: &Ctx, inc: &Incident, members: &[&Finding]) -> Rich {
    let cat = ctx.cat;
    let mut kinds: Vec<(&str, &str, BTreeSet<String>)> = vec![
        ("volume", cat.e_volume, BTreeSet::new()),
        ("instance", cat.e_vm, BTreeSet::new()),
        ("pod", cat.e_pod, BTreeSet::new()),
        ("map", cat.e_map, BTreeSet::new()),
        ("container", cat.e_container, BTreeSet::new()),
    ];
    let mut add = |k: &str, v: &str| {
        let k = if k == "domain" { "instance" } else { k };
        if let Some(x) = kinds.iter_mut().find(|x| x.0 == k) {
            x.2.insert(v.to_string());
        }
    };
    for (k, vs) in &inc.root_cause.entities {
        vs.iter().for_each(|v| add(k, v));
    }
    for f in members {
        for (k, vs) in &f.entities {
            vs.iter().for_each(|v| add(k, v));
        }
    }
    for l in &inc.chain {
        for e in &l.via {
            add(&e.a.kind, &e.a.value);
            add(&e.b.kind, &e.b.value);
        }
    }
    let parts: Vec<String> = kinds
        .iter()
        .filter(|x| !x.2.is_empty())
        .map(|x| format!("{} {}", x.1, x.2.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")))
        .collect();
    if parts.is_empty() {
        Rich::parse(cat.o_impact_none)
    } else {
        Rich::parse(&parts.join("; "))
    }
}

/// Every finding of the incident's host in time order, consecutive repeats of one rule collapsed.
fn timeline(ctx: &Ctx, inc: Option<&Incident>) -> Vec<Row> {
    let host = inc.and_then(|i| i.host.clone());
    let mut fs: Vec<&Finding> = ctx.a.findings.iter().filter(|f| inc.is_none() || f.host == host).collect();
    fs.sort_by(|x, y| ctx.at(x).total_cmp(&ctx.at(y)).then(x.id.cmp(&y.id)));
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in fs {
        match groups.last_mut() {
            Some(g) if g[0].signature == f.signature => g.push(f),
            _ => groups.push(vec![f]),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let f = g[0];
            let hits: u64 = g.iter().map(|x| x.count).sum();
            let mut event = Rich::default();
            event.text(&ctx.title(&f.signature));
            let mut ents: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for x in &g {
                for (k, vs) in &x.entities {
                    let e = ents.entry(k.clone()).or_default();
                    for v in vs {
                        if !e.contains(v) {
                            e.push(v.clone());
                        }
                    }
                }
            }
            let brief = entities_brief(&ents);
            if !brief.is_empty() {
                event.text(" ");
                event.0.push(Span::Code(brief));
            }
            if hits > 1 {
                let lo = g.iter().filter_map(|x| x.first.as_deref().and_then(epoch)).fold(f64::MAX, f64::min);
                let hi = g.iter().filter_map(|x| x.last.as_deref().and_then(epoch)).fold(f64::MIN, f64::max);
                let span = if hi >= lo { hi - lo } else { 0.0 };
                event.text(" ");
                event.text(&repeats(ctx.cat, hits, span, ctx.lang));
            }
            if inc.is_some_and(|i| g.iter().any(|x| x.id == i.root_cause.finding)) {
                event.0.insert(0, Span::Tag(Tag::Root));
            }
            let mut sources: Vec<String> = Vec::new();
            let mut refs: Vec<usize> = Vec::new();
            for x in &g {
                if let Some(e) = x.evidence.first() {
                    let s = source_of(&e.path);
                    if !sources.contains(&s) {
                        sources.push(s);
                    }
                }
                for n in ctx.refs(x, 1) {
                    if !refs.contains(&n) && refs.len() < 3 {
                        refs.push(n);
                    }
                }
            }
            Row { time: ctx.time(f.first.as_deref()), kind: f.kind.clone(), event, source: sources.join(", "), refs }
        })
        .collect()
}

/// The chart's lanes (one per source file, in order of first appearance) and marks.
fn chart(ctx: &Ctx, inc: Option<&Incident>) -> Chart {
    let host = inc.and_then(|i| i.host.clone());
    let root = inc.map(|i| i.root_cause.finding.as_str()).unwrap_or("");
    let mut fs: Vec<&Finding> = ctx.a.findings.iter().filter(|f| inc.is_none() || f.host == host).collect();
    fs.sort_by(|x, y| ctx.at(x).total_cmp(&ctx.at(y)).then(x.id.cmp(&y.id)));
    let mut c = Chart::default();
    for f in fs {
        let Some(e) = f.evidence.first() else { continue };
        let (Some(start), end) = (f.first.as_deref().and_then(epoch), f.last.as_deref().and_then(epoch)) else {
            continue;
        };
        let src = source_of(&e.path);
        let lane = match c.lanes.iter().position(|l| *l == src) {
            Some(i) => i,
            None => {
                c.lanes.push(src);
                c.lanes.len() - 1
            }
        };
        let end = end.unwrap_or(start).max(start);
        let label = format!("{} · {} · {}", ctx.time(f.first.as_deref()), ctx.title(&f.signature), f.id);
        c.marks.push(Mark { lane, start, end, kind: f.kind.clone(), label, ev: ctx.idx.number(e), root: f.id == root });
    }
    c
}

fn graph(ctx: &Ctx, inc: &Incident, sh: &Shape) -> Graph {
    let mut g = Graph::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut node = |g: &mut Graph, id: &str| -> usize {
        if let Some(i) = index.get(id) {
            return *i;
        }
        let f = ctx.by_id.get(id);
        let (sig, kind, sub, at, ev, title) = match f {
            Some(f) => {
                let rep = if f.count > 1 { format!(" ×{}", f.count) } else { String::new() };
                (
                    f.signature.clone(),
                    f.kind.clone(),
                    format!("{}{rep}", ctx.time(f.first.as_deref())),
                    ctx.at(f),
                    f.evidence.first().and_then(|e| ctx.idx.number(e)),
                    format!("{} ({})", ctx.title(&f.signature), entities_brief(&f.entities)),
                )
            }
            None => (id.to_string(), "symptom".into(), String::new(), f64::MAX, None, id.to_string()),
        };
        g.nodes.push(GNode {
            id: id.to_string(),
            signature: sig,
            sub,
            title,
            kind,
            root: id == inc.root_cause.finding,
            ev,
            at,
        });
        index.insert(id.to_string(), g.nodes.len() - 1);
        g.nodes.len() - 1
    };
    node(&mut g, &inc.root_cause.finding);
    for l in &inc.chain {
        let from = node(&mut g, &l.cause);
        let to = node(&mut g, &l.effect);
        let decisive = sh.decisive.get(l.effect.as_str()).is_some_and(|d| std::ptr::eq(*d, l));
        g.edges.push(GEdge { from, to, decisive, hypothesis: false, link: l.link.clone() });
    }
    let involved: BTreeSet<&str> = inc.findings.iter().map(|s| s.as_str()).collect();
    for rj in &ctx.a.rejected_links {
        if involved.contains(rj.cause.as_str()) || involved.contains(rj.effect.as_str()) {
            let from = node(&mut g, &rj.cause);
            let to = node(&mut g, &rj.effect);
            g.edges.push(GEdge { from, to, decisive: false, hypothesis: true, link: rj.link.clone() });
        }
    }
    g
}

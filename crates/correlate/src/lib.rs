//! Correlation: from findings to an evidence-linked causal chain and a ranked root cause.
//!
//! The stages, one file each: [`alias`] (the per-host alias graph learnt from the events, every edge
//! with the line that established it) -> [`chain`] (the link rules' candidate edges, kept only when
//! the alias graph ties the two findings) -> [`incident`] (findings grouped per host by links) ->
//! [`rank`] (root-cause hypotheses, confidence, alternatives, unknowns) and [`upgrade`] (what changed
//! before the first fault) -> [`analysis`] (the `rootline.analysis/v1` document) -> [`text`] (the
//! terminal rendering). A [`Correlator`] is fed events in timeline order, so memory stays flat: it
//! keeps findings and the alias graph, not the events; [`stream`] feeds it a whole merged timeline
//! on two threads ([`Correlator::feed_timeline`]).
//!
//! ```
//! use rootline_event::{Event, Format, Provenance};
//! use rootline_rules::{Engine, Pack};
//! let engine = Engine::new(Pack::builtin().unwrap());
//! let mut c = rootline_correlate::Correlator::new(&engine);
//! let mut ev = Event::new(Format::Syslog, Provenance::new("messages", 1, 0));
//! ev.program = Some("systemd".into());
//! ev.set_message(b"Started Session 4 of user root.");
//! c.feed(&ev);
//! let a = c.finish(&Default::default(), rootline_rules::Lang::En);
//! assert_eq!(a.verdict, rootline_correlate::Verdict::NoIncident);
//! ```

pub mod alias;
pub mod analysis;
pub mod chain;
pub mod incident;
pub mod novelty;
pub mod order;
pub mod peers;
pub mod rank;
pub mod recurrence;
pub mod stream;
pub mod text;
pub mod upgrade;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rootline_event::Event;
use rootline_ingest::Stats;
use rootline_rules::{Engine, Finding, Kind, Lang, Matcher};
use rustc_hash::{FxHashMap, FxHashSet};

pub use analysis::{Analysis, PastCase, SeenBefore, Verdict, SCHEMA, SIMILAR_SCHEMA};

use crate::alias::{HostGraph, Learner, Node};
use crate::analysis::{Alternative, HostAliases, Incident, Inputs, RootCause, Skipped};
use crate::recurrence::Ranked;

/// Feeds events through the rule engine and the alias learner; [`Correlator::finish`] correlates.
pub struct Correlator<'e> {
    engine: &'e Engine,
    matcher: Matcher<'e>,
    learner: Learner,
    novelty: novelty::Novelty,
    hosts: BTreeSet<String>,
    peers: Option<peers::Peers>,
    progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl<'e> Correlator<'e> {
    /// A correlator with no events yet.
    pub fn new(engine: &'e Engine) -> Self {
        Correlator {
            engine,
            matcher: Matcher::new(engine),
            learner: Learner::with_ties(engine.pack().ties.clone()),
            novelty: novelty::Novelty::default(),
            hosts: BTreeSet::new(),
            peers: None,
            progress: None,
        }
    }

    /// Counts the events [`Correlator::feed_timeline`] has fed into `events` as it goes, for a
    /// caller that shows progress from another thread.
    pub fn with_progress(mut self, events: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Self {
        self.progress = Some(events);
        self
    }

    /// Ranks root causes with the peer prevalence of a fleet comparison ([`peers`]) and carries its
    /// "why only this node" facts into the analysis.
    pub fn with_peers(mut self, peers: peers::Peers) -> Self {
        self.peers = Some(peers);
        self
    }

    /// One event, in timeline order.
    pub fn feed(&mut self, ev: &Event) {
        self.note_host(ev);
        let hits = self.matcher.feed(ev);
        self.learner.feed(ev);
        self.novelty.feed(ev, hits > 0);
    }

    fn note_host(&mut self, ev: &Event) {
        if let Some(h) = &ev.host {
            if !self.hosts.contains(&**h) {
                self.hosts.insert(h.to_string());
            }
        }
    }

    /// Like [`Correlator::feed`], for the events a caller keeps of a stream it scanned itself with
    /// [`Engine::scan_ref`] (see [`Correlator::feed_timeline`]): `learn` is [`alias::Gate::wants`] of
    /// the event. The events between the kept ones go to [`Correlator::feed_skipped`], and their
    /// hosts to [`Correlator::note_hosts`].
    pub fn feed_kept(&mut self, ev: &Event, hits: &[rootline_rules::Hit], learn: bool) {
        self.note_host(ev);
        self.matcher.feed_scanned(ev, hits);
        if learn {
            self.learner.feed_wanted(ev);
        }
    }

    /// `events` events, in timeline order, that no rule hit and the alias learner's [`alias::Gate`]
    /// turned down; the last of them with a time had `last_time`.
    pub fn feed_skipped(&mut self, events: u64, last_time: Option<rootline_event::Timestamp>) {
        self.matcher.skip(events, last_time);
    }

    /// Hosts of events fed with [`Correlator::feed_skipped`].
    pub fn note_hosts<'a>(&mut self, hosts: impl IntoIterator<Item = &'a str>) {
        for h in hosts {
            if !self.hosts.contains(h) {
                self.hosts.insert(h.to_string());
            }
        }
    }

    /// Replaces the template statistics with ones the caller gathered (see [`Correlator::feed_timeline`]).
    pub fn set_novelty(&mut self, n: novelty::Novelty) {
        self.novelty = n;
    }

    /// Correlates what was fed; `stats` describes the read.
    pub fn finish(self, stats: &Stats, lang: Lang) -> Analysis {
        self.finish_with(stats, lang, 0)
    }

    /// [`Correlator::finish`], listing at most `max_incidents` incidents (0: every one): the others
    /// are ranked and counted but not built, and the analysis is [`Analysis::limit`]ed to them.
    pub fn finish_with(self, stats: &Stats, lang: Lang, max_incidents: usize) -> Analysis {
        let timing = std::env::var_os("ROOTLINE_DEBUG_TIMING").is_some();
        let t0 = std::time::Instant::now();
        let lap = |what: &str| {
            if timing {
                eprintln!("rootline: correlate {what}: {:.3}s", t0.elapsed().as_secs_f64());
            }
        };
        let pack = self.engine.pack();
        // Signatures by id, the first of an id as a search of the pack finds it.
        let mut sig_of: FxHashMap<&str, &rootline_rules::compile::Signature> = FxHashMap::default();
        for s in &pack.signatures {
            sig_of.entry(s.id.as_str()).or_insert(s);
        }
        let rules = self.matcher.finish();
        lap("findings");
        let episodes = rules.episodes;
        let folded = rules.folded;
        let mut findings = rules.findings;
        for f in &mut findings {
            analysis::zone::finding(f, &stats.zone);
        }
        let mut learner = self.learner;
        for f in &findings {
            if let Some(s) = sig_of.get(f.signature.as_str()) {
                learner.learn_finding(f, &s.group_by);
            }
        }
        let graphs = learner.finish();
        lap("alias graphs");
        let mut novelty = self.novelty;
        novelty.settle();
        let linked = chain::build(pack, &findings, &episodes, &graphs);
        lap("links");
        let groups = incident::group(&findings, &linked.links);
        let changes = upgrade::changes(&findings);
        let empty = HostGraph::default();
        // How many episodes each host had (an incident names its episode only when there were several).
        let mut host_episodes: FxHashMap<&Option<String>, u32> = FxHashMap::default();
        for (f, &e) in findings.iter().zip(&episodes) {
            if matches!(f.kind, Kind::Fault | Kind::Symptom) {
                let n = host_episodes.entry(&f.host).or_default();
                *n = (*n).max(e + 1);
            }
        }
        let pos: FxHashMap<&str, usize> = findings.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        // The rejected links of each finding, as indexes into `linked.rejected` (a candidate is
        // judged once per link rule, so an index names one (cause, effect, link)).
        let mut rejected_of: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (ri, r) in linked.rejected.iter().enumerate() {
            rejected_of.entry(r.cause as usize).or_default().push(ri);
            // A link from a finding to itself is never proposed; skip the second end when equal.
            if r.effect != r.cause {
                rejected_of.entry(r.effect as usize).or_default().push(ri);
            }
        }
        let by_id: FxHashMap<&str, &rootline_rules::Finding> = findings.iter().map(|f| (f.id.as_str(), f)).collect();
        let mut lowered: Vec<String> = Vec::new();
        // Transient storage faults that recovered by themselves (a path that failed and was
        // reinstated seconds later while the map kept serving) are not incidents.
        let mut recovered: Vec<analysis::Recovered> = Vec::new();
        let recoveries = incident::Recoveries::new(&findings);
        let groups: Vec<incident::Group> = groups
            .into_iter()
            .filter(|g| {
                let graph = graphs.get(&g.host).unwrap_or(&empty);
                match incident::recovered_among(&findings, &recoveries, g, graph, RECOVERED_WITHIN) {
                    Some(r) => {
                        recovered.push(analysis::Recovered::new(&findings, g, r));
                        false
                    }
                    None => true,
                }
            })
            .collect();
        // First every incident's rank and what orders it (cheap), then the full incident (its
        // entities, summary, chain order, leads, fingerprint) only for those listed.
        let gather_rejected = |g: &incident::Group| -> Vec<analysis::Rejected> {
            let mut seen_rejected: FxHashSet<usize> = FxHashSet::default();
            let mut rejected: Vec<analysis::Rejected> = Vec::new();
            for m in &g.members {
                for &ri in rejected_of.get(m).map(|v| v.as_slice()).unwrap_or(&[]) {
                    if seen_rejected.insert(ri) {
                        rejected.push(linked.rejected[ri].to_rejected(&findings, pack));
                    }
                }
            }
            rejected
        };
        let mut pending: Vec<Ranked> = Vec::with_capacity(groups.len());
        for (gi, g) in groups.iter().enumerate() {
            // The rejected links only add lines to `unknown`: the order does not depend on them.
            let r = rank::order_with_peers(&findings, &pos, &linked.links, g, self.peers.as_ref());
            for x in &r.lowered {
                if !lowered.contains(x) {
                    lowered.push(x.clone());
                }
            }
            let rf = &findings[r.root];
            let start = g.members.iter().filter_map(|&i| findings[i].first).min();
            pending.push(Ranked {
                group: gi,
                found: r.found,
                members: g.members.len(),
                fallback_root: rf.fallback,
                worst: g
                    .members
                    .iter()
                    .map(|&m| findings[m].severity)
                    .min()
                    .unwrap_or(rootline_rules::RuleSeverity::Info),
                confidence: r.confidence,
                host: g.host.clone(),
                signature: rf.signature.clone(),
                object: recurrence::object_of(rf, sig_of.get(rf.signature.as_str()).copied()),
                start: start.map(|t| t.unix_nanos),
                start_at: start,
            });
        }
        // The first incident is the best explained: found first; then an incident whose root is a
        // fallback finding after every specific one; then by its most severe finding; then by size
        // times confidence. The others follow the worst first: by their most severe finding, then
        // found, then size times confidence (a stale map left uncertain before a pod's probe
        // failures explained).
        let weight = |r: &Ranked| r.members as f64 * r.confidence;
        pending.sort_by(|a, b| {
            b.found
                .cmp(&a.found)
                .then(a.fallback_root.cmp(&b.fallback_root))
                .then(a.worst.cmp(&b.worst))
                .then(weight(b).total_cmp(&weight(a)))
        });
        if pending.len() > 2 {
            pending[1..].sort_by(|a, b| {
                a.fallback_root
                    .cmp(&b.fallback_root)
                    .then(a.worst.cmp(&b.worst))
                    .then(b.found.cmp(&a.found))
                    .then(weight(b).total_cmp(&weight(a)))
            });
        }
        let listed = if max_incidents == 0 { pending.len() } else { pending.len().min(max_incidents) };
        let recurrences = recurrence::mark_first(&pending, listed);
        let mut omitted_incidents = recurrence::omitted(&pending[listed..]);
        let mut incidents: Vec<Incident> = Vec::with_capacity(listed);
        for (p, recurrence) in pending.iter().zip(recurrences).take(listed) {
            let g = &groups[p.group];
            let rejected = gather_rejected(g);
            let r = rank::rank_with_peers(&findings, &pos, &linked.links, g, &rejected, self.peers.as_ref());
            let graph = graphs.get(&g.host).unwrap_or(&empty);
            let rf = &findings[r.root];
            let mut evidence: Vec<_> = rf.evidence.iter().take(3).cloned().collect();
            for &o in &r.onset {
                if let Some(e) = findings[o].evidence.first() {
                    if !evidence.iter().any(|x| x.path == e.path && x.line == e.line) {
                        evidence.push(e.clone());
                    }
                }
            }
            let mut entities = widen(rf, graph);
            // A transport fault names the devices its links lead to: the paths whose failures it
            // explains, and their maps (an FC remote port's devices are tied to it only by such
            // links, not by a name).
            if TRANSPORT_FAMILIES.contains(&rf.signature.split('.').next().unwrap_or("")) {
                for &li in &g.links {
                    let l = &linked.links[li];
                    let path_level =
                        ["scsi.", "block.", "multipath.path-"].iter().any(|p| l.effect_signature.starts_with(p));
                    if l.cause == rf.id && path_level {
                        if let Some(&e) = pos.get(l.effect.as_str()) {
                            for (k, vals) in widen(&findings[e], graph) {
                                if ["disk", "map", "dm", "wwid", "volume"].contains(&k.as_str()) {
                                    let slot = entities.entry(k).or_default();
                                    for v in vals {
                                        if !slot.contains(&v) {
                                            slot.push(v);
                                        }
                                    }
                                    slot.sort();
                                }
                            }
                        }
                    }
                }
            }
            let title = sig_of
                .get(rf.signature.as_str())
                .map(|s| match lang {
                    Lang::Ko => s.title.ko.clone().unwrap_or_else(|| s.title.en.clone()),
                    Lang::En => s.title.en.clone(),
                })
                .unwrap_or_else(|| rf.signature.clone());
            let onset_time = r.onset.iter().filter_map(|&o| findings[o].first).chain(rf.first).min();
            let summary = summary(&title, &entities, rf.host.as_deref(), onset_time, lang);
            let times: Vec<_> = g.members.iter().filter_map(|&i| findings[i].first).collect();
            let ends: Vec<_> = g.members.iter().filter_map(|&i| findings[i].last.or(findings[i].first)).collect();
            let first_fault = g
                .members
                .iter()
                .filter(|&&i| findings[i].kind == Kind::Fault)
                .chain(std::iter::once(&r.root))
                .filter_map(|&i| findings[i].first.map(|t| t.unix_nanos))
                .min();
            let context = match first_fault {
                Some(t) => upgrade::before(&findings, &changes, &g.host, t),
                None => Vec::new(),
            };
            let mut chain: Vec<_> = g.links.iter().map(|&li| linked.links[li].clone()).collect();
            let member_ids: Vec<String> = g.members.iter().map(|&i| findings[i].id.clone()).collect();
            let onset_ids: Vec<String> = r.onset.iter().map(|&o| findings[o].id.clone()).collect();
            let order = order::decide(&mut chain, &rf.id, &onset_ids, &member_ids, &by_id);
            let mut unknown = r.unknown;
            let (leads, fingerprint) = match (times.iter().min(), ends.iter().max()) {
                (Some(&start), Some(&end)) => {
                    let sigs = g.members.iter().map(|&i| findings[i].signature.clone());
                    let (leads, fp) = novelty.for_incident(&g.host, start, end, sigs);
                    if novelty.has_baseline(&g.host, start) {
                        (leads, fp)
                    } else {
                        unknown.push(format!(
                            "which lines are new: the evidence of this host starts less than {} minutes before the incident, so no leads are listed",
                            novelty::MIN_BASELINE_SECS / 60
                        ));
                        (Vec::new(), fp)
                    }
                }
                _ => (Vec::new(), novelty::Fingerprint::default()),
            };
            let episode =
                g.members.first().map(|&m| episodes[m]).filter(|_| host_episodes.get(&g.host).is_some_and(|&n| n > 1));
            incidents.push(Incident {
                host: g.host.clone(),
                start: times.iter().min().map(|t| t.to_rfc3339()),
                end: ends.iter().max().map(|t| t.to_rfc3339()),
                root_cause: RootCause {
                    finding: rf.id.clone(),
                    signature: rf.signature.clone(),
                    entities,
                    confidence: r.confidence,
                    summary,
                    evidence,
                    onset: r.onset.iter().map(|&o| findings[o].id.clone()).collect(),
                },
                alternatives: r
                    .alternatives
                    .iter()
                    .map(|(i, c, why)| Alternative {
                        finding: findings[*i].id.clone(),
                        signature: findings[*i].signature.clone(),
                        confidence: *c,
                        why_not: why.clone(),
                    })
                    .collect(),
                chain,
                findings: member_ids,
                order,
                context,
                unknown,
                leads,
                fingerprint,
                episode: episode.map(|e| e + 1),
                recurrence,
            });
        }
        lap("incidents and ranking");
        let recovered_ids: FxHashSet<&str> =
            recovered.iter().flat_map(|r| r.findings.iter().map(String::as_str)).collect();
        let any_problem = findings
            .iter()
            .any(|f| matches!(f.kind, Kind::Fault | Kind::Symptom) && !recovered_ids.contains(f.id.as_str()));
        let verdict = if !any_problem {
            Verdict::NoIncident
        } else if pending.iter().any(|p| p.found) {
            Verdict::RootCauseFound
        } else {
            Verdict::Uncertain
        };
        let mut aliases: Vec<HostAliases> = Vec::new();
        let mut hosts_sorted: Vec<&Option<String>> = graphs.keys().collect();
        hosts_sorted.sort();
        for h in hosts_sorted {
            let g = &graphs[h];
            let mut used = Vec::new();
            for l in &linked.links {
                if pos.get(l.cause.as_str()).is_some_and(|&i| findings[i].host == *h) {
                    for e in &l.via {
                        if !used.iter().any(|u: &alias::AliasEdge| u.a == e.a && u.b == e.b && u.relation == e.relation)
                        {
                            used.push(e.clone());
                        }
                    }
                }
            }
            if used.is_empty() && g.conflicts.is_empty() {
                continue;
            }
            aliases.push(HostAliases {
                host: h.clone(),
                edges: used,
                total_edges: g.edge_count(),
                conflicts: g.conflicts.clone(),
            });
        }
        // The rejected links cost a few bytes each until here: write out only those an output
        // limited to its incidents keeps (both ends referred to), and count the rest.
        let changes: Vec<analysis::Change> = changes.into_iter().map(|x| x.1).collect();
        let rejected_links: Vec<analysis::Rejected> = if max_incidents > 0 && omitted_incidents.incidents > 0 {
            let keep = analysis::referred(&incidents, &changes, &recovered);
            let ends = |r: &chain::Reject| {
                keep.contains(findings[r.cause as usize].id.as_str())
                    && keep.contains(findings[r.effect as usize].id.as_str())
            };
            let kept: Vec<analysis::Rejected> =
                linked.rejected.iter().filter(|r| ends(r)).map(|r| r.to_rejected(&findings, pack)).collect();
            omitted_incidents.rejected_links += linked.rejected.len() - kept.len();
            kept
        } else {
            linked.rejected.iter().map(|r| r.to_rejected(&findings, pack)).collect()
        };
        drop(linked.rejected);
        let mut out = Analysis {
            schema: SCHEMA,
            inputs: Inputs {
                files: stats.files,
                lines: stats.lines,
                events: stats.events,
                unparsed_lines: stats.unparsed_lines,
                cut_lines: stats.cut_lines,
                max_line: stats.max_line,
                first: stats.first.clone(),
                last: stats.last.clone(),
                skipped: stats
                    .skipped
                    .iter()
                    .map(|s| Skipped { path: s.path.clone(), reason: s.reason.clone() })
                    .collect(),
                warnings: stats
                    .warnings
                    .iter()
                    .map(|s| Skipped { path: s.path.clone(), reason: s.reason.clone() })
                    .collect(),
                metadata: stats
                    .metadata
                    .iter()
                    .map(|s| Skipped { path: s.path.clone(), reason: s.reason.clone() })
                    .collect(),
            },
            hosts: self.hosts.into_iter().collect(),
            findings,
            incidents,
            verdict,
            aliases,
            rejected_links,
            changes,
            recovered,
            why_only_this_node: self.peers.and_then(|p| p.why).map(|mut w| {
                w.lowered = lowered;
                w
            }),
            seen_before: None,
            omitted: (omitted_incidents.incidents > 0).then_some(omitted_incidents),
        };
        analysis::zone::analysis(&mut out, &stats.zone);
        out.limit(max_incidents);
        out.count_folded(&folded);
        out
    }
}

/// How long after a transient fault's last line its recovery may come for the fault to count as
/// recovered by itself (10 minutes).
const RECOVERED_WITHIN: i64 = 600 * 1_000_000_000;

/// Families of transport faults: what carries the devices (a connection, a port, a link, a server).
const TRANSPORT_FAMILIES: &[&str] = &["iscsi", "fc", "nvme", "nfs", "net"];

/// Entity kinds of a transport that carries its devices alone (an iSCSI session has a SCSI host of
/// its own; an NVMe controller its namespaces; an NFS server its exports), so a fault of it names
/// all they carry. A SCSI host, an FC port or an iSCSI target is shared by healthy and failed
/// devices alike: a fault of one of those names the devices its links lead to instead.
const TRANSPORT_KINDS: &[&str] = &["conn", "sid", "session", "ctrl", "nfs_server", "nfs_export"];

/// The finding's entities, widened by the storage objects its names are aliases of.
fn widen(f: &Finding, g: &HostGraph) -> BTreeMap<String, Vec<String>> {
    let mut out = f.entities.clone();
    let mut add = |k: &str, v: &str| {
        let vals = out.entry(k.to_string()).or_default();
        if !vals.iter().any(|x| x == v) {
            vals.push(v.to_string());
        }
    };
    let storage = ["map", "dm", "devt", "wwid", "volume"];
    let mut seeds: Vec<Node> = Vec::new();
    for (k, vals) in &f.entities {
        if storage.contains(&k.as_str()) {
            for v in vals {
                seeds.extend(g.nodes_of(k, v));
            }
        }
    }
    // A transport fault (a connection, a session, a SCSI host, an NFS server) names the devices it
    // carries: their disks, maps and WWIDs.
    let mut carried: Vec<Node> = Vec::new();
    for (k, vals) in &f.entities {
        if TRANSPORT_KINDS.contains(&k.as_str()) {
            for v in vals {
                for n in g.nodes_of(k, v) {
                    carried.extend(g.carried(&n));
                }
            }
        }
    }
    for n in &carried {
        if n.kind == "disk" {
            add("disk", &n.value);
        }
    }
    // A file server's 'devices' are files: its fault names the workloads with files on it.
    for (k, vals) in &f.entities {
        if k == "nfs_server" || k == "nfs_export" {
            for v in vals {
                for n in g.nodes_of(k, v) {
                    for w in g.workloads_on(&n) {
                        add(&w.kind, &w.value);
                    }
                }
            }
        }
    }
    seeds.extend(carried);
    let mut seen: HashMap<Node, ()> = HashMap::new();
    for s in seeds {
        for n in g.storage_group(&s) {
            if seen.insert(n.clone(), ()).is_some() {
                continue;
            }
            let is_map_devt = n.kind == "devt"
                && n.value
                    .split_once(':')
                    .and_then(|(a, _)| a.parse::<u32>().ok())
                    .is_some_and(|m| !alias::SCSI_DISK_MAJORS.contains(&m));
            if ["map", "dm", "wwid", "volume"].contains(&n.kind.as_str()) || is_map_devt {
                add(&n.kind, &n.value);
            }
        }
    }
    for vals in out.values_mut() {
        vals.sort();
    }
    out
}

fn summary(
    title: &str,
    ents: &BTreeMap<String, Vec<String>>,
    host: Option<&str>,
    since: Option<rootline_event::Timestamp>,
    lang: Lang,
) -> String {
    let mut parts = Vec::new();
    for k in ["map", "dm", "devt", "volume", "disk", "comm", "pid", "pod", "container"] {
        if let Some(v) = ents.get(k) {
            if !v.is_empty() {
                parts.push(format!("{k} {}", v.join(",")));
            }
        }
    }
    let t = since.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
    let h = host.unwrap_or("-");
    match lang {
        Lang::En => format!("{title}: {} on {h}, since {t}", parts.join("; ")),
        Lang::Ko => format!("{title}: {} ({h}, {t}부터)", parts.join("; ")),
    }
}

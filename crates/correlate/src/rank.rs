//! Root-cause hypotheses of one incident, ranked.
//!
//! Candidates are the incident's faults (its symptoms without a cause, when it has no fault). A fault
//! that leads by a link to another fault of the same moment (within a second: an absence finding such
//! as `multipath.stale-map` carries the time of the `all-paths-down` that triggered it) is that fault's
//! onset, not a rival: the later-defined finding is the diagnosis, the trigger its first line.
//!
//! Each candidate `r` scores `coverage x (0.5 + 0.5 x strength) x penalty`:
//! - coverage: the share of the incident's findings `r` is tied to in causal direction (itself, its
//!   onset and causes of the same object, everything reachable from it by links);
//! - strength: the mean, over what it explains, of the best path's weakest link prior (a chain is
//!   as strong as its weakest link; depth alone does not weaken it);
//! - penalty 0.6 when another candidate explains `r` (it is not the earliest fault).
//!
//! Ties go to the earlier finding. The top score becomes the confidence, lowered by how close the
//! runner-up is: `s1 x (0.6 + 0.4 x (s1 - s2) / s1)`. An incident without links cannot name a root
//! cause (confidence at most 0.3).
//!
//! Findings of fallback rules (an error line no specific rule explains) are candidates only when the
//! incident has no other candidate, and a fallback root's confidence is halved: it names the family
//! of the failure, not the failure.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;

use rustc_hash::{FxHashMap, FxHashSet};

use rootline_rules::{Finding, Kind};

use crate::analysis::{ChainLink, Rejected};
use crate::incident::Group;
use crate::peers::Peers;

/// The ranking of one incident.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Finding index of the top hypothesis.
    pub root: usize,
    /// Findings folded into it as its onset.
    pub onset: Vec<usize>,
    /// 0..1.
    pub confidence: f64,
    /// Other hypotheses: finding index, confidence, why not.
    pub alternatives: Vec<(usize, f64, String)>,
    /// What the evidence does not say.
    pub unknown: Vec<String>,
    /// True when the chain is strong enough to name the root cause.
    pub found: bool,
    /// Candidates whose score peers lowered ([`crate::peers`]), one sentence each.
    pub lowered: Vec<String>,
    /// True when the root is a fallback finding: an incident ranks after every incident whose root is
    /// specific.
    pub fallback: bool,
}

/// Confidence from which a root cause counts as found.
pub const FOUND_AT: f64 = 0.5;

fn t(f: &Finding) -> i64 {
    f.began().map(|t| t.unix_nanos).unwrap_or(i64::MAX)
}

/// Ranks the hypotheses of `group`; `rejected` are the rejected links that touch its members.
/// `pos` maps finding ids to their index.
pub fn rank<S: BuildHasher>(
    findings: &[Finding],
    pos: &HashMap<&str, usize, S>,
    links: &[ChainLink],
    group: &Group,
    rejected: &[Rejected],
) -> Ranked {
    rank_with_peers(findings, pos, links, group, rejected, None)
}

/// [`rank`], with the peer prevalence of a fleet comparison: each candidate's score is multiplied by
/// [`Peers::factor`] of its signature (a fault peers showed too is a weaker root cause).
pub fn rank_with_peers<S: BuildHasher>(
    findings: &[Finding],
    pos: &HashMap<&str, usize, S>,
    links: &[ChainLink],
    group: &Group,
    rejected: &[Rejected],
    peers: Option<&Peers>,
) -> Ranked {
    rank_inner(findings, pos, links, group, rejected, peers, true)
}

/// [`rank_with_peers`] without the sentences: the root, its onset, the confidence, whether it was
/// found, and what peers lowered; `alternatives` and `unknown` are left empty. What orders the
/// incidents, cheaply, before the listed ones are ranked in full.
pub fn order_with_peers<S: BuildHasher>(
    findings: &[Finding],
    pos: &HashMap<&str, usize, S>,
    links: &[ChainLink],
    group: &Group,
    peers: Option<&Peers>,
) -> Ranked {
    rank_inner(findings, pos, links, group, &[], peers, false)
}

fn rank_inner<S: BuildHasher>(
    findings: &[Finding],
    pos: &HashMap<&str, usize, S>,
    links: &[ChainLink],
    group: &Group,
    rejected: &[Rejected],
    peers: Option<&Peers>,
    text: bool,
) -> Ranked {
    let members: FxHashSet<usize> = group.members.iter().copied().collect();
    let mut out_adj: FxHashMap<usize, Vec<(usize, f64)>> = FxHashMap::default();
    let mut in_adj: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for &li in &group.links {
        let l = &links[li];
        let (a, b) = (pos[l.cause.as_str()], pos[l.effect.as_str()]);
        out_adj.entry(a).or_default().push((b, l.prior));
        in_adj.entry(b).or_default().push(a);
    }
    let faults: Vec<usize> = group.members.iter().copied().filter(|&i| findings[i].kind == Kind::Fault).collect();
    let mut candidates: Vec<usize> = if !faults.is_empty() {
        faults
    } else {
        let sources: Vec<usize> =
            group.members.iter().copied().filter(|i| in_adj.get(i).is_none_or(|v| v.is_empty())).collect();
        if sources.is_empty() {
            group.members.clone()
        } else {
            sources
        }
    };
    // A fallback is a candidate only where nothing more specific is.
    if candidates.iter().any(|&i| findings[i].fallback) {
        let specific: Vec<usize> = group.members.iter().copied().filter(|&i| !findings[i].fallback).collect();
        if !specific.is_empty() {
            let specific_candidates: Vec<usize> =
                candidates.iter().copied().filter(|&i| !findings[i].fallback).collect();
            candidates = if specific_candidates.is_empty() { specific } else { specific_candidates };
        }
    }
    // Onsets: a fault that leads to a fault of the same moment.
    let mut onset_of: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    let mut folded: FxHashSet<usize> = FxHashSet::default();
    for &a in &candidates {
        for &(b, _) in out_adj.get(&a).map(|v| v.as_slice()).unwrap_or(&[]) {
            if findings[a].kind == Kind::Fault
                && findings[b].kind == Kind::Fault
                && (t(&findings[b]) - t(&findings[a])).abs() <= 1_000_000_000
            {
                onset_of.entry(b).or_default().push(a);
                folded.insert(a);
            }
        }
    }
    candidates.retain(|c| !folded.contains(c));
    if candidates.is_empty() {
        candidates = group.members.clone();
    }
    let reach = |r: usize| -> FxHashMap<usize, f64> {
        let mut best: FxHashMap<usize, f64> = FxHashMap::from_iter([(r, 1.0)]);
        let mut q = VecDeque::from([r]);
        while let Some(u) = q.pop_front() {
            let su = best[&u];
            for &(v, p) in out_adj.get(&u).map(|v| v.as_slice()).unwrap_or(&[]) {
                // A chain is as strong as its weakest link: every link is evidenced on its own, so
                // a deeper chain (a transport under a map under a task) is not weaker for its depth.
                let s = su.min(p);
                if best.get(&v).is_none_or(|&old| s > old + 1e-12) {
                    best.insert(v, s);
                    q.push_back(v);
                }
            }
        }
        best
    };
    let ancestors = |r: usize| -> FxHashSet<usize> {
        let mut seen = FxHashSet::default();
        let mut q = VecDeque::from([r]);
        while let Some(u) = q.pop_front() {
            for &v in in_adj.get(&u).map(|v| v.as_slice()).unwrap_or(&[]) {
                if seen.insert(v) {
                    q.push_back(v);
                }
            }
        }
        seen
    };
    let n = members.len().max(1) as f64;
    // Sources: candidates no other candidate leads to. The root cause is a source: a fault that
    // another fault explains (a stale map behind a lost transport) is never the root while that
    // transport fault is in the incident. Sources of one signature (the four remote ports of an
    // array lost together, two sessions of one target) are one fault: they share their coverage.
    let ups: FxHashMap<usize, FxHashSet<usize>> = candidates.iter().map(|&c| (c, ancestors(c))).collect();
    let downs: FxHashMap<usize, FxHashMap<usize, f64>> = candidates.iter().map(|&c| (c, reach(c))).collect();
    let is_source = |c: usize| !ups[&c].iter().any(|a| *a != c && candidates.contains(a) && !downs[&c].contains_key(a));
    let sources: Vec<usize> = candidates.iter().copied().filter(|&c| is_source(c)).collect();
    let siblings = |r: usize| -> Vec<usize> {
        if !sources.contains(&r) {
            return vec![r];
        }
        sources.iter().copied().filter(|&c| findings[c].signature == findings[r].signature).collect()
    };
    let mut scored: Vec<(usize, f64, usize, bool)> = Vec::new();
    for &r in &candidates {
        let sib = siblings(r);
        let mut down: FxHashMap<usize, f64> = FxHashMap::default();
        for s in &sib {
            for (k, v) in &downs[s] {
                let e = down.entry(*k).or_insert(0.0);
                *e = e.max(*v);
            }
        }
        let up = &ups[&r];
        let explained_by_rival = !is_source(r);
        let mut covered: FxHashSet<usize> = down.keys().copied().collect();
        covered.extend(up.iter().copied());
        let strength = if down.len() > sib.len() {
            down.iter().filter(|(k, _)| !sib.contains(k)).map(|(_, s)| *s).sum::<f64>()
                / (down.len() - sib.len()) as f64
        } else {
            0.0
        };
        let penalty = if explained_by_rival { 0.6 } else { 1.0 };
        let peer_factor = peers.map_or(1.0, |p| p.factor(&findings[r].signature));
        let score = (covered.len() as f64 / n) * (0.5 + 0.5 * strength) * penalty * peer_factor;
        // Rounded: sums over hash maps differ in their last bits from run to run, and equal scores
        // must tie (then the earliest wins).
        let score = (score * 1e9).round() / 1e9;
        scored.push((r, score, covered.len(), explained_by_rival));
    }
    // Sources first, then by score, then the earliest.
    scored.sort_by(|a, b| a.3.cmp(&b.3).then(b.1.total_cmp(&a.1)).then(t(&findings[a.0]).cmp(&t(&findings[b.0]))));
    let (root, s1, cov1, _) = scored[0];
    let root_siblings = siblings(root);
    // The runner-up is the best other fault, not a part of the same one.
    let s2 = scored.iter().skip(1).find(|x| !root_siblings.contains(&x.0)).map(|x| x.1).unwrap_or(0.0);
    let margin = if s1 > 0.0 { (s1 - s2) / s1 } else { 0.0 };
    let mut confidence = (s1 * (0.6 + 0.4 * margin)).clamp(0.0, 0.99);
    if group.links.is_empty() {
        confidence = confidence.min(0.3);
    }
    if findings[root].fallback {
        confidence *= 0.5;
    }
    let confidence = (confidence * 100.0).round() / 100.0;
    let found = !group.links.is_empty() && confidence >= FOUND_AT;
    let mut alternatives = Vec::new();
    let mut unknown = Vec::new();
    if text {
        let root_down = reach(root);
        let root_up = ancestors(root);
        let rf = &findings[root];
        for &o in onset_of.get(&root).map(|v| v.as_slice()).unwrap_or(&[]) {
            alternatives.push((
                o,
                (confidence * 0.5 * 100.0).round() / 100.0,
                format!(
                    "onset of {}: the same object at the same moment; {} is the condition it became",
                    rf.id, rf.signature
                ),
            ));
        }
        for &(c, s, cov, rival) in scored.iter().skip(1) {
            let f = &findings[c];
            let conf = if s1 > 0.0 { (confidence * s / s1 * 0.9 * 100.0).round() / 100.0 } else { 0.0 };
            let n = rootline_event::count(members.len() as u64, "finding");
            let why = if root_siblings.contains(&c) {
                format!(
                    "the same fault as {} ({}), on another object; {} is the first line of it",
                    rf.id, rf.signature, rf.id
                )
            } else if root_down.contains_key(&c) {
                format!("explained by {} (a link leads from it to {})", rf.id, f.id)
            } else if rival {
                format!("itself explained by an earlier fault; ties {cov} of {n} against {cov1}")
            } else if t(f) > t(rf) {
                format!("later than {} and ties {cov} of {n} against {cov1}", rf.id)
            } else {
                format!("ties {cov} of {n} against {cov1} for {}", rf.id)
            };
            alternatives.push((c, conf, why));
        }
        let mut unexplained: Vec<usize> = group
            .members
            .iter()
            .copied()
            .filter(|i| !root_down.contains_key(i) && !root_up.contains(i) && *i != root)
            .collect();
        unexplained.sort_by_key(|&i| t(&findings[i]));
        for i in unexplained {
            unknown.push(format!("{} is in this incident but not explained by the root cause", findings[i].id));
        }
        for r in rejected {
            if r.reason.starts_with("no ") {
                unknown.push(format!("hypothesis only: {} -> {} ({}): {}", r.cause, r.effect, r.link, r.reason));
            }
        }
    }
    let mut lowered = Vec::new();
    match peers {
        None if text => {
            unknown.push("why only this host: no peer nodes were given to compare with (rootline fleet)".into())
        }
        None => {}
        Some(p) => {
            for &(c, _, _, _) in &scored {
                let sig = &findings[c].signature;
                let k = p.with_signature.get(sig).copied().unwrap_or(0);
                if k > 0 {
                    lowered.push(format!(
                        "{}: {sig} was seen on {k} of {} too; its score was multiplied by {:.2}",
                        findings[c].id,
                        rootline_event::count(p.peers as u64, "peer"),
                        p.factor(sig)
                    ));
                }
            }
        }
    }
    Ranked {
        root,
        onset: onset_of.remove(&root).unwrap_or_default(),
        confidence,
        alternatives,
        unknown,
        found,
        lowered,
        fallback: findings[root].fallback,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rootline_event::Timestamp;
    use rootline_rules::RuleSeverity;

    use super::*;

    fn f(id: &str, kind: Kind, secs: i64) -> Finding {
        Finding {
            id: id.into(),
            signature: id.split('#').next().unwrap().into(),
            kind,
            severity: RuleSeverity::Error,
            fallback: false,
            host: Some("h".into()),
            first: Some(Timestamp::from_unix_nanos(secs * 1_000_000_000, 0)),
            last: None,
            onset: None,
            count: 1,
            entities: BTreeMap::new(),
            evidence: Vec::new(),
        }
    }

    fn l(c: &str, e: &str, prior: f64) -> ChainLink {
        ChainLink {
            cause: c.into(),
            effect: e.into(),
            link: "link.test".into(),
            entities: vec![],
            evidence: vec![],
            cause_signature: c.split('#').next().unwrap().into(),
            effect_signature: e.split('#').next().unwrap().into(),
            prior,
            delay_secs: None,
            via: vec![],
            decisive: false,
        }
    }

    #[test]
    fn the_stale_map_is_the_diagnosis_and_all_paths_down_its_onset() {
        let fs = vec![
            f("multipath.path-down#1", Kind::Symptom, 0),
            f("multipath.all-paths-down#1", Kind::Fault, 10),
            f("multipath.stale-map#1", Kind::Fault, 10),
            f("kernel.hung-task#1", Kind::Symptom, 600),
            f("k8s.probe-failed#1", Kind::Symptom, 500),
        ];
        let ls = vec![
            l("multipath.path-down#1", "multipath.all-paths-down#1", 0.8),
            l("multipath.all-paths-down#1", "multipath.stale-map#1", 0.8),
            l("multipath.stale-map#1", "kernel.hung-task#1", 0.85),
            l("multipath.all-paths-down#1", "kernel.hung-task#1", 0.85),
            l("kernel.hung-task#1", "k8s.probe-failed#1", 0.7),
        ];
        let groups = crate::incident::group(&fs, &ls);
        assert_eq!(groups.len(), 1);
        let pos: HashMap<&str, usize> = fs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        let r = rank(&fs, &pos, &ls, &groups[0], &[]);
        assert_eq!(fs[r.root].id, "multipath.stale-map#1");
        assert_eq!(r.onset, vec![1]);
        assert!(r.found && r.confidence >= FOUND_AT, "{}", r.confidence);
        assert!(r.alternatives.iter().any(|(i, _, why)| *i == 1 && why.starts_with("onset")));
    }

    #[test]
    fn the_earliest_fault_that_explains_the_others_wins() {
        let fs = vec![
            f("multipath.all-paths-down#1", Kind::Fault, 0),
            f("kernel.hung-task#1", Kind::Symptom, 100),
            f("multipath.stale-map#1", Kind::Fault, 300),
            f("process.zombie#1", Kind::Symptom, 900),
        ];
        let ls = vec![
            l("multipath.all-paths-down#1", "kernel.hung-task#1", 0.85),
            l("multipath.all-paths-down#1", "multipath.stale-map#1", 0.8),
            l("kernel.hung-task#1", "process.zombie#1", 0.5),
        ];
        let groups = crate::incident::group(&fs, &ls);
        let pos: HashMap<&str, usize> = fs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        let r = rank(&fs, &pos, &ls, &groups[0], &[]);
        assert_eq!(fs[r.root].id, "multipath.all-paths-down#1");
        let (_, conf, why) = r.alternatives.iter().find(|a| a.0 == 2).unwrap();
        assert!(why.contains("explained by"), "{why}");
        assert!(*conf < r.confidence);
    }

    #[test]
    fn a_fault_peers_showed_too_ranks_lower() {
        let fs = vec![
            f("multipath.all-paths-down#1", Kind::Fault, 0),
            f("kernel.oom-kill#1", Kind::Fault, 0),
            f("kernel.hung-task#1", Kind::Symptom, 100),
        ];
        let ls = vec![
            l("multipath.all-paths-down#1", "kernel.hung-task#1", 0.8),
            l("kernel.oom-kill#1", "kernel.hung-task#1", 0.8),
        ];
        let groups = crate::incident::group(&fs, &ls);
        let pos: HashMap<&str, usize> = fs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        let alone = rank(&fs, &pos, &ls, &groups[0], &[]);
        assert_eq!(fs[alone.root].id, "multipath.all-paths-down#1", "ties go to the earlier (input) finding");
        let peers = Peers {
            peers: 7,
            with_signature: [("multipath.all-paths-down".to_string(), 7)].into_iter().collect(),
            why: None,
        };
        let r = rank_with_peers(&fs, &pos, &ls, &groups[0], &[], Some(&peers));
        assert_eq!(fs[r.root].id, "kernel.oom-kill#1");
        assert!(r.lowered.iter().any(|x| x.contains("7 of 7 peers")), "{:?}", r.lowered);
        assert!(!r.unknown.iter().any(|u| u.contains("no peer nodes")));
    }

    #[test]
    fn a_fallback_is_a_candidate_only_without_anything_specific() {
        let mut fs = vec![
            f("openstack.service-error#1", Kind::Symptom, 0),
            f("libvirt.connection-lost#1", Kind::Symptom, 30),
            f("k8s.container-restarted#1", Kind::Symptom, 20),
        ];
        fs[0].fallback = true;
        let ls = vec![
            l("openstack.service-error#1", "libvirt.connection-lost#1", 0.5),
            l("k8s.container-restarted#1", "libvirt.connection-lost#1", 0.6),
        ];
        let groups = crate::incident::group(&fs, &ls);
        let pos: HashMap<&str, usize> = fs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        let r = rank(&fs, &pos, &ls, &groups[0], &[]);
        // The fallback is earlier and explains as much, but the restart is specific.
        assert_eq!(fs[r.root].id, "k8s.container-restarted#1");
        assert!(!r.fallback);
        // Alone, the fallback is the root, at half the confidence a specific finding would get.
        let alone = vec![fs[0].clone()];
        let g = crate::incident::group(&alone, &[]);
        let p: HashMap<&str, usize> = [(alone[0].id.as_str(), 0)].into_iter().collect();
        let r = rank(&alone, &p, &[], &g[0], &[]);
        assert_eq!(r.root, 0);
        assert!(r.fallback && r.confidence <= 0.15, "{}", r.confidence);
        let mut specific = alone.clone();
        specific[0].fallback = false;
        let r2 = rank(&specific, &p, &[], &g[0], &[]);
        assert!(r2.confidence > r.confidence);
    }

    #[test]
    fn no_links_no_root_cause() {
        let fs = vec![f("kernel.hung-task#1", Kind::Symptom, 0)];
        let groups = crate::incident::group(&fs, &[]);
        let pos: HashMap<&str, usize> = fs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
        let r = rank(&fs, &pos, &[], &groups[0], &[]);
        assert!(!r.found);
        assert!(r.confidence <= 0.3);
    }
}

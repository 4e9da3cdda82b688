//! Incidents: the findings of one host connected by chain links. A fault or symptom no link touches
//! is an incident of its own (which can only be `uncertain`); context and recovery findings belong to
//! no incident.

use rootline_rules::{Finding, Kind};
use rustc_hash::FxHashMap;

use crate::analysis::ChainLink;

/// One group of connected findings (indexes into the findings) and the links among them.
#[derive(Debug, Clone)]
pub struct Group {
    /// Host.
    pub host: Option<String>,
    /// Finding indexes, in order of first time.
    pub members: Vec<usize>,
    /// Indexes into the links.
    pub links: Vec<usize>,
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Groups `findings` into incidents by `links`.
pub fn group(findings: &[Finding], links: &[ChainLink]) -> Vec<Group> {
    let pos: FxHashMap<&str, usize> = findings.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    for l in links {
        let (a, b) = (pos[l.cause.as_str()], pos[l.effect.as_str()]);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    // The group of each root finding (`usize::MAX`: none yet).
    let mut by_root: Vec<usize> = vec![usize::MAX; findings.len()];
    for (i, f) in findings.iter().enumerate() {
        if !matches!(f.kind, Kind::Fault | Kind::Symptom) {
            continue;
        }
        let r = root(&mut parent, i);
        if by_root[r] == usize::MAX {
            groups.push(Group { host: f.host.clone(), members: Vec::new(), links: Vec::new() });
            by_root[r] = groups.len() - 1;
        }
        groups[by_root[r]].members.push(i);
    }
    for (li, l) in links.iter().enumerate() {
        let r = root(&mut parent, pos[l.cause.as_str()]);
        if let Some(&gi) = by_root.get(r).filter(|&&gi| gi != usize::MAX) {
            groups[gi].links.push(li);
        }
    }
    groups
}

/// Signatures that say storage failed for good (a map with no path left, a map left behind, a map
/// that will not go): a group holding one of them never recovered by itself.
const LASTING: &[&str] = &[
    "multipath.all-paths-down",
    "multipath.stale-map",
    "multipath.queueing-no-path",
    "multipath.flush-failed",
    "fs.read-only-remount",
];

/// Families of a transient storage fault: a path, a device or a connection that can fail and come
/// back while the device above it (a multipath map) keeps serving.
const TRANSIENT_FAMILIES: &[&str] = &["iscsi", "scsi", "block", "fc", "nvme", "net", "multipath", "nfs"];

/// Recovery signatures that end a transient fault (not a boot or a daemon start).
fn ends_a_fault(f: &Finding) -> bool {
    f.kind == Kind::Recovery && !matches!(f.signature.as_str(), "kernel.booted" | "multipath.daemon-started")
}

/// A group that recovered by itself: every member is a transient storage fault or its symptom
/// (no map lost all its paths, no process or workload suffered), and a recovery of one of its
/// objects (`reinstated`, a connection operational again) came after its last line, within
/// `within` nanoseconds. Returns the index of that recovery. A flap that keeps failing after it
/// recovered is not recovered.
pub fn recovered(findings: &[Finding], g: &Group, graph: &crate::alias::HostGraph, within: i64) -> Option<usize> {
    let recoveries = Recoveries::new(findings);
    recovered_among(findings, &recoveries, g, graph, within)
}

/// The findings that end a fault, by time: built once for every group's [`recovered_among`].
pub struct Recoveries {
    /// (first time in unix nanoseconds, finding index), sorted.
    by_time: Vec<(i64, usize)>,
}

impl Recoveries {
    /// The recoveries among `findings` that have a time.
    pub fn new(findings: &[Finding]) -> Recoveries {
        let mut by_time: Vec<(i64, usize)> = findings
            .iter()
            .enumerate()
            .filter(|(_, r)| ends_a_fault(r))
            .filter_map(|(i, r)| r.first.map(|t| (t.unix_nanos, i)))
            .collect();
        by_time.sort();
        Recoveries { by_time }
    }
}

/// [`recovered`] with the recoveries listed once ([`Recoveries`]).
pub fn recovered_among(
    findings: &[Finding],
    recoveries: &Recoveries,
    g: &Group,
    graph: &crate::alias::HostGraph,
    within: i64,
) -> Option<usize> {
    let members: Vec<&Finding> = g.members.iter().map(|&i| &findings[i]).collect();
    if members.is_empty()
        || members.iter().any(|f| {
            LASTING.contains(&f.signature.as_str())
                || !TRANSIENT_FAMILIES.contains(&f.signature.split('.').next().unwrap_or(""))
        })
    {
        return None;
    }
    let last = members.iter().filter_map(|f| f.last.or(f.first)).map(|t| t.unix_nanos).max()?;
    // The recoveries from `last` to `last + within` on this host, tried in order of finding (as a
    // scan of every finding would): the first one linked to the group by storage wins.
    let from = recoveries.by_time.partition_point(|(t, _)| *t < last);
    let mut window: Vec<usize> = recoveries.by_time[from..]
        .iter()
        .take_while(|(t, _)| t - last <= within)
        .map(|(_, i)| *i)
        .filter(|&i| findings[i].host == g.host)
        .collect();
    if window.is_empty() {
        return None;
    }
    window.sort_unstable();
    let nodes: Vec<crate::alias::Node> = members.iter().flat_map(|f| crate::chain::nodes_of(f, graph)).collect();
    window.into_iter().find(|&i| {
        let rn = crate::chain::nodes_of(&findings[i], graph);
        graph.path(&rn, &nodes, crate::alias::Via::Storage, crate::chain::MAX_HOPS).is_some()
    })
}

//! The per-host alias graph: which names denote the same object, or objects tied to each other.
//!
//! Operators and daemons name one device five ways (`sdt`, `65:48`, `dm-21`, `253:21`, `mpathb`, its
//! WWID, the Cinder volume `4f2f…`), and one workload three more (the instance, its libvirt domain, the
//! qemu pid, the libvirt container and pod, the probe command that runs in it). This module learns
//! those ties from the evidence itself, one graph per host, and answers "is there a path between the
//! entities of these two findings, and which lines prove it?".
//!
//! Every edge keeps the evidence line that established it, or says how it was derived (the SCSI disk
//! numbering, a device-mapper major learnt from a line). Conflicting evidence (one path claimed by two
//! maps, one map name on two dm devices, one dm device named for two maps, two device-mapper majors,
//! an ambiguous short volume id) is reported in [`HostGraph::conflicts`], never resolved by guessing:
//! the edges in conflict are [`HostGraph::contested`] and no search follows them.
//!
//! Sources read: multipathd `addmap` / `load table` lines, `multipath -ll` / `create:` headers with
//! their path lines, `dmsetup table` / `ls` / `info -c`, `multipathd show paths`, the kernel's
//! `device-mapper: multipath: M:m: Failing path` lines, oslo.log lines of nova / os-brick (instance,
//! volume, `/dev/dm-N`, `scsi_wwn`, tied across lines by the request id), `ps` rows and
//! `/proc/PID/stat` lines (parent, qemu `-name guest=`, `-uuid`, opened devices and files), `mount` and
//! `df` (which map carries which mount point), kubelet and containerd lines (container id, pod,
//! container name, probe command), and CRI log paths and lines (which daemon logs in which container).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};

use regex::Regex;
use rootline_event::{Event, EventRef};
use rootline_rules::prefilter::Literals;
use rootline_rules::ties::{Needs, NeedsSet, Sequencer, TieEdge, Ties};
use rootline_rules::{Evidence, Finding};
use serde::Serialize;

/// SCSI disk (`sd`) block majors, in the order disks are numbered: 16 disks of 16 minors each.
pub const SCSI_DISK_MAJORS: [u32; 16] = [8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135];

/// Relations that tie storage names (a path to its map, a name to its number, a volume to its map,
/// an iSCSI session or FC port to the SCSI host and devices it carries).
pub const STORAGE_RELATIONS: &[&str] = &["path-of", "same-device", "volume-device", "transport-of", "may-carry"];

/// The storage relations that name one device (or a device and its parts): what a finding's own
/// names are widened by. `transport-of` is not among them: two maps on one SCSI host or iSCSI
/// target are two devices.
pub const SAME_DEVICE_RELATIONS: &[&str] = &["path-of", "same-device", "volume-device"];

/// `transport-of` edges point from the carrier to what it carries (a session to its SCSI host, a
/// host to a device address). A path may climb from a device to its transport, or descend from a
/// transport to its devices, but not both: climbing and descending would tie two devices because
/// they share a transport, descending and climbing two transports because they carry one device.
const TRANSPORT: &str = "transport-of";

/// A transport that may carry a device by naming convention but is not proven to (an FC remote
/// port numbered like the SCSI target it usually is): followed like `transport-of` between two
/// findings, never to widen a finding's names.
const MAY_CARRY: &str = "may-carry";

/// Relations through a device (storage ties, a process opening a device or a file on it, a mount).
/// Two processes that touch one device are not thereby related: links between process findings do
/// not cross these.
pub const DEVICE_RELATIONS: &[&str] = &[
    "path-of",
    "same-device",
    "volume-device",
    "transport-of",
    "may-carry",
    "process-opens",
    "mounted-on",
    "domain-device",
];

/// Which relations a path may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Storage relations only.
    Storage,
    /// Anything but device relations.
    NoDevice,
    /// Any relation.
    Any,
}

/// The SCSI disk name and partition of a device number (`65:48` -> `sdt`, `65:49` -> `sdt1`).
pub fn scsi_disk_of(major: u32, minor: u32) -> Option<String> {
    let slot = SCSI_DISK_MAJORS.iter().position(|&m| m == major)? as u32;
    if minor > 255 {
        return None;
    }
    let index = slot * 16 + minor / 16;
    let part = minor % 16;
    let mut name = disk_letters(index);
    if part > 0 {
        name.push_str(&part.to_string());
    }
    Some(format!("sd{name}"))
}

/// The device number of a SCSI disk name (`sdt` -> `65:48`, `sdt1` -> `65:49`), for the first 256 disks.
pub fn scsi_devt_of(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("sd")?;
    let letters: &str = &rest[..rest.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(rest.len())];
    let digits = &rest[letters.len()..];
    if letters.is_empty() || letters.len() > 2 {
        return None;
    }
    let part: u32 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    if part > 15 {
        return None;
    }
    // Bijective base 26: a=0 .. z=25, aa=26 ..
    let mut index: u32 = 0;
    for c in letters.bytes() {
        index = index * 26 + u32::from(c - b'a') + 1;
    }
    let index = index - 1;
    let major = *SCSI_DISK_MAJORS.get((index / 16) as usize)?;
    Some((major, (index % 16) * 16 + part))
}

fn disk_letters(mut index: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A name of some kind: `disk:sdt`, `devt:65:48`, `dm:dm-21`, `map:mpathb`, `volume:4f2f…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Node {
    /// disk, devt, dm, map, wwid, volume, instance, domain, pid, container_id, pod, container,
    /// probe_cmd, daemon, mount.
    pub kind: String,
    /// The value as the evidence writes it.
    pub value: String,
}

impl Node {
    /// A node, its value in the one spelling of its kind ([`rootline_rules::ties::canonical`]:
    /// `5:00:0:1` is `5:0:0:1`, `naa.600a...` is the WWID `3600a...`).
    pub fn new(kind: &str, value: &str) -> Node {
        Node { kind: kind.to_string(), value: rootline_rules::ties::canonical(kind, value) }
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.kind, self.value)
    }
}

/// One tie between two names, with what established it.
#[derive(Debug, Clone, Serialize)]
pub struct AliasEdge {
    /// One end.
    pub a: Node,
    /// The other end.
    pub b: Node,
    /// path-of, same-device, volume-device, instance-volume, process-domain, process-instance,
    /// process-opens, child-of, runs-in, container-of, probe-runs-in, mounted-on, serves-domain.
    pub relation: String,
    /// The line that says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// How the edge was derived when no single line states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<String>,
}

impl AliasEdge {
    /// `file:line` of the evidence, or the derivation.
    pub fn cite(&self) -> String {
        match (&self.evidence, &self.derived) {
            (Some(e), Some(d)) => format!("{}:{} ({d})", e.path, e.line),
            (Some(e), None) => format!("{}:{}", e.path, e.line),
            (None, Some(d)) => d.clone(),
            (None, None) => "-".into(),
        }
    }
}

/// Evidence that disagrees with other evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// What disagrees, in one sentence.
    pub what: String,
    /// The lines on each side.
    pub evidence: Vec<Evidence>,
}

/// What a relation is, as bits: read once per edge, so a search compares bits, not strings.
mod flag {
    /// A storage relation ([`super::STORAGE_RELATIONS`]).
    pub const STORAGE: u8 = 1;
    /// A relation through a device ([`super::DEVICE_RELATIONS`]).
    pub const DEVICE: u8 = 2;
    /// `transport-of` or `may-carry`: followed in one direction along a path.
    pub const CARRIER: u8 = 4;
    /// `transport-of` itself.
    pub const TRANSPORT_OF: u8 = 8;
    /// One device's names ([`super::SAME_DEVICE_RELATIONS`]).
    pub const SAME_DEVICE: u8 = 16;
    /// What ties a workload to files (`mounted-on`, `process-opens`, `process-domain`, `process-instance`).
    pub const WORKLOAD: u8 = 32;
    /// A claim other evidence contradicts ([`super::HostGraph::contested`]): reported, never followed.
    pub const CONTESTED: u8 = 64;
}

fn relation_flags(rel: &str) -> u8 {
    let mut f = 0;
    if STORAGE_RELATIONS.contains(&rel) {
        f |= flag::STORAGE;
    }
    if DEVICE_RELATIONS.contains(&rel) {
        f |= flag::DEVICE;
    }
    if rel == TRANSPORT || rel == MAY_CARRY {
        f |= flag::CARRIER;
    }
    if rel == TRANSPORT {
        f |= flag::TRANSPORT_OF;
    }
    if SAME_DEVICE_RELATIONS.contains(&rel) {
        f |= flag::SAME_DEVICE;
    }
    if matches!(rel, "mounted-on" | "process-opens" | "process-domain" | "process-instance") {
        f |= flag::WORKLOAD;
    }
    f
}

/// The two ends of an edge as node indexes, and what its relation is.
#[derive(Debug, Clone, Copy)]
struct Ends {
    a: u32,
    b: u32,
    flags: u8,
}

/// An edge's relation (index into [`HostGraph::relations`]), its evidence (index into
/// [`HostGraph::evidence`], [`NO_EVIDENCE`] for none) and its derivation.
#[derive(Debug, Clone)]
struct EdgeData {
    relation: u16,
    evidence: u32,
    derived: Option<Box<str>>,
}

const NO_EVIDENCE: u32 = u32::MAX;

/// An edge as stored, borrowed: what [`AliasEdge`] owns but its derivation.
#[derive(Debug, Clone, Copy)]
pub struct EdgeRef<'g> {
    /// One end.
    pub a: &'g Node,
    /// The other end.
    pub b: &'g Node,
    /// The relation.
    pub relation: &'g str,
    /// The line that says so.
    pub evidence: Option<&'g Evidence>,
}

/// The alias graph of one host.
#[derive(Debug, Clone, Default)]
pub struct HostGraph {
    index: FxHashMap<Node, u32>,
    nodes: Vec<Node>,
    adj: Vec<Vec<u32>>,
    /// Per edge, what [`HostGraph::ends`] does not say: its relation, evidence and derivation (the
    /// ends are node indexes, so a node's names are stored once however many edges it has).
    edges: Vec<EdgeData>,
    ends: Vec<Ends>,
    /// The evidence lines of the edges; the edges one line makes share one.
    evidence: Vec<Evidence>,
    /// Relation names, interned for [`HostGraph::seen`].
    relations: Vec<String>,
    seen: FxHashSet<(u32, u32, u16)>,
    /// Conflicting evidence found (filled by [`HostGraph::finish`]).
    pub conflicts: Vec<Conflict>,
    dm_majors: Vec<(u32, Evidence)>,
    mounts: Vec<(String, Node, Evidence)>,
    file_refs: Vec<(Node, String, Evidence)>,
    syncers: Vec<(Node, Evidence)>,
    requests: HashMap<String, Vec<Node>>,
    finished: bool,
    /// The nodes in (kind, value) order, for lookups by prefix; made on first use, cleared when a
    /// node is added.
    sorted: std::sync::OnceLock<Sorted>,
}

/// [`HostGraph::sorted`]: node indexes by (kind, value), and the lengths container ids have.
#[derive(Debug, Clone, Default)]
struct Sorted {
    order: Vec<u32>,
    container_id_lens: Vec<usize>,
}

/// Reusable buffers of a breadth-first search over a [`HostGraph`] (states are a node and the
/// direction taken along transports so far: `node * 3 + dir`).
#[derive(Debug, Default)]
pub struct Search {
    depth: Vec<u32>,
    prev: Vec<(u32, u32)>,
    touched: Vec<u32>,
    goal: Vec<u32>,
    stamp: u32,
    queue: VecDeque<u32>,
}

impl Search {
    fn reset(&mut self, n: usize) {
        if self.depth.len() < n * 3 {
            self.depth.resize(n * 3, u32::MAX);
            self.prev.resize(n * 3, (u32::MAX, u32::MAX));
            self.goal.resize(n, 0);
        }
        for &st in &self.touched {
            self.depth[st as usize] = u32::MAX;
        }
        self.touched.clear();
        self.queue.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.goal.iter_mut().for_each(|g| *g = 0);
            self.stamp = 1;
        }
    }
}

impl HostGraph {
    fn id(&mut self, n: &Node) -> usize {
        if let Some(&i) = self.index.get(n) {
            return i as usize;
        }
        let i = self.nodes.len();
        self.sorted.take();
        self.nodes.push(n.clone());
        self.adj.push(Vec::new());
        self.index.insert(n.clone(), i as u32);
        i
    }

    fn relation_id(&mut self, relation: &str) -> u16 {
        match self.relations.iter().position(|r| r == relation) {
            Some(i) => i as u16,
            None => {
                self.relations.push(relation.to_string());
                (self.relations.len() - 1) as u16
            }
        }
    }

    /// True when the edge `a`-`b` of `relation` is already known (either way round).
    pub fn has(&self, a: &Node, b: &Node, relation: &str) -> bool {
        let (Some(&x), Some(&y)) = (self.index.get(a), self.index.get(b)) else { return false };
        let Some(r) = self.relations.iter().position(|r| r == relation) else { return false };
        self.seen.contains(&(x.min(y), x.max(y), r as u16))
    }

    /// Adds an edge (once per pair and relation; the first evidence is kept).
    pub fn add(&mut self, a: Node, b: Node, relation: &str, evidence: Option<Evidence>, derived: Option<String>) {
        self.add_with(a, b, relation, || evidence, derived);
    }

    /// [`HostGraph::add`] with the evidence made only when the edge is new: most lines the
    /// learner reads restate edges it already has, and an evidence owns its path and its text.
    fn add_with(
        &mut self,
        a: Node,
        b: Node,
        relation: &str,
        evidence: impl FnOnce() -> Option<Evidence>,
        derived: Option<String>,
    ) {
        if a == b {
            return;
        }
        let (x, y) = (self.id(&a) as u32, self.id(&b) as u32);
        let r = self.relation_id(relation);
        if !self.seen.insert((x.min(y), x.max(y), r)) {
            return;
        }
        let e = self.edges.len() as u32;
        let evidence = match evidence() {
            // The edges one line makes come one after another: they share its evidence.
            Some(ev) if self.evidence.last() == Some(&ev) => (self.evidence.len() - 1) as u32,
            Some(ev) => {
                self.evidence.push(ev);
                (self.evidence.len() - 1) as u32
            }
            None => NO_EVIDENCE,
        };
        self.edges.push(EdgeData { relation: r, evidence, derived: derived.map(String::into_boxed_str) });
        self.ends.push(Ends { a: x, b: y, flags: relation_flags(relation) });
        self.adj[x as usize].push(e);
        self.adj[y as usize].push(e);
    }

    /// The index of `n` in this graph, if it knows it.
    pub fn index_of(&self, n: &Node) -> Option<u32> {
        self.index.get(n).copied()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// True when other evidence contradicts edge `e` (an index into [`HostGraph::edges`]): a path
    /// claimed by two maps, one map name on two dm devices, one dm device named for two maps. Such
    /// an edge is reported under [`HostGraph::conflicts`] and never followed.
    pub fn contested(&self, e: usize) -> bool {
        self.ends.get(e).is_some_and(|x| x.flags & flag::CONTESTED != 0)
    }

    /// How many edges the graph has.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Every edge, in the order they were learnt.
    pub fn edges(&self) -> impl Iterator<Item = AliasEdge> + '_ {
        (0..self.edges.len() as u32).map(|e| self.edge(e))
    }

    /// The relation of edge `e`.
    pub fn relation(&self, e: usize) -> &str {
        &self.relations[self.edges[e].relation as usize]
    }

    /// Edge `e`, borrowed.
    pub fn edge_ref(&self, e: usize) -> EdgeRef<'_> {
        let (x, d) = (self.ends[e], &self.edges[e]);
        EdgeRef {
            a: &self.nodes[x.a as usize],
            b: &self.nodes[x.b as usize],
            relation: &self.relations[d.relation as usize],
            evidence: self.evidence.get(d.evidence as usize),
        }
    }

    /// Every edge, borrowed, with its index.
    pub fn edge_refs(&self) -> impl Iterator<Item = (usize, EdgeRef<'_>)> + '_ {
        (0..self.edges.len()).map(|e| (e, self.edge_ref(e)))
    }

    /// Adds the edge a declared tie made; a mount it names becomes a mount point files are read
    /// under (an NFS export, like a device, carries the processes writing below it).
    fn add_tie(&mut self, e: &TieEdge, evidence: Evidence, derived: Option<String>) {
        let (a, b) = (Node::new(&e.a.0, &e.a.1), Node::new(&e.b.0, &e.b.1));
        if e.relation == "mounted-on" {
            for (mp, src) in [(&a, &b), (&b, &a)] {
                if mp.kind == "mount" && !self.mounts.iter().any(|(m, d, _)| *m == mp.value && d == src) {
                    self.mounts.push((mp.value.clone(), src.clone(), evidence.clone()));
                }
            }
        }
        self.add(a, b, &e.relation, Some(evidence), derived);
    }

    /// Applies the naming conventions of `ties` (`connection3:0` is of `session3`, a by-id link
    /// names its WWID) to every node, and to the nodes that makes, a few rounds deep.
    pub fn apply_node_ties(&mut self, ties: &Ties) {
        let mut done = 0;
        for _ in 0..4 {
            let upto = self.nodes.len();
            if done == upto {
                break;
            }
            let mut buf = Vec::new();
            for i in done..upto {
                let n = self.nodes[i].clone();
                if ties.has_node_ties(&n.kind) {
                    buf.clear();
                    ties.node_edges(&n.kind, &n.value, &mut buf);
                    for e in &buf {
                        let how = format!("naming convention ({})", e.tie);
                        self.add(Node::new(&e.a.0, &e.a.1), Node::new(&e.b.0, &e.b.1), &e.relation, None, Some(how));
                    }
                }
            }
            done = upto;
        }
    }

    /// True when the graph knows `n`.
    pub fn contains(&self, n: &Node) -> bool {
        self.index.contains_key(n)
    }

    /// The full volume ids (or other values of `kind`) that start with `short` (`4f2f` ->
    /// `4f2f…-…`). More than one is a conflict the caller should report.
    pub fn resolve_short(&self, kind: &str, short: &str) -> Vec<String> {
        let short = short.trim_end_matches('…');
        self.with_prefix(kind, short)
            .map(|i| &self.nodes[i as usize].value)
            .filter(|v| short.len() >= 4 || *v == short)
            .cloned()
            .collect()
    }

    fn sorted(&self) -> &Sorted {
        self.sorted.get_or_init(|| {
            let key = |i: &u32| {
                let n = &self.nodes[*i as usize];
                (n.kind.as_str(), n.value.as_str())
            };
            let mut order: Vec<u32> = (0..self.nodes.len() as u32).collect();
            order.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
            let mut container_id_lens: Vec<usize> =
                self.nodes.iter().filter(|n| n.kind == "container_id").map(|n| n.value.len()).collect();
            container_id_lens.sort_unstable();
            container_id_lens.dedup();
            Sorted { order, container_id_lens }
        })
    }

    /// The indexes of the nodes of `kind` whose value starts with `prefix`, in value order (a
    /// binary search of [`HostGraph::sorted`], not a pass over every node).
    fn with_prefix<'a>(&'a self, kind: &'a str, prefix: &'a str) -> impl Iterator<Item = u32> + 'a {
        let order = &self.sorted().order;
        let node = move |i: u32| &self.nodes[i as usize];
        let from = order.partition_point(|&i| (node(i).kind.as_str(), node(i).value.as_str()) < (kind, prefix));
        order[from..].iter().copied().take_while(move |&i| node(i).kind == kind && node(i).value.starts_with(prefix))
    }

    /// Nodes a finding entity `(kind, value)` denotes in this graph (container ids by prefix).
    pub fn nodes_of(&self, kind: &str, value: &str) -> Vec<Node> {
        let kind = match kind {
            "path" => "devt",
            "ppid" => "pid",
            "session" => "sid",
            k => k,
        };
        if kind == "container_id" {
            // A container id and any id of 12 characters or more it starts, or that starts it
            // (`crictl ps` shows 13, the runtime's logs all 64).
            let v = value.trim_start_matches("containerd://").trim_start_matches("cri-o://");
            let mut found: Vec<u32> = Vec::new();
            if v.len() >= 12 {
                found.extend(self.with_prefix("container_id", v));
                for &len in &self.sorted().container_id_lens {
                    if (12..v.len()).contains(&len) && v.is_char_boundary(len) {
                        found.extend(
                            self.with_prefix("container_id", &v[..len])
                                .filter(|&i| self.nodes[i as usize].value.len() == len),
                        );
                    }
                }
            }
            if !found.is_empty() {
                // In the graph's order, as a pass over the nodes would give them.
                found.sort_unstable();
                found.dedup();
                return found.into_iter().map(|i| self.nodes[i as usize].clone()).collect();
            }
            return vec![Node::new("container_id", v)];
        }
        if kind == "volume" && value.len() < 36 {
            let full = self.resolve_short("volume", value);
            if !full.is_empty() {
                return full.iter().map(|v| Node::new("volume", v)).collect();
            }
        }
        vec![Node::new(kind, value)]
    }

    /// The shortest chain of edges (at most `max_hops`) from any node of `from` to any node of `to`;
    /// `via` says which relations it may use. `Some(vec![])` when the sets share a node.
    pub fn path(&self, from: &[Node], to: &[Node], via: Via, max_hops: usize) -> Option<Vec<AliasEdge>> {
        if from.iter().any(|n| to.contains(n)) {
            return Some(Vec::new());
        }
        let starts: Vec<u32> = from.iter().filter_map(|n| self.index_of(n)).collect();
        let goals: Vec<u32> = to.iter().filter_map(|n| self.index_of(n)).collect();
        let mut s = Search::default();
        let found = self.search(&starts, &goals, via, max_hops, &mut s)?;
        Some(found.into_iter().map(|e| self.edge(e)).collect())
    }

    /// [`HostGraph::path`] between node indexes, with the caller's buffers: the edge indexes of the
    /// shortest chain, in order (the caller checks first whether the two sets share a node).
    /// Contested edges are never followed.
    pub fn search(&self, starts: &[u32], goals: &[u32], via: Via, max_hops: usize, s: &mut Search) -> Option<Vec<u32>> {
        if goals.is_empty() || starts.is_empty() {
            return None;
        }
        s.reset(self.nodes.len());
        for &g in goals {
            s.goal[g as usize] = s.stamp;
        }
        for &st in starts {
            let k = st * 3;
            if s.depth[k as usize] == u32::MAX {
                s.depth[k as usize] = 0;
                s.prev[k as usize] = (u32::MAX, u32::MAX);
                s.touched.push(k);
            }
            s.queue.push_back(k);
        }
        while let Some(st) = s.queue.pop_front() {
            let (u, down) = (st / 3, (st % 3) as u8);
            let d = s.depth[st as usize];
            if s.goal[u as usize] == s.stamp {
                let mut out = Vec::new();
                let mut cur = st;
                while s.prev[cur as usize].0 != u32::MAX {
                    let (p, e) = s.prev[cur as usize];
                    out.push(e);
                    cur = p;
                }
                out.reverse();
                return Some(out);
            }
            if d as usize >= max_hops {
                continue;
            }
            for &e in &self.adj[u as usize] {
                let x = self.ends[e as usize];
                if x.flags & flag::CONTESTED != 0 {
                    continue;
                }
                let allowed = match via {
                    Via::Storage => x.flags & flag::STORAGE != 0,
                    Via::NoDevice => x.flags & flag::DEVICE == 0,
                    Via::Any => true,
                };
                if !allowed {
                    continue;
                }
                let from_a = x.a == u;
                let v = if from_a { x.b } else { x.a };
                let dir = if x.flags & flag::CARRIER != 0 {
                    let this = if from_a { 1 } else { 2 };
                    if down != 0 && down != this {
                        continue; // the other way along a transport
                    }
                    this
                } else {
                    down
                };
                let ns = v * 3 + u32::from(dir);
                if s.depth[ns as usize] == u32::MAX {
                    s.depth[ns as usize] = d + 1;
                    s.prev[ns as usize] = (st, e);
                    s.touched.push(ns);
                    s.queue.push_back(ns);
                }
            }
        }
        None
    }

    /// The connected parts of the graph over the edges `via` allows (contested edges left out):
    /// a part number per node. Two nodes in different parts have no path between them.
    pub fn parts(&self, via: Via) -> Vec<u32> {
        let mut parent: Vec<u32> = (0..self.nodes.len() as u32).collect();
        fn root(p: &mut [u32], mut i: u32) -> u32 {
            while p[i as usize] != i {
                p[i as usize] = p[p[i as usize] as usize];
                i = p[i as usize];
            }
            i
        }
        for x in &self.ends {
            if x.flags & flag::CONTESTED != 0 {
                continue;
            }
            let allowed = match via {
                Via::Storage => x.flags & flag::STORAGE != 0,
                Via::NoDevice => x.flags & flag::DEVICE == 0,
                Via::Any => true,
            };
            if allowed {
                let (ra, rb) = (root(&mut parent, x.a), root(&mut parent, x.b));
                if ra != rb {
                    parent[ra.max(rb) as usize] = ra.min(rb);
                }
            }
        }
        (0..self.nodes.len() as u32).map(|i| root(&mut parent, i)).collect()
    }

    /// The edge `e`.
    pub fn edge(&self, e: u32) -> AliasEdge {
        let r = self.edge_ref(e as usize);
        AliasEdge {
            a: r.a.clone(),
            b: r.b.clone(),
            relation: r.relation.to_string(),
            evidence: r.evidence.cloned(),
            derived: self.edges[e as usize].derived.as_deref().map(str::to_string),
        }
    }

    /// The devices a transport carries (an iSCSI connection's session, its SCSI host, the device
    /// addresses on it, their disks and maps), and their names: `transport-of` edges followed
    /// downwards only, with the names of each device. Empty for an object that carries nothing.
    pub fn carried(&self, n: &Node) -> Vec<Node> {
        let Some(s) = self.index_of(n) else { return Vec::new() };
        let mut seen = FxHashSet::from_iter([s]);
        let mut q = VecDeque::from([s]);
        let mut descended = false;
        while let Some(u) = q.pop_front() {
            for &e in &self.adj[u as usize] {
                let x = self.ends[e as usize];
                if x.flags & flag::CONTESTED != 0 {
                    continue;
                }
                let from_a = x.a == u;
                let is_transport = x.flags & flag::TRANSPORT_OF != 0;
                let ok = if is_transport { from_a } else { x.flags & flag::SAME_DEVICE != 0 };
                if !ok {
                    continue;
                }
                descended |= is_transport;
                let v = if from_a { x.b } else { x.a };
                if seen.insert(v) {
                    q.push_back(v);
                }
            }
        }
        if !descended {
            return Vec::new();
        }
        let mut out: Vec<Node> = seen.into_iter().map(|i| self.nodes[i as usize].clone()).collect();
        out.sort();
        out
    }

    /// The workloads with files on what `n` serves (an NFS server's exports, their mount points,
    /// the processes writing under them): the domains and instances of those processes, for a fault
    /// of a file server whose 'devices' are files.
    pub fn workloads_on(&self, n: &Node) -> Vec<Node> {
        let Some(s) = self.index_of(n) else { return Vec::new() };
        let mut seen = FxHashSet::from_iter([s]);
        let mut q = VecDeque::from([(s, 0usize)]);
        let mut out = Vec::new();
        while let Some((u, d)) = q.pop_front() {
            if d >= 5 {
                continue;
            }
            for &e in &self.adj[u as usize] {
                let x = self.ends[e as usize];
                if x.flags & flag::CONTESTED != 0 {
                    continue;
                }
                let from_a = x.a == u;
                let ok = if x.flags & flag::TRANSPORT_OF != 0 { from_a } else { x.flags & flag::WORKLOAD != 0 };
                if !ok {
                    continue;
                }
                let v = if from_a { x.b } else { x.a };
                if seen.insert(v) {
                    let node = &self.nodes[v as usize];
                    if node.kind == "domain" || node.kind == "instance" {
                        out.push(node.clone());
                    }
                    q.push_back((v, d + 1));
                }
            }
        }
        out.sort();
        out
    }

    /// Storage nodes tied to `n` as names of one device (including `n`): [`SAME_DEVICE_RELATIONS`],
    /// contested edges left out.
    pub fn storage_group(&self, n: &Node) -> Vec<Node> {
        let Some(s) = self.index_of(n) else { return vec![n.clone()] };
        let mut out: Vec<Node> = self.same_device(s).into_iter().map(|i| self.nodes[i as usize].clone()).collect();
        out.sort();
        out
    }

    /// Node indexes tied to `s` by same-device relations (including `s`), contested edges left out.
    fn same_device(&self, s: u32) -> Vec<u32> {
        let mut seen = FxHashSet::from_iter([s]);
        let mut q = VecDeque::from([s]);
        let mut out = vec![s];
        while let Some(u) = q.pop_front() {
            for &e in &self.adj[u as usize] {
                let x = self.ends[e as usize];
                if x.flags & flag::SAME_DEVICE == 0 || x.flags & flag::CONTESTED != 0 {
                    continue;
                }
                let v = if x.a == u { x.b } else { x.a };
                if seen.insert(v) {
                    out.push(v);
                    q.push_back(v);
                }
            }
        }
        out
    }

    /// Derives the edges no single line states (SCSI numbering, dm numbers, mounts, sync) and looks
    /// for conflicts. Idempotent.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // SCSI disk numbering: every disk name and every devt of a SCSI major seen.
        for i in 0..self.nodes.len() {
            if !matches!(self.nodes[i].kind.as_str(), "disk" | "devt") {
                continue;
            }
            let n = &self.nodes[i].clone();
            match n.kind.as_str() {
                "disk" => {
                    if let Some((ma, mi)) = scsi_devt_of(&n.value) {
                        self.add(
                            n.clone(),
                            Node::new("devt", &format!("{ma}:{mi}")),
                            "same-device",
                            None,
                            Some("sd numbering: majors 8, 65-71, 128-135, 16 minors per disk".into()),
                        );
                    }
                }
                "devt" => {
                    if let Some((ma, mi)) = split_devt(&n.value) {
                        if let Some(d) = scsi_disk_of(ma, mi) {
                            self.add(
                                n.clone(),
                                Node::new("disk", &d),
                                "same-device",
                                None,
                                Some("sd numbering: majors 8, 65-71, 128-135, 16 minors per disk".into()),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        // The device-mapper major: learnt from lines that give a map's number and its dm-N name.
        let mut majors: Vec<(u32, Evidence)> = self.dm_majors.clone();
        for (_, e) in self.edge_refs() {
            if e.relation != "same-device" {
                continue;
            }
            let (dm, devt) = match (e.a.kind.as_str(), e.b.kind.as_str()) {
                ("dm", "devt") => (e.a, e.b),
                ("devt", "dm") => (e.b, e.a),
                _ => continue,
            };
            if let (Some(n), Some((ma, mi)), Some(ev)) =
                (dm.value.strip_prefix("dm-").and_then(|x| x.parse::<u32>().ok()), split_devt(&devt.value), e.evidence)
            {
                if n == mi && !SCSI_DISK_MAJORS.contains(&ma) {
                    majors.push((ma, ev.clone()));
                }
            }
        }
        // Maps whose number and dm name are both known through one map name.
        type Named = Vec<(String, Evidence)>;
        let mut by_map: HashMap<String, (Named, Named)> = HashMap::new();
        for (_, e) in self.edge_refs() {
            if e.relation != "same-device" {
                continue;
            }
            for (m, o) in [(e.a, e.b), (e.b, e.a)] {
                if m.kind == "map" {
                    if let Some(ev) = e.evidence {
                        let slot = by_map.entry(m.value.clone()).or_default();
                        match o.kind.as_str() {
                            "dm" => slot.0.push((o.value.clone(), ev.clone())),
                            "devt" => slot.1.push((o.value.clone(), ev.clone())),
                            _ => {}
                        }
                    }
                }
            }
        }
        let mut map_names: Vec<&String> = by_map.keys().collect();
        map_names.sort();
        for m in map_names {
            let (dms, devts) = &by_map[m];
            for (dm, ev) in dms {
                for (devt, ev2) in devts {
                    if let (Some(n), Some((ma, mi))) =
                        (dm.strip_prefix("dm-").and_then(|x| x.parse::<u32>().ok()), split_devt(devt))
                    {
                        if n == mi {
                            majors.push((ma, ev2.clone()));
                        } else {
                            self.conflicts.push(Conflict {
                                what: format!("map {m} is {dm} in one line and {devt} in another (minor {mi} != {n})"),
                                evidence: vec![ev.clone(), ev2.clone()],
                            });
                        }
                    }
                }
            }
            let distinct: BTreeSet<&String> = dms.iter().map(|(d, _)| d).collect();
            if distinct.len() > 1 {
                self.conflicts.push(Conflict {
                    what: format!(
                        "map {m} is named on {} device-mapper devices: {}",
                        distinct.len(),
                        distinct.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    evidence: dms.iter().map(|(_, e)| e.clone()).collect(),
                });
            }
        }
        let distinct: BTreeSet<u32> = majors.iter().map(|(m, _)| *m).collect();
        if distinct.len() > 1 {
            self.conflicts.push(Conflict {
                what: format!(
                    "two device-mapper majors: {}",
                    distinct.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(" and ")
                ),
                evidence: majors.iter().map(|(_, e)| e.clone()).collect(),
            });
        } else if let Some((major, ev)) = majors.first().cloned() {
            for i in 0..self.nodes.len() {
                if !matches!(self.nodes[i].kind.as_str(), "devt" | "dm") {
                    continue;
                }
                let n = &self.nodes[i].clone();
                let pair = match n.kind.as_str() {
                    "devt" => split_devt(&n.value)
                        .filter(|(ma, _)| *ma == major)
                        .map(|(_, mi)| (n.clone(), Node::new("dm", &format!("dm-{mi}")))),
                    "dm" => n
                        .value
                        .strip_prefix("dm-")
                        .and_then(|x| x.parse::<u32>().ok())
                        .map(|mi| (n.clone(), Node::new("devt", &format!("{major}:{mi}")))),
                    _ => None,
                };
                if let Some((a, b)) = pair {
                    let how = format!("device-mapper major {major}, learnt from {}:{}", ev.path, ev.line);
                    self.add(a, b, "same-device", None, Some(how));
                }
            }
        }
        self.dm_majors = majors;
        // Files opened under a mount point belong to the device mounted there; sync(1) writes back
        // every mounted file system.
        let mounts = self.mounts.clone();
        for (pid, file, ev) in self.file_refs.clone() {
            if let Some((mp, dev, mev)) = mounts
                .iter()
                .filter(|(mp, _, _)| file.starts_with(mp.as_str()) && (mp == "/" || file[mp.len()..].starts_with('/')))
                .max_by_key(|(mp, _, _)| mp.len())
            {
                self.add(
                    pid.clone(),
                    Node::new("mount", mp),
                    "process-opens",
                    Some(ev),
                    Some(format!("writes {file}")),
                );
                self.add(Node::new("mount", mp), dev.clone(), "mounted-on", Some(mev.clone()), None);
            }
        }
        for (pid, ev) in self.syncers.clone() {
            for (mp, dev, mev) in &mounts {
                self.add(
                    pid.clone(),
                    Node::new("mount", mp),
                    "process-opens",
                    Some(ev.clone()),
                    Some("sync(1) writes back every mounted file system".into()),
                );
                self.add(Node::new("mount", mp), dev.clone(), "mounted-on", Some(mev.clone()), None);
            }
        }
        self.find_device_conflicts();
        self.find_path_conflicts();
    }

    /// Nodes tied to `s` by `same-device` edges alone (a disk and its number, a map and its dm
    /// device and number), contested edges left out.
    fn names_of(&self, s: u32) -> FxHashSet<u32> {
        let mut seen = FxHashSet::from_iter([s]);
        let mut q = VecDeque::from([s]);
        while let Some(u) = q.pop_front() {
            for &e in &self.adj[u as usize] {
                let x = self.ends[e as usize];
                if x.flags & flag::CONTESTED != 0 || self.relation(e as usize) != "same-device" {
                    continue;
                }
                let v = if x.a == u { x.b } else { x.a };
                if seen.insert(v) {
                    q.push_back(v);
                }
            }
        }
        seen
    }

    /// What names the device `o` is: its map names and WWIDs, and its device-mapper numbers.
    fn identity(&self, o: u32) -> Identity {
        let mut id = Identity::default();
        for n in self.names_of(o) {
            let node = &self.nodes[n as usize];
            match node.kind.as_str() {
                "map" | "wwid" => id.names.push(node.value.clone()),
                _ => id.numbers.extend(dm_number(node)),
            }
        }
        id
    }

    /// One device-mapper device named for two maps (a dm number reused, as after a reboot), and one
    /// map named on two device-mapper devices: every such name edge is contested.
    fn find_device_conflicts(&mut self) {
        let mut of_map: BTreeMap<&Node, Vec<(u32, usize)>> = BTreeMap::new();
        let mut of_number: BTreeMap<u32, Vec<(&Node, usize)>> = BTreeMap::new();
        for (ei, e) in self.edge_refs() {
            if e.relation != "same-device" {
                continue;
            }
            for (m, o) in [(e.a, e.b), (e.b, e.a)] {
                if m.kind == "map" {
                    if let Some(n) = dm_number(o) {
                        of_map.entry(m).or_default().push((n, ei));
                        of_number.entry(n).or_default().push((m, ei));
                    }
                }
            }
        }
        let mut contested: Vec<usize> = Vec::new();
        for claims in of_map.values() {
            let distinct: BTreeSet<u32> = claims.iter().map(|(n, _)| *n).collect();
            if distinct.len() > 1 {
                contested.extend(claims.iter().map(|(_, e)| *e));
            }
        }
        // A map may be named by its WWID as well as by its alias: those are one map.
        let wwids: FxHashMap<&str, Vec<&str>> = {
            let mut w: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
            for (_, e) in self.edge_refs() {
                for (m, o) in [(e.a, e.b), (e.b, e.a)] {
                    if m.kind == "map" && o.kind == "wwid" {
                        w.entry(m.value.as_str()).or_default().push(o.value.as_str());
                    }
                }
            }
            w
        };
        let same_map = |a: &str, b: &str| {
            a == b || wwids.get(a).is_some_and(|w| w.contains(&b)) || wwids.get(b).is_some_and(|w| w.contains(&a))
        };
        let mut out = Vec::new();
        for (n, claims) in &of_number {
            let mut maps: Vec<(&Node, usize)> = Vec::new();
            for &(m, e) in claims {
                if !maps.iter().any(|(x, _)| same_map(&x.value, &m.value)) {
                    maps.push((m, e));
                }
            }
            if maps.len() > 1 {
                contested.extend(claims.iter().map(|(_, e)| *e));
                out.push(Conflict {
                    what: format!(
                        "dm-{n} is named for {} maps: {} (a device-mapper number reused, as after a reboot)",
                        maps.len(),
                        maps.iter().map(|(m, _)| m.value.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    evidence: maps.iter().filter_map(|(_, e)| self.edge_ref(*e).evidence.cloned()).collect(),
                });
            }
        }
        for e in contested {
            self.ends[e].flags |= flag::CONTESTED;
        }
        self.conflicts.extend(out);
    }

    /// A path (a disk and its device number are one path) claimed by maps that are not the same
    /// device: every claim on it is contested.
    fn find_path_conflicts(&mut self) {
        let mut class_of: FxHashMap<u32, u32> = FxHashMap::default();
        let mut claims: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
        for ei in 0..self.edges.len() {
            if self.relation(ei) != "path-of" || self.ends[ei].flags & flag::CONTESTED != 0 {
                continue;
            }
            let p = self.ends[ei].b;
            let rep = match class_of.get(&p) {
                Some(&r) => r,
                None => {
                    let names = self.names_of(p);
                    let r = *names.iter().min().expect("a node names itself");
                    for n in names {
                        class_of.insert(n, r);
                    }
                    r
                }
            };
            claims.entry(rep).or_default().push(ei);
        }
        // In the order of the first path name claimed (the smallest node), for a stable report.
        let mut classes: Vec<(&Node, &Vec<usize>)> =
            claims.values().map(|c| (c.iter().map(|&e| self.edge_ref(e).b).min().expect("a claim"), c)).collect();
        classes.sort();
        let mut out = Vec::new();
        let mut contested = Vec::new();
        for (p, edges) in classes {
            // Owners known to be different devices: different map names (a map named by its WWID is
            // the map with that WWID), or different device-mapper numbers. A map name and a number
            // not known to be one device are not a contradiction.
            let mut distinct: Vec<(u32, Identity, Option<Evidence>)> = Vec::new();
            for &e in edges {
                let o = self.ends[e].a;
                let id = self.identity(o);
                if distinct.iter().all(|(_, d, _)| d.differs(&id)) {
                    distinct.push((o, id, self.edge_ref(e).evidence.cloned()));
                }
            }
            if distinct.len() > 1 {
                contested.extend(edges.iter().copied());
                out.push(Conflict {
                    what: format!(
                        "path {} is claimed by {} maps: {}",
                        p.value,
                        distinct.len(),
                        distinct
                            .iter()
                            .map(|(n, _, _)| self.nodes[*n as usize].value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    evidence: distinct.into_iter().filter_map(|(_, _, e)| e).collect(),
                });
            }
        }
        for e in contested {
            self.ends[e].flags |= flag::CONTESTED;
        }
        self.conflicts.extend(out);
    }
}

/// The device-mapper number a node names: `dm-N`, or the minor of a device number that is not a
/// SCSI disk's.
fn dm_number(n: &Node) -> Option<u32> {
    match n.kind.as_str() {
        "dm" => n.value.strip_prefix("dm-").and_then(|x| x.parse().ok()),
        "devt" => split_devt(&n.value).filter(|(ma, _)| !SCSI_DISK_MAJORS.contains(ma)).map(|(_, mi)| mi),
        _ => None,
    }
}

/// The names of one device that tell it from another: map names and WWIDs, device-mapper numbers.
#[derive(Debug, Default)]
struct Identity {
    names: Vec<String>,
    numbers: Vec<u32>,
}

impl Identity {
    /// True when the two are known to be different devices.
    fn differs(&self, o: &Identity) -> bool {
        let names = !self.names.is_empty() && !o.names.is_empty() && !self.names.iter().any(|n| o.names.contains(n));
        let numbers =
            !self.numbers.is_empty() && !o.numbers.is_empty() && !self.numbers.iter().any(|n| o.numbers.contains(n));
        names || numbers
    }
}

fn split_devt(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Regexes of the alias learner, compiled once.
struct Patterns {
    /// What a message must hold for each of the patterns `Learner::feed_wanted` runs on every
    /// message to match, in the order of the `set` indices: only those it may match run (with
    /// captures). The learner tests them together with its ties' ([`Learner::needs`]).
    needs: Vec<Needs>,
    table: Regex,
    devt: Regex,
    mpath_header: Regex,
    path_line: Regex,
    dmsetup_ls: Regex,
    dm_failing: Regex,
    req: Regex,
    instance: Regex,
    volume: Regex,
    dev_dm: Regex,
    dev_mapper: Regex,
    dev_link: Regex,
    wwn: Regex,
    guest: Regex,
    qemu_uuid: Regex,
    proc_stat: Regex,
    pid_state: Regex,
    mount_cmd: Regex,
    df_row: Regex,
    proc_mounts: Regex,
    fd_link: Regex,
    file_arg: Regex,
    container_id: Regex,
    pod: Regex,
    container_name: Regex,
    exec_cmd: Regex,
    probe_output: Regex,
    create_container: Regex,
    sandbox: Regex,
    libvirt_version: Regex,
    domain: Regex,
    hung_task: Regex,
}

impl Patterns {
    fn new() -> Patterns {
        let r = |s: &str| Regex::new(&ascii_classes(s)).expect("alias pattern compiles");
        let mut p = Patterns {
            needs: Vec::new(),
            table: r(r"(?P<map>[\w.:-]+): (?:addmap|load table) \[(?P<table>[^\]]*)\]"),
            devt: r(r"\b(\d+:\d+)\b"),
            mpath_header: r(
                r"(?m)^(?:create: |reload: |switchpg: )?(?P<map>[\w.:-]+) \((?P<wwid>\w+)\) (?P<dm>dm-\d+)\b",
            ),
            path_line: r(r"(?m)\d+:\d+:\d+:\d+\s+(?P<disk>sd[a-z]+)\s+(?P<devt>\d+:\d+)\b"),
            dmsetup_ls: r(r"(?m)^(?P<map>[\w.:-]+)\s+\((?P<devt>\d+:\d+)\)\s*$"),
            dm_failing: r(
                r"device-mapper: multipath: (?P<devt>\d+:\d+): (?:Failing|Reinstating) path (?P<path>\d+:\d+)",
            ),
            req: r(r"\[(?P<req>req-[0-9a-f-]{36})"),
            instance: r(r"\[instance: (?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]"),
            volume: r(
                r#"(?:[Vv]olume[ _]id['"]?[:=] ?['"]?|[Vv]olume |volume-)(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"#,
            ),
            dev_dm: r(r"/dev/(?P<dm>dm-\d+)\b"),
            dev_mapper: r(r"/dev/mapper/(?P<map>[\w.:-]+)"),
            dev_link: r(r#"(?P<path>/dev/disk/by-[a-z]+/[^\s,"'\\]+)"#),
            wwn: r(r#"(?:scsi_wwn|multipath_id)['"]?: ['"](?P<wwid>\w{8,})['"]"#),
            guest: r(r"-name (?:guest=)?(?P<domain>[\w.-]+)"),
            qemu_uuid: r(r"-uuid (?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"),
            proc_stat: r(r"(?m)^(?P<pid>\d+) \((?P<comm>[^)\n]{1,16})\) [DRSZTIXtWP] (?P<ppid>\d+) "),
            pid_state: r(r"(?m)^pid=(?P<pid>\d+) state=\w comm=(?P<comm>\S+) ppid=(?P<ppid>\d+)"),
            mount_cmd: r(r"\bmount\b.*?(?P<dev>/dev/\S+) (?P<mp>/\S*)\s*$"),
            df_row: r(r"^(?P<dev>/dev/\S+)\s+\S+\s+\S+\s+\S+\s+\d+%\s+(?P<mp>/\S*)\s*$"),
            // /proc/mounts and /etc/mtab: `/dev/mapper/mpatha /var/lib/libvirt ext4 rw,relatime 0 0`
            proc_mounts: r(r"^(?P<dev>/dev/\S+) (?P<mp>/\S*) \S+ \S+ \d+ \d+\s*$"),
            // A task's open file or working directory (`find /proc/PID/fd -printf '%p -> %l'`, `ls -l`).
            fd_link: r(r"(?:^|\s)/proc/(?P<pid>\d+)/(?:fd/\d+|cwd) -> (?P<file>/\S+)\s*$"),
            file_arg: r(r#"(?:^|[\s="])(?P<file>/[\w.+-]+(?:/[\w.+-]+)+)"#),
            container_id: r(r#"containerID=\\?"(?:containerd://|cri-o://|docker://)?(?P<id>[0-9a-f]{12,64})\\?""#),
            pod: r(r#"\bpod=\\?"(?:(?P<ns>[\w.-]+)/)?(?P<pod>[\w.-]+)\\?""#),
            container_name: r(r#"containerName=\\?"(?P<name>[\w.-]+)\\?""#),
            exec_cmd: r(r#"cmd=\[(?P<cmd>"[^\]]*")\]"#),
            probe_output: r(r#"output=\\?"command \\?\\?"(?P<cmd>[^"\\]+)\\?\\?" timed out"#),
            create_container: r(
                r#"CreateContainer within sandbox \\?"(?P<sb>[0-9a-f]{12,64})\\?" for &ContainerMetadata\{Name:(?P<name>[\w.-]+),Attempt:\d+,\} returns container id \\?"(?P<id>[0-9a-f]{12,64})\\?""#,
            ),
            sandbox: r(
                r#"RunPodSandbox for &PodSandboxMetadata\{Name:(?P<pod>[\w.-]+),Uid:[\w-]+,Namespace:(?P<ns>[\w.-]+),Attempt:\d+,\} returns sandbox id \\?"(?P<sb>[0-9a-f]{12,64})\\?""#,
            ),
            libvirt_version: r(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+\d{4}: (?P<pid>\d+): info : libvirt version: "),
            domain: r(r"\b(?:for domain |domain=|vm=|name=)?(?P<domain>instance-[0-9a-f]{8})\b"),
            hung_task: r(r"task (?P<comm>[^\n]{1,64}?):(?P<pid>\d+) blocked for more than"),
        };
        p.needs = p.gated().map(|re| Needs::of(re.as_str(), true)).to_vec();
        p
    }

    /// The patterns `needs` gates, in its order.
    fn gated(&self) -> [&Regex; 15] {
        let p = self;
        [
            &p.table,
            &p.mpath_header,
            &p.dmsetup_ls,
            &p.dm_failing,
            &p.req,
            &p.instance,
            &p.volume,
            &p.proc_stat,
            &p.pid_state,
            &p.hung_task,
            &p.fd_link,
            &p.container_id,
            &p.probe_output,
            &p.sandbox,
            &p.create_container,
        ]
    }
}

/// `pattern` with its Perl classes made ASCII (`\w`, `\d`, `\s` and their negations, inside
/// brackets or not) and its word boundaries ASCII (`\b`, `\B`): the names the learner reads are
/// ASCII, and Unicode classes make each automaton many times larger and slower to run. A `str`
/// regex cannot simply turn Unicode off (`.` and negated classes would then match bytes that are
/// not UTF-8), hence the rewrite of the classes alone. Nested brackets (`[[:alpha:]]`, `[a&&[b]]`)
/// are not followed: the learner's patterns have none, and a test compiles every one of them.
fn ascii_classes(pattern: &str) -> String {
    const SPACE: &str = r"\t\n\x0B\x0C\r ";
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut in_class = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push(c);
                    break;
                };
                let (inside, outside) = match e {
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]".to_string()),
                    'd' => ("0-9", "[0-9]".to_string()),
                    's' => (SPACE, format!("[{SPACE}]")),
                    'W' if !in_class => ("", "[^0-9A-Za-z_]".to_string()),
                    'D' if !in_class => ("", "[^0-9]".to_string()),
                    'S' if !in_class => ("", format!("[^{SPACE}]")),
                    'b' if !in_class => ("", r"(?-u:\b)".to_string()),
                    'B' if !in_class => ("", r"(?-u:\B)".to_string()),
                    _ => {
                        out.push(c);
                        out.push(e);
                        continue;
                    }
                };
                out.push_str(if in_class { inside } else { &outside });
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` first in a class (or after `^`) is a literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().expect("peeked"));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().expect("peeked"));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Indices of [`Patterns::needs`].
mod set {
    pub const TABLE: usize = 0;
    pub const MPATH_HEADER: usize = 1;
    pub const DMSETUP_LS: usize = 2;
    pub const DM_FAILING: usize = 3;
    pub const REQ: usize = 4;
    pub const INSTANCE: usize = 5;
    pub const VOLUME: usize = 6;
    pub const PROC_STAT: usize = 7;
    pub const PID_STATE: usize = 8;
    pub const HUNG_TASK: usize = 9;
    pub const FD_LINK: usize = 10;
    pub const CONTAINER_ID: usize = 11;
    pub const PROBE_OUTPUT: usize = 12;
    pub const SANDBOX: usize = 13;
    pub const CREATE_CONTAINER: usize = 14;
}

/// Which of [`Patterns::needs`] a message meets.
struct Admitted<'a>(&'a [bool]);

impl Admitted<'_> {
    fn matched(&self, i: usize) -> bool {
        self.0[i]
    }
}

/// `re`'s matches in `h` with their captures, none when `on` is false.
fn caps_iter<'r, 'h>(on: bool, re: &'r Regex, h: &'h str) -> impl Iterator<Item = regex::Captures<'h>> + use<'r, 'h> {
    // Boxed: most calls are off, and an unboxed iterator is a large value to build and move.
    on.then(|| Box::new(re.captures_iter(h))).into_iter().flatten()
}

/// `re`'s first match in `h` with its captures, none when `on` is false.
fn caps<'h>(on: bool, re: &Regex, h: &'h str) -> Option<regex::Captures<'h>> {
    if on {
        re.captures(h)
    } else {
        None
    }
}

/// The learner's cheap first test, usable on another thread: events it turns down teach the
/// learner nothing, so they need not be made into owned events or sent to it.
///
/// It wants a message that [`prefilter`] matches or that the pack's ties want ([`Ties::wants`]),
/// found in one pass: the literals of both (every alternative of [`PREFILTER`] that has one, every
/// tie pattern's) are looked for together, and only where one occurs is what it stands for checked
/// (its alternative, or the rest of what the tie's pattern needs). The alternatives without a
/// literal run as one expression, and so do the ties' patterns without one.
#[derive(Debug, Clone)]
pub struct Gate {
    ties: Ties,
    /// The alternatives of [`PREFILTER`] that have a literal, each alone (`None`: the alternative
    /// is its literal, found already).
    own: Vec<Option<regex::bytes::Regex>>,
    /// The literals of `own` and of the ties ([`Ties::wanted_literals`]).
    literals: Literals,
    /// What each of `literals` stands for.
    meaning: Vec<Vec<Lit>>,
    /// The alternatives of [`PREFILTER`] without a literal, as one expression.
    rest: Option<regex::bytes::Regex>,
}

/// What a literal the gate finds stands for.
#[derive(Debug, Clone, Copy)]
enum Lit {
    /// An alternative of `Gate::own`.
    Own(u32),
    /// A literal of [`Ties::wanted_literals`].
    Tie(u32),
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

impl Gate {
    /// The gate of [`Learner::feed`] without declared ties.
    pub fn new() -> Gate {
        Gate::with_ties(Ties::default())
    }

    /// The gate of a [`Learner::with_ties`].
    pub fn with_ties(ties: Ties) -> Gate {
        let mut found: Vec<(Vec<u8>, Lit)> =
            ties.wanted_literals().iter().enumerate().map(|(i, l)| (l.clone(), Lit::Tie(i as u32))).collect();
        let (mut own, mut rest) = (Vec::new(), Vec::new());
        for alt in PREFILTER {
            match rootline_rules::engine::necessary_literals(alt) {
                Some(lits) => {
                    let i = own.len() as u32;
                    let plain = lits.len() == 1 && lits[0] == alt.as_bytes() && regex::escape(alt) == *alt;
                    own.push((!plain).then(|| regex::bytes::Regex::new(alt).expect("prefilter alternative compiles")));
                    found.extend(lits.into_iter().map(|l| (l, Lit::Own(i))));
                }
                None => rest.push(*alt),
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut distinct, mut meaning): (Vec<Vec<u8>>, Vec<Vec<Lit>>) = (Vec::new(), Vec::new());
        for (l, what) in found {
            if distinct.last() != Some(&l) {
                distinct.push(l);
                meaning.push(Vec::new());
            }
            meaning.last_mut().expect("a literal").push(what);
        }
        let rest = (!rest.is_empty()).then(|| regex::bytes::Regex::new(&rest.join("|")).expect("prefilter compiles"));
        Gate { ties, own, literals: Literals::new(distinct), meaning, rest }
    }

    /// Whether [`Learner::feed`] would look at `ev` (a merged event: no entities, so only its
    /// [`LEARNT_FIELDS`] and its message count).
    pub fn wants(&self, ev: &EventRef<'_>) -> bool {
        ev.fields.has_any(LEARNT_FIELDS) || self.wants_message(ev.message)
    }

    /// The literals the gate looks for: a caller that finds them in its own pass over the message
    /// ([`rootline_rules::Engine::scan_watching`]) asks [`Gate::wants_found`].
    pub fn literals(&self) -> &[Vec<u8>] {
        self.literals.literals()
    }

    /// [`Gate::wants`] when `found` are the indices in [`Gate::literals`] of the literals `ev`'s
    /// message holds.
    pub fn wants_found(&self, ev: &EventRef<'_>, found: &[u32]) -> bool {
        ev.fields.has_any(LEARNT_FIELDS)
            || self.ties.wants_every_message()
            || found.iter().any(|&li| self.literal_wants(li as usize, ev.message))
            || self.wants_without_literal(ev.message)
    }

    /// Whether [`prefilter`] matches `message` or the ties want it.
    fn wants_message(&self, message: &[u8]) -> bool {
        if self.ties.wants_every_message() {
            return true;
        }
        let mut any = false;
        self.literals.find(message, |li| any = any || self.literal_wants(li, message));
        any || self.wants_without_literal(message)
    }

    /// Whether what literal `li` stands for matches `message`, which holds it.
    fn literal_wants(&self, li: usize, message: &[u8]) -> bool {
        self.meaning[li].iter().any(|&m| match m {
            Lit::Own(a) => self.own[a as usize].as_ref().is_none_or(|re| re.is_match(message)),
            Lit::Tie(t) => self.ties.literal_wants(t as usize, message),
        })
    }

    /// Whether an alternative of [`PREFILTER`] or a tie pattern without a literal matches.
    fn wants_without_literal(&self, message: &[u8]) -> bool {
        self.rest.as_ref().is_some_and(|re| re.is_match(message)) || self.ties.loose_wants(message)
    }
}

/// Fields of parsed command outputs the learner reads names from, whatever the line says: a `ps`
/// row's `pid`, a CRI line's `container_id`, `multipathd show paths` rows (`disk`, `map`), `dmsetup
/// info -c` rows (`map`, `major`, `minor`), a `multipath -ll` path line under its map (`map`).
const LEARNT_FIELDS: &[&str] = &["pid", "container_id", "map", "disk", "major"];

/// What a message must contain for [`Learner::feed_wanted`] to learn from it (beside
/// [`LEARNT_FIELDS`] and the pack's ties): a map table or header, a device number, a dm name, a
/// device path, an open file, a volume id, a WWID, a task's state, a Kubernetes container (an id, the
/// id a `CreateContainer` or `RunPodSandbox` returns, a probe's timed-out command). An
/// oslo.log line's request and instance teach nothing without a volume or a device on some line,
/// and a `ps` row's arguments (qemu's `-name guest=`, `/dev/...`) come with its `pid` field.
#[cfg(test)]
fn prefilter() -> regex::bytes::Regex {
    regex::bytes::Regex::new(&PREFILTER.join("|")).expect("prefilter compiles")
}

/// The alternatives of [`prefilter`].
const PREFILTER: &[&str] = &[
    "addmap",
    "load table",
    "multipath",
    r"dm-\d",
    r"/(?:fd/\d+|cwd) -> ",
    r"\(\d+:\d+\)",
    "[Vv]olume[ _]id",
    "[Vv]olume [0-9a-f]{8}-",
    "volume-[0-9a-f]{8}-",
    "/dev/",
    "scsi_wwn",
    "containerID",
    "returns container id",
    "returns sandbox id",
    r#"output=\\?"command "#,
    "libvirt version",
    r"\) [DRSZTI] \d",
    r"pid=\d",
    "blocked for more than",
];

/// Feeds events, keeps one [`HostGraph`] per host.
pub struct Learner {
    p: Patterns,
    /// Graphs by host (`None`: events without a host name).
    pub hosts: HashMap<Option<String>, HostGraph>,
    sandboxes: HashMap<String, (Node, Evidence)>,
    /// The pack's ties (`rules/ties/`): which lines tie which names.
    ties: Ties,
    /// What [`Learner::feed`] looks at.
    gate: Gate,
    /// The needs of the ties' patterns ([`Ties::pattern_needs`]) then of the learner's own
    /// ([`Patterns::needs`]): one pass over a message tells which of both may match it.
    needs: NeedsSet,
    /// Which of `needs` the message being fed meets (kept for its allocation).
    admitted: Vec<bool>,
    sequencer: Sequencer,
    tie_buf: Vec<TieEdge>,
}

impl Default for Learner {
    fn default() -> Self {
        Learner::new()
    }
}

fn evidence(ev: &Event) -> Evidence {
    Evidence {
        path: ev.provenance.path.to_string(),
        line: ev.provenance.line,
        time: ev.time,
        text: String::from_utf8_lossy(ev.headline()).into_owned(),
    }
}

/// An entity of the event, else a field of that name (parsers put path-derived names in fields).
fn ent<'a>(ev: &'a Event, kind: &str) -> Option<&'a str> {
    ev.entities.iter().find(|e| &*e.kind == kind).map(|e| &*e.value).or_else(|| ev.field(kind))
}

impl Learner {
    /// A learner with no evidence yet and no declared ties (only the built-in mechanisms).
    pub fn new() -> Learner {
        Learner::with_ties(Ties::default())
    }

    /// A learner that also applies the pack's declared ties.
    pub fn with_ties(ties: Ties) -> Learner {
        let sequencer = ties.sequencer();
        let p = Patterns::new();
        let needs = NeedsSet::new(&[ties.pattern_needs(), &p.needs].concat());
        Learner {
            p,
            hosts: HashMap::new(),
            sandboxes: HashMap::new(),
            gate: Gate::with_ties(ties.clone()),
            ties,
            needs,
            admitted: Vec::new(),
            sequencer,
            tie_buf: Vec::new(),
        }
    }

    /// Learns what one event says about names.
    pub fn feed(&mut self, ev: &Event) {
        if !self.gate.wants(&EventRef::from(ev)) && ent(ev, "container_id").is_none() {
            return;
        }
        self.feed_wanted(ev);
    }

    /// What the pack's declared ties say about `ev`: line ties, and kernel sequences it completes.
    /// `patterns`: which of [`Ties::pattern_needs`] the message meets.
    fn learn_ties(&mut self, ev: &Event, patterns: Vec<bool>) {
        let Some(run) = self.ties.candidates_among(patterns) else { return };
        let mut buf = std::mem::take(&mut self.tie_buf);
        buf.clear();
        self.ties.line_edges_of(ev, &run, &mut buf);
        let seq = self.sequencer.feed_of(&self.ties, ev, &run);
        if buf.is_empty() && seq.is_empty() {
            self.tie_buf = buf;
            return;
        }
        let host = ev.host.as_deref().map(str::to_string);
        let g = self.hosts.entry(host).or_default();
        for e in &buf {
            g.add_tie(e, evidence(ev), None);
        }
        for s in &seq {
            let group =
                if s.of_group > 1 { format!(", one of {} that began together", s.of_group) } else { String::new() };
            let how = format!("{} s after {}{group} ({})", round2(s.delay_secs), s.after, s.edge.tie);
            g.add_tie(&s.edge, evidence(ev), Some(how));
        }
        self.tie_buf = buf;
    }

    /// [`Learner::feed`] for an event [`Gate::wants`] admitted (the gate is not run again).
    pub fn feed_wanted(&mut self, ev: &Event) {
        // The ties look at the message's bytes, the learner's patterns at its text: one pass when
        // they are the same (the message is UTF-8), else one over each.
        let mut admitted = std::mem::take(&mut self.admitted);
        let msg = ev.message_str();
        let ties = self.ties.pattern_needs().len();
        self.needs.admitted(&ev.message, &mut admitted);
        let tie_patterns = admitted[..ties].to_vec();
        if let std::borrow::Cow::Owned(text) = &msg {
            self.needs.admitted(text.as_bytes(), &mut admitted);
        }
        self.learn_ties(ev, tie_patterns);
        let is_ps = ev.field("pid").is_some() && ev.field("container_id").is_none();
        let cri_id = ent(ev, "container_id").map(str::to_string);
        let host = ev.host.as_deref().map(str::to_string);
        let p = &self.p;
        let m = Admitted(&admitted[ties..]);
        let g = self.hosts.entry(host).or_default();
        let evd = || evidence(ev);
        // Maps and their paths.
        for c in caps_iter(m.matched(set::TABLE), &p.table, &msg) {
            let map = Node::new("map", &c["map"]);
            for d in p.devt.captures_iter(&c["table"]) {
                g.add_with(map.clone(), Node::new("devt", &d[1]), "path-of", || Some(evd()), None);
            }
        }
        if msg.contains(": 0 ") && msg.contains(" multipath ") {
            // dmsetup table: `mpathb: 0 2097152 multipath 1 queue_if_no_path ... 65:32 1 65:48 1`
            if let Some((name, rest)) = msg.split_once(": 0 ") {
                if !name.contains(' ') && rest.contains(" multipath ") {
                    let map = Node::new("map", name.trim());
                    for d in p.devt.captures_iter(rest) {
                        g.add_with(map.clone(), Node::new("devt", &d[1]), "path-of", || Some(evd()), None);
                    }
                }
            }
        }
        let mut header_map: Option<Node> = None;
        for c in caps_iter(m.matched(set::MPATH_HEADER), &p.mpath_header, &msg) {
            let map = Node::new("map", &c["map"]);
            g.add_with(map.clone(), Node::new("wwid", &c["wwid"]), "same-device", || Some(evd()), None);
            g.add_with(map.clone(), Node::new("dm", &c["dm"]), "same-device", || Some(evd()), None);
            header_map = Some(map);
        }
        let header_map = header_map.or_else(|| ev.field("map").map(|m| Node::new("map", m)));
        if let Some(map) = &header_map {
            for c in p.path_line.captures_iter(&msg) {
                g.add_with(map.clone(), Node::new("disk", &c["disk"]), "path-of", || Some(evd()), None);
                g.add_with(
                    Node::new("disk", &c["disk"]),
                    Node::new("devt", &c["devt"]),
                    "same-device",
                    || Some(evd()),
                    None,
                );
            }
        }
        // multipathd show paths rows: fields disk, devt, map.
        if let (Some(d), Some(m)) = (ev.field("disk"), ev.field("map")) {
            g.add_with(Node::new("map", m), Node::new("disk", d), "path-of", || Some(evd()), None);
            if let Some(t) = ev.field("devt") {
                g.add_with(Node::new("disk", d), Node::new("devt", t), "same-device", || Some(evd()), None);
            }
        }
        // dmsetup info -c rows: map, major, minor.
        if let (Some(m), Some(ma), Some(mi)) = (ev.field("map"), ev.field("major"), ev.field("minor")) {
            g.add_with(
                Node::new("map", m),
                Node::new("devt", &format!("{ma}:{mi}")),
                "same-device",
                || Some(evd()),
                None,
            );
        }
        for c in caps_iter(m.matched(set::DMSETUP_LS), &p.dmsetup_ls, &msg) {
            g.add_with(Node::new("map", &c["map"]), Node::new("devt", &c["devt"]), "same-device", || Some(evd()), None);
        }
        for c in caps_iter(m.matched(set::DM_FAILING), &p.dm_failing, &msg) {
            g.add_with(Node::new("devt", &c["devt"]), Node::new("devt", &c["path"]), "path-of", || Some(evd()), None);
            // dm-mpath names its own device by number (`253:4: Failing path`): that major is
            // device-mapper's, so 253:4 is dm-4. See: drivers/md/dm-mpath.c fail_path (DMWARN("%s:
            // Failing path %s.", dm_table_device_name(...), ...)).
            if let Some((major, _)) = split_devt(&c["devt"]) {
                if !SCSI_DISK_MAJORS.contains(&major) && !g.dm_majors.iter().any(|(m, _)| *m == major) {
                    g.dm_majors.push((major, evd()));
                }
            }
        }
        // OpenStack: instance, volume, device, request.
        let req = caps(m.matched(set::REQ), &p.req, &msg)
            .map(|c| c["req"].to_string())
            .or_else(|| ev.field("request_id").filter(|r| r.starts_with("req-")).map(str::to_string));
        let inst = caps(m.matched(set::INSTANCE), &p.instance, &msg)
            .map(|c| Node::new("instance", &c["id"]))
            .or_else(|| ev.field("instance").map(|i| Node::new("instance", i)));
        let vols: Vec<Node> =
            caps_iter(m.matched(set::VOLUME), &p.volume, &msg).map(|c| Node::new("volume", &c["id"])).collect();
        let is_oslo = req.is_some() || inst.is_some() || msg.contains("os_brick") || msg.contains("nova.");
        if is_oslo {
            let mut devs: Vec<Node> = p.dev_dm.captures_iter(&msg).map(|c| Node::new("dm", &c["dm"])).collect();
            devs.extend(p.wwn.captures_iter(&msg).map(|c| Node::new("wwid", &c["wwid"])));
            devs.extend(p.dev_mapper.captures_iter(&msg).map(|c| Node::new("map", &c["map"])));
            devs.sort();
            devs.dedup();
            if let (Some(i), false) = (&inst, vols.is_empty()) {
                for v in &vols {
                    g.add_with(i.clone(), v.clone(), "instance-volume", || Some(evd()), None);
                }
            }
            let mut vols_here = vols.clone();
            if let Some(r) = &req {
                let known = g.requests.entry(r.clone()).or_default();
                for v in &vols {
                    if !known.contains(v) {
                        known.push(v.clone());
                    }
                }
                if vols_here.is_empty() && known.len() == 1 {
                    vols_here = known.clone();
                }
            }
            for v in &vols_here {
                for d in &devs {
                    let how = if vols.is_empty() { req.as_ref().map(|r| format!("same request {r}")) } else { None };
                    g.add_with(v.clone(), d.clone(), "volume-device", || Some(evd()), how);
                }
            }
        }
        // Processes: ps rows, /proc/PID/stat, per-task state lines.
        if is_ps {
            if let Some(pid) = ev.field("pid").filter(|s| s.parse::<u32>().is_ok()) {
                let pn = Node::new("pid", pid);
                if let Some(pp) = ev.field("ppid").and_then(|s| s.parse::<u32>().ok()).filter(|&x| x > 2) {
                    g.add_with(pn.clone(), Node::new("pid", &pp.to_string()), "child-of", || Some(evd()), None);
                }
                let args = ev.field("command").unwrap_or(&msg).to_string();
                learn_args(p, g, &pn, &args, ev);
            }
        }
        for c in caps_iter(m.matched(set::PROC_STAT), &p.proc_stat, &msg).chain(caps_iter(
            m.matched(set::PID_STATE),
            &p.pid_state,
            &msg,
        )) {
            if let Ok(pp) = c["ppid"].parse::<u32>() {
                if pp > 2 {
                    g.add_with(
                        Node::new("pid", &c["pid"]),
                        Node::new("pid", &c["ppid"]),
                        "child-of",
                        || Some(evd()),
                        None,
                    );
                }
            }
            if &c["comm"] == "sync" {
                g.syncers.push((Node::new("pid", &c["pid"]), evd()));
            }
        }
        if let Some(c) = caps(m.matched(set::HUNG_TASK), &p.hung_task, &msg) {
            let pid = Node::new("pid", &c["pid"]);
            if c["comm"].starts_with("jbd2/dm-") {
                let dm = c["comm"].trim_start_matches("jbd2/").rsplit_once('-').map(|(d, _)| d.to_string());
                if let Some(dm) = dm {
                    g.add_with(
                        pid.clone(),
                        Node::new("dm", &dm),
                        "process-opens",
                        || Some(evd()),
                        Some("journal thread of".into()),
                    );
                }
            }
            if &c["comm"] == "sync" {
                g.syncers.push((pid, evd()));
            }
        }
        // Open files of a task (a bundle's snapshots/proc-pid-fd.txt).
        if let Some(c) = caps(m.matched(set::FD_LINK), &p.fd_link, &msg) {
            let pn = Node::new("pid", &c["pid"]);
            let f = &c["file"];
            if let Some(dev) = device_node(p, f) {
                g.add_with(pn, dev, "process-opens", || Some(evd()), Some(format!("has {f} open")));
            } else if !f.starts_with("/proc/") && !f.starts_with("/sys/") {
                g.file_refs.push((pn, f.to_string(), evd()));
            }
        }
        // Mounts (each of the three forms names a device under `/dev/`: most lines are ruled out
        // without running them).
        let dev_in = |b: &[u8]| memchr::memmem::find(b, b"/dev/").is_some();
        let head = if dev_in(ev.headline()) || ev.field("command").is_some_and(|c| dev_in(c.as_bytes())) {
            String::from_utf8_lossy(ev.headline()).into_owned()
        } else {
            String::new()
        };
        let cmd = ev.field("command").unwrap_or(&head);
        for line in [cmd, head.as_str()].into_iter().filter(|l| dev_in(l.as_bytes())) {
            if let Some(c) =
                p.mount_cmd.captures(line).or_else(|| p.df_row.captures(line)).or_else(|| p.proc_mounts.captures(line))
            {
                if let Some(dev) = device_node(p, &c["dev"]) {
                    let mp = c["mp"].to_string();
                    if !g.mounts.iter().any(|(m, d, _)| *m == mp && *d == dev) {
                        g.mounts.push((mp, dev, evd()));
                    }
                }
                break;
            }
        }
        // Kubernetes: container ids, pods, container names, probe commands.
        if let Some(c) = caps(m.matched(set::CONTAINER_ID), &p.container_id, &msg) {
            let id = Node::new("container_id", &c["id"]);
            if let Some(pc) = p.pod.captures(&msg) {
                g.add_with(id.clone(), Node::new("pod", &pc["pod"]), "container-of", || Some(evd()), None);
            }
            if let Some(nc) = p.container_name.captures(&msg) {
                g.add_with(id.clone(), Node::new("container", &nc["name"]), "container-of", || Some(evd()), None);
            }
            if let Some(x) = p.exec_cmd.captures(&msg) {
                let cmd: String = x["cmd"].split(',').map(|s| s.trim().trim_matches('"')).collect::<Vec<_>>().join(" ");
                g.add_with(Node::new("probe_cmd", &cmd), id.clone(), "probe-runs-in", || Some(evd()), None);
            }
        }
        if let Some(x) = caps(m.matched(set::PROBE_OUTPUT), &p.probe_output, &msg) {
            if let Some(pc) = p.pod.captures(&msg) {
                g.add_with(
                    Node::new("probe_cmd", &x["cmd"]),
                    Node::new("pod", &pc["pod"]),
                    "probe-runs-in",
                    || Some(evd()),
                    None,
                );
            }
        }
        if let Some(c) = caps(m.matched(set::SANDBOX), &p.sandbox, &msg) {
            self.sandboxes.insert(c["sb"].to_string(), (Node::new("pod", &c["pod"]), evd()));
        }
        if let Some(c) = caps(m.matched(set::CREATE_CONTAINER), &p.create_container, &msg) {
            let id = Node::new("container_id", &c["id"]);
            g.add_with(id.clone(), Node::new("container", &c["name"]), "container-of", || Some(evd()), None);
            if let Some((pod, pev)) = self.sandboxes.get(&c["sb"]) {
                g.add_with(
                    id,
                    pod.clone(),
                    "container-of",
                    || Some(evd()),
                    Some(format!("sandbox pod per {}:{}", pev.path, pev.line)),
                );
            }
        }
        // CRI logs: the path names pod, container and id; lines say which daemon logs there.
        if let Some(id) = cri_id {
            let idn = Node::new("container_id", &id);
            if let Some(pod) = ent(ev, "pod") {
                g.add_with(
                    idn.clone(),
                    Node::new("pod", pod),
                    "container-of",
                    || Some(evd()),
                    Some("CRI log path".into()),
                );
            }
            if let Some(c) = ent(ev, "container") {
                g.add_with(
                    idn.clone(),
                    Node::new("container", c),
                    "container-of",
                    || Some(evd()),
                    Some("CRI log path".into()),
                );
            }
            if let Some(c) = p.libvirt_version.captures(&msg) {
                g.add_with(Node::new("daemon", "libvirtd"), idn.clone(), "runs-in", || Some(evd()), None);
                g.add_with(Node::new("pid", &c["pid"]), idn.clone(), "runs-in", || Some(evd()), None);
                g.add_with(
                    Node::new("pid", &c["pid"]),
                    Node::new("daemon", "libvirtd"),
                    "runs-in",
                    || Some(evd()),
                    None,
                );
            }
            for c in p.domain.captures_iter(&msg) {
                g.add_with(idn.clone(), Node::new("domain", &c["domain"]), "serves-domain", || Some(evd()), None);
            }
        }
        self.admitted = admitted;
    }

    /// Learns the ties a finding's own captures state: values of its grouping kinds were named with
    /// every other storage value it captured, a zombie's pid with its parent, a libvirtd with its pid.
    /// The objects it names that a naming convention reads (`conn 3:0`, a by-id link) join the
    /// graph, so the convention ties them even when no other line names them.
    pub fn learn_finding(&mut self, f: &Finding, group_by: &[String]) {
        let g = self.hosts.entry(f.host.clone()).or_default();
        for (k, vals) in &f.entities {
            if self.ties.has_node_ties(k) {
                for v in vals {
                    g.id(&Node::new(k, v));
                }
            }
        }
        let storage = ["dm", "devt", "map", "wwid", "disk", "path"];
        let kind = |k: &str| if k == "path" { "devt".to_string() } else { k.to_string() };
        let key: Vec<(String, String)> = group_by
            .iter()
            .filter(|k| storage.contains(&k.as_str()))
            .filter_map(|k| f.entities.get(k).filter(|v| v.len() == 1).map(|v| (k.clone(), v[0].clone())))
            .collect();
        let cite = |v: &str| f.evidence.iter().find(|e| e.text.contains(v)).or(f.evidence.first()).cloned();
        for (kk, kv) in &key {
            for (ok, vals) in &f.entities {
                if !storage.contains(&ok.as_str()) || ok == kk {
                    continue;
                }
                for v in vals {
                    // A path (disk or path devt) and a map-side name: the path belongs to the map.
                    let path_side = |k: &str| k == "path" || k == "disk";
                    let (a, b, rel) = if path_side(kk) && !path_side(ok) {
                        (Node::new(&kind(ok), v), Node::new(&kind(kk), kv), "path-of")
                    } else if path_side(ok) && !path_side(kk) {
                        (Node::new(&kind(kk), kv), Node::new(&kind(ok), v), "path-of")
                    } else {
                        (Node::new(&kind(kk), kv), Node::new(&kind(ok), v), "same-device")
                    };
                    g.add(a, b, rel, cite(v), None);
                }
            }
        }
        if let (Some(p), Some(pp)) = (f.entities.get("pid"), f.entities.get("ppid")) {
            if p.len() == 1 && pp.len() == 1 && pp[0].parse::<u32>().is_ok_and(|x| x > 2) {
                g.add(Node::new("pid", &p[0]), Node::new("pid", &pp[0]), "child-of", cite(&p[0]), None);
            }
        }
        if let (Some(p), Some(c)) = (f.entities.get("pid"), f.entities.get("comm")) {
            if p.len() == 1 && c.iter().any(|c| c == "libvirtd") {
                g.add(Node::new("pid", &p[0]), Node::new("daemon", "libvirtd"), "runs-in", cite(&p[0]), None);
            }
        }
    }

    /// Derives the remaining edges and finds conflicts in every graph. Lines without a host (a dmesg
    /// file, a CRI log) belong to the only named host when there is one.
    pub fn finish(mut self) -> HashMap<Option<String>, HostGraph> {
        let named: Vec<Option<String>> = self.hosts.keys().filter(|k| k.is_some()).cloned().collect();
        if named.len() == 1 {
            if let Some(anon) = self.hosts.remove(&None) {
                self.hosts.get_mut(&named[0]).expect("named host").absorb(anon);
            }
        }
        for g in self.hosts.values_mut() {
            g.apply_node_ties(&self.ties);
            g.finish();
            g.apply_node_ties(&self.ties);
        }
        if std::env::var_os("ROOTLINE_DEBUG_ALIASES").is_some() {
            for (h, g) in &self.hosts {
                for e in g.edges() {
                    eprintln!("alias {h:?}: {} ~ {} ({}) {}", e.a, e.b, e.relation, e.cite());
                }
            }
        }
        self.hosts
    }
}

impl HostGraph {
    fn absorb(&mut self, o: HostGraph) {
        for e in o.edges() {
            self.add(e.a, e.b, &e.relation, e.evidence, e.derived);
        }
        self.dm_majors.extend(o.dm_majors);
        self.mounts.extend(o.mounts);
        self.file_refs.extend(o.file_refs);
        self.syncers.extend(o.syncers);
    }
}

fn device_node(p: &Patterns, dev: &str) -> Option<Node> {
    if let Some(c) = p.dev_mapper.captures(dev) {
        return Some(Node::new("map", &c["map"]));
    }
    if let Some(c) = p.dev_dm.captures(dev) {
        return Some(Node::new("dm", &c["dm"]));
    }
    if let Some(link) = by_link(dev) {
        return Some(Node::new("devlink", link));
    }
    let name = dev.strip_prefix("/dev/")?;
    if name.starts_with("sd") || name.starts_with("nvme") {
        return Some(Node::new("disk", name));
    }
    None
}

/// The link name of a udev path (`/dev/disk/by-id/dm-uuid-mpath-36...` -> `dm-uuid-mpath-36...`):
/// the names are unique across the by-* folders, and the pack's ties read what they denote.
fn by_link(dev: &str) -> Option<&str> {
    let rest = dev.strip_prefix("/dev/disk/by-")?;
    let (_, name) = rest.split_once('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn learn_args(p: &Patterns, g: &mut HostGraph, pn: &Node, args: &str, ev: &Event) {
    let evd = || evidence(ev);
    if args.contains("qemu") {
        if let Some(c) = p.guest.captures(args) {
            let d = c["domain"].split(',').next().unwrap_or("").to_string();
            g.add(pn.clone(), Node::new("domain", &d), "process-domain", Some(evd()), None);
        }
        if let Some(c) = p.qemu_uuid.captures(args) {
            g.add(pn.clone(), Node::new("instance", &c["id"]), "process-instance", Some(evd()), None);
        }
    }
    for c in p.dev_dm.captures_iter(args) {
        g.add(pn.clone(), Node::new("dm", &c["dm"]), "process-opens", Some(evd()), None);
    }
    for c in p.dev_mapper.captures_iter(args) {
        g.add(pn.clone(), Node::new("map", &c["map"]), "process-opens", Some(evd()), None);
    }
    // qemu's `-drive file=/dev/disk/by-id/...` and `-blockdev {"filename":"/dev/disk/by-id/..."}`.
    for c in p.dev_link.captures_iter(args) {
        if let Some(link) = by_link(&c["path"]) {
            g.add(pn.clone(), Node::new("devlink", link), "process-opens", Some(evd()), None);
        }
    }
    for c in p.file_arg.captures_iter(args) {
        let f = &c["file"];
        if !f.starts_with("/dev/") && !f.starts_with("/proc/") && !f.starts_with("/sys/") && !f.starts_with("/usr/") {
            g.file_refs.push((pn.clone(), f.to_string(), evd()));
        }
    }
    let comm = ev.field("comm").unwrap_or("");
    if comm == "sync" || args.trim_start_matches('{').starts_with("sync") {
        g.syncers.push((pn.clone(), evd()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lookups_agree_with_a_pass_over_every_node() {
        // Container ids of the lengths runtimes print (12, 13, 64) sharing prefixes, and volumes.
        let mut g = HostGraph::default();
        let long = "9f2e4c1a7b3d5e6f00112233445566778899aabbccddeeff0011223344556677";
        let ids = [
            &long[..12],
            &long[..13],
            long,
            "9f2e4c1a7b3d5e6fffffffffffffffffffffffffffffffffffffffffffffffff",
            "0123456789ab",
        ];
        for (i, id) in ids.iter().enumerate() {
            g.add(Node::new("container_id", id), Node::new("pid", &i.to_string()), "runs-in", None, None);
        }
        for v in ["4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11", "4f2f9a1c-ffff-4d2b-9c1e-3b5a7d9e0f11", "4f2e"] {
            g.add(Node::new("volume", v), Node::new("dm", "dm-1"), "volume-device", None, None);
        }
        let naive_containers = |g: &HostGraph, v: &str| -> Vec<Node> {
            let found: Vec<Node> = g
                .nodes
                .iter()
                .filter(|n| {
                    n.kind == "container_id"
                        && v.len() >= 12
                        && n.value.len() >= 12
                        && (n.value.starts_with(v) || v.starts_with(n.value.as_str()))
                })
                .cloned()
                .collect();
            if found.is_empty() {
                vec![Node::new("container_id", v)]
            } else {
                found
            }
        };
        for q in
            [&long[..12], &long[..13], &long[..20], long, &long[..11], "9f2e4c1a7b3d5e6f", "0123456789abcdef", "ffff"]
        {
            assert_eq!(g.nodes_of("container_id", q), naive_containers(&g, q), "{q}");
        }
        for q in ["4f2f", "4f2f9a1c", "4f2e", "4f2", "4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11…", "5"] {
            let short = q.trim_end_matches('…');
            let mut want: Vec<String> = g
                .nodes
                .iter()
                .filter(|n| {
                    n.kind == "volume" && (n.value == short || (short.len() >= 4 && n.value.starts_with(short)))
                })
                .map(|n| n.value.clone())
                .collect();
            want.sort();
            assert_eq!(g.resolve_short("volume", q), want, "{q}");
        }
        // A node added after a lookup is found by the next one.
        g.add(Node::new("container_id", &long[..14]), Node::new("pid", "9"), "runs-in", None, None);
        assert_eq!(g.nodes_of("container_id", long), naive_containers(&g, long));
        assert!(g.nodes_of("container_id", long).contains(&Node::new("container_id", &long[..14])));
    }

    /// The gate's one pass wants exactly the messages its prefilter or the pack's ties want, on
    /// every line of the regression bundles and cases and on lines that are not UTF-8.
    #[test]
    fn the_gate_wants_what_the_prefilter_or_the_ties_want() {
        let ties = rootline_rules::Pack::builtin().expect("built-in rules").ties;
        let gate = Gate::with_ties(ties.clone());
        let prefilter = prefilter();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut lines: Vec<Vec<u8>> = vec![
            b"\xff\xfe dm-3 \x80".to_vec(),
            b"\xc3\x28 nothing".to_vec(),
            Vec::new(),
            b"host\n 2:0:0:1\tsdc 8:32 x".to_vec(),
            b"(253:21)".to_vec(),
            b"9 (qemu) D 1".to_vec(),
        ];
        for d in ["incidents", "cases"] {
            for dir in std::fs::read_dir(root.join(d)).expect("bundles").filter_map(|e| e.ok()).map(|e| e.path()) {
                if !dir.is_dir() {
                    continue;
                }
                let mut events = rootline_ingest::read(std::slice::from_ref(&dir), &Default::default()).into_events();
                while let Some(r) = events.next_ref() {
                    lines.push(r.message.to_vec());
                }
            }
        }
        assert!(lines.len() > 1000, "{} lines", lines.len());
        let (mut wanted, mut by_ties) = (0, 0);
        for l in &lines {
            let apart = prefilter.is_match(l) || ties.wants(l);
            assert_eq!(gate.wants_message(l), apart, "{}", String::from_utf8_lossy(l));
            wanted += apart as usize;
            by_ties += (ties.wants(l) && !prefilter.is_match(l)) as usize;
        }
        assert!(wanted > 100 && wanted < lines.len(), "{wanted} of {}", lines.len());
        assert!(by_ties > 10, "{by_ties} lines only a tie wants");
    }

    /// The gate turns down the lines that hold a literal of the learner or of a tie but cannot
    /// teach it anything (a kubelet line naming a pod, containerd's request to create a container),
    /// and admits the lines of the same programs that do.
    #[test]
    fn the_gate_turns_down_lines_that_only_name_a_pod_or_ask_for_a_container() {
        let gate = Gate::with_ties(rootline_rules::Pack::builtin().expect("built-in rules").ties);
        let wants = |l: &str| {
            let mut ev = Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("x", 1, 0));
            ev.set_message(l.as_bytes());
            gate.wants(&EventRef::from(&ev))
        };
        let down = [
            r#"I0301 00:00:01.691052    1900 kubelet.go:2457] "SyncLoop (PLEG): event for pod" pod="logging/fluent-bit-ddc7ce2e1-524e0" event={"ID":"ed117109","Type":"ContainerDied"}"#,
            r#"msg="CreateContainer within sandbox \"2951cfdbd8ccb99a4b4159a53d660444514abb8cda9bfbe3d396789b73b94a1d\" for container &ContainerMetadata{Name:prometheus,Attempt:3,}""#,
            r#"msg="RunPodSandbox for &PodSandboxMetadata{Name:nginx-7c5d,Uid:4b1e,Namespace:web,Attempt:0,}""#,
        ];
        for l in down {
            assert!(!wants(l), "{l}");
        }
        let admitted = [
            r#"I0311 09:01:14.314136    2143 prober.go:107] "Probe failed" probeType="Liveness" pod="nova/nova-libvirt-8mz4q" containerName="libvirtd" probeResult="failure" output="command \"/bin/sh -c virsh -c qemu:///system list >/dev/null\" timed out""#,
            r#"I0311 09:01:14.314136    2143 prober.go:107] "Probe failed" probeType="Liveness" pod="web/nginx-7c5d" containerName="nginx" probeResult="failure" output="command \"cat /tmp/healthy\" timed out""#,
            r#"msg="CreateContainer within sandbox \"2951cfdbd8ccb99a\" for &ContainerMetadata{Name:prometheus,Attempt:3,} returns container id \"4f2f8a106c3e4b7d\"""#,
            r#"msg="RunPodSandbox for &PodSandboxMetadata{Name:nginx-7c5d,Uid:4b1e,Namespace:web,Attempt:0,} returns sandbox id \"7348244545572a60\"""#,
            r#"E1013 19:56:36.104512    1234 remote_runtime.go:505] "ExecSync cmd from runtime service failed" containerID="753ac7cfab3c9d1e2f3a4b5c" cmd=["virsh","list"]"#,
        ];
        for l in admitted {
            assert!(wants(l), "{l}");
        }
        // What the learner makes of the admitted ones: the probe command of the second in its pod.
        let mut learner = Learner::with_ties(rootline_rules::Pack::builtin().expect("built-in rules").ties);
        for l in admitted {
            let mut ev = Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("x", 1, 0));
            ev.set_message(l.as_bytes());
            learner.feed(&ev);
        }
        let g = &learner.finish()[&None];
        assert!(g.has(&Node::new("probe_cmd", "cat /tmp/healthy"), &Node::new("pod", "nginx-7c5d"), "probe-runs-in"));
    }

    /// The learner runs a pattern only on messages that hold what it needs: on every line of the
    /// example bundles (and lines that are not UTF-8), no pattern that matches was ruled out.
    #[test]
    fn the_learners_needs_never_rule_out_a_match() {
        let p = Patterns::new();
        let set = p.gated();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut lines: Vec<String> = vec![
            String::from_utf8_lossy(b"\xff mpathb: load table [0 2097152 multipath 65:32 1]").into_owned(),
            "mpathb\t(253:21)\n1234 (qemu-kvm) D 1 4242 ".into(),
        ];
        for d in ["incidents", "cases"] {
            for dir in std::fs::read_dir(root.join(d)).expect("bundles").filter_map(|e| e.ok()).map(|e| e.path()) {
                let mut events = rootline_ingest::read(std::slice::from_ref(&dir), &Default::default()).into_events();
                while let Some(r) = events.next_ref() {
                    lines.push(String::from_utf8_lossy(r.message).into_owned());
                }
            }
        }
        let needs = NeedsSet::new(&p.needs);
        let (mut admitted, mut matched, mut ruled_out) = (Vec::new(), 0, 0);
        for l in &lines {
            needs.admitted(l.as_bytes(), &mut admitted);
            for (i, re) in set.iter().enumerate() {
                if re.is_match(l) {
                    matched += 1;
                    assert!(admitted[i], "pattern {i} matches but was ruled out: {l}");
                } else if !admitted[i] {
                    ruled_out += 1;
                }
            }
        }
        assert!(matched > 100, "{matched} matches");
        assert!(ruled_out > lines.len() * 10, "{ruled_out} ruled out of {}", lines.len() * set.len());
    }

    #[test]
    fn the_gate_admits_what_the_prefilter_does() {
        let gate = Gate::new();
        let re = prefilter();
        let lines = [
            "mpathb: addmap [0 2097152 multipath]",
            "device-mapper: multipath: 253:21: Failing path 65:48.",
            "kernel: dm-21: something",
            "kernel: dm-x: something",
            "/proc/4242/fd/3 -> /dev/dm-21",
            "/proc/4242/cwd -> /var/lib",
            "a -> b",
            "sd (8:16) offline",
            "sd (8:x) offline",
            "( 8:16)",
            "(\u{0663}:1)",
            "4242 (qemu-kvm) D 1 4242",
            "4242 (qemu-kvm) X 1 4242",
            "(x) S 7",
            "pid=42 state=D",
            "pid=x",
            "task qemu:1 blocked for more than 120 seconds",
            "vm=instance-00000a3f",
            "instance-0000",
            "[instance: 9b1c6f3e-2d4a-4e8b-a0c1-7d2e5f6a8b90] Took 1.2 seconds to spawn",
            "Attaching volume 4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32 to /dev/vdb",
            "VerifyControllerAttachedVolume started for volume kube-api-access-x2v9",
            "Started Session 4 of user root.",
            "for &ContainerMetadata{Name:x,Attempt:0,} returns container id \"4f2f8a106c3e\"",
            "for container &ContainerMetadata{Name:x,Attempt:0,}",
            "RunPodSandbox for &PodSandboxMetadata{Name:x} returns sandbox id \"4f2f8a106c3e\"",
            "output=\"command \\\"cat /tmp/healthy\\\" timed out\"",
            "",
            "(",
            ")",
            ") D ",
        ];
        for l in lines {
            let mut ev = Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("x", 1, 0));
            ev.set_message(l.as_bytes());
            let r = EventRef::from(&ev);
            assert_eq!(gate.wants(&r), re.is_match(l.as_bytes()), "{l:?}");
        }
    }

    #[test]
    fn ascii_classes_rewrite_perl_classes_and_boundaries_only() {
        let cases = [
            (r"\b(\d+:\d+)\b", r"(?-u:\b)([0-9]+:[0-9]+)(?-u:\b)"),
            (r"(?P<map>[\w.:-]+): \[(?P<t>[^\]]*)\]", r"(?P<map>[0-9A-Za-z_.:-]+): \[(?P<t>[^\]]*)\]"),
            (r#"[^\s,"'\\]+"#, r#"[^\t\n\x0B\x0C\r ,"'\\]+"#),
            (r"(?m)^x\s+\S+$", r"(?m)^x[\t\n\x0B\x0C\r ]+[^\t\n\x0B\x0C\r ]+$"),
            (r"[]\w]\.", r"[]0-9A-Za-z_]\."),
        ];
        for (from, to) in cases {
            assert_eq!(ascii_classes(from), to, "{from}");
            assert!(Regex::new(to).is_ok(), "{to}");
        }
        // Every pattern of the learner compiles rewritten, as one set too.
        let p = Patterns::new();
        assert!(p.table.is_match("mpathb: addmap [0 2097152 multipath 65:32 1]"));
        assert!(!p.devt.is_match("a253:4b"), "ASCII word boundaries");
        assert!(p.devt.is_match("(253:4)"));
    }

    #[test]
    fn scsi_numbering() {
        assert_eq!(scsi_devt_of("sda"), Some((8, 0)));
        assert_eq!(scsi_devt_of("sdb"), Some((8, 16)));
        assert_eq!(scsi_devt_of("sds"), Some((65, 32)));
        assert_eq!(scsi_devt_of("sdt"), Some((65, 48)));
        assert_eq!(scsi_devt_of("sdu"), Some((65, 64)));
        assert_eq!(scsi_devt_of("sdv"), Some((65, 80)));
        assert_eq!(scsi_devt_of("sdt1"), Some((65, 49)));
        assert_eq!(scsi_devt_of("sdaa"), Some((65, 160)));
        assert_eq!(scsi_devt_of("sdx16"), None);
        assert_eq!(scsi_devt_of("dm-21"), None);
        assert_eq!(scsi_disk_of(65, 48).as_deref(), Some("sdt"));
        assert_eq!(scsi_disk_of(65, 49).as_deref(), Some("sdt1"));
        assert_eq!(scsi_disk_of(8, 0).as_deref(), Some("sda"));
        assert_eq!(scsi_disk_of(65, 160).as_deref(), Some("sdaa"));
        assert_eq!(scsi_disk_of(253, 21), None);
        for i in 0..256u32 {
            let (ma, mi) = (SCSI_DISK_MAJORS[(i / 16) as usize], (i % 16) * 16);
            let name = scsi_disk_of(ma, mi).unwrap();
            assert_eq!(scsi_devt_of(&name), Some((ma, mi)), "{name}");
        }
    }

    fn line(path: &str, n: u64, msg: &str) -> Event {
        let mut ev = Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new(path, n, 0));
        ev.host = Some("h".into());
        ev.set_message(msg.as_bytes());
        ev
    }

    #[test]
    fn learns_maps_paths_and_the_dm_major() {
        let mut l = Learner::new();
        l.feed(&line(
            "syslog",
            1,
            "mpathb: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:32 1 65:48 1]",
        ));
        l.feed(&line("multipath-ll", 2, "mpathb (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-21 LIO-ORG,TCMU device"));
        l.feed(&line("dmsetup-ls", 3, "mpathb\t(253:21)"));
        l.feed(&line("kern", 4, "device-mapper: multipath: 253:21: Failing path 65:48."));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        assert!(g.conflicts.is_empty(), "{:?}", g.conflicts);
        // sdt reaches dm-21 through 65:48 (numbering) and mpathb (addmap).
        let p = g.path(&[Node::new("disk", "sdt")], &[Node::new("dm", "dm-21")], Via::Storage, 6).unwrap();
        assert!(!p.is_empty());
        assert!(p.iter().all(|e| e.evidence.is_some() || e.derived.is_some()));
        // The kernel's 253:21 is dm-21 once the major is learnt.
        let p = g.path(&[Node::new("devt", "253:21")], &[Node::new("map", "mpathb")], Via::Storage, 3).unwrap();
        assert!(!p.is_empty());
        // sdu is not part of this map.
        assert!(g.path(&[Node::new("disk", "sdu")], &[Node::new("map", "mpathb")], Via::Storage, 6).is_none());
    }

    #[test]
    fn learns_open_files_and_proc_mounts() {
        let mut l = Learner::new();
        l.feed(&line("mounts", 1, "/dev/mapper/mpatha /var/lib/libvirt ext4 rw,relatime,stripe=512 0 0"));
        l.feed(&line("fd", 1, "/proc/328/fd/5 -> /var/lib/libvirt/qemu/instance-00000004.xml"));
        l.feed(&line("fd", 2, "/proc/330/fd/3 -> /dev/dm-0"));
        l.feed(&line("fd", 3, "/proc/400/cwd -> /root"));
        l.feed(&line("dmsetup-ls", 3, "mpatha\t(254:0)"));
        l.feed(&line("multipath-ll", 4, "mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP"));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        let p =
            g.path(&[Node::new("pid", "328")], &[Node::new("map", "mpatha")], Via::Any, 4).expect("libvirtd -> mpatha");
        assert!(p.iter().any(|e| e.derived.as_deref().is_some_and(|d| d.contains("instance-00000004.xml"))), "{p:?}");
        assert!(g.path(&[Node::new("pid", "330")], &[Node::new("map", "mpatha")], Via::Any, 3).is_some());
        assert!(g.path(&[Node::new("pid", "400")], &[Node::new("map", "mpatha")], Via::Any, 6).is_none());
    }

    #[test]
    fn reports_conflicts() {
        let mut l = Learner::new();
        l.feed(&line(
            "a",
            1,
            "mpathb: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:32 1 65:48 1]",
        ));
        l.feed(&line(
            "b",
            2,
            "mpathc: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:48 1 65:80 1]",
        ));
        l.feed(&line("c", 3, "mpathb (3600a) dm-21 X,Y"));
        l.feed(&line("d", 4, "mpathb (3600a) dm-22 X,Y"));
        l.feed(&line("e", 5, "mpathb\t(253:21)"));
        l.feed(&line("f", 6, "other\t(254:3)"));
        l.feed(&line("g", 7, "other (3600b) dm-3 X,Y"));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        let text: Vec<&str> = g.conflicts.iter().map(|c| c.what.as_str()).collect();
        assert!(text.iter().any(|t| t.contains("65:48") && t.contains("2 maps")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("mpathb is named on 2")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("two device-mapper majors")), "{text:?}");
        assert!(g.conflicts.iter().all(|c| !c.evidence.is_empty()));
    }

    #[test]
    fn conflicting_claims_never_glue_two_devices() {
        let mut l = Learner::new();
        // 65:48 claimed by two maps; dm-3 named for two maps (a number reused after a reboot).
        l.feed(&line(
            "a",
            1,
            "mpathb: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:32 1 65:48 1]",
        ));
        l.feed(&line(
            "b",
            2,
            "mpathc: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 1 1 65:48 1]",
        ));
        l.feed(&line("c", 3, "mpatha (3600a) dm-3 X,Y"));
        l.feed(&line("d", 4, "mpathd (3600d) dm-3 X,Y"));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        let text: Vec<&str> = g.conflicts.iter().map(|c| c.what.as_str()).collect();
        assert!(text.iter().any(|t| t.starts_with("path 65:48 is claimed by 2 maps")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("dm-3 is named for 2 maps: mpatha, mpathd")), "{text:?}");
        for (a, b) in [("mpathb", "mpathc"), ("mpatha", "mpathd")] {
            let p = g.path(&[Node::new("map", a)], &[Node::new("map", b)], Via::Any, 8);
            assert!(p.is_none(), "{a} ~ {b}: {p:#?}");
            assert!(!g.storage_group(&Node::new("map", a)).contains(&Node::new("map", b)));
        }
        // The uncontested claim still ties: 65:32 is mpathb's alone.
        assert!(g.path(&[Node::new("disk", "sds")], &[Node::new("map", "mpathb")], Via::Storage, 6).is_some());
        // The contested one does not: 65:48 belongs to neither.
        assert!(g.path(&[Node::new("disk", "sdt")], &[Node::new("map", "mpathb")], Via::Storage, 6).is_none());
        assert!((0..g.edge_count()).any(|i| g.contested(i)));
    }

    #[test]
    fn a_map_and_a_number_not_known_to_differ_are_no_conflict() {
        let mut l = Learner::new();
        // The kernel names the map by number, multipathd by name: nothing says they differ.
        l.feed(&line(
            "a",
            1,
            "mpathb: addmap [0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 1 1 65:32 1]",
        ));
        l.feed(&line("b", 2, "device-mapper: multipath: 253:21: Failing path 65:32."));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        assert!(g.conflicts.is_empty(), "{:?}", g.conflicts);
        assert!(g.path(&[Node::new("devt", "253:21")], &[Node::new("map", "mpathb")], Via::Storage, 6).is_some());
    }

    #[test]
    fn a_transport_reaches_its_devices_but_does_not_tie_two_maps() {
        let ties = rootline_rules::Pack::builtin().unwrap().ties;
        let mut l = Learner::with_ties(ties);
        let k = |l: &mut Learner, n: u64, t: i64, msg: &str| {
            let mut ev = line("kern", n, msg);
            ev.time = Some(rootline_event::Timestamp::from_unix_nanos(t * 1_000_000_000, 0));
            l.feed(&ev);
        };
        k(&mut l, 1, 10, "sd 5:0:0:1: [sdc] Attached SCSI disk");
        k(&mut l, 2, 10, "sd 5:0:0:2: [sde] Attached SCSI disk");
        k(&mut l, 3, 100, "session3: session recovery timed out after 120 secs");
        let f = Finding {
            id: "iscsi.connection-error#1".into(),
            signature: "iscsi.connection-error".into(),
            kind: rootline_rules::Kind::Fault,
            severity: rootline_rules::RuleSeverity::Error,
            fallback: false,
            host: Some("h".into()),
            first: None,
            last: None,
            onset: None,
            count: 1,
            entities: [("conn".to_string(), vec!["3:0".to_string()])].into_iter().collect(),
            evidence: Vec::new(),
        };
        l.learn_finding(&f, &[]);
        k(&mut l, 4, 100, "sd 5:0:0:1: rejecting I/O to offline device");
        l.feed(&line("ll", 5, "mpathb (3600a098038303053453f463045535a74) dm-3 NETAPP,LUN C-Mode\n|- 5:0:0:1 sdc 8:32 failed faulty running"));
        l.feed(&line("ll", 6, "mpathc (3600a098038303053453f463045535a75) dm-4 NETAPP,LUN C-Mode\n|- 5:0:0:2 sde 8:64 active ready running"));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        // The session's connection reaches the map through its SCSI host, the device and the disk.
        let p =
            g.path(&[Node::new("conn", "3:0")], &[Node::new("map", "mpathb")], Via::Storage, 6).expect("conn -> map");
        assert!(
            p.iter().any(|e| e.derived.as_deref().is_some_and(|d| d.contains("tie.iscsi-recovery-offlines-devices"))),
            "{p:?}"
        );
        // Two maps on one SCSI host are two devices: no path from one to the other.
        let bad = g.path(&[Node::new("map", "mpathb")], &[Node::new("map", "mpathc")], Via::Storage, 8);
        assert!(bad.is_none(), "{bad:#?}");
        assert!(!g.storage_group(&Node::new("map", "mpathb")).contains(&Node::new("map", "mpathc")));
        // Spellings meet: iscsiadm's `Channel 00` and the kernel's `5:0:0:1`.
        assert_eq!(Node::new("hctl", "5:00:0:1"), Node::new("hctl", "5:0:0:1"));
    }

    #[test]
    fn short_volume_ids_and_processes() {
        let mut l = Learner::new();
        l.feed(&line(
            "nova",
            1,
            "2025-10-13 19:40:02.100 7 INFO nova.compute.manager [req-0b7d3c52-8f7e-4c8e-9d55-1f0f6c1e2a01 - - - - -] [instance: 9b1c6f3e-2d4a-4e8b-a0c1-7d2e5f6a8b90] Attaching volume 4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32 to /dev/vdb",
        ));
        l.feed(&line(
            "nova",
            2,
            "2025-10-13 19:40:05.100 7 DEBUG os_brick.initiator.connectors.iscsi [req-0b7d3c52-8f7e-4c8e-9d55-1f0f6c1e2a01 - - - - -] <== connect_volume: return (3012ms) {'type': 'block', 'scsi_wwn': '36001405f3a8e0b1c2d3e4f5a6b7c8d9e', 'multipath_id': '36001405f3a8e0b1c2d3e4f5a6b7c8d9e', 'path': '/dev/dm-21'}",
        ));
        l.feed(&line(
            "nova",
            3,
            "2025-10-13 19:42:00.100 7 INFO nova.compute.manager [req-1c8e4d63-9f8f-4d9f-8e66-2a1a7d2f3b12 - - - - -] [instance: 9b1c6f3e-2d4a-4e8b-a0c1-7d2e5f6a8b90] Attaching volume 4f61c2d4-1a2b-4c3d-8e4f-5a6b7c8d9e0f to /dev/vdc",
        ));
        let g = l.finish().remove(&Some("h".to_string())).unwrap();
        assert_eq!(g.resolve_short("volume", "4f2f"), vec!["4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32".to_string()]);
        assert_eq!(g.resolve_short("volume", "4f").len(), 0, "too short to resolve");
        assert_eq!(g.resolve_short("volume", "4f2f…").len(), 1);
        let p = g.path(&g.nodes_of("volume", "4f2f"), &[Node::new("dm", "dm-21")], Via::Storage, 3).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].derived.as_deref(), Some("same request req-0b7d3c52-8f7e-4c8e-9d55-1f0f6c1e2a01"));
    }
}

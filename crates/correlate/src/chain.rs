//! Causal links between findings: the link rules' candidates, kept only when the evidence ties them.
//!
//! A link rule allows an edge from a cause finding to an effect finding on the same host when the
//! effect starts within the rule's window (`max_delay`, or up to `tolerance` before the cause) and the
//! entity predicates hold (`rootline_rules::links::try_link`). On top of that, correlate requires a
//! shared entity: some entity of the cause and some entity of the effect are the same node of the
//! host's alias graph, or are joined by a path of alias edges (storage relations only for `share:
//! storage` links; links from non-storage findings may not cross device relations), each edge backed
//! by a line, at most [`MAX_HOPS`] edges. A candidate without such a path is not made; it is
//! listed as rejected (a hypothesis at most). Context findings (image pulls, starts) never enter the
//! chain: they mark phases ([`crate::upgrade`]). When both directions of a pair are allowed (tolerance
//! around equal times), the one in time order is kept; of several link rules, the highest prior.

use std::collections::{BTreeMap, HashMap};

use rootline_rules::{Finding, Kind, Pack, Share};
use rustc_hash::FxHashMap;

use crate::alias::{AliasEdge, HostGraph, Node, Search, Via, SAME_DEVICE_RELATIONS};
use crate::analysis::{ChainLink, Rejected};

/// Entity kinds that name an object the alias graph knows.
pub const LINK_KINDS: &[&str] = &[
    "dm",
    "devt",
    "map",
    "wwid",
    "disk",
    "path",
    "volume",
    "instance",
    "domain",
    "pid",
    "ppid",
    "container_id",
    "pod",
    "container",
    "daemon",
    "pid_file",
    "hctl",
    "scsi_host",
    "sid",
    "session",
    "conn",
    "target",
    "portal",
    "rport",
    "scsi_target",
    "ctrl",
    "nfs_server",
    "nfs_export",
    "mount",
    "devlink",
    "iface",
    "osd",
];

/// Most alias edges between the two ends of one link: a transport fault reaches a map through its
/// connection, session, SCSI host, device address, disk and map (`conn~sid~scsi_host~hctl~disk~map`).
pub const MAX_HOPS: usize = 6;

/// Families whose findings are about a device: only their links may reach a process through the
/// device it opens (a stale map explains a task blocked on it; a hung task does not explain another
/// task merely because both touched one device).
pub const STORAGE_FAMILIES: &[&str] = &["multipath", "block", "scsi", "iscsi", "fc", "nvme", "nfs", "fs", "ceph"];

/// The alias-graph nodes a finding's entities denote, plus what its message names implicitly
/// (`Connection to libvirt lost`, a state change lock timeout and libvirtd's own errors are about
/// libvirtd).
pub fn nodes_of(f: &Finding, g: &HostGraph) -> Vec<Node> {
    let mut out = Vec::new();
    for (k, vals) in &f.entities {
        if !LINK_KINDS.contains(&k.as_str()) {
            continue;
        }
        for v in vals {
            out.extend(g.nodes_of(k, v));
        }
    }
    if matches!(
        f.signature.as_str(),
        "libvirt.connection-lost"
            | "libvirt.daemon-unresponsive"
            | "libvirt.state-lock-timeout"
            | "libvirt.daemon-error"
            | "libvirt.error"
    ) {
        out.push(Node::new("daemon", "libvirtd"));
    }
    out.sort();
    out.dedup();
    out
}

/// The result of linking.
#[derive(Debug, Default)]
pub struct Linked {
    /// Links made, in order of the cause's first time.
    pub links: Vec<ChainLink>,
    /// Candidates not made, as indexes (a large node's hundreds of thousands of them cost a few
    /// bytes each until the output says which it lists: [`Reject::to_rejected`]).
    pub rejected: Vec<Reject>,
}

/// A link not made, by index: the would-be cause and effect in the findings, the link rule in the
/// pack's links.
#[derive(Debug, Clone, Copy)]
pub struct Reject {
    /// Index of the would-be cause.
    pub cause: u32,
    /// Index of the would-be effect.
    pub effect: u32,
    /// Index of the link rule in the pack.
    pub link: u32,
    /// Why it was not made.
    pub reason: RejectReason,
}

/// Why a candidate link was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// One side names no object.
    NoEntity,
    /// Both name objects, but no evidence ties them.
    NoSharedEntity,
    /// The link is allowed both ways round and the other is in time order.
    Reverse,
}

impl RejectReason {
    /// The sentence the analysis prints.
    pub fn text(self) -> &'static str {
        match self {
            RejectReason::NoEntity => "no entity to share: one side names no object",
            RejectReason::NoSharedEntity => "no shared entity: no evidence ties the two",
            RejectReason::Reverse => "the reverse link is in time order",
        }
    }
}

impl Reject {
    /// The rejected link as the analysis writes it.
    pub fn to_rejected(self, findings: &[Finding], pack: &Pack) -> Rejected {
        Rejected {
            cause: findings[self.cause as usize].id.clone(),
            effect: findings[self.effect as usize].id.clone(),
            link: pack.links[self.link as usize].id.clone(),
            reason: self.reason.text().to_string(),
        }
    }
}

/// What one host's graph answers for the linking, built once: the nodes each finding denotes (as
/// node sets, interned), the storage names each finding captured (as alias classes), the connected
/// parts of the graph per kind of path, and every path question asked so far. A candidate pair then
/// costs a few array reads; a search runs once per pair of node sets, and only when the two sets
/// share a part of the graph.
struct HostIndex<'g> {
    g: &'g HostGraph,
    /// Connected parts per [`Via`] (Storage, NoDevice, Any).
    parts: [Vec<u32>; 3],
    /// Nodes findings name that the graph does not know, numbered after the graph's.
    extra: FxHashMap<Node, u32>,
    /// Node sets: the nodes (in [`nodes_of`] order) and their ids.
    sets: Vec<(Vec<Node>, Vec<u32>)>,
    set_ids: FxHashMap<Vec<u32>, u32>,
    /// Per finding: its node set (`u32::MAX`: not computed yet).
    set_of: Vec<u32>,
    /// Storage values to alias classes (same-device relations, contested edges left out).
    classes: FxHashMap<String, u32>,
    /// Per finding: its storage classes, sorted (`None`: not computed yet).
    storage_of: Vec<Option<Vec<u32>>>,
    search: Search,
    memo: FxHashMap<(u32, u32, u8), Option<Vec<u32>>>,
}

/// The answer to a path question between two findings.
enum Tie<'a> {
    /// No tie.
    None,
    /// The two name a node in common.
    Shared,
    /// A chain of alias edges (indexes into the graph's edges).
    Path(&'a [u32]),
}

fn via_index(via: Via) -> usize {
    match via {
        Via::Storage => 0,
        Via::NoDevice => 1,
        Via::Any => 2,
    }
}

impl<'g> HostIndex<'g> {
    fn new(g: &'g HostGraph, findings: usize) -> HostIndex<'g> {
        // Storage values named as one device: a union-find over values (a map name, its dm device,
        // its number, its paths), as the rule engine's aliases are.
        let mut classes: FxHashMap<String, u32> = FxHashMap::default();
        let mut parent: Vec<u32> = Vec::new();
        fn root(p: &mut [u32], mut i: u32) -> u32 {
            while p[i as usize] != i {
                p[i as usize] = p[p[i as usize] as usize];
                i = p[i as usize];
            }
            i
        }
        let mut id = |v: &str, parent: &mut Vec<u32>| -> u32 {
            if let Some(&i) = classes.get(v) {
                return i;
            }
            let i = parent.len() as u32;
            parent.push(i);
            classes.insert(v.to_string(), i);
            i
        };
        for (i, e) in g.edge_refs() {
            if SAME_DEVICE_RELATIONS.contains(&e.relation) && !g.contested(i) {
                let (a, b) = (id(&e.a.value, &mut parent), id(&e.b.value, &mut parent));
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                if ra != rb {
                    parent[ra.max(rb) as usize] = ra.min(rb);
                }
            }
        }
        for v in classes.values_mut() {
            *v = root(&mut parent, *v);
        }
        HostIndex {
            g,
            parts: [g.parts(Via::Storage), g.parts(Via::NoDevice), g.parts(Via::Any)],
            extra: FxHashMap::default(),
            sets: Vec::new(),
            set_ids: FxHashMap::default(),
            set_of: vec![u32::MAX; findings],
            classes,
            storage_of: vec![None; findings],
            search: Search::default(),
            memo: FxHashMap::default(),
        }
    }

    /// The node set of finding `i`.
    fn set(&mut self, i: usize, f: &Finding) -> u32 {
        if self.set_of[i] != u32::MAX {
            return self.set_of[i];
        }
        let nodes = nodes_of(f, self.g);
        let n = self.g.len() as u32;
        let ids: Vec<u32> = nodes
            .iter()
            .map(|x| match self.g.index_of(x) {
                Some(k) => k,
                None => {
                    let next = n + self.extra.len() as u32;
                    *self.extra.entry(x.clone()).or_insert(next)
                }
            })
            .collect();
        let s = match self.set_ids.get(&ids) {
            Some(&s) => s,
            None => {
                let s = self.sets.len() as u32;
                self.set_ids.insert(ids.clone(), s);
                self.sets.push((nodes, ids));
                s
            }
        };
        self.set_of[i] = s;
        s
    }

    /// The storage alias classes of finding `i`'s storage values (a value the graph does not know
    /// is a class of its own, shared with the same value elsewhere).
    fn storage(&mut self, i: usize, f: &Finding) -> &[u32] {
        if self.storage_of[i].is_none() {
            let mut out: Vec<u32> = Vec::new();
            for vals in STORAGE_KINDS.iter().filter_map(|k| f.entities.get(*k)) {
                for v in vals {
                    let next = u32::MAX - self.classes.len() as u32;
                    out.push(*self.classes.entry(v.clone()).or_insert(next));
                }
            }
            out.sort_unstable();
            out.dedup();
            self.storage_of[i] = Some(out);
        }
        self.storage_of[i].as_deref().unwrap_or(&[])
    }

    fn share_storage(&mut self, c: (usize, &Finding), e: (usize, &Finding)) -> bool {
        let a = self.storage(c.0, c.1).to_vec();
        let b = self.storage(e.0, e.1);
        a.iter().any(|x| b.binary_search(x).is_ok())
    }

    /// The tie between node sets `a` and `b` along `via` (at most [`MAX_HOPS`] edges).
    fn tie(&mut self, a: u32, b: u32, via: Via) -> Tie<'_> {
        let (from, to) = (&self.sets[a as usize].1, &self.sets[b as usize].1);
        if from.iter().any(|x| to.contains(x)) {
            return Tie::Shared;
        }
        let key = (a, b, via_index(via) as u8);
        if !self.memo.contains_key(&key) {
            let n = self.g.len() as u32;
            let parts = &self.parts[via_index(via)];
            let starts: Vec<u32> = from.iter().copied().filter(|&x| x < n).collect();
            let goals: Vec<u32> = to.iter().copied().filter(|&x| x < n).collect();
            let reachable = starts.iter().any(|&s| goals.iter().any(|&t| parts[s as usize] == parts[t as usize]));
            let found = if reachable { self.g.search(&starts, &goals, via, MAX_HOPS, &mut self.search) } else { None };
            self.memo.insert(key, found);
        }
        match &self.memo[&key] {
            Some(p) => Tie::Path(p),
            None => Tie::None,
        }
    }
}

/// `kind=value`, as [`Node`]'s `Display` writes it, without the formatting machinery.
fn node_text(n: &Node) -> String {
    let mut s = String::with_capacity(n.kind.len() + 1 + n.value.len());
    s.push_str(&n.kind);
    s.push('=');
    s.push_str(&n.value);
    s
}

/// Entity kinds that name a storage object (as the rule engine's aliases read them).
const STORAGE_KINDS: &[&str] = rootline_rules::window::STORAGE_KINDS;

/// Links `findings` through the pack's link rules and the hosts' alias graphs.
/// `episodes[i]` is the episode of `findings[i]` on its host ([`rootline_rules::window::Analysis::episodes`]):
/// two findings of one host are linked only within one episode.
pub fn build(
    pack: &Pack,
    findings: &[Finding],
    episodes: &[u32],
    graphs: &HashMap<Option<String>, HostGraph>,
) -> Linked {
    let empty = HostGraph::default();
    let mut hosts: FxHashMap<Option<&str>, HostIndex> = FxHashMap::default();
    // The best link of each (cause, effect), with the index of its link rule.
    let mut best: BTreeMap<(usize, usize), (ChainLink, u32)> = BTreeMap::new();
    let mut rejected = Vec::new();
    let in_chain = |f: &Finding| matches!(f.kind, Kind::Fault | Kind::Symptom);
    // Effects by (host, signature), sorted by first time: each cause only looks at the effects
    // inside its window.
    type Timed = Vec<(i64, usize)>;
    let mut index: FxHashMap<(Option<&str>, &str), Timed> = FxHashMap::default();
    for (i, f) in findings.iter().enumerate() {
        if in_chain(f) {
            let t = f.began().map(|t| t.unix_nanos).unwrap_or(i64::MIN);
            index.entry((f.host.as_deref(), f.signature.as_str())).or_default().push((t, i));
        }
    }
    for v in index.values_mut() {
        v.sort();
    }
    let no_host: Vec<(i64, usize)> = Vec::new();
    let mut candidates: Vec<usize> = Vec::new();
    for (li, link) in pack.links.iter().enumerate() {
        for (ci, c) in findings.iter().enumerate().filter(|(_, f)| in_chain(f) && link.causes.contains(&f.signature)) {
            let hi = hosts
                .entry(c.host.as_deref())
                .or_insert_with(|| HostIndex::new(graphs.get(&c.host).unwrap_or(&empty), findings.len()));
            candidates.clear();
            for sig in &link.effects {
                // Same host, or a finding without a host (which does not contradict one).
                let hosts: [Option<&str>; 2] = [c.host.as_deref(), None];
                for (k, h) in hosts.iter().enumerate() {
                    if k == 1 && c.host.is_none() {
                        break;
                    }
                    let list = index.get(&(*h, sig.as_str())).unwrap_or(&no_host);
                    match c.began() {
                        Some(t0) => {
                            let lo = t0.unix_nanos.saturating_sub(link.tolerance);
                            let hi = t0.unix_nanos.saturating_add(link.max_delay);
                            let start = list.partition_point(|(t, _)| *t < lo);
                            candidates.extend(list[start..].iter().take_while(|(t, _)| *t <= hi).map(|(_, i)| *i));
                            // Effects without a time cannot be placed; try_link accepts them.
                            candidates.extend(list.iter().take_while(|(t, _)| *t == i64::MIN).map(|(_, i)| *i));
                        }
                        None => candidates.extend(list.iter().map(|(_, i)| *i)),
                    }
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for &ei in &candidates {
                let e = &findings[ei];
                if ci == ei {
                    continue;
                }
                // Two episodes of one host are separated by a quiet gap: nothing links across it.
                if c.host.is_some() && c.host == e.host && episodes.get(ci) != episodes.get(ei) {
                    continue;
                }
                let Some(delay) = rootline_rules::links::allows(link, c, e, || hi.share_storage((ci, c), (ei, e)))
                else {
                    continue;
                };
                let (from, to) = (hi.set(ci, c), hi.set(ei, e));
                let g = hi.g;
                let via = if matches!(link.share, Share::Storage) {
                    Via::Storage
                } else if STORAGE_FAMILIES.contains(&c.signature.split('.').next().unwrap_or("")) {
                    Via::Any
                } else {
                    Via::NoDevice
                };
                let (entities, path): (Vec<String>, Vec<AliasEdge>) = match hi.tie(from, to, via) {
                    Tie::None => {
                        let none = hi.sets[from as usize].0.is_empty() || hi.sets[to as usize].0.is_empty();
                        rejected.push(Reject {
                            cause: ci as u32,
                            effect: ei as u32,
                            link: li as u32,
                            reason: if none { RejectReason::NoEntity } else { RejectReason::NoSharedEntity },
                        });
                        continue;
                    }
                    Tie::Shared => {
                        let (a, b) = (&hi.sets[from as usize].0, &hi.sets[to as usize].0);
                        (a.iter().filter(|n| b.contains(n)).map(node_text).collect(), Vec::new())
                    }
                    Tie::Path(p) => {
                        let path: Vec<AliasEdge> = p.iter().map(|&x| g.edge(x).clone()).collect();
                        let mut entities: Vec<String> = Vec::new();
                        for n in path.iter().flat_map(|x| [&x.a, &x.b]) {
                            let s = node_text(n);
                            if !entities.contains(&s) {
                                entities.push(s);
                            }
                        }
                        (entities, path)
                    }
                };
                let key = (ci, ei);
                if best.get(&key).is_some_and(|(old, _)| old.prior >= link.prior) {
                    continue;
                }
                let mut evidence = Vec::new();
                evidence.extend(c.evidence.first().cloned());
                evidence.extend(e.evidence.first().cloned());
                evidence.extend(path.iter().filter_map(|x| x.evidence.clone()));
                let cl = ChainLink {
                    cause: c.id.clone(),
                    effect: e.id.clone(),
                    link: link.id.clone(),
                    entities,
                    evidence,
                    cause_signature: c.signature.clone(),
                    effect_signature: e.signature.clone(),
                    prior: link.prior,
                    delay_secs: delay,
                    via: path,
                    decisive: false,
                };
                best.insert(key, (cl, li as u32));
            }
        }
    }
    // Both directions allowed: keep the one in time order (then the stronger).
    let keys: Vec<(usize, usize)> = best.keys().copied().collect();
    for (a, b) in keys {
        if a < b {
            if let (Some((x, _)), Some((y, _))) = (best.get(&(a, b)), best.get(&(b, a))) {
                let ta = findings[a].began().map(|t| t.unix_nanos);
                let tb = findings[b].began().map(|t| t.unix_nanos);
                let keep_ab = match (ta, tb) {
                    (Some(ta), Some(tb)) if ta != tb => ta < tb,
                    _ => x.prior >= y.prior,
                };
                let drop = if keep_ab { (b, a) } else { (a, b) };
                if let Some((_, link)) = best.remove(&drop) {
                    rejected.push(Reject {
                        cause: drop.0 as u32,
                        effect: drop.1 as u32,
                        link,
                        reason: RejectReason::Reverse,
                    });
                }
            }
        }
    }
    // In the order of the cause, then the effect (the keys' order).
    let links: Vec<ChainLink> = best.into_values().map(|(l, _)| l).collect();
    Linked { links, rejected }
}

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

use rootline_rules::{Aliases, Finding, Kind, Pack, Share};

use crate::alias::{HostGraph, Node, Via, SAME_DEVICE_RELATIONS};
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
    /// Candidates not made.
    pub rejected: Vec<Rejected>,
}

fn storage_aliases(g: &HostGraph) -> Aliases {
    let mut a = Aliases::default();
    for e in g.edges() {
        if SAME_DEVICE_RELATIONS.contains(&e.relation.as_str()) {
            a.union(&e.a.value, &e.b.value);
        }
    }
    a
}

/// Links `findings` through the pack's link rules and the hosts' alias graphs.
pub fn build(pack: &Pack, findings: &[Finding], graphs: &HashMap<Option<String>, HostGraph>) -> Linked {
    let empty = HostGraph::default();
    let aliases: HashMap<Option<String>, Aliases> =
        graphs.iter().map(|(h, g)| (h.clone(), storage_aliases(g))).collect();
    let no_aliases = Aliases::default();
    let mut best: BTreeMap<(usize, usize), ChainLink> = BTreeMap::new();
    let mut rejected = Vec::new();
    let pos: HashMap<&str, usize> = findings.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let in_chain = |f: &Finding| matches!(f.kind, Kind::Fault | Kind::Symptom);
    // Effects by (host, signature), sorted by first time: each cause only looks at the effects
    // inside its window.
    type Timed = Vec<(i64, usize)>;
    let mut index: HashMap<(Option<&str>, &str), Timed> = HashMap::new();
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
    for link in &pack.links {
        for c in findings.iter().filter(|f| in_chain(f) && link.causes.contains(&f.signature)) {
            let g = graphs.get(&c.host).unwrap_or(&empty);
            let al = aliases.get(&c.host).unwrap_or(&no_aliases);
            let mut candidates: Vec<usize> = Vec::new();
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
            for e in candidates.into_iter().map(|i| &findings[i]) {
                if c.id == e.id {
                    continue;
                }
                let Some(edge) = rootline_rules::links::try_link(link, c, e, al) else { continue };
                let (from, to) = (nodes_of(c, g), nodes_of(e, g));
                let via = if matches!(link.share, Share::Storage) {
                    Via::Storage
                } else if STORAGE_FAMILIES.contains(&c.signature.split('.').next().unwrap_or("")) {
                    Via::Any
                } else {
                    Via::NoDevice
                };
                let Some(path) = g.path(&from, &to, via, MAX_HOPS) else {
                    rejected.push(Rejected {
                        cause: c.id.clone(),
                        effect: e.id.clone(),
                        link: link.id.clone(),
                        reason: if from.is_empty() || to.is_empty() {
                            "no entity to share: one side names no object".into()
                        } else {
                            "no shared entity: no evidence ties the two".into()
                        },
                    });
                    continue;
                };
                let mut entities: Vec<String> = Vec::new();
                if path.is_empty() {
                    for n in from.iter().filter(|n| to.contains(n)) {
                        entities.push(n.to_string());
                    }
                } else {
                    for n in path.iter().flat_map(|x| [&x.a, &x.b]) {
                        let s = n.to_string();
                        if !entities.contains(&s) {
                            entities.push(s);
                        }
                    }
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
                    prior: edge.prior,
                    delay_secs: edge.delay_secs,
                    via: path,
                    decisive: false,
                };
                let key = (pos[c.id.as_str()], pos[e.id.as_str()]);
                match best.get(&key) {
                    Some(old) if old.prior >= cl.prior => {}
                    _ => {
                        best.insert(key, cl);
                    }
                }
            }
        }
    }
    // Both directions allowed: keep the one in time order (then the stronger).
    let keys: Vec<(usize, usize)> = best.keys().copied().collect();
    for (a, b) in keys {
        if a < b {
            if let (Some(x), Some(y)) = (best.get(&(a, b)), best.get(&(b, a))) {
                let ta = findings[a].began().map(|t| t.unix_nanos);
                let tb = findings[b].began().map(|t| t.unix_nanos);
                let keep_ab = match (ta, tb) {
                    (Some(ta), Some(tb)) if ta != tb => ta < tb,
                    _ => x.prior >= y.prior,
                };
                let drop = if keep_ab { (b, a) } else { (a, b) };
                if let Some(d) = best.remove(&drop) {
                    rejected.push(Rejected {
                        cause: d.cause,
                        effect: d.effect,
                        link: d.link,
                        reason: "the reverse link is in time order".into(),
                    });
                }
            }
        }
    }
    let mut links: Vec<ChainLink> = best.into_values().collect();
    links.sort_by_key(|l| (pos[l.cause.as_str()], pos[l.effect.as_str()]));
    Linked { links, rejected }
}

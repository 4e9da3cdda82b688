//! Causal links between findings, from the link rules in `rules/links/*.yaml`.
//!
//! A link rule says: a finding of signature `cause` may explain a finding of signature `effect` on
//! the same host when the effect starts at most `max_delay` after the cause (or up to `tolerance`
//! before it, for clock skew between sources) and the two are tied as `share` says: `host` (nothing
//! more), `storage` (a shared map, dm device, devt or path through the [`Aliases`] graph), `process`
//! (entity predicates on each side, e.g. the cause's `comm` is qemu or libvirtd and the effect's
//! container is libvirt), or `pod` (the same pod; a shared container name only when a side names no
//! pod: two pods running a container named `api` are two workloads). This module only lists the candidate
//! edges with their prior strength; ranking them into a chain is the correlate stage's job.

use serde::Serialize;

use crate::compile::{Link, Pack, Share};
use crate::finding::Finding;
use crate::window::Aliases;

/// One candidate causal edge between two findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    /// Finding id of the cause.
    pub cause: String,
    /// Finding id of the effect.
    pub effect: String,
    /// The link rule that allows it.
    pub link: String,
    /// The rule's prior strength.
    pub prior: f64,
    /// Seconds from the cause's first hit to the effect's first hit (negative within tolerance).
    pub delay_secs: Option<f64>,
    /// Entity values the two share (storage aliases, pod, container), when the link needs them.
    pub shared: Vec<String>,
}

/// Lists every edge the pack's link rules allow between `findings`.
pub fn connect(pack: &Pack, findings: &[Finding], aliases: &Aliases) -> Vec<Edge> {
    let mut out = Vec::new();
    for link in &pack.links {
        for c in findings.iter().filter(|f| link.causes.contains(&f.signature)) {
            for e in findings.iter().filter(|f| link.effects.contains(&f.signature)) {
                if c.id == e.id {
                    continue;
                }
                if let Some(edge) = try_link(link, c, e, aliases) {
                    out.push(edge);
                }
            }
        }
    }
    out
}

fn preds_hold(preds: &[(String, regex::Regex)], f: &Finding) -> bool {
    preds.iter().all(|(k, re)| f.entities.get(k).is_some_and(|vals| vals.iter().any(|v| re.is_match(v))))
}

/// Whether `link` allows an edge from `c` to `e`, without building it: `Some(delay_secs)` when it
/// does. `share_storage` answers the storage test of a `share: storage` link (asked last, only when
/// everything else holds). [`try_link`] is this plus the shared values.
pub fn allows(link: &Link, c: &Finding, e: &Finding, share_storage: impl FnOnce() -> bool) -> Option<Option<f64>> {
    // An unknown host (a file without host names) does not contradict a known one.
    if let (Some(a), Some(b)) = (&c.host, &e.host) {
        if a != b {
            return None;
        }
    }
    // From when each condition began (a hung task blocked `hung_task_timeout_secs` before its
    // report), so a symptom logged before its cause's first line can still follow its onset.
    let delay = match (c.began(), e.began()) {
        (Some(a), Some(b)) => {
            let d = b.unix_nanos - a.unix_nanos;
            if d > link.max_delay || d < -link.tolerance {
                return None;
            }
            Some(d as f64 / 1e9)
        }
        _ => None,
    };
    if !preds_hold(&link.cause_entities, c) || !preds_hold(&link.effect_entities, e) {
        return None;
    }
    let holds = match link.share {
        Share::Host | Share::Process => true,
        Share::Storage => share_storage(),
        Share::Pod => !pod_keys(c, e).is_empty(),
    };
    holds.then_some(delay)
}

/// The entity kinds a `share: pod` link compares: the pod when both sides name one (two pods that
/// run a container of one name, `api` in two namespaces, are two workloads), else the container.
fn pod_keys(c: &Finding, e: &Finding) -> &'static [&'static str] {
    let both = |k: &str| c.entities.contains_key(k) && e.entities.contains_key(k);
    let same = |k: &str| match (c.entities.get(k), e.entities.get(k)) {
        (Some(a), Some(b)) => a.iter().any(|v| b.iter().any(|w| same_pod_value(v, w))),
        _ => false,
    };
    if both("pod") {
        if same("pod") {
            &["pod", "container"]
        } else {
            &[]
        }
    } else if same("container") {
        &["container"]
    } else {
        &[]
    }
}

/// Pod and container values match whole or by prefix (a shortened container id).
fn same_pod_value(v: &str, w: &str) -> bool {
    w == v || w.starts_with(v) || v.starts_with(w)
}

/// The edge `link` allows from `c` to `e`, if any.
pub fn try_link(link: &Link, c: &Finding, e: &Finding, aliases: &Aliases) -> Option<Edge> {
    let delay = allows(link, c, e, || aliases.share_storage(&c.entities, &e.entities))?;
    let mut shared = Vec::new();
    match link.share {
        Share::Host | Share::Process => {}
        Share::Storage => {
            for vals in crate::window::STORAGE_KINDS.iter().filter_map(|k| c.entities.get(*k)) {
                for v in vals {
                    if e.entities.values().flatten().any(|w| aliases.same(v, w)) && !shared.contains(v) {
                        shared.push(v.clone());
                    }
                }
            }
        }
        Share::Pod => {
            for &k in pod_keys(c, e) {
                if let (Some(a), Some(b)) = (c.entities.get(k), e.entities.get(k)) {
                    for v in a {
                        if b.iter().any(|w| same_pod_value(v, w)) {
                            shared.push(v.clone());
                        }
                    }
                }
            }
        }
    }
    Some(Edge {
        cause: c.id.clone(),
        effect: e.id.clone(),
        link: link.id.clone(),
        prior: link.prior,
        delay_secs: delay,
        shared,
    })
}

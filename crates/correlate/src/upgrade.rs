//! Upgrade awareness: image changes and (re)starts of OpenStack service containers mark the phases of
//! a change on the host; for each incident, say what changed shortly before its first fault. These
//! are context, never links: a change before a fault is a suspect, not proof.

use rootline_rules::{Finding, Kind};

use crate::analysis::Change;

/// Signatures that mark a change.
pub const CHANGE_SIGNATURES: &[&str] =
    &["upgrade.image-changed", "k8s.image-pulled", "k8s.container-started", "multipath.map-added"];

/// OpenStack service names recognised in container names and images.
pub const SERVICES: &[&str] = &[
    "nova",
    "libvirt",
    "neutron",
    "cinder",
    "glance",
    "keystone",
    "placement",
    "openvswitch",
    "ovn",
    "heat",
    "octavia",
    "multipathd",
    "iscsid",
];

/// How far before the first fault a change counts as "just before".
pub const BEFORE_WINDOW_SECS: f64 = 2.0 * 3600.0;

fn first_of(f: &Finding, k: &str) -> Option<String> {
    f.entities.get(k).and_then(|v| v.first()).cloned()
}

/// The change a context finding records, if it is one (container starts only for OpenStack services).
pub fn change_of(f: &Finding) -> Option<Change> {
    if f.kind != Kind::Context || !CHANGE_SIGNATURES.contains(&f.signature.as_str()) {
        return None;
    }
    let summary = match f.signature.as_str() {
        "upgrade.image-changed" => format!(
            "{} service image changed to {}",
            first_of(f, "service").unwrap_or_default(),
            first_of(f, "image").unwrap_or_default()
        ),
        "k8s.image-pulled" => format!("image {} pulled", first_of(f, "image").unwrap_or_default()),
        "k8s.container-started" => {
            let c = first_of(f, "container").or_else(|| first_of(f, "container_id")).unwrap_or_default();
            let is_service = SERVICES.iter().any(|s| c.contains(s));
            if !is_service {
                return None;
            }
            format!("container {c} (re)started")
        }
        "multipath.map-added" => {
            format!("multipath map {} added (a volume attached)", first_of(f, "map").unwrap_or_default())
        }
        _ => return None,
    };
    Some(Change {
        finding: f.id.clone(),
        signature: f.signature.clone(),
        summary,
        time: f.first.map(|t| t.to_rfc3339()),
        before_first_fault_secs: None,
        evidence: f.evidence.first().cloned(),
    })
}

/// Every change of the host, in time order.
pub fn changes(findings: &[Finding]) -> Vec<(usize, Change)> {
    let mut out: Vec<(usize, Change)> =
        findings.iter().enumerate().filter_map(|(i, f)| change_of(f).map(|c| (i, c))).collect();
    out.sort_by_key(|(i, _)| findings[*i].first.map(|t| t.unix_nanos).unwrap_or(i64::MIN));
    out
}

/// The changes on `host` within [`BEFORE_WINDOW_SECS`] before `first_fault` (unix nanos); `all` is
/// in time order ([`changes`]).
pub fn before(findings: &[Finding], all: &[(usize, Change)], host: &Option<String>, first_fault: i64) -> Vec<Change> {
    let t_of = |i: usize| findings[i].first.map(|t| t.unix_nanos).unwrap_or(i64::MIN);
    let lo = first_fault.saturating_sub((BEFORE_WINDOW_SECS * 1e9) as i64);
    let start = all.partition_point(|(i, _)| t_of(*i) < lo);
    let stop = all.partition_point(|(i, _)| t_of(*i) <= first_fault);
    all[start..stop.max(start)]
        .iter()
        .filter(|(i, _)| findings[*i].host == *host || findings[*i].host.is_none())
        .filter_map(|(i, c)| {
            let t = findings[*i].first?.unix_nanos;
            let secs = (first_fault - t) as f64 / 1e9;
            (0.0..=BEFORE_WINDOW_SECS).contains(&secs).then(|| {
                let mut c = c.clone();
                c.before_first_fault_secs = Some(secs);
                c
            })
        })
        .collect()
}

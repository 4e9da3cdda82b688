//! Incidents: the findings of one host connected by chain links. A fault or symptom no link touches
//! is an incident of its own (which can only be `uncertain`); context and recovery findings belong to
//! no incident.

use std::collections::HashMap;

use rootline_rules::{Finding, Kind};

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
    let pos: HashMap<&str, usize> = findings.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    for l in links {
        let (a, b) = (pos[l.cause.as_str()], pos[l.effect.as_str()]);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut by_root: HashMap<usize, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !matches!(f.kind, Kind::Fault | Kind::Symptom) {
            continue;
        }
        let r = root(&mut parent, i);
        let gi = *by_root.entry(r).or_insert_with(|| {
            groups.push(Group { host: f.host.clone(), members: Vec::new(), links: Vec::new() });
            groups.len() - 1
        });
        groups[gi].members.push(i);
    }
    for (li, l) in links.iter().enumerate() {
        let r = root(&mut parent, pos[l.cause.as_str()]);
        if let Some(&gi) = by_root.get(&r) {
            groups[gi].links.push(li);
        }
    }
    groups
}

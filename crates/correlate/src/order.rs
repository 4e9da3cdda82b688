//! How an incident's chain is drawn: for each effect the one link that explains it best (its
//! *decisive* link), and the findings in the order of the chain that those links make. The text,
//! the Markdown and the HTML all draw the same links in the same order.

use std::collections::{BTreeMap, HashMap};

use rootline_rules::Finding;

use crate::analysis::ChainLink;

fn began(f: Option<&&Finding>) -> i64 {
    f.and_then(|f| f.began()).map(|t| t.unix_nanos).unwrap_or(i64::MAX)
}

/// Marks each effect's decisive link in `chain` (the strongest prior; then the link from `root`,
/// or into it from its `onset`; then the earliest cause) and returns the findings in chain order: from the findings no
/// decisive link explains, each finding after its decisive cause, by depth and, at one depth, by
/// when each began. Findings no decisive link reaches (a cycle) follow, by when they began.
pub fn decide<S: std::hash::BuildHasher>(
    chain: &mut [ChainLink],
    root: &str,
    onset: &[String],
    members: &[String],
    by_id: &HashMap<&str, &Finding, S>,
) -> Vec<String> {
    let t = |id: &str| began(by_id.get(id));
    let mut best: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in chain.iter().enumerate() {
        let better = match best.get(&c.effect) {
            None => true,
            Some(&b) => {
                let b = &chain[b];
                // A link from the root cause, or into it from its onset (the trigger it became).
                let from_root = |x: &ChainLink| x.cause == root || (x.effect == root && onset.contains(&x.cause));
                c.prior > b.prior + 1e-9
                    || ((c.prior - b.prior).abs() < 1e-9
                        && (from_root(c) && !from_root(b)
                            || (from_root(c) == from_root(b) && (t(&c.cause), &c.cause) < (t(&b.cause), &b.cause))))
            }
        };
        if better {
            best.insert(c.effect.clone(), i);
        }
    }
    for c in chain.iter_mut() {
        c.decisive = false;
    }
    for &i in best.values() {
        chain[i].decisive = true;
    }
    // The decisive links make a forest (one decisive cause per effect): drawn from its tops (the
    // findings no decisive link explains: the first evidence of the fault, the root cause when
    // nothing leads to it), by depth and, at one depth, by when each began.
    let children: BTreeMap<&str, Vec<&str>> = chain.iter().filter(|c| c.decisive).fold(BTreeMap::new(), |mut m, c| {
        m.entry(c.cause.as_str()).or_default().push(c.effect.as_str());
        m
    });
    let explained: std::collections::BTreeSet<&str> =
        chain.iter().filter(|c| c.decisive).map(|c| c.effect.as_str()).collect();
    let mut tops: Vec<&str> = members.iter().map(String::as_str).filter(|m| !explained.contains(m)).collect();
    if !tops.contains(&root) && !explained.contains(root) {
        tops.push(root);
    }
    tops.sort_by_key(|m| (t(m), m.to_string()));
    let mut order: Vec<String> = Vec::new();
    let mut frontier: Vec<&str> = tops;
    while !frontier.is_empty() && order.len() <= members.len() {
        for x in &frontier {
            if !order.iter().any(|o| o == x) {
                order.push(x.to_string());
            }
        }
        let mut next: Vec<&str> = Vec::new();
        for x in &frontier {
            for e in children.get(x).map(|v| v.as_slice()).unwrap_or(&[]) {
                if !order.iter().any(|o| o == e) && !next.contains(e) {
                    next.push(e);
                }
            }
        }
        next.sort_by_key(|e| (t(e), e.to_string()));
        frontier = next;
    }
    let mut rest: Vec<&String> = members.iter().filter(|m| !order.contains(m)).collect();
    rest.sort_by_key(|m| (t(m), m.to_string()));
    order.extend(rest.into_iter().cloned());
    order
}

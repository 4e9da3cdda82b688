//! Recurrence: a node that fails again and again over days gives one incident per episode (the rule
//! engine cuts a host's findings at every quiet gap, [`rootline_rules::window::EPISODE_GAP`]); the
//! incidents whose root cause is the same fault (one signature on one object of one host) are
//! counted together, so each says "the same fault 14 times in 3 days" and the text lists the
//! repeats as one line.

use std::collections::BTreeMap;

use rootline_rules::{Finding, Pack, RuleSeverity};
use serde::Serialize;

use crate::analysis::Incident;

/// An incident with what orders it (the worst first) and what tells its fault from another.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// A root cause was found.
    pub found: bool,
    /// Number of findings.
    pub members: usize,
    /// The root cause is a fallback finding (an error line no specific rule explains).
    pub fallback_root: bool,
    /// The most severe finding's severity.
    pub worst: RuleSeverity,
    /// The root cause's object ([`object`]).
    pub object: String,
    /// When the incident began (unix nanoseconds).
    pub start: Option<i64>,
    /// The incident.
    pub incident: Incident,
}

/// How often an incident's fault happened on its host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recurrence {
    /// Incidents with the same root cause on this host (this one included).
    pub count: usize,
    /// Which of them this one is, in time order (from 1).
    pub nth: usize,
    /// When the first of them began.
    pub first: Option<String>,
    /// When the last of them began.
    pub last: Option<String>,
    /// Seconds from the first to the last.
    pub span_secs: f64,
}

/// What the root cause is about: its signature's grouping entities (`map=mpathb`), or nothing for a
/// signature without any. Two incidents are the same fault when host, signature and object agree.
pub fn object(f: &Finding, pack: &Pack) -> String {
    let Some(s) = pack.signatures.iter().find(|s| s.id == f.signature) else { return String::new() };
    let mut parts = Vec::new();
    for k in &s.group_by {
        if let Some(v) = f.entities.get(k) {
            let mut v = v.clone();
            v.sort();
            parts.push(format!("{k}={}", v.join(",")));
        }
    }
    parts.join(" ")
}

/// Sets [`Incident::recurrence`] on every incident whose fault happened more than once.
pub fn mark(incidents: &mut [Ranked]) {
    let mut same: BTreeMap<(Option<&str>, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in incidents.iter().enumerate() {
        let key = (r.incident.host.as_deref(), r.incident.root_cause.signature.as_str(), r.object.as_str());
        same.entry(key).or_default().push(i);
    }
    let mut marks: Vec<(usize, Recurrence)> = Vec::new();
    for list in same.into_values().filter(|l| l.len() > 1) {
        let mut by_time = list.clone();
        by_time.sort_by_key(|&i| (incidents[i].start.unwrap_or(i64::MAX), i));
        let (a, b) = (&incidents[by_time[0]], &incidents[*by_time.last().expect("two or more")]);
        let span = match (a.start, b.start) {
            (Some(x), Some(y)) => (y - x) as f64 / 1e9,
            _ => 0.0,
        };
        for (nth, &i) in by_time.iter().enumerate() {
            marks.push((
                i,
                Recurrence {
                    count: list.len(),
                    nth: nth + 1,
                    first: a.incident.start.clone(),
                    last: b.incident.start.clone(),
                    span_secs: (span * 1000.0).round() / 1000.0,
                },
            ));
        }
    }
    for (i, r) in marks {
        incidents[i].incident.recurrence = Some(r);
    }
}

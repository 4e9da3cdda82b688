//! Recurrence: a node that fails again and again over days gives one incident per episode (the rule
//! engine cuts a host's findings at every quiet gap, [`rootline_rules::window::EPISODE_GAP`]); the
//! incidents whose root cause is the same fault (one signature on one object of one host) are
//! counted together, so each says "the same fault 14 times in 3 days" and the text lists the
//! repeats as one line.

use rootline_event::Timestamp;
use rootline_rules::compile::Signature;
use rootline_rules::{Finding, Pack, RuleSeverity};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::analysis::Omitted;

/// An incident ranked but not built yet: what orders it (the worst first), what tells its fault
/// from another, and what summarises it when it is not listed.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Index of its group.
    pub group: usize,
    /// A root cause was found.
    pub found: bool,
    /// Number of findings.
    pub members: usize,
    /// The root cause is a fallback finding (an error line no specific rule explains).
    pub fallback_root: bool,
    /// The most severe finding's severity.
    pub worst: RuleSeverity,
    /// The root cause's confidence.
    pub confidence: f64,
    /// Host.
    pub host: Option<String>,
    /// The root cause's signature.
    pub signature: String,
    /// The root cause's object ([`object`]).
    pub object: String,
    /// When the incident began (unix nanoseconds).
    pub start: Option<i64>,
    /// The same, with the offset its evidence wrote it in (written as RFC 3339 only where shown).
    pub start_at: Option<Timestamp>,
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
    object_of(f, pack.signatures.iter().find(|s| s.id == f.signature))
}

/// [`object`], with the finding's signature already looked up (`None`: not in the pack).
pub fn object_of(f: &Finding, sig: Option<&Signature>) -> String {
    let Some(s) = sig else { return String::new() };
    let mut out = String::new();
    for k in &s.group_by {
        if let Some(v) = f.entities.get(k) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(k);
            out.push('=');
            let mut put = |vals: &mut dyn Iterator<Item = &String>| {
                for (i, x) in vals.enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(x);
                }
            };
            if v.is_sorted() {
                put(&mut v.iter());
            } else {
                let mut sorted: Vec<&String> = v.iter().collect();
                sorted.sort_unstable();
                put(&mut sorted.into_iter());
            }
        }
    }
    out
}

/// The recurrence of each incident (in the order given): `Some` for an incident whose fault was the
/// root cause more than once on its host.
pub fn mark(incidents: &[Ranked]) -> Vec<Option<Recurrence>> {
    mark_first(incidents, incidents.len())
}

/// [`mark`] for the first `listed` incidents only (the others are counted among the repeats but get
/// `None`): the vector has `listed` entries.
pub fn mark_first(incidents: &[Ranked], listed: usize) -> Vec<Option<Recurrence>> {
    let listed = listed.min(incidents.len());
    let mut same: FxHashMap<(Option<&str>, &str, &str), Vec<usize>> = FxHashMap::default();
    for (i, r) in incidents.iter().enumerate() {
        same.entry((r.host.as_deref(), r.signature.as_str(), r.object.as_str())).or_default().push(i);
    }
    let mut out: Vec<Option<Recurrence>> = vec![None; listed];
    for list in same.into_values().filter(|l| l.len() > 1 && l[0] < listed) {
        let mut by_time = list.clone();
        by_time.sort_by_key(|&i| (incidents[i].start.unwrap_or(i64::MAX), i));
        let (a, b) = (&incidents[by_time[0]], &incidents[*by_time.last().expect("two or more")]);
        let span = match (a.start, b.start) {
            (Some(x), Some(y)) => (y - x) as f64 / 1e9,
            _ => 0.0,
        };
        let (first, last) = (a.start_at.map(|t| t.to_rfc3339()), b.start_at.map(|t| t.to_rfc3339()));
        for (nth, &i) in by_time.iter().enumerate() {
            if i < listed {
                out[i] = Some(Recurrence {
                    count: list.len(),
                    nth: nth + 1,
                    first: first.clone(),
                    last: last.clone(),
                    span_secs: (span * 1000.0).round() / 1000.0,
                });
            }
        }
    }
    out
}

/// What is said of incidents that are not listed: how many, and by root-cause signature.
pub fn omitted(rest: &[Ranked]) -> Omitted {
    Omitted {
        incidents: rest.len(),
        signatures: crate::analysis::summarize(
            rest.iter().map(|r| (r.signature.as_str(), r.host.as_deref(), r.start, r.start_at)),
            |t| t.to_rfc3339(),
        ),
        ..Omitted::default()
    }
}

//! The evidence index: every line the analysis cites, numbered once, so that each claim of the report
//! can link to it (`E12` -> the appendix row with file, line and text).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Analysis, Evidence};

/// One cited line.
#[derive(Debug, Clone)]
pub struct EvLine {
    /// 1-based number (`E<n>`, anchor `ev-<n>`).
    pub n: usize,
    /// Source path.
    pub path: String,
    /// Line number.
    pub line: u64,
    /// Time as logged.
    pub time: Option<String>,
    /// The line.
    pub text: String,
    /// Finding ids it proves.
    pub supports: Vec<String>,
}

/// Time, text and the findings it supports, per (path, line).
type Cited = BTreeMap<(String, u64), (Option<String>, String, BTreeSet<String>)>;

/// All cited lines, numbered in order of file and line.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// The lines.
    pub lines: Vec<EvLine>,
    by_key: HashMap<(String, u64), usize>,
}

impl Index {
    /// Collects every evidence line of the analysis: findings, root causes, links, alias edges, changes,
    /// and the fleet comparison's facts.
    pub fn collect(a: &Analysis) -> Index {
        let mut all: Cited = BTreeMap::new();
        let mut add = |e: &Evidence, by: Option<&str>| {
            let v = all
                .entry((e.path.clone(), e.line))
                .or_insert_with(|| (e.time.clone(), e.text.clone(), BTreeSet::new()));
            if let Some(b) = by {
                v.2.insert(b.to_string());
            }
        };
        for f in &a.findings {
            for e in &f.evidence {
                add(e, Some(&f.id));
            }
        }
        for c in &a.changes {
            if let Some(e) = &c.evidence {
                add(e, Some(&c.finding));
            }
        }
        for i in &a.incidents {
            for e in &i.root_cause.evidence {
                add(e, Some(&i.root_cause.finding));
            }
            for c in &i.context {
                if let Some(e) = &c.evidence {
                    add(e, Some(&c.finding));
                }
            }
            for l in &i.chain {
                for e in &l.evidence {
                    add(e, None);
                }
                for v in &l.via {
                    if let Some(e) = &v.evidence {
                        add(e, Some(&l.link));
                    }
                }
            }
        }
        // The fleet comparison's lines (on this node, or on a peer for what every node showed).
        if let Some(w) = &a.why_only_this_node {
            for f in w.facts() {
                let label = if f.kind == "signature" { f.what.clone() } else { format!("peers:{}", f.kind) };
                for e in &f.evidence {
                    add(e, Some(&label));
                }
            }
        }
        let mut idx = Index::default();
        for (n, ((path, line), (time, text, supports))) in all.into_iter().enumerate() {
            idx.by_key.insert((path.clone(), line), n + 1);
            idx.lines.push(EvLine { n: n + 1, path, line, time, text, supports: supports.into_iter().collect() });
        }
        idx
    }

    /// The number of a cited line.
    pub fn number(&self, e: &Evidence) -> Option<usize> {
        self.by_key.get(&(e.path.clone(), e.line)).copied()
    }
}

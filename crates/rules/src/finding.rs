//! The output of matching: [`Finding`]s, each the aggregate of one signature's hits on one host for
//! one set of entities, with the lines that prove it.
//!
//! A finding serialises as one entry of the `findings` array of the analysis JSON
//! (`rootline.analysis/v1`, see PRODUCT.md): `id`, `signature`, `host`, `first`, `last`, `count`,
//! `entities`, `evidence` (plus `kind` and `severity`, which the schema allows as added fields).

use std::collections::BTreeMap;

use rootline_event::Timestamp;
use serde::{Serialize, Serializer};

use crate::compile::{Kind, RuleSeverity};

/// Most evidence lines kept per finding: the first ones and the latest.
pub const MAX_EVIDENCE: usize = 8;

/// One line that proves a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Source path (`archive!member` inside archives).
    pub path: String,
    /// 1-based line number of the matching line.
    pub line: u64,
    /// Time of the event, RFC 3339 with offset, or null.
    #[serde(serialize_with = "ser_time")]
    pub time: Option<Timestamp>,
    /// The matching line (for a multi-line event: its headline and the matching line if different).
    pub text: String,
}

/// A recognised failure signature: what, where, when, how often, which entities, and the proof.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable within one analysis: `<signature>#<n>`, `n` counting from 1 in order of first hit.
    pub id: String,
    /// The rule id (`multipath.all-paths-down`).
    pub signature: String,
    /// Fault, symptom, context or recovery (from the rule).
    pub kind: Kind,
    /// Severity (from the rule).
    pub severity: RuleSeverity,
    /// True for a finding of a fallback rule (an error line no specific rule explains): a root-cause
    /// candidate only where nothing more specific is. Absent from the JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
    /// Host of the events, when known.
    pub host: Option<String>,
    /// Time of the first hit.
    #[serde(serialize_with = "ser_time")]
    pub first: Option<Timestamp>,
    /// Time of the last hit.
    #[serde(serialize_with = "ser_time")]
    pub last: Option<Timestamp>,
    /// When the condition began, where its first line reports it only after a timeout (a hung
    /// task `hung_task_timeout_secs` after it blocked): earlier than `first`, or absent.
    #[serde(serialize_with = "ser_time", skip_serializing_if = "Option::is_none")]
    pub onset: Option<Timestamp>,
    /// Number of hits merged into this finding.
    pub count: u64,
    /// Entities captured, by kind, values in order of first appearance.
    pub entities: BTreeMap<String, Vec<String>>,
    /// The first lines that matched and the latest one (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// When the condition began: its onset when its lines say it began earlier, else its first line.
    pub fn began(&self) -> Option<Timestamp> {
        self.onset.or(self.first)
    }

    /// True when the finding captured `value` for entity kind `kind`.
    pub fn has(&self, kind: &str, value: &str) -> bool {
        self.entities.get(kind).is_some_and(|v| v.iter().any(|x| x == value))
    }
}

fn ser_time<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}

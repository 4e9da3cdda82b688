//! The analysis as the report reads it: a deserialisable view of `rootline.analysis/v1`.
//!
//! The correlate crate's [`rootline_correlate::Analysis`] only serialises; a saved analysis
//! (`rootline report ANALYSIS.json`) has to be read back. Both paths go through this one type: an
//! in-memory analysis is turned into JSON and read here, so the report cannot depend on anything the
//! JSON does not carry. Fields the report does not use are not declared (serde ignores them); fields
//! that may be missing in older documents default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One line that proves something.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Evidence {
    /// Source path (`archive!member` inside archives).
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// RFC 3339 time, when known.
    #[serde(default)]
    pub time: Option<String>,
    /// The line.
    pub text: String,
}

/// A finding (one signature, one host, one set of entities).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Finding {
    /// `<signature>#<n>`.
    pub id: String,
    /// Rule id.
    pub signature: String,
    /// fault, symptom, context or recovery.
    #[serde(default)]
    pub kind: String,
    /// Rule severity.
    #[serde(default)]
    pub severity: String,
    /// Host.
    #[serde(default)]
    pub host: Option<String>,
    /// First hit.
    #[serde(default)]
    pub first: Option<String>,
    /// Last hit.
    #[serde(default)]
    pub last: Option<String>,
    /// Hits merged.
    #[serde(default)]
    pub count: u64,
    /// Entities by kind.
    #[serde(default)]
    pub entities: BTreeMap<String, Vec<String>>,
    /// Proof lines.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// True when the finding names `value` for entity kind `kind`.
    pub fn has_entity(&self, kind: &str, value: &str) -> bool {
        self.entities.get(kind).is_some_and(|v| v.iter().any(|x| x == value))
    }
}

/// The root cause of an incident.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RootCause {
    /// Finding id.
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// Entities, widened by storage aliases.
    #[serde(default)]
    pub entities: BTreeMap<String, Vec<String>>,
    /// 0..1.
    pub confidence: f64,
    /// One sentence.
    #[serde(default)]
    pub summary: String,
    /// Proof lines.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Findings that are its onset.
    #[serde(default)]
    pub onset: Vec<String>,
}

/// A lower-ranked cause.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Alternative {
    /// Finding id.
    #[serde(default)]
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// 0..1.
    pub confidence: f64,
    /// Why it ranked lower.
    #[serde(default)]
    pub why_not: String,
}

/// One end of an alias edge.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Node {
    /// Entity kind.
    pub kind: String,
    /// Value.
    pub value: String,
}

/// An alias edge: two names of one object, or a relation between objects.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AliasEdge {
    /// One side.
    pub a: Node,
    /// The other.
    pub b: Node,
    /// Relation name.
    pub relation: String,
    /// The line that established it.
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// How it was derived, when no line states it.
    #[serde(default)]
    pub derived: Option<String>,
}

/// One causal edge.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChainLink {
    /// Cause finding id.
    pub cause: String,
    /// Effect finding id.
    pub effect: String,
    /// Link rule id.
    pub link: String,
    /// Shared entities.
    #[serde(default)]
    pub entities: Vec<String>,
    /// Cause line, effect line, alias lines.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Cause rule id.
    #[serde(default)]
    pub cause_signature: String,
    /// Effect rule id.
    #[serde(default)]
    pub effect_signature: String,
    /// Link prior.
    #[serde(default)]
    pub prior: f64,
    /// Seconds from cause to effect.
    #[serde(default)]
    pub delay_secs: Option<f64>,
    /// Alias path.
    #[serde(default)]
    pub via: Vec<AliasEdge>,
    /// The link the analysis draws for its effect (absent in analyses saved before it was written).
    #[serde(default)]
    pub decisive: bool,
}

/// A change on the host.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Change {
    /// Finding id.
    pub finding: String,
    /// Rule id.
    pub signature: String,
    /// One sentence.
    #[serde(default)]
    pub summary: String,
    /// When.
    #[serde(default)]
    pub time: Option<String>,
    /// Seconds before the first fault.
    #[serde(default)]
    pub before_first_fault_secs: Option<f64>,
    /// The line.
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

/// One incident.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Incident {
    /// Host.
    #[serde(default)]
    pub host: Option<String>,
    /// First finding's time.
    #[serde(default)]
    pub start: Option<String>,
    /// Last finding's time.
    #[serde(default)]
    pub end: Option<String>,
    /// Top hypothesis.
    pub root_cause: RootCause,
    /// Others.
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
    /// Causal edges.
    #[serde(default)]
    pub chain: Vec<ChainLink>,
    /// Finding ids.
    #[serde(default)]
    pub findings: Vec<String>,
    /// The findings in the order of the chain (absent in analyses saved before it was written).
    #[serde(default)]
    pub order: Vec<String>,
    /// Changes shortly before.
    #[serde(default)]
    pub context: Vec<Change>,
    /// What the evidence does not say.
    #[serde(default)]
    pub unknown: Vec<String>,
}

/// A link the evidence did not tie.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Rejected {
    /// Would-be cause.
    pub cause: String,
    /// Would-be effect.
    pub effect: String,
    /// Link rule.
    pub link: String,
    /// Why not.
    #[serde(default)]
    pub reason: String,
}

/// What was read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Inputs {
    /// Files read.
    #[serde(default)]
    pub files: u64,
    /// Lines read.
    #[serde(default)]
    pub lines: u64,
    /// Events made.
    #[serde(default)]
    pub events: u64,
    /// Lines cut to the line limit.
    #[serde(default)]
    pub cut_lines: u64,
    /// The line limit in bytes.
    #[serde(default)]
    pub max_line: u64,
    /// Earliest event time read (RFC 3339).
    #[serde(default)]
    pub first: Option<String>,
    /// Latest event time read.
    #[serde(default)]
    pub last: Option<String>,
    /// Inputs not read, with the reason.
    #[serde(default)]
    pub skipped: Vec<InputNote>,
    /// Inputs read only in part or with a problem, with the reason.
    #[serde(default)]
    pub warnings: Vec<InputNote>,
}

/// An input not read, or read only in part, and why.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InputNote {
    /// Display path.
    #[serde(default)]
    pub path: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// The analysis document.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Analysis {
    /// `rootline.analysis/v1`.
    pub schema: String,
    /// What was read.
    #[serde(default)]
    pub inputs: Inputs,
    /// Hosts seen.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Every finding.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Incidents, most confident first.
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// root_cause_found, uncertain or no_incident.
    pub verdict: String,
    /// Links not made.
    #[serde(default)]
    pub rejected_links: Vec<Rejected>,
    /// Changes seen.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// The fleet comparison (`rootline fleet`), when the node was compared with its peers.
    #[serde(default)]
    pub why_only_this_node: Option<WhyOnlyThisNode>,
    /// Past cases like this incident (`rootline.similar/v1`), when a case database was consulted.
    #[serde(default)]
    pub seen_before: Option<SeenBefore>,
    /// What `--max-incidents` left out of a big analysis, counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<Omitted>,
}

/// Past cases like this incident, best first.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SeenBefore {
    /// The matches.
    #[serde(default)]
    pub matches: Vec<PastCase>,
}

/// One past case.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PastCase {
    /// Its id in the case database.
    pub case: i64,
    /// Its title.
    pub title: String,
    /// 0..1.
    pub score: f64,
    /// What the two share, each with its share of the score.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// What resolved it.
    #[serde(default)]
    pub resolution: Option<String>,
}

/// What `--max-incidents` left out (`rootline_correlate::analysis::Omitted`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Omitted {
    /// Incidents not listed.
    #[serde(default)]
    pub incidents: usize,
    /// Findings not listed.
    #[serde(default)]
    pub findings: usize,
}

impl Analysis {
    /// The finding with this id.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }
}

/// The window every node of a fleet comparison was compared in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PeerWindow {
    /// Start, RFC 3339.
    #[serde(default)]
    pub since: Option<String>,
    /// End, RFC 3339.
    #[serde(default)]
    pub until: Option<String>,
    /// How it was chosen (a sentence of the fleet comparison).
    #[serde(default)]
    pub how: String,
}

/// One fact of a fleet comparison: something this node (or every node) showed, on how many nodes.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PeerFact {
    /// `signature`, `template`, `version` or `timing`.
    #[serde(default)]
    pub kind: String,
    /// The rule id, the template text, or a short description.
    pub what: String,
    /// Nodes that showed it.
    #[serde(default)]
    pub seen_on: u64,
    /// Nodes compared.
    #[serde(default)]
    pub of: u64,
    /// Lines that prove it.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// A sentence of the comparison.
    #[serde(default)]
    pub note: Option<String>,
}

/// "Why only this node": the node against its peers in the same window (`rootline fleet`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct WhyOnlyThisNode {
    /// The analysed node.
    #[serde(default)]
    pub host: Option<String>,
    /// Nodes compared, this one included.
    #[serde(default)]
    pub nodes: u64,
    /// The window.
    #[serde(default)]
    pub window: Option<PeerWindow>,
    /// Present on this node, absent or rare on the peers.
    #[serde(default)]
    pub only_here: Vec<PeerFact>,
    /// Shown by every node (so not the cause).
    #[serde(default)]
    pub shared: Vec<PeerFact>,
    /// Other differences (versions, upgrade timing): hypotheses at most.
    #[serde(default)]
    pub differences: Vec<PeerFact>,
    /// Root-cause candidates lowered because peers showed them too (`id: why`).
    #[serde(default)]
    pub lowered: Vec<String>,
}

impl WhyOnlyThisNode {
    /// Every fact, in the order the report shows them.
    pub fn facts(&self) -> impl Iterator<Item = &PeerFact> {
        self.only_here.iter().chain(&self.shared).chain(&self.differences)
    }
}

//! The case document, `rootline.case/v1`: what the database keeps of one incident.
//!
//! A case is the top incident of an analysis (`rootline.analysis/v1`), or of the target's analysis in
//! a fleet comparison (`rootline.fleet/v1`, whose ranking the case then keeps): its root cause with a
//! few proof lines, the shape of its chain (which signature leads to which), the entity kinds and log
//! templates it involved, what changed on the host before it, and what the operator recorded (title,
//! resolution, who fixed it). Not the whole analysis: a case stays a few kilobytes, so a database of
//! a hundred thousand incidents stays small, and its evidence lines keep their `path` and `line` for
//! whoever still has the bundle.
//!
//! The **key** is a SHA-256 over what the evidence says (host, times in UTC, root cause and its
//! entities, signatures, chain pairs, entity kinds, templates, the root cause's lines without their
//! paths), never over what was typed or where the bundle lay: the same analysis added twice, from
//! another directory or in another language or zone, is one case.

use std::collections::{BTreeMap, BTreeSet};

use rootline_rules::Pack;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Error;

/// The schema name of a case document.
pub const SCHEMA: &str = "rootline.case/v1";

/// Proof lines kept per case.
pub const MAX_EVIDENCE: usize = 5;
/// Characters kept of each proof line.
pub const MAX_LINE: usize = 400;
/// Nodes of a fleet ranking kept per case.
pub const MAX_RANKING: usize = 10;

/// One cited line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Display path of its file (as the analysis had it).
    pub path: String,
    /// Line number there.
    pub line: u64,
    /// Its time (RFC 3339), when it has one.
    pub time: Option<String>,
    /// Its text (cut to [`MAX_LINE`] characters).
    pub text: String,
}

/// The root cause of the case's incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Root {
    /// Rule id (`multipath.stale-map`).
    pub signature: String,
    /// The rule's family (the part before the dot).
    pub family: String,
    /// 0..1, as the analysis ranked it.
    pub confidence: f64,
    /// One sentence: what, where, when (in the language of the analysis).
    pub summary: String,
    /// Its entities (`map`, `dm`, `volume`, ...).
    #[serde(default)]
    pub entities: BTreeMap<String, Vec<String>>,
    /// Its first proof lines.
    #[serde(default)]
    pub evidence: Vec<Line>,
}

/// One step of the chain's shape: a cause signature that led to an effect signature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pair {
    /// Rule id of the cause.
    pub cause: String,
    /// Rule id of the effect.
    pub effect: String,
    /// How many links of the chain had this pair.
    pub links: u32,
}

/// A change on the host before the first fault (context, not proof).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Rule id (`upgrade.image-changed`).
    pub signature: String,
    /// What changed.
    pub summary: String,
    /// Seconds before the first fault.
    pub before_first_fault_secs: Option<f64>,
}

/// One node of a fleet ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// Host.
    pub host: String,
    /// How unusual it was (the fleet's score).
    pub score: f64,
}

/// What a fleet comparison added: how many nodes, where the failing one ranked, what only it showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Nodes compared.
    pub nodes: u64,
    /// The node explained.
    pub target: String,
    /// Its place in the ranking (1 = most unusual).
    pub rank: Option<u64>,
    /// The first nodes of the ranking.
    pub ranking: Vec<Ranked>,
    /// Signatures seen on the target and on few or none of its peers.
    pub only_here: Vec<String>,
}

/// A case: one incident, what it looked like and what fixed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The id in the database (absent before it is stored; ignored on import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The content key (see the module documentation); recomputed on import.
    #[serde(default)]
    pub key: String,
    /// A title for people.
    pub title: String,
    /// What resolved it.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Who or what fixed it (a person, a team, a change id).
    #[serde(default)]
    pub fixed_by: Option<String>,
    /// When it was stored (RFC 3339, UTC).
    #[serde(default)]
    pub added: Option<String>,
    /// What it was made from (the paths given to `rootline cases add`).
    #[serde(default)]
    pub source: Option<String>,
    /// The incident's host.
    pub host: Option<String>,
    /// Its first finding's time.
    pub start: Option<String>,
    /// Its last finding's time.
    pub end: Option<String>,
    /// The analysis's verdict (`root_cause_found` or `uncertain`).
    pub verdict: String,
    /// The root cause.
    pub root_cause: Root,
    /// The incident's signatures, sorted.
    #[serde(default)]
    pub signatures: Vec<String>,
    /// The chain's shape: distinct (cause, effect) signature pairs, sorted.
    #[serde(default)]
    pub chain: Vec<Pair>,
    /// Entity kinds the incident's findings named (`map`, `session`, `pod`, ...), sorted.
    #[serde(default)]
    pub entity_kinds: Vec<String>,
    /// Stable hashes of the incident's log templates (the analysis's fingerprint), sorted.
    #[serde(default)]
    pub templates: Vec<String>,
    /// Changes on the host shortly before the first fault.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// The fleet comparison, when the case was made from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Fleet>,
}

// The parts of an analysis document a case reads (`rootline.analysis/v1`; unknown fields ignored).
#[derive(Deserialize)]
struct A {
    schema: String,
    #[serde(default)]
    findings: Vec<F>,
    #[serde(default)]
    incidents: Vec<I>,
    verdict: String,
}

#[derive(Deserialize)]
struct F {
    id: String,
    #[serde(default)]
    entities: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct I {
    host: Option<String>,
    start: Option<String>,
    end: Option<String>,
    root_cause: Rc,
    #[serde(default)]
    chain: Vec<L>,
    #[serde(default)]
    findings: Vec<String>,
    #[serde(default)]
    context: Vec<Ch>,
    #[serde(default)]
    fingerprint: Fp,
}

#[derive(Deserialize)]
struct Rc {
    signature: String,
    #[serde(default)]
    entities: BTreeMap<String, Vec<String>>,
    confidence: f64,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    evidence: Vec<Ev>,
}

#[derive(Deserialize)]
struct L {
    cause_signature: String,
    effect_signature: String,
}

#[derive(Deserialize)]
struct Ch {
    signature: String,
    #[serde(default)]
    summary: String,
    before_first_fault_secs: Option<f64>,
}

#[derive(Deserialize, Default)]
struct Fp {
    #[serde(default)]
    signatures: Vec<String>,
    #[serde(default)]
    templates: Vec<String>,
}

#[derive(Deserialize)]
struct Ev {
    path: String,
    line: u64,
    time: Option<String>,
    text: String,
}

// The parts of a fleet document a case reads (`rootline.fleet/v1`).
#[derive(Deserialize)]
struct Fl {
    nodes: u64,
    target: String,
    #[serde(default)]
    ranking: Vec<FlRanked>,
    #[serde(default)]
    contrast: FlContrast,
    analysis: Value,
}

#[derive(Deserialize)]
struct FlRanked {
    host: String,
    score: f64,
}

#[derive(Deserialize, Default)]
struct FlContrast {
    #[serde(default)]
    only_target: Vec<FlFact>,
}

#[derive(Deserialize)]
struct FlFact {
    kind: String,
    what: String,
}

/// The family of a rule id: the part before the first dot.
pub fn family(signature: &str) -> &str {
    signature.split_once('.').map_or(signature, |(f, _)| f)
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The same instant in UTC (`2025-10-13T10:51:40Z`), so a zone or offset chosen for display does
/// not change a key; text that is not a time stays as it is.
fn utc(t: &str) -> String {
    match t.parse::<jiff::Timestamp>() {
        Ok(ts) => ts.to_string(),
        Err(_) => t.to_string(),
    }
}

impl Case {
    /// The case of an analysis document's top incident (`rootline.analysis/v1`), or of a fleet
    /// document's target (`rootline.fleet/v1`, its ranking kept). The title is the root cause's rule
    /// title (from `pack`; its id without one: compiling the pack costs more than a search) and the
    /// host; `source` says what it was made from.
    pub fn from_document(doc: &Value, source: Option<&str>, pack: Option<&Pack>) -> Result<Case, Error> {
        let schema = doc.get("schema").and_then(Value::as_str).unwrap_or("");
        match schema {
            rootline_correlate::SCHEMA => Case::from_analysis(doc, source, pack),
            "rootline.fleet/v1" => {
                let f = Fl::deserialize(doc).map_err(|e| Error::NotADocument(e.to_string()))?;
                let mut case = Case::from_analysis(&f.analysis, source, pack)?;
                let rank = f.ranking.iter().position(|r| r.host == f.target).map(|i| i as u64 + 1);
                case.fleet = Some(Fleet {
                    nodes: f.nodes,
                    target: f.target,
                    rank,
                    ranking: f
                        .ranking
                        .into_iter()
                        .take(MAX_RANKING)
                        .map(|r| Ranked { host: r.host, score: r.score })
                        .collect(),
                    only_here: f
                        .contrast
                        .only_target
                        .into_iter()
                        .filter(|x| x.kind == "signature")
                        .map(|x| x.what)
                        .collect(),
                });
                Ok(case)
            }
            "" => Err(Error::NotADocument("it has no \"schema\" field".into())),
            other => Err(Error::NotADocument(format!(
                "its schema is {other:?}; a case is made from rootline.analysis/v1 (rootline analyze --format json) \
                 or rootline.fleet/v1 (rootline fleet --json)"
            ))),
        }
    }

    fn from_analysis(doc: &Value, source: Option<&str>, pack: Option<&Pack>) -> Result<Case, Error> {
        let a = A::deserialize(doc).map_err(|e| Error::NotADocument(e.to_string()))?;
        if a.schema != rootline_correlate::SCHEMA {
            return Err(Error::NotADocument(format!("its schema is {:?}", a.schema)));
        }
        let Some(i) = a.incidents.into_iter().next().filter(|_| a.verdict != "no_incident") else {
            return Err(Error::NoIncident(a.verdict));
        };
        let kinds_of: BTreeMap<&str, &BTreeMap<String, Vec<String>>> =
            a.findings.iter().map(|f| (f.id.as_str(), &f.entities)).collect();
        let mut entity_kinds: BTreeSet<String> = i.root_cause.entities.keys().cloned().collect();
        for id in &i.findings {
            if let Some(e) = kinds_of.get(id.as_str()) {
                entity_kinds.extend(e.keys().cloned());
            }
        }
        let mut pairs: BTreeMap<(String, String), u32> = BTreeMap::new();
        for l in &i.chain {
            *pairs.entry((l.cause_signature.clone(), l.effect_signature.clone())).or_default() += 1;
        }
        let mut signatures: BTreeSet<String> = i.fingerprint.signatures.into_iter().collect();
        signatures.insert(i.root_cause.signature.clone());
        let templates: BTreeSet<String> = i.fingerprint.templates.into_iter().collect();
        let rc = i.root_cause;
        let host = i.host;
        let title = match pack.and_then(|p| p.get(&rc.signature)) {
            Some(s) => s.title.en.trim().to_string(),
            None => rc.signature.clone(),
        };
        let title = match &host {
            Some(h) => format!("{title} on {h}"),
            None => title,
        };
        let mut case = Case {
            schema: SCHEMA.into(),
            id: None,
            key: String::new(),
            title,
            resolution: None,
            fixed_by: None,
            added: None,
            source: source.map(str::to_string),
            host,
            start: i.start,
            end: i.end,
            verdict: a.verdict,
            root_cause: Root {
                family: family(&rc.signature).to_string(),
                signature: rc.signature,
                confidence: rc.confidence,
                summary: rc.summary,
                entities: rc.entities,
                evidence: rc
                    .evidence
                    .into_iter()
                    .take(MAX_EVIDENCE)
                    .map(|e| Line { path: e.path, line: e.line, time: e.time, text: cut(&e.text, MAX_LINE) })
                    .collect(),
            },
            signatures: signatures.into_iter().collect(),
            chain: pairs.into_iter().map(|((cause, effect), links)| Pair { cause, effect, links }).collect(),
            entity_kinds: entity_kinds.into_iter().collect(),
            templates: templates.into_iter().collect(),
            changes: i
                .context
                .into_iter()
                .map(|c| Change {
                    signature: c.signature,
                    summary: c.summary,
                    before_first_fault_secs: c.before_first_fault_secs,
                })
                .collect(),
            fleet: None,
        };
        case.key = case.content_key();
        Ok(case)
    }

    /// The content key: SHA-256 (hex) over what the evidence says, never over what was typed, where
    /// the files lay, or the zone and language of the analysis.
    pub fn content_key(&self) -> String {
        let rc = &self.root_cause;
        let lines: Vec<Value> =
            rc.evidence.iter().map(|e| serde_json::json!([e.time.as_deref().map(utc), e.text])).collect();
        let pairs: Vec<Value> = self.chain.iter().map(|p| serde_json::json!([p.cause, p.effect, p.links])).collect();
        let body = serde_json::json!({
            "host": self.host,
            "start": self.start.as_deref().map(utc),
            "end": self.end.as_deref().map(utc),
            "root": rc.signature,
            "entities": rc.entities,
            "signatures": self.signatures,
            "chain": pairs,
            "kinds": self.entity_kinds,
            "templates": self.templates,
            "lines": lines,
        });
        // serde_json's maps are sorted by key: the text is canonical.
        let digest = Sha256::digest(body.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks an imported document: its schema, that it names a root cause, and that its lists are
    /// sorted sets (so features and keys come out as stored); then recomputes its key.
    pub fn validate(mut self) -> Result<Case, String> {
        if self.schema != SCHEMA {
            return Err(format!("schema {:?} is not {SCHEMA}", self.schema));
        }
        if self.root_cause.signature.trim().is_empty() {
            return Err("root_cause.signature is empty".into());
        }
        if self.title.trim().is_empty() {
            return Err("title is empty".into());
        }
        if !(0.0..=1.0).contains(&self.root_cause.confidence) {
            return Err(format!("root_cause.confidence {} is not in [0, 1]", self.root_cause.confidence));
        }
        self.root_cause.family = family(&self.root_cause.signature).to_string();
        for v in [&mut self.signatures, &mut self.entity_kinds, &mut self.templates] {
            v.sort();
            v.dedup();
        }
        self.chain.sort();
        self.chain.dedup_by(|a, b| a.cause == b.cause && a.effect == b.effect);
        self.id = None;
        self.key = self.content_key();
        Ok(self)
    }

    /// The incident's month (`2025-10`, in the offset its start carries), or `unknown`.
    pub fn month(&self) -> String {
        month_of(self.start.as_deref())
    }
}

/// The month of an RFC 3339 time as written (`2025-10`), or `unknown`.
pub fn month_of(start: Option<&str>) -> String {
    match start {
        Some(s) if s.len() >= 7 && s.as_bytes()[4] == b'-' && s[..4].bytes().all(|b| b.is_ascii_digit()) => {
            s[..7].to_string()
        }
        _ => "unknown".into(),
    }
}

/// What a second `add` of a stored case changes: the fields given, and a fleet ranking.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// A new title.
    pub title: Option<String>,
    /// A new resolution.
    pub resolution: Option<String>,
    /// Who fixed it.
    pub fixed_by: Option<String>,
    /// A fleet ranking to add.
    pub fleet: Option<Fleet>,
}

impl Update {
    /// `stored` with these changes, or `None` when nothing changes.
    pub fn apply(&self, stored: &Case) -> Option<Case> {
        let mut c = stored.clone();
        if let Some(t) = &self.title {
            c.title = t.clone();
        }
        if let Some(r) = &self.resolution {
            c.resolution = Some(r.clone());
        }
        if let Some(f) = &self.fixed_by {
            c.fixed_by = Some(f.clone());
        }
        if let Some(f) = &self.fleet {
            c.fleet = Some(f.clone());
        }
        (c != *stored).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(host: &str, zone: &str, path: &str) -> Value {
        serde_json::json!({
            "schema": "rootline.analysis/v1",
            "verdict": "root_cause_found",
            "findings": [
                {"id": "multipath.all-paths-down#1", "entities": {"map": ["mpathb"], "wwid": ["3600"]}},
                {"id": "kernel.hung-task#1", "entities": {"comm": ["qemu-kvm"], "pid": ["7"]}}
            ],
            "incidents": [{
                "host": host,
                "start": format!("2025-10-13T19:51:40{zone}"),
                "end": null,
                "root_cause": {
                    "finding": "multipath.all-paths-down#1", "signature": "multipath.all-paths-down",
                    "entities": {"map": ["mpathb"]}, "confidence": 0.7, "summary": "all paths down",
                    "evidence": [{"path": path, "line": 3, "time": format!("2025-10-13T19:51:40{zone}"),
                                  "text": "mpathb: remaining active paths: 0"}]
                },
                "chain": [
                    {"cause_signature": "multipath.all-paths-down", "effect_signature": "kernel.hung-task"},
                    {"cause_signature": "multipath.all-paths-down", "effect_signature": "kernel.hung-task"}
                ],
                "findings": ["multipath.all-paths-down#1", "kernel.hung-task#1"],
                "context": [{"signature": "upgrade.image-changed", "summary": "image changed", "before_first_fault_secs": 300.0}],
                "fingerprint": {"signatures": ["kernel.hung-task", "multipath.all-paths-down"], "templates": ["b", "a"]}
            }]
        })
    }

    #[test]
    fn a_case_keeps_the_shape_of_the_top_incident() {
        let pack = Pack::builtin().unwrap();
        let c = Case::from_document(&analysis("node1", "+09:00", "x/messages"), Some("x"), Some(&pack)).unwrap();
        assert_eq!(c.root_cause.family, "multipath");
        assert_eq!(
            c.chain,
            vec![Pair { cause: "multipath.all-paths-down".into(), effect: "kernel.hung-task".into(), links: 2 }]
        );
        assert_eq!(c.entity_kinds, ["comm", "map", "pid", "wwid"]);
        assert_eq!(c.templates, ["a", "b"]);
        assert!(c.title.ends_with(" on node1"), "{}", c.title);
        assert_eq!(c.month(), "2025-10");
        assert_eq!(c.key.len(), 64);
    }

    /// The key is the evidence's: another directory or another display zone is the same case;
    /// another host is not.
    #[test]
    fn the_key_ignores_paths_and_zones_but_not_hosts() {
        let pack = Pack::builtin().unwrap();
        let k = |h: &str, z: &str, p: &str| Case::from_document(&analysis(h, z, p), None, Some(&pack)).unwrap().key;
        assert_eq!(k("node1", "+09:00", "a/messages"), k("node1", "+09:00", "/elsewhere/messages"));
        assert_ne!(k("node1", "+09:00", "a/messages"), k("node2", "+09:00", "a/messages"));
        // 19:51:40+09:00 is 10:51:40Z: the same instants, the same key.
        let mut v = analysis("node1", "Z", "a/messages");
        v["incidents"][0]["start"] = "2025-10-13T10:51:40Z".into();
        v["incidents"][0]["root_cause"]["evidence"][0]["time"] = "2025-10-13T10:51:40Z".into();
        assert_eq!(Case::from_document(&v, None, Some(&pack)).unwrap().key, k("node1", "+09:00", "a/messages"));
    }

    #[test]
    fn documents_without_an_incident_or_of_another_kind_are_refused() {
        let pack = Pack::builtin().unwrap();
        let none = serde_json::json!({"schema": "rootline.analysis/v1", "verdict": "no_incident", "incidents": []});
        assert!(matches!(Case::from_document(&none, None, Some(&pack)), Err(Error::NoIncident(_))));
        let doctor = serde_json::json!({"schema": "rootline.doctor/v1"});
        let e = Case::from_document(&doctor, None, Some(&pack)).unwrap_err().to_string();
        assert!(e.contains("rootline.doctor/v1"), "{e}");
    }

    #[test]
    fn an_update_changes_only_what_was_given() {
        let pack = Pack::builtin().unwrap();
        let c = Case::from_document(&analysis("node1", "Z", "m"), None, Some(&pack)).unwrap();
        assert!(Update::default().apply(&c).is_none());
        let u = Update { resolution: Some("reboot".into()), ..Default::default() };
        let n = u.apply(&c).unwrap();
        assert_eq!(n.resolution.as_deref(), Some("reboot"));
        assert_eq!(n.title, c.title);
        assert!(u.apply(&n).is_none(), "the same resolution again changes nothing");
    }
}

//! The declared form of rules and links: serde types read from the YAML files as written.
//!
//! Nothing here is checked beyond YAML shape and known keys (`deny_unknown_fields`, so a misspelt key
//! is an error, not a silently ignored line). The files are read with serde-saphyr (panic-free, with
//! line and column in its errors). [`crate::compile`] turns a [`SignatureSpec`] into a
//! [`crate::Signature`] and reports every problem with its file, line, column and field path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text in English and (optionally) Korean.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// English text (required).
    #[serde(default)]
    pub en: String,
    /// Korean text; technical terms stay in English.
    #[serde(default)]
    pub ko: Option<String>,
}

impl Text {
    /// The text in `lang` (`ko` falls back to English when no Korean text is given).
    pub fn get(&self, lang: crate::Lang) -> &str {
        match (lang, &self.ko) {
            (crate::Lang::Ko, Some(k)) if !k.trim().is_empty() => k,
            _ => &self.en,
        }
    }
}

/// One failure signature as written in `rules/<family>/<name>.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// `family.kebab-name`, e.g. `multipath.path-down`.
    pub id: String,
    /// Short title.
    pub title: Text,
    /// One or two sentences: what a finding of this signature means.
    pub summary: Text,
    /// `critical`, `error`, `warning`, `notice` or `info`.
    pub severity: String,
    /// `fault`, `symptom`, `context` or `recovery`.
    pub kind: String,
    /// A fallback rule: it explains error lines no specific rule explains. Its hit on an event is
    /// dropped when a rule that is not a fallback hit the same event; its findings are marked
    /// `fallback` and are a root-cause candidate only in an incident with nothing more specific.
    #[serde(default)]
    pub fallback: bool,
    /// Rule ids this rule stands back for: its hit on an event is dropped when one of them hit the
    /// same event (a fallback of one family that yields to another family's fallback).
    #[serde(default)]
    pub yields_to: Vec<String>,
    /// Entity kinds every firing must capture (`dm`, `devt`, `disk`, `map`, `path`, `pid`, `comm`, ...).
    #[serde(default)]
    pub entities: Vec<String>,
    /// Entities that identify one finding; hits with equal values are merged (default: `entities`).
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    /// Which events, and the patterns run on them.
    #[serde(default, rename = "match")]
    pub matcher: Option<MatchSpec>,
    /// A frequency condition: the finding exists only when enough hits fall in one window.
    #[serde(default)]
    pub frequency: Option<FrequencySpec>,
    /// An absence condition: a hit of another rule not followed by a third rule's hit.
    #[serde(default)]
    pub absence: Option<AbsenceSpec>,
    /// A predicate over a state snapshot (`multipath -ll`, `ps`) carried in one event.
    #[serde(default)]
    pub state: Option<StateSpec>,
    /// When the condition began, for messages printed only after a timeout (a hung-task report
    /// `hung_task_timeout_secs` after the task blocked).
    #[serde(default)]
    pub onset: Option<OnsetSpec>,
    /// The rule's documentation (a missing section is reported by [`crate::compile`], with the others).
    #[serde(default)]
    pub doc: DocSpec,
    /// The rule's own test cases.
    #[serde(default)]
    pub tests: TestsSpec,
}

/// Which events a rule looks at and the patterns it runs on their messages.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// Formats (`syslog`, `kernel`, `klog`, ...); empty = any.
    #[serde(default)]
    pub format: Vec<String>,
    /// Regex on the event's program/unit (`^multipathd$`); absent = any.
    #[serde(default)]
    pub program: Option<String>,
    /// Regex on the event's `container` field or entity; absent = any.
    #[serde(default)]
    pub container: Option<String>,
    /// Only events at least this severe (`warning` admits warning, err, crit, ...); events without a
    /// severity pass unless `needs_severity` is set.
    #[serde(default)]
    pub severity: Option<String>,
    /// With `severity`: events that state no severity do not pass either (a fallback that looks at
    /// every error line of a program must not look at lines whose level is unknown).
    #[serde(default)]
    pub needs_severity: bool,
    /// Regexes on the event's structured fields, field name to regex (`caller: '^prober\.go:'`); an
    /// event passes when each named field is present and matches.
    #[serde(default, rename = "where")]
    pub where_fields: BTreeMap<String, String>,
    /// Patterns; an event fires when any matches. Named groups become entities, groups whose name
    /// starts with `_` are helpers usable in `set` only.
    pub patterns: Vec<String>,
    /// Patterns that veto a firing when they match the same event.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Regexes on the event's structured fields that veto a firing, field name to regex: the `unless`
    /// of what a structured log keeps beside its message (containerd's logfmt `error=`).
    #[serde(default)]
    pub unless_where: BTreeMap<String, String>,
    /// Entities computed from captures: `dm: "dm-${_minor}"` (regex replacement syntax).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Entities copied from the event's structured fields, entity kind to field name (`pod: pod`;
    /// `program` names the event's program); a capture of the same kind wins, and an absent or
    /// empty field adds nothing.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Match only the first line (the record's own line), not attached continuation lines.
    #[serde(default)]
    pub headline_only: bool,
}

/// How long before its line a condition began.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnsetSpec {
    /// A duration, fixed (`120s`) or read from the line's captures (`${_secs}s`).
    pub before: String,
}

/// `count >= N within T` per group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencySpec {
    /// Hits needed.
    pub count: u32,
    /// Window length (`30s`, `5m`, `1h`).
    pub within: String,
    /// Optional: the condition applies only to the groups whose entities match these regexes (kind
    /// to regex; each kind must be in `group_by`); the other groups are findings from their first hit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
}

/// "A not followed by B for the same entity within T" yields a finding of this rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceSpec {
    /// Rule id whose hits start the clock.
    pub after: String,
    /// Rule id whose hit for the same entity stops it.
    pub unless: String,
    /// How long to wait (`5m`).
    pub within: String,
    /// Entity kinds compared through the alias graph (any shared value counts); empty = same host.
    #[serde(default)]
    pub same: Vec<String>,
    /// Also fire when the evidence ends before `within` has passed without a stop.
    #[serde(default)]
    pub at_end: bool,
}

/// A predicate over a snapshot in one event: sections, their items, and what all items must show.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateSpec {
    /// Regex for a line that opens a section (a map header in `multipath -ll`); captures are entities.
    pub section: String,
    /// Regex for an item line inside the section (a path line); captures are collected.
    pub item: String,
    /// Regex every item line must match for the section to fire (one hit per section). Without it,
    /// every item line fires its own hit (a `Z` row of a `ps` table).
    #[serde(default)]
    pub all: Option<String>,
    /// Fewest items a section needs to be judged (default 1).
    #[serde(default)]
    pub min_items: Option<u32>,
}

/// The documentation sections of a rule (each required; a missing one is reported by
/// [`crate::compile`] together with every other problem of the pack).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DocSpec {
    /// What it detects.
    #[serde(default)]
    pub detects: Text,
    /// Why it matters.
    #[serde(default)]
    pub matters: Text,
    /// Example: verbatim evidence lines.
    #[serde(default)]
    pub example: String,
    /// Likely causes and next steps.
    #[serde(default)]
    pub next_steps: Text,
    /// References: man pages, kernel docs, Kubernetes docs, public bug ids.
    #[serde(default)]
    pub references: Vec<String>,
}

/// A rule's test cases.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestsSpec {
    /// Cases that must fire this rule (with the entities they must capture).
    #[serde(default)]
    pub fires: Vec<CaseSpec>,
    /// Cases that must not fire it; the first one is a near miss.
    #[serde(default)]
    pub quiet: Vec<CaseSpec>,
}

/// One test case: a log line, or a few lines forming one event, or a sequence of events.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// One event; continuation lines after `\n` are attached to it.
    #[serde(default)]
    pub line: Option<String>,
    /// Several events in order (each may carry its own syslog header with a time).
    #[serde(default)]
    pub lines: Vec<String>,
    /// Program of the event(s) when the line has no syslog header.
    #[serde(default)]
    pub program: Option<String>,
    /// Format of the event(s) (default `syslog` with a header, else `plain`).
    #[serde(default)]
    pub format: Option<String>,
    /// Severity of the event(s) when the line does not state one.
    #[serde(default)]
    pub severity: Option<String>,
    /// Structured fields (`container`, `pod`, ...).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Entities a firing must capture (fires cases only).
    #[serde(default)]
    pub entities: BTreeMap<String, String>,
    /// Where the line came from: a lab recording and line, or the source that documents the format.
    #[serde(default)]
    pub from: Option<String>,
}

/// A causal link rule, `rules/links/<name>.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// `link.kebab-name`.
    pub id: String,
    /// Signature id (or ids) of the cause.
    pub cause: OneOrMany,
    /// Signature id (or ids) of the effect.
    pub effect: OneOrMany,
    /// Longest delay from the cause's first hit to the effect's first hit (`30m`).
    pub max_delay: String,
    /// How far the effect may start before the cause (clock skew between sources; default `0s`).
    #[serde(default)]
    pub tolerance: Option<String>,
    /// How the two must be tied: `host`, `storage` (same map through the alias graph), `process`,
    /// `pod`.
    pub share: String,
    /// Entity predicates for `share: process` (or to narrow any link): regexes per entity kind.
    #[serde(default)]
    pub cause_entities: BTreeMap<String, String>,
    /// Entity predicates on the effect side.
    #[serde(default)]
    pub effect_entities: BTreeMap<String, String>,
    /// Prior strength in (0, 1].
    pub prior: f64,
    /// Why the link holds.
    pub doc: Text,
}

/// A single id or a list of ids.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One id.
    One(String),
    /// Several ids.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The ids as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Parses a duration: `90s`, `5m`, `2h`, `1d`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, mul): (&str, i64) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1_000_000)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000_000_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000_000_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000_000_000)
    } else if let Some(n) = s.strip_suffix('d') {
        (n, 86_400_000_000_000)
    } else {
        (s, 1_000_000_000)
    };
    let n: i64 = num.trim().parse().ok()?;
    (n >= 0).then(|| n.saturating_mul(mul))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(300_000_000_000));
        assert_eq!(parse_duration("90s"), Some(90_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}

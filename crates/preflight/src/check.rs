//! A compiled check and how it is judged: its sources' items are tested by each outcome's
//! conditions; every outcome that holds adds its lines and evidence; the worst result wins; when
//! none holds the check succeeds.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use regex::Regex;
use rootline_rules::spec::Text;
use rootline_rules::Lang;
use serde::Serialize;

use crate::formats::Format;
use crate::item::{number, Evidence, Item};
use crate::probe::Probe;

/// A check's result, as `nova-status upgrade check` names them (plus `skipped`: nothing to check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Skipped,
    Success,
    Warning,
    Failure,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "skipped" => Some(Verdict::Skipped),
            "success" => Some(Verdict::Success),
            "warning" => Some(Verdict::Warning),
            "failure" => Some(Verdict::Failure),
            _ => None,
        }
    }

    /// `Success`, `Warning`, `Failure` (oslo.upgradecheck's words), `Skipped`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Skipped => "Skipped",
            Verdict::Success => "Success",
            Verdict::Warning => "Warning",
            Verdict::Failure => "Failure",
        }
    }

    /// oslo.upgradecheck's codes: 0 success, 1 warning, 2 failure (skipped counts as success).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Skipped | Verdict::Success => 0,
            Verdict::Warning => 1,
            Verdict::Failure => 2,
        }
    }
}

/// One compiled check.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: Text,
    pub why: Text,
    pub fix: Text,
    pub success: Message,
    pub references: Vec<String>,
    pub sources: Vec<Source>,
    pub outcomes: Vec<Outcome>,
    /// The file it came from (`checks/multipath/paths.yaml`, or a user file's path).
    pub path: String,
    pub builtin: bool,
    /// A user file that replaced the built-in check of the same id.
    pub overrides_builtin: bool,
}

/// A message in both languages, parsed.
#[derive(Debug, Clone)]
pub struct Message {
    pub en: Template,
    pub ko: Option<Template>,
}

impl Message {
    pub fn get(&self, lang: Lang) -> &Template {
        match (lang, &self.ko) {
            (Lang::Ko, Some(k)) => k,
            _ => &self.en,
        }
    }
}

/// What happens when a source could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The check is skipped, saying what was not there.
    Skip,
    /// Conditions see the source as absent.
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    pub filter: Option<Filter>,
    pub missing: Missing,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    File { paths: Vec<String>, format: Format },
    Command { argv: Vec<String>, timeout: Duration, timeout_from: Option<Val>, format: Format, captured: Vec<String> },
    Probe(Probe),
    Sysctl(Vec<String>),
}

impl SourceKind {
    /// For people: `file /etc/multipath.conf`, `command virsh list --all`.
    pub fn describe(&self) -> String {
        match self {
            SourceKind::File { paths, format } => format!("file {} ({})", paths.join(", "), format.name()),
            SourceKind::Command { argv, .. } => format!("command {}", argv.join(" ")),
            SourceKind::Probe(p) => format!("probe {}", p.name()),
            SourceKind::Sysctl(keys) => format!("sysctl {}", keys.join(", ")),
        }
    }
}

/// The fields of a command's `run` item (always the first item of a command source).
pub const RUN_FIELDS: &[&str] = &["status", "exit_code", "elapsed_ms", "command", "stderr", "describe", "timeout"];
/// The fields of a sysctl source's items.
pub const SYSCTL_FIELDS: &[&str] = &["key", "value", "configured", "file", "line", "text"];

#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Verdict,
    pub conds: Vec<Cond>,
    pub summary: Option<Message>,
    pub message: Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    Each,
    Exists,
    None,
    Absent,
    Present,
}

#[derive(Debug, Clone)]
pub struct Cond {
    pub quant: Quant,
    pub sources: Vec<String>,
    pub filter: Option<Filter>,
    pub min: usize,
}

/// Field tests an item must pass: all of `tests`, and one of each `any_of` group.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tests: Vec<(String, Test)>,
    pub any_of: Vec<Vec<Filter>>,
}

#[derive(Debug, Clone)]
pub enum Test {
    Eq(Val),
    Ne(Val),
    In(Vec<Val>),
    NotIn(Vec<Val>),
    Matches(Regex),
    NotMatches(Regex),
    Lt(Val),
    Le(Val),
    Gt(Val),
    Ge(Val),
    Set(bool),
}

/// A value in a test or a message: a literal, or a reference to a field (`$src.field`: the
/// smallest number, or every value, of that field in a source's items; `$src.field:max` the
/// largest; `$.field` the item's own).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Lit(String),
    Ref { source: Option<String>, field: String, max: bool },
}

/// A parsed message: text with `{field}`, `{count}` and `{$src.field}` holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    Field(String),
    Count,
    /// `{count:path}`: the count with the noun, in the plural when it is not 1 (`2 paths`).
    CountOf(String),
    Ref(Val),
}

/// What a source gave.
#[derive(Debug, Clone)]
pub enum Gathered {
    /// Nothing could be read; why.
    Absent(String),
    Present {
        items: Vec<Item>,
        problems: Vec<String>,
    },
}

impl Gathered {
    fn items(&self) -> &[Item] {
        match self {
            Gathered::Present { items, .. } => items,
            Gathered::Absent(_) => &[],
        }
    }
}

/// The sources of one check, by name.
pub type Sources = BTreeMap<String, Gathered>;

/// A check's judgement.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub result: Verdict,
    /// What was found, one finding a line, then what to do (`What to do: ...`) for a warning or
    /// a failure; why it was skipped for a skipped check.
    pub details: String,
    pub evidence: Vec<EvidenceOut>,
}

/// A line a result rests on: `path` (a file, or `command: ARGV`), `line` (null when the evidence
/// is not a line, e.g. a command that timed out), `text`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceOut {
    pub path: String,
    pub line: Option<usize>,
    pub text: String,
}

impl From<&Evidence> for EvidenceOut {
    fn from(e: &Evidence) -> Self {
        EvidenceOut { path: e.path.clone(), line: e.line, text: e.text.clone() }
    }
}

/// The most evidence lines one check keeps.
const MAX_EVIDENCE: usize = 40;
/// The most item lines one outcome prints.
const MAX_LINES: usize = 30;

fn resolve_set(v: &Val, item: &Item, src: &Sources) -> Vec<String> {
    match v {
        Val::Lit(s) => vec![s.clone()],
        Val::Ref { source: None, field, .. } => item.get(field).map(str::to_string).into_iter().collect(),
        Val::Ref { source: Some(s), field, .. } => src
            .get(s)
            .map(|g| g.items().iter().filter_map(|i| i.get(field).map(str::to_string)).collect())
            .unwrap_or_default(),
    }
}

/// A reference as one number: the item's own field, or the smallest (largest with `:max`) of a
/// source's items.
fn resolve_num(v: &Val, item: &Item, src: &Sources) -> Option<f64> {
    match v {
        Val::Lit(s) => number(s),
        Val::Ref { source: None, field, .. } => item.num(field),
        Val::Ref { source: Some(s), field, max } => {
            let nums = src.get(s)?.items().iter().filter_map(|i| i.num(field));
            if *max {
                nums.fold(None, |a: Option<f64>, n| Some(a.map_or(n, |a| a.max(n))))
            } else {
                nums.fold(None, |a: Option<f64>, n| Some(a.map_or(n, |a| a.min(n))))
            }
        }
    }
}

/// A reference as text (in a message): a number as the number, otherwise the values joined.
pub fn resolve_text(v: &Val, item: Option<&Item>, src: &Sources) -> Option<String> {
    let empty = Item::default();
    let item = item.unwrap_or(&empty);
    if let Some(n) = resolve_num(v, item, src) {
        return Some(crate::item::num_text(n));
    }
    let vals = resolve_set(v, item, src);
    (!vals.is_empty()).then(|| vals.join(", "))
}

/// Numbers compare as numbers (`12` = `12.0`); text without regard to ASCII case (`Yes` = `yes`,
/// an upper-case UUID = its lower-case form), as configuration files write them either way.
fn equal(a: &str, b: &str) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

impl Test {
    fn holds(&self, v: Option<&str>, item: &Item, src: &Sources) -> bool {
        let cmp = |val: &Val, f: fn(f64, f64) -> bool| match (v.and_then(number), resolve_num(val, item, src)) {
            (Some(a), Some(b)) => f(a, b),
            _ => false,
        };
        match self {
            Test::Eq(val) => v.is_some_and(|v| resolve_set(val, item, src).iter().any(|x| equal(v, x))),
            Test::Ne(val) => !v.is_some_and(|v| resolve_set(val, item, src).iter().any(|x| equal(v, x))),
            Test::In(vals) => {
                v.is_some_and(|v| vals.iter().flat_map(|x| resolve_set(x, item, src)).any(|x| equal(v, &x)))
            }
            Test::NotIn(vals) => {
                v.is_some_and(|v| !vals.iter().flat_map(|x| resolve_set(x, item, src)).any(|x| equal(v, &x)))
            }
            Test::Matches(re) => v.is_some_and(|v| re.is_match(v)),
            Test::NotMatches(re) => !v.is_some_and(|v| re.is_match(v)),
            Test::Lt(val) => cmp(val, |a, b| a < b),
            Test::Le(val) => cmp(val, |a, b| a <= b),
            Test::Gt(val) => cmp(val, |a, b| a > b),
            Test::Ge(val) => cmp(val, |a, b| a >= b),
            Test::Set(b) => v.is_some() == *b,
        }
    }
}

impl Filter {
    pub fn passes(&self, item: &Item, src: &Sources) -> bool {
        self.tests.iter().all(|(field, t)| t.holds(item.get(field), item, src))
            && self.any_of.iter().all(|group| group.iter().any(|f| f.passes(item, src)))
    }
}

impl Template {
    pub fn render(&self, item: Option<&Item>, count: usize, src: &Sources) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(t) => s.push_str(t),
                Piece::Count => s.push_str(&count.to_string()),
                Piece::CountOf(noun) => s.push_str(&rootline_event::count(count as u64, noun)),
                Piece::Field(f) => s.push_str(item.and_then(|i| i.get(f)).unwrap_or("-")),
                Piece::Ref(v) => s.push_str(&resolve_text(v, item, src).unwrap_or_else(|| "unknown".into())),
            }
        }
        s
    }
}

impl Cond {
    /// Whether it holds, and the items it lists (for `each`).
    fn eval<'a>(&self, src: &'a Sources) -> (bool, Vec<&'a Item>) {
        let present = |name: &String| matches!(src.get(name), Some(Gathered::Present { .. }));
        match self.quant {
            Quant::Absent => (self.sources.iter().all(|s| !present(s)), Vec::new()),
            Quant::Present => (self.sources.iter().any(present), Vec::new()),
            Quant::Each | Quant::Exists | Quant::None => {
                let items: Vec<&Item> = src
                    .get(&self.sources[0])
                    .map(|g| g.items())
                    .unwrap_or_default()
                    .iter()
                    .filter(|i| self.filter.as_ref().is_none_or(|f| f.passes(i, src)))
                    .collect();
                match self.quant {
                    Quant::None => (items.is_empty(), Vec::new()),
                    Quant::Exists => (items.len() >= self.min, Vec::new()),
                    _ => {
                        let ok = items.len() >= self.min;
                        (ok, if ok { items } else { Vec::new() })
                    }
                }
            }
        }
    }
}

impl Check {
    /// Judges the check on what its sources gave.
    pub fn judge(&self, src: &Sources, lang: Lang) -> CheckResult {
        let title = self.title.get(lang).to_string();
        let mut problems: Vec<String> = Vec::new();
        for s in &self.sources {
            if let Some(Gathered::Present { problems: p, .. }) = src.get(&s.name) {
                problems.extend(p.iter().cloned());
            }
        }
        // A source the check cannot do without.
        let missing: Vec<&str> = self
            .sources
            .iter()
            .filter(|s| s.missing == Missing::Skip)
            .filter_map(|s| match src.get(&s.name) {
                Some(Gathered::Absent(why)) => Some(why.as_str()),
                None => Some("not read"),
                _ => None,
            })
            .collect();
        if !missing.is_empty() {
            let mut details = format!("Not checked: {}", missing.join("; "));
            for p in &problems {
                details.push_str(&format!("\n{p}"));
            }
            return CheckResult { id: self.id.clone(), title, result: Verdict::Skipped, details, evidence: Vec::new() };
        }
        let mut fired: Vec<(Verdict, Vec<String>, Vec<Evidence>)> = Vec::new();
        for o in &self.outcomes {
            let mut listed: Vec<&Item> = Vec::new();
            let mut holds = true;
            let mut lists = false;
            for c in &o.conds {
                let (ok, items) = c.eval(src);
                if !ok {
                    holds = false;
                    break;
                }
                if c.quant == Quant::Each {
                    lists = true;
                    for i in items {
                        if !listed.iter().any(|x| std::ptr::eq(*x, i)) {
                            listed.push(i);
                        }
                    }
                }
            }
            if !holds {
                continue;
            }
            let mut lines = Vec::new();
            if let Some(s) = &o.summary {
                lines.push(s.get(lang).render(listed.first().copied(), listed.len(), src));
            }
            let msg = o.message.get(lang);
            let mut evidence = Vec::new();
            if lists {
                // Under a summary line the items are indented.
                let indent = if o.summary.is_some() { "  " } else { "" };
                for i in listed.iter().take(MAX_LINES) {
                    lines.push(format!("{indent}{}", msg.render(Some(i), listed.len(), src)));
                    evidence.extend(i.evidence.iter().cloned());
                }
                if listed.len() > MAX_LINES {
                    lines.push(format!("{indent}... and {} more", listed.len() - MAX_LINES));
                }
            } else {
                lines.push(msg.render(None, 0, src));
            }
            fired.push((o.result, lines, evidence));
        }
        let result = fired.iter().map(|f| f.0).max().unwrap_or(Verdict::Success);
        fired.sort_by_key(|f| std::cmp::Reverse(f.0));
        let mut lines: Vec<String> = Vec::new();
        let mut evidence: Vec<EvidenceOut> = Vec::new();
        if fired.is_empty() {
            lines.push(self.success.get(lang).render(None, 0, src));
        }
        for (_, l, e) in &fired {
            lines.extend(l.iter().cloned());
            for e in e {
                let e = EvidenceOut::from(e);
                if !evidence.contains(&e) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(e);
                }
            }
        }
        lines.extend(problems);
        if result >= Verdict::Warning {
            let what = match lang {
                Lang::Ko => "조치",
                Lang::En => "What to do",
            };
            lines.push(format!("{what}: {}", self.fix.get(lang).trim()));
        }
        CheckResult { id: self.id.clone(), title, result, details: lines.join("\n"), evidence }
    }

    /// The fields a source's items carry (`None`: any).
    pub fn fields_of(kind: &SourceKind) -> Option<BTreeSet<&'static str>> {
        let mut f: BTreeSet<&'static str> = crate::formats::COMMON_FIELDS.iter().copied().collect();
        match kind {
            SourceKind::File { format, .. } => f.extend(format.fields()?.iter().copied()),
            SourceKind::Command { format, .. } => {
                f.extend(format.fields()?.iter().copied());
                f.extend(RUN_FIELDS.iter().copied());
            }
            SourceKind::Probe(p) => {
                f = ["kind"].into_iter().collect();
                f.extend(p.fields().iter().copied());
            }
            SourceKind::Sysctl(_) => f.extend(SYSCTL_FIELDS.iter().copied()),
        }
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> Item {
        let mut i = Item::new("t");
        for (k, v) in pairs {
            i.set(k, *v);
        }
        i
    }

    fn lit(s: &str) -> Val {
        Val::Lit(s.into())
    }

    #[test]
    fn tests_numbers_strings_sets_and_references() {
        let mut src = Sources::new();
        src.insert(
            "probes".into(),
            Gathered::Present { items: vec![item(&[("window", "25")]), item(&[("window", "40")])], problems: vec![] },
        );
        src.insert("secrets".into(), Gathered::Present { items: vec![item(&[("uuid", "a")])], problems: vec![] });
        let i = item(&[("value", "queue"), ("seconds", "24"), ("fast", "5"), ("dev", "3"), ("uuid", "b")]);
        let r = |s: &str, f: &str, max| Val::Ref { source: Some(s.into()), field: f.into(), max };
        let own = |f: &str| Val::Ref { source: None, field: f.into(), max: false };
        assert!(Test::Eq(lit("queue")).holds(i.get("value"), &i, &src));
        assert!(Test::Ne(lit("fail")).holds(i.get("value"), &i, &src));
        assert!(Test::Ne(lit("fail")).holds(None, &i, &src), "a field that is not set is not equal");
        assert!(!Test::Eq(lit("24.0")).holds(i.get("value"), &i, &src));
        assert!(Test::Eq(lit("24.0")).holds(i.get("seconds"), &i, &src), "numbers compare as numbers");
        assert!(Test::Lt(r("probes", "window", false)).holds(i.get("seconds"), &i, &src), "24 < min 25");
        assert!(!Test::Ge(r("probes", "window", false)).holds(i.get("seconds"), &i, &src));
        assert!(Test::Lt(r("probes", "window", true)).holds(i.get("seconds"), &i, &src));
        assert!(Test::Ge(own("dev")).holds(i.get("fast"), &i, &src), "5 >= own dev 3");
        assert!(!Test::Ge(r("missing", "x", false)).holds(i.get("seconds"), &i, &src), "nothing to compare with");
        assert!(Test::NotIn(vec![r("secrets", "uuid", false)]).holds(i.get("uuid"), &i, &src));
        assert!(!Test::NotIn(vec![r("secrets", "uuid", false), lit("b")]).holds(i.get("uuid"), &i, &src));
        assert!(Test::In(vec![lit("queue"), lit("fail")]).holds(i.get("value"), &i, &src));
        assert!(Test::Matches(Regex::new("^qu").unwrap()).holds(i.get("value"), &i, &src));
        assert!(Test::NotMatches(Regex::new("x").unwrap()).holds(None, &i, &src));
        assert!(Test::Set(false).holds(i.get("nope"), &i, &src));
        let f = Filter {
            tests: vec![("value".into(), Test::Eq(lit("queue")))],
            any_of: vec![vec![
                Filter { tests: vec![("seconds".into(), Test::Gt(lit("100")))], any_of: vec![] },
                Filter { tests: vec![("fast".into(), Test::Eq(lit("5")))], any_of: vec![] },
            ]],
        };
        assert!(f.passes(&i, &src));
        let t = Template(vec![
            Piece::Lit("q ".into()),
            Piece::Field("value".into()),
            Piece::Lit(" ".into()),
            Piece::Ref(r("probes", "window", false)),
            Piece::Lit(" ".into()),
            Piece::Field("nope".into()),
            Piece::Lit(" ".into()),
            Piece::Count,
        ]);
        assert_eq!(t.render(Some(&i), 3, &src), "q queue 25 - 3");
    }
}

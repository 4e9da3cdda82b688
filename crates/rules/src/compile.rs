//! Declared form -> compiled form: [`SignatureSpec`] -> [`Signature`], [`LinkSpec`] -> [`Link`].
//!
//! The whole pack is loaded before anything is reported, and every problem is collected with its
//! file, line, column and field path
//! (`rules/multipath/path-down.yaml:14:7: match.patterns[1]: regex parse error ...`), so one run of
//! `rootline rules lint` shows all of them. YAML errors carry the position serde-saphyr reports;
//! problems found after reading are placed with [`crate::locate`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use regex::bytes::{Regex, RegexBuilder};
use rootline_event::{Format, Severity};

use crate::locate::Positions;
use crate::spec::{parse_duration, CaseSpec, DocSpec, LinkSpec, SignatureSpec, TestsSpec, Text};

/// One problem in one rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (`rules/multipath/path-down.yaml`).
    pub file: String,
    /// The field path inside it (`match.patterns[1]`), empty for the whole file.
    pub field: String,
    /// What is wrong, as a sentence.
    pub message: String,
    /// 1-based line and column in the file, when known.
    pub at: Option<(u64, u64)>,
}

impl Problem {
    /// A problem of `file` at `field`, its position not known yet.
    pub fn new(file: &str, field: &str, message: String) -> Problem {
        Problem { file: file.into(), field: field.into(), message, at: None }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// Every problem found while compiling a pack.
#[derive(Debug, Clone, thiserror::Error)]
pub struct CompileError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in the rule pack", rootline_event::count(self.problems.len() as u64, "problem"))?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// What a signature says about the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Something broke (a root-cause candidate).
    Fault,
    /// A consequence of a fault.
    Symptom,
    /// Background: what was going on (an attach, an image pull, a container start).
    Context,
    /// Something came back.
    Recovery,
}

impl Kind {
    /// The name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fault => "fault",
            Kind::Symptom => "symptom",
            Kind::Context => "context",
            Kind::Recovery => "recovery",
        }
    }
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "fault" => Kind::Fault,
            "symptom" => Kind::Symptom,
            "context" => Kind::Context,
            "recovery" => Kind::Recovery,
            _ => return None,
        })
    }
}

/// The severity a rule assigns to its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    /// Service is down or data is at risk.
    Critical,
    /// A failure that needs action.
    Error,
    /// A degradation or a warning sign.
    Warning,
    /// Worth knowing.
    Notice,
    /// Context only.
    Info,
}

impl RuleSeverity {
    /// The name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Critical => "critical",
            RuleSeverity::Error => "error",
            RuleSeverity::Warning => "warning",
            RuleSeverity::Notice => "notice",
            RuleSeverity::Info => "info",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "critical" => RuleSeverity::Critical,
            "error" => RuleSeverity::Error,
            "warning" => RuleSeverity::Warning,
            "notice" => RuleSeverity::Notice,
            "info" => RuleSeverity::Info,
            _ => return None,
        })
    }
}

/// Which events a signature looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub formats: Vec<Format>,
    pub program: Option<Re>,
    pub container: Option<Re>,
    /// Least severe level admitted (events without a severity pass unless `needs_severity`).
    pub severity: Option<Severity>,
    /// Events without a severity do not pass.
    pub needs_severity: bool,
    /// (field name, regex) pairs every admitted event's fields must satisfy.
    pub where_fields: Vec<(String, Re)>,
    pub headline_only: bool,
}

/// A compiled state predicate.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub section: Re,
    pub item: Re,
    pub all: Option<Re>,
    pub min_items: u32,
}

/// A compiled absence condition.
#[derive(Debug, Clone)]
pub(crate) struct Absence {
    pub after: String,
    pub unless: String,
    pub within: i64,
    pub same: Vec<String>,
    pub at_end: bool,
}

/// A compiled failure signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// `family.name`.
    pub id: String,
    /// The part of the id before the dot.
    pub family: String,
    /// Title in both languages.
    pub title: Text,
    /// Summary in both languages.
    pub summary: Text,
    /// Severity of its findings.
    pub severity: RuleSeverity,
    /// Fault, symptom, context or recovery.
    pub kind: Kind,
    /// A fallback: it explains only events no other rule hits (see [`crate::spec::SignatureSpec::fallback`]).
    pub fallback: bool,
    /// Rule ids whose hit on the same event drops this rule's hit.
    pub yields_to: Vec<String>,
    /// Entity kinds every firing captures.
    pub entities: Vec<String>,
    /// Entity kinds that identify one finding.
    pub group_by: Vec<String>,
    /// The documentation.
    pub doc: DocSpec,
    /// The test cases.
    pub tests: TestsSpec,
    /// The file it came from (`rules/multipath/path-down.yaml` or a user pack path).
    pub path: String,
    /// The file's text, to place problems found later (`rules lint`) at their line and column.
    pub(crate) text: std::sync::Arc<str>,
    /// True for rules of the built-in pack that no user pack replaced.
    pub builtin: bool,
    /// The pattern sources, for prefilter extraction, `rg` comparisons and docs.
    pub pattern_sources: Vec<String>,
    pub(crate) filter: Filter,
    pub(crate) patterns: Vec<Re>,
    /// The prefilter literals of each of `patterns`, then of the state's section regex (see
    /// [`crate::engine::necessary_literals`]), found while parsing them.
    pub(crate) literals: Vec<Option<Vec<Vec<u8>>>>,
    pub(crate) unless: Vec<Re>,
    /// (field name, regex) pairs that veto a firing when the field is there and matches.
    pub(crate) unless_where: Vec<(String, Re)>,
    pub(crate) set: Vec<(String, String)>,
    /// (entity kind, event field name) pairs copied from the event's fields.
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) frequency: Option<(u32, i64)>,
    /// The groups the frequency condition applies to: (entity kind, regex) pairs all of which match
    /// one of the group's values; empty: every group.
    pub(crate) frequency_when: Vec<(String, Re)>,
    /// How long before its line the condition began: a duration template over the captures.
    pub(crate) onset_before: Option<String>,
    pub(crate) absence: Option<Absence>,
    pub(crate) state: Option<State>,
}

impl Signature {
    /// True when the signature is derived from other findings only (absence), not from events.
    pub fn is_derived(&self) -> bool {
        self.patterns.is_empty() && self.state.is_none()
    }
    /// The frequency condition as (count, window in nanoseconds).
    pub fn frequency(&self) -> Option<(u32, i64)> {
        self.frequency
    }
    /// The groups the frequency condition applies to, as (entity kind, regex source); empty: all.
    pub fn frequency_when(&self) -> impl Iterator<Item = (&str, &str)> {
        self.frequency_when.iter().map(|(k, r)| (k.as_str(), r.as_str()))
    }
    /// The 1-based line and column of `field` (`tests.fires[2].from`) in the rule's file, or of its
    /// nearest ancestor there.
    pub fn position(&self, field: &str) -> Option<(u64, u64)> {
        Positions::of(&self.text).find(field)
    }
    /// The absence condition as (after, unless, window in ns).
    pub fn absence(&self) -> Option<(&str, &str, i64)> {
        self.absence.as_ref().map(|a| (a.after.as_str(), a.unless.as_str(), a.within))
    }
}

/// How a link's cause and effect must be tied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Share {
    /// Same host only.
    Host,
    /// Same map, device or path through the alias graph.
    Storage,
    /// Entity predicates on each side (a process class such as qemu/libvirtd).
    Process,
    /// Same pod or container.
    Pod,
}

impl Share {
    /// The name used in link files.
    pub fn as_str(self) -> &'static str {
        match self {
            Share::Host => "host",
            Share::Storage => "storage",
            Share::Process => "process",
            Share::Pod => "pod",
        }
    }
}

/// A compiled causal link rule.
#[derive(Debug, Clone)]
pub struct Link {
    /// `link.name`.
    pub id: String,
    /// Cause signature ids.
    pub causes: Vec<String>,
    /// Effect signature ids.
    pub effects: Vec<String>,
    /// Longest delay from cause to effect, nanoseconds.
    pub max_delay: i64,
    /// How far the effect may precede the cause, nanoseconds.
    pub tolerance: i64,
    /// How the two are tied.
    pub share: Share,
    /// Regexes the cause's entities must satisfy.
    pub cause_entities: Vec<(String, regex::Regex)>,
    /// Regexes the effect's entities must satisfy.
    pub effect_entities: Vec<(String, regex::Regex)>,
    /// Prior strength.
    pub prior: f64,
    /// Why the link holds.
    pub doc: Text,
    /// The file it came from.
    pub path: String,
    /// The declared form.
    pub spec: LinkSpec,
}

/// One rule file's text and display path.
#[derive(Debug, Clone)]
pub struct Source {
    /// Display path (`rules/multipath/path-down.yaml`).
    pub path: String,
    /// The YAML text.
    pub text: String,
    /// From the built-in pack.
    pub builtin: bool,
}

/// A compiled pack: signatures and links, user packs applied.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// Signatures in id order.
    pub signatures: Vec<Signature>,
    /// Links in id order.
    pub links: Vec<Link>,
    /// Ties (which lines tie which names), in id order.
    pub ties: crate::ties::Ties,
    /// Built-in ids a user pack replaced: (id, user file).
    pub overridden: Vec<(String, String)>,
}

impl Pack {
    /// The signature with `id`.
    pub fn get(&self, id: &str) -> Option<&Signature> {
        self.signatures.iter().find(|s| s.id == id)
    }

    /// The built-in pack, compiled into the binary. Its regexes are built on first use (see [`Re`]).
    pub fn builtin() -> Result<Pack, CompileError> {
        let (pack, problems) = Pack::compile_with(builtin_sources(), Build::Lazily);
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(CompileError { problems })
        }
    }

    /// The built-in pack plus every `*.yaml` under `dirs` (user rules add or replace by id). The
    /// built-in pack's regexes are built on first use, the user rules' at load (see [`Re`]).
    pub fn load(dirs: &[&Path]) -> Result<Pack, CompileError> {
        let mut sources = builtin_sources();
        let mut problems = Vec::new();
        for d in dirs {
            read_dir_sources(d, &mut sources, &mut problems);
        }
        let (pack, more) = Pack::compile_with(sources, Build::Lazily);
        problems.extend(more);
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(CompileError { problems })
        }
    }

    /// [`Pack::load`] that keeps going: the rules and links that compiled, and every problem (files
    /// that could not be read, YAML errors, rules that did not compile, dangling references). This is
    /// what `rootline rules lint` reports from, so it can show all problems of a pack in one run.
    pub fn load_lenient(dirs: &[&Path]) -> (Pack, Vec<Problem>) {
        let mut sources = builtin_sources();
        let mut problems = Vec::new();
        for d in dirs {
            read_dir_sources(d, &mut sources, &mut problems);
        }
        let (pack, more) = Pack::compile_lenient(sources);
        problems.extend(more);
        (pack, problems)
    }

    /// Compiles `sources` (later sources replace earlier ones with the same id).
    pub fn compile(sources: Vec<Source>) -> Result<Pack, CompileError> {
        let (pack, problems) = Pack::compile_lenient(sources);
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(CompileError { problems })
        }
    }

    /// [`Pack::compile`] that keeps what compiled beside the problems (each with its position). Every
    /// regex is built now, so that every problem of a pack shows (a regex too large to build too).
    pub fn compile_lenient(sources: Vec<Source>) -> (Pack, Vec<Problem>) {
        Pack::compile_with(sources, Build::Now)
    }

    /// [`Pack::compile_lenient`]; with [`Build::Lazily`], the built-in sources' regexes are parsed
    /// now and built on first use (a user source's are built now whatever `build` says).
    fn compile_with(sources: Vec<Source>, build: Build) -> (Pack, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut sigs: BTreeMap<String, Signature> = BTreeMap::new();
        let mut links: BTreeMap<String, Link> = BTreeMap::new();
        let mut overridden = Vec::new();
        let mut seen_in_layer: HashMap<(String, bool), String> = HashMap::new();
        let mut ties: BTreeMap<String, crate::ties::Tie> = BTreeMap::new();
        for src in &sources {
            let start = problems.len();
            let is_link = src.path.split(['/', '\\']).any(|c| c == "links");
            let is_tie = src.path.split(['/', '\\']).any(|c| c == "ties");
            let id = if is_tie {
                match read_yaml::<crate::ties::TieSpec>(&src.text) {
                    Ok(spec) => crate::ties::compile_tie(spec, &src.path, &mut problems).map(|t| {
                        let id = t.id.clone();
                        ties.insert(id.clone(), t);
                        id
                    }),
                    Err(e) => {
                        problems.push(yaml_problem(&src.path, &e));
                        None
                    }
                }
            } else if is_link {
                match read_yaml::<LinkSpec>(&src.text) {
                    Ok(spec) => compile_link(spec, &src.path, &mut problems).map(|l| {
                        let id = l.id.clone();
                        if let Some(old) = links.insert(id.clone(), l) {
                            if old.path != src.path && !src.builtin && old_is_builtin(&sources, &old.path) {
                                overridden.push((id.clone(), src.path.clone()));
                            }
                        }
                        id
                    }),
                    Err(e) => {
                        problems.push(yaml_problem(&src.path, &e));
                        None
                    }
                }
            } else {
                match read_yaml::<SignatureSpec>(&src.text) {
                    Ok(spec) => compile_signature(
                        spec,
                        &src.path,
                        src.builtin,
                        if src.builtin { build } else { Build::Now },
                        &mut problems,
                    )
                    .map(|mut s| {
                        s.text = src.text.as_str().into();
                        let id = s.id.clone();
                        if let Some(old) = sigs.insert(id.clone(), s) {
                            if old.builtin && !src.builtin {
                                overridden.push((id.clone(), src.path.clone()));
                            }
                        }
                        id
                    }),
                    Err(e) => {
                        problems.push(yaml_problem(&src.path, &e));
                        None
                    }
                }
            };
            if let Some(id) = id {
                if let Some(first) = seen_in_layer.insert((id.clone(), src.builtin), src.path.clone()) {
                    problems.push(Problem::new(&src.path, "id", format!("id `{id}` is already defined by {first}")));
                }
            }
            place(&mut problems[start..], &src.text);
        }
        // Cross references, now that every id is known.
        let start = problems.len();
        for s in sigs.values() {
            for (i, r) in s.yields_to.iter().enumerate() {
                if !sigs.contains_key(r) {
                    problems.push(Problem::new(&s.path, &format!("yields_to[{i}]"), format!("no rule has id `{r}`")));
                } else if *r == s.id {
                    problems.push(Problem::new(
                        &s.path,
                        &format!("yields_to[{i}]"),
                        "a rule cannot yield to itself".into(),
                    ));
                }
            }
            if let Some(a) = &s.absence {
                for (field, r) in [("absence.after", &a.after), ("absence.unless", &a.unless)] {
                    if !sigs.contains_key(r) {
                        problems.push(Problem::new(&s.path, field, format!("no rule has id `{r}`")));
                    }
                }
            }
        }
        for l in links.values() {
            for (field, ids) in [("cause", &l.causes), ("effect", &l.effects)] {
                for (i, r) in ids.iter().enumerate() {
                    if !sigs.contains_key(r) {
                        let field = if ids.len() > 1 { format!("{field}[{i}]") } else { field.into() };
                        problems.push(Problem::new(&l.path, &field, format!("no rule has id `{r}`")));
                    }
                }
            }
        }
        for p in &mut problems[start..] {
            if let Some(src) = sources.iter().rev().find(|s| s.path == p.file) {
                place(std::slice::from_mut(p), &src.text);
            }
        }
        let pack = Pack {
            signatures: sigs.into_values().collect(),
            links: links.into_values().collect(),
            ties: crate::ties::Ties::new(ties.into_values().collect()),
            overridden,
        };
        (pack, problems)
    }
}

/// Reads one rule or link file; errors are plain sentences with a position (no rendered snippet).
fn read_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { with_snippet: false })
}

/// Gives the problems of one file without a position the position of their field in `text`.
fn place(problems: &mut [Problem], text: &str) {
    if problems.iter().all(|p| p.at.is_some()) {
        return;
    }
    let pos = Positions::of(text);
    for p in problems.iter_mut().filter(|p| p.at.is_none()) {
        p.at = pos.find(&p.field);
    }
}

fn old_is_builtin(sources: &[Source], path: &str) -> bool {
    sources.iter().any(|s| s.path == path && s.builtin)
}

/// The built-in rule files, embedded at build time from the workspace's `rules/` directory.
pub fn builtin_sources() -> Vec<Source> {
    crate::BUILTIN
        .iter()
        .map(|(path, text)| Source { path: format!("rules/{path}"), text: (*text).to_string(), builtin: true })
        .collect()
}

fn read_dir_sources(dir: &Path, out: &mut Vec<Source>, problems: &mut Vec<Problem>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(Problem::new(&dir.display().to_string(), "", format!("cannot read the rule directory: {e}")));
            return;
        }
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_dir_sources(&p, out, problems);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            match std::fs::read_to_string(&p) {
                Ok(text) => out.push(Source { path: p.display().to_string(), text, builtin: false }),
                Err(e) => {
                    problems.push(Problem::new(&p.display().to_string(), "", format!("cannot read the rule file: {e}")))
                }
            }
        }
    }
}

/// A YAML error as a problem: serde-saphyr's sentence without its trailing position (kept apart in
/// `at`) and without advice about its own options.
fn yaml_problem(path: &str, e: &serde_saphyr::Error) -> Problem {
    let at = e.location().map(|l| (l.line(), l.column()));
    let mut msg = e.to_string();
    if let Some(i) = msg.rfind(" at line ") {
        if msg[i..].contains(", column ") {
            msg.truncate(i);
        }
    }
    if let Some(i) = msg.find(", set DuplicateKeyPolicy") {
        msg.truncate(i);
    }
    Problem {
        file: path.into(),
        field: String::new(),
        message: format!("not a valid rule file: {}", one_line(&msg)),
        at,
    }
}

/// A regex of a rule, built (with [`build_regex`]) the first time it is used.
///
/// Building a rule's regexes is most of what compiling the pack costs (the lazy DFAs, one-pass DFAs
/// and prefilters of ~500 regexes), and a run looks at few rules' regexes: a pattern runs only once
/// the prefilter named its rule as a candidate, its rule's filters and vetoes only then. Regexes of
/// the built-in pack are therefore checked at load by parsing them (the errors are the ones
/// building gives, at the same field) and built on first use; a user pack's are built at load, so
/// that a regex too large to build is reported there too. [`Pack::compile_lenient`] (what `rules
/// lint` reports from) builds every regex at load, built-in or not.
#[derive(Debug, Clone)]
pub(crate) struct Re {
    src: String,
    built: std::sync::OnceLock<Regex>,
}

impl Re {
    /// The regex as written.
    pub fn as_str(&self) -> &str {
        &self.src
    }

    /// A regex that matches nothing: what a regex that parsed at load but cannot be built stands
    /// for (never with the built-in pack, whose every regex a test builds).
    fn never() -> Regex {
        RegexBuilder::new(r"[^\x00-\xFF]").unicode(false).build().expect("an empty class is a valid regex")
    }
}

impl std::ops::Deref for Re {
    type Target = Regex;
    #[inline]
    fn deref(&self) -> &Regex {
        self.built.get_or_init(|| build_regex(&self.src).unwrap_or_else(|_| Re::never()))
    }
}

/// How a rule's regexes are compiled at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// Parsed now, built on first use ([`Re`]).
    Lazily,
    /// Built now.
    Now,
}

/// The syntax tree of `src` as [`build_regex`] reads it.
fn parse_regex(src: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new().multi_line(true).utf8(false).unicode(false).build().parse(src).ok()
}

/// A rule's regex: built now or parsed now and built on first use. An error is the one building
/// gives (a regex that does not parse is built to get it).
fn rule_regex(src: &str, build: Build) -> Result<Re, String> {
    let built = std::sync::OnceLock::new();
    if build == Build::Now || parse_regex(src).is_none() {
        let _ = built.set(build_regex(src)?);
    }
    Ok(Re { src: src.to_string(), built })
}

/// A pattern (or a state's section or item regex): the regex, the names of its captures (minus
/// helpers `_x`) and the literals the engine's prefilter looks for
/// ([`crate::engine::necessary_literals`]), all from one parse.
type Pattern = (Re, Vec<String>, Option<Vec<Vec<u8>>>);

fn pattern_regex(src: &str, build: Build) -> Result<Pattern, String> {
    let Some(hir) = parse_regex(src) else {
        return Err(build_regex(src).err().unwrap_or_else(|| "the pattern does not parse".into()));
    };
    let built = std::sync::OnceLock::new();
    if build == Build::Now {
        let _ = built.set(build_regex(src)?);
    }
    let mut names = Vec::new();
    capture_names_of(&hir, &mut names);
    let literals = crate::engine::literals_of(&hir);
    Ok((Re { src: src.to_string(), built }, names, literals))
}

/// The names of the captures of a syntax tree, minus helpers (`_x`), in pattern order.
fn capture_names_of(h: &regex_syntax::hir::Hir, out: &mut Vec<String>) {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Capture(c) => {
            if let Some(n) = c.name.as_deref().filter(|n| !n.starts_with('_')) {
                out.push(n.to_string());
            }
            capture_names_of(&c.sub, out);
        }
        HirKind::Repetition(r) => capture_names_of(&r.sub, out),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().for_each(|s| capture_names_of(s, out)),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// Builds a byte regex in multi-line mode (`^`/`$` match at every line of a multi-line event), with
/// ASCII classes (`\w`, `\d`, `\b`): Unicode classes make the pack's automata eight times larger.
pub(crate) fn build_regex(src: &str) -> Result<Regex, String> {
    RegexBuilder::new(src).multi_line(true).unicode(false).size_limit(4 << 20).build().map_err(|e| regex_error(src, &e))
}

/// The (field name, regex) pairs of a map of field regexes (`match.where`, `match.unless_where`);
/// a regex that does not compile is reported at `at.<field>` and left out.
fn field_regexes(
    map: &BTreeMap<String, String>,
    at: &str,
    build: Build,
    bad: &mut impl FnMut(&str, String),
) -> Vec<(String, Re)> {
    let mut out = Vec::new();
    for (k, v) in map {
        match rule_regex(v, build) {
            Ok(r) => out.push((k.clone(), r)),
            Err(e) => bad(&format!("{at}.{k}"), format!("regex parse error: {e}")),
        }
    }
    out
}

/// A regex error as one sentence: what is wrong and where in the pattern (`invalid capture group
/// character at character 23 of the pattern, near `namespace[[\w`).
fn regex_error(src: &str, e: &regex::Error) -> String {
    let (kind, span) = match regex_syntax::ParserBuilder::new().build().parse(src) {
        Err(regex_syntax::Error::Parse(e)) => (e.kind().to_string(), *e.span()),
        Err(regex_syntax::Error::Translate(e)) => (e.kind().to_string(), *e.span()),
        // Compiles as syntax but not as a regex (too big): the crate's own words.
        _ => return one_line(&e.to_string()).trim_start_matches("regex parse error:").trim().to_string(),
    };
    let at = src[..span.start.offset.min(src.len())].chars().count() + 1;
    let near: String = src.get(span.start.offset..).unwrap_or("").chars().take(12).collect();
    format!("{kind} at character {at} of the pattern, near `{near}`")
}

fn one_line(s: &str) -> String {
    s.split('\n').map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" | ")
}

/// True for an id of the form `family.kebab-name`: lowercase ASCII letters and digits, one dot, and
/// after it words joined by single hyphens (`^[a-z0-9]+\.[a-z0-9]+(-[a-z0-9]+)*$`, checked by hand:
/// building that regex for every rule cost more than the rest of the rule's checks).
fn is_rule_id(id: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    match id.split_once('.') {
        Some((family, name)) => word(family) && name.split('-').all(word),
        None => false,
    }
}

fn compile_signature(
    spec: SignatureSpec,
    path: &str,
    builtin: bool,
    build: Build,
    out: &mut Vec<Problem>,
) -> Option<Signature> {
    let start = out.len();
    let mut bad = |field: &str, message: String| {
        out.push(Problem::new(path, field, message));
    };
    if !is_rule_id(&spec.id) {
        bad("id", format!("`{}` is not of the form family.kebab-name", spec.id));
    }
    let family = spec.id.split('.').next().unwrap_or_default().to_string();
    let severity = RuleSeverity::parse(&spec.severity).unwrap_or_else(|| {
        bad("severity", format!("`{}` is not one of critical, error, warning, notice, info", spec.severity));
        RuleSeverity::Info
    });
    let kind = Kind::parse(&spec.kind).unwrap_or_else(|| {
        bad("kind", format!("`{}` is not one of fault, symptom, context, recovery", spec.kind));
        Kind::Context
    });
    for (field, t) in [("title", &spec.title), ("summary", &spec.summary)] {
        if t.en.trim().is_empty() {
            bad(&format!("{field}.en"), "the English text is empty".into());
        }
        if t.ko.as_deref().is_none_or(|k| k.trim().is_empty()) {
            bad(&format!("{field}.ko"), "the Korean text is missing".into());
        }
    }
    let mut filter = Filter::default();
    let mut patterns = Vec::new();
    let mut literals = Vec::new();
    let mut pattern_sources = Vec::new();
    let mut unless = Vec::new();
    let mut unless_where = Vec::new();
    let mut set = Vec::new();
    let mut fields = Vec::new();
    let mut produced: BTreeSet<String> = BTreeSet::new();
    // A pattern or state regex that did not compile: what it would capture is unknown, so the checks
    // that depend on it (entities, "needs patterns") are not made.
    let mut unreadable = false;
    if let Some(m) = &spec.matcher {
        for (i, f) in m.format.iter().enumerate() {
            match Format::from_name(f) {
                Some(f) => filter.formats.push(f),
                None => bad(&format!("match.format[{i}]"), format!("`{f}` is not a known format")),
            }
        }
        for (field, src, slot) in [
            ("match.program", &m.program, &mut filter.program),
            ("match.container", &m.container, &mut filter.container),
        ] {
            if let Some(src) = src {
                match rule_regex(src, build) {
                    Ok(r) => *slot = Some(r),
                    Err(e) => bad(field, format!("regex parse error: {e}")),
                }
            }
        }
        if let Some(s) = &m.severity {
            match Severity::from_word(s) {
                Some(s) => filter.severity = Some(s),
                None => bad("match.severity", format!("`{s}` is not a syslog severity")),
            }
        }
        filter.needs_severity = m.needs_severity;
        if m.needs_severity && m.severity.is_none() {
            bad("match.needs_severity", "needs `match.severity`: the level the event must state".into());
        }
        filter.where_fields = field_regexes(&m.where_fields, "match.where", build, &mut bad);
        filter.headline_only = m.headline_only;
        for (i, p) in m.patterns.iter().enumerate() {
            match pattern_regex(p, build) {
                Ok((r, names, lits)) => {
                    produced.extend(names);
                    patterns.push(r);
                    literals.push(lits);
                    pattern_sources.push(p.clone());
                }
                Err(e) => {
                    unreadable = true;
                    bad(&format!("match.patterns[{i}]"), format!("regex parse error: {e}"))
                }
            }
        }
        for (i, p) in m.unless.iter().enumerate() {
            match rule_regex(p, build) {
                Ok(r) => unless.push(r),
                Err(e) => bad(&format!("match.unless[{i}]"), format!("regex parse error: {e}")),
            }
        }
        unless_where = field_regexes(&m.unless_where, "match.unless_where", build, &mut bad);
        for (k, v) in &m.set {
            produced.insert(k.clone());
            set.push((k.clone(), v.clone()));
        }
        for (k, v) in &m.fields {
            if k.trim().is_empty() || k.starts_with('_') || v.trim().is_empty() {
                bad(
                    &format!("match.fields.{k}"),
                    "needs an entity kind (not starting with `_`) and a field name".into(),
                );
                continue;
            }
            produced.insert(k.clone());
            fields.push((k.clone(), v.clone()));
        }
    }
    let mut state = None;
    if let Some(st) = &spec.state {
        let mut get = |field: &str, src: &str| match pattern_regex(src, build) {
            Ok(r) => Some(r),
            Err(e) => {
                unreadable = true;
                bad(field, format!("regex parse error: {e}"));
                None
            }
        };
        let (s, i) = (get("state.section", &st.section), get("state.item", &st.item));
        let all = match &st.all {
            None => Some(None),
            Some(a) => get("state.all", a).map(|(r, _, _)| Some(r)),
        };
        if let (Some((section, section_names, section_literals)), Some((item, item_names, _)), Some(all)) = (s, i, all)
        {
            produced.extend(section_names);
            produced.extend(item_names);
            pattern_sources.push(st.section.clone());
            literals.push(section_literals);
            state = Some(State { section, item, all, min_items: st.min_items.unwrap_or(1) });
        }
    }
    let frequency = spec.frequency.as_ref().and_then(|f| match parse_duration(&f.within) {
        Some(w) if f.count >= 1 => Some((f.count, w)),
        _ => {
            bad("frequency", format!("needs count >= 1 and a duration like 5m, not `{}`", f.within));
            None
        }
    });
    let absence = spec.absence.as_ref().and_then(|a| match parse_duration(&a.within) {
        Some(within) => Some(Absence {
            after: a.after.clone(),
            unless: a.unless.clone(),
            within,
            same: a.same.clone(),
            at_end: a.at_end,
        }),
        None => {
            bad("absence.within", format!("`{}` is not a duration like 5m", a.within));
            None
        }
    });
    let onset_before = spec.onset.as_ref().and_then(|o| {
        let t = o.before.trim();
        if t.contains('$') || parse_duration(t).is_some() {
            Some(t.to_string())
        } else {
            bad("onset.before", format!("`{t}` is not a duration (120s) or a template over captures (${{_secs}}s)"));
            None
        }
    });
    if absence.is_some() {
        // A derived finding carries the entities of the hit that started the clock.
        produced.extend(spec.entities.iter().cloned());
    }
    if unreadable {
        produced.extend(spec.entities.iter().cloned());
        produced.extend(spec.group_by.iter().flatten().cloned());
    }
    if spec.fallback {
        // A fallback looks at error lines only: never at info, debug or warning noise.
        let strict = spec.matcher.as_ref().and_then(|m| m.severity.as_deref()).and_then(Severity::from_word);
        if strict.is_none_or(|s| s > Severity::Err) {
            bad("match.severity", "a fallback rule needs `match.severity: err` (or more severe)".into());
        }
        if patterns.is_empty() && !unreadable {
            bad("fallback", "a fallback rule matches events: it needs `match.patterns`".into());
        }
        if !matches!(kind, Kind::Fault | Kind::Symptom) {
            bad("kind", "a fallback rule says something went wrong: kind `fault` or `symptom`".into());
        }
    }
    if patterns.is_empty() && state.is_none() && absence.is_none() && !unreadable {
        bad("match.patterns", "a rule needs patterns, a state predicate or an absence condition".into());
    }
    for (i, e) in spec.entities.iter().enumerate() {
        if !produced.contains(e) {
            bad(&format!("entities[{i}]"), format!("`{e}` is not captured by any pattern (no group named `{e}`)"));
        }
    }
    let group_by = spec.group_by.clone().unwrap_or_else(|| spec.entities.clone());
    for (i, e) in spec.group_by.iter().flatten().enumerate() {
        if !produced.contains(e) {
            bad(&format!("group_by[{i}]"), format!("`{e}` is not captured by any pattern"));
        }
    }
    let mut frequency_when = Vec::new();
    for (k, src) in spec.frequency.iter().flat_map(|f| f.when.iter()) {
        if !group_by.contains(k) {
            bad(&format!("frequency.when.{k}"), format!("`{k}` must be one of `group_by`"));
            continue;
        }
        match rule_regex(src, build) {
            Ok(r) => frequency_when.push((k.clone(), r)),
            Err(e) => bad(&format!("frequency.when.{k}"), format!("regex parse error: {e}")),
        }
    }
    check_doc(&spec.doc, &mut bad);
    check_cases(&spec.tests, &mut bad);
    if out.len() > start {
        return None;
    }
    Some(Signature {
        id: spec.id,
        family,
        title: spec.title,
        summary: spec.summary,
        severity,
        kind,
        fallback: spec.fallback,
        yields_to: spec.yields_to,
        entities: spec.entities,
        group_by,
        doc: spec.doc,
        tests: spec.tests,
        path: path.into(),
        text: "".into(),
        builtin,
        pattern_sources,
        filter,
        patterns,
        literals,
        unless,
        unless_where,
        set,
        fields,
        frequency,
        frequency_when,
        onset_before,
        absence,
        state,
    })
}

fn check_doc(doc: &DocSpec, bad: &mut impl FnMut(&str, String)) {
    for (field, t) in
        [("doc.detects", &doc.detects), ("doc.matters", &doc.matters), ("doc.next_steps", &doc.next_steps)]
    {
        if t.en.trim().is_empty() {
            bad(&format!("{field}.en"), "the section is missing or empty".into());
        }
    }
    if doc.example.trim().is_empty() {
        bad("doc.example", "the example is missing or empty".into());
    }
    if doc.references.is_empty() {
        bad("doc.references", "name at least one reference (man page, kernel doc, Kubernetes doc, bug id)".into());
    }
}

fn check_cases(tests: &TestsSpec, bad: &mut impl FnMut(&str, String)) {
    let all = tests.fires.iter().map(|c| ("fires", c)).chain(tests.quiet.iter().map(|c| ("quiet", c)));
    let mut n: HashMap<&str, usize> = HashMap::new();
    for (group, c) in all {
        let i = n.entry(group).or_default();
        let field = format!("tests.{group}[{i}]");
        *i += 1;
        check_case(c, &field, bad);
    }
}

fn check_case(c: &CaseSpec, field: &str, bad: &mut impl FnMut(&str, String)) {
    if c.line.is_none() == c.lines.is_empty() {
        bad(field, "a case needs exactly one of `line` or `lines`".into());
    }
    if let Some(f) = &c.format {
        if Format::from_name(f).is_none() {
            bad(&format!("{field}.format"), format!("`{f}` is not a known format"));
        }
    }
    if let Some(s) = &c.severity {
        if Severity::from_word(s).is_none() {
            bad(&format!("{field}.severity"), format!("`{s}` is not a syslog severity"));
        }
    }
}

fn compile_link(spec: LinkSpec, path: &str, out: &mut Vec<Problem>) -> Option<Link> {
    let start = out.len();
    let mut bad = |field: &str, message: String| {
        out.push(Problem::new(path, field, message));
    };
    let max_delay = parse_duration(&spec.max_delay).unwrap_or_else(|| {
        bad("max_delay", format!("`{}` is not a duration like 30m", spec.max_delay));
        0
    });
    let tolerance = match &spec.tolerance {
        None => 0,
        Some(t) => parse_duration(t).unwrap_or_else(|| {
            bad("tolerance", format!("`{t}` is not a duration"));
            0
        }),
    };
    let share = match spec.share.as_str() {
        "host" => Share::Host,
        "storage" => Share::Storage,
        "process" => Share::Process,
        "pod" => Share::Pod,
        s => {
            bad("share", format!("`{s}` is not one of host, storage, process, pod"));
            Share::Host
        }
    };
    if !(spec.prior > 0.0 && spec.prior <= 1.0) {
        bad("prior", format!("{} is not in (0, 1]", spec.prior));
    }
    if spec.doc.en.trim().is_empty() {
        bad("doc.en", "say why the link holds".into());
    }
    let mut preds = |field: &str, m: &BTreeMap<String, String>| -> Vec<(String, regex::Regex)> {
        m.iter()
            .filter_map(|(k, v)| match regex::Regex::new(v) {
                Ok(r) => Some((k.clone(), r)),
                Err(e) => {
                    bad(&format!("{field}.{k}"), format!("regex parse error: {}", regex_error(v, &e)));
                    None
                }
            })
            .collect()
    };
    let cause_entities = preds("cause_entities", &spec.cause_entities);
    let effect_entities = preds("effect_entities", &spec.effect_entities);
    if out.len() > start {
        return None;
    }
    Some(Link {
        id: spec.id.clone(),
        causes: spec.cause.to_vec(),
        effects: spec.effect.to_vec(),
        max_delay,
        tolerance,
        share,
        cause_entities,
        effect_entities,
        prior: spec.prior,
        doc: spec.doc.clone(),
        path: path.into(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, text: &str) -> Source {
        Source { path: path.into(), text: text.into(), builtin: false }
    }

    const GOOD: &str = r#"
id: multipath.path-down
title: {en: Path down, ko: 경로 down}
summary: {en: A path went down., ko: 경로가 down 되었습니다.}
severity: warning
kind: symptom
entities: [map, disk]
match:
  patterns: ['(?P<map>\w+): (?P<disk>sd[a-z]+) - path offline']
doc:
  detects: {en: x}
  matters: {en: x}
  example: x
  next_steps: {en: x}
  references: [multipathd(8)]
"#;

    #[test]
    fn rule_ids_are_family_dot_kebab_name() {
        for good in ["multipath.path-down", "k8s.crash-loop", "a.b", "nova.x1-2-y"] {
            assert!(is_rule_id(good), "{good}");
        }
        for bad in ["", "multipath", ".x", "x.", "x.-y", "x.y-", "x.y--z", "X.y", "x.y.z", "x_y.z", "x.y z", "x.ÿ"] {
            assert!(!is_rule_id(bad), "{bad}");
        }
    }

    fn builtin_src(path: &str, text: &str) -> Source {
        Source { path: path.into(), text: text.into(), builtin: true }
    }

    #[test]
    fn every_regex_of_the_built_in_pack_builds_and_its_parse_agrees_with_the_build() {
        // The built-in pack's regexes are built on first use: every one must build, and what the
        // load took from parsing them (capture names, literals) must be what the built regex says.
        let (eager, problems) = Pack::compile_lenient(builtin_sources());
        assert!(problems.is_empty(), "{problems:?}");
        let lazy = Pack::builtin().expect("the built-in pack compiles");
        assert_eq!(lazy.signatures.len(), eager.signatures.len());
        for (l, e) in lazy.signatures.iter().zip(&eager.signatures) {
            assert_eq!(l.id, e.id);
            assert_eq!(l.literals, e.literals, "{}", l.id);
            for (i, p) in l.patterns.iter().enumerate() {
                assert!(p.built.get().is_none(), "{}: built at load", l.id);
                let mut names = Vec::new();
                capture_names_of(&parse_regex(p.as_str()).unwrap(), &mut names);
                let built: Vec<&str> = p.capture_names().flatten().filter(|n| !n.starts_with('_')).collect();
                assert_eq!(names, built, "{} pattern {i}", l.id);
                assert_eq!(p.as_str(), e.patterns[i].as_str());
            }
            let all =
                l.patterns.iter().chain(&l.unless).chain(l.filter.program.iter()).chain(l.filter.container.iter());
            let fields = l.filter.where_fields.iter().chain(&l.unless_where).chain(&l.frequency_when).map(|(_, r)| r);
            let state = l.state.iter().flat_map(|s| [&s.section, &s.item].into_iter().chain(s.all.iter()));
            for r in all.chain(fields).chain(state) {
                build_regex(r.as_str()).unwrap_or_else(|e| panic!("{}: {e}", l.id));
            }
        }
    }

    #[test]
    fn a_built_in_regex_is_checked_at_load_and_a_user_regex_built_at_load() {
        // A pattern that does not parse: the same problem whether its regexes are built now or later.
        let bad = GOOD
            .replace(r"- path offline'", r"- path (offline'")
            .replace("  patterns:", "  unless: ['x(']\n  patterns:");
        let now = Pack::compile_with(vec![builtin_src("rules/a.yaml", &bad)], Build::Now).1;
        let later = Pack::compile_with(vec![builtin_src("rules/a.yaml", &bad)], Build::Lazily).1;
        assert_eq!(now.len(), 2, "{now:?}");
        assert_eq!(now, later);
        // Too large to build: a user rule says so at load even when the built-in pack is loaded lazily.
        let huge = GOOD.replace(r"- path offline'", r"- path offline\w{1000}{1000}'");
        let user = Pack::compile_with(vec![src("my/a.yaml", &huge)], Build::Lazily).1;
        assert_eq!(user.len(), 1, "{user:?}");
        assert!(user[0].to_string().contains("match.patterns[0]"), "{user:?}");
        // A built-in one (a test above builds every built-in regex) would match nothing, not panic.
        let (pack, problems) = Pack::compile_with(vec![builtin_src("rules/a.yaml", &huge)], Build::Lazily);
        assert!(problems.is_empty(), "{problems:?}");
        let re = &pack.signatures[0].patterns[0];
        assert!(!re.is_match(b"mpatha: sdb - path offline"));
        assert!(!Re::never().is_match(b"") && !Re::never().is_match(&[0u8, 0xff]));
    }

    #[test]
    fn a_lazy_regex_matches_as_the_built_one() {
        let lazy = Pack::compile_with(vec![builtin_src("rules/a.yaml", GOOD)], Build::Lazily).0;
        let now = Pack::compile_with(vec![builtin_src("rules/a.yaml", GOOD)], Build::Now).0;
        let (l, n) = (&lazy.signatures[0].patterns[0], &now.signatures[0].patterns[0]);
        assert!(l.built.get().is_none() && n.built.get().is_some());
        let line = b"x\nmpatha: sdb - path offline";
        assert_eq!(l.find(line).map(|m| m.range()), n.find(line).map(|m| m.range()));
        assert_eq!(l.find(line).map(|m| m.start()), Some(2));
        assert!(l.built.get().is_some(), "built on first use");
    }

    #[test]
    fn compiles_a_good_rule() {
        let p = Pack::compile(vec![src("r/multipath/path-down.yaml", GOOD)]).unwrap();
        assert_eq!(p.signatures.len(), 1);
        assert_eq!(p.signatures[0].group_by, vec!["map", "disk"]);
    }

    #[test]
    fn reports_every_problem_with_field_paths_and_positions() {
        let bad1 = GOOD.replace(r"- path offline'", r"- path (offline'").replace("kind: symptom", "kind: oops");
        let bad2 = GOOD.replace("multipath.path-down", "multipath.x").replace("[map, disk]", "[map, dm]");
        let err = Pack::compile(vec![src("a.yaml", &bad1), src("b.yaml", &bad2)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("a.yaml:9:14: match.patterns[0]: regex parse error: unclosed group at character 41"),
            "{text}"
        );
        assert!(text.contains("a.yaml:6:7: kind: `oops`"), "{text}");
        assert!(text.contains("b.yaml:7:17: entities[1]: `dm` is not captured"), "{text}");
        // The unreadable pattern does not also make its rule "need patterns" or miss entities.
        assert_eq!(err.problems.len(), 3, "{text}");
    }

    fn problems(text: &str) -> Vec<String> {
        match Pack::compile(vec![src("my-rules/k8s/x.yaml", text)]) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_broken_user_rule_names_file_line_and_column() {
        // YAML that does not parse.
        let p = problems(&GOOD.replace("severity: warning", "severity: [warning"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("my-rules/k8s/x.yaml:5:11: not a valid rule file: "), "{p:?}");
        // A key the language does not have.
        let p = problems(&GOOD.replace("  patterns:", "  patern: [x]\n  patterns:"));
        assert_eq!(
            p,
            vec![
                "my-rules/k8s/x.yaml:9:3: not a valid rule file: unknown field `patern`, expected one of format, \
                  program, container, severity, needs_severity, where, patterns, unless, unless_where, set, fields, \
                  headline_only"
            ]
        );
        // A regex that does not compile: the position of the pattern itself.
        let p = problems(&GOOD.replace("(?P<map>\\w+)", "(?P<map>\\w+"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("my-rules/k8s/x.yaml:9:14: match.patterns[0]: regex parse error: "), "{p:?}");
        // A doc section left out: reported with the other missing ones, at the doc mapping.
        let p = problems(&GOOD.replace("  matters: {en: x}\n", "").replace("  next_steps: {en: x}\n", ""));
        assert_eq!(
            p,
            vec![
                "my-rules/k8s/x.yaml:11:3: doc.matters.en: the section is missing or empty",
                "my-rules/k8s/x.yaml:11:3: doc.next_steps.en: the section is missing or empty",
            ]
        );
        // A YAML error stops one file, not the others: both files are reported.
        let err = Pack::compile(vec![
            src("a.yaml", &GOOD.replace("kind: symptom", "kind: [")),
            src("b.yaml", &GOOD.replace("multipath.path-down", "multipath.b").replace("kind: symptom", "kind: x")),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn a_fallback_rule_must_look_at_error_lines_only() {
        let fb = GOOD.replace("kind: symptom", "kind: symptom\nfallback: true");
        let p = problems(&fb);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("match.severity: a fallback rule needs `match.severity: err`"), "{p:?}");
        assert!(problems(&fb.replace("match:\n", "match:\n  severity: warning\n"))[0].contains("match.severity"));
        assert!(problems(&fb.replace("match:\n", "match:\n  severity: err\n")).is_empty());
        let p =
            problems(&fb.replace("match:\n", "match:\n  severity: err\n").replace("kind: symptom", "kind: context"));
        assert!(p[0].contains("kind: a fallback rule says something went wrong"), "{p:?}");
        let p = problems(&GOOD.replace("match:\n", "match:\n  needs_severity: true\n"));
        assert!(p[0].contains("match.needs_severity: needs `match.severity`"), "{p:?}");
    }

    #[test]
    fn load_lenient_keeps_what_compiled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
        std::fs::write(dir.path().join("k8s/good.yaml"), GOOD.replace("multipath.path-down", "k8s.good")).unwrap();
        std::fs::write(dir.path().join("k8s/bad.yaml"), "id: k8s.bad\ntitle: {en: x\n").unwrap();
        let (pack, problems) = Pack::load_lenient(&[dir.path()]);
        assert!(pack.get("k8s.good").is_some());
        assert!(pack.get("multipath.stale-map").is_some(), "the built-in pack is there too");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].to_string().ends_with("k8s/bad.yaml:2:8: not a valid rule file: unclosed bracket '{'"));
        assert!(Pack::load(&[dir.path()]).is_err());
    }

    #[test]
    fn user_rule_overrides_builtin() {
        let mut a = src("builtin.yaml", GOOD);
        a.builtin = true;
        let b = src("user.yaml", &GOOD.replace("Path down", "Mine"));
        let p = Pack::compile(vec![a, b]).unwrap();
        assert_eq!(p.signatures[0].title.en, "Mine");
        assert_eq!(p.overridden, vec![("multipath.path-down".to_string(), "user.yaml".to_string())]);
    }
}

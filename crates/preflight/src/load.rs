//! From check files to [`Check`]s: the built-in set (embedded from `checks/`), plus `--checks DIR`
//! files that add checks or replace built-in ones by id. Every problem of every file is reported
//! at once, each with its file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use regex::Regex;
use rootline_rules::spec::Text;
use serde_yaml::Value;

use crate::check::{
    Check, Cond, Filter, Message, Missing, Outcome, Piece, Quant, Source, SourceKind, Template, Test, Val, Verdict,
};
use crate::formats::Format;
use crate::probe::Probe;
use crate::spec::{CheckSpec, CondSpec, SourceSpec};

/// A check file as read: where it came from and its text.
#[derive(Debug, Clone)]
pub struct CheckFile {
    pub path: String,
    pub text: String,
    pub builtin: bool,
}

/// One thing wrong in a check file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every problem found in the check files.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} problem{} in the check files:", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// The built-in check files, embedded at build time from the workspace's `checks/` directory.
pub fn builtin_files() -> Vec<CheckFile> {
    crate::BUILTIN
        .iter()
        .map(|(path, text)| CheckFile { path: format!("checks/{path}"), text: (*text).to_string(), builtin: true })
        .collect()
}

/// Every `*.yaml` / `*.yml` under `dir`, sorted by path.
pub fn read_dir(dir: &Path) -> Result<Vec<CheckFile>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    walk(dir, &mut out, &mut problems);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn walk(dir: &Path, out: &mut Vec<CheckFile>, problems: &mut Vec<Problem>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(Problem {
                file: dir.display().to_string(),
                line: None,
                column: None,
                message: format!("cannot read the check directory: {e}"),
            });
            return;
        }
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, problems);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            match std::fs::read_to_string(&p) {
                Ok(text) => out.push(CheckFile { path: p.display().to_string(), text, builtin: false }),
                Err(e) => problems.push(Problem {
                    file: p.display().to_string(),
                    line: None,
                    column: None,
                    message: format!("cannot read the check file: {e}"),
                }),
            }
        }
    }
}

/// Compiles `files` (built-in ones first): later user files replace built-in checks of the same
/// id; two files of the same kind with one id are an error. The checks come back sorted by id.
pub fn compile(files: &[CheckFile]) -> Result<Vec<Check>, LoadError> {
    let mut problems = Vec::new();
    let mut checks: BTreeMap<String, Check> = BTreeMap::new();
    let mut first_in_layer: BTreeMap<(String, bool), String> = BTreeMap::new();
    for f in files {
        match compile_file(f) {
            Ok(mut c) => {
                if let Some(first) = first_in_layer.insert((c.id.clone(), f.builtin), f.path.clone()) {
                    let (line, column) = locate(&f.text, &c.id).unzip();
                    problems.push(Problem {
                        file: f.path.clone(),
                        line,
                        column,
                        message: format!("check id `{}` is already defined by {first}", c.id),
                    });
                    continue;
                }
                if let Some(old) = checks.get(&c.id) {
                    c.overrides_builtin = old.builtin && !c.builtin;
                }
                checks.insert(c.id.clone(), c);
            }
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(checks.into_values().collect())
    } else {
        Err(LoadError { problems })
    }
}

/// The line and column (from 1) of the first place `needle` stands as a word in `text`.
fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    for (i, l) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = l[from..].find(needle).map(|a| a + from) {
            let before = l[..at].chars().next_back();
            let after = l[at + needle.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if !word(before) && !word(after) {
                return Some((i + 1, l[..at].chars().count() + 1));
            }
            from = at + needle.len();
        }
    }
    None
}

/// Collects the problems of one file.
struct Ctx<'a> {
    file: &'a CheckFile,
    problems: Vec<Problem>,
}

impl Ctx<'_> {
    /// A problem placed at the first occurrence of `near` in the file.
    fn err(&mut self, near: &str, message: String) {
        let (line, column) = locate(&self.file.text, near).unzip();
        self.problems.push(Problem { file: self.file.path.clone(), line, column, message });
    }
}

fn compile_file(f: &CheckFile) -> Result<Check, Vec<Problem>> {
    let spec: CheckSpec = serde_yaml::from_str(&f.text).map_err(|e| {
        vec![Problem {
            file: f.path.clone(),
            line: e.location().map(|l| l.line()),
            column: e.location().map(|l| l.column()),
            message: format!("not a valid check: {e}"),
        }]
    })?;
    let mut cx = Ctx { file: f, problems: Vec::new() };
    let id_re = Regex::new(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$").expect("pattern");
    if !id_re.is_match(&spec.id) {
        cx.err(
            "id",
            format!("id `{}`: write family.name in lowercase letters, digits and dashes (multipath.paths)", spec.id),
        );
    }
    for (name, t) in [("title", &spec.title), ("why", &spec.why), ("fix", &spec.fix), ("success", &spec.success)] {
        if t.en.trim().is_empty() {
            cx.err(name, format!("{name}: the English text (en) is empty"));
        }
    }
    if spec.read.is_empty() {
        cx.err("read", "read: name at least one source".into());
    }
    if spec.outcomes.is_empty() {
        cx.err("outcomes", "outcomes: give at least one (a check with none always succeeds)".into());
    }
    // Sources: what they are, then the fields their items carry.
    let mut sources: Vec<Source> = Vec::new();
    for (name, s) in &spec.read {
        if let Some(src) = compile_source(&mut cx, name, s) {
            sources.push(src);
        }
    }
    // Every named source's fields (any, for one that did not compile: its own problem is
    // reported; conditions naming it are not).
    let fields: BTreeMap<String, Option<BTreeSet<&'static str>>> = spec
        .read
        .keys()
        .map(|name| (name.clone(), sources.iter().find(|s| s.name == *name).and_then(|s| Check::fields_of(&s.kind))))
        .collect();
    // Source filters and `timeout_from`, now that every source's fields are known.
    for s in sources.iter_mut() {
        let name = s.name.clone();
        let spec_s = &spec.read[&name];
        if let Some(v) = &spec_s.filter {
            s.filter = compile_filter(&mut cx, v, &name, &fields);
        }
        if let SourceKind::Command { timeout_from: Some(r), .. } = &s.kind {
            check_ref(&mut cx, r, None, &fields);
            if let Val::Ref { source: Some(other), .. } = r {
                if spec.read.get(other).is_some_and(|o| o.command.is_some()) {
                    cx.err(
                        "timeout_from",
                        format!("read.{name}.timeout_from: {other} is a command; name a file, probe or sysctl source"),
                    );
                }
            }
        }
    }
    let mut outcomes = Vec::new();
    for (n, o) in spec.outcomes.iter().enumerate() {
        let Some(result) = Verdict::parse(&o.result) else {
            cx.err(
                &o.result,
                format!("outcomes[{n}].result `{}`: write failure, warning, success or skipped", o.result),
            );
            continue;
        };
        let mut conds = Vec::new();
        for c in o.when.iter().flatten() {
            if let Some(c) = compile_cond(&mut cx, n, c, &fields) {
                conds.push(c);
            }
        }
        // Item fields in the messages: only where an `each` condition lists items.
        let listed: Vec<&String> = conds.iter().filter(|c| c.quant == Quant::Each).map(|c| &c.sources[0]).collect();
        let item_fields: Option<Option<BTreeSet<&str>>> = if listed.is_empty() {
            None
        } else {
            let mut all = Some(BTreeSet::new());
            for s in &listed {
                match (fields.get(*s).cloned().flatten(), all.as_mut()) {
                    (Some(f), Some(a)) => a.extend(f),
                    _ => all = None,
                }
            }
            Some(all)
        };
        let what = format!("outcomes[{n}]");
        let message = compile_text(&mut cx, &format!("{what}.message"), &o.message, item_fields.as_ref(), &fields);
        let summary = o
            .summary
            .as_ref()
            .map(|s| compile_text(&mut cx, &format!("{what}.summary"), s, item_fields.as_ref(), &fields));
        outcomes.push(Outcome { result, conds, summary, message });
    }
    let success = compile_text(&mut cx, "success", &spec.success, None, &fields);
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    Ok(Check {
        id: spec.id,
        title: spec.title,
        why: spec.why,
        fix: spec.fix,
        success,
        references: spec.references,
        sources,
        outcomes,
        path: f.path.clone(),
        builtin: f.builtin,
        overrides_builtin: false,
    })
}

fn compile_source(cx: &mut Ctx, name: &str, s: &SourceSpec) -> Option<Source> {
    let name_re = Regex::new(r"^[a-z][a-z0-9_]*$").expect("pattern");
    if !name_re.is_match(name) {
        cx.err(name, format!("read.{name}: a source name is lowercase letters, digits and _"));
    }
    let set = [s.file.is_some(), s.command.is_some(), s.probe.is_some(), s.sysctl.is_some()];
    if set.iter().filter(|x| **x).count() != 1 {
        cx.err(name, format!("read.{name}: give exactly one of file, command, probe, sysctl"));
        return None;
    }
    let missing = match s.missing.as_deref() {
        None | Some("skip") => Missing::Skip,
        Some("ignore") => Missing::Ignore,
        Some(other) => {
            cx.err(other, format!("read.{name}.missing `{other}`: write skip or ignore"));
            Missing::Skip
        }
    };
    let format = |cx: &mut Ctx, default: Option<Format>| -> Option<Format> {
        match (s.format.as_deref(), default) {
            (Some(f), _) => Format::from_name(f).or_else(|| {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                cx.err(f, format!("read.{name}.format `{f}`: unknown format; known: {}", known.join(", ")));
                None
            }),
            (None, Some(d)) => Some(d),
            (None, None) => {
                cx.err(name, format!("read.{name}: a file source needs a format"));
                None
            }
        }
    };
    let only_commands = |cx: &mut Ctx| {
        if s.timeout.is_some() || s.timeout_from.is_some() || !s.captured.is_empty() {
            cx.err(name, format!("read.{name}: timeout, timeout_from and captured are for commands"));
        }
    };
    let kind = if let Some(paths) = &s.file {
        only_commands(cx);
        for p in paths {
            if !(p.starts_with('/') || p == "$MANIFESTS") {
                cx.err(p, format!("read.{name}.file `{p}`: write an absolute path as on the node, or $MANIFESTS"));
            }
            if p.rsplit_once('/').is_some_and(|(dir, _)| dir.contains('*')) {
                cx.err(p, format!("read.{name}.file `{p}`: `*` only in the last part of a path"));
            }
        }
        SourceKind::File { paths: paths.clone(), format: format(cx, None)? }
    } else if let Some(argv) = &s.command {
        if argv.is_empty() || argv[0].trim().is_empty() {
            cx.err(name, format!("read.{name}.command: give the program and its arguments"));
            return None;
        }
        let timeout = match s.timeout.as_deref() {
            None => Duration::from_secs(10),
            Some(t) => match rootline_rules::spec::parse_duration(t) {
                Some(ns) if ns > 0 => Duration::from_nanos(ns as u64),
                _ => {
                    cx.err(t, format!("read.{name}.timeout `{t}`: not a duration (500ms, 10s, 1m)"));
                    Duration::from_secs(10)
                }
            },
        };
        let timeout_from = match s.timeout_from.as_deref() {
            None => None,
            Some(r) => match parse_ref(&format!("${r}")) {
                Some(v @ Val::Ref { source: Some(_), .. }) => Some(v),
                _ => {
                    cx.err(r, format!("read.{name}.timeout_from `{r}`: write SOURCE.FIELD"));
                    None
                }
            },
        };
        SourceKind::Command {
            argv: argv.clone(),
            timeout,
            timeout_from,
            format: format(cx, Some(Format::Lines))?,
            captured: s.captured.clone(),
        }
    } else if let Some(p) = &s.probe {
        only_commands(cx);
        if s.format.is_some() {
            cx.err(name, format!("read.{name}: a probe has no format"));
        }
        match Probe::from_name(p) {
            Some(p) => SourceKind::Probe(p),
            None => {
                let known: Vec<&str> = Probe::ALL.iter().map(|p| p.name()).collect();
                cx.err(p, format!("read.{name}.probe `{p}`: unknown probe; known: {}", known.join(", ")));
                return None;
            }
        }
    } else {
        only_commands(cx);
        if s.format.is_some() {
            cx.err(name, format!("read.{name}: sysctl sources have no format"));
        }
        let keys = s.sysctl.clone().unwrap_or_default();
        if keys.is_empty() {
            cx.err(name, format!("read.{name}.sysctl: name at least one key"));
        }
        SourceKind::Sysctl(keys)
    };
    Some(Source { name: name.to_string(), kind, filter: None, missing })
}

type Fields = BTreeMap<String, Option<BTreeSet<&'static str>>>;

fn compile_cond(cx: &mut Ctx, n: usize, c: &CondSpec, fields: &Fields) -> Option<Cond> {
    let what = format!("outcomes[{n}].when");
    let one = |s: &Option<String>| s.clone().map(|x| vec![x]);
    let picks = [
        (Quant::Each, one(&c.each)),
        (Quant::Exists, one(&c.exists)),
        (Quant::None, one(&c.none)),
        (Quant::Absent, c.absent.clone()),
        (Quant::Present, c.present.clone()),
    ];
    let given: Vec<(Quant, Vec<String>)> = picks.into_iter().filter_map(|(q, s)| s.map(|s| (q, s))).collect();
    if given.len() != 1 {
        cx.err("when", format!("{what}: each condition has exactly one of each, exists, none, absent, present"));
        return None;
    }
    let (quant, sources) = given.into_iter().next().expect("one");
    for s in &sources {
        if !fields.contains_key(s) {
            cx.err(s, format!("{what}: no source named `{s}` in read"));
            return None;
        }
    }
    let items = matches!(quant, Quant::Each | Quant::Exists | Quant::None);
    if !items && (c.filter.is_some() || c.min.is_some()) {
        cx.err("where", format!("{what}: where and min go with each, exists or none"));
    }
    if quant == Quant::None && c.min.is_some() {
        cx.err("min", format!("{what}: min goes with each or exists"));
    }
    let filter = match (&c.filter, items) {
        (Some(v), true) => compile_filter(cx, v, &sources[0], fields),
        _ => None,
    };
    Some(Cond { quant, sources, filter, min: c.min.unwrap_or(1).max(1) })
}

/// `$src.field`, `$src.field:max`, `$.field`.
fn parse_ref(s: &str) -> Option<Val> {
    let r = s.strip_prefix('$')?;
    let (r, max) = match r.strip_suffix(":max") {
        Some(r) => (r, true),
        None => (r, false),
    };
    let (src, field) = r.split_once('.')?;
    let ident = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident(field) || !(src.is_empty() || ident(src)) {
        return None;
    }
    Some(Val::Ref { source: (!src.is_empty()).then(|| src.to_string()), field: field.to_string(), max })
}

/// Checks that a reference names a known source and field; `own` is the fields of the item a
/// `$.field` reference reads.
fn check_ref(cx: &mut Ctx, v: &Val, own: Option<&Option<BTreeSet<&'static str>>>, fields: &Fields) {
    let Val::Ref { source, field, .. } = v else { return };
    let known = match source {
        Some(s) => match fields.get(s) {
            Some(f) => f.as_ref(),
            None => {
                cx.err(s, format!("`${s}.{field}`: no source named `{s}` in read"));
                return;
            }
        },
        None => match own {
            Some(f) => f.as_ref(),
            None => {
                cx.err(field, format!("`$.{field}`: an item's own field is only known in a where test"));
                return;
            }
        },
    };
    if let Some(k) = known {
        if !k.contains(field.as_str()) {
            let shown = source.as_deref().unwrap_or("");
            cx.err(
                field,
                format!(
                    "`${shown}.{field}`: its items have no field `{field}`; they have {}",
                    k.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
        _ => None,
    }
}

fn val(s: String) -> Val {
    if s.starts_with('$') {
        parse_ref(&s).unwrap_or(Val::Lit(s))
    } else {
        Val::Lit(s)
    }
}

fn compile_filter(cx: &mut Ctx, v: &Value, source: &str, fields: &Fields) -> Option<Filter> {
    let own = fields.get(source).cloned().flatten();
    let Value::Mapping(m) = v else {
        cx.err("where", format!("where (source {source}): write a map of field: test"));
        return None;
    };
    let mut f = Filter::default();
    for (k, t) in m {
        let Some(field) = k.as_str() else {
            cx.err("where", format!("where (source {source}): field names are text"));
            continue;
        };
        if field == "any_of" {
            let Value::Sequence(alts) = t else {
                cx.err("any_of", "any_of: write a list of where maps".into());
                continue;
            };
            let group: Vec<Filter> = alts.iter().filter_map(|a| compile_filter(cx, a, source, fields)).collect();
            f.any_of.push(group);
            continue;
        }
        if let Some(k) = &own {
            if !k.contains(field) {
                cx.err(
                    field,
                    format!(
                        "where: items of `{source}` have no field `{field}`; they have {}",
                        k.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                );
                continue;
            }
        }
        let mut push = |cx: &mut Ctx, test: Test| {
            for v in match &test {
                Test::Eq(v) | Test::Ne(v) | Test::Lt(v) | Test::Le(v) | Test::Gt(v) | Test::Ge(v) => vec![v],
                Test::In(vs) | Test::NotIn(vs) => vs.iter().collect(),
                _ => vec![],
            } {
                check_ref(cx, v, Some(&own), fields);
            }
            f.tests.push((field.to_string(), test));
        };
        match t {
            Value::Null => push(cx, Test::Set(false)),
            Value::Mapping(ops) => {
                for (op, arg) in ops {
                    let op = op.as_str().unwrap_or("");
                    let one = |cx: &mut Ctx| -> Option<Val> {
                        scalar(arg).map(val).or_else(|| {
                            cx.err(op, format!("where.{field}.{op}: give one value"));
                            None
                        })
                    };
                    let list = |cx: &mut Ctx| -> Option<Vec<Val>> {
                        match arg {
                            Value::Sequence(s) => {
                                s.iter().map(|x| scalar(x).map(val)).collect::<Option<Vec<_>>>().or_else(|| {
                                    cx.err(op, format!("where.{field}.{op}: a list of values"));
                                    None
                                })
                            }
                            other => scalar(other).map(|s| vec![val(s)]),
                        }
                    };
                    let regex = |cx: &mut Ctx| -> Option<Regex> {
                        let s = scalar(arg)?;
                        Regex::new(&s)
                            .map_err(|e| {
                                cx.err(
                                    op,
                                    format!(
                                        "where.{field}.{op}: not a regular expression: {}",
                                        e.to_string().lines().last().unwrap_or("")
                                    ),
                                )
                            })
                            .ok()
                    };
                    let test = match op {
                        "eq" => one(cx).map(Test::Eq),
                        "ne" => one(cx).map(Test::Ne),
                        "lt" => one(cx).map(Test::Lt),
                        "le" => one(cx).map(Test::Le),
                        "gt" => one(cx).map(Test::Gt),
                        "ge" => one(cx).map(Test::Ge),
                        "in" => list(cx).map(Test::In),
                        "not_in" => list(cx).map(Test::NotIn),
                        "matches" => regex(cx).map(Test::Matches),
                        "not_matches" => regex(cx).map(Test::NotMatches),
                        "set" => match arg {
                            Value::Bool(b) => Some(Test::Set(*b)),
                            _ => {
                                cx.err(op, format!("where.{field}.set: write true or false"));
                                None
                            }
                        },
                        other => {
                            cx.err(other, format!("where.{field}: unknown test `{other}`; known: eq, ne, in, not_in, matches, not_matches, lt, le, gt, ge, set"));
                            None
                        }
                    };
                    if let Some(t) = test {
                        push(cx, t);
                    }
                }
            }
            other => match scalar(other) {
                Some(s) => push(cx, Test::Eq(val(s))),
                None => cx.err(field, format!("where.{field}: write a value or a map of tests")),
            },
        }
    }
    Some(f)
}

/// Parses `{field}`, `{count}`, `{$src.field}` holes (`{{` and `}}` for braces).
fn parse_template(s: &str) -> Result<Template, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("`{{{name}` is not closed (write {{{{ for a brace)")),
                    }
                }
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let name = name.trim();
                if name == "count" {
                    pieces.push(Piece::Count);
                } else if let Some(noun) = name.strip_prefix("count:") {
                    if noun.trim().is_empty() {
                        return Err(format!("`{{{name}}}`: write {{count:NOUN}}, e.g. {{count:path}}"));
                    }
                    pieces.push(Piece::CountOf(noun.trim().to_string()));
                } else if name.starts_with('$') {
                    pieces.push(Piece::Ref(
                        parse_ref(name).ok_or_else(|| format!("`{{{name}}}`: write {{$SOURCE.FIELD}}"))?,
                    ));
                } else if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    pieces.push(Piece::Field(name.to_string()));
                } else {
                    return Err(format!("`{{{name}}}` is not a field name (write {{{{ for a brace)"));
                }
            }
            '}' => return Err("a lone `}` (write }} for a brace)".into()),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(Template(pieces))
}

/// Compiles a message in both languages. `item_fields`: `None` when no item is listed (item
/// fields are an error), `Some(None)` when any field may be there.
fn compile_text(
    cx: &mut Ctx,
    what: &str,
    t: &Text,
    item_fields: Option<&Option<BTreeSet<&str>>>,
    fields: &Fields,
) -> Message {
    let one = |cx: &mut Ctx, s: &str| -> Template {
        match parse_template(s) {
            Ok(tpl) => {
                for p in &tpl.0 {
                    match p {
                        Piece::Field(f) => match item_fields {
                            None => cx.err(
                                f,
                                format!("{what}: `{{{f}}}` needs an item: add an `each` condition, or use {{count}}"),
                            ),
                            Some(Some(k)) if !k.contains(f.as_str()) => cx.err(
                                f,
                                format!(
                                    "{what}: `{{{f}}}`: the listed items have no field `{f}`; they have {}",
                                    k.iter().copied().collect::<Vec<_>>().join(", ")
                                ),
                            ),
                            _ => {}
                        },
                        Piece::Ref(v) => check_ref(cx, v, None, fields),
                        _ => {}
                    }
                }
                tpl
            }
            Err(e) => {
                cx.err(what.rsplit('.').next().unwrap_or(what), format!("{what}: {e}"));
                Template(Vec::new())
            }
        }
    };
    let en = one(cx, &t.en);
    let ko = t.ko.as_deref().filter(|k| !k.trim().is_empty()).map(|k| one(cx, k));
    Message { en, ko }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> CheckFile {
        CheckFile { path: "my/check.yaml".into(), text: text.into(), builtin: false }
    }

    const GOOD: &str = r#"id: site.ntp
title: {en: Time is synchronised, ko: 시간 동기화}
why: {en: Skewed clocks break token validation.}
fix: {en: Fix chrony.}
read:
  chrony: {command: [chronyc, tracking], timeout: 5s, format: kv}
outcomes:
  - result: failure
    when:
      - each: chrony
        where: {key: Leap status, value: {ne: Normal}}
    message: {en: "chronyc says {value} ({file}:{line})"}
  - result: warning
    when: {absent: chrony}
    message: {en: "chronyc did not run"}
success: {en: "clock in sync"}
"#;

    #[test]
    fn a_good_user_check_compiles() {
        let c = compile(&[file(GOOD)]).unwrap();
        assert_eq!(c[0].id, "site.ntp");
        assert!(
            matches!(&c[0].sources[0].kind, SourceKind::Command { timeout, .. } if *timeout == Duration::from_secs(5))
        );
        assert_eq!(c[0].outcomes.len(), 2);
    }

    #[test]
    fn problems_name_file_line_and_column() {
        // YAML shape: an unknown key.
        let e = compile(&[file(&GOOD.replace("success:", "sucess:"))]).unwrap_err();
        assert_eq!(e.problems.len(), 1);
        let p = &e.problems[0];
        assert_eq!((p.file.as_str(), p.line), ("my/check.yaml", Some(16)), "{p}");
        assert!(p.message.contains("unknown field `sucess`"), "{p}");
        // Meaning: an unknown format, a field the items do not have, a bad regex, an unknown
        // source in a condition, an item field in a message without items: all at once.
        let bad = GOOD
            .replace("format: kv", "format: keyvalue")
            .replace("absent: chrony", "absent: chrony2")
            .replace("chronyc did not run", "chronyc did not run: {value}");
        let e = compile(&[file(&bad)]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("my/check.yaml:6:"), "{text}");
        assert!(text.contains("unknown format; known: lines, kv"), "{text}");
        assert!(text.contains("no source named `chrony2`"), "{text}");
        let bad = GOOD.replace("key: Leap status", "keyy: Leap status").replace("{ne: Normal}", "{matches: '(('}");
        let e = compile(&[file(&bad)]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("no field `keyy`"), "{text}");
        assert!(text.contains("not a regular expression"), "{text}");
        let line = e.problems.iter().find(|p| p.message.contains("keyy")).unwrap().line;
        assert_eq!(line, Some(11));
        let bad = GOOD.replace("message: {en: \"chronyc did not run\"}", "message: {en: \"no {value}\"}");
        let e = compile(&[file(&bad)]).unwrap_err();
        assert!(e.to_string().contains("needs an item"), "{e}");
    }

    #[test]
    fn user_files_replace_builtin_checks_and_duplicates_are_errors() {
        let mut builtin = file(GOOD);
        builtin.builtin = true;
        builtin.path = "checks/site/ntp.yaml".into();
        let user = file(&GOOD.replace("clock in sync", "clock fine"));
        let c = compile(&[builtin.clone(), user.clone()]).unwrap();
        assert_eq!(c.len(), 1);
        assert!(c[0].overrides_builtin);
        assert_eq!(c[0].path, "my/check.yaml");
        let mut twice = user.clone();
        twice.path = "my/other.yaml".into();
        let e = compile(&[user, twice]).unwrap_err();
        assert!(e.problems[0].message.contains("already defined by my/check.yaml"), "{e}");
        assert_eq!(e.problems[0].file, "my/other.yaml");
    }

    #[test]
    fn templates_and_references() {
        let t = parse_template("{map} has {count} {{x}} {$probes.window:max}").unwrap();
        assert_eq!(
            t.0,
            [
                Piece::Field("map".into()),
                Piece::Lit(" has ".into()),
                Piece::Count,
                Piece::Lit(" {x} ".into()),
                Piece::Ref(Val::Ref { source: Some("probes".into()), field: "window".into(), max: true }),
            ]
        );
        assert!(parse_template("{unclosed").is_err());
        assert!(parse_template("a } b").is_err());
        assert_eq!(
            parse_ref("$.dev_loss_tmo"),
            Some(Val::Ref { source: None, field: "dev_loss_tmo".into(), max: false })
        );
        assert_eq!(parse_ref("$x"), None);
        assert_eq!(locate("a: b\n  where: {x: 1}\n", "x"), Some((2, 11)));
        assert_eq!(locate("max_x x", "x"), Some((1, 7)));
    }

    #[test]
    fn every_builtin_check_compiles_with_korean_text() {
        let files = builtin_files();
        assert!(files.len() >= 15, "{} built-in checks", files.len());
        let checks = compile(&files).unwrap_or_else(|e| panic!("{e}"));
        for c in &checks {
            for (what, t) in [("title", &c.title), ("why", &c.why), ("fix", &c.fix)] {
                assert!(t.ko.as_deref().is_some_and(|k| !k.trim().is_empty()), "{}: {what} has no Korean text", c.id);
            }
            assert!(c.success.ko.is_some(), "{}: success has no Korean text", c.id);
            for (n, o) in c.outcomes.iter().enumerate() {
                assert!(o.message.ko.is_some(), "{}: outcomes[{n}] has no Korean message", c.id);
            }
            assert!(!c.references.is_empty(), "{}: no references", c.id);
            let file = c.path.trim_start_matches("checks/");
            assert_eq!(
                file.split('/').next(),
                c.id.split('.').next(),
                "{}: file {} not under its family",
                c.id,
                c.path
            );
        }
    }
}

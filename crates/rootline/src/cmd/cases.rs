//! `rootline cases`: the case database. Add analysed incidents, list and show them, find the past
//! cases like a new one, count them, move them between databases, and write the per-family manual.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rootline_correlate::{Analysis, SeenBefore};
use rootline_rules::{Lang, Pack};
use rootline_store::case::Update;
use rootline_store::similar::Options;
use rootline_store::{Case, DbUrl, Origin, Outcome, Store};
use serde_json::Value;

use super::common::{parse_lang, InputArgs, OutputArgs};
use super::{usage, UsageError};

/// The case database: remember every incident, find the past cases like a new one.
///
/// The database is a SQLite file by default ($XDG_DATA_HOME/rootline/cases.db, else
/// ~/.local/share/rootline/cases.db), or the one --db or $ROOTLINE_DB names (a SQLite path or
/// sqlite:///path, or postgres://user@host/db for a team). Commands that only read never create it.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 done, 2 usage or input error (a bad file, an unknown case, an unreachable \
    database).\n\n\
    Example:  rootline analyze examples/incidents/seed-37 --format json -o seed.json\n          \
    rootline cases add seed.json --resolution 'multipathd restart, reboot for the held map' --fixed-by ops\n          \
    rootline cases similar examples/incidents/lab-offline-queue\n          \
    rootline cases --db postgres://rootline@db.example/rootline stats")]
pub struct Args {
    /// The case database: a SQLite file (a path or sqlite:///path) or postgres://user@host/db.
    /// Default: $ROOTLINE_DB, else $XDG_DATA_HOME/rootline/cases.db.
    #[arg(long, value_name = "URL", global = true)]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Remember incidents: saved analyses or fleet comparisons (one case each), or evidence to
    /// analyse first (one case). The same incident twice is one case; --resolution on a stored one
    /// records what fixed it.
    Add(AddArgs),
    /// Every stored case, one per line.
    List(ListArgs),
    /// One case: its root cause, proof lines, chain, resolution.
    Show(ShowArgs),
    /// The past cases most like an incident, each with its score, reasons and resolution.
    Similar(SimilarArgs),
    /// Cases by family, by month, and what recurred.
    Stats(StatsArgs),
    /// Every case as JSON lines (rootline.case/v1), for `cases import` elsewhere.
    Export(ExportArgs),
    /// Add the cases of an export (JSON lines) in one transaction: a bad line adds nothing.
    Import(ImportArgs),
    /// Write the analysis manual, one page per failure family, in English and Korean, from the rule
    /// pack and the stored cases.
    Manual(ManualArgs),
    /// Remove a case.
    Remove(RemoveArgs),
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("paths", |a| a.value_name("ANALYSIS.json|PATH").help(
    "Saved analyses (rootline analyze --format json) or fleet comparisons (rootline fleet --json), one \
     case each; or evidence to analyse first (files, directories, archives, as rootline analyze reads \
     them), one case")))]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (one object per line: id, \
    status added|unchanged|updated, key, title)")))]
#[command(after_help = "Example:  rootline cases add seed.json --title 'Stale maps after the Epoxy upgrade' \
    --resolution 'multipathd restart; reboot for dm-21' --fixed-by 'storage on-call'\n          \
    rootline cases add examples/incidents/lab-offline-queue\n          \
    rootline fleet examples/fleets/upgrade-wave --json -o fleet.json && rootline cases add fleet.json")]
struct AddArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// A title for people (default: the root cause's rule title and the host).
    #[arg(long, value_name = "T")]
    title: Option<String>,
    /// What resolved it (also given later: add the same analysis again with --resolution).
    #[arg(long, value_name = "TEXT")]
    resolution: Option<String>,
    /// Who or what fixed it: a person, a team, a change id.
    #[arg(long = "fixed-by", value_name = "TEXT")]
    fixed_by: Option<String>,
    /// Language of an analysis made here: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (one object per line: id, key, \
    title, host, start, family, signature, verdict, confidence, resolution, fixed_by, added)")))]
struct ListArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// Language of the text: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (the rootline.case/v1 document)")))]
struct ShowArgs {
    /// The case's id (`12` or `#12`).
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    output: OutputArgs,
    /// Language of the text: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory, for the titles of rules that are not built in.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("paths", |a| a.value_name("ANALYSIS.json|PATH").help(
    "A saved analysis or fleet comparison, or evidence to analyse first (as rootline analyze reads it)")))]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (rootline.similar/v1: schema, \
    matches[] of case, title, score, reasons, resolution; see docs/cases.md)")))]
#[command(after_help = "Example:  rootline cases similar examples/incidents/lab-offline-queue\n          \
    rootline cases similar analysis.json --top 3 --format json | jq '.matches[0]'")]
struct SimilarArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Matches at most.
    #[arg(long, value_name = "N", default_value_t = 5)]
    top: usize,
    /// Leave out matches scoring below this (0..1).
    #[arg(long = "min-score", value_name = "SCORE", default_value_t = Options::default().min_score)]
    min_score: f64,
    /// Score every case that shares a feature, without the search's bounds (slow on a large
    /// database; bench/casedb.sh checks with it what the bounds cost).
    #[arg(long, hide = true)]
    exhaustive: bool,
    /// Language of the reasons and the text: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("format", |a| a.help("Output format: text (default) or json (rootline.case-stats/v1)")))]
struct StatsArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// Language of the text: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ImportArgs {
    /// An export of `rootline cases export` (JSON lines); - reads standard input.
    #[arg(value_name = "FILE")]
    input: PathBuf,
}

#[derive(clap::Args, Debug)]
struct ManualArgs {
    /// The directory to write into (en/ and ko/ under it; created when missing).
    #[arg(short = 'o', long = "output", value_name = "DIR", required = true)]
    output: PathBuf,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct RemoveArgs {
    /// The case's id (`12` or `#12`).
    #[arg(value_name = "ID")]
    id: String,
}

/// Runs `rootline cases`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let db = a.db.as_deref();
    match a.command {
        Command::Add(x) => add(db, x),
        Command::List(x) => list(db, x),
        Command::Show(x) => show(db, x),
        Command::Similar(x) => similar(db, x),
        Command::Stats(x) => stats(db, x),
        Command::Export(x) => export(db, x),
        Command::Import(x) => import(db, x),
        Command::Manual(x) => manual(db, x),
        Command::Remove(x) => remove(db, x),
    }
}

fn url(db: Option<&str>) -> anyhow::Result<(DbUrl, Origin)> {
    DbUrl::resolve(db).map_err(|e| UsageError(e.to_string()).into())
}

/// A store error is the user's to fix (an address, a server, a file): exit 2.
fn store_err(e: rootline_store::Error) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// Opens the database for a command that writes (created when missing).
fn open_rw(db: Option<&str>) -> anyhow::Result<Store> {
    let (u, _) = url(db)?;
    match Store::open(&u, true).map_err(store_err)? {
        Some(s) => Ok(s),
        None => usage(format!("{}: the case database could not be created", u.display())),
    }
}

/// Opens the database for a command that only reads: `None` (with a note on stderr) when there is
/// no database yet.
fn open_ro(db: Option<&str>) -> anyhow::Result<Option<Store>> {
    let (u, _) = url(db)?;
    let s = Store::open(&u, false).map_err(store_err)?;
    if s.is_none() {
        eprintln!("rootline: no case database at {} yet (rootline cases add creates it)", u.display());
    }
    Ok(s)
}

fn parse_id(s: &str) -> anyhow::Result<i64> {
    match s.trim().trim_start_matches('#').parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => usage(format!("{s}: not a case id (write 12 or #12; rootline cases list shows them)")),
    }
}

/// What was given to `add` or `similar`.
enum Given {
    /// Saved documents, each with its path.
    Documents(Vec<(PathBuf, Value)>),
    /// Evidence to analyse.
    Evidence,
}

/// A saved rootline document (`{"schema": "rootline.…"}`), or `None` for evidence. Only a file that
/// starts with `{` is read whole; a log that happens to be JSON has no rootline schema.
fn document(p: &Path) -> anyhow::Result<Option<Value>> {
    let text = if p.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)
            .map_err(|e| UsageError(format!("standard input: {e}")))?;
        s
    } else {
        if !p.is_file() {
            return Ok(None);
        }
        let mut head = [0u8; 256];
        let n = std::fs::File::open(p)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| UsageError(format!("{}: {e}", p.display())))?;
        if head[..n].iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Ok(None);
        }
        match std::fs::read_to_string(p) {
            Ok(s) => s,
            Err(_) => return Ok(None),
        }
    };
    let v: Option<Value> = serde_json::from_str(&text).ok();
    let ours =
        v.as_ref().and_then(|v| v.get("schema")).and_then(Value::as_str).is_some_and(|s| s.starts_with("rootline."));
    if ours {
        return Ok(v);
    }
    if p.as_os_str() == "-" {
        return usage(
            "standard input is not a rootline analysis (rootline analyze --format json) or fleet comparison \
             (rootline fleet --json); give evidence as files or directories",
        );
    }
    Ok(None)
}

fn classify(paths: &[PathBuf]) -> anyhow::Result<Given> {
    let mut docs = Vec::new();
    let mut evidence = Vec::new();
    for p in paths {
        match document(p)? {
            Some(v) => docs.push((p.clone(), v)),
            None => evidence.push(p),
        }
    }
    match (docs.is_empty(), evidence.is_empty()) {
        (false, true) => Ok(Given::Documents(docs)),
        (true, _) => Ok(Given::Evidence),
        (false, false) => usage(format!(
            "{} is a saved analysis but {} is evidence: give saved analyses, or evidence to analyse, not both",
            docs[0].0.display(),
            evidence[0].display()
        )),
    }
}

/// The documents given, or the analysis of the evidence given, each with what it came from; and
/// the rule pack when it was loaded (an analysis loads it; for saved documents only `titles` asks
/// for it: compiling the pack takes longer than a search).
type Documents = (Vec<(String, Value)>, Option<Pack>);

fn documents_of(
    input: &InputArgs,
    rules: &[PathBuf],
    lang: Lang,
    titles: bool,
) -> anyhow::Result<Result<Documents, ExitCode>> {
    match classify(&input.paths)? {
        Given::Documents(docs) => {
            let pack = if titles { Some(super::common::load_pack(rules)?) } else { None };
            Ok(Ok((docs.into_iter().map(|(p, v)| (p.display().to_string(), v)).collect(), pack)))
        }
        Given::Evidence => {
            let a = match super::analyze::analyze_inputs(input, rules, lang, 0)? {
                Ok(a) => a,
                Err(code) => return Ok(Err(code)),
            };
            let source: Vec<String> = input.paths.iter().map(|p| p.display().to_string()).collect();
            let doc = rootline_report::analysis_value(&a.analysis);
            Ok(Ok((vec![(source.join(" "), doc)], Some(a.engine.pack().clone()))))
        }
    }
}

fn add(db: Option<&str>, a: AddArgs) -> anyhow::Result<ExitCode> {
    let lang = parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json"], true)?;
    let (docs, pack) = match documents_of(&a.input, &a.rules, lang, true)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let mut cases = Vec::new();
    for (source, v) in &docs {
        let c =
            Case::from_document(v, Some(source), pack.as_ref()).map_err(|e| UsageError(format!("{source}: {e}")))?;
        cases.push(c);
    }
    if cases.len() > 1 && (a.title.is_some() || a.resolution.is_some() || a.fixed_by.is_some()) {
        return usage(
            "--title, --resolution and --fixed-by describe one incident: add one analysis at a time with them",
        );
    }
    let now = rootline_store::now();
    let items: Vec<(Case, Update)> = cases
        .into_iter()
        .map(|mut c| {
            let u = Update {
                title: a.title.clone(),
                resolution: a.resolution.clone(),
                fixed_by: a.fixed_by.clone(),
                fleet: c.fleet.clone(),
            };
            if let Some(t) = &a.title {
                c.title = t.clone();
            }
            c.resolution = a.resolution.clone();
            c.fixed_by = a.fixed_by.clone();
            c.added = Some(now.clone());
            (c, u)
        })
        .collect();
    let mut store = open_rw(db)?;
    let outcomes = store.write(&items).map_err(store_err)?;
    let mut body = String::new();
    for ((c, _), o) in items.iter().zip(&outcomes) {
        if format == "json" {
            let line = serde_json::json!({"id": o.id(), "status": o.as_str(), "key": c.key, "title": c.title});
            body.push_str(&line.to_string());
            body.push('\n');
            continue;
        }
        let said = match (o, lang) {
            (Outcome::Added(i), Lang::En) => format!("added case #{i}"),
            (Outcome::Added(i), Lang::Ko) => format!("case #{i} 추가"),
            (Outcome::Unchanged(i), Lang::En) => {
                format!("case #{i} is already stored (the same incident); nothing changed")
            }
            (Outcome::Unchanged(i), Lang::Ko) => format!("case #{i}로 이미 저장됨 (같은 incident); 바뀐 것 없음"),
            (Outcome::Updated(i), Lang::En) => format!("case #{i} is already stored (the same incident); updated"),
            (Outcome::Updated(i), Lang::Ko) => format!("case #{i}로 이미 저장됨 (같은 incident); 갱신함"),
        };
        body.push_str(&format!("{said}: {}\n", c.title));
    }
    if format == "text"
        && items.iter().zip(&outcomes).any(|((c, _), o)| matches!(o, Outcome::Added(_)) && c.resolution.is_none())
    {
        body.push_str(match lang {
            Lang::En => "(when it is fixed: rootline cases add ... --resolution TEXT --fixed-by WHO)\n",
            Lang::Ko => "(해결되면: rootline cases add ... --resolution TEXT --fixed-by WHO)\n",
        });
    }
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn list(db: Option<&str>, a: ListArgs) -> anyhow::Result<ExitCode> {
    let lang = parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json"], false)?;
    let cases = match open_ro(db)? {
        Some(mut s) => s.summaries().map_err(store_err)?,
        None => Vec::new(),
    };
    let body = if format == "json" {
        cases.iter().map(|c| serde_json::to_string(c).expect("serialises") + "\n").collect()
    } else {
        rootline_store::text::list(&cases, lang)
    };
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn show(db: Option<&str>, a: ShowArgs) -> anyhow::Result<ExitCode> {
    let lang = parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json"], false)?;
    let id = parse_id(&a.id)?;
    let (u, _) = url(db)?;
    let Some(mut store) = Store::open(&u, false).map_err(store_err)? else {
        return usage(format!("no case database at {} (rootline cases add creates it)", u.display()));
    };
    let Some(c) = store.get(id).map_err(store_err)? else {
        return usage(format!("no case #{id} in {} (rootline cases list shows them)", store.name()));
    };
    let body = if format == "json" {
        serde_json::to_string_pretty(&c)? + "\n"
    } else {
        let pack = super::common::load_pack(&a.rules)?;
        rootline_store::text::show(&c, &pack, lang)
    };
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn similar(db: Option<&str>, a: SimilarArgs) -> anyhow::Result<ExitCode> {
    let lang = parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json"], true)?;
    if !(0.0..=1.0).contains(&a.min_score) {
        return usage(format!("--min-score {}: write a score between 0 and 1", a.min_score));
    }
    if a.top == 0 {
        return usage("--top 0 asks for nothing: write 1 or more");
    }
    let (docs, pack) = match documents_of(&a.input, &a.rules, lang, false)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    if docs.len() > 1 {
        return usage("give one saved analysis (or the evidence of one incident) to compare");
    }
    let none = SeenBefore { schema: rootline_correlate::SIMILAR_SCHEMA, matches: vec![] };
    let (source, v) = &docs[0];
    let query = match Case::from_document(v, Some(source), pack.as_ref()) {
        Ok(c) => c,
        // An analysis without an incident has nothing to compare: an empty answer, not an error.
        Err(e @ rootline_store::Error::NoIncident(_)) => {
            eprintln!("rootline: {source}: {e}: nothing to compare");
            return write_similar(&a.output, format, &none, None, lang);
        }
        Err(e) => return usage(format!("{source}: {e}")),
    };
    let mut opts = Options { top: a.top, min_score: a.min_score, ..Options::default() };
    if a.exhaustive {
        opts = opts.exhaustive();
    }
    let found = match open_ro(db)? {
        Some(mut s) => {
            let f = s.similar(&query, &opts, lang).map_err(store_err)?;
            // Counting the cases costs a scan: only the text says how many there are.
            let stored = if format == "text" { s.count().map_err(store_err)? } else { 0 };
            Some((f, stored))
        }
        None => None,
    };
    let answer = found.as_ref().map_or(&none, |f| &f.0.similar);
    write_similar(&a.output, format, answer, found.as_ref(), lang)
}

fn write_similar(
    output: &OutputArgs,
    format: &str,
    answer: &SeenBefore,
    found: Option<&(rootline_store::similar::Found, u64)>,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let body = if format == "json" {
        serde_json::to_string_pretty(answer)? + "\n"
    } else {
        match found {
            Some((f, stored)) => rootline_store::text::similar(f, *stored, lang),
            None => rootline_correlate::text::seen_before(answer, lang),
        }
    };
    output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn stats(db: Option<&str>, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let lang = parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json"], false)?;
    let cases = match open_ro(db)? {
        Some(mut s) => s.summaries().map_err(store_err)?,
        None => Vec::new(),
    };
    let st = rootline_store::stats::compute(&cases);
    let body = if format == "json" {
        serde_json::to_string_pretty(&st)? + "\n"
    } else {
        rootline_store::stats::render(&st, lang)
    };
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn export(db: Option<&str>, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let out = OutputArgs { output: a.output.clone(), ..Default::default() };
    let Some(mut store) = open_ro(db)? else {
        out.write("")?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut w = out.writer()?;
    let mut io_err = None;
    store
        .each(|c| {
            if io_err.is_none() {
                if let Err(e) = writeln!(w, "{}", rootline_store::transfer::line(&c)) {
                    io_err = Some(e);
                }
            }
            Ok(())
        })
        .map_err(store_err)?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn import(db: Option<&str>, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let shown = a.input.display().to_string();
    let reader: Box<dyn BufRead> = if a.input.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&a.input).map_err(|e| UsageError(format!("{shown}: {e}")))?,
        ))
    };
    let cases = rootline_store::transfer::read(reader)
        .map_err(|e| UsageError(format!("{shown}: {e}; nothing was imported")))?;
    let n = cases.len();
    let items: Vec<(Case, Update)> = cases.into_iter().map(|c| (c, Update::default())).collect();
    let mut store = open_rw(db)?;
    let outcomes = store.write(&items).map_err(|e| UsageError(format!("{e}; nothing was imported")))?;
    let added = outcomes.iter().filter(|o| matches!(o, Outcome::Added(_))).count();
    println!("imported {shown} into {}: {n} cases, {added} added, {} already stored", store.name(), n - added);
    Ok(ExitCode::SUCCESS)
}

fn manual(db: Option<&str>, a: ManualArgs) -> anyhow::Result<ExitCode> {
    let pack = super::common::load_pack(&a.rules)?;
    let mut m = rootline_store::manual::Manual::default();
    if let Some(mut store) = open_ro(db)? {
        store
            .each(|c| {
                m.add(&c);
                Ok(())
            })
            .map_err(store_err)?;
    }
    let pages = m.pages(&pack);
    for (rel, text) in &pages {
        let path = a.output.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| UsageError(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&path, text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    }
    println!("wrote {} pages (en, ko) to {}", pages.len(), a.output.display());
    Ok(ExitCode::SUCCESS)
}

fn remove(db: Option<&str>, a: RemoveArgs) -> anyhow::Result<ExitCode> {
    let id = parse_id(&a.id)?;
    let (u, _) = url(db)?;
    let Some(mut store) = Store::open(&u, false).map_err(store_err)? else {
        return usage(format!("no case database at {}", u.display()));
    };
    if !store.remove(id).map_err(store_err)? {
        return usage(format!("no case #{id} in {}", store.name()));
    }
    println!("removed case #{id}");
    Ok(ExitCode::SUCCESS)
}

/// "Seen before" for `rootline analyze`: the past cases like the analysis's top incident, when a
/// case database exists (the default file) or is named (--db, $ROOTLINE_DB). Never creates one.
/// Problems are warnings: the analysis goes on without the section.
pub fn seen_before(a: &Analysis, db: Option<&str>, pack: &Pack, lang: Lang) -> Option<SeenBefore> {
    if a.incidents.is_empty() || a.verdict == rootline_correlate::Verdict::NoIncident {
        return None;
    }
    let (u, origin) = match DbUrl::resolve(db) {
        Ok(x) => x,
        Err(e) => {
            if db.is_some() || std::env::var_os(rootline_store::url::ENV).is_some() {
                eprintln!("rootline: {e}; no \"seen before\"");
            }
            return None;
        }
    };
    let mut store = match Store::open(&u, false) {
        Ok(Some(s)) => s,
        Ok(None) => {
            if origin != Origin::Default {
                eprintln!(
                    "rootline: no case database at {} (rootline cases add creates it); no \"seen before\"",
                    u.display()
                );
            }
            return None;
        }
        Err(e) => {
            eprintln!("rootline: {e}; the analysis goes on without \"seen before\"");
            return None;
        }
    };
    let case = Case::from_document(&rootline_report::analysis_value(a), None, Some(pack)).ok()?;
    match store.similar(&case, &Options::default(), lang) {
        Ok(f) => Some(f.similar),
        Err(e) => {
            eprintln!("rootline: {e}; the analysis goes on without \"seen before\"");
            None
        }
    }
}

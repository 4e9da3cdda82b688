//! `rootline rules list|show|test|lint|docs|scan`: the failure-signature pack.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use rootline_event::count;
use rootline_rules::{docs, harness, lint, Engine, Lang};

use super::common::{InputArgs, OutputArgs};
use super::usage;

/// The rule pack: list, show, test, lint, generate docs, or scan inputs with it.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    rootline rules list\n  \
    rootline rules show multipath.stale-map --lang ko\n  \
    rootline rules test --rules ./my-rules\n  \
    rootline rules docs -o docs/rules\n  \
    rootline rules scan examples/incidents/lab-offline-queue --json\n\n\
    Exit codes: 0 done, 1 a rule test or lint failed (test, lint, docs --check), 2 usage or input error.")]
pub struct Args {
    #[command(subcommand)]
    cmd: Sub,
    /// Extra rule directories: their rules add to the built-in pack or replace built-in rules with the
    /// same id. May be repeated.
    #[arg(long = "rules", value_name = "DIR", global = true)]
    rules: Vec<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// List the rules: id, family, kind, title.
    #[command(mut_arg("format", |a| a.help("Output format: text (default) or json (one JSON object per rule: id, \
        family, kind, severity, title, title_ko, entities, file)")))]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one rule's documentation.
    Show {
        /// The rule id (`multipath.all-paths-down`).
        id: String,
        /// Language: en or ko (default from LC_ALL / LANG).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Run every rule's test cases (exit 1 on a failure).
    Test {
        /// Only rules whose id starts with this.
        #[arg(long)]
        only: Option<String>,
    },
    /// Check the pack: every file that does not read or compile (file:line:column), then catalogue
    /// coverage, file names, case sources and prefilters of the rest; all problems in one run.
    Lint,
    /// Write the rule pages (one per rule, an index, the links) into a directory.
    Docs {
        /// Output directory.
        #[arg(short, long, visible_alias = "output", value_name = "DIR")]
        out: PathBuf,
        /// Compare instead of writing; exit 1 when a page differs.
        #[arg(long)]
        check: bool,
    },
    /// Print every pattern of the pack, one per line, capture groups made non-capturing (for `rg -f`);
    /// patterns that match an empty line (a fallback's "any error line", which needs the line's
    /// level) are left out: a grep would count every line.
    Patterns,
    /// Read inputs and print the findings (and candidate causal edges with --links).
    #[command(mut_arg("format", |a| a.help("Output format: text (default) or json (one object with `findings`, as \
        in the analysis JSON, and `edges`)")))]
    Scan {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Print the candidate causal edges too.
        #[arg(long)]
        links: bool,
        /// Print throughput of reading and of matching on stderr.
        #[arg(long)]
        stats: bool,
    },
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let load = || super::common::load_pack(&a.rules);
    let stdout = io::stdout();
    let mut w: Box<dyn Write> = Box::new(BufWriter::new(stdout.lock()));
    let code = match a.cmd {
        Sub::List { output } => {
            let json = output.format(&["text", "json"], false)? == "json";
            w = output.writer()?;
            let pack = load()?;
            for s in &pack.signatures {
                if json {
                    let v = serde_json::json!({
                        "id": s.id, "family": s.family, "kind": s.kind.as_str(), "severity": s.severity.as_str(),
                        "title": s.title.en, "title_ko": s.title.ko, "entities": s.entities, "file": s.path,
                    });
                    serde_json::to_writer(&mut w, &v)?;
                    writeln!(w)?;
                } else {
                    writeln!(
                        w,
                        "{:<32} {:<10} {:<9} {}",
                        s.id,
                        s.family,
                        s.kind.as_str(),
                        s.title.get(Lang::from_env())
                    )?;
                }
            }
            ExitCode::SUCCESS
        }
        Sub::Show { id, lang } => {
            let lang = super::common::parse_lang(lang.as_deref())?;
            let pack = load()?;
            let Some(sig) = pack.get(&id) else {
                return usage(format!("no rule has id `{id}` (see `rootline rules list`)"));
            };
            w.write_all(docs::rule_markdown(sig, lang).as_bytes())?;
            ExitCode::SUCCESS
        }
        Sub::Test { only } => {
            let engine = Engine::new(load()?);
            let mut rep = harness::Report::default();
            for sig in &engine.pack().signatures {
                if only.as_deref().is_some_and(|o| !sig.id.starts_with(o)) {
                    continue;
                }
                rep.rules += 1;
                harness::test_rule(&engine, sig, &mut rep);
            }
            rootline_rules::ties::test_ties(&engine.pack().ties, only.as_deref(), &mut rep);
            for f in &rep.failures {
                writeln!(w, "{f}\n")?;
            }
            writeln!(
                w,
                "{} and {}, {} ({} fires, {} quiet): {} passed, {} failed",
                count(rep.rules as u64, "rule"),
                count(rep.ties as u64, "tie"),
                count(rep.cases as u64, "case"),
                rep.fires,
                rep.quiet,
                rep.cases - rep.failures.len(),
                rep.failures.len()
            )?;
            if rep.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Sub::Lint => {
            drop(w);
            return lint_cmd(&a.rules);
        }
        Sub::Docs { out, check } => {
            let pages = docs::generate(&load()?);
            let mut stale = Vec::new();
            for (rel, text) in &pages {
                let p = out.join(rel);
                if check {
                    if std::fs::read_to_string(&p).ok().as_deref() != Some(text.as_str()) {
                        stale.push(p.display().to_string());
                    }
                } else {
                    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
                }
            }
            if check && !stale.is_empty() {
                for s in &stale {
                    writeln!(w, "stale: {s}")?;
                }
                writeln!(w, "regenerate with: rootline rules docs -o {}", out.display())?;
                ExitCode::from(1)
            } else {
                if !check {
                    writeln!(w, "wrote {} to {}", count(pages.len() as u64, "page"), out.display())?;
                }
                ExitCode::SUCCESS
            }
        }
        Sub::Patterns => {
            let pack = load()?;
            let names = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("static regex");
            for s in &pack.signatures {
                for p in &s.pattern_sources {
                    let any_line =
                        regex::bytes::RegexBuilder::new(p).multi_line(true).build().is_ok_and(|r| r.is_match(b""));
                    if !any_line {
                        writeln!(w, "{}", names.replace_all(p, "(?:"))?;
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Sub::Scan { input, output, links, stats } => {
            let json = output.format(&["text", "json"], true)? == "json";
            let opts = input.options()?;
            w = output.writer()?;
            let engine = Engine::new(load()?);
            let t0 = Instant::now();
            let timeline = rootline_ingest::read(&input.paths, &opts);
            let events: Vec<_> = timeline.into_events().collect();
            let bytes: u64 = events.iter().map(|e| e.message.len() as u64 + 1).sum();
            let t1 = Instant::now();
            let analysis = rootline_rules::window::run(&engine, events.iter());
            let t2 = Instant::now();
            let edges = if links || json {
                rootline_rules::connect(engine.pack(), &analysis.findings, &analysis.aliases)
            } else {
                Vec::new()
            };
            if stats {
                let mbs = |secs: f64| bytes as f64 / 1e6 / secs.max(1e-9);
                eprintln!(
                    "rootline: {}, {}; read {:.3}s; match {:.3}s ({:.0} MB/s of messages), {}, {}",
                    count(events.len() as u64, "event"),
                    count(bytes, "message byte"),
                    (t1 - t0).as_secs_f64(),
                    (t2 - t1).as_secs_f64(),
                    mbs((t2 - t1).as_secs_f64()),
                    count(analysis.hits as u64, "hit"),
                    count(analysis.findings.len() as u64, "finding")
                );
            }
            if json {
                let v = serde_json::json!({ "findings": analysis.findings, "edges": edges });
                serde_json::to_writer_pretty(&mut w, &v)?;
                writeln!(w)?;
            } else {
                for f in &analysis.findings {
                    let first = f.first.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
                    let ents: Vec<String> = f.entities.iter().map(|(k, v)| format!("{k}={}", v.join(","))).collect();
                    writeln!(w, "{first}  {:<30} x{:<5} {}", f.id, f.count, ents.join(" "))?;
                    if let Some(e) = f.evidence.first() {
                        writeln!(w, "    {}:{}: {}", e.path, e.line, e.text)?;
                    }
                }
                for e in &edges {
                    writeln!(w, "{} -> {}  ({}, prior {})", e.cause, e.effect, e.link, e.prior)?;
                }
            }
            ExitCode::SUCCESS
        }
    };
    w.flush()?;
    Ok(code)
}

/// `rules lint`: every problem of the pack at once, the files that do not compile included.
fn lint_cmd(dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    for d in dirs {
        if !d.is_dir() {
            return usage(format!("--rules {}: not a directory", d.display()));
        }
    }
    let refs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
    let (engine, issues) = lint::lint_dirs(&refs);
    let stdout = io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let errors = issues.iter().filter(|i| i.level == lint::Level::Error).count();
    for i in &issues {
        writeln!(w, "{i}")?;
    }
    writeln!(
        w,
        "{}, {}, {}: {}, {}",
        count(engine.pack().signatures.len() as u64, "rule"),
        count(engine.pack().links.len() as u64, "link"),
        count(engine.literals().len() as u64, "prefilter literal"),
        count(errors as u64, "error"),
        count((issues.len() - errors) as u64, "warning")
    )?;
    w.flush()?;
    Ok(if errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

//! `rootline analyze PATH...`: the evidence-linked causal chain and the root cause.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_rules::Engine;

use super::common::{InputArgs, OutputArgs};
use super::progress::{self, Phase, Progress};

/// The full analysis: findings, the alias graph, the causal chain, the root cause and its alternatives.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 analysis done (any verdict), 2 usage or input error, or nothing could be \
    read (every input skipped, or no files).\n\n\
    Example:  rootline analyze examples/incidents/seed-37\n          \
    rootline analyze examples/incidents/seed-37 --format json -o analysis.json")]
#[command(mut_arg("format", |a| a.help("Output format: text (default), json (rootline.analysis/v1, see \
    docs/analyze.md), md (Markdown postmortem) or html (one self-contained HTML postmortem; see docs/report.md)")))]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Language of the text: en or ko (default from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Replace host names, IP addresses, volume and instance ids, storage ids (WWIDs, IQNs, NQNs, FC
    /// WWNs, serial numbers) with stable pseudonyms and drop secrets, in the text and the evidence
    /// alike, in every output format (see docs/report.md).
    #[arg(long)]
    redact: bool,
    /// The case database to look this incident up in ("seen before"): sqlite:///path/cases.db, a
    /// path, or postgres://user@host/db. Default: $ROOTLINE_DB, else
    /// $XDG_DATA_HOME/rootline/cases.db when it exists (never created here; see docs/cases.md).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// List at most N incidents in full, the worst first (0: every one, and every list whole); the
    /// others are summarised by root cause, with counts of what was left out.
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_incidents: usize,
}

/// An analysis made from evidence, with the engine (and its pack) that made it.
pub struct Analyzed {
    /// The analysis.
    pub analysis: rootline_correlate::Analysis,
    /// The engine, for its pack.
    pub engine: Engine,
}

/// Reads the evidence and analyses it: what `rootline analyze` does before it writes, shared with
/// `rootline cases add|similar PATH...`. `Err(code)` when nothing could be read (the reasons are
/// on stderr).
/// `max_incidents`: list at most that many incidents (0: every one; see `Analysis::limit`).
pub fn analyze_inputs(
    input: &InputArgs,
    rules: &[PathBuf],
    lang: rootline_rules::Lang,
    max_incidents: usize,
) -> anyhow::Result<Result<Analyzed, ExitCode>> {
    let mut opts = input.options()?;
    let pack = super::common::load_pack(rules)?;
    let engine = Engine::new(pack);
    let started = std::time::Instant::now();
    let mut progress = Progress::start(progress::wanted(input.quiet));
    opts.progress = Some(progress.ingest.clone());
    let timeline = rootline_ingest::read(&input.paths, &opts);
    let stats = timeline.stats.clone();
    // With nothing read there is nothing to analyse: "no incident" would tell an operator who
    // pointed at the wrong path that the node is fine.
    if let Some(code) = super::common::nothing_read(&stats, false) {
        return Ok(Err(code));
    }
    let analysis = {
        progress.phase(Phase::Matching, stats.events);
        let mut c = rootline_correlate::Correlator::new(&engine).with_progress(progress.events.clone());
        c.feed_timeline(timeline.into_events());
        if std::env::var_os("ROOTLINE_DEBUG_TIMING").is_some() {
            eprintln!("rootline: read, match and learn: {:.3}s", started.elapsed().as_secs_f64());
        }
        progress.phase(Phase::Correlating, 0);
        c.finish_with(&stats, lang, max_incidents)
    };
    progress.finish();
    Ok(Ok(Analyzed { analysis, engine }))
}

/// Runs `rootline analyze`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = super::common::parse_lang(a.lang.as_deref())?;
    let format = a.output.format(&["text", "json", "md", "html"], true)?;
    // A --db that is no database address is a bad option (exit 2), before any reading; a database
    // that cannot be reached is only a warning later: the analysis matters more.
    if let Some(d) = &a.db {
        if let Err(e) = rootline_store::DbUrl::parse(d) {
            return super::usage(format!("--db: {e}"));
        }
    }
    let Analyzed { mut analysis, engine } = match analyze_inputs(&a.input, &a.rules, lang, a.max_incidents)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    // A redacted output is for sharing: past cases (other hosts, other people's notes) stay out.
    if !a.redact {
        analysis.seen_before = super::cases::seen_before(&analysis, a.db.as_deref(), engine.pack(), lang);
    }
    let body = match format {
        "json" => {
            // Through a JSON value only when redacting: the plain output keeps the schema's field order.
            let mut s = if a.redact {
                let mut doc = rootline_report::analysis_value(&analysis);
                rootline_report::redact::redact(&mut doc);
                serde_json::to_string_pretty(&doc)?
            } else {
                serde_json::to_string_pretty(&analysis)?
            };
            s.push('\n');
            s
        }
        "md" | "html" => {
            let format = rootline_report::Format::parse(format).expect("checked above");
            let opts = rootline_report::Options { format, lang, redact: a.redact };
            rootline_report::render(&analysis, engine.pack(), &opts)?
        }
        _ if a.redact => {
            // The text is rendered from the analysis, then redacted with the pseudonyms its JSON
            // document gets, so the two outputs name every host, address and device alike.
            let text = rootline_correlate::text::render(&analysis, lang);
            let mut doc = rootline_report::analysis_value(&analysis);
            rootline_report::redact::redact_with_text(&mut doc, &text)
        }
        _ => rootline_correlate::text::render(&analysis, lang),
    };
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

//! `rootline fleet DIR...`: what only the failing node showed, against its peers in the same window.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_rules::Engine;

use super::common::{parse_time_arg, parse_tz};
use super::usage;

/// Compare nodes: one directory, archive or bundle per node, or one directory of node folders.
///
/// Every node is read once, in parallel, keeping a summary (signature and template counts, first
/// fault, upgrade phases, versions); all are compared in the same window (the target's incident
/// window, or --since/--until); the target is analysed with its peers' prevalence.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 comparison done, 2 usage or input error.\n\n\
    Example:  rootline fleet examples/fleets/upgrade-wave\n          \
    rootline fleet examples/fleets/upgrade-wave --target s-dcn37-com604-krw1a --json\n          \
    rootline fleet examples/fleets/upgrade-wave --report html -o why-only-37.html")]
pub struct Args {
    /// Node directories, archives or bundles, or one directory of node folders.
    #[arg(required = true, value_name = "DIR")]
    paths: Vec<PathBuf>,
    /// The node to explain (host name or folder name). Default: the most unusual.
    #[arg(long, value_name = "HOST")]
    target: Option<String>,
    /// Compare from this time instead of the target's incident window (RFC 3339, or
    /// `YYYY-MM-DD HH:MM[:SS]` in --tz).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Compare until this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Write JSON (`rootline.fleet/v1`: ranking, contrast, per-node summaries, the target's analysis).
    #[arg(long)]
    json: bool,
    /// Also print the target's full analysis (the chain, and its "why only this node" section).
    #[arg(long)]
    analysis: bool,
    /// Write the target's postmortem instead, with its "Why only this node" section: md or html
    /// (rendered as `rootline report` renders a saved analysis; --lang sets its language).
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["json", "analysis"])]
    report: Option<String>,
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Zone for times written without an offset, in the evidence and in --since/--until.
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Year for lines that carry none.
    #[arg(long, value_name = "YYYY")]
    year: Option<i16>,
    /// Language of the target's analysis: en or ko.
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

/// Runs `rootline fleet`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = super::common::parse_lang(a.lang.as_deref())?;
    let report = match a.report.as_deref().map(|f| (f, rootline_report::Format::parse(f))) {
        None => None,
        Some((_, Some(f))) => Some(f),
        Some((f, None)) => return usage(format!("--report {f}: write md or html")),
    };
    let nodes = match rootline_fleet::discover(&a.paths) {
        Ok(n) => n,
        Err(e) => return usage(e),
    };
    if nodes.len() < 2 {
        return usage(format!(
            "{} node found; give at least two (one directory per node, or a directory of node folders)",
            nodes.len()
        ));
    }
    let mut ingest = rootline_ingest::Options::default();
    let zone = match &a.tz {
        Some(t) => {
            let z = parse_tz(t)?;
            ingest.time.tz = Some(z.clone());
            z
        }
        None => jiff::tz::TimeZone::system(),
    };
    ingest.time.year = a.year;
    // Two nodes are read at a time on two cores: keep each one's in-memory share modest.
    ingest.memory_budget = ingest.memory_budget.min(64 << 20);
    let since = a.since.as_deref().map(|s| parse_time_arg("--since", s, &zone)).transpose()?;
    let until = a.until.as_deref().map(|s| parse_time_arg("--until", s, &zone)).transpose()?;
    let pack = super::common::load_pack(&a.rules)?;
    let engine = Engine::new(pack);
    let opts = rootline_fleet::Options { ingest, target: a.target.clone(), since, until, lang };
    let fleet = match rootline_fleet::compare(&nodes, &engine, &opts) {
        Ok(f) => f,
        Err(e) => return usage(e.0),
    };
    let body = if let Some(format) = report {
        // One way to render: the analysis as its JSON document, read back by the report crate, as
        // `rootline report ANALYSIS.json` does.
        let doc = rootline_report::analysis_value(&fleet.analysis);
        let opts = rootline_report::Options { format, lang, redact: false };
        rootline_report::render_value(doc, engine.pack(), &opts)?
    } else if a.json {
        let mut s = serde_json::to_string_pretty(&fleet)?;
        s.push('\n');
        s
    } else if a.analysis {
        let mut s = rootline_fleet::render::render(&fleet);
        s.push('\n');
        s.push_str(&rootline_correlate::text::render(&fleet.analysis, lang));
        s
    } else {
        rootline_fleet::render::render(&fleet)
    };
    super::common::write_output(a.output.as_deref(), &body)?;
    Ok(ExitCode::SUCCESS)
}

//! `rootline fleet DIR...`: what only the failing node showed, against its peers in the same window.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_rules::Engine;

use super::common::{parse_input_format, parse_time_arg, parse_tz, OutputArgs};
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
    rootline fleet examples/fleets/upgrade-wave --format html -o why-only-37.html")]
#[command(mut_arg("format", |a| a.help("Output format: text (default), json (rootline.fleet/v1: ranking, \
    contrast, per-node summaries, the target's analysis), or the target's postmortem with its \"Why only this \
    node\" section as md or html (rendered as `rootline report` renders a saved analysis; --lang sets its \
    language)")))]
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
    #[command(flatten)]
    output: OutputArgs,
    /// With the text output, also print the target's full analysis (the chain, and its "why only
    /// this node" section).
    #[arg(long)]
    analysis: bool,
    /// The former spelling of `--format md|html`.
    #[arg(long, value_name = "FORMAT", hide = true, conflicts_with = "format")]
    report: Option<String>,
    /// Zone for times written without an offset, in the evidence and in --since/--until.
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Year for lines that carry none.
    #[arg(long, value_name = "YYYY")]
    year: Option<i16>,
    /// Read every file as this input format instead of detecting it: syslog, journal, kernel, klog,
    /// logfmt, cri, oslo, libvirt, k8s-events, jsonlines, snapshot, command-log, generic, plain.
    #[arg(long = "input-format", value_name = "FORMAT")]
    input_format: Option<String>,
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
    let mut output = a.output.clone();
    if a.report.is_some() {
        output.format = a.report.clone();
    }
    let format = output.format(&["text", "json", "md", "html"], true)?;
    if a.analysis && format != "text" {
        return usage(format!("--analysis adds the target's analysis to the text output; with --format {format} it is already there or does not apply"));
    }
    let report = rootline_report::Format::parse(format);
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
    ingest.format = parse_input_format(a.input_format.as_deref())?;
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
    } else if format == "json" {
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
    output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

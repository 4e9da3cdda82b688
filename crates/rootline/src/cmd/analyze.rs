//! `rootline analyze PATH...`: the evidence-linked causal chain and the root cause.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_rules::Engine;

use super::common::InputArgs;
use super::usage;

/// The full analysis: findings, the alias graph, the causal chain, the root cause and its alternatives.
///
/// The input-format option of the other commands is `--input-format` here: `--format` chooses the
/// output, as the product contract says.
#[derive(clap::Args, Debug)]
#[command(mut_arg("format", |a| a.long("input-format")))]
#[command(after_help = "Exit codes: 0 analysis done (any verdict), 2 usage or input error, or nothing could be \
    read (every input skipped, or no files).\n\n\
    Example:  rootline analyze examples/incidents/seed-37\n          \
    rootline analyze examples/incidents/seed-37 --format json -o analysis.json")]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Output format: text (default), json (rootline.analysis/v1), md (Markdown postmortem) or html
    /// (one self-contained HTML postmortem; see docs/report.md).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    output_format: String,
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Language of the text: en or ko (default from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Extra rule directory (adds rules, or replaces built-in rules with the same id).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Replace host names, IP addresses, volume and instance ids with stable pseudonyms and drop
    /// secrets, in the text and the evidence alike (json, md and html).
    #[arg(long)]
    redact: bool,
}

/// Runs `rootline analyze`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = super::common::parse_lang(a.lang.as_deref())?;
    match a.output_format.as_str() {
        "text" if a.redact => return usage("--redact: write --format json, md or html"),
        "text" | "json" | "md" | "html" => {}
        f => return usage(format!("--format {f}: write text, json, md or html")),
    }
    let opts = a.input.options()?;
    let pack = super::common::load_pack(&a.rules)?;
    let engine = Engine::new(pack);
    let started = std::time::Instant::now();
    let timeline = rootline_ingest::read(&a.input.paths, &opts);
    let stats = timeline.stats.clone();
    // With nothing read there is nothing to analyse: "no incident" would tell an operator who
    // pointed at the wrong path that the node is fine.
    if let Some(code) = super::common::nothing_read(&stats, false) {
        return Ok(code);
    }
    let mut c = rootline_correlate::Correlator::new(&engine);
    c.feed_timeline(timeline.into_events());
    if std::env::var_os("ROOTLINE_DEBUG_TIMING").is_some() {
        eprintln!("rootline: read, match and learn: {:.3}s", started.elapsed().as_secs_f64());
    }
    let analysis = c.finish(&stats, lang);
    let body = match a.output_format.as_str() {
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
            let format = rootline_report::Format::parse(&a.output_format).expect("checked above");
            let opts = rootline_report::Options { format, lang, redact: a.redact };
            rootline_report::render(&analysis, engine.pack(), &opts)?
        }
        _ => rootline_correlate::text::render(&analysis, lang),
    };
    super::common::write_output(a.output.as_deref(), &body)?;
    Ok(ExitCode::SUCCESS)
}

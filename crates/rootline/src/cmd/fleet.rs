//! `rootline fleet DIR...`: what only the failing node showed, against its peers in the same window.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_rules::Engine;

use super::common::{parse_input_format, parse_time_arg, parse_tz, OutputArgs};
use super::progress::{Phase, Progress};
use super::usage;

/// Compare nodes: one directory, archive or bundle per node, or one directory of node folders.
///
/// Every node is read once, in parallel, keeping a summary (signature and template counts, first
/// fault, upgrade phases, versions); all are compared in the same window (the target's incident
/// window, or --since/--until); the target is analysed with its peers' prevalence.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 comparison done, 1 done but some agents did not answer (--agents), 2 usage \
    or input error.\n\n\
    Example:  rootline fleet examples/fleets/upgrade-wave\n          \
    rootline fleet --agents agents.txt --token-file token --json\n          \
    rootline fleet examples/fleets/upgrade-wave --target s-dcn37-com604-krw1a --json\n          \
    rootline fleet examples/fleets/upgrade-wave --format html -o why-only-37.html")]
#[command(mut_arg("format", |a| a.help("Output format: text (default), json (rootline.fleet/v1: ranking, \
    contrast, per-node summaries, the target's analysis), or the target's postmortem with its \"Why only this \
    node\" section as md or html (rendered as `rootline report` renders a saved analysis; --lang sets its \
    language)")))]
pub struct Args {
    /// Node directories, archives or bundles, or one directory of node folders.
    #[arg(required_unless_present = "agents", value_name = "DIR")]
    paths: Vec<PathBuf>,
    /// Compare the summaries of running agents instead (`rootline agent`): URLs
    /// (http://HOST:9469), or files listing them one a line. Pulled in parallel, each under
    /// --timeout; unreachable agents are listed, never dropped.
    #[arg(long, value_name = "FILE|URL", num_args = 1.., conflicts_with_all = ["paths", "analysis", "report"])]
    agents: Vec<String>,
    /// With --agents: a file holding the bearer token the agents want.
    #[arg(long, value_name = "FILE", requires = "agents")]
    token_file: Option<PathBuf>,
    /// With --agents: time limit for each agent (connecting, then each read).
    #[arg(long, value_name = "DURATION", default_value = "10s", requires = "agents")]
    timeout: String,
    /// With --agents: agents asked at once.
    #[arg(long, value_name = "N", default_value_t = 32, requires = "agents")]
    parallel: usize,
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
    /// No progress on standard error (shown only on a terminal).
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// Runs `rootline fleet`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = super::common::parse_lang(a.lang.as_deref())?;
    let mut output = a.output.clone();
    if a.report.is_some() {
        output.format = a.report.clone();
    }
    let format = output.format(&["text", "json", "md", "html"], true)?;
    if !a.agents.is_empty() {
        return from_agents(&a, &output, format);
    }
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
    let mut progress = Progress::start(super::progress::wanted(a.quiet));
    progress.phase(Phase::Nodes, nodes.len() as u64);
    ingest.progress = Some(progress.ingest.clone());
    let opts = rootline_fleet::Options {
        ingest,
        target: a.target.clone(),
        since,
        until,
        lang,
        nodes_done: Some(progress.nodes.clone()),
    };
    let fleet = rootline_fleet::compare(&nodes, &engine, &opts);
    progress.finish();
    let fleet = match fleet {
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

/// `fleet --agents`: the nodes' summaries pulled from their agents, ranked and contrasted as the
/// folders are. There is no target analysis: the logs stay on the nodes.
fn from_agents(a: &Args, output: &super::common::OutputArgs, format: &str) -> anyhow::Result<ExitCode> {
    use rootline_agent::pull;
    if format == "md" || format == "html" {
        return usage(format!(
            "--format {format} is the target's postmortem, which needs its logs; with --agents write text or json"
        ));
    }
    let agents = match pull::expand(&a.agents) {
        Ok(v) if v.is_empty() => return usage("--agents: no agent listed"),
        Ok(v) => v,
        Err(e) => return usage(format!("--agents {e}")),
    };
    let token = match &a.token_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t.trim().to_string()),
            Err(e) => return usage(format!("--token-file {}: {e}", p.display())),
        },
        None => None,
    };
    let timeout = super::common::parse_duration_arg("--timeout", &a.timeout)?;
    let zone = match &a.tz {
        Some(t) => parse_tz(t)?,
        None => jiff::tz::TimeZone::system(),
    };
    let mut query = Vec::new();
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            let ns = parse_time_arg(&format!("--{k}"), v, &zone)?;
            query.push(format!("{k}={}", ns.div_euclid(1_000_000_000)));
        }
    }
    let pulled = pull::pull_all(&agents, &query.join("&"), token.as_deref(), timeout, a.parallel);
    let mut summaries = Vec::new();
    let mut unreachable = Vec::new();
    for p in pulled {
        match p.result {
            Ok(s) => summaries.push((p.agent, s)),
            Err(e) => unreachable.push(serde_json::json!({ "agent": p.agent, "error": e })),
        }
    }
    for u in &unreachable {
        eprintln!("rootline fleet: {}: {}", u["agent"].as_str().unwrap_or(""), u["error"].as_str().unwrap_or(""));
    }
    if summaries.is_empty() {
        eprintln!("rootline fleet: no agent answered ({} asked)", agents.len());
        return Ok(ExitCode::from(2));
    }
    let (sources, nodes): (Vec<String>, Vec<rootline_fleet::NodeSummary>) = summaries.into_iter().unzip();
    let ranking = rootline_fleet::contrast::rank(&nodes);
    let target = match &a.target {
        Some(t) => match nodes.iter().position(|n| n.host.as_deref() == Some(t) || n.name == *t) {
            Some(i) => i,
            None => {
                let known: Vec<String> = nodes.iter().map(|n| n.label()).collect();
                return usage(format!(
                    "--target {t}: no such node among the agents that answered: {}",
                    known.join(", ")
                ));
            }
        },
        None => ranking[0].index,
    };
    let contrast = rootline_fleet::contrast::contrast(&nodes, target, 0);
    let window = rootline_correlate::peers::WindowNote {
        since: a.since.clone(),
        until: a.until.clone(),
        how: if query.is_empty() {
            "each agent's whole log window".into()
        } else {
            "--since/--until, applied by each agent".into()
        },
    };
    let body = if format == "json" {
        let doc = serde_json::json!({
            "schema": "rootline.fleet-agents/v1",
            "agents": agents.len(),
            "nodes": nodes.len(),
            "unreachable": unreachable,
            "window": window,
            "target": nodes[target].label(),
            "ranking": ranking,
            "contrast": contrast,
            "summaries": nodes,
            "sources": sources,
        });
        let mut s = serde_json::to_string_pretty(&doc)?;
        s.push('\n');
        s
    } else {
        let mut s = rootline_fleet::render::comparison(&window, &nodes[target].label(), &ranking, &nodes, &contrast);
        if !unreachable.is_empty() {
            s.push_str(&format!("\nAgents that did not answer ({} of {}):\n", unreachable.len(), agents.len()));
            for u in &unreachable {
                s.push_str(&format!(
                    "  {}: {}\n",
                    u["agent"].as_str().unwrap_or(""),
                    u["error"].as_str().unwrap_or("")
                ));
            }
        }
        s
    };
    output.write(&body)?;
    Ok(ExitCode::from(if unreachable.is_empty() { 0 } else { 1 }))
}

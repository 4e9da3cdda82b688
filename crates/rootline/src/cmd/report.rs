//! `rootline report ANALYSIS.json`: a saved analysis rendered as a Markdown or HTML postmortem.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rootline_report::{Format, Options};
use rootline_rules::{Lang, Pack};

use super::usage;

/// Render a saved analysis (`rootline analyze --format json`) as a postmortem.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 written, 2 usage or input error (not an analysis, unreadable file).\n\n\
    Example:  rootline analyze examples/incidents/seed-37 --format json -o analysis.json\n          \
    rootline report analysis.json --format html --lang ko -o postmortem.html")]
pub struct Args {
    /// The analysis (rootline.analysis/v1 JSON); `-` reads standard input.
    #[arg(value_name = "ANALYSIS.json")]
    input: PathBuf,
    /// Output format: md (default) or html (one self-contained file).
    #[arg(long, value_name = "FORMAT", default_value = "md")]
    format: String,
    /// Language of the text: en or ko (default from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace host names, IP addresses, volume and instance ids with stable pseudonyms and drop
    /// secrets, in the text and the evidence alike.
    #[arg(long)]
    redact: bool,
    /// Extra rule directory, for the titles and advice of rules that are not built in.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

/// Runs `rootline report`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = match a.lang.as_deref() {
        None => Lang::from_env(),
        Some(s) => match Lang::parse(s) {
            Some(l) => l,
            None => return usage(format!("--lang {s}: write en or ko")),
        },
    };
    let Some(format) = Format::parse(&a.format) else {
        return usage(format!("--format {}: write md or html", a.format));
    };
    let json = if a.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(&a.input).map_err(|e| super::UsageError(format!("{}: {e}", a.input.display())))?
    };
    let pack = if a.rules.is_empty() {
        Pack::builtin().map_err(|e| anyhow::anyhow!("built-in rule pack: {e}"))?
    } else {
        let dirs: Vec<&std::path::Path> = a.rules.iter().map(|p| p.as_path()).collect();
        Pack::load(&dirs).map_err(|e| super::UsageError(format!("{e}")))?
    };
    let opts = Options { format, lang, redact: a.redact };
    let body = rootline_report::render_json(&json, &pack, &opts)
        .map_err(|e| super::UsageError(format!("{}: {e}", a.input.display())))?;
    match &a.output {
        Some(p) => std::fs::write(p, body).map_err(|e| super::UsageError(format!("{}: {e}", p.display())))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

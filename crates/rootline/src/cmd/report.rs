//! `rootline report ANALYSIS.json`: a saved analysis rendered as a Markdown or HTML postmortem.

use std::path::PathBuf;
use std::process::ExitCode;

use rootline_report::{Format, Options};

use super::common::OutputArgs;

/// Render a saved analysis (`rootline analyze --format json`) as a postmortem.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: 0 written, 2 usage or input error (not an analysis, unreadable file).\n\n\
    Example:  rootline analyze examples/incidents/seed-37 --format json -o analysis.json\n          \
    rootline report analysis.json --format html --lang ko -o postmortem.html")]
#[command(mut_arg("format", |a| a.help("Output format: md (default, Markdown) or html (one self-contained file)")))]
#[command(mut_arg("json", |a| a.hide(true)))]
pub struct Args {
    /// The analysis (rootline.analysis/v1 JSON); `-` reads standard input.
    #[arg(value_name = "ANALYSIS.json")]
    input: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
    /// Language of the text: en or ko (default from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Replace host names, IP addresses, volume and instance ids, storage ids (WWIDs, IQNs, NQNs, FC
    /// WWNs, serial numbers) with stable pseudonyms and drop secrets, in the text and the evidence
    /// alike (see docs/report.md).
    #[arg(long)]
    redact: bool,
    /// Extra rule directory, for the titles and advice of rules that are not built in.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

/// Runs `rootline report`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let lang = super::common::parse_lang(a.lang.as_deref())?;
    let format = Format::parse(a.output.format(&["md", "html"], false)?).expect("md or html");
    let json = if a.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(&a.input).map_err(|e| super::UsageError(format!("{}: {e}", a.input.display())))?
    };
    let pack = super::common::load_pack(&a.rules)?;
    let opts = Options { format, lang, redact: a.redact };
    let body = rootline_report::render_json(&json, &pack, &opts)
        .map_err(|e| super::UsageError(format!("{}: {e}", a.input.display())))?;
    a.output.write(&body)?;
    Ok(ExitCode::SUCCESS)
}

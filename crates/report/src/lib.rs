//! The postmortem: an analysis (`rootline.analysis/v1`) rendered as Markdown or as one self-contained
//! HTML file, in English or Korean.
//!
//! This crate owns how an analysis reads to people: the sections of an operator's postmortem (장애 보고서), every claim
//! linked to the evidence lines that prove it, hypotheses labelled, the timeline and the causal chain
//! drawn as inline SVG, and `--redact`. It does not find anything: the findings, the chain and the
//! root cause come from `rootline-correlate`, rule titles and advice from `rootline-rules`.
//!
//! The stages, one file each: [`model`] (the analysis read back from JSON; an in-memory analysis goes
//! through the same JSON) -> [`redact`] (optional, on the whole document) -> [`evidence`] (every cited
//! line numbered once) -> [`sections`] (the content model, with the fixed strings of [`catalog`]) ->
//! [`markdown`] or [`html`] (+ [`svg`]).
//!
//! ```
//! use rootline_report::{Format, Options};
//! use rootline_rules::{Lang, Pack};
//! let json = r#"{"schema":"rootline.analysis/v1","hosts":["node1"],"findings":[],"incidents":[],
//!                "verdict":"no_incident"}"#;
//! let pack = Pack::builtin().unwrap();
//! let md = rootline_report::render_json(json, &pack, &Options { format: Format::Markdown, lang: Lang::En, redact: true })
//!     .unwrap();
//! assert!(md.contains("no incident") && !md.contains("node1"));
//! ```

pub mod catalog;
pub mod clock;
pub mod evidence;
pub mod html;
pub mod markdown;
pub mod model;
pub mod redact;
pub mod rich;
pub mod sections;
pub mod svg;

use rootline_rules::{Lang, Pack};
use serde_json::Value;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML file.
    Html,
}

impl Format {
    /// Parses `md` or `html`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "md" | "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Markdown or HTML.
    pub format: Format,
    /// Language of the text.
    pub lang: Lang,
    /// Replace host names, addresses, volume and instance ids with pseudonyms; drop secrets.
    pub redact: bool,
}

/// What can go wrong reading an analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON, or not shaped like an analysis.
    #[error("this is not a rootline analysis (rootline.analysis/v1): {0}")]
    NotAnAnalysis(#[from] serde_json::Error),
    /// Another schema.
    #[error("schema {0:?} is not rootline.analysis/v1; write it with `rootline analyze --format json`")]
    Schema(String),
}

/// The analysis as a JSON document (the form the report reads).
pub fn analysis_value(a: &rootline_correlate::Analysis) -> Value {
    serde_json::to_value(a).expect("an analysis always serialises")
}

/// Renders an analysis document (already parsed JSON).
pub fn render_value(mut doc: Value, pack: &Pack, opts: &Options) -> Result<String, Error> {
    let schema = doc.get("schema").and_then(Value::as_str).unwrap_or("").to_string();
    if schema != rootline_correlate::SCHEMA {
        return Err(Error::Schema(schema));
    }
    if opts.redact {
        redact::redact(&mut doc);
    }
    let a: model::Analysis = serde_json::from_value(doc)?;
    let report = sections::build(&a, pack, opts.lang);
    Ok(match opts.format {
        Format::Markdown => markdown::render(&report),
        Format::Html => html::render(&report),
    })
}

/// Renders an analysis from its JSON text (`rootline report ANALYSIS.json`).
pub fn render_json(json: &str, pack: &Pack, opts: &Options) -> Result<String, Error> {
    render_value(serde_json::from_str(json)?, pack, opts)
}

/// Renders an analysis made in this process (`rootline analyze --format md|html`).
pub fn render(a: &rootline_correlate::Analysis, pack: &Pack, opts: &Options) -> Result<String, Error> {
    render_value(analysis_value(a), pack, opts)
}

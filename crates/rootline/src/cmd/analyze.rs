//! `rootline analyze PATH...`: the evidence-linked causal chain and the root cause.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use rootline_rules::Engine;

use super::common::InputArgs;
use super::usage;

/// The full analysis: findings, the alias graph, the causal chain, the root cause and its alternatives.
///
/// The input-format option of the other commands is `--input-format` here: `--format` chooses the
/// output, as the product contract says.
#[derive(clap::Args, Debug)]
#[command(mut_arg("format", |a| a.long("input-format")))]
#[command(after_help = "Exit codes: 0 analysis done (any verdict), 2 usage or input error.\n\n\
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

/// Events per message from the scanning thread to the correlating one.
const BATCH: usize = 2048;

/// What the scanning thread hands the correlating one, in timeline order: what template mining
/// reads of every event, and the events the rest needs.
#[derive(Default)]
struct Batch {
    items: Vec<Scanned>,
    lines: Vec<LineRec>,
    /// The headlines, back to back (`LineRec::end`).
    text: Vec<u8>,
    /// (host, path) pairs of `lines`.
    sources: Vec<(Option<Arc<str>>, Arc<str>)>,
}

struct LineRec {
    source: u32,
    time: Option<rootline_event::Timestamp>,
    severity: Option<rootline_event::Severity>,
    line: u64,
    end: u32,
    matched: bool,
}

impl Batch {
    fn line(&mut self, ev: &rootline_event::EventRef<'_>, matched: bool) {
        // Consecutive events often share their source: compare the last pair's pointers first.
        let same = self.sources.last().is_some_and(|(h, p)| {
            Arc::ptr_eq(p, ev.path)
                && match (h, ev.host) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                }
        });
        if !same {
            self.sources.push((ev.host.cloned(), ev.path.clone()));
        }
        self.text.extend_from_slice(ev.headline());
        self.lines.push(LineRec {
            source: (self.sources.len() - 1) as u32,
            time: ev.time,
            severity: ev.severity,
            line: ev.line,
            end: self.text.len() as u32,
            matched,
        });
    }

    fn full(&self) -> bool {
        self.lines.len() >= BATCH || self.text.len() >= 1 << 20
    }
}

/// An event the correlating thread needs, or a run of events it need not see.
enum Scanned {
    /// An event a rule hit or the alias learner wants (the flag), with its hits.
    Kept(rootline_event::Event, Vec<rootline_rules::Hit>, bool),
    /// That many events neither wanted, and the time of the last of them that had one.
    Skipped(u64, Option<rootline_event::Timestamp>),
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
    let mut c = rootline_correlate::Correlator::new(&engine);
    // Two stages on two threads. The scanning thread: merging, rule scanning and the alias learner's
    // gate, pure and per event, on the borrowed events of the merge. This thread: template mining on
    // a copy of each headline, and the order-dependent rest (finding windows, aliases), fed an owned
    // event only for the few events a rule hit or the learner wants, and a count for the runs of
    // events between them.
    let mut events = timeline.into_events();
    let mut novelty = rootline_correlate::novelty::Novelty::default();
    let scanned = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
        let engine = &engine;
        let scanner = s.spawn(move || {
            let mut scratch = rootline_rules::Scratch::default();
            let gate = rootline_correlate::alias::Gate::new();
            let mut batch = Batch::default();
            let mut hits = Vec::new();
            let (mut skipped, mut last_time) = (0u64, None);
            while let Some(ev) = events.next_ref() {
                engine.scan_ref(&ev, &mut scratch, &mut hits);
                batch.line(&ev, !hits.is_empty());
                let learn = gate.wants(&ev);
                if hits.is_empty() && !learn {
                    skipped += 1;
                    if ev.time.is_some() {
                        last_time = ev.time;
                    }
                } else {
                    if skipped > 0 {
                        batch.items.push(Scanned::Skipped(skipped, last_time.take()));
                        skipped = 0;
                    }
                    batch.items.push(Scanned::Kept(ev.to_event(), std::mem::take(&mut hits), learn));
                }
                if batch.full() {
                    if skipped > 0 {
                        batch.items.push(Scanned::Skipped(skipped, last_time.take()));
                        skipped = 0;
                    }
                    if tx.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                }
            }
            if skipped > 0 {
                batch.items.push(Scanned::Skipped(skipped, last_time));
            }
            let _ = tx.send(batch);
        });
        for batch in rx {
            for (i, l) in batch.lines.iter().enumerate() {
                let (host, path) = &batch.sources[l.source as usize];
                let start = if i == 0 { 0 } else { batch.lines[i - 1].end as usize };
                let line = rootline_correlate::novelty::Line {
                    host: host.as_ref(),
                    time: l.time,
                    severity: l.severity,
                    path,
                    line: l.line,
                    headline: &batch.text[start..l.end as usize],
                };
                novelty.feed_line(&line, l.matched);
            }
            for item in &batch.items {
                match item {
                    Scanned::Kept(ev, hits, learn) => c.feed_kept(ev, hits, *learn),
                    Scanned::Skipped(n, last_time) => c.feed_skipped(*n, *last_time),
                }
            }
        }
        scanner.join()
    });
    if let Err(p) = scanned {
        std::panic::resume_unwind(p);
    }
    c.note_hosts(novelty.hosts());
    c.set_novelty(novelty);
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

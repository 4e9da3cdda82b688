//! Reading every source an operator has into one correctly ordered stream of [`Event`]s.
//!
//! This crate owns the way in: inputs ([`source`]: files, directories, stdin, `.gz`/`.zst`/`.xz`/`.bz2`,
//! tar archives at any nesting, all streamed, nothing extracted), format detection and parsing
//! ([`formats`]), time ([`time`]: years, zones, boot anchors, skew), and the stable merge by time
//! ([`merge`]). It does not know what a failure looks like (that is `rootline-rules`) and prints
//! nothing (the binary does).
//!
//! ```no_run
//! use rootline_ingest::{read, Options};
//! let timeline = read(&["examples/incidents/seed-37".into()], &Options::default());
//! eprintln!("{} events from {} files", timeline.stats.events, timeline.stats.files);
//! let mut events = timeline.into_events();
//! // Borrowed, straight from the merge's blocks (no owned event per line):
//! while let Some(ev) = events.next_ref() {
//!     println!("{:?} {}", ev.time, String::from_utf8_lossy(ev.message));
//! }
//! // Or owned, as an iterator: `for ev in timeline.into_events() { ... }`.
//! ```

pub mod formats;
pub mod merge;
pub mod query;
pub mod source;
pub mod stats;
pub mod time;

mod run;
mod spill;

use std::path::PathBuf;

pub use merge::Merged;
pub use query::Query;
pub use rootline_event::{Event, Format};
pub use source::Skipped;
pub use stats::{Stats, Zone};
pub use time::resolve::{ResolveOpts, SourceStats};

use rayon::prelude::*;

/// How to read the inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Force one format for every file instead of detecting it.
    pub format: Option<Format>,
    /// Time settings (`--tz`, `--year`, `--boot-time`, `--assume-host`).
    pub time: ResolveOpts,
    /// Lines longer than this many bytes are cut (with a warning).
    pub max_line: usize,
    /// Decompressed bytes read from one file or member before it is cut.
    pub max_member_bytes: u64,
    /// Deepest nesting of archives and compression layers followed.
    pub max_depth: usize,
    /// "Now" for relative ages in Kubernetes event tables (`--now`), seconds since the epoch.
    pub now: Option<i64>,
    /// Field mapping for JSON records: (rootline field, dotted JSON path), e.g. ("host", "kubernetes.host").
    pub json_fields: Vec<(String, String)>,
    /// Bytes of parsed events kept in memory across all sources while reading (about; 0 sends every
    /// source's events to temporary files). The rest waits on disk until the merge reads it back.
    pub memory_budget: usize,
    /// Counters [`read`] advances as it goes, for a caller that shows progress from another thread.
    pub progress: Option<std::sync::Arc<Progress>>,
}

/// How far reading has got: input files and their bytes (as stored: a compressed file counts its
/// compressed bytes) read so far, of the totals known once the inputs are listed. Every call of
/// [`read`] given these counters adds its totals, so one set can follow several reads at once (the
/// nodes of a fleet). Standard input and FIFOs have no size: they add a file but no bytes to the
/// total.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input files listed.
    pub files_total: std::sync::atomic::AtomicU64,
    /// Input files read to their end.
    pub files_done: std::sync::atomic::AtomicU64,
    /// Bytes of the listed files.
    pub bytes_total: std::sync::atomic::AtomicU64,
    /// Bytes read from them so far.
    pub bytes_done: std::sync::atomic::AtomicU64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            time: ResolveOpts { now: now_secs(), ..ResolveOpts::default() },
            max_line: 1 << 20,
            max_member_bytes: 64 << 30,
            max_depth: 6,
            now: None,
            json_fields: Vec::new(),
            memory_budget: std::env::var("ROOTLINE_MEMORY_BUDGET")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(spill::DEFAULT_BUDGET),
            progress: None,
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Everything read from the inputs, times resolved, ready to merge.
pub struct Timeline {
    runs: Vec<run::Run>,
    plans: Vec<time::resolve::Plan>,
    /// What was read, skipped and unparsed.
    pub stats: Stats,
}

impl Timeline {
    /// The events of every source merged by time; equal times keep input order. Iterate it for
    /// owned [`Event`]s, or call [`Merged::next_ref`] to borrow each in turn.
    pub fn into_events(self) -> Merged {
        Merged::new(self.runs, self.plans)
    }
}

/// What reading one input unit produced.
#[derive(Default)]
struct UnitResult {
    index: usize,
    runs: Vec<run::Run>,
    skipped: Vec<Skipped>,
    metadata: Vec<Skipped>,
    warnings: Vec<Skipped>,
    facts: Vec<run::Fact>,
}

/// Reads `paths` (files, directories, archives, `-` for stdin), resolves times and returns the
/// timeline. Unreadable or binary inputs are listed in `stats.skipped`; nothing aborts the run.
pub fn read(paths: &[PathBuf], opts: &Options) -> Timeline {
    let mut skipped = Vec::new();
    let units = source::enumerate(paths, &mut skipped);
    let progress = opts.progress.as_deref();
    if let Some(p) = progress {
        use std::sync::atomic::Ordering::Relaxed;
        p.files_total.fetch_add(units.len() as u64, Relaxed);
        p.bytes_total.fetch_add(units.iter().filter_map(|u| u.size).sum(), Relaxed);
    }
    let limits = source::Limits { max_depth: opts.max_depth, max_member_bytes: opts.max_member_bytes };
    let json_fields = std::sync::Arc::new(opts.json_fields.clone());
    let budget = spill::Budget::new(opts.memory_budget);
    let cfg = run::ReadCfg {
        format: opts.format,
        max_line: opts.max_line,
        now: opts.now,
        json_fields: &json_fields,
        budget: &budget,
    };
    // Each unit's results are kept with its index and joined in input order, so what rootline reports
    // (runs, skipped files, warnings, bundle facts) never depends on which thread finished first.
    let mut per_unit: Vec<UnitResult> = units
        .par_iter()
        .enumerate()
        .map(|(ui, unit)| {
            let mut r = UnitResult { index: ui, ..UnitResult::default() };
            let mut visit = |m: source::Member<'_>| match run::read_member(m, unit.bundle, cfg, &mut r.warnings) {
                run::Outcome::Run(run) => {
                    let lines = run.lines;
                    r.runs.push(*run);
                    lines
                }
                run::Outcome::Fact(f, note) => {
                    r.facts.push(f);
                    r.metadata.push(note);
                    0
                }
                run::Outcome::Skipped(s) => {
                    r.skipped.push(s);
                    0
                }
            };
            let (mut sk, mut wa) = (Vec::new(), Vec::new());
            source::read_unit(unit, limits, progress.map(|p| &p.bytes_done), &mut visit, &mut sk, &mut wa);
            if let Some(p) = progress {
                p.files_done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            r.skipped.extend(sk);
            r.warnings.extend(wa);
            r
        })
        .collect();
    per_unit.sort_by_key(|r| r.index);
    let (mut runs, mut metadata, mut warnings, mut facts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in per_unit {
        runs.extend(r.runs);
        skipped.extend(r.skipped);
        metadata.extend(r.metadata);
        warnings.extend(r.warnings);
        facts.extend(r.facts);
    }
    let cut_lines = runs.iter().map(|r| r.cut_lines).sum();
    let (plans, sources) = time::resolve::plan(&runs, &facts, &opts.time);
    let zone = time::resolve::display_zone(&facts, &opts.time);
    let mut stats = Stats::new(sources, skipped, metadata, warnings, zone);
    stats.cut_lines = cut_lines;
    stats.max_line = opts.max_line as u64;
    Timeline { runs, plans, stats }
}

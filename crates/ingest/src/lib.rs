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
//! for ev in timeline.into_events() {
//!     println!("{:?} {}", ev.time, ev.message_str());
//! }
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
use std::sync::Mutex;

pub use merge::Merged;
pub use query::Query;
pub use rootline_event::{Event, Format};
pub use source::Skipped;
pub use stats::Stats;
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
    /// The events of every source merged by time; equal times keep input order.
    pub fn into_events(self) -> Merged {
        Merged::new(self.runs, self.plans)
    }
}

/// Reads `paths` (files, directories, archives, `-` for stdin), resolves times and returns the
/// timeline. Unreadable or binary inputs are listed in `stats.skipped`; nothing aborts the run.
pub fn read(paths: &[PathBuf], opts: &Options) -> Timeline {
    let mut skipped = Vec::new();
    let units = source::enumerate(paths, &mut skipped);
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
    let shared = Mutex::new((skipped, Vec::<Skipped>::new(), Vec::<run::Fact>::new()));
    let mut runs: Vec<(usize, Vec<run::Run>)> = units
        .par_iter()
        .enumerate()
        .map(|(ui, unit)| {
            let (mut sk, mut wa, mut facts, mut out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut visit = |m: source::Member<'_>| match run::read_member(m, unit.bundle, cfg, &mut wa) {
                run::Outcome::Run(r) => out.push(*r),
                run::Outcome::Fact(f, note) => {
                    facts.push(f);
                    sk.push(note);
                }
                run::Outcome::Skipped(s) => sk.push(s),
            };
            let (mut sk2, mut wa2) = (Vec::new(), Vec::new());
            source::read_unit(unit, limits, &mut visit, &mut sk2, &mut wa2);
            sk.extend(sk2);
            wa.extend(wa2);
            let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
            g.0.extend(sk);
            g.1.extend(wa);
            g.2.extend(facts);
            (ui, out)
        })
        .collect();
    runs.sort_by_key(|(ui, _)| *ui);
    let runs: Vec<run::Run> = runs.into_iter().flat_map(|(_, r)| r).collect();
    let (skipped, warnings, facts) = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let (plans, sources) = time::resolve::plan(&runs, &facts, &opts.time);
    let stats = Stats::new(sources, skipped, warnings);
    Timeline { runs, plans, stats }
}

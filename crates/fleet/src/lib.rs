//! The fleet comparison: what did the failing node log that its peers, going through the same change
//! in the same hours, did not?
//!
//! One concept per file: [`discover`] (which inputs are which nodes) -> [`node`] (one streaming pass
//! per node, in parallel, keeping only a summary: signature counts, template counts by stable hash,
//! first fault, upgrade phases, versions) -> [`window`] (every node is compared in the same window:
//! the target's incident window, or `--since/--until`) -> [`contrast`] (what only the target showed,
//! what all nodes share, nodes ranked by how unusual they are) -> the target's analysis, ranked with
//! the peers' prevalence (`rootline_correlate::peers`) -> [`render`] (the terminal text).
//!
//! Memory: a node's events are never kept; each node leaves a summary whose size depends on its
//! distinct templates and findings, not on its bytes. Nodes are read in parallel (rayon).

pub mod contrast;
pub mod discover;
pub mod node;
pub mod render;
pub mod window;

use rayon::prelude::*;
use rootline_correlate::peers::{Peers, WindowNote};
use rootline_correlate::Analysis;
use rootline_rules::{Engine, Lang};
use serde::Serialize;

pub use contrast::{Contrast, RankedNode};
pub use discover::{discover, NodeInput};
pub use node::{NodeSummary, Scan};
pub use window::Window;

/// Schema name of the JSON document.
pub const SCHEMA: &str = "rootline.fleet/v1";

/// What to compare.
#[derive(Clone)]
pub struct Options {
    /// Reading options, applied to every node.
    pub ingest: rootline_ingest::Options,
    /// The node to explain (host name or node folder name); default: the most unusual.
    pub target: Option<String>,
    /// Window start (unix nanoseconds); with `until`, replaces the target's incident window.
    pub since: Option<i64>,
    /// Window end (unix nanoseconds).
    pub until: Option<i64>,
    /// Language of the target's analysis.
    pub lang: Lang,
    /// Counts the nodes scanned as they are done, for a caller that shows progress.
    pub nodes_done: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// The comparison's result.
#[derive(Debug, Serialize)]
pub struct Fleet {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Nodes compared.
    pub nodes: usize,
    /// The window every node was compared in.
    pub window: WindowNote,
    /// The node explained.
    pub target: String,
    /// Nodes, most unusual first.
    pub ranking: Vec<RankedNode>,
    /// Signatures, templates and other differences of the target against its peers.
    pub contrast: Contrast,
    /// One summary per node, in input order.
    pub summaries: Vec<NodeSummary>,
    /// The target's analysis, ranked with the peers' prevalence (with `why_only_this_node`).
    pub analysis: Analysis,
}

/// A mistake in the arguments (unknown target, no nodes).
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Compares `nodes`: one parallel pass over every node, then the target's analysis.
pub fn compare(nodes: &[NodeInput], engine: &Engine, opts: &Options) -> Result<Fleet, Error> {
    if nodes.is_empty() {
        return Err(Error("no nodes to compare".into()));
    }
    let timing = std::env::var_os("ROOTLINE_DEBUG_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let scans: Vec<Scan> = nodes
        .par_iter()
        .map(|n| {
            let s = node::scan(n, engine, &opts.ingest);
            if let Some(d) = &opts.nodes_done {
                d.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            s
        })
        .collect();
    if timing {
        eprintln!("rootline: fleet scan of {} nodes: {:.3}s", scans.len(), t0.elapsed().as_secs_f64());
    }
    let find = |name: &str| scans.iter().position(|s| s.host.as_deref() == Some(name) || s.name == name);
    let mut target = match &opts.target {
        Some(t) => Some(find(t).ok_or_else(|| {
            let known: Vec<String> = scans.iter().map(|s| s.label()).collect();
            Error(format!("--target {t}: no such node; nodes: {}", known.join(", ")))
        })?),
        None => None,
    };
    let window = if opts.since.is_some() || opts.until.is_some() {
        Window::given(opts.since, opts.until)
    } else {
        let t = match target {
            Some(t) => t,
            None => {
                let all: Vec<NodeSummary> = scans.iter().map(|s| s.summarize(&Window::all())).collect();
                contrast::rank(&all)[0].index
            }
        };
        target = Some(t);
        let first = analyse(&nodes[t], engine, opts, None);
        Window::of_incident(&first, &scans[t]).unwrap_or_else(Window::all)
    };
    let summaries: Vec<NodeSummary> = scans.iter().map(|s| s.summarize(&window)).collect();
    drop(scans);
    let ranking = contrast::rank(&summaries);
    let target = target.unwrap_or(ranking[0].index);
    let contrast = contrast::contrast(&summaries, target, window.offset);
    let note = window.note();
    let peers = Peers {
        peers: summaries.len() - 1,
        with_signature: contrast.peer_prevalence.clone(),
        why: Some(contrast.why_only(&summaries[target], note.clone())),
    };
    let analysis = analyse(&nodes[target], engine, opts, Some(peers));
    if timing {
        eprintln!("rootline: fleet total: {:.3}s", t0.elapsed().as_secs_f64());
    }
    Ok(Fleet {
        schema: SCHEMA,
        nodes: summaries.len(),
        window: note,
        target: summaries[target].label(),
        ranking,
        contrast,
        summaries,
        analysis,
    })
}

/// The full analysis of one node (a second read of that node only), with or without peers.
fn analyse(n: &NodeInput, engine: &Engine, opts: &Options, peers: Option<Peers>) -> Analysis {
    let timeline = rootline_ingest::read(&n.paths, &opts.ingest);
    let stats = timeline.stats.clone();
    let mut c = rootline_correlate::Correlator::new(engine);
    if let Some(p) = peers {
        c = c.with_peers(p);
    }
    c.feed_timeline(timeline.into_events());
    c.finish(&stats, opts.lang)
}

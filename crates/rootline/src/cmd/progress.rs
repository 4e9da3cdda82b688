//! Where a long run is: one line on standard error, redrawn in place, while `analyze`, `timeline
//! --stats`, `templates` and `fleet` read and work (bytes and files read of the total, the phase,
//! events matched, nodes scanned). Only on a terminal and without `--quiet`: a pipe, a file or a CI
//! log never gets it, and the line is cleared before anything is written.
//!
//! The libraries only advance counters ([`rootline_ingest::Progress`], an events counter for
//! [`rootline_correlate::Correlator::with_progress`], a nodes counter for fleet); a thread here
//! reads them ten times a second and draws with `indicatif`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Reading and parsing the inputs.
    Reading = 0,
    /// Merging the events by time and matching the rules (`analyze`, `fleet`).
    Matching = 1,
    /// Mining templates (`templates`).
    Mining = 2,
    /// Linking findings, ranking causes.
    Correlating = 3,
    /// Scanning the nodes of a fleet.
    Nodes = 4,
    /// Analysing the fleet's target node.
    Target = 5,
}

impl Phase {
    fn from(v: u8) -> Phase {
        match v {
            1 => Phase::Matching,
            2 => Phase::Mining,
            3 => Phase::Correlating,
            4 => Phase::Nodes,
            5 => Phase::Target,
            _ => Phase::Reading,
        }
    }
}

/// The counters a run advances and what draws them.
pub struct Progress {
    /// Files and bytes read (given to [`rootline_ingest::Options::progress`]).
    pub ingest: Arc<rootline_ingest::Progress>,
    /// Events matched or mined so far.
    pub events: Arc<AtomicU64>,
    /// Nodes scanned (fleet).
    pub nodes: Arc<AtomicU64>,
    events_total: Arc<AtomicU64>,
    nodes_total: Arc<AtomicU64>,
    phase: Arc<AtomicU8>,
    drawing: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>, ProgressBar)>,
}

/// True when progress should be drawn: standard error is a terminal and `--quiet` was not given.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

impl Progress {
    /// Counters, drawn on standard error when `show` ([`wanted`]).
    pub fn start(show: bool) -> Progress {
        let mut p = Progress {
            ingest: Arc::default(),
            events: Arc::default(),
            nodes: Arc::default(),
            events_total: Arc::default(),
            nodes_total: Arc::default(),
            phase: Arc::default(),
            drawing: None,
        };
        if show {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(10));
            let style = ProgressStyle::with_template("{spinner} {elapsed:>3} [{bar:24}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            let stop = Arc::new(AtomicBool::new(false));
            let (b, s) = (bar.clone(), stop.clone());
            let (ingest, events, nodes) = (p.ingest.clone(), p.events.clone(), p.nodes.clone());
            let (events_total, nodes_total, phase) = (p.events_total.clone(), p.nodes_total.clone(), p.phase.clone());
            let handle = std::thread::spawn(move || {
                while !s.load(Relaxed) {
                    let (done, total, msg) = line(
                        Phase::from(phase.load(Relaxed)),
                        &ingest,
                        events.load(Relaxed),
                        events_total.load(Relaxed),
                        nodes.load(Relaxed),
                        nodes_total.load(Relaxed),
                    );
                    b.set_length(total);
                    b.set_position(done.min(total));
                    b.set_message(msg);
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            p.drawing = Some((stop, handle, bar));
        }
        p
    }

    /// Enters `phase`; `total` is how many events (or nodes) it works through, when known.
    pub fn phase(&self, phase: Phase, total: u64) {
        match phase {
            Phase::Nodes => self.nodes_total.store(total, Relaxed),
            _ => self.events_total.store(total, Relaxed),
        }
        self.events.store(0, Relaxed);
        self.phase.store(phase as u8, Relaxed);
    }

    /// Clears the line (also on drop): call before writing the output.
    pub fn finish(&mut self) {
        if let Some((stop, handle, bar)) = self.drawing.take() {
            stop.store(true, Relaxed);
            let _ = handle.join();
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The bar's position, its length and its message for one moment of `phase`.
fn line(
    phase: Phase,
    ingest: &rootline_ingest::Progress,
    events: u64,
    events_total: u64,
    nodes: u64,
    nodes_total: u64,
) -> (u64, u64, String) {
    let files = || {
        format!(
            "{}/{} files, {} of {}",
            ingest.files_done.load(Relaxed),
            ingest.files_total.load(Relaxed),
            HumanBytes(ingest.bytes_done.load(Relaxed)),
            HumanBytes(ingest.bytes_total.load(Relaxed))
        )
    };
    let bytes = || (ingest.bytes_done.load(Relaxed), ingest.bytes_total.load(Relaxed).max(1));
    match phase {
        Phase::Reading => {
            let (d, t) = bytes();
            (d, t, format!("reading: {}", files()))
        }
        Phase::Matching | Phase::Mining => {
            let what = if phase == Phase::Mining { "mining templates" } else { "merging and matching" };
            (
                events,
                events_total.max(1),
                format!("{what}: {} of {} events", thousands(events), thousands(events_total)),
            )
        }
        Phase::Correlating => (1, 1, "correlating: links, incidents, root causes".into()),
        Phase::Nodes if nodes < nodes_total => {
            let (d, t) = bytes();
            (d, t, format!("scanning nodes: {nodes}/{nodes_total} done, {}", files()))
        }
        // Every node scanned: the target is read again and analysed.
        Phase::Nodes | Phase::Target => {
            let (d, t) = bytes();
            (d, t, format!("analysing the target node: {}", files()))
        }
    }
}

fn thousands(n: u64) -> String {
    rootline_event::thousands(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_the_phase_and_how_far() {
        let p = rootline_ingest::Progress::default();
        p.files_total.store(10, Relaxed);
        p.files_done.store(3, Relaxed);
        p.bytes_total.store(263 << 20, Relaxed);
        p.bytes_done.store(100 << 20, Relaxed);
        let (d, t, m) = line(Phase::Reading, &p, 0, 0, 0, 0);
        assert_eq!((d, t), (100 << 20, 263 << 20));
        assert_eq!(m, "reading: 3/10 files, 100.00 MiB of 263.00 MiB");
        let (d, t, m) = line(Phase::Matching, &p, 1_200_000, 1_572_732, 0, 0);
        assert_eq!((d, t), (1_200_000, 1_572_732));
        assert_eq!(m, "merging and matching: 1,200,000 of 1,572,732 events");
        let (_, _, m) = line(Phase::Nodes, &p, 0, 0, 2, 8);
        assert!(m.starts_with("scanning nodes: 2/8 done, 3/10 files"), "{m}");
    }

    #[test]
    fn nothing_is_drawn_when_not_wanted() {
        let mut p = Progress::start(false);
        assert!(p.drawing.is_none());
        p.phase(Phase::Matching, 5);
        p.finish();
        assert!(!wanted(true), "--quiet never draws");
    }
}

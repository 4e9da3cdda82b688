//! Feeding a whole merged timeline to a [`Correlator`] on three threads.
//!
//! The scanning thread merges and runs what is pure and per event on the merge's borrowed events:
//! the rule scan and the alias learner's gate. A mining thread mines the template of a copy of each
//! headline. The calling thread does the order-dependent rest (finding windows, aliases), and gets
//! an owned event only for the few events a rule hit or the learner wants, with a count for the runs
//! of events between them. Batches pass through small bounded channels, so memory stays bounded;
//! the mining and the correlating threads each take their part of a batch in timeline order.

use std::sync::Arc;

use rootline_event::{Event, EventRef, Severity, Timestamp};
use rootline_ingest::Merged;
use rootline_rules::{Hit, Scratch};

use crate::{alias, novelty, Correlator};

/// Events per message from the scanning thread to the correlating one.
const BATCH: usize = 2048;

/// What the scanning thread hands on, in timeline order: what template mining reads of every event
/// (to the mining thread), and the events the rest needs (`items`, to the correlating thread).
#[derive(Default)]
struct Batch {
    items: Vec<Scanned>,
    /// Events the items stand for (kept and skipped).
    events: u64,
    lines: Vec<LineRec>,
    /// The headlines, back to back (`LineRec::end`).
    text: Vec<u8>,
    /// (host, path) pairs of `lines`.
    sources: Vec<(Option<Arc<str>>, Arc<str>)>,
}

struct LineRec {
    source: u32,
    time: Option<Timestamp>,
    severity: Option<Severity>,
    line: u64,
    end: u32,
    matched: bool,
    operator: bool,
}

impl Batch {
    fn line(&mut self, ev: &EventRef<'_>, matched: bool) {
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
            operator: novelty::is_operator_action(ev.format, ev.program, ev.headline()),
        });
    }

    fn full(&self) -> bool {
        self.lines.len() >= BATCH || self.text.len() >= 1 << 20
    }

    /// Closes a run of skipped events into an item.
    fn flush_skipped(&mut self, skipped: &mut u64, last_time: &mut Option<Timestamp>) {
        if *skipped > 0 {
            self.items.push(Scanned::Skipped(*skipped, last_time.take()));
            self.events += *skipped;
            *skipped = 0;
        }
    }

    /// An empty batch with room for a full one's lines and their text (a batch grown from empty
    /// copies its buffers a dozen times over): 256 bytes per headline, which most logs' lines fit
    /// (a batch is full at 1 MiB of text in any case).
    fn with_room() -> Batch {
        Batch { lines: Vec::with_capacity(BATCH), text: Vec::with_capacity(BATCH * 256), ..Batch::default() }
    }

    /// The part the mining thread reads; `self` keeps the rest, and room for the next lines.
    fn take_lines(&mut self) -> Batch {
        let fresh = Batch::with_room();
        Batch {
            items: Vec::new(),
            events: 0,
            lines: std::mem::replace(&mut self.lines, fresh.lines),
            text: std::mem::replace(&mut self.text, fresh.text),
            sources: std::mem::take(&mut self.sources),
        }
    }
}

/// Mines the templates of a batch's headlines.
fn mine(novelty: &mut novelty::Novelty, batch: &Batch) {
    for (i, l) in batch.lines.iter().enumerate() {
        let (host, path) = &batch.sources[l.source as usize];
        let start = if i == 0 { 0 } else { batch.lines[i - 1].end as usize };
        let line = novelty::Line {
            host: host.as_ref(),
            time: l.time,
            severity: l.severity,
            path,
            line: l.line,
            headline: &batch.text[start..l.end as usize],
            operator: l.operator,
        };
        novelty.feed_line(&line, l.matched);
    }
}

/// An event the correlating thread needs, or a run of events it need not see.
enum Scanned {
    /// An event a rule hit or the alias learner wants (the flag), with its hits.
    Kept(Event, Vec<Hit>, bool),
    /// That many events neither wanted, and the time of the last of them that had one.
    Skipped(u64, Option<Timestamp>),
}

impl Correlator<'_> {
    /// Feeds every event of `events`, in order (the same result as [`Correlator::feed`] on each, in
    /// a fraction of the time): the rule scan and the learner's gate run on a thread of their own over
    /// the merge's borrowed events.
    pub fn feed_timeline(&mut self, mut events: Merged) {
        let engine = self.engine;
        let progress = self.progress.clone();
        let scanned = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
            let (tx_lines, rx_lines) = std::sync::mpsc::sync_channel::<Batch>(8);
            let scanner = s.spawn(move || {
                let mut scratch = Scratch::default();
                let gate = alias::Gate::with_ties(engine.pack().ties.clone());
                // The gate's literals are looked for in the rule scan's pass over each message.
                let watch = engine.watch(gate.literals());
                let mut watched = Vec::new();
                let mut batch = Batch::with_room();
                let mut hits = Vec::new();
                let (mut skipped, mut last_time) = (0u64, None);
                let send = |batch: &mut Batch| {
                    let lines = batch.take_lines();
                    // The next items get room for as many as this batch kept (an owned event is
                    // large: growing the vector from empty copies them over and over).
                    let room = batch.items.len();
                    let items = Batch {
                        items: std::mem::replace(&mut batch.items, Vec::with_capacity(room)),
                        events: std::mem::take(&mut batch.events),
                        ..Batch::default()
                    };
                    tx_lines.send(lines).is_ok() && tx.send(items).is_ok()
                };
                while let Some(ev) = events.next_ref() {
                    engine.scan_watching(&ev, &watch, &mut scratch, &mut hits, &mut watched);
                    batch.line(&ev, !hits.is_empty());
                    let learn = gate.wants_found(&ev, &watched);
                    if hits.is_empty() && !learn {
                        skipped += 1;
                        if ev.time.is_some() {
                            last_time = ev.time;
                        }
                    } else {
                        batch.flush_skipped(&mut skipped, &mut last_time);
                        batch.items.push(Scanned::Kept(ev.to_event(), std::mem::take(&mut hits), learn));
                        batch.events += 1;
                    }
                    if batch.full() {
                        batch.flush_skipped(&mut skipped, &mut last_time);
                        if !send(&mut batch) {
                            return;
                        }
                    }
                }
                batch.flush_skipped(&mut skipped, &mut last_time);
                send(&mut batch);
            });
            let miner = s.spawn(move || {
                let mut novelty = novelty::Novelty::default();
                for batch in rx_lines {
                    mine(&mut novelty, &batch);
                }
                novelty
            });
            for batch in rx {
                for item in &batch.items {
                    match item {
                        Scanned::Kept(ev, hits, learn) => self.feed_kept(ev, hits, *learn),
                        Scanned::Skipped(n, last_time) => self.feed_skipped(*n, *last_time),
                    }
                }
                if let Some(p) = &progress {
                    p.fetch_add(batch.events, std::sync::atomic::Ordering::Relaxed);
                }
            }
            scanner.join().and_then(|()| miner.join())
        });
        let novelty = match scanned {
            Ok(n) => n,
            Err(p) => std::panic::resume_unwind(p),
        };
        self.note_hosts(novelty.hosts());
        self.set_novelty(novelty);
    }
}

#[cfg(test)]
mod tests {
    use rootline_rules::{Engine, Lang, Pack};

    use crate::Correlator;

    /// The two-thread feed gives the analysis that feeding each event gives, on incidents with a chain
    /// (seed) and without (healthy noise).
    #[test]
    fn feeding_a_timeline_equals_feeding_each_event() {
        let engine = Engine::new(Pack::builtin().expect("built-in rules"));
        for name in ["seed-37", "lab-offline-queue", "healthy-noise"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/incidents").join(name);
            let opts = rootline_ingest::Options::default();
            let analyse = |whole: bool| {
                let timeline = rootline_ingest::read(std::slice::from_ref(&dir), &opts);
                let stats = timeline.stats.clone();
                let mut c = Correlator::new(&engine);
                if whole {
                    c.feed_timeline(timeline.into_events());
                } else {
                    for ev in timeline.into_events() {
                        c.feed(&ev);
                    }
                }
                serde_json::to_string(&c.finish(&stats, Lang::En)).expect("json")
            };
            let (each, whole) = (analyse(false), analyse(true));
            assert!(each.contains("\"findings\""), "{name}: an analysis");
            assert_eq!(each, whole, "{name}");
        }
    }
}

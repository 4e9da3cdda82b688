//! The stable k-way merge of resolved runs into one timeline.
//!
//! Each run streams its items (from memory or its spill file), the run's plan resolves them one by
//! one, and a heap picks the earliest head. Runs of more than a few thousand events are decoded and
//! resolved on threads of their own, which hand blocks of resolved events to the merging thread
//! through bounded channels; the order is decided by the heap alone, so it does not depend on
//! scheduling. Memory is a few blocks per run plus the runs' chunks not yet read.
//! A run whose times went backwards by a little (interleaved writers, a few milliseconds or
//! seconds) is put in order through a window that holds events until no earlier one can follow; a
//! run with a real clock jump (over a minute back) is sorted whole, in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};

/// Runs that step back at most this far are reordered through a window rather than sorted whole.
const WINDOW_MAX_NANOS: i64 = 60_000_000_000;

/// An event waiting in a reorder window, ordered by (key, arrival).
struct Waiting(i64, u64, Event);

impl PartialEq for Waiting {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Waiting {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

use rootline_event::Event;

use crate::run::Run;
use crate::spill::StoreIter;
use crate::time::resolve::Plan;

/// One run's resolved events, in time order. (One per run, so the size difference is harmless.)
#[allow(clippy::large_enum_variant)]
enum Stream {
    Live {
        items: StoreIter,
        plan: Plan,
        key: i64,
    },
    Window {
        items: StoreIter,
        plan: Plan,
        /// Newest time read so far.
        key: i64,
        /// Time of the last timed event read (what a timeless event sorts with).
        prev: i64,
        slack: i64,
        seq: u64,
        held: BinaryHeap<Reverse<Waiting>>,
        done: bool,
    },
    Sorted(std::vec::IntoIter<(i64, Event)>),
}

impl Stream {
    fn new(run: Run, mut plan: Plan) -> Stream {
        let (disorder, back) = (run.summary.out_of_order, run.summary.max_back);
        let items = run.store.into_iter(run.path, run.format);
        if disorder == 0 {
            return Stream::Live { items, plan, key: i64::MIN };
        }
        if back <= WINDOW_MAX_NANOS {
            let held = BinaryHeap::new();
            return Stream::Window {
                items,
                plan,
                key: i64::MIN,
                prev: i64::MIN,
                slack: back,
                seq: 0,
                held,
                done: false,
            };
        }
        let mut key = i64::MIN;
        let mut v: Vec<(i64, Event)> = items
            .map(|it| {
                let ev = plan.apply(it);
                if let Some(t) = ev.time {
                    key = t.unix_nanos;
                }
                (key, ev)
            })
            .collect();
        v.sort_by_key(|(k, _)| *k); // stable: timeless events stay after the event before them
        Stream::Sorted(v.into_iter())
    }

    /// The next event and its merge key (its time, or the time of the event before it).
    fn next(&mut self) -> Option<(i64, Event)> {
        match self {
            Stream::Live { items, plan, key } => {
                let ev = plan.apply(items.next()?);
                if let Some(t) = ev.time {
                    *key = t.unix_nanos;
                }
                Some((*key, ev))
            }
            Stream::Window { items, plan, key, prev, slack, seq, held, done } => loop {
                // Release the earliest held event once the newest one read is `slack` past it: no
                // later line of this run can be earlier than that.
                if let Some(Reverse(w)) = held.peek() {
                    if *done || key.saturating_sub(w.0) > *slack {
                        let Reverse(Waiting(k, _, ev)) = held.pop().expect("peeked");
                        return Some((k, ev));
                    }
                } else if *done {
                    return None;
                }
                match items.next() {
                    Some(it) => {
                        let ev = plan.apply(it);
                        if let Some(t) = ev.time {
                            *key = (*key).max(t.unix_nanos);
                            *prev = t.unix_nanos;
                        }
                        // Timeless events sort with the event before them, after it (arrival order).
                        held.push(Reverse(Waiting(*prev, *seq, ev)));
                        *seq += 1;
                    }
                    None => *done = true,
                }
            },
            Stream::Sorted(it) => it.next(),
        }
    }
}

/// Runs with at least this many events are resolved by the worker threads.
const POOL_MIN_EVENTS: u64 = 4096;
/// Events a worker resolves at a time; each run has at most [`QUEUED`] such blocks waiting.
const BLOCK: usize = 256;
const QUEUED: usize = 2;

/// A run's work as the workers see it. (One per run, so the size difference is harmless.)
#[allow(clippy::large_enum_variant)]
enum Work {
    New(Run, Plan),
    Ready(Stream),
}

#[derive(Default)]
struct Slot {
    /// The run's stream while no worker holds it (`None` while one does, and when it is finished).
    work: Option<Work>,
    queue: std::collections::VecDeque<Vec<(i64, Event)>>,
    done: bool,
}

struct State {
    slots: Vec<Slot>,
    /// The run the merging thread waits for: workers serve it first.
    wanted: Option<usize>,
    next_scan: usize,
    /// The merge went away (dropped): workers stop.
    closed: bool,
    /// A worker panicked: the merge must not go on with events missing.
    poisoned: bool,
}

/// Runs resolved ahead of the merge by a few worker threads, a bounded number of blocks each.
struct Pool {
    state: Mutex<State>,
    /// Workers wait here for a run to serve.
    work: Condvar,
    /// The merging thread waits here for a block.
    ready: Condvar,
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts `workers` threads over `runs`; returns the pool and how many threads started.
    fn start(runs: Vec<(Run, Plan)>, workers: usize) -> (Arc<Pool>, usize) {
        let slots = runs.into_iter().map(|(r, p)| Slot { work: Some(Work::New(r, p)), ..Slot::default() }).collect();
        let pool = Arc::new(Pool {
            state: Mutex::new(State { slots, wanted: None, next_scan: 0, closed: false, poisoned: false }),
            work: Condvar::new(),
            ready: Condvar::new(),
        });
        let mut started = 0;
        for _ in 0..workers {
            let p = pool.clone();
            if std::thread::Builder::new().name("rootline-merge".into()).spawn(move || p.serve()).is_ok() {
                started += 1;
            }
        }
        (pool, started)
    }

    /// A worker: resolves a block of the run most in need, until every run is done or the merge
    /// went away.
    fn serve(&self) {
        let mut g = self.lock();
        loop {
            if g.closed {
                return;
            }
            let eligible = |s: &Slot| s.work.is_some() && s.queue.len() < QUEUED;
            let n = g.slots.len();
            let pick = match g.wanted {
                Some(w) if eligible(&g.slots[w]) => Some(w),
                _ => (0..n).map(|k| (g.next_scan + k) % n).find(|&i| eligible(&g.slots[i])),
            };
            let Some(i) = pick else {
                if g.slots.iter().all(|s| s.done) {
                    return;
                }
                g = self.work.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            g.next_scan = (i + 1) % n;
            let work = g.slots[i].work.take().expect("eligible");
            drop(g);
            let produced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let mut stream = match work {
                    Work::New(run, plan) => Stream::new(run, plan),
                    Work::Ready(s) => s,
                };
                let mut block = Vec::with_capacity(BLOCK);
                while block.len() < BLOCK {
                    match stream.next() {
                        Some(x) => block.push(x),
                        None => break,
                    }
                }
                let more = block.len() == BLOCK;
                (block, more.then_some(stream))
            }));
            g = self.lock();
            let slot = &mut g.slots[i];
            match produced {
                Ok((block, rest)) => {
                    if !block.is_empty() {
                        slot.queue.push_back(block);
                    }
                    match rest {
                        Some(stream) => slot.work = Some(Work::Ready(stream)),
                        None => slot.done = true,
                    }
                }
                Err(_) => {
                    slot.done = true;
                    g.poisoned = true;
                }
            }
            self.ready.notify_all();
        }
    }

    /// The next block of run `i`, waiting for a worker if needed; `None` once the run is finished.
    fn take(&self, i: usize) -> Option<Vec<(i64, Event)>> {
        let mut g = self.lock();
        loop {
            assert!(!g.poisoned, "a merge worker thread panicked");
            if let Some(b) = g.slots[i].queue.pop_front() {
                if g.wanted == Some(i) {
                    g.wanted = None;
                }
                self.work.notify_one();
                return Some(b);
            }
            if g.slots[i].done {
                return None;
            }
            g.wanted = Some(i);
            self.work.notify_all();
            g = self.ready.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }
}

/// Where the merge takes a run's next event from: the run itself, or the worker pool.
#[allow(clippy::large_enum_variant)]
enum Source {
    Inline(Stream),
    Pooled { slot: usize, block: std::vec::IntoIter<(i64, Event)> },
}

/// Iterator over all events in time order. Equal times keep input order (earlier input argument,
/// then earlier file, then earlier line); timeless events follow the event before them in their file.
pub struct Merged {
    pool: Option<Arc<Pool>>,
    sources: Vec<Source>,
    heads: Vec<Option<Event>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    remaining: u64,
}

impl Merged {
    pub(crate) fn new(runs: Vec<Run>, plans: Vec<Plan>) -> Self {
        let remaining = runs.iter().map(|r| r.store.len()).sum();
        // Large runs are decoded and resolved by worker threads, in parallel with each other and
        // with the merge; the heap alone decides the order, so output does not depend on timing.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
        let mut pooled = Vec::new();
        let mut sources: Vec<Source> = runs
            .into_iter()
            .zip(plans)
            .map(|(r, p)| {
                if r.store.len() >= POOL_MIN_EVENTS {
                    pooled.push((r, p));
                    Source::Pooled { slot: pooled.len() - 1, block: Vec::new().into_iter() }
                } else {
                    Source::Inline(Stream::new(r, p))
                }
            })
            .collect();
        let mut pool = (!pooled.is_empty()).then(|| Pool::start(pooled, workers));
        if let Some((p, 0)) = &pool {
            // No thread could be started: resolve every run here.
            let mut g = p.lock();
            for s in &mut sources {
                if let Source::Pooled { slot, .. } = s {
                    if let Some(Work::New(r, p)) = g.slots[*slot].work.take() {
                        *s = Source::Inline(Stream::new(r, p));
                    }
                }
            }
            drop(g);
            pool = None;
        }
        let pool = pool.map(|(p, _)| p);
        let mut heads = Vec::with_capacity(sources.len());
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            match next_of(s, pool.as_deref()) {
                Some((k, ev)) => {
                    heap.push(Reverse((k, i)));
                    heads.push(Some(ev));
                }
                None => heads.push(None),
            }
        }
        Merged { pool, sources, heads, heap, remaining }
    }
}

impl Iterator for Merged {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let Reverse((_, i)) = self.heap.pop()?;
        let ev = self.heads[i].take()?;
        if let Some((k, next)) = next_of(&mut self.sources[i], self.pool.as_deref()) {
            self.heap.push(Reverse((k, i)));
            self.heads[i] = Some(next);
        }
        self.remaining = self.remaining.saturating_sub(1);
        Some(ev)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl Drop for Merged {
    fn drop(&mut self) {
        if let Some(p) = &self.pool {
            p.close();
        }
    }
}

/// The next event of a source and its merge key.
fn next_of(s: &mut Source, pool: Option<&Pool>) -> Option<(i64, Event)> {
    match s {
        Source::Inline(s) => s.next(),
        Source::Pooled { slot, block } => loop {
            if let Some(x) = block.next() {
                return Some(x);
            }
            *block = pool?.take(*slot)?.into_iter();
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::{read, Options};

    /// Three syslog files of `n` lines each: one in order, one slightly interleaved (reorder window),
    /// one with a clock jump back (sorted whole), with continuation lines and unparsed lines.
    fn corpus(dir: &std::path::Path, n: usize) {
        use std::fmt::Write as _;
        for (f, name) in ["in-order", "interleaved", "jump"].iter().enumerate() {
            let mut s = String::new();
            for i in 0..n {
                let mut secs = i * 3 + f;
                if f == 1 && i % 7 == 3 {
                    secs -= 2; // a little earlier than the line before
                }
                if f == 2 && i == n / 2 {
                    secs = 5; // far back
                }
                let (h, m, sec) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
                let _ = writeln!(s, "Oct 13 {h:02}:{m:02}:{sec:02} node{f} app[{i}]: line {i} of {name}");
                if i.is_multiple_of(11) {
                    let _ = writeln!(s, "\tcontinued {i}");
                }
                if i % 1000 == 999 {
                    let _ = writeln!(s, "not a syslog line {i}");
                }
            }
            std::fs::write(dir.join(format!("{name}.log")), s).expect("write");
        }
    }

    #[test]
    fn spilled_pooled_and_in_memory_merges_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        corpus(dir.path(), 12_000);
        let run = |budget: usize| {
            let opts = Options {
                memory_budget: budget,
                time: crate::ResolveOpts { year: Some(2025), ..Default::default() },
                ..Options::default()
            };
            let t = read(&[dir.path().to_path_buf()], &opts);
            let merged = t.into_events();
            assert_eq!(merged.size_hint().0, 3 * 12_000 + 36);
            merged.collect::<Vec<_>>()
        };
        let on_disk = run(0);
        let in_memory = run(usize::MAX / 2);
        assert_eq!(on_disk.len(), 3 * 12_000 + 36);
        assert!(on_disk == in_memory, "the same events in the same order whichever way they waited");
        // Times never go back; equal times keep input order (file, then line).
        let mut last = (i64::MIN, String::new(), 0u64);
        for ev in &on_disk {
            let Some(t) = ev.time else { continue };
            let key = (t.unix_nanos, ev.provenance.path.to_string(), ev.provenance.line);
            assert!(key >= last, "{key:?} after {last:?}");
            last = key;
        }
        assert!(on_disk.iter().filter(|e| e.attached == 1).count() >= 3 * 12_000 / 11);
    }
}

//! The stable k-way merge of resolved runs into one timeline.
//!
//! Each run streams its records (from memory or its spill file), the run's plan resolves their
//! times, and a heap picks the earliest head by (time, run). Records are never decoded into owned
//! events: a run's resolved records are copied into a [`Block`] (their encoded bytes, plus the merge
//! key, resolved time and where each part is), and [`Merged::next_ref`] hands out an [`EventRef`]
//! borrowing the head record's bytes. Runs of more than a few thousand events are read and resolved
//! on threads of their own, which hand blocks to the merging thread through bounded queues and get
//! the spent blocks back to refill; the order is decided by the heap alone, so it does not depend on
//! scheduling. Memory is a few blocks per run plus the runs' chunks not yet read.
//! A run whose times went backwards by a little (interleaved writers, a few milliseconds or
//! seconds) is put in order through a window that holds records until no earlier one can follow; a
//! run with a real clock jump (over a minute back) is sorted whole, in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};

use rootline_event::{Event, EventRef, Format, TimeKind, Timestamp};

use crate::run::Run;
use crate::spill::{self, HostAt, Parsed, StoreIter, ViewCtx};
use crate::time::resolve::Plan;

/// Runs that step back at most this far are reordered through a window rather than sorted whole.
const WINDOW_MAX_NANOS: i64 = 60_000_000_000;

/// A block is handed over once it holds this many records or this many bytes.
const BLOCK_RECS: usize = 256;
const BLOCK_BYTES: usize = 48 * 1024;

/// A resolved record: its merge key (its time, or the time of the record before it), its time, and
/// where it is: `len` bytes from `at` in the bytes of the block (or window entry) holding it.
#[derive(Clone, Copy)]
struct Rec {
    key: i64,
    time: Option<Timestamp>,
    time_kind: TimeKind,
    /// The message is UTF-8 with no line break, checked here while its bytes are at hand, so the
    /// merging thread can print it as it is.
    plain: bool,
    at: u32,
    len: u32,
    p: Parsed,
}

/// Resolved records of one run, in merge order, with the bytes they point into.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    recs: Vec<Rec>,
}

impl Block {
    /// An empty block with room for a full one (a block is filled up to a record past the limits).
    fn with_room() -> Self {
        Block { bytes: Vec::with_capacity(BLOCK_BYTES + 16 * 1024), recs: Vec::with_capacity(BLOCK_RECS) }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.recs.clear();
    }

    fn full(&self) -> bool {
        self.recs.len() >= BLOCK_RECS || self.bytes.len() >= BLOCK_BYTES
    }

    /// Appends a record: its bytes, and its resolution.
    fn push(&mut self, rec: &[u8], key: i64, time: (Option<Timestamp>, TimeKind), p: Parsed) {
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(rec);
        let plain = spill::is_plain(spill::message(rec, &p));
        self.recs.push(Rec { key, time: time.0, time_kind: time.1, plain, at, len: rec.len() as u32, p });
    }

    fn rec(&self, r: &Rec) -> &[u8] {
        &self.bytes[r.at as usize..(r.at + r.len) as usize]
    }
}

/// A record waiting in a reorder window, ordered by (key, arrival).
struct Waiting(i64, u64, Rec, Box<[u8]>);

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

/// How a run's records are put in time order.
enum Order {
    /// Already in order: streamed as read.
    Live {
        /// Time of the last timed record (what a timeless record sorts with).
        key: i64,
    },
    Window {
        /// Newest time read so far.
        key: i64,
        /// Time of the last timed record read (what a timeless record sorts with).
        prev: i64,
        slack: i64,
        seq: u64,
        held: BinaryHeap<Reverse<Waiting>>,
        done: bool,
    },
    /// Read whole and sorted: `recs` point into `all`.
    Sorted { all: Block, next: usize },
}

/// One run's records, resolved, in time order.
struct Stream {
    items: StoreIter,
    plan: Plan,
    order: Order,
}

impl Stream {
    fn new(run: Run, mut plan: Plan) -> Stream {
        let (disorder, back) = (run.summary.out_of_order, run.summary.max_back);
        let mut items = run.store.into_iter();
        let order = if disorder == 0 {
            Order::Live { key: i64::MIN }
        } else if back <= WINDOW_MAX_NANOS {
            Order::Window { key: i64::MIN, prev: i64::MIN, slack: back, seq: 0, held: BinaryHeap::new(), done: false }
        } else {
            let mut all = Block::default();
            let mut key = i64::MIN;
            while let Some((rec, p)) = items.next_record() {
                let time = plan.time(p.raw, p.seg, p.year_k);
                if let Some(t) = time.0 {
                    key = t.unix_nanos;
                }
                all.push(rec, key, time, p);
            }
            all.recs.sort_by_key(|r| r.key); // stable: timeless records stay after the record before them
            Order::Sorted { all, next: 0 }
        };
        Stream { items, plan, order }
    }

    /// Appends the next records to `out` until it is full; false once the run is finished.
    fn fill(&mut self, out: &mut Block) -> bool {
        let Stream { items, plan, order } = self;
        match order {
            Order::Live { key } => {
                while !out.full() {
                    let Some((rec, p)) = items.next_record() else { return false };
                    let time = plan.time(p.raw, p.seg, p.year_k);
                    if let Some(t) = time.0 {
                        *key = t.unix_nanos;
                    }
                    out.push(rec, *key, time, p);
                }
                true
            }
            Order::Window { key, prev, slack, seq, held, done } => {
                while !out.full() {
                    // Release the earliest held record once the newest one read is `slack` past it:
                    // no later line of this run can be earlier than that.
                    if let Some(Reverse(w)) = held.peek() {
                        if *done || key.saturating_sub(w.0) > *slack {
                            let Reverse(Waiting(k, _, r, bytes)) = held.pop().expect("peeked");
                            out.push(&bytes, k, (r.time, r.time_kind), r.p);
                            continue;
                        }
                    } else if *done {
                        return false;
                    }
                    match items.next_record() {
                        Some((rec, p)) => {
                            let time = plan.time(p.raw, p.seg, p.year_k);
                            if let Some(t) = time.0 {
                                *key = (*key).max(t.unix_nanos);
                                *prev = t.unix_nanos;
                            }
                            // Timeless records sort with the record before them, after it (arrival order).
                            let r = Rec { key: *prev, time: time.0, time_kind: time.1, plain: false, at: 0, len: 0, p };
                            held.push(Reverse(Waiting(*prev, *seq, r, rec.into())));
                            *seq += 1;
                        }
                        None => *done = true,
                    }
                }
                true
            }
            Order::Sorted { all, next } => {
                while !out.full() {
                    let Some(r) = all.recs.get(*next) else { return false };
                    out.push(all.rec(r), r.key, (r.time, r.time_kind), r.p);
                    *next += 1;
                }
                true
            }
        }
    }
}

/// Runs with at least this many events are resolved by the worker threads.
const POOL_MIN_EVENTS: u64 = 4096;
/// Blocks of one run waiting for the merge at most.
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
    queue: std::collections::VecDeque<Block>,
    done: bool,
}

struct State {
    slots: Vec<Slot>,
    /// Blocks the merge is done with, for the workers to refill.
    spare: Vec<Block>,
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
        let state = State { slots, spare: Vec::new(), wanted: None, next_scan: 0, closed: false, poisoned: false };
        let pool = Arc::new(Pool { state: Mutex::new(state), work: Condvar::new(), ready: Condvar::new() });
        let mut started = 0;
        for _ in 0..workers {
            let p = pool.clone();
            if std::thread::Builder::new().name("rootline-merge".into()).spawn(move || p.serve()).is_ok() {
                started += 1;
            }
        }
        (pool, started)
    }

    /// A worker: fills a block for the run most in need, until every run is done or the merge went
    /// away.
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
            let mut block = g.spare.pop().unwrap_or_else(Block::with_room);
            drop(g);
            let produced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let mut stream = match work {
                    Work::New(run, plan) => Stream::new(run, plan),
                    Work::Ready(s) => s,
                };
                block.clear();
                let more = stream.fill(&mut block);
                (block, more.then_some(stream))
            }));
            g = self.lock();
            let slot = &mut g.slots[i];
            match produced {
                Ok((block, rest)) => {
                    if !block.recs.is_empty() {
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
    /// `spent` is the run's previous block, given back for reuse.
    fn take(&self, i: usize, spent: Block) -> Option<Block> {
        let mut g = self.lock();
        if spent.bytes.capacity() > 0 {
            g.spare.push(spent);
        }
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

/// Where the merge takes a run's next block from: the run itself, or the worker pool. (One per run,
/// so the size difference is harmless.)
#[allow(clippy::large_enum_variant)]
enum Source {
    Inline(Stream),
    Pooled(usize),
    Done,
}

/// One run as the merging thread sees it: where its blocks come from, the current block, and what
/// its records' views need.
struct Head {
    source: Source,
    block: Block,
    pos: usize,
    path: Arc<str>,
    format: Format,
    hosts: Vec<Arc<str>>,
    /// The host of records that name none (from the run's plan).
    default_host: Option<Arc<str>>,
    /// The last host written in a record (runs with more distinct hosts than their table holds).
    inline_host: Option<Arc<str>>,
}

impl Head {
    /// Moves to the next record, fetching the next block when this one is spent; its key, or
    /// `None` when the run is finished.
    fn advance(&mut self, pool: Option<&Pool>) -> Option<i64> {
        self.pos += 1;
        if self.pos >= self.block.recs.len() {
            self.pos = 0;
            let more = match &mut self.source {
                Source::Inline(s) => {
                    self.block.clear();
                    s.fill(&mut self.block) || !self.block.recs.is_empty()
                }
                Source::Pooled(slot) => match pool.and_then(|p| p.take(*slot, std::mem::take(&mut self.block))) {
                    Some(b) => {
                        self.block = b;
                        true
                    }
                    None => false,
                },
                Source::Done => false,
            };
            if !more || self.block.recs.is_empty() {
                self.source = Source::Done;
                self.block = Block::default();
                return None;
            }
        }
        let r = &self.block.recs[self.pos];
        if let HostAt::Inline(h) = r.p.host {
            let h = spill::inline_host(self.block.rec(r), h);
            if self.inline_host.as_deref() != Some(h) {
                self.inline_host = Some(Arc::from(h));
            }
        }
        Some(r.key)
    }

    /// The current record.
    fn view(&self) -> EventRef<'_> {
        let r = &self.block.recs[self.pos];
        let host = match r.p.host {
            HostAt::None => self.default_host.as_ref(),
            HostAt::Table(i) => self.hosts.get(i as usize),
            HostAt::Inline(_) => self.inline_host.as_ref(),
        };
        let cx = ViewCtx {
            path: &self.path,
            format: self.format,
            time: r.time,
            time_kind: r.time_kind,
            host,
            plain: r.plain,
        };
        spill::view(self.block.rec(r), &r.p, cx)
    }
}

/// All events in time order. Equal times keep input order (earlier input argument, then earlier
/// file, then earlier line); timeless events follow the event before them in their file.
///
/// [`Merged::next_ref`] lends each event in turn without copying it; as an [`Iterator`] it yields
/// owned [`Event`]s.
pub struct Merged {
    pool: Option<Arc<Pool>>,
    heads: Vec<Head>,
    /// (key, run) of every run with a record left; the top is the next event.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// The run whose record was lent last: it moves on at the next call.
    lent: Option<usize>,
    remaining: u64,
}

impl Merged {
    pub(crate) fn new(runs: Vec<Run>, plans: Vec<Plan>) -> Self {
        let remaining = runs.iter().map(|r| r.store.len()).sum();
        // Large runs are read and resolved by worker threads, in parallel with each other and with
        // the merge; the heap alone decides the order, so output does not depend on timing.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
        let mut pooled = Vec::new();
        let mut heads: Vec<Head> = runs
            .into_iter()
            .zip(plans)
            .map(|(r, p)| {
                let mut head = Head {
                    source: Source::Done,
                    block: Block::default(),
                    pos: 0,
                    path: r.path.clone(),
                    format: r.format,
                    hosts: r.store.hosts().to_vec(),
                    default_host: p.host().cloned(),
                    inline_host: None,
                };
                if r.store.len() >= POOL_MIN_EVENTS {
                    pooled.push((r, p));
                    head.source = Source::Pooled(pooled.len() - 1);
                } else {
                    head.source = Source::Inline(Stream::new(r, p));
                }
                head
            })
            .collect();
        let mut pool = (!pooled.is_empty()).then(|| Pool::start(pooled, workers));
        if let Some((p, 0)) = &pool {
            // No thread could be started: resolve every run here.
            let mut g = p.lock();
            for h in &mut heads {
                if let Source::Pooled(slot) = h.source {
                    if let Some(Work::New(r, p)) = g.slots[slot].work.take() {
                        h.source = Source::Inline(Stream::new(r, p));
                    }
                }
            }
            drop(g);
            pool = None;
        }
        let pool = pool.map(|(p, _)| p);
        let mut heap = BinaryHeap::with_capacity(heads.len());
        for (i, h) in heads.iter_mut().enumerate() {
            // The block is empty: advancing fetches the first one.
            if let Some(k) = h.advance(pool.as_deref()) {
                heap.push(Reverse((k, i)));
            }
        }
        Merged { pool, heads, heap, lent: None, remaining }
    }

    /// The next event in time order, borrowed until the next call.
    pub fn next_ref(&mut self) -> Option<EventRef<'_>> {
        if let Some(i) = self.lent.take() {
            self.remaining = self.remaining.saturating_sub(1);
            // The lent record's run is at the top of the heap: replace its key in place (one sift).
            match self.heads[i].advance(self.pool.as_deref()) {
                Some(k) => *self.heap.peek_mut().expect("the lent run is in the heap") = Reverse((k, i)),
                None => {
                    self.heap.pop();
                }
            }
        }
        let &Reverse((_, i)) = self.heap.peek()?;
        self.lent = Some(i);
        Some(self.heads[i].view())
    }
}

impl Iterator for Merged {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.next_ref().map(|ev| ev.to_event())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining.saturating_sub(u64::from(self.lent.is_some()));
        let n = usize::try_from(n).unwrap_or(usize::MAX);
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

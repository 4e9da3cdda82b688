//! The stable k-way merge of resolved runs into one timeline.
//!
//! Each run streams its items (from memory or its spill file), the run's plan resolves them one by
//! one, and a heap picks the earliest head. Memory is one head per run plus the runs' read buffers.
//! A run whose times went backwards by a little (interleaved writers, a few milliseconds or
//! seconds) is put in order through a window that holds events until no earlier one can follow; a
//! run with a real clock jump (over a minute back) is sorted whole, in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

/// Iterator over all events in time order. Equal times keep input order (earlier input argument,
/// then earlier file, then earlier line); timeless events follow the event before them in their file.
pub struct Merged {
    streams: Vec<Stream>,
    heads: Vec<Option<Event>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    remaining: u64,
}

impl Merged {
    pub(crate) fn new(runs: Vec<Run>, plans: Vec<Plan>) -> Self {
        let remaining = runs.iter().map(|r| r.store.len()).sum();
        let mut streams: Vec<Stream> = runs.into_iter().zip(plans).map(|(r, p)| Stream::new(r, p)).collect();
        let mut heads = Vec::with_capacity(streams.len());
        let mut heap = BinaryHeap::with_capacity(streams.len());
        for (i, s) in streams.iter_mut().enumerate() {
            match s.next() {
                Some((k, ev)) => {
                    heap.push(Reverse((k, i)));
                    heads.push(Some(ev));
                }
                None => heads.push(None),
            }
        }
        Merged { streams, heads, heap, remaining }
    }
}

impl Iterator for Merged {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let Reverse((_, i)) = self.heap.pop()?;
        let ev = self.heads[i].take()?;
        if let Some((k, next)) = self.streams[i].next() {
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

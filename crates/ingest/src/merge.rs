//! The stable k-way merge of resolved runs into one timeline.
//!
//! Each run streams its items (from memory or its spill file), the run's plan resolves them one by
//! one, and a heap picks the earliest head. Memory is one head per run plus the runs' read buffers.
//! A run whose times went backwards (a clock jump, interleaved writers) is sorted first, in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rootline_event::Event;

use crate::run::Run;
use crate::spill::StoreIter;
use crate::time::resolve::Plan;

/// One run's resolved events, in time order. (One per run, so the size difference is harmless.)
#[allow(clippy::large_enum_variant)]
enum Stream {
    Live { items: StoreIter, plan: Plan, key: i64 },
    Sorted(std::vec::IntoIter<(i64, Event)>),
}

impl Stream {
    fn new(run: Run, mut plan: Plan) -> Stream {
        let sort = run.summary.out_of_order > 0;
        let items = run.store.into_iter(run.path, run.format);
        if !sort {
            return Stream::Live { items, plan, key: i64::MIN };
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

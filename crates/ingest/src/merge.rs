//! The stable k-way merge of resolved runs into one timeline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rootline_event::Event;

use crate::run::Run;
use crate::time::resolve::sort_keys;

/// Iterator over all events in time order. Equal times keep input order (earlier input argument,
/// then earlier file, then earlier line); timeless events follow the event before them in their file.
pub struct Merged {
    runs: Vec<std::vec::IntoIter<(i64, Event)>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    heads: Vec<Option<(i64, Event)>>,
    remaining: usize,
}

impl Merged {
    pub(crate) fn new(runs: Vec<Run>) -> Self {
        let mut iters = Vec::with_capacity(runs.len());
        let mut remaining = 0;
        for run in runs {
            let keys: Vec<i64> = sort_keys(&run).collect();
            remaining += keys.len();
            let v: Vec<(i64, Event)> = keys.into_iter().zip(run.items.into_iter().map(|it| it.ev)).collect();
            iters.push(v.into_iter());
        }
        let mut heads = Vec::with_capacity(iters.len());
        let mut heap = BinaryHeap::with_capacity(iters.len());
        for (i, it) in iters.iter_mut().enumerate() {
            let h = it.next();
            if let Some((k, _)) = &h {
                heap.push(Reverse((*k, i)));
            }
            heads.push(h);
        }
        Merged { runs: iters, heap, heads, remaining }
    }
}

impl Iterator for Merged {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let Reverse((_, i)) = self.heap.pop()?;
        let (_, ev) = self.heads[i].take()?;
        let next = self.runs[i].next();
        if let Some((k, _)) = &next {
            self.heap.push(Reverse((*k, i)));
        }
        self.heads[i] = next;
        self.remaining -= 1;
        Some(ev)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

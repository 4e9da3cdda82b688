//! Collapsing repeats in a time-ordered stream: the first lines of a template are shown (two by
//! default), the ones that follow them within a window are counted, and when the repeats stop a
//! summary takes their place (`mpatha: sda - path offline` ... `x45 more over 90 s`).
//!
//! Repeats are grouped per source (the caller's `group`, e.g. host and program) and per template:
//! two paths reported offline in alternation are one template (the device is a variable), so they
//! collapse into one run. The summary of a run is handed back when the stream has moved past the
//! run's window, so a caller printing in time order can print it in place.
//!
//! A summary never stands for a single line (`x1 more` would replace one line by another): the first
//! repeat a run would hide is offered as [`Offer::Hold`]. The caller keeps it; if the run ends with
//! it alone, the closed run has `hidden == 1` and the caller prints the held line instead of a
//! summary; if more repeats follow, the held line is counted in the summary and dropped.
//!
//! ```
//! use rootline_template::collapse::{Collapser, Offer};
//! let mut c = Collapser::<u64>::new(30_000_000_000);
//! let s = 1_000_000_000i64;
//! assert!(matches!(c.offer("n1 multipathd", Some(0), b"mpatha: sda - path offline", 7).0, Offer::Show));
//! assert!(matches!(c.offer("n1 multipathd", Some(s), b"mpatha: sdb - path offline", 8).0, Offer::Show));
//! assert!(matches!(c.offer("n1 multipathd", Some(2 * s), b"mpatha: sda - path offline", 8).0, Offer::Hold));
//! assert!(matches!(c.offer("n1 multipathd", Some(3 * s), b"mpatha: sdb - path offline", 9).0, Offer::Hide));
//! let (_, closed) = c.offer("n1 kernel", Some(100 * s), b"something else", 10);
//! assert_eq!(closed[0].hidden, 2);
//! assert_eq!(closed[0].last_ref, 9);
//! ```

use std::collections::{BTreeSet, HashMap};

use crate::{Miner, TemplateId};

/// What to do with an offered line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Show it: the first of its kind in a while, or it has no time.
    Show,
    /// Keep it aside: the first repeat a run hides. If the run ends with no other, the run comes back
    /// with `hidden == 1` and this line is to be shown where it stands; otherwise it is counted in
    /// the run's summary like the hidden ones.
    Hold,
    /// Hide it: a repeat inside an open run (it will be counted in the run's summary).
    Hide,
}

/// A finished run of repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeats<R> {
    /// The group the run belongs to.
    pub group: String,
    /// The template text.
    pub template: String,
    /// Lines hidden (not counting the first, which was shown). 1 means: no summary, show the line
    /// that was held ([`Offer::Hold`], referred to by `last_ref`) in its place.
    pub hidden: u64,
    /// Time of the first (shown) line, nanoseconds since the epoch.
    pub first: i64,
    /// Time of the last hidden line.
    pub last: i64,
    /// The caller's reference of the last hidden line (its file and line, an index).
    pub last_ref: R,
}

struct Open<R> {
    seen: u64,
    first: i64,
    last: i64,
    hidden: u64,
    last_ref: R,
}

/// Collapses repeats of a template within a window; `R` is how the caller refers to a line.
pub struct Collapser<R> {
    miner: Miner,
    window: i64,
    show_first: u64,
    open: HashMap<(String, TemplateId), Open<R>>,
    /// Open runs by expiry (last + window), for closing them in time order.
    expiry: BTreeSet<(i64, String, TemplateId)>,
}

impl<R> Collapser<R> {
    /// A collapser whose runs stay open while repeats come within `window_nanos` of each other; the
    /// first two lines of a run are shown.
    pub fn new(window_nanos: i64) -> Self {
        Collapser {
            miner: Miner::default(),
            window: window_nanos,
            show_first: 2,
            open: HashMap::new(),
            expiry: BTreeSet::new(),
        }
    }

    /// Shows the first `n` lines of each run (at least one) before hiding the rest.
    pub fn show_first(mut self, n: u64) -> Self {
        self.show_first = n.max(1);
        self
    }

    /// Offers the next line of the stream (times must not decrease, except lines with no time).
    /// Returns whether to show it, and the runs that ended before it (to print first).
    pub fn offer(&mut self, group: &str, time: Option<i64>, msg: &[u8], reference: R) -> (Offer, Vec<Repeats<R>>) {
        let Some(t) = time else { return (Offer::Show, Vec::new()) };
        let closed = self.close_before(t);
        let id = self.miner.observe(msg);
        let id = self.miner.resolve(id);
        let key = (group.to_string(), id);
        match self.open.get_mut(&key) {
            Some(run) => {
                self.expiry.remove(&(run.last.saturating_add(self.window), key.0.clone(), key.1));
                run.last = t;
                run.seen += 1;
                self.expiry.insert((t.saturating_add(self.window), key.0.clone(), key.1));
                if run.seen <= self.show_first {
                    return (Offer::Show, closed);
                }
                run.hidden += 1;
                run.last_ref = reference;
                (if run.hidden == 1 { Offer::Hold } else { Offer::Hide }, closed)
            }
            None => {
                self.expiry.insert((t.saturating_add(self.window), key.0.clone(), key.1));
                self.open.insert(key, Open { seen: 1, first: t, last: t, hidden: 0, last_ref: reference });
                (Offer::Show, closed)
            }
        }
    }

    /// Ends every open run (at the end of the stream); those with hidden lines are returned.
    pub fn finish(&mut self) -> Vec<Repeats<R>> {
        self.close_before(i64::MAX)
    }

    fn close_before(&mut self, t: i64) -> Vec<Repeats<R>> {
        let mut out = Vec::new();
        while let Some(first) = self.expiry.first() {
            if first.0 >= t {
                break;
            }
            let (_, group, id) = self.expiry.pop_first().expect("non-empty");
            if let Some(run) = self.open.remove(&(group.clone(), id)) {
                if run.hidden > 0 {
                    let template = self.miner.template(id).map(|t| t.render()).unwrap_or_default();
                    out.push(Repeats {
                        group,
                        template,
                        hidden: run.hidden,
                        first: run.first,
                        last: run.last,
                        last_ref: run.last_ref,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn alternating_paths_collapse_per_template_and_close_in_order() {
        let mut c = Collapser::<u64>::new(10 * S);
        let mut shown = 0;
        let mut closed = Vec::new();
        for i in 0..20i64 {
            for disk in ["sda", "sdb"] {
                let msg = format!("mpatha: {disk} - path offline");
                let (o, cl) = c.offer("n1 multipathd", Some(i * 2 * S), msg.as_bytes(), i as u64);
                shown += (o == Offer::Show) as u32;
                closed.extend(cl);
            }
        }
        // Both lines share one template (the device is masked): shown twice, 38 hidden.
        assert_eq!(shown, 2);
        assert!(closed.is_empty());
        let (o, cl) = c.offer("n1 kernel", Some(100 * S), b"EXT4-fs (dm-0): mounted filesystem", 99);
        assert_eq!(o, Offer::Show);
        assert_eq!(cl.len(), 1);
        assert_eq!(cl[0].hidden, 38);
        assert_eq!((cl[0].first, cl[0].last), (0, 38 * S));
        assert!(cl[0].template.contains("path offline"), "{}", cl[0].template);
    }

    #[test]
    fn a_gap_longer_than_the_window_starts_a_new_run() {
        let mut c = Collapser::<u64>::new(5 * S).show_first(1);
        assert_eq!(c.offer("g", Some(0), b"path down", 1).0, Offer::Show);
        assert_eq!(c.offer("g", Some(3 * S), b"path down", 2).0, Offer::Hold);
        let (o, cl) = c.offer("g", Some(60 * S), b"path down", 3);
        assert_eq!(o, Offer::Show);
        assert_eq!(cl[0].hidden, 1, "one held line: the caller shows it");
        assert_eq!(cl[0].last_ref, 2);
        assert!(c.finish().is_empty(), "the new run hid nothing");
    }

    #[test]
    fn lines_without_time_are_always_shown() {
        let mut c = Collapser::<u64>::new(5 * S);
        assert_eq!(c.offer("g", None, b"x", 1).0, Offer::Show);
        assert_eq!(c.offer("g", None, b"x", 2).0, Offer::Show);
    }
}

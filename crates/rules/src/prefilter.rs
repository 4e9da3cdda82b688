//! Which of a set of literals a message contains: the engine's prefilter.
//!
//! Every literal is given an *anchor*: the window of it made of the rarest bytes in log text, 8
//! bytes long ([`LONG`]) for literals that long, else 3 ([`SHORT`]). Every anchor sets one bit of a
//! small table per width (2.5 KiB in all, so they stay in the L1 cache). A message is read once,
//! byte by byte, with the last 8 bytes kept in a register: a position whose last 3 and last 8 bytes
//! hash to clear bits (nearly all of them) costs two multiplications and two loads; at a set bit,
//! the literals with exactly that anchor are compared in place. A multi-literal automaton does the
//! same job with a transition table that grows with the literals' total length (10 KB of literals
//! make a DFA of megabytes, which misses the cache on every line); these tables do not grow.
//!
//! The answer is exact: a literal is reported at every place it occurs, whatever overlaps it.

/// The narrow anchor's width: the shortest literal the engine prefilters on.
pub const SHORT: usize = 3;
/// The wide anchor's width, for literals at least this long: the longer the anchor, the fewer
/// places in ordinary text that share it without holding the literal.
pub const LONG: usize = 8;
/// log2 of the bits in the narrow anchors' table (the pack has a dozen literals shorter than
/// [`LONG`]: 512 bytes keep them apart).
const SHORT_BITS: u32 = 12;
/// log2 of the bits in the wide anchors' table: 2 KiB for a few hundred anchors, about 2% of its
/// bits set, so a place that holds no anchor is compared in place about once in 50.
const LONG_BITS: u32 = 14;

/// How common each byte is in log text, from 0 (absent) to 17 (the space): 20 minus the rounded
/// -log2 of its share of the bytes of the 16 systems' logs of the Loghub 2k benchmark (4.46 MB;
/// HDFS, Linux, OpenStack, Hadoop, Android, Windows...). An anchor of low values is met at few
/// places.
#[rustfmt::skip]
const COMMONNESS: [u8; 128] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    17, 5, 9, 10, 9, 3, 3, 7, 11, 11, 10, 5, 12, 15, 15, 13, 16, 16, 15, 15, 14, 15, 14, 14, 14, 14, 15, 9, 7, 12, 7, 3,
    10, 12, 11, 12, 12, 12, 12, 9, 10, 12, 11, 10, 11, 12, 13, 12, 11, 9, 12, 13, 12, 11, 9, 11, 7, 5, 9, 12, 5, 12, 0, 13,
    0, 15, 13, 15, 15, 16, 13, 13, 13, 15, 9, 13, 14, 14, 15, 15, 14, 10, 15, 15, 15, 14, 13, 12, 12, 12, 9, 6, 10, 6, 9, 0,
];

fn commonness(b: u8) -> u32 {
    COMMONNESS.get(usize::from(b)).map_or(0, |&c| u32::from(c))
}

/// One width's anchors.
#[derive(Debug, Clone)]
struct Anchors<const BITS: u32, const WORDS: usize> {
    /// Keeps the last `width` bytes of the packed window.
    mask: u64,
    /// One bit per hashed anchor.
    table: Box<[u64; WORDS]>,
    /// (anchor, literal, offset of the anchor in the literal), sorted by anchor.
    list: Vec<(u64, u32, u32)>,
}

impl<const BITS: u32, const WORDS: usize> Anchors<BITS, WORDS> {
    fn new(width: usize) -> Self {
        debug_assert_eq!(WORDS, 1 << (BITS - 6));
        let mask = if width >= 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
        Anchors { mask, table: Box::new([0; WORDS]), list: Vec::new() }
    }

    #[inline(always)]
    fn slot(w: u64) -> usize {
        (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as usize
    }

    fn add(&mut self, window: &[u8], literal: usize, offset: usize) {
        // The packed window holds its last byte lowest, as the scan shifts bytes in.
        let w = window.iter().fold(0u64, |w, &b| w << 8 | u64::from(b));
        let s = Self::slot(w);
        self.table[s >> 6] |= 1 << (s & 63);
        self.list.push((w, literal as u32, offset as u32));
    }

    #[inline(always)]
    fn admits(&self, w: u64) -> bool {
        let s = Self::slot(w & self.mask);
        self.table[s >> 6] & (1 << (s & 63)) != 0
    }
}

/// A set of literals to look for.
#[derive(Debug, Clone)]
pub struct Literals {
    literals: Vec<Vec<u8>>,
    short: Anchors<SHORT_BITS, { 1 << (SHORT_BITS - 6) }>,
    long: Anchors<LONG_BITS, { 1 << (LONG_BITS - 6) }>,
}

impl Default for Literals {
    /// The empty set: it finds nothing.
    fn default() -> Literals {
        Literals::new(Vec::new())
    }
}

impl Literals {
    /// The set of `literals`. A literal shorter than [`SHORT`] bytes is never reported (the engine
    /// does not prefilter on one).
    pub fn new(literals: Vec<Vec<u8>>) -> Literals {
        let (mut short, mut long) = (Anchors::new(SHORT), Anchors::new(LONG));
        for (i, l) in literals.iter().enumerate() {
            let width = if l.len() >= LONG { LONG } else { SHORT };
            if l.len() < width {
                continue;
            }
            let cost = |o: usize| l[o..o + width].iter().map(|&b| commonness(b)).sum::<u32>();
            let off = (0..=l.len() - width).min_by_key(|&o| (cost(o), o)).unwrap_or(0);
            if width == LONG {
                long.add(&l[off..off + width], i, off);
            } else {
                short.add(&l[off..off + width], i, off);
            }
        }
        short.list.sort_unstable();
        long.list.sort_unstable();
        Literals { literals, short, long }
    }

    /// The literals, in the order given.
    pub fn literals(&self) -> &[Vec<u8>] {
        &self.literals
    }

    /// Calls `found` with the index of a literal at every place it occurs in `hay` (a literal that
    /// occurs twice is reported twice), in the order of the places' anchors.
    #[inline]
    pub fn find(&self, hay: &[u8], mut found: impl FnMut(usize)) {
        let mut w = 0u64;
        // The first bytes, before a wide anchor fits.
        let head = hay.len().min(LONG - 1);
        for (i, &b) in hay[..head].iter().enumerate() {
            w = w << 8 | u64::from(b);
            if i + 1 >= SHORT && self.short.admits(w) {
                self.verify(&self.short.list, hay, i + 1 - SHORT, w & self.short.mask, &mut found);
            }
        }
        for (i, &b) in hay.iter().enumerate().skip(head) {
            w = w << 8 | u64::from(b);
            if self.short.admits(w) {
                self.verify(&self.short.list, hay, i + 1 - SHORT, w & self.short.mask, &mut found);
            }
            if self.long.admits(w) {
                self.verify(&self.long.list, hay, i + 1 - LONG, w, &mut found);
            }
        }
    }

    #[cold]
    fn verify(&self, list: &[(u64, u32, u32)], hay: &[u8], at: usize, w: u64, found: &mut impl FnMut(usize)) {
        let from = list.partition_point(|a| a.0 < w);
        for &(aw, li, off) in &list[from..] {
            if aw != w {
                break;
            }
            let Some(start) = at.checked_sub(off as usize) else { continue };
            if hay[start..].starts_with(&self.literals[li as usize]) {
                found(li as usize);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (literal, start) pair by the obvious search.
    fn naive(lits: &[&str], hay: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (i, l) in lits.iter().enumerate() {
            for s in 0..hay.len() {
                if hay.as_bytes()[s..].starts_with(l.as_bytes()) {
                    out.push((i, s));
                }
            }
        }
        out.sort();
        out
    }

    fn found(lits: &[&str], hay: &str) -> Vec<usize> {
        let set = Literals::new(lits.iter().map(|l| l.as_bytes().to_vec()).collect());
        let mut out = Vec::new();
        set.find(hay.as_bytes(), |i| out.push(i));
        out.sort();
        out
    }

    #[test]
    fn reports_every_occurrence_of_every_literal_even_overlapping_ones() {
        let lits =
            ["remaining active paths: 0", "paths: 0", "active", "dm-", " 0x", "Z", "ab", "abab", "abababab", "ath"];
        for hay in [
            "mpatha: remaining active paths: 0",
            "dm-0 dm-1 dm-12: 0x00 0x1",
            "ababab",
            "",
            "dm",
            "remaining active paths: 1 active paths: 0",
            "abababababababab",
            "abababa",
        ] {
            let want: Vec<usize> =
                naive(&lits, hay).into_iter().filter(|(i, _)| lits[*i].len() >= SHORT).map(|(i, _)| i).collect();
            assert_eq!(found(&lits, hay), want, "{hay:?}");
        }
    }

    #[test]
    fn a_literal_at_the_very_start_or_end_is_found() {
        assert_eq!(found(&["Failing path", "offline"], "Failing path 8:16 offline"), vec![0, 1]);
        assert_eq!(found(&["xyz"], "xyz"), vec![0]);
        assert_eq!(found(&["xyz"], "xy"), Vec::<usize>::new());
    }

    #[test]
    fn agrees_with_the_obvious_search_on_varied_text() {
        // Literals that share anchors and bytes, against text made of their pieces.
        let lits = ["state:D", ") D ", ") Z ", "PPID", "STAT", "[ERR] ", "[WRN] ", "rbd: rbd", "watcher="];
        let pieces = ["state:", "D", ") ", "Z ", "PP", "ID", "ST", "AT", "[ER", "R] ", "rbd: ", "watcher", "=", " "];
        let mut seed = 7u64;
        for _ in 0..500 {
            let mut hay = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                hay.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let want: Vec<usize> = naive(&lits, &hay).into_iter().map(|(i, _)| i).collect();
            assert_eq!(found(&lits, &hay), want, "{hay:?}");
        }
    }

    #[test]
    fn invalid_utf8_and_nul_bytes_are_plain_bytes() {
        let set = Literals::new(vec![b"\xff\x00ab".to_vec()]);
        let mut n = 0;
        set.find(b"..\xff\x00ab..\xff\x00a", |_| n += 1);
        assert_eq!(n, 1);
    }
}

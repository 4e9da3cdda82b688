//! Which of a set of literals a message contains: the engine's prefilter.
//!
//! Two searches share the work, each at what it does best:
//! - **Long literals** (at least [`LONG`] + [`STEP`] - 1 bytes, nearly all of the pack's) are found
//!   by *anchors*: windows of [`LONG`] bytes. Each literal gives [`STEP`] consecutive windows, placed
//!   where its bytes are rarest in log text, and every window sets one bit of a small table (8 KiB,
//!   so it stays in the L1 cache). The message is looked at only every [`STEP`]th byte: the
//!   [`LONG`] bytes ending there are hashed to one bit, clear at nearly every place. A literal's
//!   windows end at [`STEP`] consecutive places, so exactly one of them is looked at wherever the
//!   literal occurs. At a set bit, the literals with that window are compared in place.
//! - **Short literals** (from [`SHORT`] bytes, a few dozen) are found the same way with windows of
//!   two bytes, looked at every second byte: each gives its two consecutive pairs where its bytes
//!   are rarest, and the pair ending at a place looked at indexes a table of one bit per pair
//!   (8 KiB, no hashing). A set bit is confirmed by a second table, of the literals' three anchor
//!   bytes hashed, for the three bytes the pair begins or ends; then the short literals with that
//!   pair are compared in place.
//!
//! A multi-literal automaton would do the whole job with a transition table that grows with the
//! literals' total length (10 KB of literals make a DFA of megabytes, which misses the cache on
//! every line), and walks it at every byte: an overlapping Aho-Corasick search over the short
//! literals alone cost 1.7 times the instructions of the stepped pair table on the dense bench corpus. These
//! tables do not grow, and the long search's work per byte shrinks with [`STEP`].
//!
//! The answer is exact: a literal is reported at every place it occurs, whatever overlaps it.

/// The shortest literal the engine prefilters on.
pub const SHORT: usize = 3;
/// The width of a long literal's anchor windows.
pub const LONG: usize = 8;
/// Bytes between two places the long search looks at (and windows per long literal).
pub const STEP: usize = 4;
/// log2 of the bits in the anchor table: 8 KiB for the pack's ~1,600 windows, about 2.5% of its
/// bits set, so a place looked at that holds no anchor is compared in place about once in 40.
const TABLE_BITS: u32 = 16;
const TABLE_WORDS: usize = 1 << (TABLE_BITS - 6);

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

/// A window of [`LONG`] bytes as one number (its first byte highest, as a big-endian load gives).
#[inline(always)]
fn pack(window: &[u8]) -> u64 {
    let mut b = [0u8; LONG];
    b.copy_from_slice(&window[..LONG]);
    u64::from_be_bytes(b)
}

/// The long literals' anchor windows.
#[derive(Debug, Clone)]
struct Anchors {
    /// One bit per hashed window.
    table: Box<[u64; TABLE_WORDS]>,
    /// (window, literal, offset of the window in the literal), sorted by window.
    list: Vec<(u64, u32, u32)>,
}

impl Anchors {
    #[inline(always)]
    fn slot(w: u64) -> usize {
        (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
    }

    fn add(&mut self, window: &[u8], literal: usize, offset: usize) {
        let w = pack(window);
        let s = Self::slot(w);
        self.table[s >> 6] |= 1 << (s & 63);
        self.list.push((w, literal as u32, offset as u32));
    }

    #[inline(always)]
    fn admits(&self, w: u64) -> bool {
        let s = Self::slot(w);
        self.table[s >> 6] & (1 << (s & 63)) != 0
    }
}

/// The short literals' anchor pairs.
#[derive(Debug, Clone)]
struct Pairs {
    /// One bit per pair of bytes (the first byte high).
    table: Box<[u64; 1 << 10]>,
    /// One bit per hashed run of three bytes: the two anchor pairs of a literal together. A pair is
    /// often common in log text (`at`, `e `) where the three bytes are not; a set pair bit is
    /// compared in place only when the three bytes it begins or ends also set theirs.
    triples: Box<[u64; 1 << 10]>,
    /// (pair, literal, offset of the pair in the literal), sorted by pair.
    list: Vec<(u16, u32, u32)>,
}

impl Pairs {
    #[inline(always)]
    fn triple_slot(a: u8, b: u8, c: u8) -> usize {
        let t = u32::from_be_bytes([0, a, b, c]);
        (t.wrapping_mul(0x9E37_79B1) >> 16) as usize
    }

    /// True when the three bytes of `hay` from `at` may be the anchor pairs of a literal.
    #[inline(always)]
    fn triple_at(&self, hay: &[u8], at: usize) -> bool {
        match hay.get(at..at + 3) {
            Some(t) => {
                let s = Self::triple_slot(t[0], t[1], t[2]);
                self.triples[s >> 6] & (1 << (s & 63)) != 0
            }
            None => false,
        }
    }
}

/// A set of literals to look for.
#[derive(Debug, Clone)]
pub struct Literals {
    literals: Vec<Vec<u8>>,
    long: Anchors,
    short: Pairs,
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
        let mut long = Anchors { table: Box::new([0; TABLE_WORDS]), list: Vec::new() };
        let mut short = Pairs { table: Box::new([0; 1 << 10]), triples: Box::new([0; 1 << 10]), list: Vec::new() };
        let window_cost = |l: &[u8], o: usize| l[o..o + LONG].iter().map(|&b| commonness(b)).sum::<u32>();
        for (i, l) in literals.iter().enumerate() {
            if l.len() >= LONG + STEP - 1 {
                // The STEP consecutive windows of least total commonness.
                let cost = |o: usize| (o..o + STEP).map(|w| window_cost(l, w)).sum::<u32>();
                let off = (0..=l.len() + 1 - LONG - STEP).min_by_key(|&o| (cost(o), o)).unwrap_or(0);
                for o in off..off + STEP {
                    long.add(&l[o..o + LONG], i, o);
                }
            } else if l.len() >= SHORT {
                // Two consecutive pairs (three bytes) of least total commonness.
                let cost = |o: usize| commonness(l[o]) + 2 * commonness(l[o + 1]) + commonness(l[o + 2]);
                let off = (0..l.len() - 2).min_by_key(|&o| (cost(o), o)).unwrap_or(0);
                let t = Pairs::triple_slot(l[off], l[off + 1], l[off + 2]);
                short.triples[t >> 6] |= 1 << (t & 63);
                for o in off..off + 2 {
                    let pair = u16::from_be_bytes([l[o], l[o + 1]]);
                    short.table[usize::from(pair >> 6)] |= 1 << (pair & 63);
                    short.list.push((pair, i as u32, o as u32));
                }
            }
        }
        long.list.sort_unstable();
        short.list.sort_unstable();
        Literals { literals, long, short }
    }

    /// The literals, in the order given.
    pub fn literals(&self) -> &[Vec<u8>] {
        &self.literals
    }

    /// Calls `found` with the index of a literal at every place it occurs in `hay` (a literal that
    /// occurs twice is reported twice); the order is unspecified.
    #[inline]
    pub fn find(&self, hay: &[u8], mut found: impl FnMut(usize)) {
        if !self.short.list.is_empty() {
            for (i, p) in hay.chunks_exact(2).enumerate() {
                let pair = u16::from_be_bytes([p[0], p[1]]);
                if self.short.table[usize::from(pair >> 6)] & (1 << (pair & 63)) != 0 {
                    // The pair looked at is the first or the second of a literal's two.
                    let at = 2 * i;
                    if self.short.triple_at(hay, at) || (at > 0 && self.short.triple_at(hay, at - 1)) {
                        self.verify(&self.short.list, hay, at, pair, &mut found);
                    }
                }
            }
        }
        if hay.len() < LONG {
            return;
        }
        let mut end = LONG;
        while end <= hay.len() {
            let w = pack(&hay[end - LONG..end]);
            if self.long.admits(w) {
                self.verify(&self.long.list, hay, end - LONG, w, &mut found);
            }
            end += STEP;
        }
    }

    /// Reports the literals of `list` (anchors sorted by key) whose anchor `key` starts at `at`
    /// and that occur there.
    #[cold]
    fn verify<K: Ord + Copy>(
        &self,
        list: &[(K, u32, u32)],
        hay: &[u8],
        at: usize,
        key: K,
        found: &mut impl FnMut(usize),
    ) {
        let from = list.partition_point(|a| a.0 < key);
        for &(ak, li, off) in &list[from..] {
            if ak != key {
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

    /// A small deterministic generator: each call gives a number below its argument.
    fn lcg(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        }
    }

    #[test]
    fn agrees_with_the_obvious_search_on_varied_text() {
        // Literals that share anchors and bytes, against text made of their pieces.
        let lits = ["state:D", ") D ", ") Z ", "PPID", "STAT", "[ERR] ", "[WRN] ", "rbd: rbd", "watcher="];
        let pieces = ["state:", "D", ") ", "Z ", "PP", "ID", "ST", "AT", "[ER", "R] ", "rbd: ", "watcher", "=", " "];
        let mut next = lcg(7);
        for _ in 0..500 {
            let mut hay = String::new();
            for _ in 0..12 {
                hay.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let want: Vec<usize> = naive(&lits, &hay).into_iter().map(|(i, _)| i).collect();
            assert_eq!(found(&lits, &hay), want, "{hay:?}");
        }
    }

    #[test]
    fn long_literals_are_found_at_every_offset_whatever_the_step() {
        // Literals of every length from SHORT to past LONG + STEP, over a small alphabet so that they
        // occur often, overlap each other and start at every place modulo STEP.
        let mut next = lcg(11);
        let alphabet = b"ab: -";
        let word = |len: usize, next: &mut dyn FnMut(u64) -> u64| -> String {
            (0..len).map(|_| alphabet[next(alphabet.len() as u64) as usize] as char).collect()
        };
        for _ in 0..40 {
            let lits: Vec<String> = (SHORT..LONG + STEP + 6).map(|len| word(len, &mut next)).collect();
            let lits: Vec<&str> = lits.iter().map(String::as_str).collect();
            for _ in 0..25 {
                // A haystack made of pieces of the literals and random bytes.
                let mut hay = String::new();
                while hay.len() < 120 {
                    match next(3) {
                        0 => hay.push_str(&word(1 + next(4) as usize, &mut next)),
                        _ => {
                            let l = lits[next(lits.len() as u64) as usize];
                            let from = next(3) as usize;
                            hay.push_str(&l[from.min(l.len())..]);
                        }
                    }
                }
                let want: Vec<usize> = naive(&lits, &hay).into_iter().map(|(i, _)| i).collect();
                assert_eq!(found(&lits, &hay), want, "{lits:?} in {hay:?}");
            }
        }
    }

    #[test]
    fn a_crowded_table_still_finds_exactly_what_the_obvious_search_finds() {
        // Hundreds of literals of every length fill the tables (many shared bits, pairs and triples);
        // the haystacks mix pieces of them with random bytes of the same small alphabet.
        let mut next = lcg(23);
        let alphabet = b"abcde :[]0x-";
        let lits: Vec<String> = (0..600)
            .map(|_| {
                let len = SHORT + next(14) as usize;
                (0..len).map(|_| alphabet[next(alphabet.len() as u64) as usize] as char).collect()
            })
            .collect();
        let lits: Vec<&str> = lits.iter().map(String::as_str).collect();
        for _ in 0..60 {
            let mut hay = String::new();
            while hay.len() < 200 {
                if next(2) == 0 {
                    hay.push(alphabet[next(alphabet.len() as u64) as usize] as char);
                } else {
                    let l = lits[next(lits.len() as u64) as usize];
                    hay.push_str(&l[next(l.len() as u64) as usize..]);
                }
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

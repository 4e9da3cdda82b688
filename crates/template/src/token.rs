//! Tokenising a message: whitespace-separated words, each masked and hashed, into reusable buffers.

use std::hash::{BuildHasherDefault, Hasher};

use crate::mask::{is_keyword, mask_word, WordKind};

/// One word of a message after masking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Hash of the masked bytes (equal masked words have equal hashes).
    pub hash: u64,
    /// Where the masked bytes sit in [`Tokens::text`].
    pub start: u32,
    /// Length of the masked bytes.
    pub len: u32,
    /// What masking found in the word.
    pub kind: WordKind,
    /// Whether the word is a keyword: left whole by masking, no `key=value`, no unit. A different
    /// keyword at a template's position means a different event.
    pub keyword: bool,
    /// Whether the word reads as a word of prose ([`crate::mask::is_keyword`]): letters, no name.
    pub word: bool,
    /// Whether the word is a unit after a number (`KB`, `ms`, `sec`): part of the value.
    pub unit: bool,
}

/// A tokenised message; reused from line to line so that tokenising allocates nothing once warm.
#[derive(Default, Debug)]
pub struct Tokens {
    /// The words, in order.
    pub tokens: Vec<Token>,
    /// The masked bytes of every word, back to back.
    pub text: Vec<u8>,
    /// Words masked before.
    cache: WordCache,
}

impl Tokens {
    /// Empties the buffers, keeping their capacity.
    pub fn clear(&mut self) {
        self.tokens.clear();
        self.text.clear();
    }

    /// Tokenises `msg` (replacing what was there). Words are split on ASCII whitespace; at most
    /// `max_tokens` words are kept, the rest is folded into the last one (a bounded cost per line).
    pub fn fill(&mut self, msg: &[u8], max_tokens: usize) {
        self.clear();
        let mut i = 0;
        let n = msg.len();
        while i < n {
            while i < n && msg[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= n {
                break;
            }
            let s = i;
            let start = self.text.len();
            let m = if self.tokens.len() + 1 >= max_tokens {
                i = n;
                while i > s && msg[i - 1].is_ascii_whitespace() {
                    i -= 1;
                }
                self.cache.mask(&msg[s..i], &mut self.text)
            } else {
                // The word's end and its cache key in one pass over its bytes.
                let key;
                (i, key) = scan_word(msg, i);
                self.cache.mask_keyed(&msg[s..i], &key, &mut self.text)
            };
            let kind = m.kind;
            // A unit after a number is part of the value (`5.2 KB` vs `93.0 B`, `<1 sec`): it stays
            // in the text (labels keep `<*> MB`) but is no keyword, so a different unit is a variable.
            let unit = kind == WordKind::Constant
                && self.tokens.last().is_some_and(|t| t.kind == WordKind::Variable)
                && m.unit_word;
            let word = kind == WordKind::Constant && !unit && m.prose;
            // Any word without a masked value is a keyword, except `key=value` (`user=root`): its
            // value is usually a variable even when it has no digit.
            let keyword = kind == WordKind::Constant && !unit && !m.has_eq;
            self.tokens.push(Token {
                hash: m.hash,
                start: start as u32,
                len: (self.text.len() - start) as u32,
                kind,
                keyword,
                word,
                unit,
            });
        }
    }

    /// The masked bytes of token `t`.
    pub fn bytes(&self, t: &Token) -> &[u8] {
        &self.text[t.start as usize..(t.start + t.len) as usize]
    }

    /// Hash of the words of the message that are not pure variables, in order, when at least `min`
    /// of them are keywords.
    pub fn constant_signature(&self, min: usize) -> Option<u64> {
        let mut h = FxHasher::default();
        let mut n = 0usize;
        for t in self.tokens.iter().filter(|t| t.kind != WordKind::Variable && !t.unit) {
            // Names with a number (`dn14`, `eth0`) are left out too: lists of them vary in length.
            if self.bytes(t).iter().any(|b| b.is_ascii_digit()) {
                continue;
            }
            h.write_u64(t.hash);
            n += t.word as usize;
        }
        (n >= min).then(|| {
            h.write_usize(n);
            h.finish()
        })
    }

    /// Hash of the whole masked token sequence.
    pub fn sequence_hash(&self) -> u64 {
        let mut h = FxHasher::default();
        h.write_usize(self.tokens.len());
        for t in &self.tokens {
            h.write_u64(t.hash);
        }
        h.finish()
    }
}

/// Where the word at `i` ends: the first ASCII whitespace byte at or after `i`, or `msg.len()`.
///
/// Eight bytes at a time: whitespace bytes are all below 0x21, and a chunk with no byte below 0x21
/// (most of a word's) is passed with a few arithmetic operations instead of a test per byte.
fn word_end(msg: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(chunk) = msg.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // The high bit of each byte below 0x21 (exact for the lowest such byte, the first in the
        // text; bytes after it may be marked by the borrow).
        let low = x.wrapping_sub(ONES * 0x21) & !x & (ONES * 0x80);
        if low == 0 {
            i += 8;
            continue;
        }
        let at = i + (low.trailing_zeros() / 8) as usize;
        if msg[at].is_ascii_whitespace() {
            return at;
        }
        // A control byte that is no whitespace: part of the word.
        i = at + 1;
    }
    while i < msg.len() && !msg[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Where the word at `s` ends ([`word_end`]) and, when it has at most [`CACHED_WORD`] bytes, its
/// [`Chunks`] (any value for a longer word).
///
/// The 8-byte chunks read to find the end are the word's chunks: all but the last are kept as they
/// are, the last is cut at the end, so the word's bytes are read once.
#[inline]
fn scan_word(msg: &[u8], s: usize) -> (usize, Chunks) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut key = [0u64; CACHED_WORD / 8];
    let mut i = s;
    let mut k = 0;
    while let Some(chunk) = msg.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // The high bit of each byte below 0x21, exact for the first (see `word_end`).
        let low = x.wrapping_sub(ONES * 0x21) & !x & (ONES * 0x80);
        if low == 0 {
            if let Some(c) = key.get_mut(k) {
                *c = x;
            }
            k += 1;
            i += 8;
            continue;
        }
        let at = (low.trailing_zeros() / 8) as usize;
        if !msg[i + at].is_ascii_whitespace() {
            // A control byte that is no whitespace is part of the word (rare): the slow way.
            let end = word_end(msg, i + at + 1);
            let word = &msg[s..end];
            return (end, if word.len() <= CACHED_WORD { chunks(word) } else { key });
        }
        if let Some(c) = key.get_mut(k) {
            // The bytes before the end (none when `at` is 0: the padding chunk).
            *c = x & ((1u64 << (8 * at)) - 1);
        }
        return (i + at, key);
    }
    // Fewer than 8 bytes left.
    let rest = &msg[i..];
    let len = rest.iter().position(u8::is_ascii_whitespace).unwrap_or(rest.len());
    if len > 0 {
        if let Some(c) = key.get_mut(k) {
            *c = le_padded(&rest[..len]);
        }
    }
    (i + len, key)
}

/// Words up to this many bytes are kept in a [`WordCache`] (with their masked form up to as long).
const CACHED_WORD: usize = 32;
/// Slots of a [`WordCache`] (a power of two).
const CACHE_SLOTS: usize = 2048;

/// What tokenising needs of one word: its masked form's kind and hash, and the facts the token's
/// flags are made of. All of it is a pure function of the word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Masked {
    kind: WordKind,
    /// [`hash_bytes`] of the masked bytes.
    hash: u64,
    /// [`is_keyword`] of the masked bytes.
    prose: bool,
    /// The masked bytes hold a `=`.
    has_eq: bool,
    /// [`is_unit`] of the word.
    unit_word: bool,
}

/// Masks `word` into `out` (appended).
///
/// The flags only matter for a word left whole ([`WordKind::Constant`]: [`Tokens::fill`] reads them
/// for no other kind), so they are only worked out for one, and are false for
/// any other.
fn mask(word: &[u8], out: &mut Vec<u8>) -> Masked {
    let start = out.len();
    let kind = mask_word(word, out);
    let bytes = &out[start..];
    let hash = hash_bytes(bytes);
    if kind != WordKind::Constant {
        return Masked { kind, hash, prose: false, has_eq: false, unit_word: false };
    }
    Masked {
        kind,
        hash,
        prose: is_keyword(bytes),
        has_eq: memchr::memchr(b'=', bytes).is_some(),
        unit_word: is_unit(word),
    }
}

/// Masked words by their bytes: masking is a pure function of the word, and most of a log's words
/// come back again and again (its constant words, class names, keys), so a word seen before is
/// copied instead of masked anew. Direct-mapped ([`slot_of`]), 176 KiB; a word longer than
/// [`CACHED_WORD`] bytes is masked each time. [`WordCache::mask`] gives what [`mask`] gives.
///
/// A word is held as four zero-padded 8-byte chunks ([`Chunks`]): it is hashed, compared and its
/// masked form copied in a few word-sized operations, with no call to `memcmp` or `memcpy`.
#[derive(Clone)]
struct WordCache {
    slots: Box<[Cached]>,
}

/// A word of at most [`CACHED_WORD`] bytes as little-endian 8-byte chunks, zero after its end.
type Chunks = [u64; CACHED_WORD / 8];

#[derive(Clone, Copy)]
struct Cached {
    /// `u8::MAX` for an empty slot.
    word_len: u8,
    masked_len: u8,
    masked: Masked,
    word: Chunks,
    text: [u8; CACHED_WORD],
}

/// `word` (at most [`CACHED_WORD`] bytes) as [`Chunks`].
#[inline]
fn chunks(word: &[u8]) -> Chunks {
    let mut c = [0u64; CACHED_WORD / 8];
    for (k, part) in word.chunks(8).enumerate() {
        c[k] = le_padded(part);
    }
    c
}

/// `u64::from_le_bytes` of 1 to 8 bytes padded with zeros, without copying them into a buffer:
/// two loads that may overlap (the overlapping bytes are the same in both).
#[inline]
fn le_padded(part: &[u8]) -> u64 {
    let n = part.len();
    debug_assert!((1..=8).contains(&n));
    let at = |i: usize| u64::from(part[i]);
    match n {
        8 => u64::from_le_bytes(part.try_into().expect("8 bytes")),
        4..=7 => {
            let lo = u32::from_le_bytes(part[..4].try_into().expect("4 bytes"));
            let hi = u32::from_le_bytes(part[n - 4..].try_into().expect("4 bytes"));
            u64::from(lo) | (u64::from(hi) << (8 * (n - 4)))
        }
        _ => at(0) | (at(n / 2) << (8 * (n / 2))) | (at(n - 1) << (8 * (n - 1))),
    }
}

/// The [`WordCache`] slot of a word of `len` bytes from its [`Chunks`]: the four chunks folded
/// into one word and mixed by one multiplication, a fixed number of operations whatever the
/// length (no loop). Only where a word is kept depends on it (a slot's word is compared whole).
#[inline]
fn slot_of(c: &Chunks, len: usize) -> usize {
    let folded = c[0] ^ c[1].rotate_left(16) ^ c[2].rotate_left(32) ^ c[3].rotate_left(48) ^ (len as u64);
    // The top bits of the product depend on every bit of `folded`.
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - CACHE_SLOTS.trailing_zeros())) as usize
}

impl Default for WordCache {
    fn default() -> WordCache {
        let empty = Cached {
            word_len: u8::MAX,
            masked_len: 0,
            masked: Masked { kind: WordKind::Constant, hash: 0, prose: false, has_eq: false, unit_word: false },
            word: [0; CACHED_WORD / 8],
            text: [0; CACHED_WORD],
        };
        WordCache { slots: vec![empty; CACHE_SLOTS].into_boxed_slice() }
    }
}

impl std::fmt::Debug for WordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordCache").field("slots", &self.slots.len()).finish()
    }
}

impl WordCache {
    /// [`mask`], from the cache when `word` was masked before.
    #[inline]
    fn mask(&mut self, word: &[u8], out: &mut Vec<u8>) -> Masked {
        if word.len() > CACHED_WORD {
            return mask(word, out);
        }
        self.mask_keyed(word, &chunks(word), out)
    }

    /// [`WordCache::mask`] given `key`, the [`Chunks`] of `word` when it has at most
    /// [`CACHED_WORD`] bytes (not read for a longer word).
    #[inline(always)]
    fn mask_keyed(&mut self, word: &[u8], key: &Chunks, out: &mut Vec<u8>) -> Masked {
        if word.len() > CACHED_WORD {
            return mask(word, out);
        }
        debug_assert_eq!(*key, chunks(word));
        let slot = &mut self.slots[slot_of(key, word.len())];
        if usize::from(slot.word_len) == word.len() && slot.word == *key {
            // The whole text, then cut to its length: a fixed-size copy.
            let start = out.len();
            out.extend_from_slice(&slot.text);
            out.truncate(start + usize::from(slot.masked_len));
            return slot.masked;
        }
        let start = out.len();
        let masked = mask(word, out);
        let text = &out[start..];
        if text.len() <= CACHED_WORD {
            slot.word_len = word.len() as u8;
            slot.word = *key;
            slot.masked_len = text.len() as u8;
            slot.text[..text.len()].copy_from_slice(text);
            slot.masked = masked;
        }
        masked
    }
}

/// Units of sizes and durations written after a number: `KB`, `MB`, `sec`, `ms`... When `word` is
/// one (possibly followed by punctuation: `KB)`, `sec.`).
fn is_unit(word: &[u8]) -> bool {
    const UNITS: [&[u8]; 16] = [
        b"B", b"KB", b"MB", b"GB", b"TB", b"kB", b"KiB", b"MiB", b"GiB", b"TiB", b"ms", b"us", b"ns", b"sec", b"secs",
        b"s",
    ];
    let core = word.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (unit, trail) = word.split_at(core);
    UNITS.contains(&unit) && trail.iter().all(|b| b.is_ascii_punctuation())
}

/// Hash of a byte string (FxHash-style: fast, not DoS-resistant, which is fine for mined templates).
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.write_usize(b.len());
    h.finish()
}

/// A small multiply-rotate hasher for integer keys and short byte strings.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.add(le_padded(rest));
        }
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // A final mix so that low bits (used by hash tables) depend on every input bit.
        let h = self.hash;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
}

/// `HashMap` hasher builder for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache gives what masking gives, for words seen once and again, words that evict each
    /// other from a slot, words too long to keep and words whose masked form is too long to keep.
    #[test]
    fn the_cache_masks_as_masking_does() {
        let mut words: Vec<Vec<u8>> = Vec::new();
        for i in 0..6000u32 {
            words.push(format!("w{}", i % 3000).into_bytes());
            words.push(format!("blk_-{i}").into_bytes());
            words.push(format!("(10.0.{}.{}:22)", i % 7, i % 300).into_bytes());
            let fixed = ["session", "eth0", "sdb", "Jun", "uid=0", "/var/log/x", "KB", "sec.", "a=b"];
            words.push(fixed[i as usize % fixed.len()].as_bytes().to_vec());
        }
        words.push(b"org.apache.hadoop.hdfs.server.datanode.DataNode$PacketResponder:".to_vec());
        words.push(b"1:2:3:4:5:6:7:8:9:10:11:12".to_vec());
        words.push(b"a1:b2:c3:d4:e5:f6:a7:b8:c9".to_vec());
        words.push("\u{00e9}t\u{00e9}42".as_bytes().to_vec());
        // Around the longest word kept, with masked forms shorter and longer than it.
        for n in CACHED_WORD - 2..=CACHED_WORD + 1 {
            words.push(b"abcdefghij".iter().cycle().take(n).copied().collect());
            words.push(b"7:".iter().cycle().take(n).copied().collect());
        }
        for w in &words {
            // The hash as it was computed before (the last chunk copied into a zeroed buffer).
            let mut h = FxHasher::default();
            for c in w.chunks(8) {
                let mut buf = [0u8; 8];
                buf[..c.len()].copy_from_slice(c);
                h.add(u64::from_le_bytes(buf));
            }
            h.write_usize(w.len());
            assert_eq!(hash_bytes(w), h.finish());
        }
        // Words that differ in any chunk, or only in length, spread over the slots.
        let slots: std::collections::HashSet<usize> =
            words.iter().filter(|w| w.len() <= CACHED_WORD).map(|w| slot_of(&chunks(w), w.len())).collect();
        assert!(slots.len() > CACHE_SLOTS * 3 / 4, "{} slots used", slots.len());
        let mut cache = WordCache::default();
        for w in words.iter().chain(words.iter().rev()) {
            let (mut a, mut b) = (b"x".to_vec(), b"x".to_vec());
            let cached = cache.mask(w, &mut a);
            let fresh = mask(w, &mut b);
            assert_eq!((cached, &a), (fresh, &b), "{}", String::from_utf8_lossy(w));
        }
    }

    /// [`word_end`] and [`scan_word`] find what a byte-by-byte scan finds, wherever the whitespace
    /// and the control bytes that are not whitespace fall relative to their 8-byte chunks, and
    /// [`scan_word`] gives the word's [`chunks`].
    #[test]
    fn word_ends_are_found_as_byte_by_byte() {
        let bytes = [b'a', b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r', 0x01, 0x00, 0x20, 0x21, 0x80, 0xff, b'-'];
        let mut state: u64 = 7;
        for _ in 0..50_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = (state >> 58) as usize;
            // Half the messages have long words (up to the message), around and beyond the
            // longest word the cache keeps.
            let dense = (state >> 40) & 1 == 1;
            let msg: Vec<u8> = (0..len)
                .map(|k| {
                    let r = state.rotate_left(k as u32 * 5) >> 59;
                    // Mostly word bytes, as in text.
                    if r < 20 || (dense && r < 30) {
                        b'a' + (r as u8)
                    } else {
                        bytes[(r as usize) % bytes.len()]
                    }
                })
                .collect();
            for i in 0..=msg.len() {
                let naive = i + msg[i..].iter().position(u8::is_ascii_whitespace).unwrap_or(msg.len() - i);
                assert_eq!(word_end(&msg, i), naive, "{msg:?} from {i}");
                // The fused scan finds the same end and, for a word short enough to cache, the
                // chunks `chunks` makes of it.
                let (end, key) = scan_word(&msg, i);
                assert_eq!(end, naive, "{msg:?} from {i}");
                if naive - i <= CACHED_WORD {
                    assert_eq!(key, chunks(&msg[i..naive]), "{msg:?} from {i}");
                }
            }
        }
    }

    #[test]
    fn words_masked_and_hashed() {
        let mut t = Tokens::default();
        t.fill(b"  session opened for  user 42\tby (uid=0)", 64);
        let words: Vec<&[u8]> = t.tokens.iter().map(|k| t.bytes(k)).collect();
        assert_eq!(words, vec![&b"session"[..], b"opened", b"for", b"user", b"<*>", b"by", b"(uid=<*>)"]);
        let mut u = Tokens::default();
        u.fill(b"session opened for user 7 by (uid=100)", 64);
        assert_eq!(t.sequence_hash(), u.sequence_hash());
        // A unit after a number is no keyword and is left out of the constant signature.
        u.fill(b"estimated size 5.2 KB, free 317.1 KB)", 64);
        assert!(u.tokens[3].unit && !u.tokens[3].keyword && !u.tokens[1].unit);
        let sig = u.constant_signature(2);
        u.fill(b"estimated size 93 B, free 317 KB)", 64);
        assert_eq!(u.constant_signature(2), sig);
        u.fill(b"estimated size 93, free 317", 64);
        assert_eq!(u.constant_signature(2), sig);
        u.fill(b"estimated size 93 bytes, free 317", 64);
        assert_ne!(u.constant_signature(2), sig);
        assert_eq!(u.constant_signature(9), None);
        u.fill(b"a b c d e", 3);
        assert_eq!(u.tokens.len(), 3);
        assert_eq!(u.bytes(&u.tokens[2]), b"c d e");
    }
}

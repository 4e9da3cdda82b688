//! Variable masking: turns one whitespace-separated word of a message into its masked form.
//!
//! The rules are generic (no dataset-specific patterns). A word is cut into *runs* of word characters
//! (ASCII letters, digits, `_`, and any non-ASCII byte) separated by punctuation. A run is a variable
//! when it holds a digit (numbers, hex, `dm-21`, `nvme0n1`, `120s`, `4096KB`, times, block numbers,
//! the parts of IPs and UUIDs) or names a SCSI disk (`sda`, `sdv`, `sdaa`). Variable runs become
//! `<*>`; numbers joined by dots (`10.0.0.1`, `1.16`) or by `:`/`-` inside an address made only of
//! hex runs (IPv6, MAC, UUID) collapse to one `<*>`. A word that is a path or a URL (`/var/log/x`,
//! `http://h/p`) becomes `<*>` as a whole, keeping the brackets and quotes around it. Punctuation is
//! kept, so `uid=0` masks to `uid=<*>`, `blk_-42` to `blk_<*>`, and `(10.1.2.3:22)` to `(<*>:<*>)`.

/// The text a variable is replaced with.
pub const WILDCARD: &[u8] = b"<*>";

/// What a masked word turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordKind {
    /// No variable in it: the word is kept as it was.
    Constant,
    /// Some runs were masked, some constant text is left (`uid=<*>`, `blk_<*>`).
    Mixed,
    /// Nothing but variables and punctuation (`<*>`, `<*>:<*>`, `[<*>]`).
    Variable,
}

/// Bytes of a run (`_` included: `job_7_3` is one run, masked as a whole).
#[inline]
fn is_word_byte(b: u8) -> bool {
    CLASS[usize::from(b)] & WORD != 0
}

/// [`CLASS`] bit of an ASCII digit (1, so that adding `class & DIGIT` counts digits).
const DIGIT: u8 = 1;
/// [`CLASS`] bit of a word byte: ASCII letters and digits, `_`, and any byte from 0x80.
const WORD: u8 = 2;
/// [`CLASS`] bit of an ASCII hex digit (`0-9`, `a-f`, `A-F`).
const HEX: u8 = 4;

/// What [`mask_general`] asks of each byte, in one table look-up per byte.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_digit() {
            t[b] |= DIGIT;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            t[b] |= WORD;
        }
        if c.is_ascii_hexdigit() {
            t[b] |= HEX;
        }
        b += 1;
    }
    t
};

/// A word that reads as a keyword: letters, with `_`, `-`, `:`, `,` or brackets around them. Not a
/// name such as a host (`www.example.com`), a file (`chrome.exe`), or anything masked. Such a plain
/// word as first word picks the miner's bucket, and plain words count towards a message's constant
/// signature (see [`crate::miner`]).
pub fn is_keyword(w: &[u8]) -> bool {
    // A sentence's final punctuation does not make a word a name (`WindowsUpdateAgent.`).
    let w = match w {
        [rest @ .., b'.' | b'!' | b'?' | b';'] => rest,
        _ => w,
    };
    // Names ending in a digit or two (`SOCKS5`, `ssh2`) are keywords too, as masking keeps them.
    let digits = w.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let w = if digits <= 2 && w.len() > digits + 1 { &w[..w.len() - digits] } else { w };
    w.iter().any(|b| b.is_ascii_alphabetic())
        && w.iter().all(|&b| {
            b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b':' | b'[' | b']' | b'(' | b')' | b',' | b'\'' | b'"')
        })
}

/// Brackets, quotes and separators that may wrap a path or URL (`(/dev/sda)`, `"/x",`).
fn is_wrapper(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'"' | b'\'' | b',' | b';' | b'`')
}

/// Masks `word` (no whitespace in it) into `out` (appended) and says what it was.
///
/// ```
/// use rootline_template::mask::{mask_word, WordKind};
/// let mut out = Vec::new();
/// assert_eq!(mask_word(b"rhost=218.188.2.4", &mut out), WordKind::Mixed);
/// assert_eq!(out, b"rhost=<*>");
/// ```
pub fn mask_word(word: &[u8], out: &mut Vec<u8>) -> WordKind {
    match mask_plain(word, out) {
        Some(kind) => kind,
        None => mask_general(word, out),
    }
}

/// The most common words, one run of word bytes (plain numbers, plain words, hex ids such as
/// `37cc9dd2...`, `tmp83537`, `job_7_3`) with at most one punctuation byte after it, masked in one
/// pass without the general ones; `None` for any other word. The result is the same as
/// [`mask_general`]'s: such a word is no path or URL (no `/` or `\`), no address (no separator
/// between hex runs) and no wrapper starts it, so it is one run and the punctuation after it.
#[inline]
fn mask_plain(word: &[u8], out: &mut Vec<u8>) -> Option<WordKind> {
    let (body, punct) = match word {
        [body @ .., p] if p.is_ascii_punctuation() && !matches!(p, b'_' | b'-' | b'/' | b'\\') => (body, Some(*p)),
        _ => (word, None),
    };
    if body.is_empty() {
        return None;
    }
    let mut digits = 0;
    for &b in body {
        let class = CLASS[usize::from(b)];
        if class & WORD == 0 {
            return None;
        }
        digits += usize::from(class & DIGIT);
    }
    let variable = is_variable_run_of(body, digits);
    if !variable {
        out.extend_from_slice(word);
        return Some(WordKind::Constant);
    }
    out.extend_from_slice(WILDCARD);
    out.extend(punct);
    Some(WordKind::Variable)
}

/// [`mask_word`] for any word.
fn mask_general(word: &[u8], out: &mut Vec<u8>) -> WordKind {
    let start = out.len();
    // Paths and URLs: the core (without wrapping brackets/quotes) is one variable.
    let lead = word.iter().take_while(|&&b| is_wrapper(b)).count();
    let trail = word[lead..].iter().rev().take_while(|&&b| is_wrapper(b) || b == b'.' || b == b':').count();
    let core = &word[lead..word.len() - trail];
    if is_path_or_url(core) || is_hex_address(core) {
        out.extend_from_slice(&word[..lead]);
        out.extend_from_slice(WILDCARD);
        out.extend_from_slice(&word[word.len() - trail..]);
        // Brackets, quotes, `.` and `:` around it: no word byte is left.
        return WordKind::Variable;
    }
    // One pass: each run's digits are counted while it is scanned, and the word's kind follows
    // from its runs (the bytes pushed between them are never word bytes), so nothing is read twice.
    let (mut any_var, mut any_constant) = (false, false);
    let mut i = 0;
    while i < word.len() {
        let b = word[i];
        if !is_word_byte(b) {
            // A minus sign glued to a number (`-42`, `blk_-42`) belongs to the number, but not the
            // dash of `dm-21` (a word byte before it).
            let sign = b == b'-'
                && word.get(i + 1).is_some_and(|c| c.is_ascii_digit())
                && (i == 0 || !word[i - 1].is_ascii_alphanumeric());
            if !sign {
                out.push(b);
                i += 1;
                continue;
            }
            i += 1;
        }
        let s = i;
        let mut digits = 0;
        loop {
            let rest = &word[i..];
            let mut len = 0;
            while len < rest.len() {
                let class = CLASS[usize::from(rest[len])];
                if class & WORD == 0 {
                    break;
                }
                digits += usize::from(class & DIGIT);
                len += 1;
            }
            i += len;
            // `blk_-42` is one identifier, as `blk_42` is.
            let joined = i > s
                && word[i - 1] == b'_'
                && word.get(i) == Some(&b'-')
                && word.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !joined {
                break;
            }
            i += 1;
        }
        let run = &word[s..i];
        if is_variable_run_of(run, digits) {
            any_var = true;
            // `1.16`, `10.0.0.1`: a run after `<*>.` joins the variable before it.
            if out.len() >= start + 4 && out.ends_with(b"<*>.") {
                out.pop();
            } else {
                out.extend_from_slice(WILDCARD);
            }
        } else {
            any_constant = true;
            out.extend_from_slice(run);
        }
    }
    match (any_var, any_constant) {
        (false, _) => WordKind::Constant,
        (true, true) => WordKind::Mixed,
        (true, false) => WordKind::Variable,
    }
}

/// A run of word bytes that is a variable: holds a digit, or names a SCSI disk (`sda`..`sdzz`).
/// Letters ending in one or two digits (`ssh2`, `eth0`, `wl0`, `CPU1`) are names, not values.
#[cfg(test)]
fn is_variable_run(run: &[u8]) -> bool {
    is_variable_run_of(run, run.iter().filter(|b| b.is_ascii_digit()).count())
}

/// [`is_variable_run`] of a run holding `digits` ASCII digits.
#[inline]
fn is_variable_run_of(run: &[u8], digits: usize) -> bool {
    if digits == 0 {
        return is_calendar_or_boolean(run) || is_scsi_disk(run);
    }
    if is_scsi_disk(run) {
        return true;
    }
    // A name: two letters or more, then one or two digits at the end.
    let head = run.len() - digits;
    let name = digits <= 2 && head >= 2 && run[..head].iter().all(u8::is_ascii_alphabetic);
    !name
}

/// A SCSI disk or partition name: `sd`, one or two lower-case letters, digits (`sda`, `sdab12`).
fn is_scsi_disk(run: &[u8]) -> bool {
    if !run.starts_with(b"sd") || !(3..=6).contains(&run.len()) {
        return false;
    }
    let letters = run[2..].iter().take_while(|b| b.is_ascii_lowercase()).count();
    (1..=2).contains(&letters) && run[2 + letters..].iter().all(|b| b.is_ascii_digit())
}

/// Month and weekday names (parts of timestamps such as `Sat Jun 18 02:08:10 2005`) and the values
/// `true`, `false`, `null`.
fn is_calendar_or_boolean(run: &[u8]) -> bool {
    if !(3..=5).contains(&run.len()) {
        return false;
    }
    // Lower case is prose (`may`, `sat`, `sun`), except the values.
    if run[0].is_ascii_lowercase() {
        return matches!(run, b"true" | b"false" | b"null");
    }
    let mut lower = [0u8; 5];
    for (l, b) in lower.iter_mut().zip(run) {
        *l = b.to_ascii_lowercase();
    }
    matches!(
        &lower[..run.len()],
        b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"may"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"mon"
            | b"tue"
            | b"wed"
            | b"thu"
            | b"fri"
            | b"sat"
            | b"sun"
            | b"true"
            | b"false"
            | b"null"
    )
}

/// `/var/log/x`, `./a/b`, `~/x`, `C:\dir\file`, `scheme://...`.
///
/// Any one of the tests below makes a path, so they run cheapest first: the common absolute path
/// is known from its first bytes, and a `key=...` word fails the relative-path test at its `=`.
fn is_path_or_url(core: &[u8]) -> bool {
    // Every case below needs a `/` or a `\`; most words have neither (one quick scan, no searcher
    // built per word).
    if core.len() < 2 || memchr::memchr2(b'/', b'\\', core).is_none() {
        return false;
    }
    let path_start = core[0] == b'/' || core.starts_with(b"./") || core.starts_with(b"~/");
    if path_start && core[1..].iter().any(|&b| is_word_byte(b)) {
        return true;
    }
    if core.len() > 3 && core[1] == b':' && core[2] == b'\\' && core[0].is_ascii_alphabetic() {
        return true;
    }
    if memchr::memchr_iter(b':', core).any(|i| core[i + 1..].starts_with(b"//")) {
        return true;
    }
    // A relative path with several levels (`a/b/c`); `a/b` alone is often prose (`I/O`, `read/write`).
    if core.iter().all(|&b| b > b' ' && b != b'=') && memchr::memchr_iter(b'/', core).nth(1).is_some() {
        return true;
    }
    // Windows paths without a drive letter (`\\?\GLOBALROOT\Device\...`, `\Windows\System32`).
    memchr::memchr_iter(b'\\', core).nth(1).is_some() && core.iter().any(|&b| is_word_byte(b))
}

/// IPv6 addresses, MACs and UUIDs: hex runs joined by `:` or `-`, with a digit somewhere and at least
/// three separators (`fe80::1` has two `:` in a row, which counts).
fn is_hex_address(core: &[u8]) -> bool {
    if core.len() < 6 {
        return false;
    }
    // One pass: the first byte that is neither hex nor a separator ends it (most words), and the
    // digit it needs is noted on the way.
    let mut seps = 0;
    let mut sep_byte = 0u8;
    let mut digit = 0u8;
    for &b in core {
        let class = CLASS[usize::from(b)];
        if class & HEX != 0 {
            digit |= class & DIGIT;
        } else if b == b':' || b == b'-' {
            if sep_byte != 0 && sep_byte != b {
                return false;
            }
            sep_byte = b;
            seps += 1;
        } else {
            return false;
        }
    }
    digit != 0 && seps >= 3 && (sep_byte == b':' || core.len() >= 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(w: &str) -> (String, WordKind) {
        let mut out = Vec::new();
        let k = mask_word(w.as_bytes(), &mut out);
        (String::from_utf8(out).unwrap(), k)
    }

    #[test]
    fn calendar_words_any_case() {
        const WORDS: [&str; 22] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue", "Wed",
            "Thu", "Fri", "Sat", "Sun", "true", "false", "null",
        ];
        for w in WORDS {
            for v in [w.to_string(), w.to_ascii_uppercase(), w.to_ascii_lowercase()] {
                let lower_prose = v.as_bytes()[0].is_ascii_lowercase() && !["true", "false", "null"].contains(&&*v);
                assert_eq!(is_calendar_or_boolean(v.as_bytes()), !lower_prose, "{v}");
            }
        }
        for w in ["tRUE", "Ja", "Junes", "1Jan", "Mayday", "x"] {
            assert!(!is_calendar_or_boolean(w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn plain_words_mask_as_the_general_rules_do() {
        let mut words: Vec<Vec<u8>> = Vec::new();
        for base in [
            "42",
            "007",
            "18446744073709551615",
            "sda",
            "sdaa",
            "sdk",
            "Jun",
            "MAY",
            "may",
            "true",
            "null",
            "session",
            "Error",
            "x",
            "I",
            "abcdef",
            "deadbeef",
            "sd",
            "sdabc",
            "Sat",
            "False",
            "37cc9dd24710502f598b51e17d70bac0b41f8f69e48eef8433301bfd52d863f7",
            "tmp83537",
            "job_7_3",
            "_",
            "__init__",
            "eth0",
            "ssh22",
            "sda1",
            "abc123def",
            "0x1f",
            "\u{e9}t\u{e9}42",
            "\u{e9}",
        ] {
            words.push(base.as_bytes().to_vec());
            for p in b"!\"#$%&'()*+,.:;<=>?@[]^`{|}~_-/\\" {
                let mut w = base.as_bytes().to_vec();
                w.push(*p);
                words.push(w.clone());
                // Punctuation before the word, or two after it: no plain word.
                w.push(*p);
                words.push(w);
                let mut w = vec![*p];
                w.extend_from_slice(base.as_bytes());
                words.push(w);
            }
        }
        for w in &words {
            let (mut a, mut b) = (b"x".to_vec(), b"x".to_vec());
            let plain = mask_plain(w, &mut a);
            let general = mask_general(w, &mut b);
            if let Some(k) = plain {
                assert_eq!((k, &a), (general, &b), "{}", String::from_utf8_lossy(w));
            } else {
                assert_eq!(a, b"x", "no output when declined");
            }
        }
        // Every word made of one run of word bytes, with at most one punctuation byte after it, is
        // plain (and masked as above); the test above would pass if none were.
        let mut plain = 0;
        for w in &words {
            let (&last, head) = w.split_last().unwrap();
            let punct = last.is_ascii_punctuation() && !matches!(last, b'_' | b'-' | b'/' | b'\\');
            let expect = head.iter().all(|&b| is_word_byte(b)) && (is_word_byte(last) || (punct && !head.is_empty()));
            assert_eq!(mask_plain(w, &mut Vec::new()).is_some(), expect, "{}", String::from_utf8_lossy(w));
            plain += expect as usize;
        }
        assert!(plain > 300, "{plain}");
    }

    /// The former definition, kept here to hold the faster one to it.
    fn is_variable_run_as_before(run: &[u8]) -> bool {
        if is_calendar_or_boolean(run) {
            return true;
        }
        if run.starts_with(b"sd") && (3..=6).contains(&run.len()) {
            let letters = run[2..].iter().take_while(|b| b.is_ascii_lowercase()).count();
            if (1..=2).contains(&letters) && run[2 + letters..].iter().all(|b| b.is_ascii_digit()) {
                return true;
            }
        }
        let digits = run.iter().filter(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        let tail = run.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let name = tail == digits
            && tail <= 2
            && run.len() - tail >= 2
            && run[..run.len() - tail].iter().all(|b| b.is_ascii_alphabetic());
        !name
    }

    /// The former [`mask_general`] (two passes per run and a pass over the output), kept here to
    /// hold the one-pass version to it.
    fn mask_general_as_before(word: &[u8], out: &mut Vec<u8>) -> WordKind {
        let start = out.len();
        let lead = word.iter().take_while(|&&b| is_wrapper(b)).count();
        let trail = word[lead..].iter().rev().take_while(|&&b| is_wrapper(b) || b == b'.' || b == b':').count();
        let core = &word[lead..word.len() - trail];
        if is_path_or_url_as_before(core) || is_hex_address_as_before(core) {
            out.extend_from_slice(&word[..lead]);
            out.extend_from_slice(WILDCARD);
            out.extend_from_slice(&word[word.len() - trail..]);
            return classify(&out[start..]);
        }
        let mut any_var = false;
        let mut i = 0;
        while i < word.len() {
            let b = word[i];
            if !is_word_byte(b) {
                let sign = b == b'-'
                    && word.get(i + 1).is_some_and(|c| c.is_ascii_digit())
                    && (i == 0 || !word[i - 1].is_ascii_alphanumeric());
                if !sign {
                    out.push(b);
                    i += 1;
                    continue;
                }
                i += 1;
            }
            let s = i;
            while i < word.len() && is_word_byte(word[i]) {
                i += 1;
                if i + 1 < word.len() && word[i - 1] == b'_' && word[i] == b'-' && word[i + 1].is_ascii_digit() {
                    i += 1;
                }
            }
            let run = &word[s..i];
            if is_variable_run(run) {
                any_var = true;
                if out.len() >= start + 4 && out.ends_with(b"<*>.") {
                    out.pop();
                } else {
                    out.extend_from_slice(WILDCARD);
                }
            } else {
                out.extend_from_slice(run);
            }
        }
        if !any_var {
            return WordKind::Constant;
        }
        classify(&out[start..])
    }

    /// Variable when nothing but wildcards and punctuation is left.
    fn classify(masked: &[u8]) -> WordKind {
        let mut rest = masked;
        let mut constant = false;
        while let Some((&b, tail)) = rest.split_first() {
            if rest.starts_with(WILDCARD) {
                rest = &rest[WILDCARD.len()..];
                continue;
            }
            if is_word_byte(b) {
                constant = true;
            }
            rest = tail;
        }
        if constant {
            WordKind::Mixed
        } else {
            WordKind::Variable
        }
    }

    /// The former [`is_path_or_url`] (tests in their first order), kept here to hold it to.
    fn is_path_or_url_as_before(core: &[u8]) -> bool {
        if core.len() < 2 || memchr::memchr2(b'/', b'\\', core).is_none() {
            return false;
        }
        if core.windows(3).any(|w| w == b"://") {
            return true;
        }
        let slashes = core.iter().filter(|&&b| b == b'/').count();
        let path_start = core[0] == b'/' || core.starts_with(b"./") || core.starts_with(b"~/");
        if path_start && core[1..].iter().any(|&b| is_word_byte(b)) {
            return true;
        }
        if slashes >= 2 && !core.contains(&b' ') && core.iter().all(|&b| b > b' ' && b != b'=') {
            return true;
        }
        if core.iter().filter(|&&b| b == b'\\').count() >= 2 && core.iter().any(|&b| is_word_byte(b)) {
            return true;
        }
        core.len() > 3 && core[1] == b':' && core[2] == b'\\' && core[0].is_ascii_alphabetic()
    }

    /// The former [`is_hex_address`] (a scan for a digit first), kept here to hold it to.
    fn is_hex_address_as_before(core: &[u8]) -> bool {
        if core.len() < 6 || !core.iter().any(|b| b.is_ascii_digit()) {
            return false;
        }
        let mut seps = 0;
        let mut sep_byte = 0u8;
        for &b in core {
            if b == b':' || b == b'-' {
                if sep_byte != 0 && sep_byte != b {
                    return false;
                }
                sep_byte = b;
                seps += 1;
            } else if !b.is_ascii_hexdigit() {
                return false;
            }
        }
        seps >= 3 && (sep_byte == b':' || core.len() >= 32)
    }

    /// Pieces the masking rules look at: wrappers, separators, signs, `_-`, slashes, `://`, dots
    /// after a wildcard, calendar words, disk names, names with digits, hex, non-ASCII bytes.
    const PIECES: [&[u8]; 33] = [
        b"a",
        b"sd",
        b"Jun",
        b"0",
        b"42",
        b"ff",
        b"_",
        b"-",
        b".",
        b":",
        b"/",
        b"\\",
        b"(",
        b")",
        b"\"",
        b"=",
        b"<*>",
        b"\xc3",
        b"eth",
        b"blk",
        b"://",
        b",",
        b"[",
        b"]",
        b"~",
        b"3ca0af59",
        b"x",
        b"null",
        b"'",
        b"{",
        b"?",
        b" ",
        b"C:\\",
    ];

    /// Every sequence of 1 to `up_to` of `pieces`.
    fn sequences(pieces: &[&[u8]], up_to: usize) -> Vec<Vec<u8>> {
        let mut words: Vec<Vec<u8>> = vec![Vec::new()];
        let mut all = Vec::new();
        for _ in 0..up_to {
            let mut next = Vec::new();
            for w in &words {
                for p in pieces {
                    let mut x = w.clone();
                    x.extend_from_slice(p);
                    next.push(x);
                }
            }
            all.extend(next.iter().cloned());
            words = next;
        }
        all
    }

    /// Words made of [`PIECES`]: every one of up to 3 pieces, and pseudo-random ones of up to 14.
    fn generated_words() -> Vec<Vec<u8>> {
        let mut all = sequences(&PIECES, 3);
        // A fixed linear congruential sequence: the same words on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..200_000 {
            let n = 1 + next() % 14;
            all.push((0..n).flat_map(|_| PIECES[next() % PIECES.len()].iter().copied()).collect());
        }
        all
    }

    /// Every word of the Loghub-2k messages (`../shared/data/loghub-2k` beside the workspace).
    fn loghub_words() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub-2k");
        assert!(dir.is_dir(), "Loghub-2k data not found at {}", dir.display());
        let mut words = Vec::new();
        for d in crate::loghub::DATASETS {
            let lab = crate::loghub::load(&crate::loghub::structured_path(&dir, d)).expect("loghub dataset");
            for c in &lab.contents {
                words.extend(c.as_bytes().split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()).map(<[u8]>::to_vec));
            }
        }
        words
    }

    /// Words near the whole-word tests' edges: every sequence of up to 6 of a few pieces (hex runs,
    /// a letter that is no hex, `:`, `-`, `_`, `/`, a bracket), and pseudo-random addresses (hex runs
    /// joined by 1 to 7 separators, some mixed, some `_-`) with brackets, quotes, dots around them.
    fn address_words() -> Vec<Vec<u8>> {
        const PIECES: [&[u8]; 8] = [b"0", b"fe", b"g", b":", b"-", b"_", b"/", b"["];
        let mut all = sequences(&PIECES, 6);
        const RUNS: [&[u8]; 8] = [b"0", b"7f", b"FE80", b"3ca0af59", b"dead", b"", b"x1", b"42"];
        const SEPS: [&[u8]; 5] = [b":", b"-", b":", b"-", b"_-"];
        const AROUND: [&[u8]; 8] = [b"", b"", b"(", b")", b"[", b"]", b"\"", b".:"];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..100_000 {
            let mut w = AROUND[next() % AROUND.len()].to_vec();
            // Mostly one separator throughout, as in real addresses; sometimes mixed.
            let sep = SEPS[next() % SEPS.len()];
            let mixed = next() % 4 == 0;
            for k in 0..=1 + next() % 7 {
                if k > 0 {
                    w.extend_from_slice(if mixed { SEPS[next() % SEPS.len()] } else { sep });
                }
                w.extend_from_slice(RUNS[next() % RUNS.len()]);
            }
            w.extend_from_slice(AROUND[next() % AROUND.len()]);
            all.push(w);
        }
        all
    }

    #[test]
    fn one_pass_masking_gives_what_it_gave_before() {
        // Addresses with exactly three separators are the edge of the whole-word test: there must
        // be many of them, wrapped and not.
        let addresses = address_words();
        let three = addresses
            .iter()
            .filter(|w| {
                let core: Vec<u8> = w.iter().copied().filter(|b| !b"()[]\".".contains(b)).collect();
                is_hex_address_as_before(&core) && core.iter().filter(|b| matches!(b, b':' | b'-')).count() == 3
            })
            .count();
        assert!(three > 1000, "{three}");
        for w in &addresses {
            let (mut a, mut b, mut c) = (b"x<*>.".to_vec(), b"x<*>.".to_vec(), b"x<*>.".to_vec());
            let before = mask_general_as_before(w, &mut a);
            assert_eq!((mask_general(w, &mut b), &b), (before, &a), "{}", String::from_utf8_lossy(w));
            assert_eq!((mask_word(w, &mut c), &c), (before, &a), "{}", String::from_utf8_lossy(w));
        }
        let generated = generated_words();
        let loghub = loghub_words();
        assert!(generated.len() > 200_000 && loghub.len() > 200_000, "{} {}", generated.len(), loghub.len());
        for w in generated.iter().chain(&loghub) {
            let (mut a, mut b, mut c) = (b"x<*>.".to_vec(), b"x<*>.".to_vec(), b"x<*>.".to_vec());
            let before = mask_general_as_before(w, &mut a);
            assert_eq!((mask_general(w, &mut b), &b), (before, &a), "{}", String::from_utf8_lossy(w));
            assert_eq!((mask_word(w, &mut c), &c), (before, &a), "{}", String::from_utf8_lossy(w));
            assert_eq!(is_path_or_url(w), is_path_or_url_as_before(w), "{}", String::from_utf8_lossy(w));
            assert_eq!(is_hex_address(w), is_hex_address_as_before(w), "{}", String::from_utf8_lossy(w));
        }
    }

    /// Every run of up to 5 bytes over an alphabet of the bytes the rules look at (letters around
    /// `sd`, calendar and boolean words, digits, `_`, a non-ASCII byte) is judged as before, and so
    /// are longer runs built from them.
    #[test]
    fn variable_runs_are_judged_as_before() {
        let alphabet = b"sdaAzJntu1_0\xc3";
        let mut runs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut all = Vec::new();
        for _ in 0..5 {
            let mut next = Vec::new();
            for r in &runs {
                for &b in alphabet {
                    let mut x = r.clone();
                    x.push(b);
                    next.push(x);
                }
            }
            all.extend(next.iter().cloned());
            runs = next;
        }
        for w in ["Jan", "MAY", "true", "null", "sda", "sdab12", "sdabc", "eth0", "ssh22", "x1", "abc123", "blk_42"] {
            all.push(w.as_bytes().to_vec());
            all.push(format!("{w}{w}").into_bytes());
        }
        assert!(all.len() > 100_000);
        for r in &all {
            assert_eq!(is_variable_run(r), is_variable_run_as_before(r), "{}", String::from_utf8_lossy(r));
        }
        for b in 0..=255u8 {
            assert_eq!(is_word_byte(b), b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80, "{b}");
            assert_eq!(CLASS[usize::from(b)] & HEX != 0, b.is_ascii_hexdigit(), "{b}");
            assert_eq!(CLASS[usize::from(b)] & DIGIT != 0, b.is_ascii_digit(), "{b}");
        }
    }

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(m("42"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("-42"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("0x1f"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("10.250.19.102"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("/10.250.19.102:54106").1, WordKind::Variable);
        assert_eq!(m("10.250.19.102:54106"), ("<*>:<*>".into(), WordKind::Variable));
        assert_eq!(m("(1.16"), ("(<*>".into(), WordKind::Variable));
        assert_eq!(m("FE80:0000:0000:0000:D8A5:90FF:FEF5:7FFF"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("fe80::1:2"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("[5c1a6f2e-0c3b-4e5e-9f1e-1e2b3c4d5e6f]"), ("[<*>]".into(), WordKind::Variable));
        assert_eq!(m("00:1b:21:3a:4f:5c"), ("<*>".into(), WordKind::Variable));
    }

    #[test]
    fn devices_durations_sizes() {
        assert_eq!(m("sdv").0, "<*>");
        assert_eq!(m("[sdaa]").0, "[<*>]");
        assert_eq!(m("dm-21"), ("dm-<*>".into(), WordKind::Mixed));
        assert_eq!(m("65:48").0, "<*>:<*>");
        assert_eq!(m("nvme0n1").0, "<*>");
        assert_eq!(m("120s").0, "<*>");
        assert_eq!(m("5m,").0, "<*>,");
        assert_eq!(m("4096KB").0, "<*>");
        assert_eq!(m("12:03:59.123").0, "<*>:<*>:<*>");
        assert_eq!(m("blk_-1608999687919862906"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("blk_38865049064139660"), ("<*>".into(), WordKind::Variable));
    }

    #[test]
    fn keys_paths_and_words() {
        assert_eq!(m("uid=0"), ("uid=<*>".into(), WordKind::Mixed));
        assert_eq!(m("user=root"), ("user=root".into(), WordKind::Constant));
        assert_eq!(m("/var/log/messages"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("(/dev/sda)."), ("(<*>).".into(), WordKind::Variable));
        assert_eq!(m("http://a.b/c?d=1"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("I/O"), ("I/O".into(), WordKind::Constant));
        assert_eq!(m("session"), ("session".into(), WordKind::Constant));
        assert_eq!(m("isOverlap:false,"), ("isOverlap:<*>,".into(), WordKind::Mixed));
        assert_eq!(m("Jun"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("MAY").0, "<*>");
        assert_eq!(m("may"), ("may".into(), WordKind::Constant));
        assert_eq!(m("null").0, "<*>");
        assert_eq!(m("'\\\\?\\GLOBALROOT\\Device\\config\\SAM'.").0, "'<*>'.");
        assert_eq!(m("a\\b").0, "a\\b");
        assert!(is_keyword(b"WindowsUpdateAgent."));
        assert!(!is_keyword(b"chrome.exe"));
        assert_eq!(m("sdk"), ("<*>".into(), WordKind::Variable));
        assert_eq!(m("sda1").0, "<*>");
        assert_eq!(m("ssh2"), ("ssh2".into(), WordKind::Constant));
        assert_eq!(m("eth1").0, "eth1");
        assert_eq!(m("AirPort_Brcm43xx::syncPowerState:"), ("<*>::syncPowerState:".into(), WordKind::Mixed));
        assert_eq!(m("-"), ("-".into(), WordKind::Constant));
        assert_eq!(m("ab-cd-ef-gh"), ("ab-cd-ef-gh".into(), WordKind::Constant));
    }
}

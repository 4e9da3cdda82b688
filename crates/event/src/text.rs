//! Lossless display of bytes that may not be UTF-8.
//!
//! Logs are bytes. rootline never replaces invalid UTF-8 with U+FFFD, which would lose data: it writes
//! each invalid byte as the four characters `\xNN`, and a literal backslash that precedes `x` as `\\`
//! only in the escaped form, so valid text passes through unchanged and the original bytes can be
//! recovered from [`lossless_str`]'s output whenever it had to escape.

use std::borrow::Cow;

/// The bytes as text: borrowed when valid UTF-8; otherwise each invalid byte becomes `\xNN`.
pub fn lossless_str(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(escape_invalid(bytes)),
    }
}

fn escape_invalid(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // from_utf8 just said `good` is valid, so this never falls back.
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02X}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// The exact bytes as standard base64 when they are not valid UTF-8, else `None`.
///
/// JSON output writes a byte string as two fields of fixed types: `<name>`, always a string (the
/// [`lossless_str`] text), and, only when the bytes are not UTF-8, `<name>_base64` with the exact
/// bytes, so nothing is lost and `jq .message` never meets an object.
pub fn base64_if_invalid(bytes: &[u8]) -> Option<String> {
    use base64::Engine;
    std::str::from_utf8(bytes).is_err().then(|| base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `n` and an English noun, plural unless `n` is 1: `count(1, "template")` is `1 template`,
/// `count(2, "template")` `2 templates`, `count(3, "process")` `3 processes`, `count(0, "entry")`
/// `0 entries`. The noun may be a phrase whose last word counts (`count(2, "unparsed line")`).
/// Every count in rootline's English text goes through it, so none reads "1 templates".
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {}", plural(n, noun))
}

/// The noun (or phrase) as [`count`] writes it after `n`, without the number.
pub fn plural(n: u64, noun: &str) -> Cow<'_, str> {
    if n == 1 || noun.is_empty() {
        return Cow::Borrowed(noun);
    }
    let b = noun.as_bytes();
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    if noun.ends_with('y') && b.len() >= 2 && !vowel(b[b.len() - 2]) {
        return Cow::Owned(format!("{}ies", &noun[..noun.len() - 1]));
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|e| noun.ends_with(e)) {
        return Cow::Owned(format!("{noun}es"));
    }
    Cow::Owned(format!("{noun}s"))
}

/// `s` cut to `n` characters with `…` when longer (for one-line displays; JSON keeps text whole).
pub fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `n` with commas between groups of three digits (`18,432`), for counts and offsets in messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(18_432), "18,432");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn counts_are_plural_unless_one() {
        assert_eq!(count(1, "template"), "1 template");
        assert_eq!(count(2, "template"), "2 templates");
        assert_eq!(count(0, "finding"), "0 findings");
        assert_eq!(count(3, "process"), "3 processes");
        assert_eq!(count(2, "entry"), "2 entries");
        assert_eq!(count(2, "day"), "2 days");
        assert_eq!(count(5, "unparsed line"), "5 unparsed lines");
        assert_eq!(count(1, "unparsed line"), "1 unparsed line");
        assert_eq!(count(2, "more link"), "2 more links");
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("dm-21", 10), "dm-21");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("한국어입니다", 3), "한국어…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn valid_text_is_borrowed() {
        assert!(matches!(lossless_str(b"path down"), Cow::Borrowed("path down")));
    }

    #[test]
    fn invalid_bytes_are_escaped_not_replaced() {
        assert_eq!(lossless_str(b"a\xffb\xc3"), "a\\xFFb\\xC3");
    }

    #[test]
    fn json_keeps_exact_bytes() {
        assert_eq!(base64_if_invalid(b"x\xfe").as_deref(), Some("eP4="));
        assert_eq!(base64_if_invalid(b"ok"), None);
        assert_eq!(base64_if_invalid("한".as_bytes()), None);
    }
}

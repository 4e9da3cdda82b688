//! The template type: a sequence of constant words and wildcards, with its rendering.

use std::fmt;

use crate::mask::WILDCARD;

/// Stable identifier of a mined template. Ids are never reused within one [`crate::Miner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TemplateId(pub u32);

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// One position of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Hash of the masked word this slot holds (meaningless when `wild`).
    pub hash: u64,
    /// Whether any word may stand here.
    pub wild: bool,
    /// Whether the word here is a keyword ([`crate::mask::is_keyword`]): a different keyword at this
    /// position means a different event.
    pub keyword: bool,
    /// Display text: the masked word, or for a wildcard the part its words shared (`user=<*>`).
    pub text: Box<[u8]>,
}

/// A mined template: constant words and wildcards, plus how often it was seen.
#[derive(Clone, Debug)]
pub struct Template {
    /// Its identifier.
    pub id: TemplateId,
    /// Its positions, one per word.
    pub slots: Vec<Slot>,
    /// How many messages it matched (including those of templates merged into it).
    pub count: u64,
}

impl Template {
    /// The template as text: words separated by one space, wildcards written `<*>`.
    pub fn render(&self) -> String {
        let mut s = Vec::with_capacity(self.slots.iter().map(|x| x.text.len() + 1).sum());
        self.render_into(&mut s);
        String::from_utf8(s).unwrap_or_else(|e| crate::lossless(e.as_bytes()).into_owned())
    }

    /// Appends the rendered bytes to `out` (raw: may hold non-UTF-8 bytes of the input).
    pub fn render_into(&self, out: &mut Vec<u8>) {
        for (i, s) in self.slots.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(&s.text);
        }
    }

    /// Number of wildcard positions.
    pub fn wildcards(&self) -> usize {
        self.slots.iter().filter(|s| s.wild).count()
    }
}

/// The wildcard for two differing words, keeping what they share around the difference when it ends
/// at punctuation: `user=root` and `user=guest` give `user=<*>`, `(a)` and `(b)` give `(<*>)`.
pub fn generalise(a: &[u8], b: &[u8]) -> Box<[u8]> {
    let is_punct = |c: u8| c.is_ascii_punctuation() && c != b'_';
    let mut p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    // Only keep a prefix that ends with punctuation, so `abc`/`abd` do not give `ab<*>`.
    while p > 0 && !is_punct(a[p - 1]) {
        p -= 1;
    }
    let max_s = a.len().min(b.len()) - p;
    let mut s = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count().min(max_s);
    while s > 0 && !is_punct(a[a.len() - s]) {
        s -= 1;
    }
    // A prefix/suffix made only of a wildcard's own bytes (`<*`, `*>`) would split one.
    let prefix = trim_partial_wildcard_end(&a[..p]);
    let suffix = trim_partial_wildcard_start(&a[a.len() - s..]);
    let mut out = Vec::with_capacity(prefix.len() + WILDCARD.len() + suffix.len());
    out.extend_from_slice(prefix);
    if !prefix.ends_with(WILDCARD) {
        out.extend_from_slice(WILDCARD);
    }
    if suffix.starts_with(WILDCARD) {
        out.extend_from_slice(&suffix[WILDCARD.len()..]);
    } else {
        out.extend_from_slice(suffix);
    }
    out.into_boxed_slice()
}

fn trim_partial_wildcard_end(p: &[u8]) -> &[u8] {
    if p.ends_with(b"<") {
        &p[..p.len() - 1]
    } else if p.ends_with(b"<*") {
        &p[..p.len() - 2]
    } else {
        p
    }
}

fn trim_partial_wildcard_start(s: &[u8]) -> &[u8] {
    if s.starts_with(b">") {
        &s[1..]
    } else if s.starts_with(b"*>") {
        &s[2..]
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(a: &str, b: &str) -> String {
        String::from_utf8(generalise(a.as_bytes(), b.as_bytes()).into_vec()).unwrap()
    }

    #[test]
    fn generalise_keeps_shared_punctuated_parts() {
        assert_eq!(g("user=root", "user=guest"), "user=<*>");
        assert_eq!(g("(root)", "(guest)"), "(<*>)");
        assert_eq!(g("abc", "abd"), "<*>");
        assert_eq!(g("chrome.exe", "firefox.exe"), "<*>.exe");
        assert_eq!(g("<*>:<*>", "host:<*>"), "<*>:<*>");
        assert_eq!(g("a", "a,"), "<*>");
    }
}

//! Accuracy of a parse against labelled ground truth: grouping accuracy (GA) and parsing accuracy (PA).
//!
//! GA (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019): a line is
//! correctly grouped when the set of lines sharing its mined template equals the set of lines sharing
//! its true template; GA is the share of such lines. PA (Dai et al., Logram, TSE 2020; Khan et al.,
//! ICSE 2022): the share of lines whose mined template text equals the true one, here compared after
//! [`normalise_template`].

use std::collections::HashMap;
use std::hash::Hash;

/// Grouping accuracy of `parsed` (one group label per line) against `truth` (same length).
///
/// ```
/// use rootline_template::eval::grouping_accuracy;
/// assert_eq!(grouping_accuracy(&[1, 1, 2, 3], &["a", "a", "b", "b"]), 0.5);
/// ```
pub fn grouping_accuracy<P: Eq + Hash, T: Eq + Hash>(parsed: &[P], truth: &[T]) -> f64 {
    assert_eq!(parsed.len(), truth.len(), "one parsed label per labelled line");
    if parsed.is_empty() {
        return 1.0;
    }
    // A parsed group is correct when all its lines share one true label and that label has no other
    // lines: then (parsed group size) == (true group size) == (pair count).
    let mut psize: HashMap<&P, usize> = HashMap::new();
    let mut tsize: HashMap<&T, usize> = HashMap::new();
    let mut pair: HashMap<(&P, &T), usize> = HashMap::new();
    for (p, t) in parsed.iter().zip(truth) {
        *psize.entry(p).or_default() += 1;
        *tsize.entry(t).or_default() += 1;
        *pair.entry((p, t)).or_default() += 1;
    }
    let correct: usize = pair.iter().filter(|((p, t), &n)| psize[p] == n && tsize[t] == n).map(|(_, &n)| n).sum();
    correct as f64 / parsed.len() as f64
}

/// Parsing accuracy: share of lines whose template equals the true template after normalising both.
pub fn parsing_accuracy<A: AsRef<str>, B: AsRef<str>>(parsed: &[A], truth: &[B]) -> f64 {
    assert_eq!(parsed.len(), truth.len(), "one parsed template per labelled line");
    if parsed.is_empty() {
        return 1.0;
    }
    let mut memo: HashMap<(&str, &str), bool> = HashMap::new();
    let mut ok = 0usize;
    for (p, t) in parsed.iter().zip(truth) {
        let (p, t) = (p.as_ref(), t.as_ref());
        if *memo.entry((p, t)).or_insert_with(|| normalise_template(p) == normalise_template(t)) {
            ok += 1;
        }
    }
    ok as f64 / parsed.len() as f64
}

/// Canonical form of a template for comparison: whitespace runs become one space (trimmed), and a
/// run of wildcards separated only by whitespace becomes one `<*>`.
///
/// ```
/// use rootline_template::eval::normalise_template;
/// assert_eq!(normalise_template("  a <*> <*>  b<*><*> "), "a <*> b<*>");
/// ```
pub fn normalise_template(t: &str) -> String {
    let mut s = t.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let n = s.replace("<*> <*>", "<*>").replace("<*><*>", "<*>");
        if n == s {
            return s;
        }
        s = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ga_counts_only_exact_groups() {
        // Truth: {0,1} {2,3} {4}. Parsed: {0,1} {2} {3,4}: only lines 0 and 1 are right.
        assert_eq!(grouping_accuracy(&[0, 0, 1, 2, 2], &["a", "a", "b", "b", "c"]), 0.4);
        assert_eq!(grouping_accuracy(&["x", "y"], &[7, 8]), 1.0);
    }

    #[test]
    fn pa_normalises() {
        assert_eq!(parsing_accuracy(&["a  <*> <*> b"], &["a <*> b"]), 1.0);
        assert_eq!(parsing_accuracy(&["a <*>", "c"], &["a b", "c"]), 0.5);
    }
}

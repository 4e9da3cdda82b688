//! What a source yields: items, each a set of named string fields with the lines they were read
//! from. Conditions test the fields; messages print them; the evidence goes into the result.

use std::collections::BTreeMap;

pub use rootline_node::doctor::Evidence;

/// One thing read: a setting of a configuration file, a path of a map, a task in D state, a line
/// of a command's output.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub fields: BTreeMap<String, String>,
    /// The lines the item rests on (file or command, line number, text).
    pub evidence: Vec<Evidence>,
}

impl Item {
    /// An item of `kind` (every item has a `kind` field: `setting`, `path`, `run`, `line`, ...).
    pub fn new(kind: &str) -> Item {
        let mut i = Item::default();
        i.set("kind", kind);
        i
    }

    /// Sets a field (an empty value is a field that is not set).
    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Item {
        let v = v.into();
        if v.is_empty() {
            self.fields.remove(k);
        } else {
            self.fields.insert(k.to_string(), v);
        }
        self
    }

    /// Sets a `yes`/`no` field.
    pub fn flag(&mut self, k: &str, v: bool) -> &mut Item {
        self.set(k, if v { "yes" } else { "no" })
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(String::as_str)
    }

    /// A field read as a number (`5`, `0.5`, `infinity`).
    pub fn num(&self, k: &str) -> Option<f64> {
        self.get(k).and_then(number)
    }

    /// Adds the line this item was read from, and sets `file`, `line` and `text` to it when
    /// they are not set yet.
    pub fn cite(&mut self, path: &str, line: Option<usize>, text: &str) -> &mut Item {
        if !self.fields.contains_key("file") {
            self.set("file", path);
            if let Some(l) = line {
                self.set("line", l.to_string());
            }
            self.set("text", text.trim());
        }
        self.evidence.push(Evidence { path: path.to_string(), line, text: text.trim_end().to_string() });
        self
    }
}

/// A field's value as a number: decimal, or `infinity` (which `dev_loss_tmo` allows).
pub fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("infinity") || t.eq_ignore_ascii_case("inf") {
        return Some(f64::INFINITY);
    }
    // Only plain decimals: `nan`, `1e3` and hex are not what a configuration file means.
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+') {
        return None;
    }
    t.parse().ok()
}

/// A number as a field value: integers without a fraction (`12`, not `12.0`).
pub fn num_text(n: f64) -> String {
    if n.is_infinite() {
        "infinity".into()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_numbers_and_citations() {
        let mut i = Item::new("setting");
        i.set("key", "no_path_retry").set("value", "12").set("empty", "");
        assert_eq!(i.get("empty"), None);
        assert_eq!(i.num("value"), Some(12.0));
        assert_eq!(i.num("key"), None);
        i.cite("/etc/multipath.conf", Some(7), "    no_path_retry 12\n");
        i.cite("/etc/other", Some(1), "x");
        assert_eq!(
            (i.get("file"), i.get("line"), i.get("text")),
            (Some("/etc/multipath.conf"), Some("7"), Some("no_path_retry 12"))
        );
        assert_eq!(i.evidence.len(), 2);
        assert_eq!(number("infinity"), Some(f64::INFINITY));
        assert_eq!(number("1e3"), None);
        assert_eq!(number("-1"), Some(-1.0));
        assert_eq!(num_text(24.0), "24");
        assert_eq!(num_text(2.5), "2.5");
    }
}

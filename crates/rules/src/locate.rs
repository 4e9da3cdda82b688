//! Where a field of a rule file is: `match.patterns[1]` -> line 14, column 5.
//!
//! Problems found after the YAML was read (a regex that does not compile, an entity no pattern
//! captures, an empty doc section) are named by their field path; this module walks the YAML
//! events of the same text once and maps every node's path to the position where the node starts,
//! so the message can say `file:line:column` like a YAML syntax error does. A path that is not in
//! the file (a missing key) resolves to its nearest ancestor that is.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser};

/// Positions of every node of one YAML document, by field path (`a.b[2].c`), 1-based line and column.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    at: HashMap<String, (u64, u64)>,
}

enum Frame {
    /// A mapping: its path, and the key whose value comes next (None while a key is expected).
    Map { path: String, key: Option<String>, complex_key: bool },
    /// A sequence: its path and the index of the next item.
    Seq { path: String, next: usize },
}

fn join_key(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

impl Positions {
    /// Reads `text`; a text that does not parse gives the positions read before the error.
    pub fn of(text: &str) -> Positions {
        let mut at: HashMap<String, (u64, u64)> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        // Guards against a pathological input: rule files are small.
        for (n, item) in Parser::new_from_str(text).enumerate() {
            if n > 1_000_000 {
                break;
            }
            let Ok((ev, span)) = item else { break };
            let pos = (span.start.line() as u64, span.start.col() as u64 + 1);
            let starts_node =
                matches!(ev, Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(_));
            // The path of the node that starts here, or None when it is a mapping key.
            let mut node_path: Option<String> = None;
            if starts_node {
                match stack.last_mut() {
                    None => node_path = Some(String::new()),
                    Some(Frame::Seq { path, next }) => {
                        node_path = Some(format!("{path}[{next}]"));
                        *next += 1;
                    }
                    Some(Frame::Map { path, key, complex_key }) => match key.take() {
                        Some(k) => node_path = Some(join_key(path, &k)),
                        None => match &ev {
                            Event::Scalar(s, ..) => {
                                let p = join_key(path, s);
                                at.entry(format!("{p}#key")).or_insert(pos);
                                *key = Some(s.to_string());
                            }
                            // A key that is itself a collection: its value has no field path.
                            _ => *complex_key = true,
                        },
                    },
                }
            }
            if let Some(p) = &node_path {
                at.entry(p.clone()).or_insert(pos);
            }
            match ev {
                Event::MappingStart(..) => {
                    let path = node_path.unwrap_or_else(|| "#complex".into());
                    stack.push(Frame::Map { path, key: None, complex_key: false });
                }
                Event::SequenceStart(..) => {
                    let path = node_path.unwrap_or_else(|| "#complex".into());
                    stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    // A collection used as a key ends: its value comes next, with no path.
                    if let Some(Frame::Map { key, complex_key, .. }) = stack.last_mut() {
                        if *complex_key && key.is_none() {
                            *complex_key = false;
                            *key = Some("#complex".into());
                        }
                    }
                }
                _ => {}
            }
        }
        Positions { at }
    }

    /// The line and column of `field` (`match.patterns[1]`), or of its nearest ancestor in the
    /// file; `None` for an empty document.
    pub fn find(&self, field: &str) -> Option<(u64, u64)> {
        let mut f = field.trim();
        loop {
            if let Some(&p) = self.at.get(f) {
                return Some(p);
            }
            if f.is_empty() {
                return None;
            }
            // Drop the last segment: `a.b[2]` -> `a.b`, `a.b` -> `a`, `a` -> ``.
            let cut = match (f.rfind('.'), f.rfind('[')) {
                (Some(d), Some(b)) => d.max(b),
                (Some(d), None) => d,
                (None, Some(b)) => b,
                (None, None) => 0,
            };
            f = &f[..cut];
        }
    }

    /// The line and column of the key `field` names (`match.patern`), for a key that should not be
    /// there; falls back to [`Positions::find`].
    pub fn find_key(&self, field: &str) -> Option<(u64, u64)> {
        self.at.get(&format!("{field}#key")).copied().or_else(|| self.find(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "id: a.b\nmatch:\n  patterns:\n    - 'x'\n    - \"y(\"\n  fields: {pod: pod}\ntests:\n  fires:\n  - line: z\n    from: q\n";

    #[test]
    fn paths_to_positions() {
        let p = Positions::of(TEXT);
        assert_eq!(p.find("id"), Some((1, 5)));
        assert_eq!(p.find("match.patterns[0]"), Some((4, 7)));
        assert_eq!(p.find("match.patterns[1]"), Some((5, 7)));
        assert_eq!(p.find("match.fields.pod"), Some((6, 17)));
        assert_eq!(p.find("tests.fires[0].from"), Some((10, 11)));
        assert_eq!(p.find_key("match.fields"), Some((6, 3)));
    }

    #[test]
    fn a_missing_field_resolves_to_its_ancestor() {
        let p = Positions::of(TEXT);
        assert_eq!(p.find("match.unless[0]"), p.find("match"));
        assert_eq!(p.find("doc.detects.en"), p.find(""));
        assert_eq!(p.find("match.patterns[7]"), p.find("match.patterns"));
        assert!(Positions::of("").find("id").is_none());
    }

    #[test]
    fn broken_yaml_keeps_what_was_read() {
        let p = Positions::of("id: a\nmatch:\n  patterns: [x\n");
        assert_eq!(p.find("id"), Some((1, 5)));
    }

    #[test]
    fn complex_keys_do_not_confuse_the_paths() {
        let p = Positions::of("? [a, b]\n: 1\nid: c\n");
        assert_eq!(p.find("id"), Some((3, 5)));
    }
}

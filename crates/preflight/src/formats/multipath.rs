//! multipath.conf(5) and its `conf.d` snippets: one `setting` item per attribute, with the block it
//! is in and the values that apply there.
//!
//! Syntax (libmultipath/parser.c): a section is `name {` ... `}`; inside it, `attribute value` lines
//! and subsections (`devices { device { ... } }`, `multipaths { multipath { ... } }`); `#` or `!`
//! starts a comment; values may be quoted. Values apply with the precedence of multipath.conf(5):
//! `overrides`, then the `device` or `multipath` block, then `defaults`, then the built-in default.
//! The fields derived here say what the setting means: how long I/O queues (`seconds`), whether it
//! queues at all (`queues`), and the effective `no_path_retry`, `fast_io_fail_tmo`, `dev_loss_tmo`
//! and `polling_interval` of the block.
//!
//! See: https://github.com/opensvc/multipath-tools multipath/multipath.conf.5.in (no_path_retry,
//! polling_interval default 5, fast_io_fail_tmo default 5, features queue_if_no_path superseded by
//! no_path_retry, KNOWN ISSUES).

use crate::item::{num_text, number, Item};

pub const FIELDS: &[&str] = &[
    "section",
    "block",
    "scope",
    "key",
    "value",
    "polling_interval",
    "seconds",
    "queues",
    "queue_if_no_path",
    "no_path_retry_set",
    "no_path_retry",
    "fast_io_fail_tmo",
    "dev_loss_tmo",
];

/// multipath.conf(5): "polling_interval ... The default is: 5".
const DEFAULT_POLLING_INTERVAL: f64 = 5.0;
/// multipath.conf(5): "fast_io_fail_tmo ... The default is: 5".
const DEFAULT_FAST_IO_FAIL_TMO: &str = "5";

struct Setting {
    block: usize,
    key: String,
    value: String,
    origin: String,
    line: usize,
    text: String,
}

struct Block {
    /// The top-level section it is in (`defaults`, `devices`, `multipaths`, `overrides`, ...).
    section: String,
    /// `device`, `multipath`, or the section's own name for a top-level section.
    kind: String,
    origin: String,
    line: usize,
}

/// Splits a line into words: quoted strings are one word, `{` and `}` are words of their own, a
/// `#` or `!` at the start of a word ends the line.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '#' || c == '!' {
            break;
        } else if c == '{' || c == '}' {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut w = String::new();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                w.push(c);
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '{' || c == '}' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        }
    }
    out
}

/// Reads every file (multipath.conf, then the conf.d snippets, in the order given) as one
/// configuration.
pub fn parse_files(files: &[(String, String)]) -> Vec<Item> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut settings: Vec<Setting> = Vec::new();
    for (origin, text) in files {
        // The open sections, innermost last (indices into `blocks`).
        let mut open: Vec<usize> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let w = words(l);
            let mut rest: &[String] = &w;
            while !rest.is_empty() {
                if rest[0] == "}" {
                    open.pop();
                    rest = &rest[1..];
                } else if rest.len() >= 2 && rest[1] == "{" {
                    let kind = rest[0].clone();
                    let section = match open.first() {
                        Some(&top) => blocks[top].section.clone(),
                        None => kind.clone(),
                    };
                    blocks.push(Block { section, kind, origin: origin.clone(), line: i + 1 });
                    open.push(blocks.len() - 1);
                    rest = &rest[2..];
                } else {
                    // `attribute value...` up to a closing brace on the same line.
                    let end = rest.iter().position(|x| x == "}").unwrap_or(rest.len());
                    if let Some(&b) = open.last() {
                        settings.push(Setting {
                            block: b,
                            key: rest[0].clone(),
                            value: rest[1..end].join(" "),
                            origin: origin.clone(),
                            line: i + 1,
                            text: l.to_string(),
                        });
                    }
                    rest = &rest[end..];
                }
            }
        }
    }
    let value_in = |block: usize, key: &str| -> Option<&str> {
        settings.iter().rev().find(|s| s.block == block && s.key == key).map(|s| s.value.as_str())
    };
    let value_in_section = |section: &str, key: &str| -> Option<&str> {
        settings
            .iter()
            .rev()
            .find(|s| blocks[s.block].kind == section && blocks[s.block].section == section && s.key == key)
            .map(|s| s.value.as_str())
    };
    // The value that applies in a block: overrides, the block itself, defaults.
    let effective = |block: usize, key: &str| -> Option<String> {
        value_in_section("overrides", key)
            .or_else(|| value_in(block, key))
            .or_else(|| value_in_section("defaults", key))
            .map(str::to_string)
    };
    let polling = value_in_section("defaults", "polling_interval").and_then(number).unwrap_or(DEFAULT_POLLING_INTERVAL);
    let scope = |b: usize| -> String {
        let blk = &blocks[b];
        match blk.kind.as_str() {
            "device" => match (value_in(b, "vendor"), value_in(b, "product")) {
                (Some(v), Some(p)) => format!("device {v}/{p}"),
                (Some(v), None) => format!("device {v}"),
                _ => format!("device at {}:{}", blk.origin, blk.line),
            },
            "multipath" => match value_in(b, "alias").or_else(|| value_in(b, "wwid")) {
                Some(n) => format!("multipath {n}"),
                None => format!("multipath at {}:{}", blk.origin, blk.line),
            },
            k if k == blk.section => k.to_string(),
            k => format!("{} {k}", blk.section),
        }
    };
    let mut out = Vec::new();
    for s in &settings {
        let blk = &blocks[s.block];
        let mut it = Item::new("setting");
        it.set("section", blk.section.as_str()).set("block", blk.kind.as_str()).set("scope", scope(s.block));
        it.set("key", s.key.as_str()).set("value", s.value.as_str());
        it.set("polling_interval", num_text(polling));
        let applies = matches!(blk.section.as_str(), "defaults" | "overrides" | "devices" | "multipaths");
        if applies {
            let npr = effective(s.block, "no_path_retry");
            it.set("no_path_retry", npr.clone().unwrap_or_default());
            it.flag("no_path_retry_set", npr.is_some());
            it.set(
                "fast_io_fail_tmo",
                effective(s.block, "fast_io_fail_tmo").unwrap_or(DEFAULT_FAST_IO_FAIL_TMO.into()),
            );
            it.set("dev_loss_tmo", effective(s.block, "dev_loss_tmo").unwrap_or_default());
        }
        match s.key.as_str() {
            "no_path_retry" => match s.value.as_str() {
                "queue" => {
                    it.flag("queues", true);
                }
                "fail" => {
                    it.flag("queues", false).set("seconds", "0");
                }
                v => {
                    if let Some(n) = number(v).filter(|n| *n >= 0.0) {
                        it.flag("queues", n > 0.0).set("seconds", num_text(n * polling));
                    }
                }
            },
            "features" => {
                let q = s.value.split_whitespace().any(|w| w == "queue_if_no_path");
                it.flag("queue_if_no_path", q);
                // no_path_retry, where it is set, takes precedence over the feature.
                let npr_set = effective(s.block, "no_path_retry").is_some();
                it.flag("queues", q && !npr_set);
            }
            _ => {}
        }
        it.cite(&s.origin, Some(s.line), &s.text);
        out.push(it);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(items: &'a [Item], scope: &str, key: &str) -> &'a Item {
        items
            .iter()
            .find(|i| i.get("scope") == Some(scope) && i.get("key") == Some(key))
            .unwrap_or_else(|| panic!("{scope} {key}"))
    }

    #[test]
    fn sections_blocks_and_derived_values() {
        let conf = r#"# lab
defaults {
    polling_interval     2
    no_path_retry        queue   # forever
    flush_on_last_del    yes
}
blacklist {
    devnode "^(ram|loop)[0-9]*"
}
devices {
    device {
        vendor  "NETAPP"
        product "LUN.*"
        no_path_retry 12
        fast_io_fail_tmo off
        dev_loss_tmo infinity
    }
}
multipaths { multipath { wwid 3600a0 } }
overrides {
    features "1 queue_if_no_path"
}
"#;
        let items = parse_files(&[("/etc/multipath.conf".into(), conf.into())]);
        let d = get(&items, "defaults", "no_path_retry");
        assert_eq!((d.get("value"), d.get("queues"), d.get("seconds")), (Some("queue"), Some("yes"), None));
        assert_eq!((d.get("line"), d.get("file")), (Some("4"), Some("/etc/multipath.conf")));
        assert_eq!(d.get("text"), Some("no_path_retry        queue   # forever"));
        let n = get(&items, "device NETAPP/LUN.*", "no_path_retry");
        assert_eq!(
            (n.get("seconds"), n.get("polling_interval"), n.get("queues")),
            (Some("24"), Some("2"), Some("yes"))
        );
        assert_eq!((n.get("fast_io_fail_tmo"), n.get("dev_loss_tmo")), (Some("off"), Some("infinity")));
        assert_eq!(get(&items, "blacklist", "devnode").get("value"), Some("^(ram|loop)[0-9]*"));
        // The feature is overridden by no_path_retry set in defaults: it does not queue by itself.
        let f = get(&items, "overrides", "features");
        assert_eq!(
            (f.get("queue_if_no_path"), f.get("no_path_retry_set"), f.get("queues")),
            (Some("yes"), Some("yes"), Some("no"))
        );
        // A block on one line.
        assert!(items.iter().any(|i| i.get("scope") == Some("multipath 3600a0") && i.get("key") == Some("wwid")));
        assert_eq!(get(&items, "defaults", "flush_on_last_del").get("fast_io_fail_tmo"), Some("5"));
    }

    #[test]
    fn a_feature_alone_queues_forever_and_snippets_merge() {
        let main = "defaults {\n  features \"1 queue_if_no_path\"\n}\n";
        let snip = "defaults {\n  polling_interval 10\n}\ndevices {\n device {\n  vendor X\n  no_path_retry 3\n }\n}\n";
        let items = parse_files(&[
            ("/etc/multipath.conf".into(), main.into()),
            ("/etc/multipath/conf.d/x.conf".into(), snip.into()),
        ]);
        let f = get(&items, "defaults", "features");
        assert_eq!((f.get("queues"), f.get("no_path_retry_set")), (Some("yes"), Some("no")));
        let n = get(&items, "device X", "no_path_retry");
        assert_eq!((n.get("seconds"), n.get("file")), (Some("30"), Some("/etc/multipath/conf.d/x.conf")));
        let nf = get(&items, "defaults", "polling_interval");
        assert_eq!(nf.get("no_path_retry"), None);
        assert_eq!(nf.get("no_path_retry_set"), Some("no"));
    }
}

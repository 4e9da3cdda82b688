//! A preflight run and its outputs: the JSON document (`rootline.preflight/v1`) and the text table
//! `nova-status upgrade check` prints (oslo.upgradecheck's layout: one column, a row per check
//! with `Check:`, `Result:` and `Details:` lines, details wrapped at 60 characters).
//!
//! See: https://github.com/openstack/oslo.upgradecheck oslo_upgradecheck/upgradecheck.py
//! (`UpgradeCommands.check`, `Code`: 0 success, 1 warning, 2 failure; 255 for an unexpected error).

use std::fmt::Write;
use std::time::Instant;

use rootline_event::{count, cut};
use rootline_node::root::Root;
use rootline_rules::Lang;
use serde::Serialize;

use crate::check::{Check, CheckResult, Verdict};
use crate::gather::{self, Options};

/// The JSON document's schema name.
pub const SCHEMA: &str = "rootline.preflight/v1";

/// A preflight run: every check's result and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub host: String,
    pub checked_at: String,
    /// The worst result (`success` when every check succeeded or was skipped).
    pub result: Verdict,
    pub checks: Vec<CheckResult>,
    /// The captured tree read instead of the live node.
    #[serde(skip)]
    pub root: Option<String>,
    /// When that tree was captured.
    #[serde(skip)]
    pub captured_at: Option<String>,
    #[serde(skip)]
    pub elapsed_ms: u64,
}

impl Report {
    /// oslo.upgradecheck's exit code: 0 success, 1 warning, 2 failure.
    pub fn exit_code(&self) -> u8 {
        self.result.exit_code()
    }
}

/// Runs `checks` against `root`.
pub fn run(checks: &[&Check], root: &Root, label: Option<String>, opts: &Options, lang: Lang) -> Report {
    let started = Instant::now();
    let reading = gather::read(checks, root, label.clone(), opts);
    let results: Vec<CheckResult> = checks.iter().map(|c| c.judge(&reading.sources[&c.id], lang)).collect();
    let result = results.iter().map(|r| r.result).max().unwrap_or(Verdict::Success).max(Verdict::Success);
    let host = reading
        .state
        .as_ref()
        .map(|s| s.report.host.clone())
        .filter(|h| h != "unknown")
        .or_else(|| root.text("/proc/sys/kernel/hostname"))
        .or_else(|| root.text("/etc/hostname"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let now = jiff::Timestamp::now();
    Report {
        schema: SCHEMA,
        host,
        checked_at: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
        result,
        checks: results,
        captured_at: (!root.is_live())
            .then(|| jiff::Timestamp::from_second(reading.now).ok().map(|t| t.to_string()))
            .flatten()
            .filter(|_| root.read(&format!("/{}", rootline_node::root::MANIFEST_NAME)).is_ok()),
        root: label,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

/// Columns a character takes in a terminal: 2 for East Asian wide characters (Hangul, CJK), 1
/// otherwise; what keeps the table's right border straight around Korean text.
fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF |
        0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6);
    if wide {
        2
    } else {
        1
    }
}

pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Greedy word wrap at `max` columns (Python's textwrap.wrap as oslo.upgradecheck calls it: later
/// lines start with `indent`; a word longer than a line is broken).
pub fn wrap(text: &str, max: usize, indent: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut w = word.to_string();
        loop {
            let prefix = if out.is_empty() { "" } else { indent };
            let room = max.saturating_sub(width(prefix)).max(10);
            let cur = width(&line);
            let need = if line.is_empty() { width(&w) } else { cur + 1 + width(&w) };
            if need <= room {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&w);
                break;
            }
            if !line.is_empty() {
                out.push(format!("{}{line}", if out.is_empty() { "" } else { indent }));
                line.clear();
                continue;
            }
            // One word longer than the line: break it.
            let mut head = String::new();
            let mut rest = w.chars().peekable();
            while let Some(&c) = rest.peek() {
                if width(&head) + char_width(c) > room {
                    break;
                }
                head.push(c);
                rest.next();
            }
            out.push(format!("{}{head}", if out.is_empty() { "" } else { indent }));
            w = rest.collect();
            if w.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(format!("{}{line}", if out.is_empty() { "" } else { indent }));
    }
    out
}

/// The widest a table line gets (the table is 4 columns wider): 80 columns in all.
const CELL: usize = 76;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The report as `nova-status upgrade check` prints its table, with a heading line and a verdict
/// line around it, failures first. Evidence lines are cut to fit (whole in the JSON).
pub fn render_text(r: &Report, lang: Lang, color: bool) -> String {
    // Each row: lines of (plain text, the part to colour).
    let mut rows: Vec<Vec<(String, Option<&str>)>> = Vec::new();
    // Failures first: what stops the upgrade is what the operator reads first.
    let mut order: Vec<&CheckResult> = r.checks.iter().collect();
    order.sort_by(|a, b| b.result.cmp(&a.result).then_with(|| a.id.cmp(&b.id)));
    for c in order {
        let mut lines: Vec<(String, Option<&str>)> = Vec::new();
        for l in wrap(&format!("Check: {} ({})", c.title, c.id), CELL, "  ") {
            lines.push((l, None));
        }
        let paint = match c.result {
            Verdict::Failure => RED,
            Verdict::Warning => YELLOW,
            Verdict::Success => GREEN,
            Verdict::Skipped => DIM,
        };
        lines.push((format!("Result: {}", c.result.word()), Some(paint)));
        let details: Vec<&str> = c.details.lines().filter(|l| !l.trim().is_empty()).collect();
        match details.as_slice() {
            [] => lines.push(("Details: None".into(), None)),
            [one] => {
                for l in wrap(&format!("Details: {one}"), 60, "  ") {
                    lines.push((l, None));
                }
            }
            many => {
                lines.push(("Details:".into(), None));
                for d in many {
                    // An item under a summary line is indented in the details.
                    let (bullet, rest) = match d.strip_prefix("  ") {
                        Some(_) => ("    - ", "      "),
                        None => ("  * ", "    "),
                    };
                    let text = d.trim_start();
                    for (i, l) in wrap(text, CELL - bullet.len(), "").into_iter().enumerate() {
                        lines.push((format!("{}{l}", if i == 0 { bullet } else { rest }), None));
                    }
                }
            }
        }
        if !c.evidence.is_empty() {
            lines.push(("Evidence:".into(), None));
            for e in &c.evidence {
                let at = match e.line {
                    Some(l) => format!("{}:{l}", e.path),
                    None => e.path.clone(),
                };
                lines.push((cut(&format!("  {at}: {}", e.text.trim()), CELL - 1), None));
            }
        }
        rows.push(lines);
    }
    let title = "Upgrade Check Results";
    let inner = rows.iter().flatten().map(|(l, _)| width(l)).chain([width(title)]).max().unwrap_or(0);
    let rule = format!("+{}+\n", "-".repeat(inner + 2));
    let cell = |s: &mut String, text: &str, paint: Option<&str>| {
        let pad = " ".repeat(inner - width(text));
        match paint.filter(|_| color) {
            Some(p) => {
                // `Result: ` stays plain; the word is coloured.
                let (head, word) = text.split_at(text.find(": ").map(|i| i + 2).unwrap_or(0));
                let _ = writeln!(s, "| {head}{p}{word}{RESET}{pad} |");
            }
            None => {
                let _ = writeln!(s, "| {text}{pad} |");
            }
        }
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rootline preflight  {}  {}{}  ({:.1} s)",
        r.host,
        r.checked_at,
        match (&r.root, &r.captured_at) {
            (Some(p), Some(at)) => format!("  from {p}, captured {at}"),
            (Some(p), None) => format!("  from {p}"),
            _ => String::new(),
        },
        r.elapsed_ms as f64 / 1000.0
    );
    s.push_str(&rule);
    cell(&mut s, title, None);
    s.push_str(&rule);
    for row in &rows {
        for (l, p) in row {
            cell(&mut s, l, *p);
        }
        s.push_str(&rule);
    }
    let n = |v: Verdict| r.checks.iter().filter(|c| c.result == v).count() as u64;
    let counts = match lang {
        Lang::Ko => format!(
            "failure {}건, warning {}건, success {}건, skipped {}건",
            n(Verdict::Failure),
            n(Verdict::Warning),
            n(Verdict::Success),
            n(Verdict::Skipped)
        ),
        Lang::En => format!(
            "{}, {}, {}, {} skipped",
            count(n(Verdict::Failure), "failure"),
            count(n(Verdict::Warning), "warning"),
            count(n(Verdict::Success), "success"),
            n(Verdict::Skipped)
        ),
    };
    let verdict = match (r.result, lang) {
        (Verdict::Failure, Lang::En) => "stop: do not upgrade this node until the failures are fixed",
        (Verdict::Warning, Lang::En) => "go with care: read the warnings before upgrading this node",
        (_, Lang::En) => "go: nothing found that stops the upgrade of this node",
        (Verdict::Failure, Lang::Ko) => "중단: failure를 해결하기 전에는 이 node를 upgrade 하지 마십시오",
        (Verdict::Warning, Lang::Ko) => "주의: upgrade 전에 warning을 검토하십시오",
        (_, Lang::Ko) => "진행: 이 node의 upgrade를 막는 문제가 없습니다",
    };
    let word = match r.result {
        Verdict::Failure => "FAILURE",
        Verdict::Warning => "WARNING",
        _ => "SUCCESS",
    };
    let _ = writeln!(s, "result: {word} ({counts}; exit {}): {verdict}", r.exit_code());
    s
}

/// The checks as `--list` prints them: id, what each reads, title; then where user checks came from.
pub fn render_list(checks: &[Check], lang: Lang) -> String {
    let mut s = String::new();
    let idw = checks.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
    let reads = |c: &Check| c.sources.iter().map(|s| s.kind.describe()).collect::<Vec<_>>().join("; ");
    let _ = writeln!(s, "{:idw$}  TITLE", "ID");
    for c in checks {
        let _ = writeln!(s, "{:idw$}  {}", c.id, c.title.get(lang));
        let _ = writeln!(s, "{:idw$}  reads {}", "", cut(&reads(c), 140));
        if !c.builtin {
            let how = if c.overrides_builtin { "replaces the built-in check" } else { "added" };
            let _ = writeln!(s, "{:idw$}  from {} ({how})", "", c.path);
        }
    }
    let user = checks.iter().filter(|c| !c.builtin).count() as u64;
    let _ = writeln!(s, "{}, {} from --checks", count(checks.len() as u64, "check"), user);
    s
}

/// One line of `--list --json`.
#[derive(Debug, Serialize)]
pub struct ListEntry<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub reads: Vec<String>,
    pub file: &'a str,
    pub builtin: bool,
    pub overrides_builtin: bool,
}

pub fn list_entry(c: &Check, lang: Lang) -> ListEntry<'_> {
    ListEntry {
        id: &c.id,
        title: c.title.get(lang),
        reads: c.sources.iter().map(|s| s.kind.describe()).collect(),
        file: &c.path,
        builtin: c.builtin,
        overrides_builtin: c.overrides_builtin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::EvidenceOut;

    #[test]
    fn wrapping_as_textwrap_does() {
        let t = "There is no placement-api endpoint in the service catalog.";
        assert_eq!(wrap(t, 40, "  "), ["There is no placement-api endpoint in", "  the service catalog."]);
        assert_eq!(wrap("short", 60, "  "), ["short"]);
        assert_eq!(wrap("", 60, "  "), [""]);
        let long = "x".repeat(25);
        assert_eq!(wrap(&long, 12, "  "), ["xxxxxxxxxxxx", "  xxxxxxxxxx", "  xxx"]);
        // Hangul takes two columns.
        assert_eq!(width("한국어 ok"), 9);
        for l in wrap("가나다라마바사 아자차카타파하 가나다라마바사 아자차카타파하", 30, "  ")
        {
            assert!(width(&l) <= 30, "{l}");
        }
    }

    #[test]
    fn the_table_keeps_its_borders_straight() {
        let r = Report {
            schema: SCHEMA,
            host: "node-1".into(),
            checked_at: "2026-01-01T00:00:00Z".into(),
            result: Verdict::Failure,
            checks: vec![
                CheckResult {
                    id: "multipath.stale-maps".into(),
                    title: "No multipath map without an active path".into(),
                    result: Verdict::Failure,
                    details: "mpatha (dm-0): no active path, 0 of 2: sda offline (dm F), sdb offline (dm F).\nWhat to do: check the storage side first.".into(),
                    evidence: vec![EvidenceOut { path: "/sys/block/dm-0/dm/name".into(), line: Some(1), text: "mpatha".into() }],
                },
                CheckResult {
                    id: "kernel.hung-task".into(),
                    title: "한국어 제목".into(),
                    result: Verdict::Success,
                    details: "hung_task_timeout_secs 120".into(),
                    evidence: vec![],
                },
            ],
            root: None,
            captured_at: None,
            elapsed_ms: 1200,
        };
        let t = render_text(&r, Lang::En, false);
        let table: Vec<&str> = t.lines().filter(|l| l.starts_with('|') || l.starts_with('+')).collect();
        let w = width(table[0]);
        assert!(table.iter().all(|l| width(l) == w), "{t}");
        assert!(t.contains("| Upgrade Check Results"), "{t}");
        assert!(t.contains("| Check: No multipath map without an active path (multipath.stale-maps)"), "{t}");
        assert!(t.contains("| Result: Failure"), "{t}");
        assert!(t.contains("|   * mpatha (dm-0): no active path"), "{t}");
        assert!(t.contains("|   /sys/block/dm-0/dm/name:1: mpatha"), "{t}");
        assert!(t.contains("| Details: hung_task_timeout_secs 120"), "{t}");
        assert!(t.ends_with("result: FAILURE (1 failure, 0 warnings, 1 success, 0 skipped; exit 2): stop: do not upgrade this node until the failures are fixed\n"), "{t}");
        let c = render_text(&r, Lang::En, true);
        assert!(c.contains(&format!("| Result: {RED}Failure{RESET}")), "{c}");
    }
}

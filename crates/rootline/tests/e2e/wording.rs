//! What the outputs say in words: counts that agree with each other, plurals that agree with their
//! counts, and leads that are evidence rather than the operator's own typing.

use std::process::Output;

use regex::Regex;
use serde_json::Value;

use super::support::root;

fn run(args: &[&str]) -> Output {
    let o = crate::support::command()
        .current_dir(root())
        .env("TZ", "UTC")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .args(args)
        .output()
        .expect("rootline runs");
    assert!(matches!(o.status.code(), Some(0..=2)), "rootline {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    o
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `timeline --stats` and the summary line on stderr count the same skipped inputs (the bundle
/// metadata a folder's `etc/localtime` gives is counted apart, in both the text and the JSON).
#[test]
fn skipped_counts_agree_between_stats_and_the_summary_line() {
    let seed = "examples/incidents/seed-37";
    let stats = String::from_utf8(run(&["timeline", "--stats", seed]).stdout).unwrap();
    let n = |re: &str, s: &str| -> u64 {
        Regex::new(re).unwrap().captures(s).unwrap_or_else(|| panic!("{re} in {s}"))[1].parse().unwrap()
    };
    let in_stats = n(r"(?m)^skipped\s+(\d+)$", &stats);
    let metadata = n(r"(?m)^metadata\s+(\d+)$", &stats);
    let note = String::from_utf8(run(&["timeline", seed]).stderr).unwrap();
    assert_eq!(n(r"(\d+) skipped", &note), in_stats, "--stats:\n{stats}\nsummary: {note}");
    assert!(metadata >= 1, "etc/localtime is read as metadata: {stats}");
    assert!(stats.contains("etc/localtime: read as bundle metadata (time zone)"), "{stats}");
    let json: Value = serde_json::from_slice(&run(&["timeline", "--stats", "--json", seed]).stdout).unwrap();
    assert_eq!(json["skipped"].as_array().unwrap().len() as u64, in_stats);
    assert_eq!(json["metadata"].as_array().unwrap().len() as u64, metadata);
    let a: Value = serde_json::from_slice(&run(&["analyze", "--json", seed]).stdout).unwrap();
    assert_eq!(a["inputs"]["skipped"].as_array().unwrap().len() as u64, in_stats);
    assert_eq!(a["inputs"]["metadata"].as_array().unwrap().len() as u64, metadata);
}

/// No count of 1 is followed by a plural, and no other count by a singular, in any text output:
/// over one-line inputs (where every count is 1) and the example bundles.
#[test]
fn plurals_agree_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.log");
    std::fs::write(&one, "2025-10-13T10:00:00Z node1 multipathd[7]: mpatha: remaining active paths: 0\n").unwrap();
    let one = one.to_str().unwrap();
    let nouns = "files?|events?|findings?|templates?|lines?|links?|nodes?|peers?|warnings?|errors?|rules?|\
                 cases?|maps?|process(?:es)?|zombies?|failures?|notes?|hits?|pages?|more links?|more templates?|\
                 unparsed lines?|message templates?|message bytes?";
    let one_plural = Regex::new(&format!(r"(?:^|[^\d.,:+-])1 (?:{nouns})\b")).unwrap();
    let mut seen_one = 0;
    let mut outputs = Vec::new();
    for args in [
        vec!["timeline", one],
        vec!["timeline", "--stats", one],
        vec!["templates", one],
        vec!["analyze", one],
        vec!["analyze", "--format", "md", "--lang", "en", one],
        vec!["rules", "scan", "--stats", one],
        vec!["rules", "test", "--only", "multipath.all-paths-down"],
        vec!["timeline", "examples/incidents/seed-37"],
        vec!["analyze", "examples/incidents/seed-37"],
        vec!["analyze", "--format", "md", "--lang", "en", "examples/incidents/seed-37"],
        vec!["analyze", "examples/incidents/lab-offline-queue"],
        vec!["fleet", "examples/fleets/upgrade-wave"],
        vec!["doctor", "--root", "crates/node/tests/data/lab-outage", "--no-commands"],
    ] {
        let t = text(&run(&args));
        for m in one_plural.find_iter(&t) {
            let m = m.as_str().trim_start_matches(|c: char| !c.is_ascii_digit());
            let noun = m.trim_start_matches("1 ");
            // "1 <noun>" is right when the noun is singular: plural forms end in s (none of the
            // singular nouns listed does, but "process").
            assert!(!noun.ends_with('s') || noun == "process", "{args:?}: `{m}` in\n{t}");
            seen_one += 1;
        }
        let many_singular = Regex::new(&format!(r"(?:^|[^\d.,:+-])([02-9]|\d{{2,}}) ((?:{nouns}))\b")).unwrap();
        for c in many_singular.captures_iter(&t) {
            let noun = &c[2];
            assert!(noun.ends_with('s'), "{args:?}: `{} {noun}` in\n{t}", &c[1]);
        }
        outputs.push(t);
    }
    assert!(seen_one >= 5, "the one-line input gives counts of 1 to check: {outputs:#?}");
}

/// Leads are never the command lines, notes or prompts of a capture: the operator's own actions.
#[test]
fn leads_hold_no_command_lines_or_prompts() {
    let prompt = Regex::new(r"^(?:\S+@\S+:\S*[#$]|\[\S+@\S+ [^\]]*\][#$]|[#$] )").unwrap();
    for b in ["seed-37", "lab-offline-queue", "lab-offline-npr10"] {
        let dir = root().join("examples/incidents").join(b);
        let a: Value = serde_json::from_slice(&run(&["analyze", "--json", dir.to_str().unwrap()]).stdout).unwrap();
        for lead in a["incidents"].as_array().unwrap().iter().flat_map(|i| i["leads"].as_array().unwrap()) {
            let e = &lead["evidence"];
            let text = e["text"].as_str().unwrap();
            assert!(!prompt.is_match(text), "{b}: lead {lead}");
            // The cited line itself is not a command log header (`=== <time> [...] # cmd`).
            let path = root().join(e["path"].as_str().unwrap());
            if let Ok(file) = std::fs::read_to_string(&path) {
                let line = file.lines().nth(e["line"].as_u64().unwrap() as usize - 1).unwrap();
                assert!(!line.starts_with("=== "), "{b}: lead {lead} cites {line}");
            }
        }
    }
}

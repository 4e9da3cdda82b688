//! The corpus of public incidents (`examples/cases/`) is well formed: every case cites its source,
//! names a family of the signature catalogue, lists only signature ids the rule pack has (or declares
//! the ones it lacks under `missing_from_pack`, so the pack's gaps stay visible), and carries
//! non-empty excerpt files; the corpus holds at least 60 cases, 8 of them harmless look-alikes.
//! What rootline finds in the cases is measured by `bench/cases.sh`, never asserted here.

use std::collections::BTreeSet;
use std::path::Path;

use super::support::{root, stdout};
use serde_json::Value;

const MIN_CASES: usize = 60;
const MIN_LOOKALIKES: usize = 8;
const KEYS: &[&str] = &[
    "source",
    "title",
    "date",
    "versions",
    "root_cause",
    "root_cause_visible",
    "family",
    "root_cause_signature",
    "must_find",
    "missing_from_pack",
    "expect",
    "excerpt_note",
];

/// The ids of the built-in rule pack, from `rootline rules list` (first column).
fn pack_ids() -> BTreeSet<String> {
    stdout(&["rules", "list"]).lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

fn family(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

fn valid_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    if p.len() != 3 || p[0].len() != 4 || p[1].len() != 2 || p[2].len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (p[0].parse::<u32>(), p[1].parse::<u32>(), p[2].parse::<u32>()) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1990..=2100).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]
}

fn strings(v: &Value, key: &str, problems: &mut Vec<String>, name: &str) -> Vec<String> {
    match &v[key] {
        Value::Null => Vec::new(),
        Value::Array(a) => a
            .iter()
            .filter_map(|x| match x.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    problems.push(format!("{name}: {key} holds a non-string {x}"));
                    None
                }
            })
            .collect(),
        other => {
            problems.push(format!("{name}: {key} must be a list of strings, not {other}"));
            Vec::new()
        }
    }
}

/// Every problem of one case, as sentences naming the case.
fn check_case(dir: &Path, pack: &BTreeSet<String>, families: &BTreeSet<&str>) -> (Vec<String>, bool) {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let mut problems = Vec::new();
    let text = match std::fs::read_to_string(dir.join("case.json")) {
        Ok(t) => t,
        Err(e) => return (vec![format!("{name}: case.json unreadable: {e}")], false),
    };
    let meta: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return (vec![format!("{name}: case.json is not JSON: {e}")], false),
    };
    let Some(obj) = meta.as_object() else {
        return (vec![format!("{name}: case.json is not an object")], false);
    };
    for k in obj.keys() {
        if !KEYS.contains(&k.as_str()) {
            problems.push(format!("{name}: unknown key {k:?} (known: {})", KEYS.join(", ")));
        }
    }
    let text_field = |k: &str, problems: &mut Vec<String>| -> String {
        match meta[k].as_str() {
            Some(s) if !s.trim().is_empty() => s.to_string(),
            _ => {
                problems.push(format!("{name}: {k} is missing or empty"));
                String::new()
            }
        }
    };
    let source = text_field("source", &mut problems);
    if !source.is_empty() && !source.starts_with("https://") {
        problems.push(format!("{name}: source {source:?} is not an https URL"));
    }
    text_field("title", &mut problems);
    text_field("root_cause", &mut problems);
    let date = text_field("date", &mut problems);
    if !date.is_empty() && !valid_date(&date) {
        problems.push(format!("{name}: date {date:?} is not a YYYY-MM-DD date"));
    }
    let expect = text_field("expect", &mut problems);
    let quiet = expect == "quiet";
    if !expect.is_empty() && expect != "incident" && !quiet {
        problems.push(format!("{name}: expect is {expect:?}, not \"incident\" or \"quiet\""));
    }

    let must = strings(&meta, "must_find", &mut problems, &name);
    let missing = strings(&meta, "missing_from_pack", &mut problems, &name);
    let mut known_families: BTreeSet<&str> = families.clone();
    for id in &missing {
        if !id.contains('.') {
            problems.push(format!("{name}: missing_from_pack id {id:?} is not of the form family.name"));
        }
        if pack.contains(id) {
            problems.push(format!(
                "{name}: {id} is in the rule pack now: drop it from missing_from_pack in {}/case.json",
                name
            ));
        }
        if !must.contains(id) {
            problems.push(format!("{name}: missing_from_pack lists {id}, which must_find does not"));
        }
        known_families.insert(family(id));
    }
    for id in &must {
        if !pack.contains(id) && !missing.contains(id) {
            problems.push(format!(
                "{name}: must_find id {id} is not in the rule pack; fix the id or declare it under missing_from_pack"
            ));
        }
    }
    let fam = text_field("family", &mut problems);
    if !fam.is_empty() {
        if !known_families.contains(fam.as_str()) {
            problems.push(format!(
                "{name}: family {fam:?} is neither a family of the rule pack nor of a missing_from_pack id"
            ));
        }
        if !name.starts_with(&format!("{fam}-")) {
            problems.push(format!("{name}: the directory name does not start with its family \"{fam}-\""));
        }
    }
    if let Some(rc) = meta["root_cause_signature"].as_str() {
        if !must.iter().any(|m| m == rc) {
            problems.push(format!("{name}: root_cause_signature {rc} is not among must_find"));
        }
        if !fam.is_empty() && family(rc) != fam {
            problems.push(format!("{name}: root_cause_signature {rc} is not of the case's family {fam}"));
        }
    }
    if quiet && !must.is_empty() {
        problems.push(format!("{name}: a look-alike (expect quiet) lists signatures to find"));
    }
    if !quiet && must.is_empty() {
        problems.push(format!("{name}: an incident case lists no signature to find"));
    }

    let mut excerpts = 0;
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().to_string();
                if file == "case.json" {
                    continue;
                }
                let path = e.path();
                if !path.is_file() {
                    problems.push(format!("{name}: {file} is not a plain file (cases hold excerpt files only)"));
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap_or_default();
                if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                    problems.push(format!("{name}: excerpt {file} is empty"));
                }
                excerpts += 1;
            }
        }
        Err(e) => problems.push(format!("{name}: unreadable directory: {e}")),
    }
    if excerpts == 0 {
        problems.push(format!("{name}: no excerpt file beside case.json"));
    }
    (problems, quiet)
}

#[test]
fn corpus_of_public_incidents_is_well_formed() {
    let pack = pack_ids();
    assert!(pack.len() > 10, "rootline rules list gave {} ids", pack.len());
    let families: BTreeSet<&str> = pack.iter().map(|id| family(id)).collect();
    let cases_dir = root().join("examples/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&cases_dir)
        .expect("examples/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut problems = Vec::new();
    let mut lookalikes = 0;
    for dir in &dirs {
        let (p, quiet) = check_case(dir, &pack, &families);
        problems.extend(p);
        lookalikes += usize::from(quiet);
    }
    assert!(problems.is_empty(), "{} problem(s) in examples/cases:\n{}", problems.len(), problems.join("\n"));
    assert!(dirs.len() >= MIN_CASES, "examples/cases holds {} cases, fewer than {MIN_CASES}", dirs.len());
    assert!(
        lookalikes >= MIN_LOOKALIKES,
        "examples/cases holds {lookalikes} look-alikes (expect quiet), fewer than {MIN_LOOKALIKES}"
    );
}

#[test]
fn case_checks_reject_broken_cases() {
    // The checks themselves: a case with an unknown id, a bad date, an empty excerpt and a family
    // that matches nothing is reported on every count.
    let pack: BTreeSet<String> = ["block.io-error".to_string()].into_iter().collect();
    let families: BTreeSet<&str> = ["block"].into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("zfs-broken");
    std::fs::create_dir(&case).unwrap();
    std::fs::write(
        case.join("case.json"),
        r#"{"source": "http://example.org", "title": "t", "date": "2021-02-30", "root_cause": "r",
            "family": "zfs", "must_find": ["block.io-eror"], "expect": "incident", "colour": 1}"#,
    )
    .unwrap();
    std::fs::write(case.join("dmesg"), "\n").unwrap();
    let (problems, quiet) = check_case(&case, &pack, &families);
    assert!(!quiet);
    let all = problems.join("\n");
    for needle in [
        "is not an https URL",
        "is not a YYYY-MM-DD date",
        "must_find id block.io-eror is not in the rule pack",
        "family \"zfs\" is neither",
        "excerpt dmesg is empty",
        "unknown key \"colour\"",
    ] {
        assert!(all.contains(needle), "{needle:?} not reported in:\n{all}");
    }

    // The same case made right passes, and a declared gap gives its family.
    std::fs::write(
        case.join("case.json"),
        r#"{"source": "https://example.org/1", "title": "t", "date": "2020-02-29", "root_cause": "r",
            "family": "zfs", "must_find": ["zfs.pool-suspended", "block.io-error"],
            "missing_from_pack": ["zfs.pool-suspended"], "expect": "incident"}"#,
    )
    .unwrap();
    std::fs::write(case.join("dmesg"), "one excerpt line\n").unwrap();
    let (problems, _) = check_case(&case, &pack, &families);
    assert!(problems.is_empty(), "{problems:?}");
}

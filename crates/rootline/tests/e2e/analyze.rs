//! Replays every regression bundle under `examples/incidents/` through `rootline analyze --format json`
//! and compares the verdict, the root cause and the chain with `<bundle>.expected.json` beside it:
//! - `verdict` must be equal;
//! - `root_cause` (when not null): the top incident's root-cause signature, and every listed entity
//!   value among its entities;
//! - `chain`: every (cause signature, effect signature) pair is an edge of the top incident's chain;
//! - `no_link`: no incident has such an edge;
//! - `context`: each signature is among the changes reported before the top incident's first fault.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{root, stdout};
use serde_json::Value;

fn analyze(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rootline"))
        .current_dir(root())
        .args(["analyze", "--format", "json"])
        .arg(dir)
        .output()
        .expect("rootline runs");
    assert_eq!(out.status.code(), Some(0), "{}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("analysis JSON")
}

fn pairs(incident: &Value) -> Vec<(String, String)> {
    incident["chain"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|l| {
                    (
                        l["cause_signature"].as_str().unwrap_or("").to_string(),
                        l["effect_signature"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A bundle's expectations sit beside it (`seed-37.expected.json`), so the bundle holds evidence only.
fn expected_path(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dir.with_file_name(format!("{name}.expected.json"))
}

fn check(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    check_as(dir, &expected_path(dir), &name)
}

/// Checks the analysis of `dir` against the expectations at `expected`, naming problems `name`.
fn check_as(dir: &Path, expected: &Path, name: &str) -> Vec<String> {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(expected).expect("expected.json")).unwrap();
    let a = analyze(dir);
    let mut problems = Vec::new();
    assert_eq!(a["schema"], "rootline.analysis/v1");
    if a["verdict"] != expected["verdict"] {
        problems.push(format!("{name}: verdict {} (expected {})", a["verdict"], expected["verdict"]));
    }
    let top = &a["incidents"][0];
    if let Some(rc) = expected["root_cause"].as_object() {
        let got = &top["root_cause"];
        if got["signature"] != rc["signature"] {
            problems.push(format!("{name}: root cause {} (expected {})", got["signature"], rc["signature"]));
        }
        if let Some(ents) = rc.get("entities").and_then(|e| e.as_object()) {
            for (k, vals) in ents {
                for v in vals.as_array().into_iter().flatten() {
                    let have = got["entities"][k].as_array().is_some_and(|a| a.contains(v));
                    if !have {
                        problems.push(format!("{name}: root cause lacks {k}={v} (has {})", got["entities"]));
                    }
                }
            }
        }
    }
    let chain = pairs(top);
    for p in expected["chain"].as_array().into_iter().flatten() {
        let want = (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string());
        if !chain.contains(&want) {
            problems.push(format!("{name}: chain lacks {} -> {}", want.0, want.1));
        }
    }
    let all: Vec<(String, String)> = a["incidents"].as_array().into_iter().flatten().flat_map(pairs).collect();
    for p in expected["no_link"].as_array().into_iter().flatten() {
        let bad = (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string());
        if all.contains(&bad) {
            problems.push(format!("{name}: unexpected link {} -> {}", bad.0, bad.1));
        }
    }
    for s in expected["context"].as_array().into_iter().flatten() {
        let found = top["context"].as_array().into_iter().flatten().any(|c| c["signature"] == *s);
        if !found {
            problems.push(format!("{name}: context lacks {s}"));
        }
    }
    // Every link carries evidence at both ends.
    for inc in a["incidents"].as_array().into_iter().flatten() {
        for l in inc["chain"].as_array().into_iter().flatten() {
            if l["evidence"].as_array().map_or(0, |e| e.len()) < 2 {
                problems.push(format!("{name}: link {} -> {} without evidence at both ends", l["cause"], l["effect"]));
            }
        }
    }
    problems
}

#[test]
fn every_bundle_matches_its_expected_analysis() {
    let dir = root().join("examples/incidents");
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/incidents")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && expected_path(p).is_file())
        .collect();
    bundles.sort();
    assert!(bundles.len() >= 5, "bundles with expected.json: {bundles:?}");
    let problems: Vec<String> = bundles.iter().flat_map(|b| check(b)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Copies `from` into `to` (files only) and sets every file's modification time to `secs`.
fn copy_with_mtime(from: &Path, to: &Path, secs: u64) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_with_mtime(&src, &dst, secs);
        } else {
            std::fs::copy(&src, &dst).unwrap();
            let f = std::fs::File::options().write(true).open(&dst).unwrap();
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).unwrap();
        }
    }
}

#[test]
fn every_bundle_gives_the_same_analysis_whatever_its_files_mtimes() {
    // A checkout sets every file's time to the moment of the clone: no analysis may depend on it.
    // 2019-06-01 and 2031-03-01, far before and after any bundle's evidence.
    let dir = root().join("examples/incidents");
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/incidents")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && expected_path(p).is_file())
        .collect();
    bundles.sort();
    let tmp = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for (secs, year) in [(1_559_347_200u64, "2019"), (1_929_830_400u64, "2031")] {
        for b in &bundles {
            let name = b.file_name().unwrap().to_string_lossy().to_string();
            let copy = tmp.path().join(year).join(&name);
            copy_with_mtime(b, &copy, secs);
            problems.extend(check_as(&copy, &expected_path(b), &format!("{name} (files dated {year})")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn text_names_the_stale_map_and_formats_are_checked() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rootline")).current_dir(root()).args(args).output().expect("rootline runs")
    };
    let out = run(&["analyze", "examples/incidents/seed-37"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("multipath.stale-map#1"), "{text}");
    assert!(text.contains("dm-21") && text.contains("mpathb"), "{text}");
    assert!(text.contains("journalctl-short-iso.txt:"), "{text}");
    let md = run(&["analyze", "--format", "md", "examples/incidents/seed-37"]);
    assert_eq!(md.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&md.stdout).contains("mpathb"));
    let bad = run(&["analyze", "--format", "pdf", "examples/incidents/seed-37"]);
    assert_eq!(bad.status.code(), Some(2));
    let missing = run(&["analyze", "examples/incidents/no-such-bundle"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn incidents_carry_a_fingerprint_and_leads_with_evidence() {
    let a = analyze(&root().join("examples/incidents/seed-37"));
    let inc = &a["incidents"][0];
    let sigs: Vec<&str> =
        inc["fingerprint"]["signatures"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
    assert!(sigs.contains(&"multipath.stale-map") && sigs.contains(&"kernel.hung-task"), "{sigs:?}");
    let templates = inc["fingerprint"]["templates"].as_array().unwrap();
    assert!(!templates.is_empty() && templates.iter().all(|t| t.as_str().is_some_and(|h| h.len() == 16)));
    // The seed's evidence starts well before the incident, so new lines are listed as leads: each
    // with a file and line, none of them matched by a rule (the chain's lines are not leads).
    let leads = inc["leads"].as_array().unwrap();
    assert!(!leads.is_empty());
    for l in leads {
        assert!(l["evidence"]["path"].as_str().is_some_and(|p| p.contains("seed-37")));
        assert!(l["evidence"]["line"].as_u64().unwrap() > 0);
        assert!(!l["template"].as_str().unwrap().contains("remaining active paths: 0"));
    }
    // The same analysis twice gives the same fingerprint (stable hashes, sorted).
    let b = analyze(&root().join("examples/incidents/seed-37"));
    assert_eq!(inc["fingerprint"], b["incidents"][0]["fingerprint"]);
}

#[test]
fn templates_and_the_analysis_text_are_the_same_every_run() {
    // Hash-map order once chose the example line of a template and the order of tied chain links;
    // each run of a process has its own hash seed, so three runs would show it.
    let bundle = "examples/incidents/lab-offline-queue";
    let t: Vec<String> = (0..3).map(|_| stdout(&["templates", "--json", bundle])).collect();
    assert!(t[0].lines().count() > 100);
    assert!(t.iter().all(|x| *x == t[0]), "templates --json differs between runs");
    let a: Vec<String> = (0..3).map(|_| stdout(&["analyze", "examples/incidents/seed-37"])).collect();
    assert!(a.iter().all(|x| *x == a[0]), "analyze text differs between runs");
}

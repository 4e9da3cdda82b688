//! The built-in pack as a whole: it compiles, every rule's cases pass (the same as
//! `rootline rules test`), lint finds no error, and the checked-in rule pages are current.

use std::path::Path;

use rootline_rules::{docs, harness, lint, Engine, Pack};

fn engine() -> Engine {
    Engine::new(Pack::builtin().unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn every_rule_case_passes() {
    let rep = harness::test_pack(&engine());
    let msg: Vec<String> = rep.failures.iter().map(|f| f.to_string()).collect();
    assert!(rep.ok(), "{} of {} cases failed:\n{}", rep.failures.len(), rep.cases, msg.join("\n"));
    assert!(rep.cases >= rep.rules * 2);
    eprintln!("{} rules, {} cases", rep.rules, rep.cases);
}

#[test]
fn lint_is_clean() {
    let issues = lint::lint(&engine(), true);
    let errors: Vec<String> = issues.iter().filter(|i| i.level == lint::Level::Error).map(|i| i.to_string()).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn rule_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let pack = Pack::builtin().unwrap();
    let mut stale = Vec::new();
    let pages = docs::generate(&pack);
    for (rel, text) in &pages {
        if std::fs::read_to_string(dir.join(rel)).ok().as_deref() != Some(text.as_str()) {
            stale.push(rel.clone());
        }
    }
    let expected: Vec<&String> = pages.iter().map(|(r, _)| r).collect();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !expected.contains(&&name) {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale ({}); regenerate with: cargo run -p rootline -- rules docs -o docs/rules",
        stale.join(", ")
    );
}

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

#[test]
fn a_hung_task_began_its_timeout_before_its_report() {
    // `blocked for more than 120 seconds` at 20:02:15 means blocked since 20:00:15 or earlier.
    let mut ev = rootline_event::Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("m", 1, 0));
    ev.program = Some("kernel".into());
    ev.time = Some(rootline_event::Timestamp::from_unix_nanos(1_000_000 * 1_000_000_000, 0));
    ev.set_message(b"INFO: task qemu-kvm:4242 blocked for more than 120 seconds.");
    let engine = engine();
    let a = rootline_rules::window::run(&engine, [&ev]);
    let f = a.findings.iter().find(|f| f.signature == "kernel.hung-task").expect("hung task");
    assert_eq!(f.onset.map(|t| t.unix_nanos), Some((1_000_000 - 120) * 1_000_000_000));
    assert_eq!(f.began(), f.onset);
    // A finding whose rule declares no onset began with its first line.
    let mut ev2 = ev.clone();
    ev2.program = Some("multipathd".into());
    ev2.set_message(b"mpatha: remaining active paths: 0");
    let a = rootline_rules::window::run(&engine, [&ev2]);
    let f = a.findings.iter().find(|f| f.signature == "multipath.all-paths-down").unwrap();
    assert_eq!((f.onset, f.began()), (None, f.first));
}

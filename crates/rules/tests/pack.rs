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

#[test]
fn a_quiet_gap_splits_a_host_into_episodes() {
    // One map loses its paths at 00:00, 00:30 (one episode) and again at 06:00 after five and a
    // half quiet hours (a second episode); the other host's line at 03:00 keeps nothing alive here.
    let line = |host: &str, secs: i64, msg: &str| {
        let mut ev =
            rootline_event::Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("m", 1, 0));
        ev.program = Some("multipathd".into());
        ev.host = Some(host.into());
        ev.time = Some(rootline_event::Timestamp::from_unix_nanos(secs * 1_000_000_000, 0));
        ev.set_message(msg.as_bytes());
        ev
    };
    let evs = [
        line("a", 0, "mpatha: remaining active paths: 0"),
        line("a", 1800, "mpatha: remaining active paths: 0"),
        line("b", 3 * 3600, "mpatha: remaining active paths: 0"),
        line("a", 6 * 3600, "mpatha: remaining active paths: 0"),
    ];
    let engine = engine();
    let a = rootline_rules::window::run(&engine, evs.iter());
    let on_a: Vec<(u64, u32)> = a
        .findings
        .iter()
        .zip(&a.episodes)
        .filter(|(f, _)| f.signature == "multipath.all-paths-down" && f.host.as_deref() == Some("a"))
        .map(|(f, e)| (f.count, *e))
        .collect();
    assert_eq!(on_a, vec![(2, 0), (1, 1)]);
    assert_eq!(a.findings.len(), a.episodes.len());
    // With one episode per host, the three lines of host a are one finding.
    let mut m = rootline_rules::Matcher::new(&engine).with_episode_gap(i64::MAX);
    for ev in &evs {
        m.feed(ev);
    }
    let a = m.finish();
    let n = a.findings.iter().filter(|f| f.signature == "multipath.all-paths-down" && f.host.as_deref() == Some("a"));
    assert_eq!(n.map(|f| f.count).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn context_findings_are_kept_at_both_ends_of_an_episode_and_counted_between() {
    // One host starts 1,000 containers (one finding each), a second host starts three: the first
    // host keeps the first CONTEXT_FIRST and the last CONTEXT_LAST, the rest are counted.
    use rootline_rules::window::{CONTEXT_FIRST, CONTEXT_LAST};
    let start = |host: &str, secs: i64, id: usize| {
        let mut ev =
            rootline_event::Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("m", 1, 0));
        ev.program = Some("containerd".into());
        ev.host = Some(host.into());
        ev.time = Some(rootline_event::Timestamp::from_unix_nanos(secs * 1_000_000_000, 0));
        ev.set_message(
            format!("time=\"x\" level=info msg=\"StartContainer for \\\"{id:016x}\\\" returns successfully\"")
                .as_bytes(),
        );
        ev
    };
    let n = 1000;
    let mut evs: Vec<_> = (0..n).map(|i| start("a", i as i64, 0xabc000 + i)).collect();
    evs.extend((0..3).map(|i| start("b", i as i64, 0xdef000 + i)));
    // A container of the first host that starts again keeps one finding, with both hits.
    evs.push(start("a", n as i64, 0xabc000));
    let engine = engine();
    let a = rootline_rules::window::run(&engine, evs.iter());
    let ids = |host: &str| -> Vec<(String, u64)> {
        a.findings
            .iter()
            .filter(|f| f.signature == "k8s.container-started" && f.host.as_deref() == Some(host))
            .map(|f| (f.entities["container_id"][0].clone(), f.count))
            .collect()
    };
    let on_a = ids("a");
    assert_eq!(on_a.len(), CONTEXT_FIRST + CONTEXT_LAST);
    assert_eq!(on_a[0], (format!("{:016x}", 0xabc000), 2));
    assert_eq!(on_a[CONTEXT_FIRST - 1].0, format!("{:016x}", 0xabc000 + CONTEXT_FIRST - 1));
    assert_eq!(on_a[CONTEXT_FIRST].0, format!("{:016x}", 0xabc000 + n - CONTEXT_LAST));
    assert_eq!(on_a.last().map(|x| x.0.clone()), Some(format!("{:016x}", 0xabc000 + n - 1)));
    assert_eq!(ids("b").len(), 3);
    assert_eq!(a.folded, vec![("k8s.container-started".to_string(), n - CONTEXT_FIRST - CONTEXT_LAST)]);
    assert_eq!(a.hits, n as u64 + 4);
}

#[test]
fn a_pod_link_needs_the_same_pod_when_both_name_one() {
    let engine = engine();
    let link = engine.pack().links.iter().find(|l| l.id == "link.restart-to-crash-loop").expect("link");
    assert!(matches!(link.share, rootline_rules::Share::Pod));
    let f = |id: &str, sig: &str, ents: &[(&str, &str)]| rootline_rules::Finding {
        id: id.into(),
        signature: sig.into(),
        kind: rootline_rules::Kind::Symptom,
        severity: rootline_rules::RuleSeverity::Warning,
        fallback: false,
        host: None,
        first: Some(rootline_event::Timestamp::from_unix_nanos(1_000 * 1_000_000_000, 0)),
        last: None,
        onset: None,
        count: 1,
        entities: ents.iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect(),
        evidence: Vec::new(),
    };
    let aliases = rootline_rules::Aliases::default();
    let restart = f("r#1", "k8s.container-restarted", &[("pod", "api-7f9c"), ("container", "api")]);
    let same = f("c#1", "k8s.crash-loop", &[("pod", "api-7f9c"), ("container", "api")]);
    let other = f("c#2", "k8s.crash-loop", &[("pod", "api-51de"), ("container", "api")]);
    let no_pod = f("c#3", "k8s.crash-loop", &[("container", "api")]);
    assert!(rootline_rules::links::try_link(link, &restart, &same, &aliases).is_some());
    // Two pods that run a container named `api` are two workloads.
    assert!(rootline_rules::links::try_link(link, &restart, &other, &aliases).is_none());
    // Without a pod on one side, the container name is what they share.
    let e = rootline_rules::links::try_link(link, &restart, &no_pod, &aliases).expect("by container");
    assert_eq!(e.shared, vec!["api".to_string()]);
}

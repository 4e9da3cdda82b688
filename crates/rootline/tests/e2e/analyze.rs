//! Replays every regression bundle under `examples/incidents/` through `rootline analyze --format json`
//! and compares the verdict, the root cause and the chain with `<bundle>.expected.json` beside it:
//! - `verdict` must be equal;
//! - `root_cause` (when not null): the top incident's root-cause signature, and every listed entity
//!   value among its entities;
//! - `chain`: every (cause signature, effect signature) pair is an edge of the top incident's chain;
//! - `no_link`: no incident has such an edge;
//! - `context`: each signature is among the changes reported before the top incident's first fault.
//!
//! Keys for the analyses that must hold one whole episode (all optional):
//! - `root_cause.first`: the RFC 3339 time of the root cause's first line (the first evidenced
//!   transport fault), to within a second;
//! - `one_incident: true`: every fault and symptom finding is in the top incident;
//! - `reaches`: for each (cause, effect) signature pair, the top incident's chain leads from a finding
//!   of the cause to a finding of the effect through one or more links (the shape in between is free);
//! - `times`: for each `{signature, first}`, the earliest `first` among the top incident's findings of
//!   that signature is that time, to within a second (naive times read in the wrong zone, or a capture
//!   dated by its file's mtime, are hours or months off);
//! - `not_in_chain`: `{kind: [values]}`, entity values (a healthy map, its disks, another pod) that no
//!   finding of the top incident, no link of its chain and not its root cause may carry.

use std::path::{Path, PathBuf};

use super::support::{root, stdout};
use serde_json::Value;

fn analyze(dir: &Path) -> Value {
    let out = crate::support::command()
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

/// Milliseconds since the epoch of an RFC 3339 time (`2025-03-11T08:58:12.418934+05:30`).
fn epoch_ms(v: &Value) -> Option<i64> {
    v.as_str()?.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// Whether two RFC 3339 times are the same to within a second: one event seen by two sources (the
/// journal's receive time, the kernel's own stamp placed through the boot time) differs by less.
fn same_time(got: &Value, want: &Value) -> bool {
    matches!((epoch_ms(got), epoch_ms(want)), (Some(g), Some(w)) if (g - w).abs() <= 1000)
}

/// The analysis' finding records by id.
fn findings_by_id(a: &Value) -> std::collections::HashMap<String, &Value> {
    a["findings"].as_array().into_iter().flatten().filter_map(|f| Some((f["id"].as_str()?.to_string(), f))).collect()
}

/// The ids of the top incident's findings.
fn incident_ids(inc: &Value) -> Vec<String> {
    inc["findings"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)).collect()
}

/// Whether the chain of `inc` leads from a finding of signature `from` to one of signature `to`.
fn reaches(inc: &Value, from: &str, to: &str) -> bool {
    let links: Vec<(String, String, String, String)> = inc["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("cause"), s("effect"), s("cause_signature"), s("effect_signature"))
        })
        .collect();
    let mut todo: Vec<String> = links.iter().filter(|l| l.2 == from).map(|l| l.0.clone()).collect();
    let mut seen: std::collections::HashSet<String> = todo.iter().cloned().collect();
    while let Some(id) = todo.pop() {
        for l in links.iter().filter(|l| l.0 == id) {
            if l.3 == to {
                return true;
            }
            if seen.insert(l.1.clone()) {
                todo.push(l.1.clone());
            }
        }
    }
    false
}

/// The checks of the episode keys (`root_cause.first`, `one_incident`, `reaches`, `times`,
/// `not_in_chain`); see the module comment.
fn check_episode(name: &str, expected: &Value, a: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let top = &a["incidents"][0];
    let by_id = findings_by_id(a);
    let ids = incident_ids(top);
    if let Some(want) = expected["root_cause"].get("first").filter(|v| !v.is_null()) {
        let got = top["root_cause"]["finding"].as_str().and_then(|id| by_id.get(id)).map(|f| &f["first"]);
        if !got.is_some_and(|g| same_time(g, want)) {
            problems.push(format!("{name}: root cause first {} (expected {want})", got.unwrap_or(&Value::Null)));
        }
    }
    if expected["one_incident"] == Value::Bool(true) {
        for (id, f) in &by_id {
            let kind = f["kind"].as_str().unwrap_or("");
            if (kind == "fault" || kind == "symptom") && !ids.contains(id) {
                problems.push(format!("{name}: {id} ({kind}, first {}) is not in the top incident", f["first"]));
            }
        }
    }
    for p in expected["reaches"].as_array().into_iter().flatten() {
        let (from, to) = (p[0].as_str().unwrap_or(""), p[1].as_str().unwrap_or(""));
        if !reaches(top, from, to) {
            problems.push(format!("{name}: chain does not lead from {from} to {to}"));
        }
    }
    for t in expected["times"].as_array().into_iter().flatten() {
        let sig = t["signature"].as_str().unwrap_or("");
        let first = ids
            .iter()
            .filter_map(|id| by_id.get(id))
            .filter(|f| f["signature"] == sig)
            .filter_map(|f| Some((epoch_ms(&f["first"])?, &f["first"])))
            .min_by_key(|(ms, _)| *ms);
        match first {
            None => {
                problems.push(format!("{name}: no {sig} finding in the top incident (expected first {})", t["first"]))
            }
            Some((_, got)) if !same_time(got, &t["first"]) => {
                problems.push(format!("{name}: {sig} first {got} (expected {})", t["first"]))
            }
            Some(_) => {}
        }
    }
    for (kind, vals) in expected["not_in_chain"].as_object().into_iter().flatten() {
        for v in vals.as_array().into_iter().flatten() {
            let carries = |f: &Value| f["entities"][kind].as_array().is_some_and(|a| a.contains(v));
            for id in &ids {
                if by_id.get(id).is_some_and(|f| carries(f)) {
                    problems.push(format!("{name}: {id} of the top incident carries {kind}={v}"));
                }
            }
            if carries(&top["root_cause"]) {
                problems.push(format!("{name}: the root cause carries {kind}={v}"));
            }
            let tag = format!("{kind}={}", v.as_str().unwrap_or(""));
            for l in top["chain"].as_array().into_iter().flatten() {
                if l["entities"].as_array().is_some_and(|e| e.iter().any(|x| x.as_str() == Some(tag.as_str()))) {
                    problems.push(format!("{name}: link {} -> {} carries {tag}", l["cause"], l["effect"]));
                }
            }
        }
    }
    problems
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
    problems.extend(check_episode(name, &expected, &a));
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
    let run = |args: &[&str]| crate::support::command().current_dir(root()).args(args).output().expect("rootline runs");
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

#[test]
fn the_chain_reads_in_time_and_the_summary_follows_it() {
    // Each drawn link is cause first; an effect logged before its cause's onset says why; the
    // Markdown summary names the findings in the order the text draws them.
    let text = stdout(&["analyze", "examples/incidents/seed-37"]);
    let chain: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Chain"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Alternatives"))
        .collect();
    let arrows: Vec<&str> = chain.iter().copied().filter(|l| l.contains(" -> ")).collect();
    assert!(!arrows.is_empty(), "{text}");
    // The hung task shows when it began (its report says: blocked for more than 120 s).
    assert!(arrows.iter().any(|l| l.contains("20:00:15^ kernel.hung-task#1")), "{text}");
    let stale_to_hung = arrows
        .iter()
        .position(|l| l.contains("multipath.stale-map#1") && l.contains("-> 20:00:15^ kernel.hung-task#1"));
    let hung_to_probe =
        arrows.iter().position(|l| l.contains("kernel.hung-task#1") && l.contains("k8s.probe-failed#1"));
    assert!(stale_to_hung.unwrap() < hung_to_probe.unwrap(), "{text}");
    // Every link whose effect begins before its cause explains it on the lines that follow.
    for (n, l) in chain.iter().enumerate() {
        if !l.contains(" -> ") {
            continue;
        }
        let times: Vec<&str> = l.split_whitespace().filter(|w| w.len() >= 8 && w.as_bytes()[2] == b':').collect();
        let (a, b) = (times[0].trim_end_matches('^'), times[1].trim_end_matches('^'));
        if b < a {
            let note = chain[n + 1..].iter().take(3).any(|x| x.contains("the effect's first line comes"));
            assert!(note, "no explanation for {l}\n{text}");
        }
    }
    let md = stdout(&["analyze", "--format", "md", "examples/incidents/seed-37"]);
    let sentence = md.lines().find(|l| l.starts_with("It explains")).expect("summary sentence");
    let hung = sentence.find("Hung task").unwrap();
    let probe = sentence.find("Kubernetes probe failed").unwrap();
    assert!(hung < probe, "{sentence}");
}

/// The libvirt daemon's own end, in the words of the kernel and libvirt: a crashed daemon explains its
/// clients' lost connection; a daemon whose thread hangs in D state explains the next daemon's
/// failure to take the pid file. Lines as the kernel (show_signal_msg, hung_task) and libvirt
/// (virpidfile.c) write them, through RFC 3339 syslog so no year is inferred.
#[test]
fn a_libvirt_daemon_that_crashed_or_hangs_explains_what_its_successors_and_clients_log() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("messages"),
        "2025-09-11T09:25:40.100000+00:00 cmp-7 kernel: [ 2666.643232] rpc-libvirtd[5444]: segfault at 0 ip 00007fe1f5680eea sp 00007fe1f7ffe530 error 4 in libvirt_driver_qemu.so[79eea,7fe1f564f000+121000]\n\
         2025-09-11T09:25:41.200000+00:00 cmp-7 nova-compute[77]: 2025-09-11 09:25:41.200 77 WARNING nova.virt.libvirt.host [-] Connection to libvirt lost: 1\n\
         2025-09-11T11:00:00.000000+00:00 cmp-7 kernel: [ 8000.000001] INFO: task rpc-libvirtd:6001 blocked for more than 122 seconds.\n\
         2025-09-11T11:05:00.000000+00:00 cmp-7 libvirtd[6100]: Failed to acquire pid file '/run/libvirtd.pid': Resource temporarily unavailable\n",
    )
    .unwrap();
    let out = crate::support::rootline(&["analyze", tmp.path().to_str().unwrap(), "--format", "json"]);
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = a["incidents"].as_array().unwrap();
    let crash = incidents.iter().find(|i| reaches(i, "libvirt.daemon-crashed", "libvirt.connection-lost"));
    assert!(crash.is_some(), "{}", serde_json::to_string_pretty(&a["incidents"]).unwrap());
    let hang = incidents.iter().find(|i| reaches(i, "kernel.hung-task", "libvirt.pidfile-held"));
    assert!(hang.is_some(), "{}", serde_json::to_string_pretty(&a["incidents"]).unwrap());
}

#[test]
fn an_nvme_media_error_is_the_root_cause_of_the_block_errors_on_its_namespace() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("messages"),
        "2026-03-02T10:00:01.000000+00:00 cmp-3 kernel: [ 4242.123456] nvme0n1: Read(0x2) @ LBA 224110720, 256 blocks, Unrecovered Read Error (sct 0x2 / sc 0x81) DNR\n\
         2026-03-02T10:00:01.000100+00:00 cmp-3 kernel: [ 4242.123500] critical medium error, dev nvme0n1, sector 224110720 op 0x0:(READ) flags 0x80700 phys_seg 32 prio class 2\n\
         2026-03-02T10:00:01.000200+00:00 cmp-3 kernel: [ 4242.123600] nvme1n1: Read(0x2) @ LBA 16, 8 blocks, Access Denied (sct 0x2 / sc 0x86) DNR\n",
    )
    .unwrap();
    let out = crate::support::rootline(&["analyze", tmp.path().to_str().unwrap(), "--format", "json"]);
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = a["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{}", serde_json::to_string_pretty(&a["incidents"]).unwrap());
    assert_eq!(incidents[0]["root_cause"]["signature"], "nvme.media-error");
    assert!(
        reaches(&incidents[0], "nvme.media-error", "block.io-error"),
        "{}",
        serde_json::to_string_pretty(&incidents[0]).unwrap()
    );
    // A locked namespace that denies a read is no media error.
    let sigs: Vec<&str> = a["findings"].as_array().unwrap().iter().filter_map(|f| f["signature"].as_str()).collect();
    assert_eq!(sigs.iter().filter(|s| **s == "nvme.media-error").count(), 1, "{sigs:?}");
}

/// An NFS server that stops answering and answers again 40 seconds later, with nothing else failing,
/// is a blip that recovered, not an incident; the same outage with a task hung on the mount stays one.
/// Wordings: net/sunrpc/clnt.c call_timeout() and call_decode(), as in the dmesg of
/// https://github.com/openzfs/zfs/issues/15734.
#[test]
fn an_nfs_server_that_answers_again_is_a_recovered_blip_unless_something_hung() {
    let blip = "2026-03-02T10:00:00.000000+00:00 cmp-4 kernel: [ 5000.000001] nfs: server 192.168.0.1 not responding, still trying\n\
                2026-03-02T10:00:13.000000+00:00 cmp-4 kernel: [ 5013.000001] nfs: server 192.168.0.1 not responding, still trying\n\
                2026-03-02T10:00:40.000000+00:00 cmp-4 kernel: [ 5040.000001] nfs: server 192.168.0.1 OK\n";
    let analyse = |text: &str| -> Value {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("messages"), text).unwrap();
        let out = crate::support::rootline(&["analyze", tmp.path().to_str().unwrap(), "--format", "json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let a = analyse(blip);
    assert_eq!(a["verdict"], "no_incident", "{}", serde_json::to_string_pretty(&a).unwrap());
    let recovered = a["recovered"].as_array().expect("a recovered blip");
    assert_eq!(recovered.len(), 1, "{}", serde_json::to_string_pretty(&a["recovered"]).unwrap());
    assert_eq!(recovered[0]["lasted_secs"], serde_json::json!(40.0));
    let (head, last) = blip.rsplit_once("2026-03-02T10:00:40").unwrap();
    let hung = format!(
        "{head}2026-03-02T10:00:30.000000+00:00 cmp-4 kernel: [ 5030.000001] INFO: task cp:4242 blocked for more than 120 seconds.\n2026-03-02T10:00:40{last}"
    );
    let b = analyse(&hung);
    assert_ne!(b["verdict"], "no_incident", "{}", serde_json::to_string_pretty(&b).unwrap());
    assert!(!b["incidents"].as_array().unwrap().is_empty());
}

#[test]
fn max_incidents_lists_the_first_and_counts_the_rest() {
    let seed = "examples/incidents/seed-37";
    let all: Value = serde_json::from_str(&stdout(&["analyze", seed, "--format", "json"])).unwrap();
    let n = all["incidents"].as_array().unwrap().len();
    assert!(n >= 2, "seed-37 has {n} incidents");
    assert!(all.get("omitted").is_none(), "nothing left out under the default limit");
    let one: Value =
        serde_json::from_str(&stdout(&["analyze", seed, "--format", "json", "--max-incidents", "1"])).unwrap();
    assert_eq!(one["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(one["incidents"][0], all["incidents"][0]);
    assert_eq!(one["verdict"], all["verdict"]);
    assert_eq!(one["omitted"]["incidents"], serde_json::json!(n - 1));
    let listed = one["findings"].as_array().unwrap().len() as u64;
    assert_eq!(listed + one["omitted"]["findings"].as_u64().unwrap(), all["findings"].as_array().unwrap().len() as u64);
    let text = stdout(&["analyze", seed, "--max-incidents", "1"]);
    assert!(text.contains("not listed (--max-incidents 0 lists every one)"), "{text}");
    assert!(text.contains(&format!("{} findings)", all["findings"].as_array().unwrap().len())), "{text}");
    let md = stdout(&["analyze", seed, "--format", "md", "--max-incidents", "1"]);
    assert!(md.contains("not listed here"), "{md}");
}

/// Progress is for a terminal: with standard error a pipe (as here, and in CI), nothing of it is
/// written, with or without --quiet.
#[test]
fn no_progress_when_standard_error_is_not_a_terminal() {
    let seed = "examples/incidents/seed-37";
    for args in [
        vec!["analyze", seed],
        vec!["analyze", seed, "--quiet"],
        vec!["timeline", seed, "--stats"],
        vec!["templates", seed, "-q"],
        vec!["fleet", "examples/fleets/upgrade-wave"],
    ] {
        let out = crate::support::rootline(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        for word in ["reading:", "merging and matching", "mining templates", "scanning nodes", "correlating:"] {
            assert!(!err.contains(word), "rootline {args:?} wrote progress to a pipe: {err}");
        }
    }
}

//! The fault lab's run, checked. `lab/test` boots the QEMU guest of `lab/` (see docs/lab.md): node
//! `s-lab01-com601-krw1a` loses both paths of multipath map `mpatha` with queue_if_no_path, its
//! `qemu-system-x86_64` and `libvirtd` hang in D state, libvirtd's worker stays a zombie, and
//! `rootline doctor` and `rootline collect` run inside the guest during the outage. `rootline
//! preflight` runs on the healthy node, with the risky multipath.conf written, and during the
//! outage. These tests read what the guest left in the directory named by `ROOTLINE_LAB_OUT`.
//!
//! They are ignored by default (a run takes minutes of TCG emulation); `lab/test` runs them:
//! `ROOTLINE_LAB_OUT=DIR cargo test -p rootline --test e2e lab:: -- --ignored --test-threads 1`.

use std::path::{Path, PathBuf};

use super::support::stdout;
use serde_json::Value;

/// The node name the guest plays.
const HOST: &str = "s-lab01-com601-krw1a";
/// `doctor --deadline` inside the guest during the outage, in milliseconds.
const DEADLINE_MS: u64 = 20_000;

/// The lab's output directory.
fn out() -> PathBuf {
    let dir = std::env::var_os("ROOTLINE_LAB_OUT").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "ROOTLINE_LAB_OUT is not set: these tests check the output of a fault-lab run. Run lab/test, \
             or lab/run NAME and then ROOTLINE_LAB_OUT=<the directory it printed> cargo test -p rootline \
             --test e2e lab:: -- --ignored --test-threads 1"
        )
    });
    assert!(dir.is_dir(), "ROOTLINE_LAB_OUT={} is not a directory", dir.display());
    dir
}

/// A file the guest wrote, as text.
fn read(name: &str) -> String {
    let path = out().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; the guest did not write it (how far it got: steps.log, console.log)", path.display())
    });
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A number the guest wrote (an exit status, milliseconds).
fn number(name: &str) -> i64 {
    let text = read(name);
    text.trim().parse().unwrap_or_else(|_| panic!("{name}: not a number: {text:?}"))
}

fn json(name: &str) -> Value {
    let text = read(name);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        let stderr = read(&name.replace(".json", ".stderr"));
        panic!("{name}: not JSON ({e}); stderr: {stderr}; start: {:?}", &text[..text.len().min(300)])
    })
}

/// The kernel keeps 15 bytes of a task's name: `qemu-system-x86_64` is `qemu-system-x86` in /proc.
fn is_qemu(comm: &str) -> bool {
    comm == "qemu-system-x86_64" || comm == "qemu-system-x86"
}

fn findings<'a>(doc: &'a Value, id: &str) -> Vec<&'a Value> {
    doc["findings"].as_array().into_iter().flatten().filter(|f| f["signature"] == id).collect()
}

fn ids(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["signature"].as_str().map(str::to_string))
        .collect()
}

/// Entity values of a finding as strings (numbers are accepted too).
fn entity(finding: &Value, kind: &str) -> Vec<String> {
    finding["entities"][kind]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
        .collect()
}

fn tasks(doc: &Value) -> Vec<&Value> {
    doc["tasks"].as_array().into_iter().flatten().collect()
}

/// Uptime in milliseconds at which the guest entered a phase (`phases.txt`: `NAME MS UTC`).
fn phase(name: &str) -> u64 {
    let phases = read("phases.txt");
    phases
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(name)).then(|| w.next().and_then(|ms| ms.parse().ok())).flatten()
        })
        .unwrap_or_else(|| panic!("phases.txt has no phase {name}:\n{phases}"))
}

/// The lab itself, before any rootline output: the guest reproduced the seed's picture in its syslog
/// and process table. When this fails, the other tests' failures say nothing about rootline.
#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn the_guest_reproduced_the_outage() {
    assert_eq!(read("lab-result.txt").trim(), "ok", "the guest did not finish its scenario");
    let messages = read("messages");
    for needle in [
        HOST,
        "remaining active paths: 0",
        "task qemu-system-x86:",
        "task libvirtd:",
        "blocked for more than",
        "jbd2/dm-0-8",
    ] {
        assert!(messages.contains(needle), "messages (the guest's /var/log/messages) lacks {needle:?}");
    }
    // A zombie whose parent is libvirtd in D state, in the raw /proc/PID/stat lines of the outage.
    let stat = read("proc-stat-outage.txt");
    let parse = |l: &str| -> Option<(String, String, String, String)> {
        let (pid, rest) = l.split_once(" (")?;
        let (comm, rest) = rest.rsplit_once(") ")?;
        let mut w = rest.split_whitespace();
        Some((pid.to_string(), comm.to_string(), w.next()?.to_string(), w.next()?.to_string()))
    };
    let procs: Vec<_> = stat.lines().filter_map(parse).collect();
    let hung_libvirtd: Vec<&String> =
        procs.iter().filter(|(_, c, s, _)| c == "libvirtd" && s == "D").map(|(p, ..)| p).collect();
    assert!(!hung_libvirtd.is_empty(), "no libvirtd in D state in proc-stat-outage.txt");
    assert!(
        procs.iter().any(|(_, _, s, ppid)| s == "Z" && hung_libvirtd.contains(&ppid)),
        "no zombie whose parent is libvirtd in D (pids {hung_libvirtd:?}) in proc-stat-outage.txt"
    );
    assert!(procs.iter().any(|(_, c, s, _)| is_qemu(c) && s == "D"), "no qemu-system-x86 in D state");
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn doctor_fails_within_its_deadline_during_the_outage() {
    let rc = number("doctor-outage.rc");
    let ms = number("doctor-outage.ms");
    let stderr = read("doctor-outage.stderr");
    assert_eq!(
        rc, 2,
        "rootline doctor --json --deadline 20 during the outage: exit {rc} (expected 2); stderr: {stderr}"
    );
    assert!(
        (ms as u64) < DEADLINE_MS,
        "rootline doctor took {ms} ms of wall time in the guest, over its --deadline of {DEADLINE_MS} ms"
    );
    // It ran while the paths were down, and the tasks it had to survive were in D then.
    let started = phase("doctor-outage");
    assert!(phase("paths-down") < started && started < phase("restore"), "doctor did not run during the outage");
    assert!(!read("doctor-outage.txt").trim().is_empty(), "doctor's text report (doctor-outage.txt) is empty");
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn doctor_names_the_stale_map_with_both_paths() {
    let doc = json("doctor-outage.json");
    assert_eq!(doc["schema"], "rootline.doctor/v1");
    assert_eq!(doc["host"], HOST);
    assert_eq!(doc["status"], "failure");
    let maps: Vec<&Value> = doc["maps"].as_array().into_iter().flatten().filter(|m| m["name"] == "mpatha").collect();
    assert_eq!(maps.len(), 1, "maps: {}", doc["maps"]);
    let map = maps[0];
    assert_eq!(map["dm"], "dm-0", "{map}");
    let mut names: Vec<&str> =
        map["paths"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["sda", "sdb"], "paths of mpatha: {map}");
    for p in map["paths"].as_array().into_iter().flatten() {
        let state = p["state"].as_str().unwrap_or("");
        assert!(!["running", "active", ""].contains(&state), "path {} is not down: {p}", p["name"]);
    }
    assert_eq!(map["active_paths"], 0, "{map}");
    assert_eq!(map["queue_if_no_path"], true, "{map}");
    // The finding names the map and both its paths, with the evidence read from /sys.
    let stale: Vec<&Value> = ["multipath.stale-map", "multipath.all-paths-down"]
        .iter()
        .flat_map(|id| findings(&doc, id))
        .filter(|f| entity(f, "map").contains(&"mpatha".to_string()))
        .collect();
    assert!(!stale.is_empty(), "no stale-map / all-paths-down finding for mpatha; findings: {:?}", ids(&doc));
    let f = stale[0];
    let mut paths = entity(f, "path");
    paths.sort();
    assert_eq!(paths, ["sda", "sdb"], "{f}");
    assert!(entity(f, "dm").contains(&"dm-0".to_string()), "{f}");
    let evidence_paths: Vec<&str> =
        f["evidence"].as_array().into_iter().flatten().filter_map(|e| e["path"].as_str()).collect();
    assert!(evidence_paths.contains(&"/sys/block/dm-0/dm/name"), "evidence: {evidence_paths:?}");
    assert!(f["next_steps"].as_array().is_some_and(|s| !s.is_empty()), "no next steps: {f}");
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn doctor_lists_qemu_and_libvirtd_in_d_state() {
    let doc = json("doctor-outage.json");
    let d: Vec<&Value> = tasks(&doc).into_iter().filter(|t| t["state"] == "D").collect();
    let comms: Vec<&str> = d.iter().filter_map(|t| t["comm"].as_str()).collect();
    assert!(comms.iter().any(|c| is_qemu(c)), "no qemu-system-x86_64 among the D-state tasks: {comms:?}");
    assert!(comms.contains(&"libvirtd"), "no libvirtd among the D-state tasks: {comms:?}");
    assert!(comms.contains(&"jbd2/dm-0-8"), "no jbd2 of the map among the D-state tasks: {comms:?}");
    // The finding about them names them too.
    let named: Vec<String> = ["process.d-state", "kernel.hung-task"]
        .iter()
        .flat_map(|id| findings(&doc, id))
        .flat_map(|f| entity(f, "comm"))
        .collect();
    assert!(
        named.iter().any(|c| is_qemu(c)) && named.contains(&"libvirtd".to_string()),
        "D-state finding names {named:?}"
    );
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn doctor_reports_the_zombie_of_a_hung_libvirtd() {
    let doc = json("doctor-outage.json");
    let all = tasks(&doc);
    let hung_libvirtd: Vec<i64> =
        all.iter().filter(|t| t["comm"] == "libvirtd" && t["state"] == "D").filter_map(|t| t["pid"].as_i64()).collect();
    assert!(!hung_libvirtd.is_empty(), "no libvirtd in D state among the tasks: {}", doc["tasks"]);
    let zombies: Vec<&&Value> = all
        .iter()
        .filter(|t| t["state"] == "Z" && t["ppid"].as_i64().is_some_and(|p| hung_libvirtd.contains(&p)))
        .collect();
    assert!(!zombies.is_empty(), "no zombie whose parent is libvirtd {hung_libvirtd:?} in D: {}", doc["tasks"]);
    let zombie_pid = zombies[0]["pid"].to_string();
    let parent_pid = zombies[0]["ppid"].to_string();
    let f = findings(&doc, "process.zombie");
    assert!(
        f.iter().any(|f| {
            let pids = entity(f, "pid");
            pids.contains(&zombie_pid) && pids.contains(&parent_pid)
        }),
        "no process.zombie finding naming zombie {zombie_pid} and its parent {parent_pid}: {f:?}"
    );
    assert!(f.iter().any(|f| f["severity"] == "failure"), "a zombie of a D-state parent is a failure: {f:?}");
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn the_bundle_collected_in_the_outage_gives_the_chain() {
    let rc = number("collect.rc");
    assert_eq!(rc, 0, "rootline collect in the guest: exit {rc}; stderr: {}", read("collect.stderr"));
    let bundle = out().join("bundle.tar.zst");
    let a: Value =
        serde_json::from_str(&stdout(&["analyze", path(&bundle), "--format", "json"])).expect("analysis JSON");
    assert_eq!(a["verdict"], "root_cause_found", "verdict of {}", bundle.display());
    let top = &a["incidents"][0];
    let rc = &top["root_cause"];
    // The map with no path is the root cause: while no path has come back, analyze calls it by the
    // condition it became (multipath.stale-map), with all-paths-down as its onset.
    let map_fault = ["multipath.all-paths-down", "multipath.stale-map"];
    assert!(map_fault.contains(&rc["signature"].as_str().unwrap_or("")), "root cause: {rc}");
    assert!(rc["entities"]["map"].as_array().is_some_and(|m| m.contains(&"mpatha".into())), "root cause: {rc}");
    let chain: Vec<(String, String)> = top["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (l["cause_signature"].as_str().unwrap_or("").into(), l["effect_signature"].as_str().unwrap_or("").into())
        })
        .collect();
    let has = |cause: &[&str], effect: &str| chain.iter().any(|(c, e)| cause.contains(&c.as_str()) && e == effect);
    let others: Vec<&Value> =
        a["incidents"].as_array().into_iter().flatten().skip(1).map(|i| &i["root_cause"]["signature"]).collect();
    assert!(
        chain.iter().any(|(c, e)| c == "multipath.all-paths-down" || e == "multipath.all-paths-down"),
        "all paths down is not in the chain: {chain:?}"
    );
    assert!(has(&map_fault, "kernel.hung-task"), "no map -> hung task link: {chain:?}; other incidents: {others:?}");
    assert!(
        has(&["kernel.hung-task"], "process.zombie"),
        "no hung task -> zombie link: {chain:?}; other incidents: {others:?}"
    );
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn doctor_sees_the_map_healthy_after_the_restore() {
    let rc = number("doctor-restored.rc");
    let doc = json("doctor-restored.json");
    assert!(rc == 0 || rc == 1, "doctor after the paths came back: exit {rc}; findings {:?}", ids(&doc));
    let map =
        doc["maps"].as_array().into_iter().flatten().find(|m| m["name"] == "mpatha").expect("mpatha after restore");
    assert_eq!(map["active_paths"], 2, "{map}");
    let left: Vec<String> =
        ids(&doc).into_iter().filter(|id| id.starts_with("multipath.") || id == "process.zombie").collect();
    assert!(left.is_empty(), "still reported after the restore: {left:?}");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A preflight check's result in a `rootline.preflight/v1` document.
fn preflight_check<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in the preflight result: {doc}"))
}

/// The checks of a preflight document that ended as `result`, as `id: first line of details`.
fn preflight_results(doc: &Value, result: &str) -> Vec<String> {
    doc["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["result"] == result)
        .map(|c| {
            format!(
                "{}: {}",
                c["id"].as_str().unwrap_or(""),
                c["details"].as_str().unwrap_or("").lines().next().unwrap_or("")
            )
        })
        .collect()
}

/// The line (from 1) of a file the guest wrote that holds `needle`.
fn line_in(name: &str, needle: &str) -> u64 {
    let text = read(name);
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{name} has no line with {needle:?}:\n{text}")) as u64
        + 1
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn preflight_passes_on_the_healthy_node() {
    let rc = number("preflight-healthy.rc");
    let doc = json("preflight-healthy.json");
    assert_eq!(doc["schema"], "rootline.preflight/v1");
    assert_eq!(doc["host"], HOST);
    assert_eq!(
        rc,
        0,
        "rootline preflight on the healthy node: exit {rc}; warnings {:?}, failures {:?}; stderr: {}",
        preflight_results(&doc, "warning"),
        preflight_results(&doc, "failure"),
        read("preflight-healthy.stderr")
    );
    assert_eq!(doc["result"], "success");
    // It looked at the map and its paths (not skipped for lack of them) ...
    let paths = preflight_check(&doc, "multipath.paths");
    assert_eq!(paths["result"], "success", "{paths}");
    for check in ["multipath.stale-maps", "multipath.queueing", "process.d-state", "kernel.hung-task"] {
        assert_eq!(preflight_check(&doc, check)["result"], "success", "{}", preflight_check(&doc, check));
    }
    // ... and at the multipath.conf the node ran with: bounded queueing, cited by its line.
    let npr = preflight_check(&doc, "multipath.conf.no-path-retry");
    assert_eq!(npr["result"], "success", "{npr}");
    assert!(npr["details"].as_str().unwrap_or("").contains("`no_path_retry 6`"), "{npr}");
    let e = &npr["evidence"][0];
    assert_eq!(
        (e["path"].as_str(), e["line"].as_u64()),
        (Some("/etc/multipath.conf"), Some(line_in("multipath-healthy.conf", "no_path_retry"))),
        "{npr}"
    );
    let started = phase("preflight-healthy");
    assert!(phase("healthy") < started && started < phase("paths-down"), "preflight did not run on the healthy node");
    assert_eq!(number("preflight-healthy-text.rc"), 0);
    assert!(read("preflight-healthy.txt").contains("| Upgrade Check Results"));
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn preflight_warns_about_no_path_retry_queue() {
    let rc = number("preflight-risky.rc");
    let doc = json("preflight-risky.json");
    assert_eq!(
        rc,
        1,
        "rootline preflight with no_path_retry queue written: exit {rc}; warnings {:?}, failures {:?}",
        preflight_results(&doc, "warning"),
        preflight_results(&doc, "failure")
    );
    assert_eq!(doc["result"], "warning");
    assert!(preflight_results(&doc, "failure").is_empty(), "{:?}", preflight_results(&doc, "failure"));
    let npr = preflight_check(&doc, "multipath.conf.no-path-retry");
    assert_eq!(npr["result"], "warning", "{npr}");
    assert!(npr["details"].as_str().unwrap_or("").contains("`no_path_retry queue`"), "{npr}");
    let e = &npr["evidence"][0];
    assert_eq!(
        (e["path"].as_str(), e["line"].as_u64()),
        (Some("/etc/multipath.conf"), Some(line_in("multipath.conf", "no_path_retry"))),
        "{npr}"
    );
    assert!(e["text"].as_str().unwrap_or("").contains("queue"), "{npr}");
    let started = phase("preflight-risky");
    assert!(phase("preflight-healthy") < started && started < phase("paths-down"), "preflight-risky out of order");
    assert_eq!(number("preflight-risky-text.rc"), 1);
    assert!(read("preflight-risky.txt").contains("no_path_retry queue"));
    // The lab then applied it: the outage queued as the file said.
    assert!(phase("reconfigured") < phase("paths-down"));
}

#[test]
#[ignore = "boots the QEMU lab; run by lab/test"]
fn preflight_stops_the_upgrade_during_the_outage() {
    let rc = number("preflight-outage.rc");
    let ms = number("preflight-outage.ms");
    let doc = json("preflight-outage.json");
    assert_eq!(rc, 2, "rootline preflight during the outage: exit {rc}; stderr: {}", read("preflight-outage.stderr"));
    assert!(
        (ms as u64) < DEADLINE_MS,
        "rootline preflight took {ms} ms of wall time, over its --deadline of {DEADLINE_MS} ms"
    );
    assert_eq!(doc["result"], "failure");
    let stale = preflight_check(&doc, "multipath.stale-maps");
    assert_eq!(stale["result"], "failure", "{stale}");
    let d = stale["details"].as_str().unwrap_or("");
    for needle in ["mpatha (dm-0)", "sda", "sdb", "libvirtd", "qemu-system-x86", "jbd2/dm-0-8"] {
        assert!(d.contains(needle), "the stale-map check does not name {needle}: {d}");
    }
    assert!(
        stale["evidence"].as_array().into_iter().flatten().any(|e| e["path"] == "/sys/block/dm-0/dm/name"),
        "{stale}"
    );
    let dstate = preflight_check(&doc, "process.d-state");
    assert_eq!(dstate["result"], "failure", "{dstate}");
    let d = dstate["details"].as_str().unwrap_or("");
    for needle in ["qemu-system-x86", "libvirtd", "jbd2/dm-0-8", "on mpatha"] {
        assert!(d.contains(needle), "the D-state check does not name {needle}: {d}");
    }
    let started = phase("preflight-outage");
    assert!(phase("paths-down") < started && started < phase("restore"), "preflight did not run during the outage");
    assert_eq!(number("preflight-outage-text.rc"), 2);
    let text = read("preflight-outage.txt");
    assert!(text.contains("| Result: Failure") && text.contains("stop: do not upgrade this node"), "{text}");
}

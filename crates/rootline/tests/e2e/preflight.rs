//! `rootline preflight` and `rootline preflight plan`: captured trees of the lab's node (healthy,
//! with the risky multipath.conf, during the outage), a bundle archive, user checks, configuration
//! files with the lines they cite, stand-in commands that hang or report trouble, and the plan.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::root;

const HEALTHY: &str = "crates/preflight/tests/data/healthy";
const RISKY: &str = "crates/preflight/tests/data/risky-config";
const OUTAGE: &str = "crates/node/tests/data/lab-outage";

/// Runs rootline (from the workspace root, English, `PATH` with `path_prefix` first); fails the
/// test if it has not ended after a generous limit (what is tested is that it never hangs).
fn run_in(args: &[&str], path_prefix: Option<&Path>) -> (i32, String, String) {
    let mut cmd = crate::support::command();
    cmd.current_dir(root())
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = path_prefix {
        cmd.env("PATH", format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let mut child = cmd.spawn().expect("rootline starts");
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = pipe(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = pipe(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("rootline {args:?} still running after 120 s: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), out.join().unwrap(), err.join().unwrap())
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(args, None)
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = run(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}\n{err}"));
    (code, v)
}

fn check<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {doc}"))
}

fn result_of(doc: &Value, id: &str) -> String {
    check(doc, id)["result"].as_str().unwrap().to_string()
}

fn evidence(c: &Value) -> Vec<(String, Option<u64>, String)> {
    c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap().into(), e["line"].as_u64(), e["text"].as_str().unwrap().into()))
        .collect()
}

/// Copies a captured tree (its symbolic links as links) to a new temporary directory.
fn copy_tree(from: &str) -> tempfile::TempDir {
    fn copy(src: &Path, dst: &Path) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let (s, d) = (e.path(), dst.join(e.file_name()));
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&s).unwrap(), &d).unwrap();
            } else if t.is_dir() {
                copy(&s, &d);
            } else {
                std::fs::copy(&s, &d).unwrap();
            }
        }
    }
    let d = tempfile::tempdir().unwrap();
    copy(&root().join(from), d.path());
    d
}

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// The line number (from 1) of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> u64 {
    let t = std::fs::read_to_string(file).unwrap();
    t.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} not in {}", file.display())) as u64
        + 1
}

#[test]
fn captured_trees_give_oslo_exit_codes() {
    // Healthy: every check passes or has nothing to check here.
    let (code, doc) = json(&["preflight", "--root", HEALTHY]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["result"], "success");
    for id in [
        "multipath.paths",
        "multipath.stale-maps",
        "multipath.queueing",
        "multipath.conf.no-path-retry",
        "kernel.hung-task",
    ] {
        assert_eq!(result_of(&doc, id), "success", "{id}: {}", check(&doc, id));
    }
    assert!(check(&doc, "multipath.conf.no-path-retry")["details"].as_str().unwrap().contains("at most 12 s"));

    // The same node with the configuration the outage ran with: one warning, naming the line.
    let (code, doc) = json(&["preflight", "--root", RISKY]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["result"], "warning");
    let npr = check(&doc, "multipath.conf.no-path-retry");
    assert_eq!(npr["result"], "warning");
    assert!(
        npr["details"].as_str().unwrap().contains("`no_path_retry queue` (defaults, /etc/multipath.conf:7)"),
        "{npr}"
    );
    let conf = root().join(RISKY).join("etc/multipath.conf");
    assert_eq!(
        evidence(npr)[0],
        ("/etc/multipath.conf".into(), Some(line_of(&conf, "no_path_retry")), "    no_path_retry        queue".into())
    );
    let failing: Vec<&Value> = doc["checks"].as_array().unwrap().iter().filter(|c| c["result"] == "failure").collect();
    assert!(failing.is_empty(), "{failing:?}");

    // The outage the lab captured: stop, naming the stale map, its paths and the tasks in D.
    let (code, doc) = json(&["preflight", "--root", OUTAGE]);
    assert_eq!(code, 2, "{doc:#}");
    assert_eq!(doc["result"], "failure");
    let stale = check(&doc, "multipath.stale-maps");
    assert_eq!(stale["result"], "failure");
    let d = stale["details"].as_str().unwrap();
    for n in [
        "mpatha (dm-0)",
        "sda offline",
        "sdb offline",
        "jbd2/dm-0-8",
        "libvirtd",
        "qemu-system-x86",
        "/var/lib/libvirt",
    ] {
        assert!(d.contains(n), "{n} not in {d}");
    }
    assert!(evidence(stale).iter().any(|e| e.0 == "/sys/block/dm-0/dm/name"));
    let dstate = check(&doc, "process.d-state");
    assert_eq!(dstate["result"], "failure");
    for n in ["311 jbd2/dm-0-8", "325 libvirtd", "326 qemu-system-x86", "327 qemu-system-x86", "on mpatha"] {
        assert!(dstate["details"].as_str().unwrap().contains(n), "{n}: {dstate}");
    }
    for id in ["multipath.paths", "multipath.queueing", "process.libvirt-zombies", "libvirt.responds"] {
        assert_eq!(result_of(&doc, id), "failure", "{id}: {}", check(&doc, id));
    }
}

#[test]
fn the_json_document_has_the_schema_and_nothing_else() {
    let (_, doc) = json(&["preflight", "--root", OUTAGE]);
    let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["checked_at", "checks", "host", "result", "schema"]);
    assert_eq!(doc["schema"], "rootline.preflight/v1");
    assert_eq!(doc["host"], "s-lab01-com601-krw1a");
    assert!(doc["checked_at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
    let checks = doc["checks"].as_array().unwrap();
    assert!(checks.len() >= 17);
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "checks in id order");
    for c in checks {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["details", "evidence", "id", "result", "title"], "{c}");
        assert!(["success", "warning", "failure", "skipped"].contains(&c["result"].as_str().unwrap()), "{c}");
        assert!(c["details"].as_str().is_some_and(|d| !d.is_empty()), "{c}");
        for e in c["evidence"].as_array().unwrap() {
            let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["line", "path", "text"], "{e}");
            assert!(e["line"].is_u64() || e["line"].is_null(), "{e}");
        }
        // A warning or a failure says what to do.
        if c["result"] == "warning" || c["result"] == "failure" {
            assert!(c["details"].as_str().unwrap().contains("\nWhat to do: "), "{c}");
        }
    }
}

#[test]
fn the_text_is_the_nova_status_table() {
    let (code, out, _) = run(&["preflight", "--root", OUTAGE, "--color", "never"]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("rootline preflight  s-lab01-com601-krw1a  "), "{out}");
    assert!(lines[0].contains(&format!("from {OUTAGE}, captured 2026-11-29T02:38:11Z")), "{}", lines[0]);
    let table: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with('|') || l.starts_with('+')).collect();
    assert_eq!(table[1].trim_end_matches([' ', '|']), "| Upgrade Check Results");
    let width = table[0].chars().count();
    assert!(width <= 80, "{width} columns");
    assert!(table.iter().all(|l| l.chars().count() == width), "{out}");
    // Every row: Check, Result, Details, as oslo.upgradecheck prints them; failures first.
    let results: Vec<&str> =
        table.iter().filter_map(|l| l.strip_prefix("| Result: ")).map(|r| r.split(' ').next().unwrap()).collect();
    assert_eq!(results.len(), table.iter().filter(|l| l.starts_with("| Check: ")).count());
    assert_eq!(results.len(), table.iter().filter(|l| l.starts_with("| Details:")).count());
    let rank = |r: &str| ["Failure", "Warning", "Success", "Skipped"].iter().position(|x| *x == r).unwrap();
    assert!(results.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{results:?}");
    assert!(out.contains("|   * mpatha (dm-0): no active path, 0 of 2: sda offline (dm F)"), "{out}");
    assert!(out.ends_with("; exit 2): stop: do not upgrade this node until the failures are fixed\n"), "{out}");
    // Korean text keeps the borders straight (a Hangul character takes two columns).
    let (_, ko, _) = run(&["preflight", "--root", OUTAGE, "--lang", "ko", "--color", "never"]);
    assert!(ko.contains("| Check: active path가 없는 multipath map 없음 (multipath.stale-maps)"), "{ko}");
    let cols = |l: &str| l.chars().map(|c| if ('\u{ac00}'..='\u{d7a3}').contains(&c) { 2 } else { 1 }).sum::<usize>();
    let t: Vec<&str> = ko.lines().filter(|l| l.starts_with('|') || l.starts_with('+')).collect();
    assert!(t.iter().all(|l| cols(l) == cols(t[0])), "{ko}");
    assert!(ko.contains("중단: failure를 해결하기 전에는"), "{ko}");
}

#[test]
fn a_bundle_archive_reads_as_its_tree() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.zst");
    {
        let f = std::fs::File::create(&bundle).unwrap();
        let enc = zstd::Encoder::new(f, 3).unwrap().auto_finish();
        let mut b = tar::Builder::new(enc);
        b.follow_symlinks(false);
        b.append_dir_all("rootline-s-lab01-com601-krw1a-20261129T023730Z", root().join(RISKY)).unwrap();
        b.into_inner().unwrap();
    }
    let (code, from_bundle) = json(&["preflight", "--root", bundle.to_str().unwrap()]);
    let (_, from_dir) = json(&["preflight", "--root", RISKY]);
    assert_eq!(code, 1);
    let strip = |d: &Value| -> Vec<Value> { d["checks"].as_array().unwrap().clone() };
    assert_eq!(strip(&from_bundle), strip(&from_dir), "the archive and the directory read alike");
    let (code, _, err) = run(&["preflight", "--root", "/nonexistent/bundle.tar.zst"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--root /nonexistent/bundle.tar.zst"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["preflight", "--root", empty.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no proc/, sys/block/, etc/ or commands/ inside"), "{err}");
}

/// What an operator writes to check something of their own: a command under a timeout whose
/// output is tested, and a replacement of a built-in check.
#[test]
fn user_checks_add_and_replace() {
    let checks = tempfile::tempdir().unwrap();
    write(
        checks.path(),
        "site/ntp.yaml",
        r#"id: site.hostname
title: {en: The host name follows the naming scheme}
why: {en: Inventory and alerts key on it.}
fix: {en: Rename the host.}
read:
  name: {file: /etc/hostname, format: lines}
outcomes:
  - result: failure
    when: {each: name, where: {text: {not_matches: '^s-[a-z0-9]+-com[0-9]+-[a-z0-9]+$'}}}
    message: {en: "host name {text} ({file}:{line}) does not follow s-<site>-com<N>-<zone>"}
success: {en: host name follows the scheme}
"#,
    );
    // Stricter than the built-in: polling_interval above 1 s is a warning here.
    write(
        checks.path(),
        "multipath/override.yaml",
        r#"id: kernel.hung-task
title: {en: Site rule replacing the built-in}
why: {en: x}
fix: {en: y}
read:
  conf: {file: /etc/multipath.conf, format: multipath}
outcomes:
  - result: warning
    when: {each: conf, where: {key: polling_interval, value: {gt: 1}}}
    message: {en: "polling_interval {value} at {file}:{line}"}
success: {en: fine}
"#,
    );
    let dir = checks.path().to_str().unwrap();
    let (code, list, _) = run(&["preflight", "--checks", dir, "--list"]);
    assert_eq!(code, 0);
    assert!(list.contains("site.hostname"), "{list}");
    assert!(list.contains("multipath/override.yaml (replaces the built-in check)"), "{list}");
    assert!(list.contains("ntp.yaml (added)"), "{list}");
    let (code, doc) =
        json(&["preflight", "--checks", dir, "--root", HEALTHY, "--only", "site.hostname,kernel.hung-task"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(result_of(&doc, "site.hostname"), "success");
    let k = check(&doc, "kernel.hung-task");
    assert_eq!(
        (k["title"].as_str(), k["result"].as_str()),
        (Some("Site rule replacing the built-in"), Some("warning"))
    );
    assert!(k["details"].as_str().unwrap().starts_with("polling_interval 2 at /etc/multipath.conf:5"), "{k}");
}

#[test]
fn bad_check_files_are_named_with_line_and_column() {
    let checks = tempfile::tempdir().unwrap();
    write(checks.path(), "a.yaml", "id: site.a\ntitle: {en: A}\nwhy: {en: w}\nfix: {en: f}\nread:\n  x: {file: /etc/hostname, format: line}\noutcomes:\n  - result: failure\n    when: {each: x}\n    message: {en: m}\nsuccess: {en: s}\n");
    write(checks.path(), "b.yaml", "id: site.b\ntitle: {en: B}\nwhy: {en: w}\nfix: {en: f}\nread:\n  x: {probe: multipath.maps}\noutcomes:\n  - result: failure\n    when: {each: x, wher: {map: a}}\n    message: {en: m}\nsuccess: {en: s}\n");
    let (code, out, err) = run(&["preflight", "--checks", checks.path().to_str().unwrap(), "--root", HEALTHY]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "nothing is checked with a broken check file");
    let a = checks.path().join("a.yaml").display().to_string();
    let b = checks.path().join("b.yaml").display().to_string();
    assert!(err.contains(&format!("{a}:6:")) && err.contains("format `line`: unknown format"), "{err}");
    assert!(err.contains(&format!("{b}:9:")) && err.contains("unknown field `wher`"), "{err}");
    assert!(err.contains("2 problems in the check files"), "{err}");
    let (code, _, err) = run(&["preflight", "--checks", "/nonexistent-dir"]);
    assert_eq!(code, 2);
    assert!(err.contains("--checks /nonexistent-dir: not a directory"), "{err}");
}

#[test]
fn only_and_list() {
    let (code, doc) = json(&["preflight", "--root", OUTAGE, "--only", "multipath.conf.*,kernel.hung-task"]);
    assert_eq!(code, 1, "only the configuration: warnings, not the outage's failures");
    let ids: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "kernel.hung-task",
            "multipath.conf.fc-timeouts",
            "multipath.conf.flush-on-last-del",
            "multipath.conf.no-path-retry"
        ]
    );
    let (code, _, err) = run(&["preflight", "--only", "multipath.nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--only multipath.nope: no such check; known: ceph.health,"), "{err}");
    let (code, out, _) = run(&["preflight", "--list", "--json"]);
    assert_eq!(code, 0);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 17);
    let stale = lines.iter().find(|l| l["id"] == "multipath.stale-maps").unwrap();
    assert_eq!(stale["reads"], serde_json::json!(["probe multipath.maps"]));
    assert_eq!(
        (stale["file"].as_str(), stale["builtin"].as_bool()),
        (Some("checks/multipath/stale-maps.yaml"), Some(true))
    );
}

/// A node's configuration with every risk the checks know, each cited with its file and line.
#[test]
fn configuration_checks_cite_their_lines() {
    let t = copy_tree(HEALTHY);
    let r = t.path();
    let conf = write(
        r,
        "etc/multipath.conf",
        "defaults {\n    polling_interval 5\n    no_path_retry queue\n    fast_io_fail_tmo off\n}\ndevices {\n    device {\n        vendor \"NETAPP\"\n        product \"LUN.*\"\n        no_path_retry 30\n        dev_loss_tmo 60\n    }\n}\n",
    );
    let iscsid = write(
        r,
        "etc/iscsi/iscsid.conf",
        "# open-iscsi\nnode.startup = automatic\nnode.session.timeo.replacement_timeout = 120\n",
    );
    let sysctl = write(r, "etc/sysctl.d/90-hypervisor.conf", "kernel.hung_task_panic = 1\n");
    write(r, "proc/sys/kernel/hung_task_panic", "1\n");
    let nova = write(
        r,
        "etc/nova/nova.conf",
        "[DEFAULT]\ntransport_url = rabbit://nova:secret@rabbit:5672/\n[libvirt]\nimages_type = rbd\nrbd_user = nova\nrbd_secret_uuid = 457EB676-33DA-42EC-9A8C-9293D545C337\n",
    );
    write(r, "etc/libvirt/secrets/5a7f0bb2-0000-4000-8000-000000000001.xml", "<secret ephemeral='no' private='no'>\n  <uuid>5a7f0bb2-0000-4000-8000-000000000001</uuid>\n  <usage type='ceph'>\n    <name>client.cinder secret</name>\n  </usage>\n</secret>\n");
    let manifests = tempfile::tempdir().unwrap();
    let ds = write(
        manifests.path(),
        "libvirt.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: libvirt\nspec:\n  template:\n    spec:\n      containers:\n        - name: libvirt\n          image: registry/libvirt:2025.1\n          livenessProbe:\n            exec:\n              command: [virsh, list]\n            timeoutSeconds: 5\n            periodSeconds: 10\n",
    );
    let rs = r.to_str().unwrap();
    let (code, doc) = json(&["preflight", "--root", rs, "--manifest", ds.to_str().unwrap()]);
    assert_eq!(code, 2, "the rbd secret is missing: {doc:#}");
    let first = |id: &str| evidence(check(&doc, id)).into_iter().next().unwrap_or_else(|| panic!("{id}: no evidence"));

    let npr = check(&doc, "multipath.conf.no-path-retry");
    assert_eq!(npr["result"], "warning");
    let d = npr["details"].as_str().unwrap();
    assert!(d.contains("the libvirt probe here restarts the container after about 25 s"), "{d}");
    // The device's 30 × 5 s = 150 s is longer than the probe's 25 s too.
    assert!(d.contains("`no_path_retry 30` (device NETAPP/LUN.*, /etc/multipath.conf:10): I/O queues 150 s"), "{d}");
    assert_eq!(
        first("multipath.conf.no-path-retry"),
        ("/etc/multipath.conf".into(), Some(line_of(&conf, "queue")), "    no_path_retry queue".into())
    );

    let flush = check(&doc, "multipath.conf.flush-on-last-del");
    assert_eq!(flush["result"], "warning");
    assert!(flush["details"].as_str().unwrap().contains("flush_on_last_del is not set"), "{flush}");

    let fc = check(&doc, "multipath.conf.fc-timeouts");
    assert_eq!(fc["result"], "warning");
    let d = fc["details"].as_str().unwrap();
    assert!(d.contains("`fast_io_fail_tmo off` (defaults, /etc/multipath.conf:4)"), "{d}");
    assert!(d.contains("`no_path_retry queue` (defaults, /etc/multipath.conf:3) with fast_io_fail_tmo off"), "{d}");
    assert!(d.contains("`no_path_retry 30` (device NETAPP/LUN.*, /etc/multipath.conf:10) queues 150 s, not less than dev_loss_tmo 60"), "{d}");

    let isc = check(&doc, "iscsi.conf.replacement-timeout");
    assert_eq!(isc["result"], "warning");
    assert_eq!(
        first("iscsi.conf.replacement-timeout"),
        (
            "/etc/iscsi/iscsid.conf".into(),
            Some(line_of(&iscsid, "replacement_timeout")),
            "node.session.timeo.replacement_timeout = 120".into()
        )
    );

    let probe = check(&doc, "k8s.libvirt-probe");
    assert_eq!(probe["result"], "warning");
    assert!(
        probe["details"]
            .as_str()
            .unwrap()
            .contains("DaemonSet/libvirt, container libvirt: liveness probe `virsh list`"),
        "{probe}"
    );
    let ds_s = ds.display().to_string();
    assert_eq!(
        first("k8s.libvirt-probe"),
        (ds_s.clone(), Some(line_of(&ds, "livenessProbe")), "          livenessProbe:".into())
    );
    assert!(evidence(probe).iter().any(|e| e.0 == ds_s && e.1 == Some(line_of(&ds, "timeoutSeconds"))), "{probe}");

    let hung = check(&doc, "kernel.hung-task");
    assert_eq!(hung["result"], "warning");
    assert_eq!(
        first("kernel.hung-task"),
        (
            sysctl.strip_prefix(r).map(|p| format!("/{}", p.display())).unwrap(),
            Some(1),
            "kernel.hung_task_panic = 1".into()
        )
    );

    let rbd = check(&doc, "nova.rbd-secret");
    assert_eq!(rbd["result"], "failure");
    let d = rbd["details"].as_str().unwrap();
    assert!(d.contains("rbd_secret_uuid = 457EB676-33DA-42EC-9A8C-9293D545C337 (/etc/nova/nova.conf:6) is not among this node's libvirt secrets (files: 5a7f0bb2-0000-4000-8000-000000000001"), "{d}");
    assert_eq!(first("nova.rbd-secret").1, Some(line_of(&nova, "rbd_secret_uuid")));
    // Only the cited line of nova.conf is shown: not its passwords.
    assert!(!doc.to_string().contains("rabbit://"), "nova.conf's other lines leaked");

    // The same secret defined (in upper case in nova.conf, lower case in libvirt): no failure.
    write(r, "etc/libvirt/secrets/457eb676-33da-42ec-9a8c-9293d545c337.xml", "<secret>\n  <uuid>457eb676-33da-42ec-9a8c-9293d545c337</uuid>\n  <usage type='ceph'><name>client.nova secret</name></usage>\n</secret>\n");
    let (code, doc) = json(&["preflight", "--root", rs, "--only", "nova.rbd-secret"]);
    assert_eq!((code, result_of(&doc, "nova.rbd-secret").as_str()), (0, "success"), "{doc:#}");
}

fn fake_bin(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// On this machine, with stand-ins for the tools: a virsh that never answers (killed at the libvirt
/// probe's timeout from the manifest), a crash-looping container, a degraded Ceph, nova-status
/// warnings passed through.
#[test]
fn live_commands_run_under_their_timeouts() {
    let bin = tempfile::tempdir().unwrap();
    fake_bin(bin.path(), "virsh", "sleep 3600 & sleep 3600");
    let now = jiff::Timestamp::now().as_second();
    fake_bin(
        bin.path(),
        "crictl",
        &format!(
            r#"cat <<'EOF'
{{"containers": [
  {{"id": "753ac7cfab3c9c1d", "metadata": {{"name": "libvirt", "attempt": 6}}, "state": "CONTAINER_EXITED", "createdAt": "{}", "labels": {{"io.kubernetes.pod.name": "libvirt-libvirt-default-x2b7k"}}}},
  {{"id": "9a8b7c6d5e4f3a2b", "metadata": {{"name": "nova-compute", "attempt": 0}}, "state": "CONTAINER_RUNNING", "createdAt": "{}", "labels": {{"io.kubernetes.pod.name": "nova-compute-default-7fq2m"}}}}
]}}
EOF"#,
            (now - 30) * 1_000_000_000,
            (now - 86_400) * 1_000_000_000
        ),
    );
    fake_bin(bin.path(), "ceph", "echo 'HEALTH_WARN 1 osds down'; echo '[WRN] OSD_DOWN: 1 osds down'; echo '    osd.2 (root=default,host=node3) is down'");
    fake_bin(
        bin.path(),
        "nova-status",
        "cat <<'EOF'\n+-------------------------------------------+\n| Upgrade Check Results                     |\n+-------------------------------------------+\n| Check: Cells v2                           |\n| Result: Success                           |\n| Details: None                             |\n+-------------------------------------------+\n| Check: Service User Token Configuration   |\n| Result: Warning                           |\n| Details: Service user token configuration |\n|   is required for all Nova services.      |\n+-------------------------------------------+\nEOF\nexit 1",
    );
    let manifests = tempfile::tempdir().unwrap();
    let pod = write(
        manifests.path(),
        "pod.json",
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "libvirt-x2b7k"}, "spec": {"containers": [{"name": "libvirt", "image": "libvirt", "livenessProbe": {"exec": {"command": ["virsh", "list"]}, "timeoutSeconds": 2}}]}}"#,
    );
    let (code, out, err) = run_in(
        &[
            "preflight",
            "--json",
            "--timeout",
            "1s",
            "--manifest",
            pod.to_str().unwrap(),
            "--only",
            "libvirt.responds,k8s.containers,ceph.health,nova.upgrade-check",
        ],
        Some(bin.path()),
    );
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(code, 2, "{doc:#}");
    let virsh = check(&doc, "libvirt.responds");
    assert_eq!(virsh["result"], "failure");
    assert!(
        virsh["details"].as_str().unwrap().starts_with("`virsh list --all` did not answer within 2 s: timed out after"),
        "{virsh}"
    );
    assert_eq!(evidence(virsh)[0].0, "command: virsh list --all");
    let c = check(&doc, "k8s.containers");
    assert_eq!(c["result"], "failure");
    assert!(
        c["details"]
            .as_str()
            .unwrap()
            .contains("pod libvirt-libvirt-default-x2b7k, container libvirt: exited after 6 restarts"),
        "{c}"
    );
    let ceph = check(&doc, "ceph.health");
    assert_eq!(ceph["result"], "warning");
    assert!(ceph["details"].as_str().unwrap().contains("ceph [WRN] OSD_DOWN: 1 osds down"), "{ceph}");
    let nova = check(&doc, "nova.upgrade-check");
    assert_eq!(nova["result"], "warning");
    assert!(nova["details"].as_str().unwrap().starts_with("nova-status: Service User Token Configuration: Warning: Service user token configuration is required for all Nova services."), "{nova}");
}

/// The per-node results of three nodes (the captured trees, renamed), and the plan from them.
#[test]
fn the_plan_holds_back_failures_and_puts_warnings_last() {
    let results = tempfile::tempdir().unwrap();
    for (tree, host) in
        [(HEALTHY, "com601"), (RISKY, "com602"), (OUTAGE, "com603"), (HEALTHY, "com605"), (HEALTHY, "com606")]
    {
        let (_, mut doc) = json(&["preflight", "--root", tree]);
        doc["host"] = host.into();
        std::fs::write(results.path().join(format!("{host}.json")), doc.to_string()).unwrap();
    }
    let nodes = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        nodes.path(),
        "# pool A, in upgrade order\ncom601\ncom602\ncom603\ncom604  # not checked yet\ncom605\ncom606\n",
    )
    .unwrap();
    let n = nodes.path().to_str().unwrap();
    let r = results.path().to_str().unwrap();
    let (code, out, err) =
        run(&["preflight", "plan", "--nodes", n, "--results", r, "--canary", "1", "--batch", "2", "--json"]);
    assert_eq!(code, 1, "nodes are held back: {out}{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["schema"], "rootline.preflight-plan/v1");
    let batches: Vec<(String, Vec<String>)> = p["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["kind"].as_str().unwrap().into(),
                b["nodes"].as_array().unwrap().iter().map(|n| n["host"].as_str().unwrap().into()).collect(),
            )
        })
        .collect();
    let want: Vec<(String, Vec<String>)> = vec![
        ("canary".into(), vec!["com601".into()]),
        ("rolling".into(), vec!["com605".into(), "com606".into()]),
        ("warnings".into(), vec!["com602".into()]),
    ];
    assert_eq!(batches, want);
    let held: Vec<(&str, &str)> = p["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(held[0].0, "com603");
    assert!(
        held[0].1.starts_with("preflight failed: ")
            && held[0].1.contains("multipath.stale-maps: mpatha (dm-0): no active path"),
        "{held:?}"
    );
    assert_eq!(held[1], ("com604", "no preflight result"));
    let warnings = p["batches"][2]["nodes"][0]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().starts_with("multipath.conf.no-path-retry: `no_path_retry queue`")),
        "{p}"
    );
    // Text and Markdown say the same.
    let (_, text, _) = run(&["preflight", "plan", "--nodes", n, "--results", r, "--canary", "1", "--batch", "2"]);
    assert!(
        text.starts_with(
            "rootline preflight plan: 6 nodes, 4 in 3 batches (1 canary, then batches of 2), 2 held back\n"
        ),
        "{text}"
    );
    assert!(text.contains("\nBatch 1 (canary): 1 node\n  com601  success\n  gate: "), "{text}");
    let (_, md, _) =
        run(&["preflight", "plan", "--nodes", n, "--results", r, "--canary", "1", "--batch", "2", "--format", "md"]);
    assert!(md.starts_with("# Upgrade plan\n"), "{md}");
    assert!(md.contains("| com604 | no preflight result |"), "{md}");
    // Without results: every node in order, nothing held back.
    let (code, text, _) = run(&["preflight", "plan", "--nodes", n]);
    assert_eq!(code, 0);
    assert!(text.contains("6 nodes, 6 in 2 batches (2 canary, then batches of 20), 0 held back"), "{text}");
}

#[test]
fn the_plan_refuses_bad_input_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let nodes = write(d.path(), "nodes.txt", "n1\nn2\nn1\n");
    let (code, _, err) = run(&["preflight", "plan", "--nodes", nodes.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("nodes.txt:3: node n1 is listed twice (first on line 1)"), "{err}");
    let nodes = write(d.path(), "ok.txt", "n1\n");
    let res = d.path().join("results");
    write(&res, "n1.json", "{\"schema\": \"rootline.doctor/v1\"}");
    let (code, _, err) =
        run(&["preflight", "plan", "--nodes", nodes.to_str().unwrap(), "--results", res.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("n1.json: not a rootline.preflight/v1 document"), "{err}");
    let (code, _, err) = run(&["preflight", "plan", "--nodes", nodes.to_str().unwrap(), "--batch", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--batch must be at least 1"), "{err}");
    let (code, _, _) = run(&["preflight", "plan"]);
    assert_eq!(code, 2, "--nodes is required");
}

/// docs/preflight.md has a row and a section for every built-in check, and nothing for a check
/// that does not exist.
#[test]
fn every_builtin_check_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/preflight.md")).unwrap();
    let (_, out, _) = run(&["preflight", "--list", "--json"]);
    let ids: Vec<String> =
        out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string()).collect();
    for id in &ids {
        assert!(doc.contains(&format!("\n| `{id}` |")), "docs/preflight.md: no table row for {id}");
        assert!(doc.contains(&format!("\n### `{id}`\n")), "docs/preflight.md: no section for {id}");
    }
    let sections = doc.lines().filter(|l| l.starts_with("### `")).count();
    assert_eq!(sections, ids.len(), "docs/preflight.md documents checks that do not exist");
}

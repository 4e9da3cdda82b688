//! `rootline doctor` and `rootline collect` on this machine, with stand-ins for commands that hang.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::root;

/// Runs rootline with `path_prefix` first in PATH; fails the test if it has not ended after `limit`
/// (the behaviour under test is that it never hangs). Returns (exit code, stdout, stderr).
fn run_bounded(args: &[&str], path_prefix: Option<&Path>, limit: Duration) -> (i32, String, String) {
    let mut cmd = crate::support::command();
    cmd.current_dir(root()).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(p) = path_prefix {
        cmd.env("PATH", format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let mut child = cmd.spawn().expect("rootline starts");
    // Read both pipes while waiting, or a large output would block the child.
    let pipe = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = pipe(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let err = pipe(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("rootline {args:?} still running after {limit:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), out.join().unwrap(), err.join().unwrap())
}

fn fake_bin(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn findings<'a>(doc: &'a Value, id: &str) -> Vec<&'a Value> {
    doc["findings"].as_array().unwrap().iter().filter(|f| f["signature"] == id).collect()
}

#[test]
fn doctor_kills_commands_that_hang_and_reports_them() {
    let bin = tempfile::tempdir().unwrap();
    // virsh against a blocked libvirtd never answers; its child keeps the pipe open too.
    fake_bin(bin.path(), "virsh", "sleep 3600 & sleep 3600");
    fake_bin(bin.path(), "multipath", "echo 'mpatha (3600a) dm-0 LABSAN,VDISK-MP'; sleep 3600");
    fake_bin(bin.path(), "crictl", "echo 'CONTAINER IMAGE'; exit 0");
    let (code, out, err) = run_bounded(
        &["doctor", "--json", "--timeout", "1s", "--deadline", "10s"],
        Some(bin.path()),
        Duration::from_secs(90),
    );
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(doc["schema"], "rootline.doctor/v1");
    assert_eq!(code, 2, "a libvirtd that does not answer is a failure: {out}");
    assert_eq!(doc["status"], "failure");
    let cmd = |line: &str| {
        doc["commands"].as_array().unwrap().iter().find(|c| c["argv"].as_array().unwrap().join_str() == line).cloned()
    };
    let virsh = cmd("virsh list --all").expect("virsh ran");
    assert_eq!(virsh["status"], "timeout");
    assert!(virsh["elapsed_ms"].as_u64().unwrap() < 5_000, "{virsh}");
    assert_eq!(cmd("multipath -ll").unwrap()["status"], "timeout");
    assert_eq!(cmd("crictl ps").unwrap()["status"], "ok");
    let f = findings(&doc, "libvirt.daemon-unresponsive");
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["severity"], "failure");
    assert!(f[0]["title"].as_str().unwrap().contains("virsh list --all"));
    let t = findings(&doc, "node.command-timeout");
    assert!(t.iter().any(|f| f["entities"]["command"][0] == "multipath -ll"), "{out}");
    assert!(doc["elapsed_ms"].as_u64().unwrap() <= doc["deadline_ms"].as_u64().unwrap());
    // The text form says the same and ends with the status line.
    let (code, text, _) =
        run_bounded(&["doctor", "--timeout", "1s", "--deadline", "10s"], Some(bin.path()), Duration::from_secs(90));
    assert_eq!(code, 2);
    assert!(text.contains("FAIL  libvirt.daemon-unresponsive"), "{text}");
    assert!(text.contains("$ cat /proc/$(pidof libvirtd)/stack"), "{text}");
    assert!(text.trim_end().ends_with("exit 2)"), "{text}");
}

trait JoinStr {
    fn join_str(&self) -> String;
}

impl JoinStr for Vec<Value> {
    fn join_str(&self) -> String {
        self.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
    }
}

#[test]
fn doctor_sees_a_zombie_and_its_parent() {
    // `sleep 0` exits; its parent (now `sleep 30` through exec) never reaps it.
    let mut parent = Command::new("sh").args(["-c", "sleep 0 & exec sleep 30"]).spawn().unwrap();
    let ppid = parent.id();
    let t0 = Instant::now();
    let zombie_seen = || {
        std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()).any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            stat.contains(") Z ") && stat.split(") Z ").nth(1).is_some_and(|r| r.starts_with(&format!("{ppid} ")))
        })
    };
    while !zombie_seen() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, out, _) = run_bounded(&["doctor", "--json", "--no-commands"], None, Duration::from_secs(60));
    let _ = parent.kill();
    let _ = parent.wait();
    let doc: Value = serde_json::from_str(&out).unwrap();
    let z: Vec<&Value> = findings(&doc, "process.zombie")
        .into_iter()
        .filter(|f| f["entities"]["pid"].as_array().unwrap().iter().any(|p| p == &Value::from(ppid.to_string())))
        .collect();
    assert_eq!(z.len(), 1, "no zombie finding for parent {ppid}: {out}");
    // The parent sleeps (state S): reported, not a failure.
    assert_eq!(z[0]["severity"], "info");
    assert!(z[0]["title"].as_str().unwrap().contains(&format!("of parent {ppid} sleep (state S)")), "{}", z[0]);
    assert!(doc["commands"].as_array().unwrap().is_empty());
    assert!([0, 1, 2].contains(&code));
}

#[test]
fn doctor_root_must_be_a_captured_tree() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run_bounded(&["doctor", "--root", d.path().to_str().unwrap()], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("no proc/ or sys/block/ inside"), "{err}");
    let (code, _, err) = run_bounded(&["doctor", "--root", "/nonexistent/rootline"], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("--root /nonexistent/rootline"), "{err}");
    let (code, _, err) = run_bounded(&["doctor", "--timeout", "soon"], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("not a duration"), "{err}");
}

#[test]
fn collect_writes_a_bundle_that_analyze_and_doctor_read() {
    // A node's /var/log: the lab's real syslog of an all-paths-down outage.
    let logs = tempfile::tempdir().unwrap();
    let var_log = logs.path().join("var/log");
    std::fs::create_dir_all(var_log.join("libvirt")).unwrap();
    std::fs::copy(root().join("examples/incidents/lab-offline-queue/messages"), var_log.join("messages")).unwrap();
    std::fs::write(var_log.join("libvirt/libvirtd.log"), "").unwrap();
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("node.tar.zst");
    let (code, _, err) = run_bounded(
        &[
            "collect",
            "-o",
            bundle.to_str().unwrap(),
            "--no-journal",
            "--no-commands",
            "--since",
            "1h",
            "--log-root",
            logs.path().to_str().unwrap(),
        ],
        None,
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("rootline collect: "), "{err}");
    assert!(!out.path().join("node.partial").exists());

    // The manifest lists the syslog file, read whole.
    let list = Command::new("tar").args(["-tf", bundle.to_str().unwrap()]).output().unwrap();
    let names = String::from_utf8_lossy(&list.stdout).into_owned();
    for want in [
        "/rootline-manifest.json",
        "/rootline-doctor.json",
        "/logs/var/log/messages",
        "/snapshots/proc-pid-stat.txt",
        "/proc/stat",
        "/etc/hostname",
    ] {
        assert!(names.lines().any(|n| n.ends_with(want)), "{want} missing from\n{names}");
    }
    let manifest = Command::new("tar")
        .args(["-xOf", bundle.to_str().unwrap(), "--wildcards", "*/rootline-manifest.json"])
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(m["schema"], "rootline.bundle/v1");
    let msg =
        m["files"].as_array().unwrap().iter().find(|f| f["path"] == "logs/var/log/messages").expect("messages listed");
    assert_eq!(msg["status"], "ok");
    assert_eq!(msg["cut"], false);
    assert_eq!(
        msg["bytes"].as_u64().unwrap(),
        std::fs::metadata(var_log.join("messages")).unwrap().len(),
        "the whole file is in the bundle"
    );
    // The empty libvirt log is not taken.
    assert!(!names.contains("libvirtd.log"));

    // analyze reads it: the outage in the syslog, the state tree skipped with its reason.
    let (_, json, err) =
        run_bounded(&["analyze", bundle.to_str().unwrap(), "--format", "json"], None, Duration::from_secs(120));
    let a: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {err}"));
    let ids: Vec<&str> = a["findings"].as_array().unwrap().iter().filter_map(|f| f["signature"].as_str()).collect();
    assert!(ids.contains(&"multipath.all-paths-down"), "{ids:?}");
    let skipped = a["inputs"]["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["path"].as_str().unwrap().ends_with("/proc/self/mountinfo")
            && s["reason"].as_str().unwrap().contains("rootline doctor --root")),
        "{skipped:?}"
    );

    // doctor re-reads the captured state from the archive.
    let (code, djson, err) =
        run_bounded(&["doctor", "--root", bundle.to_str().unwrap(), "--json"], None, Duration::from_secs(60));
    let d: Value = serde_json::from_str(&djson).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(d["root"], bundle.to_str().unwrap());
    assert!(d["counts"]["processes"].as_u64().unwrap() >= 1, "{djson}");
    assert!([0, 1, 2].contains(&code));
}

#[test]
fn collect_keeps_the_newest_lines_within_its_budget_and_writes_to_a_pipe() {
    let logs = tempfile::tempdir().unwrap();
    let var_log = logs.path().join("var/log/nova");
    std::fs::create_dir_all(&var_log).unwrap();
    // 200 KB of nova log, and a rotated, compressed one beside it.
    let mut big = String::new();
    for i in 0..4000 {
        big.push_str(&format!(
            "2026-11-29 02:00:{:02}.000 1234 INFO nova.compute.manager [-] line {i:05} of the log\n",
            i % 60
        ));
    }
    std::fs::write(var_log.join("nova-compute.log"), &big).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"2026-11-28 23:00:00.000 1234 INFO nova.compute.manager [-] yesterday\n")
        .unwrap();
    std::fs::write(var_log.join("nova-compute.log.1.gz"), gz.finish().unwrap()).unwrap();

    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b.tar.zst");
    // `-o -`: the bundle goes to standard output (here a file, as through a pipe or ssh).
    let file = std::fs::File::create(&bundle).unwrap();
    let st = crate::support::command()
        .args(["collect", "-o", "-", "--no-journal", "--no-commands", "--max-bytes", "64K", "--log-root"])
        .arg(logs.path())
        .stdout(file)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0), "{}", String::from_utf8_lossy(&st.stderr));
    let manifest = Command::new("tar")
        .args(["-xOf", bundle.to_str().unwrap(), "--wildcards", "*/rootline-manifest.json"])
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&manifest.stdout).expect("a readable bundle on stdout");
    let files = m["files"].as_array().unwrap();
    let nova = files.iter().find(|f| f["path"] == "logs/var/log/nova/nova-compute.log").expect("nova log");
    assert_eq!(nova["cut"], true, "{nova}");
    let kept = nova["bytes"].as_u64().unwrap();
    assert!(kept > 0 && kept <= 64 * 1024, "{nova}");
    let body = Command::new("tar")
        .args(["-xOf", bundle.to_str().unwrap(), "--wildcards", "*/logs/var/log/nova/nova-compute.log"])
        .output()
        .unwrap();
    let body = String::from_utf8(body.stdout).unwrap();
    assert!(body.ends_with("line 03999 of the log\n"), "the newest lines are kept");
    assert!(body.starts_with("2026-11-29 "), "the kept part starts at a line: {:?}", &body[..40]);
    // The budget went to the newest file; the rotated one is listed as skipped, not dropped silently,
    // or included whole when it fit.
    let gz_in = files.iter().any(|f| f["path"] == "logs/var/log/nova/nova-compute.log.1.gz");
    let gz_skipped = m["skipped"].as_array().unwrap().iter().any(|s| s["source"].as_str().unwrap().ends_with(".1.gz"));
    assert!(gz_in != gz_skipped, "the rotated log is either in the bundle or listed as skipped: {m}");
    let total: u64 = files
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("logs/"))
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum();
    assert!(total <= 64 * 1024 + 1024, "logs total {total} over the budget");
}

#[test]
fn collect_refuses_to_write_a_bundle_to_a_terminal_and_bad_sizes() {
    let (code, _, err) = run_bounded(&["collect", "--max-bytes", "lots"], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("--max-bytes: `lots` is not a size"), "{err}");
    let (code, _, err) = run_bounded(&["collect", "--since", "yesterday"], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("--since: `yesterday` is not a duration"), "{err}");
    let (code, _, err) = run_bounded(&["collect", "-o", "/nonexistent/dir/b.tar.zst"], None, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/dir/b.tar.partial"), "{err}");
}

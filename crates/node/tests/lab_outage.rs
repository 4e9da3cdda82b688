//! `doctor --root` over the state the fault lab captured with `rootline collect` during its outage
//! (tests/data/lab-outage: node s-lab01-com601-krw1a, map mpatha on sda and sdb, both offline,
//! ext4 on it mounted at /var/lib/libvirt; qemu-system-x86_64, libvirtd, jbd2 and sync in D state;
//! a libvirtd zombie whose parent libvirtd is in D). Nothing here was written by hand: see docs/lab.md.

use std::path::{Path, PathBuf};

use rootline_node::doctor::{self, Finding, Health, Options, Report, Severity};
use rootline_node::root::Root;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lab-outage")
}

fn check(root: &Root) -> Report {
    doctor::check(root, Some("lab-outage".into()), &Options::default())
}

fn one<'a>(r: &'a Report, id: &str) -> &'a Finding {
    let f: Vec<&Finding> = r.findings.iter().filter(|f| f.signature == id).collect();
    assert_eq!(f.len(), 1, "{id}: {:#?}", r.findings.iter().map(|f| (&f.signature, &f.title)).collect::<Vec<_>>());
    f[0]
}

fn ent<'a>(f: &'a Finding, kind: &str) -> Vec<&'a str> {
    f.entities.get(kind).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default()
}

#[test]
fn the_stale_map_with_its_paths_holders_and_blocked_tasks() {
    let r = check(&Root::Dir(data()));
    assert_eq!(r.host, "s-lab01-com601-krw1a");
    assert!(r.captured_at.as_deref().is_some_and(|t| t.starts_with("2026-")), "{:?}", r.captured_at);
    assert_eq!(r.status, Health::Failure);
    assert_eq!(r.exit_code(), 2);
    // The captured command outputs stand in for the commands: none is run against a captured tree.
    assert!(r.commands.iter().all(|c| c.status == rootline_node::exec::Status::Captured));
    assert!(r.commands.iter().any(|c| c.line() == "dmsetup status"));

    let m = r.maps.iter().find(|m| m.name == "mpatha").expect("mpatha");
    assert_eq!((m.dm.as_str(), m.devt.as_deref(), m.active_paths), ("dm-0", Some("254:0"), 0));
    let paths: Vec<(&str, Option<&str>, Option<&str>)> =
        m.paths.iter().map(|p| (p.name.as_str(), p.state.as_deref(), p.dm_state.as_deref())).collect();
    assert_eq!(paths, [("sda", Some("offline"), Some("F")), ("sdb", Some("offline"), Some("F"))]);
    assert_eq!(m.queue_if_no_path, Some(true));
    assert_eq!(m.mounts, ["/var/lib/libvirt"]);
    assert!(m.held_open);

    let f = one(&r, "multipath.stale-map");
    assert_eq!(f.severity, Severity::Failure);
    assert_eq!(ent(f, "map"), ["mpatha"]);
    assert_eq!(ent(f, "path"), ["sda", "sdb"]);
    assert!(f.title.contains("queue_if_no_path"), "{}", f.title);
    // The tasks proven to wait on it: jbd2 names dm-0, libvirtd and qemu use files on its mount or
    // the device itself.
    let comms = ent(f, "comm");
    for c in ["jbd2/dm-0-8", "libvirtd", "qemu-system-x86"] {
        assert!(comms.contains(&c), "{c} not tied to mpatha: {comms:?}\n{:#?}", f.details);
    }
    // sync writes back every file system: only a hypothesis, never a fact.
    assert!(!comms.contains(&"sync"));
    assert!(f.hypotheses.iter().any(|h| h.contains("sync")), "{:?}", f.hypotheses);
    // Every claim has its evidence line.
    let paths: Vec<&str> = f.evidence.iter().map(|e| e.path.as_str()).collect();
    for p in [
        "/sys/block/dm-0/dm/name",
        "/sys/block/sda/device/state",
        "/sys/block/sdb/device/state",
        "command: dmsetup status",
        "/proc/self/mountinfo",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    assert!(f.evidence.iter().all(|e| !e.text.is_empty() && e.line.is_some()));
    // The way out, printed, never run; and the reboot, because tasks in D hold it open.
    let cmds: Vec<&str> = f.next_steps.iter().filter_map(|s| s.command.as_deref()).collect();
    assert!(cmds.contains(&"multipathd disablequeueing map mpatha"), "{cmds:?}");
    assert!(cmds.contains(&"multipath -f mpatha"), "{cmds:?}");
    assert!(f.reboot_may_be_required);
}

#[test]
fn tasks_in_d_state_and_the_zombie_of_a_d_state_libvirtd() {
    let r = check(&Root::Dir(data()));
    let d = one(&r, "process.d-state");
    assert_eq!(d.severity, Severity::Failure, "they wait on a stale map");
    let comms = ent(d, "comm");
    for c in ["jbd2/dm-0-8", "libvirtd", "qemu-system-x86", "sync"] {
        assert!(comms.contains(&c), "{c}: {comms:?}");
    }
    let libvirtd = r.tasks.iter().find(|t| t.comm == "libvirtd" && t.state == "D").expect("libvirtd in D");
    assert!(libvirtd.wchan.is_some());
    assert!(!libvirtd.stack.is_empty(), "the kernel stack was captured");

    let z = one(&r, "process.zombie");
    assert_eq!(z.severity, Severity::Failure, "a zombie whose parent is in D cannot be reaped");
    assert!(z.title.contains(&format!("of parent {} libvirtd (in D state", libvirtd.pid)), "{}", z.title);
    assert!(ent(z, "pid").contains(&libvirtd.pid.to_string().as_str()));

    let l = one(&r, "libvirt.daemon-unresponsive");
    assert_eq!(ent(l, "pid"), [libvirtd.pid.to_string().as_str()]);
    // The whole process table comes from the bundle's snapshot.
    assert!(r.counts.processes > 50, "{:?}", r.counts);
    assert_eq!((r.counts.d_state, r.counts.zombies), (5, 1));
}

#[test]
fn the_text_report_and_the_json_say_the_same() {
    let r = check(&Root::Dir(data()));
    let text = doctor::render_text(&r);
    assert!(text.contains("FAIL  multipath.stale-map  mpatha (dm-0): no active path, 0 of 2"), "{text}");
    assert!(text.contains("$ multipathd disablequeueing map mpatha"));
    assert!(text.contains("hypothesis: "));
    assert!(text.trim_end().ends_with("exit 2)"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["schema"], "rootline.doctor/v1");
    assert_eq!(json["status"], "failure");
    assert_eq!(json["maps"][0]["paths"][0]["state"], "offline");
}

#[test]
fn an_archive_of_the_tree_reads_the_same() {
    // Pack the captured tree as collect does (one top folder, symlinks kept) and read it in memory.
    let mut raw = Vec::new();
    {
        let mut b = tar::Builder::new(&mut raw);
        b.follow_symlinks(false);
        b.append_dir_all("rootline-s-lab01-com601-krw1a-20261129T021348Z", data()).unwrap();
        b.finish().unwrap();
    }
    let z = zstd::encode_all(&raw[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.tar.zst");
    std::fs::write(&path, z).unwrap();
    let from_dir = check(&Root::Dir(data()));
    let from_tar = check(&Root::open(&path).unwrap());
    let key = |r: &Report| r.findings.iter().map(|f| (f.id.clone(), f.title.clone())).collect::<Vec<_>>();
    assert_eq!(key(&from_dir), key(&from_tar));
}

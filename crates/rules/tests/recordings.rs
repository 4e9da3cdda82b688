//! The lab's real recordings replayed through the built-in pack: the storage outage of
//! `offline-queue` (both paths of mpatha offlined, I/O queued, hung tasks, a refused flush, then
//! the paths back) must be recognised with the right entities.

use std::path::PathBuf;

use rootline_rules::{window, Engine, Finding, Pack};

fn recording(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/lab/recordings").join(name).join("messages")
}

fn findings(name: &str) -> Option<Vec<Finding>> {
    let path = recording(name);
    if !path.exists() {
        eprintln!("skipping: {} is not present", path.display());
        return None;
    }
    let timeline = rootline_ingest::read(&[path], &rootline_ingest::Options::default());
    let events: Vec<_> = timeline.into_events().collect();
    let engine = Engine::new(Pack::builtin().unwrap());
    Some(window::run(&engine, events.iter()).findings)
}

fn with<'a>(fs: &'a [Finding], sig: &str) -> Vec<&'a Finding> {
    fs.iter().filter(|f| f.signature == sig).collect()
}

#[test]
fn offline_queue_outage_is_recognised() {
    let Some(fs) = findings("offline-queue") else { return };
    let failing = with(&fs, "multipath.path-failing");
    assert_eq!(failing.len(), 1, "{failing:#?}");
    let f = failing[0];
    assert!(f.has("devt", "254:0") && f.has("dm", "dm-0"), "{f:#?}");
    assert!(f.has("path", "8:0") && f.has("path", "8:16"), "{f:#?}");
    assert_eq!(f.host.as_deref(), Some("db-node01"));

    let down = with(&fs, "multipath.all-paths-down");
    assert!(down.iter().any(|f| f.has("map", "mpatha")), "{down:#?}");

    let paths = with(&fs, "multipath.path-down");
    assert!(paths.iter().any(|f| f.has("map", "mpatha") && f.has("disk", "sda")), "{paths:#?}");
    assert!(paths.iter().any(|f| f.has("map", "mpatha") && f.has("disk", "sdb")), "{paths:#?}");

    let hung = with(&fs, "kernel.hung-task");
    assert!(
        hung.iter().any(|f| f.has("comm", "jbd2/dm-0-8") && f.has("pid", "275") && f.has("dm", "dm-0")),
        "{hung:#?}"
    );
    assert!(hung.iter().any(|f| f.has("comm", "dd") && f.has("pid", "410")), "{hung:#?}");
    // The call trace is part of the event: one finding per task, not per trace line.
    assert!(hung.len() <= 4, "{hung:#?}");

    let flush = with(&fs, "multipath.flush-failed");
    assert!(flush.iter().any(|f| f.has("map", "mpatha") && f.count >= 3), "{flush:#?}");

    // The paths came back after 52 seconds: not a stale map, and the reinstates are seen.
    assert!(with(&fs, "multipath.stale-map").is_empty());
    assert!(!with(&fs, "multipath.path-reinstated").is_empty());
    // The busybox boot line `multipath round-robin: version 1.2.0 loaded` fires no fault.
    let boot = fs.iter().filter(|f| f.evidence.iter().any(|e| e.text.contains("round-robin")));
    assert_eq!(boot.count(), 0);
}

#[test]
fn offline_npr10_errors_reach_the_filesystem() {
    let Some(fs) = findings("offline-npr10") else { return };
    assert!(with(&fs, "multipath.queueing-no-path").iter().any(|f| f.has("map", "mpatha")));
    assert!(with(&fs, "block.io-error").iter().any(|f| f.has("dm", "dm-0") && f.count > 10));
    assert!(with(&fs, "fs.read-only-remount").iter().any(|f| f.has("dm", "dm-0")));
}

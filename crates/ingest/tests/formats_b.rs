//! End-to-end checks for the kernel, Kubernetes events, JSON lines, snapshot and command log formats:
//! detection of every fixture, no unparsed lines in them, the kernel ring buffer anchored through the
//! lab's syslog, and arbitrary bytes through each parser without a panic.

use std::path::PathBuf;

use proptest::prelude::*;
use rootline_event::TimeKind;
use rootline_ingest::formats::{self, LinePos, Parser, Record, Sink, SourceCtx};
use rootline_ingest::{read, Options};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// Reads one fixture directory and checks every file's format and (unless listed) zero unparsed lines.
fn check_dir(dir: &str, format: &str, may_have_unparsed: &[&str]) {
    let tl = read(&[data(dir)], &Options::default());
    assert!(!tl.stats.sources.is_empty(), "no sources under {dir}");
    for s in &tl.stats.sources {
        assert_eq!(s.format, format, "{} was detected as {}", s.path, s.format);
        if !may_have_unparsed.iter().any(|m| s.path.ends_with(m)) {
            assert_eq!(s.unparsed_lines, 0, "{} has unparsed lines", s.path);
        }
        assert!(s.events > 0, "{} made no events", s.path);
    }
}

#[test]
fn kernel_fixtures() {
    check_dir("formats/kernel", "kernel", &[]);
}

#[test]
fn k8s_event_fixtures() {
    check_dir("formats/k8s-events", "k8s-events", &[]);
}

#[test]
fn jsonlines_fixtures() {
    check_dir("formats/jsonlines", "jsonlines", &[]);
}

#[test]
fn snapshot_fixtures() {
    check_dir("formats/snapshot", "snapshot", &[]);
}

#[test]
fn terminal_fixtures() {
    check_dir("formats/terminal", "terminal", &[]);
}

#[test]
fn command_log_fixtures() {
    check_dir("formats/command-log", "command-log", &[]);
}

#[test]
fn k8s_ages_are_measured_from_now() {
    let now = 1_760_355_000; // 2025-10-13T11:30:00Z
    let opts = Options { now: Some(now), ..Options::default() };
    let tl = read(&[data("formats/k8s-events/get-events.txt")], &opts);
    let evs: Vec<_> = tl.into_events().collect();
    let unhealthy = evs.iter().find(|e| e.field("reason") == Some("Unhealthy")).expect("Unhealthy event");
    assert_eq!(unhealthy.time.map(|t| t.unix_nanos), Some((now - 28 * 60) * 1_000_000_000));
    assert_eq!(unhealthy.field("pod"), Some("libvirt-libvirt-default-x7k2p"));
    // A rounded age before `--now` is an approximate time, not an exact one.
    assert_eq!(unhealthy.time_kind, TimeKind::Approximate);
}

/// The lab's dmesg.txt and busybox messages in one bundle, merged.
fn lab_dmesg_with_messages() -> Vec<rootline_event::Event> {
    // One bundle holding both files, so the ring buffer takes the host syslog names.
    let lab = data("lab/offline-queue");
    let dir = tempfile::tempdir().unwrap();
    for f in ["dmesg.txt", "messages"] {
        std::fs::copy(lab.join(f), dir.path().join(f)).unwrap();
    }
    read(&[dir.path().to_path_buf()], &Options::default()).into_events().collect()
}

fn find<'a>(evs: &'a [rootline_event::Event], file: &str, needle: &str) -> &'a rootline_event::Event {
    evs.iter()
        .find(|e| e.provenance.path.ends_with(file) && e.message_str().contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"))
}

const LAB_NEEDLES: [&str; 3] =
    ["Failing path 8:0.", "Failing path 8:16.", "sd 0:0:0:0: rejecting I/O to offline device"];

#[test]
fn lab_dmesg_is_anchored_by_syslog() {
    let evs = lab_dmesg_with_messages();
    for needle in LAB_NEEDLES {
        assert_eq!(find(&evs, "dmesg.txt", needle).time_kind, TimeKind::Anchored, "{needle}");
    }
}

#[test]
fn lab_dmesg_agrees_with_syslog_within_2s() {
    let evs = lab_dmesg_with_messages();
    for needle in LAB_NEEDLES {
        let (k, s) = (find(&evs, "dmesg.txt", needle), find(&evs, "messages", needle));
        let (kt, st) = (k.time.unwrap().unix_nanos, s.time.unwrap().unix_nanos);
        assert!((kt - st).abs() <= 2_000_000_000, "{needle}: dmesg {kt} vs messages {st}");
    }
}

#[test]
fn command_log_anchors_the_ring_buffer() {
    // The command log's `=== time [uptime]` headers state both clocks, so they anchor dmesg.
    let lab = data("lab/offline-queue");
    let dir = tempfile::tempdir().unwrap();
    for f in ["dmesg.txt", "steps.log"] {
        std::fs::copy(lab.join(f), dir.path().join(f)).unwrap();
    }
    let tl = read(&[dir.path().to_path_buf()], &Options::default());
    let evs: Vec<_> = tl.into_events().collect();
    let failing = evs
        .iter()
        .find(|e| e.provenance.path.ends_with("dmesg.txt") && e.message_str().contains("Failing path 8:0."))
        .unwrap();
    assert_eq!(failing.time_kind, TimeKind::Anchored);
    let header = evs.iter().find(|e| e.message_str() == "# sh -c echo offline > /sys/block/sda/device/state").unwrap();
    // The path failed right after the command that failed it (header stamps are whole seconds).
    let d = failing.time.unwrap().unix_nanos - header.time.unwrap().unix_nanos;
    assert!(d.abs() <= 2_000_000_000, "{d}");
}

struct Null(u64);

impl Sink for Null {
    fn record(&mut self, _: LinePos, r: Record<'_>) {
        self.0 += r.message.len() as u64;
    }
    fn attach(&mut self, _: LinePos, l: &[u8]) {
        self.0 += l.len() as u64;
    }
    fn skip(&mut self, _: LinePos) {}
    fn unparsed(&mut self, _: LinePos, l: &[u8]) {
        self.0 += l.len() as u64;
    }
}

fn all_parsers() -> Vec<Box<dyn Parser>> {
    let ctx = SourceCtx { now: Some(1_760_355_000), ..SourceCtx::default() };
    let sos = SourceCtx { path: "sos_commands/multipath/multipath_-ll".into(), ..SourceCtx::default() };
    vec![
        formats::kernel::parser(&ctx),
        formats::k8s_events::parser(&ctx),
        formats::jsonlines::parser(&ctx),
        formats::snapshot::parser(&ctx),
        formats::snapshot::parser(&sos),
        formats::cmdlog::parser(&ctx),
    ]
}

fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        // Bytes drawn from the characters these formats care about, to reach deeper states.
        proptest::collection::vec(
            proptest::sample::select(b"[]{}()<>:;,.=+-_ \t\"\\0123456789aAkTCxe/|`#".to_vec()),
            0..60
        ),
        Just(b"[  +0.010370] x".to_vec()),
        Just(b"6,1,2,-;x".to_vec()),
        Just(b" KEY=v".to_vec()),
        Just(b"=== 2026-11-28 22:38:45 [22.64] # multipath -ll".to_vec()),
        Just(b"items:".to_vec()),
        Just(b"- apiVersion: v1".to_vec()),
        Just(b"LAST SEEN   TYPE      REASON      OBJECT   MESSAGE".to_vec()),
        Just(b"PID   PPID  STAT COMMAND".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_lines_never_panic(lines in proptest::collection::vec(line_strategy(), 0..40)) {
        for mut p in all_parsers() {
            let mut sink = Null(0);
            let mut off = 0u64;
            for (i, l) in lines.iter().enumerate() {
                p.feed(LinePos { line: i as u64 + 1, offset: off }, l, &mut sink);
                off += l.len() as u64 + 1;
            }
            p.finish(&mut sink);
        }
    }
}

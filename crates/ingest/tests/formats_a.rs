//! End-to-end checks of the journal, klog, logfmt, CRI, oslo.log, libvirt and terminal formats: every fixture
//! under `tests/data/formats/<format>/` is detected as its format and read with no unparsed line, and
//! no input (random bytes, invalid UTF-8) makes a parser panic.

use std::path::PathBuf;

use proptest::prelude::*;
use rootline_ingest::formats::{self, LinePos, Record, Sink, SourceCtx};
use rootline_ingest::{read, Format, Options};

const FORMATS: [(&str, Format); 7] = [
    ("journal", Format::Journal),
    ("klog", Format::Klog),
    ("logfmt", Format::Logfmt),
    ("cri", Format::Cri),
    ("oslo", Format::Oslo),
    ("libvirt", Format::Libvirt),
    ("terminal", Format::Terminal),
];

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats").join(dir)
}

#[test]
fn fixtures_are_detected_and_fully_parsed() {
    for (dir, format) in FORMATS {
        let t = read(&[fixtures(dir)], &Options::default());
        // A fixture directory may carry a README.md citing its sources (skipped as documentation).
        assert!(t.stats.skipped.iter().all(|s| s.path.ends_with(".md")), "{dir}: skipped {:?}", t.stats.skipped);
        assert!(!t.stats.sources.is_empty(), "{dir}: no sources");
        for s in &t.stats.sources {
            assert_eq!(s.format, format.as_str(), "{} detected as {}", s.path, s.format);
            assert_eq!(s.unparsed_lines, 0, "{} has unparsed lines", s.path);
            assert!(s.events > 0 && s.events <= s.lines, "{}: {} events from {} lines", s.path, s.events, s.lines);
        }
    }
}

#[test]
fn fixture_counts() {
    let count = |dir: &str| read(&[fixtures(dir)], &Options::default()).stats.sources.len();
    assert_eq!(count("journal"), 5);
    assert_eq!(count("cri"), 2);
    assert_eq!(count("libvirt"), 2);
}

#[test]
fn fixture_events_carry_their_fields() {
    let events: Vec<_> = read(&[fixtures("cri")], &Options::default()).into_events().collect();
    let joined = events.iter().find(|e| e.message_str().contains("owned by (48213")).expect("joined partial line");
    assert!(joined.message_str().ends_with("for (30s, 0s, 0s)"), "{}", joined.message_str());
    assert_eq!(joined.field("pod"), Some("libvirt-libvirt-default-x7k2p"));
    assert_eq!(joined.field("namespace"), Some("openstack"));
    assert_eq!(joined.program.as_deref(), Some("libvirt"));
    let nova = events.iter().find(|e| e.message_str().contains("Failed to attach volume")).expect("nova line");
    assert_eq!(nova.field("container"), Some("nova-compute"));
    assert_eq!(nova.severity, Some(rootline_event::Severity::Err));

    let events: Vec<_> = read(&[fixtures("oslo")], &Options::default()).into_events().collect();
    let tb = events.iter().find(|e| e.message_str().contains("Failed to attach volume")).expect("oslo record");
    assert_eq!(tb.attached, 7);
    assert_eq!(tb.field("instance"), Some("4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11"));

    let events: Vec<_> = read(&[fixtures("journal")], &Options::default()).into_events().collect();
    let export = events.iter().find(|e| e.message_str().starts_with("virsh list: error")).expect("binary MESSAGE");
    assert!(export.message.ends_with(b"Input/output error \xff"));
    assert_eq!(export.field("container_id").map(str::len), Some(64));
}

/// A sink that counts what it was told: one call per line means no line was dropped.
#[derive(Default)]
struct Count(u64);

impl Sink for Count {
    fn record(&mut self, _: LinePos, r: Record<'_>) {
        assert!(r.fields.len() <= 64);
        self.0 += 1;
    }
    fn attach(&mut self, _: LinePos, _: &[u8]) {
        self.0 += 1;
    }
    fn skip(&mut self, _: LinePos) {
        self.0 += 1;
    }
    fn unparsed(&mut self, _: LinePos, _: &[u8]) {
        self.0 += 1;
    }
}

/// Lines that mix random bytes with pieces of real headers, so parsers get past their first check.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let seeds = prop::sample::select(vec![
        &b""[..],
        b"-- Boot ",
        b"{\"__REALTIME_TIMESTAMP\":\"",
        b"MESSAGE",
        b"__CURSOR=",
        b"[ 5123.456789] h ",
        b"Oct 13 19:51:02.123456 h kernel: ",
        b"2025-10-13T19:51:02+0900 h ",
        b"I1013 19:56:01.123456 1 a.go:1] \"",
        b"time=\"2025-10-13T19:46:12Z\" level=",
        b"2025-10-13T10:56:00.1Z stdout P ",
        b"2025-10-13 19:46:00.123 7 ERROR nova [",
        b"2025-10-13 10:56:00.123+0000: ",
        b"ops@node12:~$ sudo multipath -ll",
        b"[root@node12 ~]# ",
        b"# dmsetup ls --tree",
        b"Script started on 2025-03-11 09:13:55+09:00 [",
        b"\x1b[1mmpathc (3600) dm-3 A,B",
        b"Tue Mar 11 09:14:07 KST 2025",
        b"^C",
        b"> ",
        b"  ",
    ]);
    (seeds, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(s, tail)| {
        let mut l = s.to_vec();
        l.extend(tail.into_iter().filter(|c| *c != b'\n'));
        l
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(lines in prop::collection::vec(line(), 0..24), path in 0usize..3) {
        let paths = ["", "/var/log/pods/ns_pod_uid/c/0.log", "/var/log/libvirt/qemu/instance-0000abcd.log"];
        let ctx = SourceCtx { path: paths[path].into(), ..SourceCtx::default() };
        for (_, format) in FORMATS {
            let spec = formats::spec(format);
            let mut p = (spec.parser)(&ctx);
            let mut sink = Count::default();
            let mut offset = 0u64;
            for (i, l) in lines.iter().enumerate() {
                let _ = (spec.detect)(l);
                p.feed(LinePos { line: i as u64 + 1, offset }, l, &mut sink);
                offset += l.len() as u64 + 1;
            }
            p.finish(&mut sink);
            // Every line is exactly one of record, attach, skip or unparsed: nothing dropped silently.
            prop_assert_eq!(sink.0, lines.len() as u64, "{}", format);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), forced in 0usize..8) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("journalctl_random.log");
        // Invalid UTF-8 guaranteed, but no NUL so the file is not skipped as binary.
        let mut b: Vec<u8> = bytes.into_iter().map(|c| if c == 0 { 0xff } else { c }).collect();
        b.extend_from_slice(b"\n\xc3\x28 invalid utf-8\n");
        std::fs::write(&f, &b).unwrap();
        let opts = Options { format: FORMATS.get(forced).map(|(_, f)| *f), ..Options::default() };
        let t = read(&[f], &opts);
        prop_assert!(t.stats.lines >= 1);
        let _ = t.into_events().count();
    }
}

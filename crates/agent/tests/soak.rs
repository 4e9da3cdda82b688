//! Memory stays flat over many cycles: 1,500 cycles over the lab's captured outage, with the
//! summary made again, the metrics rendered and `/summary` answered along the way, grow the
//! process's resident memory by far less than a generous bound. (A leak of one report per cycle,
//! at 11 KiB or more, would fail it.) Speed is not asserted.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rootline_agent::agent::GRACE;
use rootline_agent::http::{Handler, Request};
use rootline_agent::{summary, Agent, Config, Source};
use rootline_node::doctor;

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn memory_is_flat_over_thousands_of_cycles() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/tests/data/lab-outage");
    let text = tempfile::tempdir().unwrap();
    let cfg = Config {
        source: Source::Captured(data.clone()),
        interval: Duration::from_secs(30),
        doctor: doctor::Options::default(),
        grace: GRACE,
        host: None,
        textfile: Some(text.path().to_path_buf()),
        bundles: None,
        summary: Some(summary::Config {
            logs: summary::Logs::Captured(data),
            since: Duration::from_secs(6 * 3600),
            max_bytes: 64 << 20,
            timeout: Duration::from_secs(10),
        }),
        summary_interval: Duration::from_secs(300),
        summary_timeout: Duration::from_secs(300),
        conditions: None,
    };
    let a = Arc::new(Agent::new(cfg).unwrap());
    let metrics = Request { method: "GET".into(), path: "/metrics".into(), ..Default::default() };
    let sum = Request { method: "GET".into(), path: "/summary".into(), ..Default::default() };
    let round = |n: usize| {
        for i in 0..n {
            a.cycle();
            assert_eq!(a.handle(&metrics).status, 200);
            if i % 100 == 0 {
                a.refresh_summary();
                assert_eq!(a.handle(&sum).status, 200);
            }
        }
    };
    round(300);
    let before = rss_kib();
    let cycles = 1500;
    round(cycles);
    let after = rss_kib();
    let grown = after.saturating_sub(before);
    eprintln!("soak: {cycles} cycles, RSS {before} KiB -> {after} KiB (+{grown} KiB)");
    assert_eq!(a.state().stats.cycles as usize, 300 + cycles);
    assert!(grown < 16 * 1024, "resident memory grew by {grown} KiB over {cycles} cycles ({before} -> {after})");
}

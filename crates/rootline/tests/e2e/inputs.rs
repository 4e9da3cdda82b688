//! What rootline does with inputs that are not plain readable logs: FIFOs and process substitution
//! (read once, like `-`).

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rootline"));
    c.env("TZ", "UTC").env("LANG", "C.UTF-8").env_remove("LC_ALL").env_remove("LC_MESSAGES");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("rootline runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `cmd` to its end, killing it after a generous deadline: a FIFO that is never opened by the
/// other side would otherwise hang the test run instead of failing it.
fn output_within(mut cmd: Command, secs: u64) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawns");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let e = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {secs} s (a stream that was never read?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: o.join().unwrap(), stderr: e.join().unwrap() }
}

/// `n` kernel lines of node-a, one second apart from 10:00:00 UTC.
fn kernel_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!("2025-10-13T10:{:02}:{:02}+00:00 node-a kernel: sd 2:0:0:1: [sdt] tur {i} ok\n", i / 60, i % 60)
        })
        .collect()
}

#[test]
fn a_fifo_is_read_once_like_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("journal");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    let lines = kernel_lines(25);
    let (f, l) = (fifo.clone(), lines.clone());
    // The writer blocks in open() until rootline opens the FIFO for reading.
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        w.write_all(l.as_bytes()).unwrap();
    });
    let mut cmd = bin();
    cmd.args(["timeline", "--json", fifo.to_str().unwrap()]);
    let o = output_within(cmd, 120);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    writer.join().unwrap();
    let events: Vec<serde_json::Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 25);
    assert_eq!(events[0]["path"], fifo.to_str().unwrap());
    assert_eq!(events[0]["host"], "node-a");
    assert_eq!(events[24]["message"], "sd 2:0:0:1: [sdt] tur 24 ok");
}

#[test]
fn process_substitution_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("k.log");
    std::fs::write(&log, kernel_lines(12)).unwrap();
    // `rootline timeline <(cat k.log)`: the path is /dev/fd/N, a pipe.
    let mut cmd = Command::new("bash");
    cmd.env("TZ", "UTC").args([
        "-c",
        "exec \"$0\" timeline --json <(cat \"$1\")",
        env!("CARGO_BIN_EXE_rootline"),
        log.to_str().unwrap(),
    ]);
    let o = output_within(cmd, 120);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events: Vec<serde_json::Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 12);
    assert!(events[0]["path"].as_str().unwrap().starts_with("/dev/fd/"), "{:?}", events[0]);
}

#[test]
fn a_character_device_is_read_as_a_stream() {
    // /dev/zero is read from its first bytes like any stream and turned down for what it holds.
    let o = run(&["timeline", "--stats", "--json", "/dev/zero", "/dev/null"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let reasons: Vec<&str> = st["skipped"].as_array().unwrap().iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["binary file (NUL bytes in its first 8 KiB)", "empty file"]);
}

//! What rootline does with inputs that are not plain readable logs: nothing readable at all (exit 2,
//! for `analyze` as for `timeline`), inputs skipped or cut (said before the verdict), compressed
//! files and archives damaged or cut short (the lines before the damage kept, the place named),
//! and FIFOs and process substitution (read once, like `-`).

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = crate::support::command();
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

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
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
fn nothing_readable_exits_2_for_analyze_as_for_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.log"), b"").unwrap();
    std::fs::create_dir(d.join("empty-dir")).unwrap();
    // A gzip file cut inside its header: nothing decompresses.
    std::fs::write(d.join("cut.log.gz"), &gz(b"one line\n")[..10]).unwrap();
    let binary = env!("CARGO_BIN_EXE_rootline");
    for p in [
        d.join("empty.log").to_str().unwrap(),
        binary,
        d.join("empty-dir").to_str().unwrap(),
        d.join("cut.log.gz").to_str().unwrap(),
    ] {
        for args in [vec!["analyze", p], vec!["analyze", "--format", "json", p], vec!["timeline", p]] {
            let o = run(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("rootline: nothing could be read: "), "{args:?}: {err}");
            assert!(o.stdout.is_empty(), "{args:?}: no verdict, no timeline: {}", text(&o.stdout));
        }
    }
    // The reason is given, once per input.
    let o = run(&["analyze", d.join("cut.log.gz").to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(err.contains("cut.log.gz: damaged before its first line: gzip stream cut short at byte 10"), "{err}");
    let o = run(&["analyze", binary]);
    assert!(text(&o.stderr).contains("binary file"), "{}", text(&o.stderr));
}

#[test]
fn analyze_says_what_it_did_not_read_before_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("kern.log"), kernel_lines(30)).unwrap();
    std::fs::write(d.join("zz-empty.log"), b"").unwrap();
    std::fs::write(d.join("core"), [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0]).unwrap();
    let mut long = kernel_lines(1).trim_end().to_string();
    long.push_str(&" x".repeat(200));
    long.push('\n');
    std::fs::write(d.join("long.log"), long.repeat(3)).unwrap();
    let dir_arg = d.to_str().unwrap();
    let o = run(&["analyze", "--max-line", "100", dir_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "rootline analyze: 2 inputs skipped: 1 binary file, 1 empty file; 3 lines cut to 100 bytes (details: --format json)",
        "{out}"
    );
    assert!(lines[1].starts_with("rootline analyze: verdict "), "{out}");

    let o = run(&["analyze", "--max-line", "100", "--format", "json", dir_arg]);
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["inputs"]["cut_lines"], 3);
    assert_eq!(a["inputs"]["max_line"], 100);
    assert_eq!(a["inputs"]["skipped"].as_array().unwrap().len(), 2);
    assert!(a["inputs"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["path"].as_str().unwrap().ends_with("long.log")));

    // The postmortem carries the same note.
    let o = run(&["analyze", "--max-line", "100", "--format", "md", dir_arg]);
    let md = text(&o.stdout);
    assert!(md.contains("Not all the evidence given was read: 2 inputs skipped: 1 binary file, 1 empty file; 3 lines cut to 100 bytes."), "{md}");

    // Everything read: no note.
    let o = run(&["analyze", d.join("kern.log").to_str().unwrap()]);
    assert!(text(&o.stdout).starts_with("rootline analyze: verdict "), "{}", text(&o.stdout));
}

#[test]
fn no_incident_says_what_it_rests_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.log"),
        "2025-10-13T10:00:00+00:00 node-a systemd[1]: Started Session 1 of user ops.\n\
         2025-10-13T11:00:00+00:00 node-a systemd[1]: Started Session 2 of user ops.\n",
    )
    .unwrap();
    std::fs::write(
        d.join("b.log"),
        "2025-10-13T12:00:00+00:00 node-b systemd[1]: Started Session 7 of user ops.\n\
         2025-10-13T13:12:00+00:00 node-b systemd[1]: Started Session 8 of user ops.\n",
    )
    .unwrap();
    let o = run(&["analyze", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("verdict no_incident"), "{out}");
    assert!(
        out.contains(
            "No incident in 4 events over 3.2 h (2025-10-13T10:00:00Z .. 2025-10-13T13:12:00Z) from node-a, node-b: \
             only context and benign lines."
        ),
        "{out}"
    );
    let o = run(&["analyze", "--format", "md", d.to_str().unwrap()]);
    assert!(text(&o.stdout).contains("No incident in 4 events over 3.2 h"), "{}", text(&o.stdout));
}

#[test]
fn a_truncated_gzip_gives_the_lines_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let log = kernel_lines(40);
    let mut g = gz(log.as_bytes());
    g.truncate(g.len() * 3 / 4);
    let path = dir.path().join("kern.log.gz");
    std::fs::write(&path, &g).unwrap();
    // What a streaming inflate gives of these bytes before its error (as zcat prints it).
    let mut inflated = Vec::new();
    let mut d = flate2::read::GzDecoder::new(&g[..]);
    let mut byte = [0u8; 1];
    while let Ok(1) = d.read(&mut byte) {
        inflated.push(byte[0]);
    }
    let want = inflated.split_inclusive(|&b| b == b'\n').count();
    assert!(want > 10, "the example keeps lines: {want}");

    let p = path.to_str().unwrap();
    let o = run(&["timeline", "--json", p]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events: Vec<serde_json::Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), want);
    assert!(text(&o.stderr).contains("gzip stream cut short at byte"), "{}", text(&o.stderr));

    let o = run(&["timeline", "--stats", "--json", p]);
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["files"], 1);
    assert_eq!(st["skipped"].as_array().unwrap().len(), 0);
    let w = &st["warnings"][0];
    assert_eq!(w["path"], p);
    let reason = w["reason"].as_str().unwrap();
    assert!(reason.starts_with("gzip stream cut short at byte "), "{reason}");
    assert!(reason.ends_with(&format!("kept the {want} lines read before it")), "{reason}");

    let o = run(&["analyze", "--format", "json", p]);
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["inputs"]["warnings"][0]["reason"], reason);
    let o = run(&["analyze", p]);
    let out = text(&o.stdout);
    assert!(out.starts_with(&format!("rootline analyze: 1 input read in part: {p} (gzip stream cut short")), "{out}");
}

#[test]
fn a_tar_gz_cut_short_keeps_its_whole_members() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (kernel_lines(20), kernel_lines(400));
    let mut t = tar::Builder::new(Vec::new());
    for (name, data) in [("node/var/log/a.log", &a), ("node/var/log/b.log", &b)] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_760_349_600);
        h.set_cksum();
        t.append_data(&mut h, name, data.as_bytes()).unwrap();
    }
    let g = gz(&t.into_inner().unwrap());
    let path = dir.path().join("node.tar.gz");
    std::fs::write(&path, &g[..g.len() / 2]).unwrap();
    let o = run(&["timeline", "--stats", "--json", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sources = st["sources"].as_array().unwrap();
    assert!(sources[0]["path"].as_str().unwrap().ends_with("node.tar.gz!node/var/log/a.log"));
    assert_eq!(sources[0]["lines"], 20, "the member before the cut is whole");
    let warnings = st["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]["reason"].as_str().unwrap().starts_with("gzip stream cut short at byte "));
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

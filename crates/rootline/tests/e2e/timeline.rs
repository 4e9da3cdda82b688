//! `rootline timeline`: real inputs in, exit codes and output checked.

use super::support::root;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = crate::support::command();
    c.env("TZ", "UTC").env_remove("LANG").env_remove("LC_ALL");
    c
}

fn lab(name: &str) -> PathBuf {
    root().join("examples/incidents").join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("rootline runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect()
}

#[test]
fn lab_messages_timeline_is_sorted_and_points_at_lines() {
    let f = lab("lab-offline-queue/messages");
    let o = run(&["timeline", "--json", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = json_lines(&o);
    assert!(ev.len() > 500);
    let times: Vec<&str> = ev.iter().filter_map(|e| e["time"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times sorted (all UTC, same width)");
    // The first hung-task report is one event with its call trace attached, at its header's line.
    let hung =
        ev.iter().find(|e| e["message"].as_str().is_some_and(|m| m.starts_with("INFO: task jbd2/dm-0-8:275"))).unwrap();
    assert_eq!(hung["line"], 459);
    assert_eq!(hung["program"], "kernel");
    assert_eq!(hung["host"], "db-node01");
    assert!(hung["attached_lines"].as_u64().unwrap() >= 20);
    assert!(hung["message"].as_str().unwrap().contains("</TASK>"));
    assert_eq!(hung["boot_seconds"], 57.021751);
}

#[test]
fn filters_select_by_grep_time_and_host() {
    let f = lab("lab-offline-queue/messages");
    let f = f.to_str().unwrap();
    let o = run(&["timeline", "--json", "--grep", "remaining active paths: 0", f]);
    let ev = json_lines(&o);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| e["message"].as_str().unwrap().contains("remaining active paths: 0")));
    let o = run(&[
        "timeline",
        "--json",
        "--year",
        "2026",
        "--since",
        "2026-11-28T22:39:04Z",
        "--until",
        "2026-11-28T22:39:05Z",
        f,
    ]);
    let ev = json_lines(&o);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| e["time"].as_str().unwrap().starts_with("2026-11-28T22:39:04")));
    let o = run(&["timeline", "--json", "--host", "no-such-host", f]);
    assert!(json_lines(&o).is_empty());
    let o = run(&["timeline", "--json", "--source", "multipathd", f]);
    assert!(json_lines(&o).iter().all(|e| e["program"] == "multipathd"));
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn archives_are_read_as_streams_with_member_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("sosreport-n37/etc/hostname", b"s-dcn37-com604-krw1a\n".to_vec()),
        (
            "sosreport-n37/var/log/messages",
            b"Oct 13 19:51:02 s-dcn37-com604-krw1a multipathd[2201]: 4f2f: remaining active paths: 0\n".to_vec(),
        ),
        ("sosreport-n37/var/log/app.log.1.gz", gz(b"2025-10-13T10:51:01Z rotated line\n")),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_760_400_000);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let path = dir.path().join("sosreport.tar.zst");
    std::fs::write(&path, zstd::encode_all(&tar[..], 3).unwrap()).unwrap();
    let o = run(&["timeline", "--json", "--tz", "Asia/Seoul", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = json_lines(&o);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(ev[0]["message"], "rotated line");
    assert!(ev[0]["path"].as_str().unwrap().ends_with("sosreport.tar.zst!sosreport-n37/var/log/app.log.1.gz"));
    assert_eq!(ev[0]["host"], "s-dcn37-com604-krw1a", "the bundle's host name fills in");
    assert_eq!(ev[1]["time"], "2025-10-13T19:51:02+09:00");
    // Nothing was extracted next to the archive.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn a_sosreport_packed_with_dot_slash_names_keeps_its_zone_and_capture_time() {
    // `tar -C dir -cJf x.tar.xz .` writes `./sosreport-.../...` member names; the zone, host and
    // capture time found under the report's root apply to every file under it, and a command
    // output (no clock of its own) takes the time of the report's `date`, not the members' times.
    let dir = tempfile::tempdir().unwrap();
    let zone = std::fs::read(root().join("examples/incidents/seed-37/etc/localtime")).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("./sosreport-cmp-0412-2025-10-14-xkqbz/etc/localtime", zone),
        ("./sosreport-cmp-0412-2025-10-14-xkqbz/sos_commands/host/hostname", b"cmp-0412\n".to_vec()),
        ("./sosreport-cmp-0412-2025-10-14-xkqbz/sos_commands/date/date", b"Tue Oct 14 10:46:02 KST 2025\n".to_vec()),
        (
            "./sosreport-cmp-0412-2025-10-14-xkqbz/var/log/nova/nova-compute.log",
            b"2025-10-14 10:40:00.123 7 ERROR nova.compute.manager [-] Connection to libvirt lost: 1\n".to_vec(),
        ),
        (
            "./sosreport-cmp-0412-2025-10-14-xkqbz/sos_commands/process/ps_auxwww",
            b"USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 4711 0.0 0.0 0 0 ? Z 10:02 0:00 [libvirtd] <defunct>\n".to_vec(),
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_929_830_400); // 2031: the members' times are not the capture's
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let path = dir.path().join("sosreport-cmp-0412.tar.gz");
    std::fs::write(&path, gz(&tar)).unwrap();
    let o = run(&["timeline", "--json", "--tz", "UTC", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = json_lines(&o);
    let nova = ev.iter().find(|e| e["path"].as_str().unwrap().ends_with("nova-compute.log")).unwrap();
    // --tz UTC overrides the bundle's zone for naive times ...
    assert_eq!(nova["time"], "2025-10-14T10:40:00.123Z");
    let o = run(&["timeline", "--json", path.to_str().unwrap()]);
    let ev = json_lines(&o);
    let nova = ev.iter().find(|e| e["path"].as_str().unwrap().ends_with("nova-compute.log")).unwrap();
    // ... and without it the report's etc/localtime (KST) applies, `./` names or not.
    assert_eq!(nova["time"], "2025-10-14T10:40:00.123+09:00");
    assert_eq!(nova["host"], "cmp-0412");
    let ps = ev.iter().find(|e| e["path"].as_str().unwrap().ends_with("ps_auxwww")).unwrap();
    assert_eq!(ps["time"], "2025-10-14T10:46:02+09:00", "{ps}");
    let o = run(&["timeline", "--stats", path.to_str().unwrap()]);
    let stats = String::from_utf8_lossy(&o.stdout);
    assert!(stats.contains("snapshot taken 2025-10-14T10:46:02+09:00 from the capture's date output"), "{stats}");
}

#[test]
fn bad_input_is_reported_never_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("binary.bin"), [0u8, 1, 2, 3, 0, 0, 0xff, 0xfe]).unwrap();
    let mut g = gz(&b"2025-10-13T10:00:00Z kept before the damage\n".repeat(5000));
    g.truncate(g.len() / 2);
    std::fs::write(d.join("truncated.log.gz"), g).unwrap();
    std::fs::write(d.join("latin1.log"), b"2025-10-13T10:00:01Z caf\xe9 \xff\n").unwrap();
    let mut long = b"2025-10-13T10:00:02Z ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 300_000));
    long.push(b'\n');
    std::fs::write(d.join("long.log"), long).unwrap();

    let o = run(&["timeline", "--json", "--max-line", "100000", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = json_lines(&o);
    let latin = ev.iter().find(|e| e["path"].as_str().unwrap().ends_with("latin1.log")).unwrap();
    assert_eq!(latin["message"], "caf\\xE9 \\xFF", "message is always a string");
    assert_eq!(latin["message_base64"], "Y2Fm6SD/", "with the exact bytes beside it");
    assert!(ev.iter().filter(|e| e["message"].is_string()).count() == ev.len());
    assert!(ev.iter().filter(|e| e.get("message_base64").is_some()).count() == 1);
    let long = ev.iter().find(|e| e["path"].as_str().unwrap().ends_with("long.log")).unwrap();
    assert!(long["message"].as_str().unwrap().len() < 100_000);
    let kept = ev.iter().filter(|e| e["message"] == "kept before the damage").count();
    assert!(kept > 0, "lines before the damage are kept");

    let o = run(&["timeline", "--stats", "--json", "--max-line", "100000", d.to_str().unwrap()]);
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let skipped = st["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(
        |s| s["path"].as_str().unwrap().ends_with("binary.bin") && s["reason"].as_str().unwrap().contains("binary")
    ));
    let warnings = st["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["path"].as_str().unwrap().ends_with("truncated.log.gz")));
    assert!(warnings
        .iter()
        .any(|w| w["path"].as_str().unwrap().ends_with("long.log") && w["reason"].as_str().unwrap().contains("cut")));
    // Every line read is counted: the kept ones, the partial line at the damage, latin1 and long.
    let lines = st["lines"].as_u64().unwrap();
    assert!((kept as u64 + 2..=kept as u64 + 3).contains(&lines), "{lines} lines for {kept} kept");
    assert_eq!(st["events"].as_u64().unwrap(), lines, "no line is lost: each is an event");
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let o = run(&["timeline", "/no/such/path"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/path: no such file or directory"));
    let o = run(&["timeline", "--tz", "Mars/Olympus", "-"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["timeline", "--input-format", "nope", "-"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown input format; known:") && err.contains("syslog"), "{err}");
}

#[test]
fn stdin_is_read_with_dash() {
    let mut c = bin().args(["timeline", "--json", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b"2025-10-13T10:00:00Z from stdin\n").unwrap();
    let o = c.wait_with_output().unwrap();
    let ev = json_lines(&o);
    assert_eq!(ev[0]["message"], "from stdin");
    assert_eq!(ev[0]["path"], "-");
}

#[test]
fn closed_pipe_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let big = "2025-10-13T10:00:00Z a line that repeats\n".repeat(200_000);
    std::fs::write(dir.path().join("big.log"), big).unwrap();
    let mut c = bin()
        .args(["timeline", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = c.stdout.take().unwrap();
    let mut buf = [0u8; 100];
    out.read_exact(&mut buf).unwrap();
    drop(out);
    let status = c.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn stats_text_names_sources_and_anchors() {
    let o = run(&["timeline", "--stats", lab("lab-offline-queue").to_str().unwrap()]);
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(s.contains("files"), "{s}");
    assert!(s.contains("messages"));
    assert!(s.contains("time kinds"));
}

#[test]
fn collapse_counts_repeats_and_keeps_time_order() {
    let f = lab("lab-offline-queue/messages");
    let o = run(&["timeline", "--json", "--collapse", "30", "--source", "multipathd", f.to_str().unwrap()]);
    assert!(o.status.success());
    let lines = json_lines(&o);
    let offline = lines.iter().find(|l| l["template"].as_str().is_some_and(|t| t.contains("path offline"))).unwrap();
    // 53 "path offline" lines: two shown, 51 counted (`grep -c 'path offline'` on the file).
    assert_eq!(offline["repeats"], 51);
    assert_eq!(offline["line"], 829, "points at the last hidden line");
    let shown = lines.iter().filter(|l| l["message"].as_str().is_some_and(|m| m.contains("path offline"))).count();
    assert_eq!(shown, 2);
    let times: Vec<&str> = lines.iter().map(|l| l["time"].as_str().or(l["last"].as_str()).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "summaries sit in time order: {times:?}");
}

/// A run with one repeat beyond the lines shown prints that line itself, never `... x1 more`; two or
/// more are summarised, and the summary counts every one of them.
#[test]
fn collapse_never_summarises_a_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("messages");
    let mut text = String::new();
    // Three "path offline" lines (two shown, one more), then four "checker failed" (two shown, two more).
    for (s, msg) in [(0, "sda - path offline"), (1, "sdb - path offline"), (2, "sdc - path offline")] {
        text.push_str(&format!("2025-10-13T10:00:0{s}Z node1 multipathd[7]: mpatha: {msg}\n"));
    }
    for s in 3..7 {
        text.push_str(&format!("2025-10-13T10:00:0{s}Z node1 multipathd[7]: checker failed path 8:{s}\n"));
    }
    text.push_str("2025-10-13T10:09:00Z node1 kernel: something else much later\n");
    std::fs::write(&f, text).unwrap();
    let o = run(&["timeline", "--collapse", "30", f.to_str().unwrap()]);
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(!s.contains("x1 more"), "{s}");
    assert!(s.contains("sdc - path offline"), "the single repeat is printed as itself: {s}");
    assert!(s.contains("... x2 more"), "{s}");
    assert_eq!(s.lines().count(), 3 + 2 + 1 + 1, "{s}");
    let o = run(&["timeline", "--json", "--collapse", "30", f.to_str().unwrap()]);
    let lines = json_lines(&o);
    let repeats: Vec<u64> = lines.iter().filter_map(|l| l["repeats"].as_u64()).collect();
    assert_eq!(repeats, [2]);
    let times: Vec<&str> = lines.iter().map(|l| l["time"].as_str().or(l["last"].as_str()).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

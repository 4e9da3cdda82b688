//! `rootline collect`: the evidence `rootline analyze` needs, from a live node, as one `.tar.zst`.
//!
//! Layout (one top folder `rootline-<host>-<UTC time>/`, documented in docs/doctor.md):
//!
//! | path | what |
//! |---|---|
//! | `rootline-manifest.json` | what was collected: every file with its source, exit status or timeout, size, cut |
//! | `rootline-doctor.json` | `rootline doctor --json` at collection time |
//! | `logs/journal.txt` | `journalctl -o short-iso-precise` for the window (else `logs/var/log/...` files) |
//! | `logs/var/log/...` | libvirt, nova, kolla, multipath logs changed in the window (their newest bytes) |
//! | `kernel/kmsg.txt` | the kernel ring buffer from `/dev/kmsg` (else `dmesg` output) |
//! | `commands/<argv>.txt` | each command's output; its status is in the manifest |
//! | `snapshots/proc-pid-stat.txt` | `/proc/PID/stat` of every process (and every thread in D) |
//! | `proc/`, `sys/` | the state doctor reads: notable tasks, dm maps and paths (`doctor --root` reads it) |
//! | `etc/hostname`, `etc/localtime`, `etc/multipath.conf`, `proc/stat` | host name, zone, config, boot time |
//!
//! Every file is read by a child process under a hard timeout (`tail -c`, `cat`, `journalctl`) or
//! from /proc and /sys, so a log file on a blocked device costs a timeout, not a hang.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::doctor::{self, Report};
use crate::exec::{self, CommandRun, Keep, Status};
use crate::root::{Root, MANIFEST_NAME};

/// Commands saved in the bundle beside doctor's.
pub const EXTRA_COMMANDS: &[&[&str]] = &[&["iscsiadm", "-m", "session"], &["lsblk"]];

/// Log folders and files copied when they changed in the window.
const LOG_PATHS: &[&str] = &[
    "/var/log/libvirt",
    "/var/log/nova",
    "/var/log/kolla",
    "/var/log/cinder",
    "/var/log/ceph",
    "/var/log/openvswitch",
];

/// Syslog files, used when the journal cannot be read.
const SYSLOG_FILES: &[&str] = &["/var/log/messages", "/var/log/syslog", "/var/log/kern.log", "/var/log/daemon.log"];

/// How collect runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// How far back logs go.
    pub since: Duration,
    /// Most bytes of logs (before compression).
    pub max_bytes: u64,
    /// Per command (journalctl and file reads get four times this).
    pub command_timeout: Duration,
    /// For the whole collection.
    pub deadline: Duration,
    pub run_commands: bool,
    /// Where /var/log is (tests point it elsewhere).
    pub log_root: String,
    /// Read the journal with journalctl.
    pub journal: bool,
    /// The node's /proc, /sys, /etc and /var/log are under this directory (a container's `/host`):
    /// state is read through [`Root::Host`], logs and files under it, the journal from its
    /// `var/log/journal`.
    pub host_root: Option<std::path::PathBuf>,
    /// The node's name, when the system's is not it (a container sees its pod's).
    pub host: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            since: Duration::from_secs(24 * 3600),
            max_bytes: 512 << 20,
            command_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(180),
            run_commands: true,
            log_root: String::new(),
            journal: true,
            host_root: None,
            host: None,
        }
    }
}

/// One file of the bundle, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub what: String,
    /// The file or command it came from.
    pub source: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub elapsed_ms: u64,
    pub bytes: u64,
    /// Only the newest (logs) or first (commands) bytes were kept.
    pub cut: bool,
}

/// Something not collected, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedEntry {
    pub source: String,
    pub reason: String,
}

/// The bundle's manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub schema: &'static str,
    pub host: String,
    pub collected_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    pub since: String,
    pub rootline_version: &'static str,
    pub max_bytes: u64,
    pub command_timeout_ms: u64,
    pub deadline_ms: u64,
    pub elapsed_ms: u64,
    pub doctor_status: doctor::Health,
    pub files: Vec<FileEntry>,
    pub skipped: Vec<SkippedEntry>,
}

struct Writer<W: Write> {
    tar: tar::Builder<W>,
    top: String,
    mtime: u64,
    files: Vec<FileEntry>,
    /// Commands that printed nothing.
    empty: Vec<SkippedEntry>,
    log_bytes: u64,
}

impl<W: Write> Writer<W> {
    fn add(&mut self, rel: &str, data: &[u8], mtime: Option<u64>) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime.unwrap_or(self.mtime));
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, format!("{}/{rel}", self.top), data)
    }

    fn link(&mut self, rel: &str, target: &str) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Symlink);
        self.tar.append_link(&mut h, format!("{}/{rel}", self.top), target)
    }

    fn file(&mut self, rel: &str, what: &str, source: &str, data: &[u8], status: Status) -> io::Result<()> {
        self.add(rel, data, None)?;
        self.files.push(FileEntry {
            path: rel.into(),
            what: what.into(),
            source: source.into(),
            status,
            exit_code: None,
            elapsed_ms: 0,
            bytes: data.len() as u64,
            cut: false,
        });
        Ok(())
    }

    /// Adds a command's output; one without output is only listed (with its status) in `skipped`.
    fn command(&mut self, rel: &str, what: &str, run: &CommandRun, started_at: u64) -> io::Result<()> {
        if run.stdout.is_empty() {
            let mut reason = format!("no output: {}", run.describe());
            if let Some(first) = String::from_utf8_lossy(&run.stderr).lines().find(|l| !l.trim().is_empty()) {
                reason.push_str(&format!(" ({})", first.trim()));
            }
            self.empty.push(SkippedEntry { source: run.line(), reason });
            return Ok(());
        }
        // The output's time is when the command ran: that is the snapshot's time for analyze.
        self.add(rel, &run.stdout, Some(started_at))?;
        self.files.push(FileEntry {
            path: rel.into(),
            what: what.into(),
            source: run.line(),
            status: run.status,
            exit_code: run.exit_code,
            elapsed_ms: run.elapsed_ms,
            bytes: run.stdout.len() as u64,
            cut: run.cut,
        });
        Ok(())
    }
}

/// A progress line (shown on a terminal by the caller).
pub type Progress<'a> = &'a mut dyn FnMut(&str);

fn now_secs() -> u64 {
    jiff::Timestamp::now().as_second().max(0) as u64
}

/// The bundle's top folder name (`rootline-<host>-20261129T023011Z`).
pub fn bundle_name(host: &str) -> String {
    let ts = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let safe: String =
        host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    format!("rootline-{safe}-{ts}")
}

/// Collects the live node into `out` (a `.tar.zst` stream).
pub fn collect(out: impl Write, opts: &Options, progress: Progress<'_>) -> io::Result<Manifest> {
    let started = Instant::now();
    let deadline = started + opts.deadline;
    let left =
        |cap: Duration| cap.min(deadline.saturating_duration_since(Instant::now())).max(Duration::from_millis(200));
    let (root, prefix) = match &opts.host_root {
        Some(d) => (Root::Host(d.clone()), d.display().to_string().trim_end_matches('/').to_string()),
        None => (Root::Live, String::new()),
    };
    let mut opts = opts.clone();
    if opts.log_root.is_empty() {
        opts.log_root = prefix.clone();
    }
    let opts = &opts;
    let host = opts.host.clone().or_else(|| root.text("/proc/sys/kernel/hostname")).unwrap_or_else(|| "unknown".into());
    let top = bundle_name(&host);
    let enc = zstd::Encoder::new(out, 3)?.auto_finish();
    let mut w = Writer {
        tar: tar::Builder::new(enc),
        top,
        mtime: now_secs(),
        files: Vec::new(),
        empty: Vec::new(),
        log_bytes: 0,
    };
    let mut skipped = Vec::new();

    progress("checking the node (doctor)");
    let checked_at = now_secs();
    let dopts = doctor::Options {
        command_timeout: left(opts.command_timeout),
        deadline: left(opts.command_timeout + Duration::from_secs(5)),
        run_commands: opts.run_commands,
        ..Default::default()
    };
    let mut report = doctor::check(&root, None, &dopts);
    report.host = host.clone();
    for c in &report.commands {
        let name = exec::output_name(&c.argv.iter().map(String::as_str).collect::<Vec<_>>());
        w.command(&format!("commands/{name}"), "command output", c, checked_at)?;
    }
    if opts.run_commands {
        progress("running the other commands");
        let at = now_secs();
        let argvs: Vec<Vec<&str>> = EXTRA_COMMANDS.iter().map(|c| c.to_vec()).collect();
        for c in exec::run_all(&argvs, left(opts.command_timeout)) {
            let name = exec::output_name(&c.argv.iter().map(String::as_str).collect::<Vec<_>>());
            w.command(&format!("commands/{name}"), "command output", &c, at)?;
        }
    }
    let json = serde_json::to_vec_pretty(&report).map_err(io::Error::other)?;
    w.file("rootline-doctor.json", "rootline doctor --json at collection time", "rootline doctor", &json, Status::Ok)?;

    progress("capturing /proc and /sys state");
    state(&mut w, &root, &report)?;

    progress("reading the kernel ring buffer");
    match read_kmsg(Duration::from_secs(5)) {
        Ok(b) if !b.is_empty() => {
            w.log_bytes += b.len() as u64;
            w.file("kernel/kmsg.txt", "kernel ring buffer", "/dev/kmsg", &b, Status::Ok)?;
        }
        r => {
            let why = match r {
                Err(e) => format!("/dev/kmsg: {e}"),
                Ok(_) => "/dev/kmsg: empty".into(),
            };
            skipped.push(SkippedEntry { source: "/dev/kmsg".into(), reason: format!("{why}; used dmesg instead") });
            let at = now_secs();
            let c = exec::run_with(&["dmesg"], left(opts.command_timeout), Keep::Tail(64 << 20));
            w.log_bytes += c.stdout.len() as u64;
            w.command("kernel/dmesg.txt", "kernel ring buffer", &c, at)?;
        }
    }

    let since_ts = jiff::Timestamp::now() - jiff::SignedDuration::try_from(opts.since).unwrap_or_default();
    let mut have_journal = false;
    if opts.journal {
        progress("reading the journal");
        let at = now_secs();
        let since_arg = format!("--since=@{}", since_ts.as_second());
        let budget = (opts.max_bytes.saturating_sub(w.log_bytes) / 2).max(1 << 20) as usize;
        let dir_arg = format!("--directory={prefix}/var/log/journal");
        let mut argv = vec!["journalctl", "--no-pager", "-o", "short-iso-precise", &since_arg];
        if !prefix.is_empty() {
            argv.push(&dir_arg);
        }
        let c = exec::run_with(&argv, left(opts.command_timeout * 6), Keep::Tail(budget));
        match c.status {
            Status::Ok if !c.stdout.is_empty() && !c.stdout.starts_with(b"-- No entries --") => {
                have_journal = true;
                w.log_bytes += c.stdout.len() as u64;
                w.command("logs/journal.txt", "systemd journal", &c, at)?;
            }
            _ => skipped.push(SkippedEntry {
                source: c.line(),
                reason: if c.status == Status::Ok {
                    "no journal entries in the window; read the syslog files instead".into()
                } else {
                    format!("{}; read the syslog files instead", c.describe())
                },
            }),
        }
    }
    progress("copying log files");
    let mut files: Vec<(String, u64, u64)> = Vec::new(); // (path, size, mtime)
    let mut roots: Vec<String> = LOG_PATHS.iter().map(|p| format!("{}{p}", opts.log_root)).collect();
    if !have_journal {
        roots.extend(SYSLOG_FILES.iter().map(|p| format!("{}{p}", opts.log_root)));
        roots.push(format!("{}/var/log/multipath.log", opts.log_root));
    }
    for r in &roots {
        walk_logs(std::path::Path::new(r), since_ts.as_second().max(0) as u64, &mut files, &mut skipped, 0);
    }
    // Newest first, so the budget goes to what changed last.
    files.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for (path, size, mtime) in files {
        let budget = opts.max_bytes.saturating_sub(w.log_bytes);
        if budget == 0 {
            skipped.push(SkippedEntry {
                source: path,
                reason: format!("size budget of {} bytes used up", opts.max_bytes),
            });
            continue;
        }
        if Instant::now() >= deadline {
            skipped.push(SkippedEntry { source: path, reason: "collection deadline reached".into() });
            continue;
        }
        let compressed = [".gz", ".xz", ".zst", ".bz2"].iter().any(|e| path.ends_with(e));
        if compressed && size > budget {
            skipped.push(SkippedEntry {
                source: path,
                reason: format!("compressed file of {size} bytes exceeds the budget left"),
            });
            continue;
        }
        let keep = budget.min(64 << 20) as usize;
        let c = if compressed {
            exec::run_with(&["cat", &path], left(opts.command_timeout * 4), Keep::Head(keep))
        } else {
            exec::run_with(&["tail", "-c", &keep.to_string(), &path], left(opts.command_timeout * 4), Keep::Tail(keep))
        };
        if c.status != Status::Ok {
            skipped.push(SkippedEntry { source: path, reason: c.describe() });
            continue;
        }
        let mut c = c;
        if size > keep as u64 && !compressed && !c.cut {
            // tail -c gave exactly the bytes kept: the first line is only the end of one.
            exec::start_at_line(&mut c.stdout);
            c.cut = true;
        }
        w.log_bytes += c.stdout.len() as u64;
        let rel = format!("logs{}", path.strip_prefix(&opts.log_root).unwrap_or(&path));
        w.command(&rel, "log file", &c, mtime)?;
    }

    progress("host facts");
    w.file("etc/hostname", "host name", "/proc/sys/kernel/hostname", format!("{host}\n").as_bytes(), Status::Ok)?;
    for (src, rel, what) in [
        ("/etc/localtime", "etc/localtime", "time zone"),
        ("/etc/multipath.conf", "etc/multipath.conf", "multipath configuration"),
    ] {
        // Through a child under a timeout like every other file: /etc may sit on a blocked disk.
        let src = format!("{prefix}{src}");
        if std::path::Path::new(&src).exists() {
            let at = now_secs();
            let c = exec::run_with(&["cat", &src], left(opts.command_timeout), Keep::Head(1 << 20));
            w.command(rel, what, &c, at)?;
        }
    }

    let boot_time = root.text("/proc/stat").and_then(|s| {
        let bt: i64 = s.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()?;
        jiff::Timestamp::from_second(bt).ok().map(|t| t.to_string())
    });
    let manifest = Manifest {
        schema: "rootline.bundle/v1",
        host,
        collected_at: jiff::Timestamp::from_second(w.mtime as i64).map(|t| t.to_string()).unwrap_or_default(),
        boot_time,
        kernel: root.text("/proc/sys/kernel/osrelease"),
        since: since_ts.round(jiff::Unit::Second).unwrap_or(since_ts).to_string(),
        rootline_version: env!("CARGO_PKG_VERSION"),
        max_bytes: opts.max_bytes,
        command_timeout_ms: opts.command_timeout.as_millis() as u64,
        deadline_ms: opts.deadline.as_millis() as u64,
        elapsed_ms: started.elapsed().as_millis() as u64,
        doctor_status: report.status,
        files: std::mem::take(&mut w.files),
        skipped: std::mem::take(&mut w.empty).into_iter().chain(skipped).collect(),
    };
    let mj = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    w.add(MANIFEST_NAME, &mj, None)?;
    w.tar.into_inner()?.flush()?;
    Ok(manifest)
}

/// Files under `dir` (or `dir` itself) changed since `since` (seconds), depth-limited.
fn walk_logs(
    p: &std::path::Path,
    since: u64,
    out: &mut Vec<(String, u64, u64)>,
    skipped: &mut Vec<SkippedEntry>,
    depth: u32,
) {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return };
    if meta.is_dir() {
        if depth > 4 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(p) else {
            skipped.push(SkippedEntry { source: p.display().to_string(), reason: "cannot list".into() });
            return;
        };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            walk_logs(&e, since, out, skipped, depth + 1);
        }
    } else if meta.is_file() {
        use std::os::unix::fs::MetadataExt;
        let mtime = meta.mtime().max(0) as u64;
        if mtime >= since && meta.len() > 0 {
            out.push((p.display().to_string(), meta.len(), mtime));
        }
    }
}

/// Reads every record in the kernel ring buffer from `/dev/kmsg` without blocking.
fn read_kmsg(limit: Duration) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open("/dev/kmsg")?;
    let started = Instant::now();
    let mut out = Vec::new();
    let mut rec = vec![0u8; 16 * 1024];
    while started.elapsed() < limit && out.len() < 64 << 20 {
        match f.read(&mut rec) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&rec[..n]);
                if !out.ends_with(b"\n") {
                    out.push(b'\n');
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            // A record was overwritten while reading (EPIPE): go on with the next one.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    Ok(out)
}

/// The /proc and /sys files doctor reads, for `doctor --root`.
fn state<W: Write>(w: &mut Writer<W>, root: &Root, report: &Report) -> io::Result<()> {
    let copy = |w: &mut Writer<W>, path: &str| -> io::Result<()> {
        if let Ok(b) = root.read(path) {
            w.add(path.trim_start_matches('/'), &b, None)?;
        }
        Ok(())
    };
    for p in [
        "/proc/stat",
        "/proc/uptime",
        "/proc/self/mountinfo",
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/osrelease",
        "/proc/sys/kernel/hung_task_timeout_secs",
        "/proc/sys/kernel/hung_task_panic",
    ] {
        copy(w, p)?;
    }
    for t in &report.tasks {
        let dir = match t.tid {
            Some(tid) => format!("/proc/{}/task/{tid}", t.pid),
            None => format!("/proc/{}", t.pid),
        };
        // A thread's process needs its own stat line too.
        if t.tid.is_some() {
            copy(w, &format!("/proc/{}/stat", t.pid))?;
        }
        for f in ["stat", "comm", "wchan", "stack"] {
            copy(w, &format!("{dir}/{f}"))?;
        }
        if !t.cmdline_raw.is_empty() {
            w.add(&format!("proc/{}/cmdline", t.pid), &t.cmdline_raw, None)?;
        }
    }
    // The open files doctor read of the tasks in D (once per process: its threads share them), as
    // links in the tree and, for analyze's alias graph, as `/proc/PID/fd/N -> FILE` lines; and what
    // is mounted where.
    let mut fds = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in report.tasks.iter().filter(|t| t.state == "D" && seen.insert(t.pid)) {
        for (name, target) in &t.links {
            w.link(&format!("proc/{}/{name}", t.pid), target)?;
            fds.push_str(&format!("/proc/{}/{name} -> {target}\n", t.pid));
        }
    }
    if !fds.is_empty() {
        w.file(
            "snapshots/proc-pid-fd.txt",
            "open files of the tasks in D state",
            "/proc/PID/fd",
            fds.as_bytes(),
            Status::Ok,
        )?;
    }
    if let Some(m) = root.read("/proc/1/mounts").ok().or_else(|| root.read("/proc/self/mounts").ok()) {
        w.file("snapshots/mounts.txt", "mounted file systems", "/proc/1/mounts", &m, Status::Ok)?;
    }
    // The process table for analyze: one snapshot file of stat lines.
    let mut lines = report.stat_lines.join("\n");
    lines.push('\n');
    w.file(
        crate::tasks::SNAPSHOT.trim_start_matches('/'),
        "/proc/PID/stat of every process",
        "/proc/*/stat",
        lines.as_bytes(),
        Status::Ok,
    )?;
    let virtual_disk = |d: &str| ["loop", "ram", "zram", "nbd"].iter().any(|p| d.starts_with(p));
    for dev in root.list("/sys/block").into_iter().filter(|d| !virtual_disk(d)) {
        let base = format!("/sys/block/{dev}");
        for f in [
            "dev",
            "size",
            "dm/name",
            "dm/uuid",
            "dm/suspended",
            "device/state",
            "device/vendor",
            "device/model",
            "device/timeout",
        ] {
            copy(w, &format!("{base}/{f}"))?;
        }
        for sub in ["slaves", "holders"] {
            for n in root.list(&format!("{base}/{sub}")) {
                w.link(&format!("sys/block/{dev}/{sub}/{n}"), &format!("../../{n}"))?;
            }
        }
    }
    Ok(())
}

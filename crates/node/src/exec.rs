//! External commands under a hard timeout, each in its own process group.
//!
//! On a node with tasks in D state, `multipath -ll`, `virsh list` or `ps` can block forever. Every
//! command here runs with stdin closed, `LC_ALL=C`, in a new process group; when its time is up the
//! whole group gets SIGKILL and rootline moves on. A child stuck in D state does not die on SIGKILL
//! until its I/O ends, so rootline never waits for it: a reaper thread does, and the output read so
//! far is kept.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The most bytes kept of one command's stdout (the rest is counted as cut).
pub const MAX_OUTPUT: usize = 16 << 20;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Exited 0.
    Ok,
    /// Exited with a non-zero code or was killed by a signal.
    Exit,
    /// Still running at its deadline: killed (with its process group).
    Timeout,
    /// Not installed (not found in PATH).
    Missing,
    /// Could not be started for another reason.
    Error,
    /// Read from a captured bundle instead of run.
    Captured,
}

/// One command's run.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRun {
    pub argv: Vec<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// After a timeout: whether the killed process group had exited when rootline moved on (a task
    /// in D state only dies when its I/O ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaped: Option<bool>,
    /// Output beyond the kept amount was dropped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
}

impl CommandRun {
    /// A run of `argv` that ended as `status` with `stdout` (a captured output, or one to fill in).
    pub fn new(argv: &[&str], status: Status, stdout: Vec<u8>) -> CommandRun {
        CommandRun {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            status,
            exit_code: None,
            elapsed_ms: 0,
            error: None,
            reaped: None,
            cut: false,
            stdout,
            stderr: Vec::new(),
        }
    }

    /// The command as one line (`multipathd show maps`).
    pub fn line(&self) -> String {
        self.argv.join(" ")
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// What the run says about the command, for people (`ok in 0.02 s`, `timed out after 5 s`).
    pub fn describe(&self) -> String {
        let secs = self.elapsed_ms as f64 / 1000.0;
        match self.status {
            Status::Ok => format!("ok in {secs:.2} s"),
            Status::Exit => match self.exit_code {
                Some(c) => format!("exit status {c} in {secs:.2} s"),
                None => format!("killed by a signal after {secs:.2} s"),
            },
            Status::Timeout => format!(
                "timed out after {secs:.1} s, killed{}",
                if self.reaped == Some(false) { " (still not gone: blocked in the kernel)" } else { "" }
            ),
            Status::Missing => "not installed".to_string(),
            Status::Error => format!("could not start: {}", self.error.as_deref().unwrap_or("unknown error")),
            Status::Captured => "read from the bundle".to_string(),
        }
    }
}

/// How much of a command's stdout is kept.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// The first N bytes.
    Head(usize),
    /// The last N bytes, from a line start (a log's newest lines).
    Tail(usize),
}

/// Runs `argv` with a hard `timeout`, keeping the first [`MAX_OUTPUT`] bytes of its output.
pub fn run(argv: &[&str], timeout: Duration) -> CommandRun {
    run_with(argv, timeout, Keep::Head(MAX_OUTPUT))
}

/// Runs `argv` with a hard `timeout`, keeping what `keep` says of its stdout.
pub fn run_with(argv: &[&str], timeout: Duration, keep: Keep) -> CommandRun {
    let started = Instant::now();
    let mut run = CommandRun::new(argv, Status::Error, Vec::new());
    let Some((prog, args)) = argv.split_first() else {
        run.error = Some("empty command".into());
        return run;
    };
    use std::os::unix::process::CommandExt;
    let spawned = Command::new(prog)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            run.status = Status::Missing;
            return run;
        }
        Err(e) => {
            run.error = Some(e.to_string());
            return run;
        }
    };
    let out = drain(child.stdout.take(), keep);
    let err = drain(child.stderr.take(), Keep::Head(64 * 1024));
    let deadline = started + timeout;
    let finished = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                run.error = Some(e.to_string());
                break None;
            }
        }
    };
    match finished {
        Some(st) => {
            run.exit_code = st.code();
            run.status = if st.success() { Status::Ok } else { Status::Exit };
            // The pipes close when the group's last writer exits; a grandchild may keep them.
            wait_drained(&out, Duration::from_millis(200));
            wait_drained(&err, Duration::from_millis(200));
        }
        None => {
            run.status = Status::Timeout;
            kill_group(&child);
            run.reaped = Some(reap(child, Duration::from_millis(300)));
        }
    }
    run.elapsed_ms = started.elapsed().as_millis() as u64;
    run.cut = out.cut.load(std::sync::atomic::Ordering::Relaxed);
    run.stdout = take(&out);
    if let (Keep::Tail(n), true) = (keep, run.cut) {
        let b = &mut run.stdout;
        if b.len() > n {
            b.drain(..b.len() - n);
        }
        start_at_line(b);
    }
    run.stderr = take(&err);
    run
}

/// Drops the partial first line of a tail cut out of a longer text.
pub fn start_at_line(b: &mut Vec<u8>) {
    match b.iter().position(|&c| c == b'\n') {
        Some(nl) => {
            b.drain(..=nl);
        }
        None => b.clear(),
    }
}

struct Drain {
    buf: Mutex<Vec<u8>>,
    done: Mutex<bool>,
    cut: std::sync::atomic::AtomicBool,
}

fn drain(pipe: Option<impl Read + Send + 'static>, keep: Keep) -> Arc<Drain> {
    let d = Arc::new(Drain {
        buf: Mutex::new(Vec::new()),
        done: Mutex::new(pipe.is_none()),
        cut: std::sync::atomic::AtomicBool::new(false),
    });
    if let Some(mut p) = pipe {
        let d2 = d.clone();
        // Detached: if a killed child stays in D state with the pipe open, this thread waits on it,
        // not rootline.
        let _ = std::thread::Builder::new().name("cmd-output".into()).spawn(move || {
            let mut chunk = [0u8; 64 * 1024];
            loop {
                match p.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut b = d2.buf.lock().unwrap_or_else(|e| e.into_inner());
                        match keep {
                            Keep::Head(cap) => {
                                let room = cap.saturating_sub(b.len());
                                if n > room {
                                    d2.cut.store(true, std::sync::atomic::Ordering::Relaxed);
                                }
                                b.extend_from_slice(&chunk[..n.min(room)]);
                            }
                            Keep::Tail(cap) => {
                                b.extend_from_slice(&chunk[..n]);
                                // Trim in large steps, not on every read.
                                if b.len() > cap.saturating_mul(2).max(1 << 20) {
                                    let extra = b.len() - cap;
                                    b.drain(..extra);
                                    d2.cut.store(true, std::sync::atomic::Ordering::Relaxed);
                                } else if b.len() > cap {
                                    d2.cut.store(true, std::sync::atomic::Ordering::Relaxed);
                                }
                            }
                        }
                    }
                }
            }
            *d2.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        });
    }
    d
}

fn wait_drained(d: &Drain, grace: Duration) {
    let until = Instant::now() + grace;
    while !*d.done.lock().unwrap_or_else(|e| e.into_inner()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn take(d: &Drain) -> Vec<u8> {
    std::mem::take(&mut *d.buf.lock().unwrap_or_else(|e| e.into_inner()))
}

fn kill_group(child: &Child) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals the process group we created for this child.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Waits up to `grace` for the killed child; if it is still there (blocked in the kernel), hands it
/// to a thread that reaps it whenever it dies. Returns whether it was reaped in time.
fn reap(mut child: Child, grace: Duration) -> bool {
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::thread::Builder::new().name("reaper".into()).spawn(move || {
        let _ = child.wait();
    });
    false
}

/// Runs several commands at once, each with its own timeout; results in the order given.
pub fn run_all(cmds: &[Vec<&str>], timeout: Duration) -> Vec<CommandRun> {
    std::thread::scope(|s| {
        let handles: Vec<_> = cmds.iter().map(|argv| s.spawn(move || run(argv, timeout))).collect();
        handles.into_iter().map(|h| h.join().expect("command thread")).collect()
    })
}

/// The file name a command's output is kept under in a bundle (`multipath -ll` ->
/// `multipath_-ll.txt`), which is also how `rootline analyze` recognises it.
pub fn output_name(argv: &[&str]) -> String {
    let mut s = argv.join("_").replace('/', "-");
    s.push_str(".txt");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_exit_missing() {
        let r = run(&["sh", "-c", "echo hello; echo oops >&2"], Duration::from_secs(10));
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.stdout, b"hello\n");
        assert_eq!(r.stderr, b"oops\n");
        let r = run(&["sh", "-c", "exit 3"], Duration::from_secs(10));
        assert_eq!((r.status, r.exit_code), (Status::Exit, Some(3)));
        let r = run(&["rootline-no-such-command-xyz"], Duration::from_secs(1));
        assert_eq!(r.status, Status::Missing);
    }

    #[test]
    fn timeout_kills_the_whole_group_and_keeps_output() {
        let t0 = Instant::now();
        // The grandchild `sleep` keeps the pipe open: only a group kill ends it.
        let r = run(&["sh", "-c", "echo started; sleep 30 & sleep 30; echo never"], Duration::from_millis(300));
        assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}", t0.elapsed());
        assert_eq!(r.status, Status::Timeout);
        assert_eq!(r.reaped, Some(true));
        assert_eq!(String::from_utf8_lossy(&r.stdout), "started\n");
        assert!(r.describe().starts_with("timed out after"));
    }

    #[test]
    fn commands_run_in_parallel() {
        // Each command waits for the other's mark: run one after the other, the first would time out.
        let d = tempfile::tempdir().unwrap();
        let a = format!("touch {0}/a; while [ ! -e {0}/b ]; do sleep 0.01; done; echo a", d.path().display());
        let b = format!("touch {0}/b; while [ ! -e {0}/a ]; do sleep 0.01; done; echo b", d.path().display());
        let rs = run_all(&[vec!["sh", "-c", &a], vec!["sh", "-c", &b]], Duration::from_secs(20));
        assert_eq!(rs.iter().map(|r| r.status).collect::<Vec<_>>(), vec![Status::Ok, Status::Ok]);
        assert_eq!((rs[0].stdout.as_slice(), rs[1].stdout.as_slice()), (&b"a\n"[..], &b"b\n"[..]));
    }

    #[test]
    fn tail_keeps_the_newest_whole_lines() {
        let r = run_with(
            &["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done"],
            Duration::from_secs(20),
            Keep::Tail(100),
        );
        assert!(r.cut);
        let s = String::from_utf8(r.stdout).unwrap();
        assert!(s.len() <= 100 && s.ends_with("line-2999\n"), "{s:?}");
        assert!(s.starts_with("line-"), "{s:?}");
        let r = run_with(&["sh", "-c", "echo 0123456789"], Duration::from_secs(20), Keep::Head(4));
        assert_eq!((r.cut, r.stdout.as_slice()), (true, &b"0123"[..]));
    }

    #[test]
    fn output_names_match_the_bundle_layout() {
        assert_eq!(output_name(&["multipath", "-ll"]), "multipath_-ll.txt");
        assert_eq!(output_name(&["dmsetup", "info", "-c"]), "dmsetup_info_-c.txt");
    }
}

//! Tasks from `/proc`: every process's state, and for the ones that matter (D state, zombies, a
//! zombie's parent) where they wait, their kernel stack, their open devices and files.
//!
//! `/proc/PID/stat`, `wchan`, `stack` and fd links do not take the task's memory map lock; `cmdline`
//! does, and a task stuck in a page fault holds it, so `cmdline` is read through
//! [`Root::read_guarded`] and reported as timed out instead of waited on.

use std::time::Duration;

use serde::Serialize;

use crate::root::{Guarded, Root};

/// Where a bundle keeps the stat line of every process (`rootline collect`).
pub const SNAPSHOT: &str = "/snapshots/proc-pid-stat.txt";

/// `PF_KTHREAD` in `/proc/PID/stat` flags.
const PF_KTHREAD: u64 = 0x0020_0000;

/// One line of `/proc/PID/stat`, the fields rootline uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    pub flags: u64,
    /// Start time, clock ticks after boot.
    pub start_ticks: u64,
}

/// Parses a `/proc/PID/stat` line. The name is in parentheses and may itself hold spaces and `)`.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    let comm = line.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = line[close + 1..].split_whitespace().collect();
    // rest[0] is field 3 (state): ppid 4, flags 9, starttime 22.
    Some(Stat {
        pid,
        comm,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        flags: rest.get(6).and_then(|f| f.parse().ok()).unwrap_or(0),
        start_ticks: rest.get(19).and_then(|f| f.parse().ok()).unwrap_or(0),
    })
}

/// A task worth reporting, with what /proc says about it.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub pid: u32,
    /// The thread id when this is a thread other than the process's main one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    pub comm: String,
    pub state: String,
    pub ppid: u32,
    pub kernel_thread: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wchan: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// The cmdline as read (NUL-separated arguments).
    #[serde(skip)]
    pub cmdline_raw: Vec<u8>,
    /// The cmdline read did not finish in time (the task holds its memory map lock).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cmdline_timed_out: bool,
    /// Targets of its open file descriptors and working directory, when readable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The links those came from, as read: (`cwd` or `fd/N`, target), of the task's process.
    #[serde(skip)]
    pub links: Vec<(String, String)>,
    /// The file its `stat` line came from.
    pub evidence: String,
    #[serde(skip)]
    pub stat_line: String,
}

/// The process table at one moment: every task's stat line, and details of the notable ones.
#[derive(Debug, Default)]
pub struct Table {
    pub all: Vec<Stat>,
    /// D-state tasks (processes and threads), zombies, and zombies' parents.
    pub notable: Vec<Task>,
    /// Raw stat lines of every process and every D-state thread, as read.
    pub lines: Vec<String>,
}

impl Table {
    pub fn by_pid(&self, pid: u32) -> Option<&Stat> {
        self.all.iter().find(|s| s.pid == pid)
    }
}

/// How much detail to read per notable task.
#[derive(Debug, Clone, Copy)]
pub struct Detail {
    pub cmdline_timeout: Duration,
    pub max_files: usize,
}

impl Default for Detail {
    fn default() -> Self {
        Detail { cmdline_timeout: Duration::from_millis(500), max_files: 256 }
    }
}

/// Reads the process table.
pub fn scan(root: &Root, detail: Detail) -> Table {
    let mut t = Table::default();
    let mut notable: Vec<(String, Stat, Option<u32>)> = Vec::new();
    // rootline's own threads (blocked reads it gave up on) are not the node's problem.
    let me = root.is_live().then(std::process::id);
    for name in root.list("/proc") {
        let Ok(pid) = name.parse::<u32>() else { continue };
        if Some(pid) == me {
            continue;
        }
        let path = format!("/proc/{pid}/stat");
        let Some(line) = root.text(&path) else { continue };
        let Some(st) = parse_stat(&line) else { continue };
        t.lines.push(line);
        if st.state == 'D' || st.state == 'Z' {
            notable.push((format!("/proc/{pid}"), st.clone(), None));
        }
        // Threads: a qemu process may sleep in its main thread while an I/O thread is in D.
        if st.state != 'Z' {
            for tid in root.list(&format!("/proc/{pid}/task")) {
                let Ok(tid) = tid.parse::<u32>() else { continue };
                if tid == pid {
                    continue;
                }
                let tdir = format!("/proc/{pid}/task/{tid}");
                let Some(tl) = root.text(&format!("{tdir}/stat")) else { continue };
                if let Some(ts) = parse_stat(&tl) {
                    if ts.state == 'D' {
                        t.lines.push(tl);
                        notable.push((tdir, Stat { ppid: st.ppid, ..ts }, Some(tid)));
                    }
                }
            }
        }
        t.all.push(st);
    }
    // A bundle keeps details only of the notable tasks; its snapshot has every process's line.
    if !root.is_live() {
        if let Some(snap) = root.text(SNAPSHOT) {
            for st in snap.lines().filter_map(parse_stat) {
                if t.by_pid(st.pid).is_none() {
                    t.all.push(st);
                }
            }
        }
    }
    // Zombies' parents, whatever their state.
    let parents: Vec<u32> = notable.iter().filter(|(_, s, _)| s.state == 'Z').map(|(_, s, _)| s.ppid).collect();
    for ppid in parents {
        if notable.iter().any(|(_, s, tid)| s.pid == ppid && tid.is_none()) {
            continue;
        }
        if let Some(st) = t.by_pid(ppid).cloned() {
            notable.push((format!("/proc/{ppid}"), st, None));
        }
    }
    t.notable = notable.into_iter().map(|(dir, st, tid)| details(root, &dir, st, tid, detail)).collect();
    t
}

fn details(root: &Root, dir: &str, st: Stat, tid: Option<u32>, detail: Detail) -> Task {
    let stat_line = root.text(&format!("{dir}/stat")).unwrap_or_default();
    let wchan = root.text(&format!("{dir}/wchan")).filter(|w| !w.is_empty() && w != "0");
    let stack = root
        .text(&format!("{dir}/stack"))
        .map(|s| s.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default();
    let (mut cmdline, mut cmdline_raw, mut cmdline_timed_out) = (None, Vec::new(), false);
    if st.state != 'Z' && st.flags & PF_KTHREAD == 0 {
        let proc_dir = format!("/proc/{}", st.pid);
        match root.read_guarded(&format!("{proc_dir}/cmdline"), detail.cmdline_timeout) {
            Guarded::Read(b) if !b.is_empty() => {
                let s: Vec<String> = b
                    .split(|&c| c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                cmdline = Some(s.join(" "));
                cmdline_raw = b;
            }
            Guarded::TimedOut => cmdline_timed_out = true,
            _ => {}
        }
    }
    let mut links = Vec::new();
    if st.state == 'D' {
        let proc_dir = format!("/proc/{}", st.pid);
        let fds = root.list(&format!("{proc_dir}/fd")).into_iter().take(detail.max_files).map(|fd| format!("fd/{fd}"));
        for name in std::iter::once("cwd".to_string()).chain(fds) {
            if let Some(target) = root.link(&format!("{proc_dir}/{name}")) {
                links.push((name, target));
            }
        }
    }
    let mut files: Vec<String> = Vec::new();
    for (_, target) in &links {
        if target.starts_with('/') && !files.contains(target) {
            files.push(target.clone());
        }
    }
    Task {
        pid: st.pid,
        tid,
        comm: st.comm,
        state: st.state.to_string(),
        ppid: st.ppid,
        kernel_thread: st.flags & PF_KTHREAD != 0 || st.ppid == 2 || st.pid == 2,
        wchan,
        stack,
        cmdline,
        cmdline_raw,
        cmdline_timed_out,
        files,
        links,
        evidence: format!("{dir}/stat"),
        stat_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names() {
        let s = parse_stat("275 (jbd2/dm-0-8) D 2 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 380 0 0").unwrap();
        assert_eq!((s.pid, s.comm.as_str(), s.state, s.ppid, s.start_ticks), (275, "jbd2/dm-0-8", 'D', 2, 380));
        assert_ne!(s.flags & PF_KTHREAD, 0);
        let s = parse_stat("9 (a) b) (c) Z 8 9 9 0 -1 4194316").unwrap();
        assert_eq!((s.comm.as_str(), s.state, s.ppid), ("a) b) (c", 'Z', 8));
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("12 (x)").is_none());
    }

    #[test]
    fn live_scan_sees_the_parent_not_itself() {
        let t = scan(&Root::Live, Detail::default());
        let parent = std::os::unix::process::parent_id();
        assert!(t.by_pid(parent).is_some(), "parent pid {parent} missing from the table");
        assert!(t.by_pid(std::process::id()).is_none(), "rootline lists itself");
        assert!(t.lines.len() >= t.all.len());
    }
}

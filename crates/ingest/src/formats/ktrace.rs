//! Grouping of multi-line kernel reports (hung tasks, soft lockups, oopses, warnings, OOM dumps).
//!
//! The kernel prints a report as many printk lines; rootline keeps the report as one event whose
//! message is the header line followed by the rest (the "Not tainted" line, the `task:` line, the call
//! trace between `<TASK>` and `</TASK>`, register dumps). Both the kernel ring buffer parser and the
//! syslog/journal parsers (which see the same lines with their own headers) use this state machine on
//! the message text after any `[uptime]` stamp.
//!
//! See: kernel/hung_task.c (`INFO: task %s:%d blocked for more than %ld seconds.`, and the older
//! header `task %s:%d blocked for more than ...`), kernel/sched/core.c `sched_show_task()`
//! (`task:%-15.15s state:%c ...`), lib/dump_stack.c, arch/x86/kernel/dumpstack.c.

use std::sync::LazyLock;

use memchr::memmem;

/// Whether a kernel message starts a report, continues the current one, or is ordinary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Starts a new multi-line report.
    Start,
    /// Continues the report in progress.
    Continue,
    /// An ordinary single-line message.
    Plain,
}

/// Tracks whether a report is in progress.
#[derive(Debug, Default, Clone)]
pub struct ReportState {
    active: bool,
    in_task_block: bool,
}

impl ReportState {
    /// Classifies the next kernel message (text after any `[uptime]` stamp and caller id).
    pub fn classify(&mut self, msg: &[u8]) -> Role {
        if is_report_start(msg) {
            self.active = true;
            self.in_task_block = false;
            return Role::Start;
        }
        if !self.active {
            // A bare "Call Trace:" without a header still groups what follows under itself.
            if msg.starts_with(b"Call Trace:") {
                self.active = true;
                return Role::Start;
            }
            return Role::Plain;
        }
        let t = trim_start(msg);
        if t.starts_with(b"<TASK>") || t.starts_with(b"<IRQ>") {
            self.in_task_block = true;
            return Role::Continue;
        }
        if t.starts_with(b"</TASK>") {
            // The task block ends the report; lines after it are new messages.
            self.in_task_block = false;
            self.active = false;
            return Role::Continue;
        }
        if t.starts_with(b"</IRQ>") {
            return Role::Continue;
        }
        if self.in_task_block || is_continuation(msg) {
            return Role::Continue;
        }
        self.active = false;
        Role::Plain
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn is_report_start(m: &[u8]) -> bool {
    if is_fixed_header(m) {
        return true;
    }
    // OOM report: "qemu-system-x86 invoked oom-killer: gfp_mask=..." (searched on every kernel line,
    // so the searcher is built once, not per call as `memmem::find` does).
    static OOM: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b" invoked oom-killer: "));
    OOM.find(m).is_some()
}

/// Report headers that start the message.
const STARTS: &[&[u8]] = &[
    b"INFO: task ",
    b"INFO: rcu_sched self-detected stall",
    b"INFO: rcu_preempt self-detected stall",
    b"BUG: soft lockup",
    b"BUG: unable to handle",
    b"BUG: kernel NULL pointer",
    b"watchdog: BUG: soft lockup",
    b"------------[ cut here ]------------",
    b"Kernel panic - not syncing",
    b"general protection fault",
];

/// The first bytes of [`STARTS`] and of the old hung-task header (`task `).
const HEADER_FIRST: &[u8] = b"IBw-Kgt";

fn is_fixed_header(m: &[u8]) -> bool {
    // Most messages are turned away by their first byte, before any prefix comparison.
    if !m.first().is_some_and(|c| HEADER_FIRST.contains(c)) {
        return false;
    }
    if STARTS.iter().any(|s| m.starts_with(s)) {
        return true;
    }
    // Old hung-task header (before 4.x): "task qemu-system-x86:4242 blocked for more than 120 seconds."
    m.starts_with(b"task ") && memchr::memmem::find(m, b" blocked for more than ").is_some()
}

fn is_continuation(m: &[u8]) -> bool {
    if m.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
        return true;
    }
    const PREFIXES: &[&[u8]] = &[
        b"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"",
        b"Tainted:",
        b"Not tainted",
        b"task:",
        b"Call Trace:",
        b"CPU: ",
        b"Hardware name:",
        b"Workqueue:",
        b"RIP: ",
        b"RSP: ",
        b"RAX: ",
        b"RDX: ",
        b"RBP: ",
        b"R10: ",
        b"R13: ",
        b"FS: ",
        b"CS: ",
        b"CR2: ",
        b"DR0: ",
        b"DR3: ",
        b"Code: ",
        b"Modules linked in:",
        b"---[ end trace",
        b"Mem-Info:",
        b"active_anon:",
        b"Node ",
        b"Tasks state",
        b"[  pid  ]",
        b"oom-kill:",
        b"Showing busy workqueues",
        b"irq event stamp:",
        b"hardirqs last",
        b"softirqs last",
    ];
    PREFIXES.iter().any(|p| m.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hung_task_report_is_one_group() {
        let lines: &[&[u8]] = &[
            b"INFO: task jbd2/dm-0-8:275 blocked for more than 10 seconds.",
            b"      Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-2",
            b"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
            b"task:jbd2/dm-0-8     state:D stack:0     pid:275   ppid:2      flags:0x00004000",
            b"Call Trace:",
            b" <TASK>",
            b" __schedule+0x34d/0xa00",
            b" ? filemap_alloc_folio+0x100/0x100",
            b" </TASK>",
            b"device-mapper: multipath: 254:0: Failing path 8:0.",
        ];
        let mut st = ReportState::default();
        let roles: Vec<Role> = lines.iter().map(|l| st.classify(l)).collect();
        assert_eq!(roles[0], Role::Start);
        assert!(roles[1..9].iter().all(|r| *r == Role::Continue), "{roles:?}");
        assert_eq!(roles[9], Role::Plain);
    }

    #[test]
    fn header_first_bytes_cover_every_header() {
        assert!(STARTS.iter().all(|s| HEADER_FIRST.contains(&s[0])));
        for s in STARTS {
            assert!(is_fixed_header(s), "{}", String::from_utf8_lossy(s));
            assert!(!is_fixed_header(&s[1..]));
        }
    }

    #[test]
    fn old_header_and_plain_lines() {
        let mut st = ReportState::default();
        assert_eq!(st.classify(b"sd 0:0:0:0: [sda] tag#0 FAILED Result: hostbyte=DID_NO_CONNECT"), Role::Plain);
        assert_eq!(st.classify(b"task qemu-system-x86:4242 blocked for more than 120 seconds."), Role::Start);
        assert_eq!(st.classify(b"Call Trace:"), Role::Continue);
        assert_eq!(st.classify(b" [<ffffffff>] schedule+0x29/0x70"), Role::Continue);
        assert_eq!(st.classify(b"sd 2:0:0:1: rejecting I/O to offline device"), Role::Plain);
    }
}

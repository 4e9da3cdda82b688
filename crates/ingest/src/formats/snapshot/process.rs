//! Processes: raw `/proc/PID/stat` lines and kernel stacks (`cat /proc/PID/stack`, `grep . /proc/*/stack`,
//! `head /proc/*/stack` with its `==> file <==` titles).
//!
//! See: proc_pid_stat(5) (the comm may hold spaces and parentheses: it ends at the last `)`),
//! proc_pid_stack(5).

use super::{trim, words, LinePos, Sink};
use crate::formats::util::parse_u64;

/// Four slices of one line.
pub(crate) type Four<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// `1 (init) S 0 ...` -> (pid, comm, state, ppid).
pub(crate) fn proc_stat(line: &[u8]) -> Option<Four<'_>> {
    let open = memchr::memchr(b'(', line)?;
    let close = memchr::memrchr(b')', line)?;
    if open < 2 || close < open || line[open - 1] != b' ' {
        return None;
    }
    let pid = &line[..open - 1];
    parse_u64(pid)?;
    let rest = line[close + 1..].strip_prefix(b" ")?;
    let w = words(rest);
    let state = w.first()?.1;
    let ppid = w.get(1)?.1;
    if state.len() != 1 || !state[0].is_ascii_alphabetic() || parse_u64(ppid).is_none() || w.len() < 4 {
        return None;
    }
    Some((pid, &line[open + 1..close], state, ppid))
}

/// The start time of a `/proc/PID/stat` line's process after boot, in nanoseconds: field 22,
/// `starttime`, in clock ticks of `sysconf(_SC_CLK_TCK)`, which Linux fixes at 100 for user space.
/// See: proc_pid_stat(5), `starttime`; fs/proc/array.c (`nsec_to_clock_t(start_time)`).
pub(crate) fn proc_start_nanos(line: &[u8]) -> Option<i64> {
    let close = memchr::memrchr(b')', line)?;
    let w = words(line[close + 1..].strip_prefix(b" ")?);
    let ticks = parse_u64(w.get(19)?.1)?;
    (ticks < 1 << 40).then(|| ticks as i64 * 10_000_000)
}

impl super::SnapshotParser {
    pub(super) fn stack(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let t = trim(line);
        // `==> /proc/4242/stack <==` (head/tail of several files).
        if let Some(f) = t.strip_prefix(b"==> ").and_then(|r| r.strip_suffix(b" <==")) {
            let pid = f
                .strip_prefix(b"/proc/")
                .and_then(|r| r.split(|c| *c == b'/').next())
                .filter(|p| parse_u64(p).is_some());
            self.context.retain(|(k, _)| *k != "pid");
            if let Some(p) = pid {
                self.context.push(("pid", String::from_utf8_lossy(p).into_owned()));
            }
            self.open = false;
            out.skip(at);
            return true;
        }
        // `grep . /proc/*/stack`: `/proc/4242/stack:[<0>] frame`.
        if let Some(rest) = t.strip_prefix(b"/proc/") {
            let slash = memchr::memchr(b'/', rest);
            if let Some(s) = slash.filter(|s| rest[*s..].starts_with(b"/stack:")) {
                let pid = String::from_utf8_lossy(&rest[..s]).into_owned();
                let same = self.context.iter().any(|(k, v)| *k == "pid" && *v == pid);
                if self.open && same {
                    out.attach(at, line);
                } else {
                    self.context.retain(|(k, _)| *k != "pid");
                    self.context.push(("pid", pid));
                    self.emit(at, t, None, Vec::new(), out);
                }
                return true;
            }
        }
        if !t.starts_with(b"[<") {
            return false;
        }
        if self.open {
            out.attach(at, line);
        } else {
            self.emit(at, t, None, Vec::new(), out);
        }
        true
    }
}

//! A terminal session as an operator saved it: a copy-paste of the screen, or a `script(1)` file.
//!
//! ```text
//! Script started on 2025-03-11 09:13:55+09:00 [TERM="xterm-256color" TTY="/dev/pts/0" COLUMNS="120" LINES="40"]
//! ops@node12:~$ date
//! Tue Mar 11 09:14:07 KST 2025
//! ops@node12:~$ sudo multipath -ll
//! mpathc (36001405c8e2a4f6b8d0e2f4a6b8c0d2e) dm-3 LIO-ORG,TCMU device
//! ...
//! ops@node12:~$ sudo multipath -f mpathc
//! 4163.511245 | mpathc: map in use
//! ```
//!
//! Prompts read (the bash, RHEL, Debian/Ubuntu, SUSE, zsh and busybox defaults, and what a container
//! shell shows): `user@host:~$ `, `root@host:/# `, `[user@host dir]$ `, `[root@host ~]# `,
//! `host:~ # ` (SUSE), `user@host:~> `, `user@host ~ % ` (zsh), `sh-5.2# `, `bash-5.1$ `,
//! `multipathd> ` (its interactive shell), each optionally after a `(venv) ` marker or a
//! `[09:14:07] ` clock; bare `# cmd` and `$ cmd` when the command is one an operator runs (so a
//! shell script's comment or a config file's `# ...` is not a prompt) or the session already used
//! bare prompts.
//!
//! Each prompt is a record (program `shell`, fields `command`, `user`, `cwd`, its host from the
//! prompt); a command that printed nothing before the next prompt (or the end of the capture) adds
//! `no_output`, and a `^C` is a record with `interrupted` (and `no_output` when nothing came
//! before it): a hung `multipath -ll` or `virsh list` is evidence. The output of each command is read
//! by that command's reader ([`super::snapshot`]); the output of commands that print logs (`dmesg`,
//! `journalctl`, `tail /var/log/...`, `kubectl logs`, `kubectl describe`) is read by the log format
//! its first lines show. Every record the outputs make carries the prompt's host.
//!
//! Times: a `date` output (any form [`crate::time::clock`] reads), the `script(1)` header, a
//! `watch` title, `timedatectl`'s `Local time:`, and a `[HH:MM:SS]` clock in the prompt or
//! `uptime`'s clock (on the day of the last date) date the outputs after them; before any of them
//! the outputs keep [`RawTime::Snapshot`] (the capture's time). Tools' own stamps win: multipath's
//! `secs.usecs |` (seconds since boot), kernel lines' `[secs.usecs]`. Records in seconds since boot
//! carry a boot id per host and reboot seen in the session, so that lines the operator printed out
//! of order (`dmesg | tail` after a later multipath stamp) do not read as a reboot.
//!
//! Escapes (colour, bold, cursor, OSC titles, bracketed paste), `\r` rewrites and backspaces of a
//! `script(1)` capture are applied before reading.
//!
//! See: bash(1) PROMPTING (`\u@\h:\w\$`), RHEL's `/etc/bashrc` (`[\u@\h \W]\$ `), Debian's
//! `/etc/skel/.bashrc`, SUSE's `/etc/bash.bashrc` (`\h:\w # `), util-linux `script(1)` (header
//! `Script started on %s [...]` with an ISO 8601 time since util-linux 2.35, `Script done on ...`),
//! procps `watch(1)` (title `Every Ns: cmd   host: ctime`), ECMA-48 (control sequences).

use std::borrow::Cow;

use super::snapshot::{self, command, Command};
use super::util::trim;
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::clock::{parse_date_output, parse_uptime_output};
use crate::time::RawTime;

const NANOS: i64 = 1_000_000_000;

/// Removes what a terminal would not show: escape sequences, `\r` rewrites, backspaces, bells.
pub(crate) fn clean(line: &[u8]) -> Cow<'_, [u8]> {
    // One comparison a byte on the usual line: only these control bytes change what is shown.
    if !line.iter().any(|&c| c < 0x20 && matches!(c, 0x1b | b'\r' | 0x08 | 0x07 | 0x0e | 0x0f | 0x00)) {
        return Cow::Borrowed(line);
    }
    let mut out: Vec<u8> = Vec::with_capacity(line.len());
    let mut col = 0usize; // write position after a `\r`
    let mut i = 0;
    let put = |out: &mut Vec<u8>, col: &mut usize, c: u8| {
        if *col < out.len() {
            out[*col] = c;
        } else {
            out.push(c);
        }
        *col += 1;
    };
    while i < line.len() {
        let c = line[i];
        match c {
            0x1b => {
                i += 1;
                match line.get(i) {
                    Some(b'[') => {
                        i += 1;
                        while i < line.len() && (0x20..0x40).contains(&line[i]) {
                            i += 1;
                        }
                        i += 1; // the final byte
                    }
                    Some(b']') => {
                        // OSC: up to BEL or ESC \.
                        while i < line.len() && line[i] != 0x07 && !(line[i] == 0x1b && line.get(i + 1) == Some(&b'\\'))
                        {
                            i += 1;
                        }
                        i += if line.get(i) == Some(&0x07) { 1 } else { 2 };
                    }
                    Some(b'(' | b')' | b'*' | b'+') => i += 2,
                    Some(_) => i += 1,
                    None => {}
                }
                continue;
            }
            b'\r' => {
                // A rewrite from the line's start; a `\r` at the very end rewrites nothing.
                if i + 1 < line.len() {
                    col = 0;
                }
            }
            0x08 => {
                // Back one character; what follows overwrites it (`\b \b` erases).
                if col > 0 {
                    col -= 1;
                    while col > 0 && out.get(col).is_some_and(|b| (b & 0xC0) == 0x80) {
                        col -= 1;
                    }
                }
            }
            0x07 | 0x0e | 0x0f | 0x00 => {}
            c => put(&mut out, &mut col, c),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// A prompt and the command typed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt<'a> {
    pub user: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub cwd: Option<&'a [u8]>,
    /// A `[HH:MM:SS]` clock before the prompt, nanoseconds since midnight.
    pub clock: Option<i64>,
    /// Only `#` or `$`: weak evidence of a prompt.
    pub bare: bool,
    /// What was typed.
    pub cmd: &'a [u8],
}

fn name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

/// The command after a prompt character at `i` (`$`, `#`, `%`, `>`): the rest after one space, or
/// nothing at the end of the line.
fn after_sign(line: &[u8], i: usize) -> Option<&[u8]> {
    match line.get(i + 1) {
        None => Some(b""),
        Some(b' ') => Some(&line[i + 2..]),
        _ => None,
    }
}

/// Commands an operator types at a bare `# ` or `$ ` prompt, for telling it from a comment.
const COMMANDS: &[&str] = &[
    "cat",
    "ls",
    "ll",
    "ps",
    "top",
    "date",
    "uptime",
    "hostname",
    "uname",
    "dmesg",
    "journalctl",
    "systemctl",
    "service",
    "multipath",
    "multipathd",
    "dmsetup",
    "lsblk",
    "lsscsi",
    "blkid",
    "iscsiadm",
    "mount",
    "umount",
    "findmnt",
    "df",
    "du",
    "virsh",
    "kubectl",
    "oc",
    "crictl",
    "docker",
    "podman",
    "nerdctl",
    "ctr",
    "sudo",
    "su",
    "tail",
    "head",
    "less",
    "more",
    "grep",
    "egrep",
    "awk",
    "sed",
    "find",
    "echo",
    "cd",
    "pwd",
    "id",
    "whoami",
    "ip",
    "ss",
    "netstat",
    "ping",
    "lsof",
    "fuser",
    "kill",
    "pkill",
    "sync",
    "sleep",
    "timeout",
    "watch",
    "strace",
    "gdb",
    "vgs",
    "lvs",
    "pvs",
    "nvme",
    "rbd",
    "ceph",
    "openstack",
    "nova",
    "cinder",
    "free",
    "vmstat",
    "iostat",
    "sar",
    "pidof",
    "pgrep",
    "rescan-scsi-bus.sh",
    "sg_inq",
    "udevadm",
    "nsenter",
    "chroot",
    "ssh",
    "scp",
    "tee",
    "history",
    "exit",
    "reboot",
    "shutdown",
    "export",
    "env",
    "clear",
    "stat",
    "readlink",
    "realpath",
    "wc",
    "sort",
    "uniq",
    "time",
    "nice",
    "ionice",
    "modprobe",
    "lsmod",
    "sysctl",
    "ethtool",
    "tcpdump",
    "curl",
    "wget",
    "vi",
    "vim",
    "nano",
    "systemd-cgls",
    "timedatectl",
    "last",
    "w",
    "who",
    "pstree",
    "bash",
    "sh",
];

fn is_command_word(cmd: &[u8]) -> bool {
    let first = cmd.split(|c| *c == b' ').next().unwrap_or(b"");
    if first.starts_with(b"/") || first.starts_with(b"./") {
        return first.len() > 2;
    }
    if let Some(eq) = memchr::memchr(b'=', first) {
        return eq > 0 && first[..eq].iter().all(|c| c.is_ascii_uppercase() || *c == b'_');
    }
    let w = std::str::from_utf8(first).unwrap_or("");
    COMMANDS.contains(&w)
}

/// Reads a prompt line; `bare_ok` accepts a bare `# ` / `$ ` before any command.
pub(crate) fn prompt(line: &[u8], bare_ok: bool) -> Option<Prompt<'_>> {
    let mut s = line;
    let mut clock = None;
    // `[09:14:07] ` or `09:14:07 ` in front (a PS1 with \t).
    for _ in 0..2 {
        if let Some(r) = s.strip_prefix(b"[") {
            if let Some((t, 8)) = crate::time::civil::parse_hms(r) {
                if r.get(8) == Some(&b']') && r.get(9) == Some(&b' ') {
                    clock = Some(t);
                    s = &r[10..];
                }
            }
        } else if let Some((t, 8)) = crate::time::civil::parse_hms(s) {
            if s.get(8) == Some(&b' ') {
                clock = Some(t);
                s = &s[9..];
            }
        }
        // `(venv) `, `(overcloud) `.
        if s.first() == Some(&b'(') {
            if let Some(close) = memchr::memchr(b')', &s[..s.len().min(64)]) {
                if s.get(close + 1) == Some(&b' ') && close > 1 {
                    s = &s[close + 2..];
                }
            }
        }
    }
    let p = |user: Option<&'static [u8]>| Prompt { user, host: None, cwd: None, clock, bare: false, cmd: b"" };
    // `[user@host dir]$ `
    if let Some(r) = s.strip_prefix(b"[") {
        let close = memchr::memchr(b']', &r[..r.len().min(128)])?;
        let inner = &r[..close];
        let at = memchr::memchr(b'@', inner)?;
        let sp = memchr::memchr(b' ', inner);
        let (user, host_end) = (&inner[..at], sp.unwrap_or(inner.len()));
        let host = inner.get(at + 1..host_end)?;
        let cwd = sp.map(|x| trim(&inner[x + 1..]));
        if user.is_empty()
            || host.is_empty()
            || !user.iter().all(|c| name_char(*c))
            || !host.iter().all(|c| name_char(*c))
        {
            return None;
        }
        if !matches!(r.get(close + 1), Some(b'$' | b'#' | b'%' | b'>')) {
            return None;
        }
        let cmd = after_sign(r, close + 1)?;
        return Some(Prompt { user: Some(user), host: Some(host), cwd, cmd, ..p(None) });
    }
    // `sh-5.2# `, `bash-5.1$ `
    for shell in [&b"bash-"[..], b"sh-", b"zsh-", b"ksh-", b"dash-"] {
        if let Some(r) = s.strip_prefix(shell) {
            let n = r.iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
            if n > 0 && r[0].is_ascii_digit() && matches!(r.get(n), Some(b'$' | b'#')) {
                let cmd = after_sign(r, n)?;
                return Some(Prompt { cmd, ..p(None) });
            }
            return None;
        }
    }
    if let Some(r) = s.strip_prefix(b"multipathd>") {
        let cmd = r.strip_prefix(b" ").unwrap_or(r);
        return Some(Prompt { cmd, ..p(None) });
    }
    // Bare `# cmd`, `$ cmd`.
    if matches!(s.first(), Some(b'#' | b'$')) && (s.len() == 1 || s.get(1) == Some(&b' ')) {
        let cmd = after_sign(s, 0)?;
        if !cmd.is_empty() && (bare_ok || is_command_word(cmd)) {
            return Some(Prompt { bare: true, cmd, ..p(None) });
        }
        return None;
    }
    // `user@host:dir$ `, `host:dir # ` (SUSE root), `user@host ~ % ` (zsh).
    let head = &s[..s.len().min(160)];
    let first_end = head.iter().position(|c| !name_char(*c) && *c != b'@')?;
    let who = &head[..first_end];
    let (user, host) = match memchr::memchr(b'@', who) {
        Some(a) => (Some(&who[..a]), &who[a + 1..]),
        None => (None, who),
    };
    if host.is_empty() || user.is_some_and(|u| u.is_empty() || u.contains(&b'@')) || host.contains(&b'@') {
        return None;
    }
    let rest = &s[first_end..];
    let (cwd, sign_at) = if let Some(r) = rest.strip_prefix(b":") {
        // `:~$ `, `:/var/log# `, SUSE `:~ # `
        let end = r.iter().position(|c| matches!(c, b'$' | b'#' | b'>' | b'%'))?;
        let cwd = &r[..end];
        if trim(cwd).contains(&b' ') {
            return None;
        }
        (trim(cwd), first_end + 1 + end)
    } else if let Some(r) = rest.strip_prefix(b" ") {
        // zsh `user@host ~ % `
        user?;
        let end = memchr::memchr(b' ', r)?;
        if !matches!(r.get(end + 1), Some(b'%' | b'$' | b'#')) {
            return None;
        }
        (&r[..end], first_end + 1 + end + 1)
    } else {
        return None;
    };
    if user.is_none() && s.get(sign_at) != Some(&b'#') {
        return None; // `host:dir #` is SUSE's root prompt; a bare `host:x$` is too vague
    }
    let cmd = after_sign(s, sign_at)?;
    Some(Prompt { user, host: Some(host), cwd: Some(cwd), cmd, ..p(None) })
}

/// `Script started on 2025-03-11 09:13:55+09:00 [...]` (or the older `Script started on Tue 11 Mar
/// 2025 09:13:55 AM KST`) -> (started, its time).
fn script_header(line: &[u8]) -> Option<(bool, Option<RawTime>)> {
    let (started, rest) = if let Some(r) = line.strip_prefix(b"Script started on ") {
        (true, r)
    } else if let Some(r) = line.strip_prefix(b"Script done on ") {
        (false, r)
    } else {
        return None;
    };
    let end = memchr::memmem::find(rest, b" [").unwrap_or(rest.len());
    Some((started, parse_date_output(&rest[..end])))
}

/// True when a sampled line shows a terminal session: a prompt with a user and host, a shell's
/// version prompt, or a `script(1)` header.
pub fn detect(line: &[u8]) -> bool {
    let l = clean(line);
    script_header(&l).is_some() || prompt(&l, false).is_some_and(|p| !p.bare && (p.host.is_some() || p.user.is_none()))
}

/// True when the sample is a terminal session (the registry's scores cannot tell: its outputs
/// outnumber its prompts).
pub fn is_session(sample: &[&[u8]]) -> bool {
    if sample.first().is_some_and(|l| script_header(&clean(l)).is_some()) {
        return true;
    }
    // Prompts with a user and host (or a versioned shell): one is enough, two bare ones with
    // commands an operator runs are too.
    let mut bare = 0;
    for l in sample {
        let l = clean(l);
        match prompt(&l, false) {
            Some(p) if !p.bare && (p.host.is_some() || p.user.is_none()) => return true,
            Some(_) => bare += 1,
            None => {}
        }
    }
    bare >= 2
}

/// A small bonus for the names captures get (`typescript` is script(1)'s default).
pub fn path_hint(path: &str) -> f32 {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path).to_ascii_lowercase();
    if base == "typescript" || base.ends_with(".typescript") || base.contains("terminal") || base.contains("session") {
        0.2
    } else {
        0.0
    }
}

/// A terminal session parser.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(Terminal {
        ctx: ctx.clone(),
        time: RawTime::Snapshot,
        local: None,
        host: None,
        boots: 0,
        bare_ok: false,
        sec: None,
        pending: None,
        last_clock_day: None,
    })
}

/// How a section reads its output.
enum Mode {
    /// Not decided: the first output line decides.
    Start,
    /// A `date` (or the first command of `date; ...`).
    Date,
    Uptime,
    Snapshot(Box<dyn Parser>),
    /// Lines kept until the log format they are in is known.
    Probe(Vec<(LinePos, Vec<u8>)>),
    Log(Box<dyn Parser>),
}

struct Section {
    cmd: String,
    c: Command,
    host: Option<String>,
    mode: Mode,
    /// `date; multipath -ll`: the date comes first.
    date_first: bool,
    outputs: usize,
    interrupted: bool,
}

/// A prompt record kept until the line after it shows whether the command printed anything.
struct PendingPrompt {
    at: LinePos,
    line: Vec<u8>,
    fields: Vec<(&'static str, String)>,
    host: Option<String>,
    continued: bool,
    attached: Vec<(LinePos, Vec<u8>)>,
}

struct Terminal {
    ctx: SourceCtx,
    time: RawTime,
    /// The local zone's UTC offset as the session's `date` (not `date -u`), `timedatectl` or
    /// `script(1)` header showed it.
    local: Option<i32>,
    host: Option<String>,
    /// Reboots seen in the session (`reboot`, `shutdown -r`, `systemctl reboot`).
    boots: u32,
    /// The session uses bare `# ` / `$ ` prompts.
    bare_ok: bool,
    sec: Option<Section>,
    pending: Option<PendingPrompt>,
    last_clock_day: Option<i64>,
}

/// Adds the session's host and boot id to what a section's reader emits.
struct Tag<'a> {
    out: &'a mut dyn Sink,
    host: Option<&'a str>,
    boot_id: &'a str,
    /// The session's UTC offset, when a `date` showed it: local times the outputs print
    /// (`dmesg -T`, `date`-less tools) are in the same zone.
    local: Option<i32>,
}

impl Sink for Tag<'_> {
    fn record(&mut self, at: LinePos, rec: Record<'_>) {
        let mut r = rec;
        if r.host.is_none() {
            r.host = self.host.map(Cow::Borrowed);
        }
        if r.boot_id.is_none() && (matches!(r.time, RawTime::Boot { .. }) || r.boot_nanos.is_some()) {
            r.boot_id = Some(Cow::Borrowed(self.boot_id));
        }
        if let (RawTime::Naive { civil_nanos }, Some(off)) = (r.time, self.local) {
            r.time = RawTime::Exact { unix_nanos: civil_nanos - off as i64 * NANOS, offset_secs: off };
        }
        self.out.record(at, r);
    }
    fn attach(&mut self, at: LinePos, line: &[u8]) {
        self.out.attach(at, line);
    }
    fn skip(&mut self, at: LinePos) {
        self.out.skip(at);
    }
    fn unparsed(&mut self, at: LinePos, line: &[u8]) {
        self.out.unparsed(at, line);
    }
}

/// Commands whose silence is worth noting: they print something when they work.
fn prints(c: &Command) -> bool {
    if c.redirected || c.argv.is_empty() {
        return false;
    }
    let k = snapshot::known(c).kind;
    !matches!(k, snapshot::Kind::Auto | snapshot::Kind::Lines)
        || matches!(
            c.bin(),
            "date"
                | "uptime"
                | "hostname"
                | "uname"
                | "virsh"
                | "kubectl"
                | "oc"
                | "crictl"
                | "docker"
                | "podman"
                | "iscsiadm"
                | "multipath"
                | "multipathd"
                | "dmsetup"
                | "dmesg"
                | "journalctl"
                | "timedatectl"
        )
}

/// Log formats a command's output may be in (not command outputs, not free text).
fn is_log_format(f: rootline_event::Format) -> bool {
    use rootline_event::Format::*;
    matches!(f, Syslog | Journal | Kernel | Klog | Logfmt | Cri | Oslo | Libvirt | K8sEvents | JsonLines)
}

/// Lines of a probed section kept before its format is decided.
const PROBE_LINES: usize = 40;

impl Terminal {
    fn boot_id(&self, host: Option<&str>) -> String {
        format!("terminal:{}:{}", host.unwrap_or(""), self.boots)
    }

    /// Emits the prompt record kept for the current section, with `no_output` when asked.
    fn emit_prompt(&mut self, no_output: bool, out: &mut dyn Sink) {
        let Some(p) = self.pending.take() else { return };
        let mut r = Record::new(self.time, &p.line);
        r.program = Some(Cow::Borrowed("shell"));
        r.host = p.host.as_deref().map(Cow::Borrowed);
        for (k, v) in &p.fields {
            r.fields.push((Cow::Borrowed(k), Cow::Borrowed(v)));
        }
        if no_output {
            r.fields.push((Cow::Borrowed("no_output"), Cow::Borrowed("true")));
        }
        out.record(p.at, r);
        for (at, l) in &p.attached {
            out.attach(*at, l);
        }
    }

    /// Ends the current section: its reader's last records, the prompt if nothing came.
    fn end_section(&mut self, out: &mut dyn Sink) {
        let Some(mut sec) = self.sec.take() else {
            self.emit_prompt(false, out);
            return;
        };
        let silent = sec.outputs == 0 && !sec.interrupted && prints(&sec.c);
        self.emit_prompt(silent, out);
        let boot_id = self.boot_id(sec.host.as_deref());
        let mut tag = Tag { out, host: sec.host.as_deref(), boot_id: &boot_id, local: self.local };
        match std::mem::replace(&mut sec.mode, Mode::Start) {
            Mode::Snapshot(mut p) | Mode::Log(mut p) => p.finish(&mut tag),
            Mode::Probe(lines) => {
                let mut p = self.decide(&sec, &lines);
                for (at, l) in &lines {
                    p.feed(*at, l, &mut tag);
                }
                p.finish(&mut tag);
            }
            _ => {}
        }
    }

    /// The reader of a probed section, from its first lines.
    fn decide(&self, sec: &Section, lines: &[(LinePos, Vec<u8>)]) -> Box<dyn Parser> {
        let sample: Vec<&[u8]> = lines.iter().map(|(_, l)| l.as_slice()).collect();
        // A log file named on the command line, else the command (`dmesg`) says what it is.
        let hint =
            sec.c.args().iter().rev().find(|a| a.starts_with('/')).cloned().unwrap_or_else(|| sec.c.bin().to_string());
        let now = match self.time {
            RawTime::Exact { unix_nanos, .. } => Some(unix_nanos.div_euclid(NANOS)),
            _ => self.ctx.now,
        };
        let ctx = SourceCtx {
            path: self.ctx.path.clone(),
            mtime: self.ctx.mtime,
            now,
            json_fields: self.ctx.json_fields.clone(),
        };
        // `kubectl logs --timestamps`: a stamp in front of lines of another format.
        if let Some(inner) = super::prefixed::inner_format(&hint, &sample) {
            return super::prefixed::parser(inner, &ctx);
        }
        let f = super::detect(&hint, &sample);
        let generic = sample.iter().filter(|l| super::generic::detect(l)).count() * 2 >= sample.len().max(1);
        if is_log_format(f) || (f == rootline_event::Format::Generic && generic) {
            return (super::spec(f).parser)(&ctx);
        }
        Box::new(snapshot::for_parsed(&sec.c, self.time))
    }

    /// A prompt line: the previous section ends, this command's starts.
    fn start(&mut self, at: LinePos, line: &[u8], p: Prompt<'_>, out: &mut dyn Sink) {
        self.end_section(out);
        if p.bare {
            self.bare_ok = true;
        }
        if let Some(h) = p.host {
            self.host = Some(String::from_utf8_lossy(h).into_owned());
        }
        if let Some(clock) = p.clock {
            self.set_clock(clock);
        }
        let mut cmd_bytes = trim(p.cmd);
        let cancelled = cmd_bytes.ends_with(b"^C");
        if cancelled {
            cmd_bytes = trim(&cmd_bytes[..cmd_bytes.len() - 2]);
        }
        let cmd = String::from_utf8_lossy(cmd_bytes).into_owned();
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        if !cmd.is_empty() {
            fields.push(("command", cmd.clone()));
        }
        if let Some(u) = p.user {
            fields.push(("user", String::from_utf8_lossy(u).into_owned()));
        }
        if let Some(c) = p.cwd.filter(|c| !c.is_empty()) {
            fields.push(("cwd", String::from_utf8_lossy(c).into_owned()));
        }
        if cancelled {
            fields.push(("cancelled", "true".into()));
        }
        let continued = cmd.ends_with('\\');
        self.pending = Some(PendingPrompt {
            at,
            line: trim(line).to_vec(),
            fields,
            host: self.host.clone(),
            continued,
            attached: Vec::new(),
        });
        if cmd.is_empty() || cancelled {
            return;
        }
        self.open_section(cmd);
    }

    fn open_section(&mut self, cmd: String) {
        let c = command::parse(&cmd);
        if matches!(c.bin(), "reboot" | "poweroff")
            || (c.bin() == "systemctl" && c.args().iter().any(|a| a == "reboot"))
        {
            self.boots += 1;
        }
        if c.bin() == "shutdown" && c.args().iter().any(|a| a == "-r") {
            self.boots += 1;
        }
        let host = c.remote.clone().or_else(|| self.host.clone());
        let date_first = c.date_first;
        self.sec = Some(Section { cmd, c, host, mode: Mode::Start, date_first, outputs: 0, interrupted: false });
    }

    /// Moves the clock to `tod` (nanoseconds since midnight) on the day of the last date read, the
    /// next day when that would go back more than a minute.
    fn set_clock(&mut self, tod: i64) {
        let (civil, off) = match self.time {
            RawTime::Exact { unix_nanos, offset_secs } => (unix_nanos + offset_secs as i64 * NANOS, Some(offset_secs)),
            RawTime::Naive { civil_nanos } => (civil_nanos, None),
            _ => return,
        };
        let day = civil.div_euclid(86_400 * NANOS);
        let mut new = day * 86_400 * NANOS + tod;
        if new + 60 * NANOS < civil {
            new += 86_400 * NANOS;
        }
        self.last_clock_day = Some(day);
        self.time = match off {
            Some(o) => RawTime::Exact { unix_nanos: new - o as i64 * NANOS, offset_secs: o },
            None => RawTime::Naive { civil_nanos: new },
        };
    }

    /// An output line of the current section.
    fn output(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(mut sec) = self.sec.take() else {
            // Before any prompt (a banner, `Last login: ...`), or after a prompt with no command.
            if self.pending.as_ref().is_some_and(|p| p.continued) && line.starts_with(b"> ") {
                let p = self.pending.as_mut().expect("pending");
                p.attached.push((at, line.to_vec()));
                return;
            }
            self.emit_prompt(false, out);
            let t = trim(line);
            if t.is_empty() {
                out.skip(at);
            } else {
                let mut r = Record::new(self.time, t);
                r.host = self.host.as_deref().map(Cow::Borrowed);
                out.record(at, r);
            }
            return;
        };
        let t = trim(line);
        // A command line continued with `\`: the `> ` lines belong to the prompt.
        if sec.outputs == 0 && self.pending.as_ref().is_some_and(|p| p.continued) && line.starts_with(b"> ") {
            let p = self.pending.as_mut().expect("pending");
            p.attached.push((at, line.to_vec()));
            let base = sec.cmd.trim_end_matches('\\').trim_end().to_string();
            sec.cmd = format!("{base} {}", String::from_utf8_lossy(trim(&line[2..])));
            p.continued = sec.cmd.ends_with('\\');
            if !p.continued {
                let cmd = sec.cmd.clone();
                if let Some(f) = p.fields.iter_mut().find(|(k, _)| *k == "command") {
                    f.1 = cmd.clone();
                }
                self.open_section(cmd);
                return;
            }
            self.sec = Some(sec);
            return;
        }
        if t.starts_with(b"[sudo] password for ") || t == b"Password:" {
            // Part of typing the command, not its output.
            match self.pending.as_mut() {
                Some(p) => p.attached.push((at, line.to_vec())),
                None => out.skip(at),
            }
            self.sec = Some(sec);
            return;
        }
        if t.ends_with(b"^C") {
            // Interrupted: what was read so far, then this line as the evidence.
            self.emit_prompt(false, out);
            let boot_id = self.boot_id(sec.host.as_deref());
            let mut tag = Tag { out, host: sec.host.as_deref(), boot_id: &boot_id, local: self.local };
            match std::mem::replace(&mut sec.mode, Mode::Start) {
                Mode::Snapshot(mut p) | Mode::Log(mut p) => p.finish(&mut tag),
                Mode::Probe(lines) => {
                    let mut p = self.decide(&sec, &lines);
                    for (a, l) in &lines {
                        p.feed(*a, l, &mut tag);
                    }
                    p.finish(&mut tag);
                }
                _ => {}
            }
            let program = snapshot::known(&sec.c).program.unwrap_or_else(|| sec.c.line());
            let mut r = Record::new(self.time, t);
            r.program = Some(Cow::Borrowed(&program));
            r.host = sec.host.as_deref().map(Cow::Borrowed);
            r.fields.push((Cow::Borrowed("command"), Cow::Borrowed(&sec.cmd)));
            r.fields.push((Cow::Borrowed("interrupted"), Cow::Borrowed("true")));
            if sec.outputs == 0 {
                r.fields.push((Cow::Borrowed("no_output"), Cow::Borrowed("true")));
            }
            out.record(at, r);
            sec.interrupted = true;
            sec.outputs += 1;
            self.sec = Some(sec);
            return;
        }
        if matches!(sec.mode, Mode::Start) {
            sec.mode = self.first_mode(&sec, t);
        }
        // The prompt of a `date` (an `uptime`) carries the time it printed.
        match sec.mode {
            Mode::Date => {
                if let Some(tm) = parse_date_output(t) {
                    self.time = tm;
                    let utc = sec.c.args().iter().any(|a| matches!(a.as_str(), "-u" | "--utc" | "--universal"));
                    let local_line = sec.c.bin() != "timedatectl" || t.starts_with(b"Local time:");
                    if let (RawTime::Exact { offset_secs, .. }, false, true) = (tm, utc, local_line) {
                        self.local = Some(offset_secs);
                    }
                }
            }
            Mode::Uptime => {
                if let Some(u) = parse_uptime_output(t) {
                    self.set_clock(u.clock_nanos);
                }
            }
            _ => {}
        }
        self.emit_prompt(false, out);
        sec.outputs += 1;
        let boot_id = self.boot_id(sec.host.as_deref());
        match &mut sec.mode {
            Mode::Date => {
                let mut r = Record::new(self.time, t);
                r.program = Some(Cow::Borrowed("date"));
                r.host = sec.host.as_deref().map(Cow::Borrowed);
                out.record(at, r);
                if sec.date_first {
                    sec.date_first = false;
                    sec.mode = Mode::Start;
                }
            }
            Mode::Uptime => {
                let mut r = Record::new(self.time, t);
                r.program = Some(Cow::Borrowed("uptime"));
                r.host = sec.host.as_deref().map(Cow::Borrowed);
                let up_s = parse_uptime_output(t).map(|u| u.up_secs.to_string());
                if let Some(u) = &up_s {
                    r.fields.push((Cow::Borrowed("uptime_secs"), Cow::Borrowed(u)));
                }
                out.record(at, r);
            }
            Mode::Snapshot(p) | Mode::Log(p) => {
                // `watch`'s title: `Every 2.0s: multipath -ll    node12: Tue Mar 11 09:14:07 2025`.
                if sec.c.watch && t.starts_with(b"Every ") {
                    if let Some(tm) = memchr::memmem::rfind(t, b": ").and_then(|i| parse_date_output(&t[i + 2..])) {
                        let mut tag = Tag { out, host: sec.host.as_deref(), boot_id: &boot_id, local: self.local };
                        p.finish(&mut tag);
                        // The title's ctime has no zone: the session's, when a date showed it.
                        let tm = match (tm, self.local) {
                            (RawTime::Naive { civil_nanos }, Some(off)) => {
                                RawTime::Exact { unix_nanos: civil_nanos - off as i64 * NANOS, offset_secs: off }
                            }
                            (tm, _) => tm,
                        };
                        self.time = tm;
                        let mut r = Record::new(tm, t);
                        r.program = Some(Cow::Borrowed("watch"));
                        r.host = sec.host.as_deref().map(Cow::Borrowed);
                        out.record(at, r);
                        sec.mode = Mode::Snapshot(Box::new(snapshot::for_parsed(&sec.c, self.time)));
                        self.sec = Some(sec);
                        return;
                    }
                }
                let mut tag = Tag { out, host: sec.host.as_deref(), boot_id: &boot_id, local: self.local };
                p.feed(at, line, &mut tag);
            }
            Mode::Probe(lines) => {
                lines.push((at, line.to_vec()));
                if lines.len() >= PROBE_LINES {
                    let lines = std::mem::take(lines);
                    let mut p = self.decide(&sec, &lines);
                    let mut tag = Tag { out, host: sec.host.as_deref(), boot_id: &boot_id, local: self.local };
                    for (a, l) in &lines {
                        p.feed(*a, l, &mut tag);
                    }
                    sec.mode = Mode::Log(p);
                }
            }
            Mode::Start => {}
        }
        self.sec = Some(sec);
    }

    /// How a section's output is read, decided at its first line.
    fn first_mode(&self, sec: &Section, first: &[u8]) -> Mode {
        if sec.date_first && parse_date_output(first).is_some() {
            return Mode::Date;
        }
        let c = &sec.c;
        match c.bin() {
            "date" | "timedatectl" => return Mode::Date,
            "uptime" => return Mode::Uptime,
            _ => {}
        }
        let k = snapshot::known(c);
        if matches!(k.kind, snapshot::Kind::Auto) && !c.reshaped() {
            return Mode::Probe(Vec::new());
        }
        Mode::Snapshot(Box::new(snapshot::for_parsed(c, self.time)))
    }
}

impl Parser for Terminal {
    fn feed(&mut self, at: LinePos, raw: &[u8], out: &mut dyn Sink) {
        let line = clean(raw);
        let line = line.as_ref();
        if let Some((started, t)) = script_header(line) {
            self.end_section(out);
            if let Some(t) = t {
                self.time = t;
                if let RawTime::Exact { offset_secs, .. } = t {
                    self.local = Some(offset_secs);
                }
            }
            let mut r = Record::new(t.unwrap_or(self.time), trim(line));
            r.program = Some(Cow::Borrowed("script"));
            r.host = self.host.as_deref().map(Cow::Borrowed);
            r.fields.push((Cow::Borrowed("session"), Cow::Borrowed(if started { "started" } else { "done" })));
            out.record(at, r);
            return;
        }
        // Inside a log's or a file's output a bare `# ` starts a prompt only before a command an
        // operator runs (a config file's comments are not prompts).
        let in_log = self.sec.as_ref().is_some_and(|s| matches!(s.mode, Mode::Log(_) | Mode::Probe(_) | Mode::Start));
        if let Some(p) = prompt(line, self.bare_ok && !in_log) {
            self.start(at, line, p, out);
            return;
        }
        self.output(at, line, out);
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        self.end_section(out);
    }
}

#[cfg(test)]
mod tests;

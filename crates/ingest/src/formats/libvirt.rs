//! libvirtd daemon logs and qemu domain logs.
//!
//! - libvirtd: `2025-10-13 10:56:00.123+0000: 1234: error : virNetSocketReadWire:1791 : End of file
//!   while reading data: Input/output error`: an exact time, the thread id (kept as the pid), the
//!   priority (`debug`, `info`, `warning`, `error`), the function and line (field `func`). Program
//!   `libvirtd`.
//! - qemu domain logs (`/var/log/libvirt/qemu/<domain>.log`, field `domain` from the file name):
//!   `2025-10-13 10:56:00.123+0000: starting up libvirt version: ...`, the qemu command line (one line,
//!   or one argument per line ending in ` \`), `2025-10-13T10:56:00.123456Z qemu-system-x86_64:
//!   terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)`, `char device redirected to
//!   /dev/pts/3 (label charserial0)`, `2025-10-13 10:56:00.123+0000: shutting down, reason=crashed`.
//!   Program `qemu`, or the program named before the colon (`qemu-system-x86_64`).
//!
//! A line without a time continues the previous record only when it clearly does: it is indented,
//! the line before ended in ` \`, or it is the command line right after `starting up`. Otherwise it
//! is a record without a time ([`RawTime::None`]) so it keeps its place.
//!
//! See: libvirt `src/util/virlog.c` (`virLogFormatString`: "%llu: %s : %s:%d : %s", preceded by the
//! time and ": "), libvirt `src/qemu/qemu_process.c`/`qemu_domain.c` (domain log lines), QEMU
//! `util/error-report.c` (`-msg timestamp=on` prefixes and `qemu-system-x86_64: ` program prefix).

use std::borrow::Cow;

use rootline_event::Severity;

use super::util::{parse_u64, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// True when `line` is a libvirtd line, a timed qemu domain log line, or a clear qemu log shape
/// (command line, `char device redirected`): domain logs are mostly command line.
pub fn detect(line: &[u8]) -> bool {
    match split(line) {
        Some(Line::Daemon { .. }) => true,
        Some(Line::Domain { offset_colon, prog, .. }) => offset_colon || prog.is_some_and(|p| p.starts_with(b"qemu")),
        None => is_cmdline(line) || line.starts_with(b"char device redirected to "),
    }
}

/// Path hint: a bonus for files under a `libvirt` directory (wired by the registry when it asks).
pub fn path_hint(path: &str) -> f32 {
    if path.contains("libvirt/") || path.contains("libvirtd") {
        0.2
    } else {
        0.0
    }
}

/// A libvirt parser; the domain comes from a `qemu/<domain>.log` file name.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    let domain = domain_from_path(&ctx.path);
    let default_prog = if domain.is_some() { "qemu" } else { "libvirtd" };
    Box::new(LibvirtParser { domain, default_prog, have_record: false, continued: false, cmdline: false })
}

fn domain_from_path(path: &str) -> Option<String> {
    let mut parts = path.rsplit(['/', '!']);
    let base = parts.next()?;
    if parts.next()? != "qemu" {
        return None;
    }
    let stem = &base[..base.find(".log")?];
    (!stem.is_empty()).then(|| stem.to_string())
}

struct LibvirtParser {
    domain: Option<String>,
    default_prog: &'static str,
    have_record: bool,
    /// The previous line ended in ` \`.
    continued: bool,
    /// The previous record was `starting up`: the command line follows.
    cmdline: bool,
}

/// One timed libvirt or qemu line.
#[derive(Debug, Clone, Copy)]
enum Line<'a> {
    Daemon { time: RawTime, thread: u32, severity: Severity, func: &'a [u8], msg: &'a [u8] },
    Domain { time: RawTime, offset_colon: bool, prog: Option<&'a [u8]>, msg: &'a [u8] },
}

fn severity(w: &[u8]) -> Option<Severity> {
    Some(match w {
        b"debug" => Severity::Debug,
        b"info" => Severity::Info,
        b"warning" => Severity::Warning,
        b"error" => Severity::Err,
        _ => return None,
    })
}

/// `thread: level : func:line : msg` after the time.
fn split_daemon(b: &[u8]) -> Option<(u32, Severity, &[u8], &[u8])> {
    let c = memchr::memchr(b':', b)?;
    let thread = parse_u64(&b[..c]).and_then(|t| u32::try_from(t).ok())?;
    let rest = b[c + 1..].strip_prefix(b" ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let sev = severity(&rest[..sp])?;
    let rest = rest[sp..].strip_prefix(b" : ")?;
    // The first " : "; the location before it (`virNetSocketReadWire:1791`) has no space, so stepping
    // from space to space is cheaper than building a substring searcher for every line.
    let end = memchr::memchr_iter(b' ', rest).find(|&i| rest.get(i + 1..i + 3) == Some(b": "))?;
    Some((thread, sev, &rest[..end], &rest[end + 3..]))
}

/// `prog: msg` when the line starts with a program-like word and a colon.
fn split_prog(msg: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let lim = msg.len().min(48);
    for i in 0..lim {
        match msg[i] {
            b':' if i > 0 && matches!(msg.get(i + 1), None | Some(b' ')) => {
                let rest = &msg[i + 1..];
                return (Some(&msg[..i]), rest.strip_prefix(b" ").unwrap_or(rest));
            }
            c if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.') => {}
            _ => break,
        }
    }
    (None, msg)
}

fn split(line: &[u8]) -> Option<Line<'_>> {
    if !line.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (time, n) = parse_iso(line).filter(|(t, _)| matches!(t, RawTime::Exact { .. }))?;
    let rest = &line[n..];
    if let Some(after) = rest.strip_prefix(b": ") {
        if let Some((thread, severity, func, msg)) = split_daemon(after) {
            return Some(Line::Daemon { time, thread, severity, func, msg });
        }
        let (prog, msg) = split_prog(after);
        // Only a program-like word counts (not "starting up libvirt version").
        return Some(Line::Domain { time, offset_colon: true, prog, msg });
    }
    let after = rest.strip_prefix(b" ")?;
    let (prog, msg) = split_prog(after);
    Some(Line::Domain { time, offset_colon: false, prog, msg })
}

/// The severity of a libvirtd line (`... : 1234: error : func:1 : msg`), for messages found inside
/// other formats (a libvirt container's CRI log).
pub(crate) fn severity_of(line: &[u8]) -> Option<Severity> {
    match split(line)? {
        Line::Daemon { severity, .. } => Some(severity),
        Line::Domain { .. } => None,
    }
}

/// A piece of a qemu command line: env assignments, the binary, or a ` \`-continued argument.
fn is_cmdline(line: &[u8]) -> bool {
    if line.starts_with(b"LC_ALL=") || line.starts_with(b"/usr/bin/qemu") || line.starts_with(b"/usr/libexec/qemu") {
        return true;
    }
    if !line.ends_with(b" \\") {
        return false;
    }
    match line.first() {
        Some(b'-') => line.get(1).is_some_and(u8::is_ascii_lowercase),
        _ => is_env_assignment(line),
    }
}

fn is_env_assignment(line: &[u8]) -> bool {
    let k = line.iter().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_').count();
    k > 0 && line.get(k) == Some(&b'=')
}

impl Parser for LibvirtParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let continued = std::mem::replace(&mut self.continued, line.ends_with(b" \\"));
        let Some(l) = split(line) else {
            if trim(line).is_empty() {
                self.continued = false;
                out.skip(at);
                return;
            }
            let clear = continued
                || matches!(line[0], b' ' | b'\t')
                || (self.cmdline && (is_env_assignment(line) || line[0] == b'/' || line[0] == b'-'));
            if clear && self.have_record {
                out.attach(at, line);
                return;
            }
            // A line of its own without a time: it keeps its place in the file.
            self.cmdline = false;
            self.have_record = true;
            let (prog, msg) = split_prog(line);
            let prog = prog.filter(|p| p.starts_with(b"qemu") || p.starts_with(b"libvirt"));
            let mut rec = Record::new(RawTime::None, if prog.is_some() { msg } else { line });
            rec.program = Some(prog.map(text).unwrap_or(Cow::Borrowed(self.default_prog)));
            self.push_domain(&mut rec);
            out.record(at, rec);
            return;
        };
        self.have_record = true;
        let mut rec = match l {
            Line::Daemon { time, thread, severity, func, msg } => {
                self.cmdline = false;
                let mut rec = Record::new(time, msg);
                rec.pid = Some(thread);
                rec.severity = Some(severity);
                rec.program = Some(Cow::Borrowed("libvirtd"));
                // Built at its size: `push` on the empty Vec takes the slower growth path.
                rec.fields = vec![(Cow::Borrowed("func"), text(func))];
                rec
            }
            Line::Domain { time, prog, msg, .. } => {
                let (prog, msg) = match prog {
                    Some(p) if p.starts_with(b"qemu") || p.starts_with(b"libvirt") => (Some(p), msg),
                    _ => (None, domain_message(line)),
                };
                self.cmdline = msg.starts_with(b"starting up");
                let mut rec = Record::new(time, msg);
                rec.program = Some(prog.map(text).unwrap_or(Cow::Borrowed("qemu")));
                if msg.starts_with(b"shutting down") || memchr::memmem::find(msg, b"terminating on signal").is_some() {
                    rec.severity = Some(Severity::Notice);
                }
                rec
            }
        };
        self.push_domain(&mut rec);
        out.record(at, rec);
    }
}

/// The message of a timed domain line whose first word is not a program: everything after the time
/// and its `: ` or ` ` separator.
fn domain_message(line: &[u8]) -> &[u8] {
    let n = parse_iso(line).map_or(0, |(_, n)| n);
    let rest = &line[n..];
    rest.strip_prefix(b": ").or_else(|| rest.strip_prefix(b" ")).unwrap_or(rest)
}

impl LibvirtParser {
    fn push_domain<'a>(&'a self, rec: &mut Record<'a>) {
        if let Some(d) = &self.domain {
            rec.fields.push((Cow::Borrowed("domain"), Cow::Borrowed(d)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    fn ctx(path: &str) -> SourceCtx {
        SourceCtx { path: path.into(), ..SourceCtx::default() }
    }

    #[test]
    fn daemon_lines() {
        let got = run(
            parser(&ctx("/var/log/libvirt/libvirtd.log")),
            "2025-10-13 10:56:00.123+0000: 1234: error : virNetSocketReadWire:1791 : End of file while reading data: Input/output error\n\
             2025-10-13 10:56:05.000+0000: 1240: warning : qemuDomainObjBeginJobInternal:1045 : Cannot start job (query, none) for domain instance-0000abcd\n",
        );
        let Got::Rec { time, pid, severity, program, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_960_123_000_000, offset_secs: 0 });
        assert_eq!((*pid, *severity, program.as_deref()), (Some(1234), Some(Severity::Err), Some("libvirtd")));
        assert_eq!(message, "End of file while reading data: Input/output error");
        assert_eq!(fields, &[("func".to_string(), "virNetSocketReadWire:1791".to_string())]);
        assert!(matches!(&got[1], Got::Rec { severity: Some(Severity::Warning), .. }));
    }

    #[test]
    fn domain_log_shapes() {
        let got = run(
            parser(&ctx("/var/log/libvirt/qemu/instance-0000abcd.log")),
            "2025-10-13 10:40:00.100+0000: starting up libvirt version: 8.0.0, qemu version: 6.2.0, hostname: s-dcn37-com604-krw1a\n\
             LC_ALL=C \\\n\
             PATH=/usr/local/sbin:/usr/bin \\\n\
             /usr/bin/qemu-system-x86_64 \\\n\
             -name guest=instance-0000abcd,debug-threads=on \\\n\
             -S\n\
             char device redirected to /dev/pts/3 (label charserial0)\n\
             2025-10-13T10:56:00.123456Z qemu-system-x86_64: terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)\n\
             2025-10-13 10:56:01.000+0000: shutting down, reason=crashed\n\
             qemu-system-x86_64: warning: host doesn't support requested feature\n",
        );
        let r = records(&got);
        assert_eq!(r.len(), 5, "{got:?}");
        assert_eq!(r[0].1.as_deref(), Some("qemu"));
        assert!(r[0].2.starts_with("starting up libvirt version: 8.0.0"));
        assert!((1..6).all(|i| matches!(got[i], Got::Attach(..))), "{got:?}");
        assert_eq!(
            r[1],
            (RawTime::None, Some("qemu".into()), "char device redirected to /dev/pts/3 (label charserial0)".into())
        );
        assert_eq!(r[2].1.as_deref(), Some("qemu-system-x86_64"));
        assert_eq!(r[2].2, "terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)");
        assert_eq!(r[3].2, "shutting down, reason=crashed");
        assert_eq!(
            r[4],
            (
                RawTime::None,
                Some("qemu-system-x86_64".into()),
                "warning: host doesn't support requested feature".into()
            )
        );
        let Got::Rec { fields, .. } = &got[6] else { panic!() };
        assert_eq!(fields, &[("domain".to_string(), "instance-0000abcd".to_string())]);
    }

    #[test]
    fn one_line_command_line_and_garbage() {
        let got = run(
            parser(&ctx("qemu/instance-0000abcd.log.1")),
            "2025-10-13 10:40:00.100+0000: starting up libvirt version: 6.0.0\n\
             LC_ALL=C PATH=/usr/bin QEMU_AUDIO_DRV=none /usr/bin/qemu-system-x86_64 -name guest=instance-0000abcd -m 4096\n\
             \u{1}\u{2} garbage\n",
        );
        assert!(matches!(got[1], Got::Attach(2, _)));
        assert!(matches!(&got[2], Got::Rec { line: 3, time: RawTime::None, .. }));
    }

    #[test]
    fn daemon_part_edges() {
        let ok =
            |b: &str| split_daemon(b.as_bytes()).map(|(t, s, f, m)| (t, s, text(f).into_owned(), text(m).into_owned()));
        assert_eq!(
            ok("1234: error : virNetSocketReadWire:1791 : EOF: x"),
            Some((1234, Severity::Err, "virNetSocketReadWire:1791".into(), "EOF: x".into()))
        );
        assert_eq!(ok("7: warning : a b : c : d"), Some((7, Severity::Warning, "a b".into(), "c : d".into())));
        assert_eq!(ok("7: info :  : m"), Some((7, Severity::Info, "".into(), "m".into())));
        for b in [
            "12a4: error : f:1 : m",
            ": error : f:1 : m",
            "1234",
            "1234:error : f:1 : m",
            "1234: errors : f:1 : m",
            "1234: information : f:1 : m",
            "1234: error: f:1 : m",
            "1234: error : f:1 :m",
            "1234: error : f:1",
            "99999999999: error : f:1 : m",
        ] {
            assert_eq!(ok(b), None, "{b}");
        }
    }

    #[test]
    fn near_misses() {
        assert!(detect(b"2025-10-13 10:56:00.123+0000: 1234: info : virObjectUnref:1 : x"));
        assert!(detect(b"2025-10-13T10:56:00.123456Z qemu-kvm: terminating on signal 15"));
        assert!(detect(b"-name guest=instance-0000abcd,debug-threads=on \\"));
        assert!(!detect(b"2025-10-13 19:46:00.123 1234 ERROR nova.compute.manager [-] x"));
        assert!(!detect(b"2025-10-13T10:56:00.123456Z some generic line: here"));
        assert!(!detect(b"2025-10-13T10:56:00.123456789Z stderr F msg"));
        assert!(!detect(b"plain text"));
    }
}

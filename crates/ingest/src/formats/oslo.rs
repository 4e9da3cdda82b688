//! oslo.log files (nova, cinder, neutron, glance, os-brick): `2025-10-13 19:46:00.123 1234 ERROR
//! nova.compute.manager [req-6c1... 9f... 1a... - - default default] [instance: 4f2f...] msg`.
//!
//! The time is local with no offset ([`RawTime::Naive`], the zone is applied later); then the pid, the
//! level (`DEBUG`, `INFO`, `AUDIT`, `WARNING`, `ERROR`, `CRITICAL`, `TRACE`), the logger (kept as the
//! program), the request context in brackets (field `request_id`: its `req-...` token, else its first
//! token) and an optional `[instance: uuid]` prefix (field `instance`; the prefix stays in the message).
//!
//! Tracebacks: oslo writes every line of a logged exception with the record's header, so
//! `Traceback (most recent call last):`, the `  File "...", line N, in f` lines and the exception line
//! that ends it are attached to the record before them when pid and logger match. Old releases write
//! those lines with level `TRACE`, which always continue. Lines with no header at all (a traceback
//! printed bare to the same file) are attached too.
//!
//! Untimed form: under systemd, DevStack configures the services with
//! `logging_context_format_string = %(color)s%(levelname)s %(name)s [...] %(instance)s%(message)s` (the
//! journal adds time and pid) and `logging_exception_prefix = ERROR %(name)s %(instance)s`, so
//! `journalctl -o cat -u devstack@n-cpu` and lines quoted from it read `ERROR nova.compute.manager [req-...]
//! msg`. Those lines are oslo records without time or pid when the bracketed context follows the logger,
//! or, for `ERROR` and a dotted lower-case logger, in the exception prefix's form without a context.
//!
//! See: DevStack `lib/` `setup_systemd_logging`; oslo.log `_options.py` (`logging_context_format_string`, `logging_default_format_string`,
//! `logging_exception_prefix` = `%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s`)
//! and `formatters.py` `ContextFormatter.formatException` (one prefixed line per traceback line).

use std::borrow::Cow;

use rootline_event::Severity;

use super::util::{parse_u64, text};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// True when `line` starts with an oslo.log header.
pub fn detect(line: &[u8]) -> bool {
    split(line).is_some()
}

/// Path hint: none (the registry scores oslo by its lines).
pub fn path_hint(_path: &str) -> f32 {
    0.0
}

/// An oslo.log parser.
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(OsloParser::default())
}

/// Where a traceback stands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Tb {
    /// No traceback in progress.
    #[default]
    Idle,
    /// Inside `Traceback (most recent call last):` ... frames.
    Frames,
    /// After the exception line: a chained traceback may follow.
    Ended,
}

#[derive(Default)]
struct OsloParser {
    have_record: bool,
    pid: Option<u32>,
    logger: Vec<u8>,
    tb: Tb,
}

/// The parts of an oslo.log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    pub time: RawTime,
    /// The process id; `None` in the untimed form.
    pub pid: Option<u32>,
    pub level: &'a [u8],
    pub severity: Option<Severity>,
    pub logger: &'a [u8],
    /// The request context inside the brackets, if any.
    pub ctx: Option<&'a [u8]>,
    /// The message after the context (it may start with `[instance: ...]`).
    pub msg: &'a [u8],
}

fn level_severity(l: &[u8]) -> Option<Severity> {
    Some(match l {
        b"DEBUG" => Severity::Debug,
        b"INFO" => Severity::Info,
        b"AUDIT" => Severity::Notice,
        b"WARNING" | b"WARN" => Severity::Warning,
        b"ERROR" | b"TRACE" => Severity::Err,
        b"CRITICAL" | b"FATAL" => Severity::Crit,
        _ => return None,
    })
}

/// Splits an oslo.log line, or `None` when it has no oslo header.
pub(crate) fn split(line: &[u8]) -> Option<Head<'_>> {
    let (time, pid, rest) = match line.first()? {
        b'0'..=b'9' => {
            let (time, n) = parse_iso(line)?;
            let rest = line.get(n..)?.strip_prefix(b" ")?;
            let sp = memchr::memchr(b' ', rest)?;
            let pid = parse_u64(&rest[..sp]).and_then(|p| u32::try_from(p).ok())?;
            (time, Some(pid), &rest[sp + 1..])
        }
        // The untimed form: `LEVEL logger [context] msg`, the context required.
        b'A'..=b'Z' => (RawTime::None, None, line),
        _ => return None,
    };
    let sp = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let level = &rest[..sp];
    let severity = Some(level_severity(level)?);
    let rest = rest.get(sp + 1..).unwrap_or(b"");
    let sp = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let logger = &rest[..sp];
    if logger.is_empty() || !logger[0].is_ascii_alphabetic() && logger[0] != b'_' {
        return None;
    }
    let rest = rest.get(sp + 1..).unwrap_or(b"");
    if pid.is_none() && !untimed_ok(level, logger, rest) {
        return None;
    }
    let (ctx, msg) = if rest.first() == Some(&b'[') && !rest.starts_with(b"[instance: ") {
        match memchr::memchr(b']', rest) {
            Some(e) => {
                let m = &rest[e + 1..];
                (Some(&rest[1..e]), m.strip_prefix(b" ").unwrap_or(m))
            }
            None => (None, rest),
        }
    } else {
        (None, rest)
    };
    Some(Head { time, pid, level, severity, logger, ctx, msg })
}

/// Whether an untimed header is one: a logger of Python module characters followed by the bracketed
/// context (`[req-...]`, `[-]`), or the exception prefix `ERROR <dotted.logger> [instance: ...] ...`.
fn untimed_ok(level: &[u8], logger: &[u8], rest: &[u8]) -> bool {
    if !logger.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) {
        return false;
    }
    let context = rest.first() == Some(&b'[') && !rest.starts_with(b"[instance: ");
    let exception_prefix = level == b"ERROR"
        && logger.contains(&b'.')
        && logger.iter().all(|c| !c.is_ascii_uppercase())
        && !rest.is_empty();
    context || exception_prefix
}

/// The `req-...` token of a request context, else its first token that is not a placeholder.
fn request_id(ctx: &[u8]) -> Option<&[u8]> {
    // The common context starts with its `req-` token: that is the answer, found without splitting.
    if ctx.starts_with(b"req-") {
        return Some(&ctx[..memchr::memchr(b' ', ctx).unwrap_or(ctx.len())]);
    }
    let mut toks = ctx.split(|c| *c == b' ').filter(|t| !t.is_empty());
    let first = toks.clone().find(|t| *t != b"-" && *t != b"None");
    toks.find(|t| t.starts_with(b"req-")).or(first)
}

/// Splits a leading `[instance: uuid] ` off a message.
fn instance(msg: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if let Some(r) = msg.strip_prefix(b"[instance: ") {
        if let Some(e) = memchr::memchr(b']', r) {
            let m = &r[e + 1..];
            return (Some(&r[..e]), m.strip_prefix(b" ").unwrap_or(m));
        }
    }
    (None, msg)
}

impl OsloParser {
    /// True when `h` continues the traceback of the current record (and updates the state).
    fn continues(&mut self, h: &Head<'_>, body: &[u8]) -> bool {
        if !self.have_record || h.pid != self.pid || h.logger != self.logger.as_slice() {
            return false;
        }
        if h.level == b"TRACE" {
            return true;
        }
        if body.starts_with(b"Traceback (most recent call last)") {
            self.tb = Tb::Frames;
            return true;
        }
        match self.tb {
            Tb::Frames => {
                if !body.starts_with(b"  ") {
                    // The exception line ends the traceback.
                    self.tb = Tb::Ended;
                }
                true
            }
            Tb::Ended => {
                let chained = body.is_empty()
                    || body.starts_with(b"During handling of the above exception")
                    || body.starts_with(b"The above exception was the direct cause");
                if !chained {
                    self.tb = Tb::Idle;
                }
                chained
            }
            Tb::Idle => false,
        }
    }
}

impl Parser for OsloParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(h) = split(line) else {
            // A bare traceback line or a continuation written without the header attaches.
            super::util::headerless(at, line, self.have_record, out);
            return;
        };
        let (inst, body) = instance(h.msg);
        if self.continues(&h, body) {
            out.attach(at, body);
            return;
        }
        self.have_record = true;
        self.pid = h.pid;
        self.logger.clear();
        self.logger.extend_from_slice(h.logger);
        self.tb = Tb::Idle;
        let mut rec = Record::new(h.time, h.msg);
        rec.pid = h.pid;
        rec.severity = h.severity;
        rec.program = Some(text(h.logger));
        let req = h.ctx.and_then(request_id);
        // Sized up front: `push` on the empty Vec takes the slower growth path.
        rec.fields = Vec::with_capacity(req.is_some() as usize + inst.is_some() as usize);
        if let Some(r) = req {
            rec.fields.push((Cow::Borrowed("request_id"), text(r)));
        }
        if let Some(i) = inst {
            rec.fields.push((Cow::Borrowed("instance"), text(i)));
        }
        out.record(at, rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{run, Got};

    const HDR: &str = "2025-10-13 19:56:10.412 7 ERROR nova.compute.manager [req-6c1f 9f0e 1a2b - - default default]";

    #[test]
    fn header_fields_and_traceback() {
        let text = format!(
            "{HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Failed to attach volume\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Traceback (most recent call last):\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11]   File \"/usr/lib/python3/nova/virt/block_device.py\", line 612, in _volume_attach\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11]     connector, instance)\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] libvirt.libvirtError: Timed out during operation\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] \n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] During handling of the above exception, another exception occurred:\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Traceback (most recent call last):\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11]   File \"x.py\", line 1, in f\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] nova.exception.VolumeNotFound: 4f61\n\
             {HDR} [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Detaching volume 4f61\n"
        );
        let got = run(parser(&SourceCtx::default()), &text);
        let Got::Rec { time, pid, severity, program, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert!(matches!(time, RawTime::Naive { civil_nanos: 1_760_385_370_412_000_000 }));
        assert_eq!((*pid, *severity, program.as_deref()), (Some(7), Some(Severity::Err), Some("nova.compute.manager")));
        assert_eq!(message, "[instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Failed to attach volume");
        assert_eq!(fields[0], ("request_id".into(), "req-6c1f".into()));
        assert_eq!(fields[1], ("instance".into(), "4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11".into()));
        assert_eq!(got[1], Got::Attach(2, "Traceback (most recent call last):".into()));
        assert!((1..10).all(|i| matches!(got[i], Got::Attach(..))), "{got:?}");
        assert_eq!(got[4], Got::Attach(5, "libvirt.libvirtError: Timed out during operation".into()));
        assert!(matches!(&got[10], Got::Rec { line: 11, .. }));
    }

    #[test]
    fn old_trace_level_bare_lines_and_other_pids() {
        let got = run(
            parser(&SourceCtx::default()),
            "garbage first\n\
             2015-10-13 19:46:00.123 1234 ERROR nova.compute.manager [-] Instance failed to spawn\n\
             2015-10-13 19:46:00.123 1234 TRACE nova.compute.manager Traceback (most recent call last):\n\
             2015-10-13 19:46:00.123 1234 TRACE nova.compute.manager   File \"m.py\", line 2, in g\n\
             2015-10-13 19:46:00.124 99 INFO os_brick.initiator.connectors.iscsi [None req-77 admin admin] Trying to connect\n\
             Traceback (most recent call last):\n\
             \n",
        );
        assert_eq!(got[0], Got::Unparsed(1, "garbage first".into()));
        assert!(matches!(&got[1], Got::Rec { fields, .. } if fields.is_empty()));
        assert!(matches!(got[2], Got::Attach(3, _)) && matches!(got[3], Got::Attach(4, _)));
        let Got::Rec { fields, program, .. } = &got[4] else { panic!("{got:?}") };
        assert_eq!(program.as_deref(), Some("os_brick.initiator.connectors.iscsi"));
        assert_eq!(fields[0].1, "req-77");
        assert_eq!(got[5], Got::Attach(6, "Traceback (most recent call last):".into()));
        assert_eq!(got[6], Got::Skip(7));
    }

    #[test]
    fn request_id_fast_path_agrees() {
        fn general(ctx: &[u8]) -> Option<&[u8]> {
            let mut toks = ctx.split(|c| *c == b' ').filter(|t| !t.is_empty());
            let first = toks.clone().find(|t| *t != b"-" && *t != b"None");
            toks.find(|t| t.starts_with(b"req-")).or(first)
        }
        for ctx in [
            "req-6c1f 9f0e 1a2b - - default default",
            "req-0cb93b6e-710c-905f-9725-fdf850106f75 - - - - -",
            "req-",
            "req-x",
            "req- y",
            "None req-77 admin admin",
            " req-1 x",
            "- - - - -",
            "-",
            "",
            "admin req-2",
        ] {
            assert_eq!(request_id(ctx.as_bytes()), general(ctx.as_bytes()), "{ctx}");
        }
    }

    #[test]
    fn near_misses() {
        assert!(detect(b"2025-10-13 19:46:00.123 1234 INFO nova.compute.manager [-] ok"));
        assert!(!detect(b"2025-10-13 10:56:00.123+0000: 1234: error : virNetSocketReadWire:1791 : EOF"));
        assert!(!detect(b"2025-10-13 19:46:00.123 1234 NOTALEVEL nova [-] x"));
        assert!(!detect(b"2025-10-13 19:46:00,123 - nova - INFO - python logging"));
        assert!(!detect(b"2025-10-13T10:56:00.123456789Z stderr F 1 INFO x"));
        // The pid and level words at their edges.
        assert!(!detect(b"2025-10-13 19:46:00.123 12a4 INFO nova [-] x"));
        assert!(!detect(b"2025-10-13 19:46:00.123 1234"));
        assert!(!detect(b"2025-10-13 19:46:00.123  1234 INFO nova x"));
        assert!(!detect(b"2025-10-13 19:46:00.123 1234 CRITICALS nova x"));
        assert!(!detect(b"2025-10-13 19:46:00.123 1234 INFO"));
        assert!(detect(b"2025-10-13 19:46:00.123 1234 CRITICAL nova x"));
        assert!(detect(b"2025-10-13 19:46:00.123 1234 WARN n"));
    }

    #[test]
    fn the_untimed_form_devstack_writes_to_the_journal() {
        let got = run(
            parser(&SourceCtx::default()),
            "WARNING cinder.volume.manager [req-857e6c72-9d99-4dec-8a41-016ebe935b53 None None] Unable to update stats, LVMVolumeDriver -3.0.0 (config name lvmdriver-1) driver is uninitialized.\n\
             ERROR nova.compute.manager [None req-1 admin admin] [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Instance failed to spawn\n\
             ERROR nova.compute.manager [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] Traceback (most recent call last):\n\
             ERROR nova.compute.manager [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11]   File \"m.py\", line 2, in g\n\
             ERROR nova.compute.manager [instance: 4f2f9a1c-0d7e-4d2b-9c1e-3b5a7d9e0f11] nova.exception.BuildAbortException: x\n",
        );
        let Got::Rec { time, pid, severity, program, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert!(matches!(time, RawTime::None) && pid.is_none(), "{got:?}");
        assert_eq!((*severity, program.as_deref()), (Some(Severity::Warning), Some("cinder.volume.manager")));
        assert_eq!(fields[0].1, "req-857e6c72-9d99-4dec-8a41-016ebe935b53");
        let Got::Rec { fields, .. } = &got[1] else { panic!("{got:?}") };
        assert_eq!(fields[0].1, "req-1");
        // The exception prefix (`ERROR %(name)s %(instance)s`) has no context: the traceback attaches.
        assert!((2..5).all(|i| matches!(got[i], Got::Attach(..))), "{got:?}");
    }

    #[test]
    fn untimed_near_misses() {
        assert!(detect(b"ERROR nova.compute.manager [req-1 - - - - -] x"));
        assert!(detect(b"CRITICAL nova [-] Unhandled error"));
        // No bracketed context after the logger, or not a level word: prose, other formats.
        assert!(detect(b"ERROR nova.compute.manager AttributeError: module 'libvirt' has no attribute 'X'"));
        assert!(!detect(b"ERROR nova Instance failed"));
        assert!(!detect(b"WARNING nova.compute.manager Instance failed"));
        assert!(!detect(b"ERROR Foo.Bar happened"));
        assert!(!detect(b"ERROR: something failed [x]"));
        assert!(!detect(b"ERROR:root:[x] y"));
        assert!(!detect(b"WARNING [instance: 4f2f] x"));
        assert!(!detect(b"INFO some words [x] y"));
        assert!(!detect(b"Failed to start [x]"));
    }
}

//! Syslog files: RFC 3164 (`Oct 13 19:51:02 host prog[pid]: msg`, optionally `<PRI>`-prefixed, with
//! busybox's `facility.level` after the host), rsyslog's high-precision RFC 3339 stamps, and RFC 5424
//! (`<34>1 2025-10-13T19:51:02.003Z host app procid msgid [sd] msg`).
//!
//! Kernel lines keep their `[   57.022491]` uptime stamp as `boot_nanos` (it anchors the ring buffer)
//! and lose it from the message, so the message reads as in `dmesg`. Multi-line kernel reports are
//! grouped with [`super::ktrace`].
//!
//! See: RFC 3164 section 4.1, RFC 5424 section 6, rsyslog `RSYSLOG_FileFormat` template, busybox
//! syslogd `-S`/`-O` output (`timestamp host facility.level tag: msg`).

use std::borrow::Cow;

use rootline_event::Severity;

use super::ktrace::{ReportState, Role};
use super::util::{split_prog_pid, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{parse_bsd, parse_iso};
use crate::time::RawTime;

/// True when `line` looks like a syslog line of any supported shape: a stamp, a host and a tag
/// (`prog:` or busybox's `facility.level`). A stamp followed by free text is not syslog.
pub fn detect(line: &[u8]) -> bool {
    split(line).is_some_and(|p| !p.tag.is_empty() || p.facility_level.is_some())
}

/// A syslog parser.
pub fn parser(_: &SourceCtx) -> Box<dyn Parser> {
    Box::new(SyslogParser::default())
}

#[derive(Default)]
struct SyslogParser {
    report: ReportState,
    hosts: Recent,
    programs: Recent,
}

/// The texts of a header word that lines repeat (a file's host, its handful of programs), checked as
/// UTF-8 once and then lent for each line that repeats them.
#[derive(Default)]
pub(crate) struct Recent {
    texts: Vec<String>,
    /// The slot the next new text takes once all are used.
    next: usize,
}

impl Recent {
    /// How many texts are kept: a line's word is compared with each.
    const SLOTS: usize = 8;

    /// The text of `b`, as [`text`] gives it.
    pub(crate) fn text(&mut self, b: &[u8]) -> &str {
        // Bytes equal to a kept text are valid UTF-8, so that text is theirs.
        let slot = match self.texts.iter().position(|t| t.as_bytes() == b) {
            Some(i) => i,
            None if self.texts.len() < Self::SLOTS => {
                self.texts.push(text(b).into_owned());
                self.texts.len() - 1
            }
            None => {
                let i = self.next;
                self.next = (i + 1) % Self::SLOTS;
                // The slot's buffer is reused: no allocation once it is long enough.
                self.texts[i].clear();
                self.texts[i].push_str(&text(b));
                i
            }
        };
        &self.texts[slot]
    }
}

/// The parts of one syslog line.
pub(crate) struct Parts<'a> {
    pub time: RawTime,
    pub pri: Option<u8>,
    pub host: &'a [u8],
    pub facility_level: Option<&'a [u8]>,
    pub tag: &'a [u8],
    pub msg: &'a [u8],
}

fn parse_pri(line: &[u8]) -> (Option<u8>, &[u8]) {
    if line.first() == Some(&b'<') {
        if let Some(end) = line.iter().take(5).position(|&c| c == b'>') {
            if let Some(p) = super::util::parse_u64(&line[1..end]).filter(|p| *p <= 191) {
                return (Some(p as u8), &line[end + 1..]);
            }
        }
    }
    (None, line)
}

/// Splits a syslog line into its parts, or `None` when it is not one.
pub(crate) fn split(line: &[u8]) -> Option<Parts<'_>> {
    let (pri, rest) = parse_pri(line);
    // RFC 5424: "1 " version after PRI.
    if pri.is_some() && rest.starts_with(b"1 ") {
        return split_5424(pri, &rest[2..]);
    }
    let (time, n) = parse_bsd(rest).or_else(|| parse_iso(rest).filter(|(_, n)| *n >= 19))?;
    let rest = rest.get(n..)?;
    let rest = rest.strip_prefix(b" ")?;
    let (host, rest) = word(rest)?;
    if host.is_empty() {
        return None;
    }
    let (facility_level, tag, msg) = after_host(rest);
    Some(Parts { time, pri, host, facility_level, tag, msg })
}

/// The busybox `facility.level`, the tag and the message after the host.
fn after_host(rest: &[u8]) -> (Option<&[u8]>, &[u8], &[u8]) {
    // Fast path: a `tag:` right after the host. That word holds a ':', which no `facility.level` does.
    if let Some(colon) = tag_colon(rest) {
        let (tag, msg) = tag_at(rest, colon);
        return (None, tag, msg);
    }
    after_host_general(rest)
}

fn after_host_general(rest: &[u8]) -> (Option<&[u8]>, &[u8], &[u8]) {
    // busybox: "kern.notice kernel: msg"
    let (facility_level, rest) = match word(rest) {
        Some((w, r)) if is_facility_level(w) => (Some(w), r),
        _ => (None, rest),
    };
    let (tag, msg) = split_tag(rest);
    (facility_level, tag, msg)
}

fn split_5424(pri: Option<u8>, rest: &[u8]) -> Option<Parts<'_>> {
    let (ts, rest) = word(rest)?;
    let time = if ts == b"-" { RawTime::None } else { parse_iso(ts)?.0 };
    let (host, rest) = word(rest)?;
    let (app, rest) = word(rest)?;
    let (procid, rest) = word(rest)?;
    let (_msgid, rest) = word(rest)?;
    let msg = skip_structured_data(rest);
    let msg = msg.strip_prefix("\u{feff}".as_bytes()).unwrap_or(msg);
    let host: &[u8] = if host == b"-" { b"" } else { host };
    let tag: &[u8] = if app == b"-" { b"" } else { app };
    let _ = procid;
    Some(Parts { time, pri, host, facility_level: None, tag, msg })
}

fn skip_structured_data(b: &[u8]) -> &[u8] {
    if let Some(rest) = b.strip_prefix(b"- ") {
        return rest;
    }
    if b == b"-" {
        return b"";
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut esc = false;
        i += 1;
        while let Some(&c) = b.get(i) {
            i += 1;
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b']' {
                break;
            }
        }
    }
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    &b[i.min(b.len())..]
}

fn word(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr::memchr(b' ', b).unwrap_or(b.len());
    let rest = b.get(end + 1..).unwrap_or(b"");
    Some((&b[..end], rest))
}

fn is_facility_level(w: &[u8]) -> bool {
    let Some(dot) = memchr::memchr(b'.', w) else {
        return false;
    };
    let (f, l) = (&w[..dot], &w[dot + 1..]);
    super::util::FACILITIES.contains(&f) && std::str::from_utf8(l).ok().and_then(Severity::from_word).is_some()
}

/// Splits `prog[pid]: msg`; lines without a `tag:` keep everything as the message.
pub(crate) fn split_tag(b: &[u8]) -> (&[u8], &[u8]) {
    match tag_colon(b) {
        Some(colon) => tag_at(b, colon),
        None => (b"", b),
    }
}

/// Where the `:` ending a tag is: within 64 bytes (RFC 3164 says 32; real daemons exceed it) and
/// before any space.
fn tag_colon(b: &[u8]) -> Option<usize> {
    let i = memchr::memchr2(b':', b' ', &b[..b.len().min(64)])?;
    (b[i] == b':').then_some(i)
}

/// The tag before `b[colon]` and the message after it (without one leading space).
fn tag_at(b: &[u8], colon: usize) -> (&[u8], &[u8]) {
    let msg = &b[colon + 1..];
    (&b[..colon], msg.strip_prefix(b" ").unwrap_or(msg))
}

/// Strips a kernel `[  57.022491]` uptime stamp (and a `[T1234]`/`[C0]` caller id) from a message.
pub(crate) fn strip_uptime(msg: &[u8]) -> (Option<i64>, &[u8]) {
    // The usual shape, read as the kernel parser reads it (the same value as the general code below).
    if let Some((nanos, end)) = super::kernel::boot_stamp(msg) {
        let after = super::kernel::strip_caller_id(&msg[end + 1..]);
        return (Some(nanos), after.strip_prefix(b" ").unwrap_or(after));
    }
    let Some(rest) = msg.strip_prefix(b"[") else {
        return (None, msg);
    };
    let Some(end) = memchr::memchr(b']', rest) else {
        return (None, msg);
    };
    let inner = trim(&rest[..end]);
    let Some(dot) = memchr::memchr(b'.', inner) else {
        return (None, msg);
    };
    let (Some(s), (frac, n)) =
        (super::util::parse_u64(&inner[..dot]), crate::time::civil::parse_fraction(&inner[dot + 1..]))
    else {
        return (None, msg);
    };
    if n == 0 || dot + 1 + n != inner.len() {
        return (None, msg);
    }
    let mut after = &rest[end + 1..];
    after = super::kernel::strip_caller_id(after);
    (Some(s as i64 * 1_000_000_000 + frac), after.strip_prefix(b" ").unwrap_or(after))
}

impl Parser for SyslogParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(p) = split(line) else {
            if line.first().is_some_and(|c| *c == b' ' || *c == b'\t') && !trim(line).is_empty() {
                // Some daemons continue a message on an indented line without a header.
                out.attach(at, line);
            } else if trim(line).is_empty() {
                out.skip(at);
            } else {
                out.unparsed(at, line);
            }
            return;
        };
        let (prog, pid) = split_prog_pid(p.tag);
        let is_kernel = prog == b"kernel";
        let (boot, msg) = if is_kernel { strip_uptime(p.msg) } else { (None, p.msg) };
        if is_kernel {
            if self.report.classify(msg) == Role::Continue {
                out.attach(at, msg);
                return;
            }
        } else {
            // Another program's line ends nothing: kernel reports interleave with daemon lines.
        }
        let severity = p.pri.map(Severity::from_level).or_else(|| {
            p.facility_level.and_then(|fl| fl.split(|c| *c == b'.').nth(1)).and_then(|l| Severity::from_word(&text(l)))
        });
        let mut rec = Record::new(p.time, msg);
        rec.boot_nanos = boot;
        rec.host = (!p.host.is_empty()).then(|| Cow::Borrowed(self.hosts.text(p.host)));
        rec.program = (!prog.is_empty()).then(|| Cow::Borrowed(self.programs.text(prog)));
        rec.pid = pid;
        rec.severity = severity;
        if let Some(fl) = p.facility_level {
            rec.fields.push((Cow::Borrowed("facility"), text(fl.split(|c| *c == b'.').next().unwrap_or(b""))));
        }
        if !is_kernel {
            // kubelet and other Kubernetes daemons log klog lines through syslog: the klog header's
            // severity and structured fields are more precise than the syslog priority. So is the
            // level in an oslo.log, libvirtd or logfmt header (nova, libvirtd, containerd through
            // syslog), as for the same lines in CRI files.
            if !super::klog::enrich(msg, &mut rec) {
                if let Some(s) = super::cri::inner_severity(msg) {
                    rec.severity = Some(s);
                }
            }
        }
        out.record(at, rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{run, Got};

    #[test]
    fn an_application_header_inside_the_message_gives_the_severity() {
        let got = run(
            parser(&SourceCtx::default()),
            "Nov 24 17:54:42 matrix_03 libvirtd: 2018-11-24 09:54:42.785+0000: 1809955: error : virNetSocketReadWire:1808 : End of file while reading data: Input/output error\n\
             Oct 13 19:56:10 node nova-compute[7]: 2025-10-13 19:56:10.412 7 ERROR nova.compute.manager [req-1 - - - - -] Boom\n\
             Apr 16 14:12:08 node containerd[8563]: time=\"2024-04-16T14:12:08.6+08:00\" level=error msg=\"collecting metrics for x\"\n\
             Apr 16 14:12:08 node daemon.info containerd[8563]: time=\"2024-04-16T14:12:08.6+08:00\" level=warning msg=\"cleaning up\"\n\
             Apr 16 14:12:09 node sshd[1]: 2 bytes to go\n\
             Nov 24 10:02:11 devstack cinder-volume[9121]: WARNING cinder.volume.manager [req-8 None None] Unable to update stats\n",
        );
        let sev: Vec<Option<Severity>> = got
            .iter()
            .map(|g| match g {
                Got::Rec { severity, .. } => *severity,
                _ => panic!("{got:?}"),
            })
            .collect();
        assert_eq!(
            sev,
            vec![
                Some(Severity::Err),
                Some(Severity::Err),
                Some(Severity::Err),
                Some(Severity::Warning),
                None,
                Some(Severity::Warning)
            ]
        );
        // The message keeps the application's header (only klog headers are moved into fields).
        assert!(matches!(&got[1], Got::Rec { message, .. } if message.starts_with("2025-10-13 19:56:10.412 7 ERROR")));
    }

    #[test]
    fn busybox_lines_from_the_lab() {
        let got = run(
            parser(&SourceCtx::default()),
            "Nov 28 22:38:58 db-node01 daemon.notice multipathd: mpatha: remaining active paths: 1\n\
             Nov 28 22:39:20 db-node01 kern.err kernel: [   57.021751] INFO: task jbd2/dm-0-8:275 blocked for more than 10 seconds.\n\
             Nov 28 22:39:20 db-node01 kern.err kernel: [   57.022196]       Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-2\n\
             Nov 28 22:39:20 db-node01 kern.info kernel: [   57.023480] Call Trace:\n\
             Nov 28 22:39:20 db-node01 kern.info kernel: [   57.024108]  <TASK>\n\
             Nov 28 22:39:20 db-node01 kern.info kernel: [   57.029084]  </TASK>\n\
             Nov 28 22:39:21 db-node01 daemon.notice multipathd: mpatha: sda - path offline\n",
        );
        match &got[0] {
            Got::Rec { host, program, severity, message, time, .. } => {
                assert_eq!(host.as_deref(), Some("db-node01"));
                assert_eq!(program.as_deref(), Some("multipathd"));
                assert_eq!(*severity, Some(Severity::Notice));
                assert_eq!(message, "mpatha: remaining active paths: 1");
                assert_eq!(*time, RawTime::YearLess { month: 11, day: 28, nanos_of_day: 81_538_000_000_000 });
            }
            g => panic!("{g:?}"),
        }
        match &got[1] {
            Got::Rec { boot, message, severity, .. } => {
                assert_eq!(*boot, Some(57_021_751_000));
                assert!(message.starts_with("INFO: task jbd2/dm-0-8:275 blocked"));
                assert_eq!(*severity, Some(Severity::Err));
            }
            g => panic!("{g:?}"),
        }
        assert_eq!(got[2], Got::Attach(3, "      Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-2".into()));
        assert!(matches!(got[4], Got::Attach(5, _)) && matches!(got[5], Got::Attach(6, _)));
        assert!(matches!(&got[6], Got::Rec { line: 7, .. }));
    }

    #[test]
    fn rfc3164_with_pri_and_pid() {
        let got = run(
            parser(&SourceCtx::default()),
            "<30>Oct 13 19:51:02 s-dcn37-com604-krw1a multipathd[2201]: 4f2f: remaining active paths: 0",
        );
        let Got::Rec { pid, severity, program, .. } = &got[0] else { panic!() };
        assert_eq!((*pid, *severity, program.as_deref()), (Some(2201), Some(Severity::Info), Some("multipathd")));
    }

    #[test]
    fn rsyslog_precise_and_5424() {
        let got = run(
            parser(&SourceCtx::default()),
            "2025-10-13T19:51:02.123456+09:00 node1 kernel: [ 5123.000100] sd 3:0:0:1: [sdv] tag#12 FAILED\n\
             <165>1 2025-10-13T10:51:02.003Z node1 nova-compute 1234 ID47 [exampleSDID@32473 iut=\"3\" eventID=\"1011\"] attach ok",
        );
        let Got::Rec { time, boot, message, .. } = &got[0] else { panic!() };
        assert!(matches!(time, RawTime::Exact { offset_secs: 32_400, .. }));
        assert_eq!(*boot, Some(5_123_000_100_000));
        assert_eq!(message, "sd 3:0:0:1: [sdv] tag#12 FAILED");
        let Got::Rec { program, message, severity, .. } = &got[1] else { panic!() };
        assert_eq!(program.as_deref(), Some("nova-compute"));
        assert_eq!(message, "attach ok");
        assert_eq!(*severity, Some(Severity::Notice));
    }

    #[test]
    fn klog_messages_give_severity_and_fields() {
        let got = run(
            parser(&SourceCtx::default()),
            "Oct 13 19:56:01 s-dcn37-com604-krw1a kubelet[1234]: E1013 19:56:01.123456    1234 prober.go:104] \"Probe failed\" probeType=\"Liveness\" pod=\"openstack/libvirt-libvirt-default-x7k2p\" containerName=\"libvirt\"",
        );
        let Got::Rec { time, pid, severity, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert!(matches!(time, RawTime::YearLess { nanos_of_day: 71_761_000_000_000, .. }));
        assert_eq!((*pid, *severity), (Some(1234), Some(Severity::Err)));
        assert!(message.starts_with("\"Probe failed\" probeType="));
        assert!(fields.contains(&("pod".into(), "libvirt-libvirt-default-x7k2p".into())));
        assert!(fields.contains(&("container".into(), "libvirt".into())));
    }

    /// The `tag:` fast path after the host reads what the general code does, and near misses (no
    /// colon, a space first, a colon past 64 bytes, busybox words) take the general code.
    #[test]
    fn after_host_fast_path_agrees() {
        let check = |s: &[u8]| assert_eq!(after_host(s), after_host_general(s), "{:?}", String::from_utf8_lossy(s));
        for s in [
            "multipathd[2201]: 4f2f: remaining active paths: 0",
            "kernel: [ 57.0] x",
            "kernel:",
            "kernel:no space",
            ": empty tag",
            "daemon.notice multipathd: mpatha",
            "kern.err: kernel: x",
            "kern.err:x kernel: x",
            "user.info:",
            "no tag here: at all",
            "",
            " leading space: x",
            &format!("{}: too far", "a".repeat(64)),
            &format!("{}: just in", "a".repeat(63)),
        ] {
            check(s.as_bytes());
        }
        let far = format!("{}: x", "a".repeat(64));
        assert_eq!(split_tag(far.as_bytes()), (&b""[..], far.as_bytes()));
        assert_eq!(split_tag(&far.as_bytes()[1..]), (&far.as_bytes()[1..64], &b"x"[..]));
        assert_eq!(split_tag(b"a b: x"), (&b""[..], &b"a b: x"[..]));
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&"((kern|daemon|local7)\\.(notice|err|info|x)|[a-z.:\\[\\] ]{0,70})[ :]?[a-z: ]{0,8}", |s| {
                check(s.as_bytes());
                Ok(())
            })
            .unwrap();
    }

    /// The kernel's one-pass stamp reader and the general reading give the same uptime and rest.
    #[test]
    fn uptime_stamps_fast_and_general() {
        let cases: [(&[u8], Option<i64>, &[u8]); 8] = [
            (b"[   57.022491] sd 2:0:0:1: rejecting I/O", Some(57_022_491_000), b"sd 2:0:0:1: rejecting I/O"),
            (b"[86406.4][T1234] msg", Some(86_406_400_000_000), b"msg"),
            (b"[1.123456789] msg", Some(1_123_456_789), b"msg"),
            // Left to the general reading: past 2^32 seconds, spaces inside, ten fraction digits.
            (b"[4294967296.5] msg", Some(4_294_967_296_500_000_000), b"msg"),
            (b"[ 1.5 ] msg", Some(1_500_000_000), b"msg"),
            (b"[1.1234567891] msg", Some(1_123_456_789), b"msg"),
            (b"[1.] msg", None, b"[1.] msg"),
            (b"[T12] msg", None, b"[T12] msg"),
        ];
        for (msg, uptime, rest) in cases {
            assert_eq!(strip_uptime(msg), (uptime, rest), "{}", String::from_utf8_lossy(msg));
        }
    }

    /// A kept text is lent only for the same bytes; invalid UTF-8 keeps `text`'s escaping; a ninth
    /// text takes the oldest slot.
    #[test]
    fn recent_texts() {
        let mut r = Recent::default();
        assert_eq!(r.text(b"host-a"), "host-a");
        assert_eq!(r.text(b"host-b"), "host-b");
        assert_eq!(r.text(b"host-a"), "host-a");
        // Invalid UTF-8 is escaped as `text` escapes it; the escape's own bytes have the same text.
        assert_eq!(r.text(b"bad\xff"), "bad\\xFF");
        assert_eq!(r.text(br"bad\xFF"), "bad\\xFF");
        assert_eq!(r.text(b"bad\xff"), "bad\\xFF");
        assert_eq!(r.text(b"bad\xfe"), "bad\\xFE");
        for i in 0..20 {
            let w = format!("prog{i}");
            assert_eq!(r.text(w.as_bytes()), w);
            assert_eq!(r.text(b"host-a"), "host-a");
        }
        assert_eq!(r.texts.len(), Recent::SLOTS);
    }

    #[test]
    fn garbage_is_unparsed_not_lost() {
        let got = run(parser(&SourceCtx::default()), "not a syslog line\n\n");
        assert_eq!(got[0], Got::Unparsed(1, "not a syslog line".into()));
        assert_eq!(got[1], Got::Skip(2));
    }
}

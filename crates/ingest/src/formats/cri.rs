//! CRI container log files, as the kubelet and the container runtime write them under
//! `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log` (symlinked from
//! `/var/log/containers/<pod>_<namespace>_<container>-<id>.log`):
//! `2025-10-13T10:56:00.123456789Z stderr F msg`.
//!
//! Each line is an RFC 3339 time, the stream (`stdout`/`stderr`, field `stream`), a tag and the
//! message. Tag `P` marks a partial line (the runtime split a long line): partial lines are joined,
//! without a separator, with the following lines of the same stream up to the `F` line, as one record
//! at the first line. Namespace, pod, pod uid, container and container id come from the path; the
//! program is the container name. When the message itself starts with a klog, oslo.log, libvirt or
//! logfmt header, its severity is taken (the CRI time is kept). A container that writes oslo.log
//! lines logs a traceback line by line, each with its own header: those lines are joined to the
//! error they belong to, as they are in a log file.
//!
//! See: Kubernetes CRI `pkg/kubelet/kuberuntime/logs/logs.go` (`parseCRILog`: "time stream tag log",
//! tags `P`/`F` separated by `:`), KEP-2186 / kubelet log path layout (`BuildContainerLogsDirectory`,
//! `/var/log/containers` symlink names `<pod>_<namespace>_<container>-<containerID>.log`).

use std::borrow::Cow;

use rootline_event::Severity;

use super::util::trim;
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::parse_iso;
use crate::time::RawTime;

/// True when `line` is a CRI log line.
pub fn detect(line: &[u8]) -> bool {
    split(line).is_some()
}

/// Path hint: kubelet's pod and container log directories.
pub fn path_hint(path: &str) -> f32 {
    if path.contains("log/pods/") || path.contains("log/containers/") {
        0.3
    } else {
        0.0
    }
}

/// A CRI parser; names come from the kubelet log path.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    Box::new(CriParser { names: path_fields(&ctx.path), pending: [None, None], oslo: [None, None], decided: false })
}

/// (field, value) pairs the path states, with the container name first when there is one.
fn path_fields(path: &str) -> Vec<(&'static str, String)> {
    let mut parts = path.rsplit(['/', '!']);
    let (Some(base), Some(dir)) = (parts.next(), parts.next()) else {
        return Vec::new();
    };
    let pods_dir = parts.next();
    let mut out = Vec::new();
    // /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log[.<date>]
    if let Some(pd) = pods_dir.filter(|_| base.contains(".log")) {
        let f: Vec<&str> = pd.split('_').collect();
        if f.len() >= 3 && !dir.is_empty() && path.contains("pods/") {
            out.push(("container", dir.to_string()));
            out.push(("namespace", f[0].to_string()));
            out.push(("pod", f[1..f.len() - 1].join("_")));
            out.push(("pod_uid", f[f.len() - 1].to_string()));
            return out;
        }
    }
    // /var/log/containers/<pod>_<namespace>_<container>-<64-hex id>.log
    if dir == "containers" {
        if let Some(stem) = base.strip_suffix(".log") {
            let f: Vec<&str> = stem.splitn(3, '_').collect();
            if f.len() == 3 && f[2].len() > 65 && f[2].as_bytes()[f[2].len() - 65] == b'-' {
                let (name, id) = f[2].split_at(f[2].len() - 65);
                if id[1..].bytes().all(|c| c.is_ascii_hexdigit()) {
                    out.push(("container", name.to_string()));
                    out.push(("namespace", f[1].to_string()));
                    out.push(("pod", f[0].to_string()));
                    out.push(("container_id", id[1..].to_string()));
                }
            }
        }
    }
    out
}

/// A partial record waiting for its `F` line.
struct Pending {
    at: LinePos,
    time: RawTime,
    msg: Vec<u8>,
}

struct CriParser {
    names: Vec<(&'static str, String)>,
    /// Pending partial records, per stream (stdout, stderr).
    pending: [Option<Pending>; 2],
    /// When the container writes oslo.log lines (nova, cinder, neutron): an oslo reader per
    /// stream that says which lines continue the record before them (a traceback logged line by
    /// line, each with its own header), so a traceback is one record as in a log file.
    oslo: [Option<Box<dyn Parser>>; 2],
    /// Whether the first message has been looked at to choose the above.
    decided: bool,
}

/// What an inner reader said of one line: a record of its own, or a continuation.
#[derive(Default)]
struct Verdict {
    record: bool,
    attach: bool,
}

impl Sink for Verdict {
    fn record(&mut self, _: LinePos, _: Record<'_>) {
        self.record = true;
    }
    fn attach(&mut self, _: LinePos, _: &[u8]) {
        self.attach = true;
    }
    fn skip(&mut self, _: LinePos) {}
    fn unparsed(&mut self, _: LinePos, _: &[u8]) {}
}

/// The parts of a CRI line.
struct Parts<'a> {
    time: RawTime,
    stream: usize,
    partial: bool,
    msg: &'a [u8],
}

const STREAMS: [&str; 2] = ["stdout", "stderr"];

fn split(line: &[u8]) -> Option<Parts<'_>> {
    if !line.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (time, n) = parse_iso(line).filter(|(t, _)| matches!(t, RawTime::Exact { .. }))?;
    let rest = line.get(n..)?.strip_prefix(b" ")?;
    let (stream, rest) =
        if let Some(r) = rest.strip_prefix(b"stdout ") { (0, r) } else { (1, rest.strip_prefix(b"stderr ")?) };
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let tag = &rest[..end];
    // Tags are `:`-separated; the first says partial or full.
    let partial = match tag.split(|c| *c == b':').next() {
        Some(b"P") => true,
        Some(b"F") => false,
        _ => return None,
    };
    Some(Parts { time, stream, partial, msg: rest.get(end + 1..).unwrap_or(b"") })
}

/// The severity an application header at the start of a container's message states.
pub(crate) fn inner_severity(msg: &[u8]) -> Option<Severity> {
    match msg.first()? {
        b'I' | b'W' | b'E' | b'F' if msg.get(1).is_some_and(u8::is_ascii_digit) => {
            super::klog::split_header(msg).map(|h| h.severity)
        }
        b'0'..=b'9' => super::oslo::split(msg).and_then(|h| h.severity).or_else(|| super::libvirt::severity_of(msg)),
        // oslo.log's untimed form (DevStack under systemd: `ERROR nova.compute.manager [req-...] ...`).
        b'A'..=b'Z' => super::oslo::split(msg).and_then(|h| h.severity),
        b'a'..=b'z' if memchr::memchr(b'=', &msg[..msg.len().min(16)]).is_some() => super::logfmt::level_of(msg),
        _ => None,
    }
}

impl CriParser {
    fn emit(&mut self, at: LinePos, time: RawTime, stream: usize, msg: &[u8], out: &mut dyn Sink) {
        if !self.decided {
            self.decided = true;
            if super::oslo::split(msg).is_some() {
                self.oslo = [
                    Some(super::oslo::parser(&SourceCtx::default())),
                    Some(super::oslo::parser(&SourceCtx::default())),
                ];
            }
        }
        if let Some(inner) = self.oslo[stream].as_mut() {
            let mut v = Verdict::default();
            inner.feed(at, msg, &mut v);
            if v.attach && !v.record {
                out.attach(at, msg);
                return;
            }
        }
        let mut rec = Record::new(time, msg);
        rec.severity = inner_severity(msg);
        rec.fields = Vec::with_capacity(1 + self.names.len());
        rec.program = self.names.first().filter(|(k, _)| *k == "container").map(|(_, v)| Cow::Borrowed(v.as_str()));
        rec.fields.push((Cow::Borrowed("stream"), Cow::Borrowed(STREAMS[stream])));
        for (k, v) in &self.names {
            rec.fields.push((Cow::Borrowed(k), Cow::Borrowed(v)));
        }
        out.record(at, rec);
    }
}

/// Longest joined message kept for a run of partial lines (the rest is still counted, not kept).
const MAX_JOINED: usize = 8 << 20;

impl Parser for CriParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(p) = split(line) else {
            if trim(line).is_empty() {
                out.skip(at);
            } else {
                out.unparsed(at, line);
            }
            return;
        };
        match (self.pending[p.stream].take(), p.partial) {
            (None, false) => self.emit(at, p.time, p.stream, p.msg, out),
            (None, true) => {
                self.pending[p.stream] = Some(Pending { at, time: p.time, msg: p.msg.to_vec() });
            }
            (Some(mut pend), partial) => {
                if pend.msg.len() + p.msg.len() <= MAX_JOINED {
                    pend.msg.extend_from_slice(p.msg);
                }
                // The piece is part of the pending record, which is reported at its first line.
                out.skip(at);
                if partial {
                    self.pending[p.stream] = Some(pend);
                } else {
                    self.emit(pend.at, pend.time, p.stream, &pend.msg, out);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        // A partial run cut off by rotation or the end of the capture is still a record.
        let mut rest: Vec<(usize, Pending)> =
            self.pending.iter_mut().enumerate().filter_map(|(s, p)| p.take().map(|p| (s, p))).collect();
        rest.sort_by_key(|(_, p)| p.at.line);
        for (s, p) in rest {
            self.emit(p.at, p.time, s, &p.msg, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    const POD_PATH: &str =
        "/var/log/pods/openstack_libvirt-libvirt-default-x7k2p_5b6f1c2e-8d9a-4e0b-a1c3-7f2e9d4b6a10/libvirt/0.log";

    fn ctx(path: &str) -> SourceCtx {
        SourceCtx { path: path.into(), ..SourceCtx::default() }
    }

    fn field<'a>(fields: &'a [(String, String)], k: &str) -> Option<&'a str> {
        fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn an_oslo_traceback_logged_line_by_line_is_one_record() {
        let path = "/var/log/pods/openstack_nova-compute-default-lw9tc_c3a9f0e1/nova-compute/0.log";
        let got = run(
            parser(&ctx(path)),
            "2025-06-17T08:15:52.787117769Z stdout F 2025-06-17 08:15:52.787 22 ERROR nova.compute.manager [None req-a9a9] Error updating resources for node n1.: libvirt.libvirtError: Failed to connect socket\n\
             2025-06-17T08:15:52.787128837Z stdout F 2025-06-17 08:15:52.787 22 ERROR nova.compute.manager Traceback (most recent call last):\n\
             2025-06-17T08:15:52.787130000Z stdout F 2025-06-17 08:15:52.787 22 ERROR nova.compute.manager   File \"/usr/lib/python3/dist-packages/nova/compute/manager.py\", line 10511, in update_available_resource_for_node\n\
             2025-06-17T08:15:52.787131000Z stdout F 2025-06-17 08:15:52.787 22 ERROR nova.compute.manager libvirt.libvirtError: Failed to connect socket to '/var/run/libvirt/virtqemud-sock': Connection refused\n\
             2025-06-17T08:16:52.000000000Z stdout F 2025-06-17 08:16:52.000 22 INFO nova.compute.manager [None req-b1] Running periodic task\n",
        );
        let r = records(&got);
        assert_eq!(r.len(), 2, "{got:?}");
        assert!(r[0].2.contains("Error updating resources"), "{r:?}");
        assert!(r[1].2.contains("Running periodic task"));
        // The traceback's three lines (its start, a frame, the exception) continue the error.
        assert!(
            matches!(got[1], Got::Attach(2, _))
                && matches!(got[2], Got::Attach(3, _))
                && matches!(got[3], Got::Attach(4, _)),
            "{got:?}"
        );
    }

    #[test]
    fn full_lines_and_pod_path_fields() {
        let got = run(
            parser(&ctx(POD_PATH)),
            "2025-10-13T10:56:00.123456789Z stderr F 2025-10-13 10:56:00.123+0000: 1234: error : virNetSocketReadWire:1791 : End of file\n\
             2025-10-13T10:56:01.000000001Z stdout F \n\
             2025-10-13T10:56:02Z stdout F",
        );
        let Got::Rec { time, program, severity, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_960_123_456_789, offset_secs: 0 });
        assert_eq!((program.as_deref(), *severity), (Some("libvirt"), Some(Severity::Err)));
        assert!(message.ends_with(": End of file"));
        assert_eq!(field(fields, "stream"), Some("stderr"));
        assert_eq!(field(fields, "namespace"), Some("openstack"));
        assert_eq!(field(fields, "pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(field(fields, "container"), Some("libvirt"));
        assert_eq!(field(fields, "pod_uid"), Some("5b6f1c2e-8d9a-4e0b-a1c3-7f2e9d4b6a10"));
        let r = records(&got);
        assert_eq!((r[1].2.as_str(), r[2].2.as_str()), ("", ""));
    }

    #[test]
    fn partial_lines_join_per_stream() {
        let got = run(
            parser(&SourceCtx::default()),
            "2025-10-13T10:56:00.1Z stdout P first \n\
             2025-10-13T10:56:00.2Z stderr F E1013 10:56:00.200000 7 prober.go:104] other stream\n\
             2025-10-13T10:56:00.3Z stdout P second \n\
             2025-10-13T10:56:00.4Z stdout F third\n\
             2025-10-13T10:56:00.5Z stdout P cut off",
        );
        assert!(matches!(&got[0], Got::Rec { line: 2, severity: Some(Severity::Err), .. }), "{got:?}");
        assert_eq!(got[1], Got::Skip(3));
        assert_eq!(got[2], Got::Skip(4));
        let Got::Rec { line: 1, message, time, .. } = &got[3] else { panic!("{got:?}") };
        assert_eq!(message, "first second third");
        assert_eq!(*time, RawTime::Exact { unix_nanos: 1_760_352_960_100_000_000, offset_secs: 0 });
        assert!(matches!(&got[4], Got::Rec { line: 5, message, .. } if message == "cut off"));
    }

    #[test]
    fn containers_symlink_names() {
        let id = "753ac7cfab3c1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e";
        let p = format!("/var/log/containers/libvirt-libvirt-default-x7k2p_openstack_libvirt-{id}.log");
        let f = path_fields(&p);
        assert_eq!(f[0], ("container", "libvirt".to_string()));
        assert_eq!(f[1], ("namespace", "openstack".to_string()));
        assert_eq!(f[2], ("pod", "libvirt-libvirt-default-x7k2p".to_string()));
        assert_eq!(f[3], ("container_id", id.to_string()));
        assert!(path_fields("/var/log/pods/openstack_p_u/c/0.log.20251013-105600").len() == 4);
        assert!(path_fields("/var/log/messages").is_empty());
        assert!(path_hint(&p) > 0.0);
    }

    #[test]
    fn near_misses_and_garbage() {
        assert!(detect(b"2025-10-13T10:56:00.123456789Z stdout F x"));
        assert!(detect(b"2025-10-13T10:56:00.123456789+09:00 stderr P:x x"));
        assert!(!detect(b"2025-10-13T10:56:00.123456789Z stdin F x"));
        assert!(!detect(b"2025-10-13T10:56:00.123456789Z stderr X x"));
        assert!(!detect(b"2025-10-13 10:56:00.123 stderr F naive time"));
        let got = run(parser(&SourceCtx::default()), "garbage\n\n");
        assert_eq!(got, vec![Got::Unparsed(1, "garbage".into()), Got::Skip(2)]);
    }
}

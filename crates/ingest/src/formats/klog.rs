//! Kubernetes klog (the glog header layout): `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`, where
//! `L` is `I`, `W`, `E` or `F`. The date has no year ([`RawTime::YearLess`]); the number after the time
//! is the writing thread's id (kept as the pid); `file:line` becomes the field `caller`.
//!
//! Structured messages (`klog.InfoS`/`ErrorS`: `"Probe failed" probeType="Liveness" pod="ns/name" ...`)
//! keep the whole message; the keys rootline correlates on become fields: `namespace` and `pod` (split
//! from `pod="ns/name"`), `pod_uid`, `container` (from `containerName`), `containerID`, `probeType`,
//! `probeResult`. Lines without a header (multi-line values such as `output=<`...`>`, Go stacks) continue
//! the previous record; the glog file banner (`Log file created at: ...`) is skipped.
//!
//! [`split_header`] and [`enrich`] let syslog, journal and CRI lines that carry a klog message
//! (`kubelet[1234]: E1013 19:56:01.123456 1234 prober.go:104] ...`) use its severity and fields.
//!
//! See: k8s.io/klog/v2 `klog.go` (header: "Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg"), the
//! Kubernetes structured logging KEP-1602 (`"msg" key="value"` serialisation), glog's file banner.

use std::borrow::Cow;

use rootline_event::Severity;

use super::logfmt::{cow_text, quoted_end, Pairs};
use super::util::{parse_u64, text};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::civil::{digits, parse_hms};
use crate::time::RawTime;

/// Components recognised in a source path (longest names first so `kube-proxy` beats `kube`).
const PATH_PROGRAMS: &[(&str, &str)] = &[
    ("kube-controller-manager", "kube-controller-manager"),
    ("kube-apiserver", "kube-apiserver"),
    ("kube-scheduler", "kube-scheduler"),
    ("kube-proxy", "kube-proxy"),
    ("kubelet", "kubelet"),
    ("cloud-controller-manager", "cloud-controller-manager"),
    ("coredns", "coredns"),
];

/// True when `line` starts with a klog header.
pub fn detect(line: &[u8]) -> bool {
    split_header(line).is_some()
}

/// Path hint: a small bonus for files named after a Kubernetes component.
pub fn path_hint(path: &str) -> f32 {
    if program_from_path(path).is_some() {
        0.1
    } else {
        0.0
    }
}

/// A klog parser; the program is the component the path names, else `klog`.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    let program = program_from_path(&ctx.path).unwrap_or_else(|| "klog".to_string());
    Box::new(KlogParser { program, have_record: false })
}

fn program_from_path(path: &str) -> Option<String> {
    if let Some(p) = super::logfmt::program_from_path(path, PATH_PROGRAMS) {
        return Some(p);
    }
    // CSI sidecars and drivers: `csi-rbdplugin.log`, `csi-attacher/0.log`.
    let lower = path.to_ascii_lowercase();
    lower
        .split(['/', '!', '_', '.'])
        .rev()
        .find(|seg| seg.starts_with("csi") && seg.len() <= 64)
        .map(|seg| seg.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-').to_string())
        .filter(|s| !s.is_empty())
}

struct KlogParser {
    program: String,
    have_record: bool,
}

/// The parts of a klog header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    /// From the level letter.
    pub severity: Severity,
    /// Year-less local time.
    pub time: RawTime,
    /// The thread id after the time.
    pub thread: Option<u32>,
    /// `file.go:123`.
    pub caller: &'a [u8],
    /// The message after `] `.
    pub msg: &'a [u8],
}

/// Splits a klog header off `b`: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`.
pub(crate) fn split_header(b: &[u8]) -> Option<Header<'_>> {
    let severity = match b.first()? {
        b'I' => Severity::Info,
        b'W' => Severity::Warning,
        b'E' => Severity::Err,
        b'F' => Severity::Crit,
        _ => return None,
    };
    let month = digits(&b[1..], 2)?;
    let day = digits(&b[3..], 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || b.get(5) != Some(&b' ') {
        return None;
    }
    let (tod, n) = parse_hms(&b[6..])?;
    let mut i = 6 + n;
    let pad = i;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let ds = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == pad || i == ds || b.get(i) != Some(&b' ') {
        return None;
    }
    let thread = parse_u64(&b[ds..i]).and_then(|t| u32::try_from(t).ok());
    let rest = &b[i + 1..];
    let end = memchr::memchr2(b']', b' ', &rest[..rest.len().min(256)])?;
    if rest[end] != b']' || end == 0 {
        return None;
    }
    let msg = &rest[end + 1..];
    Some(Header {
        severity,
        time: RawTime::YearLess { month: month as u8, day: day as u8, nanos_of_day: tod },
        thread,
        caller: &rest[..end],
        msg: msg.strip_prefix(b" ").unwrap_or(msg),
    })
}

/// Fields of a structured klog message (`"msg" key="value" ...`) that rootline correlates on.
pub(crate) fn structured<'a>(msg: &'a [u8], fields: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>) {
    if msg.first() != Some(&b'"') {
        return;
    }
    let end = quoted_end(msg);
    for p in Pairs::new(&msg[end..]).take(64) {
        let name = match p.key {
            b"pod" => {
                // Borrowed unless the value had escapes (pod names never do; be safe anyway).
                let split = |v: Cow<'a, [u8]>| -> (Option<Cow<'a, [u8]>>, Cow<'a, [u8]>) {
                    let Some(s) = memchr::memchr(b'/', &v) else { return (None, v) };
                    match v {
                        Cow::Borrowed(b) => (Some(Cow::Borrowed(&b[..s])), Cow::Borrowed(&b[s + 1..])),
                        Cow::Owned(o) => (Some(Cow::Owned(o[..s].to_vec())), Cow::Owned(o[s + 1..].to_vec())),
                    }
                };
                let (ns, pod) = split(p.value());
                if let Some(ns) = ns {
                    fields.push((Cow::Borrowed("namespace"), cow_text(ns)));
                }
                fields.push((Cow::Borrowed("pod"), cow_text(pod)));
                continue;
            }
            b"podUID" => "pod_uid",
            b"containerName" => "container",
            b"containerID" => "containerID",
            b"probeType" => "probeType",
            b"probeResult" => "probeResult",
            _ => continue,
        };
        fields.push((Cow::Borrowed(name), cow_text(p.value())));
    }
}

/// When `msg` (a syslog, journal or CRI message) starts with a klog header, moves its severity,
/// caller and structured fields into `rec` and strips the header from the message. The record keeps
/// its own time and pid. Returns true when a header was found.
pub(crate) fn enrich<'a>(msg: &'a [u8], rec: &mut Record<'a>) -> bool {
    // Cheap pre-check: a level letter followed by a digit.
    if !(matches!(msg.first(), Some(b'I' | b'W' | b'E' | b'F')) && msg.get(1).is_some_and(u8::is_ascii_digit)) {
        return false;
    }
    let Some(h) = split_header(msg) else {
        return false;
    };
    rec.severity = Some(h.severity);
    rec.message = Cow::Borrowed(h.msg);
    rec.fields.push((Cow::Borrowed("caller"), text(h.caller)));
    structured(h.msg, &mut rec.fields);
    true
}

fn is_banner(line: &[u8]) -> bool {
    const BANNER: &[&[u8]] =
        &[b"Log file created at:", b"Running on machine:", b"Binary: ", b"Log line format:", b"Running as "];
    BANNER.iter().any(|p| line.starts_with(p))
}

impl Parser for KlogParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let Some(h) = split_header(line) else {
            if !self.have_record && is_banner(line) {
                out.skip(at);
            } else {
                super::util::headerless(at, line, self.have_record, out);
            }
            return;
        };
        self.have_record = true;
        let mut rec = Record::new(h.time, h.msg);
        // Room for the caller and every key `structured` keeps: one allocation, no regrowth.
        rec.fields = Vec::with_capacity(8);
        rec.severity = Some(h.severity);
        rec.pid = h.thread;
        rec.program = Some(Cow::Borrowed(&self.program));
        rec.fields.push((Cow::Borrowed("caller"), text(h.caller)));
        structured(h.msg, &mut rec.fields);
        out.record(at, rec);
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
    fn plain_and_structured_lines() {
        let got = run(
            parser(&ctx("/var/log/kubelet.log")),
            "I1013 19:56:01.123456    1234 prober.go:104] \"Probe failed\" probeType=\"Liveness\" pod=\"openstack/libvirt-libvirt-default-x7k2p\" podUID=\"0c1d\" containerName=\"libvirt\" probeResult=\"failure\" output=\"timeout: \\\"virsh list\\\"\"\n\
             W1013 19:56:02.000001 1234 kuberuntime_manager.go:1010] Container libvirt failed liveness probe, will be restarted\n",
        );
        let Got::Rec { time, program, pid, severity, message, fields, .. } = &got[0] else { panic!("{got:?}") };
        assert_eq!(*time, RawTime::YearLess { month: 10, day: 13, nanos_of_day: 71_761_123_456_000 });
        assert_eq!((program.as_deref(), *pid, *severity), (Some("kubelet"), Some(1234), Some(Severity::Info)));
        assert!(message.starts_with("\"Probe failed\" probeType=") && message.ends_with("\\\"virsh list\\\"\""));
        let f = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(f("caller"), Some("prober.go:104"));
        assert_eq!(f("namespace"), Some("openstack"));
        assert_eq!(f("pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(f("pod_uid"), Some("0c1d"));
        assert_eq!(f("container"), Some("libvirt"));
        assert_eq!(f("probeType"), Some("Liveness"));
        assert_eq!(f("probeResult"), Some("failure"));
        assert!(matches!(&got[1], Got::Rec { severity: Some(Severity::Warning), .. }));
    }

    #[test]
    fn continuation_banner_and_garbage() {
        let got = run(
            parser(&ctx("csi-rbdplugin.log")),
            "Log file created at: 2025/10/13 19:40:00\nnot klog\n\
             E1013 19:56:05.5 77 exec.go:12] \"ExecSync cmd failed\" err=<\n\tcontext deadline exceeded\n >\n",
        );
        assert_eq!(got[0], Got::Skip(1));
        assert_eq!(got[1], Got::Unparsed(2, "not klog".into()));
        assert!(
            matches!(&got[2], Got::Rec { program: Some(p), severity: Some(Severity::Err), .. } if p == "csi-rbdplugin")
        );
        assert_eq!(got[3], Got::Attach(4, "\tcontext deadline exceeded".into()));
        assert_eq!(got[4], Got::Attach(5, " >".into()));
        assert_eq!(
            records(&run(parser(&ctx("x.log")), "F1013 10:00:00.000000 1 m.go:1] bye"))[0].1.as_deref(),
            Some("klog")
        );
    }

    #[test]
    fn near_misses_are_not_klog() {
        assert!(detect(b"I1013 19:56:01.123456 1 a.go:1] m"));
        assert!(!detect(b"I1013 19:56:01.123456 prober.go:104] missing thread id"));
        assert!(!detect(b"I1313 19:56:01.123456 1 a.go:1] month 13"));
        assert!(!detect(b"Info 19:56:01 1 a.go:1] m"));
        assert!(!detect(b"I1013 19:56:01.123456 1 has space.go:1] m"));
        assert!(!detect(b"E"));
        // The caller is looked for in the 256 bytes after the thread id.
        let caller = |n: usize| format!("I1013 19:56:01.123456 1 {}] m", "a".repeat(n));
        assert!(detect(caller(255).as_bytes()));
        assert!(!detect(caller(256).as_bytes()));
        assert!(!detect(b"I1013 19:56:01.123456 1 ] empty caller"));
        assert!(!detect(b"I1013 19:56:01.123456 1 no-bracket"));
    }

    #[test]
    fn enrich_strips_the_header() {
        let msg: &[u8] = b"E1013 19:56:01.123456 1234 prober.go:104] \"Probe failed\" pod=\"openstack/p\"";
        let mut rec = Record::new(RawTime::None, msg);
        assert!(enrich(msg, &mut rec));
        assert_eq!(&*rec.message, b"\"Probe failed\" pod=\"openstack/p\"");
        assert_eq!(rec.severity, Some(Severity::Err));
        assert_eq!(rec.fields.len(), 3);
        let mut rec = Record::new(RawTime::None, b"I am fine");
        assert!(!enrich(b"I am fine", &mut rec));
    }
}

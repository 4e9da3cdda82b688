//! Rule tests: every rule's `fires` and `quiet` cases, run through the whole compiled pack.
//!
//! A case is turned into events the simple, documented way:
//! - `line:` is one event; `lines:` is one event per entry, in order. Text after a `\n` inside an
//!   entry is attached to that event as continuation lines (a hung-task report and its call trace).
//! - A line that starts with a syslog header (`Nov 28 22:38:58 db-node01 kern.warn kernel: ...`,
//!   the BusyBox `facility.level` column optional, or an RFC 3339 or `journalctl -o short-iso` stamp
//!   instead of the BSD one) gives the event its time (BSD stamps are read in the year 2000, UTC), host, program, pid and severity,
//!   and the header is removed from the message, as is a kernel `[  57.021751]` stamp after it. The
//!   same header on continuation lines is removed too. A line that starts with only a kernel stamp is
//!   a kernel line (`program: kernel`).
//! - A message (after that header, or the whole line) that starts with the header of a program's own
//!   log is read the way `rootline-ingest` reads it, so a rule sees the event it will see in the
//!   field: a klog header (`E1013 19:56:36.101200    2304 remote_runtime.go:496] `) gives the
//!   severity and the field `caller`, and its structured keys the fields `pod`, `namespace`,
//!   `container`, `containerID`, `probeType`; an oslo.log header (`2025-10-13 19:56:10.412 7 ERROR
//!   nova.compute.manager [req-6c1f ...] `) gives time, pid, severity, the program (the logger) and
//!   the fields `request_id` and `instance`; a libvirtd header (`2025-10-13 10:58:01.123+0000: 4242:
//!   error : qemuMonitorIO:580 : `) gives time, pid, severity, program `libvirtd` and the field
//!   `func`. The same oslo.log header on a continuation line (a traceback) is removed too.
//! - Otherwise the line is the message as written; the case's `program`, `format` (default `plain`),
//!   `severity` and `fields` keys fill the rest (and override what a header said).
//!
//! A fires case fails as **Missing** when the rule produced no finding, **Wrong** when it did but
//! without an entity the case expects or one the rule declares. A quiet case fails as **Noisy** when
//! the rule produced a finding.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use rootline_event::{days_from_civil, Event, Format, Provenance, Severity, Timestamp};

use crate::compile::{Pack, Signature};
use crate::engine::Engine;
use crate::spec::CaseSpec;
use crate::window::run;

/// How a case failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Should fire, did not.
    Missing,
    /// Fired on a quiet case.
    Noisy,
    /// Fired with wrong or missing entities.
    Wrong,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Missing => "Missing",
            FailureKind::Noisy => "Noisy",
            FailureKind::Wrong => "Wrong",
        })
    }
}

/// One failed case.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Missing, Noisy or Wrong.
    pub kind: FailureKind,
    /// Rule id.
    pub rule: String,
    /// Rule file.
    pub file: String,
    /// Which case (`tests.fires[2]`).
    pub case: String,
    /// The case's first line.
    pub line: String,
    /// What differed.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({})\n    line: {}\n    {}",
            self.kind, self.rule, self.case, self.file, self.line, self.detail
        )
    }
}

/// The result of running a pack's cases.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Rules tested.
    pub rules: usize,
    /// Ties tested (`rules/ties/`).
    pub ties: usize,
    /// Cases run.
    pub cases: usize,
    /// Fires cases run.
    pub fires: usize,
    /// Quiet cases run.
    pub quiet: usize,
    /// Failures.
    pub failures: Vec<Failure>,
}

impl Report {
    /// True when every case passed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every case of every rule in `engine`'s pack.
pub fn test_pack(engine: &Engine) -> Report {
    let pack = engine.pack();
    let mut rep = Report { rules: pack.signatures.len(), ..Report::default() };
    for sig in &pack.signatures {
        test_rule(engine, sig, &mut rep);
    }
    crate::ties::test_ties(&pack.ties, None, &mut rep);
    rep
}

/// Runs one rule's cases, appending to `rep`.
pub fn test_rule(engine: &Engine, sig: &Signature, rep: &mut Report) {
    for (i, case) in sig.tests.fires.iter().enumerate() {
        rep.cases += 1;
        rep.fires += 1;
        if let Some(f) = check(engine, sig, case, &format!("tests.fires[{i}]"), true) {
            rep.failures.push(f);
        }
    }
    for (i, case) in sig.tests.quiet.iter().enumerate() {
        rep.cases += 1;
        rep.quiet += 1;
        if let Some(f) = check(engine, sig, case, &format!("tests.quiet[{i}]"), false) {
            rep.failures.push(f);
        }
    }
}

fn check(engine: &Engine, sig: &Signature, case: &CaseSpec, name: &str, fires: bool) -> Option<Failure> {
    let events = case_events(case, &sig.path);
    let analysis = run(engine, events.iter());
    let mine: Vec<_> = analysis.findings.iter().filter(|f| f.signature == sig.id).collect();
    let first_line = case.line.as_deref().or(case.lines.first().map(String::as_str)).unwrap_or("");
    let fail = |kind, detail: String| {
        Some(Failure {
            kind,
            rule: sig.id.clone(),
            file: sig.path.clone(),
            case: name.to_string(),
            line: first_line.lines().next().unwrap_or("").to_string(),
            detail,
        })
    };
    if !fires {
        return match mine.first() {
            Some(f) => fail(FailureKind::Noisy, format!("fired {} with entities {:?}", f.id, f.entities)),
            None => None,
        };
    }
    if mine.is_empty() {
        let others: Vec<&str> = analysis.findings.iter().map(|f| f.signature.as_str()).collect();
        return fail(FailureKind::Missing, format!("no finding; the case fired {others:?}"));
    }
    let got = || mine.iter().map(|f| format!("{:?}", f.entities)).collect::<Vec<_>>().join(", ");
    for (k, v) in &case.entities {
        if !mine.iter().any(|f| f.has(k, v)) {
            return fail(FailureKind::Wrong, format!("expected {k}={v}, captured {}", got()));
        }
    }
    for k in &sig.entities {
        if !mine.iter().all(|f| f.entities.get(k).is_some_and(|v| !v.is_empty())) {
            return fail(FailureKind::Wrong, format!("the rule declares entity `{k}` but captured {}", got()));
        }
    }
    None
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?:(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)) (?P<host>[\w.-]+) (?:(?P<fac>[a-z0-9]+)\.(?P<lvl>[a-z]+) )?(?P<prog>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ",
        )
        .expect("static regex")
    })
}

fn klog_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // See rootline-ingest formats/klog.rs (`split_header`).
    RE.get_or_init(|| {
        Regex::new(r"^(?P<lvl>[IWEF])(?P<mo>\d\d)(?P<d>\d\d) \d\d:\d\d:\d\d(?:\.\d+)? +\d+ (?P<caller>[^\s\]]+)\] ?")
            .expect("static regex")
    })
}

fn oslo_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // See rootline-ingest formats/oslo.rs (`split`).
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<t>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?) (?P<pid>\d+) (?P<lvl>DEBUG|INFO|AUDIT|WARNING|WARN|ERROR|TRACE|CRITICAL|FATAL) (?P<logger>[A-Za-z_][^\s]*) ?",
        )
        .expect("static regex")
    })
}

fn libvirtd_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // See rootline-ingest formats/libvirt.rs (`split_daemon`).
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<t>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d{4}|Z)): (?P<pid>\d+): (?P<lvl>debug|info|warning|error) : (?P<func>\S+:\d+) : ",
        )
        .expect("static regex")
    })
}

fn oslo_severity(level: &str) -> Option<Severity> {
    Some(match level {
        "DEBUG" => Severity::Debug,
        "INFO" => Severity::Info,
        "AUDIT" => Severity::Notice,
        "WARNING" | "WARN" => Severity::Warning,
        "ERROR" | "TRACE" => Severity::Err,
        "CRITICAL" | "FATAL" => Severity::Crit,
        _ => return None,
    })
}

fn logfmt_level_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // See rootline-ingest formats/logfmt.rs (`level_of`): a pair line whose level key comes early.
    RE.get_or_init(|| Regex::new(r"^[a-z]+=\S*(?: [a-z]+=\S*)*? (?:level|lvl)=(?P<lvl>[a-z]+)").expect("static regex"))
}

/// Reads an application header at the start of the event's first line, the way ingest does, and
/// returns the message after it. A klog header is always moved into fields; inside a syslog line
/// (`wrapped`) the oslo.log, libvirtd and logfmt headers give the severity only and stay in the
/// message, as ingest reads them there; at the start of a file's line they are that file's format.
fn app_header<'a>(ev: &mut Event, line: &'a str, wrapped: bool) -> &'a str {
    if wrapped {
        if klog_re().is_match(line) {
            return app_header(ev, line, false);
        }
        let level = oslo_re()
            .captures(line)
            .and_then(|c| oslo_severity(&c["lvl"]))
            .or_else(|| libvirtd_re().captures(line).and_then(|c| Severity::from_word(&c["lvl"])))
            .or_else(|| logfmt_level_re().captures(line).and_then(|c| Severity::from_word(&c["lvl"])));
        if level.is_some() {
            ev.severity = level;
        }
        return line;
    }
    if let Some(c) = klog_re().captures(line) {
        ev.severity = Severity::from_word(&c["lvl"]);
        ev.fields.push(("caller".into(), c["caller"].into()));
        let msg = &line[c.get(0).map_or(0, |m| m.end())..];
        klog_fields(ev, msg);
        return msg;
    }
    if let Some(c) = oslo_re().captures(line) {
        ev.format = Format::Oslo;
        ev.severity = oslo_severity(&c["lvl"]);
        ev.pid = c["pid"].parse().ok();
        ev.program = Some(c["logger"].into());
        if ev.time.is_none() {
            ev.time = iso_time(&format!("{}Z", c["t"].replacen(' ', "T", 1)));
        }
        let mut msg = &line[c.get(0).map_or(0, |m| m.end())..];
        // The request context in brackets; `[instance: ...]` is not one (it stays in the message).
        if msg.starts_with('[') && !msg.starts_with("[instance: ") {
            if let Some(e) = msg.find(']') {
                let toks: Vec<&str> = msg[1..e].split(' ').filter(|t| !t.is_empty()).collect();
                let req =
                    toks.iter().find(|t| t.starts_with("req-")).or(toks.iter().find(|t| **t != "-" && **t != "None"));
                if let Some(r) = req {
                    ev.fields.push(("request_id".into(), (*r).into()));
                }
                msg = msg[e + 1..].strip_prefix(' ').unwrap_or(&msg[e + 1..]);
            }
        }
        if let Some(rest) = msg.strip_prefix("[instance: ") {
            if let Some(e) = rest.find(']') {
                ev.fields.push(("instance".into(), rest[..e].into()));
            }
        }
        return msg;
    }
    if let Some(c) = libvirtd_re().captures(line) {
        ev.format = Format::Libvirt;
        ev.severity = Severity::from_word(&c["lvl"]);
        ev.pid = c["pid"].parse().ok();
        ev.program = Some("libvirtd".into());
        if ev.time.is_none() {
            ev.time = iso_time(&c["t"].replacen(' ', "T", 1));
        }
        ev.fields.push(("func".into(), c["func"].into()));
        return &line[c.get(0).map_or(0, |m| m.end())..];
    }
    line
}

/// The structured klog keys ingest keeps as fields (`pod="ns/name"`, `containerName`, ...).
fn klog_fields(ev: &mut Event, msg: &str) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#" (?P<k>pod|podUID|containerName|containerID|probeType|probeResult)="(?P<v>[^"]*)""#)
            .expect("static regex")
    });
    if !msg.starts_with('"') {
        return;
    }
    for c in re.captures_iter(msg) {
        let v = &c["v"];
        match &c["k"] {
            "pod" => match v.split_once('/') {
                Some((ns, pod)) => {
                    ev.fields.push(("namespace".into(), ns.into()));
                    ev.fields.push(("pod".into(), pod.into()));
                }
                None => ev.fields.push(("pod".into(), v.into())),
            },
            "podUID" => ev.fields.push(("pod_uid".into(), v.into())),
            "containerName" => ev.fields.push(("container".into(), v.into())),
            k => ev.fields.push((k.into(), v.into())),
        }
    }
}

fn kstamp_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\[\s*\d+\.\d+\] ?").expect("static regex"))
}

fn month(m: &str) -> u32 {
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|x| *x == m)
        .map(|i| i as u32 + 1)
        .unwrap_or(1)
}

fn iso_time(s: &str) -> Option<Timestamp> {
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (n(0, 4)?, n(5, 7)?, n(8, 10)?, n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let rest = &s[19..];
    let (frac, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (format!("{:0<9}", &r[..end.min(9)]).parse::<i64>().unwrap_or(0), &r[end..])
        }
        None => (0, rest),
    };
    // `+09:00` (RFC 3339) or `+0900` (journalctl -o short-iso).
    let zone_minutes = match zone.len() {
        6 => zone.get(4..6),
        5 => zone.get(3..5),
        _ => None,
    };
    let off = if let Some(mins) = zone_minutes {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        sign * (zone[1..3].parse::<i32>().ok()? * 3600 + mins.parse::<i32>().ok()? * 60)
    } else {
        0
    };
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + sec - off as i64;
    Some(Timestamp::from_unix_nanos(secs * 1_000_000_000 + frac, off))
}

/// Builds the events of one test case (see the module documentation for the rules).
pub fn case_events(case: &CaseSpec, path: &str) -> Vec<Event> {
    let entries: Vec<&str> = match &case.line {
        Some(l) => vec![l.as_str()],
        None => case.lines.iter().map(String::as_str).collect(),
    };
    entries.iter().enumerate().map(|(i, text)| case_event(case, text, path, i as u64 + 1)).collect()
}

fn case_event(case: &CaseSpec, text: &str, path: &str, n: u64) -> Event {
    let text = text.trim_end_matches('\n');
    let mut ev = Event::new(Format::Plain, Provenance::new(path, n, 0));
    let mut lines: Vec<String> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let mut line = raw;
        if let Some(c) = header_re().captures(raw) {
            if i == 0 {
                ev.format = Format::Syslog;
                ev.host = Some(c["host"].into());
                ev.program = Some(c["prog"].into());
                ev.pid = c.name("pid").and_then(|p| p.as_str().parse().ok());
                ev.severity = c.name("lvl").and_then(|l| Severity::from_word(l.as_str()));
                ev.time = if let Some(iso) = c.name("iso") {
                    iso_time(iso.as_str())
                } else {
                    let (mo, d) = (month(&c["mon"]), c["day"].parse().unwrap_or(1));
                    let secs = days_from_civil(2000, mo, d) * 86_400
                        + c["h"].parse::<i64>().unwrap_or(0) * 3600
                        + c["mi"].parse::<i64>().unwrap_or(0) * 60
                        + c["s"].parse::<i64>().unwrap_or(0);
                    Some(Timestamp::from_unix_nanos(secs * 1_000_000_000, 0))
                };
            }
            line = &raw[c.get(0).map(|m| m.end()).unwrap_or(0)..];
        }
        if let Some(m) = kstamp_re().find(line) {
            if i == 0 && ev.program.is_none() {
                ev.format = Format::Kernel;
                ev.program = Some("kernel".into());
            }
            line = &line[m.end()..];
        }
        if i == 0 {
            let wrapped = ev.format == Format::Syslog;
            line = app_header(&mut ev, line, wrapped);
        } else if let Some(m) = oslo_re().find(line) {
            // oslo.log writes every traceback line with the record's header (and its context).
            line = &line[m.end()..];
            if line.starts_with('[') && !line.starts_with("[instance: ") {
                if let Some(e) = line.find(']') {
                    line = line[e + 1..].strip_prefix(' ').unwrap_or(&line[e + 1..]);
                }
            }
            if let Some(rest) = line.strip_prefix("[instance: ") {
                if let Some(e) = rest.find(']') {
                    line = rest[e + 1..].strip_prefix(' ').unwrap_or(&rest[e + 1..]);
                }
            }
        }
        lines.push(line.to_string());
    }
    ev.attached = lines.len().saturating_sub(1) as u32;
    ev.set_message(lines.join("\n").as_bytes());
    if let Some(p) = &case.program {
        ev.program = Some(p.as_str().into());
    }
    if let Some(f) = case.format.as_deref().and_then(Format::from_name) {
        ev.format = f;
    }
    if let Some(s) = case.severity.as_deref().and_then(Severity::from_word) {
        ev.severity = Some(s);
    }
    if ev.host.is_none() {
        ev.host = Some("test-node".into());
    }
    for (k, v) in &case.fields {
        ev.fields.push((k.as_str().into(), v.as_str().into()));
    }
    ev
}

/// Compiles `pack` into an engine and runs every case.
pub fn test(pack: Pack) -> Report {
    test_pack(&Engine::new(pack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_header_becomes_fields() {
        let case = CaseSpec {
            line: Some(
                "Nov 28 22:38:58 db-node01 kern.warn kernel: [   34.980358] device-mapper: multipath: 254:0: Failing path 8:0."
                    .into(),
            ),
            ..CaseSpec::default()
        };
        let ev = &case_events(&case, "t.yaml")[0];
        assert_eq!(ev.program.as_deref(), Some("kernel"));
        assert_eq!(ev.host.as_deref(), Some("db-node01"));
        assert_eq!(ev.severity, Some(Severity::Warning));
        assert_eq!(ev.message_str(), "device-mapper: multipath: 254:0: Failing path 8:0.");
        assert!(ev.time.is_some());
    }

    #[test]
    fn continuation_lines_attach() {
        let case = CaseSpec {
            line: Some("INFO: task dd:410 blocked for more than 10 seconds.\nCall Trace:\n <TASK>".into()),
            program: Some("kernel".into()),
            ..CaseSpec::default()
        };
        let ev = &case_events(&case, "t.yaml")[0];
        assert_eq!(ev.attached, 2);
        assert_eq!(ev.headline(), b"INFO: task dd:410 blocked for more than 10 seconds.");
    }

    fn one(line: &str) -> Event {
        let case = CaseSpec { line: Some(line.into()), ..CaseSpec::default() };
        case_events(&case, "t.yaml").remove(0)
    }

    fn field<'a>(ev: &'a Event, k: &str) -> Option<&'a str> {
        ev.fields.iter().find(|(n, _)| &**n == k).map(|(_, v)| &**v)
    }

    #[test]
    fn application_headers_are_read_like_ingest_reads_them() {
        // klog through syslog: severity and caller from the klog header, structured keys as fields.
        let ev =
            one("Oct 13 19:56:41 node kubelet[2304]: E1013 19:56:41.523101    2304 prober.go:107] \"Probe failed\" \
             probeType=\"Liveness\" pod=\"openstack/libvirt-x7k2p\" containerName=\"libvirt\"");
        assert_eq!((ev.program.as_deref(), ev.severity), (Some("kubelet"), Some(Severity::Err)));
        assert!(ev.message_str().starts_with("\"Probe failed\""), "{}", ev.message_str());
        assert_eq!(field(&ev, "caller"), Some("prober.go:107"));
        assert_eq!((field(&ev, "namespace"), field(&ev, "pod")), (Some("openstack"), Some("libvirt-x7k2p")));
        assert_eq!(field(&ev, "container"), Some("libvirt"));
        // oslo.log: the logger is the program; the request id and instance are fields; the traceback's
        // repeated headers are removed from its lines.
        let ev = one(
            "2025-10-13 19:56:10.412 7 ERROR nova.compute.manager [req-6c1f 9f0e - - -] [instance: 4f2f9a1c] Boom\n\
             2025-10-13 19:56:10.412 7 ERROR nova.compute.manager [req-6c1f 9f0e - - -] [instance: 4f2f9a1c] Traceback (most recent call last):",
        );
        assert_eq!(
            (ev.program.as_deref(), ev.severity, ev.pid),
            (Some("nova.compute.manager"), Some(Severity::Err), Some(7))
        );
        assert_eq!(ev.message_str(), "[instance: 4f2f9a1c] Boom\nTraceback (most recent call last):");
        assert_eq!((field(&ev, "request_id"), field(&ev, "instance")), (Some("req-6c1f"), Some("4f2f9a1c")));
        assert!(ev.time.is_some());
        // Inside a syslog line an oslo.log, libvirtd or logfmt header gives the severity only.
        let ev = one("Nov 24 17:54:42 matrix_03 libvirtd: 2018-11-24 09:54:42.785+0000: 1809955: error : virNetSocketReadWire:1808 : End of file");
        assert_eq!((ev.program.as_deref(), ev.severity), (Some("libvirtd"), Some(Severity::Err)));
        assert!(ev.message_str().starts_with("2018-11-24 09:54:42.785+0000: 1809955: error"));
        assert!(field(&ev, "func").is_none());
        let ev = one("Apr 16 14:12:08 node containerd[8563]: time=\"2024-04-16T14:12:08+08:00\" level=error msg=\"x\"");
        assert_eq!(ev.severity, Some(Severity::Err));
        // libvirtd: function as a field, the message after it.
        let ev = one("2025-10-13 10:58:01.123+0000: 4242: error : qemuMonitorIO:580 : internal error: End of file from qemu monitor");
        assert_eq!((ev.program.as_deref(), ev.severity, ev.pid), (Some("libvirtd"), Some(Severity::Err), Some(4242)));
        assert_eq!(field(&ev, "func"), Some("qemuMonitorIO:580"));
        assert_eq!(ev.message_str(), "internal error: End of file from qemu monitor");
        // Near misses stay plain.
        let ev = one("E1013 is not a klog header");
        assert_eq!((ev.severity, &*ev.message_str()), (None, "E1013 is not a klog header"));
    }

    #[test]
    fn iso_stamps() {
        let t = iso_time("2025-10-13T19:51:02+09:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-10-13T19:51:02+09:00");
    }
}

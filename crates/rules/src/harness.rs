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
//! - Otherwise the line is the message as written; the case's `program`, `format` (default `plain`),
//!   `severity` and `fields` keys fill the rest.
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

    #[test]
    fn iso_stamps() {
        let t = iso_time("2025-10-13T19:51:02+09:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-10-13T19:51:02+09:00");
    }
}

//! Leads no rule knows, and a template fingerprint of each incident.
//!
//! Signatures find what we already know; templates find the rest. Every event's first line is mined
//! into a message template per host (the streaming miner of `rootline-template`). After the rules have
//! spoken, an incident gets:
//! - **leads**: templates that first appear on the incident's host inside the incident's window and
//!   that no rule matched, with their count and the first line as evidence (hypotheses to look at,
//!   never part of the chain);
//! - a **fingerprint**: the incident's signatures and the stable hashes of the templates of its
//!   matched lines and leads, for finding similar incidents later (the case database).
//!
//! "New" needs a baseline: when the host's evidence starts less than [`MIN_BASELINE_SECS`] before the
//! incident, every template looks new, and the analysis says so instead of listing leads.
//!
//! The operator's own actions are not leads: a capture's command lines and shell prompts (see
//! [`is_operator_action`]) say what someone typed while looking at the fault, not what the fault did,
//! and they are new in the window by construction. They are not mined at all.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use regex::bytes::Regex;
use rootline_event::{Event, EventRef, Format, Severity, Timestamp};
use rootline_rules::Evidence;
use rootline_template::token::FxBuild;
use rootline_template::{Miner, TemplateId};
use serde::Serialize;

/// Seconds of evidence before an incident needed to call a template new.
pub const MIN_BASELINE_SECS: i64 = 300;
/// Leads reported per incident.
pub const MAX_LEADS: usize = 8;

/// A template first seen inside an incident's window that no rule matched.
#[derive(Debug, Clone, Serialize)]
pub struct Lead {
    /// The template (`<*>` for variables).
    pub template: String,
    /// Stable hash of the template text (16 hex digits).
    pub template_hash: String,
    /// Lines of this template on the host.
    pub count: u64,
    /// The first of them.
    pub evidence: Evidence,
    /// The highest severity among them, when stated.
    pub severity: Option<String>,
}

/// What an incident looks like, for similarity search.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fingerprint {
    /// The incident's signatures (rule ids), sorted.
    pub signatures: Vec<String>,
    /// Stable hashes of the templates of the incident's matched lines and of its leads, sorted.
    pub templates: Vec<String>,
}

#[derive(Debug)]
struct Seen {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    count: u64,
    example: Evidence,
    matched: bool,
    severity: Option<Severity>,
}

/// What [`Novelty`] reads of an event (see [`Novelty::feed_line`]).
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The event's host.
    pub host: Option<&'a Arc<str>>,
    /// Its time.
    pub time: Option<Timestamp>,
    /// Its severity.
    pub severity: Option<Severity>,
    /// Display path of its source.
    pub path: &'a Arc<str>,
    /// Its line number there.
    pub line: u64,
    /// The first line of its message.
    pub headline: &'a [u8],
    /// A command or prompt the operator typed ([`is_operator_action`]): not mined, never a lead.
    pub operator: bool,
}

/// True when the line records what the operator did rather than what the node did:
/// - a command log's own records (program `command-log`): its `=== <time> # <command>` headers and
///   its notes (`evidence collection on ... (operator)`); the outputs under them keep the program of
///   their command and stay evidence;
/// - in a capture (command output, plain or generic text), a shell prompt line, with or without the
///   command typed after it: `root@node37:~# multipath -ll`, `(venv) stack@node37:/opt$ nova list`,
///   `[root@node37 ~]# date`, and the bare `# date` / `$ uptime` of `sh`.
///
/// See: Debian's /etc/profile and /etc/skel/.bashrc, `PS1='${debian_chroot:+($debian_chroot)}\u@\h:\w\$ '`
/// (and `PS1='# '` for root, `'$ '` for others, under plain `sh`); Fedora and RHEL's /etc/bashrc,
/// `PS1="[\u@\h \W]\\$ "`; bash(1), PROMPTING: `\$` is `#` for uid 0, else `$`. A prompt is only
/// looked for in captures: a log line whose message happens to start with `# ` is the log's.
pub fn is_operator_action(format: Format, program: Option<&str>, headline: &[u8]) -> bool {
    if program == Some("command-log") {
        return true;
    }
    if !matches!(format, Format::Snapshot | Format::CommandLog | Format::Generic | Format::Plain)
        || memchr::memchr2(b'#', b'$', headline).is_none()
    {
        return false;
    }
    static PROMPT: OnceLock<Regex> = OnceLock::new();
    let re = PROMPT.get_or_init(|| {
        Regex::new(
            r"(?x-u)^ (?:\([^)\s]+\)\ )?    # a virtualenv, conda env or debian_chroot
                (?: (?: [A-Za-z_][A-Za-z0-9_.-]* @ [A-Za-z0-9][A-Za-z0-9_.-]* : [^\s\#$]* [\#$]      # user@host:dir$
                      | \[ [A-Za-z_][A-Za-z0-9_.-]* @ [A-Za-z0-9][A-Za-z0-9_.-]* \ [^\]]* \] [\#$] # [user@host dir]#
                    ) (?:\ |$)
                  | [\#$] \ \S )                  # sh's bare prompt, a command after it",
        )
        .expect("static regex")
    });
    re.is_match(headline)
}

/// Mines templates per host while events stream by.
pub struct Novelty {
    miner: Miner,
    /// Templates by (host index into `hosts`, template).
    seen: HashMap<(u32, TemplateId), Seen, FxBuild>,
    /// The hosts seen, index 0 being "no host"; with the first time of each.
    hosts: Vec<(Option<String>, Option<Timestamp>)>,
    host_index: HashMap<String, u32>,
    /// The last event's host and its index: consecutive events mostly share the host's `Arc`.
    last_host: Option<(Arc<str>, u32)>,
}

impl Default for Novelty {
    fn default() -> Self {
        Novelty {
            miner: Miner::default(),
            seen: HashMap::default(),
            hosts: vec![(None, None)],
            host_index: HashMap::new(),
            last_host: None,
        }
    }
}

/// FNV-1a of a template's text, as 16 hex digits: stable across runs and machines.
pub fn template_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in text.as_bytes() {
        h ^= c as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Novelty {
    /// One event, in timeline order; `matched` says whether any rule hit it.
    pub fn feed(&mut self, ev: &Event, matched: bool) {
        self.feed_ref(&EventRef::from(ev), matched);
    }

    fn host_of(&mut self, host: Option<&Arc<str>>) -> u32 {
        let Some(h) = host else { return 0 };
        if let Some((last, i)) = &self.last_host {
            if Arc::ptr_eq(last, h) || **last == **h {
                return *i;
            }
        }
        let i = match self.host_index.get(&**h) {
            Some(&i) => i,
            None => {
                let i = self.hosts.len() as u32;
                self.hosts.push((Some(h.to_string()), None));
                self.host_index.insert(h.to_string(), i);
                i
            }
        };
        self.last_host = Some((h.clone(), i));
        i
    }

    fn index_of(&self, host: &Option<String>) -> Option<u32> {
        match host {
            None => Some(0),
            Some(h) => self.host_index.get(h).copied(),
        }
    }

    /// [`Novelty::feed`] for a borrowed event.
    pub fn feed_ref(&mut self, ev: &EventRef<'_>, matched: bool) {
        let line = Line {
            host: ev.host,
            time: ev.time,
            severity: ev.severity,
            path: ev.path,
            line: ev.line,
            headline: ev.headline(),
            operator: is_operator_action(ev.format, ev.program, ev.headline()),
        };
        self.feed_line(&line, matched);
    }

    /// [`Novelty::feed`] with only what it looks at of an event.
    pub fn feed_line(&mut self, ev: &Line<'_>, matched: bool) {
        let host = self.host_of(ev.host);
        if let Some(t) = ev.time {
            self.hosts[host as usize].1.get_or_insert(t);
        }
        if ev.operator {
            return;
        }
        let headline = ev.headline;
        let id = self.miner.observe(headline);
        let e = self.seen.entry((host, id)).or_insert_with(|| Seen {
            first: ev.time,
            last: ev.time,
            count: 0,
            example: Evidence {
                path: ev.path.to_string(),
                line: ev.line,
                time: ev.time,
                text: rootline_event::lossless_str(headline).into_owned(),
            },
            matched: false,
            severity: None,
        });
        e.count += 1;
        e.matched |= matched;
        if e.first.is_none() {
            e.first = ev.time;
        }
        if ev.time.is_some() {
            e.last = ev.time;
        }
        if let Some(s) = ev.severity {
            e.severity = Some(e.severity.map_or(s, |x| x.min(s)));
        }
    }

    /// The hosts of the events fed, in order of first appearance.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().filter_map(|(h, _)| h.as_deref())
    }

    /// Folds templates the miner merged since they were first seen, so each template counts once.
    pub fn settle(&mut self) {
        let mut merged: HashMap<(u32, TemplateId), Seen, FxBuild> = HashMap::default();
        for ((host, id), s) in self.seen.drain() {
            let id = self.miner.resolve(id);
            match merged.get_mut(&(host, id)) {
                Some(m) => {
                    m.count += s.count;
                    m.matched |= s.matched;
                    // The earliest line is the example; file and line break ties (hash order must not).
                    let key = |x: &Seen| (x.first.is_none(), x.first, x.example.path.clone(), x.example.line);
                    if key(&s) < key(m) {
                        m.first = s.first;
                        m.example = s.example;
                    }
                    if s.last > m.last {
                        m.last = s.last;
                    }
                    m.severity = match (m.severity, s.severity) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                None => {
                    merged.insert((host, id), s);
                }
            }
        }
        self.seen = merged;
    }

    fn text(&self, id: TemplateId) -> String {
        self.miner.template(id).map(|t| t.render()).unwrap_or_default()
    }

    /// Whether the host's evidence starts early enough before `start` to tell new lines from old.
    pub fn has_baseline(&self, host: &Option<String>, start: Timestamp) -> bool {
        let first = self.index_of(host).and_then(|i| self.hosts[i as usize].1);
        first.is_some_and(|f| start.unix_nanos - f.unix_nanos >= MIN_BASELINE_SECS * 1_000_000_000)
    }

    /// Leads and the fingerprint of an incident on `host` between `start` and `end`.
    pub fn for_incident(
        &self,
        host: &Option<String>,
        start: Timestamp,
        end: Timestamp,
        signatures: impl IntoIterator<Item = String>,
    ) -> (Vec<Lead>, Fingerprint) {
        // A host never seen matches no template.
        let host = self.index_of(host).unwrap_or(u32::MAX);
        let inside = |t: Option<Timestamp>| t.is_some_and(|t| t >= start && t <= end);
        let overlaps = |s: &Seen| s.first.is_some_and(|f| f <= end) && s.last.is_some_and(|l| l >= start);
        let mut leads: Vec<(&Seen, TemplateId)> = self
            .seen
            .iter()
            .filter(|((h, _), s)| *h == host && !s.matched && inside(s.first))
            .map(|((_, id), s)| (s, *id))
            .collect();
        // Most severe first, then the rarest, then the earliest: a new error seen once is a better lead
        // than a new info line seen a thousand times. File and line break ties, so the order (and the
        // fingerprint, which includes the leads) never depends on hashing.
        leads.sort_by(|a, b| {
            let sev = |s: &Seen| s.severity.map_or(8, |x| x as u8);
            sev(a.0)
                .cmp(&sev(b.0))
                .then(a.0.count.cmp(&b.0.count))
                .then(a.0.first.cmp(&b.0.first))
                .then_with(|| (&a.0.example.path, a.0.example.line).cmp(&(&b.0.example.path, b.0.example.line)))
        });
        let leads: Vec<Lead> = leads
            .into_iter()
            .take(MAX_LEADS)
            .map(|(s, id)| {
                let template = self.text(id);
                Lead {
                    template_hash: template_hash(&template),
                    template,
                    count: s.count,
                    evidence: s.example.clone(),
                    severity: s.severity.map(|x| x.as_str().to_string()),
                }
            })
            .collect();
        let mut templates: BTreeSet<String> = self
            .seen
            .iter()
            .filter(|((h, _), s)| *h == host && s.matched && overlaps(s))
            .map(|((_, id), _)| template_hash(&self.text(*id)))
            .collect();
        templates.extend(leads.iter().map(|l| l.template_hash.clone()));
        let signatures: BTreeSet<String> = signatures.into_iter().collect();
        (
            leads,
            Fingerprint { signatures: signatures.into_iter().collect(), templates: templates.into_iter().collect() },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootline_event::{Format, Provenance};

    fn ev(t: i64, line: u64, msg: &str) -> Event {
        let mut e = Event::new(Format::Syslog, Provenance::new("messages", line, 0));
        e.time = Some(Timestamp::from_unix_nanos(t * 1_000_000_000, 0));
        e.host = Some("n1".into());
        e.set_message(msg.as_bytes());
        e
    }

    #[test]
    fn new_unmatched_templates_in_the_window_are_leads() {
        let mut n = Novelty::default();
        for i in 0..50 {
            n.feed(&ev(i * 10, i as u64 + 1, &format!("Started Session {i} of user stack.")), false);
        }
        n.feed(&ev(600, 60, "mpathb: remaining active paths: 0"), true);
        n.feed(&ev(610, 61, "rbd: rbd0: encountered watch error: -107"), false);
        n.feed(&ev(620, 62, "Started Session 99 of user stack."), false);
        n.settle();
        let host = Some("n1".to_string());
        let (start, end) =
            (Timestamp::from_unix_nanos(600_000_000_000, 0), Timestamp::from_unix_nanos(700_000_000_000, 0));
        assert!(n.has_baseline(&host, start));
        let (leads, fp) = n.for_incident(&host, start, end, ["multipath.all-paths-down".to_string()]);
        assert_eq!(leads.len(), 1, "{leads:?}");
        assert!(leads[0].template.contains("watch error"));
        assert_eq!(leads[0].evidence.line, 61);
        assert_eq!(fp.signatures, ["multipath.all-paths-down"]);
        assert_eq!(fp.templates.len(), 2, "the matched line's template and the lead's");
        assert!(!n.has_baseline(&host, Timestamp::from_unix_nanos(100_000_000_000, 0)));
    }

    #[test]
    fn prompts_and_command_log_records_are_the_operator_s() {
        use Format::*;
        for (f, line) in [
            (Generic, "root@s-dcn37-com604-krw1a:~# multipath -ll"),
            (Plain, "stack@node37:/opt/stack$ openstack server list"),
            (Snapshot, "(venv) stack@node37:~$ nova list"),
            (Generic, "[root@node37 ~]# date"),
            (Generic, "[root@node37 log]# "),
            (Plain, "root@node37:~#"),
            (Generic, "# date"),
            (Snapshot, "$ uptime"),
        ] {
            assert!(is_operator_action(f, None, line.as_bytes()), "{line}");
        }
        assert!(is_operator_action(CommandLog, Some("command-log"), b"# date"));
        assert!(is_operator_action(CommandLog, Some("command-log"), b"evidence collection on n37 (operator)"));
        for (f, p, line) in [
            (CommandLog, Some("date"), "Mon Oct 13 21:27:01 KST 2025"),
            (CommandLog, Some("multipath -ll"), "mpathb (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-21 LIO-ORG,TCMU device"),
            (Syslog, Some("sshd"), "# date"),
            (Syslog, Some("sudo"), "root@node37:~# ls"),
            (Generic, None, "#"),
            (Generic, None, "## heading"),
            (Generic, None, "$5 charge"),
            (Generic, None, "user@example.com: mail delivered"),
            (Kernel, None, "sd 7:0:0:1: [sdk] tag#12 FAILED Result: hostbyte=DID_TRANSPORT_DISRUPTED"),
        ] {
            assert!(!is_operator_action(f, p, line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn operator_lines_are_never_leads() {
        let mut n = Novelty::default();
        for i in 0..50 {
            n.feed(&ev(i * 10, i as u64 + 1, &format!("Started Session {i} of user stack.")), false);
        }
        let mut typed = ev(605, 70, "root@n1:~# multipath -ll");
        typed.format = Format::Generic;
        n.feed(&typed, false);
        let mut header = ev(606, 71, "# date");
        header.format = Format::CommandLog;
        header.program = Some("command-log".into());
        n.feed(&header, false);
        n.feed(&ev(610, 61, "rbd: rbd0: encountered watch error: -107"), false);
        n.settle();
        let (start, end) =
            (Timestamp::from_unix_nanos(600_000_000_000, 0), Timestamp::from_unix_nanos(700_000_000_000, 0));
        let (leads, _) = n.for_incident(&Some("n1".to_string()), start, end, Vec::<String>::new());
        let texts: Vec<&str> = leads.iter().map(|l| l.template.as_str()).collect();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains("watch error"));
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(
            template_hash("mpathb: remaining active paths: <*>"),
            template_hash("mpathb: remaining active paths: <*>")
        );
        assert_ne!(template_hash("a"), template_hash("b"));
        assert_eq!(template_hash("").len(), 16);
    }
}

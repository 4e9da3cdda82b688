//! Ties: which lines say that two names denote one object, or objects tied to each other.
//!
//! Operators and daemons name one device many ways (`sd 3:0:0:1`, `sdc`, `8:32`, `connection1:0`,
//! `session1`, `host3`, `mpathb`, its WWID, `/dev/disk/by-id/dm-uuid-mpath-<WWID>`), and one workload
//! several more (a thread `rpc-libvirtd`, its daemon, the container it runs in). Which line says what
//! about which names is knowledge that grows with the field, so it is data, like the signatures:
//! `rules/ties/<name>.yaml`, each with its documentation and its own test cases. The correlator owns
//! the mechanism (the alias graph, the numbering of SCSI disks and device-mapper minors, paths between
//! findings); a tie file says:
//!
//! - `match`: a line that names two (or more) things together: a pattern with named groups (and
//!   `set` templates, `fields` copied from the event), and `ties: [[a, b, relation], ...]` between
//!   the names captured. `kinds` maps a capture name to the kind of object it names when they differ
//!   (`tgid: pid`);
//! - `node`: a naming convention read off one name alone (`connection1:0` belongs to `session1`;
//!   `/dev/disk/by-id/dm-uuid-mpath-<WWID>` is the map of that WWID): `kind` and a `pattern` over its
//!   value; the name itself is `self` in `ties`;
//! - `sequence`: a fixed sequence the kernel prints, where the first line names one object and the
//!   next lines another (`session1: session recovery timed out` and, in the same second, `sd
//!   3:0:0:1: rejecting I/O to offline device`): `first`, `then` and `within`. Its edge cites both
//!   lines; when several `first` lines are open in the window, the line is tied to each and the edge
//!   says it is one of a group.
//!
//! Relations are a fixed vocabulary ([`RELATIONS`]): the correlator knows which of them carry a
//! storage fault (a path to its map) and which only a process relation (a thread to its daemon).

use std::collections::{BTreeMap, HashMap};

use regex::bytes::Regex;
use rootline_event::{Event, Format};
use serde::{Deserialize, Serialize};

use crate::compile::{build_regex, Problem};
use crate::prefilter::Literals;
use crate::spec::{parse_duration, CaseSpec, Text};

/// Relations a tie may declare. Storage relations tie names of one device or its transport; the
/// others tie processes, containers and mounts.
pub const RELATIONS: &[&str] = &[
    // storage
    "path-of",
    "same-device",
    "volume-device",
    "transport-of",
    "may-carry",
    // processes, files, containers
    "process-opens",
    "mounted-on",
    "thread-of",
    "pid-file-of",
    "probes",
    "child-of",
    "runs-in",
    "container-of",
    "process-domain",
    "process-instance",
    "serves-domain",
    "instance-volume",
    "domain-device",
];

/// The one spelling of a name of `kind`, so that every source's spelling meets in one object:
/// an H:C:T:L without leading zeros (`iscsiadm` prints `Channel 00`); a WWID in lower case, with the
/// designator-type digit multipath and udev's scsi_id put before an NAA (`3`), EUI-64 (`2`) or T10
/// (`1`) identifier when a source writes it `naa.`/`eui.`/`t10.`/`0x`; a disk without `/dev/`.
/// See: multipath-tools libmultipath/discovery.c (uid from VPD page 0x83), sg3_utils sg_vpd
/// designator types.
pub fn canonical(kind: &str, value: &str) -> String {
    match kind {
        "hctl" => {
            let parts: Vec<&str> = value.split(':').collect();
            if parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())) {
                parts
                    .iter()
                    .map(|p| p.trim_start_matches('0'))
                    .map(|p| if p.is_empty() { "0" } else { p })
                    .collect::<Vec<_>>()
                    .join(":")
            } else {
                value.to_string()
            }
        }
        "wwid" => {
            let v = value.to_ascii_lowercase();
            for (prefix, digit) in [("naa.", "3"), ("0x", "3"), ("eui.", "2"), ("t10.", "1")] {
                if let Some(rest) = v.strip_prefix(prefix) {
                    return format!("{digit}{rest}");
                }
            }
            v
        }
        "disk" => value.strip_prefix("/dev/").unwrap_or(value).to_string(),
        "scsi_host" => value.strip_prefix("host").unwrap_or(value).to_string(),
        "sid" => value.strip_prefix("session").unwrap_or(value).to_string(),
        "conn" => value.strip_prefix("connection").unwrap_or(value).to_string(),
        _ => value.to_string(),
    }
}

/// A tie file as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TieSpec {
    /// `tie.kebab-name`.
    pub id: String,
    /// Why the line ties the names: the program and version that prints it, the convention.
    pub doc: Text,
    /// A line naming the objects together.
    #[serde(default, rename = "match")]
    pub line: Option<TieMatchSpec>,
    /// A naming convention read off one name.
    #[serde(default)]
    pub node: Option<NodeSpec>,
    /// A kernel sequence tying the object of one line to the object of the lines after it.
    #[serde(default)]
    pub sequence: Option<SequenceSpec>,
    /// `[a, b, relation]` between capture names.
    pub ties: Vec<(String, String, String)>,
    /// Capture name -> object kind, where they differ (`tgid: pid`).
    #[serde(default)]
    pub kinds: BTreeMap<String, String>,
    /// Test cases.
    #[serde(default)]
    pub tests: TieTests,
}

/// Which lines, and the patterns run on them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TieMatchSpec {
    /// Formats; empty = any.
    #[serde(default)]
    pub format: Vec<String>,
    /// Regex on the program; absent = any.
    #[serde(default)]
    pub program: Option<String>,
    /// Patterns (every match of every pattern counts; named groups are names, `_x` are helpers).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Names computed from captures (`hctl: "${_h}:${_c}:${_t}:${_l}"`).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Names copied from the event's fields (name -> field); an event lacking one is not a match.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// A naming convention: a pattern over the value of every object of one kind.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The kind of object (`conn`, `devpath`, `hctl`).
    pub kind: String,
    /// A pattern over its value (anchored by the author); named groups are names.
    pub pattern: String,
    /// Names computed from captures.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

/// A kernel sequence.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceSpec {
    /// The line that starts it.
    pub first: TieMatchSpec,
    /// The lines that follow it.
    pub then: TieMatchSpec,
    /// How long after `first` a `then` line still belongs to it (`2s`).
    pub within: String,
    /// Which open `first` lines a `then` line is tied to: `all` of them (the default: several
    /// sessions timing out together), or only the `latest` (lines that come in pairs, such as
    /// multipathd's `sdg: mark as failed` and its map's `remaining active paths`).
    #[serde(default)]
    pub take: Option<String>,
}

/// A tie's test cases.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TieTests {
    /// Cases that must produce every listed tie.
    #[serde(default)]
    pub fires: Vec<TieCase>,
    /// Cases that must produce no tie of this file; the first is a near miss.
    #[serde(default)]
    pub quiet: Vec<TieCase>,
}

/// One case: events as the rule harness makes them, or one value for a `node` tie.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TieCase {
    /// One event (continuation lines after `\n`).
    #[serde(default)]
    pub line: Option<String>,
    /// Several events in order.
    #[serde(default)]
    pub lines: Vec<String>,
    /// Program when the line has no syslog header.
    #[serde(default)]
    pub program: Option<String>,
    /// Format of the events.
    #[serde(default)]
    pub format: Option<String>,
    /// Event fields.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// For a `node` tie: the value of the object.
    #[serde(default)]
    pub value: Option<String>,
    /// Ties that must be made, `kind=value ~ kind=value` (fires cases).
    #[serde(default)]
    pub ties: Vec<String>,
    /// Where the line or convention comes from.
    #[serde(default)]
    pub from: Option<String>,
}

/// A compiled line matcher.
#[derive(Debug, Clone)]
struct LineMatch {
    formats: Vec<Format>,
    program: Option<regex::Regex>,
    patterns: Vec<Regex>,
    /// Per pattern, what a message must hold for it to match.
    needs: Vec<Needs>,
    /// The index of the first pattern in [`Ties::needs`] (set by [`Ties::new`]).
    first: usize,
    set: Vec<(String, String)>,
    fields: Vec<(String, String)>,
}

/// What a tie is read from.
#[derive(Debug, Clone)]
enum How {
    Line(LineMatch),
    Node { kind: String, pattern: Regex, set: Vec<(String, String)> },
    Sequence { first: LineMatch, then: LineMatch, within: i64, latest: bool },
}

/// A compiled tie.
#[derive(Debug, Clone)]
pub struct Tie {
    /// `tie.name`.
    pub id: String,
    /// Why it holds.
    pub doc: Text,
    /// The file it came from.
    pub path: String,
    /// The declared form (for tests and docs).
    pub spec: TieSpec,
    how: How,
    ties: Vec<(String, String, String)>,
    kinds: BTreeMap<String, String>,
}

/// One tie made: two objects (kind, value) and their relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieEdge {
    /// One end: (kind, value).
    pub a: (String, String),
    /// The other end.
    pub b: (String, String),
    /// The relation ([`RELATIONS`]).
    pub relation: String,
    /// The tie file that made it.
    pub tie: String,
}

fn compile_line(m: &TieMatchSpec, path: &str, field: &str, problems: &mut Vec<Problem>) -> LineMatch {
    let mut out = LineMatch {
        formats: Vec::new(),
        program: None,
        patterns: Vec::new(),
        needs: Vec::new(),
        first: 0,
        set: Vec::new(),
        fields: Vec::new(),
    };
    for f in &m.format {
        match Format::from_name(f) {
            Some(x) => out.formats.push(x),
            None => problems.push(Problem::new(path, &format!("{field}.format"), format!("unknown format `{f}`"))),
        }
    }
    if let Some(p) = &m.program {
        match regex::Regex::new(p) {
            Ok(r) => out.program = Some(r),
            Err(e) => problems.push(Problem::new(path, &format!("{field}.program"), format!("not a regex: {e}"))),
        }
    }
    for (i, p) in m.patterns.iter().enumerate() {
        match build_regex(p) {
            Ok(r) => {
                out.patterns.push(r);
                out.needs.push(Needs::of(p, false));
            }
            Err(e) => problems.push(Problem::new(path, &format!("{field}.patterns[{i}]"), format!("not a regex: {e}"))),
        }
    }
    if m.patterns.is_empty() && m.fields.is_empty() {
        problems.push(Problem::new(path, field, "needs `patterns` or `fields`".into()));
    }
    out.set = m.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    out.fields = m.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    out
}

/// Compiles a tie file; problems are appended.
pub(crate) fn compile_tie(spec: TieSpec, path: &str, problems: &mut Vec<Problem>) -> Option<Tie> {
    let before = problems.len();
    let problem = |field: &str, message: String| Problem::new(path, field, message);
    if !spec.id.starts_with("tie.") {
        problems.push(problem("id", format!("`{}`: a tie id starts with `tie.`", spec.id)));
    }
    if spec.doc.en.trim().is_empty() {
        problems.push(problem("doc.en", "say why the line ties the names (program, version)".into()));
    }
    let how = match (&spec.line, &spec.node, &spec.sequence) {
        (Some(m), None, None) => How::Line(compile_line(m, path, "match", problems)),
        (None, Some(n), None) => match build_regex(&n.pattern) {
            Ok(pattern) => How::Node {
                kind: n.kind.clone(),
                pattern,
                set: n.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            },
            Err(e) => {
                problems.push(problem("node.pattern", format!("not a regex: {e}")));
                return None;
            }
        },
        (None, None, Some(s)) => {
            let within = parse_duration(&s.within).unwrap_or_else(|| {
                problems.push(problem("sequence.within", format!("`{}` is not a duration (2s, 500ms)", s.within)));
                0
            });
            let latest = match s.take.as_deref() {
                None | Some("all") => false,
                Some("latest") => true,
                Some(other) => {
                    problems.push(problem("sequence.take", format!("`{other}` is not `all` or `latest`")));
                    false
                }
            };
            How::Sequence {
                first: compile_line(&s.first, path, "sequence.first", problems),
                then: compile_line(&s.then, path, "sequence.then", problems),
                within,
                latest,
            }
        }
        _ => {
            problems.push(problem("", "give exactly one of `match`, `node` and `sequence`".into()));
            return None;
        }
    };
    if spec.ties.is_empty() {
        problems.push(problem("ties", "no ties declared".into()));
    }
    for (i, (a, b, rel)) in spec.ties.iter().enumerate() {
        if !RELATIONS.contains(&rel.as_str()) {
            problems.push(problem(
                &format!("ties[{i}]"),
                format!("unknown relation `{rel}` (one of: {})", RELATIONS.join(", ")),
            ));
        }
        for n in [a, b] {
            if n.starts_with('_') {
                problems.push(problem(&format!("ties[{i}]"), format!("`{n}` is a helper capture, not a name")));
            }
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Tie {
        id: spec.id.clone(),
        doc: spec.doc.clone(),
        path: path.to_string(),
        ties: spec.ties.clone(),
        kinds: spec.kinds.clone(),
        how,
        spec,
    })
}

/// Names captured by one match: (name, value).
type Names = Vec<(String, String)>;

fn captures_all(re: &Regex, set: &[(String, String)], text: &[u8], out: &mut Vec<Names>) {
    for c in re.captures_iter(text) {
        let mut names: Names = Vec::new();
        for name in re.capture_names().flatten() {
            if let Some(m) = c.name(name) {
                names.push((name.to_string(), String::from_utf8_lossy(m.as_bytes()).into_owned()));
            }
        }
        for (k, tmpl) in set {
            // A template whose groups did not take part is skipped.
            let used: Vec<&str> = tmpl.split("${").skip(1).filter_map(|s| s.split('}').next()).collect();
            if used.iter().all(|g| c.name(g).is_some()) {
                let mut dst = Vec::new();
                c.expand(tmpl.as_bytes(), &mut dst);
                names.push((k.clone(), String::from_utf8_lossy(&dst).into_owned()));
            }
        }
        out.push(names);
    }
}

impl LineMatch {
    fn admits(&self, ev: &Event) -> bool {
        if !self.formats.is_empty() && !self.formats.contains(&ev.format) {
            return false;
        }
        match &self.program {
            Some(re) => ev.program.as_deref().is_some_and(|p| re.is_match(p)),
            None => true,
        }
    }

    /// Every set of names this line gives (`admitted`: per pattern of the pack, whether the message
    /// may match it, from [`Ties::candidates`]).
    fn run(&self, ev: &Event, admitted: &[bool]) -> Vec<Names> {
        if !self.admits(ev) {
            return Vec::new();
        }
        let mut from_fields: Names = Vec::new();
        for (name, field) in &self.fields {
            match ev.field(field).filter(|v| !v.is_empty()) {
                Some(v) => from_fields.push((name.clone(), v.to_string())),
                None => return Vec::new(),
            }
        }
        if self.patterns.is_empty() {
            return vec![from_fields];
        }
        let mut out = Vec::new();
        for (i, re) in self.patterns.iter().enumerate() {
            if admitted.get(self.first + i).copied().unwrap_or(true) {
                captures_all(re, &self.set, &ev.message, &mut out);
            }
        }
        for names in &mut out {
            names.extend(from_fields.iter().cloned());
        }
        out
    }
}

impl Tie {
    /// The kind of object a name denotes: `kinds`, else the name; `self` is the object a `node`
    /// tie reads (`self_kind`).
    fn kind_of<'a>(&'a self, name: &'a str, self_kind: Option<&'a str>) -> &'a str {
        match (name, self_kind) {
            ("self", Some(k)) => k,
            _ => self.kinds.get(name).map(String::as_str).unwrap_or(name),
        }
    }

    /// The edges `names` give (a tie whose names were not all captured gives none for that pair).
    fn edges(&self, names: &Names, self_kind: Option<&str>, out: &mut Vec<TieEdge>) {
        let get = |n: &str| names.iter().find(|(k, v)| k == n && !v.is_empty()).map(|(_, v)| v.clone());
        for (a, b, rel) in &self.ties {
            if let (Some(va), Some(vb)) = (get(a), get(b)) {
                let (ka, kb) = (self.kind_of(a, self_kind), self.kind_of(b, self_kind));
                out.push(TieEdge {
                    a: (ka.to_string(), canonical(ka, &va)),
                    b: (kb.to_string(), canonical(kb, &vb)),
                    relation: rel.clone(),
                    tie: self.id.clone(),
                });
            }
        }
    }
}

/// Every compiled tie of a pack, with a literal prefilter over their line patterns: whether a line
/// is wanted at all costs one pass of the rules' [`crate::prefilter::Literals`] on most lines, and
/// a wanted line runs only the patterns whose [`Needs`] it meets.
#[derive(Debug, Clone, Default)]
pub struct Ties {
    /// The ties, in id order.
    pub ties: Vec<Tie>,
    literals: Literals,
    /// The needs of every pattern of the line and sequence ties, in tie order.
    needs: NeedsSet,
    /// The same, one by one (for a caller that tests them with its own in one [`NeedsSet`]).
    pattern_needs: Vec<Needs>,
    /// The tie of each pattern of `needs`.
    pattern_tie: Vec<usize>,
    /// Per tie: it matches on fields only (run on every line it is offered).
    by_fields: Vec<bool>,
    /// Per literal of `literals`, the patterns (indices of `pattern_needs`) it is the literal of:
    /// a line that holds it is wanted when it meets every [`Needs`] of one of them.
    literal_patterns: Vec<Vec<u32>>,
    /// The patterns without a usable literal, compiled as the ties compile them (multi-line,
    /// ASCII): a line no literal admits is wanted when one matches.
    loose: Option<regex::bytes::Regex>,
    /// A tie matches on fields only: every line is wanted.
    fields_only: bool,
}

impl Ties {
    /// Builds the prefilter.
    pub fn new(mut ties: Vec<Tie>) -> Ties {
        // (literal, pattern): every match of the pattern holds one of its literals.
        let mut literals: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut by_fields = vec![false; ties.len()];
        let mut needs: Vec<Needs> = Vec::new();
        let mut pattern_tie: Vec<usize> = Vec::new();
        let mut loose: Vec<String> = Vec::new();
        let mut fields_only = false;
        for (ti, t) in ties.iter_mut().enumerate() {
            let mut add = |m: &mut LineMatch| {
                if m.patterns.is_empty() {
                    fields_only = true;
                    by_fields[ti] = true;
                }
                m.first = needs.len();
                for p in &m.patterns {
                    let pi = (pattern_tie.len()) as u32;
                    pattern_tie.push(ti);
                    match crate::engine::necessary_literals(p.as_str()) {
                        Some(l) => literals.extend(l.into_iter().map(|l| (l, pi))),
                        None => loose.push(p.as_str().to_string()),
                    }
                }
                needs.extend(m.needs.iter().cloned());
            };
            match &mut t.how {
                How::Line(m) => add(m),
                How::Sequence { first, then, .. } => {
                    add(first);
                    add(then);
                }
                How::Node { .. } => {}
            }
        }
        literals.sort();
        literals.dedup();
        let mut distinct: Vec<Vec<u8>> = Vec::new();
        let mut literal_patterns: Vec<Vec<u32>> = Vec::new();
        for (l, pi) in literals {
            if distinct.last() != Some(&l) {
                distinct.push(l);
                literal_patterns.push(Vec::new());
            }
            literal_patterns.last_mut().expect("a literal").push(pi);
        }
        // Patterns that compiled one by one compile as one; if not, every line is wanted.
        let loose_set = if loose.is_empty() {
            None
        } else {
            // One expression, not a set: a set's search is several times slower, and only whether one
            // matches counts (group names dropped: two patterns may name the same group).
            let alts: Vec<String> = loose.iter().map(|p| format!("(?:{})", unnamed(p))).collect();
            regex::bytes::RegexBuilder::new(&alts.join("|"))
                .multi_line(true)
                .unicode(false)
                .size_limit(4 << 20)
                .build()
                .ok()
        };
        let fields_only = fields_only || (!loose.is_empty() && loose_set.is_none());
        let found = Literals::new(distinct);
        Ties {
            ties,
            literals: found,
            literal_patterns,
            needs: NeedsSet::new(&needs),
            pattern_needs: needs,
            pattern_tie,
            by_fields,
            loose: loose_set,
            fields_only,
        }
    }

    /// True when some line or sequence tie may match a message (cheap: one prefilter pass, the
    /// needs of the patterns whose literal it found, and the patterns without a literal as one
    /// set). Exact in one direction: a message a tie's pattern matches is always wanted.
    pub fn wants(&self, message: &[u8]) -> bool {
        self.fields_only
            || {
                let mut any = false;
                self.literals.find(message, |li| any = any || self.literal_wants(li, message));
                any
            }
            || self.loose_wants(message)
    }

    /// Every message is wanted: a tie matches on fields only (or its patterns without a literal
    /// could not be compiled together).
    pub fn wants_every_message(&self) -> bool {
        self.fields_only
    }

    /// The literals [`Ties::wants`] looks for, numbered as [`Ties::literal_wants`] takes them: a
    /// caller may look for them in one pass with its own.
    pub fn wanted_literals(&self) -> &[Vec<u8>] {
        self.literals.literals()
    }

    /// Whether `message`, which holds literal `li` of [`Ties::wanted_literals`], is wanted for it:
    /// it meets every [`Needs`] of one of the patterns the literal is of.
    pub fn literal_wants(&self, li: usize, message: &[u8]) -> bool {
        self.literal_patterns[li].iter().any(|&p| self.pattern_needs[p as usize].admits(message))
    }

    /// Whether a pattern without a usable literal matches `message` (run as the ties run it:
    /// multi-line, ASCII).
    pub fn loose_wants(&self, message: &[u8]) -> bool {
        self.loose.as_ref().is_some_and(|re| re.is_match(message))
    }

    /// The ties, and their patterns, that may match `message` (those whose [`Needs`] it meets, and
    /// the ties on fields only), or `None` when none may: what [`Ties::line_edges_of`] and
    /// [`Sequencer::feed_of`] run.
    pub fn candidates(&self, message: &[u8]) -> Option<Candidates> {
        let mut patterns = Vec::new();
        self.needs.admitted(message, &mut patterns);
        self.candidates_among(patterns)
    }

    /// The needs of the line and sequence ties' patterns, in the order [`Ties::candidates_among`]
    /// takes them: a caller with patterns of its own can test both in one [`NeedsSet`] pass.
    pub fn pattern_needs(&self) -> &[Needs] {
        &self.pattern_needs
    }

    /// [`Ties::candidates`] from which of [`Ties::pattern_needs`] the message meets (as
    /// [`NeedsSet::admitted`] of them says).
    pub fn candidates_among(&self, patterns: Vec<bool>) -> Option<Candidates> {
        debug_assert_eq!(patterns.len(), self.pattern_needs.len());
        let mut ties = self.by_fields.clone();
        let mut any = ties.contains(&true);
        for (p, _) in patterns.iter().enumerate().filter(|(_, ok)| **ok) {
            ties[self.pattern_tie[p]] = true;
            any = true;
        }
        any.then_some(Candidates { ties, patterns })
    }

    /// The edges the line ties make from `ev`.
    pub fn line_edges(&self, ev: &Event, out: &mut Vec<TieEdge>) {
        if let Some(run) = self.candidates(&ev.message) {
            self.line_edges_of(ev, &run, out);
        }
    }

    /// [`Ties::line_edges`] with the [`Ties::candidates`] of `ev`'s message.
    pub fn line_edges_of(&self, ev: &Event, run: &Candidates, out: &mut Vec<TieEdge>) {
        for (t, _) in self.ties.iter().zip(&run.ties).filter(|(_, r)| **r) {
            if let How::Line(m) = &t.how {
                for names in m.run(ev, &run.patterns) {
                    t.edges(&names, None, out);
                }
            }
        }
    }

    /// The edges the naming conventions make from one object.
    pub fn node_edges(&self, kind: &str, value: &str, out: &mut Vec<TieEdge>) {
        for t in &self.ties {
            if let How::Node { kind: k, pattern, set } = &t.how {
                if k != kind {
                    continue;
                }
                let mut all = Vec::new();
                captures_all(pattern, set, value.as_bytes(), &mut all);
                for mut names in all {
                    names.push(("self".into(), value.to_string()));
                    t.edges(&names, Some(kind), out);
                }
            }
        }
    }

    /// True when any tie reads names off objects of `kind`.
    pub fn has_node_ties(&self, kind: &str) -> bool {
        self.ties.iter().any(|t| matches!(&t.how, How::Node { kind: k, .. } if k == kind))
    }

    /// A fresh state for the sequence ties (one per stream of events).
    pub fn sequencer(&self) -> Sequencer {
        Sequencer { open: HashMap::new() }
    }
}

/// What [`Ties::candidates`] found a message may match: which ties, and which of their patterns.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Per tie.
    ties: Vec<bool>,
    /// Per pattern of the line and sequence ties ([`Ties::needs`]).
    patterns: Vec<bool>,
}

/// The `first` lines of sequences still open, per tie and host.
#[derive(Debug, Default)]
pub struct Sequencer {
    open: HashMap<(usize, Option<String>), Vec<Opened>>,
}

#[derive(Debug, Clone)]
struct Opened {
    time: i64,
    names: Names,
    path: String,
    line: u64,
}

/// A tie a sequence made, with the `first` line it follows.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceEdge {
    /// The edge.
    pub edge: TieEdge,
    /// `path:line` of the sequence's first line.
    pub after: String,
    /// Seconds from the first line to this one.
    pub delay_secs: f64,
    /// How many sequences were open when this line came (more than one: the pairing is one of a
    /// group that started together, not proven one to one).
    pub of_group: usize,
}

impl Sequencer {
    /// Feeds one event (timeline order); returns the edges of sequences it completes.
    pub fn feed(&mut self, ties: &Ties, ev: &Event) -> Vec<SequenceEdge> {
        match ties.candidates(&ev.message) {
            Some(run) => self.feed_of(ties, ev, &run),
            None => Vec::new(),
        }
    }

    /// [`Sequencer::feed`] with the [`Ties::candidates`] of `ev`'s message.
    pub fn feed_of(&mut self, ties: &Ties, ev: &Event, run: &Candidates) -> Vec<SequenceEdge> {
        let mut out = Vec::new();
        let Some(t) = ev.time.map(|t| t.unix_nanos) else { return out };
        let host = ev.host.as_deref().map(str::to_string);
        for (ti, tie) in ties.ties.iter().enumerate() {
            if !run.ties[ti] {
                continue;
            }
            let How::Sequence { first, then, within, latest } = &tie.how else { continue };
            let key = (ti, host.clone());
            for names in then.run(ev, &run.patterns) {
                let Some(open) = self.open.get_mut(&key) else { break };
                open.retain(|o| t - o.time <= *within && t >= o.time);
                // Several sequences open in the window (two sessions timing out in one moment): the
                // line follows one of them, which one the kernel does not say. It is tied to each,
                // and the edge says it is one of a group.
                let n = if *latest { open.len().min(1) } else { open.len() };
                let skip = open.len() - n;
                for o in open.iter().skip(skip) {
                    let mut all = o.names.clone();
                    all.extend(names.iter().cloned());
                    let mut edges = Vec::new();
                    tie.edges(&all, None, &mut edges);
                    for edge in edges {
                        out.push(SequenceEdge {
                            edge,
                            after: format!("{}:{}", o.path, o.line),
                            delay_secs: (t - o.time) as f64 / 1e9,
                            of_group: n,
                        });
                    }
                }
            }
            for names in first.run(ev, &run.patterns) {
                let open = self.open.entry(key.clone()).or_default();
                open.retain(|o| t - o.time <= *within);
                open.push(Opened { time: t, names, path: ev.provenance.path.to_string(), line: ev.provenance.line });
            }
        }
        out
    }
}

/// Parses `kind=value ~ kind=value` of a test case.
fn parse_expected(s: &str) -> Option<((String, String), (String, String))> {
    let (a, b) = s.split_once(" ~ ")?;
    let one = |x: &str| x.trim().split_once('=').map(|(k, v)| (k.to_string(), v.to_string()));
    Some((one(a)?, one(b)?))
}

fn same_pair(e: &TieEdge, want: &((String, String), (String, String))) -> bool {
    (e.a == want.0 && e.b == want.1) || (e.a == want.1 && e.b == want.0)
}

/// Runs every case of every tie whose id starts with `only` (all when `None`), appending failures
/// to `rep`.
pub fn test_ties(ties: &Ties, only: Option<&str>, rep: &mut crate::harness::Report) {
    use crate::harness::{Failure, FailureKind};
    for t in &ties.ties {
        if only.is_some_and(|o| !t.id.starts_with(o)) {
            continue;
        }
        rep.ties += 1;
        let only = Ties::new(vec![t.clone()]);
        let run = |c: &TieCase| -> Vec<TieEdge> {
            let mut out = Vec::new();
            if let Some(v) = &c.value {
                if let How::Node { kind, .. } = &t.how {
                    only.node_edges(kind, v, &mut out);
                }
                return out;
            }
            let case = CaseSpec {
                line: c.line.clone(),
                lines: c.lines.clone(),
                program: c.program.clone(),
                format: c.format.clone(),
                severity: None,
                fields: c.fields.clone(),
                entities: BTreeMap::new(),
                from: c.from.clone(),
            };
            let events = crate::harness::case_events(&case, &t.path);
            let mut seq = only.sequencer();
            for ev in &events {
                only.line_edges(ev, &mut out);
                out.extend(seq.feed(&only, ev).into_iter().map(|s| s.edge));
            }
            out
        };
        let show = |e: &TieEdge| format!("{}={} ~ {}={}", e.a.0, e.a.1, e.b.0, e.b.1);
        let first_line = |c: &TieCase| {
            c.value
                .clone()
                .or_else(|| c.line.clone())
                .or_else(|| c.lines.first().cloned())
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        };
        let mut fail = |kind, case: String, c: &TieCase, detail: String| {
            rep.failures.push(Failure {
                kind,
                rule: t.id.clone(),
                file: t.path.clone(),
                case,
                line: first_line(c),
                detail,
            })
        };
        for (ci, c) in t.spec.tests.fires.iter().enumerate() {
            rep.cases += 1;
            rep.fires += 1;
            let case = format!("tests.fires[{ci}]");
            let got = run(c);
            if c.ties.is_empty() {
                fail(FailureKind::Wrong, case.clone(), c, "the case lists no expected `ties`".into());
            }
            for want in &c.ties {
                match parse_expected(want) {
                    Some(w) if got.iter().any(|e| same_pair(e, &w)) => {}
                    Some(_) => fail(
                        FailureKind::Missing,
                        case.clone(),
                        c,
                        format!("expected `{want}`; made: {}", got.iter().map(show).collect::<Vec<_>>().join("; ")),
                    ),
                    None => {
                        fail(FailureKind::Wrong, case.clone(), c, format!("`{want}` is not `kind=value ~ kind=value`"))
                    }
                }
            }
            if c.from.as_deref().is_none_or(|f| f.trim().is_empty()) {
                fail(FailureKind::Wrong, case.clone(), c, "no `from:` saying where the line comes from".into());
            }
        }
        for (ci, c) in t.spec.tests.quiet.iter().enumerate() {
            rep.cases += 1;
            rep.quiet += 1;
            if let Some(e) = run(c).first() {
                fail(FailureKind::Noisy, format!("tests.quiet[{ci}]"), c, format!("made {}", show(e)));
            }
        }
        let none = TieCase::default();
        if t.spec.tests.fires.is_empty() {
            fail(FailureKind::Missing, "tests".into(), &none, "no fires case".into());
        }
        if t.spec.tests.quiet.is_empty() && !matches!(t.how, How::Node { .. }) {
            fail(
                FailureKind::Missing,
                "tests".into(),
                &none,
                "no quiet case (the first quiet case is a near miss)".into(),
            );
        }
    }
}

/// What every match of a pattern contains: a few sets of strings, each of which every match holds
/// one member of. A text that holds no member of one of the sets cannot match, so the pattern need
/// not run on it (`[\w.:-]+: (?:addmap|load table) \[` needs one of `addmap` and `load table`,
/// `: ` and ` [`). The sets are read off the pattern's syntax (the literals of a sequence, the
/// branches of an alternation, repetitions of at least one); a pattern with no literal outside
/// optional parts needs nothing and always runs. Exact: it never rules out a text the pattern
/// matches. [`NeedsSet`] tests many patterns' needs in one pass.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Every set must have a member in the text; the most selective set (longest shortest member)
    /// first.
    sets: Vec<Vec<Vec<u8>>>,
}

/// How many of a pattern's sets [`Needs`] keeps (the most selective): checking more costs more than
/// the rare text they would rule out.
const NEEDS_KEPT: usize = 3;
/// An alternation of more branches than this needs nothing (too many strings to look for).
const NEEDS_MAX_ANY: usize = 16;
/// The most strings one packed (SIMD) searcher looks for.
const PACKED_MAX: usize = 64;
/// Sets whose strings are all this long are looked for in [`NeedsSet`]'s one pass; shorter ones
/// (a `:`, a ` (`) are met on most lines and looked for only once the others are found.
const NEEDS_LONG: usize = 3;

impl Needs {
    /// The needs of `pattern` as the `regex` crate compiles it: `unicode` as for a `str` regex (or
    /// a `bytes` regex with Unicode on), else as [`crate::compile::build_regex`] does (bytes, ASCII
    /// classes, `(?m)`). A pattern that does not parse needs nothing.
    pub fn of(pattern: &str, unicode: bool) -> Needs {
        let parsed = regex_syntax::ParserBuilder::new()
            .multi_line(!unicode)
            .unicode(unicode)
            .utf8(unicode)
            .build()
            .parse(pattern);
        let Ok(hir) = parsed else { return Needs::default() };
        let mut sets = needs_of(&hir);
        for set in &mut sets {
            // A member that holds another member adds nothing: the text holds the shorter one too.
            let all = set.clone();
            set.retain(|l| !all.iter().any(|o| o.len() < l.len() && memchr::memmem::find(l, o).is_some()));
            set.sort();
            set.dedup();
        }
        let min_len = |s: &Vec<Vec<u8>>| s.iter().map(Vec::len).min().unwrap_or(0);
        sets.sort_by_key(|s| (std::cmp::Reverse(min_len(s)), s.len()));
        sets.dedup();
        sets.truncate(NEEDS_KEPT);
        Needs { sets }
    }

    /// False when `text` cannot match the pattern.
    pub fn admits(&self, text: &[u8]) -> bool {
        self.sets.iter().all(|any| any.iter().any(|l| memchr::memmem::find(text, l).is_some()))
    }

    /// The sets, as strings (for tests and docs).
    pub fn sets(&self) -> Vec<Vec<String>> {
        self.sets.iter().map(|s| s.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect()).collect()
    }
}

/// The [`Needs`] of many patterns, tested in one pass over a text: the strings of each pattern's
/// most selective set are looked for at once, its other sets only when that one is met.
#[derive(Debug, Clone, Default)]
pub struct NeedsSet {
    /// The long strings.
    strings: Vec<Vec<u8>>,
    /// Per long string, the long strings that begin it (itself among them): found where it is.
    prefixes: Vec<Vec<u32>>,
    /// Searchers of the long strings (64 at most each, from the index given), longest first where
    /// several begin at one place: by finding where each match begins and looking again one byte
    /// further, they find every string present.
    packed: Vec<(aho_corasick::packed::Searcher, usize)>,
    /// The same, as an automaton reporting every occurrence, where no packed searcher builds.
    automaton: Option<aho_corasick::AhoCorasick>,
    /// Per pattern, its sets.
    patterns: Vec<PatternNeeds>,
}

/// One pattern's sets in a [`NeedsSet`].
#[derive(Debug, Clone, Default)]
struct PatternNeeds {
    /// Its most selective set, if its strings are long (indices of [`NeedsSet::strings`]).
    first: Option<Vec<u32>>,
    /// Its other sets.
    rest: Vec<Vec<memchr::memmem::Finder<'static>>>,
}

impl NeedsSet {
    /// The needs of `patterns`, in that order.
    pub fn new(patterns: &[Needs]) -> NeedsSet {
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let mut out = Vec::new();
        for n in patterns {
            // The most selective set is looked for in the one pass; the others (and every set of
            // a pattern with no long set) only for the patterns it admits.
            let mut one = PatternNeeds::default();
            for set in &n.sets {
                if one.first.is_none() && set.iter().all(|l| l.len() >= NEEDS_LONG) {
                    let ids = set
                        .iter()
                        .map(|l| match strings.iter().position(|s| s == l) {
                            Some(i) => i as u32,
                            None => {
                                strings.push(l.clone());
                                (strings.len() - 1) as u32
                            }
                        })
                        .collect();
                    one.first = Some(ids);
                } else {
                    one.rest.push(set.iter().map(|l| memchr::memmem::Finder::new(l).into_owned()).collect());
                }
            }
            out.push(one);
        }
        let prefixes = strings
            .iter()
            .map(|s| (0..strings.len() as u32).filter(|&o| s.starts_with(&strings[o as usize])).collect())
            .collect();
        let packed: Option<Vec<_>> = strings
            .chunks(PACKED_MAX)
            .enumerate()
            .map(|(i, chunk)| {
                let mut b = aho_corasick::packed::Config::new()
                    .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
                    .builder();
                b.extend(chunk);
                b.build().map(|s| (s, i * PACKED_MAX))
            })
            .collect();
        let automaton = (packed.is_none() && !strings.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder().kind(Some(aho_corasick::AhoCorasickKind::DFA)).build(&strings).ok()
            })
            .flatten();
        NeedsSet { strings, prefixes, packed: packed.unwrap_or_default(), automaton, patterns: out }
    }

    /// Per pattern, false when `text` cannot match it (`out` is cleared first).
    pub fn admitted(&self, text: &[u8], out: &mut Vec<bool>) {
        out.clear();
        out.reserve(self.patterns.len());
        let count = self.strings.len();
        let (mut small, mut big) = ([0u64; 4], Vec::new());
        let found: &mut [u64] = if count <= 256 {
            &mut small
        } else {
            big.resize(count.div_ceil(64), 0);
            &mut big
        };
        let mut mark = |i: usize| {
            for &p in &self.prefixes[i] {
                found[p as usize / 64] |= 1 << (p % 64);
            }
        };
        if !self.packed.is_empty() {
            for (s, first) in &self.packed {
                let mut at = 0;
                while at < text.len() {
                    let Some(m) = s.find_in(text, aho_corasick::Span::from(at..text.len())) else { break };
                    mark(first + m.pattern().as_usize());
                    at = m.start() + 1;
                }
            }
        } else if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(text) {
                mark(m.pattern().as_usize());
            }
        } else if count > 0 {
            // No searcher: every long string counts as found.
            (0..count).for_each(&mut mark);
        }
        let has = |i: u32| found[i as usize / 64] & (1 << (i % 64)) != 0;
        for n in &self.patterns {
            let ok = n.first.as_ref().is_none_or(|any| any.iter().any(|&i| has(i)))
                && n.rest.iter().all(|any| any.iter().any(|f| f.find(text).is_some()));
            out.push(ok);
        }
    }
}

/// The sets of strings every match of `h` holds a member of (see [`Needs`]).
fn needs_of(h: &regex_syntax::hir::Hir) -> Vec<Vec<Vec<u8>>> {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Literal(l) => vec![vec![l.0.to_vec()]],
        HirKind::Empty | HirKind::Class(_) | HirKind::Look(_) => Vec::new(),
        HirKind::Repetition(r) if r.min == 0 => Vec::new(),
        HirKind::Repetition(r) => needs_of(&r.sub),
        HirKind::Capture(c) => needs_of(&c.sub),
        HirKind::Concat(subs) => subs.iter().flat_map(needs_of).collect(),
        HirKind::Alternation(subs) => {
            // A match is a match of one branch: it holds a member of that branch's best set.
            let mut any: Vec<Vec<u8>> = Vec::new();
            for s in subs {
                let best = needs_of(s)
                    .into_iter()
                    .max_by_key(|set| (set.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(set.len())));
                let Some(best) = best else { return Vec::new() };
                for l in best {
                    if !any.contains(&l) {
                        any.push(l);
                    }
                }
            }
            if any.is_empty() || any.len() > NEEDS_MAX_ANY {
                Vec::new()
            } else {
                vec![any]
            }
        }
    }
}

/// `pattern` with its named groups unnamed (`(?P<x>a)` is `(a)`), for an alternation of patterns
/// that may name the same group.
fn unnamed(pattern: &str) -> String {
    static NAMED: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("compiles"));
    NAMED.replace_all(pattern, "(").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> Result<Tie, Vec<Problem>> {
        let spec: TieSpec = serde_saphyr::from_str(yaml).expect("yaml");
        let mut p = Vec::new();
        compile_tie(spec, "rules/ties/t.yaml", &mut p).ok_or(p)
    }

    #[test]
    fn a_line_tie_makes_an_edge_per_match() {
        let t = compile(
            r#"
id: tie.t
doc: {en: x}
match:
  patterns: ['(?P<_h>\d+):(?P<_c>\d+):(?P<_t>\d+):(?P<_l>\d+)\s+(?P<disk>sd[a-z]+)\s']
  set: {hctl: '${_h}:${_c}:${_t}:${_l}'}
ties: [[hctl, disk, same-device]]
"#,
        )
        .unwrap();
        let ties = Ties::new(vec![t]);
        let mut ev = Event::new(Format::Plain, rootline_event::Provenance::new("x", 1, 0));
        ev.set_message(b"mpatha (3600) dm-3 X,Y\n|- 3:0:0:1 sdc 8:32 active ready running\n`- 4:0:0:1 sdd 8:48 active");
        let mut out = Vec::new();
        ties.line_edges(&ev, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].a, ("hctl".to_string(), "4:0:0:1".to_string()));
        assert_eq!(out[1].b, ("disk".to_string(), "sdd".to_string()));
    }

    #[test]
    fn node_ties_read_a_name() {
        let t = compile(
            r#"
id: tie.c
doc: {en: x}
node: {kind: conn, pattern: '^(?P<sid>\d+):\d+$'}
ties: [[self, sid, transport-of]]
"#,
        )
        .unwrap();
        let ties = Ties::new(vec![t]);
        let mut out = Vec::new();
        ties.node_edges("conn", "12:0", &mut out);
        assert_eq!(
            out,
            vec![TieEdge {
                a: ("conn".into(), "12:0".into()),
                b: ("sid".into(), "12".into()),
                relation: "transport-of".into(),
                tie: "tie.c".into()
            }]
        );
        ties.node_edges("conn", "x", &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn sequences_tie_only_when_unambiguous() {
        let t = compile(
            r#"
id: tie.s
doc: {en: x}
sequence:
  first: {patterns: ['session(?P<sid>\d+): session recovery timed out']}
  then: {patterns: ['sd (?P<_h>\d+):\d+:\d+:\d+: rejecting I/O'], set: {scsi_host: '${_h}'}}
  within: 2s
ties: [[sid, scsi_host, transport-of]]
"#,
        )
        .unwrap();
        let ties = Ties::new(vec![t]);
        let ev = |t: i64, msg: &str| {
            let mut e = Event::new(Format::Kernel, rootline_event::Provenance::new("k", t as u64, 0));
            e.time = Some(rootline_event::Timestamp::from_unix_nanos(t * 1_000_000_000, 0));
            e.set_message(msg.as_bytes());
            e
        };
        let mut s = ties.sequencer();
        assert!(s.feed(&ties, &ev(100, "session1: session recovery timed out after 120 secs")).is_empty());
        let got = s.feed(&ties, &ev(100, "sd 3:0:0:1: rejecting I/O to offline device"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].edge.b, ("scsi_host".into(), "3".into()));
        assert_eq!(got[0].after, "k:100");
        // Too late.
        assert!(s.feed(&ties, &ev(103, "sd 4:0:0:1: rejecting I/O to offline device")).is_empty());
        // Two sessions in the window: tied to both, as one of a group.
        s.feed(&ties, &ev(200, "session1: session recovery timed out after 120 secs"));
        s.feed(&ties, &ev(200, "session2: session recovery timed out after 120 secs"));
        let got = s.feed(&ties, &ev(200, "sd 3:0:0:1: rejecting I/O to offline device"));
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|g| g.of_group == 2));
    }

    #[test]
    fn needs_are_read_off_the_syntax() {
        let sets = |p: &str| Needs::of(p, false).sets();
        let table = sets(r"(?P<map>[\w.:-]+): (?:addmap|load table) \[(?P<t>[^\]]*)\]");
        assert!(table.contains(&vec!["addmap".to_string(), "load table".to_string()]), "{table:?}");
        // Optional parts and repetitions of zero need nothing; one branch without a literal makes
        // the whole alternation need nothing.
        assert_eq!(sets(r"(?:foo)?bar"), vec![vec!["bar".to_string()]]);
        assert_eq!(sets(r"(?:foo)*bar|baz+"), vec![vec!["ba".to_string()]]);
        assert_eq!(sets(r"foo|\d+"), Vec::<Vec<String>>::new());
        // A member that holds another adds nothing; case-insensitive letters are classes.
        assert_eq!(sets(r"(?:volume-|volume |olume)\d"), vec![vec!["olume".to_string()]]);
        assert_eq!(sets(r"(?i)offline"), Vec::<Vec<String>>::new());
        // The most selective sets first, three at most.
        let four = sets(r"a1\d b22\d c333\d d4444");
        assert_eq!(four, vec![vec![" d4444".to_string()], vec![" c333".to_string()], vec![" b22".to_string()]]);
        assert!(Needs::of("(", false).sets().is_empty());
    }

    #[test]
    fn a_needs_set_finds_overlapping_and_nested_strings() {
        let pats = ["abcd|zzzz", "abc", "bcd", "cde", r"x\d:", "nothing here"];
        let needs: Vec<Needs> = pats.iter().map(|p| Needs::of(p, false)).collect();
        let set = NeedsSet::new(&needs);
        let mut out = Vec::new();
        set.admitted(b"..abcde x1:", &mut out);
        assert_eq!(out, vec![true, true, true, true, true, false]);
        set.admitted(b"", &mut out);
        assert_eq!(out, vec![false, false, false, false, false, false]);
        set.admitted(b"x:", &mut out);
        assert_eq!(out, vec![false, false, false, false, true, false]);
        // More strings than one packed searcher holds.
        let many: Vec<String> = (0..150).map(|i| format!("lit{i:03}x")).collect();
        let set = NeedsSet::new(&many.iter().map(|p| Needs::of(p, false)).collect::<Vec<_>>());
        set.admitted(b"lit007x lit149x lit100", &mut out);
        let found: Vec<usize> = out.iter().enumerate().filter(|(_, y)| **y).map(|(i, _)| i).collect();
        assert_eq!(found, vec![7, 149]);
    }

    /// A tie's pattern runs only on messages that hold what it needs: no message of any tie's test
    /// cases that a pattern matches is ruled out.
    #[test]
    fn the_needs_of_the_packs_ties_never_rule_out_a_match() {
        let ties = crate::Pack::builtin().expect("built-in rules").ties;
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for t in &ties.ties {
            for c in t.spec.tests.fires.iter().chain(&t.spec.tests.quiet) {
                texts.extend(c.line.iter().chain(&c.lines).map(|l| l.as_bytes().to_vec()));
                texts.extend(c.line.iter().chain(&c.lines).flat_map(|l| l.lines().map(|x| x.as_bytes().to_vec())));
            }
        }
        let mut matched = 0;
        for text in &texts {
            let run = ties.candidates(text);
            for (ti, t) in ties.ties.iter().enumerate() {
                let lines: Vec<&LineMatch> = match &t.how {
                    How::Line(m) => vec![m],
                    How::Sequence { first, then, .. } => vec![first, then],
                    How::Node { .. } => Vec::new(),
                };
                for m in lines {
                    for (i, re) in m.patterns.iter().enumerate() {
                        if re.is_match(text) {
                            matched += 1;
                            assert!(ties.wants(text), "{}: not wanted: {}", t.id, String::from_utf8_lossy(text));
                            let run =
                                run.as_ref().unwrap_or_else(|| panic!("{}: {}", t.id, String::from_utf8_lossy(text)));
                            assert!(
                                run.ties[ti] && run.patterns[m.first + i],
                                "{}: {}",
                                t.id,
                                String::from_utf8_lossy(text)
                            );
                        }
                    }
                }
            }
        }
        assert!(matched > ties.ties.len(), "{matched} matches");
        // A line that holds a tie's literal but not the rest of what its pattern needs is not wanted
        // (a kubelet line naming a pod but no `virsh`: the probe tie's literal is `pod="`).
        let pod_only = br#"kubelet[1900]: I0301 00:00:01.691052 1900 kubelet.go:2457] "SyncLoop (PLEG): event for pod" pod="logging/fluent-bit-ddc7" event={"Type":"ContainerDied"}"#;
        assert!(ties.candidates(pod_only).is_none() && !ties.wants(pod_only));
    }

    /// A pattern without a literal is tried as the ties run it: multi-line, so `^` and `$` hold at
    /// each line of a multi-line message.
    #[test]
    fn loose_patterns_are_wanted_on_any_line_of_a_message() {
        let t = compile(
            "id: tie.loose\ndoc: {en: x}\nmatch: {patterns: ['^(?P<a>[a-z]{2})\\s(?P<b>\\d)$']}\nties: [[a, b, path-of]]\n",
        )
        .expect("compiles");
        let ties = Ties::new(vec![t]);
        assert!(ties.loose.is_some(), "no literal: a loose pattern");
        for text in [&b"ab 1"[..], b"header\nab 1\nfooter"] {
            let mut ev = Event::new(rootline_event::Format::Syslog, rootline_event::Provenance::new("x", 1, 0));
            ev.set_message(text);
            let mut out = Vec::new();
            ties.line_edges(&ev, &mut out);
            assert_eq!(out.len(), 1, "{}", String::from_utf8_lossy(text));
            assert!(ties.wants(text), "{}", String::from_utf8_lossy(text));
        }
        assert!(!ties.wants(b"header\nabc 1\nfooter"));
    }

    #[test]
    fn bad_ties_are_reported_with_their_field() {
        let p = compile("id: x\ndoc: {en: x}\nmatch: {patterns: ['(']}\nties: [[a, b, owns]]\n").unwrap_err();
        let text: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("id") && t.contains("tie.")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("match.patterns[0]")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("ties[0]") && t.contains("unknown relation")), "{text:?}");
    }
}

//! Diagnostic command output read as a state snapshot taken at one time.
//!
//! The command is known from a sosreport or rootline bundle path (`sos_commands/multipath/
//! multipath_-ll`, `commands/dmsetup_info_-c.txt`), from the command log or terminal prompt before
//! the output ([`for_command`]), or else from the content (a header line, a self-describing line).
//! Tables are read from their header (see [`table`]); when a filter dropped the header
//! (`ps auxww | grep qemu`) the columns come from the command's options.
//!
//! Records and their fields, per command (the field names are the contract with the correlator;
//! `docs/formats.md` lists them):
//! - `multipath -ll`, `multipathd show topology`, `multipath -v2`: one record per map, its size,
//!   policy and path lines attached ([`multipath`]); lines stamped `secs.usecs | ` (or `Mmm dd
//!   HH:MM:SS | `) are records at that time (seconds since boot, or the local clock);
//! - `multipathd show paths|maps [format ...]`, `dmsetup info -c`, `ps`, `top -b`, `virsh list`,
//!   `virsh domblklist`, `kubectl get pods`, `crictl ps`, `docker ps`, `lsblk`, `findmnt`, `df`: one
//!   record per row;
//! - `dmsetup ls`, `table`, `status`, `deps`: one per line; `ls --tree`: one per device-mapper
//!   device; `info`: one per `Name:` block ([`dm`]);
//! - `iscsiadm -m session|node`: one per line; `-P 1|3`: one per session and one per attached LUN
//!   ([`iscsi`]);
//! - `lsscsi`, `ls -l` (links in `/dev/disk/by-*`, `/dev/mapper`), `mount`, `/proc/mounts`,
//!   `lsblk -P`: one per line ([`block`]); `lsblk -J`, `crictl inspect`, `docker inspect`: one per
//!   device or container ([`json`]);
//! - raw `/proc/PID/stat` lines, `/proc/PID/stack` (one record per stack), Ceph ([`ceph`]).
//!
//! Records read from a file carry [`RawTime::Snapshot`] (the file's time); the command log and the
//! terminal reader stamp them with the time they know through [`for_command`].

use std::borrow::Cow;

use super::util::{parse_u64, text};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::RawTime;

mod block;
mod ceph;
pub(crate) mod command;
mod dm;
mod iscsi;
mod json;
mod multipath;
mod process;
mod table;

pub(crate) use command::Command;
use json::JsonKind;
use table::{Columns, Table};

pub(crate) use super::util::trim;

/// What the output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Not known yet: decided from the content.
    Auto,
    Multipath,
    Table(Table),
    DmLs,
    DmTree,
    DmLine,
    DmInfo,
    DmDeps,
    ProcStat,
    Stack,
    Iscsi,
    Lsscsi,
    Links,
    Mount,
    ProcMounts,
    LsblkPairs,
    Json(JsonKind),
    CephStatus,
    CephHealth,
    Rbd,
    /// Output of some other command: each line a record.
    Lines,
}

fn program_of(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Multipath => "multipath -ll",
        Kind::Table(t) => t.program(),
        Kind::DmLs | Kind::DmTree => "dmsetup ls",
        Kind::DmLine => "dmsetup",
        Kind::DmInfo => "dmsetup info",
        Kind::DmDeps => "dmsetup deps",
        Kind::ProcStat => "/proc/PID/stat",
        Kind::Stack => "/proc/PID/stack",
        Kind::Iscsi => "iscsiadm -m session",
        Kind::Lsscsi => "lsscsi",
        Kind::Links => "ls -l",
        Kind::Mount => "mount",
        Kind::ProcMounts => "/proc/mounts",
        Kind::LsblkPairs | Kind::Json(JsonKind::Lsblk) => "lsblk",
        Kind::Json(JsonKind::Inspect) => "inspect",
        Kind::CephStatus => "ceph -s",
        Kind::CephHealth => "ceph health detail",
        Kind::Rbd => "rbd status",
        Kind::Auto | Kind::Lines => return None,
    })
}

/// What a command line says about its output.
pub(crate) struct Known {
    pub kind: Kind,
    /// The program name its records get.
    pub program: Option<String>,
    /// Fields the command line names (`multipath -f mpatha` -> map), given to records without them.
    pub context: Vec<(&'static str, String)>,
    /// Columns of a table whose header may be missing.
    pub columns: Option<Columns>,
    /// The directory an `ls -l` lists.
    pub dir: String,
}

/// The first argument that is not an option.
fn positional(args: &[String]) -> Option<&str> {
    args.iter().find(|a| !a.starts_with('-')).map(String::as_str)
}

/// The kind of output a command produces, with what the command line names.
pub(crate) fn known(c: &Command) -> Known {
    let bin = c.bin();
    let args = c.args();
    let has = |w: &str| args.iter().any(|a| a == w);
    let joined = args.join(" ");
    let mut context: Vec<(&'static str, String)> = Vec::new();
    let mut columns = None;
    let mut dir = String::new();
    let mut program: Option<String> = None;
    let sub = positional(args);
    let after = |w: &str| args.iter().position(|a| a == w).and_then(|i| positional(&args[i + 1..])).map(str::to_string);
    let kind = match bin {
        "multipathd" if joined.contains("show paths") || joined.contains("list paths") => {
            Kind::Table(Table::MpathPaths)
        }
        "multipathd"
            if (joined.contains("show maps") || joined.contains("list maps")) && !joined.contains("topology") =>
        {
            Kind::Table(Table::MpathMaps)
        }
        "multipath" | "multipathd" => {
            if let Some(m) = after("map").or_else(|| after("-f")).or_else(|| {
                if bin == "multipath" {
                    positional(args).map(str::to_string)
                } else {
                    None
                }
            }) {
                context.push(("map", m));
            }
            if bin == "multipathd" && joined.contains("topology") {
                program = Some("multipathd show topology".into());
            } else if !args.iter().any(|a| a == "-ll" || a == "-l") {
                program = Some(c.line());
            }
            Kind::Multipath
        }
        "dmsetup" => {
            let k = match sub {
                Some("ls") if has("--tree") => Kind::DmTree,
                Some("ls") => Kind::DmLs,
                Some("table") | Some("status") => Kind::DmLine,
                Some("info") if has("-c") || has("-C") || has("--columns") => Kind::Table(Table::DmInfoC),
                Some("info") => Kind::DmInfo,
                Some("deps") => Kind::DmDeps,
                _ => Kind::Lines,
            };
            if let Some(s) = sub {
                if let Some(m) = after(s).filter(|_| s != "ls") {
                    context.push(("map", m));
                }
                if k == Kind::DmLine {
                    program = Some(format!("dmsetup {s}"));
                }
            }
            k
        }
        "ps" => {
            columns = table::ps_columns(args).map(|f| Columns::from_fields(Table::Ps, &f));
            Kind::Table(Table::Ps)
        }
        "top" => Kind::Table(Table::Top),
        "cat" | "head" | "tail" | "less" | "more" | "grep" => {
            let file = args.iter().rev().find(|a| a.starts_with('/')).map(String::as_str).unwrap_or("");
            let pid = file
                .strip_prefix("/proc/")
                .and_then(|r| r.split('/').next())
                .filter(|p| parse_u64(p.as_bytes()).is_some());
            if let Some(p) = pid {
                context.push(("pid", p.to_string()));
            }
            if file.ends_with("/stack") {
                Kind::Stack
            } else if file.ends_with("/stat") && file.starts_with("/proc/") {
                Kind::ProcStat
            } else if matches!(file, "/proc/mounts" | "/etc/mtab" | "/proc/self/mounts") || file.ends_with("/mounts") {
                Kind::ProcMounts
            } else {
                Kind::Auto
            }
        }
        "virsh" if has("list") => Kind::Table(Table::Virsh),
        "virsh" if has("domblklist") => {
            if let Some(d) = after("domblklist") {
                context.push(("domain", d));
            }
            Kind::Table(Table::DomBlk)
        }
        "iscsiadm" if has("session") || has("node") || joined.contains("-m session") => {
            if let Some(sid) = args.iter().position(|a| a == "-r" || a == "--sid").and_then(|i| args.get(i + 1)) {
                context.push(("sid", sid.clone()));
            }
            Kind::Iscsi
        }
        "ceph" if has("-s") || has("status") => Kind::CephStatus,
        "ceph" if has("health") => Kind::CephHealth,
        "rbd" if has("status") => Kind::Rbd,
        "kubectl" | "oc" if has("get") && (has("pods") || has("pod") || has("po")) => {
            columns = Some(Columns::from_fields(Table::Pods, &table::pods_columns(args)));
            let ns = args.iter().position(|a| a == "-n" || a == "--namespace").and_then(|i| args.get(i + 1)).cloned();
            if let Some(ns) =
                ns.or_else(|| args.iter().find_map(|a| a.strip_prefix("--namespace=").map(str::to_string)))
            {
                context.push(("namespace", ns));
            }
            Kind::Table(Table::Pods)
        }
        "lsblk"
            if has("-J")
                || has("--json")
                || args.iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('J')) =>
        {
            Kind::Json(JsonKind::Lsblk)
        }
        "lsblk"
            if has("-P")
                || has("--pairs")
                || args.iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('P')) =>
        {
            Kind::LsblkPairs
        }
        "lsblk" => Kind::Table(Table::Lsblk),
        "lsscsi" => Kind::Lsscsi,
        "ls" if args.iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('l')) => {
            dir = args.iter().rev().find(|a| !a.starts_with('-')).cloned().unwrap_or_default();
            Kind::Links
        }
        "mount" if args.iter().all(|a| a.starts_with('-')) => Kind::Mount,
        "findmnt" => Kind::Table(Table::Findmnt),
        "df" => Kind::Table(Table::Df),
        "crictl" if sub == Some("ps") => {
            columns = Some(Columns::from_fields(Table::Crictl, &table::crictl_columns()));
            Kind::Table(Table::Crictl)
        }
        "crictl" | "docker" | "podman" | "nerdctl" if matches!(sub, Some("inspect" | "inspectp")) => {
            if let Some(id) = after(sub.unwrap_or("")) {
                context.push((if sub == Some("inspectp") { "pod_id" } else { "container_id" }, id));
            }
            Kind::Json(JsonKind::Inspect)
        }
        "docker" | "podman" | "nerdctl" if sub == Some("ps") => Kind::Table(Table::Docker),
        _ => Kind::Auto,
    };
    let program = program.or_else(|| match kind {
        Kind::Auto | Kind::Lines => (!c.argv.is_empty()).then(|| c.line()),
        Kind::Json(JsonKind::Inspect) => Some(format!("{bin} {}", sub.unwrap_or("inspect"))),
        k => program_of(k).map(str::to_string),
    });
    Known { kind, program, context, columns, dir }
}

/// A bonus for sosreport and bundle paths of the commands this format reads.
pub fn path_hint(path: &str) -> f32 {
    match command::command_from_path(path).map(|c| known(&command::parse(&c)).kind) {
        Some(Kind::Auto) | Some(Kind::Lines) | None => 0.0,
        Some(_) => 0.5,
    }
}

/// True when `line` is recognisably a line of one of the supported command outputs.
pub fn detect(line: &[u8]) -> bool {
    if log_line(line) {
        return false;
    }
    if line_kind(line).is_some() {
        return true;
    }
    let t = trim(line);
    if multipath::is_map_line(line) {
        return true;
    }
    const DMINFO: &[&[u8]] = &[
        b"State:",
        b"Read Ahead:",
        b"Tables present:",
        b"Open count:",
        b"Event number:",
        b"Major, minor:",
        b"Number of targets:",
        b"UUID: ",
    ];
    if DMINFO.iter().any(|k| line.starts_with(k)) {
        return true;
    }
    if !matches!(iscsi::tree(line), iscsi::Tree::Other) && matches!(line.first(), Some(b'\t')) {
        return true;
    }
    let w = words(line);
    // ps aux row: USER PID %CPU %MEM VSZ RSS ...
    if w.len() >= 11
        && parse_u64(w[1].1).is_some()
        && is_decimal(w[2].1)
        && is_decimal(w[3].1)
        && parse_u64(w[4].1).is_some()
        && parse_u64(w[5].1).is_some()
    {
        return true;
    }
    // multipathd show paths row: hcil dev dev_t ...
    if w.len() >= 4 && is_hcil(w[0].1) && is_devt(w[2].1) {
        return true;
    }
    // lsblk row: NAME MAJ:MIN RM SIZE RO TYPE.
    if w.len() >= 6 && is_devt(w[1].1) && matches!(w[2].1, b"0" | b"1") && matches!(w[4].1, b"0" | b"1") {
        return true;
    }
    // kubectl get pods row: [NAMESPACE] NAME READY STATUS RESTARTS AGE.
    let ready =
        |i: usize| w.get(i).is_some_and(|x| is_ratio(x.1)) && w.get(i + 1).is_some_and(|x| x.1[0].is_ascii_uppercase());
    if w.len() >= 5 && (ready(1) || ready(2)) {
        return true;
    }
    // virsh: a dashed rule under the header, rows `Id Name State`.
    if t.len() >= 10 && t.iter().all(|c| *c == b'-') {
        return true;
    }
    const STATES: &[&[u8]] =
        &[b"running", b"paused", b"idle", b"off", b"shutdown", b"crashed", b"pmsuspended", b"blocked"];
    if (3..=4).contains(&w.len())
        && (parse_u64(w[0].1).is_some() || w[0].1 == b"-")
        && STATES.contains(&w[w.len() - 1].1)
    {
        return true;
    }
    t.starts_with(b"watcher=") || t == b"Watchers:" || t.starts_with(b"Watchers: none")
}

/// True for a line that starts like a log line (a syslog or ISO stamp, a kernel `[secs.usecs]`, a
/// klog header, a JSON object, logfmt): no command output this format reads starts so, except
/// multipath's own `Mmm dd HH:MM:SS | ` messages. Checked first, so sampling a log costs little.
fn log_line(line: &[u8]) -> bool {
    match line.first() {
        Some(b'0'..=b'9') => line.get(4) == Some(&b'-') && crate::time::civil::parse_iso(line).is_some(),
        Some(b'[') => {
            // `[  57.022491]`, not lsscsi's `[3:0:0:1]` or a stack's `[<0>]`.
            let r = &line[1..];
            let n = r.iter().take_while(|c| **c == b' ' || c.is_ascii_digit()).count();
            n > 0 && r.get(n) == Some(&b'.')
        }
        Some(b'{') => line.get(1) == Some(&b'"'),
        Some(b'I' | b'W' | b'E' | b'F') => {
            line.len() > 6 && line[1..5].iter().all(u8::is_ascii_digit) && line[5] == b' '
        }
        Some(b't') => line.starts_with(b"time=\""),
        Some(c) if c.is_ascii_uppercase() => crate::time::civil::parse_bsd(line)
            .is_some_and(|(_, n)| !line[n..].starts_with(b" | ") && !line[n..].starts_with(b" up ")),
        _ => false,
    }
}

/// True for a line that opens a command's output and nothing else: a table header, top's summary.
pub(crate) fn opens_output(line: &[u8]) -> bool {
    table::header_table(line).is_some()
        || (line.starts_with(b"top - ") && memchr::memmem::find(line, b" up ").is_some())
}

/// Recognises the kind from one line alone (headers and self-describing lines).
fn line_kind(line: &[u8]) -> Option<Kind> {
    if line.starts_with(b"top - ") && memchr::memmem::find(line, b" up ").is_some() {
        return Some(Kind::Table(Table::Top));
    }
    if let Some(t) = table::header_table(line) {
        return Some(Kind::Table(t));
    }
    if multipath::header(line).is_some()
        || multipath::stamp(line).is_some_and(|(t, _)| matches!(t, RawTime::Boot { .. }))
    {
        return Some(Kind::Multipath);
    }
    if process::proc_stat(line).is_some() {
        return Some(Kind::ProcStat);
    }
    if dm::ls(line).is_some() {
        return Some(Kind::DmLs);
    }
    if dm::tree(line).is_some_and(|t| t.depth > 0) {
        return Some(Kind::DmTree);
    }
    if dm::line(line).is_some_and(|(name, _, _)| !name.is_empty()) {
        return Some(Kind::DmLine);
    }
    if dm::deps(line).is_some() {
        return Some(Kind::DmDeps);
    }
    if line.starts_with(b"Name:") && line.len() > 12 && line.get(5) == Some(&b' ') {
        let v = trim(&line[5..]);
        if !v.is_empty() && memchr::memchr(b' ', v).is_none() && v.iter().all(u8::is_ascii_graphic) {
            return Some(Kind::DmInfo);
        }
    }
    if iscsi::session_line(line).is_some() || iscsi::is_tree_start(line) || iscsi::node_line(line).is_some() {
        return Some(Kind::Iscsi);
    }
    if block::lsscsi(line).is_some() {
        return Some(Kind::Lsscsi);
    }
    if block::ls_line(line, "").is_some_and(|f| !f.is_empty()) {
        return Some(Kind::Links);
    }
    if block::mount_line(line).is_some() {
        return Some(Kind::Mount);
    }
    if block::proc_mounts(line).is_some() {
        return Some(Kind::ProcMounts);
    }
    if line.starts_with(b"NAME=\"") && block::pairs(line).is_some() {
        return Some(Kind::LsblkPairs);
    }
    if trim(line).starts_with(b"[<") && memchr::memchr(b'>', line).is_some() {
        return Some(Kind::Stack);
    }
    ceph::kind_of_line(line)
}

/// Whitespace-separated words with their start offsets.
pub(crate) fn words(line: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        let s = i;
        while i < line.len() && line[i] != b' ' && line[i] != b'\t' {
            i += 1;
        }
        if s < i {
            out.push((s, &line[s..i]));
        }
    }
    out
}

fn is_decimal(w: &[u8]) -> bool {
    match memchr::memchr(b'.', w) {
        Some(d) => parse_u64(&w[..d]).is_some() && parse_u64(&w[d + 1..]).is_some(),
        None => false,
    }
}

fn is_devt(w: &[u8]) -> bool {
    match memchr::memchr(b':', w) {
        Some(c) => parse_u64(&w[..c]).is_some() && parse_u64(&w[c + 1..]).is_some(),
        None => false,
    }
}

fn is_ratio(w: &[u8]) -> bool {
    match memchr::memchr(b'/', w) {
        Some(c) => parse_u64(&w[..c]).is_some() && parse_u64(&w[c + 1..]).is_some(),
        None => false,
    }
}

fn is_hcil(w: &[u8]) -> bool {
    let mut n = 0;
    for p in w.split(|c| *c == b':') {
        if parse_u64(p).is_none() {
            return false;
        }
        n += 1;
    }
    n == 4
}

/// Sets `taken_after_boot` on the records passed through.
struct AfterBoot<'a> {
    out: &'a mut dyn Sink,
    after_boot: Option<i64>,
}

impl Sink for AfterBoot<'_> {
    fn record(&mut self, at: LinePos, mut rec: Record<'_>) {
        rec.taken_after_boot = self.after_boot;
        self.out.record(at, rec);
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

/// A record being assembled from several lines (a map block, a dmsetup info block, an iSCSI
/// session): emitted when the block ends, its lines in order after it.
struct PRec {
    at: LinePos,
    line: Vec<u8>,
    fields: Vec<(&'static str, String)>,
    tail: Vec<(LinePos, Vec<u8>)>,
}

impl PRec {
    fn new(at: LinePos, line: &[u8]) -> PRec {
        PRec { at, line: line.to_vec(), fields: Vec::new(), tail: Vec::new() }
    }
    fn set(&mut self, k: &'static str, v: impl Into<String>) {
        self.fields.push((k, v.into()));
    }
    fn has(&self, k: &str) -> bool {
        self.fields.iter().any(|(f, _)| *f == k)
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.fields.iter().find(|(f, _)| *f == k).map(|(_, v)| v.as_str())
    }
}

/// What the session of an `iscsiadm -P` block knows so far.
#[derive(Default)]
struct IscsiCtx {
    target: Option<String>,
    portal: Option<(String, String)>,
    /// Index in `pending` of the current session's record.
    session: Option<usize>,
    /// A blank line ended a session: the next line starts another on the same portal.
    next_session: bool,
}

pub(crate) struct SnapshotParser {
    kind: Kind,
    time: RawTime,
    program: Option<String>,
    /// Lines nothing could place are unparsed (a file) or records of their own (a command section).
    strict: bool,
    context: Vec<(&'static str, String)>,
    /// Columns known from the command, for a table whose header is missing.
    cmd_columns: Option<Columns>,
    columns: Option<Columns>,
    /// lsblk / findmnt tree: the name at each depth.
    tree: Vec<String>,
    /// dmsetup ls --tree: (depth, index in `pending`) of the named devices above the current line.
    dm_tree: Vec<(usize, usize)>,
    pending: Vec<PRec>,
    /// `multipath -ll`: the map being read.
    in_map: bool,
    iscsi: IscsiCtx,
    dir: String,
    json: Option<json::Doc>,
    /// A record was emitted that indented lines may attach to.
    open: bool,
}

/// A snapshot parser that knows its command (`multipath -ll`) and stamps every record with `time`.
/// Lines it cannot place become records of their own (with that time), never unparsed.
pub(crate) fn for_command(cmd: &str, time: RawTime) -> Box<dyn Parser> {
    Box::new(for_parsed(&command::parse(cmd), time))
}

/// [`for_command`] for a command line already parsed.
pub(crate) fn for_parsed(c: &Command, time: RawTime) -> SnapshotParser {
    let k = known(c);
    // A filter that reshapes the lines (`| awk '{print $2}'`) leaves nothing the reader knows.
    let kind = if c.reshaped() { Kind::Lines } else { k.kind };
    SnapshotParser::new(kind, time, k.program, false, k.context, k.columns, k.dir)
}

/// A snapshot parser for a file: the command comes from the path or the content; the time is the
/// file's ([`RawTime::Snapshot`]).
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    let k = match command::command_from_path(&ctx.path) {
        Some(cmd) => known(&command::parse(&cmd)),
        None => Known { kind: Kind::Auto, program: None, context: Vec::new(), columns: None, dir: String::new() },
    };
    let (program, context) =
        if matches!(k.kind, Kind::Auto | Kind::Lines) { (None, Vec::new()) } else { (k.program, k.context) };
    Box::new(SnapshotParser::new(k.kind, RawTime::Snapshot, program, true, context, k.columns, k.dir))
}

impl SnapshotParser {
    fn new(
        kind: Kind,
        time: RawTime,
        program: Option<String>,
        strict: bool,
        context: Vec<(&'static str, String)>,
        cmd_columns: Option<Columns>,
        dir: String,
    ) -> SnapshotParser {
        let columns = cmd_columns.clone();
        SnapshotParser {
            kind,
            time,
            program,
            strict,
            context,
            cmd_columns,
            columns,
            tree: Vec::new(),
            dm_tree: Vec::new(),
            pending: Vec::new(),
            in_map: false,
            iscsi: IscsiCtx::default(),
            dir,
            json: None,
            open: false,
        }
    }

    fn program(&self) -> Option<&str> {
        self.program.as_deref().or_else(|| program_of(self.kind))
    }

    /// Emits a record: the program, the time (unless given), the command line's context fields.
    fn emit(
        &self,
        at: LinePos,
        msg: &[u8],
        time: Option<RawTime>,
        fields: Vec<(&'static str, Cow<'_, str>)>,
        out: &mut dyn Sink,
    ) {
        let mut r = Record::new(time.unwrap_or(self.time), msg);
        r.program = self.program().map(Cow::Borrowed);
        let mut f: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(fields.len() + self.context.len());
        for (k, v) in fields {
            if k == "pid" {
                r.pid = parse_u64(v.as_bytes()).and_then(|p| u32::try_from(p).ok());
            }
            f.push((Cow::Borrowed(k), v));
        }
        for (k, v) in &self.context {
            if !f.iter().any(|(x, _)| x == k) {
                f.push((Cow::Borrowed(k), Cow::Borrowed(v.as_str())));
            }
        }
        r.fields = f;
        out.record(at, r);
    }

    /// [`Self::emit`] for a record that says how long after boot its capture was at least taken.
    fn emit_after_boot(
        &self,
        at: LinePos,
        msg: &[u8],
        fields: Vec<(&'static str, Cow<'_, str>)>,
        after_boot: Option<i64>,
        out: &mut dyn Sink,
    ) {
        let mut tag = AfterBoot { out, after_boot };
        self.emit(at, msg, None, fields, &mut tag);
    }

    /// Emits the records of the block being assembled, each followed by its lines.
    fn flush(&mut self, out: &mut dyn Sink) {
        if self.in_map {
            self.in_map = false;
            if let Some(p) = self.pending.last_mut() {
                let paths = p.fields.iter().filter(|(k, _)| *k == "dm_state").count();
                let active = p.fields.iter().filter(|(k, v)| *k == "dm_state" && v == "active").count();
                p.set("paths", paths.to_string());
                p.set("active_paths", active.to_string());
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            let fields = p.fields.iter().map(|(k, v)| (*k, Cow::Borrowed(v.as_str()))).collect();
            self.emit(p.at, &p.line, None, fields, out);
            for (at, l) in &p.tail {
                out.attach(*at, l);
            }
        }
        self.dm_tree.clear();
        self.iscsi.session = None;
    }

    /// A line the kind-specific reader did not place.
    fn fallback(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        let t = trim(line);
        if t.is_empty() {
            out.skip(at);
        } else if self.open && matches!(line[0], b' ' | b'\t') {
            out.attach(at, line);
        } else if self.strict {
            out.unparsed(at, line);
        } else {
            self.emit(at, t, None, Vec::new(), out);
            self.open = true;
        }
    }

    /// Reads `line` as output of `self.kind`; false when the line does not fit.
    fn place(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let t = trim(line);
        match self.kind {
            Kind::Auto | Kind::Lines => false,
            Kind::Table(Table::Top) if t.starts_with(b"top - ") => {
                self.flush(out);
                self.pending.push(PRec::new(at, t));
                true
            }
            Kind::Table(Table::Top) if !self.pending.is_empty() && self.columns.is_none() => {
                self.pending.last_mut().expect("pending").tail.push((at, line.to_vec()));
                true
            }
            Kind::Table(Table::Df) if self.columns.is_some() && words(line).len() == 1 && self.pending.is_empty() => {
                // A long file system name on a line of its own (older coreutils), the numbers below.
                let mut p = PRec::new(at, t);
                p.set("dev", String::from_utf8_lossy(t).into_owned());
                self.pending.push(p);
                true
            }
            Kind::Table(Table::Df) if !self.pending.is_empty() => {
                let mut p = self.pending.pop().expect("pending");
                let dev = p.line.clone();
                let mut joined = dev.clone();
                joined.push(b' ');
                joined.extend_from_slice(t);
                if let Some(cells) = self.columns.as_ref().and_then(|c| c.cells(&joined)) {
                    p.fields = cells.iter().map(|(k, v)| (*k, String::from_utf8_lossy(v).into_owned())).collect();
                }
                p.tail.push((at, line.to_vec()));
                self.pending.push(p);
                self.flush(out);
                true
            }
            Kind::Table(_) => self.table_row(at, line, out),
            Kind::Multipath => self.multipath(at, line, out),
            Kind::DmLs => match dm::ls(line) {
                Some((name, devt)) => {
                    self.emit(at, t, None, vec![("map", text(name)), ("devt", Cow::Owned(devt))], out);
                    true
                }
                None => false,
            },
            Kind::DmTree => self.dm_tree(at, line),
            Kind::DmLine => match dm::line(line) {
                Some((name, target, args)) => {
                    let mut f: Vec<(&'static str, Cow<'_, str>)> = Vec::new();
                    if !name.is_empty() {
                        f.push(("map", text(name)));
                    }
                    f.push(("target_type", text(target)));
                    let status = (target == b"multipath").then(|| dm::mpath_status(args)).flatten();
                    let deps: Vec<&[u8]> = match &status {
                        Some(s) => s.iter().map(|(d, _)| *d).collect(),
                        None => dm::table_deps(args),
                    };
                    if !deps.is_empty() {
                        let joined: Vec<String> =
                            deps.iter().map(|d| String::from_utf8_lossy(d).into_owned()).collect();
                        f.push(("deps", Cow::Owned(joined.join(" "))));
                    }
                    if let Some(s) = &status {
                        f.push(("paths", Cow::Owned(s.len().to_string())));
                        f.push(("active_paths", Cow::Owned(s.iter().filter(|x| x.1).count().to_string())));
                    }
                    self.emit(at, t, None, f, out);
                    true
                }
                None => false,
            },
            Kind::DmInfo => {
                let Some((k, v)) = dm::info_line(line) else { return false };
                if k == "map" {
                    self.flush(out);
                    let mut p = PRec::new(at, t);
                    p.set(k, v);
                    self.pending.push(p);
                    return true;
                }
                let Some(p) = self.pending.last_mut() else { return false };
                if k == "uuid" {
                    if let Some(w) = v.strip_prefix("mpath-") {
                        p.set("wwid", w);
                    }
                }
                p.set(k, v);
                p.tail.push((at, line.to_vec()));
                true
            }
            Kind::DmDeps => match dm::deps(line) {
                Some((name, deps)) => {
                    let mut f: Vec<(&'static str, Cow<'_, str>)> = Vec::new();
                    if !name.is_empty() {
                        f.push(("map", text(name)));
                    }
                    f.push(("deps", Cow::Owned(deps.join(" "))));
                    self.emit(at, t, None, f, out);
                    true
                }
                None => false,
            },
            Kind::ProcStat => match process::proc_stat(line) {
                Some((pid, comm, state, ppid)) => {
                    let f = vec![
                        ("pid", text(pid)),
                        ("comm", text(comm)),
                        ("stat", text(state)),
                        ("state", text(state)),
                        ("ppid", text(ppid)),
                    ];
                    self.emit_after_boot(at, t, f, process::proc_start_nanos(line), out);
                    true
                }
                None => false,
            },
            Kind::Stack => self.stack(at, line, out),
            Kind::Iscsi => self.iscsi(at, line, out),
            Kind::Lsscsi => self.simple(at, t, block::lsscsi(line), out),
            Kind::Links => {
                if t.starts_with(b"/") && t.ends_with(b":") {
                    self.dir = String::from_utf8_lossy(&t[..t.len() - 1]).into_owned();
                    out.skip(at);
                    return true;
                }
                if t.starts_with(b"total ") {
                    out.skip(at);
                    return true;
                }
                let f = block::ls_line(line, &self.dir);
                self.simple(at, t, f, out)
            }
            Kind::Mount => self.simple(at, t, block::mount_line(line), out),
            Kind::ProcMounts => self.simple(at, t, block::proc_mounts(line), out),
            Kind::LsblkPairs => {
                let Some(p) = block::pairs(line) else { return false };
                let ty = p.iter().find(|(k, _)| *k == b"TYPE").map(|(_, v)| v.to_string());
                let mut f: Vec<(&'static str, Cow<'_, str>)> = Vec::new();
                for (k, v) in p {
                    if v.is_empty() {
                        continue;
                    }
                    let key = String::from_utf8_lossy(k).to_ascii_lowercase();
                    if key == "name" {
                        f.push((block::lsblk_name_field(&v, ty.as_deref()), v));
                    } else if let Some(x) = block::lsblk_key(&key) {
                        // The kernel name says what a map is (`dm-3`).
                        if let Some(d) = (x == "kname").then(|| block::device_kind(&v)).flatten() {
                            if !f.iter().any(|(k, _)| *k == d) {
                                f.push((d, v.clone()));
                            }
                        }
                        f.push((x, v));
                    }
                }
                self.emit(at, t, None, f, out);
                true
            }
            Kind::Json(_) => false,
            Kind::CephStatus => match ceph::status(line) {
                ceph::Status::Section => {
                    out.skip(at);
                    true
                }
                ceph::Status::Key(k) => {
                    self.emit(at, t, None, vec![("key", text(k))], out);
                    true
                }
                ceph::Status::Detail if self.open => {
                    out.attach(at, line);
                    true
                }
                _ => false,
            },
            Kind::CephHealth => match ceph::health(line) {
                Some(f) => {
                    let f = f.map(|(k, v)| vec![(k, text(v))]).unwrap_or_default();
                    self.emit(at, t, None, f, out);
                    true
                }
                None => false,
            },
            Kind::Rbd => match ceph::rbd(line) {
                Some(ceph::Rbd::Header) => {
                    out.skip(at);
                    true
                }
                Some(ceph::Rbd::None) => {
                    self.emit(at, t, None, Vec::new(), out);
                    true
                }
                Some(ceph::Rbd::Watcher(w, c)) => {
                    let mut f = vec![("watcher", text(w))];
                    if let Some(c) = c {
                        f.push(("client", text(c)));
                    }
                    self.emit(at, t, None, f, out);
                    true
                }
                None => false,
            },
        }
    }

    fn simple(&mut self, at: LinePos, t: &[u8], f: Option<Vec<(&'static str, String)>>, out: &mut dyn Sink) -> bool {
        match f {
            Some(f) => {
                self.emit(at, t, None, f.into_iter().map(|(k, v)| (k, Cow::Owned(v))).collect(), out);
                true
            }
            None => false,
        }
    }
}

impl Parser for SnapshotParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if let Kind::Json(k) = self.kind {
            if (self.json.is_some() || !trim(line).is_empty()) && self.json_line(k, at, line, out) {
                return;
            }
        }
        if trim(line).is_empty() {
            self.flush(out);
            if self.kind == Kind::Iscsi {
                self.iscsi.next_session = true;
            }
            if self.kind == Kind::Table(Table::Top) {
                self.columns = None;
            }
            self.open = false;
            out.skip(at);
            return;
        }
        // Headers switch tables; in auto mode any self-describing line decides the kind.
        if let Some(t) = table::header_table(line) {
            if matches!(self.kind, Kind::Auto | Kind::Table(_)) {
                self.flush(out);
                self.kind = Kind::Table(t);
                // ps: the command's column list says which COMMAND is comm and which is args.
                let from_cmd = self
                    .cmd_columns
                    .as_ref()
                    .filter(|c| c.table == t && t == Table::Ps && c.cols.len() == words(line).len());
                self.columns = Some(from_cmd.cloned().unwrap_or_else(|| Columns::from_header(t, line)));
                self.tree.clear();
                self.open = false;
                out.skip(at);
                return;
            }
        }
        if self.kind == Kind::Auto {
            if let Some(k) = line_kind(line) {
                self.kind = k;
            }
        }
        if self.place(at, line, out) {
            self.open = true;
            return;
        }
        // A line the block did not take ends it; it may start something the reader knows.
        if !self.pending.is_empty() {
            self.flush(out);
            if self.place(at, line, out) {
                self.open = true;
                return;
            }
        }
        self.fallback(at, line, out);
    }

    fn finish(&mut self, out: &mut dyn Sink) {
        if let Some(doc) = self.json.take() {
            self.give_back(doc, out);
        }
        self.flush(out);
    }
}

#[cfg(test)]
mod tests;

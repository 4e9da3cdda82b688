//! Diagnostic command output read as a state snapshot taken at one time.
//!
//! Commands read (recognised from the content, or from a sosreport / rootline bundle path such as
//! `sos_commands/multipath/multipath_-ll` or `commands/dmsetup_info_-c.txt`):
//! - `multipath -ll`: one record per map, the header `mpatha (3333...) dm-0 LABSAN,VDISK-MP` with its
//!   `size=`, policy and path lines attached (fields `map`, `wwid`, `dm`);
//! - `multipathd show paths` / `show maps [status]`, `dmsetup info -c`, `ps aux` / `ps -eo ...`,
//!   `virsh list`, `kubectl get pods`, `lsblk`: tables, one record per row, the header skipped;
//! - `dmsetup ls` / `table` / `status` (one record per device line, field `map`) and `dmsetup info`
//!   (one record per `Name:` block);
//! - raw `/proc/PID/stat` lines (`1 (init) S 0 ...`: the comm may hold spaces and parentheses, so it
//!   ends at the last `)`), `cat /proc/PID/stack` (one record);
//! - `iscsiadm -m session`, `ceph -s` (one record per `key: value` line, details attached),
//!   `ceph health detail` (one record per HEALTH line or check), `rbd status` (one per watcher).
//!
//! Records read from a file carry [`RawTime::Snapshot`] (the file's time); the command log stamps them
//! with its header's time through [`for_command`].
//!
//! See: multipath-tools `multipath(8)`, `multipathd(8)` (`show paths`/`show maps` wildcards), lvm2
//! `dmsetup(8)`, procps `ps(1)` and `proc_pid_stat(5)`, libvirt `virsh(1)`, open-iscsi `iscsiadm(8)`,
//! Ceph "Monitoring a cluster" (`ceph -s`, `ceph health detail`), `rbd(8)`, util-linux `lsblk(8)`,
//! sos report plugin command names (`sos_commands/<plugin>/<command with spaces as _>`).

use std::borrow::Cow;

use super::util::{parse_u64, text, trim};
use super::{LinePos, Parser, Record, Sink, SourceCtx};
use crate::time::RawTime;

/// The table layouts read column by column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    MpathPaths,
    MpathMaps,
    DmInfoC,
    Ps,
    Virsh,
    Pods,
    Lsblk,
}

/// What the output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not known yet: decided from the content.
    Auto,
    MultipathLl,
    Table(Table),
    DmLs,
    DmLine,
    DmInfo,
    ProcStat,
    Stack,
    Iscsi,
    CephStatus,
    CephHealth,
    Rbd,
    /// Output of some other command: each line a record.
    Lines,
}

fn program_of(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::MultipathLl => "multipath -ll",
        Kind::Table(Table::MpathPaths) => "multipathd show paths",
        Kind::Table(Table::MpathMaps) => "multipathd show maps",
        Kind::Table(Table::DmInfoC) => "dmsetup info -c",
        Kind::Table(Table::Ps) => "ps",
        Kind::Table(Table::Virsh) => "virsh list",
        Kind::Table(Table::Pods) => "kubectl get pods",
        Kind::Table(Table::Lsblk) => "lsblk",
        Kind::DmLs => "dmsetup ls",
        Kind::DmLine => "dmsetup",
        Kind::DmInfo => "dmsetup info",
        Kind::ProcStat => "/proc/PID/stat",
        Kind::Stack => "/proc/PID/stack",
        Kind::Iscsi => "iscsiadm -m session",
        Kind::CephStatus => "ceph -s",
        Kind::CephHealth => "ceph health detail",
        Kind::Rbd => "rbd status",
        Kind::Auto | Kind::Lines => return None,
    })
}

/// The kind of output a command line produces, and the program name its records get.
fn kind_of_command(cmd: &str) -> (Kind, Option<String>) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some(first) = words.first() else { return (Kind::Auto, None) };
    let bin = first.rsplit('/').next().unwrap_or(first);
    let args = &words[1..];
    let has = |w: &str| args.contains(&w);
    let joined = args.join(" ");
    let kind = match bin {
        "multipath" if args.iter().any(|a| a.starts_with("-l")) => Kind::MultipathLl,
        "multipathd" if joined.contains("show topology") => Kind::MultipathLl,
        "multipathd" if joined.contains("show paths") => Kind::Table(Table::MpathPaths),
        "multipathd" if joined.contains("show maps") => Kind::Table(Table::MpathMaps),
        "dmsetup" => match args.iter().find(|a| !a.starts_with('-')).copied() {
            Some("ls") => Kind::DmLs,
            Some("table") | Some("status") => Kind::DmLine,
            Some("info") if args.iter().any(|a| *a == "-c" || *a == "-C" || *a == "--columns") => {
                Kind::Table(Table::DmInfoC)
            }
            Some("info") => Kind::DmInfo,
            _ => Kind::Lines,
        },
        "ps" => Kind::Table(Table::Ps),
        "cat" if args.iter().any(|a| a.starts_with("/proc/") && a.ends_with("/stat")) => Kind::ProcStat,
        "cat" if args.iter().any(|a| a.starts_with("/proc/") && a.ends_with("/stack")) => Kind::Stack,
        "virsh" if has("list") => Kind::Table(Table::Virsh),
        "iscsiadm" if has("session") => Kind::Iscsi,
        "ceph" if has("-s") || has("status") => Kind::CephStatus,
        "ceph" if has("health") => Kind::CephHealth,
        "rbd" if has("status") => Kind::Rbd,
        "kubectl" | "oc" if has("get") && (has("pods") || has("pod") || has("po")) => Kind::Table(Table::Pods),
        "lsblk" => Kind::Table(Table::Lsblk),
        _ => Kind::Auto,
    };
    let program = match kind {
        Kind::Table(Table::Ps) => Some("ps".to_string()),
        Kind::DmLine => Some(format!("dmsetup {}", args.iter().find(|a| !a.starts_with('-')).unwrap_or(&""))),
        Kind::Auto | Kind::Lines => Some(words.join(" ")),
        k => program_of(k).map(str::to_string),
    };
    (kind, program)
}

/// The command a sosreport (`sos_commands/<plugin>/multipath_-ll`) or rootline bundle
/// (`commands/multipath_-ll.txt`) path names.
fn command_from_path(path: &str) -> Option<String> {
    let p = path.rsplit('!').next().unwrap_or(path);
    let mut parts = p.rsplit('/');
    let base = parts.next()?;
    let in_dir = p.contains("sos_commands/") || parts.next() == Some("commands");
    if !in_dir {
        return None;
    }
    let base = base.strip_suffix(".txt").unwrap_or(base);
    Some(base.replace('_', " "))
}

/// A bonus for sosreport and bundle paths of the commands this format reads.
pub fn path_hint(path: &str) -> f32 {
    match command_from_path(path).map(|c| kind_of_command(&c).0) {
        Some(Kind::Auto) | Some(Kind::Lines) | None => 0.0,
        Some(_) => 0.5,
    }
}

/// True when `line` is recognisably a line of one of the supported command outputs.
pub fn detect(line: &[u8]) -> bool {
    if line_kind(line).is_some() {
        return true;
    }
    let t = trim(line);
    // multipath -ll attachments.
    if t.starts_with(b"size=") && memchr::memmem::find(t, b"features=").is_some() {
        return true;
    }
    if (t.starts_with(b"|-+- policy=") || t.starts_with(b"`-+- policy=")) || is_mpath_path_line(line) {
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
    // virsh list: a dashed rule under the header, rows `Id Name State`.
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

/// Recognises the kind from one line alone (headers and self-describing lines).
fn line_kind(line: &[u8]) -> Option<Kind> {
    if let Some(t) = header_table(line) {
        return Some(Kind::Table(t));
    }
    if mpath_header(line).is_some() {
        return Some(Kind::MultipathLl);
    }
    if proc_stat(line).is_some() {
        return Some(Kind::ProcStat);
    }
    if dm_ls(line).is_some() {
        return Some(Kind::DmLs);
    }
    if dm_line(line).is_some_and(|(name, _)| !name.is_empty()) {
        return Some(Kind::DmLine);
    }
    if line.starts_with(b"Name:") && line.len() > 6 && line[5..].iter().all(|c| *c == b' ' || c.is_ascii_graphic()) {
        let v = trim(&line[5..]);
        if !v.is_empty() && memchr::memchr(b' ', v).is_none() && line.get(5) == Some(&b' ') && line.len() > 12 {
            return Some(Kind::DmInfo);
        }
    }
    if iscsi(line).is_some() {
        return Some(Kind::Iscsi);
    }
    let t = trim(line);
    if line.starts_with(b"  cluster:") || t.starts_with(b"health: HEALTH_") {
        return Some(Kind::CephStatus);
    }
    if line.starts_with(b"HEALTH_OK") || line.starts_with(b"HEALTH_WARN") || line.starts_with(b"HEALTH_ERR") {
        return Some(Kind::CephHealth);
    }
    if line.starts_with(b"[WRN] ") || line.starts_with(b"[ERR] ") {
        return Some(Kind::CephHealth);
    }
    if t.starts_with(b"Watchers:") {
        return Some(Kind::Rbd);
    }
    None
}

/// Whitespace-separated words with their start offsets.
fn words(line: &[u8]) -> Vec<(usize, &[u8])> {
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
    let parts = w.split(|c| *c == b':');
    let mut n = 0;
    for p in parts {
        if parse_u64(p).is_none() {
            return false;
        }
        n += 1;
    }
    n == 4
}

/// `| `- 0:0:0:0 sda 8:0  active ready running` and the last path line `  `- ...`.
fn is_mpath_path_line(line: &[u8]) -> bool {
    let t = trim(line);
    let t = t.strip_prefix(b"| ").map(trim).unwrap_or(t);
    let Some(rest) = t.strip_prefix(b"`- ").or_else(|| t.strip_prefix(b"|- ")) else { return false };
    words(rest).first().is_some_and(|w| is_hcil(w.1))
}

fn header_table(line: &[u8]) -> Option<Table> {
    let w = words(line);
    let has = |x: &[u8]| w.iter().any(|(_, y)| *y == x);
    let first = w.first()?.1;
    if has(b"dev_t") && (has(b"hcil") || has(b"dev")) {
        return Some(Table::MpathPaths);
    }
    if first == b"name" && (has(b"sysfs") || has(b"failback") || has(b"queueing") || has(b"uuid")) {
        return Some(Table::MpathMaps);
    }
    if first == b"Name" && has(b"Maj") && has(b"Min") {
        return Some(Table::DmInfoC);
    }
    if first == b"Id" && has(b"Name") && has(b"State") {
        return Some(Table::Virsh);
    }
    if has(b"NAME") && has(b"READY") && has(b"STATUS") {
        return Some(Table::Pods);
    }
    if first == b"NAME" && has(b"MAJ:MIN") {
        return Some(Table::Lsblk);
    }
    let upper = w.iter().all(|(_, x)| x.iter().all(|c| c.is_ascii_uppercase() || b"%:_-".contains(c)));
    if upper
        && has(b"PID")
        && (has(b"STAT") || has(b"CMD") || has(b"COMMAND") || has(b"COMM") || has(b"TTY") || has(b"S"))
    {
        return Some(Table::Ps);
    }
    None
}

/// The field a column of `table` feeds; `last` is true for the last column.
fn column_field(table: Table, name: &[u8], last: bool) -> Option<&'static str> {
    Some(match (table, name) {
        (Table::MpathPaths, b"hcil") => "hcil",
        (Table::MpathPaths, b"dev") => "disk",
        (Table::MpathPaths, b"dev_t") => "devt",
        (Table::MpathPaths | Table::MpathMaps, b"dm_st" | b"dm-st") => "dm_st",
        (Table::MpathPaths, b"chk_st") => "chk_st",
        (Table::MpathPaths, b"dev_st") => "dev_st",
        (Table::MpathPaths, b"multipath") | (Table::MpathMaps, b"name") => "map",
        (Table::MpathPaths | Table::MpathMaps, b"uuid") => "wwid",
        (Table::MpathMaps, b"sysfs") => "dm",
        (Table::MpathMaps, b"paths") => "paths",
        (Table::MpathMaps, b"queueing") => "queueing",
        (Table::DmInfoC, b"Name") => "map",
        (Table::DmInfoC, b"Maj") => "major",
        (Table::DmInfoC, b"Min") => "minor",
        (Table::DmInfoC, b"Stat") => "stat",
        (Table::DmInfoC, b"Open") => "open",
        (Table::DmInfoC, b"UUID") => "uuid",
        (Table::Ps, b"PID") => "pid",
        (Table::Ps, b"PPID") => "ppid",
        (Table::Ps, b"STAT" | b"S") => "stat",
        (Table::Ps, b"USER") => "user",
        (Table::Ps, b"WCHAN") => "wchan",
        (Table::Ps, b"COMMAND" | b"CMD" | b"ARGS") if last => "command",
        (Table::Ps, b"COMMAND" | b"COMM" | b"UCOMM") => "comm",
        (Table::Virsh, b"Id") => "id",
        (Table::Virsh, b"Name") => "domain",
        (Table::Virsh, b"State") => "state",
        (Table::Pods, b"NAMESPACE") => "namespace",
        (Table::Pods, b"NAME") => "pod",
        (Table::Pods, b"READY") => "ready",
        (Table::Pods, b"STATUS") => "status",
        (Table::Pods, b"RESTARTS") => "restarts",
        (Table::Pods, b"NODE") => "node",
        (Table::Lsblk, b"NAME") => "disk",
        (Table::Lsblk, b"MAJ:MIN") => "devt",
        (Table::Lsblk, b"TYPE") => "type",
        (Table::Lsblk, b"MOUNTPOINT" | b"MOUNTPOINTS") => "mountpoint",
        _ => return None,
    })
}

/// `mpatha (3333...) dm-0 LABSAN,VDISK-MP` or `3600... dm-3 VENDOR,PRODUCT` -> (map, wwid, dm).
fn mpath_header(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    if line.first().is_none_or_space() {
        return None;
    }
    let w = words(line);
    if w.len() < 3 {
        return None;
    }
    let is_dm = |x: &[u8]| x.strip_prefix(b"dm-").is_some_and(|n| parse_u64(n).is_some());
    if is_dm(w[2].1) && w[1].1.starts_with(b"(") && w[1].1.ends_with(b")") && w[1].1.len() > 2 {
        let wwid = &w[1].1[1..w[1].1.len() - 1];
        return Some((w[0].1, wwid, w[2].1));
    }
    if is_dm(w[1].1) && memchr::memchr(b',', w[2].1).is_some() {
        return Some((w[0].1, w[0].1, w[1].1));
    }
    None
}

trait SpaceOpt {
    fn is_none_or_space(&self) -> bool;
}

impl SpaceOpt for Option<&u8> {
    fn is_none_or_space(&self) -> bool {
        matches!(self, None | Some(b' ') | Some(b'\t') | Some(b'|') | Some(b'`'))
    }
}

/// Four slices of one line.
type Four<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// `1 (init) S 0 ...` -> (pid, comm, state, ppid).
fn proc_stat(line: &[u8]) -> Option<Four<'_>> {
    let open = memchr::memchr(b'(', line)?;
    let close = memchr::memrchr(b')', line)?;
    if open < 2 || close < open || line[open - 1] != b' ' {
        return None;
    }
    let pid = &line[..open - 1];
    parse_u64(pid)?;
    let rest = line[close + 1..].strip_prefix(b" ")?;
    let w = words(rest);
    let state = w.first()?.1;
    let ppid = w.get(1)?.1;
    if state.len() != 1 || !state[0].is_ascii_alphabetic() || parse_u64(ppid).is_none() || w.len() < 4 {
        return None;
    }
    Some((pid, &line[open + 1..close], state, ppid))
}

/// The start time of a `/proc/PID/stat` line's process after boot, in nanoseconds: field 22,
/// `starttime`, in clock ticks of `sysconf(_SC_CLK_TCK)`, which Linux fixes at 100 for user space.
/// See: proc_pid_stat(5), `starttime`; fs/proc/array.c (`nsec_to_clock_t(start_time)`).
fn proc_start_nanos(line: &[u8]) -> Option<i64> {
    let close = memchr::memrchr(b')', line)?;
    let w = words(line[close + 1..].strip_prefix(b" ")?);
    let ticks = parse_u64(w.get(19)?.1)?;
    (ticks < 1 << 40).then(|| ticks as i64 * 10_000_000)
}

/// `mpatha\t(254:0)` -> (name, devt).
fn dm_ls(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let w = words(line);
    if w.len() != 2 || line.first().is_none_or_space() {
        return None;
    }
    let d = w[1].1.strip_prefix(b"(")?.strip_suffix(b")")?;
    is_devt(d).then_some((w[0].1, d))
}

/// `name: 0 131072 multipath ...` (or `0 131072 linear ...` for one device) -> (name, rest).
fn dm_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let (name, rest) = match memchr::memmem::find(line, b": ") {
        Some(c) if c > 0 && memchr::memchr(b' ', &line[..c]).is_none() => (&line[..c], &line[c + 2..]),
        _ => (&b""[..], line),
    };
    let w = words(rest);
    if w.len() < 3 || parse_u64(w[0].1).is_none() || parse_u64(w[1].1).is_none() {
        return None;
    }
    let target = w[2].1;
    target
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
        .then_some((name, rest))
}

/// `tcp: [1] 10.0.0.1:3260,1 iqn.2010-10.org.openstack:volume-x (non-flash)` -> (transport, sid, portal, target).
fn iscsi(line: &[u8]) -> Option<Four<'_>> {
    let w = words(line);
    if w.len() < 4 {
        return None;
    }
    let transport = w[0].1.strip_suffix(b":")?;
    let sid = w[1].1.strip_prefix(b"[")?.strip_suffix(b"]")?;
    parse_u64(sid)?;
    Some((transport, sid, w[2].1, w[3].1))
}

struct SnapshotParser {
    kind: Kind,
    time: RawTime,
    program: Option<String>,
    /// Lines nothing could place are unparsed (a file) or records of their own (a command log section).
    strict: bool,
    /// Column fields of the current table (by word position).
    columns: Vec<Option<&'static str>>,
    table: Option<Table>,
    /// A record was emitted that indented lines may attach to.
    open: bool,
}

/// A snapshot parser that knows its command (`multipath -ll`) and stamps every record with `time`.
/// Lines it cannot place become records of their own (with that time), never unparsed.
pub(crate) fn for_command(cmd: &str, time: RawTime) -> Box<dyn Parser> {
    let (kind, program) = kind_of_command(cmd);
    Box::new(SnapshotParser { kind, time, program, strict: false, columns: Vec::new(), table: None, open: false })
}

/// A snapshot parser for a file: the command comes from the path or the content; the time is the
/// file's ([`RawTime::Snapshot`]).
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    let (kind, program) = match command_from_path(&ctx.path) {
        Some(cmd) => kind_of_command(&cmd),
        None => (Kind::Auto, None),
    };
    let program = if matches!(kind, Kind::Auto) { None } else { program };
    Box::new(SnapshotParser {
        kind,
        time: RawTime::Snapshot,
        program,
        strict: true,
        columns: Vec::new(),
        table: None,
        open: false,
    })
}

impl SnapshotParser {
    fn rec<'a>(&'a self, msg: &'a [u8]) -> Record<'a> {
        let mut r = Record::new(self.time, msg);
        r.program = self.program.as_deref().or_else(|| program_of(self.kind)).map(Cow::Borrowed);
        r
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
            let r = self.rec(t);
            out.record(at, r);
            self.open = true;
        }
    }

    fn set_table(&mut self, t: Table, line: &[u8]) {
        let w = words(line);
        let n = w.len();
        let mut cols = Vec::with_capacity(n);
        for (i, (_, name)) in w.iter().enumerate() {
            cols.push(column_field(t, name, i + 1 == n));
        }
        self.columns = cols;
        self.table = Some(t);
    }

    fn table_row(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let Some(t) = self.table else { return false };
        let w = words(line);
        if w.len() < 2 {
            return false;
        }
        let ok = match t {
            Table::Ps => self
                .columns
                .iter()
                .position(|c| *c == Some("pid"))
                .and_then(|i| w.get(i))
                .is_some_and(|x| parse_u64(x.1).is_some() || x.1 == b"-"),
            Table::Virsh => parse_u64(w[0].1).is_some() || w[0].1 == b"-",
            Table::Pods => w.iter().take(3).any(|x| is_ratio(x.1)),
            Table::Lsblk => w.get(1).is_some_and(|x| is_devt(x.1)),
            Table::DmInfoC => w.get(1).is_some_and(|x| parse_u64(x.1).is_some()),
            Table::MpathPaths => w.len() >= 3,
            Table::MpathMaps => true,
        };
        if !ok {
            return false;
        }
        let n = self.columns.len();
        let mut rec = self.rec(trim(line));
        for (i, key) in self.columns.iter().enumerate() {
            let Some(key) = key else { continue };
            let Some(&(start, word)) = w.get(i) else { break };
            let val = if i + 1 == n { trim(&line[start..]) } else { word };
            let val = if t == Table::Lsblk && *key == "disk" { strip_tree(val) } else { val };
            if !val.is_empty() {
                rec.fields.push((Cow::Borrowed(key), text(val)));
            }
        }
        out.record(at, rec);
        true
    }

    /// Reads `line` as output of `self.kind`; false when the line does not fit.
    fn place(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let t = trim(line);
        match self.kind {
            Kind::Auto | Kind::Lines => false,
            Kind::Table(_) => self.table_row(at, line, out),
            Kind::MultipathLl => {
                if let Some((map, wwid, dm)) = mpath_header(line) {
                    let mut r = self.rec(t);
                    r.fields.push((Cow::Borrowed("map"), text(map)));
                    r.fields.push((Cow::Borrowed("wwid"), text(wwid)));
                    r.fields.push((Cow::Borrowed("dm"), text(dm)));
                    out.record(at, r);
                    return true;
                }
                if self.open && (t.starts_with(b"size=") || matches!(line.first(), Some(b'|' | b'`' | b' '))) {
                    out.attach(at, line);
                    return true;
                }
                false
            }
            Kind::DmLs => match dm_ls(line) {
                Some((name, devt)) => {
                    let mut r = self.rec(t);
                    r.fields.push((Cow::Borrowed("map"), text(name)));
                    r.fields.push((Cow::Borrowed("devt"), text(devt)));
                    out.record(at, r);
                    true
                }
                None => false,
            },
            Kind::DmLine => match dm_line(line) {
                Some((name, _)) => {
                    let mut r = self.rec(t);
                    if !name.is_empty() {
                        r.fields.push((Cow::Borrowed("map"), text(name)));
                    }
                    out.record(at, r);
                    true
                }
                None => false,
            },
            Kind::DmInfo => {
                if let Some(v) = line.strip_prefix(b"Name:") {
                    let mut r = self.rec(t);
                    r.fields.push((Cow::Borrowed("map"), text(trim(v))));
                    out.record(at, r);
                    return true;
                }
                if self.open && !t.is_empty() && memchr::memchr(b':', t).is_some() {
                    out.attach(at, line);
                    return true;
                }
                false
            }
            Kind::ProcStat => match proc_stat(line) {
                Some((pid, comm, state, ppid)) => {
                    let mut r = self.rec(t);
                    r.taken_after_boot = proc_start_nanos(line);
                    r.pid = parse_u64(pid).and_then(|p| u32::try_from(p).ok());
                    r.fields.push((Cow::Borrowed("pid"), text(pid)));
                    r.fields.push((Cow::Borrowed("comm"), text(comm)));
                    r.fields.push((Cow::Borrowed("state"), text(state)));
                    r.fields.push((Cow::Borrowed("ppid"), text(ppid)));
                    out.record(at, r);
                    true
                }
                None => false,
            },
            Kind::Stack => {
                if self.open && !t.is_empty() {
                    out.attach(at, line);
                } else if !t.is_empty() {
                    let r = self.rec(t);
                    out.record(at, r);
                } else {
                    return false;
                }
                true
            }
            Kind::Iscsi => match iscsi(line) {
                Some((transport, sid, portal, target)) => {
                    let mut r = self.rec(t);
                    r.fields.push((Cow::Borrowed("transport"), text(transport)));
                    r.fields.push((Cow::Borrowed("sid"), text(sid)));
                    r.fields.push((Cow::Borrowed("portal"), text(portal)));
                    r.fields.push((Cow::Borrowed("target"), text(target)));
                    out.record(at, r);
                    true
                }
                None => false,
            },
            Kind::CephStatus => {
                let indent = line.len() - line.iter().skip_while(|c| **c == b' ').count();
                if t.is_empty() {
                    return false;
                }
                if indent <= 2 && t.ends_with(b":") {
                    out.skip(at); // a section name (`  cluster:`)
                    return true;
                }
                if indent <= 4 {
                    if let Some(c) = memchr::memchr(b':', t) {
                        let mut r = self.rec(t);
                        r.fields.push((Cow::Borrowed("key"), text(&t[..c])));
                        out.record(at, r);
                        return true;
                    }
                }
                if self.open {
                    out.attach(at, line);
                    return true;
                }
                false
            }
            Kind::CephHealth => {
                if matches!(line.first(), Some(b' ' | b'\t')) {
                    return false; // detail lines attach through the fallback
                }
                let mut r = self.rec(t);
                if t.starts_with(b"HEALTH_") {
                    let end = memchr::memchr(b' ', t).unwrap_or(t.len());
                    r.fields.push((Cow::Borrowed("health"), text(&t[..end])));
                } else {
                    let s = t.strip_prefix(b"[WRN] ").or_else(|| t.strip_prefix(b"[ERR] ")).unwrap_or(t);
                    let end = s.iter().position(|c| *c == b':' || *c == b' ').unwrap_or(s.len());
                    let check = &s[..end];
                    if !check.is_empty()
                        && check.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
                    {
                        r.fields.push((Cow::Borrowed("check"), text(check)));
                    }
                }
                out.record(at, r);
                true
            }
            Kind::Rbd => {
                if t == b"Watchers:" {
                    out.skip(at);
                    return true;
                }
                if t.starts_with(b"Watchers:") {
                    let r = self.rec(t);
                    out.record(at, r);
                    return true;
                }
                if let Some(rest) = t.strip_prefix(b"watcher=") {
                    let w = words(rest);
                    let mut r = self.rec(t);
                    r.fields.push((Cow::Borrowed("watcher"), text(w.first().map_or(rest, |x| x.1))));
                    if let Some(c) = w.get(1) {
                        r.fields.push((Cow::Borrowed("client"), text(c.1)));
                    }
                    out.record(at, r);
                    return true;
                }
                false
            }
        }
    }
}

/// Removes lsblk's tree drawing (`├─`, `└─`, `│ `, `|-`, `` `- ``) from a NAME cell.
fn strip_tree(mut b: &[u8]) -> &[u8] {
    loop {
        let before = b.len();
        for p in ["├─".as_bytes(), "└─".as_bytes(), "│".as_bytes(), b"|-", b"`-", b" "] {
            if let Some(r) = b.strip_prefix(p) {
                b = r;
            }
        }
        if b.len() == before {
            return b;
        }
    }
}

impl Parser for SnapshotParser {
    fn feed(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) {
        if trim(line).is_empty() {
            out.skip(at);
            return;
        }
        // Headers switch tables; in auto mode any self-describing line decides the kind.
        if let Some(t) = header_table(line) {
            if matches!(self.kind, Kind::Auto | Kind::Table(_)) {
                self.kind = Kind::Table(t);
            }
            if matches!(self.kind, Kind::Table(_)) {
                self.set_table(t, line);
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
        if matches!(self.kind, Kind::Table(Table::Virsh)) && trim(line).iter().all(|c| *c == b'-') {
            out.skip(at);
            return;
        }
        if self.place(at, line, out) {
            self.open = true;
            return;
        }
        self.fallback(at, line, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::testing::{records, run, Got};

    fn file(path: &str) -> Box<dyn Parser> {
        parser(&SourceCtx { path: path.into(), ..SourceCtx::default() })
    }

    fn field<'a>(g: &'a Got, k: &str) -> Option<&'a str> {
        let Got::Rec { fields, .. } = g else { return None };
        fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
    }

    fn recs(got: &[Got]) -> Vec<&Got> {
        got.iter().filter(|g| matches!(g, Got::Rec { .. })).collect()
    }

    #[test]
    fn multipath_ll_from_the_lab() {
        let got = run(
            file("multipath-ll.txt"),
            "mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP\n\
             size=64M features='1 queue_if_no_path' hwhandler='1 alua' wp=rw\n\
             |-+- policy='service-time 0' prio=0 status=enabled\n\
             | `- 0:0:0:0 sda 8:0  failed faulty offline\n\
             `-+- policy='service-time 0' prio=0 status=enabled\n  `- 1:0:0:0 sdb 8:16 failed faulty offline\n\
             3600a0980383056 dm-21 NETAPP,LUN C-Mode\n",
        );
        let r = recs(&got);
        assert_eq!(r.len(), 2, "{got:?}");
        assert_eq!(field(r[0], "map"), Some("mpatha"));
        assert_eq!(field(r[0], "wwid"), Some("333333330000007d0"));
        assert_eq!(field(r[0], "dm"), Some("dm-0"));
        assert!(matches!(r[0], Got::Rec { time: RawTime::Snapshot, .. }));
        assert_eq!(got.iter().filter(|g| matches!(g, Got::Attach(..))).count(), 5);
        assert_eq!(field(r[1], "dm"), Some("dm-21"));
        assert_eq!(records(&got)[0].1.as_deref(), Some("multipath -ll"));
    }

    #[test]
    fn multipathd_tables_and_dmsetup() {
        let got = run(
            file("x"),
            "hcil    dev dev_t pri dm_st  chk_st dev_st  next_check    \n\
             0:0:0:0 sda 8:0   50  failed faulty offline XX........ 1/4\n",
        );
        assert_eq!(got[0], Got::Skip(1));
        assert_eq!(field(&got[1], "disk"), Some("sda"));
        assert_eq!(field(&got[1], "devt"), Some("8:0"));
        assert_eq!(field(&got[1], "chk_st"), Some("faulty"));
        let got = run(
            file("x"),
            "name   failback queueing paths dm-st  write_prot\nmpatha -        on       0     active rw        \n",
        );
        assert_eq!(field(&got[1], "map"), Some("mpatha"));
        assert_eq!(field(&got[1], "paths"), Some("0"));
        let got = run(file("x"), "mpatha\t(254:0)\nmpathb\t(253:21)\n");
        assert_eq!(field(&got[1], "devt"), Some("253:21"));
        let got = run(file("x"), "mpatha: 0 131072 multipath 2 0 1 0 2 1 E 0 1 2 8:0 F 1 0 1 E 0 1 2 8:16 F 1 0 1 \n");
        assert_eq!(field(&got[0], "map"), Some("mpatha"));
        let got = run(
            file("x"),
            "Name:              mpatha\nState:             ACTIVE\nOpen count:        2\n\nName:              mpathb\nState:             SUSPENDED\n",
        );
        let r = recs(&got);
        assert_eq!(r.len(), 2);
        assert_eq!(field(r[1], "map"), Some("mpathb"));
        let got = run(
            file("sos_commands/devicemapper/dmsetup_info_-c"),
            "Name             Maj Min Stat Open Targ Event  UUID\nmpathb           253  21 L--w    1    1      0 mpath-3600a09803830\n",
        );
        assert_eq!(field(&got[1], "major"), Some("253"));
        assert_eq!(field(&got[1], "uuid"), Some("mpath-3600a09803830"));
        assert_eq!(records(&got)[0].1.as_deref(), Some("dmsetup info -c"));
    }

    #[test]
    fn ps_and_proc_stat() {
        let got = run(
            file("x"),
            "PID   PPID  STAT COMMAND          COMMAND\n  416     1 D    dd               {dd} sh -c sleep 1 & exec dd\n  420   416 Z    sleep            [sleep]\n",
        );
        assert_eq!(field(&got[1], "pid"), Some("416"));
        assert_eq!(field(&got[1], "stat"), Some("D"));
        assert_eq!(field(&got[1], "comm"), Some("dd"));
        assert_eq!(field(&got[1], "command"), Some("{dd} sh -c sleep 1 & exec dd"));
        assert_eq!(field(&got[2], "ppid"), Some("416"));
        let got = run(
            file("sos_commands/process/ps_auxwwwm"),
            "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
             root        4242  0.0  0.1 123456  7890 ?        D    19:40   0:01 /usr/libexec/qemu-kvm -name guest=instance-0000001a\n",
        );
        assert_eq!(field(&got[1], "user"), Some("root"));
        assert_eq!(field(&got[1], "command"), Some("/usr/libexec/qemu-kvm -name guest=instance-0000001a"));
        assert_eq!(records(&got)[0].1.as_deref(), Some("ps"));
        let got = run(file("x"), "4242 (qemu (kvm) x) D 1 4242 4242 0 -1 4194560\n");
        assert_eq!(field(&got[0], "comm"), Some("qemu (kvm) x"));
        assert_eq!(field(&got[0], "state"), Some("D"));
        assert_eq!(field(&got[0], "ppid"), Some("1"));
    }

    #[test]
    fn virsh_iscsi_ceph_rbd_pods_lsblk() {
        let got = run(
            file("x"),
            " Id   Name                State\n------------------------------------\n 1    instance-0000001a   running\n -    instance-0000001b   shut off\n",
        );
        let r = recs(&got);
        assert_eq!(field(r[1], "state"), Some("shut off"));
        assert_eq!(field(r[0], "domain"), Some("instance-0000001a"));
        let got = run(file("x"), "tcp: [3] 10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f (non-flash)\n");
        assert_eq!(field(&got[0], "target"), Some("iqn.2010-10.org.openstack:volume-4f2f"));
        let got = run(
            file("x"),
            "  cluster:\n    id:     3f1c\n    health: HEALTH_WARN\n            1 slow ops, oldest one blocked for 120 sec, osd.3 has slow ops\n\n  services:\n    mon: 3 daemons\n",
        );
        let r = recs(&got);
        assert_eq!(r.len(), 3);
        assert_eq!(field(r[1], "key"), Some("health"));
        assert!(got.iter().any(|g| matches!(g, Got::Attach(4, _))));
        let got = run(
            file("x"),
            "HEALTH_WARN 1 slow ops\n[WRN] SLOW_OPS: 1 slow ops, oldest one blocked for 120 sec\n    osd.3 has slow ops\n",
        );
        assert_eq!(field(&got[0], "health"), Some("HEALTH_WARN"));
        assert_eq!(field(&got[1], "check"), Some("SLOW_OPS"));
        assert_eq!(got[2], Got::Attach(3, "    osd.3 has slow ops".into()));
        let got = run(file("x"), "Watchers:\n\twatcher=10.0.0.37:0/1234 client.4567 cookie=1\n");
        assert_eq!(field(&got[1], "client"), Some("client.4567"));
        let got = run(
            file("x"),
            "NAMESPACE   NAME                            READY   STATUS    RESTARTS      AGE\n\
             openstack   libvirt-libvirt-default-x7k2p   0/1     Running   3 (5m ago)    2d\n",
        );
        assert_eq!(field(&got[1], "pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(field(&got[1], "ready"), Some("0/1"));
        assert_eq!(field(&got[1], "restarts"), Some("3"));
        let got = run(
            file("x"),
            "NAME        MAJ:MIN RM  SIZE RO TYPE  MOUNTPOINTS\nsds          65:32   0  100G  0 disk  \n└─mpathb    253:21  0  100G  0 mpath \n",
        );
        assert_eq!(field(&got[2], "disk"), Some("mpathb"));
        assert_eq!(field(&got[2], "devt"), Some("253:21"));
    }

    #[test]
    fn for_command_stamps_and_keeps_everything() {
        let t = RawTime::Naive { civil_nanos: 5 };
        let got = run(for_command("multipath -f mpatha", t), "91.641391 | mpatha: map in use\n");
        assert_eq!(
            records(&got),
            vec![(t, Some("multipath -f mpatha".into()), "91.641391 | mpatha: map in use".into())]
        );
        let got = run(for_command("cat /proc/192/stack", t), "[<0>] a+0x1/0x2\n[<0>] b+0x1/0x2\n");
        assert_eq!(recs(&got).len(), 1);
        let got = run(for_command("dmsetup status", t), "mpatha: 0 131072 multipath 2 0\n");
        assert_eq!(records(&got)[0].1.as_deref(), Some("dmsetup status"));
    }

    #[test]
    fn paths_near_misses_and_garbage() {
        assert_eq!(path_hint("sosreport-x/sos_commands/multipath/multipath_-ll"), 0.5);
        assert_eq!(path_hint("bundle/commands/dmsetup_info_-c.txt"), 0.5);
        assert_eq!(path_hint("var/log/messages"), 0.0);
        assert!(detect(b"mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP"));
        assert!(detect(b"1 (init) S 0 0 0 0 -1 4194560"));
        assert!(!detect(b"Oct 13 19:51:02 host multipathd[1]: mpatha: dm-0 LABSAN,VDISK"));
        assert!(!detect(b"[12345.678901] sd 0:0:0:0: [sda] tag#0"));
        assert!(!detect(b"1 (init S 0"));
        assert!(!detect(b"hello world"));
        let got = run(file("x"), "hello world\n\x00\u{ff})(\n");
        assert_eq!(got[0], Got::Unparsed(1, "hello world".into()));
        assert!(matches!(got[1], Got::Unparsed(2, _)));
    }
}

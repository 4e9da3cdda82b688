//! Tables read from their header: which columns a command printed, where each starts, and the field
//! each feeds.
//!
//! Two ways to cut a row into cells:
//! - by words, for `ps`, `top`, `dmsetup info -c` and `df`, whose columns grow past their headers
//!   when a value is wide (procps shifts the rest of the row): cells are whitespace-separated words,
//!   `ps -o lstart` takes five (`Tue Mar 11 09:13:55 2025`), `start` one or two (`Mar 10`), and the
//!   last column takes the rest of the line (a command line, a mount point);
//! - by position, for tables whose widths are computed over every row (`multipathd show`, kubectl
//!   and crictl tabwriter tables, virsh, lsblk, findmnt): each word belongs to the column whose span
//!   (from its header's start to the next header's start) it overlaps most, so empty cells
//!   (`lsblk -f`), cells with spaces (`i/o pending`, `3 (5m ago)`, `2 hours ago`, `shut off`) and
//!   right-aligned numbers all land where they belong.
//!
//! Header names with a space (`host WWNN`, `POD ID`, `NOMINATED NODE`, `Mounted on`) are one column:
//! multipathd pads with one space, so only its known two-word names are joined; kubectl and crictl
//! pad with at least three (Go tabwriter, padding 3), so any single space inside a header joins.
//!
//! See: procps `ps/output.c` (format specifiers and headers), multipath-tools `libmultipath/print.c`
//! (`pd[]`, `mpd[]` wildcards and their headers), cri-tools `cmd/crictl/display.go` and
//! `container.go`, kubectl printers (tabwriter padding 3), util-linux `lsblk(8)`, `findmnt(8)`,
//! coreutils `df(1)`, libvirt `virsh(1)` (`list`, `domblklist [--details]`), docker `ps`.

use std::borrow::Cow;

use super::words;
use super::{block, is_devt, is_ratio, trim, LinePos, Sink};
use crate::formats::util::parse_u64;
use crate::formats::util::text;

/// The table layouts read column by column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    MpathPaths,
    MpathMaps,
    DmInfoC,
    Ps,
    Top,
    Virsh,
    DomBlk,
    Pods,
    Lsblk,
    Crictl,
    Docker,
    Df,
    Findmnt,
}

impl Table {
    /// The program name records of the table carry when the command is not known.
    pub fn program(self) -> &'static str {
        match self {
            Table::MpathPaths => "multipathd show paths",
            Table::MpathMaps => "multipathd show maps",
            Table::DmInfoC => "dmsetup info -c",
            Table::Ps => "ps",
            Table::Top => "top",
            Table::Virsh => "virsh list",
            Table::DomBlk => "virsh domblklist",
            Table::Pods => "kubectl get pods",
            Table::Lsblk => "lsblk",
            Table::Crictl => "crictl ps",
            Table::Docker => "docker ps",
            Table::Df => "df",
            Table::Findmnt => "findmnt",
        }
    }

    /// True when cells are cut by position rather than by words.
    fn by_position(self) -> bool {
        !matches!(self, Table::Ps | Table::Top | Table::DmInfoC | Table::Df)
    }
}

/// How many words a cell takes when cutting by words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    One,
    /// `ps -o lstart` (five words) or `start` (one, or `Mmm dd`).
    Started,
    /// Everything to the end of the line.
    Rest,
    /// A word and the parenthesised words after it (kubectl's `7 (2m13s ago)`).
    Paren,
    /// Words up to `ago` (crictl's `About a minute ago`).
    Ago,
}

/// One column: its header, where the header starts and ends, and the field it feeds.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub field: Option<&'static str>,
    pub start: usize,
    pub span: Span,
}

/// The columns of a table.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub table: Table,
    pub cols: Vec<Col>,
    /// Known from the command rather than a header: cut by words.
    by_words: bool,
}

/// multipathd's header names with a space (libmultipath `pd[]`, `mpd[]`).
const MPATH_TWO_WORDS: &[(&[u8], &[u8])] = &[
    (b"host", b"WWNN"),
    (b"target", b"WWNN"),
    (b"host", b"WWPN"),
    (b"target", b"WWPN"),
    (b"host", b"adapter"),
    (b"vpd", b"page"),
    (b"page", b"data"),
    (b"LUN", b"hex"),
];

/// multipathd `show paths format` header names.
const MPATH_PATH_COLS: &[&[u8]] = &[
    b"uuid",
    b"hcil",
    b"dev",
    b"dev_t",
    b"dm_st",
    b"dev_st",
    b"chk_st",
    b"vend/prod/rev",
    b"checker",
    b"next_check",
    b"pri",
    b"size",
    b"serial",
    b"marginal_st",
    b"multipath",
    b"host WWNN",
    b"target WWNN",
    b"host WWPN",
    b"target WWPN",
    b"host adapter",
    b"foreign",
    b"vpd page data",
    b"failures",
    b"protocol",
    b"init_st",
    b"LUN hex",
    b"TPG",
    b"max_sectors_kb",
];

/// multipathd `show maps format` header names.
const MPATH_MAP_COLS: &[&[u8]] = &[
    b"name",
    b"uuid",
    b"sysfs",
    b"failback",
    b"queueing",
    b"paths",
    b"write_prot",
    b"dm-st",
    b"size",
    b"features",
    b"failures",
    b"hwhandler",
    b"action",
    b"path_faults",
    b"switch_grp",
    b"map_loads",
    b"total_q_time",
    b"q_timeouts",
    b"vend/prod",
    b"vend",
    b"prod",
    b"rev",
    b"foreign",
    b"vpd page data",
    b"max_sectors_kb",
];

/// Header names: (start, end, text), joining the multi-word names of `table`.
fn header_names(line: &[u8], table: Option<Table>) -> Vec<(usize, usize, &[u8])> {
    let w = words(line);
    let mut out: Vec<(usize, usize, &[u8])> = Vec::with_capacity(w.len());
    for (s, x) in w {
        if let Some(last) = out.last_mut() {
            let gap = s - last.1;
            let join = match table {
                Some(Table::MpathPaths | Table::MpathMaps) | None => {
                    gap == 1 && MPATH_TWO_WORDS.iter().any(|(a, b)| last.2.ends_with(a) && x == *b)
                }
                Some(Table::Pods | Table::Crictl | Table::Docker) => gap == 1,
                Some(Table::Df) => gap == 1 && last.2 == b"Mounted" && x == b"on",
                _ => false,
            };
            if join {
                last.1 = s + x.len();
                last.2 = &line[last.0..last.1];
                continue;
            }
        }
        out.push((s, s + x.len(), x));
    }
    out
}

/// The table a header line opens.
pub(crate) fn header_table(line: &[u8]) -> Option<Table> {
    let w = header_names(line, None);
    let first = w.first()?.2;
    let has = |x: &[u8]| w.iter().any(|(_, _, y)| *y == x);
    // multipathd: every name is one of its wildcards' headers.
    let all = |set: &[&[u8]]| w.iter().all(|(_, _, y)| set.contains(y));
    if w.len() >= 2 && all(MPATH_PATH_COLS) && w.iter().any(|(_, _, y)| !MPATH_MAP_COLS.contains(y)) {
        return Some(Table::MpathPaths);
    }
    if w.len() >= 2 && all(MPATH_MAP_COLS) && (has(b"name") || has(b"sysfs") || has(b"dm-st") || has(b"paths")) {
        return Some(Table::MpathMaps);
    }
    if first == b"Name" && has(b"Maj") && has(b"Min") {
        return Some(Table::DmInfoC);
    }
    if first == b"Id" && has(b"Name") && has(b"State") {
        return Some(Table::Virsh);
    }
    if has(b"Target") && has(b"Source") && w.len() <= 4 && (first == b"Target" || first == b"Type") {
        return Some(Table::DomBlk);
    }
    let upper = |x: &[u8]| x.iter().all(|c| c.is_ascii_uppercase() || b"%:_-+ ".contains(c));
    if !w.iter().all(|(_, _, x)| upper(x)) {
        if first == b"Filesystem" && (has(b"Mounted") || has(b"Use%") || has(b"IUse%")) {
            return Some(Table::Df);
        }
        return None;
    }
    if has(b"NAME") && has(b"READY") && has(b"STATUS") {
        return Some(Table::Pods);
    }
    if has(b"CONTAINER") && has(b"STATE") && (has(b"ATTEMPT") || has(b"POD") || has(b"NAME")) {
        return Some(Table::Crictl);
    }
    if (has(b"CONTAINER") || first == b"CONTAINER") && has(b"NAMES") && has(b"STATUS") {
        return Some(Table::Docker);
    }
    if first == b"NAME" && (has(b"MAJ:MIN") || has(b"KNAME") || has(b"FSTYPE") || has(b"MOUNTPOINT") || has(b"TYPE")) {
        return Some(Table::Lsblk);
    }
    if first == b"TARGET" && has(b"SOURCE") {
        return Some(Table::Findmnt);
    }
    if has(b"PID") && has(b"PR") && has(b"NI") && (has(b"TIME+") || has(b"VIRT")) {
        return Some(Table::Top);
    }
    let ps_col = |x: &[u8]| {
        matches!(
            x,
            b"STAT" | b"S" | b"CMD" | b"COMMAND" | b"COMM" | b"ARGS" | b"TTY" | b"TT" | b"WCHAN" | b"LWP" | b"NLWP"
        )
    };
    if (has(b"PID") || has(b"LWP") || has(b"SPID") || has(b"TID")) && w.iter().any(|(_, _, x)| ps_col(x)) {
        return Some(Table::Ps);
    }
    None
}

/// The field a column of `table` feeds, and how many words it takes.
fn column(table: Table, name: &[u8], last: bool) -> (Option<&'static str>, Span) {
    use Table::*;
    let f = match (table, name) {
        (MpathPaths, b"hcil") => "hctl",
        (MpathPaths, b"dev") => "disk",
        (MpathPaths, b"dev_t") => "devt",
        (MpathPaths, b"dm_st") | (MpathMaps, b"dm-st") => "dm_state",
        (MpathPaths, b"chk_st") => "chk_state",
        (MpathPaths, b"dev_st") => "dev_state",
        (MpathPaths, b"multipath") | (MpathMaps, b"name") => "map",
        (MpathPaths | MpathMaps, b"uuid") => "wwid",
        (MpathPaths, b"target WWPN") => "target",
        (MpathPaths, b"host WWPN") => "host_wwpn",
        (MpathPaths, b"host adapter") => "host_adapter",
        (MpathPaths, b"checker") => "checker",
        (MpathPaths, b"pri") => "pri",
        (MpathPaths, b"protocol") => "protocol",
        (MpathPaths, b"vend/prod/rev") | (MpathMaps, b"vend/prod") => "vendor",
        (MpathMaps, b"sysfs") => "dm",
        (MpathMaps, b"paths") => "paths",
        (MpathMaps, b"queueing") => "queueing",
        (MpathMaps, b"features") => "features",
        (DmInfoC, b"Name") => "map",
        (DmInfoC, b"Maj") => "major",
        (DmInfoC, b"Min") => "minor",
        (DmInfoC, b"Stat") => "stat",
        (DmInfoC, b"Open") => "open",
        (DmInfoC, b"UUID") => "uuid",
        (DmInfoC, b"BlkDevName") => "dm",
        (Ps | Top, b"PID" | b"TGID") => "pid",
        (Ps, b"PPID") => "ppid",
        (Ps, b"LWP" | b"SPID" | b"TID") => "tid",
        (Ps, b"NLWP" | b"THCNT") => "nlwp",
        (Ps | Top, b"USER" | b"UID" | b"EUSER" | b"RUSER") => "user",
        (Ps | Top, b"STAT" | b"S") => "stat",
        (Ps, b"WCHAN") => "wchan",
        (Ps, b"STARTED") => return (Some("start"), Span::Started),
        (Ps, b"START" | b"STIME") => "start",
        (Ps, b"COMMAND" | b"CMD" | b"ARGS") if last => return (Some("command"), Span::Rest),
        (Ps, b"COMMAND" | b"COMM" | b"UCOMM" | b"UCMD" | b"CMD") => "comm",
        (Top, b"COMMAND") if last => return (Some("comm"), Span::Rest),
        (Virsh, b"Id") => "domid",
        (Virsh, b"Name") => "domain",
        (Virsh, b"State") => "state",
        (DomBlk, b"Type") => "type",
        (DomBlk, b"Device") => "device",
        (DomBlk, b"Target") => "blk_target",
        (DomBlk, b"Source") => "blk_source",
        (Pods | Crictl, b"NAMESPACE") => "namespace",
        (Pods, b"NAME") | (Crictl, b"POD") => "pod",
        (Pods, b"READY") => "ready",
        (Pods, b"STATUS") | (Crictl, b"STATE") | (Docker, b"STATUS") => "state",
        (Pods, b"RESTARTS") | (Crictl, b"ATTEMPT") => "restarts",
        (Pods, b"NODE") => "node",
        (Pods, b"IP") => "ip",
        (Crictl, b"CONTAINER" | b"CONTAINER ID") | (Docker, b"CONTAINER ID" | b"CONTAINER") => "container_id",
        (Crictl, b"NAME") | (Docker, b"NAMES") => "container",
        (Crictl, b"POD ID") => "pod_id",
        (Crictl | Docker, b"IMAGE") => "image",
        (Lsblk, b"NAME") => "name",
        (Lsblk, b"KNAME") => "kname",
        (Lsblk, b"PKNAME") => "parent",
        (Lsblk, b"MAJ:MIN") => "devt",
        (Lsblk, b"TYPE") => "type",
        (Lsblk, b"MOUNTPOINT" | b"MOUNTPOINTS") | (Df, b"Mounted on") | (Findmnt, b"TARGET") => "mount",
        (Lsblk | Df | Findmnt, b"FSTYPE" | b"Type") => "fstype",
        (Lsblk, b"SIZE") => "size",
        (Lsblk, b"WWN") => "wwn",
        (Lsblk, b"SERIAL") => "serial",
        (Lsblk, b"HCTL") => "hctl",
        (Lsblk, b"TRAN") => "transport",
        (Lsblk, b"STATE") => "dev_state",
        (Df, b"Filesystem") | (Findmnt, b"SOURCE") => "dev",
        (Df, b"Use%" | b"IUse%") => "use",
        (Findmnt, b"OPTIONS") => "options",
        _ => return (None, if last && matches!(table, Ps | Top | Df) { Span::Rest } else { Span::One }),
    };
    let span = if last && matches!(table, Ps | Top | Df) { Span::Rest } else { Span::One };
    (Some(f), span)
}

impl Columns {
    /// The columns a header line names.
    pub fn from_header(table: Table, line: &[u8]) -> Columns {
        let names = header_names(line, Some(table));
        let ascii = line.is_ascii();
        let display = |b: usize| if ascii { b } else { line[..b].iter().filter(|c| (**c & 0xC0) != 0x80).count() };
        let n = names.len();
        let cols = names
            .iter()
            .enumerate()
            .map(|(i, (s, _, name))| {
                let (field, span) = column(table, name, i + 1 == n);
                Col { field, start: display(*s), span }
            })
            .collect();
        Columns { table, cols, by_words: false }
    }

    /// Columns known by field name, for output whose header is gone (`ps aux | grep qemu`) or was
    /// left empty (`ps -eo pid=,stat=`): cut by words.
    pub fn from_fields(table: Table, fields: &[(Option<&'static str>, Span)]) -> Columns {
        let cols = fields.iter().map(|&(field, span)| Col { field, start: 0, span }).collect();
        Columns { table, cols, by_words: true }
    }

    /// Cuts `line` into (field, value) cells; `None` when the row does not fit the table.
    pub fn cells<'a>(&self, line: &'a [u8]) -> Option<Vec<(&'static str, &'a [u8])>> {
        let w = words(line);
        if w.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(self.cols.len());
        if self.table.by_position() && !self.by_words {
            // Each word to the column whose span it overlaps most; a cell spans its first to last word.
            // Spans are compared in display columns: tree drawing (`└─`) takes 3 bytes a column.
            let ascii = line.is_ascii();
            let column = |b: usize| if ascii { b } else { line[..b].iter().filter(|c| (**c & 0xC0) != 0x80).count() };
            let mut cell: Vec<Option<(usize, usize)>> = vec![None; self.cols.len()];
            for &(bs, x) in &w {
                let (s, e) = (column(bs), column(bs + x.len()));
                let mut best = (0usize, 0usize);
                for (i, c) in self.cols.iter().enumerate() {
                    let lo = if i == 0 { 0 } else { c.start };
                    let hi = self.cols.get(i + 1).map_or(usize::MAX, |n| n.start);
                    let overlap = e.min(hi).saturating_sub(s.max(lo));
                    if overlap > best.1 {
                        best = (i, overlap);
                    }
                }
                let slot = &mut cell[best.0];
                *slot = Some(slot.map_or((bs, bs + x.len()), |(a, _)| (a, bs + x.len())));
            }
            for (c, span) in self.cols.iter().zip(cell) {
                if let (Some(f), Some((a, b))) = (c.field, span) {
                    out.push((f, &line[a..b]));
                }
            }
            return Some(out);
        }
        let mut i = 0;
        for c in &self.cols {
            let Some(&(s, x)) = w.get(i) else { break };
            let (end, used) = match c.span {
                Span::Rest => (line.len(), w.len() - i),
                Span::One => (s + x.len(), 1),
                Span::Started | Span::Paren | Span::Ago => {
                    let rest = &w[i..];
                    let n = match c.span {
                        Span::Started => started_words(rest),
                        Span::Paren => match rest.get(1).filter(|x| x.1.starts_with(b"(")) {
                            Some(_) => rest.iter().skip(1).position(|x| x.1.ends_with(b")")).map_or(1, |k| k + 2),
                            None => 1,
                        },
                        _ => rest.iter().position(|x| x.1 == b"ago").map_or(1, |k| k + 1),
                    };
                    let (ls, lx) = rest[n - 1];
                    (ls + lx.len(), n)
                }
            };
            if let Some(f) = c.field {
                out.push((f, super::trim(&line[s..end])));
            }
            i += used;
        }
        // A row with fewer words than columns is a row only when what is missing is at the end
        // (an empty last column); more words than columns never fit a table without a Rest column.
        (i == w.len()).then_some(out)
    }
}

/// Words of a `ps` STARTED cell: `lstart` prints `Tue Mar 11 09:13:55 2025`, `start` prints
/// `09:13:55` or `Mar 10` (procps `pr_lstart`, `pr_start`).
fn started_words(w: &[(usize, &[u8])]) -> usize {
    let month = |i: usize| w.get(i).is_some_and(|x| crate::time::civil::month_from_name(x.1).is_some());
    let alpha = |i: usize| w.get(i).is_some_and(|x| x.1.len() == 3 && x.1.iter().all(u8::is_ascii_alphabetic));
    if alpha(0) && month(1) && w.len() >= 5 {
        5
    } else if month(0) && w.get(1).is_some_and(|x| parse_u64(x.1).is_some()) {
        2
    } else {
        1
    }
}

/// The columns `ps` prints for the options of a command line (`aux`, `-ef`, `-eLf`, `-elf`, `ax`,
/// `alx`, `-o LIST`), for output whose header is missing. `None` when the options say nothing.
pub(crate) fn ps_columns(args: &[String]) -> Option<Vec<(Option<&'static str>, Span)>> {
    use Span::*;
    let one = |f: &'static str| (Some(f), One);
    let skip = (None, One);
    // -o / o / --format / -eo LIST (possibly several): the column list wins.
    let mut list: Vec<String> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let takes = a == "-o"
            || a == "o"
            || a == "--format"
            || a == "-O"
            || (a.starts_with('-') && a.ends_with('o') && !a.starts_with("--"));
        if let Some(v) = a
            .strip_prefix("--format=")
            .or_else(|| a.strip_prefix("-o").filter(|v| !v.is_empty() && a.len() > 2 && !a.ends_with('o')))
        {
            list.extend(v.split(',').map(str::to_string));
        } else if takes {
            if let Some(v) = it.next() {
                list.extend(v.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string));
            }
        }
    }
    if !list.is_empty() {
        let n = list.len();
        return Some(
            list.iter()
                .enumerate()
                .map(|(i, spec)| {
                    let name = spec.split(['=', ':']).next().unwrap_or("").to_ascii_lowercase();
                    let last = i + 1 == n;
                    match name.as_str() {
                        "pid" | "tgid" => one("pid"),
                        "ppid" => one("ppid"),
                        "lwp" | "tid" | "spid" => one("tid"),
                        "nlwp" | "thcount" => one("nlwp"),
                        "user" | "euser" | "ruser" | "uname" | "uid" | "euid" => one("user"),
                        "stat" | "state" | "s" => one("stat"),
                        "wchan" | "nwchan" => one("wchan"),
                        "comm" | "ucmd" | "ucomm" if last => (Some("comm"), Rest),
                        "comm" | "ucmd" | "ucomm" => one("comm"),
                        "args" | "cmd" | "command" if last => (Some("command"), Rest),
                        "lstart" | "start" => (Some("start"), Started),
                        "stime" | "start_time" | "bsdstart" => one("start"),
                        _ if last => (None, Rest),
                        _ => skip,
                    }
                })
                .collect(),
        );
    }
    let opts: String = args.iter().filter(|a| !a.starts_with("--")).map(|a| a.trim_start_matches('-')).collect();
    let dash = args.iter().any(|a| a.starts_with('-') && !a.starts_with("--"));
    let has = |c: char| opts.contains(c);
    let cmd = (Some("command"), Rest);
    Some(if (!dash && has('u')) || (has('u') && has('a') && has('x')) {
        // BSD `u`: USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND
        vec![one("user"), one("pid"), skip, skip, skip, skip, skip, one("stat"), one("start"), skip, cmd]
    } else if !dash && has('l') {
        // BSD `l`: F UID PID PPID PRI NI VSZ RSS WCHAN STAT TTY TIME COMMAND
        vec![
            skip,
            one("user"),
            one("pid"),
            one("ppid"),
            skip,
            skip,
            skip,
            skip,
            one("wchan"),
            one("stat"),
            skip,
            skip,
            cmd,
        ]
    } else if !dash && has('x') {
        // BSD default: PID TTY STAT TIME COMMAND
        vec![one("pid"), skip, one("stat"), skip, cmd]
    } else if dash && has('l') && has('f') && has('L') {
        // -elfL: F S UID PID PPID LWP C NLWP PRI NI ADDR SZ WCHAN STIME TTY TIME CMD
        vec![
            skip,
            one("stat"),
            one("user"),
            one("pid"),
            one("ppid"),
            one("tid"),
            skip,
            one("nlwp"),
            skip,
            skip,
            skip,
            skip,
            one("wchan"),
            one("start"),
            skip,
            skip,
            cmd,
        ]
    } else if dash && has('l') && has('f') {
        // -elf: F S UID PID PPID C PRI NI ADDR SZ WCHAN STIME TTY TIME CMD
        vec![
            skip,
            one("stat"),
            one("user"),
            one("pid"),
            one("ppid"),
            skip,
            skip,
            skip,
            skip,
            skip,
            one("wchan"),
            one("start"),
            skip,
            skip,
            cmd,
        ]
    } else if dash && has('L') && has('f') {
        // -eLf: UID PID PPID LWP C NLWP STIME TTY TIME CMD
        vec![one("user"), one("pid"), one("ppid"), one("tid"), skip, one("nlwp"), one("start"), skip, skip, cmd]
    } else if dash && has('f') {
        // -ef: UID PID PPID C STIME TTY TIME CMD
        vec![one("user"), one("pid"), one("ppid"), skip, one("start"), skip, skip, cmd]
    } else if dash && (has('e') || has('A')) {
        // -e: PID TTY TIME CMD
        vec![one("pid"), skip, skip, (Some("comm"), Rest)]
    } else {
        return None;
    })
}

/// The columns `kubectl get pods` prints for its options (`-A`, `-o wide`), for rows a filter left
/// without their header.
pub(crate) fn pods_columns(args: &[String]) -> Vec<(Option<&'static str>, Span)> {
    let has = |w: &str| args.iter().any(|a| a == w);
    let mut c = Vec::new();
    if has("-A") || has("--all-namespaces") {
        c.push((Some("namespace"), Span::One));
    }
    c.extend([(Some("pod"), Span::One), (Some("ready"), Span::One), (Some("state"), Span::One)]);
    c.push((Some("restarts"), Span::Paren));
    let wide = args.windows(2).any(|w| w[0] == "-o" && w[1] == "wide") || has("-owide") || has("--output=wide");
    if wide {
        c.extend([(None, Span::One), (Some("ip"), Span::One), (Some("node"), Span::One), (None, Span::Rest)]);
    } else {
        c.push((None, Span::One));
    }
    c
}

/// The columns `crictl ps` prints, for rows a filter left without their header.
pub(crate) fn crictl_columns() -> Vec<(Option<&'static str>, Span)> {
    vec![
        (Some("container_id"), Span::One),
        (Some("image"), Span::One),
        (None, Span::Ago),
        (Some("state"), Span::One),
        (Some("container"), Span::One),
        (Some("restarts"), Span::One),
        (Some("pod_id"), Span::One),
        (Some("pod"), Span::One),
        (Some("namespace"), Span::One),
    ]
}

/// What a table row's cells add up to: derived fields and cleaned values.
pub(crate) fn finish_row<'a>(table: Table, cells: &mut Vec<(&'static str, Cow<'a, str>)>) {
    let get = |cells: &Vec<(&'static str, Cow<'a, str>)>, k: &str| {
        cells.iter().find(|(f, _)| *f == k).map(|(_, v)| v.to_string())
    };
    match table {
        Table::DmInfoC => {
            if let (Some(ma), Some(mi)) = (get(cells, "major"), get(cells, "minor")) {
                cells.push(("devt", Cow::Owned(format!("{ma}:{mi}"))));
            }
            if let Some(st) = get(cells, "stat") {
                // `L--w`: live table, inactive table, `s` suspended, read-only (lvm2 dmsetup `_dm_info_status_disp`).
                let s = if st.as_bytes().get(2) == Some(&b's') { "SUSPENDED" } else { "ACTIVE" };
                cells.push(("dm_state", Cow::Borrowed(s)));
            }
            if let Some(w) = get(cells, "uuid").and_then(|u| u.strip_prefix("mpath-").map(str::to_string)) {
                cells.push(("wwid", Cow::Owned(w)));
            }
        }
        Table::Pods | Table::Crictl => {
            // `3 (5m ago)` -> 3.
            for (f, v) in cells.iter_mut() {
                if *f == "restarts" {
                    if let Some(n) = v.split_whitespace().next().map(str::to_string) {
                        *v = Cow::Owned(n);
                    }
                }
            }
        }
        Table::Docker => {
            // `Exited (137) 2 hours ago` -> state Exited, exit_code 137.
            if let Some(st) = get(cells, "state") {
                if let Some((head, rest)) = st.split_once(" (") {
                    if let Some(code) = rest.split(')').next().filter(|c| c.parse::<i64>().is_ok()) {
                        cells.push(("exit_code", Cow::Owned(code.to_string())));
                    }
                    for (f, v) in cells.iter_mut() {
                        if *f == "state" {
                            *v = Cow::Owned(head.to_string());
                        }
                    }
                }
            }
        }
        Table::Ps => {
            // `ps auxf` draws the process tree in front of the command.
            for (f, v) in cells.iter_mut() {
                if *f == "command" && (v.starts_with("\\_ ") || v.starts_with("| ")) {
                    let t = v.trim_start_matches(['|', ' ', '\\', '_']).to_string();
                    *v = Cow::Owned(t);
                }
            }
        }
        Table::Findmnt => {
            // `/dev/mapper/vg-root[/var/lib]`: the bind mount's subtree follows the source.
            for (f, v) in cells.iter_mut() {
                if *f == "dev" && v.ends_with(']') {
                    if let Some(i) = v.find('[') {
                        *v = Cow::Owned(v[..i].to_string());
                    }
                }
            }
        }
        _ => {}
    }
}

impl super::SnapshotParser {
    pub(super) fn table_row(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let Some(cols) = &self.columns else { return false };
        let t = cols.table;
        if t == Table::Virsh && trim(line).iter().all(|c| *c == b'-')
            || t == Table::DomBlk && trim(line).starts_with(b"---")
        {
            out.skip(at);
            return true;
        }
        let Some(cells) = cols.cells(line) else { return false };
        let get = |k: &str| cells.iter().find(|(f, _)| *f == k).map(|(_, v)| *v);
        let ok = match t {
            Table::Ps | Table::Top => get("pid").or(get("tid")).is_some_and(|p| parse_u64(p).is_some() || p == b"-"),
            Table::Virsh => get("domid").is_some_and(|x| parse_u64(x).is_some() || x == b"-"),
            Table::Pods => get("ready").is_some_and(is_ratio) || get("state").is_some(),
            Table::Lsblk => get("devt").is_none_or(is_devt) && get("name").is_some(),
            Table::DmInfoC => get("major").is_some_and(|x| parse_u64(x).is_some()),
            Table::MpathPaths => cells.len() >= 2,
            Table::Df => {
                get("use").is_some_and(|u| u.ends_with(b"%") || u == b"-")
                    || get("mount").is_some_and(|m| m.starts_with(b"/"))
            }
            Table::Crictl | Table::Docker => {
                get("container_id").is_some_and(|c| c.len() >= 6 && c.iter().all(u8::is_ascii_hexdigit))
            }
            Table::MpathMaps | Table::DomBlk | Table::Findmnt => true,
        };
        if !ok {
            return false;
        }
        let mut fields: Vec<(&'static str, Cow<'_, str>)> =
            cells.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, text(v))).collect();
        finish_row(t, &mut fields);
        if matches!(t, Table::Lsblk | Table::Findmnt) {
            // The tree drawing in the first column: the device (or mount) above is the parent.
            let key = if t == Table::Lsblk { "name" } else { "mount" };
            if let Some(i) = fields.iter().position(|(k, _)| *k == key) {
                // The drawing's indentation is before the cell: measure from the line's start.
                let cell = cells.iter().find(|(k, _)| *k == key).map_or(&b""[..], |(_, v)| *v);
                let end = (cell.as_ptr() as usize).saturating_sub(line.as_ptr() as usize) + cell.len();
                let (name, depth) = block::strip_tree(&line[..end.min(line.len())]);
                let name = String::from_utf8_lossy(name).into_owned();
                self.tree.truncate(depth);
                let parent = depth.checked_sub(1).and_then(|d| self.tree.get(d)).cloned();
                while self.tree.len() < depth {
                    self.tree.push(String::new());
                }
                self.tree.push(name.clone());
                if t == Table::Lsblk {
                    let ty = fields.iter().find(|(k, _)| *k == "type").map(|(_, v)| v.to_string());
                    fields[i] = (block::lsblk_name_field(&name, ty.as_deref()), Cow::Owned(name));
                    if let Some(p) = parent.filter(|_| !fields.iter().any(|(k, _)| *k == "parent")) {
                        fields.push(("parent", Cow::Owned(p)));
                    }
                    if let Some(k) = fields
                        .iter()
                        .find(|(k, _)| *k == "kname")
                        .and_then(|(_, v)| block::device_kind(v).map(|d| (d, v.to_string())))
                    {
                        if !fields.iter().any(|(x, _)| *x == k.0) {
                            fields.push((k.0, Cow::Owned(k.1)));
                        }
                    }
                } else {
                    fields[i] = ("mount", Cow::Owned(name));
                }
            }
        }
        self.emit(at, trim(line), None, fields, out);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: Table, header: &str, line: &str) -> Vec<(&'static str, String)> {
        let c = Columns::from_header(table, header.as_bytes());
        c.cells(line.as_bytes())
            .unwrap_or_else(|| panic!("{line}"))
            .into_iter()
            .map(|(f, v)| (f, String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    fn get<'a>(r: &'a [(&'static str, String)], k: &str) -> Option<&'a str> {
        r.iter().find(|(f, _)| *f == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn headers_name_their_tables() {
        for (h, t) in [
            ("hcil    dev dev_t pri dm_st  chk_st dev_st  next_check", Table::MpathPaths),
            ("dev dm_st chk_st target WWPN          host WWPN", Table::MpathPaths),
            ("name   failback queueing paths dm-st  write_prot", Table::MpathMaps),
            ("name   sysfs uuid", Table::MpathMaps),
            ("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND", Table::Ps),
            ("UID          PID    PPID  C STIME TTY          TIME CMD", Table::Ps),
            ("  PID USER       VSZ STAT COMMAND", Table::Ps),
            ("PID   USER     TIME  COMMAND", Table::Ps),
            ("    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND", Table::Top),
            (" Target   Source", Table::DomBlk),
            (" Type    Device   Target   Source", Table::DomBlk),
            ("CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD", Table::Crictl),
            ("CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES", Table::Docker),
            ("NAME   MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS", Table::Lsblk),
            ("TARGET                                      SOURCE                  FSTYPE   OPTIONS", Table::Findmnt),
            ("Filesystem               Size  Used Avail Use% Mounted on", Table::Df),
            ("Filesystem     1K-blocks    Used Available Use% Mounted on", Table::Df),
        ] {
            assert_eq!(header_table(h.as_bytes()), Some(t), "{h}");
        }
        for h in ["hello world", "Name: mpatha", "PID file", "name"] {
            assert_eq!(header_table(h.as_bytes()), None, "{h}");
        }
    }

    #[test]
    fn cells_by_position() {
        let h = "hcil    dev dev_t pri dm_st  chk_st      dev_st  next_check";
        let r = row(Table::MpathPaths, h, "3:0:0:1 sdc 8:32  1   failed i/o pending running XX........ 2/4");
        assert_eq!(get(&r, "chk_state"), Some("i/o pending"));
        assert_eq!(get(&r, "dev_state"), Some("running"));
        assert_eq!(get(&r, "hctl"), Some("3:0:0:1"));
        let h = "NAME   FSTYPE      FSVER    LABEL UUID                                   FSAVAIL FSUSE% MOUNTPOINTS";
        let r =
            row(Table::Lsblk, h, "sdc    mpath_membe 1                                                             ");
        assert_eq!(get(&r, "fstype"), Some("mpath_membe"));
        assert_eq!(get(&r, "mount"), None);
        let h = "NAMESPACE   NAME                            READY   STATUS             RESTARTS        AGE   IP           NODE     NOMINATED NODE   READINESS GATES";
        let r = row(
            Table::Pods,
            h,
            "openstack   libvirt-libvirt-default-x7k2p   0/1     CrashLoopBackOff   7 (2m13s ago)   2d    10.37.60.4   node37   <none>           <none>",
        );
        assert_eq!(get(&r, "restarts"), Some("7 (2m13s ago)"));
        assert_eq!(get(&r, "state"), Some("CrashLoopBackOff"));
        assert_eq!(get(&r, "node"), Some("node37"));
        let h = "CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD";
        let r = row(
            Table::Crictl,
            h,
            "753ac7cfab3c9       5a1b2c3d4e5f6       2 hours ago         Exited              libvirt             7                   9f8e7d6c5b4a3       libvirt-libvirt-default-x7k2p",
        );
        assert_eq!(get(&r, "created"), None);
        assert_eq!(get(&r, "state"), Some("Exited"));
        assert_eq!(get(&r, "pod_id"), Some("9f8e7d6c5b4a3"));
        assert_eq!(get(&r, "pod"), Some("libvirt-libvirt-default-x7k2p"));
        assert_eq!(get(&r, "restarts"), Some("7"));
    }

    #[test]
    fn cells_by_words() {
        let h = "    PID                  STARTED STAT WCHAN                            CMD";
        let r = row(Table::Ps, h, "   4242 Tue Mar 11 08:02:11 2025 D    blk_mq_get_tag                   /usr/bin/qemu-system-x86_64 -name guest=instance-00000a3f");
        assert_eq!(get(&r, "start"), Some("Tue Mar 11 08:02:11 2025"));
        assert_eq!(get(&r, "stat"), Some("D"));
        assert_eq!(get(&r, "wchan"), Some("blk_mq_get_tag"));
        assert_eq!(get(&r, "command"), Some("/usr/bin/qemu-system-x86_64 -name guest=instance-00000a3f"));
        let r = row(Table::Ps, "    PID STARTED CMD", "      1  Mar 10 /sbin/init splash");
        assert_eq!(get(&r, "start"), Some("Mar 10"));
        assert_eq!(get(&r, "command"), Some("/sbin/init splash"));
        let h = "F S UID          PID    PPID     LWP  C NLWP PRI  NI ADDR SZ WCHAN  STIME TTY          TIME CMD";
        let r = row(Table::Ps, h, "1 D libvirt+    4250    4150    4251  0    3  80   0 -  1234 blk_mq 19:38 ?        00:00:00 /usr/sbin/libvirtd --listen");
        assert_eq!(get(&r, "tid"), Some("4251"));
        assert_eq!(get(&r, "nlwp"), Some("3"));
        assert_eq!(get(&r, "user"), Some("libvirt+"));
        let r = row(
            Table::Df,
            "Filesystem               Size  Used Avail Use% Mounted on",
            "/dev/mapper/mpathb       1.0G   33M  992M   4% /var/lib/nova/instances",
        );
        assert_eq!(get(&r, "mount"), Some("/var/lib/nova/instances"));
        assert_eq!(get(&r, "dev"), Some("/dev/mapper/mpathb"));
        assert_eq!(get(&r, "use"), Some("4%"));
        // Too many words for a table without a rest column.
        let c = Columns::from_header(Table::DmInfoC, b"Name Maj Min Stat Open Targ Event UUID");
        assert!(c.cells(b"a 253 1 L--w 1 1 0 mpath-x y").is_none());
        assert!(c.cells(b"mpathb 253 21 L--w 1 1 0").is_some());
    }

    #[test]
    fn ps_layouts_from_options() {
        let cols = |a: &str| ps_columns(&a.split(' ').map(str::to_string).collect::<Vec<_>>()).map(|c| c.len());
        assert_eq!(cols("auxww"), Some(11));
        assert_eq!(cols("aux"), Some(11));
        assert_eq!(cols("-ef"), Some(8));
        assert_eq!(cols("-eLf"), Some(10));
        assert_eq!(cols("-elf"), Some(15));
        assert_eq!(cols("-elfL"), Some(17));
        assert_eq!(cols("alxwww"), Some(13));
        assert_eq!(cols("-eo pid,stat,wchan:32,cmd"), Some(4));
        assert_eq!(cols("-e -o pid=,lstart=,args="), Some(3));
        assert_eq!(cols("--format=pid,comm"), Some(2));
        assert_eq!(cols("-p 4242"), None);
        let c = Columns::from_fields(Table::Ps, &ps_columns(&["-eo".into(), "pid=,lstart=,args=".into()]).unwrap());
        let r = c.cells(b" 4242 Tue Mar 11 08:02:11 2025 /usr/bin/qemu -name x").unwrap();
        assert_eq!(r[2], ("command", &b"/usr/bin/qemu -name x"[..]));
    }
}

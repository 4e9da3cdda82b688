//! rootline-floor: a *measuring instrument*, not product code.
//!
//! It estimates the speed floor of the job a log merger does on one machine: read
//! a directory of hosts' log files, parse every line's time (and host, source,
//! level, message span), merge all files into one stream ordered by
//! (time, file index) and print it as `TIME HOST SOURCE [LEVEL ]MESSAGE` lines,
//! with TIME as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+09:00`. Real tools are compared
//! against the figures it gives; nothing else should depend on it.
//!
//! Input layout: `DIR/<host>/{hostname, journal.txt, messages, kubelet.log,
//! nova-compute.log, containerd.log, libvirtd.log, libvirt_0.log, dmesg.txt}`.
//! The format of each file is fixed by its name (see `kind_of`).
//!
//! usage: rootline-floor MODE DIR
//!   MODE = split  : read blocks + split lines (memchr) only
//!          parse  : + parse every line (time, host, source, level, msg span), no merge
//!          merge  : + streaming k-way merge (loser tree), no formatting/printing
//!          full   : + format every line into a big buffer and write it to stdout
//! env: FLOOR_WORKERS (parser threads, default 2), FLOOR_BLK (block KiB, default 32),
//!      FLOOR_DEPTH (blocks parsed ahead per file, default 2),
//!      FLOOR_OUT (output buffer KiB, default 256)
//! stderr: `lines=N out_bytes=N check=X` and `disorder=N unparsed=N`.
//!
//! Zones: times that carry an offset (journal, containerd, libvirtd, CRI) use it.
//! Naive local times (messages, kubelet, nova-compute) are read in the zone of
//! their host, taken once at start-up from the offset (`+0900`, `+0000`, ...) of
//! the first line of that host's journal.txt (UTC if absent). Output is in +09:00.
//!
//! What it deliberately leaves out, compared with a real log merger, so the
//! figures are a floor and not a like-for-like comparison:
//! - format detection: the format comes from the file name; lines that do not
//!   parse are kept as continuations carrying the previous time, not re-detected;
//! - lossless invalid UTF-8 handling: bytes are copied through untouched, never
//!   validated, escaped or marked;
//! - multi-line records: every physical line is its own record;
//! - year and zone inference: year-less formats assume 2025 (`YEAR`); the only
//!   zone inference is the per-host journal.txt offset above, with no DST, no
//!   per-file overrides and no year roll-over;
//! - kernel boot anchoring: dmesg monotonic times are added to one fixed boot
//!   instant that happens to fit the benchmark corpus (`boot_ns`), not anchored
//!   from the journal or syslog kernel lines;
//! - statistics and provenance: no per-file/per-level counts, no record of where
//!   each output line came from (file, offset), no index, no search.
//!
//! The output is deterministic: ties in time are broken by file index (hosts and
//! files in sorted path order), and only whole preformatted lines are written.
//!
//! Implementation: no `unsafe`. Worker threads read 32 KiB blocks of whole lines,
//! parse them and (in `full`) preformat each line; the main thread merges with a
//! loser tree and copies the winning lines into a 256 KiB buffer written with
//! `std::io::stdout().lock()` (chunks end in a newline, so its line buffering
//! passes them straight to write(2)). Copies of spans are 16-byte chunked,
//! bounds-checked `copy_from_slice`s into buffers with `PAD` bytes of slack.
//! The `check` figure keeps the split/parse/merge work from being optimised away.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

const NS: i64 = 1_000_000_000;
/// zone the output is printed in
const OUT_OFF: i64 = 9 * 3600;
const OUT_ZONE: &[u8] = b"+09:00 ";
/// year assumed for year-less formats
const YEAR: i64 = 2025;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Containerd,
    Dmesg,
    Journal,
    Klog,
    Cri,
    Libvirtd,
    Syslog,
    Oslo,
}

/// One parsed line. Offsets are into the owning block's buffer.
#[derive(Clone, Copy, Default)]
struct Rec {
    ts: i64,
    msg: u32,
    end: u32,
    host: u32,
    src: u32,
    src_len: u16,
    host_len: u8,
    level: u8,
}

struct Block {
    buf: Vec<u8>,
    len: usize,
    recs: Vec<Rec>,
    /// preformatted output lines (full mode), times and line offsets (n+1)
    out: Vec<u8>,
    ts: Vec<i64>,
    offs: Vec<u32>,
}
/// slack after every buffer so 16-byte chunked copies may over-read/over-write
const PAD: usize = 64;

/// Copy `n` bytes from `src[s..]` to `dst[d..]` in whole 16-byte chunks: up to 15
/// bytes past `n` are read and written, so both slices need that much slack (the
/// buffers here carry `PAD` bytes of it). Safe code: the slices are bounds-checked,
/// and the extra bytes written are overwritten by the next line or never emitted.
#[inline(always)]
fn wcopy(dst: &mut [u8], d: usize, src: &[u8], s: usize, n: usize) {
    let mut i = 0;
    while i < n {
        let c: &[u8; 16] = src[s + i..s + i + 16].try_into().unwrap();
        dst[d + i..d + i + 16].copy_from_slice(c);
        i += 16;
    }
}

struct Reader {
    file: File,
    off: u64,
    size: u64,
    kind: Kind,
    /// offset of naive local times of this file's host, seconds east of UTC
    local_off: i64,
    last_ts: i64,
    eof: bool,
    fmt: Fmt,
}

struct FileInfo {
    kind: Kind,
    local_off: i64,
    label: Padded,
    host: Padded,
    path: std::path::PathBuf,
}

static BLK: AtomicUsize = AtomicUsize::new(256 << 10);
static DISORDER: AtomicU64 = AtomicU64::new(0);
static UNPARSED: AtomicU64 = AtomicU64::new(0);

// ---------------------------------------------------------------- calendar
#[inline(always)]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[inline(always)]
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---------------------------------------------------------------- digits
#[inline(always)]
fn dg(b: u8) -> i64 {
    b.wrapping_sub(b'0') as i64
}
#[inline(always)]
fn n2(s: &[u8], i: usize) -> Option<i64> {
    let (a, b) = (dg(*s.get(i)?), dg(*s.get(i + 1)?));
    if a < 10 && b < 10 {
        Some(a * 10 + b)
    } else {
        None
    }
}
#[inline(always)]
fn n4(s: &[u8], i: usize) -> Option<i64> {
    Some(n2(s, i)? * 100 + n2(s, i + 2)?)
}
const POW10: [i64; 10] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
/// s[i] is the first digit after '.'; returns (nanos, index after digits)
#[inline(always)]
fn frac(s: &[u8], mut i: usize) -> (i64, usize) {
    let mut v = 0i64;
    let mut n = 0usize;
    while i < s.len() {
        let d = dg(s[i]);
        if d >= 10 {
            break;
        }
        if n < 9 {
            v = v * 10 + d;
            n += 1;
        }
        i += 1;
    }
    (v * POW10[9 - n], i)
}
#[inline(always)]
fn hms(s: &[u8], i: usize) -> Option<i64> {
    if *s.get(i + 2)? != b':' || *s.get(i + 5)? != b':' {
        return None;
    }
    let (h, m, x) = (n2(s, i)?, n2(s, i + 3)?, n2(s, i + 6)?);
    if h > 23 || m > 59 || x > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + x)
}
/// "YYYY-MM-DD?HH:MM:SS" at i, naive seconds
#[inline(always)]
fn ymdhms(s: &[u8], i: usize) -> Option<i64> {
    if s.len() < i + 19 || s[i + 4] != b'-' || s[i + 7] != b'-' {
        return None;
    }
    let (y, mo, d) = (n4(s, i)?, n2(s, i + 5)?, n2(s, i + 8)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + hms(s, i + 11)?)
}
/// zone designator at i: Z, +HH:MM, +HHMM. Returns (offset seconds, next index)
#[inline(always)]
fn zone(s: &[u8], i: usize) -> Option<(i64, usize)> {
    match *s.get(i)? {
        b'Z' | b'z' => Some((0, i + 1)),
        c @ (b'+' | b'-') => {
            let h = n2(s, i + 1)?;
            let (m, nx) = if *s.get(i + 3)? == b':' { (n2(s, i + 4)?, i + 6) } else { (n2(s, i + 3)?, i + 5) };
            let o = h * 3600 + m * 60;
            Some((if c == b'-' { -o } else { o }, nx))
        }
        _ => None,
    }
}
/// ISO timestamp with optional fraction and mandatory zone at i
#[inline(always)]
fn iso_zoned(s: &[u8], i: usize) -> Option<(i64, usize)> {
    let secs = ymdhms(s, i)?;
    let mut j = i + 19;
    let mut ns = 0;
    if s.get(j) == Some(&b'.') {
        let (f, k) = frac(s, j + 1);
        ns = f;
        j = k;
    }
    let (off, j) = zone(s, j)?;
    Some(((secs - off) * NS + ns, j))
}
#[inline(always)]
fn level_of(s: &[u8], i: usize) -> u8 {
    match s.get(i).map(|c| c | 0x20) {
        Some(b't') => 1,
        Some(b'd') => 2,
        Some(b'i') => 3,
        Some(b'w') => 4,
        Some(b'e') => 5,
        Some(b'f') | Some(b'c') => 6,
        _ => 0,
    }
}
/// level names, each padded to 16 bytes for `wcopy`; lengths in `LEVEL_LEN`
const LEVELS: [[u8; 16]; 7] = {
    const NAMES: [&[u8]; 7] = [b"", b"TRACE ", b"DEBUG ", b"INFO ", b"WARN ", b"ERROR ", b"FATAL "];
    let mut t = [[0u8; 16]; 7];
    let mut i = 0;
    while i < 7 {
        let mut j = 0;
        while j < NAMES[i].len() {
            t[i][j] = NAMES[i][j];
            j += 1;
        }
        i += 1;
    }
    t
};
const LEVEL_LEN: [usize; 7] = [0, 6, 6, 5, 5, 6, 6];
#[inline(always)]
fn find(s: &[u8], from: usize, c: u8) -> Option<usize> {
    memchr::memchr(c, s.get(from..)?).map(|p| p + from)
}
#[inline(always)]
fn month(s: &[u8]) -> Option<i64> {
    Some(match s.get(0..3)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn boot_ns() -> i64 {
    // fixed boot time for dmesg: 2025-10-12T08:59:59.140+09:00 (fits the corpus)
    ((days_from_civil(2025, 10, 12) * 86400 + 8 * 3600 + 59 * 60 + 59) - 9 * 3600) * NS + 140_000_000
}

// ---------------------------------------------------------------- per-format parsers
// Each fills r (ts, msg, host, src, level) for line s; offsets relative to s.
// Returns None if the line does not match (then caller treats it as continuation).

#[inline(always)]
fn p_containerd(s: &[u8], r: &mut Rec) -> Option<()> {
    // time="2025-10-13T09:00:08.010010004+09:00" level=warning msg="..."
    if !s.starts_with(b"time=\"") {
        return None;
    }
    let (ts, j) = iso_zoned(s, 6)?;
    r.ts = ts;
    let mut j = j + 1; // closing quote
    if s.get(j..j + 7) == Some(b" level=") {
        r.level = level_of(s, j + 7);
        j = find(s, j + 7, b' ').map(|p| p + 1).unwrap_or(s.len());
    } else {
        j += 1;
    }
    r.msg = j.min(s.len()) as u32;
    Some(())
}
#[inline(always)]
fn p_dmesg(s: &[u8], r: &mut Rec, boot: i64) -> Option<()> {
    if *s.first()? != b'[' {
        return None;
    }
    let mut i = 1;
    while *s.get(i)? == b' ' {
        i += 1;
    }
    let mut secs = 0i64;
    loop {
        let d = dg(*s.get(i)?);
        if d >= 10 {
            break;
        }
        secs = secs * 10 + d;
        i += 1;
    }
    let mut ns = 0;
    if s[i] == b'.' {
        let (f, k) = frac(s, i + 1);
        ns = f;
        i = k;
    }
    if *s.get(i)? != b']' {
        return None;
    }
    r.ts = boot + secs * NS + ns;
    r.msg = (i + 2).min(s.len()) as u32;
    Some(())
}
/// "host prog[pid]: msg" starting at i
#[inline(always)]
fn host_src_msg(s: &[u8], i: usize, r: &mut Rec) -> Option<()> {
    let he = find(s, i, b' ')?;
    r.host = i as u32;
    r.host_len = (he - i).min(255) as u8;
    let se = find(s, he + 1, b' ').unwrap_or(s.len());
    let mut sl = se - (he + 1);
    if sl > 0 && s[se - 1] == b':' {
        sl -= 1;
    }
    r.src = (he + 1) as u32;
    r.src_len = sl.min(65535) as u16;
    r.msg = (se + 1).min(s.len()) as u32;
    Some(())
}
#[inline(always)]
fn p_journal(s: &[u8], r: &mut Rec) -> Option<()> {
    // 2025-10-13T09:00:59+0900 host prog[pid]: msg
    let (ts, j) = iso_zoned(s, 0)?;
    r.ts = ts;
    if *s.get(j)? != b' ' {
        return None;
    }
    host_src_msg(s, j + 1, r)
}
#[inline(always)]
fn p_syslog(s: &[u8], r: &mut Rec, loc: i64) -> Option<()> {
    // Oct 13 09:00:07 host prog[pid]: msg   (year-less, naive local)
    let mo = month(s)?;
    if s.len() < 16 {
        return None;
    }
    let d = if s[4] == b' ' { dg(s[5]) } else { n2(s, 4)? };
    if !(1..=31).contains(&d) {
        return None;
    }
    let secs = days_from_civil(YEAR, mo, d) * 86400 + hms(s, 7)? - loc;
    r.ts = secs * NS;
    host_src_msg(s, 16, r)
}
#[inline(always)]
fn p_klog(s: &[u8], r: &mut Rec, loc: i64) -> Option<()> {
    // I1013 09:00:40.665323    6866 prober.go:107] msg   (year-less, naive local)
    r.level = match *s.first()? {
        b'I' => 3,
        b'W' => 4,
        b'E' => 5,
        b'F' => 6,
        b'D' => 2,
        _ => return None,
    };
    let (mo, d) = (n2(s, 1)?, n2(s, 3)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let secs = days_from_civil(YEAR, mo, d) * 86400 + hms(s, 6)? - loc;
    let mut ns = 0;
    let mut i = 14;
    if s.get(i) == Some(&b'.') {
        let (f, k) = frac(s, i + 1);
        ns = f;
        i = k;
    }
    r.ts = secs * NS + ns;
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    let ps = i;
    while i < s.len() && dg(s[i]) < 10 {
        i += 1;
    }
    r.src = ps as u32;
    r.src_len = (i - ps) as u16;
    let b = find(s, i, b']')?;
    r.msg = (b + 2).min(s.len()) as u32;
    Some(())
}
#[inline(always)]
fn p_cri(s: &[u8], r: &mut Rec) -> Option<()> {
    // 2025-10-13T00:00:53.661238670Z stderr F msg
    let (ts, j) = iso_zoned(s, 0)?;
    r.ts = ts;
    let se = find(s, j + 1, b' ')?;
    r.src = (j + 1) as u32; // stream name
    r.src_len = (se - j - 1) as u16;
    let te = find(s, se + 1, b' ').unwrap_or(s.len());
    r.msg = (te + 1).min(s.len()) as u32;
    Some(())
}
#[inline(always)]
fn p_libvirtd(s: &[u8], r: &mut Rec) -> Option<()> {
    // 2025-10-13 00:00:34.707+0000: 4904: error : msg
    let (ts, j) = iso_zoned(s, 0)?;
    r.ts = ts;
    if s.get(j..j + 2)? != b": " {
        return None;
    }
    let pe = find(s, j + 2, b':')?;
    r.src = (j + 2) as u32;
    r.src_len = (pe - j - 2) as u16;
    r.level = level_of(s, pe + 2);
    let m = find(s, pe + 2, b':').map(|p| p + 2).unwrap_or(s.len());
    r.msg = m.min(s.len()) as u32;
    Some(())
}
#[inline(always)]
fn p_oslo(s: &[u8], r: &mut Rec, loc: i64) -> Option<()> {
    // 2025-10-13 09:00:38.328 2816 DEBUG logger [..] msg   (naive local)
    let secs = ymdhms(s, 0)?;
    let mut j = 19;
    let mut ns = 0;
    if s.get(j) == Some(&b'.') {
        let (f, k) = frac(s, j + 1);
        ns = f;
        j = k;
    }
    r.ts = (secs - loc) * NS + ns;
    let pe = find(s, j + 1, b' ')?;
    r.src = (j + 1) as u32;
    r.src_len = (pe - j - 1) as u16;
    r.level = level_of(s, pe + 1);
    let le = find(s, pe + 1, b' ').unwrap_or(s.len());
    r.msg = (le + 1).min(s.len()) as u32;
    Some(())
}

/// Parse all lines of b.buf[..b.len] into b.recs.
fn parse_block(rd: &mut Reader, b: &mut Block, boot: i64) {
    b.recs.clear();
    let buf = &b.buf[..b.len];
    let kind = rd.kind;
    let loc = rd.local_off;
    let mut last = rd.last_ts;
    let mut disorder = 0u64;
    let mut unparsed = 0u64;
    let mut pos = 0usize;
    while pos < buf.len() {
        let e = memchr::memchr(b'\n', &buf[pos..]).map(|p| p + pos).unwrap_or(buf.len());
        let s = &buf[pos..e];
        let mut r = Rec::default();
        let ok = match kind {
            Kind::Containerd => p_containerd(s, &mut r),
            Kind::Dmesg => p_dmesg(s, &mut r, boot),
            Kind::Journal => p_journal(s, &mut r),
            Kind::Klog => p_klog(s, &mut r, loc),
            Kind::Cri => p_cri(s, &mut r),
            Kind::Libvirtd => p_libvirtd(s, &mut r),
            Kind::Syslog => p_syslog(s, &mut r, loc),
            Kind::Oslo => p_oslo(s, &mut r, loc),
        };
        if ok.is_none() {
            // continuation / unknown line: inherits previous time, whole line is message
            r = Rec { ts: last, ..Rec::default() };
            unparsed += 1;
        }
        if r.ts < last {
            disorder += 1;
        }
        last = r.ts;
        let base = pos as u32;
        r.msg += base;
        r.host += base;
        r.src += base;
        r.end = e as u32;
        b.recs.push(r);
        pos = e + 1;
    }
    rd.last_ts = last;
    if disorder != 0 {
        DISORDER.fetch_add(disorder, Ordering::Relaxed);
    }
    if unparsed != 0 {
        UNPARSED.fetch_add(unparsed, Ordering::Relaxed);
    }
}

/// Read the next block of whole lines. Returns false at EOF (nothing read).
fn fill(rd: &mut Reader, b: &mut Block) -> bool {
    let blk = BLK.load(Ordering::Relaxed);
    if b.buf.len() < blk + PAD {
        b.buf.resize(blk + PAD, 0);
    }
    loop {
        let want = ((b.buf.len() - PAD) as u64).min(rd.size - rd.off) as usize;
        if want == 0 {
            b.len = 0;
            rd.eof = true;
            return false;
        }
        let mut got = 0;
        while got < want {
            let n = rd.file.read_at(&mut b.buf[got..want], rd.off + got as u64).expect("read");
            if n == 0 {
                break;
            }
            got += n;
        }
        let at_eof = rd.off + got as u64 >= rd.size;
        let end = if at_eof {
            got
        } else {
            match memchr::memrchr(b'\n', &b.buf[..got]) {
                Some(p) => p + 1,
                None => {
                    let l = b.buf.len() * 2 + PAD;
                    b.buf.resize(l, 0);
                    continue;
                }
            }
        };
        b.len = end;
        rd.off += end as u64;
        if rd.off >= rd.size {
            rd.eof = true;
        }
        return true;
    }
}

fn kind_of(name: &str) -> Option<(Kind, &'static str)> {
    Some(match name {
        "containerd.log" => (Kind::Containerd, "containerd"),
        "dmesg.txt" => (Kind::Dmesg, "kernel"),
        "journal.txt" => (Kind::Journal, ""),
        "kubelet.log" => (Kind::Klog, "kubelet"),
        "libvirt_0.log" => (Kind::Cri, "libvirt_0"),
        "libvirtd.log" => (Kind::Libvirtd, "libvirtd"),
        "messages" => (Kind::Syslog, ""),
        "nova-compute.log" => (Kind::Oslo, "nova-compute"),
        _ => return None,
    })
}

/// bytes followed by PAD zero bytes (len() excludes the padding)
struct Padded(Vec<u8>, usize);
fn padded(b: &[u8]) -> Padded {
    let mut v = b.to_vec();
    v.resize(b.len() + PAD, 0);
    Padded(v, b.len())
}

/// Zone of a host's naive local times, seconds east of UTC: the offset of the
/// first line of its journal.txt (`2025-10-13T09:00:59+0900 ...`), else UTC.
fn host_zone(dir: &std::path::Path) -> i64 {
    let mut head = [0u8; 64];
    let n = File::open(dir.join("journal.txt")).and_then(|f| f.read_at(&mut head, 0)).unwrap_or(0);
    let s = &head[..n];
    if ymdhms(s, 0).is_some() {
        let mut j = 19;
        if s.get(j) == Some(&b'.') {
            j = frac(s, j + 1).1;
        }
        if let Some((off, _)) = zone(s, j) {
            return off;
        }
    }
    eprintln!("{}: no zone on journal.txt line 1, naive times read as UTC", dir.display());
    0
}

fn discover(root: &str) -> Vec<FileInfo> {
    let mut dirs: Vec<_> =
        std::fs::read_dir(root).expect("root").map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let mut out = vec![];
    for d in dirs {
        let host = std::fs::read_to_string(d.join("hostname"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| d.file_name().unwrap().to_string_lossy().into_owned());
        let local_off = host_zone(&d);
        let mut files: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name == "hostname" {
                continue;
            }
            match kind_of(&name) {
                Some((kind, label)) => out.push(FileInfo {
                    kind,
                    local_off,
                    label: padded(label.as_bytes()),
                    host: padded(host.as_bytes()),
                    path: f,
                }),
                None => eprintln!("skipping unknown file {}", f.display()),
            }
        }
    }
    out
}

fn open(fi: &FileInfo) -> Reader {
    let file = File::open(&fi.path).expect("open");
    let size = file.metadata().unwrap().len();
    Reader {
        file,
        off: 0,
        size,
        kind: fi.kind,
        local_off: fi.local_off,
        last_ts: i64::MIN,
        eof: false,
        fmt: Fmt { sec: i64::MIN, prefix: [0; 20] },
    }
}

fn new_block() -> Block {
    Block {
        buf: Vec::new(),
        len: 0,
        recs: Vec::with_capacity(4096),
        out: Vec::new(),
        ts: Vec::with_capacity(4096),
        offs: Vec::with_capacity(4096),
    }
}

// ---------------------------------------------------------------- modes a/b: no merge
fn run_nomerge(files: &[FileInfo], parse: bool, workers: usize) {
    let next = AtomicUsize::new(0);
    let boot = boot_ns();
    let lines = AtomicU64::new(0);
    let check = AtomicU64::new(0);
    std::thread::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|| {
                let mut b = new_block();
                let (mut nl, mut ck) = (0u64, 0u64);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() {
                        break;
                    }
                    let mut rd = open(&files[i]);
                    while fill(&mut rd, &mut b) {
                        if parse {
                            parse_block(&mut rd, &mut b, boot);
                            nl += b.recs.len() as u64;
                            for r in &b.recs {
                                ck = ck.wrapping_add(r.ts as u64 ^ r.msg as u64);
                            }
                        } else {
                            nl += memchr::memchr_iter(b'\n', &b.buf[..b.len]).count() as u64;
                        }
                    }
                }
                lines.fetch_add(nl, Ordering::Relaxed);
                check.fetch_add(ck, Ordering::Relaxed);
            });
        }
    });
    eprintln!("lines={} check={:x}", lines.into_inner(), check.into_inner());
}

// ---------------------------------------------------------------- modes c/d: merge
struct Slot {
    q: Mutex<(VecDeque<Block>, bool)>,
    cv: Condvar,
    rd: Mutex<Reader>,
}
struct Shared {
    slots: Vec<Slot>,
    files: Vec<FileInfo>,
    tokens: Mutex<VecDeque<usize>>,
    tcv: Condvar,
    pool: Mutex<Vec<Block>>,
    done: AtomicBool,
    format: bool,
}

fn worker(sh: &Shared, boot: i64) {
    loop {
        let i = {
            let mut t = sh.tokens.lock().unwrap();
            loop {
                if let Some(i) = t.pop_front() {
                    break i;
                }
                if sh.done.load(Ordering::Relaxed) {
                    return;
                }
                t = sh.tcv.wait(t).unwrap();
            }
        };
        let slot = &sh.slots[i];
        let mut rd = slot.rd.lock().unwrap();
        if rd.eof {
            continue;
        }
        let mut b = sh.pool.lock().unwrap().pop().unwrap_or_else(new_block);
        let got = fill(&mut rd, &mut b);
        if got {
            parse_block(&mut rd, &mut b, boot);
            if sh.format {
                format_block(&mut rd.fmt, &sh.files[i], &mut b);
            }
        }
        {
            let mut q = slot.q.lock().unwrap();
            if got && !b.recs.is_empty() {
                q.0.push_back(b);
            } else {
                sh.pool.lock().unwrap().push(b);
            }
            if rd.eof {
                q.1 = true;
            }
        }
        drop(rd);
        slot.cv.notify_one();
    }
}

fn take(sh: &Shared, i: usize) -> Option<Block> {
    {
        sh.tokens.lock().unwrap().push_back(i);
    }
    sh.tcv.notify_one();
    let slot = &sh.slots[i];
    let mut q = slot.q.lock().unwrap();
    loop {
        if let Some(b) = q.0.pop_front() {
            return Some(b);
        }
        if q.1 {
            return None;
        }
        q = slot.cv.wait(q).unwrap();
    }
}

#[inline(always)]
fn key(ts: i64, i: usize) -> u128 {
    (((ts as u64) ^ (1u64 << 63)) as u128) << 64 | i as u128
}

static DIG2: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// per-file time formatting cache: "YYYY-MM-DDTHH:MM:SS." of the last second seen
struct Fmt {
    sec: i64,
    prefix: [u8; 20],
}
impl Fmt {
    #[inline(always)]
    fn set_sec(&mut self, sec: i64) {
        self.sec = sec;
        let days = sec.div_euclid(86400);
        let sod = sec.rem_euclid(86400) as usize;
        let (y, m, d) = civil_from_days(days);
        let p = &mut self.prefix;
        let y = y.clamp(0, 9999) as usize;
        p[0..2].copy_from_slice(&DIG2[2 * (y / 100)..2 * (y / 100) + 2]);
        p[2..4].copy_from_slice(&DIG2[2 * (y % 100)..2 * (y % 100) + 2]);
        p[4] = b'-';
        p[5..7].copy_from_slice(&DIG2[2 * m as usize..2 * m as usize + 2]);
        p[7] = b'-';
        p[8..10].copy_from_slice(&DIG2[2 * d as usize..2 * d as usize + 2]);
        p[10] = b'T';
        let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
        p[11..13].copy_from_slice(&DIG2[2 * h..2 * h + 2]);
        p[13] = b':';
        p[14..16].copy_from_slice(&DIG2[2 * mi..2 * mi + 2]);
        p[16] = b':';
        p[17..19].copy_from_slice(&DIG2[2 * s..2 * s + 2]);
        p[19] = b'.';
    }
}

/// Format every record of the block as `TIME HOST SOURCE [LEVEL ]MESSAGE\n` into b.out.
fn format_block(f: &mut Fmt, fi: &FileInfo, b: &mut Block) {
    let Block { buf, recs, out, ts, offs, .. } = b;
    ts.clear();
    offs.clear();
    // worst case per line: 36 time + host + label + 2 brackets + src + 2 spaces + level + msg + nl
    // (spans copied from the line itself add up to at most the line length)
    let fixed = 48 + fi.host.1 + fi.label.1;
    let bound: usize = recs.len() * fixed + recs.last().map(|r| r.end as usize).unwrap_or(0) + PAD;
    if out.len() < bound {
        out.resize(bound, 0);
    }
    let (out, buf) = (&mut out[..], &buf[..]);
    let mut w = 0usize;
    for r in recs.iter() {
        offs.push(w as u32);
        ts.push(r.ts);
        let local = r.ts + OUT_OFF * NS;
        let sec = local.div_euclid(NS);
        let ns = local.rem_euclid(NS) as usize;
        if sec != f.sec {
            f.set_sec(sec);
        }
        // 36-byte time: 20-byte cached prefix, 9 fraction digits, 7-byte zone
        let t: &mut [u8; 36] = (&mut out[w..w + 36]).try_into().unwrap();
        t[..20].copy_from_slice(&f.prefix);
        t[20] = b'0' + (ns / 100_000_000) as u8;
        let rr = ns % 100_000_000;
        let (a, bb) = (rr / 1_000_000, rr % 1_000_000);
        let (c, d) = (bb / 10_000, bb % 10_000);
        let (e, g) = (d / 100, d % 100);
        t[21..23].copy_from_slice(&DIG2[2 * a..2 * a + 2]);
        t[23..25].copy_from_slice(&DIG2[2 * c..2 * c + 2]);
        t[25..27].copy_from_slice(&DIG2[2 * e..2 * e + 2]);
        t[27..29].copy_from_slice(&DIG2[2 * g..2 * g + 2]);
        t[29..36].copy_from_slice(OUT_ZONE);
        w += 36;
        // host
        if r.host_len > 0 {
            let hl = r.host_len as usize;
            wcopy(out, w, buf, r.host as usize, hl);
            w += hl;
        } else {
            wcopy(out, w, &fi.host.0, 0, fi.host.1);
            w += fi.host.1;
        }
        out[w] = b' ';
        w += 1;
        let ll = fi.label.1;
        wcopy(out, w, &fi.label.0, 0, ll);
        w += ll;
        let sl = r.src_len as usize;
        if ll > 0 && sl > 0 {
            out[w] = b'[';
            wcopy(out, w + 1, buf, r.src as usize, sl);
            w += sl + 1;
            out[w] = b']';
            w += 1;
        } else {
            wcopy(out, w, buf, r.src as usize, sl);
            w += sl;
        }
        out[w] = b' ';
        w += 1;
        let lv = r.level as usize;
        wcopy(out, w, &LEVELS[lv], 0, LEVEL_LEN[lv]);
        w += LEVEL_LEN[lv];
        let ml = (r.end - r.msg) as usize;
        wcopy(out, w, buf, r.msg as usize, ml);
        w += ml;
        out[w] = b'\n';
        w += 1;
    }
    offs.push(w as u32);
}

fn run_merge(files: Vec<FileInfo>, print: bool, workers: usize, depth: usize) {
    let boot = boot_ns();
    let n = files.len();
    let sh = Arc::new(Shared {
        slots: files
            .iter()
            .map(|f| Slot { q: Mutex::new((VecDeque::new(), false)), cv: Condvar::new(), rd: Mutex::new(open(f)) })
            .collect(),
        files,
        tokens: Mutex::new((0..depth).flat_map(|_| 0..n).collect()),
        tcv: Condvar::new(),
        pool: Mutex::new(Vec::new()),
        done: AtomicBool::new(false),
        format: print,
    });
    let hs: Vec<_> = (0..workers)
        .map(|_| {
            let sh = sh.clone();
            std::thread::spawn(move || worker(&sh, boot))
        })
        .collect();

    let obuf_size = std::env::var("FLOOR_OUT").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(256) << 10;
    let mut obuf = vec![0u8; obuf_size + PAD];
    let mut olen = 0usize;
    let mut obytes = 0u64;
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();

    // loser tree: tk/ti hold the loser key/leaf at each inner node; leaf keys inline
    let k = n.next_power_of_two().max(2);
    let mut heads: Vec<Option<Block>> = (0..k).map(|_| None).collect();
    let mut pos = vec![0usize; k];
    let mut keys = vec![u128::MAX; k];
    for i in 0..n {
        heads[i] = take(&sh, i);
        if let Some(b) = &heads[i] {
            keys[i] = key(b.recs[0].ts, i);
        }
    }
    let mut tk = vec![u128::MAX; k];
    let mut ti = vec![0usize; k];
    {
        let mut win = vec![0usize; 2 * k];
        for i in 0..k {
            win[k + i] = i;
        }
        for nd in (1..k).rev() {
            let (a, b) = (win[2 * nd], win[2 * nd + 1]);
            let (wn, ls) = if keys[a] <= keys[b] { (a, b) } else { (b, a) };
            win[nd] = wn;
            ti[nd] = ls;
            tk[nd] = keys[ls];
        }
        ti[0] = win[1];
    }
    let mut count = 0u64;
    let mut ck = 0u64;
    let mut w = ti[0];
    let mut kw = keys[w];
    while kw != u128::MAX {
        let b = heads[w].as_ref().unwrap();
        let p = pos[w];
        count += 1;
        let p1 = p + 1;
        let nlines;
        if print {
            let (o0, o1) = (b.offs[p] as usize, b.offs[p1] as usize);
            let l = o1 - o0;
            if olen + l > obuf_size {
                stdout.write_all(&obuf[..olen]).expect("write");
                obytes += olen as u64;
                olen = 0;
                if l > obuf_size {
                    stdout.write_all(&b.out[o0..o1]).expect("write");
                    obytes += l as u64;
                }
            }
            if l <= obuf_size {
                wcopy(&mut obuf, olen, &b.out, o0, l);
                olen += l;
            }
            nlines = b.ts.len();
        } else {
            let r = &b.recs[p];
            ck = ck.wrapping_add(r.ts as u64 ^ r.msg as u64 ^ r.end as u64);
            nlines = b.recs.len();
        }
        if p1 < nlines {
            pos[w] = p1;
            kw = key(if print { b.ts[p1] } else { b.recs[p1].ts }, w);
        } else {
            let old = heads[w].take().unwrap();
            sh.pool.lock().unwrap().push(old);
            heads[w] = take(&sh, w);
            pos[w] = 0;
            kw = match &heads[w] {
                Some(b) => key(b.recs[0].ts, w),
                None => u128::MAX,
            };
        }
        // replay from leaf w to the root
        let mut win = w;
        let mut kwin = kw;
        let mut nd = (w + k) >> 1;
        while nd >= 1 {
            let kl = tk[nd];
            let il = ti[nd];
            let s = kl < kwin;
            tk[nd] = if s { kwin } else { kl };
            ti[nd] = if s { win } else { il };
            kwin = if s { kl } else { kwin };
            win = if s { il } else { win };
            nd >>= 1;
        }
        w = win;
        kw = kwin;
    }
    if print {
        stdout.write_all(&obuf[..olen]).expect("write");
        obytes += olen as u64;
    }
    sh.done.store(true, Ordering::Relaxed);
    {
        let _t = sh.tokens.lock().unwrap();
        sh.tcv.notify_all();
    }
    for h in hs {
        h.join().unwrap();
    }
    eprintln!("lines={} out_bytes={} check={:x}", count, obytes, ck);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: rootline-floor split|parse|merge|full DIR");
        std::process::exit(2);
    }
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    BLK.store(env("FLOOR_BLK", 32) << 10, Ordering::Relaxed);
    let workers = env("FLOOR_WORKERS", 2);
    let depth = env("FLOOR_DEPTH", 2);
    let files = discover(&args[2]);
    match args[1].as_str() {
        "split" => run_nomerge(&files, false, workers),
        "parse" => run_nomerge(&files, true, workers),
        "merge" => run_merge(files, false, workers, depth),
        "full" => run_merge(files, true, workers, depth),
        m => {
            eprintln!("bad mode {m}");
            std::process::exit(2);
        }
    }
    eprintln!("disorder={} unparsed={}", DISORDER.load(Ordering::Relaxed), UNPARSED.load(Ordering::Relaxed));
}

//! Where a run's items wait between reading and merging: in memory while every run together stays
//! under a memory budget, otherwise in an anonymous temporary file (already unlinked, gone when
//! rootline exits), so memory stays flat however much evidence there is.
//!
//! Items are encoded straight from the parser's record into chunks of a compact binary encoding (no
//! owned event is built while reading, nor while merging: the merge reads the records in place,
//! [`parse`] telling where each part is, and hands out [`EventRef`]s over their bytes). A chunk is kept in
//! memory when the budget shared by all runs of one read allows, else written to the one spill file
//! of that read. The file holds rootline's own parsed records, never input bytes laid out as files:
//! nothing from an archive is extracted.
//!
//! Record layout (little endian; "var" is an unsigned LEB128 varint): `u32` length of the rest, a
//! flags byte (which optional parts follow, and how the host is given), raw time (tag and payload:
//! nanoseconds as `i64`, an offset in seconds as a zigzag var), boot segment and year offset (vars,
//! only when either is not zero), boot nanos (`i64`, if present), host (var index into the run's host
//! table, or var length and bytes), program (var length and bytes, if present), pid (var, if
//! present), severity (`u8`, 255 for none), line and byte offset (vars), var field count and the
//! fields (`u32` length and bytes, key then value: the packed form [`Fields`] reads), `u32`
//! continuation lines, and last the message bytes, so continuation lines are appended in place.
//!
//! The fixed parts are small because every record is written once and read once more, and the
//! bytes beyond the memory budget go through a file: the varints and flags halve the 60 bytes a
//! record took besides its text.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rootline_event::{EventRef, Fields, Format, Severity, TimeKind, Timestamp};

use crate::time::RawTime;

/// Encoded bytes a chunk collects before it is kept in memory or written out.
const CHUNK: usize = 256 * 1024;

/// Hosts a run's table holds; more distinct hosts than this are written inline.
const MAX_HOSTS: usize = 256;

/// Default bytes of encoded items kept in memory across all runs of one read.
pub(crate) const DEFAULT_BUDGET: usize = 64 << 20;

/// Memory shared by the runs of one read: chunks are kept in memory while it lasts, the rest goes to
/// one temporary file shared by every run (created on first need; each chunk written at an offset
/// reserved for it, so runs on different threads never wait for each other). One file, not one per
/// run: creating and deleting a file on ext4 costs more than a few hundred kilobytes of writes.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
    /// The spill file, or why it could not be created.
    file: OnceLock<Result<File, String>>,
    /// Bytes reserved in the file so far.
    end: AtomicU64,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget { limit, used: AtomicUsize::new(0), file: OnceLock::new(), end: AtomicU64::new(0) })
    }

    /// The spill file, created on the first call.
    fn file(&self) -> io::Result<&File> {
        match self.file.get_or_init(|| tempfile::tempfile().map_err(|e| e.to_string())) {
            Ok(f) => Ok(f),
            Err(e) => Err(io::Error::other(format!("cannot create a temporary file: {e}"))),
        }
    }

    /// Writes a chunk at the end of the spill file and returns where it is.
    fn write(&self, bytes: &[u8]) -> io::Result<u64> {
        let f = self.file()?;
        let at = self.end.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        f.write_all_at(bytes, at)?;
        Ok(at)
    }

    /// Reserves `n` bytes; false when that would go over the limit.
    fn take(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            if cur.saturating_add(n) > self.limit {
                return false;
            }
            match self.used.compare_exchange_weak(cur, cur + n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

/// What a new item says, borrowed from the parser's record.
pub(crate) struct NewItem<'r, 'a> {
    pub raw: RawTime,
    pub seg: u32,
    pub year_k: u16,
    pub boot_nanos: Option<i64>,
    pub host: Option<&'r Arc<str>>,
    pub program: Option<&'r str>,
    pub pid: Option<u32>,
    pub severity: Option<Severity>,
    pub line: u64,
    pub byte_offset: u64,
    pub fields: &'r [(Cow<'a, str>, Cow<'a, str>)],
    pub message: &'r [u8],
}

/// A finished chunk: in memory (with the bytes it holds of the budget) or `len` bytes at `at` in
/// the spill file.
enum Chunk {
    Mem(Vec<u8>, usize),
    File { at: u64, len: usize },
}

/// A run's items in file order.
pub(crate) struct ItemStore {
    budget: Arc<Budget>,
    chunks: Vec<Chunk>,
    cur: Vec<u8>,
    /// Start of the last record in `cur` and the position of its continuation count (it may still
    /// receive continuation lines).
    last: Option<(usize, usize)>,
    hosts: Vec<Arc<str>>,
    count: u64,
    spilled: u64,
    error: Option<io::Error>,
}

impl ItemStore {
    pub fn new(budget: Arc<Budget>) -> Self {
        ItemStore {
            budget,
            chunks: Vec::new(),
            cur: Vec::new(),
            last: None,
            hosts: Vec::new(),
            count: 0,
            spilled: 0,
            error: None,
        }
    }

    /// Appends an item. It may receive continuation lines until the next push.
    pub fn push(&mut self, it: &NewItem<'_, '_>) {
        self.close_last();
        if self.cur.len() >= CHUNK {
            self.close_chunk();
        }
        if self.cur.capacity() == 0 {
            self.cur.reserve(CHUNK + 4096);
        }
        let host = it.host.map(|h| self.host_index(h));
        let start = self.cur.len();
        let attached_at = encode(&mut self.cur, it, host);
        self.last = Some((start, attached_at));
        self.count += 1;
    }

    /// Joins a continuation line to the last item's message; false when there is no item yet.
    pub fn attach(&mut self, line: &[u8]) -> bool {
        let Some((_, at)) = self.last else { return false };
        let n = u32::from_le_bytes(self.cur[at..at + 4].try_into().expect("4 bytes"));
        self.cur[at..at + 4].copy_from_slice(&n.wrapping_add(1).to_le_bytes());
        self.cur.push(b'\n');
        self.cur.extend_from_slice(line);
        true
    }

    /// Number of items stored.
    pub fn len(&self) -> u64 {
        self.count
    }

    fn host_index(&mut self, h: &Arc<str>) -> Result<u32, ()> {
        if let Some(i) = self.hosts.iter().rposition(|k| Arc::ptr_eq(k, h) || **k == **h) {
            return Ok(i as u32);
        }
        if self.hosts.len() < MAX_HOSTS {
            self.hosts.push(h.clone());
            return Ok((self.hosts.len() - 1) as u32);
        }
        Err(())
    }

    /// Writes the length of the last record (it can no longer grow).
    fn close_last(&mut self) {
        if let Some((start, _)) = self.last.take() {
            let len = (self.cur.len() - start - 4) as u32;
            self.cur[start..start + 4].copy_from_slice(&len.to_le_bytes());
        }
    }

    /// Keeps the current chunk in memory if the budget allows, else writes it to the spill file.
    fn close_chunk(&mut self) {
        let bytes = std::mem::take(&mut self.cur);
        let n = bytes.capacity();
        if self.error.is_some() || self.budget.take(n) {
            // Kept in memory (after a disk error always: a full disk must not lose events).
            let charged = if self.error.is_some() { 0 } else { n };
            self.chunks.push(Chunk::Mem(bytes, charged));
            return;
        }
        match self.budget.write(&bytes) {
            Ok(at) => {
                self.chunks.push(Chunk::File { at, len: bytes.len() });
                self.spilled += 1;
                // Reuse the allocation for the next chunk.
                self.cur = bytes;
                self.cur.clear();
            }
            Err(e) => {
                self.error = Some(e);
                self.chunks.push(Chunk::Mem(bytes, 0));
            }
        }
    }

    /// The run's host table (what [`HostAt::Table`] indexes).
    pub fn hosts(&self) -> &[Arc<str>] {
        &self.hosts
    }

    /// Consumes the store into a reader of its records in order.
    pub fn into_iter(mut self) -> StoreIter {
        self.close_last();
        let cur = std::mem::take(&mut self.cur);
        if !cur.is_empty() {
            self.chunks.push(Chunk::Mem(cur, 0));
        }
        let chunks = std::mem::take(&mut self.chunks);
        StoreIter {
            budget: self.budget.clone(),
            chunks: chunks.into_iter(),
            file_bad: false,
            buf: Vec::new(),
            pos: 0,
            hosts: std::mem::take(&mut self.hosts).len(),
        }
    }
}

impl Drop for ItemStore {
    fn drop(&mut self) {
        for c in &self.chunks {
            if let Chunk::Mem(_, n) = c {
                self.budget.give_back(*n);
            }
        }
    }
}

/// Reads a store's records in order, in place.
pub(crate) struct StoreIter {
    budget: Arc<Budget>,
    chunks: std::vec::IntoIter<Chunk>,
    /// Reading the spill file failed: the rest of this run's spilled chunks are skipped.
    file_bad: bool,
    /// The chunk being read and the position of its next record.
    buf: Vec<u8>,
    pos: usize,
    /// Entries in the run's host table.
    hosts: usize,
}

impl StoreIter {
    /// Makes the next chunk current; false at the end.
    fn next_chunk(&mut self) -> bool {
        loop {
            self.pos = 0;
            match self.chunks.next() {
                None => {
                    self.buf = Vec::new();
                    return false;
                }
                Some(Chunk::Mem(bytes, n)) => {
                    self.budget.give_back(n);
                    self.buf = bytes;
                    return true;
                }
                Some(Chunk::File { at, len }) => {
                    if self.file_bad {
                        continue;
                    }
                    // The bytes are overwritten by the read: only growth is zeroed, not the reused part.
                    self.buf.resize(len, 0);
                    if self.budget.file().and_then(|f| f.read_exact_at(&mut self.buf, at)).is_ok() {
                        return true;
                    }
                    // A temp file we wrote ourselves went bad (disk error): skip what it held.
                    self.file_bad = true;
                    self.buf.clear();
                }
            }
        }
    }
}

impl StoreIter {
    /// The next record's bytes and where its parts are; `None` at the end.
    pub fn next_record(&mut self) -> Option<(&[u8], Parsed)> {
        loop {
            if self.pos + 4 <= self.buf.len() {
                let len = u32::from_le_bytes(self.buf[self.pos..self.pos + 4].try_into().expect("4 bytes")) as usize;
                let start = self.pos + 4;
                let end = start.saturating_add(len).min(self.buf.len());
                self.pos = end;
                if let Ok(p) = parse(&self.buf[start..end], self.hosts) {
                    return Some((&self.buf[start..end], p));
                }
                // A damaged record: the rest of the chunk cannot be trusted.
                self.pos = self.buf.len();
                continue;
            }
            if !self.next_chunk() {
                return None;
            }
        }
    }
}

impl Drop for StoreIter {
    fn drop(&mut self) {
        for c in self.chunks.by_ref() {
            if let Chunk::Mem(_, n) = c {
                self.budget.give_back(n);
            }
        }
    }
}

fn put_bytes(b: &mut Vec<u8>, v: &[u8]) {
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    b.extend_from_slice(v);
}

/// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low first).
fn put_var(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push(v as u8 | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

/// Flags byte of a record: which optional parts follow.
const F_BOOT: u8 = 1;
const F_PID: u8 = 2;
const F_SEG: u8 = 4;
const F_PROGRAM: u8 = 8;
/// Host given as an index into the run's table.
const F_HOST_TABLE: u8 = 16;
/// Host written in the record.
const F_HOST_INLINE: u8 = 32;

/// Appends the record of `it` (length left zero) and returns where its continuation count is.
fn encode(b: &mut Vec<u8>, it: &NewItem<'_, '_>, host: Option<Result<u32, ()>>) -> usize {
    b.extend_from_slice(&[0; 4]); // record length, written when the record is closed
    let host = match (host, it.host) {
        (Some(Ok(i)), _) => Some(Ok(i)),
        (Some(Err(())), Some(h)) => Some(Err(h)),
        _ => None,
    };
    let flags = if it.boot_nanos.is_some() { F_BOOT } else { 0 }
        | if it.pid.is_some() { F_PID } else { 0 }
        | if it.seg != 0 || it.year_k != 0 { F_SEG } else { 0 }
        | if it.program.is_some() { F_PROGRAM } else { 0 }
        | match host {
            Some(Ok(_)) => F_HOST_TABLE,
            Some(Err(_)) => F_HOST_INLINE,
            None => 0,
        };
    b.push(flags);
    match it.raw {
        RawTime::None => b.push(0),
        RawTime::Exact { unix_nanos, offset_secs } => {
            b.push(1);
            b.extend_from_slice(&unix_nanos.to_le_bytes());
            put_var(b, ((offset_secs << 1) ^ (offset_secs >> 31)) as u32 as u64);
        }
        RawTime::Naive { civil_nanos } => {
            b.push(2);
            b.extend_from_slice(&civil_nanos.to_le_bytes());
        }
        RawTime::YearLess { month, day, nanos_of_day } => {
            b.extend_from_slice(&[3, month, day]);
            b.extend_from_slice(&nanos_of_day.to_le_bytes());
        }
        RawTime::Boot { nanos } => {
            b.push(4);
            b.extend_from_slice(&nanos.to_le_bytes());
        }
        RawTime::Snapshot => b.push(5),
        RawTime::Approx { unix_nanos } => {
            b.push(6);
            b.extend_from_slice(&unix_nanos.to_le_bytes());
        }
    }
    if flags & F_SEG != 0 {
        put_var(b, it.seg as u64);
        put_var(b, it.year_k as u64);
    }
    if let Some(n) = it.boot_nanos {
        b.extend_from_slice(&n.to_le_bytes());
    }
    match host {
        Some(Ok(i)) => put_var(b, i as u64),
        Some(Err(h)) => {
            put_var(b, h.len() as u64);
            b.extend_from_slice(h.as_bytes());
        }
        None => {}
    }
    if let Some(p) = it.program {
        put_var(b, p.len() as u64);
        b.extend_from_slice(p.as_bytes());
    }
    if let Some(p) = it.pid {
        put_var(b, p as u64);
    }
    b.push(it.severity.map_or(255, |s| s as u8));
    put_var(b, it.line);
    put_var(b, it.byte_offset);
    put_var(b, it.fields.len() as u64);
    for (k, v) in it.fields {
        put_bytes(b, k.as_bytes());
        put_bytes(b, v.as_bytes());
    }
    let attached_at = b.len();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(it.message);
    attached_at
}

struct Cur<'a> {
    rec: &'a [u8],
    at: usize,
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "spill record too short")
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let b = self.rec.get(self.at..self.at.saturating_add(n)).ok_or_else(short)?;
        self.at += n;
        Ok(b)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn i64(&mut self) -> io::Result<i64> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    /// An unsigned LEB128 varint (at most ten bytes).
    fn var(&mut self) -> io::Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let c = self.u8()?;
            v |= ((c & 0x7f) as u64) << shift;
            if c & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(short())
    }
    /// A varint that must fit in 32 bits.
    fn var32(&mut self) -> io::Result<u32> {
        u32::try_from(self.var()?).map_err(|_| short())
    }
    /// A length-prefixed part: where it is in the record.
    fn part(&mut self) -> io::Result<Span> {
        let n = self.u32()?;
        self.span(n)
    }
    /// Where the next `n` bytes are. They are not checked to be UTF-8 here: the encoder wrote text
    /// (`&str`), and the view checks the program and host again as it lends them (an empty string
    /// standing in for bytes damaged in the spill file) and shows fields lossily, so a check here
    /// would only run the same test twice on every record.
    fn span(&mut self, n: u32) -> io::Result<Span> {
        let at = self.at as u32;
        self.take(n as usize)?;
        Ok(Span { at, len: n })
    }
}

/// A part of a record: `len` bytes from `at`, the record's first byte being 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub at: u32,
    pub len: u32,
}

impl Span {
    fn of(self, rec: &[u8]) -> &[u8] {
        &rec[self.at as usize..(self.at + self.len) as usize]
    }
}

/// Where a record's host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostAt {
    /// The record named none (the run's plan may supply one).
    None,
    /// Entry of the run's host table.
    Table(u32),
    /// Written in the record (checked to be UTF-8 where it is read: [`inline_host`]).
    Inline(Span),
}

/// A record's fixed fields and where its variable parts are (checked: the bytes are there).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parsed {
    pub raw: RawTime,
    pub seg: u32,
    pub year_k: u16,
    pub boot_nanos: Option<i64>,
    pub host: HostAt,
    pub program: Option<Span>,
    pub pid: Option<u32>,
    pub severity: Option<Severity>,
    pub line: u64,
    pub byte_offset: u64,
    /// The packed fields (each key and value a `u32` length and bytes) and how many there are.
    pub fields: Span,
    pub field_count: u32,
    pub attached: u32,
    /// Where the message starts; it runs to the end of the record.
    pub message: u32,
}

/// Reads a record's layout; `hosts` is the size of the run's host table.
pub(crate) fn parse(rec: &[u8], hosts: usize) -> io::Result<Parsed> {
    let mut c = Cur { rec, at: 0 };
    let flags = c.u8()?;
    let raw = match c.u8()? {
        0 => RawTime::None,
        1 => {
            let unix_nanos = c.i64()?;
            let z = c.var32()?;
            RawTime::Exact { unix_nanos, offset_secs: ((z >> 1) as i32) ^ -((z & 1) as i32) }
        }
        2 => RawTime::Naive { civil_nanos: c.i64()? },
        3 => RawTime::YearLess { month: c.u8()?, day: c.u8()?, nanos_of_day: c.i64()? },
        4 => RawTime::Boot { nanos: c.i64()? },
        6 => RawTime::Approx { unix_nanos: c.i64()? },
        _ => RawTime::Snapshot,
    };
    let (seg, year_k) =
        if flags & F_SEG != 0 { (c.var32()?, u16::try_from(c.var()?).map_err(|_| short())?) } else { (0, 0) };
    let boot_nanos = if flags & F_BOOT != 0 { Some(c.i64()?) } else { None };
    let host = if flags & F_HOST_TABLE != 0 {
        let i = c.var32()?;
        if i as usize >= hosts {
            return Err(short());
        }
        HostAt::Table(i)
    } else if flags & F_HOST_INLINE != 0 {
        let n = c.var32()?;
        HostAt::Inline(c.span(n)?)
    } else {
        HostAt::None
    };
    let program = if flags & F_PROGRAM != 0 {
        let n = c.var32()?;
        Some(c.span(n)?)
    } else {
        None
    };
    let pid = if flags & F_PID != 0 { Some(c.var32()?) } else { None };
    let sev = c.u8()?;
    let line = c.var()?;
    let byte_offset = c.var()?;
    let field_count = c.var32()?;
    let fields_at = c.at;
    for _ in 0..field_count {
        c.part()?;
        c.part()?;
    }
    let fields = Span { at: fields_at as u32, len: (c.at - fields_at) as u32 };
    let attached = c.u32()?;
    Ok(Parsed {
        raw,
        seg,
        year_k,
        boot_nanos,
        host,
        program,
        pid,
        severity: (sev != 255).then(|| Severity::from_level(sev)),
        line,
        byte_offset,
        fields,
        field_count,
        attached,
        message: c.at as u32,
    })
}

/// What a record's view needs besides the record: its run's path and format, its resolved time and
/// host.
pub(crate) struct ViewCtx<'a> {
    pub path: &'a Arc<str>,
    pub format: Format,
    pub time: Option<Timestamp>,
    pub time_kind: TimeKind,
    pub host: Option<&'a Arc<str>>,
    /// The message is known to be UTF-8 with no line break (see [`is_plain`]).
    pub plain: bool,
}

/// True when a message is valid UTF-8 with no `\n`: a printer can copy it as it is.
pub(crate) fn is_plain(msg: &[u8]) -> bool {
    // ASCII (nearly every log line) is UTF-8, and checking for it is a fraction of the full check.
    memchr::memchr(b'\n', msg).is_none() && (msg.is_ascii() || std::str::from_utf8(msg).is_ok())
}

/// The message of a record.
pub(crate) fn message<'a>(rec: &'a [u8], p: &Parsed) -> &'a [u8] {
    rec.get(p.message as usize..).unwrap_or_default()
}

/// The event a record holds, borrowed from its bytes.
pub(crate) fn view<'a>(rec: &'a [u8], p: &Parsed, cx: ViewCtx<'a>) -> EventRef<'a> {
    // The encoder wrote text; an empty string stands in for bytes damaged in the spill file.
    let text = |s: Span| std::str::from_utf8(s.of(rec)).unwrap_or_default();
    EventRef {
        time: cx.time,
        time_kind: cx.time_kind,
        boot_nanos: p.boot_nanos,
        host: cx.host,
        format: cx.format,
        program: p.program.map(text),
        pid: p.pid,
        severity: p.severity,
        message: message(rec, p),
        plain: cx.plain,
        attached: p.attached,
        path: cx.path,
        line: p.line,
        byte_offset: p.byte_offset,
        fields: Fields::packed(p.fields.of(rec), p.field_count),
    }
}

/// The text of a record's inline host.
pub(crate) fn inline_host(rec: &[u8], s: Span) -> &str {
    std::str::from_utf8(s.of(rec)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootline_event::{Event, Provenance};

    fn raw(i: u64) -> RawTime {
        match i % 7 {
            6 => RawTime::Approx { unix_nanos: 1_000 + i as i64 },
            0 => RawTime::None,
            1 => RawTime::Exact { unix_nanos: -7, offset_secs: -3600 },
            2 => RawTime::Naive { civil_nanos: 9 },
            3 => RawTime::YearLess { month: 12, day: 31, nanos_of_day: 1 },
            4 => RawTime::Boot { nanos: i as i64 },
            _ => RawTime::Snapshot,
        }
    }

    fn message(i: u64) -> Vec<u8> {
        let mut m = format!("message {i} \u{00e9}").into_bytes();
        m.push(0xff);
        m
    }

    /// The event item `i` must come back as.
    fn want(i: u64) -> Event {
        let mut ev = Event::new(Format::Syslog, Provenance::new("p", i, i * 10));
        ev.set_message(&message(i));
        ev.host = Some(if i.is_multiple_of(3) { "h".into() } else { format!("host{}", i % 300).into() });
        ev.program = i.is_multiple_of(2).then(|| "multipathd".into());
        ev.pid = Some(i as u32);
        ev.severity = Some(Severity::Warning);
        ev.boot_nanos = Some(-5);
        ev.fields.push(("k".into(), "v".into()));
        if i.is_multiple_of(5) {
            ev.message.extend_from_slice(b"\n  continued\n  again");
            ev.attached = 2;
        }
        ev
    }

    fn fill(s: &mut ItemStore, n: u64) {
        for i in 0..n {
            let ev = want(i);
            let fields = [(Cow::Borrowed("k"), Cow::Borrowed("v"))];
            let host = ev.host.clone();
            s.push(&NewItem {
                raw: raw(i),
                seg: i as u32,
                year_k: 2,
                boot_nanos: ev.boot_nanos,
                host: host.as_ref(),
                program: ev.program.as_deref(),
                pid: ev.pid,
                severity: ev.severity,
                line: i,
                byte_offset: i * 10,
                fields: &fields,
                message: &message(i),
            });
            if i.is_multiple_of(5) {
                assert!(s.attach(b"  continued"));
                assert!(s.attach(b"  again"));
            }
        }
    }

    fn check(s: ItemStore, n: u64) {
        assert_eq!(s.len(), n);
        let hosts = s.hosts().to_vec();
        let path: Arc<str> = Arc::from("p");
        let mut it = s.into_iter();
        let mut i = 0;
        while let Some((rec, p)) = it.next_record() {
            assert_eq!(p.raw, raw(i));
            assert_eq!((p.seg, p.year_k), (i as u32, 2));
            let inline;
            let host = match p.host {
                HostAt::Table(k) => Some(&hosts[k as usize]),
                HostAt::Inline(h) => {
                    inline = Arc::from(inline_host(rec, h));
                    Some(&inline)
                }
                HostAt::None => None,
            };
            let cx = ViewCtx {
                path: &path,
                format: Format::Syslog,
                time: None,
                time_kind: TimeKind::None,
                host,
                plain: is_plain(super::message(rec, &p)),
            };
            assert_eq!(view(rec, &p, cx).to_event(), want(i));
            i += 1;
        }
        assert_eq!(i, n);
    }

    #[test]
    fn varints_and_offsets_round_trip_at_the_extremes() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_var(&mut b, v);
            assert_eq!(Cur { rec: &b, at: 0 }.var().unwrap(), v);
        }
        assert!(Cur { rec: &[0x80; 11], at: 0 }.var().is_err(), "an endless varint is an error");
        for offset_secs in [0, -1, 1, 19_800, -36_000, i32::MIN, i32::MAX] {
            let mut b = Vec::new();
            let raw = RawTime::Exact { unix_nanos: i64::MIN, offset_secs };
            encode(&mut b, &NewItem { raw, ..item() }, None);
            assert_eq!(parse(&b[4..], 0).unwrap().raw, raw);
        }
    }

    fn item() -> NewItem<'static, 'static> {
        NewItem {
            raw: RawTime::None,
            seg: 0,
            year_k: 0,
            boot_nanos: None,
            host: None,
            program: None,
            pid: None,
            severity: None,
            line: u64::MAX,
            byte_offset: u64::MAX,
            fields: &[],
            message: b"m",
        }
    }

    #[test]
    fn spilled_items_come_back_identical_and_in_order() {
        let mut s = ItemStore::new(Budget::new(0));
        assert!(!s.attach(b"nothing to attach to"));
        let n = 40_000u64; // many chunks, all on disk
        fill(&mut s, n);
        assert!(s.spilled > 5, "the store went to disk");
        check(s, n);
    }

    #[test]
    fn kept_items_come_back_identical_and_in_order() {
        let budget = Budget::new(usize::MAX / 2);
        let mut s = ItemStore::new(budget.clone());
        fill(&mut s, 20_000);
        assert_eq!(s.spilled, 0, "nothing went to disk");
        check(s, 20_000);
        assert_eq!(budget.used.load(Ordering::Relaxed), 0, "the budget is given back");
    }

    #[test]
    fn a_budget_keeps_the_first_chunks_and_spills_the_rest() {
        let budget = Budget::new(3 * (CHUNK + 4096));
        let mut s = ItemStore::new(budget.clone());
        fill(&mut s, 40_000);
        assert!(s.spilled > 0);
        let kept = s.chunks.iter().filter(|c| matches!(c, Chunk::Mem(..))).count();
        assert!((1..=3).contains(&kept), "{kept} chunks kept");
        check(s, 40_000);
        assert_eq!(budget.used.load(Ordering::Relaxed), 0);
    }
}

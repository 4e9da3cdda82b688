//! Where a run's items wait between reading and merging: in memory while every run together stays
//! under a memory budget, otherwise in an anonymous temporary file (already unlinked, gone when
//! rootline exits), so memory stays flat however much evidence there is.
//!
//! Items are encoded straight from the parser's record into chunks of a compact binary encoding (no
//! owned event is built while reading, nor while merging: the merge reads the records in place,
//! [`parse`] telling where each part is, and hands out [`EventRef`]s over their bytes). A chunk is kept in
//! memory when the budget shared by all runs of one read allows, else written to the run's file. The
//! file holds rootline's own parsed records, never input bytes laid out as files: nothing from an
//! archive is extracted.
//!
//! Record layout (little endian): `u32` length of the rest, raw time (tag and payload), `u32` boot
//! segment, `u16` year offset, boot nanos (tag, `i64`), host (tag: none, index into the run's host
//! table, or inline bytes), program (`u32` length or `u32::MAX` for none, bytes), pid (tag, `u32`),
//! severity (`u8`, 255 for none), `u64` line, `u64` byte offset, `u32` field count and the fields
//! (`u32` length and bytes, key then value), `u32` continuation lines, and last the message bytes, so
//! continuation lines are appended in place.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rootline_event::{EventRef, Fields, Format, Severity, TimeKind, Timestamp};

use crate::time::RawTime;

/// Encoded bytes a chunk collects before it is kept in memory or written out.
const CHUNK: usize = 256 * 1024;

/// Hosts a run's table holds; more distinct hosts than this are written inline.
const MAX_HOSTS: usize = 256;

/// Default bytes of encoded items kept in memory across all runs of one read.
pub(crate) const DEFAULT_BUDGET: usize = 64 << 20;

/// Memory shared by the runs of one read: chunks are kept in memory while it lasts.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget { limit, used: AtomicUsize::new(0) })
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

/// A finished chunk: in memory (with the bytes it holds of the budget) or the next `len` bytes of
/// the run's file.
enum Chunk {
    Mem(Vec<u8>, usize),
    File(usize),
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
    file: Option<File>,
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
            file: None,
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

    /// Keeps the current chunk in memory if the budget allows, else writes it to the run's file.
    fn close_chunk(&mut self) {
        let bytes = std::mem::take(&mut self.cur);
        let n = bytes.capacity();
        if self.error.is_some() || self.budget.take(n) {
            // Kept in memory (after a disk error always: a full disk must not lose events).
            let charged = if self.error.is_some() { 0 } else { n };
            self.chunks.push(Chunk::Mem(bytes, charged));
            return;
        }
        match self.write(&bytes) {
            Ok(()) => {
                self.chunks.push(Chunk::File(bytes.len()));
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

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        self.file.as_mut().expect("file was just created").write_all(bytes)
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
        let file = self.file.take().and_then(|mut f| f.rewind().ok().map(|()| f));
        let chunks = std::mem::take(&mut self.chunks);
        StoreIter {
            budget: self.budget.clone(),
            chunks: chunks.into_iter(),
            file,
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
    file: Option<File>,
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
                Some(Chunk::File(len)) => {
                    let ok = self.file.as_mut().is_some_and(|f| {
                        self.buf.clear();
                        self.buf.reserve_exact(len.saturating_sub(self.buf.capacity()));
                        // Read into the spare capacity (no zeroing first).
                        Read::take(&mut *f, len as u64).read_to_end(&mut self.buf).is_ok_and(|n| n == len)
                    });
                    if ok {
                        return true;
                    }
                    // A temp file we wrote ourselves went bad (disk error): skip what it held.
                    self.file = None;
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

/// Appends the record of `it` (length left zero) and returns where its continuation count is.
fn encode(b: &mut Vec<u8>, it: &NewItem<'_, '_>, host: Option<Result<u32, ()>>) -> usize {
    b.extend_from_slice(&[0; 4]); // record length, written when the record is closed
    match it.raw {
        RawTime::None => b.push(0),
        RawTime::Exact { unix_nanos, offset_secs } => {
            b.push(1);
            b.extend_from_slice(&unix_nanos.to_le_bytes());
            b.extend_from_slice(&offset_secs.to_le_bytes());
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
    }
    b.extend_from_slice(&it.seg.to_le_bytes());
    b.extend_from_slice(&it.year_k.to_le_bytes());
    match it.boot_nanos {
        Some(n) => {
            b.push(1);
            b.extend_from_slice(&n.to_le_bytes());
        }
        None => b.push(0),
    }
    match (host, it.host) {
        (Some(Ok(i)), _) => {
            b.push(1);
            b.extend_from_slice(&i.to_le_bytes());
        }
        (Some(Err(())), Some(h)) => {
            b.push(2);
            put_bytes(b, h.as_bytes());
        }
        _ => b.push(0),
    }
    match it.program {
        Some(p) => put_bytes(b, p.as_bytes()),
        None => b.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
    match it.pid {
        Some(p) => {
            b.push(1);
            b.extend_from_slice(&p.to_le_bytes());
        }
        None => b.push(0),
    }
    b.push(it.severity.map_or(255, |s| s as u8));
    b.extend_from_slice(&it.line.to_le_bytes());
    b.extend_from_slice(&it.byte_offset.to_le_bytes());
    b.extend_from_slice(&(it.fields.len() as u32).to_le_bytes());
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
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    /// A length-prefixed string: where it is in the record, checked to be UTF-8.
    fn text(&mut self) -> io::Result<Span> {
        let n = self.u32()?;
        self.text_of(n)
    }
    /// The next `n` bytes as a string (checked to be UTF-8).
    fn text_of(&mut self, n: u32) -> io::Result<Span> {
        let at = self.at as u32;
        std::str::from_utf8(self.take(n as usize)?).map_err(|_| short())?;
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
    /// Written in the record (UTF-8, checked).
    Inline(Span),
}

/// A record's fixed fields and where its variable parts are (checked: the bytes are there, and
/// what must be UTF-8 is).
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
    let raw = match c.u8()? {
        0 => RawTime::None,
        1 => RawTime::Exact { unix_nanos: c.i64()?, offset_secs: c.u32()? as i32 },
        2 => RawTime::Naive { civil_nanos: c.i64()? },
        3 => RawTime::YearLess { month: c.u8()?, day: c.u8()?, nanos_of_day: c.i64()? },
        4 => RawTime::Boot { nanos: c.i64()? },
        _ => RawTime::Snapshot,
    };
    let seg = c.u32()?;
    let year_k = u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes"));
    let boot_nanos = if c.u8()? == 1 { Some(c.i64()?) } else { None };
    let host = match c.u8()? {
        1 => {
            let i = c.u32()?;
            if i as usize >= hosts {
                return Err(short());
            }
            HostAt::Table(i)
        }
        2 => HostAt::Inline(c.text()?),
        _ => HostAt::None,
    };
    let program = match c.u32()? {
        u32::MAX => None,
        n => Some(c.text_of(n)?),
    };
    let pid = if c.u8()? == 1 { Some(c.u32()?) } else { None };
    let sev = c.u8()?;
    let line = c.u64()?;
    let byte_offset = c.u64()?;
    let field_count = c.u32()?;
    let fields_at = c.at;
    for _ in 0..field_count {
        c.text()?;
        c.text()?;
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
    memchr::memchr(b'\n', msg).is_none() && std::str::from_utf8(msg).is_ok()
}

/// The message of a record.
pub(crate) fn message<'a>(rec: &'a [u8], p: &Parsed) -> &'a [u8] {
    rec.get(p.message as usize..).unwrap_or_default()
}

/// The event a record holds, borrowed from its bytes.
pub(crate) fn view<'a>(rec: &'a [u8], p: &Parsed, cx: ViewCtx<'a>) -> EventRef<'a> {
    // `parse` checked these were UTF-8; an empty string stands in if the bytes changed since.
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
        match i % 6 {
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
    fn spilled_items_come_back_identical_and_in_order() {
        let mut s = ItemStore::new(Budget::new(0));
        assert!(!s.attach(b"nothing to attach to"));
        let n = 20_000u64; // many chunks, all on disk
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

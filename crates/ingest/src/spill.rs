//! Where a run's items wait between reading and merging: in memory while small, then in an
//! anonymous temporary file (already unlinked, gone when rootline exits), so memory stays flat
//! however much evidence there is.
//!
//! The file holds rootline's own parsed records in a compact binary encoding, never input bytes laid
//! out as files: nothing from an archive is extracted.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::Arc;

use rootline_event::{Event, Format, Provenance, Severity};

use crate::run::Item;
use crate::time::RawTime;

/// Items kept in memory per run before the run goes to disk (approximate bytes).
const MEMORY_BUDGET: usize = 1 << 20;

fn budget() -> usize {
    static B: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *B.get_or_init(|| std::env::var("ROOTLINE_RUN_MEMORY").ok().and_then(|v| v.parse().ok()).unwrap_or(MEMORY_BUDGET))
}

/// A run's items in file order.
pub(crate) struct ItemStore {
    mem: Vec<Item>,
    mem_bytes: usize,
    file: Option<BufWriter<File>>,
    spilled: u64,
    error: Option<io::Error>,
}

impl ItemStore {
    pub fn new() -> Self {
        ItemStore { mem: Vec::new(), mem_bytes: 0, file: None, spilled: 0, error: None }
    }

    /// Appends an item. The last item stays in memory until the next push (it may still receive
    /// continuation lines).
    pub fn push(&mut self, it: Item) {
        self.mem_bytes += it.ev.message.len() + 160;
        self.mem.push(it);
        if self.mem_bytes > budget() && self.mem.len() > 1 {
            self.spill_all_but_last();
        }
    }

    /// The most recent item, for attaching continuation lines.
    pub fn last_mut(&mut self) -> Option<&mut Item> {
        self.mem.last_mut()
    }

    /// Number of items stored.
    pub fn len(&self) -> u64 {
        self.spilled + self.mem.len() as u64
    }

    fn spill_all_but_last(&mut self) {
        if self.error.is_some() {
            return; // keep going in memory: a full disk must not lose events
        }
        if self.file.is_none() {
            match tempfile::tempfile() {
                Ok(f) => self.file = Some(BufWriter::with_capacity(256 * 1024, f)),
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            }
        }
        let last = self.mem.pop();
        let w = self.file.as_mut().expect("file was just created");
        let mut buf = Vec::with_capacity(512);
        for it in self.mem.drain(..) {
            buf.clear();
            encode(&it, &mut buf);
            if let Err(e) = w.write_all(&buf) {
                // Put nothing back (already drained items would be lost): record and stop spilling
                // further; the items written so far stay readable.
                self.error = Some(e);
                break;
            }
            self.spilled += 1;
        }
        self.mem.extend(last);
        self.mem_bytes = self.mem.iter().map(|it| it.ev.message.len() + 160).sum();
    }

    /// Consumes the store into an iterator over its items in order.
    pub fn into_iter(self, path: Arc<str>, format: Format) -> StoreIter {
        let reader = self.file.and_then(|w| {
            let mut f = w.into_inner().ok()?;
            f.rewind().ok()?;
            Some(BufReader::with_capacity(64 * 1024, f))
        });
        StoreIter { reader, left: self.spilled, mem: self.mem.into_iter(), path, format, buf: Vec::new(), host: None }
    }
}

/// Iterates a store: spilled items first, then those still in memory.
pub(crate) struct StoreIter {
    reader: Option<BufReader<File>>,
    left: u64,
    mem: std::vec::IntoIter<Item>,
    path: Arc<str>,
    format: Format,
    buf: Vec<u8>,
    host: Option<Arc<str>>,
}

impl Iterator for StoreIter {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.left > 0 {
            if let Some(r) = self.reader.as_mut() {
                self.left -= 1;
                match decode(r, &mut self.buf, &self.path, self.format, &mut self.host) {
                    Ok(it) => return Some(it),
                    Err(_) => {
                        // A temp file we wrote ourselves went bad (disk error): stop reading it.
                        self.left = 0;
                    }
                }
            }
        }
        self.mem.next()
    }
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(b: &mut Vec<u8>, v: &[u8]) {
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    b.extend_from_slice(v);
}

fn put_opt_str(b: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => {
            b.push(1);
            put_bytes(b, s.as_bytes());
        }
        None => b.push(0),
    }
}

fn encode(it: &Item, b: &mut Vec<u8>) {
    let start = b.len();
    b.extend_from_slice(&[0; 4]); // record length, filled below
    match it.raw {
        RawTime::None => b.push(0),
        RawTime::Exact { unix_nanos, offset_secs } => {
            b.push(1);
            put_u64(b, unix_nanos as u64);
            b.extend_from_slice(&offset_secs.to_le_bytes());
        }
        RawTime::Naive { civil_nanos } => {
            b.push(2);
            put_u64(b, civil_nanos as u64);
        }
        RawTime::YearLess { month, day, nanos_of_day } => {
            b.extend_from_slice(&[3, month, day]);
            put_u64(b, nanos_of_day as u64);
        }
        RawTime::Boot { nanos } => {
            b.push(4);
            put_u64(b, nanos as u64);
        }
        RawTime::Snapshot => b.push(5),
    }
    b.extend_from_slice(&it.seg.to_le_bytes());
    b.extend_from_slice(&it.year_k.to_le_bytes());
    let ev = &it.ev;
    match ev.boot_nanos {
        Some(n) => {
            b.push(1);
            put_u64(b, n as u64);
        }
        None => b.push(0),
    }
    put_opt_str(b, ev.host.as_deref());
    put_opt_str(b, ev.program.as_deref());
    match ev.pid {
        Some(p) => {
            b.push(1);
            b.extend_from_slice(&p.to_le_bytes());
        }
        None => b.push(0),
    }
    b.push(ev.severity.map_or(255, |s| s as u8));
    b.extend_from_slice(&ev.attached.to_le_bytes());
    put_u64(b, ev.provenance.line);
    put_u64(b, ev.provenance.byte_offset);
    put_bytes(b, &ev.message);
    b.extend_from_slice(&(ev.fields.len() as u32).to_le_bytes());
    for (k, v) in &ev.fields {
        put_bytes(b, k.as_bytes());
        put_bytes(b, v.as_bytes());
    }
    let len = (b.len() - start - 4) as u32;
    b[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

struct Cur<'a>(&'a [u8]);

impl Cur<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "spill record too short"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn bytes(&mut self) -> io::Result<&[u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> io::Result<String> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
    fn opt_string(&mut self) -> io::Result<Option<String>> {
        Ok(if self.u8()? == 1 { Some(self.string()?) } else { None })
    }
}

fn decode(
    r: &mut impl Read,
    buf: &mut Vec<u8>,
    path: &Arc<str>,
    format: Format,
    host_cache: &mut Option<Arc<str>>,
) -> io::Result<Item> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    buf.resize(u32::from_le_bytes(len) as usize, 0);
    r.read_exact(buf)?;
    let mut c = Cur(buf);
    let raw = match c.u8()? {
        0 => RawTime::None,
        1 => RawTime::Exact { unix_nanos: c.u64()? as i64, offset_secs: c.u32()? as i32 },
        2 => RawTime::Naive { civil_nanos: c.u64()? as i64 },
        3 => RawTime::YearLess { month: c.u8()?, day: c.u8()?, nanos_of_day: c.u64()? as i64 },
        4 => RawTime::Boot { nanos: c.u64()? as i64 },
        _ => RawTime::Snapshot,
    };
    let seg = c.u32()?;
    let year_k = u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes"));
    let boot_nanos = if c.u8()? == 1 { Some(c.u64()? as i64) } else { None };
    let host = c.opt_string()?.map(|h| match host_cache {
        Some(a) if **a == *h => a.clone(),
        _ => {
            let a: Arc<str> = Arc::from(h);
            *host_cache = Some(a.clone());
            a
        }
    });
    let program = c.opt_string()?.map(String::into_boxed_str);
    let pid = if c.u8()? == 1 { Some(c.u32()?) } else { None };
    let sev = c.u8()?;
    let attached = c.u32()?;
    let line = c.u64()?;
    let byte_offset = c.u64()?;
    let message = c.bytes()?.to_vec();
    let nf = c.u32()? as usize;
    let mut fields = Vec::with_capacity(nf.min(64));
    for _ in 0..nf {
        let k = c.string()?.into_boxed_str();
        let v = c.string()?.into_boxed_str();
        fields.push((k, v));
    }
    let mut ev = Event::new(format, Provenance { path: path.clone(), line, byte_offset });
    ev.boot_nanos = boot_nanos;
    ev.host = host;
    ev.program = program;
    ev.pid = pid;
    ev.severity = (sev != 255).then(|| Severity::from_level(sev));
    ev.attached = attached;
    ev.message = message;
    ev.fields = fields;
    Ok(Item { raw, seg, year_k, ev })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: u64) -> Item {
        let mut ev = Event::new(Format::Syslog, Provenance::new("p", i, i * 10));
        ev.set_message(format!("message {i} \u{00e9}").as_bytes());
        ev.message.push(0xff);
        ev.host = Some("h".into());
        ev.program = i.is_multiple_of(2).then(|| "multipathd".into());
        ev.pid = Some(i as u32);
        ev.severity = Some(Severity::Warning);
        ev.boot_nanos = Some(-5);
        ev.fields.push(("k".into(), "v".into()));
        let raw = match i % 6 {
            0 => RawTime::None,
            1 => RawTime::Exact { unix_nanos: -7, offset_secs: -3600 },
            2 => RawTime::Naive { civil_nanos: 9 },
            3 => RawTime::YearLess { month: 12, day: 31, nanos_of_day: 1 },
            4 => RawTime::Boot { nanos: i as i64 },
            _ => RawTime::Snapshot,
        };
        Item { raw, seg: i as u32, year_k: 2, ev }
    }

    #[test]
    fn spilled_items_come_back_identical_and_in_order() {
        let mut s = ItemStore::new();
        let n = 20_000u64; // well past the memory budget
        for i in 0..n {
            s.push(item(i));
        }
        assert!(s.spilled > 0, "the store went to disk");
        assert_eq!(s.len(), n);
        let back: Vec<Item> = s.into_iter(Arc::from("p"), Format::Syslog).collect();
        assert_eq!(back.len() as u64, n);
        for (i, it) in back.iter().enumerate() {
            let want = item(i as u64);
            assert_eq!(it.raw, want.raw);
            assert_eq!((it.seg, it.year_k), (want.seg, want.year_k));
            assert_eq!(it.ev, want.ev);
        }
    }
}

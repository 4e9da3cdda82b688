//! Where lines come from: files, directories, stdin, compressed streams and tar archives.
//!
//! Every input argument becomes one *bundle* (a directory, an archive, a single file or stdin); a
//! bundle is expanded into *members* (the files inside it, at any depth, through any nesting of
//! compression and tar), each handed to a visitor as a stream. Nothing is ever written to disk and a
//! member's name inside an archive is only ever displayed, so no archive can write anywhere.
//! Compression and tar are recognised by their magic bytes, not by file names.
//!
//! A compressed stream damaged or cut short in the middle gives every line that decompresses before
//! the damage; a warning names the file and the compressed byte where reading stopped (a stream with
//! nothing readable before it is skipped with that reason). The same holds for a tar archive cut short.

pub mod lines;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rootline_event::thousands;

/// A file or archive member that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Display path.
    pub path: String,
    /// A sentence saying why.
    pub reason: String,
}

/// What kind of input a skipped entry's reason describes, as a stable key for summaries ("2 binary
/// files"): `metadata` (a bundle fact file, read as such), `binary`, `journal` (a binary systemd
/// journal), `empty`, `damaged` (nothing readable before the damage), `unreadable`, `documentation`,
/// `captured` (/proc or /sys state, read by `doctor --root`), `special` (devices, sockets, FIFOs in a
/// directory), `nested` (archives nested too deep), `symlink` (a link to a directory), else `other`.
pub fn skip_kind(reason: &str) -> &'static str {
    let starts = |p: &str| reason.starts_with(p);
    if starts("read as bundle metadata") {
        "metadata"
    } else if starts("binary systemd journal") {
        "journal"
    } else if starts("binary file") {
        "binary"
    } else if reason == "empty file" {
        "empty"
    } else if starts(DAMAGED) {
        "damaged"
    } else if starts("cannot ") {
        "unreadable"
    } else if starts("documentation") {
        "documentation"
    } else if starts("captured /proc") || starts("rootline bundle metadata") {
        "captured"
    } else if starts("not a regular file") {
        "special"
    } else if starts("nested more than") {
        "nested"
    } else if starts("symbolic link to a directory") {
        "symlink"
    } else {
        "other"
    }
}

/// True for a warning about lines cut to the line limit (they are counted in `Stats::cut_lines`;
/// the warnings name the first few).
pub fn is_cut_line_warning(reason: &str) -> bool {
    (reason.starts_with("line ") && reason.contains(" bytes long; cut to "))
        || reason.contains(" lines in all were cut to ")
}

/// One top-level input, read by one worker.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// What to open.
    pub path: UnitPath,
    /// Display path.
    pub display: String,
    /// Name relative to the bundle root (used to recognise `hostname`, `etc/localtime`, ...).
    pub rel: String,
    /// Index of the input argument this unit belongs to.
    pub bundle: usize,
    /// Modification time, seconds since the epoch.
    pub mtime: Option<i64>,
    /// Size in bytes, for a regular file.
    pub size: Option<u64>,
}

/// What a unit opens.
#[derive(Debug, Clone)]
pub(crate) enum UnitPath {
    File(PathBuf),
    Stdin,
}

/// A stream handed to the visitor.
pub(crate) struct Member<'a> {
    /// Display path (`archive.tar.gz!dir/file`).
    pub display: &'a str,
    /// Name relative to the bundle root.
    pub rel: &'a str,
    /// Modification time of the file or archive member.
    pub mtime: Option<i64>,
    /// True when `mtime` is an archive member's: set by the archiver when the capture was packed,
    /// unlike a loose file's, which a copy or a checkout resets.
    pub archived: bool,
    /// The decompressed content.
    pub reader: &'a mut dyn BufRead,
}

/// Expands the input arguments into units, recursing into directories (sorted, symlinked
/// directories not followed). Paths that cannot be read are reported in `skipped`.
pub(crate) fn enumerate(args: &[PathBuf], skipped: &mut Vec<Skipped>) -> Vec<Unit> {
    let mut units = Vec::new();
    for (bundle, arg) in args.iter().enumerate() {
        if arg.as_os_str() == "-" {
            units.push(Unit {
                path: UnitPath::Stdin,
                display: "-".into(),
                rel: "-".into(),
                bundle,
                mtime: None,
                size: None,
            });
            continue;
        }
        match std::fs::metadata(arg) {
            Ok(md) if md.is_dir() => walk_dir(arg, arg, bundle, skipped, &mut units),
            Ok(md) if md.is_file() => units.push(Unit {
                path: UnitPath::File(arg.clone()),
                display: arg.display().to_string(),
                rel: arg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                bundle,
                mtime: mtime_of(&md),
                size: Some(md.len()),
            }),
            // A FIFO (`<(journalctl ...)`, `mkfifo`) or a character device (`/dev/stdin` on a
            // terminal) is read once as a stream, like `-`: no modification time, format from its
            // first bytes.
            Ok(md) if is_stream(&md) => units.push(Unit {
                path: UnitPath::File(arg.clone()),
                display: arg.display().to_string(),
                rel: arg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                bundle,
                mtime: None,
                size: None,
            }),
            Ok(_) => skipped.push(Skipped {
                path: arg.display().to_string(),
                reason: "not a regular file, directory, FIFO or character device".into(),
            }),
            Err(e) => skipped.push(Skipped { path: arg.display().to_string(), reason: format!("cannot read: {e}") }),
        }
    }
    units
}

/// A FIFO or a character device: read once from its first byte, like standard input.
#[cfg(unix)]
fn is_stream(md: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    md.file_type().is_fifo() || md.file_type().is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_: &std::fs::Metadata) -> bool {
    false
}

fn mtime_of(md: &std::fs::Metadata) -> Option<i64> {
    let t = md.modified().ok()?;
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

fn walk_dir(root: &Path, dir: &Path, bundle: usize, skipped: &mut Vec<Skipped>, out: &mut Vec<Unit>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            skipped.push(Skipped { path: dir.display().to_string(), reason: format!("cannot list directory: {e}") });
            return;
        }
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let ft = match e.file_type() {
            Ok(ft) => ft,
            Err(err) => {
                skipped.push(Skipped { path: p.display().to_string(), reason: format!("cannot stat: {err}") });
                continue;
            }
        };
        if ft.is_dir() {
            walk_dir(root, &p, bundle, skipped, out);
            continue;
        }
        let md = match std::fs::metadata(&p) {
            Ok(md) => md,
            Err(err) => {
                skipped.push(Skipped { path: p.display().to_string(), reason: format!("cannot read: {err}") });
                continue;
            }
        };
        if md.is_dir() {
            skipped.push(Skipped {
                path: p.display().to_string(),
                reason: "symbolic link to a directory, not followed".into(),
            });
        } else if md.is_file() {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().into_owned();
            out.push(Unit {
                path: UnitPath::File(p.clone()),
                display: p.display().to_string(),
                rel,
                bundle,
                mtime: mtime_of(&md),
                size: Some(md.len()),
            });
        } else {
            skipped.push(Skipped {
                path: p.display().to_string(),
                // Inside a directory a FIFO is not opened: with no writer it would wait forever.
                reason: "not a regular file (device, socket or FIFO inside a directory)".into(),
            });
        }
    }
}

/// Limits that keep a hostile or broken input from exhausting the machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Archives nested deeper than this are skipped.
    pub max_depth: usize,
    /// Decompressed bytes read from one member before it is cut (decompression bombs).
    pub max_member_bytes: u64,
}

/// Opens a unit and hands each member to `visit`, which returns how many lines it kept of it.
/// Problems are returned as skipped entries or warnings (`(path, message)`); nothing here aborts the
/// run.
/// `read_bytes`, when given, counts the unit's bytes as they are read.
pub(crate) fn read_unit(
    unit: &Unit,
    limits: Limits,
    read_bytes: Option<&std::sync::atomic::AtomicU64>,
    visit: &mut dyn FnMut(Member<'_>) -> u64,
    skipped: &mut Vec<Skipped>,
    warnings: &mut Vec<Skipped>,
) {
    let reader: Box<dyn Read + '_> = match (&unit.path, read_bytes) {
        (UnitPath::Stdin, _) => Box::new(io::stdin().lock()),
        (UnitPath::File(p), tally) => match File::open(p) {
            Ok(f) => match tally {
                Some(t) => Box::new(Tally { inner: f, bytes: t }),
                None => Box::new(f),
            },
            Err(e) => {
                skipped.push(Skipped { path: unit.display.clone(), reason: format!("cannot open: {e}") });
                return;
            }
        },
    };
    let mut ctx = Ctx::new(limits, visit, skipped, warnings);
    ctx.unit_display_len = unit.display.len();
    ctx.stream(reader, &unit.display, &unit.rel, unit.mtime, 0);
}

/// A reader that adds the bytes it reads to a shared counter (for progress shown elsewhere).
struct Tally<'a, R> {
    inner: R,
    bytes: &'a std::sync::atomic::AtomicU64,
}

impl<R: Read> Read for Tally<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

struct Ctx<'v> {
    limits: Limits,
    /// Length of the unit's own display path: a longer one is an archive member (`unit!member`).
    unit_display_len: usize,
    visit: &'v mut dyn FnMut(Member<'_>) -> u64,
    skipped: &'v mut Vec<Skipped>,
    warnings: &'v mut Vec<Skipped>,
    /// The damage slots of the decompressors the current stream is read through, outermost first.
    open: Vec<Slot>,
}

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gzip,
    Zstd,
    Xz,
    Bzip2,
    Tar,
    SystemdJournal,
    Text,
}

fn sniff(head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Kind::Zstd
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Kind::Xz
    } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|c| (b'1'..=b'9').contains(c)) {
        Kind::Bzip2
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Kind::Tar
    } else if head.starts_with(b"LPKSHHRH") {
        Kind::SystemdJournal
    } else {
        Kind::Text
    }
}

/// Bytes of a text member available to format detection at once.
pub(crate) const SAMPLE_BYTES: usize = 64 * 1024;

/// Reads up to `n` bytes (fewer at end of stream), and the error that stopped it early if one did:
/// the bytes read before an error are kept.
fn read_head(r: &mut dyn Read, n: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                head.truncate(got);
                return (head, Some(e));
            }
        }
    }
    head.truncate(got);
    (head, None)
}

impl<'v> Ctx<'v> {
    fn new(
        limits: Limits,
        visit: &'v mut dyn FnMut(Member<'_>) -> u64,
        skipped: &'v mut Vec<Skipped>,
        warnings: &'v mut Vec<Skipped>,
    ) -> Self {
        Ctx { limits, unit_display_len: 0, visit, skipped, warnings, open: Vec::new() }
    }

    /// True when a decompressor the current stream comes through has stopped at damage: what follows
    /// (an empty member, a tar archive ending early) is its consequence, reported once by it.
    fn inside_damage(&self) -> bool {
        self.open.iter().any(|s| s.borrow().is_some())
    }

    /// Reads one stream: a compression layer, a tar archive, or a text member handed to the visitor.
    /// Returns the lines the visitor kept of it.
    fn stream(&mut self, mut r: Box<dyn Read + '_>, display: &str, rel: &str, mtime: Option<i64>, depth: usize) -> u64 {
        let (head, err) = read_head(&mut r, 512);
        if let (true, Some(e)) = (head.is_empty(), err) {
            self.skipped.push(Skipped { path: display.into(), reason: format!("cannot read: {e}") });
            return 0;
        }
        let kind = sniff(&head);
        let whole: Box<dyn Read + '_> = Box::new(Cursor::new(head).chain(r));
        if depth > self.limits.max_depth && kind != Kind::Text {
            self.skipped.push(Skipped {
                path: display.into(),
                reason: format!("nested more than {} archives deep", self.limits.max_depth),
            });
            return 0;
        }
        match kind {
            Kind::Gzip | Kind::Bzip2 | Kind::Xz | Kind::Zstd => {
                self.decompress(kind, whole, display, rel, mtime, depth)
            }
            Kind::Tar => self.tar(whole, display, depth),
            Kind::SystemdJournal => {
                self.skipped.push(Skipped {
                    path: display.into(),
                    reason: "binary systemd journal file: export it with `journalctl --file FILE -o export` (or -o json) and read that".into(),
                });
                0
            }
            Kind::Text => {
                // Hand the reader's first fill a full sample (format detection reads whole lines from
                // it), not just the 512 bytes sniffed above.
                let mut whole = whole;
                let (sample, _) = read_head(&mut whole, SAMPLE_BYTES);
                if sample.is_empty() && self.inside_damage() {
                    return 0;
                }
                let whole: Box<dyn Read + '_> = Box::new(Cursor::new(sample).chain(whole));
                let limited = Bomb { inner: whole, left: self.limits.max_member_bytes, hit: false };
                let mut br = BufReader::with_capacity(256 * 1024, limited);
                let archived = display.len() > self.unit_display_len;
                let lines = (self.visit)(Member { display, rel, mtime, archived, reader: &mut br });
                if br.get_ref().hit {
                    self.warnings.push(Skipped {
                        path: display.into(),
                        reason: format!("cut after {} decompressed bytes (limit)", self.limits.max_member_bytes),
                    });
                }
                lines
            }
        }
    }

    /// Reads a compressed stream through its decoder; damage ends it where it is met (see [`Guard`]).
    fn decompress(
        &mut self,
        kind: Kind,
        whole: Box<dyn Read + '_>,
        display: &str,
        rel: &str,
        mtime: Option<i64>,
        depth: usize,
    ) -> u64 {
        let consumed = Rc::new(Cell::new(0u64));
        let input = CountedBuf::new(whole, consumed.clone());
        let (codec, dec): (&str, Box<dyn Read + '_>) = match kind {
            Kind::Gzip => ("gzip", Box::new(MultiGz { dec: Some(flate2::bufread::GzDecoder::new(input)) })),
            Kind::Bzip2 => ("bzip2", Box::new(bzip2::bufread::MultiBzDecoder::new(input))),
            Kind::Xz => ("xz", Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(input))),
            _ => match zstd::stream::read::Decoder::with_buffer(input) {
                Ok(d) => ("zstd", Box::new(d)),
                Err(e) => {
                    self.skipped
                        .push(Skipped { path: display.into(), reason: format!("cannot start zstd decoder: {e}") });
                    return 0;
                }
            },
        };
        let slot = Slot::default();
        let guard = Guard { dec, consumed, slot: slot.clone(), done: false };
        self.open.push(slot.clone());
        let lines = self.stream(Box::new(guard), display, strip_compression_suffix(rel), mtime, depth + 1);
        self.open.pop();
        if let Some(d) = slot.take() {
            self.damaged(display, &format!("{codec} stream"), d, lines);
        }
        lines
    }

    /// Reports a stream that stopped at damage: a warning when lines were kept, else a skipped input.
    fn damaged(&mut self, display: &str, what: &str, d: Damage, lines: u64) {
        let how = if d.early_end { "cut short" } else { "damaged" };
        let at = format!("{what} {how} at byte {} ({})", thousands(d.at), d.error);
        if lines == 0 {
            self.skipped.push(Skipped { path: display.into(), reason: format!("{DAMAGED}: {at}") });
        } else {
            let kept = if lines == 1 { "the line".to_string() } else { format!("the {} lines", thousands(lines)) };
            self.warnings.push(Skipped { path: display.into(), reason: format!("{at}; kept {kept} read before it") });
        }
    }

    fn tar(&mut self, r: Box<dyn Read + '_>, display: &str, depth: usize) -> u64 {
        // Bytes of the archive read so far: the tar reader reads headers and data without a buffer
        // of its own, so this is where it stands.
        let pos = Rc::new(Cell::new(0u64));
        let mut ar = tar::Archive::new(Counted { inner: r, n: pos.clone() });
        let entries = match ar.entries() {
            Ok(e) => e,
            Err(e) => {
                self.skipped.push(Skipped { path: display.into(), reason: format!("cannot read tar archive: {e}") });
                return 0;
            }
        };
        let mut lines = 0u64;
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Inside a damaged compressed stream the archive only ends where the damage is.
                    if !self.inside_damage() {
                        let msg = e.to_string();
                        let early_end = msg.contains("EOF") || msg.contains("entire block");
                        self.damaged(display, "tar archive", Damage { at: pos.get(), error: msg, early_end }, lines);
                    }
                    return lines;
                }
            };
            let ty = entry.header().entry_type();
            if !(ty.is_file() || ty == tar::EntryType::Continuous || ty.is_gnu_sparse()) {
                continue;
            }
            // Only displayed, never used to open or create anything.
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let member_display = format!("{display}!{name}");
            let mtime = entry.header().mtime().ok().map(|m| m as i64);
            lines += self.stream(Box::new(entry), &member_display, &name, mtime, depth + 1);
        }
        lines
    }
}

/// The start of the reason of a compressed file or archive skipped because nothing before its
/// damage could be read.
pub const DAMAGED: &str = "damaged before its first line";

/// Where a compressed stream or an archive stopped being readable.
#[derive(Debug)]
struct Damage {
    /// Bytes of its input consumed when it stopped.
    at: u64,
    /// What the decoder said.
    error: String,
    /// The input ended before the stream did (a truncated file), as opposed to bytes that are wrong.
    early_end: bool,
}

/// Filled by a [`Guard`] when its decoder meets damage.
type Slot = Rc<RefCell<Option<Damage>>>;

/// A decoder whose first error ends the stream: the caller sees end of input after the last byte
/// decoded before the damage, and the damage (with the compressed offset) is left in `slot`.
struct Guard<D> {
    dec: D,
    /// Compressed bytes the decoder has consumed (shared with its [`CountedBuf`]).
    consumed: Rc<Cell<u64>>,
    slot: Slot,
    done: bool,
}

impl<D: Read> Read for Guard<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        loop {
            match self.dec.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    let early_end = e.kind() == io::ErrorKind::UnexpectedEof;
                    *self.slot.borrow_mut() = Some(Damage { at: self.consumed.get(), error: e.to_string(), early_end });
                    return Ok(0);
                }
            }
        }
    }
}

/// A buffered reader that counts the bytes its user consumed, i.e. how far into the compressed
/// input a decoder has got (bytes buffered but not yet consumed do not count).
struct CountedBuf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    consumed: Rc<Cell<u64>>,
}

impl<R: Read> CountedBuf<R> {
    fn new(inner: R, consumed: Rc<Cell<u64>>) -> Self {
        CountedBuf { inner, buf: vec![0u8; 64 * 1024].into_boxed_slice(), pos: 0, filled: 0, consumed }
    }
}

impl<R: Read> BufRead for CountedBuf<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.filled = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.filled - self.pos);
        self.pos += amt;
        self.consumed.set(self.consumed.get() + amt as u64);
    }
}

impl<R: Read> Read for CountedBuf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Gzip members back to back, as `gzip -d` reads them: zero bytes after a member (padding to a
/// block size, as tape and some archivers write) end the stream quietly; anything else after a
/// member must be another member.
struct MultiGz<R> {
    dec: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: BufRead> Read for MultiGz<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(dec) = self.dec.as_mut() else { return Ok(0) };
            let n = dec.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended; the decoder leaves what follows it in the input.
            let mut input = self.dec.take().expect("checked above").into_inner();
            loop {
                let avail = input.fill_buf()?;
                if avail.is_empty() {
                    return Ok(0);
                }
                match avail.iter().position(|&b| b != 0) {
                    Some(0) => break,
                    Some(i) => {
                        // Zeros, then more bytes: read them as a member (a warning if they are not).
                        input.consume(i);
                        break;
                    }
                    None => {
                        let n = avail.len();
                        input.consume(n);
                    }
                }
            }
            self.dec = Some(flate2::bufread::GzDecoder::new(input));
        }
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

fn strip_compression_suffix(rel: &str) -> &str {
    for s in [".gz", ".zst", ".xz", ".bz2", ".tgz"] {
        if let Some(x) = rel.strip_suffix(s) {
            return x;
        }
    }
    rel
}

/// Stops a stream after `left` bytes (a decompression bomb guard), remembering that it did.
struct Bomb<R> {
    inner: R,
    left: u64,
    hit: bool,
}

impl<R: Read> Read for Bomb<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            self.hit = self.inner.read(&mut [0u8; 1])? > 0;
            return Ok(0);
        }
        let n = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Reads `bytes` as one input named `name`: the members with their text, skipped, warnings.
    fn read_as(name: &str, bytes: Vec<u8>) -> (Vec<(String, String)>, Vec<Skipped>, Vec<Skipped>) {
        let mut got = Vec::new();
        let (mut sk, mut wa) = (Vec::new(), Vec::new());
        let limits = Limits { max_depth: 4, max_member_bytes: 1 << 30 };
        let mut visit = |m: Member<'_>| {
            let mut b = Vec::new();
            m.reader.read_to_end(&mut b).expect("damage ends a member cleanly");
            let s = String::from_utf8(b).unwrap();
            let lines = s.split_inclusive('\n').count() as u64;
            got.push((m.display.to_string(), s));
            lines
        };
        Ctx::new(limits, &mut visit, &mut sk, &mut wa).stream(Box::new(Cursor::new(bytes)), name, name, None, 0);
        (got, sk, wa)
    }

    fn members(bytes: Vec<u8>) -> (Vec<(String, String)>, Vec<Skipped>, Vec<Skipped>) {
        read_as("in", bytes)
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        liblzma::read::XzEncoder::new(data, 1).read_to_end(&mut out).unwrap();
        out
    }

    fn bz2(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        bzip2::read::BzEncoder::new(data, bzip2::Compression::fast()).read_to_end(&mut out).unwrap();
        out
    }

    fn zst(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 3).unwrap()
    }

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_760_000_000);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// `n` numbered syslog-like lines.
    fn log_lines(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| {
                format!(
                    "Oct 13 19:51:{:02} node-a kernel: sd 2:0:0:1: [sdt] line {i} rejecting I/O to offline device\n",
                    i % 60
                )
            })
            .collect()
    }

    #[test]
    fn nested_compression_and_tar() {
        let inner = tar_of(&[("var/log/messages", b"a\n"), ("var/log/old.gz", &gz(b"b\n"))]);
        let zst = zstd::encode_all(Cursor::new(gz(&inner)), 1).unwrap();
        let (got, sk, wa) = members(zst);
        assert!(sk.is_empty() && wa.is_empty(), "{sk:?} {wa:?}");
        assert_eq!(got, vec![("in!var/log/messages".into(), "a\n".into()), ("in!var/log/old.gz".into(), "b\n".into())]);
    }

    #[test]
    fn all_codecs() {
        let data = b"line one\nline two\n";
        for bytes in [gz(data), xz(data), bz2(data), zst(data)] {
            let (got, sk, wa) = members(bytes);
            assert!(sk.is_empty() && wa.is_empty(), "{sk:?} {wa:?}");
            assert_eq!(got[0].1, "line one\nline two\n");
        }
    }

    #[test]
    fn traversal_names_are_only_displayed() {
        let t = tar_of(&[("ok.log", b"x\n")]);
        // Rewrite the member name to a traversal path after building (tar::Builder refuses "..").
        let mut t = t;
        let evil = b"../../etc/passwd";
        t[..100].fill(0);
        t[..evil.len()].copy_from_slice(evil);
        let mut h = tar::Header::from_byte_slice(&t[..512]).clone();
        h.set_cksum();
        t[..512].copy_from_slice(h.as_bytes());
        let (got, _, _) = members(t);
        assert_eq!(got[0].0, "in!../../etc/passwd");
        assert!(!Path::new("/etc/passwd.rootline-test").exists());
    }

    #[test]
    fn a_second_stream_cut_short_keeps_the_first_whole() {
        // Two streams back to back (what `cat a.gz b.gz`, logrotate's appends or a parallel
        // compressor make), the second cut in its middle: every codec keeps all of the first and
        // names the byte where the second stopped, which is past the first.
        let (first, second) = (log_lines(0, 30), log_lines(30, 400));
        for (codec, enc) in [("gzip", gz as fn(&[u8]) -> Vec<u8>), ("xz", xz), ("bzip2", bz2), ("zstd", zst)] {
            let a = enc(first.as_bytes());
            let mut bytes = a.clone();
            let b = enc(second.as_bytes());
            bytes.extend_from_slice(&b[..b.len() / 2]);
            let (got, sk, wa) = read_as("x.log.z", bytes.clone());
            assert!(sk.is_empty(), "{codec}: {sk:?}");
            assert!(got[0].1.starts_with(&first), "{codec}: the first stream is kept whole");
            assert!(format!("{first}{second}").starts_with(&got[0].1), "{codec}: nothing but the original comes out");
            assert_eq!(wa.len(), 1, "{codec}: {wa:?}");
            assert_eq!(wa[0].path, "x.log.z");
            let r = &wa[0].reason;
            let rest = r.strip_prefix(&format!("{codec} stream cut short at byte ")).unwrap_or_else(|| panic!("{r}"));
            let at: u64 = rest.split(' ').next().unwrap().replace(',', "").parse().unwrap();
            assert!(at > a.len() as u64 && at <= bytes.len() as u64, "{codec}: {at} not in the second stream ({r})");
            let kept = got[0].1.split_inclusive('\n').count();
            assert!(r.ends_with(&format!("kept the {kept} lines read before it")), "{codec}: {r}");
        }
    }

    #[test]
    fn a_small_truncated_gzip_gives_its_lines() {
        // The whole file fits the first read: the decoder fails on the very first fill. Everything
        // inflated before the cut is kept (as zcat prints it), with a warning naming the file.
        let text = log_lines(0, 40);
        let mut g = gz(text.as_bytes());
        g.truncate(g.len() * 3 / 4);
        let (got, sk, wa) = read_as("small.gz", g.clone());
        assert!(sk.is_empty(), "{sk:?}");
        assert_eq!(got.len(), 1);
        assert!(text.starts_with(&got[0].1));
        // What a plain streaming inflate gives of the same bytes, read to its error.
        let mut reference = Vec::new();
        let mut d = flate2::read::GzDecoder::new(&g[..]);
        let mut chunk = [0u8; 1];
        while let Ok(1) = d.read(&mut chunk) {
            reference.push(chunk[0]);
        }
        assert!(!reference.is_empty());
        assert_eq!(got[0].1.as_bytes(), &reference[..]);
        assert_eq!(wa.len(), 1, "{wa:?}");
        assert!(wa[0].path == "small.gz" && wa[0].reason.starts_with("gzip stream cut short at byte "), "{wa:?}");
    }

    #[test]
    fn damage_between_members_is_named_with_its_offset() {
        // A second gzip member whose header is wrong: the first is kept, the damage is at its end.
        let a = gz(log_lines(0, 5).as_bytes());
        let mut bytes = a.clone();
        bytes.extend_from_slice(b"\x1f\x8b\x99garbage that is no deflate stream at all");
        let (got, sk, wa) = read_as("two.gz", bytes);
        assert!(sk.is_empty(), "{sk:?}");
        assert_eq!(got[0].1, log_lines(0, 5));
        assert_eq!(wa.len(), 1, "{wa:?}");
        let r = &wa[0].reason;
        assert!(r.starts_with("gzip stream damaged at byte "), "{r}");
        assert!(r.ends_with("; kept the 5 lines read before it"), "{r}");
    }

    #[test]
    fn zeros_after_a_gzip_member_end_it_quietly() {
        let mut g = gz(b"one\n");
        g.extend_from_slice(&gz(b"two\n"));
        g.extend_from_slice(&[0u8; 700]);
        let (got, sk, wa) = read_as("padded.gz", g.clone());
        assert!(sk.is_empty() && wa.is_empty(), "{sk:?} {wa:?}");
        assert_eq!(got[0].1, "one\ntwo\n");
        // Bytes after the zeros that are no gzip member are damage, named as such.
        g.extend_from_slice(b"this is not a gzip member at all");
        let (got, _, wa) = read_as("padded.gz", g);
        assert_eq!(got[0].1, "one\ntwo\n");
        assert!(wa.len() == 1 && wa[0].reason.starts_with("gzip stream damaged at byte "), "{wa:?}");
    }

    #[test]
    fn nothing_readable_before_the_damage_is_skipped_once() {
        for bytes in [b"\x1f\x8b\x08\x00garbage".to_vec(), gz(b"one line\n")[..10].to_vec()] {
            let (got, sk, wa) = read_as("bad.gz", bytes);
            assert!(got.is_empty() && wa.is_empty(), "{got:?} {wa:?}");
            assert_eq!(sk.len(), 1, "one entry, not also an empty file: {sk:?}");
            assert!(sk[0].reason.starts_with(DAMAGED) && sk[0].reason.contains("gzip stream"), "{sk:?}");
        }
    }

    #[test]
    fn a_tar_cut_short_keeps_the_members_before_the_cut() {
        let (a, b) = (log_lines(0, 20), log_lines(20, 200));
        let t = tar_of(&[("var/log/a.log", a.as_bytes()), ("var/log/b.log", b.as_bytes())]);
        // Cut in the middle of b.log's data: a.log whole, b.log up to the cut.
        let cut = 512 + a.len().div_ceil(512) * 512 + 512 + b.len() / 2;
        let (got, sk, wa) = read_as("node.tar", t[..cut].to_vec());
        assert!(sk.is_empty(), "{sk:?}");
        assert_eq!(got[0], ("node.tar!var/log/a.log".into(), a.clone()));
        assert_eq!(got[1].0, "node.tar!var/log/b.log");
        assert!(b.starts_with(&got[1].1) && !got[1].1.is_empty());
        assert_eq!(wa.len(), 1, "{wa:?}");
        assert_eq!(wa[0].path, "node.tar");
        assert!(
            wa[0].reason.starts_with(&format!("tar archive cut short at byte {}", thousands(cut as u64))),
            "{wa:?}"
        );

        // The same archive compressed and cut: one warning, the compressor's, not the archive's too.
        let g = gz(&t);
        let (got, sk, wa) = read_as("node.tar.gz", g[..g.len() * 2 / 3].to_vec());
        assert!(sk.is_empty(), "{sk:?}");
        assert_eq!(got[0].1, a);
        assert_eq!(wa.len(), 1, "{wa:?}");
        assert!(wa[0].reason.starts_with("gzip stream cut short at byte "), "{wa:?}");
    }

    #[test]
    fn fifos_and_character_devices_given_by_name_are_streams() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("journal.fifo");
        let st = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(st.success());
        let mut skipped = Vec::new();
        // Named: read (enumerating does not open it, so no writer is needed here).
        let units = enumerate(&[fifo.clone(), PathBuf::from("/dev/null")], &mut skipped);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(units.len(), 2);
        assert!(matches!(&units[0].path, UnitPath::File(p) if *p == fifo));
        assert_eq!((units[0].display.as_str(), units[0].mtime), (fifo.to_str().unwrap(), None));
        assert_eq!(units[1].bundle, 1);
        // Inside a directory: not opened (with no writer it would wait forever).
        let units = enumerate(&[dir.path().to_path_buf()], &mut skipped);
        assert!(units.is_empty());
        assert!(skipped.len() == 1 && skipped[0].reason.contains("FIFO inside a directory"), "{skipped:?}");
    }

    #[test]
    fn binary_journal_is_skipped_with_advice() {
        let (got, sk, _) = members(b"LPKSHHRH\0\0\0\0rest".to_vec());
        assert!(got.is_empty());
        assert!(sk[0].reason.contains("journalctl"));
    }

    #[test]
    fn bomb_guard_cuts_and_warns() {
        let limits = Limits { max_depth: 4, max_member_bytes: 10 };
        let (mut sk, mut wa) = (Vec::new(), Vec::new());
        let mut n = 0;
        let mut visit = |m: Member<'_>| {
            let mut b = Vec::new();
            m.reader.read_to_end(&mut b).unwrap();
            n = b.len();
            1
        };
        Ctx::new(limits, &mut visit, &mut sk, &mut wa).stream(
            Box::new(Cursor::new(vec![b'a'; 100])),
            "b",
            "b",
            None,
            0,
        );
        assert_eq!(n, 10);
        assert_eq!(wa.len(), 1);
    }
}

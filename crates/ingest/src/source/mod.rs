//! Where lines come from: files, directories, stdin, compressed streams and tar archives.
//!
//! Every input argument becomes one *bundle* (a directory, an archive, a single file or stdin); a
//! bundle is expanded into *members* (the files inside it, at any depth, through any nesting of
//! compression and tar), each handed to a visitor as a stream. Nothing is ever written to disk and a
//! member's name inside an archive is only ever displayed, so no archive can write anywhere.
//! Compression and tar are recognised by their magic bytes, not by file names.

pub mod lines;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// A file or archive member that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Display path.
    pub path: String,
    /// A sentence saying why.
    pub reason: String,
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
            units.push(Unit { path: UnitPath::Stdin, display: "-".into(), rel: "-".into(), bundle, mtime: None });
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
            }),
            Ok(_) => skipped
                .push(Skipped { path: arg.display().to_string(), reason: "not a regular file or directory".into() }),
            Err(e) => skipped.push(Skipped { path: arg.display().to_string(), reason: format!("cannot read: {e}") }),
        }
    }
    units
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
            });
        } else {
            skipped.push(Skipped {
                path: p.display().to_string(),
                reason: "not a regular file (device, socket or fifo)".into(),
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

/// Opens a unit and hands each member to `visit`. Problems are returned as skipped entries or
/// warnings (`(path, message)`); nothing here aborts the run.
pub(crate) fn read_unit(
    unit: &Unit,
    limits: Limits,
    visit: &mut dyn FnMut(Member<'_>),
    skipped: &mut Vec<Skipped>,
    warnings: &mut Vec<Skipped>,
) {
    let reader: Box<dyn Read> = match &unit.path {
        UnitPath::Stdin => Box::new(io::stdin().lock()),
        UnitPath::File(p) => match File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                skipped.push(Skipped { path: unit.display.clone(), reason: format!("cannot open: {e}") });
                return;
            }
        },
    };
    let mut ctx = Ctx { limits, visit, skipped, warnings, unit_display_len: unit.display.len() };
    ctx.stream(reader, &unit.display, &unit.rel, unit.mtime, 0);
}

struct Ctx<'v> {
    limits: Limits,
    /// Length of the unit's own display path: a longer one is an archive member (`unit!member`).
    unit_display_len: usize,
    visit: &'v mut dyn FnMut(Member<'_>),
    skipped: &'v mut Vec<Skipped>,
    warnings: &'v mut Vec<Skipped>,
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

/// Reads up to `n` bytes (fewer only at end of stream or on error).
fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    let mut limited = r.take(n as u64);
    limited.read_to_end(&mut head)?;
    Ok(head)
}

impl Ctx<'_> {
    fn stream(&mut self, mut r: Box<dyn Read + '_>, display: &str, rel: &str, mtime: Option<i64>, depth: usize) {
        let head = match read_head(&mut r, 512) {
            Ok(h) => h,
            Err(e) => {
                self.skipped.push(Skipped { path: display.into(), reason: format!("cannot read: {e}") });
                return;
            }
        };
        let kind = sniff(&head);
        let whole: Box<dyn Read + '_> = Box::new(Cursor::new(head).chain(r));
        if depth > self.limits.max_depth && kind != Kind::Text {
            self.skipped.push(Skipped {
                path: display.into(),
                reason: format!("nested more than {} archives deep", self.limits.max_depth),
            });
            return;
        }
        let inner_rel = strip_compression_suffix(rel);
        match kind {
            Kind::Gzip => self.stream(Box::new(flate2::read::MultiGzDecoder::new(whole)), display, inner_rel, mtime, depth + 1),
            Kind::Bzip2 => self.stream(Box::new(bzip2::read::MultiBzDecoder::new(whole)), display, inner_rel, mtime, depth + 1),
            Kind::Xz => self.stream(Box::new(liblzma::read::XzDecoder::new_multi_decoder(whole)), display, inner_rel, mtime, depth + 1),
            Kind::Zstd => match zstd::stream::read::Decoder::new(whole) {
                Ok(d) => self.stream(Box::new(d), display, inner_rel, mtime, depth + 1),
                Err(e) => self.skipped.push(Skipped { path: display.into(), reason: format!("cannot start zstd decoder: {e}") }),
            },
            Kind::Tar => self.tar(whole, display, depth),
            Kind::SystemdJournal => self.skipped.push(Skipped {
                path: display.into(),
                reason: "binary systemd journal file: export it with `journalctl --file FILE -o export` (or -o json) and read that".into(),
            }),
            Kind::Text => {
                // Hand the reader's first fill a full sample (format detection reads whole lines from
                // it), not just the 512 bytes sniffed above.
                let mut whole = whole;
                let sample = read_head(&mut whole, SAMPLE_BYTES).unwrap_or_default();
                let whole: Box<dyn Read + '_> = Box::new(Cursor::new(sample).chain(whole));
                let limited = Bomb { inner: whole, left: self.limits.max_member_bytes, hit: false };
                let mut br = BufReader::with_capacity(256 * 1024, limited);
                let archived = display.len() > self.unit_display_len;
                (self.visit)(Member { display, rel, mtime, archived, reader: &mut br });
                if br.get_ref().hit {
                    self.warnings.push(Skipped {
                        path: display.into(),
                        reason: format!("cut after {} decompressed bytes (limit)", self.limits.max_member_bytes),
                    });
                }
            }
        }
    }

    fn tar(&mut self, r: Box<dyn Read + '_>, display: &str, depth: usize) {
        let mut ar = tar::Archive::new(r);
        let entries = match ar.entries() {
            Ok(e) => e,
            Err(e) => {
                self.skipped.push(Skipped { path: display.into(), reason: format!("cannot read tar archive: {e}") });
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.warnings.push(Skipped {
                        path: display.into(),
                        reason: format!("archive damaged, stopped reading it: {e}"),
                    });
                    return;
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
            self.stream(Box::new(entry), &member_display, &name, mtime, depth + 1);
        }
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

    fn members(bytes: Vec<u8>) -> (Vec<(String, String)>, Vec<Skipped>, Vec<Skipped>) {
        let mut got = Vec::new();
        let (mut sk, mut wa) = (Vec::new(), Vec::new());
        let limits = Limits { max_depth: 4, max_member_bytes: 1 << 30 };
        let mut visit = |m: Member<'_>| {
            let mut s = String::new();
            let _ = m.reader.read_to_string(&mut s);
            got.push((m.display.to_string(), s));
        };
        let mut ctx = Ctx { limits, visit: &mut visit, skipped: &mut sk, warnings: &mut wa, unit_display_len: 0 };
        ctx.stream(Box::new(Cursor::new(bytes)), "in", "in", None, 0);
        (got, sk, wa)
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
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
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&data[..], 1).read_to_end(&mut xz).unwrap();
        let mut bz = Vec::new();
        bzip2::read::BzEncoder::new(&data[..], bzip2::Compression::fast()).read_to_end(&mut bz).unwrap();
        for bytes in [gz(data), xz, bz, zstd::encode_all(&data[..], 3).unwrap()] {
            let (got, _, _) = members(bytes);
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
    fn truncated_gzip_gives_a_warning_not_an_abort() {
        let mut g = gz(&b"x".repeat(100_000));
        g.truncate(g.len() / 2);
        let mut got = 0usize;
        let mut err = None;
        let limits = Limits { max_depth: 4, max_member_bytes: 1 << 30 };
        let (mut sk, mut wa) = (Vec::new(), Vec::new());
        let mut visit = |m: Member<'_>| {
            let mut buf = Vec::new();
            if let Err(e) = m.reader.read_to_end(&mut buf) {
                err = Some(e);
            }
            got = buf.len();
        };
        Ctx { limits, visit: &mut visit, skipped: &mut sk, warnings: &mut wa, unit_display_len: 0 }.stream(
            Box::new(Cursor::new(g)),
            "t.gz",
            "t.gz",
            None,
            0,
        );
        assert!(err.is_some(), "a truncated stream reports an error to the reader");
        let _ = got;
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
        };
        Ctx { limits, visit: &mut visit, skipped: &mut sk, warnings: &mut wa, unit_display_len: 0 }.stream(
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

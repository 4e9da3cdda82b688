//! Where the node's state is read from: the live `/proc` and `/sys`, a captured tree on disk
//! (`--root DIR`, e.g. an unpacked bundle), or a bundle archive read into memory.
//!
//! Every path is written as on the live system (`/proc/1/stat`, `/sys/block/dm-0/dm/name`); the root
//! decides where it really comes from. Reads are capped ([`MAX_READ`]) and never touch a block device:
//! callers only ask for /proc and /sys attributes.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// The most bytes read from one file (a /proc or /sys attribute is far smaller).
pub const MAX_READ: u64 = 1 << 20;

/// The outcome of a read that may block on a sick task.
#[derive(Debug)]
pub enum Guarded {
    Read(Vec<u8>),
    Failed(io::Error),
    /// The read did not finish within its deadline; a worker thread was left waiting on it.
    TimedOut,
}

/// A source of /proc and /sys state.
#[derive(Debug)]
pub enum Root {
    /// The running system.
    Live,
    /// The running system seen through a directory where its `/proc` and `/sys` are mounted (a
    /// container with the host's `/proc` at `/host/proc`): read as live, with the same guards and
    /// commands. `/proc/self/...` is read as `/proc/1/...`: the host's init, whose mount table is
    /// the host's (the reader's own would be the container's).
    Host(PathBuf),
    /// A captured tree: `DIR/proc/...`, `DIR/sys/...`, and in a bundle `DIR/commands/...`.
    Dir(PathBuf),
    /// A captured tree read out of a bundle archive.
    Mem(MemTree),
}

/// Files and symbolic links of a captured tree, by absolute path (`/proc/1/stat`).
#[derive(Debug, Default)]
pub struct MemTree {
    files: BTreeMap<String, Entry>,
}

#[derive(Debug)]
enum Entry {
    File(Vec<u8>),
    Link(String),
}

impl Root {
    /// The captured tree at `path`: a directory, or a bundle archive (`.tar`, `.tar.zst`, `.tar.gz`).
    pub fn open(path: &Path) -> io::Result<Root> {
        let meta = std::fs::metadata(path)?;
        if meta.is_dir() {
            return Ok(Root::Dir(path.to_path_buf()));
        }
        Ok(Root::Mem(MemTree::from_archive(std::fs::File::open(path)?)?))
    }

    /// The running system (directly or through [`Root::Host`]): commands run, reads are guarded.
    pub fn is_live(&self) -> bool {
        matches!(self, Root::Live | Root::Host(_))
    }

    fn real(&self, dir: &Path, path: &str) -> PathBuf {
        dir.join(path.trim_start_matches('/'))
    }

    /// Where a live path is really read: itself, or under the [`Root::Host`] directory.
    fn live_path(&self, path: &str) -> PathBuf {
        match self {
            Root::Host(d) => match path.strip_prefix("/proc/self/") {
                Some(rest) => d.join("proc/1").join(rest),
                None => self.real(d, path),
            },
            _ => PathBuf::from(path),
        }
    }

    /// Reads a whole (small) file.
    pub fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        match self {
            Root::Live | Root::Host(_) => read_capped(&self.live_path(path)),
            Root::Dir(d) => read_capped(&self.real(d, path)),
            Root::Mem(t) => match t.files.get(path) {
                Some(Entry::File(b)) => Ok(b.clone()),
                Some(Entry::Link(_)) => Err(io::Error::other("is a symbolic link")),
                None => Err(io::ErrorKind::NotFound.into()),
            },
        }
    }

    /// Reads a file as trimmed text; `None` when missing or unreadable.
    pub fn text(&self, path: &str) -> Option<String> {
        let b = self.read(path).ok()?;
        Some(String::from_utf8_lossy(&b).trim().to_string())
    }

    /// The names in a directory, sorted; empty when it does not exist.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = match self {
            Root::Live | Root::Host(_) | Root::Dir(_) => {
                let p = match self {
                    Root::Dir(d) => self.real(d, dir),
                    _ => self.live_path(dir),
                };
                match std::fs::read_dir(p) {
                    Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
                    Err(_) => Vec::new(),
                }
            }
            Root::Mem(t) => {
                let prefix = format!("{}/", dir.trim_end_matches('/'));
                let mut v: Vec<String> = t
                    .files
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| k[prefix.len()..].split('/').next().map(str::to_string))
                    .collect();
                v.dedup();
                v
            }
        };
        names.sort();
        names
    }

    /// The target of a symbolic link (`/proc/PID/fd/3` -> `/dev/dm-0`).
    pub fn link(&self, path: &str) -> Option<String> {
        match self {
            Root::Live | Root::Host(_) => {
                std::fs::read_link(self.live_path(path)).ok().map(|p| p.to_string_lossy().into_owned())
            }
            Root::Dir(d) => std::fs::read_link(self.real(d, path)).ok().map(|p| p.to_string_lossy().into_owned()),
            Root::Mem(t) => match t.files.get(path) {
                Some(Entry::Link(l)) => Some(l.clone()),
                _ => None,
            },
        }
    }

    /// Reads a file that can block on a sick task (`/proc/PID/cmdline` waits for the task's memory
    /// map lock): on the live system in a worker thread, abandoned when `timeout` passes.
    pub fn read_guarded(&self, path: &str, timeout: Duration) -> Guarded {
        if !self.is_live() {
            return match self.read(path) {
                Ok(b) => Guarded::Read(b),
                Err(e) => Guarded::Failed(e),
            };
        }
        let (tx, rx) = mpsc::channel();
        let p = self.live_path(path);
        let spawned = std::thread::Builder::new().name("guarded-read".into()).spawn(move || {
            let _ = tx.send(read_capped(&p));
        });
        if let Err(e) = spawned {
            return Guarded::Failed(e);
        }
        match rx.recv_timeout(timeout) {
            Ok(Ok(b)) => Guarded::Read(b),
            Ok(Err(e)) => Guarded::Failed(e),
            Err(_) => Guarded::TimedOut,
        }
    }

    /// A captured command output (`commands/<argv joined by _>.txt` of a bundle), when this root is one.
    pub fn captured_command(&self, file_name: &str) -> Option<Vec<u8>> {
        let path = format!("/commands/{file_name}");
        match self {
            Root::Live | Root::Host(_) => None,
            _ => self.read(&path).ok(),
        }
    }
}

fn read_capped(path: &Path) -> io::Result<Vec<u8>> {
    let mut b = Vec::new();
    std::fs::File::open(path)?.take(MAX_READ).read_to_end(&mut b)?;
    Ok(b)
}

/// The file a bundle's top folder is recognised by.
pub const MANIFEST_NAME: &str = "rootline-manifest.json";

impl MemTree {
    /// Reads the state part of a bundle (`proc/`, `sys/`, `commands/`, `snapshots/`, `etc/`, the
    /// manifest) from a tar stream, plain or compressed (zstd, gzip: told by their magic bytes).
    /// Logs are not kept.
    pub fn from_archive(file: impl Read) -> io::Result<MemTree> {
        let mut r = io::BufReader::new(file);
        let magic = {
            use std::io::BufRead;
            r.fill_buf()?.get(..4).map(<[u8]>::to_vec).unwrap_or_default()
        };
        let inner: Box<dyn Read> = if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Box::new(zstd::Decoder::with_buffer(r)?)
        } else if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(r))
        } else {
            Box::new(r)
        };
        let mut tree = MemTree::default();
        let mut raw: Vec<(String, Entry)> = Vec::new();
        let mut archive = tar::Archive::new(inner);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry.path()?.to_string_lossy().trim_start_matches("./").to_string();
            let kind = entry.header().entry_type();
            if kind.is_symlink() {
                if let Some(target) = entry.link_name()? {
                    raw.push((path, Entry::Link(target.to_string_lossy().into_owned())));
                }
            } else if kind.is_file() {
                let keep = ["proc/", "sys/", "commands/", "snapshots/", "etc/", MANIFEST_NAME]
                    .iter()
                    .any(|k| path.contains(k));
                if keep && entry.size() <= MAX_READ {
                    let mut b = Vec::with_capacity(entry.size() as usize);
                    entry.read_to_end(&mut b)?;
                    raw.push((path, Entry::File(b)));
                }
            }
        }
        // A bundle roots everything under one folder: the one holding the manifest.
        let top = raw.iter().find_map(|(p, _)| p.strip_suffix(MANIFEST_NAME)).map(str::to_string).unwrap_or_default();
        for (p, e) in raw {
            if let Some(rest) = p.strip_prefix(&top) {
                tree.files.insert(format!("/{rest}"), e);
            }
        }
        if tree.files.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no /proc or /sys state found in the archive"));
        }
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_root_reads_lists_and_follows_links() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sys/block/dm-0/slaves")).unwrap();
        std::fs::write(d.path().join("sys/block/dm-0/dev"), "254:0\n").unwrap();
        std::os::unix::fs::symlink("../../sda", d.path().join("sys/block/dm-0/slaves/sda")).unwrap();
        let r = Root::Dir(d.path().to_path_buf());
        assert_eq!(r.text("/sys/block/dm-0/dev").as_deref(), Some("254:0"));
        assert_eq!(r.list("/sys/block/dm-0/slaves"), vec!["sda"]);
        assert_eq!(r.list("/sys/block/missing"), Vec::<String>::new());
        assert_eq!(r.link("/sys/block/dm-0/slaves/sda").as_deref(), Some("../../sda"));
        assert!(matches!(r.read_guarded("/sys/block/dm-0/dev", Duration::from_millis(10)), Guarded::Read(_)));
    }

    #[test]
    fn host_root_reads_under_its_directory_and_self_as_init() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proc/1")).unwrap();
        std::fs::create_dir_all(d.path().join("sys/block/sda/device")).unwrap();
        std::fs::write(d.path().join("proc/1/mountinfo"), "36 25 254:0 / /data rw - ext4 /dev/dm-0 rw\n").unwrap();
        std::fs::write(d.path().join("sys/block/sda/device/state"), "offline\n").unwrap();
        let r = Root::Host(d.path().to_path_buf());
        assert!(r.is_live());
        assert_eq!(r.text("/sys/block/sda/device/state").as_deref(), Some("offline"));
        assert!(r.text("/proc/self/mountinfo").is_some_and(|m| m.contains("/data")));
        assert_eq!(r.list("/sys/block"), vec!["sda"]);
        assert!(r.captured_command("dmsetup_status.txt").is_none());
        assert!(matches!(r.read_guarded("/proc/1/mountinfo", Duration::from_secs(5)), Guarded::Read(_)));
    }

    #[test]
    fn live_guarded_read_returns_data() {
        match Root::Live.read_guarded("/proc/self/stat", Duration::from_secs(5)) {
            Guarded::Read(b) => assert!(b.contains(&b')')),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn archive_root_strips_the_bundle_folder() {
        let mut tar_bytes = Vec::new();
        {
            let mut b = tar::Builder::new(&mut tar_bytes);
            let mut add = |path: &str, data: &[u8]| {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, path, data).unwrap();
            };
            add("rootline-h-1/rootline-manifest.json", b"{}");
            add("rootline-h-1/proc/7/stat", b"7 (dd) D 1 7 7 0 -1 0");
            add("rootline-h-1/logs/messages", b"not kept");
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_cksum();
            b.append_link(&mut h, "rootline-h-1/proc/7/fd/3", "/dev/dm-0").unwrap();
            b.finish().unwrap();
        }
        let z = zstd::encode_all(&tar_bytes[..], 3).unwrap();
        let t = MemTree::from_archive(&z[..]).unwrap();
        let r = Root::Mem(t);
        assert_eq!(r.text("/proc/7/stat").as_deref(), Some("7 (dd) D 1 7 7 0 -1 0"));
        assert_eq!(r.list("/proc"), vec!["7"]);
        assert_eq!(r.list("/proc/7/fd"), vec!["3"]);
        assert_eq!(r.link("/proc/7/fd/3").as_deref(), Some("/dev/dm-0"));
        assert!(r.read("/logs/messages").is_err());
        assert!(MemTree::from_archive(&b"garbage that is not a tar"[..]).is_err());
    }
}

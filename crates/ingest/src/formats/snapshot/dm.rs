//! dmsetup output: `ls`, `ls --tree`, `table`, `status`, `info`, `deps`.
//!
//! - `ls`: `mpatha\t(253:2)` (older releases: `(253, 2)`);
//! - `ls --tree`: a device, then what it is built on, one level deeper each
//!   (`mpatha (253:2)`, ` ├─ (8:32)`, ` └─ (8:48)`; ASCII `|-`/`` `- `` with `-o ascii`, optional
//!   `[ACTIVE, RW, ...]` attributes after the device number);
//! - `table` / `status`: `name: <start> <length> <target> <args>` (without the name for one device);
//!   a multipath target's status lists each path as `<major:minor> <A|F> <fail count>`;
//! - `info`: blocks of `Name:`, `State:`, `Read Ahead:`, `Tables present:`, `Open count:`,
//!   `Event number:`, `Major, minor:`, `Number of targets:`, `UUID:` lines;
//! - `deps`: `name: 2 dependencies\t: (8, 32) (8, 48)` (or ` (sdc) (sdd)` with `-o devname`).
//!
//! See: lvm2 `libdm/dm-tools/dmsetup.c` (`_display_info_long`, `_deps`, `_display_tree_node`,
//! `_tsym_ascii`/`_tsym_utf`), the kernel's `drivers/md/dm-mpath.c` (`multipath_status`) and
//! Documentation/admin-guide/device-mapper/dm-multipath (status format).

use super::{trim, words};
use super::{LinePos, PRec};
use crate::formats::util::parse_u64;

fn is_devt(w: &[u8]) -> bool {
    match memchr::memchr(b':', w) {
        Some(c) => parse_u64(&w[..c]).is_some() && parse_u64(&w[c + 1..]).is_some(),
        None => false,
    }
}

/// `(253:2)` or `(253, 2)` -> `253:2`.
fn paren_devt(b: &[u8]) -> Option<String> {
    let inner = b.strip_prefix(b"(")?.strip_suffix(b")")?;
    if is_devt(inner) {
        return Some(String::from_utf8_lossy(inner).into_owned());
    }
    let (a, c) = inner.split_at(memchr::memchr(b',', inner)?);
    let (ma, mi) = (parse_u64(trim(a))?, parse_u64(trim(&c[1..]))?);
    Some(format!("{ma}:{mi}"))
}

/// `dmsetup ls` line -> (name, devt).
pub(crate) fn ls(line: &[u8]) -> Option<(&[u8], String)> {
    if matches!(line.first(), None | Some(b' ' | b'\t')) {
        return None;
    }
    let w = words(line);
    let name = w.first()?.1;
    let rest = trim(&line[w.first()?.0 + name.len()..]);
    if rest.contains(&b'[') {
        return None; // a tree line with attributes
    }
    Some((name, paren_devt(rest)?))
}

/// A `dmsetup ls --tree` line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TreeLine<'a> {
    /// 0 for a top-level device.
    pub depth: usize,
    /// Empty for a device that is not a device-mapper device (a path: ` ├─ (8:32)`).
    pub name: &'a [u8],
    pub devt: String,
}

/// Reads a `dmsetup ls --tree` line.
pub(crate) fn tree(line: &[u8]) -> Option<TreeLine<'_>> {
    // The drawing: spaces, `│`, `├─`, `└─`, `|`, `|-`, `` `- ``.
    let mut i = 0;
    let mut drawn = false;
    while i < line.len() {
        let rest = &line[i..];
        let step = if rest.starts_with("├─".as_bytes()) || rest.starts_with("└─".as_bytes()) {
            drawn = true;
            6
        } else if rest.starts_with("│".as_bytes()) {
            3
        } else if rest.starts_with(b"|-") || rest.starts_with(b"`-") {
            drawn = true;
            2
        } else if rest[0] == b' ' || rest[0] == b'|' {
            1
        } else {
            break;
        };
        i += step;
    }
    let body = &line[i..];
    let (name, devpart) = match memchr::memchr(b'(', body) {
        Some(p) => (trim(&body[..p]), &body[p..]),
        None => return None,
    };
    let close = memchr::memchr(b')', devpart)?;
    let devt = paren_devt(&devpart[..close + 1])?;
    let after = trim(&devpart[close + 1..]);
    if !(after.is_empty() || (after.starts_with(b"[") && after.ends_with(b"]"))) || name.contains(&b' ') {
        return None;
    }
    if !drawn && (i > 0 || name.is_empty()) {
        return None;
    }
    // Each level of the drawing is three columns wide (` ├─`), counted in characters.
    let chars = std::str::from_utf8(&line[..i]).map(|s| s.chars().count()).unwrap_or(i);
    let depth = if drawn { (chars + 1) / 3 } else { 0 };
    Some(TreeLine { depth, name, devt })
}

/// `name: 0 2097152 multipath ...` (or `0 2097152 linear 8:3 2048` for one device) -> (name, target,
/// args).
pub(crate) fn line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (name, rest) = match memchr::memmem::find(line, b": ") {
        Some(c) if c > 0 && memchr::memchr(b' ', &line[..c]).is_none() => (&line[..c], &line[c + 2..]),
        _ => (&b""[..], line),
    };
    let w = words(rest);
    if w.len() < 3 || parse_u64(w[0].1).is_none() || parse_u64(w[1].1).is_none() {
        return None;
    }
    let target = w[2].1;
    if !target.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_') {
        return None;
    }
    let args = trim(&rest[w[2].0 + target.len()..]);
    Some((name, target, args))
}

/// The devices a table line's arguments name (`8:32`, `65:48`).
pub(crate) fn table_deps(args: &[u8]) -> Vec<&[u8]> {
    words(args).into_iter().map(|w| w.1).filter(|w| is_devt(w)).collect()
}

/// A multipath target's status arguments -> each path's device and whether it is active.
/// `2 0 1 0 2 1 E 0 1 2 8:0 F 1 0 1 E 0 1 2 8:16 F 1 0 1`: feature count and features, handler
/// count and args, group count, next group, then per group its state, selector status args, path
/// count, per-path arg count, and per path `devt A|F fail_count` plus those args.
pub(crate) fn mpath_status(args: &[u8]) -> Option<Vec<(&[u8], bool)>> {
    let w: Vec<&[u8]> = words(args).into_iter().map(|x| x.1).collect();
    let num = |i: usize| w.get(i).and_then(|x| parse_u64(x)).map(|n| n as usize);
    let mut i = 0;
    i += 1 + num(i)?; // features
    i += 1 + num(i)?; // hardware handler
    let groups = num(i)?;
    i += 2; // group count, next group
    let mut out = Vec::new();
    for _ in 0..groups.min(64) {
        if !matches!(w.get(i).copied(), Some(b"A" | b"E" | b"D")) {
            return None;
        }
        i += 1;
        i += 1 + num(i)?; // selector status args
        let paths = num(i)?;
        let per = num(i + 1)?;
        i += 2;
        for _ in 0..paths.min(1024) {
            let dev = *w.get(i)?;
            let st = *w.get(i + 1)?;
            if !matches!(st, b"A" | b"F") {
                return None;
            }
            out.push((dev, st == b"A"));
            i += 3 + per;
        }
    }
    Some(out)
}

/// `dmsetup deps` line -> (name, the devices it depends on).
pub(crate) fn deps(line: &[u8]) -> Option<(&[u8], Vec<String>)> {
    let at = memchr::memmem::find(line, b" dependencies")?;
    let head = trim(&line[..at]);
    let (name, count) = match memchr::memmem::rfind(head, b": ") {
        Some(c) => (&head[..c], trim(&head[c + 2..])),
        None => (&b""[..], head),
    };
    parse_u64(count)?;
    let rest = &line[at..];
    let colon = memchr::memchr(b':', rest)?;
    let mut out = Vec::new();
    let mut r = &rest[colon + 1..];
    while let Some(open) = memchr::memchr(b'(', r) {
        let close = memchr::memchr(b')', &r[open..])? + open;
        let item = &r[open..=close];
        out.push(paren_devt(item).unwrap_or_else(|| String::from_utf8_lossy(&item[1..item.len() - 1]).into_owned()));
        r = &r[close + 1..];
    }
    Some((name, out))
}

/// The field a `dmsetup info` line feeds: (field, value).
pub(crate) fn info_line(line: &[u8]) -> Option<(&'static str, String)> {
    let c = memchr::memchr(b':', line)?;
    let key = &line[..c];
    let v = trim(&line[c + 1..]);
    let val = String::from_utf8_lossy(v).into_owned();
    Some(match key {
        b"Name" => ("map", val),
        b"State" => ("dm_state", val.split_whitespace().next().unwrap_or("").to_string()),
        b"Tables present" => ("tables", val),
        b"Open count" => ("open", val),
        b"Event number" => ("event", val),
        b"Number of targets" => ("targets", val),
        b"UUID" => ("uuid", val),
        b"Major, minor" => {
            let (a, b) = val.split_once(',')?;
            ("devt", format!("{}:{}", a.trim(), b.trim()))
        }
        b"Read Ahead" => ("read_ahead", val),
        _ => return None,
    })
}

impl super::SnapshotParser {
    pub(super) fn dm_tree(&mut self, at: LinePos, line: &[u8]) -> bool {
        let Some(tl) = tree(line) else { return false };
        while self.dm_tree.last().is_some_and(|(d, _)| *d >= tl.depth) {
            self.dm_tree.pop();
        }
        let parent = self.dm_tree.last().map(|(_, i)| *i);
        if let Some(pi) = parent {
            let p = &mut self.pending[pi];
            match p.fields.iter_mut().find(|(k, _)| *k == "deps") {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(&tl.devt);
                }
                None => p.set("deps", tl.devt.clone()),
            }
        }
        if tl.name.is_empty() {
            match self.pending.last_mut() {
                Some(p) => p.tail.push((at, line.to_vec())),
                None => return false,
            }
            return true;
        }
        let mut p = PRec::new(at, trim(line));
        p.set("map", String::from_utf8_lossy(tl.name));
        p.set("devt", tl.devt);
        if let Some(pi) = parent {
            if let Some(h) = self.pending[pi].get("map").map(str::to_string) {
                p.set("holder", h);
            }
        }
        self.pending.push(p);
        self.dm_tree.push((tl.depth, self.pending.len() - 1));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_and_tree() {
        assert_eq!(ls(b"mpathb\t(253:21)"), Some((&b"mpathb"[..], "253:21".into())));
        assert_eq!(ls(b"mpathb\t(253, 21)"), Some((&b"mpathb"[..], "253:21".into())));
        assert_eq!(ls(b"No devices found"), None);
        assert_eq!(tree(b"mpatha (253:2)"), Some(TreeLine { depth: 0, name: b"mpatha", devt: "253:2".into() }));
        assert_eq!(tree(" ├─ (8:32)".as_bytes()), Some(TreeLine { depth: 1, name: b"", devt: "8:32".into() }));
        assert_eq!(tree(" └─mpatha (253:0)".as_bytes()).map(|t| t.depth), Some(1));
        assert_eq!(tree("    └─ (8:16)".as_bytes()).map(|t| t.depth), Some(2));
        assert_eq!(tree(b" `- (8:16)").map(|t| t.depth), Some(1));
        assert_eq!(tree(b"vg-lv (253:3) [ACTIVE, RW]").map(|t| t.devt), Some("253:3".into()));
        assert_eq!(tree(b"hello (world)"), None);
        assert_eq!(tree(b"  (8:16)"), None);
    }

    #[test]
    fn table_status_deps_info() {
        let (n, t, a) =
            line(b"mpathb: 0 2097152 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 65:32 1 65:48 1")
                .unwrap();
        assert_eq!((n, t), (&b"mpathb"[..], &b"multipath"[..]));
        assert_eq!(table_deps(a), vec![&b"65:32"[..], b"65:48"]);
        let (_, _, a) =
            line(b"mpatha: 0 131072 multipath 2 0 1 0 2 1 E 0 1 2 8:0 F 1 0 1 E 0 1 2 8:16 F 1 0 1 ").unwrap();
        assert_eq!(mpath_status(a), Some(vec![(&b"8:0"[..], false), (&b"8:16"[..], false)]));
        let (_, _, a) = line(b"mpathb: 0 2097152 multipath 2 0 0 0 1 1 A 0 2 0 65:32 A 0 65:48 F 3").unwrap();
        assert_eq!(mpath_status(a), Some(vec![(&b"65:32"[..], true), (&b"65:48"[..], false)]));
        assert_eq!(mpath_status(b"garbage"), None);
        assert_eq!(line(b"0 209715200 linear 8:3 2048").map(|l| l.1), Some(&b"linear"[..]));
        assert_eq!(
            deps(b"mpatha: 2 dependencies\t: (8, 32) (8, 48)"),
            Some((&b"mpatha"[..], vec!["8:32".into(), "8:48".into()]))
        );
        assert_eq!(deps(b" 2 dependencies\t: (sdc) (sdd)"), Some((&b""[..], vec!["sdc".into(), "sdd".into()])));
        assert_eq!(info_line(b"Major, minor:      253, 2"), Some(("devt", "253:2".into())));
        assert_eq!(info_line(b"State:             SUSPENDED"), Some(("dm_state", "SUSPENDED".into())));
    }
}

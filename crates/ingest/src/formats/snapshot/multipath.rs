//! multipath-tools output: `multipath -ll` / `multipathd show topology` maps, and the stamps
//! multipath and multipathd put before their own messages.
//!
//! A map (the same layout from 0.4.9 in RHEL 7 to 0.14):
//! ```text
//! mpatha (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-2 LIO-ORG,TCMU device
//! size=1.0G features='1 queue_if_no_path' hwhandler='1 alua' wp=rw
//! |-+- policy='service-time 0' prio=50 status=active
//! | `- 3:0:0:1 sdc 8:32 active ready running
//! `-+- policy='service-time 0' prio=10 status=enabled
//!   `- 4:0:0:1 sdd 8:48 failed faulty offline
//! ```
//! The header is `[<action>: ]<alias>[ (<wwid>)] <dm-N|undef> <vendor>,<product>`: the wwid is left
//! out when the alias is the wwid, the action (`create`, `reload`, `switchpg`, `rename`, `reject`,
//! `resize`) is printed at verbosity 2 when multipath changed the map, and `undef` stands for a map
//! not (yet) in the kernel. On a terminal the header is wrapped in bold escapes. Path lines are
//! `<hcil> <dev> <dev_t> <dm_st> <chk_st> <dev_st>`, each padded to its column's width; the checker
//! state may be two words (`i/o pending`, `i/o timeout`); a path without a device reads `#:#:#:#`.
//!
//! Stamps: with `-v3` and up, and for messages of `multipath -f`, lines start with
//! `<seconds>.<microseconds> | ` from CLOCK_MONOTONIC (multipath-tools 0.8.6 and later, commit
//! f96fcaf4 "avoid access to /etc/localtime"), before that with the local time `Mmm dd HH:MM:SS | `.
//!
//! See: multipath-tools `libmultipath/print.c` (`snprint_multipath_topology`,
//! `snprint_multipath_style`, `PRINT_MAP_PROPS`, `PRINT_PG_INDENT`, `PRINT_PATH_INDENT`,
//! `snprint_chk_state`, `snprint_dm_path_state`, `snprint_offline`), `libmultipath/configure.h`
//! (`ACT_*_STR`), `libmpathutil/debug.c` (`dlog`).

use super::{trim, words};
use super::{LinePos, PRec, Sink};
use crate::formats::util::parse_u64;
use crate::time::civil::{parse_bsd, parse_fraction};
use crate::time::RawTime;

/// A stamp multipath put before its message: the time and where the message starts.
pub(crate) fn stamp(line: &[u8]) -> Option<(RawTime, usize)> {
    let dot = line.iter().take(12).position(|c| *c == b'.').unwrap_or(0);
    if dot > 0 {
        if let Some(secs) = parse_u64(&line[..dot]) {
            let (frac, n) = parse_fraction(&line[dot + 1..]);
            if n == 6 && line[dot + 7..].starts_with(b" | ") && secs < 1 << 32 {
                return Some((RawTime::Boot { nanos: secs as i64 * 1_000_000_000 + frac }, dot + 10));
            }
            return None;
        }
    }
    let (t, n) = parse_bsd(line)?;
    line[n..].starts_with(b" | ").then_some((t, n + 3))
}

/// A map header's parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub action: Option<&'a [u8]>,
    pub map: &'a [u8],
    pub wwid: &'a [u8],
    pub dm: Option<&'a [u8]>,
    pub vendor: Option<&'a [u8]>,
    pub product: Option<&'a [u8]>,
}

const ACTIONS: &[&[u8]] = &[b"create", b"reload", b"switchpg", b"rename", b"reject", b"resize", b"unchanged"];

fn is_dm(x: &[u8]) -> bool {
    x.strip_prefix(b"dm-").is_some_and(|n| parse_u64(n).is_some())
}

/// Reads a map header line.
pub(crate) fn header(line: &[u8]) -> Option<Header<'_>> {
    if matches!(line.first(), None | Some(b' ' | b'\t' | b'|' | b'`')) {
        return None;
    }
    let mut w = words(line);
    let mut action = None;
    if let Some(a) = w.first().and_then(|x| x.1.strip_suffix(b":")) {
        if ACTIONS.contains(&a) {
            action = Some(a);
            w.remove(0);
        }
    }
    if w.len() < 3 {
        return None;
    }
    let (map, wwid, dm_at) = if w[1].1.len() > 2 && w[1].1.starts_with(b"(") && w[1].1.ends_with(b")") {
        (w[0].1, &w[1].1[1..w[1].1.len() - 1], 2)
    } else {
        (w[0].1, w[0].1, 1)
    };
    let dm = w.get(dm_at)?.1;
    if !is_dm(dm) && dm != b"undef" {
        return None;
    }
    // `VENDOR,PRODUCT` (the product may hold spaces: `TCMU device`, `LUN C-Mode`).
    let vp = w.get(dm_at + 1).map(|x| trim(&line[x.0..]));
    let (vendor, product) = match vp.and_then(|v| memchr::memchr(b',', v).map(|c| (v, c))) {
        Some((v, c)) => (Some(trim(&v[..c])), Some(trim(&v[c + 1..]))),
        // Without the vendor the line is a header only when the wwid was in parentheses.
        None if dm_at == 2 && is_dm(dm) => (None, None),
        None => return None,
    };
    if !wwid.iter().all(|c| c.is_ascii_alphanumeric() || b"_-.:".contains(c)) {
        return None;
    }
    Some(Header { action, map, wwid, dm: is_dm(dm).then_some(dm), vendor, product })
}

/// `size=1.0G features='1 queue_if_no_path' hwhandler='1 alua' wp=rw` -> (key, value) pairs.
pub(crate) fn props(line: &[u8]) -> Option<Vec<(&'static str, &[u8])>> {
    let t = trim(line);
    if !t.starts_with(b"size=") {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let eq = memchr::memchr(b'=', rest)?;
        let key = trim(&rest[..eq]);
        let v = &rest[eq + 1..];
        let (val, next) = if let Some(q) = v.strip_prefix(b"'") {
            let end = memchr::memchr(b'\'', q).unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(b""))
        } else {
            let end = memchr::memchr(b' ', v).unwrap_or(v.len());
            (&v[..end], &v[end..])
        };
        let k = match key {
            b"size" => "size",
            b"features" => "features",
            b"hwhandler" => "hwhandler",
            b"wp" => "wp",
            _ => "",
        };
        if !k.is_empty() {
            out.push((k, val));
        }
        rest = trim(next);
    }
    Some(out)
}

/// A path group line: `|-+- policy='service-time 0' prio=50 status=active`.
pub(crate) fn is_policy(line: &[u8]) -> bool {
    let t = trim(line);
    (t.starts_with(b"|-+- ") || t.starts_with(b"`-+- ")) && memchr::memmem::find(t, b"policy=").is_some()
}

/// A path line's parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PathLine<'a> {
    pub hctl: &'a [u8],
    pub disk: &'a [u8],
    pub devt: &'a [u8],
    pub dm_state: &'a [u8],
    pub chk_state: &'a [u8],
    pub dev_state: &'a [u8],
}

fn is_hcil(w: &[u8]) -> bool {
    let mut n = 0;
    for p in w.split(|c| *c == b':') {
        if parse_u64(p).is_none() && p != b"#" {
            return false;
        }
        n += 1;
    }
    n == 4
}

/// Reads `| `- 3:0:0:1 sdc 8:32 active ready running`.
pub(crate) fn path_line(line: &[u8]) -> Option<PathLine<'_>> {
    let t = trim(line);
    let t = t.strip_prefix(b"| ").map(trim).unwrap_or(t);
    let rest = t.strip_prefix(b"`- ").or_else(|| t.strip_prefix(b"|- "))?;
    let w = words(rest);
    if w.len() < 6 || !is_hcil(w[0].1) {
        return None;
    }
    let last = w[w.len() - 1];
    let chk_start = w[4].0;
    let chk_end = w[w.len() - 2].0 + w[w.len() - 2].1.len();
    Some(PathLine {
        hctl: w[0].1,
        disk: w[1].1,
        devt: w[2].1,
        dm_state: w[3].1,
        chk_state: &rest[chk_start..chk_end],
        dev_state: last.1,
    })
}

/// True for any line that belongs to a map block after its header.
pub(crate) fn is_map_line(line: &[u8]) -> bool {
    props(line).is_some() || is_policy(line) || path_line(line).is_some()
}

impl super::SnapshotParser {
    pub(super) fn multipath(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let t = trim(line);
        if let Some((time, _)) = stamp(line) {
            self.flush(out);
            self.emit(at, t, Some(time), Vec::new(), out);
            return true;
        }
        if let Some(h) = header(line) {
            self.flush(out);
            let mut p = PRec::new(at, t);
            if let Some(a) = h.action {
                p.set("action", String::from_utf8_lossy(a));
            }
            p.set("map", String::from_utf8_lossy(h.map));
            p.set("wwid", String::from_utf8_lossy(h.wwid));
            if let Some(d) = h.dm {
                p.set("dm", String::from_utf8_lossy(d));
            }
            if let Some(v) = h.vendor {
                p.set("vendor", String::from_utf8_lossy(v));
            }
            if let Some(v) = h.product {
                p.set("product", String::from_utf8_lossy(v));
            }
            self.pending.push(p);
            self.in_map = true;
            return true;
        }
        if !self.in_map {
            return false;
        }
        let Some(p) = self.pending.last_mut() else { return false };
        if let Some(props) = props(line) {
            for (k, v) in props {
                p.set(k, String::from_utf8_lossy(v));
            }
        } else if let Some(pl) = path_line(line) {
            for (k, v) in [
                ("hctl", pl.hctl),
                ("disk", pl.disk),
                ("devt", pl.devt),
                ("dm_state", pl.dm_state),
                ("chk_state", pl.chk_state),
                ("dev_state", pl.dev_state),
            ] {
                p.set(k, String::from_utf8_lossy(v));
            }
        } else if !is_policy(line) {
            return false;
        }
        p.tail.push((at, line.to_vec()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(stamp(b"91.641391 | mpatha: map in use"), Some((RawTime::Boot { nanos: 91_641_391_000 }, 12)));
        assert_eq!(stamp(b"7465290.123456 | sdc: tur checker reports path is down").map(|s| s.1), Some(17));
        let (t, n) = stamp(b"Mar 11 09:14:07 | mpatha: map in use").unwrap();
        assert!(matches!(t, RawTime::YearLess { month: 3, day: 11, .. }));
        assert_eq!(n, 18);
        assert_eq!(stamp(b"91.64 | x"), None);
        assert_eq!(stamp(b"91.641391 mpatha"), None);
        assert_eq!(stamp(b"mpatha (36) dm-2 A,B"), None);
    }

    #[test]
    fn headers() {
        let h = header(b"mpatha (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-2 LIO-ORG,TCMU device").unwrap();
        assert_eq!(h.map, b"mpatha");
        assert_eq!(h.wwid, b"36001405f3a8e0b1c2d3e4f5a6b7c8d9e");
        assert_eq!(h.dm, Some(&b"dm-2"[..]));
        assert_eq!(h.product, Some(&b"TCMU device"[..]));
        let h = header(b"3600a098038303053453f463045727a67 dm-21 NETAPP,LUN C-Mode").unwrap();
        assert_eq!(h.map, h.wwid);
        let h = header(b"create: mpathc (360014051d4c7e0b8a2f4c6d8e0a1b2c3) undef LIO-ORG,TCMU device").unwrap();
        assert_eq!((h.action, h.dm), (Some(&b"create"[..]), None));
        assert_eq!(header(b"Oct 13 19:51:02 host multipathd[1]: mpatha: dm-0 LABSAN,VDISK"), None);
        assert_eq!(header(b"mpatha: 0 131072 multipath 2 0"), None);
        assert_eq!(header(b"  `- 3:0:0:1 sdc 8:32 active ready running"), None);
    }

    #[test]
    fn block_lines() {
        let p = props(b"size=1.0G features='1 queue_if_no_path' hwhandler='1 alua' wp=rw").unwrap();
        assert_eq!(
            p,
            vec![("size", &b"1.0G"[..]), ("features", b"1 queue_if_no_path"), ("hwhandler", b"1 alua"), ("wp", b"rw")]
        );
        assert!(is_policy(b"|-+- policy='service-time 0' prio=50 status=active"));
        assert!(is_policy(b"`-+- policy='round-robin 0' prio=0 status=enabled"));
        let p = path_line(b"| `- 3:0:0:1 sdc 8:32 active ready running").unwrap();
        assert_eq!(
            (p.disk, p.devt, p.dm_state, p.chk_state, p.dev_state),
            (&b"sdc"[..], &b"8:32"[..], &b"active"[..], &b"ready"[..], &b"running"[..])
        );
        let p = path_line(b"  |- 12:0:0:3 sds 65:32 failed i/o pending running").unwrap();
        assert_eq!(p.chk_state, b"i/o pending");
        let p = path_line(b"  `- #:#:#:# -   #:#   failed faulty offline").unwrap();
        assert_eq!(p.disk, b"-");
        assert!(path_line(b"  `- policy").is_none());
    }
}

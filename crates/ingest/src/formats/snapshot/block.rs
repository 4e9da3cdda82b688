//! Block devices, links and mounts: `lsscsi`, `ls -l /dev/disk/by-*` and `/dev/mapper`, `mount`,
//! `/proc/mounts`, `lsblk -P`, and how an lsblk name is a disk or a map.
//!
//! - `lsscsi`: `[3:0:0:1]    disk    LIO-ORG  TCMU device      4.0   /dev/sdc` (vendor 8, model 16,
//!   revision 4 columns), `-i` adds the udev scsi_id (the WWID) after the device, `-g` the sg device,
//!   `-t` replaces vendor/model/revision with the transport's target name (`iqn...,t,0x1`,
//!   `fc:0x500a...,0x010200`, `sas:0x...`); `-H` lists hosts as `[3]    iscsi_tcp`;
//! - `ls -l`: `lrwxrwxrwx 1 root root 10 Mar 11 09:10 dm-uuid-mpath-3600... -> ../../dm-2`, block
//!   devices as `brw-rw---- 1 root disk 253, 2 Mar 11 09:10 mpatha`, `ls -lR` directory headers
//!   (`/dev/disk/by-id:`); by-path names carry the transport (`ip-10.0.0.5:3260-iscsi-<iqn>-lun-1`,
//!   `pci-0000:3b:00.0-fc-0x500a0981...-lun-1`);
//! - `mount`: `/dev/mapper/mpatha on /var/lib/nova/instances type ext4 (rw,relatime)` (`-l` adds
//!   ` [LABEL]`); `/proc/mounts`: `/dev/mapper/mpatha /var/lib/nova/instances ext4 rw,relatime 0 0`
//!   with `\040` for a space;
//! - `lsblk -P`: `NAME="sdc" MAJ:MIN="8:32" RM="0" ... TYPE="disk" MOUNTPOINTS=""`.
//!
//! See: lsscsi(8) and `src/lsscsi.c` (`transport_tport`), udev's persistent storage rules
//! (`60-persistent-storage.rules`: by-id `scsi-`, `wwn-`, `dm-name-`, `dm-uuid-mpath-`, by-path
//! `ip-...-iscsi-...-lun-N`, `-fc-0x...-lun-N`), mount(8), proc_pid_mounts(5), lsblk(8).

use std::borrow::Cow;

use super::{trim, words};
use crate::formats::util::parse_u64;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A `[H:C:T:L]` (or `-H`'s `[H]`) tuple.
fn tuple(w: &[u8]) -> Option<&[u8]> {
    let inner = w.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let parts = inner.split(|c| *c == b':').count();
    (inner.split(|c| *c == b':').all(|p| parse_u64(p).is_some() || p == b"N") && (parts == 4 || parts == 1))
        .then_some(inner)
}

/// An lsscsi line -> fields (hctl, scsi_host, type, disk, wwid, target, ...).
pub(crate) fn lsscsi(line: &[u8]) -> Option<Vec<(&'static str, String)>> {
    let w = words(line);
    let hctl = tuple(w.first()?.1)?;
    let mut out = Vec::new();
    if !hctl.contains(&b':') {
        out.push(("scsi_host", text(hctl)));
        if let Some(d) = w.get(1) {
            out.push(("driver", text(d.1)));
        }
        return Some(out);
    }
    out.push(("hctl", text(hctl)));
    if let Some(h) = hctl.split(|c| *c == b':').next().filter(|h| parse_u64(h).is_some()) {
        out.push(("scsi_host", text(h)));
    }
    if let Some(t) = w.get(1) {
        out.push(("type", text(t.1)));
    }
    let dev_at = w.iter().position(|x| x.1.starts_with(b"/dev/") && !x.1.starts_with(b"/dev/sg"));
    let dev_or_dash = dev_at.or_else(|| w.iter().skip(2).position(|x| x.1 == b"-").map(|i| i + 2));
    if let Some(i) = dev_at {
        let name = &w[i].1[5..];
        let key = if name.starts_with(b"st") || name.starts_with(b"nst") || name.starts_with(b"sr") {
            "device"
        } else {
            "disk"
        };
        out.push((key, text(name)));
    }
    if let Some(i) = dev_or_dash {
        // Between the type and the device: vendor model revision, or `-t`'s target port name.
        for x in &w[2..i] {
            if let Some(t) = target_name(x.1) {
                out.push(("target", t));
                break;
            }
        }
        for x in &w[i + 1..] {
            if x.1.starts_with(b"/dev/sg") {
                out.push(("sg", text(&x.1[5..])));
            } else if x.1 != b"-" && x.1.len() >= 8 && x.1.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                out.push(("wwid", text(x.1)));
            }
        }
    }
    Some(out)
}

/// lsscsi `-t` target port names: `iqn...,t,0x1`, `fc:0x500a...,0x010200`, `sas:0x5000...`.
fn target_name(w: &[u8]) -> Option<String> {
    if let Some(i) = memchr::memmem::find(w, b",t,0x") {
        return Some(text(&w[..i]));
    }
    for p in [&b"fc:"[..], b"fcoe:", b"sas:", b"srp:"] {
        if let Some(r) = w.strip_prefix(p) {
            let end = memchr::memchr(b',', r).unwrap_or(r.len());
            return Some(text(&r[..end]));
        }
    }
    None
}

/// Joins `dir` and a relative link target, resolving `..` (`/dev/disk/by-id` + `../../dm-2` ->
/// `/dev/dm-2`).
fn resolve(dir: &str, target: &str) -> String {
    if target.starts_with('/') || dir.is_empty() {
        return target.to_string();
    }
    let mut parts: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
    for p in target.split('/') {
        match p {
            ".." => {
                if parts.len() > 1 {
                    parts.pop();
                }
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// What a device name says: `dm-2` -> dm, `sdc`/`nvme0n1`/`vda` -> disk.
pub(crate) fn device_kind(name: &str) -> Option<&'static str> {
    if name.strip_prefix("dm-").is_some_and(|n| n.bytes().all(|c| c.is_ascii_digit()) && !n.is_empty()) {
        return Some("dm");
    }
    let disk = ["sd", "vd", "xvd", "hd", "nvme", "mmcblk", "loop", "nbd", "rbd"];
    disk.iter().any(|p| name.starts_with(p) && name.len() > p.len()).then_some("disk")
}

/// An `ls -l` line (with `dir` the directory listed, if known) -> fields.
pub(crate) fn ls_line(line: &[u8], dir: &str) -> Option<Vec<(&'static str, String)>> {
    let w = words(line);
    let mode = w.first()?.1;
    if mode.len() < 10
        || !matches!(mode[0], b'l' | b'b' | b'c' | b'-' | b'd')
        || !mode[1..10].iter().all(|c| b"rwxstST-".contains(c))
    {
        return None;
    }
    let mut out = Vec::new();
    let arrow = w.iter().position(|x| x.1 == b"->");
    let name_at = arrow.map_or(w.len() - 1, |a| a.saturating_sub(1));
    if name_at < 5 {
        return None;
    }
    let name = text(w[name_at].1);
    let full = if dir.is_empty() { name.clone() } else { format!("{}/{name}", dir.trim_end_matches('/')) };
    if mode[0] == b'b' {
        // `253, 2` in place of the size.
        if let Some(i) = w.iter().position(|x| x.1.ends_with(b",") && parse_u64(&x.1[..x.1.len() - 1]).is_some()) {
            if let Some(mi) = w.get(i + 1).filter(|m| parse_u64(m.1).is_some()) {
                out.push(("devt", format!("{}:{}", text(&w[i].1[..w[i].1.len() - 1]), text(mi.1))));
            }
        }
        if dir.ends_with("/dev/mapper") || dir == "/dev/mapper" {
            out.push(("map", name.clone()));
        } else if let Some(k) = device_kind(&name) {
            out.push((k, name.clone()));
        }
        return Some(out);
    }
    let Some(a) = arrow else { return Some(out) };
    let target = text(w.get(a + 1)?.1);
    let resolved = resolve(dir, &target);
    out.push(("link", full));
    out.push(("link_target", resolved.clone()));
    let base = resolved.rsplit('/').next().unwrap_or("");
    if let Some(k) = device_kind(base) {
        out.push((k, base.to_string()));
    }
    out.extend(link_name_fields(&name, dir));
    Some(out)
}

/// What a udev link name says about the device: by-id `dm-uuid-mpath-<wwid>`, `dm-name-<map>`,
/// `scsi-<wwid>`, `wwn-0x<wwn>`; by-path `ip-<portal>-iscsi-<iqn>-lun-<n>`, `...-fc-0x<wwpn>-lun-<n>`;
/// a `/dev/mapper` entry's name is the map.
fn link_name_fields(name: &str, dir: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if dir.ends_with("/dev/mapper") && name != "control" {
        out.push(("map", name.to_string()));
    } else if let Some(w) = name.strip_prefix("dm-uuid-mpath-") {
        out.push(("wwid", w.to_string()));
    } else if let Some(m) = name.strip_prefix("dm-name-") {
        out.push(("map", m.to_string()));
    } else if let Some(w) = name.strip_prefix("scsi-").filter(|w| !w.contains('-') || w.starts_with("SATA")) {
        out.push(("wwid", w.to_string()));
    } else if let Some(w) = name.strip_prefix("wwn-") {
        out.push(("wwn", w.to_string()));
    } else if let Some(rest) = name.strip_prefix("ip-") {
        if let Some(i) = rest.find("-iscsi-") {
            out.push(("portal", rest[..i].to_string()));
            let t = &rest[i + 7..];
            let (t, lun) = match t.rfind("-lun-") {
                Some(j) => (&t[..j], Some(&t[j + 5..])),
                None => (t, None),
            };
            out.push(("target", t.to_string()));
            if let Some(l) = lun {
                out.push(("lun", l.to_string()));
            }
        }
    } else if let Some(i) = name.find("-fc-") {
        let rest = &name[i + 4..];
        let (t, lun) = match rest.rfind("-lun-") {
            Some(j) => (&rest[..j], Some(&rest[j + 5..])),
            None => (rest, None),
        };
        out.push(("target", t.to_string()));
        if let Some(l) = lun {
            out.push(("lun", l.to_string()));
        }
    }
    out
}

/// `mount` output: `dev on /mnt type ext4 (rw,relatime) [LABEL]`.
pub(crate) fn mount_line(line: &[u8]) -> Option<Vec<(&'static str, String)>> {
    let on = memchr::memmem::find(line, b" on ")?;
    let ty = memchr::memmem::rfind(line, b" type ")?;
    if ty <= on || line.first().is_none_or(|c| *c == b' ') {
        return None;
    }
    let rest = &line[ty + 6..];
    let w = words(rest);
    let fstype = w.first()?.1;
    let opts = w.get(1).map(|o| o.1).filter(|o| o.starts_with(b"(") && o.ends_with(b")"))?;
    Some(vec![
        ("dev", text(&line[..on])),
        ("mount", text(&line[on + 4..ty])),
        ("fstype", text(fstype)),
        ("options", text(&opts[1..opts.len() - 1])),
    ])
}

/// Decodes the octal escapes of /proc/mounts (`\040` space, `\011` tab, `\012`, `\134`).
fn unescape(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') as u32 * 64 + (b[i + 2] - b'0') as u32 * 8 + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/proc/mounts` / `/etc/mtab`: `dev mountpoint fstype options 0 0`.
pub(crate) fn proc_mounts(line: &[u8]) -> Option<Vec<(&'static str, String)>> {
    let w = words(line);
    if w.len() != 6 || parse_u64(w[4].1).is_none() || parse_u64(w[5].1).is_none() || !w[1].1.starts_with(b"/") {
        return None;
    }
    Some(vec![
        ("dev", unescape(w[0].1)),
        ("mount", unescape(w[1].1)),
        ("fstype", text(w[2].1)),
        ("options", text(w[3].1)),
    ])
}

/// `lsblk -P` / `--pairs`: `KEY="value"` pairs -> (KEY, value).
pub(crate) fn pairs(line: &[u8]) -> Option<Vec<(&[u8], Cow<'_, str>)>> {
    let mut out = Vec::new();
    let mut r = trim(line);
    while !r.is_empty() {
        let eq = memchr::memchr(b'=', r)?;
        let key = &r[..eq];
        if key.is_empty() || !key.iter().all(|c| c.is_ascii_uppercase() || b":%-_".contains(c)) {
            return None;
        }
        let v = r[eq + 1..].strip_prefix(b"\"")?;
        let end = memchr::memchr(b'"', v)?;
        out.push((key, String::from_utf8_lossy(&v[..end])));
        r = trim(&v[end + 1..]);
    }
    (!out.is_empty()).then_some(out)
}

/// lsblk's TYPE says whether NAME is a map (`mpath`, `lvm`, `crypt`, `dm`, `raid*`) or a disk.
pub(crate) fn lsblk_name_field(name: &str, ty: Option<&str>) -> &'static str {
    match ty {
        Some("mpath" | "lvm" | "crypt" | "dm") => "map",
        Some(t) if t.starts_with("raid") || t == "linear" || t == "multipath" => "map",
        Some(_) => "disk",
        None => {
            if device_kind(name).is_some() {
                "disk"
            } else {
                "map"
            }
        }
    }
}

/// The field an lsblk column (`-P` key or `-J` key, lower-cased) feeds.
pub(crate) fn lsblk_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "kname" => "kname",
        "maj:min" => "devt",
        "type" => "type",
        "mountpoint" | "mountpoints" => "mount",
        "fstype" => "fstype",
        "size" => "size",
        "wwn" => "wwn",
        "serial" => "serial",
        "hctl" => "hctl",
        "tran" => "transport",
        "pkname" => "parent",
        "state" => "dev_state",
        _ => return None,
    })
}

/// Removes lsblk's and findmnt's tree drawing (`├─`, `└─`, `│ `, `|-`, `` `- ``) from a cell, and
/// says how deep it was (two columns a level).
pub(crate) fn strip_tree(b: &[u8]) -> (&[u8], usize) {
    let mut b = b;
    let mut cols = 0;
    loop {
        let before = b.len();
        for (p, w) in [
            ("├─".as_bytes(), 2),
            ("└─".as_bytes(), 2),
            ("│".as_bytes(), 1),
            (b"|-", 2),
            (b"`-", 2),
            (b"|", 1),
            (b" ", 1),
        ] {
            if let Some(r) = b.strip_prefix(p) {
                b = r;
                cols += w;
            }
        }
        if b.len() == before {
            return (b, cols / 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(f: &'a [(&'static str, String)], k: &str) -> Option<&'a str> {
        f.iter().find(|(x, _)| *x == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn lsscsi_forms() {
        let f = lsscsi(b"[3:0:0:1]    disk    LIO-ORG  TCMU device      4.0   /dev/sdc ").unwrap();
        assert_eq!((get(&f, "hctl"), get(&f, "disk"), get(&f, "scsi_host")), (Some("3:0:0:1"), Some("sdc"), Some("3")));
        let f = lsscsi(
            b"[3:0:0:1]    disk    LIO-ORG  TCMU device      4.0   /dev/sdc   36001405f3a8e0b1c2d3e4f5a6b7c8d9e",
        )
        .unwrap();
        assert_eq!(get(&f, "wwid"), Some("36001405f3a8e0b1c2d3e4f5a6b7c8d9e"));
        let f = lsscsi(b"[3:0:0:1]    disk    iqn.2003-01.org.linux-iscsi.node:sn.4f2f,t,0x1  /dev/sdc").unwrap();
        assert_eq!(get(&f, "target"), Some("iqn.2003-01.org.linux-iscsi.node:sn.4f2f"));
        let f = lsscsi(b"[1:0:0:1]    disk    fc:0x500a098188a8e9c3,0x010200  /dev/sdb").unwrap();
        assert_eq!(get(&f, "target"), Some("0x500a098188a8e9c3"));
        let f = lsscsi(b"[3]    iscsi_tcp").unwrap();
        assert_eq!(get(&f, "scsi_host"), Some("3"));
        let f = lsscsi(b"[0:0:0:0]    cd/dvd  QEMU     QEMU DVD-ROM     2.5+  /dev/sr0 ").unwrap();
        assert_eq!(get(&f, "disk"), None);
        assert!(lsscsi(b"[12345.678] sd 3:0:0:1").is_none());
    }

    #[test]
    fn links() {
        let f = ls_line(
            b"lrwxrwxrwx 1 root root 10 Mar 11 09:10 dm-uuid-mpath-36001405f3a8e0b1c2d3e4f5a6b7c8d9e -> ../../dm-2",
            "/dev/disk/by-id",
        )
        .unwrap();
        assert_eq!(get(&f, "link"), Some("/dev/disk/by-id/dm-uuid-mpath-36001405f3a8e0b1c2d3e4f5a6b7c8d9e"));
        assert_eq!(get(&f, "link_target"), Some("/dev/dm-2"));
        assert_eq!(get(&f, "dm"), Some("dm-2"));
        assert_eq!(get(&f, "wwid"), Some("36001405f3a8e0b1c2d3e4f5a6b7c8d9e"));
        let f = ls_line(b"lrwxrwxrwx 1 root root  9 Mar 11 09:10 ip-10.0.0.5:3260-iscsi-iqn.2010-10.org.openstack:volume-4f2f-lun-1 -> ../../sdc", "/dev/disk/by-path").unwrap();
        assert_eq!(
            (get(&f, "portal"), get(&f, "lun"), get(&f, "disk")),
            (Some("10.0.0.5:3260"), Some("1"), Some("sdc"))
        );
        assert_eq!(get(&f, "target"), Some("iqn.2010-10.org.openstack:volume-4f2f"));
        let f = ls_line(b"lrwxrwxrwx. 1 root root       7 Mar 11 09:10 mpatha -> ../dm-2", "/dev/mapper").unwrap();
        assert_eq!((get(&f, "map"), get(&f, "dm")), (Some("mpatha"), Some("dm-2")));
        let f = ls_line(b"brw-rw----. 1 root disk 253, 2 Mar 11 09:10 mpatha", "/dev/mapper").unwrap();
        assert_eq!((get(&f, "map"), get(&f, "devt")), (Some("mpatha"), Some("253:2")));
        let f = ls_line(b"lrwxrwxrwx 1 0 0 9 2025-03-11 09:10 wwn-0x6001405f3a8e0b1c -> ../../sdc", "").unwrap();
        assert_eq!(get(&f, "wwn"), Some("0x6001405f3a8e0b1c"));
        assert!(ls_line(b"total 0", "").is_none());
        assert!(ls_line(b"lrwxrwxrwx -> x", "").is_none());
    }

    #[test]
    fn mounts_and_pairs() {
        let f = mount_line(b"/dev/mapper/mpathb on /var/lib/nova/instances type ext4 (rw,relatime) [data]").unwrap();
        assert_eq!(
            (get(&f, "dev"), get(&f, "mount"), get(&f, "fstype")),
            (Some("/dev/mapper/mpathb"), Some("/var/lib/nova/instances"), Some("ext4"))
        );
        let f = proc_mounts(b"/dev/mapper/mpathb /var/lib/nova/my\\040instances ext4 rw,relatime 0 0").unwrap();
        assert_eq!(get(&f, "mount"), Some("/var/lib/nova/my instances"));
        assert!(proc_mounts(b"a b c d e f").is_none());
        let p = pairs(br#"NAME="mpathb" MAJ:MIN="253:21" RM="0" TYPE="mpath" MOUNTPOINTS="""#).unwrap();
        assert_eq!(p[1], (&b"MAJ:MIN"[..], Cow::Borrowed("253:21")));
        assert!(pairs(b"hello world").is_none());
        assert_eq!(strip_tree("│ └─sdc1".as_bytes()), (&b"sdc1"[..], 2));
        assert_eq!(strip_tree("└─mpathb".as_bytes()), (&b"mpathb"[..], 1));
        assert_eq!(lsblk_name_field("mpathb", Some("mpath")), "map");
        assert_eq!(lsblk_name_field("sds", None), "disk");
    }
}

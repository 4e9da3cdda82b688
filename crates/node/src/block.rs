//! Device-mapper maps and their paths from `/sys/block`, completed by `dmsetup` output when there is
//! some (path states as dm sees them, queue_if_no_path, open counts).
//!
//! Only sysfs attributes are read (`dev`, `dm/name`, `dm/uuid`, `slaves/`, `holders/`,
//! `device/state`); no block device is ever opened.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::root::Root;

/// One path (a SCSI disk under a map).
#[derive(Debug, Clone, Serialize)]
pub struct PathDev {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devt: Option<String>,
    /// `/sys/block/<name>/device/state`: running, offline, blocked, transport-offline...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The path's state in the map's `dmsetup status` line: A (active) or F (failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_state: Option<String>,
}

impl PathDev {
    /// Usable for I/O: dm says active (when it says anything) and the SCSI device runs.
    pub fn active(&self) -> bool {
        let scsi_ok = self.state.as_deref().is_none_or(|s| s == "running");
        let dm_ok = self.dm_state.as_deref().is_none_or(|s| s == "A");
        scsi_ok && dm_ok
    }
}

/// One device-mapper map.
#[derive(Debug, Clone, Serialize)]
pub struct Map {
    pub name: String,
    pub dm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub multipath: bool,
    pub suspended: bool,
    pub paths: Vec<PathDev>,
    pub active_paths: usize,
    /// Devices stacked on it (`/sys/block/dm-N/holders`).
    pub holders: Vec<String>,
    /// Where it is mounted (`/proc/self/mountinfo`).
    pub mounts: Vec<String>,
    /// `dmsetup info -c` open count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_count: Option<u32>,
    /// Something holds it open: a mount, a stacked device, or a non-zero open count.
    pub held_open: bool,
    /// From the map's table features; unknown without `dmsetup table`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_if_no_path: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `dmsetup` outputs that complete what sysfs says.
#[derive(Debug, Default)]
pub struct DmOutputs {
    pub table: Option<String>,
    pub status: Option<String>,
    pub info_c: Option<String>,
}

/// Lines of `dmsetup table` / `dmsetup status` by map name (`name: 0 131072 multipath ...`).
fn by_name(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        if let Some((name, rest)) = line.split_once(": ") {
            if !name.contains(' ') {
                m.entry(name.to_string()).or_insert_with(String::new);
                let e = m.get_mut(name).expect("just inserted");
                if !e.is_empty() {
                    e.push('\n');
                }
                e.push_str(rest.trim());
            }
        }
    }
    m
}

/// Path states in a multipath status line: `... 8:0 F 4 0 1 8:16 A 0 0 1` -> {8:0: F, 8:16: A}.
pub fn path_states(status: &str) -> BTreeMap<String, String> {
    let toks: Vec<&str> = status.split_whitespace().collect();
    let mut m = BTreeMap::new();
    for w in toks.windows(2) {
        let is_devt = w[0].split_once(':').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
        if is_devt && (w[1] == "A" || w[1] == "F") {
            m.insert(w[0].to_string(), w[1].to_string());
        }
    }
    m
}

/// Open counts by map name from `dmsetup info -c` (columns named by its header).
pub fn open_counts(info_c: &str) -> BTreeMap<String, u32> {
    let mut lines = info_c.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return BTreeMap::new() };
    let cols: Vec<&str> = header.split_whitespace().collect();
    let (Some(ni), Some(oi)) = (cols.iter().position(|c| *c == "Name"), cols.iter().position(|c| *c == "Open")) else {
        return BTreeMap::new();
    };
    lines
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some((w.get(ni)?.to_string(), w.get(oi)?.parse().ok()?))
        })
        .collect()
}

/// Mount points by device number (`254:0`) from a mountinfo file.
pub fn mounts_by_devt(mountinfo: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in mountinfo.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if let (Some(devt), Some(mp)) = (w.get(2), w.get(4)) {
            m.entry(devt.to_string()).or_default().push(unescape(mp));
        }
    }
    m
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads every dm map in `/sys/block` with its paths.
pub fn scan(root: &Root, dm: &DmOutputs) -> Vec<Map> {
    let tables = dm.table.as_deref().map(by_name).unwrap_or_default();
    let statuses = dm.status.as_deref().map(by_name).unwrap_or_default();
    let opens = dm.info_c.as_deref().map(open_counts).unwrap_or_default();
    let mounts = root.text("/proc/self/mountinfo").map(|m| mounts_by_devt(&m)).unwrap_or_default();
    let mut maps = Vec::new();
    for dev in root.list("/sys/block") {
        if !dev.starts_with("dm-") {
            continue;
        }
        let base = format!("/sys/block/{dev}");
        let name = root.text(&format!("{base}/dm/name")).unwrap_or_else(|| dev.clone());
        let uuid = root.text(&format!("{base}/dm/uuid")).filter(|u| !u.is_empty());
        let devt = root.text(&format!("{base}/dev"));
        let table = tables.get(&name).cloned();
        let status = statuses.get(&name).cloned();
        let multipath = uuid.as_deref().is_some_and(|u| u.starts_with("mpath-"))
            || table.as_deref().is_some_and(|t| t.split_whitespace().nth(2) == Some("multipath"));
        let dm_states = status.as_deref().map(path_states).unwrap_or_default();
        let paths: Vec<PathDev> = root
            .list(&format!("{base}/slaves"))
            .into_iter()
            .map(|p| {
                let devt = root.text(&format!("/sys/block/{p}/dev"));
                PathDev {
                    state: root.text(&format!("/sys/block/{p}/device/state")),
                    dm_state: devt.as_ref().and_then(|d| dm_states.get(d).cloned()),
                    devt,
                    name: p,
                }
            })
            .collect();
        let queue_if_no_path = table.as_deref().map(|t| t.split_whitespace().any(|w| w == "queue_if_no_path"));
        let holders = root.list(&format!("{base}/holders"));
        let mounts = devt.as_ref().and_then(|d| mounts.get(d).cloned()).unwrap_or_default();
        let open_count = opens.get(&name).copied();
        maps.push(Map {
            active_paths: paths.iter().filter(|p| p.active()).count(),
            suspended: root.text(&format!("{base}/dm/suspended")).as_deref() == Some("1"),
            held_open: !mounts.is_empty() || !holders.is_empty() || open_count.is_some_and(|n| n > 0),
            holders,
            mounts,
            open_count,
            name,
            dm: dev,
            devt,
            uuid,
            multipath,
            paths,
            queue_if_no_path,
            table,
            status,
        });
    }
    maps.sort_by_key(|m| m.dm.trim_start_matches("dm-").parse::<u32>().unwrap_or(u32::MAX));
    maps
}

/// SCSI disks in `/sys/block` with a device state other than running, by name.
pub fn unhealthy_disks(root: &Root) -> Vec<(String, String)> {
    root.list("/sys/block")
        .into_iter()
        .filter_map(|d| {
            let st = root.text(&format!("/sys/block/{d}/device/state"))?;
            (st != "running").then_some((d, st))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmsetup_outputs() {
        let st = path_states("0 131072 multipath 2 0 0 0 1 1 A 0 2 2 8:0 F 4 0 1 8:16 A 0 0 1");
        assert_eq!(st.get("8:0").map(String::as_str), Some("F"));
        assert_eq!(st.get("8:16").map(String::as_str), Some("A"));
        let info = "Name             Maj Min Stat Open Targ Event  UUID\nmpatha           254   0 L--w    1    1      1 mpath-3333\n";
        assert_eq!(open_counts(info).get("mpatha"), Some(&1));
        assert!(open_counts("").is_empty());
        let t = by_name("mpatha: 0 131072 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 8:0 1 1 8:16 1 1\nNo devices found\n");
        assert!(t["mpatha"].contains("queue_if_no_path"));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn mountinfo_by_device() {
        let mi = "36 25 254:0 / /data rw,relatime shared:1 - ext4 /dev/mapper/mpatha rw\n37 25 0:5 / /my\\040dir rw - tmpfs x rw\n";
        let m = mounts_by_devt(mi);
        assert_eq!(m["254:0"], vec!["/data"]);
        assert_eq!(m["0:5"], vec!["/my dir"]);
    }

    #[test]
    fn maps_from_a_captured_tree() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        w("sys/block/dm-0/dev", "254:0\n");
        w("sys/block/dm-0/dm/name", "mpatha\n");
        w("sys/block/dm-0/dm/uuid", "mpath-3333\n");
        w("sys/block/dm-0/dm/suspended", "0\n");
        std::fs::create_dir_all(d.path().join("sys/block/dm-0/holders")).unwrap();
        std::fs::create_dir_all(d.path().join("sys/block/dm-0/slaves")).unwrap();
        for (s, devt) in [("sda", "8:0"), ("sdb", "8:16")] {
            std::os::unix::fs::symlink(format!("../../{s}"), d.path().join(format!("sys/block/dm-0/slaves/{s}")))
                .unwrap();
            w(&format!("sys/block/{s}/dev"), devt);
            w(&format!("sys/block/{s}/device/state"), "offline\n");
        }
        w("proc/self/mountinfo", "36 25 254:0 / /data rw - ext4 /dev/mapper/mpatha rw\n");
        let root = Root::Dir(d.path().to_path_buf());
        let maps = scan(&root, &DmOutputs::default());
        assert_eq!(maps.len(), 1);
        let m = &maps[0];
        assert_eq!((m.name.as_str(), m.dm.as_str(), m.multipath, m.active_paths), ("mpatha", "dm-0", true, 0));
        assert_eq!(m.paths.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["sda", "sdb"]);
        assert_eq!(m.mounts, ["/data"]);
        assert!(m.held_open);
        assert_eq!(m.queue_if_no_path, None);
        assert_eq!(unhealthy_disks(&root).len(), 2);
    }
}

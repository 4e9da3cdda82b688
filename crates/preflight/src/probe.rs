//! Node-state probes: what `rootline doctor` reads (maps and paths from /sys, tasks from /proc, the
//! storage commands under their timeouts), turned into items a check can test.
//!
//! The reading is doctor's ([`rootline_node::doctor::check`]): /proc and /sys attributes only, no
//! block device opened, every command in its own process group under a hard timeout. Preflight
//! looks once more on a live node: a task counts as in D state only when it is still in D a second
//! after doctor's two looks, and a zombie only when it is still there at the second look (a worker
//! that its parent reaps a moment later is not a problem before an upgrade).

use std::collections::BTreeMap;
use std::time::Duration;

use rootline_node::block::Map;
use rootline_node::doctor::{self, Evidence, Report};
use rootline_node::exec::{CommandRun, Status};
use rootline_node::root::{Guarded, Root};
use rootline_node::tasks::{self, Task};

use crate::formats::conf::table;
use crate::item::Item;

/// A probe built into rootline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Every device-mapper map with its paths, holders and the D-state tasks waiting on it.
    MultipathMaps,
    /// Every path of every multipath map, with its SCSI, dm and path-checker states.
    MultipathPaths,
    /// Tasks in D state (at three looks a second apart on a live node).
    DState,
    /// Zombies that stayed, with their parent.
    Zombies,
    /// iSCSI sessions from /sys/class/iscsi_session (or a captured `iscsiadm -m session`).
    IscsiSessions,
}

/// Daemons whose zombies and whose container's zombies matter (libvirt's monolithic daemon and
/// the QEMU driver of its modular daemons).
pub const LIBVIRT_DAEMONS: &[&str] = &["libvirtd", "virtqemud"];

impl Probe {
    pub const ALL: &'static [Probe] =
        &[Probe::MultipathMaps, Probe::MultipathPaths, Probe::DState, Probe::Zombies, Probe::IscsiSessions];

    pub fn name(self) -> &'static str {
        match self {
            Probe::MultipathMaps => "multipath.maps",
            Probe::MultipathPaths => "multipath.paths",
            Probe::DState => "tasks.d-state",
            Probe::Zombies => "tasks.zombies",
            Probe::IscsiSessions => "iscsi.sessions",
        }
    }

    pub fn from_name(s: &str) -> Option<Probe> {
        Probe::ALL.iter().copied().find(|p| p.name() == s)
    }

    /// The fields of its items (beyond `kind`).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Probe::MultipathMaps => &[
                "map",
                "dm",
                "uuid",
                "multipath",
                "path_count",
                "active_paths",
                "path_states",
                "queue_if_no_path",
                "queueing",
                "held_open",
                "held",
                "blocked",
                "blocked_count",
            ],
            Probe::MultipathPaths => &["map", "dm", "path", "devt", "hcil", "state", "dm_state", "checker", "ok"],
            Probe::DState => &["pid", "tid", "comm", "task", "wchan", "map", "tie", "io_wait", "cmdline"],
            Probe::Zombies => &["pid", "comm", "ppid", "parent_comm", "parent_state", "libvirt", "why"],
            Probe::IscsiSessions => &["session", "state", "target", "recovery_tmo"],
        }
    }

    /// Whether it needs doctor's reading of the node.
    pub fn needs_doctor(self) -> bool {
        self != Probe::IscsiSessions
    }
}

/// Doctor's reading of the node, with preflight's extra look.
#[derive(Debug)]
pub struct NodeState {
    pub report: Report,
    /// D-state tasks still in D at the extra look (all of doctor's on a captured tree).
    d_state: Vec<Task>,
    /// Zombies still there at the second look.
    zombies: Vec<Task>,
}

impl NodeState {
    /// Reads the node through doctor, then looks again after `relook` (live only).
    pub fn read(root: &Root, label: Option<String>, opts: &doctor::Options, relook: Duration) -> NodeState {
        let report = doctor::check(root, label, opts);
        let (mut d_state, mut zombies): (Vec<Task>, Vec<Task>) = (Vec::new(), Vec::new());
        for t in &report.tasks {
            match t.state.as_str() {
                "D" => d_state.push(t.clone()),
                "Z" => zombies.push(t.clone()),
                _ => {}
            }
        }
        if root.is_live() {
            let still = |t: &Task, state: char| {
                let path = match t.tid {
                    Some(tid) => format!("/proc/{}/task/{tid}/stat", t.pid),
                    None => format!("/proc/{}/stat", t.pid),
                };
                root.text(&path).and_then(|l| tasks::parse_stat(&l)).is_some_and(|s| s.state == state)
            };
            zombies.retain(|t| still(t, 'Z'));
            if !d_state.is_empty() {
                std::thread::sleep(relook);
                d_state.retain(|t| still(t, 'D'));
            }
        }
        NodeState { report, d_state, zombies }
    }

    fn output(&self, argv: &[&str]) -> Option<&CommandRun> {
        self.report
            .commands
            .iter()
            .find(|c| c.argv.iter().map(String::as_str).eq(argv.iter().copied()))
            .filter(|c| matches!(c.status, Status::Ok | Status::Captured))
    }

    /// Maps without an active path (those a D-state task is said to wait on).
    fn down_maps(&self) -> Vec<&Map> {
        self.report.maps.iter().filter(|m| (m.multipath || !m.paths.is_empty()) && m.active_paths == 0).collect()
    }
}

fn sys_evidence(root: &Root, path: String) -> Option<Evidence> {
    let text = root.text(&path)?;
    Some(Evidence { path, line: Some(1), text })
}

fn command_evidence(run: Option<&CommandRun>, needle: &str) -> Vec<Evidence> {
    let Some(run) = run else { return Vec::new() };
    run.stdout_text()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .take(4)
        .map(|(i, l)| Evidence { path: format!("command: {}", run.line()), line: Some(i + 1), text: l.to_string() })
        .collect()
}

fn stat_evidence(t: &Task) -> Evidence {
    Evidence { path: t.evidence.clone(), line: Some(1), text: t.stat_line.clone() }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Whether the root holds anything to probe at all.
fn has_block(root: &Root) -> bool {
    root.is_live() || !root.list("/sys/block").is_empty()
}

/// The items of a probe; `Err` with the reason when the probe has nothing to read.
pub fn items(probe: Probe, root: &Root, state: Option<&NodeState>) -> Result<Vec<Item>, String> {
    if probe == Probe::IscsiSessions {
        return iscsi_sessions(root);
    }
    let Some(st) = state else { return Err("the node's state was not read".into()) };
    match probe {
        Probe::MultipathMaps | Probe::MultipathPaths if !has_block(root) => {
            Err("no /sys/block in the captured tree".into())
        }
        Probe::DState | Probe::Zombies if !root.is_live() && root.list("/proc").is_empty() => {
            Err("no /proc in the captured tree".into())
        }
        Probe::MultipathMaps => Ok(maps(root, st)),
        Probe::MultipathPaths => Ok(paths(root, st)),
        Probe::DState => Ok(d_state(st)),
        Probe::Zombies => Ok(zombies(root, st)),
        Probe::IscsiSessions => unreachable!("handled above"),
    }
}

fn blocked(st: &NodeState, m: &Map) -> Vec<(String, String)> {
    st.d_state.iter().filter_map(|t| doctor::blocked_on(t, m).map(|why| (doctor::task_label(t), why))).collect()
}

fn maps(root: &Root, st: &NodeState) -> Vec<Item> {
    let dm_status = st.output(&["dmsetup", "status"]);
    let dm_table = st.output(&["dmsetup", "table"]);
    st.report
        .maps
        .iter()
        .map(|m| {
            let mut it = Item::new("map");
            it.set("map", m.name.as_str()).set("dm", m.dm.as_str()).set("uuid", m.uuid.clone().unwrap_or_default());
            it.set("multipath", yes_no(m.multipath));
            it.set("path_count", m.paths.len().to_string()).set("active_paths", m.active_paths.to_string());
            let states: Vec<String> = m
                .paths
                .iter()
                .map(|p| {
                    let mut s = format!("{} {}", p.name, p.state.as_deref().unwrap_or("state unknown"));
                    if let Some(d) = &p.dm_state {
                        s.push_str(&format!(" (dm {d})"));
                    }
                    s
                })
                .collect();
            it.set("path_states", if states.is_empty() { "no path left".into() } else { states.join(", ") });
            if let Some(q) = m.queue_if_no_path {
                it.set("queue_if_no_path", yes_no(q));
            }
            it.set("queueing", yes_no(m.queue_if_no_path == Some(true) && m.active_paths == 0));
            it.set("held_open", yes_no(m.held_open));
            let mut held = Vec::new();
            if !m.mounts.is_empty() {
                held.push(format!("mounted on {}", m.mounts.join(", ")));
            }
            if !m.holders.is_empty() {
                held.push(format!("holders {}", m.holders.join(", ")));
            }
            if let Some(n) = m.open_count.filter(|n| *n > 0) {
                held.push(format!("open count {n}"));
            }
            it.set("held", if held.is_empty() { "nothing".into() } else { held.join("; ") });
            let down = (m.multipath || !m.paths.is_empty()) && m.active_paths == 0;
            let b = if down { blocked(st, m) } else { Vec::new() };
            it.set("blocked_count", b.len().to_string());
            let listed: Vec<String> = b.iter().map(|(t, why)| format!("{t} ({why})")).collect();
            it.set("blocked", if listed.is_empty() { "none".into() } else { listed.join(", ") });
            it.evidence.extend(sys_evidence(root, format!("/sys/block/{}/dm/name", m.dm)));
            for p in &m.paths {
                it.evidence.extend(sys_evidence(root, format!("/sys/block/{}/device/state", p.name)));
            }
            it.evidence.extend(command_evidence(dm_status, &format!("{}:", m.name)));
            it.evidence.extend(command_evidence(dm_table, &format!("{}:", m.name)));
            for t in st.d_state.iter().filter(|t| down && doctor::blocked_on(t, m).is_some()) {
                it.evidence.push(stat_evidence(t));
            }
            it
        })
        .collect()
}

fn paths(root: &Root, st: &NodeState) -> Vec<Item> {
    // `multipathd show paths`: the checker's view (chk_st) and dm's (dm_st) by device name.
    let shown = st.output(&["multipathd", "show", "paths"]);
    let rows = shown.map(|r| table(&r.stdout_text(), &format!("command: {}", r.line()))).unwrap_or_default();
    let mut out = Vec::new();
    for m in st.report.maps.iter().filter(|m| m.multipath) {
        for p in &m.paths {
            let mut it = Item::new("path");
            it.set("map", m.name.as_str()).set("dm", m.dm.as_str()).set("path", p.name.as_str());
            it.set("devt", p.devt.clone().unwrap_or_default());
            it.set("state", p.state.clone().unwrap_or_default());
            let row = rows.iter().find(|r| r.get("dev") == Some(p.name.as_str()));
            let dm_state = match p.dm_state.as_deref() {
                Some("A") => Some("active".to_string()),
                Some("F") => Some("failed".to_string()),
                _ => row.and_then(|r| r.get("dm_st")).map(str::to_string),
            };
            it.set("dm_state", dm_state.clone().unwrap_or_default());
            let checker = row.and_then(|r| r.get("chk_st")).map(str::to_string);
            it.set("checker", checker.clone().unwrap_or_default());
            it.set("hcil", row.and_then(|r| r.get("hcil")).unwrap_or(""));
            // `active ready running` as multipath -ll prints a good path; `ghost` is a standby
            // path of an active/passive array, healthy too.
            let ok = p.state.as_deref().is_none_or(|s| s == "running")
                && dm_state.as_deref().is_none_or(|s| s == "active")
                && checker.as_deref().is_none_or(|s| s == "ready" || s == "ghost");
            it.flag("ok", ok);
            it.evidence.extend(sys_evidence(root, format!("/sys/block/{}/device/state", p.name)));
            if let Some(r) = row {
                it.evidence.extend(r.evidence.iter().cloned());
            }
            out.push(it);
        }
    }
    out
}

fn d_state(st: &NodeState) -> Vec<Item> {
    let down = st.down_maps();
    st.d_state
        .iter()
        .map(|t| {
            let mut it = Item::new("task");
            it.set("pid", t.pid.to_string()).set("tid", t.tid.map(|x| x.to_string()).unwrap_or_default());
            it.set("comm", t.comm.as_str()).set("task", doctor::task_label(t));
            it.set("wchan", t.wchan.clone().unwrap_or_default());
            if let Some((m, why)) = down.iter().find_map(|m| doctor::blocked_on(t, m).map(|w| (m.name.clone(), w))) {
                it.set("map", m.as_str()).set("tie", format!("on {m}: {why}"));
            }
            it.flag("io_wait", doctor::waits_on_io(t));
            it.set("cmdline", t.cmdline.clone().map(|c| rootline_event::cut(&c, 120)).unwrap_or_default());
            it.evidence.push(stat_evidence(t));
            it
        })
        .collect()
}

/// A process's cgroup (`/proc/PID/cgroup`), read under a deadline on a live node.
fn cgroup(root: &Root, pid: u32) -> Option<String> {
    match root.read_guarded(&format!("/proc/{pid}/cgroup"), Duration::from_millis(500)) {
        Guarded::Read(b) => {
            let s = String::from_utf8_lossy(&b).trim().to_string();
            (!s.is_empty() && s != "0::/").then_some(s)
        }
        _ => None,
    }
}

fn zombies(root: &Root, st: &NodeState) -> Vec<Item> {
    // The whole process table, for ancestors: pid -> (comm, ppid, state).
    let table: BTreeMap<u32, (String, u32, char)> = st
        .report
        .stat_lines
        .iter()
        .filter_map(|l| tasks::parse_stat(l))
        .map(|s| (s.pid, (s.comm, s.ppid, s.state)))
        .collect();
    let daemons: Vec<u32> = table
        .iter()
        .filter(|(_, (c, _, s))| LIBVIRT_DAEMONS.contains(&c.as_str()) && *s != 'Z')
        .map(|(p, _)| *p)
        .collect();
    let daemon_cgroups: Vec<(u32, String)> = daemons.iter().filter_map(|p| cgroup(root, *p).map(|c| (*p, c))).collect();
    st.zombies
        .iter()
        .map(|z| {
            let mut it = Item::new("zombie");
            it.set("pid", z.pid.to_string()).set("comm", z.comm.as_str()).set("ppid", z.ppid.to_string());
            let parent = st.report.tasks.iter().find(|t| t.pid == z.ppid && t.tid.is_none());
            let (pcomm, pstate) = match (parent, table.get(&z.ppid)) {
                (Some(p), _) => (p.comm.clone(), p.state.clone()),
                (None, Some((c, _, s))) => (c.clone(), s.to_string()),
                _ => ("?".to_string(), "gone".to_string()),
            };
            it.set("parent_comm", pcomm.as_str()).set("parent_state", pstate);
            // Under libvirt: its parent or an ancestor is a libvirt daemon, or it shares the
            // cgroup of one (the libvirt container, whatever its init reparented it to).
            let mut why = None;
            let mut pid = z.ppid;
            for depth in 0..32 {
                let Some((c, pp, _)) = table.get(&pid) else { break };
                if LIBVIRT_DAEMONS.contains(&c.as_str()) {
                    why = Some(if depth == 0 {
                        format!("its parent is {c}")
                    } else {
                        format!("{pid} {c} is an ancestor")
                    });
                    break;
                }
                if *pp == 0 || *pp == pid {
                    break;
                }
                pid = *pp;
            }
            if why.is_none() {
                if let Some(cg) = cgroup(root, z.pid) {
                    if let Some((p, _)) = daemon_cgroups.iter().find(|(_, c)| *c == cg) {
                        why = Some(format!("it is in the cgroup of libvirt daemon {p}"));
                    }
                }
            }
            it.flag("libvirt", why.is_some());
            it.set("why", why.unwrap_or_default());
            it.evidence.push(stat_evidence(z));
            if let Some(p) = parent {
                it.evidence.push(stat_evidence(p));
            }
            it
        })
        .collect()
}

fn iscsi_sessions(root: &Root) -> Result<Vec<Item>, String> {
    const CLASS: &str = "/sys/class/iscsi_session";
    let names = root.list(CLASS);
    if !names.is_empty() {
        let mut out = Vec::new();
        for s in names {
            let base = format!("{CLASS}/{s}");
            let mut it = Item::new("session");
            it.set("session", s.as_str());
            for (field, file) in [("state", "state"), ("target", "targetname"), ("recovery_tmo", "recovery_tmo")] {
                if let Some(v) = root.text(&format!("{base}/{file}")) {
                    if field == "state" {
                        it.evidence.push(Evidence { path: format!("{base}/{file}"), line: Some(1), text: v.clone() });
                    }
                    it.set(field, v);
                }
            }
            out.push(it);
        }
        return Ok(out);
    }
    // A bundle keeps `iscsiadm -m session` (`tcp: [1] 10.0.0.1:3260,1 iqn.... (non-flash)`): the
    // sessions, without their state.
    if let Some(b) = root.captured_command("iscsiadm_-m_session.txt") {
        let text = String::from_utf8_lossy(&b);
        let mut out = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let Some((_, rest)) = l.split_once('[') else { continue };
            let Some((sid, rest)) = rest.split_once(']') else { continue };
            let mut it = Item::new("session");
            it.set("session", format!("session{}", sid.trim()));
            it.set("target", rest.split_whitespace().nth(1).unwrap_or(""));
            it.evidence.push(Evidence {
                path: "command: iscsiadm -m session".into(),
                line: Some(i + 1),
                text: l.into(),
            });
            out.push(it);
        }
        return Ok(out);
    }
    Err(format!("no iSCSI session ({CLASS} is empty or missing)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lab_outage() -> Root {
        Root::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/tests/data/lab-outage"))
    }

    fn state(root: &Root) -> NodeState {
        NodeState::read(root, None, &doctor::Options::default(), Duration::from_millis(10))
    }

    #[test]
    fn the_lab_outage_as_items() {
        let root = lab_outage();
        let st = state(&root);
        let maps = items(Probe::MultipathMaps, &root, Some(&st)).unwrap();
        let m = maps.iter().find(|m| m.get("map") == Some("mpatha")).expect("mpatha");
        assert_eq!(
            (m.get("dm"), m.get("multipath"), m.get("active_paths"), m.get("path_count")),
            (Some("dm-0"), Some("yes"), Some("0"), Some("2"))
        );
        assert_eq!(m.get("path_states"), Some("sda offline (dm F), sdb offline (dm F)"));
        assert_eq!((m.get("queue_if_no_path"), m.get("queueing")), (Some("yes"), Some("yes")));
        let blocked = m.get("blocked").unwrap();
        for c in ["jbd2/dm-0-8", "libvirtd", "qemu-system-x86"] {
            assert!(blocked.contains(c), "{c} not in {blocked}");
        }
        assert!(m.evidence.iter().any(|e| e.path == "/sys/block/dm-0/dm/name"));
        let paths = items(Probe::MultipathPaths, &root, Some(&st)).unwrap();
        let names: Vec<(&str, &str, &str, &str)> = paths
            .iter()
            .map(|p| {
                (p.get("path").unwrap(), p.get("dm_state").unwrap(), p.get("checker").unwrap(), p.get("ok").unwrap())
            })
            .collect();
        assert_eq!(names, [("sda", "failed", "faulty", "no"), ("sdb", "failed", "faulty", "no")]);
        assert!(paths[0].evidence.iter().any(|e| e.path == "command: multipathd show paths" && e.text.contains("sda")));
        let d = items(Probe::DState, &root, Some(&st)).unwrap();
        let jbd = d.iter().find(|t| t.get("comm") == Some("jbd2/dm-0-8")).unwrap();
        assert_eq!(jbd.get("map"), Some("mpatha"));
        let sync = d.iter().find(|t| t.get("comm") == Some("sync")).unwrap();
        assert_eq!((sync.get("map"), sync.get("io_wait")), (None, Some("yes")));
        let z = items(Probe::Zombies, &root, Some(&st)).unwrap();
        assert_eq!(z.len(), 1);
        assert_eq!(
            (z[0].get("comm"), z[0].get("parent_comm"), z[0].get("parent_state"), z[0].get("libvirt")),
            (Some("libvirtd"), Some("libvirtd"), Some("D"), Some("yes"))
        );
        assert_eq!(z[0].get("why"), Some("its parent is libvirtd"));
        assert!(items(Probe::IscsiSessions, &root, Some(&st)).is_err());
    }

    #[test]
    fn iscsi_sessions_from_sysfs() {
        let d = tempfile::tempdir().unwrap();
        for (s, state) in [("session1", "LOGGED_IN"), ("session2", "FAILED")] {
            let b = d.path().join(format!("sys/class/iscsi_session/{s}"));
            std::fs::create_dir_all(&b).unwrap();
            std::fs::write(b.join("state"), format!("{state}\n")).unwrap();
            std::fs::write(b.join("targetname"), "iqn.2010-10.org.openstack:volume-4f2f\n").unwrap();
            std::fs::write(b.join("recovery_tmo"), "120\n").unwrap();
        }
        let s = items(Probe::IscsiSessions, &Root::Dir(d.path().to_path_buf()), None).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[1].get("session"), s[1].get("state"), s[1].get("recovery_tmo")),
            (Some("session2"), Some("FAILED"), Some("120"))
        );
        assert_eq!(s[1].evidence[0].path, "/sys/class/iscsi_session/session2/state");
    }
}

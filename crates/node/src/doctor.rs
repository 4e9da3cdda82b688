//! `rootline doctor`: the node's storage and process health from /proc, /sys and a few commands run
//! under a hard timeout, as findings with the catalogue's ids, their evidence, and the next steps
//! (printed, never run).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rootline_event::{count, cut};
use serde::Serialize;

use crate::block::{self, DmOutputs, Map};
use crate::exec::{self, CommandRun, Status};
use crate::root::Root;
use crate::tasks::{self, Table, Task};

/// The commands doctor runs (and collect saves). Each may hang on a sick node; each runs under a
/// hard timeout in its own process group.
pub const COMMANDS: &[&[&str]] = &[
    &["multipathd", "show", "maps"],
    &["multipathd", "show", "paths"],
    &["dmsetup", "table"],
    &["dmsetup", "status"],
    &["dmsetup", "info", "-c"],
    &["multipath", "-ll"],
    &["virsh", "list", "--all"],
    &["crictl", "ps"],
];

/// How doctor runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per command.
    pub command_timeout: Duration,
    /// For the whole check; command timeouts are shortened to fit.
    pub deadline: Duration,
    pub run_commands: bool,
    /// D-state tasks are looked at twice this far apart; only those still in D count.
    pub resample: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            command_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            run_commands: true,
            resample: Duration::from_secs(1),
        }
    }
}

/// How bad a finding is; the worst one sets the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Reported, does not change the exit code.
    Info,
    Warning,
    Failure,
}

/// The node's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    Warning,
    Failure,
}

impl Health {
    /// 0 healthy, 1 warnings, 2 failures.
    pub fn exit_code(self) -> u8 {
        match self {
            Health::Healthy => 0,
            Health::Warning => 1,
            Health::Failure => 2,
        }
    }
}

/// A fact a finding rests on: the file (or command) and line it was read from.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub text: String,
}

/// Something an operator can do next. Printed, never run by rootline.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// One finding. Its names are the analysis JSON's: `signature` is the catalogue's rule id, `id` this
/// finding's own (`multipath.stale-map#1`).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `<signature>#<n>`, `n` counting from 1 per signature in the report's order, as finding ids of
    /// the analysis are.
    pub id: String,
    /// The signature catalogue's id (`multipath.stale-map`), or `node.command-timeout`.
    pub signature: String,
    pub severity: Severity,
    pub title: String,
    pub entities: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Claims that the evidence suggests but does not prove.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hypotheses: Vec<String>,
    pub next_steps: Vec<Step>,
    /// Only a reboot is expected to clear it if the steps do not.
    pub reboot_may_be_required: bool,
}

impl Finding {
    /// A finding with no details, hypotheses or reboot (set them after, where they apply).
    fn new(signature: &str, severity: Severity, title: String, entities: BTreeMap<String, Vec<String>>) -> Finding {
        Finding {
            id: String::new(),
            signature: signature.into(),
            severity,
            title,
            entities,
            details: Vec::new(),
            evidence: Vec::new(),
            hypotheses: Vec::new(),
            next_steps: Vec::new(),
            reboot_may_be_required: false,
        }
    }

    fn with(mut self, evidence: Vec<Evidence>, next_steps: Vec<Step>) -> Finding {
        self.evidence = evidence;
        self.next_steps = next_steps;
        self
    }
}

/// Counts over the process table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub processes: usize,
    pub d_state: usize,
    /// In D at the first look but not at the second.
    pub d_state_transient: usize,
    pub zombies: usize,
}

/// Everything doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub host: String,
    pub checked_at: String,
    /// The captured tree read instead of the live system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// When that tree was captured (its bundle manifest's `collected_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    pub elapsed_ms: u64,
    pub deadline_ms: u64,
    pub status: Health,
    pub findings: Vec<Finding>,
    pub maps: Vec<Map>,
    pub tasks: Vec<Task>,
    pub counts: Counts,
    pub commands: Vec<CommandRun>,
    /// Reads abandoned at their deadline (a sick task's cmdline).
    pub timed_out_reads: Vec<String>,
    /// Every process's `/proc/PID/stat` line (and every D-state thread's), as read.
    #[serde(skip)]
    pub stat_lines: Vec<String>,
}

impl Report {
    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }
}

/// Runs every check against `root`.
pub fn check(root: &Root, root_label: Option<String>, opts: &Options) -> Report {
    let started = Instant::now();
    let deadline = started + opts.deadline;
    // Commands first, in the background: they are what may take time.
    let cmd_timeout =
        opts.command_timeout.min(opts.deadline.saturating_sub(Duration::from_secs(2)).max(Duration::from_millis(500)));
    let (mut table, commands) = std::thread::scope(|s| {
        let cmds = s.spawn(|| commands(root, opts.run_commands, cmd_timeout));
        let table = tasks::scan(root, tasks::Detail::default());
        (table, cmds.join().expect("commands thread"))
    });
    let mut counts = Counts::default();
    if root.is_live() {
        // A task seen in D once may just be doing I/O; one still in D a second later is waiting.
        let wait = opts.resample.saturating_sub(started.elapsed());
        if Instant::now() + wait < deadline {
            std::thread::sleep(wait);
        }
        let before = table.notable.len();
        table.notable.retain(|t| t.state != "D" || still_in_d(root, t));
        counts.d_state_transient = before - table.notable.len();
    }
    let dm = DmOutputs {
        table: output_of(&commands, &["dmsetup", "table"]),
        status: output_of(&commands, &["dmsetup", "status"]),
        info_c: output_of(&commands, &["dmsetup", "info", "-c"]),
    };
    let maps = block::scan(root, &dm);
    counts.processes = table.all.len();
    counts.d_state = table.notable.iter().filter(|t| t.state == "D").count();
    counts.zombies = table.notable.iter().filter(|t| t.state == "Z").count();
    let timed_out_reads =
        table.notable.iter().filter(|t| t.cmdline_timed_out).map(|t| format!("/proc/{}/cmdline", t.pid)).collect();
    let findings = findings(root, &maps, &table, &commands);
    let status = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Failure) => Health::Failure,
        Some(Severity::Warning) => Health::Warning,
        _ => Health::Healthy,
    };
    Report {
        schema: "rootline.doctor/v1",
        host: root.text("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into()),
        checked_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        root: root_label,
        captured_at: captured_at(root),
        elapsed_ms: started.elapsed().as_millis() as u64,
        deadline_ms: opts.deadline.as_millis() as u64,
        status,
        findings,
        maps,
        tasks: table.notable,
        stat_lines: table.lines,
        counts,
        commands,
        timed_out_reads,
    }
}

fn captured_at(root: &Root) -> Option<String> {
    if root.is_live() {
        return None;
    }
    let m: serde_json::Value =
        serde_json::from_slice(&root.read(&format!("/{}", crate::root::MANIFEST_NAME)).ok()?).ok()?;
    m["collected_at"].as_str().map(str::to_string)
}

fn still_in_d(root: &Root, t: &Task) -> bool {
    let path = match t.tid {
        Some(tid) => format!("/proc/{}/task/{tid}/stat", t.pid),
        None => format!("/proc/{}/stat", t.pid),
    };
    root.text(&path).and_then(|l| tasks::parse_stat(&l)).is_some_and(|s| s.state == 'D')
}

fn commands(root: &Root, run: bool, timeout: Duration) -> Vec<CommandRun> {
    if root.is_live() {
        if !run {
            return Vec::new();
        }
        let argvs: Vec<Vec<&str>> = COMMANDS.iter().map(|c| c.to_vec()).collect();
        return exec::run_all(&argvs, timeout);
    }
    COMMANDS
        .iter()
        .filter_map(|argv| {
            let out = root.captured_command(&exec::output_name(argv))?;
            Some(CommandRun::new(argv, Status::Captured, out))
        })
        .collect()
}

fn output_of(cmds: &[CommandRun], argv: &[&str]) -> Option<String> {
    cmds.iter()
        .find(|c| c.argv.iter().map(String::as_str).eq(argv.iter().copied()))
        .filter(|c| matches!(c.status, Status::Ok | Status::Captured))
        .map(CommandRun::stdout_text)
}

/// Evidence lines from a command's output that contain `needle`.
fn command_evidence(cmds: &[CommandRun], argv: &[&str], needle: &str) -> Vec<Evidence> {
    let Some(out) = output_of(cmds, argv) else { return Vec::new() };
    out.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .take(4)
        .map(|(i, l)| Evidence { path: format!("command: {}", argv.join(" ")), line: Some(i + 1), text: l.to_string() })
        .collect()
}

/// The stat line a task was read from.
fn stat_evidence(t: &Task) -> Evidence {
    Evidence { path: t.evidence.clone(), line: Some(1), text: t.stat_line.clone() }
}

fn sys_evidence(root: &Root, path: String) -> Option<Evidence> {
    let text = root.text(&path)?;
    Some(Evidence { path, line: Some(1), text })
}

/// Why `t` is known to wait on map `m`, if it is: its name names the device, it has the device
/// open, or it uses a file on the map's mount point.
pub fn blocked_on(t: &Task, m: &Map) -> Option<String> {
    // A kernel thread named after the device: `jbd2/dm-0-8` (the journal of ext4 on dm-0).
    if t.comm.split('/').any(|part| part.strip_prefix(m.dm.as_str()).is_some_and(|rest| rest.starts_with('-'))) {
        return Some(format!("its name {} names {}", t.comm, m.dm));
    }
    let dev = [format!("/dev/{}", m.dm), format!("/dev/mapper/{}", m.name)];
    for f in &t.files {
        if dev.contains(f) {
            return Some(format!("has {f} open"));
        }
        if let Some(mp) =
            m.mounts.iter().find(|mp| mp.as_str() != "/" && (f == *mp || f.starts_with(&format!("{mp}/"))))
        {
            return Some(format!("uses {f} on {mp}"));
        }
    }
    None
}

/// Whether a task's wait channel or kernel stack waits for block I/O or a filesystem journal.
pub fn waits_on_io(t: &Task) -> bool {
    const IO: &[&str] = &[
        "io_schedule",
        "blk_mq_get_tag",
        "submit_bio_wait",
        "folio_wait",
        "wait_on_page",
        "jbd2",
        "blkdev_",
        "__filemap_fdatawait",
        "file_write_and_wait",
        "do_fsync",
        "sync_inodes",
        "wait_for_completion_io",
        "bit_wait_io",
    ];
    let wchan = t.wchan.iter();
    wchan.chain(t.stack.iter()).any(|f| IO.iter().any(|k| f.contains(k)))
}

/// `PID COMM`, or `PID COMM (thread TID)` for a thread.
pub fn task_label(t: &Task) -> String {
    match t.tid {
        Some(tid) => format!("{} {} (thread {tid})", t.pid, t.comm),
        None => format!("{} {}", t.pid, t.comm),
    }
}

fn ent(pairs: &[(&str, Vec<String>)]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn step(text: &str, command: Option<String>) -> Step {
    Step { text: text.to_string(), command }
}

fn findings(root: &Root, maps: &[Map], table: &Table, cmds: &[CommandRun]) -> Vec<Finding> {
    let mut out = Vec::new();
    let d_tasks: Vec<&Task> = table.notable.iter().filter(|t| t.state == "D").collect();
    let down: Vec<&Map> = maps.iter().filter(|m| (m.multipath || !m.paths.is_empty()) && m.active_paths == 0).collect();
    let mut tied: BTreeMap<(u32, Option<u32>), String> = BTreeMap::new();

    for m in &down {
        let mut evidence: Vec<Evidence> = Vec::new();
        evidence.extend(sys_evidence(root, format!("/sys/block/{}/dm/name", m.dm)));
        for p in &m.paths {
            evidence.extend(sys_evidence(root, format!("/sys/block/{}/device/state", p.name)));
        }
        evidence.extend(command_evidence(cmds, &["dmsetup", "status"], &format!("{}:", m.name)));
        evidence.extend(command_evidence(cmds, &["dmsetup", "table"], &format!("{}:", m.name)));
        let mut details = vec![if m.paths.is_empty() {
            "no path left under the map (/sys/block/".to_string() + &m.dm + "/slaves is empty)"
        } else {
            let ps: Vec<String> = m
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
            format!("paths: {}", ps.join(", "))
        }];
        let mut held = Vec::new();
        if !m.mounts.is_empty() {
            held.push(format!("mounted on {}", m.mounts.join(", ")));
            if let Some(mi) = root.text("/proc/self/mountinfo") {
                let devt = m.devt.clone().unwrap_or_default();
                if let Some((i, l)) =
                    mi.lines().enumerate().find(|(_, l)| l.split_whitespace().nth(2) == Some(devt.as_str()))
                {
                    evidence.push(Evidence { path: "/proc/self/mountinfo".into(), line: Some(i + 1), text: l.into() });
                }
            }
        }
        if !m.holders.is_empty() {
            held.push(format!("holders {}", m.holders.join(", ")));
        }
        if let Some(n) = m.open_count.filter(|n| *n > 0) {
            held.push(format!("open count {n}"));
            evidence.extend(command_evidence(cmds, &["dmsetup", "info", "-c"], &format!("{} ", m.name)));
        }
        if !held.is_empty() {
            details.push(format!("held open: {}", held.join("; ")));
        }
        let mut blocked = Vec::new();
        let mut pids = Vec::new();
        let mut comms = Vec::new();
        for t in &d_tasks {
            if let Some(why) = blocked_on(t, m) {
                blocked.push(format!("{} ({why})", task_label(t)));
                evidence.push(stat_evidence(t));
                tied.insert((t.pid, t.tid), m.name.clone());
                pids.push(t.pid.to_string());
                if !comms.contains(&t.comm) {
                    comms.push(t.comm.clone());
                }
            }
        }
        if !blocked.is_empty() {
            details.push(format!("blocked on it: {}", blocked.join(", ")));
        }
        let mut hypotheses = Vec::new();
        if down.len() == 1 {
            let maybe: Vec<String> = d_tasks
                .iter()
                .filter(|t| !tied.contains_key(&(t.pid, t.tid)) && waits_on_io(t))
                .map(|t| task_label(t))
                .collect();
            if !maybe.is_empty() {
                hypotheses.push(format!(
                    "probably also waiting on {} (their kernel stacks wait for I/O and it is the only map without a path): {}",
                    m.name,
                    maybe.join(", ")
                ));
            }
        }
        let queues = m.queue_if_no_path;
        let title = format!(
            "{} ({}): no active path{}{}",
            m.name,
            m.dm,
            if m.paths.is_empty() { String::new() } else { format!(", 0 of {}", m.paths.len()) },
            match queues {
                Some(true) => "; queue_if_no_path: I/O to it waits forever",
                Some(false) => "; I/O to it fails",
                None => "",
            }
        );
        let mut steps = vec![step(
            "Check the storage side first: is the volume still there and attached to this node (iSCSI sessions, FC links, Ceph, the array)?",
            Some("multipathd show paths".into()),
        )];
        if queues != Some(false) {
            steps.push(step(
                "If the volume is gone or detached: let the queued I/O fail so the tasks waiting on it can exit",
                Some(format!("multipathd disablequeueing map {}", m.name)),
            ));
        }
        for mp in &m.mounts {
            steps.push(step("Unmount what is mounted on it", Some(format!("umount {mp}"))));
        }
        steps.push(step("Flush the map once nothing holds it", Some(format!("multipath -f {}", m.name))));
        let reboot = m.held_open && !blocked.is_empty();
        if reboot {
            steps.push(step(
                "If tasks stay in D state and the map stays open after queueing is disabled, only a reboot clears it; drain the node first",
                Some("systemctl reboot".into()),
            ));
        }
        let entities = ent(&[
            ("map", vec![m.name.clone()]),
            ("dm", vec![m.dm.clone()]),
            ("path", m.paths.iter().map(|p| p.name.clone()).collect()),
            ("pid", pids),
            ("comm", comms),
        ]);
        let mut f = Finding::new("multipath.stale-map", Severity::Failure, title, entities).with(evidence, steps);
        f.details = details;
        f.hypotheses = hypotheses;
        f.reboot_may_be_required = reboot;
        out.push(f);
    }

    // Paths down on maps that still have others.
    for m in maps.iter().filter(|m| m.active_paths > 0) {
        for p in m.paths.iter().filter(|p| !p.active()) {
            let mut evidence: Vec<Evidence> =
                sys_evidence(root, format!("/sys/block/{}/device/state", p.name)).into_iter().collect();
            evidence.extend(command_evidence(cmds, &["dmsetup", "status"], &format!("{}:", m.name)));
            let title = format!(
                "{}: path {} is down ({}); {} of {} paths active",
                m.name,
                p.name,
                p.state.as_deref().unwrap_or("failed in dm"),
                m.active_paths,
                m.paths.len()
            );
            let entities =
                ent(&[("map", vec![m.name.clone()]), ("dm", vec![m.dm.clone()]), ("path", vec![p.name.clone()])]);
            let next = step(
                "Look at this path's transport (iSCSI session, FC port, cable, array controller)",
                Some("multipathd show paths".into()),
            );
            out.push(
                Finding::new("multipath.path-down", Severity::Warning, title, entities).with(evidence, vec![next]),
            );
        }
    }

    // SCSI disks not running that no map uses.
    let in_maps: Vec<&str> = maps.iter().flat_map(|m| m.paths.iter().map(|p| p.name.as_str())).collect();
    for (disk, state) in block::unhealthy_disks(root).into_iter().filter(|(d, _)| !in_maps.contains(&d.as_str())) {
        let evidence = sys_evidence(root, format!("/sys/block/{disk}/device/state")).into_iter().collect();
        let next =
            step("Check the device's transport and the kernel log for it", Some(format!("dmesg | grep -w {disk}")));
        let title = format!("{disk}: SCSI device state {state}");
        let entities = ent(&[("path", vec![disk.clone()])]);
        out.push(Finding::new("scsi.device-offline", Severity::Warning, title, entities).with(evidence, vec![next]));
    }

    // Tasks in D state.
    if !d_tasks.is_empty() {
        let on_map = d_tasks.iter().any(|t| tied.contains_key(&(t.pid, t.tid)));
        let mut details: Vec<String> = d_tasks
            .iter()
            .map(|t| {
                let mut s = task_label(t);
                if let Some(w) = &t.wchan {
                    s.push_str(&format!(", waits in {w}"));
                }
                if let Some(m) = tied.get(&(t.pid, t.tid)) {
                    s.push_str(&format!(", on {m}"));
                }
                if t.cmdline_timed_out {
                    s.push_str(", its cmdline could not be read in time");
                }
                s
            })
            .collect();
        details.truncate(50);
        let mut comms: Vec<String> = Vec::new();
        for t in &d_tasks {
            if !comms.contains(&t.comm) {
                comms.push(t.comm.clone());
            }
        }
        let title = format!(
            "{} task{} in D state (uninterruptible wait): {}",
            d_tasks.len(),
            if d_tasks.len() == 1 { "" } else { "s" },
            comms.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
        );
        let entities = ent(&[("pid", d_tasks.iter().map(|t| t.pid.to_string()).collect()), ("comm", comms)]);
        let severity = if on_map { Severity::Failure } else { Severity::Warning };
        let steps = vec![
            step("See where each waits", Some(format!("cat /proc/{}/stack", d_tasks[0].pid))),
            step(
                "They cannot be killed until their I/O ends: clear the device they wait on (see the map findings)",
                None,
            ),
        ];
        let evidence = d_tasks.iter().take(50).map(|t| stat_evidence(t)).collect();
        let mut f = Finding::new("process.d-state", severity, title, entities).with(evidence, steps);
        f.details = details;
        out.push(f);
    }

    // Zombies, grouped by parent.
    let mut by_parent: BTreeMap<u32, Vec<&Task>> = BTreeMap::new();
    for t in table.notable.iter().filter(|t| t.state == "Z") {
        by_parent.entry(t.ppid).or_default().push(t);
    }
    for (ppid, zs) in by_parent {
        let parent = table.notable.iter().find(|t| t.pid == ppid && t.tid.is_none());
        let parent_state =
            parent.map(|p| p.state.as_str()).or_else(|| table.by_pid(ppid).map(|_| "?")).unwrap_or("gone");
        let parent_comm = parent.map(|p| p.comm.clone()).unwrap_or_else(|| "?".into());
        let parent_d = parent_state == "D";
        let evidence: Vec<Evidence> = zs.iter().copied().chain(parent).map(stat_evidence).collect();
        let names: Vec<String> = zs.iter().map(|t| format!("{} {}", t.pid, t.comm)).collect();
        let mut steps = Vec::new();
        if parent_d {
            steps.push(step(
                "The parent is in D state and cannot reap it: clear the I/O the parent waits on (see its stack and the map findings)",
                Some(format!("cat /proc/{ppid}/stack")),
            ));
        } else {
            steps.push(step(
                "Look at the parent; restarting it reaps the zombie",
                Some(format!("ps -o pid,stat,wchan:32,cmd -p {ppid}")),
            ));
        }
        let title = format!(
            "zombie{} {} of parent {ppid} {parent_comm} ({})",
            if zs.len() == 1 { "" } else { "s" },
            names.join(", "),
            match parent_state {
                "D" => "in D state: it cannot reap".to_string(),
                "gone" => "gone".to_string(),
                s => format!("state {s}"),
            }
        );
        let entities = ent(&[
            ("pid", zs.iter().map(|t| t.pid.to_string()).chain([ppid.to_string()]).collect()),
            ("comm", zs.iter().map(|t| t.comm.clone()).chain([parent_comm.clone()]).collect()),
        ]);
        let severity = if parent_d { Severity::Failure } else { Severity::Info };
        out.push(Finding::new("process.zombie", severity, title, entities).with(evidence, steps));
    }

    // Commands that did not answer.
    for c in cmds.iter().filter(|c| c.status == Status::Timeout) {
        let prog = c.argv.first().map(String::as_str).unwrap_or("");
        let (id, severity, next) = match prog {
            "virsh" => (
                "libvirt.daemon-unresponsive",
                Severity::Failure,
                step(
                    "libvirtd does not answer: look at its state and stack",
                    Some("cat /proc/$(pidof libvirtd)/stack".into()),
                ),
            ),
            "crictl" => (
                "k8s.runtime-unresponsive",
                Severity::Failure,
                step(
                    "The container runtime does not answer: look at containerd's state",
                    Some("systemctl status containerd".into()),
                ),
            ),
            _ => (
                "node.command-timeout",
                Severity::Warning,
                step(
                    "The command waits on something blocked (a dead path, a hung daemon); use the sysfs view above",
                    None,
                ),
            ),
        };
        let title = format!("`{}` did not answer: {}", c.line(), c.describe());
        let evidence = vec![Evidence { path: format!("command: {}", c.line()), line: None, text: c.describe() }];
        let entities = ent(&[("command", vec![c.line()])]);
        out.push(Finding::new(id, severity, title, entities).with(evidence, vec![next]));
    }
    // libvirtd itself stuck.
    for t in table.notable.iter().filter(|t| t.comm == "libvirtd" && t.tid.is_none() && t.state == "D") {
        if out.iter().any(|f| f.signature == "libvirt.daemon-unresponsive") {
            break;
        }
        let title = format!("libvirtd ({}) is in D state: it cannot answer clients", t.pid);
        let entities = ent(&[("pid", vec![t.pid.to_string()]), ("comm", vec![t.comm.clone()])]);
        let next = step(
            "It waits on I/O: clear the device it waits on (see the map findings)",
            Some(format!("cat /proc/{}/stack", t.pid)),
        );
        let f = Finding::new("libvirt.daemon-unresponsive", Severity::Failure, title, entities);
        out.push(f.with(vec![stat_evidence(t)], vec![next]));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    for f in &mut out {
        let k = n.entry(f.signature.clone()).or_default();
        *k += 1;
        f.id = format!("{}#{k}", f.signature);
    }
    out
}

/// The report as text for a terminal or a ticket.
pub fn render_text(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rootline doctor  {}  {}{}  ({:.1} s, deadline {} s)",
        r.host,
        r.checked_at,
        match (&r.root, &r.captured_at) {
            (Some(p), Some(at)) => format!("  from {p}, captured {at}"),
            (Some(p), None) => format!("  from {p}"),
            _ => String::new(),
        },
        r.elapsed_ms as f64 / 1000.0,
        r.deadline_ms / 1000
    );
    let _ = writeln!(s);
    for f in &r.findings {
        let tag = match f.severity {
            Severity::Failure => "FAIL",
            Severity::Warning => "WARN",
            Severity::Info => "INFO",
        };
        let _ = writeln!(s, "{tag}  {}  {}", f.signature, f.title);
        for d in &f.details {
            let _ = writeln!(s, "      {d}");
        }
        for h in &f.hypotheses {
            let _ = writeln!(s, "      hypothesis: {h}");
        }
        for (i, e) in f.evidence.iter().enumerate() {
            let at = match e.line {
                Some(l) => format!("{}:{l}", e.path),
                None => e.path.clone(),
            };
            let _ = writeln!(
                s,
                "      {} {at}: {}",
                if i == 0 { "evidence" } else { "        " },
                cut(e.text.trim_end(), 100)
            );
        }
        for (i, st) in f.next_steps.iter().enumerate() {
            let head = if i == 0 { "next    " } else { "        " };
            match &st.command {
                Some(c) => {
                    let _ = writeln!(s, "      {head} {}\n                 $ {c}", st.text);
                }
                None => {
                    let _ = writeln!(s, "      {head} {}", st.text);
                }
            }
        }
        let _ = writeln!(s);
    }
    if r.findings.is_empty() {
        let _ = writeln!(s, "No problem found: every map has an active path, no task waits in D state, no zombie.\n");
    }
    let _ = writeln!(
        s,
        "checked: {}, {}, {} in D state ({} more only briefly), {}",
        count(r.maps.len() as u64, "map"),
        count(r.counts.processes as u64, "process"),
        r.counts.d_state,
        r.counts.d_state_transient,
        count(r.counts.zombies as u64, "zombie")
    );
    if !r.commands.is_empty() {
        let cs: Vec<String> = r.commands.iter().map(|c| format!("{}: {}", c.line(), c.describe())).collect();
        let _ = writeln!(s, "commands: {}", cs.join("; "));
    }
    if !r.timed_out_reads.is_empty() {
        let _ = writeln!(s, "reads abandoned at their deadline: {}", r.timed_out_reads.join(", "));
    }
    let n = |sev| r.findings.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        s,
        "status: {} ({}, {}, {}; exit {})",
        match r.status {
            Health::Healthy => "HEALTHY",
            Health::Warning => "WARNING",
            Health::Failure => "FAILURE",
        },
        count(n(Severity::Failure) as u64, "failure"),
        count(n(Severity::Warning) as u64, "warning"),
        count(n(Severity::Info) as u64, "note"),
        r.exit_code()
    );
    s
}

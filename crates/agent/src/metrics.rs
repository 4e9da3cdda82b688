//! The Prometheus text exposition (format 0.0.4) of the agent's last cycle and of what it counted
//! since it started. The same text is served on `/metrics` and written for node_exporter's textfile
//! collector.
//!
//! Names follow Prometheus' conventions (See: https://prometheus.io/docs/practices/naming/): one
//! `rootline_` prefix, base units (`_seconds`), `_total` for counters, `_info` for a constant 1 that
//! carries labels. Label values are bounded: maps at most [`MAX_MAPS`] (one per attached volume),
//! command names of D-state tasks and zombies' parents at most [`MAX_NAMES`] each, the rest summed
//! under `other`; `check` is one of [`check_names`]; `signature` one of doctor's ids.

use std::collections::BTreeMap;
use std::fmt::Write;

use rootline_node::doctor::{self, Health, Report};
use rootline_node::exec::Status;
use rootline_node::tasks;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Most maps given their own series (stale maps first).
pub const MAX_MAPS: usize = 512;

/// Most command names given their own series in a per-name family; the rest are summed as `other`.
pub const MAX_NAMES: usize = 10;

/// The `check` label of the whole doctor run.
pub const CHECK_DOCTOR: &str = "doctor";
/// The `check` label of the log summary's refresh.
pub const CHECK_SUMMARY: &str = "summary";
/// The `check` label of the guarded `/proc/PID/cmdline` reads.
pub const CHECK_CMDLINE: &str = "proc cmdline";

/// Every value of the `check` label: the doctor run, each of its commands, the cmdline reads, the
/// summary.
pub fn check_names() -> Vec<String> {
    let mut v = vec![CHECK_DOCTOR.to_string(), CHECK_CMDLINE.to_string(), CHECK_SUMMARY.to_string()];
    v.extend(doctor::COMMANDS.iter().map(|c| c.join(" ")));
    v
}

/// What the agent counted since it started.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Cycles completed.
    pub cycles: u64,
    /// Check -> times it hit its deadline.
    pub timeouts: BTreeMap<String, u64>,
    /// Check -> seconds its last run took.
    pub durations: BTreeMap<String, f64>,
    /// When the last cycle completed (unix seconds).
    pub last_cycle_unix: Option<f64>,
    /// Bundles written on new failures.
    pub bundles_written: u64,
    /// Bundles that could not be written.
    pub bundle_errors: u64,
    /// Cycles skipped because the previous cycle's checks had still not returned.
    pub cycles_skipped: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            cycles: 0,
            timeouts: check_names().into_iter().map(|c| (c, 0)).collect(),
            durations: BTreeMap::new(),
            last_cycle_unix: None,
            bundles_written: 0,
            bundle_errors: 0,
            cycles_skipped: 0,
        }
    }
}

impl Stats {
    /// Counts a check that hit its deadline.
    pub fn timeout(&mut self, check: &str) {
        *self.timeouts.entry(check.to_string()).or_default() += 1;
    }

    /// Records a completed doctor run: its duration, its commands' durations and timeouts, its
    /// abandoned reads.
    pub fn record(&mut self, r: &Report, doctor_secs: f64, now_unix: f64) {
        self.cycles += 1;
        self.last_cycle_unix = Some(now_unix);
        self.durations.insert(CHECK_DOCTOR.into(), doctor_secs);
        for c in &r.commands {
            if matches!(c.status, Status::Missing | Status::Captured) {
                continue;
            }
            self.durations.insert(c.line(), c.elapsed_ms as f64 / 1000.0);
            if c.status == Status::Timeout {
                self.timeout(&c.line());
            }
        }
        for _ in &r.timed_out_reads {
            self.timeout(CHECK_CMDLINE);
        }
    }
}

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = writeln!(out, " {}", value as i64);
    } else {
        let _ = writeln!(out, " {value}");
    }
}

/// Counts per name, the [`MAX_NAMES`] largest kept (ties by name), the rest summed as `other`.
fn bounded(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if v.len() > MAX_NAMES {
        let other: u64 = v[MAX_NAMES..].iter().map(|x| x.1).sum();
        v.truncate(MAX_NAMES);
        match v.iter_mut().find(|x| x.0 == "other") {
            Some(o) => o.1 += other,
            None => v.push(("other".into(), other)),
        }
    }
    v
}

/// Whether libvirt is on this node: `virsh` could be run (or was captured), or a libvirtd process
/// exists. Without it `rootline_libvirt_responsive` is not exported (no libvirt is not a healthy one).
pub fn libvirt_present(r: &Report) -> bool {
    let virsh_ran =
        r.commands.iter().any(|c| c.argv.first().is_some_and(|p| p == "virsh") && c.status != Status::Missing);
    virsh_ran
        || r.stat_lines.iter().filter_map(|l| tasks::parse_stat(l)).any(|s| s.comm == "libvirtd")
        || r.tasks.iter().any(|t| t.comm == "libvirtd")
}

/// The exposition: the last report (none before the first cycle) and the counters.
pub fn render(r: Option<&Report>, stats: &Stats, host: &str) -> String {
    let mut o = String::with_capacity(4096);
    family(&mut o, "rootline_build_info", "gauge", "The rootline version of this agent; always 1.");
    sample(&mut o, "rootline_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    family(&mut o, "rootline_host_info", "gauge", "The node this agent checks; always 1.");
    sample(&mut o, "rootline_host_info", &[("host", host)], 1.0);
    if let Some(r) = r {
        report_metrics(&mut o, r);
    }
    family(
        &mut o,
        "rootline_check_duration_seconds",
        "gauge",
        "How long the check took in the last cycle (doctor: the whole run; a command: its own run).",
    );
    for (check, secs) in &stats.durations {
        sample(&mut o, "rootline_check_duration_seconds", &[("check", check)], *secs);
    }
    family(
        &mut o,
        "rootline_check_timeouts_total",
        "counter",
        "Times the check hit its deadline and was killed or abandoned (the next cycle still ran).",
    );
    for (check, n) in &stats.timeouts {
        sample(&mut o, "rootline_check_timeouts_total", &[("check", check)], *n as f64);
    }
    family(&mut o, "rootline_cycles_total", "counter", "Check cycles completed since the agent started.");
    sample(&mut o, "rootline_cycles_total", &[], stats.cycles as f64);
    family(
        &mut o,
        "rootline_cycles_skipped_total",
        "counter",
        "Cycles not started because the previous cycle's checks had not returned (cycles never overlap).",
    );
    sample(&mut o, "rootline_cycles_skipped_total", &[], stats.cycles_skipped as f64);
    if let Some(t) = stats.last_cycle_unix {
        family(
            &mut o,
            "rootline_last_cycle_timestamp_seconds",
            "gauge",
            "When the last check cycle completed, in seconds since the epoch.",
        );
        let _ = writeln!(o, "rootline_last_cycle_timestamp_seconds {t:.3}");
    }
    family(&mut o, "rootline_bundles_written_total", "counter", "Evidence bundles written on a new failure.");
    sample(&mut o, "rootline_bundles_written_total", &[], stats.bundles_written as f64);
    family(&mut o, "rootline_bundle_errors_total", "counter", "Evidence bundles that could not be written.");
    sample(&mut o, "rootline_bundle_errors_total", &[], stats.bundle_errors as f64);
    o
}

fn report_metrics(o: &mut String, r: &Report) {
    family(o, "rootline_node_status", "gauge", "The node's state by doctor: 0 healthy, 1 warnings, 2 failures.");
    let status = match r.status {
        Health::Healthy => 0.0,
        Health::Warning => 1.0,
        Health::Failure => 2.0,
    };
    sample(o, "rootline_node_status", &[], status);

    let mut maps: Vec<&rootline_node::block::Map> =
        r.maps.iter().filter(|m| m.multipath || !m.paths.is_empty()).collect();
    // Stale maps first, so the bound never hides one.
    maps.sort_by_key(|m| m.active_paths > 0);
    maps.truncate(MAX_MAPS);
    family(
        o,
        "rootline_multipath_map_stale",
        "gauge",
        "1 when the multipath map has no active path (I/O to it queues or fails), else 0.",
    );
    for m in &maps {
        sample(o, "rootline_multipath_map_stale", &[("map", &m.name), ("dm", &m.dm)], f64::from(m.active_paths == 0));
    }
    family(
        o,
        "rootline_multipath_paths",
        "gauge",
        "Paths of the multipath map by state: active (SCSI device running, not failed in dm) or failed.",
    );
    for m in &maps {
        let failed = m.paths.len() - m.active_paths.min(m.paths.len());
        sample(o, "rootline_multipath_paths", &[("map", &m.name), ("state", "active")], m.active_paths as f64);
        sample(o, "rootline_multipath_paths", &[("map", &m.name), ("state", "failed")], failed as f64);
    }

    let d: Vec<&rootline_node::tasks::Task> = r.tasks.iter().filter(|t| t.state == "D").collect();
    family(
        o,
        "rootline_tasks_in_d_state",
        "gauge",
        "Tasks (processes and threads) in D state (uninterruptible wait) at two looks a second apart.",
    );
    sample(o, "rootline_tasks_in_d_state", &[], d.len() as f64);
    let mut by_comm: BTreeMap<String, u64> = BTreeMap::new();
    for t in &d {
        *by_comm.entry(t.comm.clone()).or_default() += 1;
    }
    family(
        o,
        "rootline_tasks_in_d_state_by_command",
        "gauge",
        "Tasks in D state by command name (the 10 most frequent; the rest as other).",
    );
    for (c, n) in bounded(by_comm) {
        sample(o, "rootline_tasks_in_d_state_by_command", &[("command", &c)], n as f64);
    }

    let mut by_parent: BTreeMap<String, u64> = BTreeMap::new();
    for z in r.tasks.iter().filter(|t| t.state == "Z") {
        let parent = r
            .tasks
            .iter()
            .find(|p| p.pid == z.ppid && p.tid.is_none())
            .map(|p| p.comm.clone())
            .unwrap_or_else(|| "unknown".into());
        *by_parent.entry(parent).or_default() += 1;
    }
    family(
        o,
        "rootline_zombie_processes",
        "gauge",
        "Zombie processes by their parent's command name (the 10 most frequent; the rest as other).",
    );
    for (c, n) in bounded(by_parent) {
        sample(o, "rootline_zombie_processes", &[("parent_comm", &c)], n as f64);
    }

    if libvirt_present(r) {
        family(
            o,
            "rootline_libvirt_responsive",
            "gauge",
            "1 when libvirtd answers (virsh list returned in time and libvirtd is not in D state), else 0.",
        );
        let stuck = r.findings.iter().any(|f| f.signature == "libvirt.daemon-unresponsive");
        sample(o, "rootline_libvirt_responsive", &[], f64::from(!stuck));
    }

    let mut by_sig: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &r.findings {
        *by_sig.entry(f.signature.as_str()).or_default() += 1;
    }
    family(
        o,
        "rootline_findings",
        "gauge",
        "doctor's findings in the last cycle by signature (`rootline rules show SIGNATURE` explains each).",
    );
    for (s, n) in by_sig {
        sample(o, "rootline_findings", &[("signature", s)], n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_names_bounded() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let many: BTreeMap<String, u64> = (0..15).map(|i| (format!("c{i:02}"), 20 - i as u64)).collect();
        let b = bounded(many);
        assert_eq!(b.len(), MAX_NAMES + 1);
        assert_eq!(b[0], ("c00".to_string(), 20));
        assert_eq!(b.last().unwrap(), &("other".to_string(), 6 + 7 + 8 + 9 + 10));
    }

    #[test]
    fn without_a_cycle_only_the_agent_itself_is_described() {
        let s = render(None, &Stats::default(), "node-1");
        assert!(s.contains("rootline_build_info{version=\""));
        assert!(s.contains("rootline_host_info{host=\"node-1\"} 1"));
        assert!(s.contains("rootline_check_timeouts_total{check=\"virsh list --all\"} 0"));
        assert!(!s.contains("rootline_last_cycle_timestamp_seconds "));
        assert!(!s.contains("rootline_multipath_map_stale{"));
    }
}

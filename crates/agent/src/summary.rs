//! The node's summary for the fleet: what `rootline fleet` builds per node (`rootline_fleet::node`),
//! made on the node from its own logs, so a fleet of thousands is compared from summaries, never
//! from their logs.
//!
//! The logs are read again every refresh (one streaming pass: rule matcher, template miner, version
//! sniffer), and only the pass's result is kept ([`rootline_fleet::Scan`]: findings as time spans,
//! template counts per 5-minute bucket), so any window asked on `/summary` is applied afterwards and
//! memory follows the distinct templates and findings, not the bytes. Bounded twice: each log file
//! contributes at most its newest `max_bytes` (all files together four times that), and the JSON carries at most [`MAX_TEMPLATES`]
//! templates (the most frequent) and the text of at most [`MAX_DETAILS`] (the most severe first).
//!
//! Live, no log is opened by the agent itself: each is copied by `tail -c` (the journal by
//! `journalctl`) under a hard timeout into a private temporary directory, as `collect` does, so a
//! log on a blocked filesystem costs a timeout, not a hung agent. A captured tree or bundle is read
//! as `fleet` reads a node.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rootline_fleet::node::{NodeSummary, Scan};
use rootline_fleet::window::Window;
use rootline_fleet::NodeInput;
use rootline_node::exec::{self, Keep, Status};
use rootline_rules::Engine;
use serde::Serialize;

/// Schema of `/summary`.
pub const SCHEMA: &str = "rootline.node-summary/v1";
/// Most templates whose counts are sent.
pub const MAX_TEMPLATES: usize = 2000;
/// Most templates whose text and first line are sent.
pub const MAX_DETAILS: usize = 400;
/// Longest template text or line sent (characters).
pub const MAX_TEXT: usize = 400;
/// Most files read from the log directories given.
pub const MAX_FILES: usize = 256;
/// Most bytes copied in one refresh, in multiples of the per-file `max_bytes`.
pub const TOTAL_FILES_BYTES: u64 = 4;

/// Where the node's logs come from.
#[derive(Debug, Clone)]
pub enum Logs {
    /// A captured tree or bundle (`--root`), read as `fleet` reads a node.
    Captured(PathBuf),
    /// The live node's logs.
    Live {
        /// The journal, through `journalctl` under a timeout (`Some(None)`: the system's;
        /// `Some(Some(DIR))`: the journal files in DIR, as a container sees the host's).
        journal: Option<Option<PathBuf>>,
        /// These files and directories (their files, recursively), each through `tail -c` under a
        /// timeout; missing ones are skipped (and said so), as a fleet's nodes differ.
        files: Vec<PathBuf>,
    },
}

/// How summaries are made.
#[derive(Debug, Clone)]
pub struct Config {
    pub logs: Logs,
    /// How far back the journal is read.
    pub since: Duration,
    /// Newest bytes kept of each log.
    pub max_bytes: u64,
    /// Per log copy.
    pub timeout: Duration,
}

/// One refresh's result.
#[derive(Debug)]
pub struct Summary {
    pub scan: Scan,
    /// When it was made (RFC 3339, UTC).
    pub computed_at: String,
    pub elapsed_ms: u64,
    /// What was read, in words.
    pub logs: String,
    /// Logs that could not be copied, with why.
    pub skipped: Vec<String>,
    /// (prefix of a private copy, what it is a copy of): evidence is cited by the original path.
    pub renames: Vec<(String, String)>,
}

/// Reads the logs and makes the summary.
pub fn compute(cfg: &Config, engine: &Engine, name: &str) -> Summary {
    let started = Instant::now();
    let mut opts = rootline_ingest::Options::default();
    // One node at a time in the background: keep its in-memory share modest.
    opts.memory_budget = opts.memory_budget.min(32 << 20);
    let mut skipped = Vec::new();
    let mut renames = Vec::new();
    let (scan, logs) = match &cfg.logs {
        Logs::Captured(p) => {
            let n = NodeInput { name: name.to_string(), paths: vec![p.clone()] };
            (rootline_fleet::node::scan(&n, engine, &opts), format!("the captured tree {}", p.display()))
        }
        Logs::Live { journal, files } => {
            let tmp = private_dir();
            let mut what = Vec::new();
            if let Some(dir) = journal {
                copy_journal(&tmp, dir.as_deref(), cfg, &mut skipped);
                renames.push((tmp.join("journal.txt").display().to_string(), "journalctl".to_string()));
                what.push(format!("the journal of the last {}", human(cfg.since)));
            }
            if !files.is_empty() {
                let n = copy_files(&tmp, files, cfg, &mut skipped);
                for (j, p) in files.iter().enumerate() {
                    let copy = tmp.join(format!("{j:03}"));
                    let orig = if p.is_dir() {
                        p.display().to_string()
                    } else {
                        p.parent().map(|d| d.display().to_string()).unwrap_or_default()
                    };
                    renames.push((copy.display().to_string(), orig));
                }
                what.push(format!("{n} log files (newest {} MiB of each)", cfg.max_bytes >> 20));
            }
            let what = if what.is_empty() { "no logs".to_string() } else { what.join(" and ") };
            let n = NodeInput { name: name.to_string(), paths: vec![tmp.clone()] };
            let scan = rootline_fleet::node::scan(&n, engine, &opts);
            let _ = std::fs::remove_dir_all(&tmp);
            (scan, what)
        }
    };
    Summary {
        scan,
        computed_at: now_rfc3339(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        logs,
        skipped,
        renames,
    }
}

impl Summary {
    /// A path as cited: a private copy's path is given as the original's.
    pub fn cite(&self, path: &str) -> String {
        for (copy, orig) in &self.renames {
            if let Some(rest) = path.strip_prefix(copy.as_str()) {
                return if orig.is_empty() {
                    rest.trim_start_matches('/').to_string()
                } else {
                    format!("{orig}{rest}")
                };
            }
        }
        path.to_string()
    }

    fn recite(&self, e: &mut rootline_rules::Evidence) {
        e.path = self.cite(&e.path);
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else {
        format!("{} min", s.div_ceil(60))
    }
}

fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

fn private_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("rootline-agent-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::create_dir_all(&d);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700));
    }
    d
}

fn copy_journal(tmp: &Path, dir: Option<&Path>, cfg: &Config, skipped: &mut Vec<String>) {
    let since = jiff::Timestamp::now().as_second() - cfg.since.as_secs() as i64;
    let at = format!("--since=@{since}");
    let d = dir.map(|d| format!("--directory={}", d.display()));
    let mut argv = vec!["journalctl", "-o", "short-iso-precise", "--no-pager", "-q", at.as_str()];
    argv.extend(d.as_deref());
    let r = exec::run_with(&argv, cfg.timeout.saturating_mul(6), Keep::Tail(cfg.max_bytes as usize));
    match r.status {
        Status::Ok | Status::Timeout if !r.stdout.is_empty() => {
            if let Err(e) = std::fs::write(tmp.join("journal.txt"), &r.stdout) {
                skipped.push(format!("journal: {e}"));
            }
            if r.status == Status::Timeout {
                skipped.push(format!("journal: {} (kept what was read)", r.describe()));
            }
        }
        _ => skipped.push(format!("journal: {}", r.describe())),
    }
}

fn copy_files(tmp: &Path, paths: &[PathBuf], cfg: &Config, skipped: &mut Vec<String>) -> usize {
    // (the path given, the file): a file keeps its path under the one given, so formats told by
    // a file's place (`kubectl/`, `var/log/libvirt/`) are told the same.
    let mut files: Vec<(usize, PathBuf)> = Vec::new();
    for (j, p) in paths.iter().enumerate() {
        if !p.exists() {
            skipped.push(format!("{}: not found", p.display()));
            continue;
        }
        let mut found = Vec::new();
        walk(p, 0, &mut found);
        files.extend(found.into_iter().map(|f| (j, f)));
    }
    if files.len() > MAX_FILES {
        skipped.push(format!("{} more log files past the first {MAX_FILES}", files.len() - MAX_FILES));
        files.truncate(MAX_FILES);
    }
    let mut n = 0;
    let budget = cfg.max_bytes.saturating_mul(TOTAL_FILES_BYTES);
    let mut copied = 0u64;
    for (i, (j, f)) in files.iter().enumerate() {
        if copied >= budget {
            skipped.push(format!(
                "{} more log files: {} MiB copied, the most for one summary",
                files.len() - i,
                budget >> 20
            ));
            break;
        }
        let tail = format!("-c{}", cfg.max_bytes.min(budget - copied));
        let path = f.display().to_string();
        let r =
            exec::run_with(&["tail", tail.as_str(), path.as_str()], cfg.timeout, Keep::Head(cfg.max_bytes as usize));
        if r.status != Status::Ok {
            skipped.push(format!("{path}: {}", r.describe()));
            continue;
        }
        let mut data = r.stdout;
        copied += data.len() as u64;
        if f.metadata().is_ok_and(|m| m.len() > data.len() as u64) {
            exec::start_at_line(&mut data);
        }
        if data.is_empty() {
            continue;
        }
        let given = &paths[*j];
        let rel = match f.strip_prefix(given) {
            Ok(r) if !r.as_os_str().is_empty() => r.to_path_buf(),
            _ => PathBuf::from(f.file_name().unwrap_or_else(|| std::ffi::OsStr::new("log"))),
        };
        let dest = tmp.join(format!("{j:03}")).join(rel);
        let written = dest.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&dest, &data));
        match written {
            Ok(()) => n += 1,
            Err(e) => skipped.push(format!("{path}: {e}")),
        }
    }
    n
}

fn walk(p: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if out.len() > MAX_FILES * 4 {
        return;
    }
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_file() => out.push(p.to_path_buf()),
        Ok(m) if m.is_dir() && depth < 6 => {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
                Err(_) => return,
            };
            entries.sort();
            for e in entries {
                walk(&e, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// A template's text and first line, as sent.
#[derive(Debug, Serialize)]
pub struct TemplateDetail {
    pub text: String,
    pub example: rootline_rules::Evidence,
    pub severity: Option<&'static str>,
}

/// The window a summary covers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WindowDoc {
    pub since: Option<String>,
    pub until: Option<String>,
    pub how: String,
}

/// The `/summary` document.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema: &'static str,
    pub host: String,
    pub computed_at: String,
    pub elapsed_ms: u64,
    pub logs: String,
    pub skipped: Vec<String>,
    /// The window applied (`since`, `until`, `how`).
    pub window: WindowDoc,
    pub summary: NodeSummary,
    /// Text, first line and severity of the templates in `summary.templates` (the most severe first).
    pub template_details: BTreeMap<String, TemplateDetail>,
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX_TEXT).collect();
    t.push('…');
    t
}

/// The summary in `w`, bounded, as the `/summary` document.
pub fn document(s: &Summary, host: &str, w: &Window) -> Document {
    let mut summary = s.scan.summarize(w);
    summary.host = Some(host.to_string());
    if !s.renames.is_empty() {
        for c in summary.signatures.values_mut() {
            c.evidence.iter_mut().for_each(|e| s.recite(e));
        }
        for d in summary.detail.values_mut() {
            s.recite(&mut d.example);
        }
        if let Some(f) = summary.first_fault.as_mut() {
            f.evidence.iter_mut().for_each(|e| s.recite(e));
        }
        for p in &mut summary.phases {
            p.evidence.iter_mut().for_each(|e| s.recite(e));
        }
        for v in &mut summary.versions {
            s.recite(&mut v.evidence);
        }
    }
    if summary.templates.len() > MAX_TEMPLATES {
        let mut v: Vec<(String, u64)> = std::mem::take(&mut summary.templates).into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(MAX_TEMPLATES);
        summary.templates = v.into_iter().collect();
    }
    let mut details: Vec<(&String, &rootline_fleet::node::TplInfo)> =
        summary.templates.keys().filter_map(|h| summary.detail.get(h).map(|d| (h, d))).collect();
    details.sort_by(|a, b| {
        let sev = |d: &rootline_fleet::node::TplInfo| d.severity.map_or(8, |x| x as u8);
        sev(a.1).cmp(&sev(b.1)).then(a.0.cmp(b.0))
    });
    let template_details = details
        .into_iter()
        .take(MAX_DETAILS)
        .map(|(h, d)| {
            let mut example = d.example.clone();
            example.text = cut(&example.text);
            (h.clone(), TemplateDetail { text: cut(&d.text), example, severity: d.severity.map(|x| x.as_str()) })
        })
        .collect();
    let note = w.note();
    Document {
        schema: SCHEMA,
        host: host.to_string(),
        computed_at: s.computed_at.clone(),
        elapsed_ms: s.elapsed_ms,
        logs: s.logs.clone(),
        skipped: s.skipped.clone(),
        window: WindowDoc { since: note.since, until: note.until, how: note.how },
        summary,
        template_details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_copies_keep_their_paths_and_stay_within_the_budget() {
        let src = tempfile::tempdir().unwrap();
        let logs = src.path().join("logs");
        std::fs::create_dir_all(logs.join("libvirt/qemu")).unwrap();
        let line = "2025-10-13T10:00:00Z n1 app: xy\n"; // 32 bytes
        for i in 0..5 {
            std::fs::write(logs.join(format!("libvirt/qemu/i{i}.log")), line.repeat(3)).unwrap();
        }
        let tmp = tempfile::tempdir().unwrap();
        let cfg = Config {
            logs: Logs::Captured(PathBuf::new()),
            since: Duration::from_secs(3600),
            max_bytes: 96,
            timeout: Duration::from_secs(30),
        };
        let mut skipped = Vec::new();
        let paths = vec![logs.clone(), src.path().join("missing.log")];
        let n = copy_files(tmp.path(), &paths, &cfg, &mut skipped);
        // 4 x 96 bytes is the budget: four files whole, the fifth left out and said so.
        assert_eq!(n, 4);
        assert_eq!(std::fs::read_to_string(tmp.path().join("000/libvirt/qemu/i0.log")).unwrap(), line.repeat(3));
        assert!(!tmp.path().join("000/libvirt/qemu/i4.log").exists());
        assert!(skipped.iter().any(|s| s.contains("missing.log: not found")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.starts_with("1 more log files")), "{skipped:?}");
        // A file longer than its share keeps its newest whole lines.
        let big = src.path().join("big.log");
        std::fs::write(&big, line.repeat(10)).unwrap();
        let tmp2 = tempfile::tempdir().unwrap();
        let mut skipped = Vec::new();
        assert_eq!(copy_files(tmp2.path(), &[big], &Config { max_bytes: 80, ..cfg }, &mut skipped), 1);
        assert_eq!(std::fs::read_to_string(tmp2.path().join("000/big.log")).unwrap(), line.repeat(2));
    }
}

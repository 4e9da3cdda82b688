//! Reading what the checks name, without hanging: files through the root's reads under a deadline
//! (a file on a blocked filesystem costs its deadline, not the run), commands in their own process
//! group under a hard timeout (all of them at once), node state through doctor's reading. Each
//! file and each command is read once, however many checks name it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rootline_node::doctor;
use rootline_node::exec::{self, CommandRun, Status};
use rootline_node::root::{Guarded, Root};

use crate::check::{Check, Gathered, SourceKind, Sources, Val};
use crate::formats::{Format, Parsed};
use crate::item::{num_text, Evidence, Item};
use crate::probe::{self, NodeState};

/// How preflight reads.
#[derive(Debug, Clone)]
pub struct Options {
    /// Doctor's time limit for each of its storage commands.
    pub command_timeout: Duration,
    /// For the whole run: every time limit is shortened to fit.
    pub deadline: Duration,
    /// Run commands (on a live node); captured outputs are read either way.
    pub run_commands: bool,
    /// The files `$MANIFESTS` stands for (`--manifest`).
    pub manifests: Vec<PathBuf>,
    /// How long one file read may take before it is abandoned.
    pub file_timeout: Duration,
    /// The extra look at D-state tasks, after doctor's two.
    pub relook: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            command_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            run_commands: true,
            manifests: Vec::new(),
            file_timeout: Duration::from_secs(2),
            relook: Duration::from_secs(1),
        }
    }
}

/// Everything read for a set of checks.
pub struct Reading {
    /// Per check id, its sources.
    pub sources: BTreeMap<String, Sources>,
    pub state: Option<NodeState>,
    /// When the state was taken, seconds since the epoch (the bundle's time for a captured tree).
    pub now: i64,
}

enum FileRead {
    Text(String),
    Missing,
    Failed(String),
}

struct Reader<'a> {
    root: &'a Root,
    opts: &'a Options,
    files: HashMap<String, FileRead>,
    lists: HashMap<String, Result<Vec<String>, String>>,
}

impl Reader<'_> {
    /// A file of the node (through the root), read under the file deadline on a live node.
    fn file(&mut self, path: &str) -> &FileRead {
        if !self.files.contains_key(path) {
            let r = match self.root.read_guarded(path, self.opts.file_timeout) {
                Guarded::Read(b) => FileRead::Text(String::from_utf8_lossy(&b).into_owned()),
                Guarded::Failed(e) if e.kind() == std::io::ErrorKind::NotFound => FileRead::Missing,
                Guarded::Failed(e) if e.raw_os_error() == Some(libc::ENOTDIR) => FileRead::Missing,
                Guarded::Failed(e) => FileRead::Failed(format!("{path}: {e}")),
                Guarded::TimedOut => FileRead::Failed(format!(
                    "{path}: not read within {} s (its file system may be blocked)",
                    self.opts.file_timeout.as_secs_f64()
                )),
            };
            self.files.insert(path.to_string(), r);
        }
        &self.files[path]
    }

    /// The names in a directory of the node, listed under the file deadline on a live node.
    fn list(&mut self, dir: &str) -> Result<Vec<String>, String> {
        if let Some(r) = self.lists.get(dir) {
            return r.clone();
        }
        let r = if self.root.is_live() {
            let (tx, rx) = mpsc::channel();
            let d = dir.to_string();
            let spawned = std::thread::Builder::new().name("guarded-list".into()).spawn(move || {
                let _ = tx.send(Root::Live.list(&d));
            });
            match spawned.map(|_| rx.recv_timeout(self.opts.file_timeout)) {
                Ok(Ok(names)) => Ok(names),
                _ => Err(format!("{dir}: not listed within {} s", self.opts.file_timeout.as_secs_f64())),
            }
        } else {
            Ok(self.root.list(dir))
        };
        self.lists.insert(dir.to_string(), r.clone());
        r
    }

    /// The files a pattern names: itself, or those matching `*` in its last part, sorted.
    fn expand(&mut self, pattern: &str, problems: &mut Vec<String>) -> Vec<String> {
        let Some((dir, base)) = pattern.rsplit_once('/') else { return vec![pattern.to_string()] };
        if !base.contains('*') {
            return vec![pattern.to_string()];
        }
        let dir = if dir.is_empty() { "/" } else { dir };
        match self.list(dir) {
            Ok(names) => names
                .into_iter()
                .filter(|n| glob(base, n))
                .map(|n| format!("{}/{n}", dir.trim_end_matches('/')))
                .collect(),
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        }
    }
}

/// `*` matches any run of characters (no `/` in names anyway); everything else matches itself.
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name.ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The sysctl.d files in the order systemd-sysctl applies them: every `*.conf` of the sysctl.d
/// directories by file name (a name in /etc hides the same name in /run and /usr/lib), then
/// /etc/sysctl.conf. A later line for a key wins.
/// See: https://github.com/systemd/systemd man/sysctl.d.xml ("Configuration Directories and Precedence").
const SYSCTL_DIRS: &[&str] =
    &["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"];

fn sysctl(reader: &mut Reader, keys: &[String]) -> Gathered {
    let mut problems = Vec::new();
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for d in SYSCTL_DIRS {
        for p in reader.expand(&format!("{d}/*.conf"), &mut problems) {
            let name = p.rsplit('/').next().unwrap_or("").to_string();
            by_name.entry(name).or_insert(p);
        }
    }
    let mut files: Vec<String> = by_name.into_values().collect();
    files.push("/etc/sysctl.conf".into());
    let mut set: Vec<Item> = Vec::new();
    for f in &files {
        let text = match reader.file(f) {
            FileRead::Text(t) => t.clone(),
            FileRead::Failed(e) => {
                problems.push(e.clone());
                continue;
            }
            FileRead::Missing => continue,
        };
        set.extend(Format::Kv.parse(&text, f, 0).items);
    }
    let norm = |k: &str| k.trim().trim_start_matches('-').replace('/', ".");
    let mut items = Vec::new();
    for key in keys {
        let mut it = Item::new("sysctl");
        it.set("key", key.as_str());
        let lines: Vec<&Item> = set.iter().filter(|s| s.get("key").is_some_and(|k| norm(k) == *key)).collect();
        if let Some(last) = lines.last() {
            it.set("configured", last.get("value").unwrap_or(""));
        }
        for l in &lines {
            if let Some(e) = l.evidence.first() {
                it.cite(&e.path, e.line, &e.text);
            }
        }
        let live = format!("/proc/sys/{}", key.replace('.', "/"));
        match reader.file(&live) {
            FileRead::Text(v) => {
                let v = v.trim().to_string();
                it.set("value", v.as_str());
                it.cite(&live, Some(1), &v);
            }
            FileRead::Failed(e) => problems.push(e.clone()),
            FileRead::Missing => {}
        }
        if it.get("value").is_some() || it.get("configured").is_some() {
            items.push(it);
        }
    }
    if items.is_empty() {
        let mut why = format!("none of {} is set in /proc/sys or a sysctl file", keys.join(", "));
        if !problems.is_empty() {
            why.push_str(&format!(" ({})", problems.join("; ")));
        }
        return Gathered::Absent(why);
    }
    Gathered::Present { items, problems }
}

fn files(reader: &mut Reader, patterns: &[String], format: Format, now: i64) -> Gathered {
    let mut problems = Vec::new();
    let mut read: Vec<(String, String)> = Vec::new();
    for pat in patterns {
        if pat == "$MANIFESTS" {
            for m in &reader.opts.manifests {
                match std::fs::read(m) {
                    Ok(b) => read.push((m.display().to_string(), String::from_utf8_lossy(&b).into_owned())),
                    Err(e) => problems.push(format!("--manifest {}: {e}", m.display())),
                }
            }
            continue;
        }
        for p in reader.expand(pat, &mut problems) {
            match reader.file(&p) {
                FileRead::Text(t) => read.push((p.clone(), t.clone())),
                FileRead::Failed(e) => problems.push(e.clone()),
                FileRead::Missing => {}
            }
        }
    }
    if read.is_empty() {
        let named: Vec<&str> =
            patterns.iter().map(|p| if p == "$MANIFESTS" { "no --manifest given" } else { p.as_str() }).collect();
        let mut why = format!("not found: {}", named.join(", "));
        if !problems.is_empty() {
            why.push_str(&format!(" ({})", problems.join("; ")));
        }
        return Gathered::Absent(why);
    }
    let Parsed { items, problems: p } = format.parse_files(&read, now);
    problems.extend(p);
    Gathered::Present { items, problems }
}

/// A command's result as a source: its `run` item first, then its output's items.
fn command_items(run: &CommandRun, format: Format, timeout: Duration, now: i64) -> Gathered {
    let line = run.line();
    match run.status {
        Status::Missing => return Gathered::Absent(format!("`{}` is not installed", run.argv[0])),
        Status::Error => return Gathered::Absent(format!("`{line}` {}", run.describe())),
        _ => {}
    }
    let origin = format!("command: {line}");
    let mut it = Item::new("run");
    let status = serde_json::to_value(run.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    it.set("status", status).set("command", line.as_str()).set("describe", run.describe());
    it.set("exit_code", run.exit_code.map(|c| c.to_string()).unwrap_or_default());
    it.set("elapsed_ms", run.elapsed_ms.to_string()).set("timeout", num_text(timeout.as_secs_f64()));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let first_err = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    it.set("stderr", first_err);
    if run.status != Status::Ok && run.status != Status::Captured {
        let mut text = run.describe();
        if !first_err.is_empty() {
            text.push_str(&format!(": {first_err}"));
        }
        it.evidence.push(Evidence { path: origin.clone(), line: None, text });
    }
    let Parsed { items, problems } = format.parse(&run.stdout_text(), &origin, now);
    let mut all = vec![it];
    all.extend(items);
    Gathered::Present { items: all, problems }
}

/// A command source's key: what runs, and for how long.
type CmdKey = (Vec<String>, Duration);

/// Reads every source of `checks` from `root`.
pub fn read(checks: &[&Check], root: &Root, label: Option<String>, opts: &Options) -> Reading {
    let started = Instant::now();
    let deadline = started + opts.deadline;
    let mut reader = Reader { root, opts, files: HashMap::new(), lists: HashMap::new() };
    // The time the state is from: the bundle's for a captured tree.
    let captured_at = (!root.is_live())
        .then(|| root.read(&format!("/{}", rootline_node::root::MANIFEST_NAME)).ok())
        .flatten()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m["collected_at"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()));
    let now = captured_at.unwrap_or_else(jiff::Timestamp::now).as_second();

    // Files, sysctl keys: quick, and command time limits may come from them.
    let mut sources: BTreeMap<String, Sources> = BTreeMap::new();
    for c in checks {
        let mut s = Sources::new();
        for src in &c.sources {
            let g = match &src.kind {
                SourceKind::File { paths, format } => files(&mut reader, paths, *format, now),
                SourceKind::Sysctl(keys) => sysctl(&mut reader, keys),
                _ => continue,
            };
            s.insert(src.name.clone(), g);
        }
        sources.insert(c.id.clone(), s);
    }

    // Commands (each once) and doctor's reading of the node, all at the same time.
    let left = |cap: Duration| {
        cap.min(deadline.saturating_duration_since(Instant::now()).saturating_sub(Duration::from_millis(500)))
            .max(Duration::from_millis(200))
    };
    let mut wanted: Vec<CmdKey> = Vec::new();
    let mut plan: Vec<(String, String, CmdKey, Format, Vec<String>)> = Vec::new();
    for c in checks {
        for src in &c.sources {
            let SourceKind::Command { argv, timeout, timeout_from, format, captured } = &src.kind else { continue };
            let mut t = *timeout;
            if let Some(Val::Ref { source: Some(from), field, .. }) = timeout_from {
                let secs = sources[&c.id].get(from).and_then(|g| match g {
                    Gathered::Present { items, .. } => {
                        items.iter().filter_map(|i| i.num(field)).filter(|n| *n > 0.0).reduce(f64::min)
                    }
                    Gathered::Absent(_) => None,
                });
                if let Some(s) = secs {
                    t = Duration::from_secs_f64(s.min(3600.0));
                }
            }
            let key = (argv.clone(), left(t));
            if !wanted.contains(&key) {
                wanted.push(key.clone());
            }
            plan.push((c.id.clone(), src.name.clone(), key, *format, captured.clone()));
        }
    }
    let needs_state =
        checks.iter().flat_map(|c| &c.sources).any(|s| matches!(s.kind, SourceKind::Probe(p) if p.needs_doctor()));
    let live_commands = root.is_live() && opts.run_commands;
    let dopts = doctor::Options {
        command_timeout: left(opts.command_timeout),
        deadline: left(opts.deadline),
        run_commands: opts.run_commands,
        ..Default::default()
    };
    let (state, runs): (Option<NodeState>, Vec<(CmdKey, CommandRun)>) = std::thread::scope(|s| {
        let st = needs_state.then(|| s.spawn(|| NodeState::read(root, label.clone(), &dopts, opts.relook)));
        let runs: Vec<_> = if live_commands {
            let handles: Vec<_> = wanted
                .iter()
                .map(|k| {
                    s.spawn(move || {
                        let argv: Vec<&str> = k.0.iter().map(String::as_str).collect();
                        (k.clone(), exec::run(&argv, k.1))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("command thread")).collect()
        } else {
            Vec::new()
        };
        (st.map(|h| h.join().expect("doctor thread")), runs)
    });
    for (id, name, key, format, captured) in plan {
        let g = if live_commands {
            let run = runs.iter().find(|(k, _)| *k == key).map(|(_, r)| r).expect("every wanted command ran");
            command_items(run, format, key.1, now)
        } else if root.is_live() {
            Gathered::Absent("commands are not run (--no-commands)".into())
        } else {
            let argv: Vec<&str> = key.0.iter().map(String::as_str).collect();
            let names: Vec<String> = std::iter::once(exec::output_name(&argv)).chain(captured).collect();
            match names.iter().find_map(|n| root.captured_command(n)) {
                Some(out) => command_items(&CommandRun::new(&argv, Status::Captured, out), format, key.1, now),
                None => Gathered::Absent(format!(
                    "`{}` is not in the captured tree (commands/{})",
                    key.0.join(" "),
                    names[0]
                )),
            }
        };
        sources.get_mut(&id).expect("every check has its sources").insert(name, g);
    }
    // Probes, from the state read above.
    for c in checks {
        for src in &c.sources {
            let SourceKind::Probe(p) = src.kind else { continue };
            let g = match probe::items(p, root, state.as_ref()) {
                Ok(items) => Gathered::Present { items, problems: Vec::new() },
                Err(why) => Gathered::Absent(why),
            };
            sources.get_mut(&c.id).expect("every check has its sources").insert(src.name.clone(), g);
        }
    }
    // Source filters, last: they may refer to other sources.
    for c in checks {
        let s = sources.get_mut(&c.id).expect("every check has its sources");
        for src in &c.sources {
            let Some(f) = &src.filter else { continue };
            let snapshot = s.clone();
            if let Some(Gathered::Present { items, .. }) = s.get_mut(&src.name) {
                items.retain(|i| i.get("kind") == Some("run") || f.passes(i, &snapshot));
            }
        }
    }
    Reading { sources, state, now }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*.conf", "99-x.conf"));
        assert!(!glob("*.conf", "x.conf.bak"));
        assert!(glob("*", "anything"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "ac"));
        assert!(glob("exact", "exact"));
    }

    #[test]
    fn sysctl_from_proc_and_sysctl_d_with_precedence() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        w("proc/sys/kernel/hung_task_panic", "1\n");
        w("usr/lib/sysctl.d/50-default.conf", "kernel.hung_task_panic = 0\n");
        w("etc/sysctl.d/50-default.conf", "# ours\nkernel/hung_task_panic=1\n");
        w("etc/sysctl.d/10-early.conf", "kernel.hung_task_timeout_secs = 0\n");
        let root = Root::Dir(d.path().to_path_buf());
        let opts = Options::default();
        let mut r = Reader { root: &root, opts: &opts, files: HashMap::new(), lists: HashMap::new() };
        let g = sysctl(
            &mut r,
            &["kernel.hung_task_panic".into(), "kernel.hung_task_timeout_secs".into(), "kernel.x".into()],
        );
        let Gathered::Present { items, .. } = g else { panic!("absent") };
        assert_eq!(items.len(), 2);
        let p = &items[0];
        assert_eq!((p.get("value"), p.get("configured")), (Some("1"), Some("1")));
        // /etc hides /usr/lib's file of the same name: only the /etc line is cited, then the live value.
        assert_eq!((p.get("file"), p.get("line")), (Some("/etc/sysctl.d/50-default.conf"), Some("2")));
        assert_eq!(p.evidence.len(), 2);
        assert_eq!(p.evidence[1].path, "/proc/sys/kernel/hung_task_panic");
        let t = &items[1];
        assert_eq!((t.get("value"), t.get("configured")), (None, Some("0")));
    }
}

//! `rootline rules lint`: checks that go beyond compiling — the catalogue is covered, files are where
//! their ids say, every case says where its line came from, every rule has a near miss, and every
//! pattern can be prefiltered. [`lint_dirs`] reports every problem of a pack at once: the files that
//! do not read or compile (with file, line and column) and the lint issues of everything that did.

use std::fmt;
use std::path::Path;

use crate::compile::{Pack, Problem};
use crate::engine::Engine;

/// Every signature id PRODUCT.md's catalogue requires.
pub const CATALOGUE: &[&str] = &[
    "multipath.path-down",
    "multipath.all-paths-down",
    "multipath.path-failing",
    "multipath.path-reinstated",
    "multipath.map-added",
    "multipath.map-removed",
    "multipath.flush-failed",
    "multipath.queueing-no-path",
    "multipath.stale-map",
    "block.io-error",
    "scsi.command-failed",
    "scsi.device-offline",
    "iscsi.connection-error",
    "fc.link-down",
    "nfs.server-not-responding",
    "net.link-down",
    "fs.read-only-remount",
    "kernel.hung-task",
    "kernel.oom-kill",
    "kernel.soft-lockup",
    "process.d-state",
    "process.zombie",
    "k8s.probe-failed",
    "k8s.container-restarted",
    "k8s.crash-loop",
    "k8s.runtime-unresponsive",
    "k8s.image-pulled",
    "k8s.container-started",
    "libvirt.connection-lost",
    "libvirt.daemon-unresponsive",
    "libvirt.state-lock-timeout",
    "libvirt.error",
    "qemu.monitor-failed",
    "qemu.crashed",
    "qemu.block-io-error",
    "nova.volume-attach-failed",
    "nova.volume-detach-failed",
    "cinder.driver-not-initialized",
    "openstack.service-error",
    "ceph.rbd-open-failed",
    "ceph.rbd-in-use",
    "ceph.slow-ops",
    "ceph.client-blocklisted",
    "ceph.health-warn",
    "upgrade.image-changed",
];

/// How serious a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Must be fixed (`rules lint` exits 1).
    Error,
    /// Worth fixing.
    Warning,
}

/// One lint finding.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Error or warning.
    pub level: Level,
    /// The file.
    pub file: String,
    /// The field path.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line and column in the file, when known.
    pub at: Option<(u64, u64)>,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lvl = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{lvl}: {}", self.file)?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl From<Problem> for Issue {
    fn from(p: Problem) -> Issue {
        Issue { level: Level::Error, file: p.file, field: p.field, message: p.message, at: p.at }
    }
}

/// Every problem of the built-in pack plus the user packs in `dirs`, in one list: files that could
/// not be read or compiled (errors), then the lint issues of the rules that compiled. The catalogue
/// is checked when `dirs` is empty (the built-in pack alone). Returns the engine of what compiled.
pub fn lint_dirs(dirs: &[&Path]) -> (Engine, Vec<Issue>) {
    let (pack, problems) = Pack::load_lenient(dirs);
    let engine = Engine::new(pack);
    let mut issues: Vec<Issue> = problems.into_iter().map(Issue::from).collect();
    issues.extend(lint(&engine, dirs.is_empty()));
    (engine, issues)
}

fn has_hangul(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

/// Lints a compiled pack; `check_catalogue` also requires every catalogue id (built-in pack).
pub fn lint(engine: &Engine, check_catalogue: bool) -> Vec<Issue> {
    let pack: &Pack = engine.pack();
    let mut out = Vec::new();
    let mut push = |level, file: &str, field: &str, message: String| {
        let at = pack.signatures.iter().find(|s| s.path == file).and_then(|s| s.position(field));
        out.push(Issue { level, file: file.into(), field: field.into(), message, at });
    };
    if check_catalogue {
        for id in CATALOGUE {
            if pack.get(id).is_none() {
                push(Level::Error, "rules/", "", format!("catalogue id `{id}` has no rule"));
            }
        }
    }
    for s in &pack.signatures {
        let f = &s.path;
        if s.builtin {
            let (fam, name) = s.id.split_once('.').unwrap_or((&s.id, ""));
            let want = format!("rules/{fam}/{name}.yaml");
            if *f != want {
                push(Level::Error, f, "id", format!("the file of `{}` should be {want}", s.id));
            }
        }
        // A Korean title may be technical terms only (`multipath path down`); the summary may not.
        if !s.summary.ko.as_deref().is_some_and(has_hangul) {
            push(Level::Error, f, "summary.ko", "the Korean text has no Korean in it".into());
        }
        if s.tests.fires.is_empty() {
            push(Level::Error, f, "tests.fires", "no fires case".into());
        }
        if s.tests.quiet.is_empty() {
            push(Level::Error, f, "tests.quiet", "no quiet case (the first one should be a near miss)".into());
        }
        for (group, cases) in [("fires", &s.tests.fires), ("quiet", &s.tests.quiet)] {
            for (i, c) in cases.iter().enumerate() {
                if c.from.as_deref().is_none_or(|x| x.trim().is_empty()) {
                    push(Level::Error, f, &format!("tests.{group}[{i}].from"), "say where the line came from".into());
                }
            }
        }
        if s.doc.detects.ko.is_none() || s.doc.matters.ko.is_none() || s.doc.next_steps.ko.is_none() {
            push(Level::Warning, f, "doc", "some sections have no Korean text (English is shown)".into());
        }
    }
    for (id, pat) in engine.unfiltered() {
        let file = pack.get(&id).map(|s| s.path.clone()).unwrap_or_default();
        push(
            Level::Warning,
            &file,
            "match.patterns",
            format!("`{pat}` has no literal of 3+ bytes to prefilter on; it runs on every event"),
        );
    }
    for l in &pack.links {
        if l.causes.iter().any(|c| l.effects.contains(c)) {
            push(Level::Error, &l.path, "effect", "a signature cannot cause itself".into());
        }
    }
    out
}

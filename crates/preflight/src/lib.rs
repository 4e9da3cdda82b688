//! Before the upgrade: is this node ready, and in what order should the fleet go?
//!
//! This crate sits after `rootline-node` in the flow and depends on it, never the other way round.
//! `node` owns the mechanism of reading a sick node without hanging on it (/proc and /sys
//! attributes, commands in their own process group under a hard timeout, doctor's scan of maps
//! and tasks); `preflight` owns the policy of an upgrade: what must hold before a node is touched,
//! judged by checks declared in YAML (`checks/` at the workspace root, embedded like the rule pack;
//! `--checks DIR` adds or replaces them), each result with the lines it rests on, and the canary
//! and batch plan made from the nodes' results. It reads no logs (that is `ingest`) and explains
//! no incident (that is `correlate`).
//!
//! The stages, one file each: [`spec`] (a check file as written) -> [`load`] (checked and compiled
//! [`Check`]s, every problem with its file, line and column) -> [`gather`] (files, sysctl keys,
//! commands and [`probe`]s read once each, hang-safe; [`formats`] turn text into items) ->
//! [`check`] (conditions over items, the worst result wins) -> [`report`] (the JSON document and
//! the `nova-status upgrade check` table). [`plan`] orders the fleet.
//!
//! ```
//! use rootline_node::root::Root;
//! use rootline_preflight::{load, report, Options};
//! let checks = load::compile(&load::builtin_files()).expect("the built-in checks compile");
//! let only: Vec<_> = checks.iter().filter(|c| c.id == "multipath.conf.no-path-retry").collect();
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir_all(dir.path().join("etc")).unwrap();
//! std::fs::write(dir.path().join("etc/multipath.conf"), "defaults {\n    no_path_retry queue\n}\n").unwrap();
//! let root = Root::Dir(dir.path().to_path_buf());
//! let r = report::run(&only, &root, None, &Options::default(), rootline_rules::Lang::En);
//! assert_eq!(r.exit_code(), 1);
//! assert!(r.checks[0].details.contains("no_path_retry queue"));
//! assert_eq!(r.checks[0].evidence[0].line, Some(2));
//! ```

pub mod check;
pub mod formats;
pub mod gather;
pub mod item;
pub mod load;
pub mod plan;
pub mod probe;
pub mod report;
pub mod spec;

pub use check::{Check, CheckResult, Verdict};
pub use gather::Options;
pub use load::{CheckFile, LoadError, Problem};
pub use report::Report;

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// The checks whose id is one of `only` (or starts with it when it ends in `*`: `multipath.*`);
/// every check when `only` is empty. An id that names no check is an error naming the known ones.
pub fn select<'a>(checks: &'a [Check], only: &[String]) -> Result<Vec<&'a Check>, String> {
    if only.is_empty() {
        return Ok(checks.iter().collect());
    }
    let mut out: Vec<&Check> = Vec::new();
    for want in only {
        let hits: Vec<&Check> = match want.strip_suffix('*') {
            Some(prefix) => checks.iter().filter(|c| c.id.starts_with(prefix)).collect(),
            None => checks.iter().filter(|c| c.id == *want).collect(),
        };
        if hits.is_empty() {
            let known: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
            return Err(format!("--only {want}: no such check; known: {}", known.join(", ")));
        }
        for h in hits {
            if !out.iter().any(|c| c.id == h.id) {
                out.push(h);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

//! Evidence bundles on a new failure, in a bounded, rotated directory.
//!
//! A failure is new when a cycle shows a failure finding that the previous cycle did not, told by
//! its signature and the map or command it is about (`multipath.stale-map|mpatha|`): a map that
//! stays stale is one failure however many cycles see it, a second map going stale is a new one.
//! The first cycle's failures are new (the agent started on a sick node).
//!
//! On the live node the bundle is `rootline collect`'s (`collect::collect`, bounded by its window,
//! size and deadline) and is written in a background thread, one at a time: a slow collection never
//! delays a cycle. Reading a captured tree (`--root`), there is no node to collect from; the bundle
//! then holds the doctor report of the cycle that saw the failure. Bundles are written as
//! `NAME.partial` and renamed when complete; after each one the directory keeps the newest `keep`
//! bundles within `max_bytes`, oldest removed first (told by the UTC time in their names, never by
//! file times), and at most one bundle is written per `min_gap`. A `.partial` left by an agent
//! stopped while writing is removed when the next one starts ([`remove_partials`]).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rootline_node::collect;
use rootline_node::doctor::{Report, Severity};

/// Where and how many bundles are kept.
#[derive(Debug, Clone)]
pub struct Config {
    pub dir: PathBuf,
    /// Most bundles kept.
    pub keep: usize,
    /// Most bytes of bundles kept (the newest bundle is kept even when alone larger).
    pub max_bytes: u64,
    /// Least time between two bundles.
    pub min_gap: Duration,
    /// How the live node is collected; `None` reading a captured tree.
    pub collect: Option<collect::Options>,
}

/// The failures of a report, each as `signature|maps|commands`.
pub fn failure_keys(r: &Report) -> BTreeSet<String> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Failure)
        .map(|f| {
            let get = |k: &str| f.entities.get(k).map(|v| v.join(",")).unwrap_or_default();
            format!("{}|{}|{}", f.signature, get("map"), get("command"))
        })
        .collect()
}

/// What [`Bundler::observe`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// No failure that the previous cycle did not show.
    Nothing,
    /// New failures: a bundle is being written.
    Write(Vec<String>),
    /// New failures, but a bundle was written less than `min_gap` ago or one is still being written.
    Held(Vec<String>),
}

/// Decides when to write a bundle and writes it.
pub struct Bundler {
    cfg: Config,
    previous: BTreeSet<String>,
    last: Option<Instant>,
    busy: Arc<AtomicBool>,
}

impl Bundler {
    pub fn new(cfg: Config) -> Bundler {
        Bundler { cfg, previous: BTreeSet::new(), last: None, busy: Arc::new(AtomicBool::new(false)) }
    }

    /// Looks at a cycle's report; on a new failure starts writing a bundle in the background and
    /// calls `done` with its path (or why it failed) when finished.
    pub fn observe(
        &mut self,
        r: &Report,
        host: &str,
        now: Instant,
        done: impl FnOnce(Result<PathBuf, String>) + Send + 'static,
    ) -> Decision {
        let keys = failure_keys(r);
        let new: Vec<String> = keys.difference(&self.previous).cloned().collect();
        self.previous = keys;
        if new.is_empty() {
            return Decision::Nothing;
        }
        let recent = self.last.is_some_and(|t| now.saturating_duration_since(t) < self.cfg.min_gap);
        if recent || self.busy.swap(true, Ordering::SeqCst) {
            return Decision::Held(new);
        }
        self.last = Some(now);
        let cfg = self.cfg.clone();
        let report = serde_json::to_vec_pretty(r).unwrap_or_default();
        let host = host.to_string();
        let busy = self.busy.clone();
        let why = new.clone();
        let spawned = std::thread::Builder::new().name("bundle".into()).spawn(move || {
            let result = write_bundle(&cfg, &host, &report, &why);
            busy.store(false, Ordering::SeqCst);
            done(result);
        });
        if spawned.is_err() {
            self.busy.store(false, Ordering::SeqCst);
        }
        Decision::Write(new)
    }
}

fn write_bundle(cfg: &Config, host: &str, report: &[u8], why: &[String]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(&cfg.dir).map_err(|e| format!("{}: {e}", cfg.dir.display()))?;
    let name = collect::bundle_name(host);
    let mut path = cfg.dir.join(format!("{name}.tar.zst"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = cfg.dir.join(format!("{name}-{n}.tar.zst"));
    }
    let partial = path.with_extension("partial");
    let result = (|| -> Result<(), String> {
        let file = std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        let mut out = std::io::BufWriter::new(file);
        match &cfg.collect {
            Some(opts) => {
                collect::collect(&mut out, opts, &mut |_| {}).map_err(|e| format!("collect: {e}"))?;
            }
            None => captured_bundle(&mut out, &name, report, why).map_err(|e| format!("bundle: {e}"))?,
        }
        out.flush().map_err(|e| e.to_string())?;
        out.get_ref().sync_all().map_err(|e| e.to_string())?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &path).map_err(|e| e.to_string())?;
    rotate(&cfg.dir, cfg.keep, cfg.max_bytes);
    Ok(path)
}

/// A bundle of what the agent saw on a captured tree: the doctor report of the cycle and why the
/// bundle was written.
fn captured_bundle(out: impl Write, top: &str, report: &[u8], why: &[String]) -> std::io::Result<()> {
    let z = zstd::Encoder::new(out, 3)?.auto_finish();
    let mut tar = tar::Builder::new(z);
    let reason = serde_json::json!({
        "schema": "rootline.agent-bundle/v1",
        "new_failures": why,
        "note": "written by rootline agent reading a captured tree: there was no live node to collect",
    });
    let reason = serde_json::to_vec_pretty(&reason).unwrap_or_default();
    for (name, data) in [("rootline-doctor.json", report), ("rootline-agent.json", reason.as_slice())] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(jiff::Timestamp::now().as_second().max(0) as u64);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{top}/{name}"), data)?;
    }
    tar.into_inner()?;
    Ok(())
}

/// The UTC time in a bundle's name (`rootline-HOST-20261129T023811Z[-N].tar.zst`), for ordering.
fn stamp(name: &str) -> Option<(String, u32)> {
    let stem = name.strip_suffix(".tar.zst")?;
    let (stem, n) = match stem.rsplit_once('-') {
        Some((s, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) && n.len() < 6 => {
            (s, n.parse().unwrap_or(1))
        }
        _ => (stem, 1),
    };
    let t = stem.rsplit('-').next()?;
    (t.len() == 16 && t.ends_with('Z') && t.as_bytes()[8] == b'T').then(|| (t.to_string(), n))
}

/// Removes the `rootline-*.partial` files that an earlier run left in `dir` (it was stopped while
/// writing a bundle); returns them. They are incomplete, and outside the rotation's bounds they would
/// pile up with every restart during a collection. Only one agent writes a bundle directory.
pub fn remove_partials(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    rd.filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rootline-") && n.ends_with(".partial"))
        })
        .filter(|p| p.is_file() && std::fs::remove_file(p).is_ok())
        .collect()
}

/// Keeps the newest `keep` bundles of `dir` within `max_bytes`; returns the removed ones.
pub fn rotate(dir: &Path, keep: usize, max_bytes: u64) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut bundles: Vec<((String, u32), PathBuf, u64)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let s = name.starts_with("rootline-").then(|| stamp(&name)).flatten()?;
            Some((s, e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
        })
        .collect();
    // Newest first.
    bundles.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut removed = Vec::new();
    let mut total = 0u64;
    for (i, (_, p, size)) in bundles.into_iter().enumerate() {
        total = total.saturating_add(size);
        if i > 0 && (i >= keep.max(1) || total > max_bytes) && std::fs::remove_file(&p).is_ok() {
            removed.push(p);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_newest_by_name_within_count_and_bytes() {
        let d = tempfile::tempdir().unwrap();
        let names = [
            "rootline-n1-20261129T020000Z.tar.zst",
            "rootline-n1-20261129T030000Z.tar.zst",
            "rootline-n1-20261129T030000Z-2.tar.zst",
            "rootline-n1-20261130T010000Z.tar.zst",
            "rootline-n1-20261128T230000Z.tar.zst",
        ];
        for n in names {
            std::fs::write(d.path().join(n), vec![0u8; 100]).unwrap();
        }
        std::fs::write(d.path().join("notes.txt"), "not a bundle").unwrap();
        std::fs::write(d.path().join("rootline-n1-20261201T000000Z.partial"), "in progress").unwrap();
        let removed = rotate(d.path(), 3, u64::MAX);
        let mut gone: Vec<String> =
            removed.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        gone.sort();
        assert_eq!(gone, ["rootline-n1-20261128T230000Z.tar.zst", "rootline-n1-20261129T020000Z.tar.zst"]);
        assert!(d.path().join("notes.txt").exists() && d.path().join("rootline-n1-20261201T000000Z.partial").exists());
        // Bytes: 250 allows two of 100; the newest is always kept.
        rotate(d.path(), 10, 250);
        assert!(d.path().join("rootline-n1-20261130T010000Z.tar.zst").exists());
        assert!(d.path().join("rootline-n1-20261129T030000Z-2.tar.zst").exists());
        assert!(!d.path().join("rootline-n1-20261129T030000Z.tar.zst").exists());
        rotate(d.path(), 10, 1);
        assert!(d.path().join("rootline-n1-20261130T010000Z.tar.zst").exists());
        assert!(!d.path().join("rootline-n1-20261129T030000Z-2.tar.zst").exists());
    }

    #[test]
    fn an_earlier_runs_partial_bundles_are_removed_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let keep = ["rootline-n1-20261130T010000Z.tar.zst", "notes.partial", "rootline-notes.txt"];
        for n in keep {
            std::fs::write(d.path().join(n), "x").unwrap();
        }
        std::fs::create_dir(d.path().join("rootline-dir.partial")).unwrap();
        let left = "rootline-n1-20261201T000000Z.tar.partial";
        std::fs::write(d.path().join(left), vec![0u8; 1000]).unwrap();
        assert_eq!(remove_partials(d.path()), [d.path().join(left)]);
        assert!(!d.path().join(left).exists());
        for n in keep {
            assert!(d.path().join(n).exists(), "{n}");
        }
        assert!(d.path().join("rootline-dir.partial").is_dir());
        assert!(remove_partials(&d.path().join("missing")).is_empty());
    }
}

//! Shared by the build scripts of the crates that embed YAML files of the workspace (the rule pack
//! in crates/rules, the preflight checks in crates/preflight): every `*.yaml`/`*.yml` file under a
//! top-level folder becomes an entry of `BUILTIN` (path relative to that folder, text) in
//! `$OUT_DIR/builtin.rs`, so the binary needs no such files at run time.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// Writes `builtin.rs` for the workspace folder `folder` (`rules`, `checks`); `what` names one file
/// in the generated doc comment (`rule`, `check`).
pub fn embed(folder: &str, what: &str) {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..").join(folder);
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed={}", manifest.join("../rules/embed_yaml.rs").display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut src = format!("/// The built-in {what} files: (path relative to `{folder}/`, YAML text).\n");
    src.push_str("pub(crate) static BUILTIN: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under root").to_string_lossy().replace('\\', "/");
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let _ = writeln!(src, "    ({rel:?}, include_str!({:?})),", abs.to_string_lossy());
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin.rs");
    std::fs::write(out, src).expect("write builtin.rs");
}

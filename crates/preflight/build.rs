//! Embeds the built-in checks (`checks/` at the workspace root) into the library: every `*.yaml`
//! file becomes an entry of `BUILTIN` (path relative to `checks/`, text), so the binary needs no
//! check files at run time. The same mechanism as the rule pack's (crates/rules/build.rs).

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

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../../checks");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut src = String::from("/// The built-in check files: (path relative to `checks/`, YAML text).\n");
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

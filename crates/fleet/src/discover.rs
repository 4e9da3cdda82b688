//! Which inputs are which nodes.
//!
//! Each argument is one node (a directory, an archive, a bundle), except a *directory of nodes*: a
//! directory holding at least two node folders or node archives and no log files of its own (a
//! `README.md` or a generator script beside them is allowed). A node's own layout (`var/`, `etc/`,
//! `journal/`, `sos_commands/`, ...) is never taken for node folders.

use std::path::{Path, PathBuf};

/// One node: a name (its folder or archive name) and what to read for it.
#[derive(Debug, Clone)]
pub struct NodeInput {
    /// Folder or archive name, without archive extensions.
    pub name: String,
    /// What to read.
    pub paths: Vec<PathBuf>,
}

/// Folder names that belong to a node's own layout, never node folders.
const LAYOUT: &[&str] = &[
    "var",
    "etc",
    "journal",
    "kubectl",
    "opensearch",
    "proc",
    "sys",
    "sos_commands",
    "sos_reports",
    "log",
    "logs",
    "run",
    "usr",
    "boot",
    "containers",
    "pods",
    "namespaces",
    "cluster-scoped-resources",
    "commands",
];

/// Files beside node folders that do not make the directory a node.
fn is_aside(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.starts_with("readme")
        || [".md", ".py", ".sh", ".rst", ".expected.json", ".done"].iter().any(|e| l.ends_with(e))
        || l == "license"
}

const ARCHIVES: &[&str] = &[".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2", ".tbz2"];

fn archive_stem(name: &str) -> Option<&str> {
    let l = name.to_ascii_lowercase();
    ARCHIVES.iter().find(|e| l.ends_with(*e)).map(|e| &name[..name.len() - e.len()])
}

/// The nodes `args` stand for, in argument order (a directory of nodes: its entries sorted by name).
pub fn discover(args: &[PathBuf]) -> Result<Vec<NodeInput>, String> {
    let mut out = Vec::new();
    for a in args {
        if !a.exists() {
            return Err(format!("{}: no such file or directory", a.display()));
        }
        match nodes_in(a) {
            Some(list) => out.extend(list),
            None => out.push(node(a)),
        }
    }
    Ok(out)
}

fn node(p: &Path) -> NodeInput {
    let file = p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string());
    let name = archive_stem(&file).map(str::to_string).unwrap_or(file);
    NodeInput { name, paths: vec![p.to_path_buf()] }
}

/// The node folders and archives of `dir` when it is a directory of nodes.
fn nodes_in(dir: &Path) -> Option<Vec<NodeInput>> {
    if !dir.is_dir() {
        return None;
    }
    let mut members: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            if LAYOUT.contains(&name.as_str()) {
                return None;
            }
            members.push(p);
        } else if archive_stem(&name).is_some() {
            members.push(p);
        } else if !is_aside(&name) {
            return None;
        }
    }
    if members.len() < 2 {
        return None;
    }
    members.sort();
    Some(members.iter().map(|p| node(p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_of_node_folders_is_split_and_a_node_folder_is_not() {
        let d = std::env::temp_dir().join(format!("rootline-fleet-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for n in ["n1/journal", "n2/var/log", "n3"] {
            std::fs::create_dir_all(d.join(n)).unwrap();
        }
        std::fs::write(d.join("n3/messages"), "x\n").unwrap();
        std::fs::write(d.join("README.md"), "fleet\n").unwrap();
        let nodes = discover(std::slice::from_ref(&d)).unwrap();
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["n1", "n2", "n3"]);
        // n1 holds only layout folders: one node.
        let one = discover(&[d.join("n1")]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(archive_stem("node7.tar.gz"), Some("node7"));
        let _ = std::fs::remove_dir_all(&d);
    }
}

//! The exposition written for node_exporter's textfile collector: `DIR/rootline.prom`, replaced
//! atomically (written to a hidden `.tmp` file in the same directory, synced, renamed over the old
//! one), so the collector never reads half a file. The collector only reads `*.prom` files, so the
//! temporary one is never collected (See: https://github.com/prometheus/node_exporter#textfile-collector).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name in the textfile directory.
pub const FILE_NAME: &str = "rootline.prom";

/// Replaces `dir/rootline.prom` with `text`; returns its path.
pub fn write(dir: &Path, text: &str) -> std::io::Result<PathBuf> {
    let target = dir.join(FILE_NAME);
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| target)
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        super::write(d.path(), "a 1\n").unwrap();
        let p = super::write(d.path(), "a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 2\n");
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["rootline.prom"]);
        assert!(super::write(&d.path().join("missing"), "x").is_err());
    }
}

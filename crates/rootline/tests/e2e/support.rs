//! What the end-to-end modules share: the workspace root and running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (examples are addressed from there).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `rootline` binary, blind to the case database of whoever runs the tests: `XDG_DATA_HOME`
/// names a directory that does not exist and `ROOTLINE_DB` is unset, so no output depends on the
/// machine's files ("seen before" appears only where a test gives `--db`).
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rootline"));
    c.env("XDG_DATA_HOME", "/nonexistent/rootline-e2e-tests").env_remove("ROOTLINE_DB");
    c
}

/// Runs `rootline ARGS` from the workspace root in a plain English UTF-8 locale and asserts exit 0.
pub fn rootline(args: &[&str]) -> Output {
    let out = command()
        .current_dir(root())
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .args(args)
        .output()
        .expect("rootline runs");
    assert_eq!(out.status.code(), Some(0), "rootline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The standard output of [`rootline`], as text.
pub fn stdout(args: &[&str]) -> String {
    String::from_utf8(rootline(args).stdout).expect("UTF-8 output")
}

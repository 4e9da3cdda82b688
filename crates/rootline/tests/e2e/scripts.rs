//! The shell scripts find the binary cargo built wherever `CARGO_TARGET_DIR` puts it. Nothing is
//! built here: `cargo_target_dir` asks the real cargo, and `scripts/demo` runs with stand-ins for
//! `cargo build`, `apt-get` and the binary, so the test shows which binary the script executes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::root;

fn workspace() -> PathBuf {
    root().canonicalize().expect("workspace root")
}

/// `cargo_target_dir` of scripts/target-dir.sh, run from the workspace root with `env` applied.
fn target_dir(env: &[(&str, Option<&str>)]) -> PathBuf {
    let mut cmd = Command::new("bash");
    cmd.current_dir(workspace()).args(["-c", "source scripts/target-dir.sh && cargo_target_dir"]);
    // The cargo that runs these tests, first on PATH (a rustup proxy may stand in for it otherwise).
    let cargo_dir = Path::new(env!("CARGO")).parent().expect("cargo's directory").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(cargo_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    cmd.env("PATH", path).env_remove("CARGO_BUILD_TARGET_DIR");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = String::from_utf8(out.stdout).expect("UTF-8 path");
    PathBuf::from(s.trim_end_matches('\n'))
}

#[test]
fn target_dir_follows_cargo_target_dir() {
    let ws = workspace();
    let tmp = tempfile::tempdir().unwrap();
    let abs = tmp.path().join("elsewhere");
    assert_eq!(target_dir(&[("CARGO_TARGET_DIR", abs.to_str())]), abs);
    // A relative one is relative to the workspace root, where the scripts run cargo.
    assert_eq!(target_dir(&[("CARGO_TARGET_DIR", Some("out/t"))]), ws.join("out/t"));
    assert_eq!(target_dir(&[("CARGO_TARGET_DIR", None)]), ws.join("target"));
}

fn write_exe(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn demo_runs_the_binary_in_cargo_target_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let stubs = tmp.path().join("bin");
    let target = tmp.path().join("target");
    let log = tmp.path().join("log");
    // cargo: `metadata` is the real one (it resolves the target directory); builds and fetches are
    // only written down. apt-get and sudo: written down (scripts/setup may want packages).
    write_exe(
        &stubs.join("cargo"),
        "#!/bin/sh\nif [ \"$1\" = metadata ]; then exec \"$REAL_CARGO\" \"$@\"; fi\necho \"cargo $*\" >>\"$STUB_LOG\"\n",
    );
    write_exe(&stubs.join("apt-get"), "#!/bin/sh\necho \"apt-get $*\" >>\"$STUB_LOG\"\n");
    write_exe(&stubs.join("sudo"), "#!/bin/sh\nexec \"$@\"\n");
    // The "built" binary where cargo would put it under CARGO_TARGET_DIR.
    write_exe(&target.join("release/rootline"), "#!/bin/sh\necho \"rootline $*\" >>\"$STUB_LOG\"\n");
    let path = std::env::join_paths(
        std::iter::once(stubs.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let out = Command::new(workspace().join("scripts/demo"))
        .env("PATH", path)
        .env("REAL_CARGO", env!("CARGO"))
        .env("STUB_LOG", &log)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("scripts/demo runs");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{}\n{log}", String::from_utf8_lossy(&out.stderr));
    assert!(log.contains("cargo build --release -q -p rootline"), "{log}");
    assert!(log.contains("rootline analyze examples/incidents/seed-37\n"), "{log}");
    assert!(log.contains("rootline timeline examples/incidents/seed-37 --collapse"), "{log}");
}

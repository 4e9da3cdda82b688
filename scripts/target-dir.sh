# Sourced, not run, by the scripts that run what cargo built (scripts/demo, lab/test, bench/*.sh).
#
# cargo_target_dir: prints the absolute directory cargo builds into, as cargo itself resolves it:
# CARGO_TARGET_DIR (a relative one is taken from the workspace root, where the scripts run cargo),
# CARGO_BUILD_TARGET_DIR, build.target-dir in a .cargo/config.toml, else the workspace's target/.
# Run it from the workspace root.
cargo_target_dir() {
  local dir
  dir=$(cargo metadata --format-version 1 --no-deps --offline 2>/dev/null |
    grep -o '"target_directory":"[^"]*"' | head -n 1 | cut -d'"' -f4) || true
  if [ -z "$dir" ]; then
    # cargo metadata failed (no cargo yet, a broken manifest): the variable or the default.
    dir=${CARGO_TARGET_DIR:-${CARGO_BUILD_TARGET_DIR:-target}}
  fi
  case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
  printf '%s\n' "$dir"
}

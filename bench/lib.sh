# Shared by the bench/*.sh scripts (sourced, not run): tool installation, the release build, the
# generated corpus, and measuring one command's time and peak memory. Run from the workspace root.

source scripts/target-dir.sh

# bench_need CMD:PACKAGE ...: installs with apt-get the packages whose command is missing.
bench_need() {
  local need=() spec cmd pkg
  for spec in "$@"; do
    cmd=${spec%%:*}
    pkg=${spec#*:}
    if [ "$cmd" = time ]; then
      [ -x /usr/bin/time ] || need+=("$pkg")
    else
      command -v "$cmd" >/dev/null || need+=("$pkg")
    fi
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# bench_build: builds the release binary; sets $bin to it and $target to cargo's target directory.
bench_build() {
  cargo build --release -q -p rootline
  target=$(cargo_target_dir)
  bin=$target/release/rootline
  mkdir -p bench/out
}

# bench_corpus MB: prints the path of the MB-megabyte corpus of bench/gen-corpus.py, generating it
# once (a `.done` marker beside the folder, not inside it, says it is complete; a missing folder is made again).
bench_corpus() {
  local corpus=bench/out/corpus-$1
  if [ ! -f "$corpus.done" ] || [ ! -d "$corpus" ]; then
    rm -rf "$corpus"
    python3 bench/gen-corpus.py "$corpus" "$1" >&2
    touch "$corpus.done"
  fi
  echo "$corpus"
}

# measure CMD...: prints "seconds peak_kib" for one run of CMD (its output discarded).
measure() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%e %M' "$@" >/dev/null 2>/dev/null || true
  tail -n1 "$f"
  rm -f "$f"
}

# measure_cpu CMD...: prints "seconds peak_kib cpu_seconds" (user + system) for one run of CMD.
measure_cpu() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%e %M %U %S' "$@" >/dev/null 2>/dev/null || true
  tail -n1 "$f" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }'
  rm -f "$f"
}

# bench_row WIDTH LABEL SECONDS CPU_SECONDS PEAK_KIB BYTES LNAV_SECONDS: one row of the tables of
# bench/ingest.sh and bench/floor.sh: LABEL padded to WIDTH, seconds, CPU seconds, MB/s, peak MiB, and
# lnav's time over this time.
bench_row() {
  awk -v w="$1" -v t="$2" -v s="$3" -v c="$4" -v m="$5" -v b="$6" -v l="$7" \
    'BEGIN { if (s <= 0) s = 0.001; printf("%-" w "s %9.2f %8.2f %10.0f %11.0f %8.1fx\n", t, s, c, b/1e6/s, m/1024, l/s) }'
}

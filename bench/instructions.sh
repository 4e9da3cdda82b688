#!/usr/bin/env bash
# Instruction counts of rootline's timeline phases, for comparing two builds on a busy machine: unlike
# wall or CPU time, the count of instructions executed (valgrind's cachegrind, no cache simulation)
# does not move with the load of other processes, so a change of 1% shows up. It counts user-space
# instructions only: kernel work (reads, the spill file, page faults) and cache misses are not in it,
# so confirm a gain in time with bench/ingest.sh on a quiet machine.
#
# Usage: bench/instructions.sh [SIZE_MB] [BINARY ...]
#   (default: 64 MB; the release binary built here, plus any other binaries given, e.g. an older build)
# Needs: valgrind (installed with apt-get when missing). About 10-20 s per binary at 64 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-64}
shift || true

source bench/lib.sh
bench_need valgrind:valgrind
bench_build
corpus=$(bench_corpus "$mb")

count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}

printf '%-40s %16s %16s %12s\n' "binary" "read (--stats)" "timeline" "per event"
events=$("$bin" timeline --stats --json "$corpus" | awk -F': ' '/"events"/ { gsub(",", "", $2); print $2; exit }')
for b in "$bin" "$@"; do
  r=$(count "$b" timeline --stats "$corpus")
  t=$(count "$b" timeline "$corpus")
  awk -v b="$b" -v r="$r" -v t="$t" -v e="$events" \
    'BEGIN { printf "%-40s %16.0f %16.0f %12.0f\n", b, r, t, t / e }'
done
echo
echo "Instructions executed (user space) over the ${mb} MB corpus ($events events); lower is better."

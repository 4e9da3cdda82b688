#!/usr/bin/env bash
# Agent benchmark: CPU time and memory per cycle of a running `rootline agent` (one cycle a
# second), on the fault lab's captured outage (crates/node/tests/data/lab-outage) and on this
# machine (live: /proc, /sys and doctor's commands, most of them not installed here), then with
# /summary made again every 10 s from the logs of examples/incidents/seed-37. CPU per cycle is the
# process's user plus system time between two scrapes divided by the cycles completed between them
# (the start-up is left out); peak is VmHWM, resident VmRSS at the end. Then `--once` runs, start
# to exit (the average of 20).
#
# Usage: bench/agent.sh [SECONDS]     (default 60 per run)
# Needs: curl, GNU time (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}

source bench/lib.sh
bench_need curl:curl time:time
bench_build
tick=$(getconf CLK_TCK)
outage=crates/node/tests/data/lab-outage

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -sf "http://$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

run() {
  local label=$1
  shift
  local err pid addr c0 t0 c1 t1
  err=$(mktemp)
  "$bin" agent "$@" --listen 127.0.0.1:0 --interval 1s 2>"$err" &
  pid=$!
  for _ in $(seq 1 100); do
    addr=$(grep -o 'serving http://[^/]*' "$err" | sed 's|serving http://||' || true)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "the agent did not start: $(cat "$err")" >&2; kill "$pid"; exit 1; }
  sleep 5
  c0=$(metric "$addr" rootline_cycles_total); t0=$(cpu_ticks "$pid")
  sleep "$secs"
  c1=$(metric "$addr" rootline_cycles_total); t1=$(cpu_ticks "$pid")
  local hwm rss
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$err"
  awk -v l="$label" -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v hz="$tick" -v hwm="$hwm" -v rss="$rss" 'BEGIN {
    printf "%-52s %6d cycles  %7.2f ms CPU/cycle  peak %6.1f MiB  resident %6.1f MiB\n",
      l, c, (c > 0 ? t * 1000 / hz / c : 0), hwm / 1024, rss / 1024 }'
}

echo "rootline agent, one cycle a second, measured over ${secs} s after a 5 s start ($(nproc) cores)"
run "lab's captured outage (--root, no summary)" --root "$outage" --no-summary
run "this machine, live (no summary)" --no-summary --timeout 2s
run "captured outage, summary of seed-37 every 10 s" --root "$outage" --logs examples/incidents/seed-37 --summary-every 10s
f=$(mktemp)
# 20 runs in one timed shell: one run is below GNU time's 10 ms resolution.
/usr/bin/time -o "$f" -f '%e %U %S %M' sh -c \
  'for i in $(seq 20); do "$0" agent --root "$1" --once >/dev/null; done' "$bin" "$outage"
read -r wall user sys peak <"$f"
rm -f "$f"
awk -v w="$wall" -v u="$user" -v s="$sys" -v p="$peak" 'BEGIN {
  printf "%-52s %6.1f ms wall  %7.2f ms CPU  peak %6.1f MiB\n", "one --once run on the captured outage (20 runs)", w * 1000 / 20, (u + s) * 1000 / 20, p / 1024 }'

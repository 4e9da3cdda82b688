#!/usr/bin/env bash
# Ingest benchmark: rootline's timeline (parse + resolve + merge, output to /dev/null) beside `rg -c`
# with a literal and lnav's headless indexing of the same files, with CPU time and peak memory, in one
# run; then rootline's phases (read only, merge without printing) and its JSON output.
#
# Usage: bench/ingest.sh [SIZE_MB ...]     (default: 256 1024; the corpus is made by bench/gen-corpus.py)
# Needs: ripgrep, lnav, GNU time (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)

source bench/lib.sh
bench_need rg:ripgrep lnav:lnav time:time
bench_build

printf '%-8s %-30s %9s %8s %10s %11s %9s\n' "size" "tool" "seconds" "CPU s" "MB/s" "peak MiB" "vs lnav"
for mb in "${sizes[@]}"; do
  corpus=$(bench_corpus "$mb")
  bytes=$(du -sb "$corpus" | cut -f1)
  # Warm the page cache so every tool reads from memory.
  cat "$corpus"/*/* >/dev/null
  declare -A secs mem cpu
  read -r secs[rootline] mem[rootline] cpu[rootline] < <(measure_cpu "$bin" timeline "$corpus")
  read -r secs[rg] mem[rg] cpu[rg] < <(measure_cpu rg -c --no-messages "remaining active paths" "$corpus")
  read -r secs[lnav] mem[lnav] cpu[lnav] < <(measure_cpu lnav -n -r -c ';SELECT count(*) FROM all_logs' "$corpus")
  # Where rootline's time goes: reading alone (detect, parse, plan; no merge), every event merged but
  # none printed (a --grep that matches nothing), and the JSON lines.
  read -r secs[read] mem[read] cpu[read] < <(measure_cpu "$bin" timeline --stats "$corpus")
  read -r secs[merge] mem[merge] cpu[merge] < <(measure_cpu "$bin" timeline --grep '^NO SUCH LINE$' "$corpus")
  read -r secs[json] mem[json] cpu[json] < <(measure_cpu "$bin" timeline --json "$corpus")
  for tool in rootline rg lnav read merge json; do
    label=$tool
    case $tool in
      rootline) label="rootline timeline >/dev/null" ;;
      rg) label="rg -c LITERAL" ;;
      lnav) label="lnav -n (headless index)" ;;
      read) label="  phase: read (--stats)" ;;
      merge) label="  phase: + merge (--grep none)" ;;
      json) label="  rootline timeline --json" ;;
    esac
    bench_row 39 "$(printf '%-8s %s' "${mb}MB" "$label")" "${secs[$tool]}" "${cpu[$tool]}" "${mem[$tool]}" "$bytes" "${secs[lnav]}"
  done
done
echo
echo "vs lnav = lnav's time / the tool's time (higher is faster). CPU s = user + system seconds."
echo "Memory is peak resident set size. The phase rows are rootline runs that stop earlier or print JSON."

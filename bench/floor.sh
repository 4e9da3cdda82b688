#!/usr/bin/env bash
# The speed floor beside rootline and lnav: bench/floor/ is a measuring instrument (not product code)
# that does the least a time-ordered merge of the corpus can do (format known from the file name, time
# parsed, k-way merge, one text line per event, no detection, lossless bytes, multi-line records, year
# or boot inference, stats or provenance; see its header). Its time bounds what any log merger,
# rootline included, can reach on this machine.
#
# Usage: bench/floor.sh [SIZE_MB]     (default 1024; the corpus is made by bench/gen-corpus.py)
# Needs: ripgrep, lnav, GNU time (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-1024}

source bench/lib.sh
bench_need rg:ripgrep lnav:lnav time:time
bench_build
cargo build --release -q --manifest-path bench/floor/Cargo.toml --target-dir "$target/bench-floor"
floor=$target/bench-floor/release/rootline-floor
corpus=$(bench_corpus "$mb")
bytes=$(du -sb "$corpus" | cut -f1)
cat "$corpus"/*/* >/dev/null

printf '%-36s %9s %8s %10s %11s %9s\n' "tool" "seconds" "CPU s" "MB/s" "peak MiB" "vs lnav"
declare -A secs mem cpu
read -r secs[lnav] mem[lnav] cpu[lnav] < <(measure_cpu lnav -n -r -c ';SELECT count(*) FROM all_logs' "$corpus")
read -r secs[rootline] mem[rootline] cpu[rootline] < <(measure_cpu "$bin" timeline "$corpus")
read -r secs[floor] mem[floor] cpu[floor] < <(measure_cpu "$floor" full "$corpus")
read -r secs[merge] mem[merge] cpu[merge] < <(measure_cpu "$floor" merge "$corpus")
read -r secs[parse] mem[parse] cpu[parse] < <(measure_cpu "$floor" parse "$corpus")
read -r secs[rg] mem[rg] cpu[rg] < <(measure_cpu rg -c --no-messages "remaining active paths" "$corpus")
for tool in lnav rootline floor merge parse rg; do
  case $tool in
    lnav) label="lnav -n (headless index)" ;;
    rootline) label="rootline timeline >/dev/null" ;;
    floor) label="floor full (parse, merge, print)" ;;
    merge) label="floor merge (no print)" ;;
    parse) label="floor parse (no merge, no print)" ;;
    rg) label="rg -c LITERAL" ;;
  esac
  bench_row 36 "$label" "${secs[$tool]}" "${cpu[$tool]}" "${mem[$tool]}" "$bytes" "${secs[lnav]}"
done
echo
echo "${mb} MB corpus; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). vs lnav = lnav's time / the tool's."

#!/usr/bin/env bash
# Analysis benchmark on a fault-dense corpus: rootline analyze (text and JSON), rootline timeline and
# `rg -c -f failure-signatures.txt` (what a person would run instead) side by side, with time, CPU
# seconds and peak memory, at each size; then the ratios the goals are about: analyze against
# timeline and rg on the same files, and the largest size's time against the smallest's.
#
# The corpus is ../shared/bench/gen_corpus.py's (two nodes, seed 7: a node whose storage paths
# flapped for days, about 5% of its lines failure signatures), written to bench/out/dense-<MB> once
# (a `.done` marker beside it says it is complete). Corpora larger than 256 MB are deleted after
# their rows (BENCH_KEEP=1 keeps them); keep at most one 1 GiB corpus on a small disk.
#
# Usage: bench/analyze.sh [SIZE_MB ...]     (default: 256 1024)
#        RUNS=N (default 3 up to 256 MB, 1 above): runs per command; the median is shown.
# Needs: python3, ripgrep, GNU time (installed with apt-get when missing), ../shared/data/loghub-2k.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)

source bench/lib.sh
bench_need rg:ripgrep time:time python3:python3
bench_build
signatures=../shared/bench/failure-signatures.txt

# dense_corpus MB: prints the path of the MB-megabyte dense corpus, generating it once.
dense_corpus() {
  local corpus=bench/out/dense-$1
  if [ ! -f "$corpus.done" ] || [ ! -d "$corpus" ]; then
    rm -rf "$corpus"
    python3 ../shared/bench/gen_corpus.py --loghub ../shared/data/loghub-2k --out "$corpus" \
      --total-mib "$1" --nodes 2 --seed 7 --jobs 2 --manifest "$corpus.manifest.json" >&2
    touch "$corpus.done"
  fi
  echo "$corpus"
}

# median_run RUNS CMD...: "seconds peak_kib cpu_seconds" of the run with the median time.
median_run() {
  local n=$1
  shift
  local i
  for ((i = 0; i < n; i++)); do
    measure_cpu "$@"
  done | sort -n -k1,1 | awk -v n="$n" '{ r[NR] = $0 } END { print r[int((n + 1) / 2)] }'
}

declare -A secs mem cpu
tools=(analyze json timeline rg)
printf '%-8s %-34s %9s %8s %10s %9s\n' "size" "command" "seconds" "CPU s" "peak MiB" "MB/s"
for mb in "${sizes[@]}"; do
  corpus=$(dense_corpus "$mb")
  bytes=$(du -sb "$corpus" | cut -f1)
  runs=${RUNS:-$([ "$mb" -le 256 ] && echo 3 || echo 1)}
  # Warm the page cache so every command reads from memory.
  cat "$corpus"/*/* >/dev/null
  read -r secs[$mb,analyze] mem[$mb,analyze] cpu[$mb,analyze] < <(median_run "$runs" "$bin" analyze "$corpus")
  read -r secs[$mb,json] mem[$mb,json] cpu[$mb,json] < <(median_run "$runs" "$bin" analyze --format json "$corpus")
  read -r secs[$mb,timeline] mem[$mb,timeline] cpu[$mb,timeline] < <(median_run "$runs" "$bin" timeline "$corpus")
  read -r secs[$mb,rg] mem[$mb,rg] cpu[$mb,rg] < <(median_run "$runs" rg -c --no-messages -f "$signatures" "$corpus")
  for t in "${tools[@]}"; do
    case $t in
      analyze) label="rootline analyze (text)" ;;
      json) label="rootline analyze --format json" ;;
      timeline) label="rootline timeline >/dev/null" ;;
      rg) label="rg -c -f failure-signatures.txt" ;;
    esac
    awk -v size="${mb}MB" -v l="$label" -v s="${secs[$mb,$t]}" -v c="${cpu[$mb,$t]}" -v m="${mem[$mb,$t]}" -v b="$bytes" \
      'BEGIN { if (s <= 0) s = 0.001; printf("%-8s %-34s %9.2f %8.2f %10.0f %9.0f\n", size, l, s, c, m / 1024, b / 1e6 / s) }'
  done
  if [ "$mb" -gt 256 ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$corpus" "$corpus.done" "$corpus.manifest.json"
  fi
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.001; printf("%.2f", a / b) }'; }
for mb in "${sizes[@]}"; do
  echo "${mb}MB: analyze / timeline $(ratio "${secs[$mb,analyze]}" "${secs[$mb,timeline]}")x (goal <= 3)," \
    "analyze / rg $(ratio "${secs[$mb,analyze]}" "${secs[$mb,rg]}")x (aim <= 2)," \
    "analyze peak $(awk -v m="${mem[$mb,analyze]}" 'BEGIN { printf("%.0f", m / 1024) }') MiB"
done
if [ ${#sizes[@]} -ge 2 ]; then
  small=${sizes[0]}
  big=${sizes[${#sizes[@]} - 1]}
  line="time ${big}MB / ${small}MB (goal <= 4.4 for 4x):"
  for t in "${tools[@]}"; do
    line="$line $t $(ratio "${secs[$big,$t]}" "${secs[$small,$t]}")"
  done
  echo "$line"
  echo "peak memory at ${big}MB: analyze $(awk -v m="${mem[$big,analyze]}" 'BEGIN { printf("%.0f", m / 1024) }') MiB," \
    "analyze --format json $(awk -v m="${mem[$big,json]}" 'BEGIN { printf("%.0f", m / 1024) }') MiB (goal <= 400 MiB)"
fi
echo "Seconds, CPU seconds (user + system) and peak resident memory of the median run of ${RUNS:-3 (1 above 256 MB)};"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."

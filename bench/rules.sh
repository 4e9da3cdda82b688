#!/usr/bin/env bash
# Rule-matching benchmark: the whole built-in pack run by rootline over the ingest benchmark corpus,
# beside `rg -c` with the same patterns as one alternation (`rg -f`), in one run.
#
# Usage: bench/rules.sh [SIZE_MB]      (default 256; the corpus is made by bench/gen-corpus.py and
#                                       reused from bench/out/corpus-SIZE_MB)
# Prints, per tool: seconds and MB/s of corpus bytes; for rootline also the matching stage alone
# (events already in memory) in MB/s of message bytes. Needs ripgrep (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-256}
source bench/lib.sh
bench_need rg:ripgrep
bench_build
corpus=$(bench_corpus "$mb")
bytes=$(du -sb "$corpus" | cut -f1)
pats=bench/out/rules-patterns.txt
"$bin" rules patterns > "$pats"
npat=$(wc -l < "$pats")
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / 1e6 / (s > 0 ? s : 1e-9) }'; }
now() { date +%s.%N; }

# Warm the page cache so both tools read from memory.
find "$corpus" -type f -exec cat {} + >/dev/null

t0=$(now); rg_lines=$(rg -c --no-filename -f "$pats" "$corpus" | awk '{s+=$1} END {print s+0}'); t1=$(now)
rg_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

stats=$(mktemp)
t0=$(now); "$bin" rules scan --stats "$corpus" >/dev/null 2>"$stats"; t1=$(now)
rl_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
line=$(grep '^rootline:' "$stats" | tail -n1); rm -f "$stats"
match_s=$(sed -E 's/.*match ([0-9.]+)s.*/\1/' <<<"$line")
match_mbs=$(sed -E 's/.*\(([0-9]+) MB\/s of messages\).*/\1/' <<<"$line")
findings=$(sed -E 's/.* ([0-9]+) findings.*/\1/' <<<"$line")

printf 'corpus %s: %s bytes, %s patterns from the built-in pack\n' "$corpus" "$bytes" "$npat"
printf '%-44s %9s %9s  %s\n' "tool" "seconds" "MB/s" "result"
printf '%-44s %9.2f %9s  %s matching lines\n' "rg -c -f patterns (one alternation)" "$rg_s" "$(mbs "$rg_s")" "$rg_lines"
printf '%-44s %9.2f %9s  %s findings\n' "rootline rules scan (ingest + match)" "$rl_s" "$(mbs "$rl_s")" "$findings"
printf '%-44s %9.2f %9s  (message bytes, events in memory)\n' "rootline matching stage alone" "$match_s" "$match_mbs"
awk -v r="$rg_s" -v m="$match_s" -v e="$rl_s" 'BEGIN { printf "ratio to rg: matching stage %.2fx, end to end %.2fx\n", r / m, r / e }'

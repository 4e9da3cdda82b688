#!/usr/bin/env bash
# Loghub-2k benchmark of the template miner: per-dataset grouping accuracy (GA) and parsing accuracy
# (PA) beside Drain's published GA, then lines per second on a replicated corpus.
#
# Usage: bench/loghub.sh [DATA_DIR]     (default: ../shared/data/loghub-2k relative to the workspace)
#
# 1. In-process: the library mines each dataset's `Content` column (default parameters, the same for
#    every dataset) and the example binary evaluates it.
# 2. Through the command line: the same contents, one per line, go through
#    `rootline templates --input-format plain --per-line`, and its output is evaluated the same way, so
#    anyone can recompute the accuracy from the per-line JSON with their own evaluator
#    (files kept in $OUT, default loghub-bench/ in cargo's target directory).
# 3. Speed: the 16 x 2,000 contents replicated to 2,000,000 lines, mined on one core (best of 3).
#
# Drain's GA figures are from Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
# ICSE-SEIP 2019 (they are listed in crates/template/examples/loghub.rs).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-$root/../shared/data/loghub-2k}"
if [ ! -d "$data" ]; then
    echo "loghub.sh: no Loghub-2k data at $data" >&2
    exit 2
fi

cd "$root"
source scripts/target-dir.sh
cargo build --release -q -p rootline -p rootline-template --example loghub
target=$(cargo_target_dir)
out="${OUT:-$target/loghub-bench}"
bin="$target/release/examples/loghub"
rootline="$target/release/rootline"

echo "== in-process (library)"
"$bin" accuracy "$data"

echo
echo "== through 'rootline templates --input-format plain --per-line' (output in $out)"
mkdir -p "$out"
for d in HDFS Hadoop Spark Zookeeper BGL HPC Thunderbird Windows Linux Android HealthApp Apache OpenSSH OpenStack Mac Proxifier; do
    "$bin" content "$data/$d/${d}_2k.log_structured_corrected.csv" > "$out/$d.txt"
    "$rootline" templates --input-format plain --per-line "$out/$d.txt" > "$out/$d.jsonl"
done
"$bin" accuracy "$data" --per-line "$out"

echo
echo "== speed"
"$bin" speed "$data" 2000000

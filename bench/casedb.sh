#!/usr/bin/env bash
# Case database benchmark: `rootline cases similar` over N stored cases (default 100,000), on SQLite
# and on PostgreSQL, with the latency of each search as an operator sees it (process start to exit,
# reading the saved analysis, opening the database, searching, writing the JSON): p50, p95, max; and,
# on SQLite, what the search's bounds cost (its top 5 against the exhaustive search's).
# (This is bench/casedb.sh because bench/cases.sh is another benchmark: it scores the analysis on
# the public incidents of examples/cases.)
#
# Usage: bench/casedb.sh [N [ROUNDS]]        (default: 100000 cases, 3 rounds over the queries)
#
# The cases are made from the examples (examples/incidents/* and examples/cases/* with an incident,
# analysed once), each with other entities, dates and a shape of its own (bench/casedb.py gen); the
# queries are the examples' own analyses. Everything it generates (analyses, the JSON lines, the
# SQLite file, the PostgreSQL data directory) lives in one temporary directory (CASEDB_TMP, default
# under /tmp) that is removed at the end; PostgreSQL runs there as a scratch server
# (scripts/pg-scratch) and is stopped at the end. ROOTLINE_BIN names a binary to measure instead of
# building the release one. Needs: python3, Debian's postgresql (scripts/setup installs it), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
rounds=${2:-3}

source bench/lib.sh
bench_need time:time
if [ -n "${ROOTLINE_BIN:-}" ]; then
  bin=$ROOTLINE_BIN
else
  bench_build
fi
export XDG_DATA_HOME=/nonexistent/rootline-bench
unset ROOTLINE_DB

# Under /tmp: the scratch server runs as an unprivileged user when this runs as root, and must be
# able to reach its directory.
out=$(mktemp -d "${CASEDB_TMP:-/tmp}/rootline-casedb.XXXXXX")
chmod 755 "$out"
pgdir=$out/pg
cleanup() {
  if [ -d "$pgdir" ]; then scripts/pg-scratch stop "$pgdir" || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

python3 bench/casedb.py bases "$bin" "$out"
"$bin" cases --db "sqlite://$out/base.db" add "$out"/analyses/*.json >/dev/null
"$bin" cases --db "sqlite://$out/base.db" export -o "$out/base.jsonl"
gen=$out/cases-$n.jsonl
python3 bench/casedb.py gen "$out/base.jsonl" "$n" "$gen"
echo "base cases: $(wc -l <"$out/base.jsonl"); generated: $n ($(du -h "$gen" | cut -f1)); queries: $(ls "$out"/analyses/*.json | wc -l)"

echo "== SQLite"
db=$out/cases-$n.db
read -r secs kib < <(measure "$bin" cases --db "sqlite://$db" import "$gen")
echo "import: ${secs} s, peak $((kib / 1024)) MiB; file $(du -h "$db" | cut -f1)"
python3 bench/casedb.py time "$bin" "sqlite://$db" "$out/analyses" "$rounds"
python3 bench/casedb.py exhaustive "$bin" "sqlite://$db" "$out/analyses"
rm -f "$db"

echo "== PostgreSQL"
url=$(scripts/pg-scratch start "$pgdir")
read -r secs kib < <(measure "$bin" cases --db "$url" import "$gen")
psql -q "$url" -c 'VACUUM ANALYZE' >/dev/null
size=$(psql -At "$url" -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
echo "import: ${secs} s, peak $((kib / 1024)) MiB; database $size (then VACUUM ANALYZE)"
python3 bench/casedb.py time "$bin" "$url" "$out/analyses" "$rounds"

#!/usr/bin/env bash
# Fleet benchmark: `rootline fleet` over NODES nodes of MB megabytes of logs each, beside `rg -c` with a
# literal over the same bytes, with time and peak memory; then the same over the first 20 nodes, to
# show that memory does not grow with the number of nodes.
#
# Usage: bench/fleet.sh [NODES [MB]]      (default: 87 nodes, 50 MB each)
# The fleet is generated once and cached under bench/out/fleet-NODESxMB/ (minutes the first time):
# bench/gen-corpus.py writes 8 distinct nodes of MB each; every fleet node is one of them with its
# host name rewritten (s-fleetNN-comNNN-krw1a); node 37 is renamed s-dcn37-com604-krw1a and also
# carries the seed incident (examples/incidents/seed-37) in a `seed/` folder, so there is one node
# that broke among healthy-looking peers.
# Needs: python3, ripgrep, GNU time (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-87}
mb=${2:-50}

source bench/lib.sh
bench_need rg:ripgrep time:time
bench_build

base=bench/out/fleet-base-$mb
if [ ! -f "$base.done" ] || [ ! -d "$base" ]; then
  rm -rf "$base"
  echo "generating 8 base nodes of $mb MB (bench/gen-corpus.py)..." >&2
  python3 bench/gen-corpus.py "$base" $((mb * 8))
  touch "$base.done"
fi
fleet=bench/out/fleet-${nodes}x$mb
if [ ! -f "$fleet.done" ] || [ ! -d "$fleet" ]; then
  rm -rf "$fleet"
  mkdir -p "$fleet"
  echo "writing $nodes nodes under $fleet..." >&2
  mapfile -t hosts < <(ls "$base")
  for i in $(seq 1 "$nodes"); do
    src=${hosts[$(( (i - 1) % ${#hosts[@]} ))]}
    if [ "$i" -eq 37 ]; then new=s-dcn37-com604-krw1a; else new=$(printf 's-fleet%02d-com%03d-krw1a' "$i" "$i"); fi
    printf '%s %s %s\n' "$src" "$new" "$i"
  done | xargs -P 2 -n 3 sh -c '
    src=$0; new=$1; i=$2; d='"$fleet"'/$(printf "node-%02d" "$i")
    mkdir -p "$d"
    for f in '"$base"'/"$src"/*; do sed "s/$src/$new/g" "$f" > "$d/$(basename "$f")"; done
    if [ "$i" -eq 37 ]; then cp -r examples/incidents/seed-37 "$d/seed"; rm -f "$d/seed/README.md"; fi'
  touch "$fleet.done"
fi

bytes=$(du -sb "$fleet" | cut -f1)
cat "$fleet"/*/* "$fleet"/*/seed/*/* >/dev/null 2>&1 || true   # warm the page cache
mapfile -t first20 < <(ls -d "$fleet"/node-* | head -n 20)
b20=$(du -scb "${first20[@]}" | tail -n1 | cut -f1)
printf '%-7s %-9s %-34s %9s %9s %9s\n' nodes MB tool seconds MB/s "peak MiB"
row() { # nodes bytes label seconds kib
  printf '%-7s %-9s %-34s %9s %9.0f %9.0f\n' "$1" $(( $2 / 1000000 )) "$3" "$4" \
    "$(echo "$2 / 1000000 / ($4 + 0.001)" | bc -l)" "$(echo "$5 / 1024" | bc -l)"
}
read -r s k < <(measure "$bin" fleet "$fleet"); row "$nodes" "$bytes" "rootline fleet" "$s" "$k"
read -r s k < <(measure rg -c --no-messages "remaining active paths" "$fleet"); row "$nodes" "$bytes" "rg -c LITERAL" "$s" "$k"
read -r s k < <(measure "$bin" fleet "${first20[@]}"); row 20 "$b20" "rootline fleet (first 20 nodes)" "$s" "$k"
read -r s k < <(measure rg -c --no-messages "remaining active paths" "${first20[@]}"); row 20 "$b20" "rg -c LITERAL (first 20 nodes)" "$s" "$k"
echo
echo "the comparison itself (text output, first lines):"
"$bin" fleet "$fleet" | head -n 12

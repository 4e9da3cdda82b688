#!/usr/bin/env bash
# Scores rootline on the corpus of public incidents (examples/cases/): family accuracy, signature
# recall and look-alikes raised, per case and in total, beside the goals. Offline; a few seconds
# after the build. Definitions: examples/cases/README.md ("Scoring").
#
# Usage: bench/cases.sh [--only NAME_SUBSTRING] [--json]
#        (honours CARGO_TARGET_DIR; the release binary is built first)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_build
exec python3 bench/cases.py "$bin" examples/cases "$@"

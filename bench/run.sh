#!/usr/bin/env bash
# The side-by-side tables: eddy, the peer emulators and the ceiling server in one run
# (bench/run.py does the work; docs/performance.md describes the method).
#   bench/run.sh [BUILD_DIR] [SECONDS] [ROUNDS] [bench/run.py options, e.g. --full --suites s3]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-5}
rounds=${3:-3}
shift $(($# < 3 ? $# : 3))
exec python3 "$here/run.py" --build "$build" --seconds "$secs" --rounds "$rounds" "$@"

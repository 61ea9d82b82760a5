#!/usr/bin/env bash
# One fuzz target, bounded (ctest san.fuzz.<target>, docs/testing.md "Sanitizers"):
#   fuzz/run.sh BINARY CORPUS_DIR OUT_DIR
# replays the seed corpus, then fuzzes for EDDY_FUZZ_SECONDS (default 5). New inputs go to a
# scratch directory (the seeds stay as they are); a crashing input is kept in OUT_DIR
# (crash-<hash>, replay it with `BINARY FILE`); OUT_DIR/<target>.stats gets the run's executions.
# Fails on a crash, a sanitizer report or an input that runs past 120 s.
set -euo pipefail
bin=$1 corpus=$2 out=$3
seconds=${EDDY_FUZZ_SECONDS:-5}
name=$(basename "$bin")
[ -x "$bin" ] || { echo "$bin is not built (./dev sanitize builds it)" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
rc=0
(cd "$work" && "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=120 -print_final_stats=1 \
   -artifact_prefix="$out/$name-" "$work/new" "$corpus" >"$work/log" 2>&1) || rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "$name: ${runs:-?} executions in ${seconds} s (corpus $(ls "$corpus" | wc -l) seeds, $(ls "$work/new" | wc -l) new inputs)" |
  tee "$out/$name.stats"
if [ "$rc" -ne 0 ]; then
  tail -n 80 "$work/log" >&2
  echo "FAIL: $name exited $rc; inputs that failed are in $out" >&2
fi
exit "$rc"

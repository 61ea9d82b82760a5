#!/usr/bin/env bash
# The harness checks itself (ctest bench.selfcheck, ~30 s): a run with failures is reported as
# FAILED with its counts and never as a figure or a ratio, and a clean run is reported as one.
# Failures come from eddy's own fault rules (fail_entries for PutRecords, an S3 error every
# 50th GetObject), so the server side is real; only eddy and the ceiling server take part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
load=${EDDY_LOAD:?path of eddy_load}
build=$(cd "$(dirname "$load")/.." && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { python3 "$here/run.py" --build "$build" --seconds 0.5 --rounds 1 "$@" 2>"$tmp/log"; }

# 1. eddy_load itself: refused entries are counted, reported and make it exit 3.
"$build/eddy" serve --in-memory --port 0 --log-level warn >"$tmp/eddy.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/eddy.out" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/eddy.out" | head -1)
[ -n "$port" ] || fail "eddy did not start: $(cat "$tmp/eddy.out")"
curl -sf -X PUT "http://127.0.0.1:$port/_eddy/faults" \
  -d '[{"stream": "bench-f", "action": "fail_entries", "probability": 0.2, "seed": 7}]' >/dev/null
set +e
out=$("$load" --port "$port" --mode putrecords --seconds 0.5 --stream bench-f)
rc=$?
set -e
[ "$rc" = 3 ] || fail "eddy_load exited $rc after refused entries, not 3: $out"
python3 - "$out" <<'PY' || fail "eddy_load did not count the refused entries: $out"
import json, sys
j = json.loads(sys.argv[1])
assert j["failed_entries"] > 0 and j["errors"] == 0, j
assert any("InternalFailure" in s for s in j["error_samples"]), j
PY
out=$("$load" --port "$port" --mode putrecords --seconds 0.5 --stream bench-ok) || fail "a clean run exited $?: $out"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# 1b. --sign signs S3 requests for real (wire/sigv4): eddy --auth verify takes them, and refuses
# the unchecked placeholder signatures of a run without it.
"$build/eddy" serve --in-memory --port 0 --log-level warn --auth verify >"$tmp/eddy.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/eddy.out" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/eddy.out" | head -1)
out=$("$load" --port "$port" --mode s3-put --size 4096 --seconds 0.3 --sign --bucket signed) ||
  fail "signed PUTs refused by --auth verify: $out"
set +e
out=$("$load" --port "$port" --mode s3-put --size 4096 --seconds 0.3 --bucket unsigned)
rc=$?
set -e
[ "$rc" = 3 ] && [[ "$out" == *SignatureDoesNotMatch* ]] || fail "unsigned PUTs were not refused ($rc): $out"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# 2. run.py: the same failures make the PutRecords cell FAILED, with no figure and no ratio.
echo '[{"stream": "bench-prs", "action": "fail_entries", "probability": 0.2, "seed": 7}]' >"$tmp/faults.json"
run --suites kinesis --servers eddy,ceiling --workloads putrecords --eddy-arg=--faults --eddy-arg="$tmp/faults.json" >"$tmp/k.md"
row=$(grep '^| eddy ' "$tmp/k.md") || fail "no eddy row: $(cat "$tmp/k.md" "$tmp/log")"
[[ "$row" == *"FAILED (1 of 1 runs: 0 errors, "*" failed entries)"* ]] || fail "PutRecords with refused entries not FAILED: $row"
grep -q '^| \*\*eddy / ceiling\*\* | \*\*' "$tmp/k.md" && fail "a ratio was printed for a failed run: $(cat "$tmp/k.md")"
grep -q '^| ceiling | [0-9]' "$tmp/k.md" || fail "the ceiling's clean run has no figure: $(cat "$tmp/k.md")"

# 3. S3: an error every 50th GetObject fails the GET column (and wrk's, where wrk is installed).
echo '[{"bucket": "bench-get", "operation": "GetObject", "action": "error", "error_code": "SlowDown", "every_nth": 50}]' >"$tmp/s3.json"
run --suites s3 --servers eddy --workloads get4k,wrk4k,head --eddy-arg=--faults --eddy-arg="$tmp/s3.json" >"$tmp/s.md"
row=$(grep '^| eddy ' "$tmp/s.md" | head -1) || fail "no eddy row: $(cat "$tmp/s.md" "$tmp/log")"
# The cell of eddy's row under the first column whose heading starts with $1.
cell() {
  python3 - "$tmp/s.md" "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = next(l for l in lines if l.startswith("| server |"))
cols = [c.strip() for c in head.strip("|").split("|")]
row = next(l for l in lines if l.startswith("| eddy "))
cells = [c.strip() for c in row.strip("|").split("|")]
i = next((i for i, c in enumerate(cols) if c.startswith(sys.argv[2])), None)
print(cells[i] if i is not None else "")
PY
}
get=$(cell "GET 4 KiB") wrk=$(cell "wrk") head=$(cell "HeadObject")
[[ "$get" == *FAILED*" errors, 0 failed entries)"* ]] || fail "GET with SlowDown answers not FAILED: $row"
if command -v wrk >/dev/null; then
  [[ "$wrk" == *FAILED* ]] || fail "wrk with non-2xx answers not FAILED: $row"
fi
[[ "$head" =~ [0-9] && "$head" != *FAILED* ]] || fail "HeadObject (no fault) has no figure: $row"

# 4. A clean run reports figures.
run --suites kinesis --servers eddy --workloads putrecords,putrecord >"$tmp/ok.md"
row=$(grep '^| eddy ' "$tmp/ok.md") || fail "no eddy row: $(cat "$tmp/ok.md" "$tmp/log")"
[[ "$row" != *FAILED* ]] || fail "a clean run was reported FAILED: $row $(cat "$tmp/log")"
grep -q '^| eddy | [0-9,]* / [0-9,]* / [0-9,]* (' "$tmp/ok.md" || fail "no latency row: $(cat "$tmp/ok.md")"
echo "bench self-check passed"

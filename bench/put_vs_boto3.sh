#!/usr/bin/env bash
# `eddy put --rate 0 --size 100` against boto3 put_records, both into the same eddy, same stream
# shape, one after the other. Prints user records/s of each, the ratio, and eddy put's peak RSS
# (docs/performance.md records the figures). A benchmark, not a test: numbers depend on the
# machine and on what else runs on it.
#   bench/put_vs_boto3.sh [BUILD_DIR] [SECONDS] [SHARDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-10}
shards=${3:-128}
eddy=$build/eddy
[[ -x "$eddy" ]] || { echo "no eddy binary at $eddy (./dev build first)" >&2; exit 2; }
python3 -c 'import boto3' 2>/dev/null || { echo "boto3 is not installed" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eddy-put-bench.XXXXXX")
pid=""
cleanup() { [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. "$here/eddy_server.sh"

# Unthrottled, on disk as eddy runs by default (the --in-memory store keeps its WAL in a growing
# string and costs the server more per record than the disk does).
start_eddy "$tmp" "$tmp/data"

python3 - "$url" "$shards" <<'PY'
import boto3, sys, time
k = boto3.client("kinesis", endpoint_url=sys.argv[1])
for name in ("put-eddy", "put-boto3"):
    k.create_stream(StreamName=name, ShardCount=int(sys.argv[2]))
for name in ("put-eddy", "put-boto3"):
    while k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.1)
PY

echo "eddy put --rate 0 --size 100 for ${secs}s into $shards shards ..." >&2
/usr/bin/time -f "%M" -o "$tmp/rss" "$eddy" put --endpoint "$url" --stream put-eddy --rate 0 --size 100 \
  --duration "$secs" >"$tmp/put.json"
rss_kb=$(tail -n 1 "$tmp/rss")

echo "boto3 put_records (500 x 100 B a call, one thread) for ${secs}s ..." >&2
python3 - "$url" "$secs" >"$tmp/boto3.json" <<'PY'
import boto3, json, os, sys, time
k = boto3.client("kinesis", endpoint_url=sys.argv[1])
secs = float(sys.argv[2])
data = os.urandom(100)
n = 0
start = time.monotonic()
i = 0
while time.monotonic() - start < secs:
    recs = [{"Data": data, "PartitionKey": "key-%d" % ((i + j) % 1000)} for j in range(500)]
    i += 500
    r = k.put_records(StreamName="put-boto3", Records=recs)
    n += 500 - r["FailedRecordCount"]
el = time.monotonic() - start
print(json.dumps({"userRecords": n, "elapsedSeconds": el, "userRecordsPerSecond": n / el}))
PY

python3 - "$tmp/put.json" "$tmp/boto3.json" "$rss_kb" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2])); rss = int(sys.argv[3])
print("eddy put summary:", json.dumps(e))
print(f"{'client':<28}{'user records/s':>16}{'peak RSS':>12}")
print(f"{'eddy put (KPL aggregation)':<28}{e['userRecordsPerSecond']:>16,.0f}{rss / 1024:>10.1f} MiB")
print(f"{'boto3 put_records':<28}{b['userRecordsPerSecond']:>16,.0f}{'':>12}")
print(f"ratio: {e['userRecordsPerSecond'] / max(b['userRecordsPerSecond'], 1):.0f}x")
PY

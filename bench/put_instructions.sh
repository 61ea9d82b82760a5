#!/usr/bin/env bash
# Instructions per user record of `eddy put` (client) and of the eddy serving it (server),
# counted by callgrind, each measured while the other runs natively: the figure a shared, busy
# machine does not move (wall-clock rates move with the load). Also `eddy tail` reading the
# records back (client side).
#
#   bench/put_instructions.sh [BUILD_DIR] [RECORDS] [SHARDS] [-- extra eddy put args]
#
# Defaults: 200,000 user records of 100 bytes, 1,000 keys, 4 shards, eddy on disk (as it runs by
# default), unthrottled. Prints one line per side: instructions, records, instructions/record.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
records=${2:-200000}
shards=${3:-4}
shift $(( $# < 3 ? $# : 3 )); [ "${1:-}" = "--" ] && shift
eddy=$build/eddy
[[ -x "$eddy" ]] || { echo "no eddy binary at $eddy" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eddy-put-instr.XXXXXX")
pid=""
cleanup() { [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
. "$here/eddy_server.sh"

start_server() {  # $1: "cg" to run it under callgrind
  if [ "$1" = cg ]; then
    start_eddy "$tmp" "$tmp/data-$1" valgrind --tool=callgrind --callgrind-out-file="$tmp/server.cg"
  else
    start_eddy "$tmp" "$tmp/data-$1"
  fi
  python3 - "$url" "$shards" <<'PY'
import boto3, sys, time
k = boto3.client("kinesis", endpoint_url=sys.argv[1])
k.create_stream(StreamName="instr", ShardCount=int(sys.argv[2]))
while k.describe_stream_summary(StreamName="instr")["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
    time.sleep(0.1)
PY
}
stop_server() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# Each callgrind file's total (its "totals:" line), summed over the files (one per process).
ir_of() { grep -h '^totals:' "$@" | awk '{s += $2} END {printf "%d", s}'; }
put() { "$@" put --endpoint "$url" --stream instr --rate 0 --size 100 --count "$records" --duration 0 "${extra[@]}"; }
extra=("$@")

# Client: eddy put under callgrind, eddy native.
start_server native
valgrind --tool=callgrind --callgrind-out-file="$tmp/put.cg.%p" "$eddy" put --endpoint "$url" --stream instr \
  --rate 0 --size 100 --count "$records" --duration 0 "${extra[@]}" >"$tmp/put.json" 2>"$tmp/put.vg"
ir=$(ir_of "$tmp"/put.cg.*)
echo "eddy put (client): $ir instructions, $records user records, $((ir / records)) per user record"
# Tail: eddy tail under callgrind reading them back.
valgrind --tool=callgrind --callgrind-out-file="$tmp/tail.cg.%p" "$eddy" tail --endpoint "$url" --stream instr \
  >"$tmp/tail.out" 2>"$tmp/tail.vg"
n=$(wc -l <"$tmp/tail.out")
ir=$(ir_of "$tmp"/tail.cg.*)
echo "eddy tail (client): $ir instructions, $n user records, $((ir / (n > 0 ? n : 1))) per user record"
stop_server

# Server: eddy serve under callgrind (counters zeroed after the stream exists), eddy put native.
start_server cg
callgrind_control -z "$pid" >/dev/null
put "$eddy" >"$tmp/put2.json"
callgrind_control -d "$pid" >/dev/null
f=$(ls -t "$tmp"/server.cg* | head -1)
ir=$(ir_of "$f")
echo "eddy serve (server): $ir instructions, $records user records, $((ir / records)) per user record"
[ -n "${KEEP:-}" ] && echo "callgrind files in $tmp"
exit 0

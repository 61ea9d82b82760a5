#!/usr/bin/env bash
# User-space instructions per request on the server side, counted by callgrind: a figure that
# the machine's load does not move (throughput on a shared 2-core machine moves by 10-20 %).
#
#   bench/instructions.sh EDDY LOAD WORKLOAD [N] [-- eddy serve args]
#     WORKLOAD: putrecord | putrecords   (eddy_load LOAD, 8 connections, N seconds, default 6)
#               s3-put | s3-get | s3-head (eddy_load LOAD: 4 KiB objects, 8 connections, N seconds)
#               h1 | h2                  (h2load PutRecord, 8 connections x 1 stream, N requests,
#                                         default 4000; LOAD is ignored)
#
# eddy runs under valgrind on a fresh data directory (on disk, default fsync). A warm-up (which
# creates the stream) runs first; the counters are zeroed, the measured run goes, and the
# counts of all the server's threads (RocksDB's included) are divided by its requests.
# KEEP=1 keeps the callgrind file (callgrind_annotate FILE) and prints its path.
set -euo pipefail
EDDY=$1 LOAD=$2 WORKLOAD=$3 N=${4:-}
shift 3; [ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
D=$(mktemp -d "${TMPDIR:-/tmp}/eddy-instr.XXXXXX")
valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" "$EDDY" serve --port "$PORT" --data-dir "$D/data" \
  --log-level warn "$@" >/dev/null 2>"$D/valgrind.log" &
VP=$!
cleanup() { kill -TERM $VP 2>/dev/null || true; wait $VP 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$D"; }
trap cleanup EXIT
for _ in $(seq 1 600); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

HDRS=(-H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Date: 20260101T000000Z'
      -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00')
case $WORKLOAD in
  putrecord | putrecords)
    N=${N:-6}
    ARGS=(--mode "$WORKLOAD" --inflight 8 --size 100 --stream instr)
    [ "$WORKLOAD" = putrecords ] && ARGS+=(--batch 500)
    "$LOAD" --port "$PORT" --seconds 2 "${ARGS[@]}" --keep >/dev/null
    callgrind_control -z $VP >/dev/null
    REQ=$("$LOAD" --port "$PORT" --seconds "$N" "${ARGS[@]}" --no-setup | tail -1 |
          python3 -c 'import json,sys; j=json.load(sys.stdin); assert not j["errors"], j; print(j["requests"])')
    ;;
  s3-put | s3-get | s3-head)
    N=${N:-6}
    ARGS=(--mode "$WORKLOAD" --inflight 8 --size 4096 --bucket bench-instr --objects 100)
    "$LOAD" --port "$PORT" --seconds 2 "${ARGS[@]}" >/dev/null
    callgrind_control -z $VP >/dev/null
    # GET/HEAD read the objects the warm-up stored (--no-setup): only the measured requests
    # are counted. PUT's set-up is one CreateBucket.
    MEASURED=("${ARGS[@]}")
    [ "$WORKLOAD" != s3-put ] && MEASURED+=(--no-setup)
    REQ=$("$LOAD" --port "$PORT" --seconds "$N" "${MEASURED[@]}" | tail -1 |
          python3 -c 'import json,sys; j=json.load(sys.stdin); assert not j["errors"], j; print(j["requests"])')
    ;;
  h1 | h2)
    N=${N:-4000}
    command -v h2load >/dev/null || { echo "h2load (nghttp2-client) is not installed" >&2; exit 2; }
    curl -sf -X POST "http://127.0.0.1:$PORT/" "${HDRS[@]}" -H 'X-Amz-Target: Kinesis_20131202.CreateStream' \
      -d '{"StreamName":"instr","ShardCount":4}' >/dev/null
    python3 -c 'import base64; print("{\"StreamName\":\"instr\",\"PartitionKey\":\"pk\",\"Data\":\"%s\"}" % base64.b64encode(b"x" * 100).decode(), end="")' >"$D/body.json"
    H2=(-c 8 -m 1 -d "$D/body.json" "${HDRS[@]}" -H 'X-Amz-Target: Kinesis_20131202.PutRecord')
    [ "$WORKLOAD" = h1 ] && H2+=(--h1)
    sleep 1  # the stream becomes ACTIVE
    h2load -n 200 "${H2[@]}" "http://127.0.0.1:$PORT/" >/dev/null
    callgrind_control -z $VP >/dev/null
    OK=$(h2load -n "$N" "${H2[@]}" "http://127.0.0.1:$PORT/" | sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p')
    [ "$OK" = "$N" ] || { echo "h2load: $OK of $N answered 2xx" >&2; exit 3; }
    REQ=$N
    ;;
  *) echo "unknown workload $WORKLOAD" >&2; exit 2 ;;
esac
callgrind_control -d $VP >/dev/null
F=$(ls "$D"/cg.out.* | tail -1)
IR=$(grep -h '^summary:\|^totals:' "$F" | head -1 | awk '{print $2}')
echo "$WORKLOAD: $REQ requests, $IR instructions, $((IR / REQ)) per request"
[ -n "${KEEP:-}" ] && echo "callgrind file: $F"
exit 0

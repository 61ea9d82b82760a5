#!/usr/bin/env bash
# PutRecord requests/s over HTTP/2 beside HTTP/1.1, driven by h2load (Debian nghttp2-client)
# against one `eddy serve --in-memory` (4 shards, 100-byte records), in alternating rounds so
# that the machine's load moves both sides alike (docs/performance.md, "HTTP/2 beside HTTP/1.1").
#
#   bench/h2_vs_h1.sh EDDY [ROUNDS] [REQUESTS]     (defaults: 5 rounds, 20,000 requests a run)
#
# Each round runs, in turn (the order alternates between rounds):
#   c8m1   HTTP/1.1 -c8      vs  HTTP/2 -c8 -m1    same connections, one request in flight each
#   c8m10  HTTP/1.1 -c80     vs  HTTP/2 -c8 -m10   same requests in flight (80), HTTP/2 multiplexed
# and prints one line per run (case, protocol, requests/s, the server's CPU µs a request, h2load's
# CPU µs a request, load average), then the medians.
set -euo pipefail
EDDY=$1 ROUNDS=${2:-5} N=${3:-20000}
command -v h2load >/dev/null || { echo "h2load (nghttp2-client) is not installed" >&2; exit 2; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$EDDY" serve --port "$PORT" --in-memory --log-level warn >/dev/null 2>&1 &
EP=$!
D=$(mktemp -d "${TMPDIR:-/tmp}/eddy-h2h1.XXXXXX")
cleanup() { kill -TERM $EP 2>/dev/null || true; wait $EP 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

HDRS=(-H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Date: 20260101T000000Z'
      -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00')
curl -sf -X POST "http://127.0.0.1:$PORT/" "${HDRS[@]}" -H 'X-Amz-Target: Kinesis_20131202.CreateStream' \
  -d '{"StreamName":"h2h1","ShardCount":4}' >/dev/null
python3 -c 'import base64; print("{\"StreamName\":\"h2h1\",\"PartitionKey\":\"pk\",\"Data\":\"%s\"}" % base64.b64encode(b"x" * 100).decode(), end="")' >"$D/body.json"
PUT=(-d "$D/body.json" "${HDRS[@]}" -H 'X-Amz-Target: Kinesis_20131202.PutRecord')
sleep 1  # ACTIVE
h2load -n 2000 -c 8 "${PUT[@]}" "http://127.0.0.1:$PORT/" >/dev/null  # warm-up

# CPU ticks (user + system) the server has used so far.
ticks() { awk '{print $14 + $15}' "/proc/$EP/stat"; }
HZ=$(getconf CLK_TCK)
run() {  # case proto h2load-args...
  local c=$1 p=$2
  shift 2
  local out rps ok t0 t1 client
  t0=$(ticks)
  out=$( { /usr/bin/time -f 'CLIENT %U %S' h2load -n "$N" "$@" "${PUT[@]}" "http://127.0.0.1:$PORT/"; } 2>&1)
  t1=$(ticks)
  ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")
  [ "$ok" = "$N" ] || { echo "h2load $c $p: $ok of $N answered 2xx" >&2; exit 3; }
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  client=$(sed -n 's/^CLIENT \([0-9.]*\) \([0-9.]*\)$/\1 \2/p' <<<"$out" | awk -v n="$N" '{printf "%.1f", ($1 + $2) * 1e6 / n}')
  # requests/s, server CPU µs a request, h2load's CPU µs a request, load average
  echo "$c $p $rps $(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$N" 'BEGIN{printf "%.1f", d * 1e6 / hz / n}') $client $(cut -d' ' -f1 /proc/loadavg)" |
    tee -a "$D/runs"
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then
    run c8m1 h1 --h1 -c 8; run c8m1 h2 -c 8 -m 1
    run c8m10 h1 --h1 -c 80; run c8m10 h2 -c 8 -m 10
  else
    run c8m1 h2 -c 8 -m 1; run c8m1 h1 --h1 -c 8
    run c8m10 h2 -c 8 -m 10; run c8m10 h1 --h1 -c 80
  fi
done
python3 - "$D/runs" <<'EOF'
import sys, statistics, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    c, p, rps, server, client, _ = line.split()
    runs[(c, p)].append((float(rps), float(server), float(client)))
med = lambda c, p, i: statistics.median(r[i] for r in runs[(c, p)])
for c in ("c8m1", "c8m10"):
    h1, h2 = med(c, "h1", 0), med(c, "h2", 0)
    print(f"{c}: HTTP/1.1 median {h1:,.0f} req/s, HTTP/2 median {h2:,.0f} req/s, HTTP/2 / HTTP/1.1 {h2 / h1:.2f}; "
          f"server CPU µs/request {med(c, 'h1', 1):.1f} vs {med(c, 'h2', 1):.1f}, "
          f"h2load CPU µs/request {med(c, 'h1', 2):.1f} vs {med(c, 'h2', 2):.1f}")
EOF

#!/usr/bin/env bash
# Side-by-side Kinesis load: eddy and kinesalite (and kinesis-mock when installed), same
# generator, same machine, one after the other. Prints a Markdown table.
#   bench/run.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-10}
load=$build/bench/eddy_load
eddy=$build/eddy
peers=${EDDY_PEERS:-$here/../../shared/peers/peers.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$1/status; }
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$2']))" "$3"; }

run_target() {  # name start-command-producing-pid
  local name=$1 port=$2 pid=$3
  wait_port "$port"
  local pr pr1 gr
  pr=$("$load" --port "$port" --mode putrecords --seconds "$secs" --inflight 8 --batch 500 --size 100 --stream bench-prs)
  pr1=$("$load" --port "$port" --mode putrecord --seconds "$secs" --inflight 8 --size 100 --stream bench-pr)
  gr=$("$load" --port "$port" --mode getrecords --seconds "$secs" --inflight 4 --threads 2 --shards 4 --prefill 50000 --stream bench-gr)
  echo "| $name | $(field x records_per_s "$pr") | $(field x requests_per_s "$pr1") | $(field x records_per_s "$gr") | $(peak_rss_mib "$pid") |"
}

echo "| server | PutRecords records/s (500 x 100 B, 8 in flight) | PutRecord requests/s (8 in flight) | GetRecords records/s | peak RSS MiB |"
echo "|---|---|---|---|---|"

port=$(free_port)
"$eddy" serve --port "$port" --data-dir "$tmp/eddy" --log-level warn >"$tmp/eddy.log" 2>&1 &
pid=$!
run_target "eddy (RocksDB, fsync interval)" "$port" "$pid"
kill "$pid"; wait "$pid" 2>/dev/null || true

if [ -x "$peers" ] || [ -f "$peers" ]; then
  for peer in kinesalite kinesis-mock; do
    port=$(free_port)
    pid=$(bash "$peers" start "$peer" "$port" 2>/dev/null) || continue
    sleep 1
    if kill -0 "$pid" 2>/dev/null; then
      # kinesalite runs node as a child of nothing else: the recorded PID is node itself.
      run_target "$peer" "$port" "$pid" || echo "| $peer | failed | | | |"
    fi
    bash "$peers" stop "$peer" || true
  done
fi

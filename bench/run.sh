#!/usr/bin/env bash
# Side-by-side Kinesis load: eddy and kinesalite (and kinesis-mock when installed), same
# generator, same machine, one after the other. Prints a Markdown table.
#   bench/run.sh [BUILD_DIR] [SECONDS] [ROUNDS]
# With ROUNDS > 1 (default 3), eddy and kinesalite take turns, each round on fresh processes,
# and the table shows each one's median per column (the rounds follow it). A shared virtual
# machine speeds up and slows down by 10-20% for tens of seconds at a time; alternating rounds
# and medians keep such a phase from deciding a ratio. kinesis-mock runs once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-10}
rounds=${3:-3}
load=$build/bench/eddy_load
eddy=$build/eddy
peers=${EDDY_PEERS:-$here/../../shared/peers/peers.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$1/status; }
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$2']))" "$3"; }

# One row: name|putrecords|putrecord|getrecords|rss, appended to $tmp/rows.
run_target() {  # name port pid
  local name=$1 port=$2 pid=$3
  wait_port "$port"
  local pr pr1 gr
  pr=$("$load" --port "$port" --mode putrecords --seconds "$secs" --inflight 8 --batch 500 --size 100 --stream bench-prs)
  pr1=$("$load" --port "$port" --mode putrecord --seconds "$secs" --inflight 8 --size 100 --stream bench-pr)
  gr=$("$load" --port "$port" --mode getrecords --seconds "$secs" --inflight 4 --threads 2 --shards 4 --prefill 50000 --stream bench-gr)
  echo "$name|$(field x records_per_s "$pr")|$(field x requests_per_s "$pr1")|$(field x records_per_s "$gr")|$(peak_rss_mib "$pid")" >> "$tmp/rows"
}

run_eddy() {
  local port pid
  port=$(free_port)
  rm -rf "$tmp/eddy"
  "$eddy" serve --port "$port" --data-dir "$tmp/eddy" --log-level warn >"$tmp/eddy.log" 2>&1 &
  pid=$!
  run_target "eddy (RocksDB, fsync interval)" "$port" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$tmp/eddy"  # its dirty pages are dropped, not written back during the next run
}

run_peer() {  # name
  local peer=$1 port pid
  [ -x "$peers" ] || [ -f "$peers" ] || return 0
  port=$(free_port)
  pid=$(bash "$peers" start "$peer" "$port" 2>/dev/null) || return 0
  sleep 1
  if kill -0 "$pid" 2>/dev/null; then
    # kinesalite runs node as a child of nothing else: the recorded PID is node itself.
    run_target "$peer" "$port" "$pid" || echo "$peer|failed|||" >> "$tmp/rows"
  fi
  bash "$peers" stop "$peer" || true
}

: > "$tmp/rows"
for _ in $(seq "$rounds"); do
  run_eddy
  run_peer kinesalite
done
run_peer kinesis-mock

python3 - "$tmp/rows" "$rounds" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
rounds = int(sys.argv[2])
order, by = [], {}
for r in rows:
    if r[0] not in by:
        order.append(r[0])
        by[r[0]] = []
    by[r[0]].append(r[1:])
head = ("| server | PutRecords records/s (500 x 100 B, 8 in flight) | PutRecord requests/s (8 in flight) "
        "| GetRecords records/s | peak RSS MiB |")
print(head)
print("|---|---|---|---|---|")
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
def cell(vals, rss=False):
    xs = [x for x in map(num, vals) if x is not None]
    if not xs:
        return "failed"
    v = max(xs) if rss else statistics.median(xs)  # RSS: the highest peak of any round
    return f"{v:.1f}" if rss else f"{round(v):,}"
medians = {}
for name in order:
    cols = list(zip(*by[name]))
    medians[name] = [cell(cols[i], i == 3) for i in range(4)]
    label = name + (f" (median of {len(by[name])})" if len(by[name]) > 1 else "")
    print(f"| {label} | " + " | ".join(medians[name]) + " |")
e, k = "eddy (RocksDB, fsync interval)", "kinesalite"
if e in medians and k in medians:
    def ratio(a, b):
        a, b = num(a.replace(",", "")), num(b.replace(",", ""))
        return f"{a / b:.1f}x" if a and b else "-"
    print("| **eddy / kinesalite** | " + " | ".join(f"**{ratio(medians[e][i], medians[k][i])}**" for i in range(4)) + " |")
if rounds > 1:
    print()
    print("Rounds, in the order they ran:")
    print()
    print("| server | PutRecords | PutRecord | GetRecords | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | " + " | ".join(r[1:]) + " |")
    if e in by and k in by:
        print()
        names = ["PutRecords", "PutRecord", "GetRecords"]
        for i, n in enumerate(names):
            per = []
            for a, b in zip(by[e], by[k]):
                x, y = num(a[i]), num(b[i])
                per.append(f"{x / y:.1f}x" if x and y else "-")
            print(f"- {n}, eddy / kinesalite per round: {', '.join(per)}")
PY

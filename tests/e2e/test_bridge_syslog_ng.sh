#!/usr/bin/env bash
# A real syslog-ng 3.38 (../shared/syslog-ng) forwarding to `eddy bridge` over tcp() while the
# stream is throttled hard: the bridge stops reading at its buffer limit, syslog-ng queues and
# drops (and counts both), the bridge's RSS stays under its limit. After the throttle lifts and a
# SIGTERM drain, every message syslog-ng wrote to the bridge is in the stream exactly once.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps
require_cmd syslog-ng "syslog-ng-core"
require_cmd loggen "syslog-ng-core"
require_cmd aws "the AWS CLI"

COUNT=${BRIDGE_TEST_COUNT:-20000}
RSS_LIMIT_KB=$((64 * 1024))

start_eddy --in-memory
aws_kinesis create-stream --stream-name logs --shard-count 1 >/dev/null
wait_active logs
# 100 KB/s: far below what syslog-ng sends, so the bridge's 256 KiB buffer fills in seconds.
curl -fsS -X PUT "$EDDY_URL/_eddy/throttle/streams/logs" \
  -d '{"mode": "aws", "write_bytes_per_sec": 100000, "write_records_per_sec": 1000}' >/dev/null ||
  fail "could not throttle the stream"

log "bridge"
"$EDDY_BIN" bridge --listen 127.0.0.1:0 --stream logs --endpoint "$EDDY_URL" --max-buffer-bytes 262144 \
  --metrics-port 0 --framing auto --drain-timeout 30 --idle-timeout 1 --record-max-buffered-time 50 \
  >"$E2E_TMP/bridge.json" 2>"$E2E_TMP/bridge.err" &
BRIDGE_PID=$!
E2E_PIDS+=("$BRIDGE_PID")
for ((i = 0; i < 200; i++)); do
  grep -q "^eddy bridge: metrics" "$E2E_TMP/bridge.err" 2>/dev/null && break
  kill -0 "$BRIDGE_PID" 2>/dev/null || { cat "$E2E_TMP/bridge.err" >&2; fail "bridge exited"; }
  sleep 0.05
done
BRIDGE_PORT=$(sed -n 's/^eddy bridge: listening 127.0.0.1:\([0-9]*\)$/\1/p' "$E2E_TMP/bridge.err")
METRICS_PORT=$(sed -n 's/^eddy bridge: metrics 127.0.0.1:\([0-9]*\)$/\1/p' "$E2E_TMP/bridge.err")
[[ -n "$BRIDGE_PORT" && -n "$METRICS_PORT" ]] || fail "no listening/metrics lines: $(cat "$E2E_TMP/bridge.err")"

log "syslog-ng -> tcp 127.0.0.1:$BRIDGE_PORT"
SNG="$E2E_TMP/sng"
mkdir -p "$SNG"
UDP_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|@DIR@|$SNG|g" -e "s|@UDP_PORT@|$UDP_PORT|g" -e "s|@TCP_PORT@|$BRIDGE_PORT|g" \
  "$EDDY_SHARED_DIR/syslog-ng/syslog-ng.conf.in" >"$SNG/syslog-ng.conf"
syslog-ng -F -e --no-caps -f "$SNG/syslog-ng.conf" -R "$SNG/persist" -p "$SNG/pid" -c "$SNG/ctl" \
  >"$SNG/out" 2>&1 &
SNG_PID=$!
E2E_PIDS+=("$SNG_PID")
for ((i = 0; i < 200; i++)); do
  [[ -S "$SNG/ctl" ]] && syslog-ng-ctl stats -c "$SNG/ctl" >/dev/null 2>&1 && break
  kill -0 "$SNG_PID" 2>/dev/null || { cat "$SNG/out" >&2; fail "syslog-ng exited"; }
  sleep 0.05
done
sng_stat() {  # sng_stat written|dropped|queued: the tcp destination's counter
  syslog-ng-ctl query get "dst.tcp.*" -c "$SNG/ctl" 2>/dev/null | sed -n "s/.*\.$1=\([0-9]*\)$/\1/p" | head -n 1
}

max_rss=0
sample_rss() {
  local kb
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$BRIDGE_PID/status" 2>/dev/null || echo 0)
  ((kb > max_rss)) && max_rss=$kb
  return 0
}

log "loggen: $COUNT messages over UDP, throttled stream"
loggen -i -D -r 4000 -n "$COUNT" -s 200 127.0.0.1 "$UDP_PORT" >"$SNG/loggen.out" 2>&1 &
LOGGEN_PID=$!
while kill -0 "$LOGGEN_PID" 2>/dev/null; do
  sample_rss
  sleep 0.2
done
wait "$LOGGEN_PID" || true
sample_rss
dropped=$(sng_stat dropped)
stalled=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | awk '$1 == "eddy_bridge_stalled_seconds_total" {print $2}')
log "under the throttle: syslog-ng dropped=${dropped:-?} queued=$(sng_stat queued) written=$(sng_stat written); bridge stalled ${stalled}s, max RSS ${max_rss} kB"
[[ "${dropped:-0}" -gt 0 ]] || fail "syslog-ng dropped nothing: the bridge did not push back"
python3 -c "import sys; sys.exit(0 if float('$stalled') > 0 else 1)" || fail "the bridge never stalled"

log "lift the throttle; wait for syslog-ng's queue to empty"
curl -fsS -X DELETE "$EDDY_URL/_eddy/throttle/streams/logs" >/dev/null || fail "could not lift the throttle"
for ((i = 0; i < 300; i++)); do
  sample_rss
  [[ "$(sng_stat queued)" == 0 ]] && break
  sleep 0.1
done
[[ "$(sng_stat queued)" == 0 ]] || fail "syslog-ng still has $(sng_stat queued) queued after 30 s"
written=$(sng_stat written)
sample_rss
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" >"$E2E_TMP/metrics.txt"
for m in eddy_bridge_connections_total eddy_bridge_messages_read_total eddy_bridge_messages_sent_total \
  eddy_bridge_messages_acknowledged_total eddy_bridge_messages_failed_total eddy_bridge_stalled_seconds_total \
  eddy_bridge_buffered_bytes; do
  grep -q "^$m " "$E2E_TMP/metrics.txt" || fail "metric $m missing"
done

log "SIGTERM: drain"
kill -TERM "$BRIDGE_PID"
rc=0
wait "$BRIDGE_PID" || rc=$?
cat "$E2E_TMP/bridge.json" >&2
[[ $rc -eq 0 ]] || { cat "$E2E_TMP/bridge.err" >&2; fail "bridge exited $rc after the drain"; }
pyjson "j['messagesRead'] == j['acknowledged'] == $written and j['unacknowledged'] == 0 and j['failed'] == 0 and j['throttledEntries'] > 0" \
  <"$E2E_TMP/bridge.json" | grep -qx true || fail "bridge summary does not match syslog-ng's written=$written"
((max_rss < RSS_LIMIT_KB)) || fail "bridge RSS reached ${max_rss} kB (limit ${RSS_LIMIT_KB} kB)"

log "read back with aws-kinesis-agg"
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/kinesis_agg_dump.mjs" "$EDDY_URL" logs >"$E2E_TMP/records.txt" ||
  fail "could not read the stream back"
python3 - "$E2E_TMP/records.txt" "$written" <<'PY' || fail "the stream does not hold syslog-ng's messages exactly once"
import collections, re, sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
written = int(sys.argv[2])
seqs = collections.Counter()
for l in lines:
    m = re.search(r"seq: (\d+)", l)
    if not m:
        print("not a loggen message: " + l[:80], file=sys.stderr); sys.exit(1)
    seqs[int(m.group(1))] += 1
dups = sum(1 for n in seqs.values() if n > 1)
print(f"{len(lines)} records, {len(seqs)} distinct loggen messages, {dups} duplicated; syslog-ng wrote {written}", file=sys.stderr)
sys.exit(0 if dups == 0 and len(lines) == written else 1)
PY
kill -TERM "$SNG_PID" 2>/dev/null || true
stop_eddy || fail "eddy exited with status $? after SIGTERM"

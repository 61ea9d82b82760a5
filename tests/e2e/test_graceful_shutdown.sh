#!/usr/bin/env bash
# SIGTERM while a large PutRecords (500 x 12 KiB, 8 MB of JSON) is still being received: the client gets its
# full answer, eddy exits 0, and after a restart every record of that request is there.
# Client side: durability_client.py slowput / verify.
. "$(dirname "$0")/lib.sh"
require_boto3
CLIENT="$E2E_DIR/durability_client.py"

for mode in default always; do
  dir="$E2E_TMP/data-$mode"
  signals="$E2E_TMP/signals-$mode"
  mkdir -p "$signals"
  flags=(--data-dir "$dir")
  [[ $mode == default ]] || flags+=(--fsync "$mode")
  log "fsync $mode: SIGTERM during a large PutRecords"
  E2E_LOG_LEVEL=info start_eddy "${flags[@]}"
  python3 "$CLIENT" slowput "$dir.state" "$signals" &
  client=$!
  for ((i = 0; i < 600; i++)); do
    [[ -e "$signals/mid" ]] && break
    kill -0 "$client" 2>/dev/null || fail "fsync $mode: the client died before sending its request"
    sleep 0.05
  done
  [[ -e "$signals/mid" ]] || fail "fsync $mode: the client never got half its request out"
  kill -TERM "$EDDY_PID"
  # The server has taken the signal (it logs so) before the rest of the body is sent.
  for ((i = 0; i < 400; i++)); do
    grep -q 'signal 15 received' "$EDDY_ERR" && break
    sleep 0.05
  done
  grep -q 'signal 15 received' "$EDDY_ERR" || fail "fsync $mode: eddy never logged taking SIGTERM: $(tail -5 "$EDDY_ERR")"
  kill -0 "$EDDY_PID" 2>/dev/null || fail "fsync $mode: eddy exited while a request was still being received"
  touch "$signals/go"
  crc=0
  wait "$client" || crc=$?
  ((crc == 0)) || fail "fsync $mode: the in-flight PutRecords did not get its answer across SIGTERM"
  rc=0
  for ((i = 0; i < 200; i++)); do
    kill -0 "$EDDY_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$EDDY_PID" 2>/dev/null && fail "fsync $mode: eddy still running 20 s after SIGTERM with no requests left"
  wait "$EDDY_PID" || rc=$?
  ((rc == 0)) || fail "fsync $mode: eddy exited with status $rc after SIGTERM (expected 0)"

  start_eddy "${flags[@]}"
  python3 "$CLIENT" verify "$dir.state" || fail "fsync $mode: records of the in-flight request are not there after restart"
  stop_eddy || fail "fsync $mode: eddy exited with status $? after SIGTERM"
done
echo "PASS: graceful shutdown"

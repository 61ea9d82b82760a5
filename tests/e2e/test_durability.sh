#!/usr/bin/env bash
# Acknowledged records survive `kill -9` of eddy under every --fsync mode: after a restart on the
# same --data-dir they are read back in order with the same sequence numbers and data, iterators
# handed out before the kill still work, and new sequence numbers keep increasing.
# Client side: durability_client.py (boto3).
. "$(dirname "$0")/lib.sh"
require_boto3
CLIENT="$E2E_DIR/durability_client.py"

# Records acknowledged, then SIGKILL with the server idle.
for mode in default always interval never; do
  dir="$E2E_TMP/data-$mode"
  flags=(--data-dir "$dir")
  [[ $mode == default ]] || flags+=(--fsync "$mode")
  log "fsync $mode: put, kill -9, restart, verify"
  start_eddy "${flags[@]}"
  python3 "$CLIENT" put "$dir.state" || fail "fsync $mode: putting records failed"
  kill9_eddy
  start_eddy "${flags[@]}"
  python3 "$CLIENT" verify "$dir.state" || fail "fsync $mode: acknowledged records did not survive kill -9"
  # A clean stop after the recovery, and a second restart, lose nothing either.
  stop_eddy || fail "fsync $mode: eddy exited with status $? after SIGTERM"
done

# SIGKILL while a writer is busy: every batch acknowledged before the kill is there afterwards;
# only the in-flight batch may or may not be.
for mode in always never; do
  dir="$E2E_TMP/busy-$mode"
  acklog="$E2E_TMP/busy-$mode.acks"
  log "fsync $mode: kill -9 under load"
  start_eddy --data-dir "$dir" --fsync "$mode"
  python3 "$CLIENT" writer "$acklog" 2>"$E2E_TMP/writer-$mode.err" &
  writer=$!
  for ((i = 0; i < 300; i++)); do
    [[ -f "$acklog" ]] && (($(grep -c '"acked"' "$acklog") >= 5)) && break
    kill -0 "$writer" 2>/dev/null || { cat "$E2E_TMP/writer-$mode.err" >&2; fail "fsync $mode: the writer died before the kill"; }
    sleep 0.1
  done
  (($(grep -c '"acked"' "$acklog") >= 5)) || fail "fsync $mode: the writer got no acknowledgements in 30 s"
  kill9_eddy
  wait "$writer" || true
  start_eddy --data-dir "$dir" --fsync "$mode"
  python3 "$CLIENT" verify - "$acklog" || fail "fsync $mode: records acknowledged under load were lost by kill -9"
  stop_eddy || fail "fsync $mode: eddy exited with status $? after SIGTERM"
done
echo "PASS: durability"

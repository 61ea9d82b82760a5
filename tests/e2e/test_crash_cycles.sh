#!/usr/bin/env bash
# Crash cycles with both services: Kinesis PutRecords, S3 PUTs (up to 2.5 MiB, several storage
# chunks) and two multipart uploads in progress, eddy SIGKILLed at a random moment under that
# load, three times, restarted on the same --data-dir each time. After every restart:
# every acknowledged record and object is there with its checksum, nothing unacknowledged is half
# visible (a PutRecords batch is all or nothing, an object has exactly the bytes it was sent
# with, no gap in a shard's sequence numbers), sequence numbers keep increasing; at the end one
# upload is completed and the other aborted. Client side: crash_client.py (boto3).
# (test_durability.sh covers each --fsync mode with Kinesis alone.)
. "$(dirname "$0")/lib.sh"
require_boto3
CLIENT="$E2E_DIR/crash_client.py"
dir="$E2E_TMP/data"
logs="$E2E_TMP/client"
mkdir -p "$logs"
# The kill moments: random, but printed (EDDY_CRASH_SEED=N repeats a run).
seed=${EDDY_CRASH_SEED:-$RANDOM}
RANDOM=$seed
log "kill moments from seed $seed"

acks() { cat "$logs"/*.log 2>/dev/null | grep -c '"acked"' || true; }

for cycle in 1 2 3; do
  start_eddy --data-dir "$dir"
  python3 "$CLIENT" load "$logs" "$cycle" 2>"$E2E_TMP/load-$cycle.err" &
  loader=$!
  # Wait until the load is under way (some acknowledgements in, and in cycle 1 the multipart
  # uploads holding a part), then kill at a random moment 0-1.9 s later.
  before=$(acks)
  for ((i = 0; i < 600; i++)); do
    if (($(acks) >= before + 6)); then
      ((cycle > 1)) || (($(cat "$logs/mpu.log" 2>/dev/null | grep -c '"part"' || true) >= 2)) && break
    fi
    kill -0 "$loader" 2>/dev/null || { cat "$E2E_TMP/load-$cycle.err" >&2; fail "cycle $cycle: the load ended before the kill"; }
    sleep 0.1
  done
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill9_eddy
  log "cycle $cycle: SIGKILL after $(($(acks) - before)) acknowledged requests this cycle"
  wait "$loader" || true
  start_eddy --data-dir "$dir"
  python3 "$CLIENT" verify "$logs" "$cycle" || fail "cycle $cycle: verification after kill -9 failed"
  if ((cycle < 3)); then
    kill9_eddy
  fi
done
python3 "$CLIENT" finish "$logs" || fail "completing/aborting the multipart uploads after the crashes failed"
stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: crash cycles (seed $seed)"

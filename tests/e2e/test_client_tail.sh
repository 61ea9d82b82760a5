#!/usr/bin/env bash
# `eddy tail` (the real binary) against `eddy serve`: plain records put by the AWS CLI and a KPL
# aggregate from ../shared/fixtures/kpl-agg-vectors.json come back as JSON lines, exactly once,
# across a split; flags from EDDY_TAIL_* variables; --checkpoint resumes; --follow sees a record
# put while it runs; an unknown stream and an unreachable endpoint are one line and exit 1.
. "$(dirname "$0")/lib.sh"
require_cmd aws
require_cmd python3

start_eddy --in-memory
aws_kinesis create-stream --stream-name clicks --shard-count 2 >/dev/null
wait_active clicks
for i in 1 2 3 4 5 6; do
  aws_kinesis put-record --stream-name clicks --partition-key "user-$i" --data "click $i" >/dev/null
done
# The aggregate of the shared vector "five-records-shared-keys", put as one Kinesis record
# (binary: the CLI reads it with fileb://).
python3 -c '
import json, sys
v = [x for x in json.load(open(sys.argv[1]))["vectors"] if x["name"] == "five-records-shared-keys"][0]
open(sys.argv[2], "wb").write(bytes.fromhex(v["aggregatedHex"]))' "$EDDY_SHARED_DIR/fixtures/kpl-agg-vectors.json" "$E2E_TMP/agg.bin"
agg="fileb://$E2E_TMP/agg.bin"
# Into the lower half of a 2-shard stream it holds "beta", whose hash key lies in the upper half:
# the KCL drops such a record whole, with a warning.
aws_kinesis put-record --stream-name clicks --partition-key alpha --explicit-hash-key 0 --data "$agg" >/dev/null
# Into a 1-shard stream every sub-record is in the shard: five user records.
aws_kinesis create-stream --stream-name kpl --shard-count 1 >/dev/null
wait_active kpl
aws_kinesis put-record --stream-name kpl --partition-key alpha --data "$agg" >/dev/null

"$EDDY_BIN" tail --endpoint "$EDDY_URL" --stream kpl >"$E2E_TMP/kpl.jsonl" 2>"$E2E_TMP/kpl.err" ||
  fail "eddy tail exited $?: $(cat "$E2E_TMP/kpl.err")"
python3 - "$E2E_TMP/kpl.jsonl" <<'PY' || fail "the aggregate did not decode: $(cat "$E2E_TMP/kpl.jsonl")"
import json, sys
agg = [json.loads(l) for l in open(sys.argv[1])]
assert [l["data"] for l in agg] == ["hello-%d" % i for i in range(5)], agg
assert [l["subSequenceNumber"] for l in agg] == [0, 1, 2, 3, 4]
assert [l["partitionKey"] for l in agg] == ["alpha", "beta", "alpha", "gamma", "beta"]
assert len({l["sequenceNumber"] for l in agg}) == 1
for l in agg:
    assert set(l) == {"shardId", "sequenceNumber", "subSequenceNumber", "partitionKey", "arrival", "data"}, l
PY

"$EDDY_BIN" tail --endpoint "$EDDY_URL" --stream clicks >"$E2E_TMP/t1.jsonl" 2>"$E2E_TMP/t1.err" ||
  fail "eddy tail exited $?: $(cat "$E2E_TMP/t1.err")"
python3 - "$E2E_TMP/t1.jsonl" <<'PY' || fail "first tail output is wrong: $(cat "$E2E_TMP/t1.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(l["data"] for l in lines) == sorted("click %d" % i for i in range(1, 7)), lines
PY
grep -q '^eddy tail: warning: record .* of shardId-000000000000 dropped: sub-record 1 (partition key .beta.) has a hash key outside the shard' \
  "$E2E_TMP/t1.err" || fail "no warning for the dropped aggregate: $(cat "$E2E_TMP/t1.err")"
log "tail printed $(wc -l <"$E2E_TMP/t1.jsonl") user records"

# Split shard 0, put more, and read everything from environment variables with a checkpoint.
aws_kinesis split-shard --stream-name clicks --shard-to-split shardId-000000000000 \
  --new-starting-hash-key 85070591730234615865843651857942052864 >/dev/null
wait_active clicks
for i in 7 8 9 10; do
  aws_kinesis put-record --stream-name clicks --partition-key "user-$i" --data "click $i" >/dev/null
done
export EDDY_TAIL_ENDPOINT="$EDDY_URL" EDDY_TAIL_STREAM=clicks EDDY_TAIL_CHECKPOINT="$E2E_TMP/clicks.checkpoint"
"$EDDY_BIN" tail >"$E2E_TMP/t2.jsonl" 2>"$E2E_TMP/t2.err" || fail "tail from EDDY_TAIL_*: $(cat "$E2E_TMP/t2.err")"
[[ $(wc -l <"$E2E_TMP/t2.jsonl") -eq 10 ]] || fail "want 10 records after the split, got: $(cat "$E2E_TMP/t2.jsonl")"
python3 - "$E2E_TMP/t2.jsonl" <<'PY' || fail "parents must come before children"
import json, sys
order = [json.loads(l)["shardId"] for l in open(sys.argv[1])]
last0 = max(i for i, s in enumerate(order) if s == "shardId-000000000000")
children = [i for i, s in enumerate(order) if s in ("shardId-000000000002", "shardId-000000000003")]
assert children and min(children) > last0, order
PY
"$EDDY_BIN" tail >"$E2E_TMP/t3.jsonl" || fail "tail from the checkpoint failed"
[[ ! -s "$E2E_TMP/t3.jsonl" ]] || fail "the checkpoint did not hold: $(cat "$E2E_TMP/t3.jsonl")"
aws_kinesis put-record --stream-name clicks --partition-key late --data late >/dev/null
"$EDDY_BIN" tail >"$E2E_TMP/t4.jsonl" || fail "tail from the checkpoint failed"
[[ $(wc -l <"$E2E_TMP/t4.jsonl") -eq 1 && $(pyjson 'j["data"]' <"$E2E_TMP/t4.jsonl") == late ]] ||
  fail "want exactly the late record, got: $(cat "$E2E_TMP/t4.jsonl")"
unset EDDY_TAIL_CHECKPOINT

# --follow: a record put while it runs is printed; stopped by its pid.
"$EDDY_BIN" tail --from latest --follow --poll-ms 200 >"$E2E_TMP/follow.jsonl" 2>"$E2E_TMP/follow.err" &
follow_pid=$!
E2E_PIDS+=("$follow_pid")
found=""
for ((i = 0; i < 150; i++)); do
  aws_kinesis put-record --stream-name clicks --partition-key f --data followed >/dev/null
  if grep -q '"data":"followed"' "$E2E_TMP/follow.jsonl" 2>/dev/null; then
    found=yes
    break
  fi
  sleep 0.2
done
[[ -n "$found" ]] || fail "tail --follow printed nothing within 30 s: $(cat "$E2E_TMP/follow.err")"
kill -TERM "$follow_pid"
wait "$follow_pid" || fail "tail --follow did not exit 0 on SIGTERM"
unset EDDY_TAIL_ENDPOINT EDDY_TAIL_STREAM

# One-line errors with exit 1.
set +e
err=$("$EDDY_BIN" tail --endpoint "$EDDY_URL" --stream nope 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy tail: ResourceNotFoundException: "* && $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
  fail "unknown stream: rc $rc, '$err'"
set +e
err=$("$EDDY_BIN" tail --endpoint http://127.0.0.1:1 --stream clicks --max-attempts 1 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy tail: TransportError: connect 127.0.0.1:1: "* ]] || fail "unreachable: rc $rc, '$err'"
set +e
err=$(env -u AWS_REGION -u AWS_DEFAULT_REGION "$EDDY_BIN" tail --endpoint "$EDDY_URL" --stream clicks 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy tail: no region: pass --region or set AWS_REGION (or a region in the profile)" ]] ||
  fail "no region: rc $rc, '$err'"
echo "PASS: eddy tail"

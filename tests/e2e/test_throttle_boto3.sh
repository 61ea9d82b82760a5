#!/usr/bin/env bash
# --throttle aws end to end: a retrying boto3 producer against a 1-shard stream stores every
# record exactly once while eddy counts what it throttled (test_throttle_boto3.py); the AWS CLI
# shows FailedRecordCount for a throttled put-records; the clock and fault endpoints answer.
. "$(dirname "$0")/lib.sh"
require_boto3
require_cmd curl
require_cmd aws "pip install awscli"

start_eddy --in-memory --throttle aws
python3 "$E2E_DIR/test_throttle_boto3.py" || fail "test_throttle_boto3.py failed (see above)"

log "aws CLI: put-records over a per-stream limit"
aws_kinesis create-stream --stream-name cli --shard-count 1 >/dev/null
wait_active cli
curl -fsS -X PUT "$EDDY_URL/_eddy/throttle/streams/cli" -d '{"write_records_per_sec": 2}' >/dev/null ||
  fail "PUT /_eddy/throttle/streams/cli"
out=$(aws_kinesis put-records --stream-name cli --records \
  Data=YQ==,PartitionKey=a Data=Yg==,PartitionKey=b Data=Yw==,PartitionKey=c Data=ZA==,PartitionKey=d)
failed=$(pyjson 'j["FailedRecordCount"]' <<<"$out")
[[ "$failed" == 2 ]] || fail "aws kinesis put-records: FailedRecordCount $failed, want 2: $out"
code=$(pyjson 'j["Records"][3]["ErrorCode"]' <<<"$out")
[[ "$code" == ProvisionedThroughputExceededException ]] || fail "entry 4: $code"

# The clock is the system clock here: POST answers 409.
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$EDDY_URL/_eddy/clock" -d '{"advance_ms": 1}')
[[ "$status" == 409 ]] || fail "POST /_eddy/clock on a system clock: $status, want 409"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

# --faults FILE at start-up, on a manual clock; an S3 SlowDown by key prefix.
cat >"$E2E_TMP/faults.json" <<'JSON'
{"seed": 4, "rules": [{"id": "slow", "bucket": "b", "key_prefix": "hot/", "action": "error", "error_code": "SlowDown"}]}
JSON
start_eddy --in-memory --clock manual --faults "$E2E_TMP/faults.json"
body=$(curl -s -w '\n%{http_code}' "$EDDY_URL/b/hot/x")
[[ "$(tail -n1 <<<"$body")" == 503 ]] || fail "GET /b/hot/x: $body"
grep -q "<Code>SlowDown</Code>" <<<"$body" || fail "no SlowDown in $body"
before=$(curl -fsS "$EDDY_URL/_eddy/clock" | pyjson 'j["now_ms"]') || fail "GET /_eddy/clock on a manual clock"
now=$(curl -fsS -X POST "$EDDY_URL/_eddy/clock" -d '{"advance_s": 90}' | pyjson 'j["now_ms"]') ||
  fail "POST /_eddy/clock on a manual clock"
((now - before == 90000)) || fail "POST /_eddy/clock {advance_s: 90} moved the clock from $before to $now"
fired=$(curl -fsS "$EDDY_URL/_eddy/faults" | pyjson 'j["rules"][0]["fired"]')
[[ "$fired" == 1 ]] || fail "fault fired $fired times, want 1"
stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "OK"

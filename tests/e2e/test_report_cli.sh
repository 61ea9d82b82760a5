#!/usr/bin/env bash
# `eddy report` against a running eddy (JSON with the stream's counters, CSV, an SVG chart) and
# against an endpoint where nothing listens: exit status 1 and one line on stderr, no stack dump.
. "$(dirname "$0")/lib.sh"
require_cmd aws "pip install awscli"
require_cmd python3

start_eddy --in-memory
aws_kinesis create-stream --stream-name rep --shard-count 2 >/dev/null || fail "create-stream failed"
wait_active rep
aws_kinesis put-record --stream-name rep --partition-key k --data aGVsbG8= >/dev/null || fail "put-record failed"
"$EDDY_BIN" report --endpoint "$EDDY_URL" --format json -o "$E2E_TMP/report.json" --svg "$E2E_TMP/chart.svg" ||
  fail "eddy report exited with status $?"
python3 - "$E2E_TMP/report.json" <<'PY' || fail "eddy report's JSON is wrong: $(head -c 600 "$E2E_TMP/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
s = [x for x in r["streams"] if x.get("name", x.get("stream")) == "rep"]
if len(s) != 1: sys.exit("no stream rep in %r" % r["streams"])
s = s[0]
if s["put_record_calls"] != 1 or s["records"] != 1 or s["user_records"] != 1 or s["payload_units"] != 1:
    sys.exit("counters %r" % {k: s.get(k) for k in ("put_record_calls", "records", "user_records", "payload_units")})
PY
grep -q '<svg' "$E2E_TMP/chart.svg" || fail "--svg wrote no SVG: $(head -c 200 "$E2E_TMP/chart.svg")"
"$EDDY_BIN" report --endpoint "$EDDY_URL" --format csv >"$E2E_TMP/report.csv" || fail "eddy report --format csv failed"
grep -q '^kind,name,mode,shards,' "$E2E_TMP/report.csv" && grep -q '^stream,rep,PROVISIONED,2,' "$E2E_TMP/report.csv" ||
  fail "CSV lacks the header or the stream: $(head -5 "$E2E_TMP/report.csv")"
url=$EDDY_URL
stop_eddy || fail "eddy exited with status $? after SIGTERM"

# Nothing listens there any more.
set +e
"$EDDY_BIN" report --endpoint "$url" >"$E2E_TMP/down.out" 2>"$E2E_TMP/down.err"
rc=$?
set -e
((rc == 1)) || fail "eddy report against a stopped eddy exited with $rc, want 1"
[[ $(wc -l <"$E2E_TMP/down.err") -eq 1 ]] || fail "expected one line on stderr, got: $(cat "$E2E_TMP/down.err")"
[[ ! -s "$E2E_TMP/down.out" ]] || fail "printed a report anyway: $(head -c 200 "$E2E_TMP/down.out")"

# An eddy that asks for an admin token: refused without it (the message names both ways to give
# it), served with --admin-token or EDDY_ADMIN_TOKEN (the variable eddy serve reads too).
start_eddy --in-memory --admin-token e2e-admin-token
set +e
"$EDDY_BIN" report --endpoint "$EDDY_URL" >"$E2E_TMP/tok.out" 2>"$E2E_TMP/tok.err"
rc=$?
set -e
((rc == 1)) || fail "eddy report without the admin token exited with $rc, want 1"
grep -q 'answered 401' "$E2E_TMP/tok.err" && grep -q 'EDDY_ADMIN_TOKEN' "$E2E_TMP/tok.err" ||
  fail "the 401 message does not say how to give the token: $(cat "$E2E_TMP/tok.err")"
"$EDDY_BIN" report --endpoint "$EDDY_URL" --admin-token e2e-admin-token --format csv >"$E2E_TMP/tok.csv" ||
  fail "eddy report --admin-token exited with status $?"
grep -q '^kind,name,mode,shards,' "$E2E_TMP/tok.csv" || fail "no CSV with --admin-token: $(head -3 "$E2E_TMP/tok.csv")"
EDDY_ADMIN_TOKEN=e2e-admin-token "$EDDY_BIN" report --endpoint "$EDDY_URL" --format csv >"$E2E_TMP/tok-env.csv" ||
  fail "EDDY_ADMIN_TOKEN=... eddy report exited with status $?"
grep -q '^kind,name,mode,shards,' "$E2E_TMP/tok-env.csv" || fail "no CSV with EDDY_ADMIN_TOKEN: $(head -3 "$E2E_TMP/tok-env.csv")"
stop_eddy || fail "eddy (admin token) exited with status $? after SIGTERM"
echo "PASS: eddy report"

#!/usr/bin/env bash
# `eddy put` into eddy (generated load and stdin lines, settings from flags, a kpl.properties
# file and EDDY_PUT_* variables), every aggregate read back and de-aggregated by npm
# aws-kinesis-agg: each user record exactly once, every sub-record inside its shard.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps
require_cmd aws "the AWS CLI"

"$EDDY_BIN" --help >"$E2E_TMP/help.txt"
grep -Eq '^ +put ' "$E2E_TMP/help.txt" && grep -Eq '^ +bridge ' "$E2E_TMP/help.txt" ||
  fail "eddy --help does not list put and bridge: $(cat "$E2E_TMP/help.txt")"

start_eddy --in-memory
aws_kinesis create-stream --stream-name agg --shard-count 4 >/dev/null
wait_active agg

log "generated load: 20000 records of 64 bytes over 500 keys"
EDDY_PUT_STREAM=agg "$EDDY_BIN" put --endpoint "$EDDY_URL" --rate 0 --count 20000 --duration 0 \
  --size 64 --keys 500 >"$E2E_TMP/gen.json" 2>"$E2E_TMP/gen.err" || { cat "$E2E_TMP/gen.err" >&2; fail "eddy put (generated) failed"; }
cat "$E2E_TMP/gen.json" >&2
check() { pyjson "$1" <"$2" | grep -qx true || fail "$3: $(cat "$2")"; }
check 'j["userRecords"] == 20000 and j["acknowledged"] == 20000 and j["failed"] == 0 and j["expired"] == 0' "$E2E_TMP/gen.json" "summary counts"
check '0 < j["kinesisRecords"] < 2000 and j["putRecordsCalls"] >= 1' "$E2E_TMP/gen.json" "records were aggregated"
check 'all(k in j for k in ["retries","throttledEntries","elapsedSeconds","userRecordsPerSecond","invalid"])' "$E2E_TMP/gen.json" "summary fields"

log "stdin lines, key from field 2, settings from a kpl.properties file and the environment"
cat >"$E2E_TMP/kpl.properties" <<'PROPS'
# KPL names
RecordMaxBufferedTime = 50
AggregationMaxCount = 100
Region = us-east-1
PROPS
seq 1 3000 | sed 's/.*/line-&,key-&/' |
  EDDY_PUT_STREAM=agg EDDY_PUT_KEY_FIELD=2 EDDY_PUT_CONFIG="$E2E_TMP/kpl.properties" EDDY_PUT_ENDPOINT="$EDDY_URL" \
    "$EDDY_BIN" put >"$E2E_TMP/stdin.json" 2>"$E2E_TMP/stdin.err" || { cat "$E2E_TMP/stdin.err" >&2; fail "eddy put (stdin) failed"; }
cat "$E2E_TMP/stdin.json" >&2
check 'j["userRecords"] == 3000 and j["acknowledged"] == 3000 and j["kinesisRecords"] >= 30' "$E2E_TMP/stdin.json" "stdin summary (AggregationMaxCount 100)"

log "unknown stream: one line, non-zero exit"
set +e
"$EDDY_BIN" put --endpoint "$EDDY_URL" --stream nope --rate 0 --count 1 >/dev/null 2>"$E2E_TMP/nope.err"
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "eddy put into an unknown stream exited 0"
[[ $(wc -l <"$E2E_TMP/nope.err") -eq 1 ]] && grep -q "ResourceNotFoundException" "$E2E_TMP/nope.err" ||
  fail "expected one ResourceNotFoundException line, got: $(cat "$E2E_TMP/nope.err")"

log "read back with aws-kinesis-agg"
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/kinesis_agg_dump.mjs" "$EDDY_URL" agg >"$E2E_TMP/records.txt" ||
  fail "aws-kinesis-agg could not read the stream back"
python3 - "$E2E_TMP/records.txt" <<'PY' || fail "records read back differ from records put"
import collections, sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
c = collections.Counter(lines)
gen = [l for l in c if not l.startswith("line-")]
want_gen = {("%020d" % i) + "x" * 44 for i in range(20000)}
want_stdin = {"line-%d,key-%d" % (i, i) for i in range(1, 3001)}
dups = [l for l, n in c.items() if n > 1]
missing = (want_gen | want_stdin) - set(c)
extra = set(c) - (want_gen | want_stdin)
print(f"{len(lines)} user records; {len(dups)} duplicated, {len(missing)} missing, {len(extra)} unexpected", file=sys.stderr)
sys.exit(1 if dups or missing or extra else 0)
PY
stop_eddy || fail "eddy exited with status $? after SIGTERM"

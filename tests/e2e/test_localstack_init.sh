#!/usr/bin/env bash
# LocalStack drop-in: ready.d init scripts (eddy's folder, then LocalStack's) run against the
# serving eddy with the real AWS CLI (plain `aws` with the AWS_ENDPOINT_URL eddy gives them, and
# `awslocal` from docker/), in name order; each exit status is logged and reported by
# /_localstack/init; "Ready." appears on stdout only after the last script, and at once when
# there are none.
. "$(dirname "$0")/lib.sh"
require_cmd aws "the AWS CLI (pip install awscli)"

eddy_dir="$E2E_TMP/etc-eddy-ready.d"
ls_dir="$E2E_TMP/etc-localstack-ready.d"
order="$E2E_TMP/order.log"
mkdir -p "$eddy_dir" "$ls_dir"
cat >"$eddy_dir/01-kinesis.sh" <<EOF
#!/bin/sh
set -e
echo "\$(basename "\$0")" >>"$order"
aws --endpoint-url "\$AWS_ENDPOINT_URL" kinesis create-stream --stream-name from-init --shard-count 2
aws --endpoint-url "\$AWS_ENDPOINT_URL" kinesis put-record --stream-name from-init --partition-key k \
  --data aGVsbG8= $( aws --version 2>&1 | grep -q '^aws-cli/2' && echo '--cli-binary-format base64')
echo "01-kinesis.sh printed this line (to eddy's stderr, not its stdout)"
EOF
cat >"$eddy_dir/02-fails.sh" <<EOF
#!/bin/sh
echo "\$(basename "\$0")" >>"$order"
exit 7
EOF
# A LocalStack script as people write them: awslocal, credentials and region left to the image.
cat >"$ls_dir/01-s3.sh" <<EOF
#!/bin/bash
set -euo pipefail
echo "\$(basename "\$0")" >>"$order"
awslocal s3 mb s3://from-init
echo hi | awslocal s3 cp - s3://from-init/hello.txt
EOF
chmod +x "$eddy_dir"/*.sh "$ls_dir"/*.sh

PATH="$EDDY_SOURCE_DIR/docker:$PATH" start_eddy --in-memory --init-ready-dir "$eddy_dir" --init-ready-dir "$ls_dir"
out="$E2E_TMP/eddy-$E2E_SERVER_N.out"
err="$E2E_TMP/eddy-$E2E_SERVER_N.err"
# wait_ready FILE: until the line "Ready." (the init scripts run AWS CLI calls: allow a minute).
wait_ready() {
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -qx 'Ready\.' "$1" && return 0
    sleep 0.05
  done
  fail "no 'Ready.' on stdout after 60 s: $(cat "$1")"
}
wait_ready "$out"
# All three ran, in this order, before "Ready.".
[[ "$(cat "$order")" == $'01-kinesis.sh\n02-fails.sh\n01-s3.sh' ]] || fail "scripts ran in this order: $(cat "$order")"
# stdout is for scripts that parse it: the listening line, then Ready., nothing from the scripts.
[[ "$(sed -n '2,$p' "$out")" == "Ready." ]] || fail "eddy's stdout holds more than the listening line and Ready.: $(cat "$out")"
grep -q '01-kinesis.sh printed this line' "$err" || fail "a script's stdout did not reach eddy's stderr"
grep -q "init: $eddy_dir/02-fails.sh exited with status 7" "$err" || fail "the failed script's exit status was not logged: $(cat "$err")"

# What the scripts did is there.
shards=$(aws_kinesis describe-stream-summary --stream-name from-init | pyjson 'j["StreamDescriptionSummary"]["OpenShardCount"]') ||
  fail "the stream the init script created is missing"
[[ "$shards" == 2 ]] || fail "from-init has $shards shards"
[[ $(aws --endpoint-url "$EDDY_URL" s3 cp s3://from-init/hello.txt -) == hi ]] || fail "the object the awslocal script wrote is missing"

init=$(curl -fsS "$EDDY_URL/_localstack/init") || fail "GET /_localstack/init failed"
[[ $(pyjson 'j["completed"]["READY"]' <<<"$init") == true ]] || fail "READY not completed: $init"
[[ $(pyjson '" ".join("%s:%s:%s" % (s["name"], s["state"], s["exit_status"]) for s in j["scripts"])' <<<"$init") == \
  "01-kinesis.sh:SUCCESSFUL:0 02-fails.sh:ERROR:7 01-s3.sh:SUCCESSFUL:0" ]] || fail "/_localstack/init: $init"
health=$(curl -fsS "$EDDY_URL/_localstack/health") || fail "GET /_localstack/health failed"
[[ $(pyjson 'j["services"]["kinesis"] + " " + j["services"]["s3"]' <<<"$health") == "running running" ]] ||
  fail "/_localstack/health: $health"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

# No scripts: Ready. at once, and READY completed with an empty list.
start_eddy --in-memory --init-ready-dir "$E2E_TMP/no-such-dir"
wait_ready "$E2E_TMP/eddy-$E2E_SERVER_N.out"
[[ $(curl -fsS "$EDDY_URL/_localstack/init/ready") == '{"completed":true,"scripts":[]}' ]] ||
  fail "/_localstack/init/ready without scripts: $(curl -sS "$EDDY_URL/_localstack/init/ready")"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

echo "PASS: LocalStack ready.d scripts, Ready., /_localstack/init and /_localstack/health"

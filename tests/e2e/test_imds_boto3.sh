#!/usr/bin/env bash
# boto3 and the AWS CLI with no credentials but eddy's instance-metadata emulator
# (AWS_EC2_METADATA_SERVICE_ENDPOINT) against eddy in --auth verify mode: the SDKs fetch the
# role's temporary credentials over IMDSv2 and sign with them; eddy accepts exactly those.
. "$(dirname "$0")/lib.sh"
require_cmd python3
require_cmd aws
python3 -c 'import boto3' 2>/dev/null || fail "boto3 is not importable by python3 (pip install boto3)"

# No static key at all: only IMDS-issued credentials can pass.
start_eddy --in-memory --auth verify --access-key "" --secret-key "" --imds-port 0 --imds-v2-only \
  --imds-role ci-role
out="$E2E_TMP/eddy-$E2E_SERVER_N.out"
IMDS_PORT=""
for ((i = 0; i < 100; i++)); do
  if line=$(grep -m1 '^eddy imds listening on ' "$out"); then
    IMDS_PORT=${line##*:}
    break
  fi
  sleep 0.05
done
[[ -n "$IMDS_PORT" ]] || fail "no 'eddy imds listening on' line (stdout: $(cat "$out"))"
log "imds on 127.0.0.1:$IMDS_PORT"

# The IMDS itself, as curl sees it.
token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "http://127.0.0.1:$IMDS_PORT/latest/api/token")
[[ -n "$token" ]] || fail "empty IMDSv2 token"
role=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://127.0.0.1:$IMDS_PORT/latest/meta-data/iam/security-credentials/")
[[ "$role" == ci-role ]] || fail "role listing is '$role', want ci-role"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$IMDS_PORT/latest/meta-data/iam/security-credentials/")
[[ "$code" == 401 ]] || fail "IMDSv1 GET with --imds-v2-only answered $code, want 401"

# Without IMDS the fake static keys of lib.sh are refused.
set +e
err=$(aws --endpoint-url "$EDDY_URL" kinesis list-streams 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -ne 0 && "$err" == *UnrecognizedClientException* ]] || fail "static key 'test' was not refused (rc $rc): $err"

# From here on the SDKs have nothing but the metadata service.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_EC2_METADATA_DISABLED \
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$IMDS_PORT"

python3 - <<PY || fail "boto3 with IMDS credentials failed (see above)"
import boto3
session = boto3.session.Session(region_name="us-east-1")
creds = session.get_credentials()
assert creds is not None, "boto3 found no credentials"
assert creds.method == "iam-role", creds.method
frozen = creds.get_frozen_credentials()
assert frozen.access_key.startswith("ASIA") and frozen.token, frozen.access_key
k = session.client("kinesis", endpoint_url="$EDDY_URL")
k.create_stream(StreamName="imds-stream", ShardCount=1)
k.get_waiter("stream_exists").wait(StreamName="imds-stream", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
assert "imds-stream" in k.list_streams()["StreamNames"]
seq = k.put_record(StreamName="imds-stream", Data=b"signed by the role", PartitionKey="p")["SequenceNumber"]
print("boto3 via IMDS ok:", frozen.access_key, seq)
PY

names=$(aws --endpoint-url "$EDDY_URL" --output json kinesis list-streams | pyjson 'j["StreamNames"]')
[[ "$names" == '["imds-stream"]' ]] || fail "aws kinesis list-streams via IMDS gave $names"
log "aws cli via IMDS ok"

stop_eddy || fail "eddy exited with status $? after SIGTERM"

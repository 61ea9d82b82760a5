#!/usr/bin/env bash
# eddy's own HTTPS listener (--tls-cert/--tls-key): a self-signed certificate made with
# openssl, the admin endpoint over curl, and boto3 signing Kinesis calls over https in
# --auth verify mode.
. "$(dirname "$0")/lib.sh"
require_boto3

start_eddy_tls --in-memory --auth verify

curl -fsS --cacert "$E2E_TMP/cert.pem" "$HTTPS_URL/_eddy/health" >/dev/null || fail "GET /_eddy/health over https failed"

python3 - "$HTTPS_URL" "$E2E_TMP/cert.pem" <<'PY' || fail "boto3 over https failed (see above)"
import sys
import boto3
from botocore.exceptions import ClientError
url, ca = sys.argv[1], sys.argv[2]
k = boto3.client("kinesis", endpoint_url=url, verify=ca, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
k.create_stream(StreamName="tls-stream", ShardCount=1)
assert "tls-stream" in k.list_streams()["StreamNames"]
bad = boto3.client("kinesis", endpoint_url=url, verify=ca, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="wrong")
try:
    bad.list_streams()
    raise SystemExit("a wrong secret was accepted over https")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
print("kinesis over https ok")
PY

stop_eddy || fail "eddy exited with status $? after SIGTERM"

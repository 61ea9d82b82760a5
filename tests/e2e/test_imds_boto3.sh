#!/usr/bin/env bash
# boto3 and the AWS CLI with no credentials but eddy's instance-metadata emulator
# (AWS_EC2_METADATA_SERVICE_ENDPOINT) against eddy in --auth verify mode: the SDKs fetch the
# role's temporary credentials over IMDSv2 and sign with them (x-amz-security-token), for Kinesis
# and for S3 (put/get, a presigned GET carrying X-Amz-Security-Token); eddy accepts exactly those,
# and only while they are valid: once eddy's manual clock passes their expiry they get
# ExpiredToken / ExpiredTokenException, and the SDKs' next fetch from the IMDS gets rotated ones.
. "$(dirname "$0")/lib.sh"
require_boto3
require_cmd aws

# No static key at all: only IMDS-issued credentials can pass.
# Credentials live 120 s on a clock that stands still until the test moves it: moving it 180 s
# lapses them while header-signed requests (dated by the host's clock) stay inside the allowed
# clock skew (Kinesis 5 minutes, S3 15).
start_eddy --in-memory --auth verify --access-key "" --secret-key "" --imds-port 0 --imds-v2-only \
  --imds-role ci-role --imds-credential-lifetime 120 --clock manual
IMDS_PORT=$(listener_port imds)
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

# S3 with the same role credentials: header-signed put/get (with botocore's default CRC32) and a
# presigned GET URL for curl below.
from botocore.config import Config
s3 = session.client("s3", endpoint_url="$EDDY_URL", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="imds-bucket")
body = bytes(range(256)) * 4000
s3.put_object(Bucket="imds-bucket", Key="role/obj.bin", Body=body)
got = s3.get_object(Bucket="imds-bucket", Key="role/obj.bin", ChecksumMode="ENABLED")
assert got["Body"].read() == body, "S3 object read back differs"
assert got["ChecksumCRC32"], got
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="imds-bucket")["Contents"]]
assert keys == ["role/obj.bin"], keys
open("$E2E_TMP/imds-obj.bin", "wb").write(body)
# boto3's default presigner here gives the SigV2 query form (x-amz-security-token); s3v4 the
# SigV4 one (X-Amz-Security-Token). Both must carry the role's session token.
s3v4 = session.client("s3", endpoint_url="$EDDY_URL",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
with open("$E2E_TMP/imds-presigned.txt", "w") as f:
    for c in (s3, s3v4):
        u = c.generate_presigned_url("get_object", Params={"Bucket": "imds-bucket", "Key": "role/obj.bin"}, ExpiresIn=300)
        assert "security-token=" in u.lower(), u
        f.write(u + "\n")
print("boto3 s3 via IMDS ok")
PY

while read -r presigned; do
  curl -fsS "$presigned" -o "$E2E_TMP/imds-curl.bin" || fail "presigned GET with the role's token failed: $presigned"
  cmp "$E2E_TMP/imds-obj.bin" "$E2E_TMP/imds-curl.bin" || fail "presigned GET with the role's token returned other bytes"
  # Without its session token the role's key is not one eddy knows.
  code=$(curl -s -o "$E2E_TMP/err.xml" -w '%{http_code}' "$(sed 's/&x-amz-security-token=[^&]*//I' <<<"$presigned")")
  [[ "$code" == 403 ]] && grep -q '<Code>InvalidAccessKeyId</Code>' "$E2E_TMP/err.xml" ||
    fail "presigned GET without its security token answered $code: $(cat "$E2E_TMP/err.xml")"
done <"$E2E_TMP/imds-presigned.txt"

names=$(aws --endpoint-url "$EDDY_URL" --output json kinesis list-streams | pyjson 'j["StreamNames"]')
[[ "$names" == '["imds-stream"]' ]] || fail "aws kinesis list-streams via IMDS gave $names"
aws --endpoint-url "$EDDY_URL" s3 cp --only-show-errors s3://imds-bucket/role/obj.bin "$E2E_TMP/imds-cli.bin" ||
  fail "aws s3 cp via IMDS failed"
cmp "$E2E_TMP/imds-obj.bin" "$E2E_TMP/imds-cli.bin" || fail "aws s3 cp via IMDS returned other bytes"
log "aws cli via IMDS ok"

log "credentials lapse on eddy's clock"
old_creds=$(python3 -c '
import boto3
f = boto3.session.Session(region_name="us-east-1").get_credentials().get_frozen_credentials()
print(f.access_key, f.secret_key, f.token)')
curl -fsS -X POST --data '{"advance_s": 180}' "$EDDY_URL/_eddy/clock" >/dev/null || fail "POST /_eddy/clock failed"
python3 - $old_creds <<PY || fail "expired IMDS credentials were not refused as AWS does, or fresh ones failed (see above)"
import sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
key, secret, token = sys.argv[1:4]
old = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                            region_name="us-east-1")
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
try:
    old.client("s3", endpoint_url="$EDDY_URL", config=cfg).get_object(Bucket="imds-bucket", Key="role/obj.bin")
    raise AssertionError("S3 accepted lapsed credentials")
except ClientError as e:
    err = e.response["Error"]
    assert (e.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"], err["Message"]) == \
        (400, "ExpiredToken", "The provided token has expired."), e.response
try:
    old.client("kinesis", endpoint_url="$EDDY_URL", config=cfg).list_streams()
    raise AssertionError("Kinesis accepted lapsed credentials")
except ClientError as e:
    err = e.response["Error"]
    assert (err["Code"], err["Message"]) == \
        ("ExpiredTokenException", "The security token included in the request is expired"), e.response
# A new session asks the IMDS again and gets the rotated credentials.
fresh = boto3.session.Session(region_name="us-east-1")
f = fresh.get_credentials().get_frozen_credentials()
assert f.access_key != key and f.token != token, "the IMDS did not rotate lapsed credentials"
body = fresh.client("s3", endpoint_url="$EDDY_URL", config=cfg).get_object(Bucket="imds-bucket", Key="role/obj.bin")["Body"].read()
assert body == open("$E2E_TMP/imds-obj.bin", "rb").read()
print("lapsed credentials refused, rotated ones accepted:", f.access_key)
PY

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: boto3 and the AWS CLI with IMDS credentials only (Kinesis, S3, presigned, expiry)"

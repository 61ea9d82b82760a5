#!/usr/bin/env bash
# Bucket policies, SSE-C and tagging driven by real clients against eddy in verify mode with two
# accounts: boto3 (a policy granting the other account GetObject and denying a prefix,
# PolicyStatus, object and bucket tagging, SSE-C put/get/copy/head with the right and a wrong
# key, SSE-KMS echoed) and the AWS CLI (put/get-bucket-policy, put/get-object-tagging,
# cp --sse-c / --sse-c-key and --sse aws:kms, versioning: versions, GET by version, delete
# marker, list-object-versions).
. "$(dirname "$0")/lib.sh"
require_cmd aws "pip install awscli"
require_boto3

O="$E2E_TMP/pst"
mkdir -p "$O"
cat >"$O/credentials" <<'INI'
[other]
aws_access_key_id = AKIDE2EOTHER
aws_secret_access_key = e2e-other-secret
account_id = 111122223333
INI
start_eddy --in-memory --auth verify --access-key test --secret-key test --credentials "$O/credentials"

log "boto3: policies, tagging, SSE-C, SSE-KMS"
python3 - "$EDDY_URL" <<'PY' || fail "boto3 policy/SSE/tagging checks failed"
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url = sys.argv[1]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
owner = boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=cfg,
                     aws_access_key_id="test", aws_secret_access_key="test")
other = boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=cfg,
                     aws_access_key_id="AKIDE2EOTHER", aws_secret_access_key="e2e-other-secret")

def refused(fn, status, code=None, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
        assert got[0] == status and (code is None or got[1] == code), got
        return
    raise AssertionError(f"{fn.__name__} succeeded, expected {status} {code}")

owner.create_bucket(Bucket="pol")
owner.put_object(Bucket="pol", Key="shared/a", Body=b"a")
owner.put_object(Bucket="pol", Key="secret/b", Body=b"b")
refused(other.get_object, 403, "AccessDenied", Bucket="pol", Key="shared/a")
refused(owner.get_bucket_policy, 404, "NoSuchBucketPolicy", Bucket="pol")
policy = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::pol/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol/secret/*"}]})
owner.put_bucket_policy(Bucket="pol", Policy=policy)
assert owner.get_bucket_policy(Bucket="pol")["Policy"] == policy
assert other.get_object(Bucket="pol", Key="shared/a")["Body"].read() == b"a"
refused(other.get_object, 403, "AccessDenied", Bucket="pol", Key="secret/b")
refused(owner.get_object, 403, "AccessDenied", Bucket="pol", Key="secret/b")  # Deny wins over the owner
assert owner.get_bucket_policy_status(Bucket="pol")["PolicyStatus"]["IsPublic"] is False
refused(owner.put_bucket_policy, 400, "MalformedPolicy", Bucket="pol", Policy="{not json")
owner.delete_bucket_policy(Bucket="pol")
assert owner.get_object(Bucket="pol", Key="secret/b")["Body"].read() == b"b"

owner.put_object(Bucket="pol", Key="t", Body=b"t", Tagging="team=core&env=ci")
assert owner.head_object(Bucket="pol", Key="t")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
owner.put_object_tagging(Bucket="pol", Key="t", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
assert owner.get_object_tagging(Bucket="pol", Key="t")["TagSet"] == [{"Key": "only", "Value": "one"}]
refused(owner.put_object_tagging, 400, "InvalidTag", Bucket="pol", Key="t",
        Tagging={"TagSet": [{"Key": str(i), "Value": "v"} for i in range(11)]})
owner.delete_object_tagging(Bucket="pol", Key="t")
assert owner.get_object_tagging(Bucket="pol", Key="t")["TagSet"] == []
owner.put_bucket_tagging(Bucket="pol", Tagging={"TagSet": [{"Key": "cost", "Value": "42"}]})
assert owner.get_bucket_tagging(Bucket="pol")["TagSet"] == [{"Key": "cost", "Value": "42"}]
owner.delete_bucket_tagging(Bucket="pol")
refused(owner.get_bucket_tagging, 404, "NoSuchTagSet", Bucket="pol")

key1, key2 = b"k" * 32, b"z" * 32  # botocore adds the base64 and the MD5
owner.put_object(Bucket="pol", Key="c", Body=b"customer", SSECustomerAlgorithm="AES256", SSECustomerKey=key1)
refused(owner.get_object, 400, "InvalidRequest", Bucket="pol", Key="c")
refused(owner.get_object, 400, Bucket="pol", Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key2)
r = owner.get_object(Bucket="pol", Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key1)
assert r["Body"].read() == b"customer" and r["SSECustomerAlgorithm"] == "AES256", r
owner.copy_object(Bucket="pol", Key="c2", CopySource={"Bucket": "pol", "Key": "c"},
                  CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key1,
                  SSECustomerAlgorithm="AES256", SSECustomerKey=key2)
assert owner.head_object(Bucket="pol", Key="c2", SSECustomerAlgorithm="AES256", SSECustomerKey=key2)["ContentLength"] == 8
r = owner.put_object(Bucket="pol", Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/e2e")
assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == "alias/e2e", r
h = owner.head_object(Bucket="pol", Key="kms")
assert h["ServerSideEncryption"] == "aws:kms" and h["SSEKMSKeyId"] == "alias/e2e", h
print("boto3 ok")
PY

log "AWS CLI: bucket policy, object tagging, SSE-C and SSE-KMS copies"
s3() { aws --endpoint-url "$EDDY_URL" --output json "$@"; }
s3 s3 mb s3://cli-pol >/dev/null || fail "mb failed"
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cli-pol/*"}]}' >"$O/policy.json"
s3 s3api put-bucket-policy --bucket cli-pol --policy "file://$O/policy.json" || fail "put-bucket-policy failed"
s3 s3api get-bucket-policy-status --bucket cli-pol >"$O/status.json" || fail "get-bucket-policy-status failed"
[ "$(pyjson 'j["PolicyStatus"]["IsPublic"]' <"$O/status.json")" = true ] || fail "policy not public: $(cat "$O/status.json")"
echo hello >"$O/f.txt"
s3 s3 cp --only-show-errors "$O/f.txt" s3://cli-pol/f.txt || fail "cp failed"
curl -fsS "$EDDY_URL/cli-pol/f.txt" | grep -q hello || fail "anonymous GET allowed by the policy failed"
s3 s3api put-object-tagging --bucket cli-pol --key f.txt --tagging 'TagSet=[{Key=a,Value=b}]' || fail "put-object-tagging failed"
s3 s3api get-object-tagging --bucket cli-pol --key f.txt >"$O/tags.json" || fail "get-object-tagging failed"
[ "$(pyjson 'j["TagSet"][0]["Value"]' <"$O/tags.json")" = b ] || fail "tags: $(cat "$O/tags.json")"
KEY=0123456789abcdef0123456789abcdef
s3 s3 cp --only-show-errors "$O/f.txt" s3://cli-pol/c.txt --sse-c AES256 --sse-c-key "$KEY" || fail "cp --sse-c failed"
if s3 s3 cp --only-show-errors s3://cli-pol/c.txt "$O/nokey.txt" 2>/dev/null; then fail "SSE-C object read without its key"; fi
s3 s3 cp --only-show-errors s3://cli-pol/c.txt "$O/back.txt" --sse-c AES256 --sse-c-key "$KEY" || fail "cp back --sse-c failed"
cmp "$O/f.txt" "$O/back.txt" || fail "SSE-C round trip differs"
s3 s3 cp --only-show-errors s3://cli-pol/f.txt s3://cli-pol/k.txt --sse aws:kms --sse-kms-key-id cli-key || fail "cp --sse aws:kms failed"
s3 s3api head-object --bucket cli-pol --key k.txt >"$O/head.json" || fail "head-object failed"
[ "$(pyjson 'j["SSEKMSKeyId"]' <"$O/head.json")" = cli-key ] || fail "KMS key not echoed: $(cat "$O/head.json")"
s3 s3api delete-bucket-policy --bucket cli-pol || fail "delete-bucket-policy failed"
curl -s -o /dev/null -w '%{http_code}' "$EDDY_URL/cli-pol/f.txt" | grep -q 403 || fail "anonymous GET still allowed"

log "AWS CLI: versioning (versions, GET by version, delete marker, list-object-versions)"
s3 s3 mb s3://cli-ver >/dev/null || fail "mb cli-ver failed"
s3 s3api put-bucket-versioning --bucket cli-ver --versioning-configuration Status=Enabled || fail "put-bucket-versioning failed"
[ "$(s3 s3api get-bucket-versioning --bucket cli-ver | pyjson 'j["Status"]')" = Enabled ] || fail "versioning not Enabled"
echo one >"$O/v1.txt"
echo two >"$O/v2.txt"
V1=$(s3 s3api put-object --bucket cli-ver --key k --body "$O/v1.txt" | pyjson 'j["VersionId"]') || fail "put v1 failed"
s3 s3api put-object --bucket cli-ver --key k --body "$O/v2.txt" >/dev/null || fail "put v2 failed"
s3 s3api get-object --bucket cli-ver --key k --version-id "$V1" "$O/got1.txt" >/dev/null || fail "get by version failed"
cmp "$O/v1.txt" "$O/got1.txt" || fail "version $V1 has other content"
[ "$(s3 s3api delete-object --bucket cli-ver --key k | pyjson 'j["DeleteMarker"]')" = true ] || fail "no delete marker"
s3 s3api list-object-versions --bucket cli-ver >"$O/versions.json" || fail "list-object-versions failed"
[ "$(pyjson 'len(j["Versions"]), len(j["DeleteMarkers"])' <"$O/versions.json")" = "[2, 1]" ] ||
  fail "versions: $(cat "$O/versions.json")"
if s3 s3api head-object --bucket cli-ver --key k >/dev/null 2>&1; then fail "deleted key still readable"; fi

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS"

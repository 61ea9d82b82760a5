#!/usr/bin/env bash
# Other S3 clients against eddy in verify mode: s3cmd (ListObjects v1, 15 MiB sequential
# parts), rclone (copy/check/copy back), and boto3 over eddy's TLS listener, where botocore
# sends aws-chunked bodies with a trailing CRC32 (single PUT and multipart).
. "$(dirname "$0")/lib.sh"
require_cmd s3cmd "apt-get install s3cmd"
require_cmd rclone "apt-get install rclone"
require_cmd openssl
require_boto3

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" -days 1 \
  -subj /CN=localhost 2>/dev/null || fail "openssl could not make a certificate"
start_eddy --in-memory --auth verify --tls-cert "$E2E_TMP/cert.pem" --tls-key "$E2E_TMP/key.pem"
TLS_PORT=""
for ((i = 0; i < 100; i++)); do
  TLS_PORT=$(sed -n 's/^eddy tls listening on [^ ]*:\([0-9]*\)$/\1/p' "$E2E_TMP/eddy-$E2E_SERVER_N.out")
  [ -n "$TLS_PORT" ] && break
  sleep 0.05
done
[ -n "$TLS_PORT" ] || fail "no 'eddy tls listening' line"

O="$E2E_TMP/clients"
mkdir -p "$O/tree/a"
head -c 40000000 /dev/urandom >"$O/f.bin"
echo one >"$O/tree/a/1.txt"
cp "$O/f.bin" "$O/tree/big.bin"

log "s3cmd"
cat >"$O/s3cmd.cfg" <<CFG
[default]
access_key = test
secret_key = test
host_base = 127.0.0.1:$EDDY_PORT
host_bucket = 127.0.0.1:$EDDY_PORT
use_https = False
signature_v2 = False
multipart_chunk_size_mb = 15
CFG
S3CMD=(s3cmd -c "$O/s3cmd.cfg" --no-progress)
"${S3CMD[@]}" mb s3://cmd-bucket >/dev/null || fail "s3cmd mb failed"
"${S3CMD[@]}" put "$O/f.bin" s3://cmd-bucket/dir/f.bin >/dev/null || fail "s3cmd put failed"
"${S3CMD[@]}" ls s3://cmd-bucket/ >"$O/ls.txt" || fail "s3cmd ls failed"
grep -q "DIR *s3://cmd-bucket/dir/" "$O/ls.txt" || fail "s3cmd ls shows no common prefix: $(cat "$O/ls.txt")"
"${S3CMD[@]}" get s3://cmd-bucket/dir/f.bin "$O/g.bin" >/dev/null || fail "s3cmd get failed"
cmp "$O/f.bin" "$O/g.bin" || fail "s3cmd round trip differs"
"${S3CMD[@]}" del s3://cmd-bucket/dir/f.bin >/dev/null || fail "s3cmd del failed"
"${S3CMD[@]}" rb s3://cmd-bucket >/dev/null || fail "s3cmd rb failed"

log "rclone"
unset AWS_CA_BUNDLE
export RCLONE_CONFIG="$E2E_TMP/rclone.conf" RCLONE_CONFIG_E_TYPE=s3 RCLONE_CONFIG_E_PROVIDER=Other \
  RCLONE_CONFIG_E_ACCESS_KEY_ID=test RCLONE_CONFIG_E_SECRET_ACCESS_KEY=test \
  RCLONE_CONFIG_E_ENDPOINT="$EDDY_URL" RCLONE_CONFIG_E_REGION=us-east-1
: >"$RCLONE_CONFIG"
rclone mkdir e:rcl-bucket || fail "rclone mkdir failed"
rclone copy "$O/tree" e:rcl-bucket || fail "rclone copy up failed"
rclone check "$O/tree" e:rcl-bucket 2>"$O/check.txt" || fail "rclone check failed: $(cat "$O/check.txt")"
rclone copy e:rcl-bucket "$O/back" || fail "rclone copy down failed"
diff -r "$O/tree" "$O/back" || fail "rclone round trip differs"

log "boto3 over TLS (aws-chunked with CRC32 trailers)"
python3 - "$TLS_PORT" "$O" <<'PY' || fail "boto3 over TLS failed"
import io, os, sys, urllib3
import boto3
from botocore.config import Config
urllib3.disable_warnings()
port, o = sys.argv[1], sys.argv[2]
seen = []
s3 = boto3.client("s3", endpoint_url=f"https://127.0.0.1:{port}", region_name="us-east-1", verify=False,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
s3.meta.events.register("before-send.s3.*", lambda request, **kw: seen.append(request.headers.get("Content-Encoding")))
s3.create_bucket(Bucket="tls-bucket")
s3.put_object(Bucket="tls-bucket", Key="k", Body=io.BytesIO(b"x" * 100000))
assert seen[-1] == b"aws-chunked", seen[-1]
r = s3.get_object(Bucket="tls-bucket", Key="k", ChecksumMode="ENABLED")
assert r["Body"].read() == b"x" * 100000
assert r["ChecksumCRC32"], r
s3.upload_file(o + "/f.bin", "tls-bucket", "big")
s3.download_file("tls-bucket", "big", o + "/tls.bin")
assert open(o + "/tls.bin", "rb").read() == open(o + "/f.bin", "rb").read()
PY
stop_eddy || fail "eddy exited with an error"
echo "PASS"

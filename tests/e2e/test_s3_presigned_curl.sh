#!/usr/bin/env bash
# Presigned URLs made by boto3's generate_presigned_url, used by plain curl against eddy in
# --auth verify mode: SigV4 (signature_version='s3v4') and the legacy SigV2 query form
# (signature_version='s3': AWSAccessKeyId, Expires, Signature) for GET, PUT (curl -T) and HEAD
# (curl -I), path and virtual-hosted style. Expiry is driven by eddy's manual clock, never by
# sleeping; a tampered signature, a stretched expiry, another Content-Type than the signed one and
# a URL used with another method are refused.
. "$(dirname "$0")/lib.sh"
require_cmd curl
require_boto3

start_eddy --in-memory --auth verify --access-key test --secret-key test --clock manual
O="$E2E_TMP/presign"
mkdir -p "$O"

# Makes the bucket and objects, writes the source files and one "name url" line per URL.
python3 - "$EDDY_URL" "$O" >"$O/urls.txt" <<'PY' || fail "boto3 could not set up the bucket or presign"
import os, random, sys
import boto3
from botocore.config import Config
url, o = sys.argv[1], sys.argv[2]
r = random.Random(7)
body = r.randbytes(300_000)
open(os.path.join(o, "f.bin"), "wb").write(body)
open(os.path.join(o, "up.bin"), "wb").write(r.randbytes(2_000_001))
def client(sig):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        config=Config(signature_version=sig, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))
v4, v2 = client("s3v4"), client("s3")
v4.create_bucket(Bucket="pre")
v4.put_object(Bucket="pre", Key="f.bin", Body=body)
v4.put_object(Bucket="pre", Key="dir/a b+c ü.bin", Body=body)
def presign(c, method, key, expires=300, **extra):
    return c.generate_presigned_url(method, Params={"Bucket": "pre", "Key": key, **extra}, ExpiresIn=expires)
for name, c in (("v4", v4), ("v2", v2)):
    print(name + "_get", presign(c, "get_object", "f.bin"))
    print(name + "_get_odd", presign(c, "get_object", "dir/a b+c ü.bin"))
    print(name + "_get_disp", presign(c, "get_object", "f.bin",
                                      ResponseContentDisposition='attachment; filename="x y.bin"'))
    print(name + "_put", presign(c, "put_object", "up/" + name + ".bin"))
    print(name + "_head", presign(c, "head_object", "f.bin"))
    print(name + "_exp", presign(c, "get_object", "f.bin", expires=1))
    print(name + "_put_ct", presign(c, "put_object", "up/ct-" + name, ContentType="text/plain"))
# Virtual-hosted style: the bucket in the Host (pre.localhost:PORT), not in the path.
vhost = url.replace("127.0.0.1", "localhost")
for name, sig in (("v4", "s3v4"), ("v2", "s3")):
    c = boto3.client("s3", endpoint_url=vhost, region_name="us-east-1",
                     config=Config(signature_version=sig, s3={"addressing_style": "virtual"}))
    print(name + "_vhost", presign(c, "get_object", "dir/a b+c ü.bin"))
PY
url() { sed -n "s/^$1 //p" "$O/urls.txt"; }
for n in v4_get v4_put v4_head v4_exp; do
  [[ "$(url $n)" == *X-Amz-Algorithm=AWS4-HMAC-SHA256*X-Amz-Signature=* ]] || fail "$n is not a SigV4 URL: $(url $n)"
done
for n in v2_get v2_put v2_head v2_exp; do
  u=$(url $n)
  [[ "$u" == *AWSAccessKeyId=test* && "$u" == *Signature=* && "$u" == *Expires=* && "$u" != *X-Amz-* ]] ||
    fail "$n is not a SigV2 query URL: $u"
done
[[ "$(url v4_exp)" == *X-Amz-Expires=1\&* || "$(url v4_exp)" == *X-Amz-Expires=1 ]] || fail "v4_exp: $(url v4_exp)"

# expect_error <file.xml> <status> <got status> <Code> [message]: an S3 XML error as AWS words it.
expect_error() {
  [[ "$3" == "$2" ]] || fail "want HTTP $2 ($4), got $3: $(cat "$1")"
  grep -q "<Code>$4</Code>" "$1" || fail "want <Code>$4</Code>: $(cat "$1")"
  [[ -z "${5:-}" ]] || grep -q "<Message>$5</Message>" "$1" || fail "want <Message>$5</Message>: $(cat "$1")"
}

for v in v4 v2; do
  log "$v: GET, GET of an odd key, GET with response-content-disposition"
  curl -fsS "$(url ${v}_get)" -o "$O/$v.got" || fail "$v presigned GET failed"
  cmp "$O/f.bin" "$O/$v.got" || fail "$v presigned GET body differs"
  curl -fsS "$(url ${v}_get_odd)" -o "$O/$v.odd" || fail "$v presigned GET of 'dir/a b+c ü.bin' failed"
  cmp "$O/f.bin" "$O/$v.odd" || fail "$v presigned GET of the odd key differs"
  curl -fsS -D "$O/$v.disp.h" "$(url ${v}_get_disp)" -o /dev/null || fail "$v presigned GET with response-content-disposition failed"
  grep -qi '^content-disposition: attachment; filename="x y.bin"' "$O/$v.disp.h" ||
    fail "$v: response-content-disposition not applied: $(cat "$O/$v.disp.h")"

  log "$v: PUT with curl -T, read back"
  curl -fsS -T "$O/up.bin" -D "$O/$v.put.h" "$(url ${v}_put)" -o "$O/$v.put.body" || fail "$v presigned PUT failed: $(cat "$O/$v.put.body" 2>/dev/null)"
  want_etag="\"$(md5sum "$O/up.bin" | cut -d' ' -f1)\""
  grep -qi "^etag: $want_etag" "$O/$v.put.h" || fail "$v presigned PUT: ETag is not $want_etag: $(cat "$O/$v.put.h")"
  aws --endpoint-url "$EDDY_URL" s3 cp --only-show-errors "s3://pre/up/$v.bin" "$O/$v.up.back" || fail "reading up/$v.bin back failed"
  cmp "$O/up.bin" "$O/$v.up.back" || fail "$v presigned PUT stored something else"

  log "$v: PUT with a signed Content-Type"
  code=$(curl -s -o "$O/err.xml" -w '%{http_code}' -T "$O/up.bin" -H 'Content-Type: text/html' "$(url ${v}_put_ct)")
  expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
  curl -fsS -T "$O/up.bin" -H 'Content-Type: text/plain' "$(url ${v}_put_ct)" -o /dev/null ||
    fail "$v presigned PUT with its signed Content-Type failed"

  log "$v: virtual-hosted GET"
  u=$(url ${v}_vhost)
  [[ "$u" == "http://pre.localhost:$EDDY_PORT/dir/"* ]] || fail "$v: not a virtual-hosted URL: $u"
  curl -fsS --resolve "pre.localhost:$EDDY_PORT:127.0.0.1" "$u" -o "$O/$v.vhost" || fail "$v virtual-hosted presigned GET failed"
  cmp "$O/f.bin" "$O/$v.vhost" || fail "$v virtual-hosted presigned GET body differs"

  log "$v: HEAD with curl -I"
  curl -fsS -I "$(url ${v}_head)" >"$O/$v.head.h" || fail "$v presigned HEAD failed"
  head -n 1 "$O/$v.head.h" | grep -q ' 200' || fail "$v presigned HEAD: $(head -n 1 "$O/$v.head.h")"
  grep -qi '^content-length: 300000' "$O/$v.head.h" || fail "$v presigned HEAD: wrong Content-Length: $(cat "$O/$v.head.h")"
  grep -qi "^etag: \"$(md5sum "$O/f.bin" | cut -d' ' -f1)\"" "$O/$v.head.h" || fail "$v presigned HEAD: wrong ETag"

  log "$v: the method is signed: a GET URL used for HEAD or PUT is refused"
  code=$(curl -s -o /dev/null -I -w '%{http_code}' "$(url ${v}_get)")
  [[ "$code" == 403 ]] || fail "$v: a presigned GET URL used with HEAD answered $code"
  code=$(curl -s -o "$O/err.xml" -w '%{http_code}' -T "$O/up.bin" "$(url ${v}_get)")
  expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
done

log "tampered signatures"
u=$(url v4_get)
sig=${u##*X-Amz-Signature=}
sig=${sig%%&*}
flipped=$( [[ "${sig:0:1}" == 0 ]] && echo 1 || echo 0)${sig:1}
code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "${u/X-Amz-Signature=$sig/X-Amz-Signature=$flipped}")
expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
grep -q "<StringToSign>AWS4-HMAC-SHA256" "$O/err.xml" || fail "SigV4 SignatureDoesNotMatch has no StringToSign: $(cat "$O/err.xml")"
[[ "$u" == *X-Amz-Expires=300* ]] || fail "v4_get has no X-Amz-Expires=300: $u"
code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "${u/X-Amz-Expires=300/X-Amz-Expires=3000}")
expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
u=$(url v2_get)
sig=${u##*Signature=}
sig=${sig%%&*}
code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "${u/Signature=$sig/Signature=AAAA$sig}")
expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
expires=${u##*Expires=}
expires=${expires%%&*}
code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "${u/Expires=$expires/Expires=$((expires + 1000))}")
expect_error "$O/err.xml" 403 "$code" SignatureDoesNotMatch
code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "$EDDY_URL/pre/f.bin")
expect_error "$O/err.xml" 403 "$code" AccessDenied

log "expiry on eddy's manual clock"
# eddy's clock stands still at its start time, before the URLs were signed. Set it from the URLs
# themselves (the SigV4 X-Amz-Date, the SigV2 Expires), so the checks are exact however slowly
# the setup above ran. set_clock_ms MS: move the clock to MS, or leave it if already later.
set_clock_ms() {
  local now
  now=$(curl -fsS "$EDDY_URL/_eddy/clock" | pyjson 'j["now_ms"]') || fail "GET /_eddy/clock failed"
  ((now >= $1)) && return 0
  curl -fsS -X POST -H 'Content-Type: application/json' --data "{\"set_ms\": $1}" "$EDDY_URL/_eddy/clock" >/dev/null ||
    fail "POST /_eddy/clock set_ms $1 failed"
}
v4_signed=$(url v4_exp | sed -n 's/.*X-Amz-Date=\([0-9]\{8\}T[0-9]\{6\}Z\).*/\1/p')
[[ -n "$v4_signed" ]] || fail "no X-Amz-Date in $(url v4_exp)"
v4_signed_s=$(date -u -d "${v4_signed:0:4}-${v4_signed:4:2}-${v4_signed:6:2} ${v4_signed:9:2}:${v4_signed:11:2}:${v4_signed:13:2}" +%s)
v2_expires_s=$(url v2_exp | sed -n 's/.*Expires=\([0-9]*\).*/\1/p')
[[ -n "$v2_expires_s" ]] || fail "no Expires in $(url v2_exp)"
# Not expired yet: at the SigV4 URL's signing second, then at the SigV2 URL's (its Expires - 1).
set_clock_ms $((v4_signed_s * 1000))
curl -fsS "$(url v4_exp)" -o "$O/exp.got" || fail "SigV4 URL with X-Amz-Expires=1 refused at its signing time"
cmp "$O/f.bin" "$O/exp.got" || fail "body differs"
set_clock_ms $(((v2_expires_s - 1) * 1000))
curl -fsS "$(url v2_exp)" -o /dev/null || fail "SigV2 URL expiring in 1 s refused at its signing time"
# 60 s after both were signed.
latest=$((v4_signed_s > v2_expires_s ? v4_signed_s : v2_expires_s))
set_clock_ms $(((latest + 60) * 1000))
for v in v4 v2; do
  code=$(curl -s -o "$O/err.xml" -w '%{http_code}' "$(url ${v}_exp)")
  expect_error "$O/err.xml" 403 "$code" AccessDenied "Request has expired"
  grep -q "<ServerTime>" "$O/err.xml" || fail "$v expired: no ServerTime in $(cat "$O/err.xml")"
  # A URL that is still within its lifetime keeps working on the moved clock.
  curl -fsS "$(url ${v}_get)" -o /dev/null || fail "$v 300 s URL refused after the clock moved 60 s"
done
grep -q "<X-Amz-Expires>1</X-Amz-Expires>" <(curl -s "$(url v4_exp)") || fail "SigV4 expired error lacks X-Amz-Expires"

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: presigned SigV4 and SigV2 GET/PUT/HEAD with curl, expiry, tampering"

#!/usr/bin/env bash
# `eddy fetch` (the real binary) against `eddy serve --auth verify`: publish and fetch with static
# keys from the environment, with a profile of a shared credentials file, and with nothing but
# eddy's instance-metadata emulator (IMDSv2, and IMDSv1 behind a front that refuses tokens);
# the public-read http:// form on the seeded ivy repository; a tampered .sha1, a missing artifact
# and wrong keys fail in one line with exit 1.
. "$(dirname "$0")/lib.sh"
require_cmd aws
require_cmd python3

start_eddy --in-memory --auth verify --access-key AKIDFETCHE2E --secret-key fetch-e2e-secret --imds-port 0 \
  --seed "$EDDY_SOURCE_DIR/fixtures/seed"
IMDS_PORT=$(listener_port imds)

export AWS_ACCESS_KEY_ID=AKIDFETCHE2E AWS_SECRET_ACCESS_KEY=fetch-e2e-secret
aws --endpoint-url "$EDDY_URL" s3 mb s3://artifacts >/dev/null
head -c 200000 /dev/urandom >"$E2E_TMP/greeter.jar"
cd "$E2E_TMP"

fetch() { "$EDDY_BIN" fetch --endpoint "$EDDY_URL" --repo s3://artifacts/libs/ --organisation com.example \
  --artifact greeter "$@"; }

# 1. Static keys from the environment.
got=$(fetch --revision 1.0 --publish greeter.jar) || fail "publish failed"
[[ "$got" == "published greeter.jar -> s3://artifacts/libs/com.example/greeter-1.0.jar (+ .sha1, .md5)" ]] || fail "publish said: $got"
got=$(fetch --revision 1.0 --out dl) || fail "fetch failed"
[[ "$got" == "fetched s3://artifacts/libs/com.example/greeter-1.0.jar -> dl/greeter-1.0.jar (200000 bytes, sha1+md5 verified)" ]] ||
  fail "fetch said: $got"
cmp greeter.jar dl/greeter-1.0.jar || fail "fetched bytes differ"
[[ $(aws --endpoint-url "$EDDY_URL" s3 cp s3://artifacts/libs/com.example/greeter-1.0.jar.sha1 -) == $(sha1sum <greeter.jar | cut -d' ' -f1) ]] ||
  fail "published .sha1 is not the file's SHA-1"

# A tampered .sha1, a missing artifact, wrong keys: one line each, exit 1.
echo 0000000000000000000000000000000000000000 | aws --endpoint-url "$EDDY_URL" s3 cp - s3://artifacts/libs/com.example/greeter-1.0.jar.sha1 >/dev/null
set +e
err=$(fetch --revision 1.0 --out bad 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy fetch: checksum mismatch: s3://artifacts/libs/com.example/greeter-1.0.jar has sha1 "* ]] ||
  fail "tampered sha1: rc $rc, '$err'"
[[ ! -e bad/greeter-1.0.jar ]] || fail "a download that failed its checksum was left behind"
set +e
err=$(fetch --revision 7.7 --out dl 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy fetch: NoSuchKey: s3://artifacts/libs/com.example/greeter-7.7.jar does not exist" ]] ||
  fail "missing artifact: rc $rc, '$err'"
set +e
err=$(AWS_SECRET_ACCESS_KEY=wrong fetch --revision 1.0 --out dl --max-attempts 1 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy fetch: SignatureDoesNotMatch: "* && $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
  fail "wrong keys: rc $rc, '$err'"

# 2. A profile of a shared credentials file, nothing in the environment.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
printf '[ci]\naws_access_key_id = AKIDFETCHE2E\naws_secret_access_key = fetch-e2e-secret\n' >"$AWS_SHARED_CREDENTIALS_FILE"
got=$(AWS_PROFILE=ci fetch --revision 2.0 --publish greeter.jar) || fail "publish with a profile failed"
got=$(AWS_PROFILE=ci fetch --revision 2.0 --out prof) || fail "fetch with a profile failed"
cmp greeter.jar prof/greeter-2.0.jar || fail "profile fetch: bytes differ"
got=$(fetch --profile ci --revision 2.0 --out prof2) || fail "fetch with --profile failed"
: >"$AWS_SHARED_CREDENTIALS_FILE"

# 3. The public-read form: unsigned GETs of the seeded ivy repository over http://.
got=$("$EDDY_BIN" fetch --repo "$EDDY_URL/ivy-repo/" --pattern '[organisation]/[module]/[revision]/[artifact]-[revision].[ext]' \
  --organisation com.example --artifact greeter --revision 1.0.0 --out pub) || fail "public fetch failed"
[[ "$got" == "fetched $EDDY_URL/ivy-repo/com.example/greeter/1.0.0/greeter-1.0.0.jar -> pub/greeter-1.0.0.jar ("*" bytes, sha1 verified)" ]] ||
  fail "public fetch said: $got"
cmp pub/greeter-1.0.0.jar "$EDDY_SOURCE_DIR/fixtures/seed/ivy-repo/com.example/greeter/1.0.0/greeter-1.0.0.jar" || fail "public fetch: bytes differ"

# 4. Nothing but the instance-metadata service: IMDSv2, then IMDSv1 (token calls refused).
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$IMDS_PORT"
# The role's own bucket (made by the AWS CLI, with the IMDS credentials too): eddy's S3 keeps
# buckets per identity until per-account ownership lands, so the role cannot write "artifacts".
aws --endpoint-url "$EDDY_URL" s3 mb s3://role-artifacts >/dev/null || fail "aws s3 mb with IMDS credentials failed"
fetch() { "$EDDY_BIN" fetch --endpoint "$EDDY_URL" --repo s3://role-artifacts/libs/ --organisation com.example \
  --artifact greeter "$@"; }
got=$(fetch --revision 3.0 --publish greeter.jar 2>&1) || fail "publish with IMDSv2 credentials failed: $got"
got=$(fetch --revision 3.0 --out imds2 2>&1) || fail "fetch with IMDSv2 credentials failed: $got"
cmp greeter.jar imds2/greeter-3.0.jar || fail "IMDSv2 fetch: bytes differ"

python3 - "$IMDS_PORT" >"$E2E_TMP/front.out" 2>"$E2E_TMP/front.err" <<'PY' &
# An IMDS front that refuses IMDSv2 token requests (403) and passes GETs on.
import http.server, sys, urllib.request
imds = "http://127.0.0.1:%s" % sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        assert "X-aws-ec2-metadata-token" not in self.headers, "IMDSv1 GETs carry no token"
        with urllib.request.urlopen(imds + self.path) as r:
            body = r.read()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("imds-v1 listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
PY
front_pid=$!
E2E_PIDS+=("$front_pid")
front_port=$(wait_port "$E2E_TMP/front.out" "$front_pid" imds-v1)
export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$front_port"
got=$(fetch --revision 3.0 --out imds1 2>&1) || fail "fetch with IMDSv1 credentials failed: $got"
cmp greeter.jar imds1/greeter-3.0.jar || fail "IMDSv1 fetch: bytes differ"
echo "PASS: eddy fetch"

#!/usr/bin/env bash
# Runs the ceph s3-tests conformance suite (functional/test_s3.py) against eddy
# (default) or against moto's server for comparison, and reports pass/fail/error counts, a JUnit
# XML and a summary of the failures grouped by their first error line.
#
# The suite is NOT part of this repository: S3TESTS_DIR points at a checkout of
# https://github.com/ceph/s3-tests (see README.md); the copy in ../shared/s3-tests beside this
# repository is used when present. The result is a yardstick, not a CI gate.
#
# Environment:
#   S3TESTS_DIR   checkout of ceph/s3-tests (default: ../shared/s3-tests beside the repository)
#   TARGET        eddy (default) | moto
#   EDDY_BIN      the eddy binary (default: newest build*/eddy of this repo)
#   OUT_DIR       where results go (default: ${TMPDIR:-/tmp}/s3-conformance/<target>-<UTC timestamp>)
#   PYTHON        interpreter that runs the suite; needs pytest, boto3, munch, gevent, isodate,
#                 httplib2, lxml, pytz (default: /usr/bin/python3 — Debian's python3-* packages)
#   MOTO_PYTHON   interpreter with moto[server] installed (default: python3 on PATH)
#   MARKERS       pytest -m expression (default: the measured selection, 589 tests; see README.md)
#   TEST_TIMEOUT  seconds one test may take before it is failed (default 120)
#   RUN_TIMEOUT   seconds the whole pytest run may take (default 5400)
#   PYTEST_ARGS   extra pytest arguments (e.g. "-k list_objects" or "-x")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

if [[ -z "${S3TESTS_DIR:-}" && -d "$REPO/../shared/s3-tests" ]]; then S3TESTS_DIR="$REPO/../shared/s3-tests"; fi
: "${S3TESTS_DIR:?set S3TESTS_DIR to a checkout of https://github.com/ceph/s3-tests (see README.md)}"
S3TESTS_DIR=$(cd "$S3TESTS_DIR" && pwd)
TARGET=${TARGET:-eddy}
PYTHON=${PYTHON:-/usr/bin/python3}
MOTO_PYTHON=${MOTO_PYTHON:-python3}
MARKERS=${MARKERS:-not lifecycle_expiration and not lifecycle_transition and not cloud_transition and not cloud_restore and not bucket_logging and not fails_on_aws}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
RUN_TIMEOUT=${RUN_TIMEOUT:-5400}
PYTEST_ARGS=${PYTEST_ARGS:-}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/s3-conformance/$TARGET-$(date -u +%Y%m%dT%H%M%SZ)}

die() { echo "s3-conformance: $*" >&2; exit 2; }

# Older checkouts keep the boto3 suite in s3tests_boto3/, newer ones in s3tests/.
SUITE=""
for d in s3tests_boto3 s3tests; do
  if [[ -f "$S3TESTS_DIR/$d/functional/test_s3.py" ]]; then SUITE="$d/functional/test_s3.py"; break; fi
done
[[ -n "$SUITE" ]] || die "$S3TESTS_DIR has no s3tests_boto3/functional/test_s3.py or s3tests/functional/test_s3.py"
"$PYTHON" -c 'import pytest, boto3, munch, isodate, pytz, dateutil, requests' 2>/dev/null ||
  die "$PYTHON lacks the suite's modules (apt-get install python3-pytest python3-boto3 python3-munch python3-gevent python3-isodate python3-httplib2 python3-lxml python3-tz)"

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# The suite needs three distinct S3 users (main, alt, tenant); its configure() also reads
# [iam], [iam root] and [iam alt root], which test_s3.py itself never signs with.
MAIN_AK=AKIAS3TESTMAIN000001  MAIN_SK=s3tests-main-secret-key-000000000000001
ALT_AK=AKIAS3TESTALT0000002   ALT_SK=s3tests-alt-secret-key-0000000000000002
TEN_AK=AKIAS3TESTTENANT0003   TEN_SK=s3tests-tenant-secret-key-00000000000003
IAM_AK=AKIAS3TESTIAM0000004   IAM_SK=s3tests-iam-secret-key-0000000000000004
ROOT_AK=AKIAS3TESTROOT000005  ROOT_SK=s3tests-root-secret-key-000000000000005
AROOT_AK=AKIAS3TESTAROOT00006 AROOT_SK=s3tests-altroot-secret-key-00000000006

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {  # url
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null --max-time 2 "$1"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

case "$TARGET" in
  eddy)
    if [[ -z "${EDDY_BIN:-}" ]]; then
      EDDY_BIN=$(ls -t "$REPO"/build*/eddy 2>/dev/null | head -n 1 || true)
    fi
    [[ -n "${EDDY_BIN:-}" && -x "$EDDY_BIN" ]] || die "set EDDY_BIN to the eddy binary"
    CREDS="$OUT_DIR/credentials"
    {
      # eddy --credentials: S3 owners are accounts. main, iam and iam root are keys of the
      # default account (--account-id); alt and iam alt root of a second, tenant of a third.
      profile() {  # name access secret [account]
        printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$1" "$2" "$3"
        [[ -z "${4:-}" ]] || printf 'account_id = %s\n' "$4"
      }
      profile main "$MAIN_AK" "$MAIN_SK"
      profile alt "$ALT_AK" "$ALT_SK" 111122223333
      profile tenant "$TEN_AK" "$TEN_SK" 222233334444
      profile iam "$IAM_AK" "$IAM_SK"
      profile iam-root "$ROOT_AK" "$ROOT_SK"
      profile iam-alt-root "$AROOT_AK" "$AROOT_SK" 111122223333
    } >"$CREDS"
    "$EDDY_BIN" serve --port 0 --in-memory --auth verify --credentials "$CREDS" --log-level warn \
      >"$OUT_DIR/server.out" 2>"$OUT_DIR/server.err" &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 1 200); do
      line=$(head -n 1 "$OUT_DIR/server.out" 2>/dev/null || true)
      if [[ "$line" =~ ^eddy\ listening\ on\ ([^ ]+):([0-9]+)$ ]]; then PORT=${BASH_REMATCH[2]}; break; fi
      kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT_DIR/server.err" >&2; die "eddy exited at start-up"; }
      sleep 0.05
    done
    [[ -n "$PORT" ]] || die "eddy printed no 'eddy listening on HOST:PORT' line"
    wait_http "http://127.0.0.1:$PORT/_eddy/health" || die "eddy never answered /_eddy/health"
    SERVER_DESC="eddy ($EDDY_BIN, $("$EDDY_BIN" --version 2>/dev/null | head -n 1 || echo unknown version))"
    ;;
  moto)
    "$MOTO_PYTHON" -c 'import moto.server' 2>/dev/null || die "$MOTO_PYTHON has no moto.server (pip install 'moto[server]')"
    PORT=$(free_port)
    "$MOTO_PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >"$OUT_DIR/server.out" 2>"$OUT_DIR/server.err" &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/" || { cat "$OUT_DIR/server.err" >&2; die "moto server did not come up"; }
    SERVER_DESC="moto $("$MOTO_PYTHON" -c 'import moto; print(moto.__version__)')"
    ;;
  *) die "TARGET must be eddy or moto" ;;
esac
echo "s3-conformance: $SERVER_DESC on 127.0.0.1:$PORT; results in $OUT_DIR" >&2

# Isolate botocore from the caller's AWS setup; one attempt per request so a server bug shows
# as a failure instead of a retry storm.
export AWS_CONFIG_FILE="$OUT_DIR/aws-config" AWS_SHARED_CREDENTIALS_FILE="$OUT_DIR/aws-credentials"
: >"$AWS_CONFIG_FILE"; : >"$AWS_SHARED_CREDENTIALS_FILE"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# The suite compares Owner/Grantee IDs with the configured user_id/display_name: ask the server
# which canonical ID and display name it gives each user rather than guessing.
owner_of() {  # access secret -> "ID<TAB>DisplayName"
  "$PYTHON" - "$PORT" "$1" "$2" <<'EOF'
import sys, boto3
from botocore.config import Config
port, ak, sk = sys.argv[1:]
c = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % port, aws_access_key_id=ak,
                 aws_secret_access_key=sk, region_name="us-east-1",
                 config=Config(signature_version="s3v4", retries={"max_attempts": 1}))
try:
    o = c.list_buckets().get("Owner", {})
except Exception as e:
    print("owner lookup failed: %s" % e, file=sys.stderr)
    o = {}
print("%s\t%s" % (o.get("ID", ""), o.get("DisplayName", "")))
EOF
}
IFS=$'\t' read -r MAIN_ID MAIN_NAME < <(owner_of "$MAIN_AK" "$MAIN_SK")
IFS=$'\t' read -r ALT_ID ALT_NAME < <(owner_of "$ALT_AK" "$ALT_SK")
IFS=$'\t' read -r TEN_ID TEN_NAME < <(owner_of "$TEN_AK" "$TEN_SK")
MAIN_ID=${MAIN_ID:-s3tests-main}  MAIN_NAME=${MAIN_NAME:-s3tests-main}
ALT_ID=${ALT_ID:-s3tests-alt}     ALT_NAME=${ALT_NAME:-s3tests-alt}
TEN_ID=${TEN_ID:-s3tests-tenant}  TEN_NAME=${TEN_NAME:-s3tests-tenant}

CONF="$OUT_DIR/s3tests.conf"
cat >"$CONF" <<EOF
[DEFAULT]
host = 127.0.0.1
port = $PORT
is_secure = False
ssl_verify = False

[fixtures]
bucket prefix = s3t-{random}-

[s3 main]
display_name = $MAIN_NAME
user_id = $MAIN_ID
email = main@example.com
api_name = default
access_key = $MAIN_AK
secret_key = $MAIN_SK

[s3 alt]
display_name = $ALT_NAME
user_id = $ALT_ID
email = alt@example.com
access_key = $ALT_AK
secret_key = $ALT_SK

[s3 tenant]
display_name = $TEN_NAME
user_id = $TEN_ID
email = tenant@example.com
access_key = $TEN_AK
secret_key = $TEN_SK
tenant = testx

[iam]
display_name = iam
user_id = iam
email = iam@example.com
access_key = $IAM_AK
secret_key = $IAM_SK

[iam root]
user_id = iamroot
email = iamroot@example.com
access_key = $ROOT_AK
secret_key = $ROOT_SK

[iam alt root]
user_id = iamaltroot
email = iamaltroot@example.com
access_key = $AROOT_AK
secret_key = $AROOT_SK
EOF

export S3TEST_CONF="$CONF"
export S3CONF_TEST_TIMEOUT="$TEST_TIMEOUT"
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1

# PYTEST_ARGS is split the way a shell would, so quoted -k expressions survive.
EXTRA_ARGS=()
if [[ -n "$PYTEST_ARGS" ]]; then eval "EXTRA_ARGS=($PYTEST_ARGS)"; fi

set +e
(
  cd "$S3TESTS_DIR"
  timeout --signal=TERM --kill-after=30 "$RUN_TIMEOUT" \
    "$PYTHON" -m pytest "$SUITE" -m "$MARKERS" \
      -p s3conf_plugin -p no:cacheprovider -q -rN --tb=short \
      --junitxml="$OUT_DIR/junit.xml" -o junit_family=xunit1 "${EXTRA_ARGS[@]}"
) >"$OUT_DIR/pytest.log" 2>&1
PYTEST_RC=$?
set -e
tail -n 3 "$OUT_DIR/pytest.log" >&2 || true

# A server that died mid-run turns every later test into a connection error; say so plainly.
SERVER_NOTE=""
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  set +e; wait "$SERVER_PID"; SERVER_RC=$?; set -e
  SERVER_NOTE="the server exited during the run (status $SERVER_RC); see $OUT_DIR/server.err"
  echo "s3-conformance: $SERVER_NOTE" >&2
  SERVER_PID=""
fi

[[ -f "$OUT_DIR/junit.xml" ]] || die "pytest wrote no JUnit XML (rc $PYTEST_RC); see $OUT_DIR/pytest.log"
"$PYTHON" "$HERE/summarize.py" "$OUT_DIR/junit.xml" --target "$SERVER_DESC" --markers "$MARKERS" \
  --out "$OUT_DIR/summary.md" ${SERVER_NOTE:+--note "$SERVER_NOTE"}
echo "s3-conformance: pytest rc $PYTEST_RC; summary $OUT_DIR/summary.md, JUnit $OUT_DIR/junit.xml" >&2

# Shared helpers for the end-to-end tests. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"
# Needs EDDY_BIN (the built eddy binary); EDDY_SHARED_DIR and EDDY_SOURCE_DIR default to the
# checkout's layout so a script can also be run by hand.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${EDDY_SOURCE_DIR:=$(cd "$E2E_DIR/../.." && pwd)}"
if [[ -z "${EDDY_SHARED_DIR:-}" ]]; then  # ../shared beside the checkout, else the copy in fixtures/shared
  EDDY_SHARED_DIR="$EDDY_SOURCE_DIR/fixtures/shared"
  [[ -f "$EDDY_SOURCE_DIR/../shared/fixtures/kpl-agg-vectors.json" ]] && EDDY_SHARED_DIR=$(cd "$EDDY_SOURCE_DIR/../shared" && pwd)
fi
if [[ -z "${EDDY_BIN:-}" ]]; then
  echo "FAIL: EDDY_BIN is not set (path of the built eddy binary; ctest sets it)" >&2
  exit 2
fi
if [[ ! -x "$EDDY_BIN" ]]; then
  echo "FAIL: EDDY_BIN=$EDDY_BIN is not an executable" >&2
  exit 2
fi
# Absolute, so a script may cd before starting it.
EDDY_BIN=$(cd "$(dirname "$EDDY_BIN")" && pwd)/$(basename "$EDDY_BIN")
export EDDY_BIN EDDY_SHARED_DIR EDDY_SOURCE_DIR

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-e2e.XXXXXX")
export E2E_TMP
E2E_PIDS=()

# Clients must see only these fake credentials: no profile, config file or CA bundle from the
# host may change how they sign, where they connect or how they verify.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$E2E_TMP/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$E2E_TMP/aws-credentials"
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=""
# A retry would hide a server error behind a second, successful attempt.
export AWS_MAX_ATTEMPTS=1
export AWS_RETRY_MODE=standard
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
unset AWS_CA_BUNDLE AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS AWS_USE_FIPS_ENDPOINT AWS_USE_DUALSTACK_ENDPOINT \
  HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# Several checks are Python `assert`s (heredocs, test_throttle_boto3.py): -O would remove them.
unset PYTHONOPTIMIZE || true
# `eddy serve` takes every flag from an EDDY_* variable (EDDY_PORT, EDDY_THROTTLE, ...), and the
# client tools from EDDY_<TOOL>_*: none from the caller's shell may change the servers started here.
for v in $(compgen -e | grep '^EDDY_' || true); do
  case "$v" in EDDY_BIN | EDDY_SHARED_DIR | EDDY_SOURCE_DIR) ;; *) unset "$v" ;; esac
done

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

log() { echo "--- $*" >&2; }

# Shows the server's stderr of every server started by this script (most recent last); called on
# failure so the ctest log holds the reason.
e2e_dump_logs() {
  local f
  for f in "$E2E_TMP"/eddy-*.err; do
    [[ -s "$f" ]] || continue
    echo "===== $(basename "$f") (last 40 lines) =====" >&2
    tail -n 40 "$f" >&2
  done
}

e2e_cleanup() {
  local rc=$?
  local pid
  for pid in "${E2E_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${E2E_PIDS[@]}"; do
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    e2e_dump_logs
  fi
  rm -rf "$E2E_TMP"
  exit $rc
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_eddy [serve flags...]
# Starts `eddy serve --port 0 <flags>` (add --in-memory or --data-dir yourself), waits for the
# "eddy listening on HOST:PORT" line and for /_eddy/health. Sets EDDY_PID, EDDY_PORT, EDDY_URL.
E2E_SERVER_N=0
start_eddy() {
  E2E_SERVER_N=$((E2E_SERVER_N + 1))
  local out="$E2E_TMP/eddy-$E2E_SERVER_N.out" err="$E2E_TMP/eddy-$E2E_SERVER_N.err"
  "$EDDY_BIN" serve --port 0 --log-level "${E2E_LOG_LEVEL:-warn}" "$@" >"$out" 2>"$err" &
  EDDY_PID=$!
  EDDY_ERR=$err  # its log (stderr); E2E_LOG_LEVEL=info makes it hold the info lines too
  E2E_PIDS+=("$EDDY_PID")
  EDDY_PORT=""
  local i line
  # Generous: CI machines running several suites at once can be slow to start a process.
  for ((i = 0; i < 600; i++)); do
    line=$(head -n 1 "$out" 2>/dev/null || true)
    if [[ "$line" =~ ^eddy\ listening\ on\ ([^ ]+):([0-9]+)$ ]]; then
      EDDY_PORT=${BASH_REMATCH[2]}
      break
    fi
    if ! kill -0 "$EDDY_PID" 2>/dev/null; then
      cat "$err" >&2
      fail "eddy serve $* exited before listening"
    fi
    sleep 0.05
  done
  [[ -n "$EDDY_PORT" ]] || fail "eddy serve $* printed no 'eddy listening on' line within 30 s (stdout: $(head -c 200 "$out"))"
  EDDY_URL="http://127.0.0.1:$EDDY_PORT"
  for ((i = 0; i < 200; i++)); do
    if curl -fsS --max-time 2 "$EDDY_URL/_eddy/health" >/dev/null 2>&1; then
      # EDDY_PORT stays unexported: it is also `eddy serve --port` for any eddy started later.
      export EDDY_PID EDDY_URL
      log "eddy pid $EDDY_PID on $EDDY_URL ($*)"
      return 0
    fi
    sleep 0.05
  done
  fail "eddy on $EDDY_URL never answered /_eddy/health"
}

# wait_port OUT PID NAME: prints PORT once the first line of OUT (the stdout of a server started in
# the background as PID) is "NAME listening on 127.0.0.1:PORT"; fails if PID exits first.
#   port=$(wait_port "$out" "$pid" dynalite) || fail "dynalite did not start"
wait_port() {
  local i
  for ((i = 0; i < 600; i++)); do
    if [[ "$(head -n 1 "$1" 2>/dev/null)" =~ ^$3\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
      echo "${BASH_REMATCH[1]}"
      return 0
    fi
    kill -0 "$2" 2>/dev/null || fail "$3 exited before listening"
    sleep 0.05
  done
  fail "$3 printed no '$3 listening on' line within 30 s"
}

# stop_eddy [pid]: SIGTERM, wait up to 15 s, and return the exit status of the process.
stop_eddy() {
  local pid=${1:-$EDDY_PID} i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "eddy pid $pid still running 15 s after SIGTERM"
  local rc=0
  wait "$pid" || rc=$?
  return $rc
}

# kill9_eddy [pid]: SIGKILL, no chance to flush anything.
kill9_eddy() {
  local pid=${1:-$EDDY_PID}
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
}

# aws_kinesis <op> [args...]: the AWS CLI against the current server, JSON output on stdout.
aws_kinesis() {
  aws --endpoint-url "$EDDY_URL" --output json --no-paginate kinesis "$@"
}

# pyjson '<python expression over j>' < json: prints the result (strings raw, others as JSON).
pyjson() {
  python3 -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))
' "$1"
}

# wait_active <stream>: the stream leaves CREATING/UPDATING (delays default to 0, so usually at once).
wait_active() {
  local i status
  for ((i = 0; i < 100; i++)); do
    status=$(aws_kinesis describe-stream-summary --stream-name "$1" | pyjson 'j["StreamDescriptionSummary"]["StreamStatus"]')
    [[ "$status" == ACTIVE ]] && return 0
    sleep 0.1
  done
  fail "stream $1 is $status, not ACTIVE, after 10 s"
}

# listener_port WHAT: the port of the latest eddy's extra listener, from its "eddy WHAT listening
# on HOST:PORT" stdout line (WHAT: tls, imds), waiting up to 5 s for it.
listener_port() {
  local out="$E2E_TMP/eddy-$E2E_SERVER_N.out" i line
  for ((i = 0; i < 100; i++)); do
    if line=$(grep -m1 "^eddy $1 listening on " "$out"); then
      echo "${line##*:}"
      return 0
    fi
    sleep 0.05
  done
  fail "no 'eddy $1 listening on' line (stdout: $(cat "$out"))"
}

# start_eddy_tls [serve flags...]: start_eddy with a fresh self-signed certificate for
# localhost and 127.0.0.1 ($E2E_TMP/cert.pem, key.pem) on an ephemeral --tls-port. Sets TLS_PORT
# and HTTPS_URL besides what start_eddy sets.
start_eddy_tls() {
  require_cmd openssl
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
  start_eddy "$@" --tls-cert "$E2E_TMP/cert.pem" --tls-key "$E2E_TMP/key.pem" --tls-port 0
  TLS_PORT=$(listener_port tls)
  HTTPS_URL="https://127.0.0.1:$TLS_PORT"
}

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed (${2:-see docs/testing.md})"
}

require_boto3() {
  require_cmd python3
  python3 -c 'import boto3' 2>/dev/null || fail "boto3 is not importable by python3 (pip install boto3)"
}

# run_python_check NAME [eddy serve flags...]: the whole of a test whose checks are in
# $E2E_DIR/NAME.py: starts eddy with the flags, runs NAME.py with $EDDY_URL as its argument,
# stops eddy.
run_python_check() {
  local name=$1
  shift
  start_eddy "$@"
  python3 "$E2E_DIR/$name.py" "$EDDY_URL" || fail "$name.py failed (see above)"
  stop_eddy || fail "eddy exited with status $? after SIGTERM"
}

# e2e_npm_deps: make tests/e2e/node_modules hold exactly the versions package.json pins, running
# `npm ci` (from the committed package-lock.json) only when one is missing or differs. Serialised
# with flock, since `npm ci` first deletes node_modules and tests may run in parallel (ctest -j).
e2e_npm_deps() {
  require_cmd node "Node.js 20 or newer"
  require_cmd npm "npm (comes with Node.js)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 20)) || fail "Node.js $(node --version) is too old: the AWS SDK v3 needs 20 or newer"
  local check='
    const fs = require("fs");
    const deps = JSON.parse(fs.readFileSync("package.json", "utf8")).dependencies || {};
    for (const [name, version] of Object.entries(deps)) {
      let have = null;
      try { have = JSON.parse(fs.readFileSync("node_modules/" + name + "/package.json", "utf8")).version; } catch {}
      if (have !== version) { console.error(name + ": have " + have + ", want " + version); process.exit(1); }
    }'
  (
    cd "$E2E_DIR"
    flock -w 300 9 || fail "waited 5 minutes for another test's npm ci"
    if ! node -e "$check" 2>/dev/null; then
      log "npm ci in $E2E_DIR"
      npm ci --no-audit --no-fund --loglevel=error >&2 || fail "npm ci failed in $E2E_DIR (is the npm registry reachable?)"
      node -e "$check" || fail "npm ci did not install what package.json pins"
    fi
  ) 9>"${TMPDIR:-/tmp}/eddy-e2e-npm.lock"
}

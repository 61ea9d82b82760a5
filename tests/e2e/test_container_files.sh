#!/usr/bin/env bash
# The container files without a Docker engine: `docker-compose config -q` validates
# docker-compose.yml; container_files_check.py lints the Dockerfiles (packages exist in Debian,
# the run stage has every library build/eddy needs, BUILD_PKGS from ./dev, binary path, non-root
# user, data volume, health check); then the compose services run as plain processes with the
# compose file's environment, service addresses rewritten to ephemeral loopback ports: eddy
# (its init script from the mounted folder creates stream "logs"), syslog-ng with the compose
# config, `eddy bridge` (when this build has it) and the runner's command.
. "$(dirname "$0")/lib.sh"
require_cmd docker-compose "Debian's docker-compose (.ci/test-packages)"
require_cmd syslog-ng "syslog-ng-core (.ci/test-packages)"
require_cmd aws "the AWS CLI (pip install awscli)"

compose="$EDDY_SOURCE_DIR/docker-compose.yml"
docker-compose -f "$compose" config -q || fail "docker-compose config -q rejects docker-compose.yml"
export COMPOSE_CACHE="$E2E_TMP/compose.json"  # one docker-compose run for all the checks
check() { python3 "$E2E_DIR/container_files_check.py" "$@"; }
check lint || fail "the Dockerfile or docker-compose.yml is inconsistent (see above)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# eddy with the eddy service's environment. The container's address and data volume become an
# ephemeral loopback port and a temp folder; the init folder is the one compose mounts.
mapfile -t eddy_env < <(check env eddy)
init_dir=$(check volume eddy /etc/eddy/init/ready.d)
E2E_SERVER_N=$((E2E_SERVER_N + 1))
out="$E2E_TMP/eddy-$E2E_SERVER_N.out"
env "${eddy_env[@]}" EDDY_HOST=127.0.0.1 EDDY_PORT=0 EDDY_DATA_DIR="$E2E_TMP/eddy-volume" \
  EDDY_INIT_READY_DIR="$init_dir" PATH="$EDDY_SOURCE_DIR/docker:$PATH" \
  "$EDDY_BIN" serve >"$out" 2>"$E2E_TMP/eddy-$E2E_SERVER_N.err" &
EDDY_PID=$!
E2E_PIDS+=("$EDDY_PID")
for ((i = 0; i < 1200; i++)); do
  grep -qx 'Ready\.' "$out" && break
  kill -0 "$EDDY_PID" 2>/dev/null || fail "eddy with the compose environment exited"
  sleep 0.05
done
grep -qx 'Ready\.' "$out" || fail "eddy with the compose environment never printed Ready.: $(cat "$out")"
[[ "$(head -n 1 "$out")" =~ ^eddy\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "no listening line: $(cat "$out")"
EDDY_URL="http://127.0.0.1:${BASH_REMATCH[1]}"
eddy_addr="127.0.0.1:${BASH_REMATCH[1]}"
health=$(curl -fsS --max-time 5 "$EDDY_URL/_eddy/health") || fail "no /_eddy/health"
# EDDY_IN_MEMORY from the compose file is in force (no data in the volume).
[[ $(pyjson 'j["status"] + " " + j["storage"]' <<<"$health") == "ok memory" ]] || fail "health: $health"
status=$(aws_kinesis describe-stream-summary --stream-name logs | pyjson 'j["StreamDescriptionSummary"]["StreamStatus"]') ||
  fail "stream 'logs' from docker/init/ready.d/01-streams.sh is missing"
[[ "$status" == ACTIVE ]] || fail "stream logs is $status"
aws --endpoint-url "$EDDY_URL" s3api head-bucket --bucket artifacts >/dev/null || fail "bucket 'artifacts' from the init script is missing"

# `eddy bridge` with the bridge service's environment, if this build has the bridge.
bridge_port=$(free_port)
if "$EDDY_BIN" --help | grep -qE '^  bridge +'; then
  "$EDDY_BIN" bridge --help >"$E2E_TMP/bridge-help.txt" 2>&1 || fail "eddy bridge --help failed"
  mapfile -t bridge_env < <(check env bridge "eddy:4566=$eddy_addr")
  for kv in "${bridge_env[@]}"; do
    [[ $kv == EDDY_BRIDGE_* ]] || continue
    grep -q "(Env:${kv%%=*})" "$E2E_TMP/bridge-help.txt" || fail "docker-compose.yml sets ${kv%%=*}, which eddy bridge --help does not list"
  done
  env "${bridge_env[@]}" EDDY_BRIDGE_LISTEN="127.0.0.1:$bridge_port" "$EDDY_BIN" bridge \
    >"$E2E_TMP/bridge.out" 2>"$E2E_TMP/eddy-bridge.err" &
  E2E_PIDS+=("$!")
  have_bridge=1
else
  echo "NOTE: this eddy has no bridge subcommand yet: syslog-ng -> bridge -> stream not checked" >&2
  have_bridge=0
fi

# syslog-ng with the compose config and the syslog-ng service's environment.
udp_port=$(free_port)
mapfile -t syslog_env < <(check env syslog-ng "bridge:5140=127.0.0.1:$bridge_port")
mkdir -p "$E2E_TMP/syslog"
env "${syslog_env[@]}" SYSLOG_LISTEN_IP=127.0.0.1 SYSLOG_UDP_PORT="$udp_port" SYSLOG_DIR="$E2E_TMP/syslog" \
  syslog-ng -F -e --no-caps -f "$EDDY_SOURCE_DIR/docker/syslog-ng/syslog-ng.conf" -R "$E2E_TMP/syslog/persist" \
  -p "$E2E_TMP/syslog/pid" -c "$E2E_TMP/syslog/ctl" >"$E2E_TMP/syslog.out" 2>"$E2E_TMP/eddy-syslog.err" &
E2E_PIDS+=("$!")
for ((i = 0; i < 200; i++)); do
  [[ -S "$E2E_TMP/syslog/ctl" ]] && break
  sleep 0.05
done
[[ -S "$E2E_TMP/syslog/ctl" ]] || fail "syslog-ng did not start with docker/syslog-ng/syslog-ng.conf: $(cat "$E2E_TMP/eddy-syslog.err")"

# The runner's command with the runner's environment.
mapfile -t runner_env < <(check env runner "eddy:4566=$eddy_addr" "syslog-ng:5514=127.0.0.1:$udp_port")
runner_cmd=$(check command runner)
env "${runner_env[@]}" PATH="$EDDY_SOURCE_DIR/docker:$PATH" sh -c "$runner_cmd" >"$E2E_TMP/runner.out" 2>&1 ||
  fail "the runner's command failed: $(cat "$E2E_TMP/runner.out")"
for ((i = 0; i < 200; i++)); do
  grep -q 'hello from the runner' "$E2E_TMP/syslog/messages.log" 2>/dev/null && break
  sleep 0.05
done
grep -q 'hello from the runner' "$E2E_TMP/syslog/messages.log" || fail "the runner's message did not reach syslog-ng's file"
if ((have_bridge)); then
  found=0
  for ((i = 0; i < 100 && !found; i++)); do
    for shard in shardId-000000000000 shardId-000000000001; do
      it=$(aws_kinesis get-shard-iterator --stream-name logs --shard-id $shard --shard-iterator-type TRIM_HORIZON | pyjson 'j["ShardIterator"]')
      aws_kinesis get-records --shard-iterator "$it" | grep -q "$(printf 'hello from the runner' | base64)" && found=1
    done
    ((found)) || sleep 0.2
  done
  ((found)) || fail "the runner's message did not reach stream logs through syslog-ng and the bridge"
fi

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: Dockerfile and docker-compose.yml checked; eddy, syslog-ng$( ((have_bridge)) && echo ', bridge') and the runner ran with the compose environment"

#!/usr/bin/env bash
# Every `eddy serve` flag can come from the environment (EDDY_PORT, EDDY_DATA_DIR, ...), read
# from `eddy serve --help` (serve_env_check.py); the order flag > variable > --config file >
# default; a bad value in a variable is refused like one on the command line; and a server
# configured by variables alone serves with those settings.
. "$(dirname "$0")/lib.sh"

python3 "$E2E_DIR/serve_env_check.py" || fail "a flag of eddy serve --help has no working EDDY_* variable"

# setting NAME [env...] -- [flags...]: the value --print-config shows for NAME.
setting() {
  local name=$1 envs=() flags=()
  shift
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift || true
  flags=("$@")
  env "${envs[@]}" "$EDDY_BIN" serve --print-config "${flags[@]}" | sed -n "s/^$name=//p"
}
cfg="$E2E_TMP/eddy.toml"
printf 'port = 1111\nlog-level = "debug"\n' >"$cfg"
[[ $(setting port EDDY_PORT=2222 -- --config "$cfg" --port 3333) == 3333 ]] || fail "a flag did not win over EDDY_PORT and the file"
[[ $(setting port EDDY_PORT=2222 -- --config "$cfg") == 2222 ]] || fail "EDDY_PORT did not win over the --config file"
[[ $(setting port EDDY_PORT=2222 EDDY_CONFIG="$cfg" --) == 2222 ]] || fail "EDDY_PORT did not win over EDDY_CONFIG's file"
[[ $(setting port -- --config "$cfg") == 1111 ]] || fail "the --config file's port was not used"
[[ $(setting log-level EDDY_CONFIG="$cfg" --) == '"debug"' ]] || fail "EDDY_CONFIG's file was not read"
[[ $(setting port --) == 4566 ]] || fail "the default port is not 4566"
# An empty variable counts as unset (CLI11), so a compose file may leave one blank.
[[ $(setting port EDDY_PORT= --) == 4566 ]] || fail "an empty EDDY_PORT was not ignored"

# A bad value from the environment is refused with the flag's name, like one on the command line.
set +e
EDDY_FSYNC=sometimes "$EDDY_BIN" serve --in-memory --port 0 >"$E2E_TMP/bad.out" 2>"$E2E_TMP/bad.err"
rc=$?
set -e
((rc != 0 && rc < 128)) || fail "EDDY_FSYNC=sometimes: eddy serve exited with status $rc"
grep -q -- '--fsync' "$E2E_TMP/bad.out" "$E2E_TMP/bad.err" || fail "EDDY_FSYNC=sometimes: the error does not name --fsync"

# A server set up by variables alone (the container's way), in an empty directory so that a
# data dir other than the variable's would show.
mkdir -p "$E2E_TMP/cwd"
(cd "$E2E_TMP/cwd" && EDDY_HOST=127.0.0.1 EDDY_PORT=0 EDDY_DATA_DIR="$E2E_TMP/data" EDDY_LOG_LEVEL=warn \
  EDDY_SHARD_LIMIT=7 EDDY_CLOCK=manual EDDY_INIT_READY_DIR="$E2E_TMP/none" exec "$EDDY_BIN" serve) \
  >"$E2E_TMP/eddy-env.out" 2>"$E2E_TMP/eddy-env.err" &
pid=$!
E2E_PIDS+=("$pid")
port=$(wait_port "$E2E_TMP/eddy-env.out" "$pid" eddy) || fail "eddy serve from variables: $(cat "$E2E_TMP/eddy-env.err")"
EDDY_URL="http://127.0.0.1:$port"
health=$(curl -fsS --max-time 5 "$EDDY_URL/_eddy/health") || fail "no /_eddy/health"
[[ $(pyjson 'j["storage"] + " " + j["clock"]' <<<"$health") == "rocksdb manual" ]] || fail "EDDY_CLOCK/storage not applied: $health"
[[ -d "$E2E_TMP/data" && ! -e "$E2E_TMP/cwd/eddy-data" ]] || fail "EDDY_DATA_DIR was not used"
limit=$(aws_kinesis describe-limits | pyjson 'j["ShardLimit"]') || fail "describe-limits failed"
[[ "$limit" == 7 ]] || fail "EDDY_SHARD_LIMIT=7 was not applied: ShardLimit $limit"
! grep -q 'listening on http' "$E2E_TMP/eddy-env.err" || fail "EDDY_LOG_LEVEL=warn was not applied"
stop_eddy "$pid" || fail "eddy exited with status $? after SIGTERM"

echo "PASS: every eddy serve flag from its EDDY_* variable; flag > variable > --config > default"

#!/usr/bin/env bash
# `eddy --help` and `eddy serve --help` describe every flag of the server, every flag is
# documented (README.md or docs/), and `eddy serve --config FILE` takes the same settings from a
# file: every key `--print-config` writes is read back unchanged.
. "$(dirname "$0")/lib.sh"
require_cmd aws "pip install awscli"

"$EDDY_BIN" --help >"$E2E_TMP/help.txt" 2>&1 || fail "eddy --help exited with status $?"
"$EDDY_BIN" serve --help >"$E2E_TMP/serve-help.txt" 2>&1 || fail "eddy serve --help exited with status $?"
grep -q 'serve' "$E2E_TMP/help.txt" || fail "eddy --help does not mention the serve subcommand"
# Every setting eddy has is a key of --print-config; each is a flag in both help texts and is
# documented somewhere a user reads.
"$EDDY_BIN" serve --print-config >"$E2E_TMP/defaults.toml" || fail "eddy serve --print-config exited with status $?"
mapfile -t FLAGS < <(sed -n 's/^\([a-z][a-z0-9-]*\)=.*/--\1/p' "$E2E_TMP/defaults.toml")
((${#FLAGS[@]} >= 30)) || fail "--print-config listed only ${#FLAGS[@]} settings: $(cat "$E2E_TMP/defaults.toml")"
for f in "${FLAGS[@]}" --config --print-config; do
  for which in help serve-help; do
    grep -q -- "$f\b" "$E2E_TMP/$which.txt" ||
      fail "'eddy ${which%help}--help' does not describe $f; it printed:
$(cat "$E2E_TMP/$which.txt")"
  done
  grep -q -- "[\` ]$f\b" "$EDDY_SOURCE_DIR/README.md" "$EDDY_SOURCE_DIR"/docs/*.md ||
    fail "$f is not documented in README.md or docs/"
done
# And every flag in README's `eddy serve` table exists.
mapfile -t DOCUMENTED < <(sed -n '/^## `eddy serve` flags/,/^## /p' "$EDDY_SOURCE_DIR/README.md" |
  grep -o '^| `--[a-z-]*`\(, `--[a-z-]*`\)*' | grep -o -- '--[a-z-]*')
((${#DOCUMENTED[@]} >= 15)) || fail "README's flag table yielded ${#DOCUMENTED[@]} flags"
for f in "${DOCUMENTED[@]}"; do
  grep -q -- "$f\b" "$E2E_TMP/serve-help.txt" || fail "README documents $f but eddy serve --help does not know it"
done
# The values --fsync and --log-level accept are spelled out.
for word in always interval never trace debug info warn error; do
  grep -q -- "$word" "$E2E_TMP/serve-help.txt" || fail "eddy serve --help does not name the value '$word'"
done
"$EDDY_BIN" --version >"$E2E_TMP/version.txt" 2>&1 || fail "eddy --version exited with status $?"
grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' "$E2E_TMP/version.txt" || fail "eddy --version printed: $(cat "$E2E_TMP/version.txt")"

# A bad flag value is refused with a message, not a crash.
set +e
"$EDDY_BIN" serve --fsync sometimes >"$E2E_TMP/bad.out" 2>"$E2E_TMP/bad.err"
rc=$?
set -e
((rc != 0 && rc < 128)) || fail "eddy serve --fsync sometimes exited with status $rc"
grep -q -- '--fsync' "$E2E_TMP/bad.out" "$E2E_TMP/bad.err" || fail "eddy serve --fsync sometimes did not name the flag"

# --config FILE: port, storage, log level and a Kinesis limit from the file. Run in an empty
# directory: were in-memory ignored, ./eddy-data would appear there.
cfg_dir="$E2E_TMP/cfg"
mkdir -p "$cfg_dir/cwd"
cat >"$cfg_dir/eddy.toml" <<'TOML'
# eddy serve settings; keys are the flag names
host = "127.0.0.1"
port = 0
in-memory = true
log-level = "warn"
shard-limit = 7
TOML
# start_with_config [extra flags...]: like start_eddy, but only --config and the given flags.
start_with_config() {
  E2E_SERVER_N=$((E2E_SERVER_N + 1))
  local out="$E2E_TMP/eddy-$E2E_SERVER_N.out" err="$E2E_TMP/eddy-$E2E_SERVER_N.err" i
  (cd "$cfg_dir/cwd" && exec "$EDDY_BIN" serve --config "$cfg_dir/eddy.toml" "$@") >"$out" 2>"$err" &
  EDDY_PID=$!
  E2E_PIDS+=("$EDDY_PID")
  EDDY_PORT=""
  for ((i = 0; i < 600; i++)); do
    if [[ "$(head -n 1 "$out")" =~ ^eddy\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
      EDDY_PORT=${BASH_REMATCH[1]}
      break
    fi
    kill -0 "$EDDY_PID" 2>/dev/null || fail "eddy serve --config $* exited at once: $(cat "$err")"
    sleep 0.05
  done
  [[ -n "$EDDY_PORT" ]] || fail "eddy serve --config printed no listening line: $(cat "$out" "$err")"
  [[ "$EDDY_PORT" != 4566 ]] || fail "port = 0 in the config file was ignored (listening on 4566)"
  EDDY_URL="http://127.0.0.1:$EDDY_PORT"
  EDDY_ERR=$err
}

start_with_config
health=$(curl -fsS --max-time 5 "$EDDY_URL/_eddy/health") || fail "no /_eddy/health from the --config server"
[[ "$(pyjson 'j["storage"]' <<<"$health")" == memory ]] || fail "in-memory = true in the config file was ignored: $health"
[[ ! -e "$cfg_dir/cwd/eddy-data" ]] || fail "the --config server created ./eddy-data although in-memory = true"
limit=$(aws_kinesis describe-limits | pyjson 'j["ShardLimit"]') || fail "describe-limits failed on the --config server"
[[ "$limit" == 7 ]] || fail "shard-limit = 7 in the config file was ignored: ShardLimit $limit"
stop_eddy || fail "the --config server exited with status $? after SIGTERM"
# log-level = "warn": the info-level start-up line never appeared (checked once eddy has exited,
# so every line it would have written is in the file).
! grep -q 'listening on http' "$EDDY_ERR" || fail "log-level = \"warn\" in the config file was ignored: $(cat "$EDDY_ERR")"

# A flag on the command line wins over the file.
start_with_config --log-level info
stop_eddy || fail "the --config server exited with status $? after SIGTERM"
grep -q 'listening on http' "$EDDY_ERR" || fail "--log-level info on the command line did not override the file: $(cat "$EDDY_ERR")"

# Every key is a config-file key: settings given as flags (none at its default), printed with
# --print-config, read back from that file, print the same.
"$EDDY_BIN" serve --print-config --host 127.0.0.2 --port 4999 --data-dir "$E2E_TMP/dd" --in-memory \
  --fsync always --fsync-interval-ms 250 --log-level debug --threads 3 --create-stream-delay-ms 11 \
  --delete-stream-delay-ms 12 --update-stream-delay-ms 13 --shard-limit 9 --on-demand-stream-limit 4 \
  --account-id 111122223333 --region eu-west-1 --clock manual --throttle aws --fault-seed 42 --idle-timeout 33 \
  --header-timeout 7 --request-timeout 8 --body-min-rate 99 --max-connections 77 --admin-token tok \
  --pricing "$EDDY_SOURCE_DIR/fixtures/pricing/us-east-1.json" --auth verify --access-key AKIAX --secret-key sx \
  --imds-port 0 --imds-v2-only --imds-role builder --imds-credential-lifetime 900 --tls-port 4443 \
  --seed "$EDDY_SOURCE_DIR/fixtures/seed" --init-ready-dir "$E2E_TMP/ready" >"$E2E_TMP/custom.toml" ||
  fail "eddy serve --print-config with every flag set exited with status $?"
"$EDDY_BIN" serve --config "$E2E_TMP/custom.toml" --print-config >"$E2E_TMP/custom-again.toml" ||
  fail "eddy serve --config (its own --print-config output) exited with status $?"
diff -u "$E2E_TMP/custom.toml" "$E2E_TMP/custom-again.toml" >&2 || fail "a setting did not survive the config file (diff above)"
n_changed=$(diff "$E2E_TMP/defaults.toml" "$E2E_TMP/custom.toml" | grep -c '^>' || true)
((n_changed >= 30)) || fail "only $n_changed settings differ from the defaults: $(cat "$E2E_TMP/custom.toml")"

# The config-file example in docs/throttling.md, loaded as written (its faults path pointed at a
# real file): every key takes effect.
cat >"$E2E_TMP/faults.json" <<'JSON'
[{"id": "doc-rule", "bucket": "b", "action": "error", "error_code": "SlowDown"}]
JSON
sed -n '/^```toml$/,/^```$/p' "$EDDY_SOURCE_DIR/docs/throttling.md" | sed '1d;$d' |
  sed "s|^faults = .*|faults = \"$E2E_TMP/faults.json\"|" >"$cfg_dir/eddy.toml"
grep -q '^throttle-stream = ' "$cfg_dir/eddy.toml" || fail "no toml example in docs/throttling.md: $(cat "$cfg_dir/eddy.toml")"
printf 'host = "127.0.0.1"\nport = 0\nin-memory = true\nlog-level = "warn"\n' >>"$cfg_dir/eddy.toml"
start_with_config
[[ "$(curl -fsS "$EDDY_URL/_eddy/throttle" | pyjson 'j["mode"]')" == aws ]] || fail "throttle = \"aws\" from the docs example was ignored"
[[ "$(curl -fsS "$EDDY_URL/_eddy/clock" | pyjson 'j["clock"]')" == manual ]] || fail "clock = \"manual\" from the docs example was ignored"
faults=$(curl -fsS "$EDDY_URL/_eddy/faults")
[[ "$(pyjson '[j["seed"], [r["id"] for r in j["rules"]]]' <<<"$faults")" == '[42, ["doc-rule"]]' ]] ||
  fail "faults / fault-seed from the docs example were ignored: $faults"
aws_kinesis create-stream --stream-name orders --shard-count 1 >/dev/null || fail "create-stream orders failed"
aws_kinesis create-stream --stream-name audit --shard-count 1 >/dev/null || fail "create-stream audit failed"
[[ "$(curl -fsS "$EDDY_URL/_eddy/throttle/streams/orders" | pyjson 'j["limits"]["write_records_per_sec"]')" == 100 ]] ||
  fail "throttle-stream orders:write_records_per_sec=100 was ignored: $(curl -sS "$EDDY_URL/_eddy/throttle/streams/orders")"
[[ "$(curl -fsS "$EDDY_URL/_eddy/throttle/streams/audit" | pyjson 'j["mode"]')" == off ]] ||
  fail "throttle-stream audit:mode=off was ignored: $(curl -sS "$EDDY_URL/_eddy/throttle/streams/audit")"
stop_eddy || fail "the docs-example server exited with status $? after SIGTERM"

echo "PASS: cli help and --config"

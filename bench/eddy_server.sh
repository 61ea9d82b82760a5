# Sourced by the client benchmarks (put_vs_boto3.sh, put_instructions.sh): a clean AWS
# environment for the clients, and start_eddy, which starts `eddy serve` on an ephemeral port.
#   start_eddy OUT_DIR DATA_DIR [wrapper command...]   sets pid and url
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
for v in $(compgen -e | grep '^EDDY_' || true); do unset "$v"; done

start_eddy() {
  local out=$1 data=$2
  shift 2
  "$@" "$eddy" serve --port 0 --data-dir "$data" --log-level warn >"$out/eddy.out" 2>"$out/eddy.err" &
  pid=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ "$(head -n 1 "$out/eddy.out" 2>/dev/null)" =~ ^eddy\ listening\ on\ [^\ ]+:([0-9]+)$ ]] && break
    sleep 0.05
  done
  url="http://127.0.0.1:${BASH_REMATCH[1]}"
}

#!/usr/bin/env bash
# eddy beside dynalite (npm), as docs/ci.md sets them up: dynalite_lease_reader.mjs keeps a
# KCL-style lease and checkpoint in dynalite and reads a shard from eddy. Both servers on
# ephemeral loopback ports. Checks: the records read are the shard's (compared with the AWS CLI's
# get-records), a held lease is refused to another worker, the owner resumes after its
# checkpoint, and the lease item in dynalite holds what the reader wrote.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps

start_eddy --in-memory

# dynalite from npm, in memory, on an ephemeral port (its CLI treats --port 0 as "default").
(cd "$E2E_DIR" && exec node -e '
const dynalite = require("dynalite");
const server = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
server.listen(0, "127.0.0.1", () => console.log("dynalite listening on 127.0.0.1:" + server.address().port));
') >"$E2E_TMP/dynalite.out" 2>"$E2E_TMP/eddy-dynalite.err" &
dyn_pid=$!
E2E_PIDS+=("$dyn_pid")
dyn_port=$(wait_port "$E2E_TMP/dynalite.out" "$dyn_pid" dynalite) || fail "dynalite did not start: $(cat "$E2E_TMP/eddy-dynalite.err")"
export KINESIS_ENDPOINT=$EDDY_URL DYNAMODB_ENDPOINT="http://127.0.0.1:$dyn_port"

# Without --create-stream-delay-ms a stream is ACTIVE at once; its first shard has this id.
aws_kinesis create-stream --stream-name orders --shard-count 2 >/dev/null || fail "create-stream failed"
shard=shardId-000000000000
# put FROM TO: records order-FROM..TO-1, routed to the first shard by the explicit hash key 0.
# Raw text with either CLI major version (v2 would read it as base64 without the flag).
BLOB_ARGS=()
if aws --version 2>&1 | grep -q '^aws-cli/2'; then BLOB_ARGS=(--cli-binary-format raw-in-base64-out); fi
put() {
  local records=() i
  for ((i = $1; i < $2; i++)); do records+=("Data=order-$i,PartitionKey=k$i,ExplicitHashKey=0"); done
  aws_kinesis put-records "${BLOB_ARGS[@]}" --stream-name orders --records "${records[@]}" |
    pyjson 'j["FailedRecordCount"]' | grep -qx 0 || fail "put-records failed"
}
put 0 10
# The SDK's warning about future Node versions is not this test's business.
reader() { (cd "$E2E_DIR" && node --no-warnings dynalite_lease_reader.mjs --stream orders --shard "$shard" "$@"); }

# worker-a takes the lease, reads the shard from TRIM_HORIZON, checkpoints, keeps the lease.
out=$(reader --worker worker-a --keep-lease) || fail "worker-a failed: $out"
[[ $(pyjson '[r["data"] for r in j["records"]]' <<<"$out") == "$(python3 -c 'import json;print(json.dumps(["order-%d" % i for i in range(10)]))')" ]] ||
  fail "worker-a did not read order-0..9 from $shard: $out"
seqs_a=$(pyjson '[r["sequenceNumber"] for r in j["records"]]' <<<"$out")
it=$(aws_kinesis get-shard-iterator --stream-name orders --shard-id "$shard" --shard-iterator-type TRIM_HORIZON | pyjson 'j["ShardIterator"]')
seqs_cli=$(aws_kinesis get-records --shard-iterator "$it" | pyjson '[r["SequenceNumber"] for r in j["Records"]]')
[[ "$seqs_a" == "$seqs_cli" ]] || fail "the reader's sequence numbers differ from get-records': $seqs_a vs $seqs_cli"
[[ $(pyjson 'j["leaseCounter"]' <<<"$out") == 1 ]] || fail "first take did not make leaseCounter 1: $out"
checkpoint_a=$(pyjson 'j["checkpoint"]' <<<"$out")

# worker-b is refused while worker-a holds the lease.
set +e
out_b=$(reader --worker worker-b)
rc=$?
set -e
[[ $rc == 2 && "$out_b" == *"held by another worker"* ]] || fail "worker-b took a held lease (status $rc): $out_b"

# worker-a again, after 5 more records: it resumes after its checkpoint and releases.
put 10 15
out=$(reader --worker worker-a) || fail "worker-a (second run) failed: $out"
[[ $(pyjson 'j["from"]' <<<"$out") == "$checkpoint_a" ]] || fail "worker-a did not resume from its checkpoint: $out"
[[ $(pyjson '" ".join(r["data"] for r in j["records"])' <<<"$out") == "order-10 order-11 order-12 order-13 order-14" ]] ||
  fail "worker-a did not read exactly the 5 new records: $out"
checkpoint_a=$(pyjson 'j["checkpoint"]' <<<"$out")

# The lease item, read from dynalite by the AWS CLI: released, checkpoint at the last record.
item=$(aws --endpoint-url "$DYNAMODB_ENDPOINT" dynamodb get-item --table-name eddy-consumer-leases \
  --key "{\"leaseKey\": {\"S\": \"$shard\"}}" --output json) || fail "get-item from dynalite failed"
[[ $(pyjson 'j["Item"]["checkpoint"]["S"] + " " + j["Item"]["leaseCounter"]["N"] + " " + str("leaseOwner" in j["Item"])' <<<"$item") == "$checkpoint_a 2 False" ]] ||
  fail "the lease item in dynalite is not released at the last checkpoint: $item"

# Now worker-b gets it, with nothing new to read.
out_b=$(reader --worker worker-b) || fail "worker-b could not take the released lease: $out_b"
[[ $(pyjson 'len(j["records"])' <<<"$out_b") == 0 && $(pyjson 'j["leaseCounter"]' <<<"$out_b") == 3 ]] ||
  fail "worker-b after the release: $out_b"

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: KCL-style leases in dynalite, records from eddy"

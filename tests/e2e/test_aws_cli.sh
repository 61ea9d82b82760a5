#!/usr/bin/env bash
# The AWS CLI (v1 or v2) against eddy: create-stream, list-shards, put-record, put-records,
# get-shard-iterator and get-records across a 4-shard stream, every output checked.
. "$(dirname "$0")/lib.sh"
require_cmd aws "pip install awscli"
require_cmd python3

start_eddy --in-memory
O="$E2E_TMP/out"
mkdir -p "$O"

# The CLI sends a blob given on its command line differently per major version: v1 sends the
# text's bytes (base64-encoding them itself for the JSON wire), v2 by default expects base64 text.
# Pass raw text either way.
BLOB_ARGS=()
if aws --version 2>&1 | grep -q '^aws-cli/2'; then
  BLOB_ARGS=(--cli-binary-format raw-in-base64-out)
fi

log "create-stream / list-shards"
aws_kinesis create-stream --stream-name cli-e2e --shard-count 4 >"$O/create.json" ||
  fail "aws kinesis create-stream failed"
wait_active cli-e2e
aws_kinesis list-shards --stream-name cli-e2e >"$O/list-shards.json" || fail "aws kinesis list-shards failed"
python3 - "$O/list-shards.json" <<'EOF' || fail "list-shards output is wrong"
import json, sys
j = json.load(open(sys.argv[1]))
shards = j["Shards"]
assert [s["ShardId"] for s in shards] == ["shardId-%012d" % i for i in range(4)], shards
# AWS splits the key space evenly; the last shard ends at 2^128-1 and ranges are contiguous.
expect_start = 0
for s in shards:
    r = s["HashKeyRange"]
    assert int(r["StartingHashKey"]) == expect_start, (s, expect_start)
    expect_start = int(r["EndingHashKey"]) + 1
    sn = s["SequenceNumberRange"]["StartingSequenceNumber"]
    assert len(sn) == 56 and sn.isdigit(), sn
    assert "EndingSequenceNumber" not in s["SequenceNumberRange"], s
assert expect_start == 2**128, expect_start
assert int(shards[1]["HashKeyRange"]["StartingHashKey"]) == 2**126, shards[1]
assert "NextToken" not in j or j["NextToken"] is None, j
EOF
aws_kinesis list-shards --stream-name cli-e2e --max-results 2 >"$O/list-shards-page1.json" ||
  fail "aws kinesis list-shards --max-results 2 failed"
TOKEN=$(pyjson 'j.get("NextToken") or ""' <"$O/list-shards-page1.json")
[[ -n "$TOKEN" ]] || fail "list-shards --max-results 2 returned no NextToken: $(cat "$O/list-shards-page1.json")"
aws_kinesis list-shards --next-token "$TOKEN" >"$O/list-shards-page2.json" ||
  fail "aws kinesis list-shards --next-token failed"
PAGE2=$(pyjson '[s["ShardId"] for s in j["Shards"]]' <"$O/list-shards-page2.json")
[[ "$PAGE2" == '["shardId-000000000002", "shardId-000000000003"]' ]] ||
  fail "list-shards second page is $PAGE2"

log "put-record"
for k in alpha beta gamma; do
  aws_kinesis put-record --stream-name cli-e2e --partition-key "$k" --data "single-$k" "${BLOB_ARGS[@]}" \
    >"$O/put-record-$k.json" || fail "aws kinesis put-record --partition-key $k failed"
done
# ExplicitHashKey overrides the partition key: 2^128-1 is in the last shard, 0 in the first.
aws_kinesis put-record --stream-name cli-e2e --partition-key alpha --data "ehk-max" \
  --explicit-hash-key 340282366920938463463374607431768211455 "${BLOB_ARGS[@]}" >"$O/put-record-ehk-max.json" ||
  fail "aws kinesis put-record --explicit-hash-key 2^128-1 failed"
aws_kinesis put-record --stream-name cli-e2e --partition-key alpha --data "ehk-zero" \
  --explicit-hash-key 0 "${BLOB_ARGS[@]}" >"$O/put-record-ehk-zero.json" ||
  fail "aws kinesis put-record --explicit-hash-key 0 failed"
[[ "$(pyjson 'j["ShardId"]' <"$O/put-record-ehk-max.json")" == shardId-000000000003 ]] ||
  fail "ExplicitHashKey 2^128-1 went to $(cat "$O/put-record-ehk-max.json")"
[[ "$(pyjson 'j["ShardId"]' <"$O/put-record-ehk-zero.json")" == shardId-000000000000 ]] ||
  fail "ExplicitHashKey 0 went to $(cat "$O/put-record-ehk-zero.json")"

log "put-records"
python3 - >"$O/put-records-in.json" <<'EOF'
import json
print(json.dumps([{"PartitionKey": "key-%d" % i, "Data": "batch-%d" % i} for i in range(40)]))
EOF
aws_kinesis put-records --stream-name cli-e2e --records "file://$O/put-records-in.json" "${BLOB_ARGS[@]}" \
  >"$O/put-records.json" || fail "aws kinesis put-records failed"
[[ "$(pyjson 'j["FailedRecordCount"]' <"$O/put-records.json")" == 0 ]] ||
  fail "put-records output lacks FailedRecordCount 0: $(head -c 400 "$O/put-records.json")"

log "get-shard-iterator / get-records on every shard"
for i in 0 1 2 3; do
  sid=shardId-00000000000$i
  aws_kinesis get-shard-iterator --stream-name cli-e2e --shard-id "$sid" --shard-iterator-type TRIM_HORIZON \
    >"$O/it-$i.json" || fail "aws kinesis get-shard-iterator $sid failed"
  it=$(pyjson 'j["ShardIterator"]' <"$O/it-$i.json")
  aws_kinesis get-records --shard-iterator "$it" --limit 1000 >"$O/records-$i.json" ||
    fail "aws kinesis get-records $sid failed"
done
# A second call from the NextShardIterator sees nothing new and still returns an iterator.
next=$(pyjson 'j["NextShardIterator"]' <"$O/records-0.json")
aws_kinesis get-records --shard-iterator "$next" >"$O/records-next-0.json" ||
  fail "aws kinesis get-records with NextShardIterator on shardId-000000000000 failed"

python3 - "$O" <<'EOF' || fail "records read back do not match what was put"
import base64, json, os, sys
O = sys.argv[1]
load = lambda n: json.load(open(os.path.join(O, n)))

# What was acknowledged, in put order: (shard, sequence number, partition key, data).
put = []
for k in ["alpha", "beta", "gamma"]:
    r = load("put-record-%s.json" % k)
    put.append((r["ShardId"], r["SequenceNumber"], k, b"single-" + k.encode()))
for name, data in [("ehk-max", b"ehk-max"), ("ehk-zero", b"ehk-zero")]:
    r = load("put-record-%s.json" % name)
    put.append((r["ShardId"], r["SequenceNumber"], "alpha", data))
pr = load("put-records.json")
assert pr["FailedRecordCount"] == 0, pr
assert len(pr["Records"]) == 40, pr
for i, r in enumerate(pr["Records"]):
    assert "ErrorCode" not in r, r
    put.append((r["ShardId"], r["SequenceNumber"], "key-%d" % i, b"batch-%d" % i))
for shard, seq, _, _ in put:
    assert len(seq) == 56 and seq.isdigit(), seq
    assert shard in ["shardId-%012d" % i for i in range(4)], shard

# Records must spread over more than one shard (40 distinct keys over 4 shards).
assert len({p[0] for p in put}) == 4, sorted({p[0] for p in put})

# The same partition key always lands in the same shard.
by_key = {}
for shard, _, k, _ in put[:3] + put[5:]:
    assert by_key.setdefault(k, shard) == shard, (k, shard, by_key[k])

seen = 0
for i in range(4):
    sid = "shardId-%012d" % i
    got = load("records-%d.json" % i)
    assert isinstance(got.get("MillisBehindLatest"), int), got
    recs = got["Records"]
    want = [p for p in put if p[0] == sid]
    want.sort(key=lambda p: int(p[1]))
    got_t = [(r["SequenceNumber"], r["PartitionKey"], base64.b64decode(r["Data"])) for r in recs]
    want_t = [(p[1], p[2], p[3]) for p in want]
    assert got_t == want_t, (sid, got_t, want_t)
    for r in recs:
        # The CLI prints ApproximateArrivalTimestamp as epoch seconds (a number) or ISO text.
        assert r.get("ApproximateArrivalTimestamp") not in (None, ""), r
    seqs = [int(r["SequenceNumber"]) for r in recs]
    assert seqs == sorted(set(seqs)), seqs
    if i == 0:
        nxt = load("records-next-0.json")
        assert nxt["Records"] == [], nxt
        assert nxt.get("NextShardIterator"), nxt
    seen += len(recs)
assert seen == len(put), (seen, len(put))
EOF

log "AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER / LATEST"
SID=$(pyjson 'j["Records"][0]["ShardId"]' <"$O/put-records.json")
SEQ=$(pyjson 'j["Records"][0]["SequenceNumber"]' <"$O/put-records.json")
it=$(aws_kinesis get-shard-iterator --stream-name cli-e2e --shard-id "$SID" --shard-iterator-type AT_SEQUENCE_NUMBER \
  --starting-sequence-number "$SEQ" | pyjson 'j["ShardIterator"]') || fail "get-shard-iterator AT_SEQUENCE_NUMBER failed"
first=$(aws_kinesis get-records --shard-iterator "$it" --limit 1 | pyjson '[j["Records"][0]["SequenceNumber"], len(j["Records"])]') ||
  fail "get-records from AT_SEQUENCE_NUMBER failed"
[[ "$first" == "[\"$SEQ\", 1]" ]] || fail "AT_SEQUENCE_NUMBER $SEQ --limit 1 returned $first"
it=$(aws_kinesis get-shard-iterator --stream-name cli-e2e --shard-id "$SID" --shard-iterator-type AFTER_SEQUENCE_NUMBER \
  --starting-sequence-number "$SEQ" | pyjson 'j["ShardIterator"]') || fail "get-shard-iterator AFTER_SEQUENCE_NUMBER failed"
after=$(aws_kinesis get-records --shard-iterator "$it" | pyjson '[r["SequenceNumber"] for r in j["Records"]]') ||
  fail "get-records from AFTER_SEQUENCE_NUMBER failed"
# Exactly the acknowledged records of that shard with a larger sequence number, in order (the
# put-records batch alone puts ~10 records in each shard, so this list is never empty).
want_after=$(python3 - "$O" "$SID" "$SEQ" <<'EOF'
import glob, json, os, sys
O, sid, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
acked = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(O, "put-record-*.json")))]
acked += json.load(open(os.path.join(O, "put-records.json")))["Records"]
print(json.dumps(sorted((r["SequenceNumber"] for r in acked if r["ShardId"] == sid and int(r["SequenceNumber"]) > seq), key=int)))
EOF
)
[[ "$want_after" != "[]" ]] || fail "test setup: no acknowledged record after $SEQ in $SID"
[[ "$after" == "$want_after" ]] || fail "AFTER_SEQUENCE_NUMBER $SEQ returned $after, expected $want_after"
# LATEST: nothing already stored, then exactly a record put after the iterator was taken (key-0,
# the partition key of the batch's first record, routes to the same shard).
it=$(aws_kinesis get-shard-iterator --stream-name cli-e2e --shard-id "$SID" --shard-iterator-type LATEST |
  pyjson 'j["ShardIterator"]') || fail "get-shard-iterator LATEST failed"
aws_kinesis get-records --shard-iterator "$it" >"$O/latest-1.json" || fail "get-records from LATEST failed"
[[ "$(pyjson 'len(j["Records"])' <"$O/latest-1.json")" == 0 ]] ||
  fail "LATEST iterator returned old records: $(head -c 400 "$O/latest-1.json")"
aws_kinesis put-record --stream-name cli-e2e --partition-key key-0 --data "after-latest" "${BLOB_ARGS[@]}" \
  >"$O/after-latest-put.json" || fail "put-record after LATEST failed"
[[ "$(pyjson 'j["ShardId"]' <"$O/after-latest-put.json")" == "$SID" ]] ||
  fail "key-0 went to another shard than $SID: $(cat "$O/after-latest-put.json")"
it=$(pyjson 'j["NextShardIterator"]' <"$O/latest-1.json")
latest=$(aws_kinesis get-records --shard-iterator "$it" |
  pyjson '[[r["SequenceNumber"], r["PartitionKey"], __import__("base64").b64decode(r["Data"]).decode()] for r in j["Records"]]') ||
  fail "get-records after LATEST failed"
want_latest=$(pyjson '[[j["SequenceNumber"], "key-0", "after-latest"]]' <"$O/after-latest-put.json")
[[ "$latest" == "$want_latest" ]] || fail "LATEST then one put-record returned $latest, expected $want_latest"

log "errors reach the CLI as AWS errors"
set +e
aws_kinesis put-records --stream-name no-such-stream --records "file://$O/put-records-in.json" "${BLOB_ARGS[@]}" \
  >"$O/err.out" 2>"$O/err.err"
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "put-records to a missing stream succeeded"
grep -q 'ResourceNotFoundException' "$O/err.err" ||
  fail "put-records to a missing stream: expected ResourceNotFoundException, got: $(cat "$O/err.err")"
grep -q 'no-such-stream' "$O/err.err" || fail "ResourceNotFoundException message does not name the stream: $(cat "$O/err.err")"

stop_eddy || fail "eddy exited with status $? after SIGTERM"
echo "PASS: aws cli"

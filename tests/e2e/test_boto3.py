"""boto3 against eddy: many partition keys into a 4-shard stream, every shard read back from
TRIM_HORIZON, each record exactly once, data intact, in the shard its MD5 hash key selects; plus
KPL aggregates from the shared fixtures stored and returned byte for byte.

Run by test_boto3.sh with EDDY_URL set to a running server."""

import datetime
import hashlib
import json
import os
import random
import sys
import time

from botocore.exceptions import ClientError

from boto_e2e import check, kinesis_client

URL = os.environ["EDDY_URL"]
SHARED = os.environ["EDDY_SHARED_DIR"]
MAX_HASH = 2**128 - 1

kinesis = kinesis_client(URL)


def wait_active(name):
    for _ in range(100):
        s = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            return s
        time.sleep(0.1)
    raise AssertionError("stream %s never became ACTIVE" % name)


def shard_for(shards, hash_key):
    owners = [
        s["ShardId"]
        for s in shards
        if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key <= int(s["HashKeyRange"]["EndingHashKey"])
    ]
    check(len(owners) == 1, "hash key %d is owned by %r" % (hash_key, owners))
    return owners[0]


def md5_key(partition_key):
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def read_shard(stream, shard_id):
    """Every record of a shard from TRIM_HORIZON, following NextShardIterator until caught up."""
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    out = []
    for _ in range(1000):
        r = kinesis.get_records(ShardIterator=it, Limit=700)
        check(len(r["Records"]) <= 700, "GetRecords Limit 700 returned %d records" % len(r["Records"]))
        out.extend(r["Records"])
        check("MillisBehindLatest" in r, "GetRecords without MillisBehindLatest: %r" % r.keys())
        it = r.get("NextShardIterator")
        check(it, "open shard %s returned no NextShardIterator" % shard_id)
        if not r["Records"] and r["MillisBehindLatest"] == 0:
            return out
    raise AssertionError("reading %s never caught up" % shard_id)


def test_routing_and_readback():
    stream = "boto3-e2e"
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    summary = wait_active(stream)
    check(summary["OpenShardCount"] == 4, "OpenShardCount %r" % summary["OpenShardCount"])
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    check([s["ShardId"] for s in shards] == ["shardId-%012d" % i for i in range(4)], shards)
    check(int(shards[0]["HashKeyRange"]["StartingHashKey"]) == 0, shards[0])
    check(int(shards[-1]["HashKeyRange"]["EndingHashKey"]) == MAX_HASH, shards[-1])

    rng = random.Random(20131202)
    sent = {}  # sequence number -> (partition key, data, shard id reported by the put)
    order = []  # (shard id, sequence number) in acknowledgement order

    # PutRecords: 4 batches of 500 with distinct keys, binary data of varied length (incl. 0x00..0xff).
    for batch in range(4):
        entries = []
        for i in range(500):
            pk = "user-%d-%d-%s" % (batch, i, "".join(rng.choice("abcdefghij/:é€") for _ in range(rng.randint(0, 12))))
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
            entries.append({"PartitionKey": pk, "Data": data})
        r = kinesis.put_records(StreamName=stream, Records=entries)
        check(r["FailedRecordCount"] == 0, "PutRecords FailedRecordCount %r" % r["FailedRecordCount"])
        check(len(r["Records"]) == len(entries), "PutRecords returned %d results" % len(r["Records"]))
        for e, res in zip(entries, r["Records"]):
            check("ErrorCode" not in res, "PutRecords entry failed: %r" % res)
            seq = res["SequenceNumber"]
            check(len(seq) == 56 and seq.isdigit(), "sequence number %r" % seq)
            check(seq not in sent, "sequence number %s handed out twice" % seq)
            sent[seq] = (e["PartitionKey"], e["Data"], res["ShardId"])
            order.append((res["ShardId"], seq))

    # PutRecord: one at a time, same keys repeated (same shard each time), with SequenceNumberForOrdering.
    last_seq = {}
    for i in range(60):
        pk = "repeat-%d" % (i % 6)
        data = ("single %d \x00\xff" % i).encode("latin-1")
        kw = {"StreamName": stream, "PartitionKey": pk, "Data": data}
        if pk in last_seq:
            kw["SequenceNumberForOrdering"] = last_seq[pk]
        res = kinesis.put_record(**kw)
        seq = res["SequenceNumber"]
        check(seq not in sent, "sequence number %s handed out twice" % seq)
        if pk in last_seq:
            check(int(seq) > int(last_seq[pk]), "sequence for %s went back: %s after %s" % (pk, seq, last_seq[pk]))
        last_seq[pk] = seq
        sent[seq] = (pk, data, res["ShardId"])
        order.append((res["ShardId"], seq))

    # The put response names the shard that owns int(md5(partition key)).
    for seq, (pk, _, shard) in sent.items():
        want = shard_for(shards, md5_key(pk))
        check(shard == want, "PartitionKey %r (md5 %d) went to %s, expected %s" % (pk, md5_key(pk), shard, want))
    per_shard = {s["ShardId"]: 0 for s in shards}
    for _, _, shard in sent.values():
        per_shard[shard] += 1
    check(all(n > 200 for n in per_shard.values()), "records are not spread over the shards: %r" % per_shard)

    # Read back every shard: each record exactly once, in the shard md5 selects, data intact, and
    # in acknowledgement order within the shard.
    now = datetime.datetime.now(datetime.timezone.utc)
    returned = set()
    for s in shards:
        sid = s["ShardId"]
        recs = read_shard(stream, sid)
        seqs = [r["SequenceNumber"] for r in recs]
        check(seqs == [q for (sh, q) in order if sh == sid], "shard %s: records not in put order" % sid)
        check([int(x) for x in seqs] == sorted(int(x) for x in seqs), "shard %s: sequence numbers not increasing" % sid)
        for r in recs:
            seq = r["SequenceNumber"]
            check(seq in sent, "shard %s returned a record nobody put: %s" % (sid, seq))
            check(seq not in returned, "record %s returned twice" % seq)
            returned.add(seq)
            pk, data, put_shard = sent[seq]
            check(r["PartitionKey"] == pk, "record %s: PartitionKey %r != %r" % (seq, r["PartitionKey"], pk))
            check(r["Data"] == data, "record %s: Data differs (%d bytes back, %d put)" % (seq, len(r["Data"]), len(data)))
            check(put_shard == sid, "record %s put into %s, read from %s" % (seq, put_shard, sid))
            check(shard_for(shards, md5_key(pk)) == sid, "record %s with key %r is in the wrong shard %s" % (seq, pk, sid))
            ts = r["ApproximateArrivalTimestamp"]
            check(isinstance(ts, datetime.datetime), "ApproximateArrivalTimestamp %r" % ts)
            check(abs((now - ts).total_seconds()) < 300, "ApproximateArrivalTimestamp %s is far from now %s" % (ts, now))
    missing = set(sent) - returned
    check(not missing, "%d acknowledged records never returned, e.g. %s" % (len(missing), sorted(missing)[:3]))
    print("routing: %d records over %r, all read back once" % (len(sent), per_shard))


def test_kpl_aggregates():
    stream = "boto3-kpl"
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    wait_active(stream)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    vectors = json.load(open(os.path.join(SHARED, "fixtures", "kpl-agg-vectors.json")))["vectors"]
    check(vectors, "no KPL vectors in the fixture")
    with_outer_ehk = 0
    for i, v in enumerate(vectors):
        blob = bytes.fromhex(v["aggregatedHex"])
        # Sanity of the fixture itself: magic, protobuf, MD5 trailer.
        check(blob[:4] == b"\xf3\x89\x9a\xc2", "vector %s lacks the KPL magic" % v["name"])
        check(hashlib.md5(blob[4:-16]).digest() == blob[-16:], "vector %s: MD5 trailer mismatch" % v["name"])
        # The vector's own outer ExplicitHashKey where it has one, else the middle of shard i%4 so
        # the aggregates land in different shards.
        if v.get("outerExplicitHashKey") is not None:
            with_outer_ehk += 1
            ehk = int(v["outerExplicitHashKey"])
        else:
            r = shards[i % 4]["HashKeyRange"]
            ehk = (int(r["StartingHashKey"]) + int(r["EndingHashKey"])) // 2
        want_shard = shard_for(shards, ehk)
        res = kinesis.put_record(StreamName=stream, PartitionKey="a", Data=blob, ExplicitHashKey=str(ehk))
        check(res["ShardId"] == want_shard, "KPL %s with EHK %d went to %s, not %s" % (v["name"], ehk, res["ShardId"], want_shard))
        # md5("a") alone would pick another shard for some of these: the EHK is what routed it.
        it = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=want_shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=res["SequenceNumber"],
        )["ShardIterator"]
        got = kinesis.get_records(ShardIterator=it, Limit=1)["Records"]
        check(len(got) == 1, "KPL %s: %d records at its sequence number" % (v["name"], len(got)))
        r = got[0]
        check(r["SequenceNumber"] == res["SequenceNumber"], "KPL %s: wrong record %r" % (v["name"], r["SequenceNumber"]))
        check(r["PartitionKey"] == "a", "KPL %s: PartitionKey %r" % (v["name"], r["PartitionKey"]))
        check(r["Data"] == blob, "KPL %s: Data not returned byte for byte (%d vs %d bytes)" % (v["name"], len(r["Data"]), len(blob)))
    # Whole shards read back hold exactly the aggregates, still aggregated (the server never
    # de-aggregates; that is the consumer's job).
    total = sum(len(read_shard(stream, s["ShardId"])) for s in shards)
    check(total == len(vectors), "KPL stream holds %d records, %d were put" % (total, len(vectors)))
    # The fixture's "explicit-hash-keys" vector carries an outer ExplicitHashKey: that branch ran.
    check(with_outer_ehk >= 1, "no vector routed by its own outer ExplicitHashKey")
    print("kpl: %d aggregates stored and returned byte for byte" % len(vectors))


def test_errors():
    try:
        kinesis.put_record(StreamName="does-not-exist", PartitionKey="a", Data=b"x")
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "ResourceNotFoundException", "error code %r" % err)
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "status %r" % e.response["ResponseMetadata"])
        check("does-not-exist" in err["Message"], "message %r does not name the stream" % err["Message"])
        check(e.response["ResponseMetadata"].get("RequestId"), "no x-amzn-RequestId on the error")
    else:
        raise AssertionError("PutRecord into a missing stream succeeded")
    try:
        kinesis.get_records(ShardIterator="not-an-iterator")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "InvalidArgumentException", "garbage iterator gave %r" % e.response["Error"])
    else:
        raise AssertionError("GetRecords with a garbage iterator succeeded")


def main():
    test_routing_and_readback()
    test_kpl_aggregates()
    test_errors()
    print("PASS: boto3")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ClientError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)

"""A boto3 producer that retries failed PutRecords entries, against a 1-shard stream with
--throttle aws and a fault rule failing 5% of entries: every record ends up stored exactly
once, and eddy's counters agree with what the producer saw."""
import collections
import json
import os
import sys
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["EDDY_URL"]
STREAM = "throttled"
N = int(os.environ.get("THROTTLE_RECORDS", "3000"))


if not __debug__:
    sys.exit("FAIL: the checks here are assert statements; run without python -O / PYTHONOPTIMIZE")


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def main():
    # No SDK retries: the producer handles failures itself, as a KPL-style producer does.
    k = boto3.client("kinesis", endpoint_url=URL, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test",
                     config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    k.create_stream(StreamName=STREAM, ShardCount=1)
    k.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    admin("PUT", "/_eddy/faults", [{"id": "five-percent", "stream": STREAM, "action": "fail_entries",
                                    "probability": 0.05, "seed": 3}])

    pending = [("rec-%05d-" % i + "x" * 90).encode() for i in range(N)]
    acknowledged = collections.Counter()
    seen = collections.Counter()
    calls = 0
    start = time.monotonic()
    while pending:
        calls += 1
        if calls > 20000:
            sys.exit("FAIL: producer did not finish in 20000 calls")
        batch = pending[:500]
        resp = k.put_records(StreamName=STREAM, Records=[{"Data": d, "PartitionKey": "pk"} for d in batch])
        failed = [d for d, r in zip(batch, resp["Records"]) if "ErrorCode" in r]
        for d, r in zip(batch, resp["Records"]):
            if "ErrorCode" in r:
                seen[r["ErrorCode"]] += 1
                assert set(r) == {"ErrorCode", "ErrorMessage"}, r
            else:
                assert set(r) == {"SequenceNumber", "ShardId"}, r
                acknowledged[d] += 1
        assert resp["FailedRecordCount"] == len(failed), (resp["FailedRecordCount"], len(failed))
        pending = failed + pending[len(batch):]
        if seen["ProvisionedThroughputExceededException"] and failed:
            time.sleep(0.05)
    elapsed = time.monotonic() - start
    assert len(acknowledged) == N and all(v == 1 for v in acknowledged.values())
    # That the shard limit held is shown by the throttled entries eddy counted (below), not by
    # the wall-clock time the producer took (timing belongs in bench/).

    # Read everything back (GetRecords is limited to 5 calls/s: wait when throttled).
    it = k.get_shard_iterator(StreamName=STREAM, ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    stored = collections.Counter()
    read_throttled = 0
    for _ in range(5000):
        try:
            r = k.get_records(ShardIterator=it, Limit=10000)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ProvisionedThroughputExceededException":
                read_throttled += 1
                time.sleep(0.2)
                continue
            raise
        for rec in r["Records"]:
            stored[rec["Data"]] += 1
        it = r["NextShardIterator"]
        if not r["Records"] and r["MillisBehindLatest"] == 0:
            break
    assert stored == acknowledged, "stored %d distinct / %d total, acknowledged %d" % (
        len(stored), sum(stored.values()), len(acknowledged))

    throttle = admin("GET", "/_eddy/throttle")
    faults = admin("GET", "/_eddy/faults")
    eddy_throttled = throttle["throttled"]["write_records"]
    eddy_failed = faults["rules"][0]["fired"]
    assert eddy_throttled == seen["ProvisionedThroughputExceededException"] > 0, (eddy_throttled, seen)
    assert eddy_failed == seen["InternalFailure"] > 0, (eddy_failed, seen)
    assert throttle["throttled"]["read_calls"] == read_throttled, (throttle["throttled"], read_throttled)
    print("OK: %d records stored exactly once in %.1fs over %d calls; eddy throttled %d entries, "
          "injected %d InternalFailure entries, throttled %d reads" %
          (N, elapsed, calls, eddy_throttled, eddy_failed, read_throttled))


if __name__ == "__main__":
    main()

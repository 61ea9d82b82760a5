"""Client side of test_crash_cycles.sh (boto3 against EDDY_URL): load that is SIGKILLed, and
the checks after each restart.

  crash_client.py load DIR CYCLE     until eddy goes away: 2 threads of PutRecords, 2 of S3 PUTs
                                     (1 KiB .. 2.5 MiB, so some span several storage chunks), and
                                     in cycle 1 two multipart uploads left in progress. Every
                                     request is logged (fsynced) as an intent before it is sent and
                                     as acknowledged after its answer, in DIR/*.log.
  crash_client.py verify DIR CYCLE   after the restart: every acknowledged record and object is
                                     there and intact; whatever else is visible is whole (a
                                     PutRecords batch all or nothing, an object with exactly the
                                     bytes it was sent with); per shard the sequence numbers are
                                     contiguous and above the last cycle's; the uploads in progress
                                     still list their acknowledged parts.
  crash_client.py finish DIR         completes one multipart upload (content checked) and aborts
                                     the other.
"""

import base64
import glob
import hashlib
import json
import os
import random
import sys
import threading

import boto3
from botocore.config import Config

STREAM = "crash"
BUCKET = "crash"
SHARDS = 4
BATCH = 25
PART = 5 * 1024 * 1024

cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60,
             s3={"addressing_style": "path"})
session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
kinesis = session.client("kinesis", endpoint_url=os.environ["EDDY_URL"], config=cfg)
s3 = session.client("s3", endpoint_url=os.environ["EDDY_URL"], config=cfg)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Log:
    """An append-only JSON-lines file, each line fsynced before the request it announces."""

    def __init__(self, path):
        self.f = open(path, "a")

    def write(self, **entry):
        self.f.write(json.dumps(entry) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())


def read_logs(d, pattern):
    out = []
    for p in sorted(glob.glob(os.path.join(d, pattern))):
        with open(p) as f:
            for line in f:
                if line.endswith("\n"):  # a line cut by the kill is not an entry
                    out.append(json.loads(line))
    return out


def body_for(key):
    """The bytes an object key is always written with: its size and content follow from the key."""
    rng = random.Random(key)
    size = rng.choice([1024, 70_000, 1_100_000, 2_600_000])
    block = hashlib.sha256(key.encode()).digest() * 64  # 2 KiB
    return (block * (size // len(block) + 1))[:size]


def record_data(batch, i):
    return json.dumps({"b": batch, "i": i}).encode() + b"." * (100 + i)


# ---- load -------------------------------------------------------------------------------------

def ensure_resources():
    try:
        kinesis.create_stream(StreamName=STREAM, ShardCount=SHARDS)
    except kinesis.exceptions.ResourceInUseException:
        pass
    kinesis.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    try:
        s3.create_bucket(Bucket=BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass


def put_batch(batch):
    r = kinesis.put_records(StreamName=STREAM, Records=[
        {"PartitionKey": "%s-%d" % (batch, i), "Data": record_data(batch, i)} for i in range(BATCH)])
    return {"records": [{"i": i, "seq": e["SequenceNumber"], "shard": e["ShardId"]}
                        for i, e in enumerate(r["Records"]) if "SequenceNumber" in e]}


def put_object(key):
    body = body_for(key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return {"md5": hashlib.md5(body).hexdigest(), "size": len(body)}


def writer(d, prefix, send, cycle, w, stop):
    """Sends one request after another until eddy is gone: each logged as an intent before it
    is sent and as acknowledged (with what send() returns) after its answer."""
    log = Log(os.path.join(d, "%s-%d-%d.log" % (prefix, cycle, w)))
    n = 0
    while not stop.is_set():
        name = "%s%d-%d-%d" % ("obj-" if prefix == "s3" else "", cycle, w, n)
        n += 1
        log.write(intent=name)
        try:
            ack = send(name)
        except Exception:
            return  # eddy is gone
        log.write(acked=name, **ack)


def multipart_starter(d):
    """Two uploads, each with one acknowledged part, left in progress."""
    log = Log(os.path.join(d, "mpu.log"))
    for name in ("complete-me", "abort-me"):
        key = "mpu-" + name
        try:
            up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
            log.write(upload=key, id=up)
            part = body_for(key + "/1")[:1] * PART
            etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=1, Body=part)["ETag"]
            log.write(part=key, id=up, number=1, etag=etag, md5=hashlib.md5(part).hexdigest())
        except Exception:
            return


def load(d, cycle):
    ensure_resources()
    with open(os.path.join(d, "ready-%d" % cycle), "w"):
        pass
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(d, "kin", put_batch, cycle, w, stop)) for w in range(2)]
    threads += [threading.Thread(target=writer, args=(d, "s3", put_object, cycle, w, stop)) for w in range(2)]
    if cycle == 1:
        threads.append(threading.Thread(target=multipart_starter, args=(d,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---- verify -----------------------------------------------------------------------------------

def counter(seq):
    # "49" | stream id (10) | shard index (10) | counter (20) | zeros (14)
    return int(seq[22:42])


def read_shard(shard_id):
    it = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out = []
    for _ in range(10000):
        r = kinesis.get_records(ShardIterator=it, Limit=10000)
        out.extend(r["Records"])
        it = r.get("NextShardIterator")
        if not it or (not r["Records"] and r["MillisBehindLatest"] == 0):
            return out
    fail("shard %s did not end" % shard_id)


def verify(d, cycle):
    # Kinesis.
    intents = {e["intent"] for e in read_logs(d, "kin-*.log") if "intent" in e}
    acked = {}
    for e in read_logs(d, "kin-*.log"):
        if "acked" in e:
            for r in e["records"]:
                acked[(e["acked"], r["i"])] = r
    visible = {}
    seqs_path = os.path.join(d, "seqs.json")
    last = json.load(open(seqs_path)) if os.path.exists(seqs_path) else {}
    now = {}
    for sh in kinesis.list_shards(StreamName=STREAM)["Shards"]:
        sid = sh["ShardId"]
        records = read_shard(sid)
        counters = [counter(r["SequenceNumber"]) for r in records]
        if counters and counters != list(range(counters[0], counters[0] + len(counters))):
            fail("%s: sequence numbers are not contiguous: %s" % (sid, counters[:50]))
        if counters:
            now[sid] = counters[-1]
        for r in records:
            head = r["Data"].split(b".", 1)[0]
            try:
                m = json.loads(head)
            except ValueError:
                fail("%s: a record with foreign data %r" % (sid, r["Data"][:80]))
            if r["Data"] != record_data(m["b"], m["i"]):
                fail("%s: record %s/%d is damaged" % (sid, m["b"], m["i"]))
            if m["b"] not in intents:
                fail("%s: record of batch %s that was never sent" % (sid, m["b"]))
            visible[(m["b"], m["i"])] = (r["SequenceNumber"], sid)
    for k, r in acked.items():
        if k not in visible:
            fail("acknowledged record %s/%d (%s) is lost" % (k[0], k[1], r["seq"]))
        if visible[k] != (r["seq"], r["shard"]):
            fail("acknowledged record %s/%d moved: %s -> %s" % (k[0], k[1], (r["seq"], r["shard"]), visible[k]))
    batches = {}
    for b, i in visible:
        batches.setdefault(b, set()).add(i)
    for b, got in batches.items():
        if len(got) != BATCH:
            fail("PutRecords batch %s is half visible: %d of %d records" % (b, len(got), BATCH))
    for sid, c in last.items():
        if sid in now and now[sid] < c:
            fail("%s: sequence numbers went back: %d after %d" % (sid, now[sid], c))
    # The next cycle's records must come after these.
    json.dump(now, open(seqs_path, "w"))

    # S3.
    s3_intents = {e["intent"] for e in read_logs(d, "s3-*.log") if "intent" in e}
    s3_acked = {e["acked"]: e for e in read_logs(d, "s3-*.log") if "acked" in e}
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            listed[o["Key"]] = o["Size"]
    for key, e in s3_acked.items():
        if key not in listed:
            fail("acknowledged object %s is lost" % key)
    for key, size in listed.items():
        if key not in s3_intents and not key.startswith("mpu-"):
            fail("object %s was never sent" % key)
        if key.startswith("mpu-"):
            continue
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        want = body_for(key)
        if size != len(want) or body != want:
            fail("object %s is damaged or partial: %d bytes listed, %d read, %d sent" % (key, size, len(body), len(want)))

    # Multipart uploads in progress.
    uploads = {e["upload"]: e["id"] for e in read_logs(d, "mpu.log") if "upload" in e}
    parts = {(e["part"], e["number"]): e for e in read_logs(d, "mpu.log") if "part" in e}
    listed_up = {(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])}
    for key, up in uploads.items():
        if (key, up) not in listed_up:
            fail("multipart upload %s (%s) is lost" % (key, up))
        got = {p["PartNumber"]: p for p in s3.list_parts(Bucket=BUCKET, Key=key, UploadId=up).get("Parts", [])}
        for (k, n), e in parts.items():
            if k == key and (n not in got or got[n]["ETag"] != e["etag"] or got[n]["Size"] != PART):
                fail("acknowledged part %d of %s is lost or changed" % (n, key))
    print("verified cycle %s: %d records (%d acknowledged), %d objects (%d acknowledged), %d uploads in progress"
          % (cycle, len(visible), len(acked), len(listed), len(s3_acked), len(uploads)))


def finish(d):
    uploads = {e["upload"]: e["id"] for e in read_logs(d, "mpu.log") if "upload" in e}
    parts = {e["part"]: e for e in read_logs(d, "mpu.log") if "part" in e}
    key = "mpu-complete-me"
    if key in uploads:
        up = uploads[key]
        first = parts.get(key)
        if first is None:  # killed between the upload's creation and its part
            part1 = body_for(key + "/1")[:1] * PART
            first = {"etag": s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=1, Body=part1)["ETag"]}
        tail = b"the end"
        e2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=2, Body=tail)["ETag"]
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": first["etag"]}, {"PartNumber": 2, "ETag": e2}]})
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        want = body_for(key + "/1")[:1] * PART + tail
        if body != want:
            fail("the completed multipart object is wrong (%d bytes, %d expected)" % (len(body), len(want)))
    key = "mpu-abort-me"
    if key in uploads:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uploads[key])
        left = [u for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) if u["Key"] == key]
        if left:
            fail("the aborted upload is still listed")
    print("multipart: %s" % ", ".join(sorted(uploads)) or "none started before the first kill")


if __name__ == "__main__":
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "load":
        load(d, int(sys.argv[3]))
    elif mode == "verify":
        verify(d, int(sys.argv[3]))
    elif mode == "finish":
        finish(d)
    else:
        fail("unknown mode " + mode)

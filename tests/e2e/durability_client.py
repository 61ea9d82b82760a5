"""Client side of test_durability.sh and test_graceful_shutdown.sh (boto3 against EDDY_URL).

  durability_client.py put STATE        create a 4-shard stream, put acknowledged records, take
                                       iterators; write all of it to STATE (JSON)
  durability_client.py writer ACKLOG    put records until killed, appending each acknowledged
                                       PutRecords result to ACKLOG as one JSON line (fsynced)
  durability_client.py slowput STATE SIGNAL_DIR
                                       create the stream, then send one large PutRecords in two
                                       halves: touch SIGNAL_DIR/mid after the first half, wait for
                                       SIGNAL_DIR/go, send the rest; write the acknowledged records
  durability_client.py verify STATE [ACKLOG]
                                       after a restart: every acknowledged record is there in order
                                       with the same sequence numbers and data, old iterators still
                                       work, new sequence numbers keep increasing
"""

import base64
import json
import os
import sys
import time

from boto_e2e import kinesis_client

STREAM = "durable"

kinesis = kinesis_client(os.environ["EDDY_URL"], read_timeout=60)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def b64(b):
    return base64.b64encode(b).decode()


def shards():
    return kinesis.list_shards(StreamName=STREAM)["Shards"]


def read_from(iterator, shard_id):
    out = []
    for _ in range(1000):
        r = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        out.extend(r["Records"])
        iterator = r.get("NextShardIterator")
        if not iterator:
            fail("open shard %s returned no NextShardIterator" % shard_id)
        if not r["Records"] and r["MillisBehindLatest"] == 0:
            return out, iterator
    fail("reading %s never caught up" % shard_id)


def read_shard(shard_id):
    it = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    return read_from(it, shard_id)[0]


def create_stream():
    kinesis.create_stream(StreamName=STREAM, ShardCount=4)
    for _ in range(100):
        if kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.1)
    fail("stream never became ACTIVE")


def cmd_put(state_path):
    create_stream()
    acked = []  # [shard, seq, pk, data b64] in acknowledgement order
    for b in range(3):
        entries = [
            {"PartitionKey": "pk-%d-%d" % (b, i), "Data": ("batch %d record %d " % (b, i)).encode() + os.urandom(i % 50)}
            for i in range(200)
        ]
        r = kinesis.put_records(StreamName=STREAM, Records=entries)
        if r["FailedRecordCount"]:
            fail("PutRecords FailedRecordCount %d" % r["FailedRecordCount"])
        for e, res in zip(entries, r["Records"]):
            acked.append([res["ShardId"], res["SequenceNumber"], e["PartitionKey"], b64(e["Data"])])
    for i in range(40):
        pk, data = "single-%d" % (i % 7), ("single %d" % i).encode() + bytes([0, 255, i])
        res = kinesis.put_record(StreamName=STREAM, PartitionKey=pk, Data=data)
        acked.append([res["ShardId"], res["SequenceNumber"], pk, b64(data)])

    # Iterators taken before the kill: TRIM_HORIZON, and a NextShardIterator from the middle of a shard.
    iterators = {}
    for s in shards():
        sid = s["ShardId"]
        th = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        r = kinesis.get_records(ShardIterator=th, Limit=5)
        if len(r["Records"]) != 5:
            fail("shard %s returned %d records for Limit 5" % (sid, len(r["Records"])))
        iterators[sid] = {"trim_horizon": th, "after_5": r["NextShardIterator"], "first_5": [x["SequenceNumber"] for x in r["Records"]]}
    with open(state_path, "w") as f:
        json.dump({"acked": acked, "iterators": iterators}, f)
    print("put: %d records acknowledged" % len(acked))


def cmd_writer(ack_path):
    """Puts batches as fast as it can; each acknowledged batch is on disk before the next is sent."""
    create_stream()
    fd = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(fd, b'{"ready": true}\n')
    n = 0
    while True:
        entries = [{"PartitionKey": "w-%d" % (n + i), "Data": ("writer record %d" % (n + i)).encode()} for i in range(100)]
        # Announce what is about to be sent so the verifier can tell an unacknowledged (in-flight)
        # record that did survive from one nobody sent.
        os.write(fd, (json.dumps({"sending": [e["PartitionKey"] for e in entries]}) + "\n").encode())
        try:
            r = kinesis.put_records(StreamName=STREAM, Records=entries)
        except Exception as e:  # the server was killed mid-request
            print("writer stopped: %s" % type(e).__name__, file=sys.stderr)
            return
        acked = [
            [res["ShardId"], res["SequenceNumber"], e["PartitionKey"], b64(e["Data"])]
            for e, res in zip(entries, r["Records"])
            if "ErrorCode" not in res
        ]
        os.write(fd, (json.dumps({"acked": acked}) + "\n").encode())
        n += len(entries)


def cmd_slowput(state_path, signal_dir):
    """A PutRecords the server is still receiving when it is told to stop."""
    import http.client
    import urllib.parse
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    create_stream()
    entries = [{"PartitionKey": "big-%d" % i, "Data": b64(os.urandom(12 * 1024))} for i in range(500)]
    body = json.dumps({"StreamName": STREAM, "Records": entries}).encode()
    url = urllib.parse.urlparse(os.environ["EDDY_URL"])
    req = AWSRequest(method="POST", url="http://%s/" % url.netloc, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"})
    SigV4Auth(Credentials("test", "test"), "kinesis", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.putrequest("POST", "/", skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    half = len(body) // 2
    conn.send(body[:half])
    open(os.path.join(signal_dir, "mid"), "w").close()
    for _ in range(600):
        if os.path.exists(os.path.join(signal_dir, "go")):
            break
        time.sleep(0.05)
    else:
        fail("no go signal within 30 s")
    conn.send(body[half:])
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status != 200:
        fail("the in-flight PutRecords got HTTP %d: %r" % (resp.status, raw[:300]))
    r = json.loads(raw)
    if r.get("FailedRecordCount") != 0 or len(r.get("Records", [])) != len(entries):
        fail("the in-flight PutRecords was not fully accepted: FailedRecordCount %r" % r.get("FailedRecordCount"))
    acked = [[res["ShardId"], res["SequenceNumber"], e["PartitionKey"], e["Data"]] for e, res in zip(entries, r["Records"])]
    with open(state_path, "w") as f:
        json.dump({"acked": acked, "iterators": {}}, f)
    print("slowput: %d records (%d bytes) acknowledged across the shutdown" % (len(acked), len(body)))


def load_ack_log(path):
    acked, sent = [], set()
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # torn last line: the writer died while writing it
            j = json.loads(line)
            acked.extend(j.get("acked", []))
            sent.update(j.get("sending", []))
    return acked, sent


def cmd_verify(state_path, ack_path=None):
    state = json.load(open(state_path)) if state_path != "-" else {"acked": [], "iterators": {}}
    acked = list(state["acked"])
    may_exist = set()  # partition keys of records sent but never acknowledged
    if ack_path:
        log_acked, sent = load_ack_log(ack_path)
        acked.extend(log_acked)
        may_exist = sent - {a[2] for a in log_acked}
    if not acked:
        fail("nothing was acknowledged before the kill; the test proves nothing")

    ss = shards()
    if [s["ShardId"] for s in ss] != ["shardId-%012d" % i for i in range(4)]:
        fail("after restart the stream has shards %r" % [s["ShardId"] for s in ss])
    summary = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    if summary["StreamStatus"] != "ACTIVE" or summary["OpenShardCount"] != 4:
        fail("after restart the stream is %s with %d open shards" % (summary["StreamStatus"], summary["OpenShardCount"]))

    last_seq = {}
    for s in ss:
        sid = s["ShardId"]
        got = read_shard(sid)
        want = [(a[1], a[2], a[3]) for a in acked if a[0] == sid]
        have = [(r["SequenceNumber"], r["PartitionKey"], b64(r["Data"])) for r in got]
        want_seqs = {w[0] for w in want}
        extras = [h for h in have if h[0] not in want_seqs]
        for h in extras:
            if h[1] not in may_exist:
                fail("shard %s holds a record nobody put or acknowledged: %r" % (sid, h))
        have_acked = [h for h in have if h[0] in want_seqs]
        if have_acked != want:
            missing = [w for w in want if w not in have_acked]
            fail(
                "shard %s after restart: %d acknowledged records, %d read back in order; first missing or "
                "differing: %r" % (sid, len(want), len(have_acked), (missing or want)[:2])
            )
        seqs = [int(h[0]) for h in have]
        if seqs != sorted(set(seqs)):
            fail("shard %s: sequence numbers not strictly increasing after restart" % sid)
        last_seq[sid] = seqs[-1] if seqs else 0

        its = state["iterators"].get(sid)
        if its:
            # An iterator handed out before the kill still reads from where it pointed.
            recs, _ = read_from(its["trim_horizon"], sid)
            if [r["SequenceNumber"] for r in recs] != [h[0] for h in have]:
                fail("shard %s: pre-kill TRIM_HORIZON iterator reads something else after restart" % sid)
            recs, _ = read_from(its["after_5"], sid)
            if [r["SequenceNumber"] for r in recs] != [h[0] for h in have][5:]:
                fail("shard %s: pre-kill NextShardIterator (after 5 records) reads something else after restart" % sid)
            if [h[0] for h in have][:5] != its["first_5"]:
                fail("shard %s: first 5 records changed across the restart" % sid)

    # New records continue each shard's sequence.
    new = []
    entries = [{"PartitionKey": "after-restart-%d" % i, "Data": b"after %d" % i} for i in range(100)]
    r = kinesis.put_records(StreamName=STREAM, Records=entries)
    if r["FailedRecordCount"]:
        fail("PutRecords after restart: FailedRecordCount %d" % r["FailedRecordCount"])
    for res in r["Records"]:
        new.append((res["ShardId"], int(res["SequenceNumber"])))
    res = kinesis.put_record(StreamName=STREAM, PartitionKey="after-restart-single", Data=b"single")
    new.append((res["ShardId"], int(res["SequenceNumber"])))
    for sid, seq in new:
        if seq <= last_seq.get(sid, 0):
            fail("shard %s: sequence number %d after restart is not above %d from before" % (sid, seq, last_seq[sid]))
    for s in ss:
        got = [int(x["SequenceNumber"]) for x in read_shard(s["ShardId"])]
        if got != sorted(set(got)):
            fail("shard %s: sequence numbers not increasing once new records follow the old" % s["ShardId"])
    print("verify: %d acknowledged records back in order; new sequence numbers continue" % len(acked))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"put": cmd_put, "writer": cmd_writer, "slowput": cmd_slowput, "verify": cmd_verify}[cmd](*args)


if __name__ == "__main__":
    main()

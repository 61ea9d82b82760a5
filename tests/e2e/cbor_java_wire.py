"""Kinesis over CBOR 1.1 the way the AWS Java SDK speaks it (run by test_cbor_java_wire.sh).

Content-Type application/x-amz-cbor-1.1, Data as a CBOR byte string, timestamps as tag 1 around
epoch milliseconds (an integer). Requests are SigV4-signed with botocore's signer. The CBOR codec
below is deliberately tiny and strict so that the test sees exactly the major types the server
sends (cbor2 is not a dependency)."""

import http.client
import os
import struct
import sys
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CBOR = "application/x-amz-cbor-1.1"


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __eq__(self, other):
        return isinstance(other, Tag) and (self.tag, self.value) == (other.tag, other.value)

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


# ---- encoder ----------------------------------------------------------------------------------

def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError("integer too large for CBOR")


def encode(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, Tag):
        return _head(6, v.tag) + encode(v.value)
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, (bytes, bytearray)):
        return _head(2, len(v)) + bytes(v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(encode(k) + encode(x) for k, x in v.items())
    raise TypeError("cannot CBOR-encode %r" % type(v))


# ---- decoder ----------------------------------------------------------------------------------

class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated CBOR at offset %d" % self.pos)
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b


_BREAK = object()


def _arg(r, ai):
    if ai < 24:
        return ai
    if ai == 24:
        return r.take(1)[0]
    if ai == 25:
        return struct.unpack(">H", r.take(2))[0]
    if ai == 26:
        return struct.unpack(">I", r.take(4))[0]
    if ai == 27:
        return struct.unpack(">Q", r.take(8))[0]
    if ai == 31:
        return None  # indefinite length
    raise ValueError("reserved additional info %d" % ai)


def _item(r):
    ib = r.take(1)[0]
    major, ai = ib >> 5, ib & 31
    if major == 7:
        if ai == 20:
            return False
        if ai == 21:
            return True
        if ai in (22, 23):
            return None
        if ai == 25:
            h = struct.unpack(">H", r.take(2))[0]
            return struct.unpack(">e", struct.pack(">H", h))[0]
        if ai == 26:
            return struct.unpack(">f", r.take(4))[0]
        if ai == 27:
            return struct.unpack(">d", r.take(8))[0]
        if ai == 31:
            return _BREAK
        raise ValueError("unsupported simple value %d" % ai)
    n = _arg(r, ai)
    if major == 0:
        return n
    if major == 1:
        return -1 - n
    if major in (2, 3):
        if n is None:
            chunks = []
            while True:
                c = _item(r)
                if c is _BREAK:
                    break
                chunks.append(c)
            return (b"" if major == 2 else "").join(chunks)
        b = bytes(r.take(n))
        return b if major == 2 else b.decode("utf-8")
    if major == 4:
        out = []
        while n is None or len(out) < n:
            x = _item(r)
            if x is _BREAK:
                break
            out.append(x)
        return out
    if major == 5:
        out = {}
        while n is None or len(out) < n:
            k = _item(r)
            if k is _BREAK:
                break
            out[k] = _item(r)
        return out
    if major == 6:
        return Tag(n, _item(r))
    raise ValueError("bad major type")


def decode(data):
    r = _Reader(data)
    v = _item(r)
    if r.pos != len(data):
        raise ValueError("%d trailing bytes after the CBOR item" % (len(data) - r.pos))
    return v


# ---- client -----------------------------------------------------------------------------------

URL = urllib.parse.urlparse(os.environ["EDDY_URL"])
CREDS = Credentials("test", "test")


def call(op, body):
    """One Kinesis call in CBOR; returns (status, content type, decoded body, raw body)."""
    payload = encode(body)
    req = AWSRequest(
        method="POST",
        url="http://%s/" % URL.netloc,
        data=payload,
        headers={"Content-Type": CBOR, "X-Amz-Target": "Kinesis_20131202." + op, "Accept": CBOR},
    )
    SigV4Auth(CREDS, "kinesis", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    try:
        conn.request("POST", "/", body=payload, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type") or ""
        if not resp.getheader("x-amzn-RequestId"):
            raise AssertionError("%s: no x-amzn-RequestId header" % op)
    finally:
        conn.close()
    decoded = decode(raw) if raw else None
    return resp.status, ctype, decoded, raw


def ok(op, body):
    status, ctype, out, raw = call(op, body)
    if status != 200:
        raise AssertionError("%s answered %d: %r" % (op, status, out if out is not None else raw))
    if raw and ctype != CBOR:
        raise AssertionError("%s answered Content-Type %r to a CBOR request" % (op, ctype))
    return out if out is not None else {}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    # The codec itself, on RFC 8949 appendix A examples.
    for value, hexed in [(0, "00"), (23, "17"), (24, "1818"), (1000, "1903e8"), (1000000, "1a000f4240"),
                         (-1000, "3903e7"), (b"\x01\x02\x03\x04", "4401020304"), ("IETF", "6449455446"),
                         ([1, [2, 3]], "8201820203"), (Tag(1, 1363896240), "c11a514b67b0")]:
        check(encode(value).hex() == hexed, "encode(%r) = %s, not %s" % (value, encode(value).hex(), hexed))
        check(decode(bytes.fromhex(hexed)) == value, "decode(%s) = %r" % (hexed, decode(bytes.fromhex(hexed))))
    check(decode(bytes.fromhex("5f42010243030405ff")) == b"\x01\x02\x03\x04\x05", "indefinite byte string")

    stream = "cbor-java"
    ok("CreateStream", {"StreamName": stream, "ShardCount": 4})
    for _ in range(100):
        d = ok("DescribeStreamSummary", {"StreamName": stream})["StreamDescriptionSummary"]
        if d["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    check(d["StreamStatus"] == "ACTIVE", "stream never became ACTIVE")
    ts = d["StreamCreationTimestamp"]
    check(isinstance(ts, Tag) and ts.tag == 1, "StreamCreationTimestamp is %r, not tag 1" % (ts,))

    before_ms = int(time.time() * 1000) - 2000
    data = bytes(range(256)) + b"java-cbor"
    put = ok("PutRecord", {"StreamName": stream, "PartitionKey": "java-key", "Data": data})
    check(isinstance(put.get("ShardId"), str) and put["ShardId"].startswith("shardId-"), "PutRecord: %r" % put)
    check(isinstance(put.get("SequenceNumber"), str) and len(put["SequenceNumber"]) == 56, "PutRecord: %r" % put)
    second = ok("PutRecord", {"StreamName": stream, "PartitionKey": "java-key", "Data": b"second"})
    check(second["ShardId"] == put["ShardId"], "same key, different shard: %r %r" % (put, second))

    # PutRecords with byte-string Data in CBOR too.
    pr = ok("PutRecords", {"StreamName": stream, "Records": [
        {"PartitionKey": "java-key", "Data": b"batch-%d" % i} for i in range(3)]})
    check(pr["FailedRecordCount"] == 0 and len(pr["Records"]) == 3, "PutRecords: %r" % pr)
    check(all(r["ShardId"] == put["ShardId"] for r in pr["Records"]), "PutRecords shards: %r" % pr)

    it = ok("GetShardIterator", {"StreamName": stream, "ShardId": put["ShardId"],
                                 "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": Tag(1, before_ms)})["ShardIterator"]
    check(isinstance(it, str) and it, "ShardIterator %r" % it)
    status, ctype, got, raw = call("GetRecords", {"ShardIterator": it, "Limit": 10})
    check(status == 200, "GetRecords %d: %r" % (status, got))
    check(ctype == CBOR, "GetRecords Content-Type %r" % ctype)
    recs = got["Records"]
    check(len(recs) == 5, "AT_TIMESTAMP before the puts returned %d records, not 5" % len(recs))
    r0 = recs[0]
    check(isinstance(r0["Data"], bytes), "Data is %s, not a CBOR byte string" % type(r0["Data"]).__name__)
    check(r0["Data"] == data, "Data not returned byte for byte")
    check(r0["SequenceNumber"] == put["SequenceNumber"] and r0["PartitionKey"] == "java-key", "record %r" % r0)
    # The raw bytes hold a definite-length byte string header for 265 bytes: 0x59 0x01 0x09.
    check(b"\x59\x01\x09" + data in raw, "Data is not encoded as a CBOR byte string on the wire")
    arrival = r0["ApproximateArrivalTimestamp"]
    check(isinstance(arrival, Tag) and arrival.tag == 1, "ApproximateArrivalTimestamp is %r, not tag 1" % (arrival,))
    check(isinstance(arrival.value, int), "ApproximateArrivalTimestamp tag 1 holds %r, not integer ms" % (arrival.value,))
    now_ms = int(time.time() * 1000)
    check(before_ms <= arrival.value <= now_ms + 2000,
          "ApproximateArrivalTimestamp %d is not epoch ms between %d and %d" % (arrival.value, before_ms, now_ms))
    check(isinstance(got["MillisBehindLatest"], int), "MillisBehindLatest %r" % got.get("MillisBehindLatest"))
    check(isinstance(got["NextShardIterator"], str), "NextShardIterator %r" % got.get("NextShardIterator"))
    check([r["Data"] for r in recs[1:]] == [b"second", b"batch-0", b"batch-1", b"batch-2"], "later records %r" % recs[1:])

    # AT_TIMESTAMP is millisecond-exact: one ms after the last record's arrival returns nothing
    # newer than it, and its own arrival time returns it.
    last = recs[-1]["ApproximateArrivalTimestamp"].value
    it = ok("GetShardIterator", {"StreamName": stream, "ShardId": put["ShardId"],
                                 "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": Tag(1, last)})["ShardIterator"]
    got = ok("GetRecords", {"ShardIterator": it})
    check(got["Records"] and got["Records"][-1]["SequenceNumber"] == recs[-1]["SequenceNumber"],
          "AT_TIMESTAMP at the last arrival ms misses that record: %r" % got["Records"])
    check(all(r["ApproximateArrivalTimestamp"].value >= last for r in got["Records"]),
          "AT_TIMESTAMP %d returned earlier records" % last)
    it = ok("GetShardIterator", {"StreamName": stream, "ShardId": put["ShardId"],
                                 "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": Tag(1, last + 1)})["ShardIterator"]
    got = ok("GetRecords", {"ShardIterator": it})
    check(got["Records"] == [], "AT_TIMESTAMP one ms after the last arrival returned %r" % got["Records"])

    # Errors come back in CBOR as well, with the AWS __type.
    status, ctype, err, raw = call("GetRecords", {"ShardIterator": "not-a-real-iterator"})
    check(status == 400, "garbage iterator gave HTTP %d" % status)
    check(ctype == CBOR, "error Content-Type %r for a CBOR request" % ctype)
    check(isinstance(err, dict) and str(err.get("__type", "")).endswith("InvalidArgumentException"), "error body %r" % err)
    status, ctype, err, raw = call("PutRecord", {"StreamName": "cbor-missing", "PartitionKey": "k", "Data": b"x"})
    check(status == 400 and str(err.get("__type", "")).endswith("ResourceNotFoundException"), "missing stream: %d %r" % (status, err))

    print("PASS: cbor java wire")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ValueError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)

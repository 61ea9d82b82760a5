#!/usr/bin/env python3
"""eddy as the store grows (./dev bench scale, or bench/run.py --suites scale; long at the defaults).

  bench/scale.py [--build DIR] [--records 10000000] [--big-records 0] [--objects 100000]
                 [--seconds 10] [--tmp DIR] [--only startup,objects,records] [--no-trim]

A quick version: --records 200000 --objects 5000 --seconds 3 (about two minutes).

  startup   start-up to the first answer on an empty store (median of 5 restarts)
  objects   start-up to the first answer with --objects 4 KiB objects stored (HeadObject of the last)
  records   one data set of --records records in a 1-shard stream, on a server with --clock manual,
            shared by every Kinesis measurement so that it is built once:
              PutRecords records/s (500 x 100 B, 8 connections, --seconds) on the empty store, then
              again with the data set stored (and with --big-records more in a 4-shard stream first,
              if given); disk bytes per stored record after a clean stop; start-up to the first
              answer with the data set stored (median of 5 restarts); GetRecords from TRIM_HORIZON
              to the tip of the shard; retention trimming of the whole data set
              (POST /_eddy/clock +25 h) while PutRecord writers run open loop on another stream:
              their p99 during the trim against their p99 before it
Data sets are built with PutRecords of 500 records (eddy_load --records); how long each took is
printed with the results. eddy_load refuses to report a run that had failures (exit 3).
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import free_port, log  # noqa: E402



KINESIS_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Date": "20260101T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64,
}
S3_HEADERS = {
    "X-Amz-Date": "20260101T000000Z",
    "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                     "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
}


def request(port, method, path, body=None, headers=None, timeout=600):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def kinesis(port, op, body):
    h = dict(KINESIS_HEADERS, **{"X-Amz-Target": "Kinesis_20131202." + op})
    return request(port, "POST", "/", json.dumps(body), h)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


class Eddy:
    def __init__(self, build, data, *extra):
        self.port = free_port()
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([os.path.join(build, "eddy"), "serve", "--port", str(self.port), "--data-dir", data,
                                   "--log-level", "warn", *extra], stdout=subprocess.DEVNULL)

    def cpu_seconds(self):
        """CPU time the server's threads have run so far (/proc/PID/task/*/schedstat, ns on CPU):
        unlike the wall time, the machine's other load does not move it."""
        total = 0
        for t in os.listdir(f"/proc/{self.p.pid}/task"):
            try:
                with open(f"/proc/{self.p.pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total / 1e9

    def first_answer(self, probe):
        """Seconds from the exec to the first successful answer of probe(port); self.cpu is the
        server's CPU time up to then."""
        while True:
            try:
                if probe(self.port):
                    took = time.monotonic() - self.t0
                    self.cpu = self.cpu_seconds()
                    return took
            except (ConnectionError, OSError, http.client.HTTPException):
                pass
            if self.p.poll() is not None:
                raise RuntimeError("eddy exited during start-up")
            time.sleep(0.001)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class Scale:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.load = os.path.join(self.build, "bench", "eddy_load")
        self.tmp = tempfile.mkdtemp(prefix="eddy-scale-", dir=a.tmp)
        self.rows = []  # (measurement, figure, note)

    def loadgen(self, port, *args):
        t0 = time.monotonic()
        p = subprocess.run([self.load, "--port", str(port), *map(str, args)], capture_output=True, text=True)
        took = time.monotonic() - t0
        try:
            j = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            j = {"errors": 1, "error_samples": [p.stderr.strip()[:300]]}
        if p.returncode != 0 or j.get("errors") or j.get("failed_entries"):
            raise RuntimeError(f"eddy_load {' '.join(map(str, args))} FAILED: errors {j.get('errors')}, "
                               f"failed entries {j.get('failed_entries')}: {j.get('error_samples')}")
        j["wall_seconds"] = took
        return j

    def fill(self, port, stream, records, shards=4):
        log(f"  putting {records:,} records into {stream} ({shards} shards)")
        j = self.loadgen(port, "--mode", "putrecords", "--stream", stream, "--shards", shards, "--records", records,
                         "--batch", 500, "--size", 100, "--inflight", 8)
        log(f"  ... {j['wall_seconds']:.0f} s ({j['items_per_s']:,.0f} records/s)")
        return j

    def add(self, what, figure, note=""):
        self.rows.append((what, figure, note))
        log(f"{what}: {figure} {note}")

    def started(self, data, *extra):
        """A fresh eddy on data, once it answers."""
        e = Eddy(self.build, data, *extra)
        e.first_answer(lambda port: request(port, "GET", "/_eddy/health", timeout=5)[0] == 200)
        return e

    def data(self, name):
        d = os.path.join(self.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    # ---- start-up ---------------------------------------------------------------------
    def restarts(self, data, probe, *extra, n=5):
        """Median, min and max wall ms to the first answer over n restarts, and the median CPU ms."""
        times, cpu = [], []
        for _ in range(n):
            e = Eddy(self.build, data, *extra)
            try:
                times.append(e.first_answer(probe))
                cpu.append(e.cpu)
            finally:
                e.stop()
        return statistics.median(times) * 1000, min(times) * 1000, max(times) * 1000, statistics.median(cpu) * 1000

    def startup(self):
        health = lambda port: request(port, "GET", "/_eddy/health", timeout=5)[0] == 200
        d = self.data("empty")
        med, lo, hi, cpu = self.restarts(d, health)
        self.add("start-up to first answer, empty store", f"{med:.0f} ms", f"(min {lo:.0f}, max {hi:.0f}; server CPU {cpu:.0f} ms; GET /_eddy/health)")
        shutil.rmtree(d, ignore_errors=True)

    def objects(self):
        a = self.a
        d = self.data("objects")
        e = self.started(d)
        try:
            log(f"  putting {a.objects:,} objects of 4 KiB")
            j = self.loadgen(e.port, "--mode", "s3-list", "--keys", a.objects, "--size", 4096, "--bucket", "scale",
                             "--seconds", 1, "--inflight", 8)
        finally:
            e.stop()
        self.add(f"build {a.objects:,} objects of 4 KiB", f"{j['setup_seconds']:.0f} s",
                 f"({a.objects / j['setup_seconds']:,.0f} PUTs/s)")
        key = f"/scale/list/{a.objects - 1:08d}"
        headed = lambda port: request(port, "HEAD", key, headers=S3_HEADERS, timeout=5)[0] == 200
        med, lo, hi, cpu = self.restarts(d, headed)
        self.add(f"start-up to first answer, {a.objects:,} objects", f"{med:.0f} ms",
                 f"(min {lo:.0f}, max {hi:.0f}; server CPU {cpu:.0f} ms; HeadObject)")
        shutil.rmtree(d, ignore_errors=True)

    # ---- one data set of --records records, every Kinesis measurement ----------------------
    def records(self):
        a = self.a
        d = self.data("records")
        e = self.started(d, "--clock", "manual")
        try:
            empty, cpu_empty = self.putrate(e, "measure-empty")
            self.add("PutRecords, empty store", f"{empty['items_per_s']:,.0f} records/s",
                     f"({a.seconds:g} s, 500 x 100 B, 8 connections; server CPU {cpu_empty:.2f} µs a record)")
            j = self.fill(e.port, "deep", a.records, shards=1)
            self.add(f"build {a.records:,} records (1 shard)", f"{j['wall_seconds']:.0f} s",
                     f"({j['items_per_s']:,.0f} records/s)")
            stored = a.records
            if a.big_records:
                j = self.fill(e.port, "bulk", a.big_records)
                self.add(f"build {a.big_records:,} more records (4 shards)", f"{j['wall_seconds']:.0f} s",
                         f"({j['items_per_s']:,.0f} records/s)")
                stored += a.big_records
            settled = self.settle(e)
            full, cpu_full = self.putrate(e, "measure-full")
            self.add(f"PutRecords, {stored:,} stored", f"{full['items_per_s']:,.0f} records/s",
                     f"({full['items_per_s'] / empty['items_per_s'] * 100:.0f} % of the empty store's; server CPU "
                     f"{cpu_full:.2f} µs a record, {cpu_full / cpu_empty:.2f}x the empty store's; after {settled:.0f} s "
                     f"for RocksDB's compactions to settle)")
        finally:
            e.stop()
        # The two measuring streams were deleted by eddy_load; what is left is the data set.
        size = dir_bytes(d)
        self.add(f"disk bytes per record, {stored:,} stored", f"{size / stored:.1f} B",
                 f"({size / 1e9:.2f} GB after a clean stop; 100 B of data each)")
        described = lambda port: kinesis(port, "DescribeStreamSummary", {"StreamName": "deep"})[0] == 200
        med, lo, hi, cpu = self.restarts(d, described, "--clock", "manual")
        self.add(f"start-up to first answer, {stored:,} records", f"{med:.0f} ms",
                 f"(min {lo:.0f}, max {hi:.0f}; server CPU {cpu:.0f} ms; DescribeStreamSummary)")
        e = self.started(d, "--clock", "manual")
        try:
            j = self.loadgen(e.port, "--mode", "getrecords", "--stream", "deep", "--shards", 1, "--prefill", 0,
                             "--inflight", 1, "--seconds", 0, "--once", "--keep")
            self.add(f"GetRecords TRIM_HORIZON to tip, one shard of {a.records:,}",
                     f"{j['items_per_s']:,.0f} records/s",
                     f"({j['seconds']:.1f} s, {j['requests']} calls of Limit 10,000, {j['mb_per_s']:.0f} MB/s of JSON)")
            if not a.no_trim:
                self.trim(e, stored)
        finally:
            e.stop()
        shutil.rmtree(d, ignore_errors=True)

    def settle(self, e, limit=300):
        """Waits (up to limit s) until the server is idle - under 5 % of a core over 2 s - so that
        the compactions the data set's build left do not count as the full store's cost."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            c0 = e.cpu_seconds()
            time.sleep(2)
            if e.cpu_seconds() - c0 < 0.1:
                break
        return time.monotonic() - t0

    def putrate(self, e, stream):
        """PutRecords for --seconds; also the server's CPU µs per record stored (its threads'
        CPU time over the run, RocksDB's flushes and compactions included), which the machine's
        other load moves far less than the rate."""
        c0 = e.cpu_seconds()
        j = self.loadgen(e.port, "--mode", "putrecords", "--seconds", self.a.seconds, "--stream", stream)
        return j, (e.cpu_seconds() - c0) * 1e6 / max(1.0, j["items_per_s"] * j["seconds"])

    # ---- retention trimming under load ------------------------------------------------
    def trim(self, e, stored):
        a = self.a
        timeline = os.path.join(self.tmp, "timeline.txt")
        peak = self.loadgen(e.port, "--mode", "putrecord", "--seconds", 3, "--stream", "live", "--keep")
        rate = 0.5 * peak["requests_per_s"]
        secs = max(a.seconds, 6)
        writers = subprocess.Popen([self.load, "--port", str(e.port), "--mode", "putrecord", "--stream", "live",
                                    "--keep", "--seconds", str(secs), "--rate", f"{rate:.0f}", "--timeline", timeline],
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(secs / 2)
        t0, w0, c0 = time.monotonic(), time.time() * 1000, e.cpu_seconds()
        st, body = request(e.port, "POST", "/_eddy/clock", json.dumps({"advance_s": 25 * 3600}))
        took = time.monotonic() - t0
        cpu = (e.cpu_seconds() - c0) * 1000  # the trim's and the writers' meanwhile
        out, _ = writers.communicate()
        j = json.loads(out.strip().splitlines()[-1])
        if st != 200 or j.get("errors") or writers.returncode != 0:
            raise RuntimeError(f"trim run FAILED: clock {st} {body[:200]}, writers {j}")
        # The POST answers once the trim is done (it runs on the maintenance thread): compare
        # requests scheduled during it - and, when it is short, during the second after its
        # start, so that what the trim sets off (RocksDB's work on the deleted range) and a
        # p99 of too few requests do not go unseen - with those before.
        rows = [tuple(map(float, l.split())) for l in open(timeline)]
        t_trim = w0 - j["start_unix_ms"]  # the POST's start on the timeline (ms)
        window = max(took, 1.0)
        before = sorted(l for t, l in rows if t < t_trim - 100)
        during = sorted(l for t, l in rows if t_trim <= t <= t_trim + window * 1000)
        p99 = lambda xs: xs[min(len(xs) - 1, int(0.99 * len(xs)))] if xs else float("nan")
        _, body2 = kinesis(e.port, "GetShardIterator", {"StreamName": "deep", "ShardId": "shardId-000000000000",
                                                        "ShardIteratorType": "TRIM_HORIZON"})
        it = json.loads(body2)["ShardIterator"]
        _, body3 = kinesis(e.port, "GetRecords", {"ShardIterator": it, "Limit": 10})
        left = len(json.loads(body3).get("Records", []))
        self.add(f"retention trim of {stored:,} records", f"{took * 1000:.0f} ms",
                 f"(POST /_eddy/clock +25 h; server CPU meanwhile {cpu:.0f} ms, the writers' included; "
                 f"{left} records of the data set readable after it)")
        self.add("PutRecord writers' p99 during the trim", f"{p99(during):,.0f} µs",
                 f"(before it {p99(before):,.0f} µs: {p99(during) / p99(before):.1f}x; {len(during)} requests during, "
                 f"{len(before)} before, in the {window * 1000:.0f} ms from the trim's start; open loop at {rate:,.0f}/s)")

    def report(self):
        print("## eddy as the store grows\n")
        print("| measurement | figure | notes |")
        print("|---|---|---|")
        for what, fig, note in self.rows:
            print(f"| {what} | {fig} | {note} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--records", type=int, default=10_000_000)
    p.add_argument("--big-records", type=int, default=0, help="more records in another stream before the second PutRecords rate")
    p.add_argument("--objects", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--only", default="startup,objects,records")
    p.add_argument("--no-trim", action="store_true", help="records: leave out the retention trim")
    p.add_argument("--tmp", default=None, help="where the data sets go (default: $TMPDIR)")
    a = p.parse_args()
    s = Scale(a)
    try:
        for step in a.only.split(","):
            log(step)
            getattr(s, step)()
    finally:
        s.report()
        shutil.rmtree(s.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Soak: eddy under mixed Kinesis and S3 load for MINUTES, its RSS and open file descriptors
sampled every second (docs/reliability.md, "Soak").

    bench/soak.py --eddy build/eddy --load build/bench/eddy_load --minutes 10 [--check]

eddy runs on an on-disk data dir (a fresh temporary one, the default fsync mode). Four load
loops run side by side, each a series of short eddy_load runs (so connections, streams and
buckets come and go): PutRecords, GetRecords, S3 PUT and S3 GET, each at a modest fixed rate
(open loop) so the soak measures growth, not peak throughput. A sampler reads /proc/PID/status
(VmRSS) and counts /proc/PID/fd every second, and every --memory-every seconds asks eddy where
its memory goes (GET /_eddy/memory: RocksDB's table readers, memtables and block cache, and the
allocator's bytes in use and kept free).

--data grow (the default): every run uses a new stream or bucket name and S3 PUTs write new
keys, so the objects stored grow all the time (the streams are deleted at the end of each run).
--data flat: fixed names, and S3 PUTs overwrite the same 16 keys a connection, so what eddy
holds stays the same after the first runs: growth there is not data.

Prints a report and one JSON line: the RSS slope after warm-up (least squares, MiB per minute),
RSS at warm-up end, at the end and its peak, the fds before the load, their peak and after the
load has stopped (growth = after - before), and the load runs that failed. With --check it exits
1 when sockets or other non-file fds grew by more than --max-fd-growth, an fd points to a
deleted file, there are more data-dir fds than files, a load run failed, eddy died, or (with
--max-rss-slope) the slope is above that many MiB per minute or (with --max-rss) RSS went above
that many MiB, or (with --max-heap-growth) eddy's own heap (malloc's bytes in use less what
RocksDB accounts for) grew by more than that many MiB from warm-up to the end.
"""
import argparse
import json
import urllib.request
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, log, terminate, wait_port  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid, data_dir):
    """The process's fds by kind: sockets, files in the data dir (RocksDB keeps its tables
    open, so these follow the number of files), deleted files (a leak) and the rest."""
    kinds = {"sockets": 0, "data_files": 0, "deleted": 0, "other": 0}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            kinds["sockets"] += 1
        elif target.endswith(" (deleted)"):
            kinds["deleted"] += 1
        elif target.startswith(data_dir + "/"):
            kinds["data_files"] += 1
        else:
            kinds["other"] += 1
    return kinds


def memory(port):
    """GET /_eddy/memory: RSS, RocksDB's memory and the allocator's, in bytes (None on failure)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_eddy/memory", timeout=5) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


# The memory figures followed (name, path into /_eddy/memory's answer).
MEMORY_PARTS = [("rss", ("rss",)), ("table_readers", ("rocksdb", "table_readers")),
                ("memtables", ("rocksdb", "memtables")), ("block_cache", ("rocksdb", "block_cache")),
                ("malloc_in_use", ("malloc", "in_use")), ("malloc_free_kept", ("malloc", "heap_free")),
                ("table_files", ("rocksdb", "table_files")), ("blob_files", ("rocksdb", "blob_files"))]


def memory_row(m):
    row = {}
    for name, path in MEMORY_PARTS:
        v = m
        for k in path:
            v = v[k]
        row[name] = v / (1 << 20) if not name.endswith("_files") else v
    row["stored_mib"] = (m["rocksdb"]["table_bytes"] + m["rocksdb"]["blob_bytes"]) / (1 << 20)
    # What the allocator holds beyond RocksDB's accounted parts (connections, eddy's own state).
    row["malloc_other"] = row["malloc_in_use"] - row["table_readers"] - row["memtables"] - row["block_cache"]
    return row


def slope_per_min(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    if sxx == 0:
        return 0.0
    return sum((t - mx) * (v - my) for t, v in points) / sxx * 60.0


# (name, eddy_load arguments): modest open-loop rates, small enough for a shared CI machine.
WORKLOADS = [
    ("putrecords", ["--mode", "putrecords", "--rate", "40", "--inflight", "2", "--batch", "50", "--size", "200",
                    "--shards", "2"]),
    ("getrecords", ["--mode", "getrecords", "--rate", "40", "--inflight", "2", "--prefill", "2000", "--shards", "2"]),
    ("s3-put", ["--mode", "s3-put", "--rate", "20", "--inflight", "2", "--size", "65536"]),
    ("s3-get", ["--mode", "s3-get", "--rate", "40", "--inflight", "2", "--size", "16384", "--objects", "8"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eddy", required=True)
    ap.add_argument("--load", required=True, help="the eddy_load binary")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--segment", type=float, default=15, help="seconds per eddy_load run")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds left out of the slope (default: a fifth of the run, 10 to 120)")
    ap.add_argument("--data", choices=("grow", "flat"), default="grow",
                    help="grow: new names and keys every run; flat: the same names, S3 keys overwritten")
    ap.add_argument("--memory-every", type=float, default=5, help="seconds between GET /_eddy/memory")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-fd-growth", type=int, default=4)
    ap.add_argument("--max-rss-slope", type=float, default=None, help="MiB per minute")
    ap.add_argument("--max-rss", type=float, default=None, help="MiB at any sample")
    ap.add_argument("--max-heap-growth", type=float, default=None,
                    help="MiB eddy's own heap (malloc in use less RocksDB's memtables, table readers and "
                         "block cache) may grow from warm-up to the end")
    ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args()

    duration = a.minutes * 60
    warmup = a.warmup if a.warmup is not None else min(120.0, max(10.0, duration / 5))
    tmp = tempfile.mkdtemp(prefix="eddy-soak-")
    port = free_port()
    eddy_log = open(os.path.join(tmp, "eddy.log"), "w")
    data_dir = os.path.join(tmp, "data")
    eddy = subprocess.Popen([a.eddy, "serve", "--port", str(port), "--data-dir", data_dir,
                             "--log-level", "warn"], stdout=eddy_log, stderr=subprocess.STDOUT)
    failures = []
    samples = []  # (t, rss_kib, fds)
    memory_samples = []  # (t, memory_row)
    stop = threading.Event()
    try:
        if not wait_port(port):
            raise SystemExit("eddy did not start: " + open(os.path.join(tmp, "eddy.log")).read()[-2000:])
        time.sleep(0.5)
        kinds_before = fd_kinds(eddy.pid, data_dir)
        fds_before = fd_count(eddy.pid)
        rss_before = rss_kib(eddy.pid)
        log(f"eddy pid {eddy.pid} on port {port}: {rss_before / 1024:.1f} MiB RSS, {fds_before} fds; "
            f"soak for {a.minutes:g} min (warm-up {warmup:.0f} s)")
        t0 = time.monotonic()
        deadline = t0 + duration
        runs = {name: 0 for name, _ in WORKLOADS}

        def loop(name, args):
            i = 0
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left < 1:
                    break
                i += 1
                label = f"soak-{name}" if a.data == "flat" else f"soak-{name}-{i}"
                extra = ["--stream", label] if "records" in name else ["--bucket", label]
                if a.data == "flat" and name == "s3-put":
                    extra += ["--objects", "16"]
                cmd = [a.load, "--port", str(port), "--seconds", f"{min(a.segment, left):.1f}"] + args + extra
                r = subprocess.run(cmd, capture_output=True, text=True)
                runs[name] += 1
                if r.returncode != 0:
                    failures.append(f"{name} run {i}: exit {r.returncode}: {(r.stdout + r.stderr)[-400:]}")

        threads = [threading.Thread(target=loop, args=w, daemon=True) for w in WORKLOADS]
        for t in threads:
            t.start()
        next_at = t0
        memory_at = t0
        while time.monotonic() < deadline and eddy.poll() is None:
            now = time.monotonic() - t0
            samples.append((now, rss_kib(eddy.pid), fd_count(eddy.pid)))
            if time.monotonic() >= memory_at:
                memory_at += a.memory_every
                m = memory(port)
                if m is not None:
                    memory_samples.append((now, memory_row(m)))
            next_at += 1
            time.sleep(max(0.0, next_at - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(timeout=a.segment + 60)
        if eddy.poll() is not None:
            failures.append(f"eddy exited with {eddy.returncode}")
            raise SystemExit(1)
        # The load has stopped: give closed connections a moment, then count again.
        time.sleep(2)
        fds_after = fd_count(eddy.pid)
        kinds_after = fd_kinds(eddy.pid, data_dir)
        files_after = sum(len(f) for _, _, f in os.walk(data_dir))
        rss_after = rss_kib(eddy.pid)
    finally:
        stop.set()
        if eddy.poll() is None:
            terminate(eddy)
        eddy_log.close()
        if failures:
            for f in failures[:10]:
                log("FAILED: " + f)
            tail = open(os.path.join(tmp, "eddy.log")).read()[-1500:]
            if tail:
                log("eddy log (tail):\n" + tail)
        shutil.rmtree(tmp, ignore_errors=True)

    steady = [(t, kib / 1024) for t, kib, _ in samples if t >= warmup]
    slope = slope_per_min(steady)
    # Each memory part: at warm-up end, at the end, and its slope after warm-up (MiB a minute;
    # files a minute for the file counts).
    parts = {}
    steady_mem = [(t, row) for t, row in memory_samples if t >= warmup]
    if steady_mem:
        for name in steady_mem[0][1]:
            parts[name] = {"warm": round(steady_mem[0][1][name], 2), "end": round(steady_mem[-1][1][name], 2),
                           "slope_per_min": round(slope_per_min([(t, row[name]) for t, row in steady_mem]), 3)}
    result = {
        "minutes": round(duration / 60, 2),
        "samples": len(samples),
        "warmup_s": warmup,
        "rss_mib": {"before": round(rss_before / 1024, 1),
                    "warm": round(steady[0][1], 1) if steady else None,
                    "end": round(samples[-1][1] / 1024, 1) if samples else None,
                    "max": round(max(k for _, k, _ in samples) / 1024, 1) if samples else None,
                    "after_load": round(rss_after / 1024, 1)},
        "rss_slope_mib_per_min": round(slope, 3),
        "data": a.data,
        "memory": parts,
        "fds": {"before": fds_before, "max": max(f for _, _, f in samples) if samples else None,
                "after_load": fds_after, "growth": fds_after - fds_before,
                "kinds_before": kinds_before, "kinds_after": kinds_after, "data_dir_files": files_after},
        "load_runs": runs,
        "load_failures": len(failures),
    }
    print(f"soak: {result['minutes']} min, {len(samples)} samples, warm-up {warmup:.0f} s, data {a.data}")
    print(f"  RSS: {result['rss_mib']['before']} MiB before, {result['rss_mib']['warm']} after warm-up, "
          f"{result['rss_mib']['end']} at the end (peak {result['rss_mib']['max']}); "
          f"slope after warm-up {slope:+.3f} MiB/min")
    print(f"  fds: {fds_before} before the load, peak {result['fds']['max']}, {fds_after} after it "
          f"(growth {fds_after - fds_before:+d})")
    print(f"  fds by kind before {kinds_before}, after {kinds_after}; {files_after} files in the data dir")
    print(f"  load runs: {runs}, failed: {len(failures)}")
    if parts:
        print("  memory after warm-up (MiB; files): part: warm -> end, slope a minute")
        for name, p in parts.items():
            print(f"    {name:18} {p['warm']:10.2f} -> {p['end']:10.2f}  {p['slope_per_min']:+.3f}/min")
    print(json.dumps(result))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    if a.check:
        bad = []
        if failures:
            bad.append(f"{len(failures)} load runs failed")
        # Sockets and other descriptors return to where they were; data-dir descriptors follow
        # the files RocksDB keeps (never more than exist); none points to a deleted file.
        for kind in ("sockets", "other"):
            grew = kinds_after[kind] - kinds_before[kind]
            if grew > a.max_fd_growth:
                bad.append(f"{kind} fds grew by {grew} (> {a.max_fd_growth})")
        if kinds_after["deleted"]:
            bad.append(f"{kinds_after['deleted']} fds point to deleted files")
        if kinds_after["data_files"] > files_after:
            bad.append(f"{kinds_after['data_files']} data-dir fds for {files_after} files")
        if a.max_rss is not None and result["rss_mib"]["max"] and result["rss_mib"]["max"] > a.max_rss:
            bad.append(f"RSS peaked at {result['rss_mib']['max']} MiB (> {a.max_rss})")
        if a.max_heap_growth is not None and "malloc_other" in parts:
            grew = parts["malloc_other"]["end"] - parts["malloc_other"]["warm"]
            if grew > a.max_heap_growth:
                bad.append(f"eddy's own heap grew by {grew:.1f} MiB after warm-up (> {a.max_heap_growth})")
        if a.max_rss_slope is not None and slope > a.max_rss_slope:
            bad.append(f"RSS slope {slope:.2f} MiB/min (> {a.max_rss_slope})")
        if bad:
            print("soak FAILED: " + "; ".join(bad))
            return 1
        print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

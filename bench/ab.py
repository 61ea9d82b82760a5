#!/usr/bin/env python3
"""A/B of eddy builds on one eddy_load workload, alternating, on fresh processes.

  bench/ab.py --load build/bench/eddy_load [--rounds 6] [--seconds 2] [--mode putrecord]
              [--extra "--inflight 8 --size 100"] [--pre putrecords] NAME=EDDY NAME=EDDY ...

Each round starts every build in turn (the order reversed every other round), on a fresh data
directory: an optional --pre workload (as bench/run.py runs PutRecords before PutRecord in one
process), a 1 s warm-up that creates the stream, then the measured run. Per run: requests/s, the
server's CPU (utime + stime from /proc) per request over the measured run only, peak RSS, and
the load average; then each build's medians. On a shared machine compare the CPU per request
and the per-round ratios, not single throughputs (docs/performance.md).
"""
import json, shutil, signal, socket, statistics, subprocess, sys, time, argparse, os, tempfile
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--load", required=True)
ap.add_argument("--rounds", type=int, default=6)
ap.add_argument("--seconds", type=float, default=2)
ap.add_argument("--mode", default="putrecord")
ap.add_argument("--extra", default="--inflight 8 --size 100")
ap.add_argument("--eddy-arg", action="append", default=[])
ap.add_argument("--pre", default="", help="a workload run first in the same process, e.g. 'putrecords'")
ap.add_argument("bins", nargs="+", help="NAME=path/to/eddy")
a = ap.parse_args()
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def ticks(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split(); return int(f[11]) + int(f[12])
tmp = tempfile.mkdtemp(prefix="eddy-ab.")
res = {}
for r in range(a.rounds):
    order = a.bins if r % 2 == 0 else list(reversed(a.bins))
    for nb in order:
        name, path = nb.split("=", 1)
        port = free_port(); data = os.path.join(tmp, f"data-{name}")
        shutil.rmtree(data, ignore_errors=True)
        p = subprocess.Popen([path, "serve", "--port", str(port), "--data-dir", data, "--log-level", "warn"] + a.eddy_arg,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try: socket.create_connection(("127.0.0.1", port), 0.1).close(); break
            except OSError: time.sleep(0.05)
        base = [a.load, "--port", str(port), "--stream", "ab"]
        if a.pre:
            subprocess.run([a.load, "--port", str(port), "--stream", "pre", "--seconds", str(a.seconds), "--mode", a.pre, "--inflight", "8", "--batch", "500", "--size", "100"], capture_output=True)
        subprocess.run(base + ["--seconds", "1", "--mode", a.mode, "--keep"] + a.extra.split(), capture_output=True)
        t0 = ticks(p.pid)
        out = subprocess.run(base + ["--seconds", str(a.seconds), "--mode", a.mode, "--no-setup"] + a.extra.split(), capture_output=True, text=True)
        t1 = ticks(p.pid)
        j = json.loads(out.stdout.strip().splitlines()[-1])
        hwm = 0
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("VmHWM"): hwm = int(line.split()[1]) / 1024
        p.send_signal(signal.SIGTERM); p.wait()
        shutil.rmtree(data, ignore_errors=True)
        v = j.get("requests_per_s"); us = (t1 - t0) * 10000 / max(1, j.get("requests", 1))
        load = open("/proc/loadavg").read().split()[0]
        print(f"round {r} {name}: {v:,.0f} req/s, server {us:.1f} us CPU/req, rss {hwm:.1f} MiB, errors {j.get('errors')}, load {load}", flush=True)
        res.setdefault(name, {"v": [], "us": []}); res[name]["v"].append(v); res[name]["us"].append(us)
shutil.rmtree(tmp, ignore_errors=True)
for k, v in res.items():
    print(f"{k}: median {statistics.median(v['v']):,.0f} req/s, {statistics.median(v['us']):.1f} us CPU/req")

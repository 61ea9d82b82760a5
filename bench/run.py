#!/usr/bin/env python3
"""Side-by-side load: eddy, the peer emulators and the ceiling server, in one run, with the
same load generator (eddy_load, plus wrk for plain anonymous GETs). Prints Markdown tables.

  bench/run.py [--build DIR] [--seconds 5] [--rounds 3] [--suites kinesis,s3] [--full]
               [--servers eddy,kinesalite,...] [--workloads putrecord,...] [--eddy-arg=--flag ...]
               [--scale-records 10000000] [--scale-objects 100000] [--scale-tmp DIR]

--suites scale (opt-in, never in the default run) runs bench/scale.py after the other suites:
eddy alone as the store grows (start-up, PutRecords with the store full, one deep shard,
retention trimming under load, disk bytes per record); --scale-records 200000
--scale-objects 5000 is a quick version.

Every server runs on fresh processes, one suite (Kinesis or S3) at a time. The small-request
workloads run in ROUNDS alternating rounds (eddy first, then each peer, then the ceiling) and
the tables show each server's median; the large-object workloads run once per server. Latency
is measured open loop at half of eddy's peak in the same round (a server that cannot carry
that load is measured at half of its own peak, and the cell says so).

A run that had any failure (an HTTP error, a PutRecords entry refused, a wrk non-2xx or socket
error) is reported as FAILED with its counts, never as a figure. docs/performance.md describes
the workloads and the method.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import free_port, log, terminate, wait_port  # noqa: E402

MiB = 1 << 20


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Resets VmHWM (Linux: 5 > clear_refs), so the next reading is that workload's peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Workload:
    """One column: eddy_load arguments (or wrk), the figure it reports, where it runs."""

    def __init__(self, key, label, args, metric, latency=False, ceiling=False, skip=(), wrk=False, rss=False):
        self.key, self.label, self.args, self.metric = key, label, args, metric
        self.latency, self.ceiling, self.skip, self.wrk, self.rss = latency, ceiling, set(skip), wrk, rss

    def runs_on(self, server):
        if server == "ceiling":
            return self.ceiling
        return server not in self.skip


def kinesis_workloads():
    return [
        Workload("putrecords", "PutRecords records/s (500 x 100 B, 8 conns)",
                 ["--mode", "putrecords", "--inflight", "8", "--batch", "500", "--size", "100", "--stream", "bench-prs"],
                 "items_per_s", latency=True, ceiling=True),
        Workload("putrecord", "PutRecord requests/s (100 B, 8 conns)",
                 ["--mode", "putrecord", "--inflight", "8", "--size", "100", "--stream", "bench-pr"],
                 "requests_per_s", latency=True, ceiling=True),
        Workload("getrecords", "GetRecords records/s (4 shards, Limit 10,000)",
                 ["--mode", "getrecords", "--inflight", "4", "--threads", "2", "--shards", "4", "--prefill", "50000",
                  "--prefill-seconds", "60",
                  "--stream", "bench-gr"], "items_per_s"),
    ]


def s3_small_workloads():
    return [
        Workload("put4k", "PUT 4 KiB req/s", ["--mode", "s3-put", "--size", "4096", "--bucket", "bench-put"],
                 "requests_per_s", latency=True, ceiling=True),
        Workload("get4k", "GET 4 KiB req/s", ["--mode", "s3-get", "--size", "4096", "--bucket", "bench-get", "--objects",
                                              "100", "--public-read"], "requests_per_s", latency=True, ceiling=True),
        Workload("wrk4k", "wrk anonymous GET 4 KiB req/s", [], "requests_per_s", ceiling=True, wrk=True),
        Workload("head", "HeadObject req/s", ["--mode", "s3-head", "--size", "4096", "--bucket", "bench-head"],
                 "requests_per_s", latency=True, ceiling=True),
    ]


def s3_large_workloads(full, list_keys):
    w = []
    sizes = [(8 * MiB, "8 MiB")] + ([(1024 * MiB, "1 GiB")] if full else [])
    for size, name in sizes:
        for conns in (1, 8):
            # moto keeps objects in Python memory: eight 1 GiB streams would hold 8 GiB.
            skip = ("moto",) if size > 64 * MiB and conns > 1 else ()
            w.append(Workload(f"put{size // MiB}m-{conns}", f"PUT {name} x{conns} MB/s",
                              ["--mode", "s3-put", "--size", str(size), "--inflight", str(conns), "--bucket",
                               f"bench-put{size // MiB}m{conns}"], "mb_per_s", skip=skip, rss=True))
            w.append(Workload(f"get{size // MiB}m-{conns}", f"GET {name} x{conns} MB/s",
                              ["--mode", "s3-get", "--size", str(size), "--inflight", str(conns), "--objects", str(conns),
                               "--bucket", f"bench-get{size // MiB}m{conns}"], "mb_per_s", skip=skip, rss=True))
    # moto takes minutes over 1 GiB (and holds it all in memory): --full only.
    w.append(Workload("multipart", "multipart 1 GiB (8 MiB parts, 8 conns) MB/s",
                      ["--mode", "s3-multipart", "--size", str(1024 * MiB), "--part-size", str(8 * MiB), "--inflight", "8",
                       "--bucket", "bench-mpu"], "mb_per_s", rss=True, skip=() if full else ("moto",)))
    # s3rver reads every key's metadata files for each page: 2,000 keys take seconds a page.
    w.append(Workload("list", f"ListObjectsV2 pages/s ({list_keys:,} keys)",
                      ["--mode", "s3-list", "--keys", str(list_keys), "--size", "0", "--inflight", "2", "--bucket", "bench-list"],
                      "items_per_s", skip=("s3rver",)))
    return w


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.load = os.path.join(self.build, "bench", "eddy_load")
        self.tmp = tempfile.mkdtemp(prefix="eddy-bench-")
        self.peers = os.environ.get("EDDY_PEERS", os.path.join(HERE, "..", "..", "shared", "peers", "peers.sh"))
        self.results = {}  # (suite, server, workload) -> [run]
        self.rss = {}      # (suite, server) -> [MiB]
        self.rates = {}    # workload -> the open-loop rate of this round

    # ---- servers ------------------------------------------------------------------------
    def start(self, server):
        port = free_port()
        if server == "eddy":
            data = os.path.join(self.tmp, "eddy-data")
            shutil.rmtree(data, ignore_errors=True)
            cmd = [os.path.join(self.build, "eddy"), "serve", "--port", str(port), "--data-dir", data,
                   "--log-level", "warn"] + self.a.eddy_arg
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, "eddy.log"), "a"))
            proc = (p, None)
        elif server == "ceiling":
            p = subprocess.Popen([os.path.join(self.build, "bench", "eddy_ceiling"), "--port", str(port)],
                                 stdout=subprocess.DEVNULL)
            proc = (p, None)
        else:
            if not os.path.exists(self.peers):
                return None
            args = ["bash", self.peers, "start", server, str(port)]
            if server == "s3rver":
                data = os.path.join(self.tmp, "s3rver-data")
                shutil.rmtree(data, ignore_errors=True)
                args.append(data)
            out = subprocess.run(args, capture_output=True, text=True)
            if out.returncode != 0 or not out.stdout.strip():
                return None
            proc = (None, int(out.stdout.strip()))
        pid = proc[0].pid if proc[0] else proc[1]
        if not wait_port(port):
            self.stop(server, proc)
            return None
        return port, pid, proc

    def stop(self, server, proc):
        p, pid = proc
        if p:
            terminate(p)
        else:
            subprocess.run(["bash", self.peers, "stop", server], capture_output=True)
        # Data is removed now, so its dirty pages are not written back during the next run.
        for d in ("eddy-data", "s3rver-data"):
            shutil.rmtree(os.path.join(self.tmp, d), ignore_errors=True)

    # ---- one measurement ----------------------------------------------------------------
    def loadgen(self, server, port, w, rate=0):
        args = [self.load, "--port", str(port), "--seconds", str(self.a.seconds)] + w.args
        if server == "s3rver":
            args += ["--access-key", "S3RVER", "--secret-key", "S3RVER"]
        if server == "ceiling" and w.args[1] in ("putrecords", "putrecord"):
            args.append("--no-setup")
        if rate:
            args += ["--rate", f"{rate:.3f}"]
        try:
            # Set-up included (prefills are bounded by --prefill-seconds), a run never hangs the table.
            p = subprocess.run(args, capture_output=True, text=True, timeout=self.a.seconds * 4 + 600)
            j = json.loads(p.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            p, j = None, {"errors": 1, "error_samples": ["eddy_load timed out"]}
        except (ValueError, IndexError):
            j = {"errors": 1, "error_samples": [f"eddy_load exited {p.returncode}: {p.stderr.strip()[:200]}"]}
        if j.get("prefilled"):
            log(f"    ({j['prefilled']:,} records put first, in {j.get('setup_seconds', 0):.0f} s)")
        r = {"value": j.get(w.metric), "requests_per_s": j.get("requests_per_s"), "errors": j.get("errors", 0), "failed_entries": j.get("failed_entries", 0),
             "samples": j.get("error_samples", []), "latency": j.get("latency_us"), "rate": rate,
             "setup_seconds": j.get("setup_seconds", 0)}
        r["failed"] = bool(r["errors"] or r["failed_entries"]) or p is None or p.returncode != 0
        return r

    def wrk(self, port):
        url = f"http://127.0.0.1:{port}/bench-get/obj-4096/0"
        p = subprocess.run(["wrk", "-t1", "-c8", f"-d{max(1, round(self.a.seconds))}s", url], capture_output=True, text=True)
        out = p.stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
        r = {"value": float(m.group(1)) if m else None, "errors": errors if m else 1, "failed_entries": 0,
             "samples": [] if m and not errors else [out.strip()[-200:] or p.stderr.strip()[:200]], "latency": None,
             "rate": 0}
        r["failed"] = bool(r["errors"]) or p.returncode != 0
        return r

    def record(self, suite, server, w, r, kind="peak"):
        self.results.setdefault((suite, server, w.key, kind), []).append(r)
        shown = "FAILED" if r["failed"] else f"{r['value']:,.1f}" if r["value"] is not None else "-"
        extra = f" @ {r['rate']:,.0f}/s p99 {r['latency']['p99']:,.0f} µs" if kind == "latency" and r["latency"] else ""
        log(f"  {server} {w.key} {kind}: {shown}{extra}")
        if r["failed"]:
            log(f"    errors {r['errors']}, failed entries {r['failed_entries']}: {r['samples'][:1]}")

    def session(self, suite, server, workloads, latency=True):
        """One fresh process of server, the workloads in order, then its peak RSS."""
        todo = [w for w in workloads if w.runs_on(server) and (not self.a.workloads or w.key in self.a.workloads)]
        if not todo:
            return
        if any(w.wrk for w in todo) and not shutil.which("wrk"):
            todo = [w for w in todo if not w.wrk]
        started = self.start(server)
        if not started:
            log(f"{server}: not available (peers.sh install?), skipped")
            return
        port, pid, proc = started
        try:
            for w in todo:
                if w.rss:
                    reset_peak_rss(pid)
                r = self.wrk(port) if w.wrk else self.loadgen(server, port, w)
                if w.rss:
                    r["rss"] = peak_rss_mib(pid)
                self.record(suite, server, w, r)
                if latency and w.latency and not r["failed"] and r["requests_per_s"]:
                    peak = r["requests_per_s"]
                    if server == "eddy":
                        self.rates[w.key] = 0.5 * peak
                    rate = self.rates.get(w.key)
                    if rate:
                        own = peak < 1.1 * rate  # cannot carry eddy's half: half of its own peak
                        lr = self.loadgen(server, port, w, rate=0.5 * peak if own else rate)
                        lr["own"] = own
                        self.record(suite, server, w, lr, "latency")
            self.rss.setdefault((suite, server), []).append(peak_rss_mib(pid))
        finally:
            self.stop(server, proc)

    # ---- the whole run --------------------------------------------------------------------
    def run(self):
        a = self.a
        servers = lambda names: [s for s in names if not a.servers or s in a.servers]
        suites = {
            "kinesis": (kinesis_workloads(), [], servers(["eddy", "kinesalite", "ceiling"]),
                        servers(["kinesis-mock", "moto"])),
            "s3": (s3_small_workloads(), s3_large_workloads(a.full, 100000 if a.full else a.list_keys),
                   servers(["eddy", "s3rver", "ceiling"]), servers(["moto"])),
        }
        self.order = {}
        for suite in a.suites:
            rounds_w, once_w, alternating, once_servers = suites[suite]
            self.order[suite] = (rounds_w, once_w, alternating + once_servers)
            for i in range(a.rounds):
                log(f"{suite}: round {i + 1} of {a.rounds}")
                for s in alternating:
                    self.session(suite, s, rounds_w)
            for s in once_servers:
                log(f"{suite}: {s} (one round)")
                self.session(suite, s, rounds_w)
            if once_w:
                log(f"{suite}: large objects and listing, once per server")
                for s in alternating + once_servers:
                    self.session(suite, s, once_w, latency=False)

    # ---- tables ---------------------------------------------------------------------------
    @staticmethod
    def cell(runs):
        if not runs:
            return "-", None
        bad = [r for r in runs if r["failed"]]
        if bad:
            e = sum(r["errors"] for r in bad)
            f = sum(r["failed_entries"] for r in bad)
            return f"FAILED ({len(bad)} of {len(runs)} runs: {e} errors, {f} failed entries)", None
        v = statistics.median(r["value"] for r in runs)
        return (f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"), v

    def table(self, suite, workloads, servers, ratios, rss_col=True, large=False):
        head = ["server"] + [w.label for w in workloads] + (["peak RSS MiB"] if rss_col else [])
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        vals = {}
        for s in servers:
            cells = []
            n = 0
            for w in workloads:
                runs = self.results.get((suite, s, w.key, "peak"), [])
                n = max(n, len(runs))
                c, v = self.cell(runs)
                vals[(s, w.key)] = v
                if large and runs and runs[0].get("rss") is not None and v is not None:
                    c += f" ({max(r['rss'] for r in runs):.0f} MiB)"
                cells.append(c)
            if all(c == "-" for c in cells):
                continue
            if rss_col:
                rss = [x for x in self.rss.get((suite, s), []) if x is not None]
                cells.append(f"{max(rss):.1f}" if rss and not large else "-")
            label = s + (f" (median of {n})" if n > 1 else "")
            print(f"| {label} | " + " | ".join(cells) + " |")
        for other in ratios:
            row = []
            for w in workloads:
                a, b = vals.get(("eddy", w.key)), vals.get((other, w.key))
                if a and b:
                    row.append(f"**{a / b * 100:.0f} %**" if other == "ceiling" else f"**{a / b:.1f}x**")
                else:
                    row.append("-")
            if any(x != "-" for x in row):
                name = "eddy / ceiling" if other == "ceiling" else f"eddy / {other}"
                print(f"| **{name}** | " + " | ".join(row) + (" |" + " |" if rss_col else " |"))
        print()

    def latency_table(self, suite, workloads, servers):
        ws = [w for w in workloads if w.latency]
        if not ws:
            return
        head = ["server"] + [w.label.split(" req")[0].split(" records")[0] + " p50 / p99 / p99.9 µs (requests/s offered)" for w in ws]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for s in servers:
            cells = []
            for w in ws:
                runs = self.results.get((suite, s, w.key, "latency"), [])
                if not runs:
                    cells.append("-")
                    continue
                c, _ = self.cell(runs)
                if c.startswith("FAILED"):
                    cells.append(c)
                    continue
                med = lambda k: statistics.median(r["latency"][k] for r in runs)
                rate = statistics.median(r["rate"] for r in runs)
                own = " (half its own peak)" if any(r.get("own") for r in runs) else ""
                shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"
                cells.append(f"{med('p50'):,.0f} / {med('p99'):,.0f} / {med('p999'):,.0f} ({shown}{own})")
            if any(c != "-" for c in cells):
                print(f"| {s} | " + " | ".join(cells) + " |")
        print()

    def rounds_table(self, suite, workloads, servers):
        print("| round | server | " + " | ".join(w.key for w in workloads) + " |")
        print("|" + "---|" * (len(workloads) + 2))
        n = max((len(v) for k, v in self.results.items() if k[0] == suite and k[3] == "peak"), default=0)
        for i in range(n):
            for s in servers:
                cells = []
                for w in workloads:
                    runs = self.results.get((suite, s, w.key, "peak"), [])
                    if i >= len(runs):
                        cells.append("")
                    else:
                        r = runs[i]
                        cells.append("FAILED" if r["failed"] else f"{r['value']:,.0f}")
                if any(cells):
                    print(f"| {i + 1} | {s} | " + " | ".join(cells) + " |")
        print()

    def report(self):
        print("## eddy side by side\n")
        print(machine())
        print()
        for suite, (rounds_w, once_w, servers) in self.order.items():
            ran = {k[2] for k in self.results if k[0] == suite}
            rounds_w = [w for w in rounds_w if w.key in ran]
            once_w = [w for w in once_w if w.key in ran]
            if not rounds_w:
                pass
            elif suite == "kinesis":
                print("### Kinesis, peak throughput\n")
                self.table(suite, rounds_w, servers, ["kinesalite", "kinesis-mock", "moto", "ceiling"])
                print("### Kinesis, latency at a fixed offered load (open loop, half of eddy's peak)\n")
                self.latency_table(suite, rounds_w, servers)
                print("Rounds, in the order they ran:\n")
                self.rounds_table(suite, rounds_w, servers)
            elif suite == "s3":
                print("### S3, small objects, peak throughput\n")
                self.table(suite, rounds_w, servers, ["s3rver", "moto", "ceiling"])
                print("### S3, latency at a fixed offered load (open loop, half of eddy's peak)\n")
                self.latency_table(suite, rounds_w, servers)
                print("Rounds, in the order they ran:\n")
                self.rounds_table(suite, rounds_w, servers)
            if once_w:
                print("### S3, large objects and listing (one run each; the server's peak RSS during it)\n")
                self.table(suite, once_w, servers, ["s3rver", "moto"], rss_col=False, large=True)
        print(f"Load average at the end: {os.getloadavg()[0]:.1f} (a busy machine moves every figure).")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return (f"Machine: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Linux {os.uname().release}; eddy at `{commit}`; "
            f"load average at the start {START_LOAD:.1f}.")


START_LOAD = os.getloadavg()[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--seconds", type=float, default=5, help="per workload")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--suites", default="kinesis,s3")
    p.add_argument("--servers", default="", help="only these (comma-separated)")
    p.add_argument("--workloads", default="", help="only these workload keys (comma-separated)")
    p.add_argument("--full", action="store_true", help="add 1 GiB objects and list 100,000 keys (long)")
    p.add_argument("--list-keys", type=int, default=10000)
    p.add_argument("--eddy-arg", action="append", default=[], help="an extra `eddy serve` argument (repeatable)")
    p.add_argument("--scale-records", type=int, default=10_000_000, help="scale suite: records in the data set")
    p.add_argument("--scale-objects", type=int, default=100_000, help="scale suite: objects for start-up")
    p.add_argument("--scale-tmp", default=None, help="scale suite: where its data sets go (default $TMPDIR)")
    a = p.parse_args()
    a.suites = [s for s in a.suites.split(",") if s]
    scale = "scale" in a.suites
    a.suites = [s for s in a.suites if s != "scale"]
    a.servers = set(filter(None, a.servers.split(",")))
    a.workloads = set(filter(None, a.workloads.split(",")))
    if a.suites:
        b = Bench(a)
        try:
            b.run()
            b.report()
        finally:
            shutil.rmtree(b.tmp, ignore_errors=True)
    if scale:
        cmd = [sys.executable, os.path.join(HERE, "scale.py"), "--build", a.build, "--records", str(a.scale_records),
               "--objects", str(a.scale_objects), "--seconds", str(a.seconds)]
        if a.scale_tmp:
            cmd += ["--tmp", a.scale_tmp]
        sys.stdout.flush()
        if subprocess.call(cmd) != 0:
            sys.exit("scale suite FAILED")


if __name__ == "__main__":
    main()

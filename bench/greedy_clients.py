#!/usr/bin/env python3
"""Slow and greedy clients against a real eddy process (docs/reliability.md, "Slow and greedy
clients"): IDLE idle connections held open, SLOW slowloris heads, SLOW trickling bodies and SLOW
readers that never read, while a normal client times its requests (a fresh connection each). Then
one connection past --max-connections (refused with 503), and the idle timeout freeing the rest.
Prints the figures; timing, so it lives in bench/, not in the tests.

  python3 bench/greedy_clients.py --eddy build/eddy [--idle 10000] [--slow 50]
"""
import argparse
import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def health(port, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    try:
        c.request("GET", "/_eddy/health")
        r = c.getresponse()
        body = r.read()
        return r.status, (time.perf_counter() - t0) * 1000, body
    except OSError as e:
        return f"error {e.__class__.__name__}", (time.perf_counter() - t0) * 1000, b""
    finally:
        c.close()


def normal_client(port, n):
    lat, bad = [], []
    for _ in range(n):
        status, ms, _ = health(port)
        if status == 200:
            lat.append(ms)
        else:
            bad.append(status)
    return lat, bad


def fmt(lat):
    if not lat:
        return "no answers"
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
    return f"{len(lat)} answered, p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {max(lat):.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eddy", default="build/eddy")
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--idle-timeout", type=int, default=30)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    log = tempfile.NamedTemporaryFile(prefix="eddy-greedy-", suffix=".log", delete=False)
    proc = subprocess.Popen([args.eddy, "serve", "--in-memory", "--port", "0", "--auth", "off",
                             "--idle-timeout", str(args.idle_timeout), "--header-timeout", "2",
                             "--request-timeout", "2", "--body-min-rate", "1024",
                             "--max-connections", str(args.idle + 3 * args.slow + 1)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(200):
            m = re.search(r"listening on \S+:(\d+)", open(log.name).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if not port:
            sys.exit("eddy did not start: " + open(log.name).read())
        base_rss, base_fds = rss_mib(proc.pid), fds(proc.pid)
        lat, bad = normal_client(port, 200)
        print(f"baseline: {fmt(lat)}; eddy RSS {base_rss:.1f} MiB, {base_fds} fds")

        # Idle connections: connected, nothing sent.
        t0 = time.perf_counter()
        idle = []
        for _ in range(args.idle):
            s = socket.create_connection(("127.0.0.1", port))
            idle.append(s)
        opened = time.perf_counter() - t0
        # Slow ones: slowloris heads, trickling bodies, readers that never read (a 4 MiB body).
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("PUT", "/greedy")
        c.getresponse().read()
        c.request("PUT", "/greedy/big", body=b"b" * (4 << 20))
        c.getresponse().read()
        c.close()
        slow = []
        for i in range(args.slow):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /_eddy/health HTTP/1.1\r\nHost: x\r\n")
            slow.append(("loris", s))
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"PUT /greedy/t%d HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" % i)
            slow.append(("trickle", s))
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /greedy/big HTTP/1.1\r\nHost: x\r\n\r\n")
            slow.append(("reader", s))
        held_rss, held_fds = rss_mib(proc.pid), fds(proc.pid)
        print(f"{args.idle} idle connections opened in {opened:.1f} s and {3 * args.slow} slow ones; eddy RSS "
              f"{held_rss:.1f} MiB (+{(held_rss - base_rss) * 1024 / max(1, args.idle):.1f} KiB per connection), "
              f"{held_fds} fds")
        # The normal client meanwhile; the slow ones keep trickling a byte now and then.
        lat = []
        bad = []
        t_end = time.perf_counter() + 3
        while time.perf_counter() < t_end:
            for kind, s in slow:
                try:
                    if kind == "loris":
                        s.sendall(b"X-a: b\r\n")
                    elif kind == "trickle":
                        s.sendall(b"x")
                except OSError:
                    pass
            l2, b2 = normal_client(port, 20)
            lat += l2
            bad += b2
        print(f"normal client while they are held: {fmt(lat)}; failures {len(bad)}")
        status, _, body = health(port)
        print(f"/_eddy/health: {status} {body.decode().strip()}")

        # One past the cap: the normal client's own connection is now refused.
        extra = [socket.create_connection(("127.0.0.1", port)) for _ in range(3 * args.slow + 2)]
        status, ms, body = health(port)
        print(f"past --max-connections: {status} in {ms:.1f} ms ({body.decode().strip()[:70]})")
        for s in extra:
            s.close()

        # The deadlines and the idle timeout free them all.
        t0 = time.perf_counter()
        while True:
            n = fds(proc.pid)
            if n <= base_fds + 5 or time.perf_counter() - t0 > args.idle_timeout + 30:
                break
            time.sleep(0.2)
        print(f"freed: eddy back to {fds(proc.pid)} fds {time.perf_counter() - t0:.1f} s later "
              f"(--idle-timeout {args.idle_timeout}); RSS {rss_mib(proc.pid):.1f} MiB")
        lat, bad = normal_client(port, 200)
        print(f"after: {fmt(lat)}; failures {len(bad)}")
        for s in idle:
            s.close()
        for _, s in slow:
            s.close()
        lines = [l for l in open(log.name).read().splitlines() if "refused" in l or "descriptor" in l]
        for l in lines[:3]:
            print("log:", l)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.unlink(log.name)


if __name__ == "__main__":
    main()

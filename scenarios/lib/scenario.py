"""Shared plumbing of the scenarios in scenarios/NAME/run.

A scenario script does
    sc = Scenario("name", "one line")
    eddy = sc.start_eddy("--in-memory")
    ...
    sc.check("what must hold", condition, "the figures behind it")
    sc.finish(figures, report_markdown)
and gets: argument parsing (--short, --out DIR), processes started on ephemeral 127.0.0.1 ports
and stopped by PID (also on failure), summary.json / report.md / CSV / SVG in DIR, and an exit
status that is non-zero when a check failed.
"""
import argparse
import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

SCENARIOS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.dirname(SCENARIOS_DIR)


def shared_dir():
    """../shared beside the checkout, else the copy in fixtures/shared (as tests/e2e/lib.sh)."""
    if os.environ.get("EDDY_SHARED_DIR"):
        return os.environ["EDDY_SHARED_DIR"]
    beside = os.path.join(os.path.dirname(SOURCE_DIR), "shared")
    if os.path.isfile(os.path.join(beside, "fixtures", "kpl-agg-vectors.json")):
        return beside
    return os.path.join(SOURCE_DIR, "fixtures", "shared")


def eddy_bin():
    path = os.environ.get("EDDY_BIN") or os.path.join(SOURCE_DIR, "build", "eddy")
    if not os.access(path, os.X_OK):
        sys.exit(f"FAIL: no eddy binary at {path} (build it, or set EDDY_BIN)")
    return os.path.abspath(path)


def clean_environment(tmp):
    """Fake credentials only; nothing from the caller's shell (profiles, EDDY_*) may leak in."""
    for v in list(os.environ):
        if v.startswith("EDDY_") and v not in ("EDDY_BIN", "EDDY_SHARED_DIR"):
            del os.environ[v]
        if v.startswith("AWS_") or v.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[v]
    cfg = os.path.join(tmp, "aws-config")
    open(cfg, "w").close()
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": cfg,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })


def free_udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=30):
    """(status, parsed JSON or text) of one request; never raises on an HTTP error status."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_for(what, predicate, timeout=60, interval=0.05, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = predicate()
        if v:
            return v
        if proc is not None and not proc.alive():
            raise ScenarioError(f"{what}: {proc.name} exited with status {proc.p.returncode}: "
                                f"{proc.stderr_text()[-400:]}")
        time.sleep(interval)
    raise ScenarioError(f"{what}: not within {timeout} s")


class ScenarioError(Exception):
    pass


class Proc:
    """A started process, its log files, stopped by PID."""

    def __init__(self, name, argv, out, err, popen):
        self.name, self.argv, self.out, self.err, self.p = name, argv, out, err, popen

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, timeout=20):
        """SIGTERM (after SIGCONT, in case it is stopped), wait, SIGKILL; returns the exit status."""
        if self.alive():
            os.kill(self.p.pid, signal.SIGCONT)
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
        return self.p.returncode

    def rss_kb(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stdout_text(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def stderr_text(self):
        with open(self.err, errors="replace") as f:
            return f.read()


class Eddy:
    def __init__(self, proc, port):
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"

    def client(self, service, **kw):
        """A boto3 client for this eddy (fake static keys, one attempt: a retry would hide an error)."""
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=kw.pop("key", "test"), aws_secret_access_key=kw.pop("secret", "test"),
                            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **kw))

    def kinesis(self, op, **params):
        """One Kinesis call by its API name, e.g. kinesis("ListShards", StreamName="s")."""
        if not hasattr(self, "_kinesis"):
            self._kinesis = self.client("kinesis")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()
        return getattr(self._kinesis, snake)(**params)

    def create_stream(self, name, shards):
        self.kinesis("CreateStream", StreamName=name, ShardCount=shards)
        wait_for(f"stream {name} ACTIVE", lambda: self.kinesis("DescribeStreamSummary", StreamName=name)
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", timeout=30, interval=0.1)

    def admin(self, method, path, body=None):
        status, doc = http(method, self.url + path, body)
        if status >= 300:
            raise ScenarioError(f"{method} {path}: HTTP {status} {str(doc)[:300]}")
        return doc

    def report(self):
        return self.admin("GET", "/_eddy/report?format=json")

    def stream_report(self, name):
        for s in self.report()["streams"]:
            if s["stream"] == name:
                return s
        raise ScenarioError(f"stream {name} is not in eddy's report")

    def metrics(self):
        """Prometheus text -> {(name, frozenset(labels)): value}."""
        status, text = http("GET", self.url + "/_eddy/metrics")
        return parse_prometheus(text)


def parse_prometheus(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)$', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric_sum(metrics, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in metrics.items() if n == name and want <= set(ls))


class Scenario:
    def __init__(self, name, description):
        ap = argparse.ArgumentParser(description=description)
        ap.add_argument("--short", action="store_true", help="the quick variant (CI)")
        ap.add_argument("--out", default=os.path.join(os.getcwd(), "scenario-out", name),
                        help="directory for summary.json, report.md, CSV and SVG")
        self.args = ap.parse_args()
        self.name, self.description, self.short = name, description, self.args.short
        self.out = os.path.abspath(self.args.out)
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=f"eddy-scenario-{name}.")
        clean_environment(self.tmp)
        self.eddy_bin = eddy_bin()
        self.procs = []
        self.checks = []
        self.files = []
        self.started = time.monotonic()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def log(self, msg):
        print(f"--- [{self.name} {time.monotonic() - self.started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    # Processes ------------------------------------------------------------------------------------
    def spawn(self, name, argv, stdin=None, env=None):
        n = len(self.procs) + 1
        out = os.path.join(self.tmp, f"{n:02d}-{name}.out")
        err = os.path.join(self.tmp, f"{n:02d}-{name}.err")
        p = subprocess.Popen(argv, stdout=open(out, "wb"), stderr=open(err, "wb"),
                             stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             env=env, start_new_session=True)
        proc = Proc(name, argv, out, err, p)
        self.procs.append(proc)
        return proc

    def start_eddy(self, *flags):
        proc = self.spawn("eddy", [self.eddy_bin, "serve", "--port", "0", "--log-level", "warn", *flags])

        def listening():
            m = re.match(r"^eddy listening on [^ ]+:(\d+)$", proc.stdout_text().split("\n", 1)[0])
            return m and int(m.group(1))
        port = wait_for("eddy serve printed 'eddy listening on'", listening, proc=proc)
        eddy = Eddy(proc, port)
        wait_for("eddy /_eddy/health", lambda: self._healthy(eddy), proc=proc)
        self.log(f"eddy pid {proc.pid} on {eddy.url} {' '.join(flags)}")
        return eddy

    @staticmethod
    def _healthy(eddy):
        try:
            return http("GET", eddy.url + "/_eddy/health", timeout=2)[0] == 200
        except OSError:
            return False

    def start_bridge(self, eddy, stream, *flags, listen="127.0.0.1:0"):
        """`eddy bridge --listen LISTEN --metrics-port 0`; returns (proc, port, metrics_url)."""
        proc = self.spawn("bridge", [self.eddy_bin, "bridge", "--listen", listen, "--metrics-port", "0",
                                     "--stream", stream, "--endpoint", eddy.url, *flags])
        lines = wait_for("eddy bridge printed its listening and metrics lines",
                         lambda: re.search(r"metrics 127\.0\.0\.1:(\d+)", proc.stderr_text()) and proc.stderr_text(),
                         proc=proc)
        port = int(re.search(r"^eddy bridge: listening 127\.0\.0\.1:(\d+)$", lines, re.M).group(1))
        mport = int(re.search(r"^eddy bridge: metrics 127\.0\.0\.1:(\d+)$", lines, re.M).group(1))
        self.log(f"bridge pid {proc.pid} on 127.0.0.1:{port}, metrics on {mport}")
        return proc, port, f"http://127.0.0.1:{mport}/metrics"

    def run_tool(self, name, argv, timeout=300, stdin_data=None, check=True):
        """Runs a command to completion; returns CompletedProcess (text)."""
        self.log(f"{name}: {' '.join(argv)[:160]}")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=stdin_data)
        with open(os.path.join(self.tmp, f"{name}.log"), "a") as f:
            f.write(f"$ {' '.join(argv)}\n{r.stdout}\n{r.stderr}\nexit {r.returncode}\n")
        if check and r.returncode != 0:
            raise ScenarioError(f"{name} exited {r.returncode}: {r.stderr.strip()[-600:]}")
        return r

    def aws(self, name, eddy, *args):
        """The AWS CLI (`aws --endpoint-url EDDY --output json ARGS`), parsed JSON output. Run in this
        Python process through awscli's own driver when awscli is importable (the same code as the
        `aws` command without a 2 s interpreter start on a loaded machine), else as a command."""
        argv = ["--endpoint-url", eddy.url, "--output", "json", *args]
        try:
            import contextlib
            import io
            from awscli.clidriver import create_clidriver
        except ImportError:
            r = self.run_tool(name, ["aws", *argv])
            return json.loads(r.stdout or "{}")
        if not hasattr(self, "_aws_driver"):
            self._aws_driver = create_clidriver()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = self._aws_driver.main(argv)
        if rc != 0:
            raise ScenarioError(f"aws {' '.join(args)[:120]} exited {rc}: {err.getvalue().strip()[-400:]}")
        return json.loads(out.getvalue() or "{}")

    def eddy_tool(self, name, *args, **kw):
        return self.run_tool(name, [self.eddy_bin, *args], **kw)

    def tail_stream(self, eddy, stream):
        """Every user record in the stream, as `eddy tail` prints them (one JSON object each)."""
        r = self.eddy_tool("tail", "tail", "--stream", stream, "--endpoint", eddy.url)
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    # Results --------------------------------------------------------------------------------------
    def check(self, what, ok, detail=""):
        ok = bool(ok)
        self.checks.append({"check": what, "passed": ok, "detail": str(detail)})
        self.log(f"{'ok  ' if ok else 'FAIL'} {what}" + (f" ({detail})" if detail else ""))
        return ok

    def path(self, name):
        self.files.append(name)
        return os.path.join(self.out, name)

    def write_csv(self, name, header, rows):
        with open(self.path(name), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    def write_svg(self, name, svg):
        with open(self.path(name), "w") as f:
            f.write(svg)

    def finish(self, figures, report_md):
        passed = bool(self.checks) and all(c["passed"] for c in self.checks)
        summary = {"scenario": self.name, "passed": passed, "short": self.short,
                   "seconds": round(time.monotonic() - self.started, 1),
                   "figures": figures, "checks": self.checks, "files": self.files}
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        lines = [f"# {self.name}: {'PASSED' if passed else 'FAILED'}", "", self.description, "",
                 report_md.rstrip(), "", "## Checks", "", "| check | result | detail |", "|---|---|---|"]
        for c in self.checks:
            lines.append(f"| {c['check']} | {'pass' if c['passed'] else '**FAIL**'} | {c['detail']} |")
        lines.append("")
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write("\n".join(lines))
        self.log(f"{'PASSED' if passed else 'FAILED'}; report in {self.out}")
        return passed

    def main(self, body):
        """Runs body(self) -> (figures, report_md); stops every process; exits 0 only if all checks hold."""
        passed = False
        try:
            figures, report_md = body(self)
            passed = self.finish(figures, report_md)
        except Exception as e:  # noqa: BLE001 - any failure is a failed scenario with one line why
            if not isinstance(e, ScenarioError):
                traceback.print_exc()
            self.check("scenario ran to the end", False, f"{type(e).__name__}: {e}")
            self.finish({}, f"The scenario stopped early: {e}")
            self.dump_logs()
        finally:
            for p in reversed(self.procs):
                try:
                    p.stop()
                except Exception:  # noqa: BLE001
                    pass
            if passed:
                subprocess.run(["rm", "-rf", self.tmp])
            else:
                self.log(f"process logs kept in {self.tmp}")
        sys.exit(0 if passed else 1)

    def dump_logs(self):
        for p in self.procs:
            for f in (p.err,):
                try:
                    text = open(f, errors="replace").read()[-2000:]
                except OSError:
                    continue
                if text.strip():
                    print(f"===== {p.name} pid {p.pid} stderr (tail) =====\n{text}", file=sys.stderr)


# Charts ---------------------------------------------------------------------------------------------
# The look of `eddy report --svg` (client/report_svg.cpp): white page, title top left, grey axes,
# light grid, five y ticks on 1/2/5 steps, legend on the right, the same palette.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
           "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]


def _esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def nice_ceiling(v):
    if v <= 0:
        return 1
    p = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * p >= v:
            return m * p
    return 10 * p


def _fmt(v):
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.2g}"


def line_chart(title, x_label, y_label, series, log_x=False, notes=()):
    """SVG line chart. series: [{"label", "x": [...], "y": [...], "dash": bool}]; axes labelled
    with their units by the caller (x_label, y_label)."""
    W, H, L, R, T, B = 1040, 440, 80, 340, 40, 60
    pw, ph = W - L - R, H - T - B
    xs = [x for s in series for x in s["x"]]
    ys = [y for s in series for y in s["y"]]
    tx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    x0, x1 = (tx(min(xs)), tx(max(xs))) if xs else (0, 1)
    if x1 <= x0:
        x1 = x0 + 1
    ymax = nice_ceiling(max(ys) if ys else 1)
    X = lambda v: L + (tx(v) - x0) / (x1 - x0) * pw  # noqa: E731
    Y = lambda v: T + ph - v / ymax * ph  # noqa: E731
    o = ['<?xml version="1.0" encoding="UTF-8"?>',
         f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">',
         f"<title>{_esc(title)}</title>", f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="15">{_esc(title)}</text>',
         '<g class="axes" stroke="#999" stroke-width="1">',
         f'<line x1="{L}" y1="{T + ph}" x2="{L + pw}" y2="{T + ph}"/>',
         f'<line x1="{L}" y1="{T}" x2="{L}" y2="{T + ph}"/>', '</g>', '<g class="ticks" fill="#333">']
    for i in range(6):
        v = ymax * i / 5
        o.append(f'<line x1="{L}" x2="{L + pw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>')
        o.append(f'<text x="{L - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    if log_x or len(set(xs)) <= 8:
        ticks = sorted(set(xs))
    else:
        ticks = [x0 + (x1 - x0) * i / 5 for i in range(6)]
    for v in ticks:
        o.append(f'<text x="{X(v):.1f}" y="{T + ph + 18}" text-anchor="middle">{_fmt(v)}</text>')
    o.append(f'<text x="{L + pw / 2}" y="{T + ph + 42}" text-anchor="middle">{_esc(x_label)}</text>')
    o.append(f'<text x="18" y="{T + ph / 2}" transform="rotate(-90 18 {T + ph / 2})" '
             f'text-anchor="middle">{_esc(y_label)}</text>')
    o.append("</g>")
    ly = T + 10
    legend = []
    for k, s in enumerate(series):
        color = s.get("color") or PALETTE[k % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.get("dash") else ""
        pts = " L".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in zip(s["x"], s["y"]))
        if pts:
            o.append(f'<path class="series" data-series="{_esc(s["label"])}" fill="none" stroke="{color}" '
                     f'stroke-width="2"{dash} d="M{pts}"/>')
            if len(s["x"]) <= 12:
                for x, y in zip(s["x"], s["y"]):
                    o.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="2.5" fill="{color}"/>')
        legend.append(f'<line x1="{L + pw + 20}" x2="{L + pw + 50}" y1="{ly}" y2="{ly}" stroke="{color}" '
                      f'stroke-width="2"{dash}/>')
        legend.append(f'<text x="{L + pw + 56}" y="{ly + 4}">{_esc(s["label"])}</text>')
        ly += 18
    for n in notes:
        ly += 6
        legend.append(f'<text x="{L + pw + 20}" y="{ly + 4}" fill="#555">{_esc(n)}</text>')
        ly += 12
    o.append('<g class="legend">')
    o.extend(legend)
    o.append("</g>\n</svg>\n")
    return "\n".join(o)

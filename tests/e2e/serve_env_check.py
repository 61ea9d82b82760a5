"""Every flag of `eddy serve --help` can come from its EDDY_* variable (run by test_serve_env.sh).

The flags are read from the help text, not from a list kept here: a new flag without a variable,
or a variable that sets another setting, fails this test. For each flag the variable is set to a
value valid for the flag's type (also read from the help) and `eddy serve --print-config` must
show exactly that setting changed from the defaults.
"""
import os
import re
import subprocess
import sys
import tempfile

EDDY = os.environ["EDDY_BIN"]
# Variables already set in this process must not leak into the runs (lib.sh clears EDDY_*; be sure).
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("EDDY_")}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(args, env=None):
    e = dict(BASE_ENV)
    e.update(env or {})
    return subprocess.run([EDDY, "serve"] + args, env=e, capture_output=True, text=True, timeout=30)


def settings(text):
    """The key=value lines of --print-config as a dict of raw value strings."""
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


help_text = run(["--help"]).stdout
# An option line: two spaces, an optional short name, the long name, then its type and default
# (e.g. "INT:INT in [-1 - 65535]=-1", "TEXT ...") up to "(Env:NAME)" or the description.
OPTION = re.compile(r"^  (?:-\w,)?--([a-z0-9-]+)(.*)$")
flags = []
for line in help_text.splitlines():
    m = OPTION.match(line)
    if m and m.group(1) != "help":
        rest = m.group(2)
        env = re.search(r"\(Env:([A-Z0-9_]+)\)", rest)
        typ = re.split(r"\(Env:|\s{2,}", rest.strip())[0].strip()
        flags.append((m.group(1), typ, env.group(1) if env else None))
if len(flags) < 30:
    fail("read only %d flags from `eddy serve --help`:\n%s" % (len(flags), help_text))

defaults = run(["--print-config"])
if defaults.returncode != 0:
    fail("eddy serve --print-config exited %d: %s" % (defaults.returncode, defaults.stderr))
base = settings(defaults.stdout)


def value_for(name, typ):
    """A value the flag accepts that differs from its default, and how --print-config shows it."""
    kind, _, default = typ.partition("=")
    vector = typ.endswith("...")
    if not typ:  # a flag without a value
        return "true", "true"
    if m := re.match(r"TEXT:\{(.*)\}", kind):
        choices = [c for c in m.group(1).split(",") if c != default]
        return choices[-1], '"%s"' % choices[-1]
    if m := re.match(r"U?INT:U?INT in \[(-?\d+) - (-?\d+)\]", kind):
        v = m.group(2) if m.group(2) != default else m.group(1)
        return v, v
    if kind in ("INT", "UINT"):
        v = "7" if default != "7" else "8"
        return v, v
    if vector:  # repeatable: several values in one variable, separated by ';'
        return "env-%s-1;env-%s-2" % (name, name), '["env-%s-1", "env-%s-2"]' % (name, name)
    return "env-" + name, '"env-%s"' % name


checked = 0
for name, typ, shown_var in flags:
    var = "EDDY_" + name.upper().replace("-", "_")
    if shown_var != var:
        fail("--%s: `eddy serve --help` shows variable %s, the rule gives %s" % (name, shown_var, var))
        continue
    if name == "config":
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write("shard-limit = 9\n")
        got = settings(run(["--print-config"], {var: f.name}).stdout)
        os.unlink(f.name)
        if got.get("shard-limit") != "9":
            fail("%s=<file with shard-limit = 9>: --print-config shows shard-limit=%s" % (var, got.get("shard-limit")))
        checked += 1
        continue
    if name == "print-config":
        r = run([], {var: "true"})
        if r.returncode != 0 or settings(r.stdout) != base:
            fail("%s=true: eddy serve did not print its settings and exit (status %d, stdout %r)"
                 % (var, r.returncode, r.stdout[:200]))
        checked += 1
        continue
    value, shown = value_for(name, typ)
    r = run(["--print-config"], {var: value})
    if r.returncode != 0:
        fail("%s=%s: eddy serve --print-config exited %d: %s" % (var, value, r.returncode, r.stderr.strip()))
        continue
    got = settings(r.stdout)
    if got.get(name) != shown:
        fail("%s=%s: --print-config shows %s=%s, expected %s" % (var, value, name, got.get(name), shown))
    changed = sorted(k for k in set(got) | set(base) if k != name and got.get(k) != base.get(k))
    if changed:
        fail("%s=%s also changed %s" % (var, value, ", ".join(changed)))
    checked += 1

if failures:
    sys.exit(1)
print("%d flags, each set from its EDDY_* variable" % checked)

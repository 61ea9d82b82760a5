"""Offline checks of Dockerfile, docker/syslog-ng/Dockerfile and docker-compose.yml (no Docker
engine here), and the environment of a compose service for test_container_files.sh.

  container_files_check.py lint                 the checks below; exits 1 on any failure
  container_files_check.py env SERVICE K=V...   the service's environment as KEY=VALUE lines,
                                                service addresses rewritten (K: "eddy:4566",
                                                V: "127.0.0.1:41234")
  container_files_check.py volume SERVICE PATH  the host folder mounted at PATH
  container_files_check.py command SERVICE      its command (entrypoint + command) as a shell line
"""
import functools
import json
import os
import re
import shlex
import subprocess
import sys

SRC = os.environ["EDDY_SOURCE_DIR"]
EDDY = os.environ["EDDY_BIN"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def compose():
    """`docker-compose config` parsed; cached in $COMPOSE_CACHE (one docker-compose run a test)."""
    import yaml  # PyYAML: a dependency of Debian's docker-compose

    cache = os.environ.get("COMPOSE_CACHE")
    if cache and os.path.exists(cache):
        return json.load(open(cache))
    out = subprocess.run(["docker-compose", "-f", os.path.join(SRC, "docker-compose.yml"), "config"],
                         capture_output=True, text=True, check=True).stdout
    parsed = yaml.safe_load(out)
    if cache:
        json.dump(parsed, open(cache, "w"))
    return parsed


def dockerfile(path):
    """Instructions as (KEYWORD, text) with continuation lines joined and comments dropped."""
    lines, cur = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if not cur and (line.strip().startswith("#") or not line.strip()):
            continue
        if line.strip().startswith("#"):
            continue
        cur += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            kw, _, rest = cur.strip().partition(" ")
            lines.append((kw.upper(), rest.strip()))
            cur = ""
    return lines


def stages(instrs):
    """[(name, [instructions])] split at FROM."""
    out = []
    for kw, rest in instrs:
        if kw == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            out.append({"image": m.group(1), "name": m.group(2) or "", "instrs": []})
        elif out:
            out[-1]["instrs"].append((kw, rest))
    return out


def apt_installed(instrs):
    """Packages named by `apt-get install` in RUN instructions."""
    pkgs = []
    for kw, rest in instrs:
        if kw != "RUN":
            continue
        for cmd in re.split(r"&&|;", rest):
            words = shlex.split(cmd)
            if "apt-get" in words and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def missing_in_debian(pkgs):
    """The packages apt-cache policy finds no candidate for (one apt-cache run)."""
    out = subprocess.run(["apt-cache", "policy"] + pkgs, capture_output=True, text=True).stdout
    candidates, current = {}, None
    for line in out.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1].split(":")[0]
        elif current and line.strip().startswith("Candidate:"):
            candidates[current] = line.split(":", 1)[1].strip()
    return [p for p in pkgs if candidates.get(p, "(none)") == "(none)"]


def build_pkgs():
    """BUILD_PKGS=(...) of ./dev, the one list of build packages."""
    text = open(os.path.join(SRC, "dev")).read()
    m = re.search(r"^BUILD_PKGS=\((.*?)\)", text, re.S | re.M)
    return m.group(1).split()


def owning_packages(sonames):
    """soname -> the Debian package of the file the dynamic linker loads for it (None if unknown)."""
    ldd = subprocess.run(["ldd", EDDY], capture_output=True, text=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    owners = {}
    for line in subprocess.run(["dpkg", "-S"] + [p for so in sonames if (p := paths.get(so))] +
                               [os.path.realpath(paths[so]) for so in sonames if so in paths],
                               capture_output=True, text=True).stdout.splitlines():
        pkg, _, path = line.partition(": ")
        owners.setdefault(path.strip(), pkg.split(":")[0].split(",")[0].strip())
    return {so: owners.get(paths.get(so, "")) or owners.get(os.path.realpath(paths[so]) if so in paths else "")
            for so in sonames}


@functools.cache
def serve_env_vars():
    help_text = subprocess.run([EDDY, "serve", "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"\(Env:(EDDY_[A-Z0-9_]+)\)", help_text))


def env_of(instrs):
    env = {}
    for kw, rest in instrs:
        if kw == "ENV":
            for k, v in re.findall(r"(\w+)=(\S+)", rest):
                env[k] = v
    return env


def lint():
    main = stages(dockerfile(os.path.join(SRC, "Dockerfile")))
    if len(main) != 2:
        fail("Dockerfile: expected two stages (build, run), found %d" % len(main))
        return
    build, run = main
    for st in main:
        if not st["image"].startswith("debian:bookworm"):
            fail("Dockerfile: stage %s is based on %s, not Debian bookworm" % (st["name"] or "run", st["image"]))
    if build["name"] != "build":
        fail("Dockerfile: the first stage is not named 'build'")

    # The build stage installs exactly ./dev's BUILD_PKGS: through `./dev deps build`, no list of its own.
    build_runs = " ".join(rest for kw, rest in build["instrs"] if kw == "RUN")
    if "./dev deps build" not in build_runs or apt_installed(build["instrs"]):
        fail("Dockerfile: the build stage must install BUILD_PKGS with `./dev deps build` and no apt-get list of its own")
    if "./dev build eddy" not in build_runs:
        fail("Dockerfile: the build stage does not build with `./dev build eddy`")
    for pkg in missing_in_debian(build_pkgs()):
        fail("dev: BUILD_PKGS names %s, which apt-cache policy does not find in Debian" % pkg)

    runtime_pkgs = apt_installed(run["instrs"])
    syslog = stages(dockerfile(os.path.join(SRC, "docker", "syslog-ng", "Dockerfile")))
    for pkg in missing_in_debian(runtime_pkgs + apt_installed(syslog[0]["instrs"])):
        fail("a Dockerfile installs %s, which apt-cache policy does not find in Debian" % pkg)
    if not syslog[0]["image"].startswith("debian:bookworm"):
        fail("docker/syslog-ng/Dockerfile is not based on Debian bookworm")

    # Every shared library the binary needs comes from a package the run stage installs.
    needed = re.findall(r"NEEDED\s+(\S+)", subprocess.run(["objdump", "-p", EDDY], capture_output=True, text=True).stdout)
    for so, pkg in owning_packages(needed).items():
        if pkg is None:
            fail("cannot tell which Debian package provides %s (needed by %s)" % (so, EDDY))
        elif pkg != "libc6" and pkg not in runtime_pkgs:
            fail("eddy needs %s from %s, which the Dockerfile's run stage does not install" % (so, pkg))

    # The binary's path: produced by the build stage, copied, and run.
    strip_out = re.search(r"strip -o (\S+) (\S+)", build_runs)
    copies = [rest.split() for kw, rest in run["instrs"] if kw == "COPY" and rest.startswith("--from=build")]
    entry = json.loads(next(rest for kw, rest in run["instrs"] if kw == "ENTRYPOINT"))
    if not strip_out or not copies or copies[0][1] != strip_out.group(1):
        fail("Dockerfile: COPY --from=build does not take the file the build stage writes")
    elif strip_out.group(2) != "/src/build/eddy" or "WORKDIR /src" not in " ".join("%s %s" % i for i in build["instrs"]):
        fail("Dockerfile: the build stage strips %s, not ./dev's build/eddy" % strip_out.group(2))
    elif copies[0][2] not in entry:
        fail("Dockerfile: ENTRYPOINT %s does not run the copied binary %s" % (entry, copies[0][2]))
    if entry[-1] != "/usr/local/bin/eddy" or json.loads(next(r for k, r in run["instrs"] if k == "CMD")) != ["serve"]:
        fail("Dockerfile: the image does not run `eddy serve`")
    for kw, rest in run["instrs"]:
        if kw == "COPY" and not rest.startswith("--from"):
            source = os.path.join(SRC, rest.split()[0])
            if not os.access(source, os.X_OK):
                fail("Dockerfile copies %s, which is missing or not executable" % rest.split()[0])

    # The user: created, not root, owns the data volume.
    users = [rest for kw, rest in run["instrs"] if kw == "USER"]
    run_text = " ".join(rest for kw, rest in run["instrs"] if kw == "RUN")
    if len(users) != 1 or users[0] in ("root", "0"):
        fail("Dockerfile: the run stage must switch to one non-root USER, has %s" % users)
    else:
        user = users[0]
        if not re.search(r"useradd .*\b%s\s*(&&|$)" % re.escape(user), run_text):
            fail("Dockerfile: USER %s is not created by useradd" % user)
        env = env_of(run["instrs"])
        declared = [json.loads(rest) for kw, rest in run["instrs"] if kw == "VOLUME"]
        if env.get("EDDY_DATA_DIR") is None or [env["EDDY_DATA_DIR"]] not in declared:
            fail("Dockerfile: EDDY_DATA_DIR (%s) is not the VOLUME (%s)" % (env.get("EDDY_DATA_DIR"), declared))
        elif not re.search(r"chown %s:%s %s" % (user, user, re.escape(env["EDDY_DATA_DIR"])), run_text):
            fail("Dockerfile: the data dir %s is not owned by %s" % (env["EDDY_DATA_DIR"], user))
        if env.get("EDDY_HOST") != "0.0.0.0" or env.get("EDDY_PORT") != "4566":
            fail("Dockerfile: eddy must listen on 0.0.0.0:4566 in the container (EDDY_HOST, EDDY_PORT)")
        if ("EXPOSE", "4566") not in run["instrs"]:
            fail("Dockerfile: EXPOSE 4566 missing")
        hc = " ".join(rest for kw, rest in run["instrs"] if kw == "HEALTHCHECK")
        if "/_eddy/health" not in hc or "${EDDY_PORT}" not in hc or "curl" not in runtime_pkgs:
            fail("Dockerfile: HEALTHCHECK must curl /_eddy/health on ${EDDY_PORT} (and install curl): %s" % hc)
        for d in ("/etc/eddy/init/ready.d", "/etc/localstack/init/ready.d"):
            if d not in run_text:
                fail("Dockerfile: %s is not created" % d)
        known = serve_env_vars()
        for k in env:
            if k.startswith("EDDY_") and k not in known:
                fail("Dockerfile: ENV %s is no eddy serve variable" % k)

    # The compose file, as docker-compose reads it.
    c = compose()
    services = c.get("services", {})
    for s in ("eddy", "bridge", "syslog-ng", "runner", "dynalite"):
        if s not in services:
            fail("docker-compose.yml: no %s service" % s)
    eddy = services.get("eddy", {})
    if eddy.get("build", {}).get("context") != SRC:
        fail("docker-compose.yml: eddy is not built from the repository's Dockerfile")
    known = serve_env_vars()
    for k in eddy.get("environment", {}):
        if k.startswith("EDDY_") and k not in known:
            fail("docker-compose.yml: eddy's %s is no eddy serve variable" % k)
    ports = [p for p in eddy.get("ports", []) if int(p.get("target", 0)) == 4566]
    if not ports:
        fail("docker-compose.yml: eddy does not publish port 4566")
    hc = " ".join(eddy.get("healthcheck", {}).get("test", []))
    if "http://127.0.0.1:4566/_eddy/health" not in hc:
        fail("docker-compose.yml: eddy's healthcheck is not /_eddy/health on 4566: %s" % hc)
    targets = [target for _, target in volumes(eddy)]
    if "/var/lib/eddy" not in targets or "/etc/eddy/init/ready.d" not in targets:
        fail("docker-compose.yml: eddy mounts %s, expected /var/lib/eddy and /etc/eddy/init/ready.d" % targets)
    bridge = services.get("bridge", {})
    if bridge.get("image") != eddy.get("image") or bridge.get("command") != ["bridge"]:
        fail("docker-compose.yml: bridge must run `eddy bridge` from eddy's image")
    if bridge.get("depends_on", {}).get("eddy", {}).get("condition") != "service_healthy":
        fail("docker-compose.yml: bridge must wait for eddy's healthcheck")
    if services.get("syslog-ng", {}).get("build", {}).get("context") != os.path.join(SRC, "docker", "syslog-ng"):
        fail("docker-compose.yml: syslog-ng is not built from docker/syslog-ng")


def volumes(service):
    """(source, target) pairs, from the long form or docker-compose 1.x's "SRC:TARGET:MODE"."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            out.append((v.get("source"), v.get("target")))
        else:
            parts = v.split(":")
            out.append((parts[0], parts[1]))
    return out


def rewrite(value, addresses):
    """Service addresses in a value -> local ones: "http://eddy:4566" -> "http://127.0.0.1:N"."""
    value = str(value)
    for name_port, local in addresses.items():
        name, port = name_port.split(":")
        value = value.replace(name_port, local)
        local_host, local_port = local.split(":")
        if value == name:
            value = local_host
        elif value == port:
            value = local_port
    return value


def main():
    if sys.argv[1] == "lint":
        lint()
        if failures:
            sys.exit(1)
        print("Dockerfile, docker/syslog-ng/Dockerfile and docker-compose.yml: consistent")
    elif sys.argv[1] == "env":
        service = compose()["services"][sys.argv[2]]
        addresses = dict(a.split("=", 1) for a in sys.argv[3:])
        for k, v in service.get("environment", {}).items():
            print("%s=%s" % (k, rewrite(v, addresses)))
    elif sys.argv[1] == "volume":
        print(dict((t, s) for s, t in volumes(compose()["services"][sys.argv[2]]))[sys.argv[3]])
    elif sys.argv[1] == "command":
        service = compose()["services"][sys.argv[2]]
        cmd = service.get("entrypoint", []) + service.get("command", [])
        # docker-compose config keeps $$ (a literal $ for the container's shell).
        print(cmd[-1].replace("$$", "$") if cmd[:2] == ["/bin/sh", "-c"] else shlex.join(cmd))


main()

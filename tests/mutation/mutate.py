#!/usr/bin/env python3
"""Mutation check (issue 18): break five behaviours on purpose, rebuild, run unit+api and the
Kinesis e2e tests, record which tests failed, restore. Run from the repository root after a build (build/): python3 tests/mutation/mutate.py [NAME...].
Results go to build/mutation-results.json."""
import json, re, subprocess, sys, os
M = [
 ("routing", "server/kinesis/stream.cpp", "if (s.open() && s.range.contains(key)) return &s;", "if (s.open() && s.range.contains(key >> 1)) return &s;"),
 ("throttle-limit", "server/limits/shard_limiter.cpp", "TokenBucket::per_second(p.limits.write_records_per_sec, now_ms)", "TokenBucket::per_second(p.limits.write_records_per_sec + 1, now_ms)"),
 ("retention-trim", "server/kinesis/kinesis_service.cpp", "cutoff = now - static_cast<int64_t>(s->retention_hours) * kHourMs;", "cutoff = now - 2 * static_cast<int64_t>(s->retention_hours) * kHourMs;"),
 ("error-code", "server/kinesis/api_error.h", 'static ApiError not_found(std::string m) { return {"ResourceNotFoundException", std::move(m)}; }', 'static ApiError not_found(std::string m) { return {"ResourceNotFound", std::move(m)}; }'),
 ("cbor-timestamp", "server/kinesis/codec.cpp", "  kinesis::cbor_head(o, 6, 1);\n  kinesis::cbor_int(o, ms);", "  kinesis::cbor_head(o, 6, 1);\n  kinesis::cbor_int(o, ms / 1000);"),
]
only = sys.argv[1:]
results = {}
for name, path, old, new in M:
    if only and name not in only: continue
    src = open(path).read()
    assert src.count(old) == 1, (name, src.count(old))
    open(path, "w").write(src.replace(old, new))
    try:
        b = subprocess.run(["ninja", "-C", "build", "-j2", "eddy", "unit_tests", "api_tests"], capture_output=True, text=True)
        if b.returncode != 0:
            results[name] = {"build": "failed", "out": b.stdout[-2000:]}
            continue
        failed = []
        for exe in ("unit_tests", "api_tests"):
            r = subprocess.run(["build/tests/" + exe, "--gtest_brief=1"], capture_output=True, text=True)
            failed += sorted(set(re.findall(r"\[  FAILED  \] (\S+?)(?:,| \(|$)", r.stdout, re.M)))
        r = subprocess.run(["ctest", "--test-dir", "build", "-R", "e2e.test_(aws_cli|boto3|cbor_jackson|cbor_java_wire|js_sdk)$"], capture_output=True, text=True)
        e2e_failed = re.findall(r"\d+ - (e2e\.\S+) \(Failed\)", r.stdout)
        results[name] = {"gtest_failed": failed, "e2e_failed": e2e_failed}
    finally:
        open(path, "w").write(src)
    print(name, json.dumps(results[name])[:3000], flush=True)
subprocess.run(["ninja", "-C", "build", "-j2", "eddy", "unit_tests", "api_tests"], capture_output=True)
json.dump(results, open("build/mutation-results.json", "w"), indent=1)

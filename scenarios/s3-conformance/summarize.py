#!/usr/bin/env python3
"""Summarise an s3-tests JUnit XML: pass/fail/error/skip counts and failures grouped by cause.

The cause of a failure is the first line of its message with the run-specific parts (bucket
names, request ids, hex digests, object-specific values) replaced, so one server gap that
breaks twenty tests shows as one group of twenty.
"""
import argparse
import collections
import re
import sys
import xml.etree.ElementTree as ET

_SUBS = [
    (re.compile(r"s3t-[a-z0-9]+-\d*[a-z0-9.\-]*"), "<bucket>"),
    (re.compile(r"\b[0-9a-f]{16,}\b"), "<hex>"),
    (re.compile(r"\b[0-9A-Za-z+/]{22,}={0,2}"), "<b64>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.]+(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"0x[0-9a-f]+"), "<addr>"),
]
_CLIENT_ERROR = re.compile(
    r"An error occurred \(([^)]*)\)(?: \(reached max retries: \d+\))? when calling the (\w+) operation")


def cause(message):
    """A short, run-independent description of why a test failed."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else "(no message)"
    phase = ""
    pm = re.match(r'failed on (setup|teardown) with "?(.*)', first)
    if pm:
        # Fixture failures: the suite's setup/teardown empties and deletes every test bucket,
        # so one bucket the server cannot delete fails every later test here.
        phase, first = pm.group(1) + ": ", pm.group(2)
        if first.endswith('"'):
            first = first[:-1]
    m = _CLIENT_ERROR.search(first)
    if m:
        return "%sClientError %s from %s" % (phase, m.group(1), m.group(2))
    first = phase + first
    for rx, repl in _SUBS:
        first = rx.sub(repl, first)
    return first[:200]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("junit")
    ap.add_argument("--target", default="")
    ap.add_argument("--markers", default="")
    ap.add_argument("--out")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--note", default="")
    a = ap.parse_args()

    root = ET.parse(a.junit).getroot()
    counts = collections.Counter()
    groups = collections.defaultdict(list)
    for case in root.iter("testcase"):
        name = case.get("name")
        bad = None
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                bad = (tag, el.get("message") or (el.text or ""))
                break
        if bad:
            counts["failed" if bad[0] == "failure" else "errors"] += 1
            groups[cause(bad[1])].append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    total = sum(counts.values())

    lines = []
    lines.append("# s3-tests conformance: %s" % a.target)
    lines.append("")
    lines.append("Selection: `-m '%s'` — %d tests" % (a.markers, total))
    lines.append("")
    if a.note:
        lines.append("**%s**" % a.note)
        lines.append("")
    lines.append("| passed | failed | errors | skipped | total |")
    lines.append("|---|---|---|---|---|")
    lines.append("| %d | %d | %d | %d | %d |" % (counts["passed"], counts["failed"], counts["errors"],
                                                counts["skipped"], total))
    lines.append("")
    lines.append("## Failures grouped by first error line (%d groups)" % len(groups))
    lines.append("")
    lines.append("| tests | cause | example |")
    lines.append("|---|---|---|")
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for text, names in ordered[:a.top]:
        lines.append("| %d | `%s` | %s |" % (len(names), text.replace("|", "\\|").replace("`", "'"), names[0]))
    if len(ordered) > a.top:
        rest = sum(len(n) for _, n in ordered[a.top:])
        lines.append("| %d | (%d smaller groups) | |" % (rest, len(ordered) - a.top))
    lines.append("")
    lines.append("## All failing tests by group")
    lines.append("")
    for text, names in ordered:
        lines.append("- `%s` (%d): %s" % (text.replace("`", "'"), len(names), ", ".join(sorted(names))))
    report = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(report)
    if a.note:
        print("NOTE: " + a.note)
    print("passed %d  failed %d  errors %d  skipped %d  total %d" % (
        counts["passed"], counts["failed"], counts["errors"], counts["skipped"], total))
    for text, names in ordered[:15]:
        print("  %4d  %s  (e.g. %s)" % (len(names), text, names[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Two s3-tests JUnit XMLs side by side by feature group (a Markdown table).

    compare.py eddy=/tmp/s3conf-eddy/junit.xml moto=/tmp/s3conf-moto/junit.xml

A test's feature group comes from its name (the first rule of GROUPS whose pattern it
contains); a test passes when it has no failure, error or skipped element (a test that also
errored in teardown appears twice in the XML and counts as not passed, as summarize.py counts
it). Only tests present in every file are compared.
"""
import argparse
import re
import sys
import xml.etree.ElementTree as ET

# (group, regular expression on the test name); first match wins, so specific before general.
GROUPS = [
    ("POST uploads", r"post_object"),
    ("Object lock", r"object_lock|retention|legal_hold"),
    ("Lifecycle", r"lifecycle"),
    ("Encryption (SSE-S3/KMS/C)", r"sse|encrypt"),
    ("Tagging", r"tag"),
    ("Bucket policies", r"policy"),
    ("Block Public Access, ownership", r"public_block|block_public|ownership|bucket_owner"),
    ("Versioning", r"version|delete_marker"),
    ("CORS", r"cors"),
    ("Checksums", r"checksum|cksum"),
    ("GetObjectAttributes", r"attributes"),
    ("Conditional requests", r"if_match|if_none|if_modified|if_unmodified|_ifmatch|_ifnonematch|conditional"),
    ("Multipart", r"multipart|upload_part|copy_part|_part_"),
    ("Copy", r"copy"),
    ("ACLs and access", r"acl|access_bucket|grant|_perm|anon|authenticated|unauthenticated"),
    ("Listing", r"list|prefix|delimiter|marker|max_keys|maxkeys|continuation|encoding_type|fetchowner|startafter"),
    ("Auth and presigned URLs", r"auth|presigned|expires|signature|_sig|x_amz_date|_date_|content_sha"),
    ("Buckets", r"bucket_(create|recreate|delete|head|name|exists|location)|bucket_region|buckets"),
    ("Ranges", r"range"),
    ("Headers and metadata", r"header|metadata|_meta|content_type|content_encoding|cache_control|expires_header"),
]
_COMPILED = [(g, re.compile(p)) for g, p in GROUPS]


def group_of(name):
    for g, rx in _COMPILED:
        if rx.search(name):
            return g
    return "Objects (other)"


def results(path):
    """{test name: passed} for one JUnit file."""
    out = {}
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = tc.get("name")
        ok = not any(ch.tag in ("failure", "error", "skipped") for ch in tc)
        out[name] = out.get(name, True) and ok
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="LABEL=JUNIT.xml, two or more")
    args = ap.parse_args()
    labels, runs = [], []
    for spec in args.runs:
        label, sep, path = spec.partition("=")
        if not sep:
            ap.error("expected LABEL=JUNIT.xml, got %r" % spec)
        labels.append(label)
        runs.append(results(path))
    names = sorted(set.intersection(*(set(r) for r in runs)))
    groups = {}
    for n in names:
        groups.setdefault(group_of(n), []).append(n)
    head = "| feature group | tests | " + " | ".join(labels) + " |"
    print(head)
    print("|---|---:|" + "---:|" * len(labels))
    order = sorted(groups, key=lambda g: (-len(groups[g]), g))
    for g in order:
        ns = groups[g]
        cells = [str(sum(r[n] for n in ns)) for r in runs]
        print("| %s | %d | %s |" % (g, len(ns), " | ".join(cells)))
    cells = ["**%d**" % sum(r[n] for n in names) for r in runs]
    print("| **all** | **%d** | %s |" % (len(names), " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""boto3 against eddy's S3 versioning and object lock (run by test_s3_boto3_versioning.sh)."""
import datetime
import io
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    raise SystemExit(f"FAIL: {fn.__name__} succeeded")


b = "versioned"
s3.create_bucket(Bucket=b)
check("Status" not in s3.get_bucket_versioning(Bucket=b), "new bucket is unversioned")
s3.put_object(Bucket=b, Key="k", Body=b"plain")  # the null version
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
check(s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled", "versioning enabled")

ids = [s3.put_object(Bucket=b, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
check(len(set(ids)) == 3, f"distinct version ids {ids}")
got = s3.get_object(Bucket=b, Key="k")
check(got["Body"].read() == b"v2" and got["VersionId"] == ids[2], "GET reads the newest version")
check(s3.get_object(Bucket=b, Key="k", VersionId=ids[0])["Body"].read() == b"v0", "GET by version id")
check(s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"plain", "the null version")
check(s3.head_object(Bucket=b, Key="k", VersionId=ids[1])["ContentLength"] == 2, "HEAD by version id")

d = s3.delete_object(Bucket=b, Key="k")
check(d["DeleteMarker"] is True and d["VersionId"], f"delete marker {d}")
check(error_of(s3.get_object, Bucket=b, Key="k") == (404, "NoSuchKey"), "deleted key is 404")
check(error_of(s3.get_object, Bucket=b, Key="k", VersionId="nope") == (404, "NoSuchVersion"), "NoSuchVersion")
lv = s3.list_object_versions(Bucket=b)
check([v["VersionId"] for v in lv["Versions"]] == ids[::-1] + ["null"], f"versions newest first {lv['Versions']}")
check([m["VersionId"] for m in lv["DeleteMarkers"]] == [d["VersionId"]] and lv["DeleteMarkers"][0]["IsLatest"],
      "the delete marker is latest")
s3.delete_object(Bucket=b, Key="k", VersionId=d["VersionId"])
check(s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v2", "removing the marker restores the object")

# Copy and multipart make versions; copy reads a source version.
c = s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k", "VersionId": ids[0]})
check(c["CopySourceVersionId"] == ids[0] and c["VersionId"], f"copy by version {c}")
check(s3.get_object(Bucket=b, Key="copy")["Body"].read() == b"v0", "copied the old version")
mp = s3.create_multipart_upload(Bucket=b, Key="mp")
part = s3.upload_part(Bucket=b, Key="mp", UploadId=mp["UploadId"], PartNumber=1, Body=b"part")
done = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=mp["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
check(done["VersionId"], f"multipart version {done}")

# Many versions, paged by the paginator (key-marker / version-id-marker).
for i in range(7):
    s3.put_object(Bucket=b, Key=f"p/{i % 3}", Body=b"x")
pages = s3.get_paginator("list_object_versions").paginate(Bucket=b, Prefix="p/", PaginationConfig={"PageSize": 2})
paged = [(v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", [])]
whole = [(v["Key"], v["VersionId"]) for v in s3.list_object_versions(Bucket=b, Prefix="p/")["Versions"]]
check(len(paged) == 7 and paged == whole, f"paged listing {paged} vs {whole}")

# DeleteObjects with and without version ids.
r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "copy"}, {"Key": "k", "VersionId": ids[1]}]})
deleted = {x["Key"]: x for x in r["Deleted"]}
check(deleted["copy"]["DeleteMarker"] and deleted["k"]["VersionId"] == ids[1], f"DeleteObjects {r}")

# Suspended: writes replace the null version.
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
s3.put_object(Bucket=b, Key="k", Body=b"s1")
s3.put_object(Bucket=b, Key="k", Body=b"s2")
vs = [v["VersionId"] for v in s3.list_object_versions(Bucket=b, Prefix="k")["Versions"]]
check(vs.count("null") == 1 and vs[0] == "null", f"one null version under suspension {vs}")
check(s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"s2", "null version replaced")

# Object lock: retention refuses deleting a version; governance yields to the bypass.
lb = "locked"
s3.create_bucket(Bucket=lb, ObjectLockEnabledForBucket=True)
s3.put_object_lock_configuration(Bucket=lb, ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
v = s3.put_object(Bucket=lb, Key="doc", Body=b"x")["VersionId"]
h = s3.head_object(Bucket=lb, Key="doc")
check(h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockRetainUntilDate"] > datetime.datetime.now(datetime.timezone.utc),
      f"default retention {h}")
check(error_of(s3.delete_object, Bucket=lb, Key="doc", VersionId=v) == (403, "AccessDenied"), "locked version")
s3.put_object_legal_hold(Bucket=lb, Key="doc", LegalHold={"Status": "ON"})
check(s3.get_object_legal_hold(Bucket=lb, Key="doc")["LegalHold"]["Status"] == "ON", "legal hold")
check(error_of(s3.delete_object, Bucket=lb, Key="doc", VersionId=v, BypassGovernanceRetention=True) == (403, "AccessDenied"),
      "legal hold beats the bypass")
s3.put_object_legal_hold(Bucket=lb, Key="doc", LegalHold={"Status": "OFF"})
s3.delete_object(Bucket=lb, Key="doc", VersionId=v, BypassGovernanceRetention=True)
print("boto3 versioning: ok")

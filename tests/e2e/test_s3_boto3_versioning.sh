#!/usr/bin/env bash
# boto3 drives S3 versioning against eddy (--auth verify): versions, delete markers, the null
# version under suspension, ListObjectVersions paging (the paginator), copy and multipart by
# version, DeleteObjects with versions, and object lock retention (see
# test_s3_boto3_versioning.py).
. "$(dirname "$0")/lib.sh"
require_boto3

run_python_check test_s3_boto3_versioning --in-memory --auth verify

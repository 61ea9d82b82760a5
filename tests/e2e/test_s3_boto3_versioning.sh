#!/usr/bin/env bash
# boto3 drives S3 versioning against eddy (--auth verify): versions, delete markers, the null
# version under suspension, ListObjectVersions paging (the paginator), copy and multipart by
# version, DeleteObjects with versions, and object lock retention (see
# test_s3_boto3_versioning.py).
. "$(dirname "$0")/lib.sh"
require_cmd python3
python3 -c 'import boto3' 2>/dev/null || fail "boto3 is not installed (pip install boto3)"

start_eddy --in-memory --auth verify
python3 "$E2E_DIR/test_s3_boto3_versioning.py" "$EDDY_URL" || fail "test_s3_boto3_versioning.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

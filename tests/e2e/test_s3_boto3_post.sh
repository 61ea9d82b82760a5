#!/usr/bin/env bash
# boto3's generate_presigned_post forms (SigV4 and SigV2), posted with urllib, against eddy
# under --auth verify (see test_s3_boto3_post.py).
. "$(dirname "$0")/lib.sh"
require_cmd python3
python3 -c 'import boto3' 2>/dev/null || fail "boto3 is not installed (pip install boto3)"

start_eddy --in-memory --auth verify
python3 "$E2E_DIR/test_s3_boto3_post.py" "$EDDY_URL" || fail "test_s3_boto3_post.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

#!/usr/bin/env bash
# boto3's generate_presigned_post forms (SigV4 and SigV2), posted with urllib, against eddy
# under --auth verify (see test_s3_boto3_post.py).
. "$(dirname "$0")/lib.sh"
require_boto3

run_python_check test_s3_boto3_post --in-memory --auth verify

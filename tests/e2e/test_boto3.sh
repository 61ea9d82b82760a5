#!/usr/bin/env bash
# boto3 against eddy (see test_boto3.py): MD5 routing over 4 shards, read-back of every record,
# KPL aggregates byte for byte.
. "$(dirname "$0")/lib.sh"
require_cmd python3
python3 -c 'import boto3' 2>/dev/null || fail "boto3 is not importable by python3 (pip install boto3)"

start_eddy --in-memory
python3 "$E2E_DIR/test_boto3.py" || fail "test_boto3.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

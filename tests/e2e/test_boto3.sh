#!/usr/bin/env bash
# boto3 against eddy (see test_boto3.py): MD5 routing over 4 shards, read-back of every record,
# KPL aggregates byte for byte.
. "$(dirname "$0")/lib.sh"
require_boto3

start_eddy --in-memory
python3 "$E2E_DIR/test_boto3.py" || fail "test_boto3.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

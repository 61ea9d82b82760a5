#!/usr/bin/env bash
# boto3 against eddy's enhanced fan-out over HTTP/1.1 (see test_boto3_efo.py): botocore's own
# event-stream parser reads SubscribeToShard.
. "$(dirname "$0")/lib.sh"
require_boto3

start_eddy --in-memory
timeout 120 python3 "$E2E_DIR/test_boto3_efo.py" || fail "test_boto3_efo.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

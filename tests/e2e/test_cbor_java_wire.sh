#!/usr/bin/env bash
# Kinesis in CBOR 1.1 as the AWS Java SDK sends it (byte-string Data, tag-1 epoch-ms timestamps):
# PutRecord/PutRecords, GetShardIterator AT_TIMESTAMP, GetRecords, errors. See cbor_java_wire.py;
# it carries its own minimal CBOR codec, so cbor2 is not needed.
. "$(dirname "$0")/lib.sh"
require_cmd python3
python3 -c 'import botocore' 2>/dev/null || fail "botocore is not importable by python3 (pip install boto3)"

start_eddy --in-memory
python3 "$E2E_DIR/cbor_java_wire.py" || fail "cbor_java_wire.py failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

#!/usr/bin/env bash
# @aws-sdk/client-kinesis v3 (NodeHttpHandler, HTTP/1.1) against eddy; see kinesis_js_test.mjs.
# Installs the SDK from the committed package-lock.json into tests/e2e/node_modules when missing.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps

start_eddy --in-memory
# The pinned SDK supports Node 20; its notice about future releases is noise here.
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/kinesis_js_test.mjs" || fail "kinesis_js_test.mjs failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

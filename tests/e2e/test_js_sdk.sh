#!/usr/bin/env bash
# @aws-sdk/client-kinesis v3 (NodeHttpHandler, HTTP/1.1) against eddy; see kinesis_js_test.mjs.
# Installs the SDK from the committed package-lock.json into tests/e2e/node_modules when missing.
. "$(dirname "$0")/lib.sh"
require_cmd node "Node.js 20 or newer"
require_cmd npm "npm (comes with Node.js)"
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || fail "Node.js $(node --version) is too old: the AWS SDK v3 needs 20 or newer"

if [[ ! -d "$E2E_DIR/node_modules/@aws-sdk/client-kinesis" || ! -d "$E2E_DIR/node_modules/@smithy/node-http-handler" ||
  "$E2E_DIR/package-lock.json" -nt "$E2E_DIR/node_modules/.package-lock.json" ]]; then
  log "npm ci in $E2E_DIR"
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
    fail "npm ci failed in $E2E_DIR (is the npm registry reachable?)"
fi

start_eddy --in-memory
# The pinned SDK supports Node 20; its notice about future releases is noise here.
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/kinesis_js_test.mjs" || fail "kinesis_js_test.mjs failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

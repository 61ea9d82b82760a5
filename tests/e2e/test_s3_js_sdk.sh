#!/usr/bin/env bash
# @aws-sdk/client-s3 v3 (NodeHttpHandler, HTTP/1.1, path style) against eddy in --auth verify
# mode; see s3_js_test.mjs. Then the same SDK drives versioning, tagging, a bucket policy and
# SSE-C (s3_js_features_test.mjs). Installs the SDK from the committed package-lock.json when missing.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps

start_eddy --in-memory --auth verify --access-key test --secret-key test
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/s3_js_test.mjs" || fail "s3_js_test.mjs failed (see above)"
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/s3_js_features_test.mjs" || fail "s3_js_features_test.mjs failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

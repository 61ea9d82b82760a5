#!/usr/bin/env bash
# @aws-sdk/client-kinesis v3 with its default request handler (NodeHttp2Handler, HTTP/2) against
# eddy in --auth verify mode: prior-knowledge h2c on the plain port and ALPN h2 on the TLS
# listener; see kinesis_js_h2_test.mjs.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps

start_eddy_tls --in-memory --auth verify

AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true NODE_EXTRA_CA_CERTS="$E2E_TMP/cert.pem" \
  EDDY_URLS="$EDDY_URL $HTTPS_URL" node "$E2E_DIR/kinesis_js_h2_test.mjs" ||
  fail "kinesis_js_h2_test.mjs failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

#!/usr/bin/env bash
# Enhanced fan-out with @aws-sdk/client-kinesis v3's default (HTTP/2) client, over prior-knowledge
# h2c and over TLS with ALPN h2; the event stream also decoded by lifion-aws-event-stream over
# HTTP/1.1. See kinesis_js_efo_test.mjs.
. "$(dirname "$0")/lib.sh"
e2e_npm_deps

start_eddy_tls --in-memory

AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true NODE_EXTRA_CA_CERTS="$E2E_TMP/cert.pem" \
  EDDY_URLS="$EDDY_URL $HTTPS_URL" node "$E2E_DIR/kinesis_js_efo_test.mjs" ||
  fail "kinesis_js_efo_test.mjs failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"

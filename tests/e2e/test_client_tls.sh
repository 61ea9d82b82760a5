#!/usr/bin/env bash
# The client tools over HTTPS against eddy's own TLS listener (a self-signed certificate):
# verification against the system store refuses it in one line, AWS_CA_BUNDLE naming the
# certificate makes it trusted (host name checked: localhost), --no-verify-ssl skips the check.
. "$(dirname "$0")/lib.sh"
require_cmd openssl
require_cmd aws

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost" \
  -keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
start_eddy --in-memory --tls-cert "$E2E_TMP/cert.pem" --tls-key "$E2E_TMP/key.pem" --tls-port 0
TLS_PORT=$(listener_port tls)
aws_kinesis create-stream --stream-name tls --shard-count 1 >/dev/null
aws_kinesis put-record --stream-name tls --partition-key k --data over-tls >/dev/null

set +e
err=$("$EDDY_BIN" tail --endpoint "https://localhost:$TLS_PORT" --stream tls --max-attempts 1 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && "$err" == "eddy tail: TransportError: TLS handshake with localhost:$TLS_PORT: TLS: certificate verify failed"* ]] ||
  fail "a self-signed certificate was not refused: rc $rc, '$err'"

got=$(AWS_CA_BUNDLE="$E2E_TMP/cert.pem" "$EDDY_BIN" tail --endpoint "https://localhost:$TLS_PORT" --stream tls) ||
  fail "tail with AWS_CA_BUNDLE failed"
[[ $(pyjson 'j["data"]' <<<"$got") == over-tls ]] || fail "tail over TLS printed: $got"
set +e
err=$(AWS_CA_BUNDLE="$E2E_TMP/cert.pem" "$EDDY_BIN" tail --endpoint "https://127.0.0.1:$TLS_PORT" --stream tls --max-attempts 1 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && "$err" == *"certificate verify failed"* ]] || fail "a certificate for localhost was accepted for 127.0.0.1: rc $rc, '$err'"

got=$("$EDDY_BIN" tail --endpoint "https://127.0.0.1:$TLS_PORT" --stream tls --no-verify-ssl) || fail "tail --no-verify-ssl failed"
[[ $(pyjson 'j["data"]' <<<"$got") == over-tls ]] || fail "tail --no-verify-ssl printed: $got"
echo "PASS: client tools over TLS"

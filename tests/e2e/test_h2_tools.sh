#!/usr/bin/env bash
# HTTP/2 against eddy with nghttp2's own tools (Debian nghttp2-client) and curl: prior knowledge,
# h2c via Upgrade, ALPN h2 over TLS; nghttp fetching many streams on one connection; h2load
# putting records over 100 concurrent streams of one connection (every one a 2xx, every record
# stored).
. "$(dirname "$0")/lib.sh"
require_cmd curl
require_cmd nghttp
require_cmd h2load

start_eddy_tls --in-memory

log "curl: prior knowledge, Upgrade, ALPN"
v=$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http2-prior-knowledge "$EDDY_URL/_eddy/health")
[[ "$v" == "2 200" ]] || fail "curl --http2-prior-knowledge: $v"
v=$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http2 "$EDDY_URL/_eddy/health")
[[ "$v" == "2 200" ]] || fail "curl --http2 (Upgrade: h2c): $v"
v=$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http2 --cacert "$E2E_TMP/cert.pem" "$HTTPS_URL/_eddy/health")
[[ "$v" == "2 200" ]] || fail "curl --http2 over TLS (ALPN): $v"
v=$(curl -sS -o /dev/null -w '%{http_version} %{http_code}' --http1.1 "$EDDY_URL/_eddy/health")
[[ "$v" == "1.1 200" ]] || fail "curl --http1.1 on the same port: $v"

KHDR=(-H 'content-type: application/x-amz-json-1.1' -H "x-amz-date: $(date -u +%Y%m%dT%H%M%SZ)"
  -H 'authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00')
log "curl: CreateStream over h2c"
code=$(curl -sS -o "$E2E_TMP/create.json" -w '%{http_code}' --http2-prior-knowledge "${KHDR[@]}" \
  -H 'x-amz-target: Kinesis_20131202.CreateStream' -d '{"StreamName":"h2load","ShardCount":2}' "$EDDY_URL/")
[[ "$code" == 200 ]] || fail "CreateStream over h2: $code $(cat "$E2E_TMP/create.json")"
wait_active h2load

log "nghttp: 50 streams on one connection"
nghttp -ns -m 50 "$EDDY_URL/_eddy/health" >"$E2E_TMP/nghttp.txt" 2>&1 || fail "nghttp failed: $(tail -5 "$E2E_TMP/nghttp.txt")"
n=$(grep -c '/_eddy/health' "$E2E_TMP/nghttp.txt" || true)
[[ "$n" -ge 50 ]] || fail "nghttp: $n of 50 streams in its statistics: $(cat "$E2E_TMP/nghttp.txt")"
nghttp -nv "$HTTPS_URL/_eddy/health" 2>&1 | grep -q ':status: 200' || fail "nghttp over TLS (ALPN h2)"

log "h2load: 2000 PutRecords, one connection, 100 concurrent streams"
printf '{"StreamName":"h2load","PartitionKey":"pk","Data":"aGVsbG8="}' >"$E2E_TMP/put.json"
h2load -n 2000 -c 1 -m 100 "${KHDR[@]}" -H 'x-amz-target: Kinesis_20131202.PutRecord' \
  -d "$E2E_TMP/put.json" "$EDDY_URL/" >"$E2E_TMP/h2load.txt" 2>&1 || fail "h2load failed: $(cat "$E2E_TMP/h2load.txt")"
grep -q 'requests: 2000 total, 2000 started, 2000 done, 2000 succeeded' "$E2E_TMP/h2load.txt" ||
  fail "h2load: $(grep requests: "$E2E_TMP/h2load.txt")"
grep -q 'status codes: 2000 2xx' "$E2E_TMP/h2load.txt" || fail "h2load: $(grep 'status codes' "$E2E_TMP/h2load.txt")"
count=$(curl -sS --http2-prior-knowledge "${KHDR[@]}" -H 'x-amz-target: Kinesis_20131202.DescribeStreamSummary' \
  -d '{"StreamName":"h2load"}' "$EDDY_URL/" | pyjson 'j["StreamDescriptionSummary"]["StreamName"]')
[[ "$count" == h2load ]] || fail "DescribeStreamSummary over h2: $count"

stop_eddy || fail "eddy exited with status $? after SIGTERM"

#!/usr/bin/env bash
# The AWS CLI's S3 commands against eddy in verify mode: mb, cp of a small and a 20 MiB file
# (multipart with parallel parts and the CLI's default CRC checksums), ranged download with
# If-Match, sync up and down with --delete, rm and rb; files compared with cmp.
. "$(dirname "$0")/lib.sh"
require_cmd aws "pip install awscli"
require_cmd python3

start_eddy --in-memory --auth verify --access-key test --secret-key test
O="$E2E_TMP/s3"
mkdir -p "$O/up/sub" "$O/down"
s3() { aws --endpoint-url "$EDDY_URL" --output json "$@"; }

python3 - "$O" <<'PY'
import os, random, sys
o = sys.argv[1]
r = random.Random(3)
open(os.path.join(o, "small.txt"), "wb").write(b"small file for eddy\n")
with open(os.path.join(o, "big.bin"), "wb") as f:
    f.write(r.randbytes(20 * 1024 * 1024))
for i in range(5):
    open(os.path.join(o, "up", "f%d.txt" % i), "wb").write(r.randbytes(1000 + i))
open(os.path.join(o, "up", "sub", "nested.bin"), "wb").write(r.randbytes(70000))
PY

log "mb / cp small / cp 20 MiB (multipart)"
s3 s3 mb s3://cli-bucket || fail "mb failed"
s3 s3 cp --only-show-errors "$O/small.txt" s3://cli-bucket/small.txt || fail "cp small failed"
s3 s3 cp --only-show-errors "$O/big.bin" s3://cli-bucket/dir/big.bin || fail "cp big failed"
s3 s3api head-object --bucket cli-bucket --key dir/big.bin >"$O/head.json" || fail "head-object failed"
etag=$(pyjson 'j["ETag"]' <"$O/head.json")
# The CLI's multipart_chunksize is 8 MiB: 20 MiB is three parts (8 + 8 + 4).
case "$etag" in *-3\") ;; *) fail "20 MiB upload was not a 3-part multipart upload: ETag $etag" ;; esac
[ "$(pyjson 'j["ContentLength"]' <"$O/head.json")" = 20971520 ] || fail "wrong ContentLength"

log "download and compare"
s3 s3 cp --only-show-errors s3://cli-bucket/small.txt "$O/down/small.txt" || fail "download small failed"
cmp "$O/small.txt" "$O/down/small.txt" || fail "small file differs"
s3 s3 cp --only-show-errors s3://cli-bucket/dir/big.bin "$O/down/big.bin" || fail "download big failed"
cmp "$O/big.bin" "$O/down/big.bin" || fail "big file differs"

log "ranged get with If-Match"
s3 s3api get-object --bucket cli-bucket --key dir/big.bin --range bytes=1048570-1048589 --if-match "$etag" \
  "$O/down/range.bin" >"$O/range.json" || fail "ranged get failed"
python3 - "$O" <<'PY' || fail "ranged content differs"
import sys
o = sys.argv[1]
want = open(o + "/big.bin", "rb").read()[1048570:1048590]
assert open(o + "/down/range.bin", "rb").read() == want
PY
[ "$(pyjson 'j["ContentRange"]' <"$O/range.json")" = "bytes 1048570-1048589/20971520" ] || fail "wrong Content-Range"
if s3 s3api get-object --bucket cli-bucket --key dir/big.bin --if-match '"nope"' "$O/down/x" 2>"$O/err.txt"; then
  fail "If-Match with a wrong ETag succeeded"
fi
grep -q "PreconditionFailed\|412" "$O/err.txt" || fail "expected PreconditionFailed: $(cat "$O/err.txt")"

log "sync up / down with --delete"
s3 s3 sync --only-show-errors "$O/up" s3://cli-bucket/synced || fail "sync up failed"
s3 s3 sync --only-show-errors s3://cli-bucket/synced "$O/synced" || fail "sync down failed"
diff -r "$O/up" "$O/synced" || fail "synced trees differ"
rm "$O/up/f0.txt"
s3 s3 sync --only-show-errors "$O/up" s3://cli-bucket/synced --delete || fail "sync --delete failed"
s3 s3 ls s3://cli-bucket/synced/ --recursive >"$O/ls.txt" || fail "ls failed"
grep -q "f0.txt" "$O/ls.txt" && fail "f0.txt still listed after sync --delete"
[ "$(wc -l <"$O/ls.txt")" -eq 5 ] || fail "expected 5 objects: $(cat "$O/ls.txt")"
s3 s3 sync --only-show-errors s3://cli-bucket/synced "$O/synced" --delete || fail "sync down --delete failed"
diff -r "$O/up" "$O/synced" || fail "trees differ after sync --delete"

log "rm / rb"
s3 s3 rm --only-show-errors s3://cli-bucket --recursive >/dev/null || fail "rm --recursive failed"
s3 s3 rb s3://cli-bucket || fail "rb failed"
if AWS_SECRET_ACCESS_KEY=wrong s3 s3 ls 2>"$O/err.txt"; then fail "a wrong secret was accepted"; fi
grep -q "SignatureDoesNotMatch" "$O/err.txt" || fail "expected SignatureDoesNotMatch: $(cat "$O/err.txt")"
stop_eddy || fail "eddy exited with an error"
echo "PASS"

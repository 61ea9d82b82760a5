// @aws-sdk/client-s3 v3 over NodeHttpHandler (HTTP/1.1, keep-alive, path style) against eddy in
// --auth verify mode, with the SDK's default checksum settings: Buffer bodies carry an
// x-amz-checksum-crc32 header, stream bodies go out as aws-chunked with a CRC32 trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER) — the combination that broke most emulators in 2025.
// Run by test_s3_js_sdk.sh with EDDY_URL and E2E_TMP set.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { Readable } from "node:stream";
import assert from "node:assert/strict";
import {
  S3Client,
  S3ServiceException,
  CreateBucketCommand,
  HeadBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  DeleteObjectsCommand,
  DeleteBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  CompleteMultipartUploadCommand,
  NoSuchKey,
  NoSuchBucket,
  NotFound,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { runMain } from "./kinesis_e2e.mjs";

const url = process.env.EDDY_URL;
const tmp = process.env.E2E_TMP;
assert.ok(url && tmp, "EDDY_URL and E2E_TMP must be set");
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const makeClient = (secretAccessKey) =>
  new S3Client({
    endpoint: url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 5000, requestTimeout: 60000 }),
  });
const s3 = makeClient("test");

// The headers each command really sent (after the checksum middleware and signing), so the test
// can prove which body encoding eddy was given rather than assume it.
const sent = [];
s3.middlewareStack.add(
  (next, context) => async (args) => {
    sent.push({ command: context.commandName, headers: { ...args.request.headers } });
    return next(args);
  },
  { step: "finalizeRequest", priority: "low", name: "eddyRecordHeaders" },
);
// Rewrites the CRC32 trailer of aws-chunked bodies for keys starting "corrupt-trailer/", after
// signing (the trailer of STREAMING-UNSIGNED-PAYLOAD-TRAILER is not signed), so eddy gets a
// well-formed stream whose trailing checksum does not match the bytes.
const WRONG_CRC = "AAAAAA==";
s3.middlewareStack.add(
  (next) => async (args) => {
    const req = args.request;
    if (!req.path.includes("/corrupt-trailer/") || req.headers["content-encoding"] !== "aws-chunked") return next(args);
    const chunks = [];
    for await (const c of req.body) chunks.push(Buffer.from(c));
    const text = Buffer.concat(chunks).toString("latin1");
    const fixed = text.replace(/x-amz-checksum-crc32:[A-Za-z0-9+/=]+\r\n\r\n$/, `x-amz-checksum-crc32:${WRONG_CRC}\r\n\r\n`);
    assert.notEqual(fixed, text, "no CRC32 trailer found to corrupt");
    req.body = Buffer.from(fixed, "latin1");
    return next(args);
  },
  { step: "finalizeRequest", priority: "low", name: "eddyCorruptTrailer" },
);
const lastSent = (command) => {
  const s = sent.filter((x) => x.command === command).at(-1);
  assert.ok(s, `no ${command} was sent`);
  return s.headers;
};

const md5 = (b) => crypto.createHash("md5").update(b).digest();
const etagOf = (b) => `"${md5(b).toString("hex")}"`;
const crc32b64 = (b) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b));
  return out.toString("base64");
};
const bodyOf = async (r) => Buffer.from(await r.Body.transformToByteArray());

const BUCKET = "js-sdk-bucket";

async function main() {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));

  // 1. Buffer body: CRC32 in a header, Content-Length, non-ASCII key with spaces and '+'.
  const small = crypto.randomBytes(200_000);
  const smallKey = "dir/a b+c ü.bin";
  const put1 = await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: smallKey,
      Body: small,
      ContentType: "application/x-eddy",
      Metadata: { colour: "blue" },
    }),
  );
  const h1 = lastSent("PutObjectCommand");
  assert.equal(h1["x-amz-checksum-crc32"], crc32b64(small), "SDK did not send the CRC32 header it should");
  assert.equal(h1["content-encoding"], undefined);
  assert.equal(put1.ETag, etagOf(small));
  assert.equal(put1.ChecksumCRC32, crc32b64(small));

  // 2. Stream body: aws-chunked with a trailing x-amz-checksum-crc32, HTTP chunked on the wire.
  // The odd highWaterMark makes the SDK's aws-chunked frames straddle HTTP chunk boundaries.
  const big = crypto.randomBytes(6 * 1024 * 1024 + 12345);
  const bigPath = path.join(tmp, "big.bin");
  fs.writeFileSync(bigPath, big);
  const put2 = await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: "big.bin",
      Body: fs.createReadStream(bigPath, { highWaterMark: 100_003 }),
      ContentLength: big.length,
    }),
  );
  const h2 = lastSent("PutObjectCommand");
  assert.equal(h2["content-encoding"], "aws-chunked", `stream PUT was not aws-chunked: ${JSON.stringify(h2)}`);
  assert.equal(h2["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  assert.equal(h2["x-amz-trailer"], "x-amz-checksum-crc32");
  assert.equal(h2["x-amz-decoded-content-length"], String(big.length));
  assert.equal(h2["transfer-encoding"], "chunked");
  assert.equal(put2.ETag, etagOf(big), "ETag is not the MD5 of the decoded payload");
  assert.equal(put2.ChecksumCRC32, crc32b64(big));

  // The other trailer algorithms the SDK has built in. SHA digests are checked here; CRC32C is
  // checked by the SDK itself, which validates the checksum a GET with ChecksumMode returns.
  for (const alg of ["CRC32C", "SHA1", "SHA256"]) {
    const key = `alg/${alg}`;
    const r = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: Readable.from([small.subarray(0, 77_777), small.subarray(77_777)]),
        ContentLength: small.length,
        ChecksumAlgorithm: alg,
      }),
    );
    const h = lastSent("PutObjectCommand");
    assert.equal(h["content-encoding"], "aws-chunked", `${alg} PUT was not aws-chunked`);
    assert.equal(h["x-amz-trailer"], `x-amz-checksum-${alg.toLowerCase()}`);
    if (alg.startsWith("SHA"))
      assert.equal(r[`Checksum${alg}`], crypto.createHash(alg.toLowerCase()).update(small).digest("base64"), alg);
    const g = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    assert.ok((await bodyOf(g)).equals(small), `${alg} object differs`);
    assert.equal(g[`Checksum${alg}`], r[`Checksum${alg}`], `${alg} returned on GET`);
    assert.equal(g.ChecksumType, "FULL_OBJECT");
  }

  // A CRC32 that does not match the bytes is refused (given explicitly, the SDK sends it as is).
  await assert.rejects(
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "bad-crc.bin",
        Body: small,
        ChecksumCRC32: crc32b64(Buffer.from("something else")),
      }),
    ),
    (e) => {
      assert.equal(e.name, "BadDigest", `expected BadDigest, got ${e.name}: ${e.message}`);
      assert.equal(e.message, "The CRC32 you specified did not match the calculated checksum.");
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    },
  );

  // The same stream with a wrong CRC32 in its trailer: BadDigest, and nothing is stored.
  await assert.rejects(
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "corrupt-trailer/x.bin",
        Body: fs.createReadStream(bigPath, { highWaterMark: 100_003 }),
        ContentLength: big.length,
      }),
    ),
    (e) => {
      assert.equal(e.name, "BadDigest", `expected BadDigest for a wrong trailer, got ${e.name}: ${e.message}`);
      assert.equal(e.message, "The CRC32 you specified did not match the calculated checksum.");
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    },
  );
  assert.equal(lastSent("PutObjectCommand")["x-amz-trailer"], "x-amz-checksum-crc32");
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "corrupt-trailer/x.bin" })), NotFound);

  // 3. GETs: whole objects with ChecksumMode (the SDK validates the CRC32 it gets back), a range.
  const g1 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: smallKey, ChecksumMode: "ENABLED" }));
  assert.ok((await bodyOf(g1)).equals(small), "small GET body differs");
  assert.equal(g1.ContentType, "application/x-eddy");
  assert.deepEqual(g1.Metadata, { colour: "blue" });
  assert.equal(g1.ChecksumCRC32, crc32b64(small));
  assert.equal(g1.ETag, etagOf(small));
  const g2 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big.bin", ChecksumMode: "ENABLED" }));
  assert.equal(g2.ContentLength, big.length);
  assert.ok((await bodyOf(g2)).equals(big), "big GET body differs");
  assert.equal(g2.ChecksumCRC32, crc32b64(big));
  const g3 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big.bin", Range: "bytes=1048570-1048599" }));
  assert.equal(g3.$metadata.httpStatusCode, 206);
  assert.equal(g3.ContentRange, `bytes 1048570-1048599/${big.length}`);
  assert.ok((await bodyOf(g3)).equals(big.subarray(1048570, 1048600)), "ranged GET body differs");
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: smallKey }));
  assert.equal(head.ContentLength, small.length);
  assert.equal(head.Metadata.colour, "blue");

  // 4. Multipart: CRC32 parts uploaded in parallel, last part first, one of them as a stream.
  const partSize = 5 * 1024 * 1024;
  const mp = crypto.randomBytes(2 * partSize + 777_777);
  const parts = [mp.subarray(0, partSize), mp.subarray(partSize, 2 * partSize), mp.subarray(2 * partSize)];
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "mp/object.bin", ChecksumAlgorithm: "CRC32" }),
  );
  assert.ok(UploadId, "no UploadId");
  const uploaded = await Promise.all(
    [2, 1, 0].map(async (i) => {
      const body = i === 1 ? Readable.from([parts[i].subarray(0, 1_000_001), parts[i].subarray(1_000_001)]) : parts[i];
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "mp/object.bin",
          UploadId,
          PartNumber: i + 1,
          Body: body,
          ContentLength: parts[i].length,
          ChecksumAlgorithm: "CRC32",
        }),
      );
      assert.equal(r.ETag, etagOf(parts[i]), `part ${i + 1} ETag`);
      assert.equal(r.ChecksumCRC32, crc32b64(parts[i]), `part ${i + 1} CRC32`);
      return { PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 };
    }),
  );
  assert.ok(
    sent.some((s) => s.command === "UploadPartCommand" && s.headers["content-encoding"] === "aws-chunked"),
    "no UploadPart went out aws-chunked",
  );
  const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: "mp/object.bin", UploadId }));
  assert.deepEqual(
    listed.Parts.map((p) => [p.PartNumber, p.Size]),
    parts.map((p, i) => [i + 1, p.length]),
  );
  uploaded.sort((a, b) => a.PartNumber - b.PartNumber);
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: "mp/object.bin",
      UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
  const wantEtag = `"${md5(Buffer.concat(parts.map(md5))).toString("hex")}-3"`;
  assert.equal(done.ETag, wantEtag, "multipart ETag is not md5-of-md5s-N");
  // S3's composite checksum: the CRC32 of the parts' raw CRC32s, then "-<parts>".
  const wantCrc = `${crc32b64(Buffer.concat(parts.map((p) => Buffer.from(crc32b64(p), "base64"))))}-3`;
  assert.equal(done.ChecksumCRC32, wantCrc, "multipart composite CRC32");
  assert.equal(done.ChecksumType, "COMPOSITE");
  const gm = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "mp/object.bin", ChecksumMode: "ENABLED" }));
  assert.equal(gm.ContentLength, mp.length);
  assert.equal(gm.ETag, wantEtag);
  assert.equal(gm.ChecksumCRC32, wantCrc);
  assert.ok((await bodyOf(gm)).equals(mp), "multipart object differs from its parts");

  // 5. Listing: delimiter, CommonPrefixes, paging through continuation tokens, start-after.
  const listKeys = [];
  for (let i = 0; i < 11; i++) listKeys.push(`list/k${String(i).padStart(2, "0")}`);
  listKeys.push("list/sub/x", "list/sub/y", "list/zz ü");
  for (const k of listKeys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: k }));
  const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: "/" }));
  assert.deepEqual((top.Contents ?? []).map((o) => o.Key), ["big.bin"]);
  assert.deepEqual(
    (top.CommonPrefixes ?? []).map((p) => p.Prefix),
    ["alg/", "dir/", "list/", "mp/"],
  );
  const pages = [];
  const seen = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 4 }, { Bucket: BUCKET, Prefix: "list/" })) {
    pages.push(page.KeyCount);
    for (const o of page.Contents ?? []) {
      seen.push(o.Key);
      assert.equal(o.Size, Buffer.byteLength(o.Key));
      assert.equal(o.ETag, etagOf(Buffer.from(o.Key)));
      assert.ok(o.LastModified instanceof Date && Math.abs(Date.now() - o.LastModified) < 300_000, "LastModified");
    }
  }
  assert.deepEqual(seen, [...listKeys].sort(), "paged listing is not every key once, in order");
  assert.deepEqual(pages, [4, 4, 4, 2]);
  const sub = await s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "list/", Delimiter: "/", StartAfter: "list/k09" }),
  );
  assert.deepEqual((sub.Contents ?? []).map((o) => o.Key), ["list/k10", "list/zz ü"]);
  assert.deepEqual((sub.CommonPrefixes ?? []).map((p) => p.Prefix), ["list/sub/"]);

  // 6. Errors arrive as the SDK's typed exceptions.
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "nope" })), (e) => {
    assert.ok(e instanceof NoSuchKey, `expected NoSuchKey, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, 404);
    return true;
  });
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "nope" })), (e) => {
    assert.ok(e instanceof NotFound, `expected NotFound, got ${e.name}`);
    assert.equal(e.$metadata.httpStatusCode, 404);
    return true;
  });
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: "js-no-such-bucket" })), (e) => {
    assert.ok(e instanceof NoSuchBucket, `expected NoSuchBucket, got ${e.name}`);
    return true;
  });
  const wrong = makeClient("not-the-secret");
  await assert.rejects(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: "w", Body: "w" })), (e) => {
    assert.ok(e instanceof S3ServiceException, `expected an S3ServiceException, got ${e}`);
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$metadata.httpStatusCode, 403);
    return true;
  });
  wrong.destroy();

  // 7. DeleteObjects (the SDK adds its own checksum of the XML body), then the bucket goes.
  const all = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: BUCKET }))
    for (const o of page.Contents ?? []) all.push({ Key: o.Key });
  assert.equal(all.length, listKeys.length + 6);
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: all } }));
  assert.equal((del.Errors ?? []).length, 0, `DeleteObjects errors: ${JSON.stringify(del.Errors)}`);
  assert.deepEqual(
    del.Deleted.map((d) => d.Key).sort(),
    all.map((o) => o.Key).sort(),
  );
  await s3.send(new DeleteBucketCommand({ Bucket: BUCKET }));
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: BUCKET })), (e) => e.$metadata.httpStatusCode === 404);

  console.log(`PASS: js sdk v3 s3: ${sent.length} requests, ${sent.filter((s) => s.headers["content-encoding"] === "aws-chunked").length} aws-chunked`);
}

runMain(main, s3, agent);

// @aws-sdk/client-s3 v3 drives the S3 features of issue 17 end to end against eddy in
// --auth verify mode: versioning (versions, GET by version, delete markers, ListObjectVersions),
// object tagging, a bucket policy granting anonymous reads (and its status), and SSE-C (the
// object unreadable without its key). Run by test_s3_js_sdk.sh with EDDY_URL set.
import assert from "node:assert/strict";
import * as S3 from "@aws-sdk/client-s3";
import { runMain } from "./kinesis_e2e.mjs";

const url = process.env.EDDY_URL || assert.fail("EDDY_URL must be set");
const s3 = new S3.S3Client({
  endpoint: url,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const text = (r) => r.Body.transformToString();
async function rejects(promise, code, status) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof S3.S3ServiceException, `not an S3 error: ${e}`);
    if (code) assert.equal(e.name, code);
    if (status) assert.equal(e.$metadata.httpStatusCode, status);
    return;
  }
  assert.fail(`expected ${code || status}`);
}

async function versioning() {
  const Bucket = "js-versions";
  await s3.send(new S3.CreateBucketCommand({ Bucket }));
  await s3.send(new S3.PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }));
  assert.equal((await s3.send(new S3.GetBucketVersioningCommand({ Bucket }))).Status, "Enabled");
  const v1 = (await s3.send(new S3.PutObjectCommand({ Bucket, Key: "k", Body: "one" }))).VersionId;
  const v2 = (await s3.send(new S3.PutObjectCommand({ Bucket, Key: "k", Body: "two" }))).VersionId;
  assert.ok(v1 && v2 && v1 !== v2, `version ids ${v1} ${v2}`);
  assert.equal(await text(await s3.send(new S3.GetObjectCommand({ Bucket, Key: "k" }))), "two");
  const old = await s3.send(new S3.GetObjectCommand({ Bucket, Key: "k", VersionId: v1 }));
  assert.equal(old.VersionId, v1);
  assert.equal(await text(old), "one");
  const del = await s3.send(new S3.DeleteObjectCommand({ Bucket, Key: "k" }));
  assert.equal(del.DeleteMarker, true);
  await rejects(s3.send(new S3.GetObjectCommand({ Bucket, Key: "k" })), "NoSuchKey", 404);
  const list = await s3.send(new S3.ListObjectVersionsCommand({ Bucket }));
  assert.deepEqual(list.Versions.map((v) => v.VersionId), [v2, v1]);
  assert.equal(list.DeleteMarkers.length, 1);
  assert.equal(list.DeleteMarkers[0].IsLatest, true);
  // Removing the delete marker brings the newest version back.
  await s3.send(new S3.DeleteObjectCommand({ Bucket, Key: "k", VersionId: list.DeleteMarkers[0].VersionId }));
  assert.equal(await text(await s3.send(new S3.GetObjectCommand({ Bucket, Key: "k" }))), "two");
}

async function taggingAndPolicy() {
  const Bucket = "js-policy";
  await s3.send(new S3.CreateBucketCommand({ Bucket }));
  await s3.send(new S3.PutObjectCommand({ Bucket, Key: "pub/a.txt", Body: "public", Tagging: "team=core" }));
  await s3.send(new S3.PutObjectTaggingCommand({
    Bucket, Key: "pub/a.txt", Tagging: { TagSet: [{ Key: "team", Value: "edge" }, { Key: "tier", Value: "1" }] },
  }));
  const tags = (await s3.send(new S3.GetObjectTaggingCommand({ Bucket, Key: "pub/a.txt" }))).TagSet;
  assert.deepEqual(tags.map((t) => `${t.Key}=${t.Value}`).sort(), ["team=edge", "tier=1"]);

  assert.equal((await fetch(`${url}/${Bucket}/pub/a.txt`)).status, 403);
  const Policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${Bucket}/pub/*` }],
  });
  await s3.send(new S3.PutBucketPolicyCommand({ Bucket, Policy }));
  assert.equal((await s3.send(new S3.GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus.IsPublic, true);
  const anon = await fetch(`${url}/${Bucket}/pub/a.txt`);
  assert.equal(anon.status, 200);
  assert.equal(await anon.text(), "public");
  await s3.send(new S3.DeleteBucketPolicyCommand({ Bucket }));
  assert.equal((await fetch(`${url}/${Bucket}/pub/a.txt`)).status, 403);
}

async function sseC() {
  const Bucket = "js-ssec";
  const key = { SSECustomerAlgorithm: "AES256", SSECustomerKey: "0123456789abcdef0123456789abcdef" };
  await s3.send(new S3.CreateBucketCommand({ Bucket }));
  const put = await s3.send(new S3.PutObjectCommand({ Bucket, Key: "secret", Body: "sealed", ...key }));
  assert.equal(put.SSECustomerAlgorithm, "AES256");
  await rejects(s3.send(new S3.GetObjectCommand({ Bucket, Key: "secret" })), undefined, 400);
  const wrong = { ...key, SSECustomerKey: "fedcba9876543210fedcba9876543210" };
  await rejects(s3.send(new S3.GetObjectCommand({ Bucket, Key: "secret", ...wrong })), undefined, 400);
  const got = await s3.send(new S3.GetObjectCommand({ Bucket, Key: "secret", ...key }));
  assert.equal(got.SSECustomerAlgorithm, "AES256");
  assert.equal(await text(got), "sealed");
}

runMain(async () => {
  await versioning();
  await taggingAndPolicy();
  await sseC();
  console.log("s3_js_features_test ok");
}, s3);

// @aws-sdk/client-kinesis v3 over NodeHttpHandler (HTTP/1.1, keep-alive) against eddy: records put
// across 4 shards and read back, each once, intact, in the shard its MD5 hash key selects.
// Run by test_js_sdk.sh with EDDY_URL set.
import http from "node:http";
import crypto from "node:crypto";
import assert from "node:assert/strict";
import {
  DescribeStreamCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createActiveStream, kinesisClient, readShard, runMain } from "./kinesis_e2e.mjs";

const url = process.env.EDDY_URL;
assert.ok(url, "EDDY_URL is not set");
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const client = kinesisClient(
  url,
  new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 5000, requestTimeout: 30000 }),
);

const STREAM = "js-sdk-e2e";
const MAX_HASH = (1n << 128n) - 1n;
const md5Key = (pk) => BigInt("0x" + crypto.createHash("md5").update(pk, "utf8").digest("hex"));

function shardFor(shards, key) {
  const owners = shards.filter(
    (s) => BigInt(s.HashKeyRange.StartingHashKey) <= key && key <= BigInt(s.HashKeyRange.EndingHashKey),
  );
  assert.equal(owners.length, 1, `hash key ${key} owned by ${owners.map((s) => s.ShardId)}`);
  return owners[0].ShardId;
}

async function main() {
  await createActiveStream(client, STREAM, 4);
  const { Shards: shards } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
  assert.deepEqual(
    shards.map((s) => s.ShardId),
    [0, 1, 2, 3].map((i) => `shardId-${String(i).padStart(12, "0")}`),
  );
  assert.equal(BigInt(shards[0].HashKeyRange.StartingHashKey), 0n);
  assert.equal(BigInt(shards[3].HashKeyRange.EndingHashKey), MAX_HASH);
  const desc = await client.send(new DescribeStreamCommand({ StreamName: STREAM }));
  assert.equal(desc.StreamDescription.Shards.length, 4);
  assert.equal(desc.StreamDescription.StreamStatus, "ACTIVE");

  const sent = new Map(); // sequence number -> { pk, data, shard }
  const order = []; // [shard, seq] in acknowledgement order

  // PutRecords: 3 batches of 150, binary data including every byte value.
  for (let b = 0; b < 3; b++) {
    const entries = [];
    for (let i = 0; i < 150; i++) {
      const data = crypto.randomBytes(1 + ((i * 37) % 400));
      entries.push({ PartitionKey: `js-${b}-${i}-ü`, Data: new Uint8Array(data) });
    }
    const r = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: entries }));
    assert.equal(r.FailedRecordCount ?? 0, 0, "PutRecords FailedRecordCount");
    assert.equal(r.Records.length, entries.length);
    r.Records.forEach((res, i) => {
      assert.equal(res.ErrorCode, undefined, `PutRecords entry ${i} failed: ${res.ErrorMessage}`);
      assert.match(res.SequenceNumber, /^\d{56}$/);
      assert.ok(!sent.has(res.SequenceNumber), `sequence number ${res.SequenceNumber} handed out twice`);
      sent.set(res.SequenceNumber, { pk: entries[i].PartitionKey, data: Buffer.from(entries[i].Data), shard: res.ShardId });
      order.push([res.ShardId, res.SequenceNumber]);
    });
  }

  // PutRecord, including ExplicitHashKey at both ends of the key space.
  for (let i = 0; i < 20; i++) {
    const pk = `single-${i % 5}`;
    const data = Buffer.from(`single record ${i}`);
    const input = { StreamName: STREAM, PartitionKey: pk, Data: new Uint8Array(data) };
    let want = shardFor(shards, md5Key(pk));
    if (i === 7) {
      input.ExplicitHashKey = MAX_HASH.toString();
      want = "shardId-000000000003";
    } else if (i === 8) {
      input.ExplicitHashKey = "0";
      want = "shardId-000000000000";
    }
    const r = await client.send(new PutRecordCommand(input));
    assert.equal(r.ShardId, want, `PutRecord ${i} (${pk}) went to ${r.ShardId}`);
    sent.set(r.SequenceNumber, { pk, data, shard: r.ShardId, ehk: input.ExplicitHashKey });
    order.push([r.ShardId, r.SequenceNumber]);
  }

  for (const [seq, rec] of sent) {
    if (rec.ehk === undefined) {
      assert.equal(rec.shard, shardFor(shards, md5Key(rec.pk)), `record ${seq} (${rec.pk}) in the wrong shard`);
    }
  }

  const returned = new Set();
  const perShard = {};
  for (const s of shards) {
    const recs = await readShard(client, STREAM, s.ShardId);
    perShard[s.ShardId] = recs.length;
    assert.deepEqual(
      recs.map((r) => r.SequenceNumber),
      order.filter(([sh]) => sh === s.ShardId).map(([, q]) => q),
      `shard ${s.ShardId}: not the acknowledged records in order`,
    );
    for (const r of recs) {
      const want = sent.get(r.SequenceNumber);
      assert.ok(want, `shard ${s.ShardId} returned a record nobody put: ${r.SequenceNumber}`);
      assert.ok(!returned.has(r.SequenceNumber), `record ${r.SequenceNumber} returned twice`);
      returned.add(r.SequenceNumber);
      assert.equal(r.PartitionKey, want.pk);
      assert.ok(Buffer.from(r.Data).equals(want.data), `record ${r.SequenceNumber}: Data differs`);
      assert.equal(want.shard, s.ShardId);
      assert.ok(r.ApproximateArrivalTimestamp instanceof Date, "ApproximateArrivalTimestamp is not a Date");
      assert.ok(Math.abs(Date.now() - r.ApproximateArrivalTimestamp.getTime()) < 300000, "timestamp far from now");
    }
  }
  assert.equal(returned.size, sent.size, `${sent.size - returned.size} acknowledged records never returned`);
  assert.ok(Object.values(perShard).every((n) => n > 50), `records not spread: ${JSON.stringify(perShard)}`);

  // Errors come back as the SDK's typed exceptions.
  await assert.rejects(
    client.send(new PutRecordCommand({ StreamName: "js-missing", PartitionKey: "a", Data: new Uint8Array([1]) })),
    (e) => {
      assert.ok(e instanceof ResourceNotFoundException, `expected ResourceNotFoundException, got ${e.name}: ${e.message}`);
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.ok(e.$metadata.requestId, "no x-amzn-RequestId on the error");
      assert.match(e.message, /js-missing/);
      return true;
    },
  );
  console.log(`PASS: js sdk v3: ${sent.size} records over ${JSON.stringify(perShard)}`);
}

runMain(main, agent, client);

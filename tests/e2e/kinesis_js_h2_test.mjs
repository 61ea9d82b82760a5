// @aws-sdk/client-kinesis v3 with its DEFAULT request handler (NodeHttp2Handler: HTTP/2, prior
// knowledge h2c for http://, ALPN h2 for https://) against eddy: create, PutRecord (many at
// once: concurrent streams on one session), PutRecords, GetRecords, a typed error.
// Run by test_js_sdk_h2.sh with EDDY_URLS (space-separated endpoints) and NODE_EXTRA_CA_CERTS.
import crypto from "node:crypto";
import assert from "node:assert/strict";
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";
import { createActiveStream, kinesisClient, readShard } from "./kinesis_e2e.mjs";

const urls = (process.env.EDDY_URLS || "").split(" ").filter(Boolean);
assert.ok(urls.length > 0, "EDDY_URLS is not set");

async function run(url, n) {
  // No requestHandler: the client's default, which for Kinesis is HTTP/2.
  const client = kinesisClient(url);
  const handler = client.config.requestHandler;
  assert.equal(handler?.constructor?.name, "NodeHttp2Handler", "the default handler is not NodeHttp2Handler");
  const stream = `js-h2-${n}`;
  await createActiveStream(client, stream, 2);
  const { Shards: shards } = await client.send(new ListShardsCommand({ StreamName: stream }));
  assert.equal(shards.length, 2);

  // 100 PutRecords in flight at once: streams multiplexed on the handler's one session.
  const sent = new Map();
  const puts = [];
  for (let i = 0; i < 100; i++) {
    const data = crypto.randomBytes(1 + (i % 300));
    puts.push(
      client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: `pk-${i}`, Data: new Uint8Array(data) }))
        .then((r) => {
          assert.match(r.SequenceNumber, /^\d{56}$/);
          assert.ok(!sent.has(r.SequenceNumber), "sequence number handed out twice");
          sent.set(r.SequenceNumber, data);
        }),
    );
  }
  await Promise.all(puts);
  const batch = [];
  for (let i = 0; i < 200; i++) batch.push({ PartitionKey: `b-${i}`, Data: new Uint8Array(crypto.randomBytes(100)) });
  const pr = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
  assert.equal(pr.FailedRecordCount ?? 0, 0);
  pr.Records.forEach((r, i) => sent.set(r.SequenceNumber, Buffer.from(batch[i].Data)));
  assert.equal(sent.size, 300);

  let got = 0;
  for (const s of shards) {
    for (const rec of await readShard(client, stream, s.ShardId, { limit: 1000, maxCalls: 100 })) {
      assert.ok(sent.has(rec.SequenceNumber), `unknown record ${rec.SequenceNumber}`);
      assert.ok(Buffer.from(rec.Data).equals(sent.get(rec.SequenceNumber)), "record data differs");
      got++;
    }
  }
  assert.equal(got, 300, "not every record read back");

  await assert.rejects(
    client.send(new DescribeStreamSummaryCommand({ StreamName: "no-such-stream" })),
    (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 400,
  );
  client.destroy();
  console.log(`ok ${url}: 300 records over HTTP/2`);
}

let n = 0;
for (const url of urls) await run(url, n++);

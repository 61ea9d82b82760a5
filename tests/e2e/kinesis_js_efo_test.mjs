// Enhanced fan-out with the AWS SDK for JavaScript v3's DEFAULT Kinesis client (NodeHttp2Handler:
// h2c with prior knowledge for http://, ALPN h2 for https://): RegisterStreamConsumer, then
// SubscribeToShard, iterating the event stream the SDK decodes (its own event-stream decoder,
// CRCs checked) and receiving records put after subscribing. Then the same subscription read
// over HTTP/1.1 and decoded by an independent decoder, lifion-aws-event-stream.
// Run by test_js_sdk_efo.sh with EDDY_URLS (space-separated endpoints) and NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import {
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  PutRecordCommand,
  SubscribeToShardCommand,
  ResourceInUseException,
} from "@aws-sdk/client-kinesis";
import { createActiveStream, kinesisClient as client, sleep } from "./kinesis_e2e.mjs";

const require = createRequire(import.meta.url);
// parse(buffer) decodes one message (checking both CRCs). Its streaming Parser is not used: it
// loses the rest of a chunk that holds more than one message.
const { parse } = require("lifion-aws-event-stream");

const urls = (process.env.EDDY_URLS || "").split(" ").filter(Boolean);
assert.ok(urls.length > 0, "EDDY_URLS is not set");

async function register(c, streamArn, name) {
  const { Consumer } = await c.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
  assert.match(Consumer.ConsumerARN, new RegExp(`^${streamArn}/consumer/${name}:\\d+$`));
  for (let i = 0; ; i++) {
    const d = await c.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
    if (d.ConsumerDescription.ConsumerStatus === "ACTIVE") break;
    assert.ok(i < 100, "consumer never became ACTIVE");
    await sleep(100);
  }
  return Consumer.ConsumerARN;
}

async function setup(c, stream) {
  const summary = await createActiveStream(c, stream, 1);
  return { streamArn: summary.StreamARN, consumerArn: await register(c, summary.StreamARN, "efo-app") };
}

async function sdk(url, n) {
  const c = client(url);
  assert.equal(c.config.requestHandler?.constructor?.name, "NodeHttp2Handler", "the default handler is not HTTP/2");
  const stream = `js-efo-${n}`;
  const { streamArn, consumerArn } = await setup(c, stream);
  const before = await c.send(new PutRecordCommand({ StreamName: stream, PartitionKey: "k", Data: Buffer.from("before") }));

  const sub = await c.send(
    new SubscribeToShardCommand({
      ConsumerARN: consumerArn,
      ShardId: "shardId-000000000000",
      StartingPosition: { Type: "TRIM_HORIZON" },
    }),
  );
  // A second subscription for the same consumer and shard is refused while this one lives.
  await assert.rejects(
    c.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: "shardId-000000000000", StartingPosition: { Type: "LATEST" } })),
    (e) => e instanceof ResourceInUseException,
  );

  const got = [];
  const sent = [before.SequenceNumber];
  let continuation;
  for await (const ev of sub.EventStream) {
    const e = ev.SubscribeToShardEvent;
    assert.ok(e, `unexpected event ${JSON.stringify(Object.keys(ev))}`);
    for (const r of e.Records) got.push(r);
    continuation = e.ContinuationSequenceNumber;
    if (got.length === 1 && sent.length === 1) {
      // Subscribed and caught up: these records arrive while the subscription is open.
      for (let i = 0; i < 3; i++) {
        const r = await c.send(new PutRecordCommand({ StreamName: stream, PartitionKey: `p${i}`, Data: Buffer.from(`after-${i}`) }));
        sent.push(r.SequenceNumber);
      }
    }
    if (got.length >= 4) break;
  }
  assert.deepEqual(got.map((r) => r.SequenceNumber), sent);
  assert.equal(Buffer.from(got[0].Data).toString(), "before");
  assert.equal(Buffer.from(got[3].Data).toString(), "after-2");
  assert.ok(got[3].ApproximateArrivalTimestamp instanceof Date);
  assert.equal(continuation, sent[3]);
  // A second consumer of the same stream, for the HTTP/1.1 read below (the first one's
  // subscription ends when the SDK's session closes, a moment after this).
  const rawArn = await register(c, streamArn, "efo-raw");
  c.destroy();
  console.log(`ok ${url}: SubscribeToShard delivered ${got.length} records, 3 of them put after subscribing`);
  return { stream, consumerArn: rawArn, sent };
}

// The same subscription over HTTP/1.1 (chunked), bytes decoded by lifion-aws-event-stream.
async function lifion(url, { consumerArn, sent }) {
  const body = JSON.stringify({
    ConsumerARN: consumerArn,
    ShardId: "shardId-000000000000",
    StartingPosition: { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: sent[0] },
  });
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const messages = await new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "Kinesis_20131202.SubscribeToShard",
        "x-amz-date": date,
        authorization: `AWS4-HMAC-SHA256 Credential=test/${date.slice(0, 8)}/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
        "content-length": Buffer.byteLength(body),
      },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => reject(new Error(`SubscribeToShard over HTTP/1.1: ${res.statusCode} ${text}`)));
        return;
      }
      assert.equal(res.headers["content-type"], "application/vnd.amazon.eventstream");
      assert.equal(res.headers["transfer-encoding"], "chunked");
      const out = [];
      let buf = Buffer.alloc(0);
      res.on("data", (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        // Each message starts with its total length.
        while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
          const n = buf.readUInt32BE(0);
          try {
            out.push(parse(buf.subarray(0, n)));
          } catch (e) {
            reject(e);
            return;
          }
          buf = buf.subarray(n);
        }
        const records = out.flatMap((x) => (x.headers[":event-type"] === "SubscribeToShardEvent" ? x.payload.Records : []));
        if (records.length >= 3) {
          res.destroy();
          resolve(out);
        }
      });
      res.on("end", () => reject(new Error("the event stream ended early")));
    });
    req.end(body);
  });
  assert.equal(messages[0].headers[":message-type"], "event");
  assert.equal(messages[0].headers[":event-type"], "initial-response");
  const records = messages.flatMap((m) => (m.headers[":event-type"] === "SubscribeToShardEvent" ? m.payload.Records : []));
  assert.deepEqual(records.map((r) => r.SequenceNumber), sent.slice(1));
  assert.equal(Buffer.from(records[0].Data, "base64").toString(), "after-0");
  console.log(`ok ${url}: lifion-aws-event-stream decoded ${messages.length} messages over HTTP/1.1`);
}

let n = 0;
for (const url of urls) {
  const r = await sdk(url, n++);
  if (url.startsWith("http://")) await lifion(url, r);
}
// Every check has passed. The SDK can keep an HTTP/2 session handle alive after destroy() while
// a broken-off event stream winds down; do not let that hold the test open.
process.exit(0);

// Shared by the JavaScript end-to-end tests: the AWS SDK v3 Kinesis client as they all make it,
// a stream created and waited for until ACTIVE, and the way a test script's main() ends.
import assert from "node:assert/strict";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-kinesis";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Test credentials, no retries; `requestHandler` undefined keeps the SDK's default (for Kinesis
// NodeHttp2Handler: HTTP/2).
export function kinesisClient(endpoint, requestHandler) {
  return new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    ...(requestHandler ? { requestHandler } : {}),
  });
}

// CreateStream, then DescribeStreamSummary every 100 ms (at most 100 times) until ACTIVE; the
// summary.
export async function createActiveStream(client, name, shards) {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 100; i++) {
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary;
    if (s.StreamStatus === "ACTIVE") return s;
    await sleep(100);
  }
  throw new Error(`stream ${name} never became ACTIVE`);
}

// Every record of an open shard from TRIM_HORIZON: GetRecords (`limit` each) until it returns
// nothing and MillisBehindLatest is 0; throws if that takes more than `maxCalls` calls.
export async function readShard(client, stream, shardId, { limit = 100, maxCalls = 1000 } = {}) {
  let it = (
    await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
    )
  ).ShardIterator;
  const out = [];
  for (let i = 0; i < maxCalls; i++) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
    out.push(...r.Records);
    assert.ok(r.NextShardIterator, `open shard ${shardId} returned no NextShardIterator`);
    it = r.NextShardIterator;
    if (r.Records.length === 0 && r.MillisBehindLatest === 0) return out;
  }
  throw new Error(`reading ${shardId} never caught up`);
}

// Runs main(); then destroys `closables` (clients, agents), or prints the failure and exits 1.
export function runMain(main, ...closables) {
  main()
    .then(() => {
      for (const c of closables) c.destroy();
    })
    .catch((e) => {
      console.error("FAIL:", e);
      process.exit(1);
    });
}

// Reads every shard of a stream from TRIM_HORIZON with @aws-sdk/client-kinesis and
// de-aggregates each record with aws-kinesis-agg (npm, checksums verified): an implementation
// of the KPL format independent of eddy's. Prints one line per user record: its data as UTF-8.
// Fails (exit 1) on a bad checksum or an aggregate holding a sub-record outside its shard.
//   node kinesis_agg_dump.mjs ENDPOINT STREAM > records.txt
import { createHash } from "node:crypto";
import { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import agg from "aws-kinesis-agg";

const [endpoint, stream] = process.argv.slice(2);
// eddy speaks HTTP/1.1; the SDK's Kinesis client defaults to HTTP/2.
const client = new KinesisClient({ endpoint, region: "us-east-1", maxAttempts: 1, requestHandler: new NodeHttpHandler(),
  credentials: { accessKeyId: "test", secretAccessKey: "test" } });

const hashKey = (pk) => BigInt("0x" + createHash("md5").update(pk, "utf8").digest("hex"));
const deagg = (rec) => new Promise((resolve, reject) =>
  agg.deaggregateSync(rec, true, (err, users) => (err ? reject(err) : resolve(users))));

let shards = [], token;
do {
  const r = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
  shards = shards.concat(r.Shards);
  token = r.NextToken;
} while (token);

let kinesisRecords = 0, aggregated = 0, users = 0, outside = 0;
const out = [];
for (const s of shards) {
  const lo = BigInt(s.HashKeyRange.StartingHashKey), hi = BigInt(s.HashKeyRange.EndingHashKey);
  let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId,
    ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
  while (it) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
    for (const rec of r.Records) {
      kinesisRecords++;
      const data = Buffer.from(rec.Data).toString("base64");
      const subs = await deagg({ partitionKey: rec.PartitionKey, sequenceNumber: rec.SequenceNumber, data });
      const isAgg = Buffer.from(rec.Data).subarray(0, 4).toString("hex") === "f3899ac2";
      if (isAgg) {
        aggregated++;
        if (rec.PartitionKey !== "a") { console.error(`aggregate with outer key ${rec.PartitionKey}`); process.exit(1); }
        if (subs.some((u) => { const h = u.explicitPartitionKey ? BigInt(u.explicitPartitionKey) : hashKey(u.partitionKey); return h < lo || h > hi; })) {
          outside++;
          continue;
        }
      }
      for (const u of subs) {
        users++;
        out.push(Buffer.from(u.data, "base64").toString("utf8"));
      }
    }
    if (r.Records.length === 0 && (r.MillisBehindLatest === 0 || !r.NextShardIterator)) break;
    it = r.NextShardIterator;
  }
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
console.error(`aws-kinesis-agg: ${shards.length} shards, ${kinesisRecords} Kinesis records (${aggregated} aggregated), ${users} user records, ${outside} aggregates outside their shard`);
if (outside > 0) process.exit(1);

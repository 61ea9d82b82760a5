// A KCL-style consumer in miniature: its leases and checkpoints live in DynamoDB (dynalite in
// CI), its records in Kinesis (eddy). docs/ci.md shows it; test_dynalite_leases.sh runs it.
//
//   node dynalite_lease_reader.mjs --worker W --stream S --shard SHARD_ID [--table T] [--keep-lease]
//   KINESIS_ENDPOINT=http://127.0.0.1:4566 DYNAMODB_ENDPOINT=http://127.0.0.1:4567
//
// It creates the lease table if needed (key `leaseKey`, as the KCL's), takes the shard's lease
// with a conditional write (leaseOwner/leaseCounter), reads the shard from the lease's
// checkpoint to its tip, checkpoints the last sequence number under the lease, and releases it
// unless --keep-lease. Prints one JSON line; exits 2 if another worker holds the lease.
import { parseArgs } from "node:util";
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, PutItemCommand, UpdateItemCommand,
  ConditionalCheckFailedException, ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { KinesisClient, GetShardIteratorCommand, GetRecordsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const { values: opt } = parseArgs({
  options: {
    worker: { type: "string" }, stream: { type: "string" }, shard: { type: "string" },
    table: { type: "string", default: "eddy-consumer-leases" }, "keep-lease": { type: "boolean", default: false },
  },
});
for (const k of ["worker", "stream", "shard"]) if (!opt[k]) throw new Error(`--${k} is required`);

const common = { region: process.env.AWS_REGION || "us-east-1",
                 credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const ddb = new DynamoDBClient({ ...common, endpoint: process.env.DYNAMODB_ENDPOINT });
// eddy speaks HTTP/1.1: the Node handler, as the README says for the JS SDK.
const kinesis = new KinesisClient({ ...common, endpoint: process.env.KINESIS_ENDPOINT,
                                    requestHandler: new NodeHttpHandler() });
const Table = opt.table;
const leaseKey = { leaseKey: { S: opt.shard } };

async function ensureTable() {
  try {
    await ddb.send(new CreateTableCommand({
      TableName: Table, KeySchema: [{ AttributeName: "leaseKey", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "leaseKey", AttributeType: "S" }],
      ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 10 },
    }));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  for (let i = 0; i < 600; i++) {
    const t = await ddb.send(new DescribeTableCommand({ TableName: Table }));
    if (t.Table.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`lease table ${Table} never became ACTIVE`);
}

// The KCL's lease take: a write that succeeds only if the lease is free (or already ours) at
// the counter we read; leaseCounter goes up by one, so a concurrent taker's write fails.
async function takeLease() {
  await ddb.send(new PutItemCommand({
    TableName: Table,
    Item: { ...leaseKey, leaseCounter: { N: "0" }, checkpoint: { S: "TRIM_HORIZON" } },
    ConditionExpression: "attribute_not_exists(leaseKey)",
  })).catch((e) => { if (!(e instanceof ConditionalCheckFailedException)) throw e; });
  try {
    const r = await ddb.send(new UpdateItemCommand({
      TableName: Table, Key: leaseKey,
      UpdateExpression: "SET leaseOwner = :me ADD leaseCounter :one",
      ConditionExpression: "attribute_not_exists(leaseOwner) OR leaseOwner = :me",
      ExpressionAttributeValues: { ":me": { S: opt.worker }, ":one": { N: "1" } },
      ReturnValues: "ALL_NEW",
    }));
    return r.Attributes;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return null;
    throw e;
  }
}

async function readFrom(checkpoint) {
  const it = await kinesis.send(new GetShardIteratorCommand({
    StreamName: opt.stream, ShardId: opt.shard,
    ...(checkpoint === "TRIM_HORIZON" ? { ShardIteratorType: "TRIM_HORIZON" }
                                      : { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: checkpoint }),
  }));
  let iterator = it.ShardIterator;
  const records = [];
  for (;;) {
    const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const rec of r.Records) {
      records.push({ sequenceNumber: rec.SequenceNumber, partitionKey: rec.PartitionKey,
                     data: Buffer.from(rec.Data).toString("utf8") });
    }
    iterator = r.NextShardIterator;
    if (!iterator || (r.Records.length === 0 && r.MillisBehindLatest === 0)) break;
  }
  return records;
}

// Checkpoint and (unless kept) release in one conditional write: only the owner at the counter
// it took may move the checkpoint.
async function checkpoint(lease, sequenceNumber) {
  const release = !opt["keep-lease"];
  await ddb.send(new UpdateItemCommand({
    TableName: Table, Key: leaseKey,
    UpdateExpression: "SET checkpoint = :cp" + (release ? " REMOVE leaseOwner" : ""),
    ConditionExpression: "leaseOwner = :me AND leaseCounter = :counter",
    ExpressionAttributeValues: { ":cp": { S: sequenceNumber }, ":me": { S: opt.worker },
                                 ":counter": { N: lease.leaseCounter.N } },
  }));
}

await ensureTable();
const lease = await takeLease();
if (!lease) {
  console.log(JSON.stringify({ worker: opt.worker, shard: opt.shard, lease: "held by another worker" }));
  process.exit(2);
}
const from = lease.checkpoint.S;
const records = await readFrom(from);
const last = records.length ? records[records.length - 1].sequenceNumber : from;
await checkpoint(lease, last);
console.log(JSON.stringify({ worker: opt.worker, shard: opt.shard, leaseCounter: Number(lease.leaseCounter.N),
                             from, checkpoint: last, released: !opt["keep-lease"], records }));

// Writes fixtures/event-stream/vectors.json: messages encoded by the AWS SDK for JavaScript's own
// event-stream codec (@smithy/core/event-streams EventStreamCodec), an encoder independent of
// eddy's. tests/unit/event_stream_test.cpp checks that wire/event_stream encodes the same
// messages to the same bytes and decodes these bytes back. Regenerate (after `npm ci` here):
//   node tests/e2e/event_stream_vectors.mjs > fixtures/event-stream/vectors.json
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { EventStreamCodec, Int64 } = require("@smithy/core/event-streams");

const utf8 = {
  fromUtf8: (s) => new Uint8Array(Buffer.from(s, "utf8")),
  toUtf8: (b) => Buffer.from(b).toString("utf8"),
};
const codec = new EventStreamCodec(utf8.toUtf8, utf8.fromUtf8);

// Each header as both sides describe it: type byte, and a value (strings/bytes as base64).
const cases = [
  {
    name: "initial-response",
    headers: [
      [":event-type", "string", "initial-response"],
      [":content-type", "string", "application/x-amz-json-1.1"],
      [":message-type", "string", "event"],
    ],
    payload: Buffer.from("{}"),
  },
  {
    name: "subscribe-to-shard-event",
    headers: [
      [":event-type", "string", "SubscribeToShardEvent"],
      [":content-type", "string", "application/x-amz-json-1.1"],
      [":message-type", "string", "event"],
    ],
    payload: Buffer.from(
      '{"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","Data":"aGVsbG8=","PartitionKey":"k","ApproximateArrivalTimestamp":1700000000.123}],"ContinuationSequenceNumber":"49590338271490256608559692538361571095921575989136588898","MillisBehindLatest":0}',
    ),
  },
  {
    name: "exception",
    headers: [
      [":exception-type", "string", "ResourceNotFoundException"],
      [":content-type", "string", "application/x-amz-json-1.1"],
      [":message-type", "string", "exception"],
    ],
    payload: Buffer.from('{"message":"Consumer not found."}'),
  },
  { name: "empty", headers: [], payload: Buffer.alloc(0) },
  {
    name: "every-header-type",
    headers: [
      ["t", "boolean", true],
      ["f", "boolean", false],
      ["b", "byte", -7],
      ["s", "short", -300],
      ["i", "integer", 123456789],
      ["l", "long", "-1234567890123"],
      ["y", "binary", Buffer.from([0, 1, 2, 255]).toString("base64")],
      ["str", "string", "héllo"],
      ["ts", "timestamp", 1700000000123],
      ["u", "uuid", "0123456789abcdef0123456789abcdef"],
    ],
    payload: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  },
];

const out = [];
for (const c of cases) {
  const headers = {};
  for (const [n, type, v] of c.headers) {
    let value = v;
    if (type === "long") value = Int64.fromNumber(Number(v));
    if (type === "binary") value = new Uint8Array(Buffer.from(v, "base64"));
    if (type === "timestamp") value = new Date(v);
    if (type === "uuid") value = v.replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, "$1-$2-$3-$4-$5");
    headers[n] = { type, value };
  }
  const bytes = codec.encode({ headers, body: new Uint8Array(c.payload) });
  // Decoded back by the same SDK, as a check on the description above.
  const back = codec.decode(bytes);
  if (Buffer.compare(Buffer.from(back.body), c.payload) !== 0) throw new Error(`${c.name}: body differs`);
  out.push({
    name: c.name,
    headers: c.headers.map(([n, type, v]) => ({ name: n, type, value: v })),
    payload_b64: c.payload.toString("base64"),
    encoded_b64: Buffer.from(bytes).toString("base64"),
  });
}
console.log(JSON.stringify({ generator: "@smithy/core/event-streams EventStreamCodec", vectors: out }, null, 1));

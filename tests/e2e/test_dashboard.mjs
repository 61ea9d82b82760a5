// Drives eddy's dashboard in headless Chromium. Run by test_dashboard.sh with EDDY_URL set.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import {
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createActiveStream, kinesisClient } from "./kinesis_e2e.mjs";

const url = process.env.EDDY_URL;
assert.ok(url, "EDDY_URL is not set");
const shared = process.env.EDDY_SHARED_DIR;
const client = kinesisClient(
  url,
  new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }), requestTimeout: 30000 }),
);
const createStream = (name, shards) => createActiveStream(client, name, shards);

async function putOrders(calls) {
  for (let c = 0; c < calls; c++) {
    const Records = [];
    for (let i = 0; i < 10; i++) Records.push({ PartitionKey: "order-" + i, Data: Buffer.alloc(93, 0x61) });
    const r = await client.send(new PutRecordsCommand({ StreamName: "dash-orders", Records }));
    assert.equal(r.FailedRecordCount, 0);
  }
}

await createStream("dash-orders", 2);
await createStream("dash-kpl", 1);
await putOrders(5); // 50 records, 50 user records
const vectors = JSON.parse(fs.readFileSync(path.join(shared, "fixtures", "kpl-agg-vectors.json"), "utf8"));
const five = vectors.vectors.find((v) => v.name === "five-records-shared-keys");
await client.send(
  new PutRecordCommand({
    StreamName: "dash-kpl",
    PartitionKey: "a",
    ExplicitHashKey: "1",
    Data: Buffer.from(five.aggregatedHex, "hex"),
  }),
);

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const problems = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
  page.on("request", (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith("data:")) problems.push("request outside eddy: " + r.url());
  });

  await page.goto(url + "/_eddy/", { waitUntil: "load" });
  const cellOf = (stream, field) => `#streams tr.stream[data-stream="${stream}"] td[data-field="${field}"]`;
  const expectCell = async (stream, field, text) => {
    await page.waitForFunction(
      ([sel, want]) => document.querySelector(sel)?.textContent === want,
      [cellOf(stream, field), text],
      { timeout: 10000 },
    ).catch(async () => {
      const got = await page.locator(cellOf(stream, field)).textContent().catch(() => "(missing)");
      throw new Error(`${stream} ${field}: want ${text}, got ${got}`);
    });
  };

  await expectCell("dash-orders", "records", "50");
  await expectCell("dash-orders", "user_records", "50");
  await expectCell("dash-orders", "put_api_calls", "5");
  await expectCell("dash-orders", "shards", "2");
  await expectCell("dash-orders", "payload_units", "50");
  await expectCell("dash-orders", "aggregation_ratio", "1.00");
  await expectCell("dash-kpl", "records", "1");
  await expectCell("dash-kpl", "user_records", "5");
  await expectCell("dash-kpl", "aggregation_ratio", "5.00");
  await expectCell("dash-kpl", "kcl_drops", "0");
  const shardRows = await page.locator('#streams tr.shard[data-stream="dash-orders"]').count();
  assert.equal(shardRows, 2, "one row per shard of dash-orders");
  const month = await page.locator(cellOf("dash-orders", "projected_month")).textContent();
  assert.match(month, /^\$\d+\.\d+$/, "projected month is a dollar figure");

  // Chart: a user-records and a PUTs path per stream, with the traffic of the last 5 minutes.
  const sums = await page.$$eval("#chart path.series", (ps) =>
    Object.fromEntries(ps.map((p) => [p.dataset.stream + "/" + p.dataset.series, Number(p.dataset.sum)])),
  );
  assert.deepEqual(sums, {
    "dash-kpl/puts": 1,
    "dash-kpl/user_records": 5,
    "dash-orders/puts": 50,
    "dash-orders/user_records": 50,
  });
  const legend = await page.locator("#chart text.legend").allTextContents();
  assert.ok(legend.includes("dash-orders PUTs/s"), "legend names dash-orders: " + legend);

  // The tail shows the aggregate's user records with their real partition keys.
  await page.selectOption("#tail-stream", "dash-kpl");
  await page.waitForSelector('#tail span.user-record[data-partition-key="gamma"]', { timeout: 10000 });
  const keys = await page.$$eval("#tail span.user-record", (s) => s.map((x) => x.dataset.partitionKey));
  assert.deepEqual(keys, ["alpha", "beta", "alpha", "gamma", "beta"]);
  const outer = await page.locator("#tail td[data-field=partition_key]").first().textContent();
  assert.match(outer, /^a KPL outer key/, "outer key shown as the KPL's: " + outer);

  // Live: more traffic shows up without a reload, and the page keeps polling every second.
  const before = Number(await page.evaluate(() => document.body.dataset.updates));
  await putOrders(1);
  await expectCell("dash-orders", "records", "60");
  await page.waitForFunction((n) => Number(document.body.dataset.updates) >= n + 2, before, { timeout: 10000 });
  await page.waitForFunction(
    () => Number(document.querySelector('#chart path[data-stream="dash-orders"][data-series="puts"]')?.dataset.sum) === 60,
    null,
    { timeout: 10000 },
  );
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
assert.deepEqual(problems, [], "the page logged problems");
console.log("dashboard: ok");

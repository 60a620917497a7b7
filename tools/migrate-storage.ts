#!/usr/bin/env node
// `npm run migrate:storage -- --local [--persist-to DIR]` or `-- --remote --env production`: converts the rows of
// 0.1's one-row-per-sample `samples` table into Storage v2 chunks (docs/storage-format.md), batch by batch.
// Each batch inserts its chunks and deletes its rows in ONE D1 request (one transaction), so the command can be
// stopped and run again at any point: it goes on with the rows that are left, and nothing is converted twice.
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import "./lib/src-imports.ts";

const { chunkRow, cut } = await import("../src/storage/d1/chunk-rows.ts");
type ChunkRow = import("../src/storage/d1/chunk-rows.ts").ChunkRow;
type ChunkSample = import("../src/storage/chunk/chunk-codec.ts").ChunkSample;

const USAGE = `Usage: npm run migrate:storage -- (--local [--persist-to DIR] | --remote) [--env NAME] [--batch N] [--max-batches N]
  Converts 0.1's per-sample rows into chunks, in batches of --batch rows (default 5000), and verifies each batch (its chunks hold exactly the rows it read and deleted).`;

/** A row of 0.1's `samples` table: a stored sample and its user. */
type LegacyRow = import("../src/storage/d1/reader.ts").StoredSample & { user_id: string };

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values: ReturnType<typeof parse>["values"];
function parse() {
  return parseArgs({
    options: {
      local: { type: "boolean" },
      remote: { type: "boolean" },
      "persist-to": { type: "string" },
      env: { type: "string" },
      batch: { type: "string", default: "5000" },
      "max-batches": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
try {
  ({ values } = parse());
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.local === values.remote) fail("Say where the database is: --local or --remote.");
const batchRows = Number(values.batch);
if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 50_000)
  fail("--batch must be a whole number from 1 to 50000.");
const maxBatches =
  values["max-batches"] === undefined ? Number.POSITIVE_INFINITY : Number(values["max-batches"]);
if (!(maxBatches >= 1)) fail("--max-batches must be a positive whole number.");

const target = [
  ...(values.local ? ["--local"] : ["--remote"]),
  ...(values["persist-to"] ? ["--persist-to", values["persist-to"]] : []),
  ...(values.env ? ["--env", values.env] : []),
];

/** Runs SQL through `wrangler d1 execute` (one request: one transaction) and returns each statement's rows. */
async function d1<T>(sql: string): Promise<T[][]> {
  const { stdout } = await promisify(execFile)(
    "npx",
    ["wrangler", "d1", "execute", "DB", ...target, "--json", "--yes", "--command", sql],
    { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  return (JSON.parse(stdout) as { results: T[] }[]).map((r) => r.results);
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const real = (v: number | null) => (v === null ? "NULL" : Object.is(v, -0) ? "-0.0" : String(v));
const hex = (bytes: Uint8Array) => `X'${Buffer.from(bytes).toString("hex")}'`;

function insertSql(userId: string, c: ChunkRow): string {
  const values = [
    quote(userId),
    quote(c.relayId),
    quote(c.ch),
    c.firstSeq,
    c.firstIdx,
    quote(c.sessionId),
    c.n,
    c.tMin,
    c.tMax,
    real(c.vMin),
    real(c.vMax),
    real(c.vSum),
    real(c.vFirst),
    real(c.vLast),
    hex(c.data),
  ];
  return `INSERT INTO sample_chunks (user_id, relay_id, ch, first_seq, first_idx, session_id, n, t_min, t_max, v_min, v_max, v_sum, v_first, v_last, data) VALUES (${values.join(", ")})`;
}

/** The chunks of a batch of legacy rows, grouped as the flush groups them (relay, session, channel). */
async function chunksOf(rows: LegacyRow[]): Promise<{ userId: string; chunk: ChunkRow }[]> {
  const groups = new Map<string, { row: LegacyRow; samples: ChunkSample[] }>();
  for (const row of rows) {
    const key = [row.user_id, row.relay_id, row.session_id, row.ch].join("\n");
    let group = groups.get(key);
    if (!group) {
      group = { row, samples: [] };
      groups.set(key, group);
    }
    group.samples.push({ seq: row.seq, idx: row.idx, t: row.t, v: row.v });
  }
  const out: { userId: string; chunk: ChunkRow }[] = [];
  for (const { row, samples } of groups.values()) {
    for (const part of cut(samples)) {
      out.push({ userId: row.user_id, chunk: await chunkRow(row.relay_id, row.session_id, row.ch, part) });
    }
  }
  return out;
}

const COUNTS =
  "SELECT (SELECT COUNT(*) FROM samples) AS legacy, (SELECT COALESCE(SUM(n), 0) FROM sample_chunks) AS chunked";
type Counts = { legacy: number; chunked: number };
const [[start]] = (await d1<Counts>(COUNTS)) as [[Counts]];
console.log(`legacy rows to convert: ${start.legacy}; samples already in chunks: ${start.chunked}`);
let converted = 0;
const began = Date.now();
for (let batch = 0; batch < maxBatches; batch++) {
  // Key order: a batch is one range of the primary key, deleted by that range. 0.1 rows (REAL v) keep -0 and
  // every double exactly through JSON, as D1 returns them.
  const [rows] = (await d1<LegacyRow>(
    `SELECT user_id, relay_id, session_id, seq, idx, t, ch, v FROM samples ORDER BY user_id, relay_id, seq, idx LIMIT ${batchRows}`,
  )) as [LegacyRow[]];
  if (rows.length === 0) break;
  const first = rows[0] as LegacyRow;
  const last = rows.at(-1) as LegacyRow;
  const chunks = await chunksOf(rows);
  // What this batch converts is checked on its own: the chunks hold exactly the rows read, and the delete takes
  // exactly those rows (live ingest writes chunks meanwhile, so totals over the tables prove nothing).
  const inChunks = chunks.reduce((sum, { chunk }) => sum + chunk.n, 0);
  if (inChunks !== rows.length) {
    console.error(
      `batch ${batch + 1}: ${rows.length} rows read but ${inChunks} samples in their chunks; nothing written`,
    );
    process.exit(1);
  }
  const statements = chunks.map(({ userId, chunk }) => insertSql(userId, chunk));
  statements.push(
    `DELETE FROM samples WHERE (user_id, relay_id, seq, idx) >= (${quote(first.user_id)}, ${quote(first.relay_id)}, ${first.seq}, ${first.idx}) AND (user_id, relay_id, seq, idx) <= (${quote(last.user_id)}, ${quote(last.relay_id)}, ${last.seq}, ${last.idx})`,
    "SELECT changes() AS deleted",
  );
  const results = await d1<{ deleted: number }>(statements.join(";\n"));
  const deleted = results.at(-1)?.[0]?.deleted;
  if (deleted !== rows.length) {
    console.error(`batch ${batch + 1}: converted ${rows.length} rows but the delete removed ${deleted}`);
    process.exit(1);
  }
  converted += rows.length;
  const rate = converted / Math.max(1, (Date.now() - began) / 1000);
  const percent = start.legacy > 0 ? ((100 * converted) / start.legacy).toFixed(1) : "100.0";
  console.log(
    `converted ${converted} of ${start.legacy} rows (${percent} %, ${rate.toFixed(0)} rows/s) into ${statements.length - 1} chunks this batch`,
  );
}
const [[end]] = (await d1<Counts>(COUNTS)) as [[Counts]];
// Only this command removes legacy rows (the Worker writes chunks only), so the legacy count is exact.
if (end.legacy !== start.legacy - converted) {
  console.error(`legacy rows: ${start.legacy} before, ${converted} converted, but ${end.legacy} left`);
  process.exit(1);
}
console.log(
  end.legacy === 0
    ? `done: every sample is in chunks (${end.chunked}); the legacy table is empty`
    : `stopped after ${converted} rows; ${end.legacy} legacy rows remain: run the command again to go on`,
);

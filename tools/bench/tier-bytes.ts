// Bytes per sample in each storage tier under `wrangler dev` with local D1 and R2, on a wrist-accelerometer-like
// recording (3 axes, 12.5 Hz, integer counts, walking and rest; generated, seeded): streamed as a fast relay
// would send it (frames of 3,000 samples, default flush) and as a 1 Hz relay with a 30 s flush leaves it in
// production (frames of one second, FLUSH_BATCH_SIZE 90: 30-sample chunks per axis). For each: the chunks as
// flushed, after the tier job's compaction, after its move to R2; every sample read back and compared with
// what was sent. Prints figures, never asserts.
//
//   node tools/bench/tier-bytes.ts            (run it in its own network namespace on a shared machine)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localD1Rows } from "../lib/local-d1.ts";
import { mintToken } from "../lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../lib/wrangler-dev.ts";

const PORT = 18392;
const SECRET = "bench-tier-bytes-secret-0123456789abcdef";
/** 2025-11-21 00:00 UTC: old enough for every hour to be settled and moved. */
const T0 = 1_763_683_200_000;
const HOURS = 6;
const ROWS = HOURS * 3_600 * 12.5;
const AXES = ["acc_x", "acc_y", "acc_z"];

type Sample = { t: number; ch: string; v: number };

/** The recording: 12.5 Hz rows of three integer axes (counts of 1/1000 g), walking bouts between rests. */
function recording(): Sample[] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const samples: Sample[] = [];
  let walking = false;
  let phase = 0;
  const drift: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < ROWS; i++) {
    if (i % 750 === 0) walking = random() < 0.4; // a new minute: walk or rest
    const t = T0 + i * 80;
    phase += walking ? (2 * Math.PI * 1.8) / 12.5 : 0;
    for (let a = 0; a < 3; a++) drift[a] = (drift[a] ?? 0) * 0.98 + (random() - 0.5) * 6;
    const [gx, gy, gz] = walking ? [320, 180, 140] : [0, 0, 0];
    const values = [
      gx * Math.sin(phase) + drift[0],
      -1000 + gy * Math.sin(2 * phase) + drift[1],
      gz * Math.cos(phase) + drift[2],
    ];
    values.forEach((v, a) => {
      samples.push({ t, ch: AXES[a] as string, v: Math.round(v + (random() - 0.5) * 24) });
    });
  }
  return samples;
}

const data = recording();
const shapes = [
  {
    name: "fast relay: frames of 3,000 samples, FLUSH_BATCH_SIZE 2,000",
    user: "wrist-fast",
    frame: 3_000,
    batch: "2000",
  },
  {
    name: "1 Hz relay, 30 s flush: frames of 1 s, FLUSH_BATCH_SIZE 90",
    user: "wrist-slow",
    frame: 36,
    batch: "90",
  },
];

for (const shape of shapes) {
  const persistTo = mkdtempSync(join(tmpdir(), "zander-tier-bytes-"));
  const start = (coldAfterS: string) =>
    startWranglerDev({
      port: PORT,
      persistTo,
      args: ["--test-scheduled"],
      vars: {
        AUTH_SECRET: SECRET,
        FLUSH_INTERVAL_MS: "200",
        FLUSH_BATCH_SIZE: shape.batch,
        COLD_AFTER_S: coldAfterS,
      },
    });
  let dev = await start("315360000");
  try {
    console.log(`\n${shape.name}: ${data.length.toLocaleString()} samples (${HOURS} h of 3 axes at 12.5 Hz)`);
    await ingest(dev, shape.user, shape.frame);
    const d1 = (sql: string) => localD1Rows<Record<string, number>>(persistTo, sql);
    await report(d1, shape.user, "as flushed");
    await runJob(dev, d1);
    await report(d1, shape.user, "after compaction");
    await dev.stop();
    dev = await start("1");
    await runJob(dev, d1);
    await report(d1, shape.user, "after the cold move");
    console.log(`  read back: ${await sameAsSent(dev, shape.user)}`);
  } finally {
    await dev.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

/** POSTs the recording in frames of `size` samples, 8 requests in flight, resending after buffer_full. */
async function ingest(dev: WranglerDev, user: string, size: number): Promise<void> {
  const token = await mintToken({ secret: SECRET, userId: user, role: "relay" });
  const frames = Array.from({ length: Math.ceil(data.length / size) }, (_, i) =>
    data.slice(i * size, (i + 1) * size),
  );
  let next = 0;
  const worker = async () => {
    while (next < frames.length) {
      const seq = ++next;
      const samples = frames[seq - 1] as Sample[];
      for (;;) {
        const res = await fetch(`${dev.url}/v1/users/${user}/samples`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ type: "samples", relay_id: "wrist", session_id: "day", seq, samples }),
        });
        const answer = (await res.json()) as { type: string; code?: string; retry_after_ms?: number };
        if (answer.type === "ack") break;
        if (answer.code !== "buffer_full") throw new Error(`POST refused: ${JSON.stringify(answer)}`);
        await new Promise((r) => setTimeout(r, answer.retry_after_ms ?? 200));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // Until D1 holds every sample (the flush runs on its own).
  const consumer = await mintToken({ secret: SECRET, userId: user, role: "consumer" });
  for (;;) {
    const res = await fetch(`${dev.url}/v1/users/${user}/channels`, {
      headers: { Authorization: `Bearer ${consumer}` },
    });
    const { channels } = (await res.json()) as { channels: { count: number }[] };
    if (channels.reduce((n, c) => n + c.count, 0) >= data.length) return;
    await new Promise((r) => setTimeout(r, 500)); // polling the flush, not a timed assertion
  }
}

async function report(d1: (sql: string) => Promise<Record<string, number>[]>, user: string, phase: string) {
  const where = `WHERE user_id = '${user}'`;
  const [warm] = await d1(
    `SELECT COUNT(*) AS chunks, COALESCE(SUM(n), 0) AS samples, COALESCE(SUM(LENGTH(data)), 0) AS payload,
       COALESCE(SUM(LENGTH(user_id) + LENGTH(relay_id) + LENGTH(session_id) + LENGTH(ch) + 80), 0) AS keys
     FROM sample_chunks ${where}`,
  );
  const [cold] = await d1(
    `SELECT COUNT(*) AS objects, COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(samples), 0) AS samples
     FROM cold_objects ${where}`,
  );
  const [index] = await d1(
    `SELECT COUNT(*) AS chunks, COALESCE(SUM(LENGTH(user_id) + LENGTH(relay_id) + LENGTH(session_id) + LENGTH(ch)
       + LENGTH(object_key) + 112), 0) AS bytes FROM cold_chunks ${where}`,
  );
  const n = data.length;
  const per = (bytes: number) => (bytes / n).toFixed(2);
  console.log(
    `  ${phase.padEnd(20)} D1: ${warm?.chunks} chunks (${Math.round((warm?.samples ?? 0) / Math.max(1, warm?.chunks ?? 1))} samples each), ` +
      `${per(warm?.payload ?? 0)} B/sample of chunk data + ${per(warm?.keys ?? 0)} B/sample of keys and statistics | ` +
      `R2: ${cold?.objects} objects, ${per(cold?.bytes ?? 0)} B/sample | D1 cold index: ${index?.chunks} rows, ${per(index?.bytes ?? 0)} B/sample`,
  );
}

/** Runs the cron's tier job until the chunk counts of both tiers stay the same over two runs. */
async function runJob(dev: WranglerDev, d1: (sql: string) => Promise<Record<string, number>[]>) {
  const count = async () =>
    JSON.stringify(
      await d1("SELECT (SELECT COUNT(*) FROM sample_chunks) AS w, (SELECT COUNT(*) FROM cold_chunks) AS c"),
    );
  let last = await count();
  for (let run = 1, same = 0; run <= 100 && same < 2; run++) {
    await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`).then((r) => r.text());
    // The job runs in waitUntil: wait for its lease to be released before counting.
    while ((await d1("SELECT lease_until AS l FROM tier_job"))[0]?.l !== 0) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const now = await count();
    same = now === last ? same + 1 : 0;
    last = now;
  }
}

/** Every sample read back through GET samples, compared with the recording (t, ch, v; exact). */
async function sameAsSent(dev: WranglerDev, user: string): Promise<string> {
  const token = await mintToken({ secret: SECRET, userId: user, role: "consumer" });
  const got: Sample[] = [];
  let cursor = "";
  for (;;) {
    const res = await fetch(
      `${dev.url}/v1/users/${user}/samples?limit=10000${cursor ? `&cursor=${cursor}` : ""}`,
      {
        headers: { Authorization: `Bearer ${token}` },
      },
    );
    const page = (await res.json()) as { samples: Sample[]; next_cursor: string | null };
    for (const s of page.samples) got.push({ t: s.t, ch: s.ch, v: s.v });
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  const key = (s: Sample) => `${s.t} ${s.ch} ${s.v}`;
  const sent = data.map(key).sort();
  const back = got.map(key).sort();
  const equal = sent.length === back.length && sent.every((k, i) => k === back[i]);
  return `${got.length.toLocaleString()} samples, ${equal ? "identical to" : "DIFFERENT from"} what was sent`;
}

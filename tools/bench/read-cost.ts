// Read cost under `wrangler dev`: the shapes (one-sample chunks from frames of many channels; a
// 4-channel recording of 8,000,000 samples), then the requests that used to cost seconds: a first page, a forged
// end-of-range cursor, a cursor deep in the range, /series at 11,000 and 2,000 buckets and over a year by day,
// /channels; in three phases: as flushed, after the tier job's compaction, and after its move to R2. Prints, per
// request, workerd's CPU time (from /proc, averaged over REPEAT runs) and wall time (local workerd on this
// machine: figures to compare, never an assertion), and what each answered.
//
//   node tools/bench/read-cost.ts            (run it in its own network namespace on a shared machine)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localD1Rows } from "../lib/local-d1.ts";
import { mintToken } from "../lib/token.ts";
import { startWranglerDev } from "../lib/wrangler-dev.ts";
import { groupCpuSeconds } from "./wrangler-server.ts";

const PORT = 18391;
const SECRET = "bench-read-cost-secret-0123456789abcdef";
const T0 = 1_763_700_000_000;
const DAY = 86_400_000;
/** Each request runs this many times: /proc counts CPU in 10 ms ticks. */
const REPEAT = 5;

const persistTo = mkdtempSync(join(tmpdir(), "zander-read-cost-"));
const shapes = [wideFrames(), longRecording()];
/** The tiers' job moves nothing during the first two phases: chunks are warm until COLD_AFTER_S is set to 1. */
const start = (coldAfterS: string) =>
  startWranglerDev({
    port: PORT,
    persistTo,
    args: ["--test-scheduled"],
    vars: { AUTH_SECRET: SECRET, FLUSH_INTERVAL_MS: "200", COLD_AFTER_S: coldAfterS },
  });
let dev = await start("315360000");
try {
  for (const shape of shapes) {
    const relay = await mintToken({ secret: SECRET, userId: shape.user, role: "relay" });
    let seq = 0;
    for (const samples of shape.frames) await post(shape.user, relay, ++seq, samples);
    await waitStored(shape.user, shape.total);
  }
  await measure("as flushed (warm)");
  await runJobUntil(async () => (await rows("SELECT COUNT(*) AS n FROM sample_chunks"))[0], "compaction");
  await measure("after compaction (warm)");
  await dev.stop();
  dev = await start("1");
  await runJobUntil(async () => (await rows("SELECT COUNT(*) AS n FROM sample_chunks"))[0], "cold move");
  await measure("after the cold move (R2)");
} finally {
  await dev.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

async function measure(phase: string): Promise<void> {
  const [warm, cold] = await Promise.all([
    rows("SELECT COUNT(*) AS n FROM sample_chunks"),
    rows("SELECT COUNT(*) AS n FROM cold_chunks"),
  ]);
  console.log(`\n== ${phase}: ${warm} warm chunks, ${cold} cold chunks`);
  for (const shape of shapes) {
    const consumer = await mintToken({ secret: SECRET, userId: shape.user, role: "consumer" });
    console.log(`${shape.name}: ${shape.total.toLocaleString()} samples`);
    const end = shape.end;
    const forged = cursor([end + 1, "zzzz", 1, 0]);
    const deep = cursor([T0 + Math.floor((end - T0) * 0.9), "bench", 0, 0]);
    const step = (buckets: number) => Math.ceil((end + 1 - T0) / buckets);
    const chs = shape.seriesChannels.map((c) => `ch=${c}`).join("&");
    for (const [label, path] of [
      ["first page, limit 10000", "samples?limit=10000"],
      ["forged end-of-range cursor", `samples?limit=10000&cursor=${forged}`],
      ["cursor at 90 % of the range", `samples?limit=10000&cursor=${deep}`],
      ["series, 4 channels x 11,000 buckets", `series?${chs}&from=${T0}&to=${end + 1}&step=${step(11_000)}`],
      ["series, 4 channels x 2,000 buckets", `series?${chs}&from=${T0}&to=${end + 1}&step=${step(2_000)}`],
      [
        "series, 4 channels, a year by day",
        `series?${chs}&from=${end + 1 - 365 * DAY}&to=${end + 1}&step=${DAY}`,
      ],
      ["channels of the whole range", `channels?from=${T0}&to=${end + 1}`],
    ] as const) {
      const cpuBefore = workerdCpu();
      const started = performance.now();
      let body: Record<string, unknown> = {};
      for (let i = 0; i < REPEAT; i++) {
        const res = await fetch(`${dev.url}/v1/users/${shape.user}/${path}`, {
          headers: { Authorization: `Bearer ${consumer}` },
        });
        body = (await res.json()) as Record<string, unknown>;
      }
      const ms = (performance.now() - started) / REPEAT;
      const cpuMs = ((workerdCpu() - cpuBefore) * 1_000) / REPEAT;
      const what =
        "count" in body
          ? `${body.count} samples, has_more ${body.has_more}`
          : "series" in body
            ? `${(body.series as { buckets: unknown[] }[]).reduce((n, s) => n + s.buckets.length, 0)} buckets, has_more ${body.has_more}`
            : `${(body.channels as unknown[]).length} channels`;
      console.log(
        `  ${label.padEnd(38)} CPU ${cpuMs.toFixed(0).padStart(5)} ms  wall ${ms.toFixed(0).padStart(5)} ms  ${what}`,
      );
    }
  }
}

/** Runs the cron's tier job until `count` stays the same over two runs (nothing left to merge or move). */
async function runJobUntil(count: () => Promise<number | undefined>, what: string): Promise<void> {
  let last = await count();
  let same = 0;
  for (let run = 1; run <= 100 && same < 2; run++) {
    await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`).then((r) => r.text());
    // The job runs in waitUntil: wait for its lease to be released (0) before counting.
    while ((await rows("SELECT lease_until FROM tier_job"))[0] !== 0) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const now = await count();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same === 2) console.log(`\n${what}: done after ${run} job runs`);
  }
}

/** The first column of each row of a query on the local D1. */
async function rows(sql: string): Promise<(number | undefined)[]> {
  return (await localD1Rows<Record<string, number>>(persistTo, sql)).map((r) => Object.values(r)[0]);
}

type Sample = { t: number; ch: string; v: number };

/** 5 frames of 10,000 channels, one sample each: 50,000 one-sample chunks. */
function wideFrames() {
  const frames = Array.from({ length: 5 }, (_, f) =>
    Array.from({ length: 10_000 }, (_, i): Sample => ({ t: T0 + f * 1_000 + (i % 100), ch: `c${i}`, v: i })),
  );
  return {
    name: "50,000 one-sample chunks",
    user: "bench-wide",
    frames,
    total: 50_000,
    end: T0 + 5_000,
    seriesChannels: ["c1", "c2", "c3", "c4"],
  };
}

/** 4 channels at 50 Hz for about 11 hours: 8,000,000 samples in frames of 10,000, made as they are sent. */
function longRecording() {
  const FRAMES = 800;
  const frames = {
    length: FRAMES,
    *[Symbol.iterator]() {
      for (let f = 0; f < FRAMES; f++) {
        yield Array.from({ length: 10_000 }, (_, i): Sample => {
          const n = f * 2_500 + Math.floor(i / 4);
          return { t: T0 + n * 20, ch: `a${i % 4}`, v: Math.round(300 * Math.sin(n / 50)) };
        });
      }
    },
  };
  return {
    name: "4 channels x 2,000,000 samples",
    user: "bench-long",
    frames,
    total: FRAMES * 10_000,
    end: T0 + (FRAMES * 2_500 - 1) * 20,
    seriesChannels: ["a0", "a1", "a2", "a3"],
  };
}

/** workerd's CPU seconds so far (the runtime: Worker, objects, local D1). */
function workerdCpu(): number {
  return groupCpuSeconds(dev.processGroup).workerd ?? 0;
}

async function post(user: string, token: string, seq: number, samples: Sample[]): Promise<void> {
  for (;;) {
    const res = await fetch(`${dev.url}/v1/users/${user}/samples`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ type: "samples", relay_id: "bench", session_id: "s1", seq, samples }),
    });
    const answer = (await res.json()) as { type: string; code?: string; retry_after_ms?: number };
    if (answer.type === "ack") return;
    if (answer.code !== "buffer_full") throw new Error(`POST refused: ${JSON.stringify(answer)}`);
    await new Promise((r) => setTimeout(r, answer.retry_after_ms ?? 200));
  }
}

async function waitStored(user: string, total: number): Promise<void> {
  const token = await mintToken({ secret: SECRET, userId: user, role: "consumer" });
  for (;;) {
    const res = await fetch(`${dev.url}/v1/users/${user}/channels`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const { channels } = (await res.json()) as { channels: { count: number }[] };
    if (channels.reduce((n, c) => n + c.count, 0) >= total) return;
    await new Promise((r) => setTimeout(r, 500)); // polling the flush, not a timed assertion
  }
}

function cursor(position: [number, string, number, number]): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localD1Rows } from "../../tools/lib/local-d1.ts";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import type { ReplayReport } from "../../tools/sim/replay-report.ts";
import { runNpmScript } from "./support/npm-script";
import { waitUntil } from "./support/wait-until";

// The storage tiers under `wrangler dev` with local D1 and R2: a recording streamed through the protocol, the
// cron's job (compaction, the cold move) triggered through /__scheduled, the server SIGKILLed while it runs and
// restarted, then every sample read back through the API exactly as it was; then retention deletes it all.
const PORT = 18350;
const SECRET = "e2e-tiers-secret-0123456789abcdef";
const T0 = 1_763_700_000_000;
const CHANNELS = ["acc_x", "acc_y", "acc_z"];

/** A 12.5 Hz 3-axis wrist accelerometer (integer counts), `rows` rows. */
function recording(rows: number): string {
  const lines = Array.from({ length: rows }, (_, i) => {
    const s = i / 12.5;
    return [
      T0 + i * 80,
      Math.round(300 * Math.sin(2 * Math.PI * 1.7 * s) + 12 * Math.sin(i * 12.9898)),
      Math.round(-980 + 40 * Math.cos(2 * Math.PI * 0.9 * s)),
      Math.round(60 * Math.sin(2 * Math.PI * 1.7 * s + 1)),
    ].join(",");
  });
  return `time_ms,${CHANNELS.join(",")}\n${lines.join("\n")}\n`;
}

describe("storage tiers against wrangler dev", () => {
  let dir: string;
  let server: WranglerDev | undefined;
  const start = (vars: Record<string, string> = {}) =>
    startWranglerDev({
      port: PORT,
      persistTo: join(dir, "state"),
      args: ["--test-scheduled"],
      vars: { AUTH_SECRET: SECRET, FLUSH_INTERVAL_MS: "100", COLD_AFTER_S: "1", ...vars },
    });
  const scheduled = () => fetch(`${server?.url}/__scheduled?cron=*+*+*+*+*`).then((r) => r.text());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-tiers-e2e-"));
    writeFileSync(join(dir, "recording.csv"), recording(6_000));
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function readAll(userId: string): Promise<unknown[]> {
    const token = await mintToken({ secret: SECRET, userId, role: "consumer" });
    const all: unknown[] = [];
    let cursor = "";
    for (;;) {
      const res = await fetch(`${server?.url}/v1/users/${userId}/samples?limit=10000${cursor}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const page = (await res.json()) as {
        samples: unknown[];
        next_cursor: string | null;
        errors: unknown[];
      };
      expect(page.errors).toEqual([]);
      all.push(...page.samples);
      if (!page.next_cursor) return all;
      cursor = `&cursor=${page.next_cursor}`;
    }
  }

  const chunksOf = async (persistTo: string, userId: string) => {
    const [row] = await localD1Rows(
      persistTo,
      `SELECT (SELECT COUNT(*) FROM sample_chunks WHERE user_id = '${userId}') AS warm,
              (SELECT COUNT(*) FROM cold_chunks WHERE user_id = '${userId}') AS cold,
              (SELECT COUNT(*) FROM cold_objects WHERE user_id = '${userId}') AS objects`,
    );
    return row as { warm: number; cold: number; objects: number };
  };

  it("merges and moves a streamed recording to R2 through a SIGKILL, and reads it back bit for bit", async () => {
    const run = await runNpmScript(
      "sim",
      [
        "--url",
        `http://127.0.0.1:${PORT}`,
        "--replay",
        join(dir, "recording.csv"),
        "--speed",
        "max",
        "--json",
      ],
      { ...process.env, AUTH_SECRET: SECRET },
    );
    expect(run.code, run.stderr).toBe(0);
    const { userId } = JSON.parse(run.stdout) as ReplayReport;
    const before = await readAll(userId);
    expect(before).toHaveLength(6_000 * 3);
    const persistTo = join(dir, "state");
    const warmBefore = (await chunksOf(persistTo, userId)).warm;

    // The job starts, and the whole server is killed while it runs; then it comes back on the same state.
    void scheduled().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(-(server as WranglerDev).processGroup, "SIGKILL");
    server = await start();
    expect(await readAll(userId)).toEqual(before);

    // Re-run until everything is cold (the killed run's lease expires within 30 s).
    const done = await waitUntil(
      "every chunk of the recording in R2",
      async () => {
        await scheduled();
        const state = await chunksOf(persistTo, userId);
        return state.warm === 0 && state.cold > 0 ? state : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    expect(done.cold).toBeLessThan(warmBefore);
    expect(done.objects).toBeGreaterThan(0);
    expect(await readAll(userId)).toEqual(before);
    const token = await mintToken({ secret: SECRET, userId, role: "consumer" });
    const channels = await fetch(`${server?.url}/v1/users/${userId}/channels`, {
      headers: { Authorization: `Bearer ${token}` },
    }).then((r) => r.json() as Promise<{ channels: { ch: string; count: number }[] }>);
    expect(channels.channels.map((c) => [c.ch, c.count])).toEqual(CHANNELS.map((ch) => [ch, 6_000]));

    // Retention of one day: the recording is older, and goes from every tier.
    await server?.stop();
    server = await start({ RETENTION_DAYS: "1" });
    await waitUntil(
      "retention to delete the recording",
      async () => {
        await scheduled();
        const state = await chunksOf(persistTo, userId);
        return state.warm + state.cold + state.objects === 0 ? state : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    expect(await readAll(userId)).toEqual([]);
  });
});

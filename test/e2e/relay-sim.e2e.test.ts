import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchServer, startBenchServer } from "../../tools/bench/wrangler-server.ts";
import { localD1Rows } from "../../tools/lib/local-d1.ts";
import { parseSimArgs, type SimOptions } from "../../tools/sim/options.ts";
import type { SimReport } from "../../tools/sim/report.ts";
import { runLoad } from "../../tools/sim/run.ts";
import { sampleValue } from "../../tools/sim/sample-identity.ts";
import { verifyStored } from "../../tools/sim/verify-stored.ts";
import { runNpmScript } from "./support/npm-script";

const PORT = 18822;
const SECRET = "e2e-relay-sim-secret-0123456789abcdef";

/** Runs `npm run sim -- ARGS` as an operator would, with AUTH_SECRET in the environment. */
const runSimCli = (args: string[]) => runNpmScript("sim", args, { ...process.env, AUTH_SECRET: SECRET });

describe("npm run sim (relay simulator) against wrangler dev", () => {
  let server: BenchServer;
  let persistTo: string;

  beforeAll(async () => {
    persistTo = mkdtempSync(join(tmpdir(), "zander-sim-e2e-"));
    server = await startBenchServer({
      port: PORT,
      config: "wrangler.toml",
      persistTo,
      vars: { AUTH_SECRET: SECRET },
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (persistTo) rmSync(persistTo, { recursive: true, force: true });
  });

  it("runs relays and consumers for a few seconds and finds every acked sample in D1 exactly once", async () => {
    const { code, stdout, stderr } = await runSimCli([
      "--url",
      server.url,
      "--users",
      "2",
      "--relays",
      "4",
      "--consumers",
      "2",
      "--samples",
      "20",
      "--duration",
      "2",
      "--json",
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as SimReport;
    expect(report.ok).toBe(true);
    expect(report.framesAcked).toBeGreaterThan(10);
    expect(report.samplesAcked).toBe(report.framesAcked * 20);
    expect(report.ackLatencyMs.count).toBe(report.framesAcked);
    // One consumer per user, connected before the relays: every acked frame is fanned out to it.
    expect(report.consumerSamples).toBe(report.samplesAcked);
    expect(report.fanoutLatencyMs.count).toBe(report.framesAcked);
    expect(report.lossCheck).toMatchObject({
      ok: true,
      settled: true,
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
    expect(report.lossCheck?.expected).toBe(report.samplesAcked);
    // Live progress went to stderr, the report alone to stdout.
    expect(stderr).toMatch(/frames\/s .* samples\/s unacked \d+ errors/);
  });

  it("lists its options with --help", async () => {
    const { code, stdout } = await runSimCli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run sim -- \[options\]/);
    for (const option of ["--url", "--secret", "--users", "--relays", "--consumers", "--samples", "--rate"]) {
      expect(stdout).toContain(option);
    }
  });

  it("names the option that is wrong and exits 2", async () => {
    const { code, stderr } = await runSimCli(["--url", server.url, "--samples", "0"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--samples must be a whole number from 1 to 10000, got "0"/);
  });

  it("catches a sample deleted from D1 and a sample stored twice", async () => {
    const options = parseSimArgs(
      ["--url", server.url, "--users", "1", "--relays", "2", "--samples", "5", "--frames", "20", "--quiet"],
      () => SECRET,
    ) as SimOptions;
    const load = await runLoad(options);
    expect(load.stats.framesAcked).toBe(40);
    const before = await verifyStored(server.url, load, 30);
    expect(before).toMatchObject({ ok: true, expected: 200, stored: 200 });

    const user = load.users[0]?.userId as string;
    // The chunk holding r0's seq 3 vanishes; one sample of r1 is stored a second time under another index
    // (as a row of 0.1's per-sample table, which reads still serve).
    const lost = await localD1Rows(
      persistTo,
      `SELECT n FROM sample_chunks WHERE user_id = '${user}' AND relay_id = 'r0' AND first_seq <= 3 ORDER BY first_seq DESC LIMIT 1`,
    );
    await localD1Rows(
      persistTo,
      `DELETE FROM sample_chunks WHERE user_id = '${user}' AND relay_id = 'r0' AND first_seq = (SELECT MAX(first_seq) FROM sample_chunks WHERE user_id = '${user}' AND relay_id = 'r0' AND first_seq <= 3)`,
    );
    await localD1Rows(
      persistTo,
      `INSERT INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v) VALUES ('${user}', 'r1', 'twin', 7, 104, 1, 'r1', ${sampleValue(7, 4)})`,
    );

    const after = await verifyStored(server.url, load, 10);
    expect(after).toMatchObject({
      ok: false,
      expected: 200,
      stored: 200 - Number(lost[0]?.n) + 1,
      missing: Number(lost[0]?.n),
      duplicates: 1,
      unexpected: 0,
    });
    expect(after.examples.missing[0]).toMatch(`${user}: ch=r0 seq=`);
    expect(after.examples.duplicates).toEqual([`${user}: ch=r1 seq=7 idx=4 stored 2 times`]);
  });
});

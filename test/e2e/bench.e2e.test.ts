import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchResults } from "../../tools/bench/results.ts";
import { runNpmScript } from "./support/npm-script";

const dir = mkdtempSync(join(tmpdir(), "zander-bench-e2e-"));

describe("npm run bench -- --quick", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("measures both ceilings and the pipeline in one wrangler dev, and prints the ratios", async () => {
    const json = join(dir, "bench.json");
    const out = join(dir, "BENCHMARKS.md");
    const { code, stdout, stderr } = await runNpmScript("bench", ["--quick", "--json", json, "--out", out]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(
      /\| samples\/frame \| relays \| parse ceiling samples\/s .* full\/parse \| full\/SQLite/,
    );

    const results = JSON.parse(readFileSync(json, "utf8")) as BenchResults;
    expect(results.matrix.map((r) => [r.samples, r.relays])).toEqual([
      [1, 1],
      [1, 10],
      [100, 1],
      [100, 10],
    ]);
    for (const row of results.matrix) {
      for (const cell of [row.parse, row.sqlite, row.pipeline]) {
        expect(cell.samplesPerS, `${cell.target} ${row.samples}x${row.relays}`).toBeGreaterThan(0);
        expect(cell.errors).toEqual({});
      }
      // Every acked sample of the pipeline cell reached D1 within the bound.
      expect(row.pipeline.drainS).not.toBeNull();
      expect(row.pipeline.serverCpuUsPerSample).toBeGreaterThan(0);
    }
    expect(results.fanout.fanoutMs.count).toBeGreaterThan(0);
    expect(results.users.map((c) => c.users)).toEqual([1, 10]);
    expect(results.metrics[0]).toMatchObject({ when: "after the throughput cells", failed: 0 });
    expect(results.metrics[0]?.lines).toBeGreaterThan(100);
    expect(results.machine.cpus).toBeGreaterThan(0);

    const markdown = readFileSync(out, "utf8");
    expect(markdown).toContain("<!-- bench:begin");
    expect(markdown).toContain("QUICK run");
    expect(markdown).toMatch(/workerd \d+\.\d+/);
  });
});

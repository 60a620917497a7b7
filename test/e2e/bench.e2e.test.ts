import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TARGETS_NOTE } from "../../tools/bench/markdown.ts";
import { type BenchResults, checkTargets, EXPLAINING_SECTIONS } from "../../tools/bench/results.ts";
import { runNpmScript } from "./support/npm-script";

const dir = mkdtempSync(join(tmpdir(), "zander-bench-e2e-"));

describe("npm run bench", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("measures both ceilings and the pipeline in one wrangler dev, and prints the ratios", async () => {
    const json = join(dir, "bench.json");
    const out = join(dir, "BENCHMARKS.md");
    const { code, stdout, stderr } = await runNpmScript("bench", [
      "--quick",
      "--fleet-users",
      "50",
      "--json",
      json,
      "--out",
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(
      /\| samples\/frame \| relays \| parse ceiling samples\/s .* full\/parse \| full\/SQLite \| Node peer samples\/s \| full\/peer/,
    );
    // The goals table says what a "no" means and where BENCHMARKS.md explains each miss.
    expect(stdout).toContain(TARGETS_NOTE);
    expect(stdout).toContain("| target | goal | measured | met | why not (BENCHMARKS.md) |");

    const results = JSON.parse(readFileSync(json, "utf8")) as BenchResults;
    expect(results.matrix.map((r) => [r.samples, r.relays])).toEqual([
      [1, 1],
      [1, 10],
      [100, 1],
      [100, 10],
    ]);
    for (const row of results.matrix) {
      for (const cell of [row.parse, row.sqlite, row.pipeline, row.peer]) {
        expect(cell.samplesPerS, `${cell.target} ${row.samples}x${row.relays}`).toBeGreaterThan(0);
        expect(cell.errors).toEqual({});
      }
      // Every acked sample of the pipeline cell reached D1 within the bound.
      expect(row.pipeline.drainS).not.toBeNull();
      expect(row.pipeline.serverCpuUsPerSample).toBeGreaterThan(0);
      // The objects' own rows: a commit row and its delete, shared by the frames of a commit, plus bookkeeping.
      expect(row.pipeline.objectRowsPerFrame).toBeGreaterThan(0);
      expect(row.pipeline.objectRowsPerFrame).toBeLessThan(2.5);
    }
    expect(results.fanout.fanoutMs.count).toBeGreaterThan(0);
    // Cost by users: each count ran twice on fresh users, the second time longer, and the fit split the CPU.
    expect(results.users.map((c) => c.users)).toEqual([1, 10]);
    for (const { short, long, usPerSample, msPerUser } of results.users) {
      expect(long.samplesAcked).toBeGreaterThan(short.samplesAcked);
      expect(long.drainS, "every sample reached D1 at the cells' flush interval").not.toBeNull();
      expect(Number.isFinite(usPerSample) && Number.isFinite(msPerUser)).toBe(true);
    }
    expect(results.metrics[0]).toMatchObject({ when: "after the throughput cells", failed: 0 });
    expect(results.metrics[0]?.lines).toBeGreaterThan(100);
    // Timed again on the users' server, whose shards are seeded on their own.
    const last = results.metrics.at(-1);
    expect(last?.when).toBe("after the 10-user cell");
    expect(last?.lines).toBeGreaterThan(last?.seeded ?? Number.POSITIVE_INFINITY);
    expect(results.machine.cpus).toBeGreaterThan(0);

    // Storage: every shape in both layouts, measured on the D1 file; chunks take fewer bytes and rows.
    expect(results.storage.figures.map((f) => f.layout)).toEqual(["old", "new", "old", "new", "old", "new"]);
    for (let i = 0; i < results.storage.figures.length; i += 2) {
      const [old, chunked] = results.storage.figures.slice(i, i + 2);
      expect(old?.rowsWrittenPerSample, old?.shape).toBeGreaterThanOrEqual(1);
      expect(chunked?.rowsWrittenPerSample, chunked?.shape).toBeLessThan(0.01);
      expect(chunked?.bytesPerSample).toBeGreaterThan(0);
      expect(chunked?.bytesPerSample).toBeLessThan(old?.bytesPerSample ?? 0);
    }
    // Operator loads and the overload cell ran on the default configuration and got samples acked.
    expect(results.operator.map((o) => o.config)).toEqual(["default"]);
    for (const { result } of results.operator) expect(result.samplesPerS).toBeGreaterThan(0);
    expect(results.overload.samplesPerS).toBeGreaterThan(0);
    // The fleet cell ran on its own server: every relay connected and held its rate, and each user's object
    // took memory and open files in the local runtime.
    expect(results.fleet?.failure).toBeNull();
    expect(results.fleet?.result).toMatchObject({ users: 50, relaysConnected: 50, errors: {} });
    expect(results.fleet?.result?.framesPerS).toBeGreaterThan(0);
    expect(results.fleet?.result?.rssKiBPerUser).toBeGreaterThan(0);
    expect(results.fleet?.result?.openFilesPerUser).toBeGreaterThan(0);

    const markdown = readFileSync(out, "utf8");
    expect(markdown).toContain(TARGETS_NOTE);
    const handWritten = readFileSync("BENCHMARKS.md", "utf8");
    for (const {
      name,
      explained: { section, point },
    } of checkTargets(results)) {
      expect(EXPLAINING_SECTIONS).toContain(section);
      expect(handWritten, name).toContain(`\n## ${section}`);
      expect(handWritten, name).toContain(`\n- **${point}`);
    }
    expect(markdown).toContain("<!-- bench:begin");
    expect(markdown).toContain("QUICK run");
    expect(markdown).toMatch(/workerd \d+\.\d+/);
    expect(markdown).toContain("#### Capacity and cost at Cloudflare's list prices");
    expect(markdown).toContain("| overload: ");
    expect(markdown).toContain("| users (= relays) | server CPU µs/sample | server CPU once per user |");
    expect(markdown).toContain("### A fleet at the production flush (50 users");
    expect(markdown).toMatch(/state on (disk|memory \(tmpfs\))/);
  }, 300_000); // a bound, not a wait: about two minutes on a 2-CPU machine

  it("refuses at once a fleet that the open-file limit cannot hold, instead of crashing the runtime mid-run", () => {
    // Lowering a limit needs no privilege: 500 users need about 2,700 open files, 1,000 are allowed.
    const run = spawnSync(
      "bash",
      ["-c", "ulimit -n 1000 && exec npm run --silent bench -- --fleet-users 500"],
      {
        encoding: "utf8",
      },
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      "--fleet-users 500: 500 users need about 2,700 open files in the one local runtime",
    );
    expect(run.stderr).toContain("this machine allows 1,000 per process");
  });
});

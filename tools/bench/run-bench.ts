#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --out FILE]`: starts its own `wrangler dev` on a frozen build of the real
// Worker plus two ceiling Durable Objects, measures the ceilings, the full pipeline, latency, fan-out, cost
// per sample and /metrics, prints the table and writes the generated part of BENCHMARKS.md.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freezeBenchBuild } from "./bench-config.ts";
import { type CellContext, type CellResult, type CellSpec, runCell, type Target } from "./cells.ts";
import { describeMachine } from "./machine.ts";
import { matrixTable, mergeIntoDocument, renderGenerated, targetsTable } from "./markdown.ts";
import { measureMetricsRender, type RenderResult } from "./metrics-render.ts";
import { benchPlan } from "./plan.ts";
import type { BenchResults, MatrixRow } from "./results.ts";
import { startBenchServer } from "./wrangler-server.ts";

const USAGE = `Usage: npm run bench -- [--quick] [--cell-seconds N] [--out FILE] [--json FILE] [--port P]
  --quick           reduced matrix with 1-second cells (under a minute; figures not for comparison)
  --cell-seconds N  seconds per cell (default 3, quick 1)
  --out FILE        the markdown to update (default BENCHMARKS.md; quick runs write nothing unless given)
  --json FILE       also write every figure as JSON
  --port P          wrangler dev port (default 18821)`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "cell-seconds": { type: "string" },
    out: { type: "string" },
    json: { type: "string" },
    port: { type: "string", default: "18821" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const cellSeconds = values["cell-seconds"] === undefined ? undefined : Number(values["cell-seconds"]);
if (cellSeconds !== undefined && !(cellSeconds >= 0.5 && cellSeconds <= 60)) {
  console.error(`--cell-seconds must be a number from 0.5 to 60\n${USAGE}`);
  process.exit(2);
}
const port = Number(values.port);
const plan = benchPlan(values.quick, cellSeconds);
const out = values.out ?? (plan.quick ? null : "BENCHMARKS.md");

// Secrets of this throwaway local server only.
const secret = "bench-auth-secret-0123456789abcdef";
const metricsToken = "bench-metrics-token";
const METRICS_SHARDS = 4;
const log = (text: string) => process.stderr.write(`${text}\n`);

const loadAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const workDir = mkdtempSync(join(tmpdir(), "zander-bench-"));
log("bench: building the benchmark Worker ...");
const config = freezeBenchBuild(workDir);
const server = await startBenchServer({
  port,
  config,
  persistTo: join(workDir, "state"),
  vars: {
    AUTH_SECRET: secret,
    METRICS_TOKEN: metricsToken,
    METRICS_SHARDS: String(METRICS_SHARDS),
    // Large enough that a cell measures ingestion, not the D1 drain (measured separately: "D1 caught up").
    BUFFER_CAPACITY: "1000000",
  },
});

try {
  const ctx: CellContext = {
    server,
    secret,
    runId: Date.now().toString(36),
    drainTimeoutS: plan.quick ? 30 : 120,
  };
  const cell = async (spec: CellSpec): Promise<CellResult> => {
    const result = await runCell(ctx, spec);
    log(
      `bench: ${spec.target.padEnd(8)} ${String(spec.samples).padStart(4)} samples/frame ` +
        `${String(spec.relays).padStart(4)} relays ${spec.consumers ? `${spec.consumers} consumers ` : ""}` +
        `-> ${result.samplesPerS.toLocaleString("en-US")} samples/s, ${result.framesPerS.toLocaleString("en-US")} frames/s, ` +
        `ack p99 ${result.ackMs.p99.toFixed(1)} ms${result.drainS === null ? "" : `, D1 +${result.drainS} s`}`,
    );
    return result;
  };
  const load = (
    target: Target,
    samples: number,
    relays: number,
    extra: Partial<CellSpec> = {},
  ): CellSpec => ({
    target,
    samples,
    relays,
    users: relays,
    consumers: 0,
    rate: 0,
    seconds: plan.cellSeconds,
    ...extra,
  });

  // A warm-up cell, not reported: the first connections pay for module compilation.
  await runCell(ctx, load("pipeline", 10, 1, { seconds: 1 }));

  const matrix: MatrixRow[] = [];
  for (const samples of plan.samplesPerFrame) {
    for (const relays of plan.relays) {
      matrix.push({
        samples,
        relays,
        parse: await cell(load("parse", samples, relays)),
        sqlite: await cell(load("sqlite", samples, relays)),
        pipeline: await cell(load("pipeline", samples, relays)),
      });
    }
  }
  const h = plan.halfLoad;
  const halfLoad = await cell(load("pipeline", h.samples, h.relays, { rate: h.framesPerS }));
  const fanout = await cell(
    load("pipeline", h.samples, h.relays, { rate: h.framesPerS, consumers: h.consumers }),
  );
  // /metrics is timed before the user-count cells (1,000 users leave 1,000 objects delivering metrics), then
  // once more after them at the largest size.
  const timeMetrics = (sizes: number[], when: string) =>
    measureMetricsRender(server, metricsToken, METRICS_SHARDS, sizes, when).catch(
      (err: Error): RenderResult[] => {
        log(`bench: GET /metrics could not be timed: ${err.message}`);
        return [];
      },
    );
  log("bench: timing GET /metrics ...");
  const metrics = await timeMetrics(plan.metricSeries, "after the throughput cells");
  const users: CellResult[] = [];
  for (const count of plan.users) {
    users.push(
      await cell(load("pipeline", plan.usersLoad.samples, count, { rate: plan.usersLoad.framesPerS })),
    );
  }
  metrics.push(
    ...(await timeMetrics(plan.metricSeries.slice(-1), `after the ${plan.users.at(-1)}-user cell`)),
  );

  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: describeMachine(loadAtStart),
    plan,
    matrix,
    halfLoad,
    fanout,
    users,
    metrics,
  };
  console.log(`\n${matrixTable(results)}\n\n${targetsTable(results)}`);
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  if (out) {
    writeFileSync(
      out,
      mergeIntoDocument(existsSync(out) ? readFileSync(out, "utf8") : null, renderGenerated(results)),
    );
    log(`bench: wrote ${out}`);
  }
} finally {
  await server.stop();
  rmSync(workDir, { recursive: true, force: true });
}

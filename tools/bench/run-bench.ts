#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --out FILE]`: starts its own `wrangler dev` on a frozen build of the real
// Worker plus two ceiling Durable Objects, measures storage per sample (old layout beside chunks), the ceilings,
// the full pipeline, latency, fan-out, cost per sample, /metrics, operator loads on the tuned and the default
// config and the overload cell, prints the tables and writes the generated part of BENCHMARKS.md.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freezeBenchBuild } from "./bench-config.ts";
import { type CellContext, type CellResult, type CellSpec, runCell, type Target } from "./cells.ts";
import { type FleetSpec, runFleetCell } from "./fleet.ts";
import { describeMachine } from "./machine.ts";
import { matrixTable, mergeIntoDocument, renderGenerated, targetsTable } from "./markdown.ts";
import { measureMetricsRender, type RenderResult } from "./metrics-render.ts";
import { fleetOpenFilesShortfall, hardOpenFilesLimit } from "./open-files.ts";
import { startNodePeer } from "./peer/start-peer.ts";
import { benchPlan } from "./plan.ts";
import type { BenchResults, FleetOutcome, MatrixRow, OperatorResult } from "./results.ts";
import { measureStorage } from "./storage.ts";
import { fitUsersCost, type UsersCost } from "./users-cost.ts";
import { type BenchServer, startBenchServer } from "./wrangler-server.ts";

const USAGE = `Usage: npm run bench -- [--quick] [--cell-seconds N] [--out FILE] [--json FILE] [--port P]
                            [--fleet-users N] [--state-dir DIR]
  --quick           reduced matrix with 1-second cells (about two minutes; figures not for comparison)
  --cell-seconds N  seconds per throughput, latency and fan-out cell (default 3, quick 1)
  --out FILE        the markdown to update (default BENCHMARKS.md; quick runs write nothing unless given)
  --json FILE       also write every figure as JSON
  --port P          wrangler dev port (default 18821); the default-configuration server uses P + 1, the
                    Node peer P + 2, the fleet cell's server P + 3, the cost-by-users server P + 4
  --fleet-users N   users of the fleet cell (default 3000 in a full run, none in a quick one; 0 skips it, at most
                    10000)
  --state-dir DIR   where the servers keep their local state (default: the system's temporary directory);
                    a tmpfs such as /dev/shm leaves out the local disk's syncs (BENCHMARKS.md)`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "cell-seconds": { type: "string" },
    out: { type: "string" },
    json: { type: "string" },
    port: { type: "string", default: "18821" },
    "state-dir": { type: "string" },
    "fleet-users": { type: "string" },
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
const fleetUsers = values["fleet-users"] === undefined ? undefined : Number(values["fleet-users"]);
if (fleetUsers !== undefined && !(Number.isInteger(fleetUsers) && fleetUsers >= 0 && fleetUsers <= 10_000)) {
  console.error(`--fleet-users must be a whole number from 0 to 10000\n${USAGE}`);
  process.exit(2);
}
const stateDir = values["state-dir"] ?? tmpdir();
if (!existsSync(stateDir)) {
  console.error(`--state-dir ${stateDir} does not exist\n${USAGE}`);
  process.exit(2);
}
const port = Number(values.port);
const plan = benchPlan(values.quick, cellSeconds, fleetUsers);
const out = values.out ?? (plan.quick ? null : "BENCHMARKS.md");
// Past the open-file limit the local runtime would crash mid-cell: an asked-for fleet that cannot fit is refused
// now, the default one is reported as not run.
const fleetShortfall = plan.fleet
  ? fleetOpenFilesShortfall(
      plan.fleet.users,
      hardOpenFilesLimit(existsSync("/proc/self/limits") ? readFileSync("/proc/self/limits", "utf8") : ""),
    )
  : null;
if (fleetShortfall && fleetUsers !== undefined) {
  console.error(`--fleet-users ${fleetUsers}: ${fleetShortfall}`);
  process.exit(2);
}

// Secrets of this throwaway local server only.
const secret = "bench-auth-secret-0123456789abcdef";
const metricsToken = "bench-metrics-token";
const METRICS_SHARDS = 4;
const log = (text: string) => process.stderr.write(`${text}\n`);

const loadAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const workDir = mkdtempSync(join(stateDir, "zander-bench-"));
// The codec alone, in this process, before any server runs (full plan only: it takes a few seconds).
let chunkSizes: string | null = null;
if (plan.chunkSizes) {
  log("bench: timing the chunk codec ...");
  chunkSizes = await (await import("./chunk-size.ts")).chunkSizeTable();
}
log("bench: building the benchmark Worker ...");
const config = freezeBenchBuild(workDir);
const benchServer = (name: string, vars: Record<string, string>, serverPort: number) =>
  startBenchServer({
    port: serverPort,
    config,
    persistTo: join(workDir, name),
    vars: {
      AUTH_SECRET: secret,
      METRICS_TOKEN: metricsToken,
      METRICS_SHARDS: String(METRICS_SHARDS),
      ...vars,
    },
  });
// Large enough that a cell measures ingestion, not the D1 drain (measured separately: "D1 caught up").
const TUNED = { BUFFER_CAPACITY: "1000000" };
// The second server (wrangler.toml's defaults, port + 1) starts alongside and idles until its cells.
const servers = await Promise.allSettled([
  benchServer("state", TUNED, port),
  benchServer("state-default", {}, port + 1),
]);
const started = servers.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
if (started.length < servers.length) {
  await Promise.all(started.map((s) => s.stop()));
  throw (servers.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
}
let [server, defaultServer] = started as [BenchServer, BenchServer];
// The hand-written peer (port + 2), a third server beside the two ceilings: what a team would write instead.
const peer = await startNodePeer({ port: port + 2, dir: workDir, secret }).catch(async (err) => {
  await Promise.all([server.stop(), defaultServer.stop(), peer.stop()]);
  throw err;
});

try {
  const ctx: CellContext = {
    server,
    secret,
    runId: Date.now().toString(36),
    drainTimeoutS: plan.quick ? 30 : 120,
    metricsToken,
  };
  // First, on the empty database: its tables then hold only what the storage benchmark writes.
  log(`bench: storage, ${plan.storageSamples.toLocaleString("en-US")} samples per data shape and layout ...`);
  const storage = await measureStorage(server, plan.storageSamples, workDir);
  for (const f of storage.figures) {
    log(
      `bench: storage ${f.layout} ${f.shape}: ${f.bytesPerSample} B/sample, ` +
        `${f.rowsWrittenPerSample} rows written/sample, ${f.cpuUsPerSample} µs CPU/sample`,
    );
  }
  const cell = async (spec: CellSpec): Promise<CellResult> => {
    const result = await runCell(spec.target === "peer" ? { ...ctx, server: peer } : ctx, spec);
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
        peer: await cell(load("peer", samples, relays)),
      });
    }
  }
  const h = plan.halfLoad;
  const halfLoad = await cell(load("pipeline", h.samples, h.relays, { rate: h.framesPerS }));
  const fanout = await cell(
    load("pipeline", h.samples, h.relays, { rate: h.framesPerS, consumers: h.consumers }),
  );
  // /metrics is timed after the throughput cells, then once more on the users' server after its largest
  // cell (1,000 users leave 1,000 objects delivering metrics).
  log("bench: timing GET /metrics ...");
  const metrics = await timeMetricsOn(server, plan.metricSeries, "after the throughput cells");
  const users = await usersCells(ctx, load);
  metrics.push(...users.metrics);

  // The loads an operator runs, tuned here, then on wrangler.toml's defaults in a second server.
  const operatorSpec = (o: (typeof plan.operator)[number]) =>
    load("pipeline", o.samples, o.relays, { users: o.users, window: o.window, seconds: o.seconds });
  const operator: OperatorResult[] = [];
  if (plan.operatorTuned) {
    for (const o of plan.operator) {
      operator.push({ cell: o, config: "tuned", result: await cell(operatorSpec(o)) });
    }
  }
  log("bench: on the default configuration ...");
  await server.stop();
  [server, defaultServer] = [defaultServer, server];
  ctx.server = server;
  await runCell(ctx, load("pipeline", 10, 1, { seconds: 1 }));
  for (const o of plan.operator) {
    operator.push({ cell: o, config: "default", result: await cell(operatorSpec(o)) });
  }
  const overload = await cell(operatorSpec(plan.overload));
  await server.stop();
  const fleet = plan.fleet ? await fleetCell(plan.fleet, ctx.runId) : null;

  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: describeMachine(loadAtStart, workDir),
    plan,
    matrix,
    halfLoad,
    fanout,
    users: users.costs,
    metrics,
    storage,
    chunkSizes,
    operator,
    overload,
    fleet,
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
  await Promise.all([server.stop(), defaultServer.stop(), peer.stop()]);
  rmSync(workDir, { recursive: true, force: true });
}

function timeMetricsOn(on: BenchServer, sizes: number[], when: string): Promise<RenderResult[]> {
  return measureMetricsRender(on, metricsToken, METRICS_SHARDS, sizes, when).catch(
    (err: Error): RenderResult[] => {
      log(`bench: GET /metrics could not be timed: ${err.message}`);
      return [];
    },
  );
}

/**
 * Cost by number of users on a server of its own at the plan's flush interval: each count twice on fresh users,
 * the second cell longer (users-cost.ts splits per sample from once per user); then /metrics with the most users.
 */
async function usersCells(
  ctx: CellContext,
  load: (target: Target, samples: number, relays: number, extra: Partial<CellSpec>) => CellSpec,
): Promise<{ costs: UsersCost[]; metrics: RenderResult[] }> {
  const { samples, framesPerS, seconds, flushMs } = plan.usersLoad;
  log(`bench: cost by number of users, FLUSH_INTERVAL_MS ${flushMs} ...`);
  const usersServer = await benchServer(
    "state-users",
    { ...TUNED, FLUSH_INTERVAL_MS: String(flushMs) },
    port + 4,
  );
  const on = { ...ctx, server: usersServer };
  try {
    await runCell(on, load("pipeline", 10, 1, { seconds: 1 }));
    const costs: UsersCost[] = [];
    for (const count of plan.users) {
      const cells: CellResult[] = [];
      for (const s of seconds) {
        cells.push(await runCell(on, load("pipeline", samples, count, { rate: framesPerS, seconds: s })));
      }
      const cost = fitUsersCost(cells[0] as CellResult, cells[1] as CellResult);
      log(
        `bench: ${String(count).padStart(5)} users -> ${cost.usPerSample} µs/sample, ${cost.msPerUser} ms/user once, ` +
          `${cost.long.samplesPerS.toLocaleString("en-US")} samples/s, ack p99 ${cost.long.ackMs.p99.toFixed(1)} ms`,
      );
      costs.push(cost);
    }
    const metrics = await timeMetricsOn(
      usersServer,
      plan.metricSeries.slice(-1),
      `after the ${plan.users.at(-1)}-user cell`,
    );
    return { costs, metrics };
  } finally {
    await usersServer.stop();
  }
}

/** The fleet cell on a server of its own at the production flush interval; a failure is reported, not thrown. */
async function fleetCell(spec: FleetSpec, runId: string): Promise<FleetOutcome> {
  if (fleetShortfall) {
    log(`bench: the fleet cell is not run: ${fleetShortfall}`);
    return { spec, result: null, failure: fleetShortfall };
  }
  log(
    `bench: fleet of ${spec.users.toLocaleString("en-US")} users, one frame per ${spec.secondsPerFrame} s each ...`,
  );
  const fleetServer = await benchServer("state-fleet", { FLUSH_INTERVAL_MS: "30000" }, port + 3);
  try {
    await runFleetCell(fleetServer, secret, `b${runId}-warm`, { users: 2, secondsPerFrame: 1, seconds: 1 });
    const result = await runFleetCell(fleetServer, secret, `b${runId}-fleet`, spec);
    log(
      `bench: fleet -> connect ${result.connectS} s, ${result.framesPerS} of ${result.askedFramesPerS} frames/s, ` +
        `${result.rssKiBPerUser} KiB and ${result.openFilesPerUser} open files per user`,
    );
    return { spec, result, failure: null };
  } catch (err) {
    log(`bench: the fleet cell failed: ${err}`);
    return { spec, result: null, failure: String(err instanceof Error ? err.message : err) };
  } finally {
    await fleetServer.stop();
  }
}

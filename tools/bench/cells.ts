import type { Percentiles } from "../sim/latency.ts";
import type { SimOptions } from "../sim/options.ts";
import { runLoad, sleep } from "../sim/run.ts";
import type { BenchServer } from "./wrangler-server.ts";

/** What a cell measures against: one of the two ceilings, the real Worker, or the hand-written Node peer. */
export type Target = "parse" | "sqlite" | "pipeline" | "peer";

export const RELAY_PATHS: Record<Target, string> = {
  parse: "/bench/ceiling/parse",
  sqlite: "/bench/ceiling/sqlite",
  pipeline: "/v1/relay",
  peer: "/v1/relay",
};

export interface CellSpec {
  target: Target;
  samples: number;
  relays: number;
  users: number;
  consumers: number;
  /** Frames/s over all relays; 0 = as fast as acks allow. */
  rate: number;
  seconds: number;
  /** Unacked frames in flight per relay (default 16). */
  window?: number;
}

export interface CellResult extends CellSpec {
  framesPerS: number;
  samplesPerS: number;
  ackMs: Percentiles;
  fanoutMs: Percentiles;
  errors: Record<string, number>;
  samplesAcked: number;
  /** Seconds to open every relay socket (and create the users' objects) before the clock started. */
  connectS: number;
  /** Server (wrangler + workerd) CPU of the whole cell, seconds: connect, load and, for the pipeline, the D1 flush. */
  serverCpuS: number;
  /** The same per acked sample, µs. */
  serverCpuUsPerSample: number;
  /** The same by process: workerd (the runtime: Worker, objects, local D1) and node (wrangler's own process). */
  serverCpuUsPerSampleByProcess: Record<string, number>;
  /** The simulator's own CPU per acked sample, µs (it shares the machine). */
  clientCpuUsPerSample: number;
  /** Pipeline only: seconds from the last ack until D1 held every acked sample (null: not within the bound). */
  drainS: number | null;
  /**
   * Pipeline only: rows the user objects' own SQLite wrote (commits and flushes, `object_rows_written_total`) per
   * acked frame; null when the objects' metrics did not arrive within the bound.
   */
  objectRowsPerFrame: number | null;
}

export interface CellContext {
  server: BenchServer;
  secret: string;
  /** Unique per benchmark run, so cells never share users. */
  runId: string;
  /** Upper bound on the wait for D1 after a pipeline cell (and again for the objects' metrics). */
  drainTimeoutS: number;
  /** Bearer token of the server's GET /metrics. */
  metricsToken: string;
}

const WINDOW = 16;
let cellCounter = 0;

export async function runCell(ctx: CellContext, spec: CellSpec): Promise<CellResult> {
  const userPrefix = `b${ctx.runId}-${++cellCounter}`;
  const options: SimOptions = {
    url: ctx.server.url,
    secret: ctx.secret,
    users: spec.users,
    relays: spec.relays,
    consumers: spec.consumers,
    samples: spec.samples,
    sampleBytes: 0,
    rate: spec.rate,
    window: spec.window ?? WINDOW,
    durationS: spec.seconds,
    frames: null,
    drainTimeoutS: 10,
    lossCheck: false,
    settleTimeoutS: 0,
    json: false,
    quiet: true,
    relayPath: RELAY_PATHS[spec.target],
    userPrefix,
  };
  const pipeline = spec.target === "pipeline";
  const countersBefore = pipeline ? await objectCounters(ctx) : null;
  const serverCpuBefore = ctx.server.cpuSeconds();
  const clientCpuBefore = process.cpuUsage();
  const load = await runLoad(options);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const { stats } = load;
  const drainS = pipeline ? await waitForD1(ctx, userPrefix, stats.samplesAcked) : null;
  const serverCpuAfter = ctx.server.cpuSeconds();
  const objectRowsPerFrame = countersBefore
    ? await objectRowsSince(ctx, countersBefore, stats.framesAcked, stats.samplesAcked)
    : null;
  const serverCpuByProcess: Record<string, number> = {};
  for (const [command, seconds] of Object.entries(serverCpuAfter)) {
    serverCpuByProcess[command] = seconds - (serverCpuBefore[command] ?? 0);
  }
  const serverCpu = Object.values(serverCpuByProcess).reduce((a, b) => a + b, 0);
  const seconds = load.elapsedMs / 1_000;
  const perSample = (us: number) => (stats.samplesAcked ? round(us / stats.samplesAcked, 2) : 0);
  return {
    ...spec,
    framesPerS: Math.round(stats.framesAcked / seconds),
    samplesPerS: Math.round(stats.samplesAcked / seconds),
    ackMs: stats.ackLatency.percentiles(),
    fanoutMs: stats.fanoutLatency.percentiles(),
    errors: Object.fromEntries(stats.errors),
    samplesAcked: stats.samplesAcked,
    connectS: round(load.connectMs / 1_000, 2),
    serverCpuS: serverCpu,
    serverCpuUsPerSample: perSample(serverCpu * 1e6),
    serverCpuUsPerSampleByProcess: Object.fromEntries(
      Object.entries(serverCpuByProcess).map(([command, seconds]) => [command, perSample(seconds * 1e6)]),
    ),
    clientCpuUsPerSample: perSample(clientCpu.user + clientCpu.system),
    drainS,
    objectRowsPerFrame,
  };
}

/** Sums over every series of the counters the objects ship: frames acked, samples flushed, their own rows. */
interface ObjectCounters {
  frames: number;
  flushed: number;
  rows: number;
}

async function objectCounters(ctx: CellContext): Promise<ObjectCounters> {
  const res = await fetch(new URL("/metrics", ctx.server.url), {
    headers: { authorization: `Bearer ${ctx.metricsToken}` },
  });
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  const sums: ObjectCounters = { frames: 0, flushed: 0, rows: 0 };
  for (const line of (await res.text()).split("\n")) {
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("messages_processed_total{") && line.includes('message_type="samples"'))
      sums.frames += value;
    else if (line.startsWith("db_samples_written_total{")) sums.flushed += value;
    else if (line.startsWith("object_rows_written_total{")) sums.rows += value;
  }
  return sums;
}

/**
 * Object rows written per acked frame since `before`, read once the objects' metrics count every frame of the
 * cell and every flushed sample (a flush records its rows with its samples, in the batch that ships them).
 */
async function objectRowsSince(
  ctx: CellContext,
  before: ObjectCounters,
  frames: number,
  samples: number,
): Promise<number | null> {
  const deadline = performance.now() + ctx.drainTimeoutS * 1_000;
  while (performance.now() < deadline) {
    const now = await objectCounters(ctx);
    if (now.frames - before.frames >= frames && now.flushed - before.flushed >= samples) {
      return frames ? round((now.rows - before.rows) / frames, 3) : null;
    }
    await sleep(500);
  }
  return null;
}

/** Waits until D1 holds `expected` samples of the cell's users; the seconds it took, or null past the bound. */
async function waitForD1(ctx: CellContext, prefix: string, expected: number): Promise<number | null> {
  const startedAt = performance.now();
  const deadline = startedAt + ctx.drainTimeoutS * 1_000;
  const url = new URL("/bench/stored-count", ctx.server.url);
  url.searchParams.set("prefix", `${prefix}-`);
  while (performance.now() < deadline) {
    const res = await fetch(url);
    const { count } = (await res.json()) as { count: number };
    // More than acked is possible only for frames still unanswered at the end of the cell.
    if (count >= expected) return round((performance.now() - startedAt) / 1_000, 2);
    await sleep(200);
  }
  return null;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
